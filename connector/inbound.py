"""Webhook deliveries from the stores: verified, identified and mapped to the items they touch.

Pure functions over a delivery's headers and raw body (no I/O), one reader per platform whose
delivery format is documented:

- WooCommerce signs the raw body with the webhook's secret (`X-WC-Webhook-Signature`: base64
  HMAC-SHA256) and names the delivery with `X-WC-Webhook-ID` and `X-WC-Webhook-Delivery-ID` (a
  hash of the webhook and the second: with the body's digest, one delivery);
  the topic is `X-WC-Webhook-Topic` (`order.created`, `product.updated`, ...), the body the
  resource as the REST API v3 shows it. Saving a webhook first sends an unsigned ping (a form
  body `webhook_id=N`) that must be answered 2xx, or WooCommerce refuses to save the webhook.
- Shopify signs with the app's client secret (`X-Shopify-Hmac-Sha256`: base64 HMAC-SHA256),
  names the event with `X-Shopify-Event-Id` (the same across the subscriptions it fans out to)
  and the delivery with `X-Shopify-Webhook-Id`, and says when it fired (`X-Shopify-Triggered-At`);
  the topic is `X-Shopify-Topic` (`orders/create`, `inventory_levels/update`, ...).

Signatures are compared in constant time (`hmac.compare_digest`). What a delivery touched is
read from its body only to choose items: the pass then reads the store itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from stockstatus.core.sync.targeted import Touched


class Refused(Exception):
    """A delivery not taken: the HTTP status to answer and why (said to the sender and logged)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Ping:
    """WooCommerce's test delivery when a webhook is saved: answered 200, nothing else."""


@dataclass(frozen=True, slots=True)
class Verified:
    """A delivery whose signature checked out."""

    delivery_id: str
    topic: str
    touched: Touched
    triggered_at: datetime | None = None
    """When the platform says the event fired (Shopify), for telling a replay."""


Reader = Callable[[Mapping[str, str], bytes, str], "Ping | Verified"]


def signature(secret: str, body: bytes) -> str:
    """Base64 HMAC-SHA256 of `body`: how both platforms sign a delivery."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _check_signature(given: str | None, header: str, secret: str, body: bytes) -> None:
    if not given:
        raise Refused(401, f"unsigned: no {header} header")
    if not hmac.compare_digest(signature(secret, body).encode(), given.strip().encode()):
        raise Refused(401, f"{header} does not match the body signed with the store's webhook secret")


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _id(value: Any) -> str | None:
    """A platform id from a payload (an int, or digits as text); None for 0, absent or anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value > 0:
        return str(value)
    if isinstance(value, str) and value.isdigit() and int(value) > 0:
        return value
    return None


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


_PING = re.compile(rb"webhook_id=\d+")


def read_woocommerce(headers: Mapping[str, str], body: bytes, secret: str) -> Ping | Verified:
    """A WooCommerce delivery, verified; Refused when it must not be taken."""
    given = headers.get("X-WC-Webhook-Signature")
    if not given and not headers.get("X-WC-Webhook-Topic") and _PING.fullmatch(body.strip()):
        return Ping()
    _check_signature(given, "X-WC-Webhook-Signature", secret, body)
    topic = headers.get("X-WC-Webhook-Topic") or ""
    delivery = headers.get("X-WC-Webhook-Delivery-ID")
    if not delivery:
        raise Refused(400, "no X-WC-Webhook-Delivery-ID header: a delivery cannot be told from its repeat")
    # WooCommerce's delivery id is a hash of the webhook's id and the second it was sent: every
    # delivery of one webhook within a second shares it. The body's digest tells them apart,
    # while a repeat of one delivery (same body) is still one.
    digest = hashlib.sha256(body).hexdigest()[:16]
    delivery_id = f"{headers.get('X-WC-Webhook-ID') or '?'}:{delivery}:{digest}"
    return Verified(delivery_id, topic, woocommerce_touched(topic, _json(body)))


def woocommerce_touched(topic: str, payload: Any) -> Touched:
    """What a WooCommerce delivery touched (REST v3 shapes); unknown for what it cannot map."""
    resource, _, event = topic.partition(".")
    if not isinstance(payload, dict) or event in ("deleted", "restored"):
        return Touched.unknown()  # a deleted resource carries only its id
    if resource == "order":
        keys, skus = [], []
        for line in payload.get("line_items") or ():
            if not isinstance(line, dict):
                return Touched.unknown()
            product, variation = _id(line.get("product_id")), _id(line.get("variation_id"))
            if product is None:
                return Touched.unknown()
            keys.append(f"{product}/{variation}" if variation else product)
            skus.append(_text(line.get("sku")))
        return Touched.of(keys=keys, skus=skus)
    if resource == "product":
        product, parent = _id(payload.get("id")), _id(payload.get("parent_id"))
        if product is None:
            return Touched.unknown()
        if parent is not None:  # a variation, sent under the product topics
            return Touched.of(keys=[f"{parent}/{product}"], skus=[_text(payload.get("sku"))])
        return Touched.of(keys=[product], products=[product])
    return Touched.unknown()


def read_shopify(headers: Mapping[str, str], body: bytes, secret: str) -> Ping | Verified:
    """A Shopify delivery, verified; Refused when it must not be taken."""
    _check_signature(headers.get("X-Shopify-Hmac-Sha256"), "X-Shopify-Hmac-Sha256", secret, body)
    topic = headers.get("X-Shopify-Topic") or ""
    # One event reaches each subscription with its own webhook id but the same event id.
    delivery_id = headers.get("X-Shopify-Event-Id") or headers.get("X-Shopify-Webhook-Id")
    if not delivery_id:
        raise Refused(400, "no X-Shopify-Event-Id or X-Shopify-Webhook-Id header: a repeat could not be told")
    triggered_at = None
    if when := headers.get("X-Shopify-Triggered-At"):
        try:
            triggered_at = datetime.fromisoformat(when.replace("Z", "+00:00"))
        except ValueError:
            raise Refused(400, "X-Shopify-Triggered-At is not a date and time") from None
        if triggered_at.tzinfo is None:
            raise Refused(400, "X-Shopify-Triggered-At has no time zone")
    return Verified(delivery_id, topic, shopify_touched(topic, _json(body)), triggered_at)


def shopify_touched(topic: str, payload: Any) -> Touched:
    """What a Shopify delivery touched (REST webhook payload shapes); unknown for what it cannot map.

    `inventory_levels/update` names an inventory item, not a variant: the level's change is what
    the incremental pull reads (inventory levels by `updated_at`), so it maps to that pull alone.
    """
    resource, _, event = topic.partition("/")
    if not isinstance(payload, dict) or event == "delete":
        return Touched.unknown()
    if resource == "orders":
        keys, products, skus = [], [], []
        for line in payload.get("line_items") or ():
            if not isinstance(line, dict):
                return Touched.unknown()
            variant, product = _id(line.get("variant_id")), _id(line.get("product_id"))
            if variant is None and product is None:
                return Touched.unknown()  # a custom line: no item of the store
            keys.extend([variant] if variant else [])
            products.extend([product] if product and not variant else [])
            skus.append(_text(line.get("sku")))
        return Touched.of(keys=keys, products=products, skus=skus)
    if resource == "products":
        product = _id(payload.get("id"))
        if product is None:
            return Touched.unknown()
        variants = [_id(v.get("id")) for v in payload.get("variants") or () if isinstance(v, dict)]
        return Touched.of(keys=[v for v in variants if v], products=[product])
    return Touched.unknown()


READERS: Mapping[str, Reader] = {"woocommerce": read_woocommerce, "shopify": read_shopify}
"""Each platform's delivery reader, by platform name. A platform without one receives no webhooks
(its deliveries are refused with 404) and is kept current by its scheduled passes."""
