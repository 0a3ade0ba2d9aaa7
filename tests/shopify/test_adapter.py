"""The Shopify adapter against the fake Shopify, through httpx (mocked only at the transport)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from datetime import date

import httpx
import pytest
from pydantic import ValidationError

from stockstatus.adapters.shopify import mapping, platform
from stockstatus.adapters.shopify.client import BulkResult, Credentials, rebuild_bulk
from stockstatus.adapters.shopify.fake import generated_catalogue
from stockstatus.adapters.shopify.pagination import Cursors
from stockstatus.adapters.shopify.settings import ShopifySettings
from stockstatus.core.errors import AuthError, FetchError, TransientError
from stockstatus.core.model import Decision, Item, Shown, Status, Update
from stockstatus.core.platform import Adapter

from .helpers import make_adapter, make_fake, settings

TODAY = date(2026, 11, 22)


def decide(item: Item) -> Decision:
    """A small rule set: sold out with a restock date → backorder; sold out → out of stock."""
    if item.available is not None and item.available <= 0:
        if item.restock_date:
            return Decision(Status.BACKORDER, "restock", eta=item.restock_date, message="Ships soon")
        return Decision(Status.OUT_OF_STOCK, "sold out")
    return Decision(Status.IN_STOCK, "default", on_sellout=Status.BACKORDER if item.restock_date else None)


async def apply(adapter) -> list:
    items = await adapter.pull_items()
    updates = []
    for item in items:
        fields = adapter.plan(item, decide(item))
        if fields:
            updates.append(Update(item, decide(item), fields))
    return await adapter.push(updates) if updates else []


# --- settings and entry point ------------------------------------------------------------------


def test_the_entry_point_object_and_settings():
    assert platform.name == "shopify" and platform.settings_model is ShopifySettings
    assert platform.missing_secrets(settings(), {}) == ["token_env: environment variable SHOP_TOKEN is not set"]
    assert settings().graphql_url == "https://test-shop.myshopify.com/admin/api/2026-10/graphql.json"
    assert ShopifySettings(shop="127.0.0.1:8081", token_env="T").base_url == "http://127.0.0.1:8081"
    for wrong in (
        {"shop": "shop.example.com", "token_env": "T"},
        {"shop": "a.myshopify.com"},
        {"shop": "a.myshopify.com", "token_env": "shpat_0123456789abcdef"},
        {"shop": "a.myshopify.com", "token_env": "T", "client_id_env": "I", "client_secret_env": "S"},
        {"shop": "a.myshopify.com", "token_env": "T", "page_size": 251},
    ):
        with pytest.raises(ValidationError):
            ShopifySettings(**wrong)


async def test_create_adapter_satisfies_the_protocol():
    async with httpx.AsyncClient() as client:
        adapter = platform.create_adapter(settings(), client, {"SHOP_TOKEN": "shpat_x"})
        assert isinstance(adapter, Adapter) and "shpat_x" not in repr(adapter)


def test_syncing_a_shop_never_loads_the_simulator():
    script = (
        "import sys, httpx\n"
        "from stockstatus.adapters.shopify import ShopifySettings, platform\n"
        "settings = ShopifySettings(shop='a-shop.myshopify.com', token_env='T')\n"
        "platform.create_adapter(settings, httpx.AsyncClient(), {'T': 'shpat_x'})\n"
        "print(sorted(m for m in sys.modules if m.startswith('stockstatus.adapters.shopify.fake')))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


# --- pull -----------------------------------------------------------------------------------


async def test_pull_reads_variants_stock_at_the_online_locations_and_merchant_metafields():
    fake, clock = make_fake()
    fake.add_location("Pop-up", fulfills_online_orders=False)
    kettle = fake.create_product(
        "Kettle",
        vendor="Fellow",
        product_type="Kettles",
        tags=["hot"],
        metafields={"custom.restock_date": ("date", "2026-12-01")},
        variants=[
            {"sku": "K-BLK", "title": "Black", "stock": {"Warehouse": 0, "Pop-up": 3}, "incoming": 5},
            {
                "sku": "K-WHT",
                "title": "White",
                "stock": 2,
                "metafields": {"custom.restock_date": ("date", "2026-12-09")},
            },
        ],
    )
    fake.create_product(
        "Print", variants=[{"sku": "PRT", "tracked": False}], metafields={"custom.release_date": ("date", "next week")}
    )
    adapter, _, client = make_adapter(fake, clock)
    async with client:
        items = {i.sku: i for i in await adapter.pull_items()}
    black = items["K-BLK"]
    assert black.key == str(kettle.variant_ids[0]) and black.parent_key == str(kettle.id)
    assert (black.available, black.incoming, black.managed) == (0, 5, True)
    assert black.name == "Kettle — Black" and black.vendor == "Fellow" and black.categories == {"Kettles"}
    assert black.tags == {"hot"} and black.restock_date == date(2026, 12, 1)
    assert black.shown == Shown(Status.OUT_OF_STOCK)  # no connector metafield yet: DENY and sold out
    assert items["K-WHT"].restock_date == date(2026, 12, 9)  # the variant's own metafield wins
    assert items["PRT"].available is None and items["PRT"].shown.status is Status.IN_STOCK
    assert items["PRT"].problems and "release_date" in items["PRT"].problems[0]


async def test_configured_locations_by_name_and_unknown_ones_fail_the_pull():
    fake, clock = make_fake()
    fake.add_location("Pop-up", fulfills_online_orders=False)
    fake.create_product("Kettle", variants=[{"sku": "K", "stock": {"Warehouse": 1, "Pop-up": 3}}])
    adapter, _, client = make_adapter(fake, clock, locations=("Warehouse", "Pop-up"))
    async with client:
        [item] = await adapter.pull_items()
        assert item.available == 4
        adapter, _, _ = make_adapter(fake, clock, locations=("Attic",))
        adapter._client = client
        with pytest.raises(FetchError, match="Attic"):
            await adapter.pull_items()


async def test_open_orders_give_unfulfilled_lines_keyed_by_variant():
    fake, clock = make_fake()
    product = fake.create_product("Kettle", variants=[{"sku": "K", "stock": 1}])
    variant = product.variant_ids[0]
    placed = fake.create_order([(variant, 3)])
    adapter, _, client = make_adapter(fake, clock)
    async with client:
        [order] = await adapter.open_orders()
        [item] = await adapter.pull_items()
    assert [(line.item_key, line.sku, line.quantity) for line in order.lines] == [(str(variant), "K", 3)]
    assert (order.order_id, order.number) == (str(placed.id), placed.name)
    assert item.available == -2


async def test_an_order_with_many_lines_is_read_to_the_end():
    fake, clock = make_fake()
    product = fake.create_product("Beans", variants=[{"sku": f"B{n}", "stock": 100} for n in range(45)])
    fake.create_order([(v, 1) for v in product.variant_ids])
    adapter, _, client = make_adapter(fake, clock)
    async with client:
        [order] = await adapter.open_orders()
    assert len(order.lines) == 45


async def test_a_large_pull_on_standard_limits_paces_instead_of_being_throttled():
    fake, clock = make_fake(plan="standard")
    generated_catalogue(fake, 400, today=TODAY)
    adapter, sleeps, client = make_adapter(fake, clock, bulk_threshold=100_000)
    async with client:
        items = await adapter.pull_items()
    assert len(items) == len(fake.variants)
    assert fake.throttled == 0 and sleeps.waits and adapter.paced == len(sleeps.waits)
    pages = [e for e in fake.log if e["operation"] == "Variants"]
    assert max(e["requested"] for e in pages) <= 1000 and len(pages) < len(items) / 40


async def test_a_throttled_answer_waits_the_time_the_bucket_needs_and_retries():
    fake, clock = make_fake()
    fake.create_product("Kettle", variants=[{"sku": "K"}])
    adapter, sleeps, client = make_adapter(fake, clock)
    async with client:
        await adapter.check()  # learns the bucket
        fake.bucket.take(fake.bucket.available - 5)  # another app of the same shop spent it meanwhile
        adapter._bucket = None  # ... so the adapter's view is stale
        [item] = await adapter.pull_items()
    assert item.sku == "K" and fake.throttled >= 1  # retried through the HTTP policy, never surfaced
    assert sleeps.waits and all(w < 30 for w in sleeps.waits)


async def test_a_repeated_cursor_stops_the_pull():
    cursors = Cursors("variants")
    cursors.accept({"hasNextPage": True, "endCursor": "abc"})
    with pytest.raises(FetchError, match="repeats a cursor"):
        cursors.accept({"hasNextPage": True, "endCursor": "abc"})
    with pytest.raises(FetchError, match="no endCursor"):
        Cursors("x").accept({"hasNextPage": True, "endCursor": None})


# --- bulk -------------------------------------------------------------------------------------


async def test_above_the_threshold_the_pull_is_a_bulk_operation_with_the_same_items():
    fake, clock = make_fake()
    generated_catalogue(fake, 30, today=TODAY)
    fake.create_order([(next(iter(fake.variants)), 2)])
    paged, _, client = make_adapter(fake, clock, bulk_threshold=10_000)
    bulk, sleeps, _ = make_adapter(fake, clock, bulk_threshold=5)
    bulk._client = client
    async with client:
        by_pages = await paged.pull_items()
        by_bulk = await bulk.pull_items()
    assert by_bulk == by_pages and len(by_bulk) == len(fake.variants)
    assert any(e["operation"] == "RunBulkQuery" for e in fake.log) and sleeps.waits == [2.0, 2.0]


@pytest.mark.parametrize("outcome", [("FAILED", "INTERNAL_SERVER_ERROR"), ("CANCELED", None)])
async def test_a_failed_bulk_operation_is_a_failed_pull(outcome):
    fake, clock = make_fake()
    generated_catalogue(fake, 5, today=TODAY)
    fake.bulk_outcome = outcome
    adapter, _, client = make_adapter(fake, clock, bulk_threshold=0)
    async with client:
        with pytest.raises(FetchError, match=outcome[0]):
            await adapter.pull_items()


def test_bulk_lines_whose_parent_is_unknown_are_refused():
    line = '{"id":"gid://shopify/ProductVariant/1","inventoryItem":{"id":"gid://shopify/InventoryItem/2"}}'
    level = '{"location":{"id":"gid://shopify/Location/3"},"__parentId":"gid://shopify/InventoryItem/2"}'
    [variant] = rebuild_bulk([line, level], what="t")
    assert len(variant["inventoryItem"]["inventoryLevels"]["nodes"]) == 1
    with pytest.raises(FetchError):
        rebuild_bulk([line, level.replace("InventoryItem/2", "InventoryItem/9")], what="t")


def test_each_bulk_variant_is_handed_on_whole_as_soon_as_the_next_one_starts():
    variant = '{{"id":"gid://shopify/ProductVariant/{n}","inventoryItem":{{"id":"gid://shopify/InventoryItem/{n}0"}}}}'
    level = '{"location":{"id":"gid://shopify/Location/3"},"__parentId":"gid://shopify/InventoryItem/10"}'
    handed: list[dict] = []
    result = BulkResult("t", handed.append)
    counts = []
    for line in (variant.format(n=1), level, variant.format(n=2), variant.format(n=3)):
        result.add(line)
        counts.append(len(handed))
    assert counts == [0, 0, 1, 2]  # one variant held at a time, never the file
    assert len(handed[0]["inventoryItem"]["inventoryLevels"]["nodes"]) == 1
    result.close()
    assert [v["id"][-1] for v in handed] == ["1", "2", "3"] and len(result) == 3 and result.objects == 4
    with pytest.raises(FetchError, match="line 3 belongs to no variant just before it"):
        rebuild_bulk([variant.format(n=1), variant.format(n=2), level], what="t")


async def test_a_bulk_result_missing_its_last_line_fails_the_pull():
    fake, clock = make_fake()
    generated_catalogue(fake, 6, today=TODAY)

    def last_line_dropped(request: httpx.Request) -> httpx.Response:
        response = fake.handle(request)
        if "/bulk-results/" not in request.url.path:
            return response
        lines = response.content.splitlines(keepends=True)
        return httpx.Response(200, content=b"".join(lines[:-1]), headers={"Content-Type": "application/jsonl"})

    adapter, _, client = make_adapter(fake, clock, bulk_threshold=0)
    adapter._client = client = httpx.AsyncClient(transport=httpx.MockTransport(last_line_dropped))
    async with client:
        with pytest.raises(TransientError, match="cut off"):
            await adapter.pull_items()


async def test_a_pulled_variant_keeps_what_plan_push_and_restore_read_by_the_same_names():
    fake, clock = make_fake()
    generated_catalogue(fake, 12, today=TODAY)
    tagged = {"tags": {"backorder": "backorder"}}
    paged, _, client = make_adapter(fake, clock, bulk_threshold=10_000, **tagged)
    bulk, _, _ = make_adapter(fake, clock, bulk_threshold=0, **tagged)
    bulk._client = client
    async with client:
        by_pages = {i.key: i for i in await paged.pull_items()}
        by_bulk = {i.key: i for i in await bulk.pull_items()}
    assert by_pages.keys() == by_bulk.keys()
    for key, item in by_pages.items():
        assert mapping.variant_owner(item) == f"gid://shopify/ProductVariant/{key}"
        product = fake.variant(int(key)).product_id
        assert mapping.product_owner(item) == mapping.product_owner(by_bulk[key]) == f"gid://shopify/Product/{product}"
        fields = dict(item.platform)
        assert fields["inventory_policy"] in ("CONTINUE", "DENY") and isinstance(fields["tracked"], bool)
        assert set(fields["metafields"]) == set(mapping.OWN_METAFIELDS)
        group = fields.pop("tag_group")
        other = dict(by_bulk[key].platform)
        assert other.pop("tag_group").variants == group.variants  # every variant of its product counted
        assert group.variants == sum(i.parent_key == item.parent_key for i in by_pages.values())
        assert other == fields
        assert item.platform.get("no such field") is None
    with pytest.raises(KeyError):
        item.platform["no such field"]


# --- plan -------------------------------------------------------------------------------------


def item(*, tracked=True, policy="DENY", available=0, held=None, tags=frozenset(), group=None) -> Item:
    return Item(
        key="11",
        sku="K",
        name="Kettle",
        managed=tracked,
        available=available if tracked else None,
        tags=tags,
        platform={
            "variant_id": "gid://shopify/ProductVariant/11",
            "product_id": "gid://shopify/Product/10",
            "tracked": tracked,
            "inventory_policy": policy,
            "metafields": held or {},
            "tag_group": group,
        },
    )


ETA = date(2026, 12, 3)


@pytest.mark.parametrize(
    ("decision", "policy", "expected"),
    [
        (Decision(Status.BACKORDER, "r", eta=ETA), "DENY", "CONTINUE"),
        (Decision(Status.PRE_ORDER, "r", eta=ETA), "DENY", "CONTINUE"),
        (Decision(Status.OUT_OF_STOCK, "r"), "CONTINUE", "DENY"),
        (Decision(Status.IN_STOCK, "r"), "CONTINUE", "DENY"),
        (Decision(Status.IN_STOCK, "r", on_sellout=Status.BACKORDER), "DENY", "CONTINUE"),  # pre-armed
        (Decision(Status.IN_STOCK, "r", on_sellout=Status.OUT_OF_STOCK), "CONTINUE", "DENY"),
        (Decision(Status.BACKORDER, "r", eta=ETA), "CONTINUE", None),  # already so: not written
    ],
)
def test_policy_table(decision, policy, expected):
    fields = platform.settings_model  # noqa: F841 - keeps the import honest
    planned = mapping.plan(item(policy=policy), decision, settings())
    assert planned.get("inventoryPolicy") == expected


def test_equal_plans_are_one_read_only_plan_that_stores_as_json():
    plans = mapping.Plans(limit=2)
    decision = Decision(Status.BACKORDER, "r", eta=ETA, message="Soon")
    first, second = (plans(mapping.plan(item(), decision, settings())) for _ in range(2))
    assert first is second and first == mapping.plan(item(), decision, settings())
    assert json.loads(json.dumps(first))["metafield:connector.eta"] == "2026-12-03"
    with pytest.raises(TypeError, match="read-only"):
        first["inventoryPolicy"] = "DENY"
    assert copy.deepcopy(first) == first
    other = plans(mapping.plan(item(), Decision(Status.OUT_OF_STOCK, "r"), settings()))
    assert other != first and plans({"a": "1"}) == {"a": "1"}  # past the limit: started afresh, still right


def test_metafields_are_written_when_they_differ_and_cleared_when_the_decision_has_none():
    keys = "metafield:connector."
    planned = mapping.plan(item(), Decision(Status.BACKORDER, "r", eta=ETA, message="Soon"), settings())
    assert planned == {
        "inventoryPolicy": "CONTINUE",
        keys + "status": "backorder",
        keys + "eta": "2026-12-03",
        keys + "message": "Soon",
    }
    held = {"status": "backorder", "eta": "2026-12-03", "message": "Soon"}
    assert (
        mapping.plan(
            item(policy="CONTINUE", held=held), Decision(Status.BACKORDER, "r", eta=ETA, message="Soon"), settings()
        )
        == {}
    )
    cleared = mapping.plan(item(held=held), Decision(Status.OUT_OF_STOCK, "r"), settings())
    assert cleared == {keys + "status": "out_of_stock", keys + "eta": "", keys + "message": ""}


def test_an_untracked_variant_gets_metafields_only():
    planned = mapping.plan(item(tracked=False), Decision(Status.PRE_ORDER, "r", eta=ETA), settings())
    assert "inventoryPolicy" not in planned and planned["metafield:connector.status"] == "pre_order"


def test_status_tags_are_added_and_the_last_planned_variant_removes_stale_ones():
    tagged = settings(tags={"backorder": "backorder", "pre_order": "pre-order"})
    group = mapping.TagGroup("gid://shopify/Product/10", frozenset({"pre-order", "hot"}), variants=2)
    first = mapping.plan(item(group=group), Decision(Status.BACKORDER, "r", eta=ETA), tagged)
    assert first["tags:add"] == "backorder" and "tags:remove" not in first
    second = mapping.plan(
        item(group=group).__class__(
            **{**item(group=group).__dict__}
            if False
            else {
                "key": "12",
                "sku": "K2",
                "name": "K2",
                "managed": True,
                "available": 3,
                "platform": {
                    "tracked": True,
                    "inventory_policy": "DENY",
                    "metafields": {"status": "in_stock"},
                    "tag_group": group,
                    "product_id": "gid://shopify/Product/10",
                },
            }
        ),
        Decision(Status.IN_STOCK, "r"),
        tagged,
    )
    assert second == {"tags:remove": "pre-order"}


def test_the_shown_status_falls_back_to_policy_and_stock():
    assert mapping.shown(None, None, None, tracked=True, policy="CONTINUE", available=0).status is Status.BACKORDER
    assert mapping.shown(None, None, None, tracked=True, policy="DENY", available=-1).status is Status.OUT_OF_STOCK
    assert mapping.shown("pre_order", "2026-12-01", "x", tracked=True, policy="CONTINUE", available=0) == Shown(
        Status.PRE_ORDER, date(2026, 12, 1), "x"
    )


# --- push -------------------------------------------------------------------------------------


async def test_push_writes_read_back_and_a_second_plan_is_empty():
    fake, clock = make_fake()
    kettle = fake.create_product(
        "Kettle",
        tags=["pre-order"],
        variants=[{"sku": "K", "stock": 0, "metafields": {"custom.restock_date": ("date", "2026-12-01")}}],
    )
    mug = fake.create_product("Mug", variants=[{"sku": f"M{n}", "stock": n} for n in range(3)])
    adapter, _, client = make_adapter(fake, clock, tags={"backorder": "backorder", "pre_order": "pre-order"})
    async with client:
        results = await apply(adapter)
        assert results and all(r.ok for r in results)
        variant = kettle.variant_ids[0]
        assert fake.variant(variant).inventory_policy == "CONTINUE"
        assert fake.variant_metafield(variant, "connector.eta") == "2026-12-01"
        assert fake.metafields[(f"gid://shopify/ProductVariant/{variant}", "connector", "eta")].type == "date"
        assert set(fake.products[kettle.id].tags) == {"backorder"}
        assert fake.variant_metafield(mug.variant_ids[0], "connector.status") == "out_of_stock"
        writes = sum(1 for e in fake.log if e["operation"] == "PushChanges")
        assert writes == 1  # 4 items, policies + 12 metafields + tags: one request

        again = await adapter.pull_items()
        assert {i.sku: i.shown.status for i in again}["K"] is Status.BACKORDER
        assert all(adapter.plan(i, decide(i)) == {} for i in again)

        fake.variant(variant).inventory_policy = "DENY"
        fake.inventory_items[fake.variant(variant).inventory_item_id].levels[fake.location_named("Warehouse").id][
            "available"
        ] = 5
        results = await apply(adapter)  # back in stock: pre-armed policy stays, ETA and message deleted
        assert all(r.ok for r in results)
        assert fake.variant_metafield(variant, "connector.eta") is None
        assert fake.variant(variant).inventory_policy == "CONTINUE"


async def test_user_errors_fail_their_own_item_only_and_atomic_metafields_are_resent():
    fake, clock = make_fake()
    fake.create_product("Kettle", variants=[{"sku": "K", "stock": 0}, {"sku": "L", "stock": 0}])
    adapter, _, client = make_adapter(fake, clock)
    async with client:
        items = await adapter.pull_items()
        updates = [Update(i, decide(i), adapter.plan(i, decide(i))) for i in items]
        gone = items[0].key
        fake.variants.pop(int(gone))  # deleted by the merchant between read and write
        results = {r.item_key: r for r in await adapter.push(updates)}
    assert not results[gone].ok and "does not exist" in results[gone].error
    assert results[items[1].key].ok
    assert fake.variant_metafield(int(items[1].key), "connector.status") == "out_of_stock"


async def test_many_updates_share_requests_and_respect_the_25_metafield_limit():
    fake, clock = make_fake(plan="standard")
    generated_catalogue(fake, 120, today=TODAY)
    adapter, _, client = make_adapter(fake, clock)
    async with client:
        results = await apply(adapter)
        assert results and all(r.ok for r in results)
        assert fake.throttled == 0
        requests = sum(1 for e in fake.log if e["operation"] == "PushChanges")
        assert requests < len(results) / 5
        assert all(adapter.plan(i, decide(i)) == {} for i in await adapter.pull_items())


# --- auth -------------------------------------------------------------------------------------


async def test_a_refused_token_says_what_to_fix_without_the_token():
    fake, clock = make_fake()
    adapter, _, client = make_adapter(fake, clock, credentials=Credentials(token="shpat_wrong_0000"))
    async with client:
        with pytest.raises(AuthError) as refused:
            await adapter.check()
    assert "read_products" in str(refused.value) and "shpat_wrong" not in str(refused.value)


async def test_a_missing_scope_names_it():
    fake, clock = make_fake(scopes={"read_products", "read_locations", "read_inventory"})
    adapter, _, client = make_adapter(fake, clock)
    async with client:
        with pytest.raises(AuthError, match="read_orders"):
            await adapter.open_orders()


async def test_client_credentials_are_exchanged_and_renewed_before_expiry():
    fake, clock = make_fake(token_lifetime=1000)
    fake.create_product("Kettle", variants=[{"sku": "K"}])
    credentials = Credentials(client_id=fake.client_id, client_secret=fake.client_secret)
    adapter, _, client = make_adapter(fake, clock, credentials=credentials)
    async with client:
        await adapter.check()
        assert len(fake.issued_tokens) == 1
        clock.advance(850)  # still valid, not yet in the last tenth of its life
        await adapter.check()
        assert len(fake.issued_tokens) == 1
        clock.advance(60)  # 90 s before expiry: renewed first, never refused
        await adapter.check()
        assert len(fake.issued_tokens) == 2
    assert "secret" not in repr(credentials).replace("<hidden>", "")

    wrong = Credentials(client_id=fake.client_id, client_secret="nope")
    adapter, _, client = make_adapter(fake, clock, credentials=wrong)
    async with client:
        with pytest.raises(AuthError, match="client ID/secret"):
            await adapter.check()


async def test_http_429_with_retry_after_is_waited_and_retried():
    fake, clock = make_fake()
    fake.create_product("Kettle", variants=[{"sku": "K"}])
    fake.fail_next(
        429,
        headers={"Retry-After": "2"},
        body={"errors": "Exceeded 2 calls per second for api client."},
        path_contains="graphql.json",
    )
    adapter, sleeps, client = make_adapter(fake, clock)
    async with client:
        await adapter.check()
    assert sleeps.waits and sleeps.waits[0] >= 2


@pytest.mark.parametrize(
    "pasted",
    [
        "https://x-shop.myshopify.com/admin",
        "https://x-shop.myshopify.com/admin/products/123",
        "x-shop.myshopify.com/",
        "https://admin.shopify.com/store/x-shop",
        "https://admin.shopify.com/store/x-shop/products?selectedView=all",
    ],
)
def test_a_pasted_admin_address_becomes_the_shop_domain(pasted):
    assert ShopifySettings(shop=pasted, token_env="T").shop == "x-shop.myshopify.com"


def test_a_shop_that_is_not_a_myshopify_domain_is_refused_saying_where_to_find_it():
    with pytest.raises(ValidationError, match="Settings → Domains"):
        ShopifySettings(shop="https://shop.example.com/admin", token_env="T")
