"""Store webhook deliveries as the platforms send them: headers, signatures and payload shapes.

`deliver` signs and posts one delivery to the daemon's listener. The sandboxes will send their
own deliveries; until a test drives them, it builds the payload from the fake's records in
the documented shapes (WooCommerce: the REST v3 resource; Shopify: the REST webhook payload).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import httpx

from stockstatus.adapters.shopify.fake import FakeShopify
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
