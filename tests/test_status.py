"""`connector status`: times in the store's timezone with their offset, counts for the whole store."""

from __future__ import annotations

import json

import pytest

from stockstatus.core import cli
from tests.cli_shop import Shop, run_cli, shop_fixture  # noqa: F401 - the fixture `shop`

pytestmark = pytest.mark.usefixtures("no_backoff")


def test_status_counts_the_whole_store_after_an_incremental_pass(
    shop: Shop, capsys: pytest.CaptureFixture[str]
) -> None:
    shop.product("MUG-1", manage_stock=True, stock_quantity=5)
    shop.product("CUP-1", manage_stock=True, stock_quantity=3)
    shop.product("KTL-1", manage_stock=True, stock_quantity=0)
    config = str(shop.config)
    assert run_cli(capsys, "resync", "--config", config, clock=shop.clock).code == cli.EXIT_OK
    shop.clock.advance(15)
    # This one reads back what the first pass wrote (its writes moved every modification date).
    assert run_cli(capsys, "resync", "--incremental", "--config", config, clock=shop.clock).code == cli.EXIT_OK
    shop.clock.advance(15)
    shop.fake.update_product(shop.ids["MUG-1"], stock_quantity=0)  # sold out meanwhile

    incremental = run_cli(capsys, "resync", "--incremental", "--json", "--config", config, clock=shop.clock)
    [run] = json.loads(incremental.out)["runs"]
    assert run["mode"] == "incremental" and run["counts"] == {"out_of_stock": 1}

    [row] = json.loads(run_cli(capsys, "status", "--json", "--config", config, clock=shop.clock).out)
    assert row["counts"] == {"in_stock": 1, "out_of_stock": 2} and row["items"] == 3
    assert row["run_counts"] == {"out_of_stock": 1}
    text = run_cli(capsys, "status", "--config", config, clock=shop.clock).out
    assert "statuses:  1 in_stock, 2 out_of_stock (3 items the store accepted)" in text
    assert "decided 1 out_of_stock (the items that changed)" in text


def test_status_shows_times_in_the_stores_timezone_with_the_offset(
    shop: Shop, capsys: pytest.CaptureFixture[str]
) -> None:
    shop.product("MUG-1", manage_stock=True, stock_quantity=5)
    config = str(shop.config)
    assert run_cli(capsys, "resync", "--config", config).code == cli.EXIT_OK  # 10:00 UTC, 11:00 in Berlin

    [row] = json.loads(run_cli(capsys, "status", "--json", "--config", config).out)
    text = run_cli(capsys, "status", "--config", config).out

    assert row["timezone"] == "Europe/Berlin"
    assert row["last_run"] == row["last_full"] == "2026-11-22T11:00:00+01:00"
    # Every 15 minutes in the store's own slot, 1 min 9 s past each quarter-hour (from its name).
    assert row["next_run"] == "2026-11-22T11:01:09+01:00"
    assert row["next_reconcile"] == "2026-11-23T03:00:00+01:00"
    assert "eu-shop (woocommerce; times in Europe/Berlin)" in text
    assert "last run:  2026-11-22 11:00:00+01:00 (full) ok" in text
    assert "+00:00" not in text and "T10:00" not in text
