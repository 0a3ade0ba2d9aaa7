"""webhookSubscriptionCreate / Update / Delete and the webhookSubscriptions query, as Shopify answers them."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from stockstatus.adapters.shopify.fake.records import Json, gid, iso, parse_gid
from stockstatus.adapters.shopify.fake.store import Store
from stockstatus.adapters.shopify.fake.webhooks import Dispatcher, Subscription, is_loopback

__all__ = ["create", "delete", "subscription_view", "update"]

# Which scope a subscription to each topic needs (Shopify checks the topic's resource).
TOPIC_SCOPES = {
    "ORDERS_CREATE": "read_orders",
    "ORDERS_UPDATED": "read_orders",
    "ORDERS_CANCELLED": "read_orders",
    "INVENTORY_LEVELS_UPDATE": "read_inventory",
    "PRODUCTS_UPDATE": "read_products",
}


def subscription_view(subscription: Subscription) -> Json:
    """A WebhookSubscription object (the fake's schema keeps its fields that are not deprecated)."""
    return {
        "id": gid("WebhookSubscription", subscription.id),
        "legacyResourceId": str(subscription.id),
        "topic": subscription.topic,
        "uri": subscription.uri,
        "name": subscription.name,
        "format": subscription.format,
        "filter": subscription.filter,
        "includeFields": list(subscription.include_fields),
        "metafieldNamespaces": list(subscription.metafield_namespaces),
        "apiVersion": {"handle": subscription.api_version, "displayName": subscription.api_version, "supported": True},
        "createdAt": iso(subscription.created_at),
        "updatedAt": iso(subscription.updated_at),
    }


def _uri_errors(dispatcher: Dispatcher, topic: str, uri: str | None, own_id: int | None) -> list[Json]:
    field = ["webhookSubscription", "callbackUrl"]
    if not uri:
        return [{"field": field, "message": "Address can't be blank"}]
    parts = urlsplit(uri)
    if not parts.hostname or parts.scheme not in ("https", "http"):
        return [{"field": field, "message": "Address is invalid"}]
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        # Shopify delivers over HTTPS only; the fake lets a loopback receiver take plain http.
        return [{"field": field, "message": "Address protocol http:// is not supported"}]
    if any(s.topic == topic and s.uri == uri and s.id != own_id for s in dispatcher.subscriptions.values()):
        return [{"field": field, "message": "Address for this topic has already been taken"}]
    return []


def create(store: Store, dispatcher: Dispatcher, topic: str, given: Json, api_version: str) -> Json:
    uri = given.get("uri") or given.get("callbackUrl")
    errors = _uri_errors(dispatcher, topic, uri, None)
    if errors:
        return {"webhookSubscription": None, "userErrors": errors}
    now = store.stamp()
    subscription = Subscription(
        id=store.next_id(),
        topic=topic,
        uri=str(uri),
        api_version=api_version,
        created_at=now,
        updated_at=now,
        name=given.get("name"),
        format=given.get("format") or "JSON",
        filter=given.get("filter"),
        include_fields=list(given.get("includeFields") or []),
        metafield_namespaces=list(given.get("metafieldNamespaces") or []),
    )
    with dispatcher.lock:
        dispatcher.subscriptions[subscription.id] = subscription
    return {"webhookSubscription": subscription_view(subscription), "userErrors": []}


def update(store: Store, dispatcher: Dispatcher, subscription_id: str, given: Json) -> Json:
    found = dispatcher.subscriptions.get(parse_gid(subscription_id, "WebhookSubscription") or -1)
    if found is None:
        return {
            "webhookSubscription": None,
            "userErrors": [{"field": ["id"], "message": "Webhook subscription does not exist"}],
        }
    uri = given.get("uri") or given.get("callbackUrl")
    if uri:
        errors = _uri_errors(dispatcher, found.topic, uri, found.id)
        if errors:
            return {"webhookSubscription": None, "userErrors": errors}
        found.uri = str(uri)
    for key, attribute in (("name", "name"), ("format", "format"), ("filter", "filter")):
        if key in given and given[key] is not None:
            setattr(found, attribute, given[key])
    if given.get("includeFields") is not None:
        found.include_fields = list(given["includeFields"])
    if given.get("metafieldNamespaces") is not None:
        found.metafield_namespaces = list(given["metafieldNamespaces"])
    found.updated_at = store.stamp()
    return {"webhookSubscription": subscription_view(found), "userErrors": []}


def delete(dispatcher: Dispatcher, subscription_id: str) -> Json:
    number = parse_gid(subscription_id, "WebhookSubscription") or -1
    with dispatcher.lock:
        found = dispatcher.subscriptions.pop(number, None)
    if found is None:
        return {
            "deletedWebhookSubscriptionId": None,
            "userErrors": [{"field": ["id"], "message": "Webhook subscription does not exist"}],
        }
    return {"deletedWebhookSubscriptionId": subscription_id, "userErrors": []}


def matches(subscription: Subscription, args: dict[str, Any]) -> bool:
    """The webhookSubscriptions filters the fake knows: topics, uri, format."""
    if args.get("topics") and subscription.topic not in args["topics"]:
        return False
    if args.get("uri") and subscription.uri != args["uri"]:
        return False
    return not (args.get("format") and subscription.format != args["format"])
