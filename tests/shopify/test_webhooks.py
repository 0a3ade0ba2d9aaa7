"""The fake Shopify's webhook subscriptions and deliveries, as Shopify documents them, to a
receiver on 127.0.0.1: topics, headers, the client-secret signature, retries and removal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from stockstatus.adapters.shopify.fake import FakeShopify
from tests.hook_receiver import Receiver, receiver

CREATE = """
mutation($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) {
    webhookSubscription { id topic uri name format apiVersion { handle } }
    userErrors { field message }
  }
}"""
LIST = "{ webhookSubscriptions(first: 50) { nodes { id topic uri } } }"
DELETE = (
    "mutation($id: ID!) { webhookSubscriptionDelete(id: $id) { deletedWebhookSubscriptionId userErrors { message } } }"
)
ORDER = """
mutation($order: OrderCreateOrderInput!) {
  orderCreate(order: $order, options: {inventoryBehaviour: DECREMENT_IGNORING_POLICY}) {
    order { id } userErrors { message }
  }
}"""


@pytest.fixture
def fake() -> FakeShopify:
    return FakeShopify(client_secret="shpss_test-secret", webhook_retry_delays=(0.01,) * 8)


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver("/webhooks/us-shop") as found:
        yield found


def graphql(fake: FakeShopify, query: str, **variables: Any) -> dict[str, Any]:
    with httpx.Client(transport=fake.transport()) as http:
        answer = http.post(
            f"https://{fake.shop}/admin/api/2026-10/graphql.json",
            headers={"X-Shopify-Access-Token": fake.access_token},
            json={"query": query, "variables": variables},
        )
    body: dict[str, Any] = answer.json()
    assert "errors" not in body, body
    return body["data"]


def subscribe(fake: FakeShopify, topic: str, uri: str) -> dict[str, Any]:
    return graphql(fake, CREATE, topic=topic, sub={"uri": uri, "name": "stock-status-connector"})[
        "webhookSubscriptionCreate"
    ]


def test_subscriptions_are_created_listed_and_deleted(fake, hook):
    made = subscribe(fake, "ORDERS_CREATE", hook.url)
    assert made["userErrors"] == []
    node = made["webhookSubscription"]
    assert (node["topic"], node["uri"], node["format"], node["apiVersion"]["handle"]) == (
        "ORDERS_CREATE",
        hook.url,
        "JSON",
        "2026-10",
    )
    assert graphql(fake, LIST)["webhookSubscriptions"]["nodes"] == [
        {"id": node["id"], "topic": "ORDERS_CREATE", "uri": hook.url}
    ]
    deleted = graphql(fake, DELETE, id=node["id"])["webhookSubscriptionDelete"]
    assert deleted == {"deletedWebhookSubscriptionId": node["id"], "userErrors": []}
    assert graphql(fake, LIST)["webhookSubscriptions"]["nodes"] == []


def test_an_address_shopify_cannot_deliver_to_is_refused(fake, hook):
    subscribe(fake, "ORDERS_CREATE", hook.url)
    again = subscribe(fake, "ORDERS_CREATE", hook.url)
    assert [e["message"] for e in again["userErrors"]] == ["Address for this topic has already been taken"]
    plain = subscribe(fake, "ORDERS_CREATE", "http://connector.example.com/webhooks/us-shop")
    assert [e["message"] for e in plain["userErrors"]] == ["Address protocol http:// is not supported"]
    assert plain["webhookSubscription"] is None


def test_an_order_is_delivered_signed_with_the_client_secret_with_its_stock_moves(fake, hook):
    product = fake.create_product("Kettle", variants=[{"sku": "KTL-1", "stock": 3}])
    [variant_id] = product.variant_ids
    for topic in ("ORDERS_CREATE", "INVENTORY_LEVELS_UPDATE", "PRODUCTS_UPDATE"):
        subscribe(fake, topic, hook.url)

    order = graphql(
        fake,
        ORDER,
        order={"lineItems": [{"variantId": f"gid://shopify/ProductVariant/{variant_id}", "quantity": 1}]},
    )["orderCreate"]["order"]

    assert fake.wait_for_deliveries(10)
    by_topic = {r.header("X-Shopify-Topic"): r for r in hook.received}
    assert set(by_topic) == {"orders/create", "inventory_levels/update", "products/update"}
    for delivery in hook.received:
        assert delivery.signed_with("shpss_test-secret", "X-Shopify-Hmac-Sha256")
        assert delivery.header("X-Shopify-Shop-Domain") == fake.shop
        assert delivery.header("X-Shopify-API-Version") == "2026-10"
        assert delivery.header("X-Shopify-Webhook-Id") and delivery.header("X-Shopify-Event-Id")
        assert delivery.header("X-Shopify-Triggered-At")
    placed = json.loads(by_topic["orders/create"].body)
    assert placed["admin_graphql_api_id"] == order["id"]
    assert [(line["variant_id"], line["sku"], line["quantity"]) for line in placed["line_items"]] == [
        (variant_id, "KTL-1", 1)
    ]
    level = json.loads(by_topic["inventory_levels/update"].body)
    assert level["available"] == 2
    listed = json.loads(by_topic["products/update"].body)
    assert [(v["sku"], v["inventory_quantity"], v["inventory_policy"]) for v in listed["variants"]] == [
        ("KTL-1", 2, "deny")
    ]


def test_a_cancellation_is_delivered_as_cancelled_and_updated(fake, hook):
    product = fake.create_product("Kettle", variants=[{"sku": "KTL-1", "stock": 3}])
    order = fake.create_order([(product.variant_ids[0], 1)])
    subscribe(fake, "ORDERS_CANCELLED", hook.url)
    subscribe(fake, "ORDERS_UPDATED", hook.url)

    fake.cancel_order(order.id, restock=True)

    assert fake.wait_for_deliveries(10)
    assert sorted(hook.topics("X-Shopify-Topic")) == ["orders/cancelled", "orders/updated"]
    assert {json.loads(r.body)["cancelled_at"] is not None for r in hook.received} == {True}


def test_a_failed_delivery_is_retried_with_the_same_ids_and_payload(fake, hook):
    product = fake.create_product("Kettle", variants=[{"sku": "KTL-1", "stock": 3}])
    subscribe(fake, "INVENTORY_LEVELS_UPDATE", hook.url)
    hook.answers = [500, 503]

    fake.set_available(product.variant_ids[0], 7)

    assert fake.wait_for_deliveries(10)
    assert len(hook.received) == 3
    assert len({(r.header("X-Shopify-Webhook-Id"), r.header("X-Shopify-Event-Id"), r.body) for r in hook.received}) == 1
    assert len(graphql(fake, LIST)["webhookSubscriptions"]["nodes"]) == 1


def test_a_subscription_whose_retries_all_fail_is_removed(fake, hook):
    product = fake.create_product("Kettle", variants=[{"sku": "KTL-1", "stock": 3}])
    subscribe(fake, "INVENTORY_LEVELS_UPDATE", hook.url)
    hook.default = 500

    fake.set_available(product.variant_ids[0], 7)

    assert fake.wait_for_deliveries(10)
    assert len(hook.received) == 1 + 8  # the delivery, then eight retries
    assert graphql(fake, LIST)["webhookSubscriptions"]["nodes"] == []
    fake.set_available(product.variant_ids[0], 8)
    assert fake.wait_for_deliveries(10)
    assert len(hook.received) == 9
