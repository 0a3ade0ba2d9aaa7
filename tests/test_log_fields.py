"""JSON log lines carry structured fields: the store, the run, the SKU, the counts."""

from __future__ import annotations

import json

import pytest

from stockstatus.core import cli
from tests.cli_shop import Shop, run_cli, shop_fixture  # noqa: F401 - the fixture `shop`

pytestmark = pytest.mark.usefixtures("no_backoff")


def test_every_json_line_of_a_pass_names_its_store_and_run_and_a_skipped_item_its_sku(
    shop: Shop, capsys: pytest.CaptureFixture[str]
) -> None:
    shop.product("MUG-1", manage_stock=True, stock_quantity=5)
    shop.product(
        "PRE-1", manage_stock=True, stock_quantity=0, meta_data=[{"key": "release_date", "value": "31/12/2026"}]
    )
    shop.fake.fail_next(503, path_contains="products")  # one retry, logged by the HTTP policy

    result = run_cli(
        capsys, "resync", "--config", str(shop.config), "--json", "--log-format", "json", "--log-level", "info"
    )

    assert result.code == cli.EXIT_OK, result.err
    [run] = json.loads(result.out)["runs"]
    lines = [json.loads(line) for line in result.err.splitlines()]
    retry = [line for line in lines if line["logger"] == "stockstatus.core.http"]
    skipped = [line for line in lines if "left unchanged" in line["message"]]
    assert retry and skipped
    for line in lines:
        assert (line["store"], line["run"], line["mode"]) == ("eu-shop", run["run_id"], "full"), line
    assert skipped[0]["sku"] == "PRE-1" and skipped[0]["item"] == str(shop.ids["PRE-1"])
