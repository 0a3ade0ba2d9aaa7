"""The backorder queue is the open fulfilment work at the counted locations (fulfillment orders)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from stockstatus.adapters.shopify.client import Credentials, ShopifyAdapter
from stockstatus.adapters.shopify.fake import ALL_SCOPES, FakeClock, FakeShopify
from stockstatus.core.errors import AuthError

from .helpers import FAST, SHOP, Sleeps, settings

NOW = datetime(2026, 11, 22, 9, tzinfo=UTC)


def shop(scopes=ALL_SCOPES) -> tuple[FakeShopify, FakeClock, int]:
    """A warehouse (counts) and a showroom (does not fulfil online orders); one sold-out kettle."""
    clock = FakeClock()
    fake = FakeShopify(SHOP, clock=clock, now=lambda: NOW, scopes=scopes)
    fake.add_location("Warehouse")
    fake.add_location("Showroom", fulfills_online_orders=False)
    kettle = fake.create_product("Kettle", variants=[{"sku": "KTL-1", "stock": 0}]).variant_ids[0]
    return fake, clock, kettle


def adapter(fake: FakeShopify, clock: FakeClock, **fields) -> ShopifyAdapter:
    return ShopifyAdapter(
        settings(**fields),
        httpx.AsyncClient(transport=fake.transport()),
        Credentials(token=fake.access_token),
        policy=FAST,
        sleep=Sleeps(clock),
        clock=clock,
    )


def queued(orders) -> dict[str, int]:
    return {o.number: sum(line.quantity for line in o.lines) for o in orders}


async def test_held_and_scheduled_work_stays_in_the_queue():
    fake, clock, kettle = shop()
    held = fake.create_order([(kettle, 2)], created_at=NOW - timedelta(days=3))
    scheduled = fake.create_order([(kettle, 1)], created_at=NOW - timedelta(days=2))
    plain = fake.create_order([(kettle, 4)], created_at=NOW - timedelta(days=1))
    fake.hold(held.id)
    fake.schedule(scheduled.id, NOW + timedelta(days=10))

    orders = await adapter(fake, clock).open_orders()

    assert queued(orders) == {held.name: 2, scheduled.name: 1, plain.name: 4}
    assert {o.number: o.status for o in orders}[held.name] == "ON_HOLD"
    # The orders listing's usual filter would have missed both: Shopify shows them as held/scheduled.
    assert {held.fulfillment_status, scheduled.fulfillment_status} == {"ON_HOLD", "SCHEDULED"}


async def test_work_at_a_location_that_does_not_count_is_not_queued():
    fake, clock, kettle = shop()
    order = fake.create_order([(kettle, 3)])
    fake.move_work(order.id, "Showroom")

    assert await adapter(fake, clock).open_orders() == []

    fake.move_work(order.id, "Warehouse")
    assert queued(await adapter(fake, clock).open_orders()) == {order.name: 3}


async def test_an_order_split_over_two_locations_queues_only_the_counted_part():
    fake, clock, _ = shop()
    spec = {"sku": "LMP", "stock": {"Showroom": 5}, "incoming": {"Showroom": 0}}
    lamp = fake.create_product("Lamp", variants=[spec]).variant_ids[0]
    kettle = next(iter(fake.variants))
    fake.locations[fake.location_named("Showroom").id].fulfills_online_orders = True  # routing may use it
    order = fake.create_order([(kettle, 2), (lamp, 1)])

    [found] = await adapter(fake, clock, locations=["Warehouse"]).open_orders()

    assert {line.sku: line.quantity for line in found.lines} == {"KTL-1": 2}
    assert found.number == order.name


async def test_test_orders_are_left_out_unless_asked_for():
    fake, clock, kettle = shop()
    real = fake.create_order([(kettle, 1)])
    trial = fake.create_order([(kettle, 5)], test=True)

    assert queued(await adapter(fake, clock).open_orders()) == {real.name: 1}
    assert queued(await adapter(fake, clock, test_orders=True).open_orders()) == {real.name: 1, trial.name: 5}


async def test_cancelled_and_shipped_work_leaves_the_queue():
    fake, clock, kettle = shop()
    cancelled = fake.create_order([(kettle, 1)])
    fake.cancel_order(cancelled.id)

    assert await adapter(fake, clock).open_orders() == []


@pytest.mark.parametrize("all_orders", [True, False])
async def test_without_read_all_orders_the_oldest_work_is_not_visible(all_orders):
    scopes = ALL_SCOPES if all_orders else ALL_SCOPES - {"read_all_orders"}
    fake, clock, kettle = shop(scopes)
    old = fake.create_order([(kettle, 2)], created_at=NOW - timedelta(days=75))
    new = fake.create_order([(kettle, 1)], created_at=NOW - timedelta(days=5))

    found = queued(await adapter(fake, clock).open_orders())

    assert found == ({old.name: 2, new.name: 1} if all_orders else {new.name: 1})


async def test_check_warns_what_a_missing_read_all_orders_hides(caplog):
    fake, clock, _ = shop(ALL_SCOPES - {"read_all_orders"})
    with caplog.at_level("WARNING"):
        await adapter(fake, clock).check()
    [warning] = [r.getMessage() for r in caplog.records if "read_all_orders" in r.getMessage()]
    assert "60 days" in warning and "queue" in warning

    caplog.clear()
    full, clock, _ = shop()
    with caplog.at_level("WARNING"):
        await adapter(full, clock).check()
    assert not [r for r in caplog.records if "read_all_orders" in r.getMessage()]


async def test_check_asks_for_the_fulfillment_order_scope():
    fake, clock, _ = shop(ALL_SCOPES - {"read_merchant_managed_fulfillment_orders"})
    with pytest.raises(AuthError, match="read_merchant_managed_fulfillment_orders"):
        await adapter(fake, clock).check()


async def test_a_deleted_products_lines_are_dropped_from_the_queue_and_its_variants_from_the_pull():
    fake, clock, kettle = shop()
    lamp = fake.create_product("Lamp", variants=[{"sku": "LMP", "stock": 0}])
    order = fake.create_order([(kettle, 1), (lamp.variant_ids[0], 2)])
    payload = fake.handle(
        httpx.Request(
            "POST",
            f"https://{SHOP}/admin/api/2026-10/graphql.json",
            headers={"X-Shopify-Access-Token": fake.access_token},
            json={
                "query": "mutation D($id: ID!) { productDelete(input: {id: $id}) { deletedProductId "
                "userErrors { message } } }",
                "variables": {"id": f"gid://shopify/Product/{lamp.id}"},
            },
        )
    ).json()["data"]["productDelete"]
    assert payload == {"deletedProductId": f"gid://shopify/Product/{lamp.id}", "userErrors": []}

    shopify = adapter(fake, clock)
    [found] = await shopify.open_orders()
    assert found.number == order.name and [line.sku for line in found.lines] == ["KTL-1"]
    assert [item.sku for item in await shopify.pull_items()] == ["KTL-1"]


async def test_a_revoked_token_fails_the_pass_with_what_to_fix():
    fake, clock, _ = shop()
    fake.revoke(fake.access_token)
    with pytest.raises(AuthError, match="refused the access token"):
        await adapter(fake, clock).pull_items()


@pytest.mark.parametrize("granted", [True, False])
async def test_work_at_a_fulfilment_services_location_needs_the_third_party_scope(caplog, granted):
    extra = {"read_third_party_fulfillment_orders"} if granted else set()
    fake, clock, kettle = shop(ALL_SCOPES | extra)
    fake.add_location("3PL", fulfillment_service=True)
    order = fake.create_order([(kettle, 2)])
    fake.move_work(order.id, "3PL")
    shopify = adapter(fake, clock, locations=["Warehouse", "3PL"])

    with caplog.at_level("WARNING"):
        await shopify.check()
    warned = [r.getMessage() for r in caplog.records if "read_third_party_fulfillment_orders" in r.getMessage()]

    assert queued(await shopify.open_orders()) == ({order.name: 2} if granted else {})
    assert bool(warned) is not granted
    assert not warned or "3PL" in warned[0]
