"""The fake Shopify behaves like the Admin API: cost, bucket, errors, auth, userErrors, bulk."""

from __future__ import annotations

import json

import httpx
import pytest
from graphql import parse

from stockstatus.adapters.shopify.fake import INVALID_TOKEN, PLANS, FakeClock, FakeShopify, cost, gid

from .helpers import make_fake

URL = "https://test-shop.myshopify.com/admin/api/2026-10/graphql.json"


def ask(fake: FakeShopify, query: str, variables: dict | None = None, token: str | None = None) -> httpx.Response:
    with httpx.Client(transport=fake.transport()) as client:
        return client.post(
            URL,
            json={"query": query, "variables": variables or {}},
            headers={"X-Shopify-Access-Token": token or fake.access_token},
        )


def requested(fake: FakeShopify, query: str, variables: dict | None = None) -> int:
    document = parse(query)
    return cost.requested_cost(fake.schema, document.definitions[0], {}, variables or {})


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("{ shop { name } }", 1),  # an object 1, scalars 0
        ("{ productVariants(first: 10) { nodes { id sku } } }", 2 + 10 * 1),  # connection 2 + first × node
        (
            "{ productVariants(first: 10) { edges { node { id product { title } } } pageInfo { hasNextPage } } }",
            2 + 10 * (1 + 1),
        ),
        (
            "{ productVariants(first: 5) { nodes { inventoryItem { inventoryLevels(first: 3) { nodes { id } } } } } }",
            2 + 5 * (1 + 1 + 2 + 3 * 1),
        ),  # nested connections multiply
        (
            (
                'mutation { tagsAdd(id: "x", tags: []) { userErrors { message } } '
                'tagsRemove(id: "x", tags: []) { userErrors { message } } }'
            ),
            20,
        ),  # mutations 10 each
        ("query($on: Boolean!) { shop { name } a: locations(first: 50) @include(if: $on) { nodes { id } } }", 1),
    ],
)
def test_requested_cost_follows_shopifys_calculation(query, expected):
    fake = FakeShopify()
    assert requested(fake, query, {"on": False}) == expected


def test_every_answer_carries_the_cost_and_the_actual_cost_counts_what_came_back():
    fake, _ = make_fake()
    fake.create_product("Mug", variants=[{"sku": "MUG"}])
    body = ask(fake, "{ productVariants(first: 50) { nodes { id } } }").json()
    costs = body["extensions"]["cost"]
    assert costs["requestedQueryCost"] == 52 and costs["actualQueryCost"] == 3
    assert costs["throttleStatus"] == {"maximumAvailable": 2000.0, "currentlyAvailable": 1997, "restoreRate": 100.0}


def test_plans_have_shopifys_limits():
    assert {name: (p.bucket, p.restore_rate) for name, p in PLANS.items()} == {
        "standard": (2000, 100),
        "advanced": (4000, 200),
        "plus": (20000, 1000),
    }


def test_a_query_above_1000_points_is_refused_like_shopify():
    fake, _ = make_fake()
    body = ask(
        fake,
        '{ productVariants(first: 250) { nodes { product { id } inventoryItem { id } a: metafield(key: "ab") { id } b: metafield(key: "cd") { id } } } }',
    ).json()  # 2 + 250 × 5
    [error] = body["errors"]
    assert (
        error["extensions"]["code"] == "MAX_COST_EXCEEDED" and "single query max cost limit (1000)" in error["message"]
    )
    assert "throttleStatus" in body["extensions"]["cost"]


def test_an_empty_bucket_answers_throttled_and_refills_with_the_clock():
    fake, clock = make_fake()
    fake.create_product("Beans", variants=[{"sku": f"B{n}"} for n in range(199)])  # actual cost = requested
    query = "{ productVariants(first: 199) { nodes { id product { id } inventoryItem { id } } } }"  # 2 + 199×3 = 599
    answers = [ask(fake, query).json() for _ in range(4)]
    assert [("errors" in a) for a in answers] == [False, False, False, True]
    throttled = answers[-1]
    assert throttled["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert throttled["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] < 599
    clock.advance(6)  # 100 points/s
    assert "errors" not in ask(fake, query).json()


def test_connections_need_first_or_last_at_most_250():
    fake, _ = make_fake()
    assert "one of first or last" in ask(fake, "{ productVariants { nodes { id } } }").json()["errors"][0]["message"]
    assert "250" in ask(fake, "{ locations(first: 251) { nodes { id } } }").json()["errors"][0]["message"]


def test_a_wrong_token_gets_shopifys_401():
    fake, _ = make_fake()
    answer = ask(fake, "{ shop { name } }", token="shpat_wrong")
    assert answer.status_code == 401 and answer.json() == {"errors": INVALID_TOKEN}


def test_a_missing_scope_is_access_denied_naming_it():
    fake, _ = make_fake(scopes={"read_products"})
    error = ask(fake, "{ orders(first: 1) { nodes { id } } }").json()["errors"][0]
    assert error["extensions"]["code"] == "ACCESS_DENIED" and "read_orders" in error["message"]


def test_client_credentials_grant_issues_expiring_tokens():
    clock = FakeClock()
    fake = FakeShopify("test-shop.myshopify.com", clock=clock, token_lifetime=100)
    with httpx.Client(transport=fake.transport()) as client:
        refused = client.post(
            "https://test-shop.myshopify.com/admin/oauth/access_token",
            data={"grant_type": "client_credentials", "client_id": fake.client_id, "client_secret": "x"},
        )
        granted = client.post(
            "https://test-shop.myshopify.com/admin/oauth/access_token",
            data={"grant_type": "client_credentials", "client_id": fake.client_id, "client_secret": fake.client_secret},
        )
    assert refused.status_code == 401
    body = granted.json()
    assert body["expires_in"] == 100 and body["access_token"].startswith("shpat_") and "read_products" in body["scope"]
    assert ask(fake, "{ shop { name } }", token=body["access_token"]).status_code == 200
    clock.advance(101)
    assert ask(fake, "{ shop { name } }", token=body["access_token"]).status_code == 401


def test_orders_take_stock_at_the_first_location_fulfilling_online_orders():
    fake, _ = make_fake()
    fake.add_location("Pop-up", fulfills_online_orders=False)
    product = fake.create_product("Kettle", variants=[{"sku": "K", "stock": {"Warehouse": 1, "Pop-up": 4}}])
    variant = product.variant_ids[0]
    fake.create_order([(variant, 3)])
    item = fake.inventory_items[fake.variant(variant).inventory_item_id]
    assert item.levels[fake.location_named("Warehouse").id]["available"] == -2
    assert item.levels[fake.location_named("Pop-up").id]["available"] == 4


PUSH = """mutation($p: ID!, $v: [ProductVariantsBulkInput!]!, $m: [MetafieldsSetInput!]!) {
  u: productVariantsBulkUpdate(productId: $p, variants: $v, allowPartialUpdates: true) { userErrors { field message code } }
  s: metafieldsSet(metafields: $m) { metafields { id } userErrors { field message code elementIndex } }
}"""


def test_user_errors_name_the_input_that_is_wrong_and_metafields_set_is_atomic():
    fake, _ = make_fake()
    product = fake.create_product("Kettle", variants=[{"sku": "K"}])
    variant = product.variant_ids[0]
    owner = gid("ProductVariant", variant)
    body = ask(
        fake,
        PUSH,
        {
            "p": gid("Product", product.id),
            "v": [
                {"id": gid("ProductVariant", 999), "inventoryPolicy": "CONTINUE"},
                {"id": owner, "inventoryPolicy": "CONTINUE"},
            ],
            "m": [
                {
                    "ownerId": owner,
                    "namespace": "connector",
                    "key": "status",
                    "type": "single_line_text_field",
                    "value": "backorder",
                },
                {"ownerId": owner, "namespace": "connector", "key": "eta", "type": "date", "value": "2026-02-30"},
            ],
        },
    ).json()["data"]
    assert body["u"]["userErrors"] == [
        {
            "field": ["variants", "0", "id"],
            "message": "Product variant does not exist",
            "code": "PRODUCT_VARIANT_DOES_NOT_EXIST",
        }
    ]
    assert fake.variant(variant).inventory_policy == "CONTINUE"  # partial updates allowed: the valid one is saved
    [error] = body["s"]["userErrors"]
    assert error["field"] == ["metafields", "1", "value"] and error["code"] == "INVALID_VALUE"
    assert fake.variant_metafield(variant, "connector.status") is None  # atomic: nothing saved

    many = [
        {"ownerId": owner, "namespace": "connector", "key": f"k{i:02d}", "type": "single_line_text_field", "value": "x"}
        for i in range(26)
    ]
    body = ask(fake, PUSH, {"p": gid("Product", product.id), "v": [], "m": many}).json()["data"]
    assert body["s"]["userErrors"][0]["code"] == "LESS_THAN_OR_EQUAL_TO"


def test_a_bulk_operation_serves_jsonl_with_parent_ids_on_the_same_host():
    fake, _ = make_fake()
    fake.create_product("Kettle", variants=[{"sku": "K1", "stock": 2}, {"sku": "K2", "stock": 0}])
    query = "{ productVariants { edges { node { id sku inventoryItem { id inventoryLevels { edges { node { location { id } } } } } } } } }"
    started = ask(
        fake,
        "mutation($q: String!) { bulkOperationRunQuery(query: $q) { bulkOperation { id status } userErrors { message } } }",
        {"q": query},
    ).json()["data"]["bulkOperationRunQuery"]
    operation = started["bulkOperation"]["id"]
    poll = "query($id: ID!) { bulkOperation(id: $id) { status url } }"
    assert ask(fake, poll, {"id": operation}).json()["data"]["bulkOperation"]["status"] == "RUNNING"
    done = ask(fake, poll, {"id": operation}).json()["data"]["bulkOperation"]
    assert done["status"] == "COMPLETED" and done["url"].startswith("https://test-shop.myshopify.com/")
    with httpx.Client(transport=fake.transport()) as client:
        lines = [json.loads(line) for line in client.get(done["url"]).text.splitlines()]
    variants = [line for line in lines if "__parentId" not in line]
    levels = [line for line in lines if "__parentId" in line]
    assert [v["sku"] for v in variants] == ["K1", "K2"]
    assert {level["__parentId"] for level in levels} == {v["id"] for v in variants}
