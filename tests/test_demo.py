"""The demo decides by the example configuration a new user copies, not by a copy of its rules."""

from __future__ import annotations

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
