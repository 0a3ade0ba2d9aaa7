"""Incremental passes on Shopify: what changed is found by `updated_at` searches, nothing else is read.

The store is changed the way a shop's staff, its checkout or another app change it: through the
fake's Admin GraphQL API (inventorySetQuantities, orderCreate, tagsAdd).
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from stockstatus.adapters.shopify.fake import FakeShopify, gid
from stockstatus.core.config import from_mapping
from stockstatus.core.state import StateStore
from stockstatus.core.sync import resync
from tests.conftest import FIXED_NOW, MovingClock

from .helpers import SHOP

TODAY = FIXED_NOW.date()
RULES = [
    {"name": "discontinued", "when": {"tags_any": ["discontinued"]}, "then": {"status": "out_of_stock"}},
    {
        "name": "restock due",
        "when": {"available": "<= 0", "eta_within_days": 60},
        "then": {"status": "backorder", "eta": "restock_date"},
    },
    {"name": "sold out", "when": {"available": "<= 0"}, "then": {"status": "out_of_stock"}},
]
READS = ("Locations", "ChangedProducts", "ChangedVariants", "ChangedStock", "OpenWork")
WRITES = frozenset({"PushChanges", "OrderNotice"})


@pytest.fixture
def clock() -> MovingClock:
    return MovingClock()


@pytest.fixture
def fake(clock: MovingClock) -> FakeShopify:
    fake = FakeShopify(SHOP, now=clock)
    fake.add_location("Warehouse")
    fake.add_location("Pop-up", fulfills_online_orders=False)
    return fake


@pytest.fixture
def config(tmp_path: Path) -> Any:
    store = {"name": "shop", "platform": "shopify", "shop": SHOP, "token_env": "SHOP_TOKEN"}
    data = {"timezone": "Europe/Berlin", "stores": [store], "rules": RULES}
    return from_mapping(data, path=tmp_path / "connector.toml", base_dir=tmp_path)


async def run(config: Any, state: StateStore, fake: FakeShopify, clock: MovingClock, **kw: Any) -> Any:
    fake.log.clear()
    [result] = await resync(
        config,
        state=state,
        clock=clock,
        environ={"SHOP_TOKEN": fake.access_token},
        transports={"shop": fake.transport()},
        **kw,
    )
    return result


def operations(fake: FakeShopify) -> list[str]:
    return [str(entry["operation"]) for entry in fake.log]


async def admin(fake: FakeShopify, query: str, **variables: Any) -> dict[str, Any]:
    """A request through the store's own API, as the shop's staff or another app would send it."""
    async with httpx.AsyncClient(transport=fake.transport()) as client:
        response = await client.post(
            f"https://{SHOP}/admin/api/2026-10/graphql.json",
            headers={"X-Shopify-Access-Token": fake.access_token},
            json={"query": query, "variables": variables},
        )
    body = response.json()
    assert not body.get("errors"), body
    payload = next(iter(body["data"].values()))
    assert not (payload.get("userErrors") or payload.get("orderCancelUserErrors")), payload
    return body["data"]


async def count_stock(fake: FakeShopify, variant_id: int, quantity: int, location: str = "Warehouse") -> None:
    item = fake.variants[variant_id].inventory_item_id
    await admin(
        fake,
        """mutation Count($input: InventorySetQuantitiesInput!, $key: String!) {
          inventorySetQuantities(input: $input) @idempotent(key: $key) { userErrors { field message } }
        }""",
        key=str(uuid.uuid4()),
        input={
            "name": "available",
            "reason": "correction",
            "quantities": [
                {
                    "inventoryItemId": gid("InventoryItem", item),
                    "locationId": gid("Location", fake.location_named(location).id),
                    "quantity": quantity,
                    "changeFromQuantity": None,
                }
            ],
        },
    )


async def place_order(fake: FakeShopify, variant_id: int, quantity: int) -> None:
    await admin(
        fake,
        """mutation Place($order: OrderCreateOrderInput!, $options: OrderCreateOptionsInput) {
          orderCreate(order: $order, options: $options) { order { id } userErrors { field message } }
        }""",
        order={
            "email": "buyer@example.com",
            "lineItems": [{"variantId": gid("ProductVariant", variant_id), "quantity": quantity}],
        },
        options={"inventoryBehaviour": "DECREMENT_IGNORING_POLICY"},
    )


def seed(fake: FakeShopify) -> dict[str, int]:
    restock = ("date", (TODAY + timedelta(days=10)).isoformat())
    fake.create_product("Kettle", variants=[{"sku": "KTL", "stock": 0}], metafields={"custom.restock_date": restock})
    fake.create_product("Mug", variants=[{"sku": "MUG", "stock": 4}])
    fake.create_product("Shirt", variants=[{"sku": "SH-S", "stock": 2}, {"sku": "SH-M", "stock": 5}])
    fake.create_product("Chemex", variants=[{"sku": "CHX", "stock": {"Warehouse": 3, "Pop-up": 1}}])
    return {str(v.sku): v.id for v in fake.variants.values()}


async def seeded_and_quiet(fake: FakeShopify, config: Any, state: StateStore, clock: MovingClock) -> dict[str, int]:
    """The catalogue, a full pass, and the incremental pass that reads the full pass's writes
    back: from here on a pass sees only what the test changes. SKU -> variant id."""
    skus = seed(fake)
    await run(config, state, fake, clock)
    clock.advance(15)
    await run(config, state, fake, clock, incremental=True)
    clock.advance(15)
    return skus


def status_of(fake: FakeShopify, variant_id: int) -> tuple[str | None, str]:
    return fake.variant_metafield(variant_id, "connector.status"), fake.variants[variant_id].inventory_policy


async def test_a_no_change_pass_reads_one_listing_each_and_writes_nothing(fake, config, state, clock):
    seed(fake)
    first = await run(config, state, fake, clock, incremental=True)
    assert first.mode == "full" and first.outcome == "ok" and first.written > 0

    clock.advance(15)
    echo = await run(config, state, fake, clock, incremental=True)
    # The first pass's own writes moved its variants' updatedAt: they are read again, not written.
    assert echo.mode == "incremental" and echo.changes == [] and echo.items == 5
    assert not WRITES & set(operations(fake))

    clock.advance(15)
    quiet = await run(config, state, fake, clock, incremental=True)
    assert quiet.mode == "incremental" and quiet.items == 0 and quiet.changes == []
    # One read per listing; stock is searched at the one location whose stock counts.
    assert operations(fake) == list(READS)


async def test_stock_counted_and_an_order_placed_through_the_api_are_followed(fake, config, state, clock):
    skus = await seeded_and_quiet(fake, config, state, clock)

    await count_stock(fake, skus["MUG"], 0)  # a stock count finds the mugs gone
    await place_order(fake, skus["SH-S"], 3)  # the checkout sells 3 of the 2 small shirts
    result = await run(config, state, fake, clock, incremental=True)

    assert result.mode == "incremental" and result.outcome == "ok"
    # The mug, and both variants of the shirt (all variants of a changed product are pulled).
    assert sorted(i for i in (c.item.sku for c in result.changes)) == ["MUG", "SH-S"]
    assert result.items == 3
    assert status_of(fake, skus["MUG"]) == ("out_of_stock", "DENY")
    assert status_of(fake, skus["SH-S"]) == ("out_of_stock", "DENY")
    assert status_of(fake, skus["SH-M"]) == ("in_stock", "DENY")


async def test_stock_moved_at_a_location_that_does_not_count_reads_no_variant(fake, config, state, clock):
    skus = await seeded_and_quiet(fake, config, state, clock)
    await count_stock(fake, skus["CHX"], 0, location="Pop-up")
    result = await run(config, state, fake, clock, incremental=True)
    assert result.items == 0 and "Variants" not in operations(fake)


async def test_a_tag_added_in_the_admin_is_followed(fake, config, state, clock):
    skus = await seeded_and_quiet(fake, config, state, clock)
    assert status_of(fake, skus["KTL"]) == ("backorder", "CONTINUE")
    kettle = fake.variants[skus["KTL"]].product_id
    await admin(
        fake,
        """mutation Tag($id: ID!, $tags: [String!]!) {
                           tagsAdd(id: $id, tags: $tags) { userErrors { field message } } }""",
        id=gid("Product", kettle),
        tags=["discontinued"],
    )
    result = await run(config, state, fake, clock, incremental=True)
    assert [(c.item.sku, c.decision.rule) for c in result.changes] == [("KTL", "discontinued")]
    assert status_of(fake, skus["KTL"]) == ("out_of_stock", "DENY")


async def test_a_merchant_restock_date_on_a_variant_is_followed(fake, config, state, clock):
    skus = await seeded_and_quiet(fake, config, state, clock)
    await count_stock(fake, skus["MUG"], 0)
    clock.advance(15)
    await run(config, state, fake, clock, incremental=True)
    assert status_of(fake, skus["MUG"])[0] == "out_of_stock"

    clock.advance(15)
    later = (TODAY + timedelta(days=20)).isoformat()
    await admin(
        fake,
        """mutation Date($metafields: [MetafieldsSetInput!]!) {
                           metafieldsSet(metafields: $metafields) { userErrors { field message } } }""",
        metafields=[
            {
                "ownerId": gid("ProductVariant", skus["MUG"]),
                "namespace": "custom",
                "key": "restock_date",
                "type": "date",
                "value": later,
            }
        ],
    )
    result = await run(config, state, fake, clock, incremental=True)
    assert [(c.item.sku, c.decision.status.value, c.decision.eta) for c in result.changes] == [
        ("MUG", "backorder", date.fromisoformat(later))
    ]
    assert status_of(fake, skus["MUG"]) == ("backorder", "CONTINUE")


async def test_when_most_of_the_shop_changed_the_pass_reads_the_whole_catalogue(
    fake, config, state, clock, monkeypatch
):
    from stockstatus.adapters.shopify import client as client_module

    skus = await seeded_and_quiet(fake, config, state, clock)
    monkeypatch.setattr(client_module, "CHANGED_PRODUCTS_LIMIT", 1)
    await count_stock(fake, skus["MUG"], 1)
    await count_stock(fake, skus["CHX"], 1)
    result = await run(config, state, fake, clock, incremental=True)
    assert result.mode == "full" and result.full_because == "the store could not tell what changed"
    assert result.items == 5 and "CatalogueSize" in operations(fake)
