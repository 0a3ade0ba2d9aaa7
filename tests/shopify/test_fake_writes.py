"""The fake Shopify takes stock changes, orders and products through its GraphQL API, keeps
modification times, and filters by them with Shopify's search syntax — as a client sees it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from stockstatus.adapters.shopify.fake import ALL_SCOPES, FakeClock, FakeShopify, gid

URL = "https://test-shop.myshopify.com/admin/api/2026-10/graphql.json"
START = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


class WallClock:
    """The shop's wall clock, moved by the test."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, minutes: int) -> str:
        """Move on, answering the moment before the move as a search value."""
        before = self.now.strftime("%Y-%m-%dT%H:%M:%SZ")
        self.now += timedelta(minutes=minutes)
        return before


def make_shop(**kw: Any) -> tuple[FakeShopify, WallClock]:
    wall = WallClock()
    fake = FakeShopify("test-shop.myshopify.com", clock=FakeClock(), now=wall, **kw)
    fake.add_location("Warehouse")
    return fake, wall


def ask(fake: FakeShopify, query: str, variables: dict | None = None) -> dict[str, Any]:
    with httpx.Client(transport=fake.transport()) as client:
        answer = client.post(
            URL,
            json={"query": query, "variables": variables or {}},
            headers={"X-Shopify-Access-Token": fake.access_token},
        )
    assert answer.status_code == 200
    return answer.json()  # type: ignore[no-any-return]


def data(fake: FakeShopify, query: str, variables: dict | None = None) -> dict[str, Any]:
    body = ask(fake, query, variables)
    assert "errors" not in body, body["errors"]
    return body["data"]  # type: ignore[no-any-return]


def ids(nodes: list[dict[str, Any]]) -> list[str]:
    return [n["id"] for n in nodes]


SET = """mutation($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id createdAt reason changes { name delta quantityAfterChange location { id } } }
    userErrors { field message code }
  }
}"""
ADJUST = """mutation($input: InventoryAdjustQuantitiesInput!, $key: String!) {
  inventoryAdjustQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { reason changes { name delta quantityAfterChange } }
    userErrors { field message code }
  }
}"""
VARIANT = """query($id: ID!) { node(id: $id) { ... on ProductVariant {
  id updatedAt inventoryQuantity product { updatedAt }
  inventoryItem { inventoryLevels(first: 5) { nodes { updatedAt quantities(names: ["available", "on_hand", "committed"]) { name quantity } } } }
} } }"""
CHANGED_STOCK = """query($location: ID!, $query: String) {
  location(id: $location) { inventoryLevels(first: 50, query: $query) { nodes { updatedAt item { sku variant { id } } } } }
}"""
ORDER = """mutation($order: OrderCreateOrderInput!, $options: OrderCreateOptionsInput) {
  orderCreate(order: $order, options: $options) {
    order { id name email tags note processedAt lineItems(first: 10) { nodes { sku title quantity variant { id } } } }
    userErrors { field message code }
  }
}"""
CANCEL = """mutation($id: ID!, $restock: Boolean!) {
  orderCancel(orderId: $id, reason: CUSTOMER, restock: $restock) {
    job { id done } orderCancelUserErrors { field message code } userErrors { field message }
  }
}"""


def quantities(fake: FakeShopify, variant: int) -> dict[str, int]:
    node = data(fake, VARIANT, {"id": gid("ProductVariant", variant)})["node"]
    [level] = node["inventoryItem"]["inventoryLevels"]["nodes"]
    return {q["name"]: q["quantity"] for q in level["quantities"]}


def set_available(fake: FakeShopify, variant: int, quantity: int, expected: int | None, key: str) -> dict[str, Any]:
    item = gid("InventoryItem", fake.variant(variant).inventory_item_id)
    location = gid("Location", fake.location_named("Warehouse").id)
    return data(
        fake,
        SET,
        {
            "key": key,
            "input": {
                "name": "available",
                "reason": "correction",
                "quantities": [
                    {
                        "inventoryItemId": item,
                        "locationId": location,
                        "quantity": quantity,
                        "changeFromQuantity": expected,
                    }
                ],
            },
        },
    )["inventorySetQuantities"]


# --- stock ---------------------------------------------------------------------------------


def test_a_stock_count_shows_in_the_level_filtered_by_updated_at_and_moves_only_the_level():
    fake, wall = make_shop()
    kettle = fake.create_product("Kettle", variants=[{"sku": "K", "stock": 4}]).variant_ids[0]
    fake.create_product("Mug", variants=[{"sku": "M", "stock": 9}])
    since = wall.advance(5)
    location = gid("Location", fake.location_named("Warehouse").id)

    answer = set_available(fake, kettle, 10, 4, "count-1")

    assert answer["userErrors"] == []
    group = answer["inventoryAdjustmentGroup"]
    assert group["reason"] == "correction" and group["createdAt"] == "2026-11-29T10:05:00Z"
    assert [(c["name"], c["delta"], c["quantityAfterChange"]) for c in group["changes"]] == [
        ("available", 6, 10),
        ("on_hand", 6, 10),
    ]
    changed = data(fake, CHANGED_STOCK, {"location": location, "query": f"updated_at:>'{since}'"})
    assert [(n["item"]["sku"], n["updatedAt"]) for n in changed["location"]["inventoryLevels"]["nodes"]] == [
        ("K", "2026-11-29T10:05:00Z")
    ]
    node = data(fake, VARIANT, {"id": gid("ProductVariant", kettle)})["node"]
    assert node["inventoryQuantity"] == 10 and quantities(fake, kettle)["available"] == 10
    assert node["updatedAt"] == node["product"]["updatedAt"] == "2026-11-29T10:00:00Z"  # not documented to move


def test_compare_and_set_refuses_a_stale_count_and_changes_nothing():
    fake, _ = make_shop()
    kettle = fake.create_product("Kettle", variants=[{"sku": "K", "stock": 4}]).variant_ids[0]
    answer = set_available(fake, kettle, 10, 3, "stale")
    assert answer["inventoryAdjustmentGroup"] is None
    assert answer["userErrors"] == [
        {
            "field": ["input", "quantities", "0", "changeFromQuantity"],
            "message": "The changeFromQuantity value does not match persisted value.",
            "code": "CHANGE_FROM_QUANTITY_STALE",
        }
    ]
    assert quantities(fake, kettle)["available"] == 4
    assert set_available(fake, kettle, 7, None, "no-check")["userErrors"] == []  # explicit null skips the check
    assert quantities(fake, kettle)["available"] == 7


def test_inventory_mutations_need_an_idempotency_key_and_a_retry_applies_once():
    fake, _ = make_shop()
    kettle = fake.create_product("Kettle", variants=[{"sku": "K", "stock": 4}]).variant_ids[0]
    change = {
        "inventoryItemId": gid("InventoryItem", fake.variant(kettle).inventory_item_id),
        "locationId": gid("Location", fake.location_named("Warehouse").id),
        "delta": -1,
        "changeFromQuantity": None,
    }
    plain = ADJUST.replace(" @idempotent(key: $key)", "").replace(", $key: String!", "")
    refused = ask(fake, plain, {"input": {"name": "available", "reason": "correction", "changes": [change]}})
    assert refused["data"]["inventoryAdjustQuantities"] is None
    assert "idempotency key" in refused["errors"][0]["message"]

    variables = {"key": "sale-1", "input": {"name": "available", "reason": "correction", "changes": [change]}}
    first = data(fake, ADJUST, variables)["inventoryAdjustQuantities"]
    again = data(fake, ADJUST, variables)["inventoryAdjustQuantities"]
    assert first == again and first["userErrors"] == []
    assert [
        (c["name"], c["delta"], c["quantityAfterChange"]) for c in first["inventoryAdjustmentGroup"]["changes"]
    ] == [("available", -1, 3), ("on_hand", -1, 3)]
    assert quantities(fake, kettle)["available"] == 3  # once, not twice
    reused = data(fake, ADJUST, {**variables, "input": {**variables["input"], "reason": "damaged"}})
    assert reused["inventoryAdjustQuantities"]["userErrors"][0]["code"] == "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"


def test_inventory_mutations_name_the_wrong_input():
    fake, _ = make_shop()
    kettle = fake.create_product("Kettle", variants=[{"sku": "K", "stock": 4}]).variant_ids[0]
    item = gid("InventoryItem", fake.variant(kettle).inventory_item_id)
    here = gid("Location", fake.location_named("Warehouse").id)
    answer = data(
        fake,
        SET,
        {
            "key": "bad",
            "input": {
                "name": "incoming",
                "reason": "because",
                "quantities": [
                    {
                        "inventoryItemId": gid("InventoryItem", 1),
                        "locationId": here,
                        "quantity": 1,
                        "changeFromQuantity": None,
                    },
                    {
                        "inventoryItemId": item,
                        "locationId": gid("Location", 2),
                        "quantity": 1,
                        "changeFromQuantity": None,
                    },
                    {"inventoryItemId": item, "locationId": here, "quantity": 1},
                ],
            },
        },
    )["inventorySetQuantities"]
    assert [(e["code"], e["field"]) for e in answer["userErrors"]] == [
        ("INVALID_NAME", ["input", "name"]),
        ("INVALID_REASON", ["input", "reason"]),
        ("INVALID_INVENTORY_ITEM", ["input", "quantities", "0", "inventoryItemId"]),
        ("INVALID_LOCATION", ["input", "quantities", "1", "locationId"]),
        ("COMPARE_QUANTITY_REQUIRED", ["input", "quantities", "2", "changeFromQuantity"]),
    ]
    assert quantities(fake, kettle)["available"] == 4


# --- orders --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("behaviour", "available", "committed"),
    [
        (None, 2, 0),  # Shopify's default is BYPASS: no stock is claimed
        ("BYPASS", 2, 0),
        ("DECREMENT_IGNORING_POLICY", -1, 3),  # sells past zero even on DENY
    ],
)
def test_order_create_claims_stock_as_its_inventory_behaviour_says(behaviour, available, committed):
    fake, _ = make_shop()
    kettle = fake.create_product("Kettle", variants=[{"sku": "K", "stock": 2}]).variant_ids[0]
    options = {"inventoryBehaviour": behaviour} if behaviour else None
    answer = data(
        fake,
        ORDER,
        {
            "options": options,
            "order": {
                "email": "mara@example.com",
                "tags": ["phone"],
                "note": "call first",
                "lineItems": [
                    {"variantId": gid("ProductVariant", kettle), "quantity": 3},
                    {"title": "Gift wrap", "sku": "WRAP", "quantity": 1},
                ],
            },
        },
    )["orderCreate"]
    assert answer["userErrors"] == []
    order = answer["order"]
    assert (order["email"], order["tags"], order["note"]) == ("mara@example.com", ["phone"], "call first")
    assert [(n["sku"], n["title"], n["quantity"]) for n in order["lineItems"]["nodes"]] == [
        ("K", "Kettle", 3),
        ("WRAP", "Gift wrap", 1),
    ]
    assert {k: quantities(fake, kettle)[k] for k in ("available", "committed")} == {
        "available": available,
        "committed": committed,
    }
    assert quantities(fake, kettle)["on_hand"] == 2
    found = data(fake, '{ orders(first: 5, query: "status:open fulfillment_status:unfulfilled") { nodes { id } } }')
    assert ids(found["orders"]["nodes"]) == [order["id"]]


def test_an_order_obeying_policy_is_refused_for_a_deny_variant_out_of_stock():
    fake, _ = make_shop()
    deny = fake.create_product("Kettle", variants=[{"sku": "K", "stock": 1}]).variant_ids[0]
    oversell = fake.create_product("Beans", variants=[{"sku": "B", "stock": 0, "inventory_policy": "CONTINUE"}])
    obeying = {"inventoryBehaviour": "DECREMENT_OBEYING_POLICY"}

    refused = data(
        fake,
        ORDER,
        {
            "options": obeying,
            "order": {
                "lineItems": [
                    {"variantId": gid("ProductVariant", oversell.variant_ids[0]), "quantity": 1},
                    {"variantId": gid("ProductVariant", deny), "quantity": 2},
                ]
            },
        },
    )["orderCreate"]
    assert refused["order"] is None
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
        ("INVENTORY_CLAIM_FAILED", ["order", "lineItems", "1"])
    ]
    assert quantities(fake, deny)["available"] == 1 and not fake.orders

    accepted = data(
        fake,
        ORDER,
        {
            "options": obeying,
            "order": {
                "lineItems": [
                    {"variantId": gid("ProductVariant", oversell.variant_ids[0]), "quantity": 2},
                    {"variantId": gid("ProductVariant", deny), "quantity": 1},
                ]
            },
        },
    )["orderCreate"]
    assert accepted["userErrors"] == []
    assert quantities(fake, deny)["available"] == 0 and quantities(fake, oversell.variant_ids[0])["available"] == -2


def test_order_create_names_bad_line_items():
    fake, _ = make_shop()
    answer = data(
        fake,
        ORDER,
        {
            "order": {
                "lineItems": [{"variantId": gid("ProductVariant", 999), "quantity": 1}, {"quantity": 0, "sku": "X"}]
            }
        },
    )["orderCreate"]
    assert answer["order"] is None
    assert [(e["code"], e["field"]) for e in answer["userErrors"]] == [
        ("INVALID", ["order", "lineItems", "0", "variantId"]),
        ("INVALID", ["order", "lineItems", "1", "quantity"]),
        ("INVALID", ["order", "lineItems", "1", "title"]),
    ]


@pytest.mark.parametrize(("restock", "available", "on_hand"), [(True, 5, 5), (False, 2, 2)])
def test_a_cancelled_order_leaves_the_open_orders_and_restock_puts_its_units_back(restock, available, on_hand):
    fake, wall = make_shop()
    kettle = fake.create_product("Kettle", variants=[{"sku": "K", "stock": 5}]).variant_ids[0]
    order = data(
        fake,
        ORDER,
        {
            "options": {"inventoryBehaviour": "DECREMENT_IGNORING_POLICY"},
            "order": {"lineItems": [{"variantId": gid("ProductVariant", kettle), "quantity": 3}]},
        },
    )["orderCreate"]["order"]
    since = wall.advance(1)

    answer = data(fake, CANCEL, {"id": order["id"], "restock": restock})["orderCancel"]

    assert answer["orderCancelUserErrors"] == [] and answer["job"]["id"].startswith("gid://shopify/Job/")
    assert data(fake, "query($id: ID!) { job(id: $id) { done } }", {"id": answer["job"]["id"]})["job"]["done"]
    assert quantities(fake, kettle) == {"available": available, "on_hand": on_hand, "committed": 0}
    orders = data(
        fake,
        """{ open: orders(first: 5, query: "status:open") { nodes { id } }
                              cancelled: orders(first: 5, query: "status:cancelled") { nodes { id cancelReason cancelledAt } } }""",
    )
    assert orders["open"]["nodes"] == []
    assert orders["cancelled"]["nodes"] == [
        {"id": order["id"], "cancelReason": "CUSTOMER", "cancelledAt": "2026-11-29T10:01:00Z"}
    ]
    changed = data(
        fake,
        "query($q: String) { orders(first: 5, query: $q) { nodes { id updatedAt } } }",
        {"q": f"updated_at:>{since}"},
    )
    assert ids(changed["orders"]["nodes"]) == [order["id"]]
    again = data(fake, CANCEL, {"id": order["id"], "restock": True})["orderCancel"]
    assert again["job"] is None and again["orderCancelUserErrors"][0]["code"] == "INVALID"
    missing = data(fake, CANCEL, {"id": gid("Order", 1), "restock": True})["orderCancel"]
    assert missing["orderCancelUserErrors"] == [
        {"field": ["orderId"], "message": "Order does not exist", "code": "NOT_FOUND"}
    ]


# --- products ------------------------------------------------------------------------------

CREATE = """mutation($product: ProductCreateInput!) {
  productCreate(product: $product) {
    product { id title status tags createdAt variants(first: 5) { nodes { id title inventoryItem { tracked } } } }
    userErrors { field message }
  }
}"""
BULK_CREATE = """mutation($product: ID!, $variants: [ProductVariantsBulkInput!]!, $strategy: ProductVariantsBulkCreateStrategy) {
  productVariantsBulkCreate(productId: $product, variants: $variants, strategy: $strategy) {
    productVariants { id sku title selectedOptions { name value } }
    userErrors { field message code }
  }
}"""


def test_an_empty_shop_is_seeded_through_the_api_and_the_variant_reads_back_with_its_stock():
    fake, _ = make_shop()
    warehouse = gid("Location", fake.location_named("Warehouse").id)
    created = data(fake, CREATE, {"product": {"title": "Guji Natural", "tags": ["coffee"], "status": "ACTIVE"}})
    product = created["productCreate"]["product"]
    assert product["status"] == "ACTIVE" and product["createdAt"] == "2026-11-29T10:00:00Z"
    assert [(v["title"], v["inventoryItem"]["tracked"]) for v in product["variants"]["nodes"]] == [
        ("Default Title", False)
    ]

    answer = data(
        fake,
        BULK_CREATE,
        {
            "product": product["id"],
            "strategy": "REMOVE_STANDALONE_VARIANT",
            "variants": [
                {
                    "optionValues": [{"optionName": "Title", "name": "250 g"}],
                    "inventoryPolicy": "CONTINUE",
                    "inventoryItem": {"sku": "GUJI-250", "tracked": True},
                    "inventoryQuantities": [{"locationId": warehouse, "availableQuantity": 12}],
                },
                {"optionValues": [{"optionName": "Title", "name": "1 kg"}], "inventoryItem": {"sku": "GUJI-1000"}},
            ],
        },
    )["productVariantsBulkCreate"]

    assert answer["userErrors"] == []
    assert [(v["sku"], v["title"], v["selectedOptions"]) for v in answer["productVariants"]] == [
        ("GUJI-250", "250 g", [{"name": "Title", "value": "250 g"}]),
        ("GUJI-1000", "1 kg", [{"name": "Title", "value": "1 kg"}]),
    ]
    read = data(
        fake,
        """query($q: String) { productVariants(first: 10, query: $q) { nodes {
        sku inventoryPolicy inventoryQuantity inventoryItem { tracked } } } }""",
        {"q": f"product_id:{product['id'].rsplit('/', 1)[1]}"},
    )
    assert read["productVariants"]["nodes"] == [
        {"sku": "GUJI-250", "inventoryPolicy": "CONTINUE", "inventoryQuantity": 12, "inventoryItem": {"tracked": True}},
        {"sku": "GUJI-1000", "inventoryPolicy": "DENY", "inventoryQuantity": None, "inventoryItem": {"tracked": False}},
    ]  # the standalone "Default Title" variant is gone


def test_bulk_create_needs_option_values_and_names_bad_input():
    fake, _ = make_shop()
    product = data(fake, CREATE, {"product": {"title": "Kettle"}})["productCreate"]["product"]["id"]
    answer = data(
        fake,
        BULK_CREATE,
        {
            "product": product,
            "variants": [
                {"inventoryItem": {"sku": "A"}},
                {"optionValues": [{"optionName": "Title", "name": "Default Title"}]},
                {
                    "optionValues": [{"optionName": "Title", "name": "Big"}],
                    "inventoryQuantities": [{"locationId": gid("Location", 1), "availableQuantity": 1}],
                },
            ],
            "strategy": "PRESERVE_STANDALONE_VARIANT",
        },
    )["productVariantsBulkCreate"]
    assert answer["productVariants"] is None
    assert [(e["code"], e["field"]) for e in answer["userErrors"]] == [
        ("NEED_TO_ADD_OPTION_VALUES", ["variants", "0"]),
        ("VARIANT_ALREADY_EXISTS", ["variants", "1"]),
        ("TRACKED_VARIANT_LOCATION_NOT_FOUND", ["variants", "2", "inventoryQuantities", "0", "locationId"]),
    ]
    assert answer["userErrors"][0]["message"] == "You need to add option values for Title"
    missing = data(fake, BULK_CREATE, {"product": gid("Product", 1), "variants": []})["productVariantsBulkCreate"]
    assert missing["userErrors"][0]["code"] == "PRODUCT_DOES_NOT_EXIST"
    blank = data(fake, CREATE, {"product": {"title": " "}})["productCreate"]
    assert blank == {"product": None, "userErrors": [{"field": ["title"], "message": "Title can't be blank"}]}


# --- modification times and search -----------------------------------------------------------


def test_updated_at_filters_return_exactly_the_edited_objects():
    fake, wall = make_shop()
    kettle, mug, beans = (
        fake.create_product(title, variants=[{"sku": title[0]}]) for title in ("Kettle", "Mug", "Beans")
    )
    since = wall.advance(10)
    data(
        fake,
        'mutation($id: ID!) { tagsAdd(id: $id, tags: ["sale"]) { userErrors { message } } }',
        {"id": gid("Product", kettle.id)},
    )
    data(
        fake,
        """mutation($m: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $m) { userErrors { message } } }""",
        {
            "m": [
                {
                    "ownerId": gid("ProductVariant", mug.variant_ids[0]),
                    "namespace": "custom",
                    "key": "eta",
                    "type": "date",
                    "value": "2026-12-24",
                }
            ]
        },
    )
    later = wall.advance(10)
    data(
        fake,
        """mutation($p: ID!, $v: [ProductVariantsBulkInput!]!) {
        productVariantsBulkUpdate(productId: $p, variants: $v) { userErrors { message } } }""",
        {
            "p": gid("Product", beans.id),
            "v": [{"id": gid("ProductVariant", beans.variant_ids[0]), "inventoryPolicy": "CONTINUE"}],
        },
    )

    def products(query: str) -> list[str]:
        return ids(
            data(fake, "query($q: String) { products(first: 10, query: $q) { nodes { id } } }", {"q": query})[
                "products"
            ]["nodes"]
        )

    def variants(query: str) -> list[str]:
        return ids(
            data(fake, "query($q: String) { productVariants(first: 10, query: $q) { nodes { id } } }", {"q": query})[
                "productVariants"
            ]["nodes"]
        )

    assert products(f"updated_at:>'{since}'") == products(f"updated_at:>{since}") == [gid("Product", kettle.id)]
    assert products(f"updated_at:<='{since}'") == [gid("Product", mug.id), gid("Product", beans.id)]
    assert variants(f'updated_at:>"{since}"') == [
        gid("ProductVariant", mug.variant_ids[0]),
        gid("ProductVariant", beans.variant_ids[0]),
    ]
    assert variants(f"updated_at:>'{later}'") == [gid("ProductVariant", beans.variant_ids[0])]
    assert variants(f"updated_at:>'{since}' updated_at:<='{later}'") == [gid("ProductVariant", mug.variant_ids[0])]
    assert variants(f"updated_at:>='{later}'") == variants(f"updated_at:>'{since}'")
    assert variants(f"updated_at:>'{since}' AND product_id:{mug.id}") == [gid("ProductVariant", mug.variant_ids[0])]


def test_variants_filter_by_product_ids_product_id_and_id():
    fake, _ = make_shop()
    first, second, third = (fake.create_product(t, variants=[{"sku": f"{t}1"}, {"sku": f"{t}2"}]) for t in "ABC")

    def skus(query: str) -> list[str]:
        found = data(
            fake, "query($q: String) { productVariants(first: 10, query: $q) { nodes { sku } } }", {"q": query}
        )
        return [n["sku"] for n in found["productVariants"]["nodes"]]

    assert skus(f"product_ids:{first.id},{third.id}") == ["A1", "A2", "C1", "C2"]
    assert skus(f"product_id:{second.id}") == ["B1", "B2"]
    assert skus(f"id:{second.variant_ids[1]}") == ["B2"]
    assert skus(f"id:>={third.variant_ids[0]}") == ["C1", "C2"]
    assert skus(f"product_id:{first.id} OR product_id:{third.id}") == ["A1", "A2", "C1", "C2"]
    assert skus(f"-product_id:{first.id}") == ["B1", "B2", "C1", "C2"]


def test_products_and_variants_filter_by_sku_title_tag_vendor_and_type():
    fake, _ = make_shop()
    fake.create_product(
        "Kettle",
        vendor="Fellow",
        product_type="Kettles",
        tags=["hot", "sale"],
        variants=[{"sku": "KTL-BLK"}, {"sku": "KTL-WHT"}],
    )
    fake.create_product("Mug", vendor="Acme", product_type="Mugs", variants=[{"sku": "MUG-1"}])

    def skus(query: str) -> list[str]:
        found = data(
            fake, "query($q: String) { productVariants(first: 10, query: $q) { nodes { sku } } }", {"q": query}
        )
        return [n["sku"] for n in found["productVariants"]["nodes"]]

    def titles(query: str) -> list[str]:
        found = data(fake, "query($q: String) { products(first: 10, query: $q) { nodes { title } } }", {"q": query})
        return [n["title"] for n in found["products"]["nodes"]]

    assert skus("sku:KTL-WHT") == ["KTL-WHT"] and skus("sku:ktl-*") == ["KTL-BLK", "KTL-WHT"]
    assert skus("vendor:Acme") == ["MUG-1"] and skus("tag:hot") == ["KTL-BLK", "KTL-WHT"]
    assert skus("tag_not:hot") == ["MUG-1"] and skus("product_type:Kettles AND sku:KTL-BLK") == ["KTL-BLK"]
    assert titles("sku:MUG-1") == ["Mug"] and titles("tag:sale") == ["Kettle"] and titles("title:mug") == ["Mug"]
    assert titles("vendor:Fellow OR vendor:Acme") == ["Kettle", "Mug"] and titles("sku:NOPE") == []


def test_an_unknown_search_field_is_dropped_with_a_warning_like_shopify():
    fake, _ = make_shop()
    mug = fake.create_product("Mug", variants=[{"sku": "M"}])
    fake.create_product("Kettle", variants=[{"sku": "K"}])
    body = ask(
        fake,
        "query($q: String) { productVariants(first: 10, query: $q) { nodes { sku } } }",
        {"q": f"colour:blue product_id:{mug.id}"},
    )
    assert [n["sku"] for n in body["data"]["productVariants"]["nodes"]] == ["M"]  # the rest of the query still filters
    assert body["extensions"]["search"] == [
        {
            "path": ["productVariants"],
            "query": f"colour:blue product_id:{mug.id}",
            "warnings": [
                {"field": "colour", "message": "Invalid search field for this query.", "code": "invalid_field"}
            ],
        }
    ]
    assert "cost" in body["extensions"]


def test_counts_follow_shopifys_documented_search_fields():
    fake, wall = make_shop()
    fake.create_product("Mug", variants=[{"sku": "M1"}, {"sku": "M2"}])
    since = wall.advance(1)
    fake.create_product("Kettle", variants=[{"sku": "K"}])
    body = ask(
        fake,
        """query($q: String) { productsCount(query: $q) { count precision }
                                            productVariantsCount(query: $q) { count } }""",
        {"q": f"updated_at:>'{since}'"},
    )
    assert body["data"]["productsCount"] == {"count": 1, "precision": "EXACT"}
    # Shopify documents "No supported search fields" for productVariantsCount: every term is dropped
    assert body["data"]["productVariantsCount"] == {"count": 3}
    assert [s["path"] for s in body["extensions"]["search"]] == [["productVariantsCount"]]


def test_order_searches_keep_shopifys_connectives():
    fake, _ = make_shop()
    variant = fake.create_product("Mug", variants=[{"sku": "M", "stock": 9}]).variant_ids[0]
    open_order, cancelled = fake.create_order([(variant, 1)]), fake.create_order([(variant, 1)])
    fake.cancel_order(cancelled.id)

    def names(query: str) -> list[str]:
        found = data(fake, "query($q: String) { orders(first: 10, query: $q) { nodes { name } } }", {"q": query})
        return [n["name"] for n in found["orders"]["nodes"]]

    assert names("status:open AND (fulfillment_status:unfulfilled OR fulfillment_status:partial)") == [open_order.name]
    assert names("status:cancelled OR status:open") == [open_order.name, cancelled.name]
    assert names("NOT status:cancelled") == names("-status:cancelled") == [open_order.name]
    assert names("status:any") == [open_order.name, cancelled.name]


def test_python_helpers_move_the_same_timestamps():
    fake, wall = make_shop()
    kettle = fake.create_product("Kettle", variants=[{"sku": "K", "stock": 3}]).variant_ids[0]
    since = wall.advance(1)
    fake.set_available(kettle, 8)
    location = gid("Location", fake.location_named("Warehouse").id)
    changed = data(fake, CHANGED_STOCK, {"location": location, "query": f"updated_at:>'{since}'"})
    assert [n["item"]["sku"] for n in changed["location"]["inventoryLevels"]["nodes"]] == ["K"]
    since = wall.advance(1)
    fake.put_metafield(gid("ProductVariant", kettle), "custom.eta", "date", "2026-12-01")
    found = data(
        fake,
        "query($q: String) { productVariants(first: 5, query: $q) { nodes { sku } } }",
        {"q": f"updated_at:>'{since}'"},
    )
    assert [n["sku"] for n in found["productVariants"]["nodes"]] == ["K"]
    assert (
        data(fake, CHANGED_STOCK, {"location": location, "query": f"updated_at:>'{since}'"})["location"][
            "inventoryLevels"
        ]["nodes"]
        == []
    )


# --- scopes and cost ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "document", "variables"),
    [
        (
            "write_inventory",
            SET,
            {"key": "k", "input": {"name": "available", "reason": "correction", "quantities": []}},
        ),
        ("write_orders", ORDER, {"order": {"lineItems": []}}),
        ("write_orders", CANCEL, {"id": gid("Order", 1), "restock": False}),
        ("write_products", CREATE, {"product": {"title": "Mug"}}),
        ("read_inventory", "{ location { inventoryLevels(first: 5) { nodes { id } } } }", {}),  # the primary location
    ],
)
def test_a_write_without_its_scope_is_access_denied(scope, document, variables):
    # A write scope grants the read one of its resource, so a read is denied only without both.
    fake, _ = make_shop(scopes=ALL_SCOPES - {scope, scope.replace("read_", "write_", 1)})
    body = ask(fake, document, variables)
    [error] = body["errors"]
    assert error["extensions"]["code"] == "ACCESS_DENIED" and scope in error["message"]
    assert not fake.orders and not fake.products


def test_each_mutation_costs_ten_points():
    fake, _ = make_shop()
    kettle = fake.create_product("Kettle", variants=[{"sku": "K", "stock": 4}]).variant_ids[0]
    body = ask(fake, ORDER, {"order": {"lineItems": [{"variantId": gid("ProductVariant", kettle), "quantity": 1}]}})
    assert body["extensions"]["cost"]["requestedQueryCost"] == 10
    assert body["extensions"]["cost"]["actualQueryCost"] == 10


def test_a_variant_update_moves_its_updated_at_only_when_something_changes():
    fake, wall = make_shop()
    product = fake.create_product("Kettle", variants=[{"sku": "K", "stock": 2}])
    variant = gid("ProductVariant", product.variant_ids[0])
    update = """mutation($p: ID!, $v: [ProductVariantsBulkInput!]!) {
        productVariantsBulkUpdate(productId: $p, variants: $v) { productVariants { sku updatedAt } userErrors { field code } } }"""
    wall.advance(1)
    same = data(fake, update, {"p": gid("Product", product.id), "v": [{"id": variant, "inventoryPolicy": "DENY"}]})
    assert same["productVariantsBulkUpdate"]["productVariants"] == [{"sku": "K", "updatedAt": "2026-11-29T10:00:00Z"}]
    renamed = data(
        fake, update, {"p": gid("Product", product.id), "v": [{"id": variant, "inventoryItem": {"sku": "K-2"}}]}
    )
    assert renamed["productVariantsBulkUpdate"]["productVariants"] == [
        {"sku": "K-2", "updatedAt": "2026-11-29T10:01:00Z"}
    ]
    stocked = data(
        fake,
        update,
        {
            "p": gid("Product", product.id),
            "v": [
                {
                    "id": variant,
                    "inventoryQuantities": [
                        {"locationId": gid("Location", fake.location_named("Warehouse").id), "availableQuantity": 9}
                    ],
                }
            ],
        },
    )
    assert stocked["productVariantsBulkUpdate"]["userErrors"] == [
        {"field": ["variants", "0", "inventoryQuantities"], "code": "NO_INVENTORY_QUANTITIES_ON_VARIANTS_UPDATE"}
    ]
    assert fake.available(product.variant_ids[0]) == 2
