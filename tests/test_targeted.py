"""What a delivery touched, and the targeted pass that follows: the touched items with their whole queues."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from stockstatus.adapters.woocommerce.fake import FakeWooCommerce
from stockstatus.core.config import from_mapping
from stockstatus.core.inbound import Ping, Refused, read_shopify, read_woocommerce, shopify_touched, signature
from stockstatus.core.inbound import woocommerce_touched as woo_touched
from stockstatus.core.sync import Touched, resync
from tests.conftest import MovingClock

UNKNOWN = Touched.unknown()


@pytest.mark.parametrize(
    ("topic", "payload", "touched"),
    [
        (
            "order.created",
            {"id": 9, "line_items": [{"product_id": 12, "variation_id": 0, "sku": "MUG", "quantity": 1}]},
            Touched.of(keys=["12"], skus=["MUG"]),
        ),
        (
            "order.updated",
            {"id": 9, "line_items": [{"product_id": 12, "variation_id": 34, "sku": "", "quantity": 2}]},
            Touched.of(keys=["12/34"]),
        ),
        ("order.created", {"id": 9, "line_items": []}, UNKNOWN),  # nothing names an item
        ("order.created", {"id": 9, "line_items": [{"product_id": 0, "name": "Gift wrap"}]}, UNKNOWN),
        ("order.deleted", {"id": 9}, UNKNOWN),
        ("product.updated", {"id": 12, "parent_id": 0, "type": "variable"}, Touched.of(keys=["12"], products=["12"])),
        ("product.updated", {"id": 34, "parent_id": 12, "sku": "SH-S"}, Touched.of(keys=["12/34"], skus=["SH-S"])),
        ("product.deleted", {"id": 12}, UNKNOWN),
        ("coupon.updated", {"id": 3}, UNKNOWN),
        ("order.created", ["not", "an", "order"], UNKNOWN),
    ],
)
def test_what_a_woocommerce_delivery_touched(topic, payload, touched):
    assert woo_touched(topic, payload) == touched


@pytest.mark.parametrize(
    ("topic", "payload", "touched"),
    [
        (
            "orders/create",
            {"id": 1, "line_items": [{"variant_id": 501, "product_id": 50, "sku": "KTL", "quantity": 1}]},
            Touched.of(keys=["501"], skus=["KTL"]),
        ),
        (
            "orders/cancelled",
            {"id": 1, "line_items": [{"variant_id": None, "product_id": 50, "sku": None, "quantity": 1}]},
            Touched.of(products=["50"]),
        ),
        ("orders/delete", {"id": 1}, UNKNOWN),
        ("inventory_levels/update", {"inventory_item_id": 7001, "location_id": 1, "available": 0}, UNKNOWN),
        (
            "products/update",
            {"id": 50, "variants": [{"id": 501, "sku": "KTL"}, {"id": 502}]},
            Touched.of(keys=["501", "502"], products=["50"]),
        ),
        ("products/update", {"title": "no id"}, UNKNOWN),
    ],
)
def test_what_a_shopify_delivery_touched(topic, payload, touched):
    assert shopify_touched(topic, payload) == touched


def test_signatures_are_checked_over_the_exact_bytes():
    body = json.dumps({"id": 1, "line_items": []}).encode()
    headers = {"X-WC-Webhook-Topic": "order.created", "X-WC-Webhook-ID": "3", "X-WC-Webhook-Delivery-ID": "d1"}
    verified = read_woocommerce(headers | {"X-WC-Webhook-Signature": signature("s3cret", body)}, body, "s3cret")
    assert not isinstance(verified, Ping) and verified.delivery_id.startswith("3:d1:")
    # WooCommerce sends one delivery id for every delivery of a webhook within one second.
    other = body.replace(b'"id": 1', b'"id": 2')
    same_second = read_woocommerce(headers | {"X-WC-Webhook-Signature": signature("s3cret", other)}, other, "s3cret")
    assert not isinstance(same_second, Ping) and same_second.delivery_id != verified.delivery_id
    with pytest.raises(Refused, match="does not match") as refused:
        read_woocommerce(headers | {"X-WC-Webhook-Signature": signature("s3cret", body)}, body + b" ", "s3cret")
    assert refused.value.status == 401
    with pytest.raises(Refused, match="unsigned"):
        read_shopify({"X-Shopify-Topic": "orders/create", "X-Shopify-Event-Id": "e"}, body, "s3cret")
    with pytest.raises(Refused, match="X-Shopify-Event-Id"):
        read_shopify({"X-Shopify-Hmac-Sha256": signature("s3cret", body)}, body, "s3cret")
    # The ping WooCommerce sends when a webhook is saved carries no signature and no topic.
    assert isinstance(read_woocommerce({}, b"webhook_id=3", "s3cret"), Ping)
    with pytest.raises(Refused):
        read_woocommerce({}, b'{"id": 1}', "s3cret")


def test_touched_sets_round_trip_through_the_state_file():
    touched = Touched.of(keys=["12/34"], products=["50"], skus=["MUG"])
    assert Touched.from_json(touched.to_json()) == touched
    assert Touched.from_json(UNKNOWN.to_json()) == UNKNOWN
    assert Touched.from_json("{broken") == UNKNOWN
    assert (touched | UNKNOWN).unmapped and (touched | UNKNOWN).keys == touched.keys


URL = "https://shop.test"
ENV = {"SHOP_KEY": "ck_" + "a" * 40, "SHOP_SECRET": "cs_" + "b" * 40}
TODAY = date(2026, 11, 22)


@pytest.fixture
def clock() -> MovingClock:
    return MovingClock()


async def test_a_targeted_pass_decides_the_touched_items_the_change_listing_leaves_out(tmp_path: Path, state, clock):
    fake = FakeWooCommerce(base_url=URL, consumer_key=ENV["SHOP_KEY"], consumer_secret=ENV["SHOP_SECRET"], now=clock)
    restock = (TODAY + timedelta(days=10)).isoformat()
    kettle = fake.create_product(
        name="Kettle",
        sku="KTL",
        manage_stock=True,
        stock_quantity=1,
        meta_data=[{"key": "restock_date", "value": restock}],
    )
    fake.create_product(name="Mug", sku="MUG", manage_stock=True, stock_quantity=4)
    order = fake.create_order(status="processing", line_items=[{"product_id": kettle["id"], "quantity": 3}])
    rules = [
        {"name": "restock due", "when": {"available": "<= 0"}, "then": {"status": "backorder", "eta": "restock_date"}}
    ]
    store = {"name": "shop", "platform": "woocommerce", "url": URL, "key_env": "SHOP_KEY", "secret_env": "SHOP_SECRET"}
    config = from_mapping(
        {"timezone": "Europe/Berlin", "stores": [store], "rules": rules}, path=tmp_path / "c.toml", base_dir=tmp_path
    )

    async def run(**kw):
        [result] = await resync(
            config, state=state, clock=clock, environ=ENV, transports={"shop": fake.transport()}, **kw
        )
        return result

    await run()
    for _ in range(2):  # the second incremental pass reads back nothing: the store is quiet
        clock.advance(15)
        await run(incremental=True)
    clock.advance(15)
    # The order ships: its status moves, the kettle's stock does not, so no listing of changes names it.
    fake.update_order(order["id"], status="completed")

    quiet = await run(incremental=True)
    targeted = await run(incremental=True, touched=woo_touched("order.updated", fake.get_order(order["id"])))

    assert (quiet.mode, quiet.items) == ("incremental", 0)
    assert targeted.mode == "webhook" and targeted.outcome == "ok"
    assert targeted.items == 1 and dict(targeted.counts) == {"backorder": 1}  # the kettle, with its queue


def test_delivery_ids_are_remembered_for_a_week_then_forgotten(state):
    monday = datetime(2026, 11, 23, 9, tzinfo=UTC)
    first = state.deliveries.receive("shop", "7:a1", "order.created", None, monday)
    assert first is not None
    state.deliveries.passed([(first, 800)], run_id=None)
    assert state.deliveries.receive("shop", "7:a1", "order.created", None, monday + timedelta(days=6)) is None
    # A week on, the next delivery prunes it: the id would be taken as new (and a pass is harmless).
    state.deliveries.receive("shop", "7:b2", "order.created", None, monday + timedelta(days=8))
    assert state.deliveries.receive("shop", "7:a1", "order.created", None, monday + timedelta(days=8)) is not None


async def test_an_item_shown_in_stock_is_not_worth_reading_the_whole_catalogue_for(tmp_path, state, clock):
    fake = FakeWooCommerce(base_url=URL, consumer_key=ENV["SHOP_KEY"], consumer_secret=ENV["SHOP_SECRET"], now=clock)
    mug = fake.create_product(name="Mug", sku="MUG", manage_stock=True, stock_quantity=4)
    order = fake.create_order(status="processing", line_items=[{"product_id": mug["id"], "quantity": 1}])
    store = {"name": "shop", "platform": "woocommerce", "url": URL, "key_env": "SHOP_KEY", "secret_env": "SHOP_SECRET"}
    rules = [{"name": "on the shelf", "when": {}, "then": {"status": "in_stock"}}]
    config = from_mapping(
        {"timezone": "Europe/Berlin", "stores": [store], "rules": rules}, path=tmp_path / "c.toml", base_dir=tmp_path
    )

    async def run(**kw):
        [result] = await resync(
            config, state=state, clock=clock, environ=ENV, transports={"shop": fake.transport()}, **kw
        )
        return result

    await run()
    for _ in range(2):
        clock.advance(15)
        await run(incremental=True)
    clock.advance(15)
    fake.update_order(order["id"], status="completed")  # 3 mugs left on the shelf either way
    fake.requests.clear()

    targeted = await run(incremental=True, touched=woo_touched("order.updated", fake.get_order(order["id"])))

    assert targeted.mode == "webhook" and targeted.outcome == "ok"
    listings = [query for method, path, query in fake.requests if method == "GET" and path.endswith("/products")]
    assert listings and all("modified_after" in query for query in listings)  # changes only
