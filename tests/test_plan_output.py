"""`connector resync --dry-run` shows what a pass would write: each field old → new, in 80 columns."""

from __future__ import annotations

import re

import pytest

from stockstatus.core import cli
from tests.cli_shop import Shop, in_days, run_cli, shop_fixture  # noqa: F401 - the fixture `shop`

pytestmark = pytest.mark.usefixtures("no_backoff")


def block(out: str, sku: str) -> list[str]:
    """The lines of the plan about one SKU: its heading and the indented lines under it."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{sku}  "))
    end = next(
        (i for i in range(start + 1, len(lines)) if not lines[i].startswith("  ") or re.match(r"  \d", lines[i])),
        len(lines),
    )
    return lines[start:end]


def test_the_plan_shows_each_field_old_to_new_and_a_pass_writes_exactly_that(
    shop: Shop, capsys: pytest.CaptureFixture[str]
) -> None:
    restock = in_days(10)
    shop.product("MUG-1", manage_stock=True, stock_quantity=5)
    shop.product(
        "KTL-1",
        name="Stagg Kettle",
        manage_stock=True,
        stock_quantity=0,
        meta_data=[{"key": "restock_date", "value": restock.isoformat()}],
    )
    eta = in_days(11)  # the restock date plus a handling day

    plan = run_cli(capsys, "--config", str(shop.config), "resync", "--dry-run")

    assert plan.code == cli.EXIT_OK, plan.err
    kettle = block(plan.out, "KTL-1")
    assert kettle[0] == "KTL-1  Stagg Kettle  (rule: backorder while a restock is due)"
    assert "  status      out_of_stock → backorder" in kettle
    assert f"  ETA         - → {eta.isoformat()}" in kettle
    assert f"  message     - → Back in stock soon: ships by {eta.day} {eta:%B}" in kettle
    assert "  backorders  no → notify" in kettle
    mug = block(plan.out, "MUG-1")
    assert "  status      in_stock (as now)" in mug
    assert any(line.startswith("  writes      connector_status") for line in mug)
    assert "2 to change: 1 status, 1 ETA, 1 message, 1 policy, 1 own fields only; nothing written" in " ".join(
        plan.out.split()
    )
    assert shop.meta("KTL-1", "connector_status") is None, "a dry run writes nothing"

    applied = run_cli(capsys, "--config", str(shop.config), "resync")

    assert applied.code == cli.EXIT_OK, applied.err
    kettle = shop.read("KTL-1")
    assert (kettle["backorders"], shop.meta("KTL-1", "connector_eta")) == ("notify", eta.isoformat())
    assert shop.meta("KTL-1", "connector_message") == f"Back in stock soon: ships by {eta.day} {eta:%B}"
    assert "  result      written" in block(applied.out, "KTL-1")


def test_a_changed_value_shows_what_the_store_holds_now_and_what_replaces_it(
    shop: Shop, capsys: pytest.CaptureFixture[str]
) -> None:
    shop.product(
        "KTL-1",
        manage_stock=True,
        stock_quantity=0,
        meta_data=[{"key": "restock_date", "value": in_days(10).isoformat()}],
    )
    assert run_cli(capsys, "--config", str(shop.config), "resync").code == cli.EXIT_OK
    shop.fake.update_product(shop.ids["KTL-1"], meta_data=[{"key": "restock_date", "value": in_days(20).isoformat()}])

    plan = run_cli(capsys, "--config", str(shop.config), "resync", "--dry-run")

    kettle = block(plan.out, "KTL-1")
    assert "  status      backorder (as now)" in kettle
    assert f"  ETA         {in_days(11).isoformat()} → {in_days(21).isoformat()}" in kettle
    assert not any(line.lstrip().startswith("backorders") for line in kettle), "the policy stays: not shown"
    assert "1 to change: 1 ETA, 1 message; nothing written" in " ".join(plan.out.split())


def test_the_plan_fits_80_columns_whatever_the_names_and_messages(
    shop: Shop, capsys: pytest.CaptureFixture[str], tmp_path
) -> None:
    config = shop.config.read_text("utf-8").replace(
        'message = "Back in stock soon: ships by {eta:%-d %B}"',
        'message = "Back in stock soon, as our supplier promised us last week: ships by {eta:%-d %B %Y} at the latest"',
    )
    shop.config.write_text(config, encoding="utf-8")
    long_sku = "KTL-STAGG-EKG-PRO-MATTE-BLACK-230V-EU-PLUG-2026-EDITION"
    shop.product(
        long_sku,
        name="Fellow Stagg EKG Pro Electric Pour-Over Kettle, Matte Black, 0.9 litre, with a very long name",
        manage_stock=True,
        stock_quantity=0,
        meta_data=[{"key": "restock_date", "value": in_days(10).isoformat()}],
    )

    plan = run_cli(capsys, "--config", str(shop.config), "resync", "--dry-run")

    assert plan.code == cli.EXIT_OK, plan.err
    too_wide = [line for line in plan.out.splitlines() if len(line) > 80]
    assert too_wide == []
    lines = plan.out.splitlines()
    assert any(line.startswith(long_sku[:40]) for line in lines)
    message = [line for line in lines if line.startswith("  message")]
    assert message and message[0].startswith("  message     was -")
    assert any(line.startswith("              now Back in stock soon, as our supplier") for line in lines)
    assert any(line.startswith("  rule        backorder while a restock is due") for line in lines)
