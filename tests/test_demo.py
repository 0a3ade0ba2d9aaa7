"""The demo decides by the example configuration a new user copies, not by a copy of its rules."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from stockstatus.core import demo
from tests.conftest import FIXED_NOW

ROOT = Path(__file__).resolve().parents[1]


def test_the_package_ships_the_projects_example_config_unchanged():
    assert demo.example_text() == (ROOT / "config.example.toml").read_text("utf-8")


def test_the_demo_runs_the_example_rules_and_settings_on_its_own_stores():
    example = tomllib.loads((ROOT / "config.example.toml").read_text("utf-8"))
    config = demo.demo_config(lambda: FIXED_NOW).config
    store = config.stores[0]
    assert [rule.name for rule in store.rules.rules] == [rule["name"] for rule in example["rules"]]
    assert store.timezone.key == example["timezone"]
    assert store.rules.handling_days == example["supply"]["handling_days"]
    assert {s.name for s in config.stores} == {f"demo-{name}" for name in demo.simulated_platforms()}
    assert config.purchase_orders.patterns == ()  # the example's paths name the merchant's files


def test_the_demo_accounts_for_every_item_with_its_reason(capsys):
    from tests.test_end_to_end import cli

    result = cli(capsys, ["demo", "--json"])
    assert result.code == 0, result.err
    body = json.loads(result.out)
    for run in body["applied"]:
        rows = body["items"][run["store"]]
        assert len(rows) == run["items"], "every item pulled is accounted for"
        decided = [r for r in rows if r["outcome"] == "decided"]
        assert len(decided) == run["decided"]
        left = [r for r in rows if r["outcome"] == "left to store"]
        assert len(decided) + len(left) + sum(r["outcome"] == "skipped" for r in rows) == len(rows)
        assert all(r["why"] for r in rows)
        assert all("not tracked" in r["why"] for r in left)
        # A discontinued product still on the shelf is shown in stock, and says why.
        [aeropress] = [r for r in rows if r["sku"] == "BRW-AEROPRESS-GO"]
        assert aeropress["shows"] == "in_stock"
        assert "discontinued" in aeropress["why"] and "out_of_stock" in aeropress["why"]


def test_the_demo_text_has_a_legend_and_fits_80_columns_where_it_explains(capsys):
    from tests.test_end_to_end import cli

    result = cli(capsys, ["demo"])
    assert result.code == 0, result.err
    legend = result.out.split("What the words mean", 1)[1].split("1. The plan", 1)[0]
    for word in ("in_stock", "backorder", "pre_order", "out_of_stock", "skipped", "left to store"):
        assert word in legend
    every_item = result.out.split("3. Every item", 1)[1].split("4. A second pass", 1)[0]
    counts = re.search(r"(\d+) items: (\d+) decided by the rules, (\d+) skipped, (\d+) left to the store", every_item)
    assert counts, every_item
    items, decided, skipped, left = map(int, counts.groups())
    assert items == decided + skipped + left and left >= 1
    listed = [line for line in every_item.splitlines() if re.match(r"  \S", line)]
    assert len(listed) == items, "one line per item"
    assert all(len(line) <= 80 for line in every_item.splitlines())
