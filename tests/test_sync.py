"""A full pass against the in-process fake WooCommerce: what the store shows, what is written, what is kept."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from stockstatus.adapters.woocommerce.fake import FakeWooCommerce
from stockstatus.core.config import from_mapping
from stockstatus.core.sync import resync
from tests.conftest import FIXED_NOW

TODAY = date(2026, 11, 22)
URL = "https://shop.test"
ENV = {"SHOP_KEY": "ck_" + "a" * 40, "SHOP_SECRET": "cs_" + "b" * 40}
RULES = [
    {"name": "discontinued", "when": {"tags_any": ["discontinued"]}, "then": {"status": "out_of_stock"}},
    {"name": "pre-order", "when": {"release_date": "future"}, "then": {"status": "pre_order", "eta": "release_date"}},
    {
        "name": "restock due",
        "when": {"available": "<= 0", "eta_within_days": 30},
        "then": {"status": "backorder", "eta": "restock_date", "message": "Ships by {eta:%Y-%m-%d}"},
    },
    {"name": "sold out", "when": {"available": "<= 0"}, "then": {"status": "out_of_stock"}},
]


def meta(product: dict, key: str):
    return next((m["value"] for m in product["meta_data"] if m["key"] == key), None)


@pytest.fixture
def fake():
    return FakeWooCommerce(base_url=URL, consumer_key=ENV["SHOP_KEY"], consumer_secret=ENV["SHOP_SECRET"])


def shop_config(tmp_path: Path, **more):
    data = {
        "timezone": "Europe/Berlin",
        "supply": {"handling_days": 1},
        "stores": [
            {"name": "shop", "platform": "woocommerce", "url": URL, "key_env": "SHOP_KEY", "secret_env": "SHOP_SECRET"}
        ],
        "rules": RULES,
        **more,
    }
    return from_mapping(data, path=tmp_path / "connector.toml", base_dir=tmp_path)


@pytest.fixture
def config(tmp_path: Path):
    return shop_config(tmp_path)


def seed(fake: FakeWooCommerce) -> dict[str, dict]:
    restock = (TODAY + timedelta(days=10)).isoformat()
    return {
        "kettle": fake.create_product(
            name="Kettle",
            sku="KTL",
            manage_stock=True,
            stock_quantity=0,
            meta_data=[{"key": "restock_date", "value": restock}],
        ),
        "mug": fake.create_product(name="Mug", sku="MUG", manage_stock=True, stock_quantity=4),
        "chemex": fake.create_product(name="Chemex", sku="CHX", manage_stock=True, stock_quantity=0),
        "print": fake.create_product(
            name="Print", sku="PRT", manage_stock=False, stock_status="instock", tags=["discontinued"]
        ),
    }


async def run(config, state, fake, transport=None, **kw):
    return await resync(
        config,
        state=state,
        clock=lambda: FIXED_NOW,
        environ=ENV,
        transports={"shop": transport or fake.transport()},
        **kw,
    )


async def test_a_pass_writes_the_decisions_and_a_second_pass_writes_nothing(fake, config, state):
    products = seed(fake)
    [first] = await run(config, state, fake)
    assert first.outcome == "ok" and first.failed == 0

    kettle = fake.get_product(products["kettle"]["id"])
    assert (kettle["backorders"], kettle["stock_status"]) == ("notify", "onbackorder")
    assert meta(kettle, "connector_eta") == "2026-12-03"  # restock + 1 handling day
    assert meta(kettle, "connector_message") == "Ships by 2026-12-03"
    assert fake.get_product(products["chemex"]["id"])["stock_status"] == "outofstock"
    assert fake.get_product(products["print"]["id"])["stock_status"] == "outofstock"  # unmanaged: written directly
    assert state.accepted.for_store("shop")[str(products["kettle"]["id"])].status.value == "backorder"

    writes = len(fake.write_requests)
    [second] = await run(config, state, fake)
    assert second.outcome == "ok" and second.changes == []
    assert len(fake.write_requests) == writes


async def test_items_the_store_already_shows_are_accepted_again_only_by_a_pass_that_is_not_held(fake, tmp_path, state):
    config = shop_config(tmp_path, rails={"min_items": 1, "max_changed_share": 0.2})
    products = seed(fake)
    [first] = await run(config, state, fake, force=True)

    def accepted_by() -> dict[str, int]:
        return {row["item_key"]: row["run_id"] for row in state.db.query("SELECT item_key, run_id FROM items")}

    assert first.outcome == "ok" and set(accepted_by().values()) == {first.run_id}

    # A restock date for the Chemex: one item of four changes status, more than the rails allow.
    restock = (TODAY + timedelta(days=5)).isoformat()
    fake.update_product(products["chemex"]["id"], meta_data=[{"key": "restock_date", "value": restock}])
    [held] = await run(config, state, fake)
    assert held.outcome == "held" and [c.item.sku for c in held.changes] == ["CHX"]
    assert set(accepted_by().values()) == {first.run_id}

    [forced] = await run(config, state, fake, force=True)
    assert forced.outcome == "ok" and [c.item.sku for c in forced.changes] == ["CHX"]
    assert set(accepted_by().values()) == {forced.run_id}
    assert state.accepted.for_store("shop")[str(products["chemex"]["id"])].status.value == "backorder"


async def test_a_dry_run_plans_but_writes_nothing_and_keeps_state(fake, config, state):
    seed(fake)
    [planned] = await run(config, state, fake, dry_run=True)
    assert {c.item.sku: c.decision.status.value for c in planned.changes}["KTL"] == "backorder"
    assert fake.write_requests == []
    assert state.accepted.for_store("shop") == {}
    assert [r.mode for r in state.runs.recent("shop")] == ["dry-run"]


async def test_a_failed_read_writes_nothing_and_is_never_out_of_stock(fake, config, state):
    products = seed(fake)
    fake.fail_next(401, times=1, path_contains="orders")
    [failed] = await run(config, state, fake)
    assert failed.outcome == "failed" and "401" in failed.error
    assert fake.write_requests == []
    assert fake.get_product(products["kettle"]["id"])["backorders"] == "no"
    assert state.runs.recent("shop")[0].outcome == "failed"


async def test_a_refused_item_keeps_its_state_and_is_retried_next_pass(fake, config, state):
    products = seed(fake)
    inner = fake.transport()
    gone = products["chemex"]["id"]

    class DeletedMidPass(httpx.AsyncBaseTransport):
        """The merchant deletes a product between the read and the write."""

        async def handle_async_request(self, request):
            if request.method == "POST" and request.url.path.endswith("/products/batch"):
                fake.products.pop(gone, None)
            return await inner.handle_async_request(request)

    [partial] = await run(config, state, fake, transport=DeletedMidPass())
    assert partial.outcome == "partial" and partial.failed == 1
    [refused] = [c for c in partial.changes if c.result == "failed"]
    assert refused.item.sku == "CHX" and "invalid" in refused.error.lower()
    assert str(gone) not in state.accepted.for_store("shop")
    assert str(products["kettle"]["id"]) in state.accepted.for_store("shop")
    logged = {row["sku"]: row["result"] for row in state.db.query("SELECT sku, result FROM decisions")}
    assert logged["CHX"] == "failed" and logged["KTL"] == "written"


async def test_an_unreadable_merchant_date_leaves_the_item_as_it_is(fake, config, state):
    bad = fake.create_product(
        name="Grinder",
        sku="GRD",
        manage_stock=True,
        stock_quantity=0,
        meta_data=[{"key": "restock_date", "value": "next tuesday"}],
    )
    [done] = await run(config, state, fake)
    assert [(s.item.sku, "restock_date" in s.reason) for s in done.skipped] == [("GRD", True)]
    assert fake.get_product(bad["id"])["backorders"] == "no" and fake.write_requests == []


async def test_oversold_orders_form_the_queue_the_decision_sees(fake, config, state):
    products = seed(fake)
    kettle = products["kettle"]["id"]
    fake.create_order(status="processing", line_items=[{"product_id": kettle, "quantity": 2}])
    [done] = await run(config, state, fake)
    [change] = [c for c in done.changes if c.item.sku == "KTL"]
    assert change.item.available == -2
    assert change.decision.status.value == "backorder"
