"""The fake WooCommerce's webhooks: the REST resource as WooCommerce 10 answers it, and deliveries
as a real store sent them to a receiver on 127.0.0.1 (topics, headers, signatures, failures)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from stockstatus.adapters.woocommerce.fake import FakeWooCommerce
from tests.hook_receiver import Receiver, receiver

API = "/wp-json/wc/v3"
SECRET = "s3cret/é"
NOW = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)


@pytest.fixture
def fake() -> FakeWooCommerce:
    # A pinned clock: every delivery of one webhook happens "in the same second".
    return FakeWooCommerce(now=lambda: NOW)


@pytest.fixture
def client(fake: FakeWooCommerce) -> Iterator[httpx.Client]:
    with httpx.Client(
        transport=fake.transport(), base_url=fake.base_url, auth=(fake.consumer_key, fake.consumer_secret)
    ) as http:
        yield http


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver() as found:
        yield found


def subscribe(client: httpx.Client, topic: str, url: str) -> dict:
    answer = client.post(f"{API}/webhooks", json={"topic": topic, "delivery_url": url, "secret": SECRET})
    assert answer.status_code == 201, answer.text
    return answer.json()


def deliveries(fake: FakeWooCommerce, hook: Receiver) -> list:
    assert fake.wait_for_deliveries(10)
    return [r for r in hook.received if r.header("X-WC-Webhook-Topic")]


def test_a_new_webhook_answers_without_its_secret_and_pings_its_address_unsigned(fake, client, hook):
    created = subscribe(client, "order.created", hook.url)

    assert created["status"] == "active"
    assert created["resource"] == "order" and created["event"] == "created"
    assert created["hooks"] == ["woocommerce_new_order"]
    assert "secret" not in created
    assert created["date_modified"] is None  # as the real store answers until the first update
    assert fake.wait_for_deliveries(10)
    [ping] = hook.received
    assert ping.body == f"webhook_id={created['id']}".encode()
    assert ping.header("Content-Type") == "application/x-www-form-urlencoded"
    assert ping.header("X-WC-Webhook-Signature") is None
    listed = client.get(f"{API}/webhooks", params={"status": "active"}).json()
    assert [w["id"] for w in listed] == [created["id"]]
    assert all("secret" not in w for w in listed)


def test_refusals_are_worded_as_woocommerce_10_words_them(client, hook):
    bad_topic = client.post(f"{API}/webhooks", json={"topic": "order.sold", "delivery_url": hook.url})
    assert (bad_topic.status_code, bad_topic.json()["code"]) == (400, "woocommerce_rest_shop_webhook_invalid_topic")
    bad_url = client.post(f"{API}/webhooks", json={"topic": "order.created", "delivery_url": "ftp://x"})
    assert bad_url.json()["code"] == "woocommerce_rest_shop_webhook_invalid_delivery_url"
    missing = client.post(f"{API}/webhooks", json={"topic": "order.created"})
    assert missing.json()["message"] == "Missing parameter(s): delivery_url"
    webhook = subscribe(client, "order.created", hook.url)
    trash = client.delete(f"{API}/webhooks/{webhook['id']}")
    assert (trash.status_code, trash.json()["code"]) == (501, "woocommerce_rest_trash_not_supported")
    assert client.get(f"{API}/webhooks/999").status_code == 404
    assert client.put(f"{API}/webhooks/999", json={"status": "paused"}).status_code == 400
    assert client.delete(f"{API}/webhooks/999", params={"force": "true"}).json()["message"] == "Invalid ID."
    gone = client.delete(f"{API}/webhooks/{webhook['id']}", params={"force": "true"})
    assert gone.status_code == 200 and gone.json()["id"] == webhook["id"]
    assert client.get(f"{API}/webhooks").json() == []


def test_an_order_delivers_created_then_updated_and_each_stock_managing_item_it_moved(fake, client, hook):
    simple = fake.create_product(name="Kettle", sku="KTL-1", regular_price="5", manage_stock=True, stock_quantity=3)
    parent = fake.create_product(name="Shirt / ü", type="variable", manage_stock=False)
    variation = fake.create_variation(parent["id"], sku="SH-S", regular_price="5", manage_stock=True, stock_quantity=2)
    for topic in ("order.created", "order.updated", "product.updated"):
        subscribe(client, topic, hook.url)
    assert fake.wait_for_deliveries(10)
    hook.received.clear()

    order = client.post(
        f"{API}/orders",
        json={
            "set_paid": True,
            "line_items": [
                {"product_id": simple["id"], "quantity": 1},
                {"variation_id": variation["id"], "quantity": 1},
            ],
        },
    ).json()

    got = deliveries(fake, hook)
    seen = sorted((r.header("X-WC-Webhook-Topic"), json.loads(r.body)["id"]) for r in got)
    # A variation is product.updated under its own id; its parent, re-saved with it, is not sent.
    assert seen == sorted(
        [
            ("order.created", order["id"]),
            ("order.updated", order["id"]),
            ("product.updated", simple["id"]),
            ("product.updated", variation["id"]),
        ]
    )
    for delivery in got:
        assert delivery.signed_with(SECRET, "X-WC-Webhook-Signature")
        assert delivery.header("X-WC-Webhook-Source") == f"{fake.base_url}/"
        resource, event = delivery.header("X-WC-Webhook-Topic").split(".")
        assert (delivery.header("X-WC-Webhook-Resource"), delivery.header("X-WC-Webhook-Event")) == (resource, event)
    sold = next(json.loads(r.body) for r in got if json.loads(r.body)["id"] == variation["id"])
    assert sold["type"] == "variation" and sold["stock_quantity"] == 1  # built when sent, as products/<id> renders it


def test_bodies_are_php_json_signed_as_sent(fake, client, hook):
    subscribe(client, "product.created", hook.url)
    fake.create_product(name="Tasse ü/1", sku="T-1")

    [delivery] = deliveries(fake, hook)
    # wp_json_encode escapes "/" and non-ASCII: a receiver must verify the bytes, not re-encoded JSON.
    assert b"Tasse \\u00fc\\/1" in delivery.body
    assert delivery.signed_with(SECRET, "X-WC-Webhook-Signature")
    assert not delivery.signed_with(SECRET + "x", "X-WC-Webhook-Signature")


def test_deliveries_of_one_webhook_in_one_second_share_a_delivery_id(fake, client, hook):
    subscribe(client, "product.created", hook.url)
    fake.create_product(name="A", sku="A-1")
    fake.create_product(name="B", sku="B-1")

    got = deliveries(fake, hook)
    assert len({json.loads(r.body)["id"] for r in got}) == 2
    # wp_hash(webhook id . unix time), as seen on the real store: not an event's identity.
    assert len({r.header("X-WC-Webhook-Delivery-ID") for r in got}) == 1


def test_a_webhook_is_disabled_by_the_failure_after_six_in_a_row_and_never_retried(fake, client, hook):
    product = fake.create_product(name="Kettle", sku="KTL-1", manage_stock=True, stock_quantity=50)
    hook.default = 500  # the ping fails too, as the whole endpoint does
    webhook = subscribe(client, "product.updated", hook.url)
    assert fake.wait_for_deliveries(10)
    for quantity in range(40, 47):  # seven updates, seven failed deliveries
        fake.update_product(product["id"], stock_quantity=quantity)
        assert fake.wait_for_deliveries(10)
        shown = client.get(f"{API}/webhooks/{webhook['id']}").json()["status"]
        if quantity < 46:
            assert shown == "active"
    assert shown == "disabled"
    sent = len(hook.received)
    assert len(deliveries(fake, hook)) == 7  # one POST per update: WooCommerce does not retry
    # The ping was never answered 200: each save of the webhook while active pinged again.
    assert sum(1 for r in hook.received if r.body.startswith(b"webhook_id=")) == 1 + 6
    fake.update_product(product["id"], stock_quantity=1)
    assert fake.wait_for_deliveries(10)
    assert len(hook.received) == sent  # a disabled webhook delivers nothing
    client.put(f"{API}/webhooks/{webhook['id']}", json={"status": "active"})
    fake.update_product(product["id"], stock_quantity=2)
    assert fake.wait_for_deliveries(10)
    # Re-enabled, it kept its failure count: one more failure disables it again.
    assert client.get(f"{API}/webhooks/{webhook['id']}").json()["status"] == "disabled"


def test_a_success_resets_the_failure_count(fake, client, hook):
    product = fake.create_product(name="Kettle", sku="KTL-1", manage_stock=True, stock_quantity=50)
    webhook = subscribe(client, "product.updated", hook.url)
    assert fake.wait_for_deliveries(10)
    hook.answers = [500] * 6 + [200] + [500]
    for quantity in range(40, 48):
        fake.update_product(product["id"], stock_quantity=quantity)
        assert fake.wait_for_deliveries(10)
    [record] = [w for w in fake.webhooks if w.id == webhook["id"]]
    assert (record.status, record.failure_count) == ("active", 1)


def test_a_sandbox_delivers_to_loopback_addresses_only(fake, client, hook):
    subscribe(client, "product.created", "https://connector.example.com/webhooks/shop")
    fake.create_product(name="A", sku="A-1")

    assert fake.wait_for_deliveries(10)
    assert hook.received == []
    [refused] = [d for d in fake.deliveries if not d.ping]
    assert refused.error is not None and refused.error.startswith("the sandbox delivers to loopback")


def test_a_trashed_product_is_delivered_as_its_id_alone(fake, client, hook):
    product = fake.create_product(name="A", sku="A-1")
    subscribe(client, "product.deleted", hook.url)
    client.delete(f"{API}/products/{product['id']}")

    [delivery] = deliveries(fake, hook)
    assert json.loads(delivery.body) == {"id": product["id"]}
