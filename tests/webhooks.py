"""Store webhook deliveries as the platforms send them: headers, signatures and payload shapes.

`deliver` signs and posts one delivery to the daemon's listener. The sandboxes will send their
own deliveries; until a test drives them, it builds the payload from the fake's records in
the documented shapes (WooCommerce: the REST v3 resource; Shopify: the REST webhook payload).
"""

from __future__ import annotations

import asyncio
import math
import socket
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import httpx

from stockstatus.adapters.shopify.fake import FakeShopify
from stockstatus.adapters.shopify.fake import sandbox as shopify_sandbox
from stockstatus.adapters.woocommerce.auth import WooCommerceAuth
from stockstatus.adapters.woocommerce.fake import FakeWooCommerce
from stockstatus.adapters.woocommerce.fake import sandbox as woo_sandbox
from stockstatus.core import subscriptions
from stockstatus.core.daemon import Daemon
from stockstatus.core.inbound import signature


async def deliver(
    client: httpx.AsyncClient,
    url: str,
    platform: str,
    topic: str,
    payload: Any,
    secret: str | None,
    *,
    delivery_id: str | None = None,
    triggered_at: datetime | None = None,
    body: bytes | None = None,
    signed_body: bytes | None = None,
) -> httpx.Response:
    """POST one delivery as `platform` sends it, signed with `secret` (None: unsigned).

    `body` replaces the JSON of `payload` on the wire; `signed_body` is what the signature is
    computed over when it is not the body sent (a forged or altered delivery).
    """
    raw = body if body is not None else httpx.Request("POST", url, json=payload).content
    delivery_id = delivery_id or str(uuid.uuid4())
    headers = {"Content-Type": "application/json"}
    sig = signature(secret, signed_body if signed_body is not None else raw) if secret is not None else None
    if platform == "woocommerce":
        resource, _, event = topic.partition(".")
        headers |= {
            "X-WC-Webhook-Source": "https://shop.test/",
            "X-WC-Webhook-Topic": topic,
            "X-WC-Webhook-Resource": resource,
            "X-WC-Webhook-Event": event,
            "X-WC-Webhook-ID": "7",
            "X-WC-Webhook-Delivery-ID": delivery_id,
        }
        if sig is not None:
            headers["X-WC-Webhook-Signature"] = sig
    else:
        headers |= {
            "X-Shopify-Topic": topic,
            "X-Shopify-Shop-Domain": "sandbox.myshopify.com",
            "X-Shopify-API-Version": "2026-10",
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
            "X-Shopify-Event-Id": delivery_id,
        }
        if triggered_at is not None:
            headers["X-Shopify-Triggered-At"] = triggered_at.isoformat()
        if sig is not None:
            headers["X-Shopify-Hmac-Sha256"] = sig
    return await client.post(url, content=raw, headers=headers)


def shopify_order_payload(shop: FakeShopify, order_id: int) -> dict[str, Any]:
    """An `orders/create` payload for one of the fake's orders (the REST webhook shape)."""
    order = shop.orders[order_id]
    return {
        "id": order.id,
        "name": order.name,
        "created_at": order.created_at.isoformat(),
        "line_items": [
            {
                "id": line.id,
                "variant_id": line.variant_id,
                "product_id": shop.variants[line.variant_id].product_id if line.variant_id else None,
                "sku": line.sku,
                "quantity": line.quantity,
            }
            for line in order.lines
        ],
    }


# --- order placed → status, ETA and message written: both sandboxes over loopback HTTP ----------

LATENCY_CONFIG = """
state = "state.sqlite"
timezone = "Europe/Berlin"

[listen]
address = "127.0.0.1:{port}"
public_url = "{public_url}"

[[stores]]
name = "woo"
platform = "woocommerce"
url = "{woo_url}"
key_env = "WC_KEY"
secret_env = "WC_SECRET"
webhook_secret_env = "WC_WEBHOOKS"
schedule = "every 1h"

[[stores]]
name = "shopify"
platform = "shopify"
shop = "{shop}"
token_env = "SHOP_TOKEN"
webhook_secret_env = "SHOP_WEBHOOKS"
schedule = "every 1h"

[[rules]]
name = "restock due"
when = {{ available = "<= 0", eta_within_days = 60 }}
then = {{ status = "backorder", eta = "restock_date", message = "Ships by {{eta:%-d %B}}" }}

[[rules]]
name = "on the shelf"
when = {{}}
then = {{ status = "in_stock" }}
"""
WEBHOOK_SECRETS = {"woocommerce": "wc-hooks-" + "w" * 24, "shopify": "shpss-app-" + "s" * 24}
BUY = """mutation Buy($order: OrderCreateOrderInput!, $options: OrderCreateOptionsInput) {
  orderCreate(order: $order, options: $options) { order { id } userErrors { message } } }"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class StoreClock(Protocol):
    """The clock the stores and the connector share, which the rig moves on between orders."""

    def __call__(self) -> datetime: ...

    def advance(self, minutes: float) -> None: ...


ORDERS_MINUTES_APART = 2.0


async def order_to_write_latency(
    folder: Path, orders: int, clock: StoreClock, *, sandboxes_send: bool = False, poll: float = 0.005
) -> dict[str, list[float]]:
    """Seconds from an order placed through each sandbox's API (and its delivery posted) to the
    item's new status, ETA, message and selling policy (past zero, by the ETA) written in that
    store, for `orders` orders per platform.

    Each order takes the last unit of an item of its own, so each one changes what the store
    must show. The daemon runs with its listener; its scheduled passes are hourly, so only the
    deliveries can bring the writes in time. `answer`: seconds from posting each delivery to
    the listener's answer (the pass is queued, never run in the request).

    `sandboxes_send`: the subscriptions are installed (`connector webhooks install`) and the
    sandboxes send the deliveries themselves, as the platforms do; otherwise each delivery is
    built from the order and posted by `deliver` (and `answer` is measured).
    """
    restock = (clock().astimezone(ZoneInfo("Europe/Berlin")).date() + timedelta(days=10)).isoformat()
    woo = FakeWooCommerce(base_url="http://127.0.0.1", now=clock)
    woo_server = woo_sandbox.serve(woo, "127.0.0.1", 0)
    woo.base_url = f"http://127.0.0.1:{woo_server.server_address[1]}"
    # A delivery the stopped daemon can no longer take is retried at once, not a minute later
    # in another test, so that the stores owe nothing once this one ends.
    shop = FakeShopify("sandbox.myshopify.com", now=clock, webhook_retry_delays=(0.0,) * 8)
    shop_server = shopify_sandbox.serve(shop)
    shop.base_url = f"http://127.0.0.1:{shop_server.server_address[1]}"
    shop.add_location("Warehouse")
    mugs = [
        woo.create_product(
            name=f"Mug {n}",
            sku=f"MUG-W{n}",
            manage_stock=True,
            stock_quantity=1,
            meta_data=[{"key": "restock_date", "value": restock}],
        )["id"]
        for n in range(orders)
    ]
    kettles = [
        shop.create_product(
            f"Kettle {n}",
            variants=[{"sku": f"KTL-S{n}", "stock": 1}],
            metafields={"custom.restock_date": ("date", restock)},
        ).variant_ids[0]
        for n in range(orders)
    ]
    shop.client_secret = WEBHOOK_SECRETS["shopify"]  # the app's, which signs its deliveries
    port = free_port() if sandboxes_send else 0
    config = folder / "connector.toml"
    config.write_text(
        LATENCY_CONFIG.format(
            woo_url=woo.base_url,
            shop=shop.base_url.removeprefix("http://"),
            port=port,
            public_url=f"http://127.0.0.1:{port}" if sandboxes_send else "https://connector.example.com",
        )
    )
    environ = {
        "WC_KEY": woo.consumer_key,
        "WC_SECRET": woo.consumer_secret,
        "SHOP_TOKEN": shop.access_token,
        "WC_WEBHOOKS": WEBHOOK_SECRETS["woocommerce"],
        "SHOP_WEBHOOKS": WEBHOOK_SECRETS["shopify"],
    }

    def woo_shows(mug: int) -> bool:
        product = woo.get_product(mug)
        meta = {m["key"]: m["value"] for m in product["meta_data"]}
        return (
            meta.get("connector_status") == "backorder"
            and meta.get("connector_eta") == restock
            and bool(meta.get("connector_message"))
            and product["backorders"] != "no"  # may be sold past zero, to be shipped by the ETA
        )

    def shop_shows(variant: int) -> bool:
        return (
            shop.variant_metafield(variant, "connector.status") == "backorder"
            and shop.variant_metafield(variant, "connector.eta") == restock
            and bool(shop.variant_metafield(variant, "connector.message"))
            and shop.variants[variant].inventory_policy == "CONTINUE"
        )

    async def shown(check: Callable[[], bool], started: float) -> float:
        while not check():
            if time.perf_counter() - started > 60:
                raise AssertionError("not shown within a minute")
            await asyncio.sleep(poll)
        return time.perf_counter() - started

    async def woo_order(client: httpx.AsyncClient, url: str, mug: int) -> float:
        started = time.perf_counter()
        answer = await client.post(
            f"{woo.base_url}/wp-json/wc/v3/orders",
            json={"status": "processing", "line_items": [{"product_id": mug, "quantity": 1}]},
            auth=WooCommerceAuth(woo.consumer_key, woo.consumer_secret),
        )
        answer.raise_for_status()
        if sandboxes_send:
            return await shown(lambda: woo_shows(mug), started)
        answering = time.perf_counter()
        posted = await deliver(
            client, url, "woocommerce", "order.created", answer.json(), WEBHOOK_SECRETS["woocommerce"]
        )
        lags["answer"].append(time.perf_counter() - answering)
        posted.raise_for_status()
        return await shown(lambda: woo_shows(mug), started)

    async def shop_order(client: httpx.AsyncClient, url: str, variant: int) -> float:
        started = time.perf_counter()
        answer = await client.post(
            f"{shop.base_url}/admin/api/2026-10/graphql.json",
            json={
                "query": BUY,
                "variables": {
                    "order": {"lineItems": [{"variantId": f"gid://shopify/ProductVariant/{variant}", "quantity": 1}]},
                    "options": {"inventoryBehaviour": "DECREMENT_IGNORING_POLICY"},
                },
            },
            headers={"X-Shopify-Access-Token": shop.access_token},
        )
        order_id = int(answer.json()["data"]["orderCreate"]["order"]["id"].rsplit("/", 1)[1])
        if sandboxes_send:
            return await shown(lambda: shop_shows(variant), started)
        payload = shopify_order_payload(shop, order_id)
        answering = time.perf_counter()
        posted = await deliver(
            client, url, "shopify", "orders/create", payload, WEBHOOK_SECRETS["shopify"], triggered_at=clock()
        )
        lags["answer"].append(time.perf_counter() - answering)
        posted.raise_for_status()
        return await shown(lambda: shop_shows(variant), started)

    daemon = Daemon(config, environ, clock=clock)
    serving = asyncio.create_task(daemon.serve())
    lags: dict[str, list[float]] = {"woocommerce": [], "shopify": [], "answer": []}
    try:
        await shown(lambda: daemon.runs >= 2, time.perf_counter())  # each store's first pass, at start
        assert daemon.listener is not None
        base = f"http://127.0.0.1:{daemon.listener.port}/webhooks"
        if sandboxes_send:
            for plan in await subscriptions.install(daemon.config, daemon.config.stores, environ):
                assert plan.error is None, plan.error
        async with httpx.AsyncClient(timeout=30) as client:
            for mug, variant in zip(mugs, kettles, strict=True):
                # Orders minutes apart on the stores' clock, as in a shop: each pass pulls what
                # changed since its bookmark (five minutes back), not every order so far.
                clock.advance(ORDERS_MINUTES_APART)
                woo_lag, shop_lag = await asyncio.gather(
                    woo_order(client, f"{base}/woo", mug), shop_order(client, f"{base}/shopify", variant)
                )
                lags["woocommerce"].append(woo_lag)
                lags["shopify"].append(shop_lag)
        if any(p.mode != "webhook" for p in list(daemon.passes)[2:]):
            raise AssertionError(f"a pass other than a targeted one ran: {list(daemon.passes)}")
    finally:
        daemon.stop()
        await asyncio.wait_for(serving, 30)
        # The connector's last writes made the stores owe deliveries, sent from threads of their
        # own: left running, they would reach the next tests (see tests/loopback_shop.py).
        owed = all(await asyncio.gather(*(asyncio.to_thread(s.wait_for_deliveries, 10) for s in (woo, shop))))
        for server in (woo_server, shop_server):
            server.shutdown()
            server.server_close()
    assert owed, "a store still owed webhook deliveries 10 s after the daemon stopped"
    return lags


def p(values: list[float], share: float) -> float:
    """The nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)), 1) - 1]
