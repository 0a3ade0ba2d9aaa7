"""`--as-of DATE`: what the store will show on that day, planned with today's facts; nothing written."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from stockstatus.core import cli
from stockstatus.core.sync import as_of_clock, today_in
from tests.cli_shop import Shop, in_days, run_cli, shop_fixture  # noqa: F401 - the fixture `shop`

pytestmark = pytest.mark.usefixtures("no_backoff")


@pytest.fixture
def catalogue(shop: Shop) -> Shop:
    """A grinder released in 3 days (on the shelf already) and a kettle sold out until a restock in 10."""
    shop.product(
        "PRE-1",
        manage_stock=True,
        stock_quantity=5,
        meta_data=[{"key": "release_date", "value": in_days(3).isoformat()}],
    )
    shop.product(
        "KTL-1",
        manage_stock=True,
        stock_quantity=0,
        meta_data=[{"key": "restock_date", "value": in_days(10).isoformat()}],
    )
    return shop


def statuses(out: str) -> dict[str, str]:
    """SKU → the status the plan shows it with (`status  a → b` or `status  b (as now)`)."""
    found, sku = {}, None
    for line in out.splitlines():
        if line and not line.startswith(" ") and "(rule:" in line:
            sku = line.split()[0]
        elif sku and line.startswith("  status"):
            found[sku] = line.split()[-1] if "→" in line else line.split()[1]
    return found


def test_a_dry_run_as_of_a_later_day_decides_for_that_day_and_writes_nothing(
    catalogue: Shop, capsys: pytest.CaptureFixture[str]
) -> None:
    shop = catalogue
    config = str(shop.config)
    day = in_days(5)

    later = run_cli(capsys, "resync", "--dry-run", "--as-of", day.isoformat(), "--config", config)
    assert not (shop.config.parent / "connector.sqlite").exists(), "planning another day records nothing"
    today = run_cli(capsys, "resync", "--dry-run", "--config", config)

    assert today.code == later.code == cli.EXIT_OK, later.err
    assert statuses(today.out)["PRE-1"] == "pre_order"
    assert statuses(later.out)["PRE-1"] == "in_stock", "released by then"
    assert statuses(later.out)["KTL-1"] == "backorder"
    assert later.out.startswith(f"as of {day:%A} {day.isoformat()} in each store's calendar")
    assert "nothing is written (not to the stores, not to the state file)" in later.out
    assert shop.fake.write_requests == []


def test_an_eta_is_counted_from_the_planned_day(catalogue: Shop, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(
        capsys, "resync", "--dry-run", "--json", "--as-of", in_days(2).isoformat(), "--config", str(catalogue.config)
    )

    assert result.code == cli.EXIT_OK, result.err
    body = json.loads(result.out)
    assert body["as_of"] == in_days(2).isoformat()
    [run] = body["runs"]
    kettle = next(c for c in run["changes"] if c["sku"] == "KTL-1")
    assert kettle["eta"] == in_days(11).isoformat()
    grinder = next(c for c in run["changes"] if c["sku"] == "PRE-1")
    assert (grinder["to"], grinder["eta"]) == ("pre_order", in_days(3).isoformat())


def test_as_of_without_dry_run_is_a_usage_error_and_reaches_no_store(
    catalogue: Shop, capsys: pytest.CaptureFixture[str]
) -> None:
    seen = len(catalogue.fake.requests)

    result = run_cli(capsys, "resync", "--as-of", in_days(5).isoformat(), "--config", str(catalogue.config))

    assert result.code == cli.EXIT_USAGE
    assert "add --dry-run" in result.err
    assert len(catalogue.fake.requests) == seen


@pytest.mark.parametrize("text", ["31/12/2026", "tomorrow", "2026-02-30"])
def test_an_as_of_that_is_not_a_date_says_how_to_write_one(capsys: pytest.CaptureFixture[str], text: str) -> None:
    result = run_cli(capsys, "rules", "explain", "KTL-1", "--as-of", text)

    assert result.code == cli.EXIT_USAGE
    assert f"{text!r} is not a date: write it as YYYY-MM-DD" in result.err


def test_explain_as_of_shows_the_facts_and_decision_of_that_day(
    catalogue: Shop, capsys: pytest.CaptureFixture[str]
) -> None:
    day = in_days(5)

    result = run_cli(capsys, "rules", "explain", "PRE-1", "--as-of", day.isoformat(), "--config", str(catalogue.config))

    assert result.code == cli.EXIT_OK, result.err
    assert result.out.startswith(f"as of {day:%A} {day.isoformat()}")
    assert f"  today        {day.isoformat()}" in result.out
    assert "  status      in_stock" in result.out
    as_json = run_cli(
        capsys, "rules", "explain", "PRE-1", "--json", "--as-of", day.isoformat(), "--config", str(catalogue.config)
    )
    body = json.loads(as_json.out)
    assert body["as_of"] == day.isoformat() and body["items"][0]["facts"]["today"] == day.isoformat()


def test_the_reorder_report_as_of_says_so(catalogue: Shop, capsys: pytest.CaptureFixture[str]) -> None:
    day = in_days(7)

    result = run_cli(capsys, "report", "reorder", "--as-of", day.isoformat(), "--config", str(catalogue.config))

    assert result.code == cli.EXIT_OK, result.err
    assert result.out.startswith(f"as of {day:%A} {day.isoformat()}")


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago", "Europe/Berlin", "America/New_York"])
@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 11, 22, 10, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 0, 30, tzinfo=UTC),  # Berlin's clocks go forward this night
        datetime(2026, 11, 1, 5, 30, tzinfo=UTC),  # New York's go back
        datetime(2026, 12, 31, 23, 59, tzinfo=UTC),
    ],
)
def test_the_planned_day_is_that_day_in_every_stores_calendar(zone: str, now: datetime) -> None:
    tz = ZoneInfo(zone)
    for day in (date(2026, 3, 29), date(2026, 11, 1), date(2027, 1, 1)):
        assert today_in(tz, as_of_clock(lambda: now, tz, day)) == day
