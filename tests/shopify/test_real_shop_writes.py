"""Writes as real shops need them: partial answers, selling plans, metafield definitions, buyer
notices and undated incoming stock, against the fake Shopify (mocked only at the transport)."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from stockstatus.adapters.shopify import mapping
from stockstatus.adapters.shopify.fake import FakeClock, FakeShopify, gid
from stockstatus.core.config import from_mapping
from stockstatus.core.errors import PlatformError
from stockstatus.core.model import Decision, Item, Status, Update
from stockstatus.core.state import StateStore
from stockstatus.core.sync import resync
from tests.conftest import FIXED_NOW, MovingClock

from .helpers import SHOP, make_adapter, make_fake

RESTOCK = date(2026, 12, 10)


def decide(item: Item) -> Decision:
    """Sold out with a restock date → backorder; sold out → out of stock; else in stock."""
    if item.available is not None and item.available <= 0:
        if item.restock_date:
            return Decision(Status.BACKORDER, "restock", eta=item.restock_date, message="Ships soon")
        return Decision(Status.OUT_OF_STOCK, "sold out")
    return Decision(Status.IN_STOCK, "default")


async def plan_all(adapter) -> list[Update]:
    updates = []
    for item in await adapter.pull_items():
        fields = adapter.plan(item, decide(item))
        if fields:
            updates.append(Update(item, decide(item), fields))
    return updates


def policy(fake: FakeShopify, variant: int) -> str:
    return fake.variants[variant].inventory_policy


def sold_out(fake: FakeShopify, title: str, sku: str, *, restock: bool = True, **variant) -> int:
    product = fake.create_product(
        title,
        metafields={"custom.restock_date": ("date", RESTOCK.isoformat())} if restock else {},
        variants=[{"sku": sku, "stock": 0, **variant}],
    )
    return product.variant_ids[0]


# --- a partial answer ---------------------------------------------------------------------------


async def test_a_top_level_error_on_one_alias_fails_only_the_writes_it_carried():
    fake, clock = make_fake()
    kettle = sold_out(fake, "Kettle", "KTL")
    mug = sold_out(fake, "Mug", "MUG")
    # The first productVariantsBulkUpdate of the request (the kettle's product) fails on
    # Shopify's side; the mug's policy and every metafield of the same request apply.
    fake.fail_field("productVariantsBulkUpdate")
    adapter, _, client = make_adapter(fake, clock)
    async with client:
        updates = await plan_all(adapter)
        results = {r.item_key: r for r in await adapter.push(updates)}
    assert [e["operation"] for e in fake.log].count("PushChanges") == 1
    assert results[str(mug)].ok and results[str(mug)].error is None
    assert not results[str(kettle)].ok and "INTERNAL_SERVER_ERROR" in (results[str(kettle)].error or "")
    assert (policy(fake, kettle), policy(fake, mug)) == ("DENY", "CONTINUE")
    assert fake.variant_metafield(mug, "connector.status") == "backorder"
    assert fake.variant_metafield(kettle, "connector.status") == "backorder"  # its metafields did apply

    # The next pass writes only what is still missing: the kettle's policy.
    again, _, client = make_adapter(fake, clock)
    async with client:
        retry = await plan_all(again)
        assert [(u.item.key, dict(u.fields)) for u in retry] == [(str(kettle), {"inventoryPolicy": "CONTINUE"})]
        assert all(r.ok for r in await again.push(retry))
    assert policy(fake, kettle) == "CONTINUE"


# --- selling plans ------------------------------------------------------------------------------


@pytest.mark.parametrize("bulk", [False, True])
async def test_a_variant_sold_through_a_selling_plan_keeps_its_apps_policy_and_is_named(caplog, bulk):
    fake, clock = make_fake()
    preorder = sold_out(fake, "Vinyl", "VNL", inventory_policy="CONTINUE", restock=False)
    fake.set_selling_plans(preorder, "Pre-order (ships in spring)")
    plain = sold_out(fake, "Mug", "MUG", inventory_policy="CONTINUE", restock=False)
    subscription = sold_out(fake, "Coffee", "COF", inventory_policy="CONTINUE", restock=False)
    fake.set_selling_plans(subscription, required=True)  # the product requires a plan
    threshold = {"bulk_threshold": 0} if bulk else {}
    adapter, _, client = make_adapter(fake, clock, **threshold)
    with caplog.at_level(logging.WARNING):
        async with client:
            updates = {u.item.sku: u for u in await plan_all(adapter)}
            await adapter.push(list(updates.values()))
    # Sold out without a restock date, each decides out of stock: only the variant without a
    # selling plan is switched to DENY; the others keep CONTINUE, but get the status metafields.
    assert (policy(fake, preorder), policy(fake, plain), policy(fake, subscription)) == (
        "CONTINUE",
        "DENY",
        "CONTINUE",
    )
    assert "inventoryPolicy" not in updates["VNL"].fields
    assert updates["VNL"].fields["metafield:connector.status"] == "out_of_stock"
    [warning] = [r.getMessage() for r in caplog.records if "selling plan" in r.getMessage()]
    assert "2 variant(s)" in warning and "VNL" in warning and "COF" in warning and "MUG" not in warning


async def test_the_merchant_can_hand_selling_plan_variants_to_the_connector():
    fake, clock = make_fake()
    preorder = sold_out(fake, "Vinyl", "VNL", inventory_policy="CONTINUE", restock=False)
    fake.set_selling_plans(preorder, "Pre-order")
    adapter, _, client = make_adapter(fake, clock, selling_plans="manage")
    async with client:
        [update] = await plan_all(adapter)
        assert update.fields["inventoryPolicy"] == "DENY"
        assert all(r.ok for r in await adapter.push([update]))
    assert policy(fake, preorder) == "DENY"


async def test_each_policy_taken_over_from_the_merchant_is_listed_until_the_connector_owns_it(caplog):
    fake, clock = make_fake()
    sold_out(fake, "Kettle", "KTL")
    sold_out(fake, "Mug", "MUG", restock=False)  # DENY and out of stock already: nothing to change
    adapter, _, client = make_adapter(fake, clock)
    async with client:
        with caplog.at_level(logging.INFO):
            updates = await plan_all(adapter)
        listed = [r.getMessage() for r in caplog.records if "merchant's inventory policy" in r.getMessage()]
        assert len(listed) == 1 and "KTL" in listed[0] and "DENY would become CONTINUE" in listed[0]
        await adapter.push(updates)
        caplog.clear()
        with caplog.at_level(logging.INFO):
            await plan_all(adapter)
    assert not [r for r in caplog.records if "merchant's inventory policy" in r.getMessage()]


# --- metafield definitions ----------------------------------------------------------------------


def definitions(fake: FakeShopify) -> dict[tuple[str, str], tuple[str, str]]:
    return {
        (owner, f"{namespace}.{key}"): (d.type, d.storefront)
        for (owner, namespace, key), d in fake.metafield_definitions.items()
    }


async def test_check_names_missing_definitions_and_creates_them_with_the_operators_go(caplog):
    fake, clock = make_fake()
    adapter, _, client = make_adapter(fake, clock)
    with caplog.at_level(logging.WARNING):
        async with client:
            await adapter.check()
    assert definitions(fake) == {}
    missing = [r.getMessage() for r in caplog.records if "no metafield definition" in r.getMessage()]
    assert len(missing) == 6 and all("create_metafield_definitions = true" in m for m in missing)

    adapter, _, client = make_adapter(fake, clock, create_metafield_definitions=True)
    async with client:
        await adapter.check()
        await adapter.check_notices()
        assert await adapter.metafield_definitions(("PRODUCTVARIANT", "ORDER"), create=True) == []  # all there now
    assert definitions(fake) == {
        ("PRODUCTVARIANT", "connector.status"): ("single_line_text_field", "PUBLIC_READ"),
        ("PRODUCTVARIANT", "connector.eta"): ("date", "PUBLIC_READ"),
        ("PRODUCTVARIANT", "connector.message"): ("single_line_text_field", "PUBLIC_READ"),
        ("PRODUCTVARIANT", "connector.sellout_status"): ("single_line_text_field", "PUBLIC_READ"),
        ("PRODUCTVARIANT", "connector.sellout_eta"): ("date", "PUBLIC_READ"),
        ("PRODUCTVARIANT", "connector.sellout_message"): ("single_line_text_field", "PUBLIC_READ"),
        ("ORDER", "connector.stock_notice"): ("multi_line_text_field", "NONE"),
    }


async def test_a_definition_of_another_type_is_one_error_with_the_fix_and_nothing_is_written():
    fake, clock = make_fake()
    kettle = sold_out(fake, "Kettle", "KTL")
    fake.define_metafield("PRODUCTVARIANT", "connector.eta", "single_line_text_field")
    adapter, _, client = make_adapter(fake, clock)
    async with client:
        with pytest.raises(PlatformError) as checked:
            await adapter.check()
        updates = await plan_all(adapter)
        with pytest.raises(PlatformError) as pushed:
            await adapter.push(updates)
    for error in (checked.value, pushed.value):
        message = str(error)
        assert "connector.eta is single_line_text_field, the connector writes date" in message
        assert "Settings → Custom data" in message and "metafields.namespace" in message
    assert "PushChanges" not in [e["operation"] for e in fake.log]
    assert policy(fake, kettle) == "DENY" and fake.variant_metafield(kettle, "connector.status") is None


def test_the_fake_refuses_a_metafield_of_another_type_than_its_definition():
    fake, _ = make_fake()
    kettle = sold_out(fake, "Kettle", "KTL")
    fake.define_metafield("PRODUCTVARIANT", "connector.eta", "single_line_text_field")
    mutation = "mutation($m: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $m) { userErrors { code message } } }"
    with httpx.Client(transport=fake.transport()) as client:
        answer = client.post(
            f"https://{SHOP}/admin/api/2026-10/graphql.json",
            json={
                "query": mutation,
                "variables": {
                    "m": [
                        {
                            "ownerId": gid("ProductVariant", kettle),
                            "namespace": "connector",
                            "key": "eta",
                            "type": "date",
                            "value": "2026-12-01",
                        }
                    ]
                },
            },
            headers={"X-Shopify-Access-Token": fake.access_token},
        ).json()
    [error] = answer["data"]["metafieldsSet"]["userErrors"]
    assert error["code"] == "INVALID_TYPE" and "single_line_text_field" in error["message"]


async def test_the_app_reserved_namespace_is_written_and_read_back():
    fake, clock = make_fake()
    kettle = sold_out(fake, "Kettle", "KTL")
    adapter, _, client = make_adapter(
        fake, clock, metafields={"namespace": "$app:stock"}, create_metafield_definitions=True
    )
    async with client:
        await adapter.check()
        assert all(r.ok for r in await adapter.push(await plan_all(adapter)))
        [item] = await adapter.pull_items()
        assert await plan_all(adapter) == []  # what was written reads back: nothing left to do
    assert item.shown.status is Status.BACKORDER and item.shown.eta == RESTOCK
    # Shopify keeps `$app:stock` as the app's own namespace, which other apps and staff cannot write.
    assert fake.variant_metafield(kettle, "app--connector--stock.status") == "backorder"
    assert ("PRODUCTVARIANT", "app--connector--stock", "eta") in fake.metafield_definitions


def test_a_namespace_is_plain_or_app_reserved():
    from pydantic import ValidationError

    from stockstatus.adapters.shopify.settings import MetafieldKeys

    assert MetafieldKeys(namespace="$app:stock").namespace == "$app:stock"
    for wrong in ("$app:", "$other:stock", "ab"):
        with pytest.raises(ValidationError):
            MetafieldKeys(namespace=wrong)


# --- buyer notices ------------------------------------------------------------------------------


async def test_a_notice_sets_the_order_metafield_and_tag_and_leaves_the_note():
    fake, clock = make_fake()
    mug = sold_out(fake, "Mug", "MUG")
    order = fake.create_order([(mug, 1)])
    order.note = "Leave at the back door"
    adapter, _, client = make_adapter(fake, clock, notice_tag="backorder-news")
    async with client:
        first = await adapter.notify_customer(str(order.id), "MUG ships by 10 December.")
        second = await adapter.notify_customer(str(order.id), "MUG ships by 17 December.")
    assert first.ok and second.ok
    assert order.note == "Leave at the back door"
    assert order.tags == ["backorder-news"]
    notice = fake.metafields[(gid("Order", order.id), "connector", "stock_notice")]
    assert (notice.type, notice.value) == ("multi_line_text_field", "MUG ships by 17 December.")


async def test_a_notice_for_an_unknown_order_is_a_refusal():
    fake, clock = make_fake()
    adapter, _, client = make_adapter(fake, clock)
    async with client:
        result = await adapter.notify_customer("999999", "hello")
    assert not result.ok and result.error


# --- undated incoming stock ---------------------------------------------------------------------

RULES = [
    {
        "name": "backorder while a shipment is due",
        "when": {"available": "<= 0", "eta_within_days": 45},
        "then": {"status": "backorder", "eta": "supply"},
    },
    {"name": "no reliable timeline", "when": {"available": "<= 0"}, "then": {"status": "out_of_stock"}},
]


def incoming_config(tmp_path: Path, **supply):
    return from_mapping(
        {
            "timezone": "Europe/Berlin",
            "supply": {"lead_time_days": {"default": 14}} | supply,
            "stores": [{"name": "shop", "platform": "shopify", "shop": SHOP, "token_env": "SHOP_TOKEN"}],
            "rules": RULES,
        },
        path=tmp_path / "connector.toml",
        base_dir=tmp_path,
    )


async def test_an_eta_from_incoming_stays_put_as_days_pass_and_restarts_when_new_stock_is_seen(tmp_path):
    clock = MovingClock()
    fake = FakeShopify(SHOP, now=clock)
    fake.add_location("Warehouse")
    product = fake.create_product("Kettle", variants=[{"sku": "KTL", "stock": 0, "incoming": 6}])
    variant = product.variant_ids[0]
    config = incoming_config(tmp_path, platform_incoming_reliable=True)
    state = StateStore(":memory:")
    env = {"SHOP_TOKEN": fake.access_token}

    async def eta() -> date | None:
        [run] = await resync(config, state=state, clock=clock, environ=env, transports={"shop": fake.transport()})
        assert run.outcome == "ok", run.error
        return mapping._quiet_date(fake.variant_metafield(variant, "connector.eta"))

    first_seen = FIXED_NOW.date()
    for day in range(6):
        clock.now = FIXED_NOW + timedelta(days=day)
        assert await eta() == first_seen + timedelta(days=14), f"day {day}"

    # Part of it arrives: the rest keeps the date it was first seen with.
    item = fake.inventory_items[fake.variants[variant].inventory_item_id]
    location = next(iter(fake.locations))
    fake.stock(item, location, available=0, incoming=2)
    clock.now = FIXED_NOW + timedelta(days=7)
    assert await eta() == first_seen + timedelta(days=14)

    # Received in full (nothing incoming), then a new transfer seen three days later: dated anew.
    fake.stock(item, location, available=0, incoming=0)
    clock.now = FIXED_NOW + timedelta(days=8)
    assert await eta() is None
    fake.stock(item, location, available=0, incoming=4)
    clock.now = FIXED_NOW + timedelta(days=11)
    assert await eta() == (FIXED_NOW + timedelta(days=11)).date() + timedelta(days=14)
    clock.now = FIXED_NOW + timedelta(days=13)
    assert await eta() == (FIXED_NOW + timedelta(days=11)).date() + timedelta(days=14)


async def test_undated_incoming_is_no_reliable_timeline_unless_the_config_says_so(tmp_path):
    fake, _ = make_fake()
    fake.create_product("Kettle", variants=[{"sku": "KTL", "stock": 0, "incoming": 6}])
    env = {"SHOP_TOKEN": fake.access_token}
    [run] = await resync(
        incoming_config(tmp_path),
        state=StateStore(":memory:"),
        clock=lambda: FIXED_NOW,
        environ=env,
        transports={"shop": fake.transport()},
    )
    [change] = run.changes
    assert change.decision.status is Status.OUT_OF_STOCK and change.decision.rule == "no reliable timeline"


async def test_incoming_in_a_dated_shipment_takes_its_arrival_day_in_the_shops_calendar(tmp_path, caplog):
    from datetime import UTC, datetime

    from stockstatus.adapters.shopify.fake import ALL_SCOPES

    fake = FakeShopify(SHOP, now=lambda: FIXED_NOW, scopes=ALL_SCOPES | {"read_inventory_shipments"})
    fake.iana_timezone = "Europe/Berlin"
    fake.add_location("Warehouse")
    fake.add_location("Showroom", fulfills_online_orders=False)
    product = fake.create_product("Kettle", variants=[{"sku": "KTL", "stock": 0}])
    variant = product.variant_ids[0]
    # 23:30 UTC on 3 December is already 4 December in Berlin.
    fake.ship(variant, 6, arrives_at=datetime(2026, 12, 3, 23, 30, tzinfo=UTC))
    fake.ship(variant, 4, arrives_at=None)  # no date given: stays undated
    fake.ship(variant, 9, arrives_at=datetime(2026, 12, 1, tzinfo=UTC), location="Showroom")  # does not count
    env = {"SHOP_TOKEN": fake.access_token}

    async def pass_(config) -> Decision:
        [run] = await resync(
            config,
            state=StateStore(":memory:"),
            clock=lambda: FIXED_NOW,
            environ=env,
            transports={"shop": fake.transport()},
        )
        assert run.outcome == "ok", run.error
        [change] = run.changes
        return change.decision

    # Shopify's own date counts as a timeline without trusting undated incoming.
    decision = await pass_(incoming_config(tmp_path))
    assert (decision.status, decision.eta) == (Status.BACKORDER, date(2026, 12, 4))

    adapter, _, client = make_adapter(fake, FakeClock())
    async with client:
        [item] = await adapter.pull_items()
    assert item.incoming == 10 and item.incoming_dated == ((date(2026, 12, 4), 6),)

    # Without the scope the shipment's date is not known; `check` says what it costs.
    fake.scopes = fake.scopes - {"read_inventory_shipments"}
    decision = await pass_(incoming_config(tmp_path))
    assert decision.status is Status.OUT_OF_STOCK
    adapter, _, client = make_adapter(fake, FakeClock())
    with caplog.at_level(logging.WARNING):
        async with client:
            await adapter.check()
    assert any("read_inventory_shipments" in r.getMessage() for r in caplog.records)
