"""Skipped items are kept in the state file, shown by `status` and `history`, short, and logged once."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from stockstatus.adapters.woocommerce.fake import FakeWooCommerce
from stockstatus.core import operator
from stockstatus.core.config import from_mapping
from stockstatus.core.state import REASON_CHARS, StateStore, schema
from stockstatus.core.sync import resync
from tests.conftest import FIXED_NOW

URL = "https://shop.test"
ENV = {"SHOP_KEY": "ck_" + "a" * 40, "SHOP_SECRET": "cs_" + "b" * 40}
RULES = [
    {"name": "restock due", "when": {"available": "<= 0"}, "then": {"status": "backorder", "eta": "restock_date"}},
]
JUNK = "x" * 100_000


@pytest.fixture
def fake():
    return FakeWooCommerce(base_url=URL, consumer_key=ENV["SHOP_KEY"], consumer_secret=ENV["SHOP_SECRET"])


@pytest.fixture
def config(tmp_path: Path):
    data = {
        "timezone": "Europe/Berlin",
        "stores": [
            {"name": "shop", "platform": "woocommerce", "url": URL, "key_env": "SHOP_KEY", "secret_env": "SHOP_SECRET"}
        ],
        "rules": RULES,
    }
    return from_mapping(data, path=tmp_path / "connector.toml", base_dir=tmp_path)


async def run(config, state, fake, **kw):
    [done] = await resync(
        config, state=state, clock=lambda: FIXED_NOW, environ=ENV, transports={"shop": fake.transport()}, **kw
    )
    return done


def restock(fake: FakeWooCommerce, product: dict, value: str) -> None:
    fake.products[product["id"]]["meta_data"] = [{"key": "restock_date", "value": value}]


def seed(fake: FakeWooCommerce) -> dict[str, dict]:
    return {
        sku: fake.create_product(
            name=f"Item {sku}",
            sku=sku,
            manage_stock=True,
            stock_quantity=0,
            meta_data=[{"key": "restock_date", "value": value}],
        )
        for sku, value in [("OK-1", "2026-12-01"), ("BAD-1", JUNK), ("BAD-2", "soon")]
    }


async def test_a_100_kb_value_gives_a_short_reason_everywhere(fake, config, state, caplog):
    seed(fake)
    with caplog.at_level(logging.WARNING):
        done = await run(config, state, fake)
    [bad] = [s for s in done.skipped if s.item.sku == "BAD-1"]
    assert len(bad.reason) <= REASON_CHARS and "restock_date" in bad.reason and "characters cut" in bad.reason
    assert all(len(line) < 400 for line in caplog.text.splitlines())

    kept = {s.sku: s.reason for s in state.skips.for_store("shop")}
    assert kept.keys() == {"BAD-1", "BAD-2"} and kept["BAD-1"] == bad.reason

    text = operator.status_text(operator.status(config, state))
    assert "skipped:   2 items left as they are" in text
    assert "BAD-1" in text and "BAD-2" in text and JUNK[:1000] not in text
    assert max(len(line) for line in text.splitlines()) < 400

    history = operator.history_text(operator.history(state, "BAD-1"))
    assert "skipped" in history and "restock_date" in history and max(len(x) for x in history.splitlines()) < 400


async def test_status_lists_the_first_few_and_counts_them_all(fake, config, state):
    for n in range(8):
        fake.create_product(
            name=f"Bad {n}",
            sku=f"BAD-{n}",
            manage_stock=True,
            stock_quantity=0,
            meta_data=[{"key": "restock_date", "value": "?"}],
        )
    await run(config, state, fake)
    [row] = operator.status(config, state)
    assert row["skipped"]["count"] == 8 and len(row["skipped"]["first"]) == operator.SKIPS_SHOWN < 8


async def test_a_skip_is_logged_once_per_reason_and_forgotten_once_fixed(fake, config, state, caplog):
    products = seed(fake)
    with caplog.at_level(logging.WARNING, logger="stockstatus.core.sync"):
        await run(config, state, fake)
        first = [r.getMessage() for r in caplog.records if "left unchanged" in r.getMessage()]
        caplog.clear()
        await run(config, state, fake)
        again = [r.getMessage() for r in caplog.records if "left unchanged" in r.getMessage()]
        caplog.clear()
        restock(fake, products["BAD-2"], "next week")  # another bad value: a new reason, said once
        await run(config, state, fake)
        changed = [r.getMessage() for r in caplog.records if "left unchanged" in r.getMessage()]
    assert sorted(m.split(":")[0] for m in first) == ["store shop", "store shop"] and len(first) == 2
    assert again == []
    assert len(changed) == 1 and "BAD-2" in changed[0] and "next week" in changed[0]

    restock(fake, products["BAD-1"], "2026-12-05")
    await run(config, state, fake)
    assert [s.sku for s in state.skips.for_store("shop")] == ["BAD-2"]
    assert operator.history(state, "BAD-1")[0]["result"] == "written"


async def test_a_dry_run_says_its_skips_but_keeps_none(fake, config, state):
    seed(fake)
    done = await run(config, state, fake, dry_run=True)
    assert {s.item.sku for s in done.skipped} == {"BAD-1", "BAD-2"}
    assert state.skips.for_store("shop") == []


def test_an_old_state_file_gains_the_skips_table(tmp_path, monkeypatch):
    path = tmp_path / "state.sqlite"
    with monkeypatch.context() as before:
        before.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:6])  # a file from before skips were kept
        old = StateStore(path)
        assert old.version == 6 and "skips" not in old.db.table_names()
        old.close()
    reopened = StateStore(path)
    try:
        assert "skips" in reopened.db.table_names() and reopened.skips.for_store("shop") == []
    finally:
        reopened.close()
