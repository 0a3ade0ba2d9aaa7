"""The sell-out answer written in advance: while an item is in stock, the status, ETA and message
it will show once its last unit sells are already on the store, in fields of their own.

Each platform switches by itself at the last sale (the policy is pre-armed). These tests sell
the last units through the store's own API with no pass in between and read what a theme reads
at that instant; then the next pass makes the main fields say the same and clears the sell-out
ones.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from stockstatus.adapters.shopify.fake import FakeShopify, gid
from stockstatus.adapters.woocommerce.fake import FakeWooCommerce
from stockstatus.core.config import Config, from_mapping
from stockstatus.core.state import StateStore
from stockstatus.core.sync import resync
from stockstatus.rules import Facts, Status, SupplyEvent, compile_rules
from tests.conftest import FIXED_NOW, MovingClock
from tests.shopify.test_incremental import admin

TIMEZONE = ZoneInfo("Europe/Berlin")
TODAY = FIXED_NOW.astimezone(TIMEZONE).date()
SHIPMENT = TODAY + timedelta(days=10)
HANDLING = 1
SHIPS_BY = SHIPMENT + timedelta(days=HANDLING)
SHOP = "sellout-shop.myshopify.com"

RULES = [
    {
        "name": "backorder while a shipment is due",
        "when": {"available": "<= 0", "eta_within_days": 45},
        "then": {
            "status": "backorder",
            "eta": "supply",
            "cap": "incoming",
            "message": "Ships by {eta:%-d %B}: {limit} left at this date",
        },
    },
    {
        "name": "made to order",
        "when": {"tags_any": ["made-to-order"]},
        "then": {"status": "backorder", "eta": "lead_time", "message": "Made to order: ships by {eta:%-d %B}"},
    },
    {"name": "sold out", "when": {"available": "<= 0"}, "then": {"status": "out_of_stock"}},
]


def day_month(d: date) -> str:
    return f"{d.day} {d:%B}"


def config(tmp_path: Path, store: dict[str, Any]) -> Config:
    orders = tmp_path / "po.csv"
    orders.write_text(f"sku,quantity,expected_date\nKTL,5,{SHIPMENT.isoformat()}\n", encoding="utf-8")
    data = {
        "timezone": "Europe/Berlin",
        "supply": {"handling_days": HANDLING, "purchase_orders": ["po.csv"], "lead_time_days": {"default": 14}},
        "stores": [store],
        "rules": RULES,
    }
    return from_mapping(data, path=tmp_path / "connector.toml", base_dir=tmp_path)


# -- the rules -----------------------------------------------------------------------------


def decide(**facts: Any) -> Any:
    rules = compile_rules(RULES, handling_days=HANDLING)
    return rules.decide(Facts(sku="KTL", today=TODAY, **facts))


def test_an_in_stock_item_carries_what_it_shows_at_the_last_sale() -> None:
    supply = (SupplyEvent(SHIPMENT, 5),)
    decision = decide(available=2, supply=supply)
    assert decision.status is Status.IN_STOCK and decision.eta is None and decision.message is None
    after = decision.at_sellout
    assert after is not None
    assert (after.status, after.eta) == (Status.BACKORDER, SHIPS_BY)
    assert after.message == f"Ships by {day_month(SHIPS_BY)}: 5 left at this date"
    # What it says at sell-out is what a pass at that moment decides.
    at_zero = decide(available=0, supply=supply)
    assert (at_zero.status, at_zero.eta, at_zero.message) == (after.status, after.eta, after.message)


def test_a_rule_that_applies_on_the_shelf_gives_its_eta_at_sell_out() -> None:
    decision = decide(available=4, tags=frozenset({"made-to-order"}), lead_time_days=14)
    after = decision.at_sellout
    assert decision.status is Status.IN_STOCK and after is not None
    assert (after.status, after.eta) == (Status.BACKORDER, TODAY + timedelta(days=14 + HANDLING))


def test_a_plain_sell_out_or_an_item_already_sold_out_writes_nothing_ahead() -> None:
    assert decide(available=2).at_sellout is None  # no shipment: plain out of stock at zero
    assert decide(available=0, supply=(SupplyEvent(SHIPMENT, 5),)).at_sellout is None  # already backorder


# -- WooCommerce ---------------------------------------------------------------------------


def woo_meta(product: dict[str, Any], key: str) -> Any:
    return next((m["value"] for m in product.get("meta_data") or () if m["key"] == key), None)


async def test_woocommerce_shows_the_date_at_the_instant_of_sell_out(tmp_path: Path) -> None:
    clock = MovingClock()
    fake = FakeWooCommerce(base_url="https://woo.example.test", now=clock, timezone=TIMEZONE)
    kettle = int(fake.create_product(name="Kettle", sku="KTL", manage_stock=True, stock_quantity=2)["id"])
    mug = int(fake.create_product(name="Mug", sku="MUG", manage_stock=True, stock_quantity=9)["id"])
    store = {
        "name": "shop",
        "platform": "woocommerce",
        "url": "https://woo.example.test",
        "key_env": "K",
        "secret_env": "S",
    }
    cfg = config(tmp_path, store)
    state = StateStore(tmp_path / "state.sqlite")
    env = {"K": fake.consumer_key, "S": fake.consumer_secret}

    async def run() -> None:
        [result] = await resync(cfg, state=state, clock=clock, environ=env, transports={"shop": fake.transport()})
        assert result.outcome == "ok", result.error

    await run()
    product = fake.get_product(kettle)
    assert product["backorders"] == "notify" and product["stock_status"] == "instock"
    assert woo_meta(product, "connector_status") == "in_stock"
    assert woo_meta(product, "connector_sellout_status") == "backorder"
    assert woo_meta(product, "connector_sellout_eta") == SHIPS_BY.isoformat()
    message = f"Ships by {day_month(SHIPS_BY)}: 5 left at this date"
    assert woo_meta(product, "connector_sellout_message") == message
    # A plain in-stock item gets no sell-out keys at all.
    assert not any(m["key"].startswith("connector_sellout") for m in fake.get_product(mug)["meta_data"])

    # The last two units sell; no pass runs. What a theme reads at that instant:
    clock.advance(60)
    fake.create_order(status="processing", line_items=[{"product_id": kettle, "quantity": 2}])
    product = fake.get_product(kettle)
    assert product["stock_quantity"] == 0 and product["stock_status"] == "onbackorder"
    assert woo_meta(product, "connector_sellout_eta") == SHIPS_BY.isoformat()
    assert woo_meta(product, "connector_sellout_message") == message

    # The next pass says the same in the main keys and clears the sell-out ones.
    clock.advance(60)
    await run()
    product = fake.get_product(kettle)
    assert woo_meta(product, "connector_status") == "backorder"
    assert woo_meta(product, "connector_eta") == SHIPS_BY.isoformat()
    assert woo_meta(product, "connector_message") == message
    assert not woo_meta(product, "connector_sellout_status") and not woo_meta(product, "connector_sellout_eta")


# -- Shopify -------------------------------------------------------------------------------


async def test_shopify_shows_the_date_at_the_instant_of_sell_out(tmp_path: Path) -> None:
    clock = MovingClock()
    fake = FakeShopify(SHOP, now=clock)
    fake.add_location("Warehouse")
    fake.create_product("Kettle", variants=[{"sku": "KTL", "stock": 2}])
    fake.create_product("Mug", variants=[{"sku": "MUG", "stock": 9}])
    ids = {str(v.sku): v.id for v in fake.variants.values()}
    cfg = config(tmp_path, {"name": "shop", "platform": "shopify", "shop": SHOP, "token_env": "T"})
    state = StateStore(tmp_path / "state.sqlite")

    async def run() -> None:
        [result] = await resync(
            cfg, state=state, clock=clock, environ={"T": fake.access_token}, transports={"shop": fake.transport()}
        )
        assert result.outcome == "ok", result.error

    def field(name: str, sku: str = "KTL") -> str | None:
        return fake.variant_metafield(ids[sku], f"connector.{name}")

    await run()
    message = f"Ships by {day_month(SHIPS_BY)}: 5 left at this date"
    assert fake.variants[ids["KTL"]].inventory_policy == "CONTINUE"
    assert (field("status"), field("sellout_status")) == ("in_stock", "backorder")
    assert (field("sellout_eta"), field("sellout_message")) == (SHIPS_BY.isoformat(), message)
    assert field("sellout_status", "MUG") is None and field("sellout_eta", "MUG") is None

    # The last two units sell through the Admin API; no pass runs.
    clock.advance(60)
    await admin(
        fake,
        """mutation Place($order: OrderCreateOrderInput!, $options: OrderCreateOptionsInput) {
          orderCreate(order: $order, options: $options) { order { id } userErrors { field message } }
        }""",
        order={
            "email": "buyer@example.com",
            "lineItems": [{"variantId": gid("ProductVariant", ids["KTL"]), "quantity": 2}],
        },
        options={"inventoryBehaviour": "DECREMENT_IGNORING_POLICY"},
    )
    assert fake.available(ids["KTL"]) == 0
    assert (field("sellout_eta"), field("sellout_message")) == (SHIPS_BY.isoformat(), message)

    clock.advance(60)
    await run()
    assert (field("status"), field("eta"), field("message")) == ("backorder", SHIPS_BY.isoformat(), message)
    assert field("sellout_status") is None and field("sellout_eta") is None and field("sellout_message") is None


@pytest.mark.parametrize("platform", ["woocommerce", "shopify"])
def test_the_sell_out_keys_are_named_in_the_store_settings(platform: str, tmp_path: Path) -> None:
    store: dict[str, Any] = {"name": "shop", "platform": platform}
    if platform == "woocommerce":
        store |= {"url": "https://woo.example.test", "key_env": "K", "secret_env": "S"}
        store["meta_keys"] = {"sellout_eta": "ships_by_when_sold_out"}
        keys = config(tmp_path, store).stores[0].settings.meta_keys  # type: ignore[attr-defined]
        assert keys.sellout_eta == "ships_by_when_sold_out" and keys.sellout_status == "connector_sellout_status"
    else:
        store |= {"shop": SHOP, "token_env": "T", "metafields": {"sellout_eta": "eta_when_sold_out"}}
        keys = config(tmp_path, store).stores[0].settings.metafields  # type: ignore[attr-defined]
        assert keys.sellout_eta == "eta_when_sold_out" and keys.sellout_message == "sellout_message"
