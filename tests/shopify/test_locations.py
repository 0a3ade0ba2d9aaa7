"""Shops with many locations: every read stays within Shopify's single-query cost limit."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from stockstatus.adapters.shopify.client import Credentials, ShopifyAdapter
from stockstatus.adapters.shopify.fake import FakeClock, FakeShopify

from .helpers import FAST, SHOP, Sleeps, settings

MAX_COST = 1000


class Recorder:
    """A transport in front of the fake that keeps each GraphQL request's operation and variables."""

    def __init__(self, fake: FakeShopify) -> None:
        self.fake = fake
        self.sent: list[tuple[str, dict]] = []
        self.answers: dict[str, list[dict]] = {}
        """operation → bodies to answer its next requests with instead of the fake."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("graphql.json"):
            body = json.loads(request.content)
            self.sent.append((body.get("operationName"), body.get("variables") or {}))
            if self.answers.get(body.get("operationName")):
                return httpx.Response(200, json=self.answers[body["operationName"]].pop(0))
        return self.fake.handle(request)


def shop_with(locations: int, variants: int = 12) -> tuple[FakeShopify, FakeClock, dict[int, int]]:
    """A fake with `locations` active locations (all fulfil online orders) and variants stocked at
    three of them; returns the expected available per variant (summed over all of them)."""
    clock = FakeClock()
    now = datetime(2026, 11, 22, 9, tzinfo=UTC)
    fake = FakeShopify(SHOP, clock=clock, now=lambda: now)
    names = [f"Store {n:03d}" for n in range(locations)]
    for name in names:
        fake.add_location(name)
    expected: dict[int, int] = {}
    stocked = names[:: max(1, locations // 3)][:3]
    for n in range(variants):
        stock = {name: n + i for i, name in enumerate(stocked)}
        product = fake.create_product(f"Lamp {n}", variants=[{"sku": f"L-{n}", "stock": stock}])
        expected[product.variant_ids[0]] = sum(stock.values())
    return fake, clock, expected


def adapter_for(fake: FakeShopify, clock: FakeClock, recorder: Recorder | None = None, **fields) -> ShopifyAdapter:
    transport = httpx.MockTransport(recorder or fake.handle)
    # These shops are small: the estimate would read them with bulk operations, and the pages'
    # cost at many locations is what is checked here.
    fields.setdefault("bulk_threshold", 2000)
    return ShopifyAdapter(
        settings(**fields),
        httpx.AsyncClient(transport=transport),
        Credentials(token=fake.access_token),
        policy=FAST,
        sleep=Sleeps(clock),
        clock=clock,
    )


def refused(fake: FakeShopify) -> list:
    return [e for e in fake.log if "MAX_COST_EXCEEDED" in (e.get("errors") or [])]


@pytest.mark.parametrize("locations", [1, 30, 100, 250])
async def test_full_and_incremental_pulls_stay_within_the_cost_limit(locations):
    fake, clock, expected = shop_with(locations)
    adapter = adapter_for(fake, clock)
    since = fake.now() - timedelta(minutes=5)

    items = await adapter.pull_items()

    assert {int(i.key): i.available for i in items} == expected
    assert refused(fake) == []
    assert max(e["requested"] for e in fake.log) <= MAX_COST
    # Incremental: a sale at one location is found, at the same cost ceiling.
    first = next(iter(expected))
    fake.set_available(first, 40, location=f"Store {locations - 1:03d}")
    changed = await adapter.pull_changed(since)
    assert changed is not None and first in {int(i.key) for i in changed}
    assert refused(fake) == []
    assert max(e["requested"] for e in fake.log) <= MAX_COST


async def test_only_the_counted_locations_are_asked_for():
    fake, clock, expected = shop_with(100, variants=30)
    recorder = Recorder(fake)
    adapter = adapter_for(fake, clock, recorder, locations=["Store 000"])

    items = await adapter.pull_items()

    variants = [entry for entry in fake.log if entry["operation"] == "Variants"]
    # One level per variant, not a hundred: a first page of ten, then the other twenty in one.
    assert len(variants) == 2 and variants[0]["requested"] <= 2 + 10 * 20
    assert [variables["first"] for name, variables in recorder.sent if name == "Variants"][1] >= 20
    assert {int(i.key): i.available for i in items} == {
        v: fake.inventory_items[fake.variant(v).inventory_item_id].levels[fake.location_named("Store 000").id][
            "available"
        ]
        for v in expected
    }


async def test_a_page_refused_as_too_costly_is_asked_again_smaller():
    fake, clock, expected = shop_with(3, variants=15)
    recorder = Recorder(fake)
    adapter = adapter_for(fake, clock, recorder)
    too_costly = {
        "errors": [
            {
                "message": "Query cost is 1200, which exceeds the single query max cost limit (1000).",
                "extensions": {"code": "MAX_COST_EXCEEDED", "cost": 1200, "maxCost": 1000},
            }
        ],
        "extensions": {"cost": {"requestedQueryCost": 1200, "actualQueryCost": None}},
    }
    recorder.answers["Variants"] = [too_costly]

    items = await adapter.pull_items()

    assert {int(i.key): i.available for i in items} == expected
    asked = [variables["first"] for name, variables in recorder.sent if name == "Variants"]
    assert asked[0] > asked[1]  # the refused page, then a smaller one, then the rest


# --- API versions ------------------------------------------------------------------------------


def test_any_year_month_version_is_accepted_and_anything_else_is_refused():
    assert settings(api_version="2025-04").graphql_url.endswith("/admin/api/2025-04/graphql.json")
    for wrong in ("2026-13", "26-10", "latest", "2026-7"):
        with pytest.raises(ValueError, match="YYYY-MM"):
            settings(api_version=wrong)


async def test_a_version_shopify_no_longer_supports_is_logged_once_with_the_version_to_set(caplog):
    fake, clock, _ = shop_with(2, variants=3)
    fake.versions = ("2026-10",)
    adapter = adapter_for(fake, clock, api_version="2026-07")

    with caplog.at_level("WARNING"):
        await adapter.pull_items()
        await adapter.open_orders()

    warnings = [r.getMessage() for r in caplog.records if "Admin API version" in r.getMessage()]
    assert len(warnings) == 1
    assert 'set api_version = "2026-10"' in warnings[0] and "2026-07" in warnings[0]


async def test_a_version_older_than_any_supported_is_answered_by_the_oldest_supported():
    fake, _, _ = shop_with(1, variants=1)
    response = fake.handle(
        httpx.Request(
            "POST",
            f"https://{SHOP}/admin/api/2024-01/graphql.json",
            headers={"X-Shopify-Access-Token": fake.access_token},
            json={"query": "query Shop { shop { id } }", "operationName": "Shop"},
        )
    )
    assert response.status_code == 200
    assert response.headers["X-Shopify-API-Version"] == fake.versions[0]
    future = fake.handle(
        httpx.Request(
            "POST",
            f"https://{SHOP}/admin/api/2031-01/graphql.json",
            headers={"X-Shopify-Access-Token": fake.access_token},
            json={"query": "query Shop { shop { id } }"},
        )
    )
    assert future.status_code == 404


def test_the_fake_names_a_deprecated_field_in_its_answer_headers():
    fake, _, expected = shop_with(1, variants=1)
    item = f"gid://shopify/InventoryItem/{fake.variant(next(iter(expected))).inventory_item_id}"

    def ask(selection: str) -> httpx.Response:
        query = f'query Item {{ inventoryItem: node(id: "{item}") {{ ... on InventoryItem {{ {selection} }} }} }}'
        return fake.handle(
            httpx.Request(
                "POST",
                f"https://{SHOP}/admin/api/2026-10/graphql.json",
                headers={"X-Shopify-Access-Token": fake.access_token},
                json={"query": query},
            )
        )

    assert "X-Shopify-API-Deprecated-Reason" in ask("variant { id }").headers
    assert "X-Shopify-API-Deprecated-Reason" not in ask("variants(first: 1) { nodes { id } }").headers


async def test_a_deprecation_header_is_logged_once_per_pass(caplog):
    fake, clock, _ = shop_with(2, variants=3)

    def deprecated(request: httpx.Request) -> httpx.Response:
        response = fake.handle(request)
        response.headers["X-Shopify-API-Deprecated-Reason"] = "https://shopify.dev/changelog/some-field"
        return response

    adapter = ShopifyAdapter(
        settings(),
        httpx.AsyncClient(transport=httpx.MockTransport(deprecated)),
        Credentials(token=fake.access_token),
        policy=FAST,
        sleep=Sleeps(clock),
        clock=clock,
    )
    with caplog.at_level("WARNING"):
        await adapter.pull_items()

    warnings = [r.getMessage() for r in caplog.records if "deprecated" in r.getMessage()]
    assert len(warnings) == 1
    assert "https://shopify.dev/changelog/some-field" in warnings[0] and "upgrade the connector" in warnings[0]


@pytest.mark.parametrize("locations", [1, 30])
def test_the_fake_charges_each_location_asked_for(locations):
    fake, _, _ = shop_with(30, variants=1)
    ids = [f"gid://shopify/Location/{loc.id}" for loc in list(fake.locations.values())[:locations]]
    aliased = " ".join(
        f'l{n}: inventoryLevel(locationId: "{i}") {{ quantities(names: ["available"]) {{ quantity }} }}'
        for n, i in enumerate(ids)
    )

    def requested(selection: str) -> int:
        query = f"query Stock {{ productVariants(first: 10) {{ nodes {{ inventoryItem {{ {selection} }} }} }} }}"
        response = fake.handle(
            httpx.Request(
                "POST",
                f"https://{SHOP}/admin/api/2026-10/graphql.json",
                headers={"X-Shopify-Access-Token": fake.access_token},
                json={"query": query},
            )
        )
        return response.json()["extensions"]["cost"]["requestedQueryCost"]

    # Per variant: the variant and its item (2), then per level the level and its quantities (2).
    assert requested(aliased) == 2 + 10 * (2 + 2 * locations)
    connection = (
        f'inventoryLevels(first: {locations}) {{ nodes {{ quantities(names: ["available"]) {{ quantity }} }} }}'
    )
    assert requested(connection) == 2 + 10 * (2 + 2 + 2 * locations)
