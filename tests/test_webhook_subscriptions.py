"""`connector webhooks install | status | remove` and `connector check` against both sandboxes:
the subscriptions point at `<[listen] public_url>/webhooks/<store>`, install is idempotent,
what stopped delivering is replaced, and only the connector's own subscriptions are touched."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from stockstatus.adapters.shopify.fake import FakeShopify
from stockstatus.core import subscriptions
from stockstatus.core.config import from_mapping
from tests.hook_receiver import Receiver, receiver
from tests.loopback_shop import WEBHOOK_SECRET, Shop, serve_shop

WOO_TOPICS = {
    "order.created",
    "order.updated",
    "order.deleted",
    "product.created",
    "product.updated",
    "product.deleted",
}


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver("/webhooks/shop") as found:
        yield found


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hook: Receiver) -> Iterator[Shop]:
    with serve_shop(tmp_path, monkeypatch) as served:
        served.fake.timezone = ZoneInfo("Europe/Berlin")  # the config's, so that `check` looks at webhooks
        public = hook.url.removesuffix("/webhooks/shop")
        served.write_config(extra=f'[listen]\npublic_url = "{public}"\n')
        yield served


def own(shop: Shop, hook: Receiver) -> dict[str, tuple[int, str]]:
    """topic → (id, status) of the store's webhooks at the listener's address."""
    return {w.topic: (w.id, w.status) for w in shop.fake.webhooks if w.delivery_url == hook.url}


def test_install_subscribes_every_topic_to_the_listener_signed_with_the_stores_secret(shop, hook, capsys):
    assert shop.cli("webhooks", "install", "--dry-run") == 0
    assert "would create order.created" in capsys.readouterr().out
    assert shop.fake.webhooks == []

    assert shop.cli("webhooks", "install") == 0

    assert set(own(shop, hook)) == WOO_TOPICS
    assert all(w.name.startswith("Stock-status connector") for w in shop.fake.webhooks)
    shop.fake.update_product(shop.ids[0], regular_price="12")
    assert shop.fake.wait_for_deliveries(10)
    [update] = [r for r in hook.received if r.header("X-WC-Webhook-Topic") == "product.updated"]
    assert update.signed_with(WEBHOOK_SECRET, "X-WC-Webhook-Signature")
    assert json.loads(update.body)["id"] == shop.ids[0]


def test_a_second_install_changes_nothing(shop, hook, capsys):
    assert shop.cli("webhooks", "install") == 0
    before = own(shop, hook)
    writes = len(shop.fake.write_requests)

    assert shop.cli("webhooks", "install") == 0

    assert own(shop, hook) == before
    assert len(shop.fake.write_requests) == writes
    assert capsys.readouterr().out.rstrip().endswith("nothing to do")


def test_status_and_check_name_a_disabled_webhook_and_install_replaces_it(shop, hook, capsys):
    assert shop.cli("webhooks", "install") == 0
    [disabled] = [w for w in shop.fake.webhooks if w.topic == "order.created"]
    disabled.status = "disabled"  # as WooCommerce leaves it after failed deliveries
    capsys.readouterr()

    assert shop.cli("webhooks", "status") == 1
    out = capsys.readouterr().out
    assert "order.created" in out and "disabled" in out
    assert "fix: connector webhooks install --store shop" in out
    assert shop.cli("check") == 1
    checked = capsys.readouterr().out
    assert "order.created (disabled)" in checked and "connector webhooks install --store shop" in checked

    assert shop.cli("webhooks", "install") == 0

    now = own(shop, hook)
    assert now["order.created"][1] == "active" and now["order.created"][0] != disabled.id
    assert disabled.id not in {w.id for w in shop.fake.webhooks}  # a new one starts with no failures
    assert shop.cli("webhooks", "status") == 0
    assert shop.cli("check") == 0


def test_remove_deletes_the_connectors_webhooks_and_no_others(shop, hook, capsys):
    merchant = shop.fake.create_webhook(topic="order.created", delivery_url=hook.url.replace("/shop", "/erp"))
    assert shop.cli("webhooks", "install") == 0

    assert shop.cli("webhooks", "remove", "--dry-run") == 0
    assert len(own(shop, hook)) == 6
    assert shop.cli("webhooks", "remove") == 0

    assert own(shop, hook) == {}
    assert [w.id for w in shop.fake.webhooks] == [merchant["id"]]
    capsys.readouterr()
    assert shop.cli("webhooks", "status") == 1
    assert capsys.readouterr().out.count("missing") == 6


def test_woocommerce_needs_the_secret_it_signs_with(shop, monkeypatch, capsys):
    monkeypatch.delenv("SHOP_WEBHOOK_SECRET")

    assert shop.cli("webhooks", "install") == 1

    out = capsys.readouterr().out
    assert "webhook_secret_env: environment variable SHOP_WEBHOOK_SECRET is not set" in out
    assert shop.fake.webhooks == []


def test_without_a_public_url_the_commands_say_how_to_set_it(shop, capsys):
    shop.write_config()  # no [listen]

    assert shop.cli("webhooks", "install") == 2

    assert "listen.public_url: not set" in capsys.readouterr().err
    assert shop.cli("check") == 0  # without a listener the connector uses no webhooks


def test_a_usage_error_exits_64(shop):
    assert shop.cli("webhooks") == 64
    assert shop.cli("webhooks", "status", "--dry-run") == 64


def shopify_config(tmp_path: Path, fake: FakeShopify, public_url: str):
    return from_mapping(
        {
            "listen": {"public_url": public_url},
            "stores": [
                {
                    "name": "us-shop",
                    "platform": "shopify",
                    "shop": fake.shop,
                    "token_env": "US_SHOP_TOKEN",
                    "webhook_secret_env": "US_SHOP_CLIENT_SECRET",
                }
            ],
        },
        path=tmp_path / "connector.toml",
        base_dir=tmp_path,
    )


def test_shopify_subscriptions_are_installed_idempotently_and_a_removed_one_comes_back(tmp_path):
    fake = FakeShopify(client_secret="shpss_app-secret", webhook_retry_delays=(0.0,) * 8)
    with receiver("/webhooks/us-shop") as hook:
        config = shopify_config(tmp_path, fake, hook.url.removesuffix("/webhooks/us-shop"))
        environ = {"US_SHOP_TOKEN": fake.access_token, "US_SHOP_CLIENT_SECRET": fake.client_secret}
        transports: dict[str, httpx.AsyncBaseTransport] = {"us-shop": fake.transport()}

        def install(dry_run: bool = False) -> subscriptions.StorePlan:
            [plan] = asyncio.run(subscriptions.install(config, config.stores, environ, transports, dry_run=dry_run))
            assert plan.error is None, plan.error
            return plan

        first = install()
        assert sorted(first.create) == sorted(
            ["ORDERS_CREATE", "ORDERS_UPDATED", "ORDERS_CANCELLED", "INVENTORY_LEVELS_UPDATE", "PRODUCTS_UPDATE"]
        )
        assert {s.uri for s in fake.webhooks.subscriptions.values()} == {hook.url}
        assert install().create == [] and install().delete == []

        # Shopify removes a subscription whose deliveries kept failing: status says it is missing.
        product = fake.create_product("Kettle", variants=[{"sku": "KTL-1", "stock": 3}])
        hook.default = 500
        fake.set_available(product.variant_ids[0], 9)
        assert fake.wait_for_deliveries(10)
        [status] = asyncio.run(subscriptions.survey_stores(config, config.stores, environ, transports))
        assert not status.healthy
        assert {t.topic for t in status.topics if t.status == "missing"} == {
            "INVENTORY_LEVELS_UPDATE",
            "PRODUCTS_UPDATE",
        }

        hook.default = 200
        assert sorted(install().create) == ["INVENTORY_LEVELS_UPDATE", "PRODUCTS_UPDATE"]
        fake.set_available(product.variant_ids[0], 4)
        assert fake.wait_for_deliveries(10)
        delivered = [r for r in hook.received if r.header("X-Shopify-Topic") == "inventory_levels/update"]
        assert delivered[-1].signed_with(environ["US_SHOP_CLIENT_SECRET"], "X-Shopify-Hmac-Sha256")

        [removed] = asyncio.run(subscriptions.remove(config, config.stores, environ, transports))
        assert len(removed.delete) == 5
        assert fake.webhooks.subscriptions == {}


def test_status_as_json_lists_each_topic_with_its_subscription(shop, hook, capsys):
    assert shop.cli("webhooks", "install") == 0
    capsys.readouterr()

    assert shop.cli("webhooks", "status", "--json") == 0

    [store] = json.loads(capsys.readouterr().out)["stores"]
    assert store["address"] == hook.url
    assert {t["topic"]: t["status"] for t in store["topics"]} == dict.fromkeys(WOO_TOPICS, "active")
    assert sorted(i for t in store["topics"] for i in t["ids"]) == sorted(str(w.id) for w in shop.fake.webhooks)
