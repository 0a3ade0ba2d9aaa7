"""Webhook bodies: the shop's records in the REST Admin API's shape, as Shopify sends them.

Webhooks still carry REST resources (snake_case keys, numeric ids next to `admin_graphql_api_id`,
times in the shop's timezone with their offset). The fake renders the fields it keeps; what it
does not keep (prices, addresses, taxes) is left out rather than invented.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from .records import InventoryItem, Json, Order, Product, gid
from .store import Store

__all__ = ["inventory_level", "order", "product"]


def _time(store: Store, moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(ZoneInfo(store.iana_timezone)).replace(microsecond=0).isoformat()


def order(store: Store, record: Order) -> Json:
    """An order as orders/create, orders/updated and orders/cancelled carry it."""
    status = record.fulfillment_status
    line_items = []
    for line in record.lines:
        variant = store.variants.get(line.variant_id or -1)
        line_items.append(
            {
                "id": line.id,
                "admin_graphql_api_id": gid("LineItem", line.id),
                "variant_id": line.variant_id,
                "product_id": variant.product_id if variant else None,
                "sku": line.sku,
                "title": line.title,
                "variant_title": variant.title if variant else None,
                "quantity": line.quantity,
                "current_quantity": line.quantity,
                "fulfillable_quantity": 0 if record.cancelled_at else line.quantity - line.fulfilled,
                "fulfillment_status": "fulfilled" if line.fulfilled >= line.quantity else None,
            }
        )
    return {
        "id": record.id,
        "admin_graphql_api_id": gid("Order", record.id),
        "name": record.name,
        "email": record.email,
        "created_at": _time(store, record.created_at),
        "updated_at": _time(store, record.updated_at or record.created_at),
        "processed_at": _time(store, record.processed_at),
        "cancelled_at": _time(store, record.cancelled_at),
        "cancel_reason": record.cancel_reason.lower() if record.cancel_reason else None,
        "closed_at": _time(store, record.closed_at),
        "test": record.test,
        "tags": ", ".join(record.tags),
        "note": record.note,
        "fulfillment_status": {"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial"}.get(status),
        "line_items": line_items,
    }


def product(store: Store, record: Product) -> Json:
    """A product with its variants, as products/update carries it."""
    variants: list[Json] = []
    for position, variant_id in enumerate(record.variant_ids, start=1):
        variant = store.variants[variant_id]
        item = store.inventory_items.get(variant.inventory_item_id)
        options: list[str | None] = [*variant.option_values, None, None, None]
        variants.append(
            {
                "id": variant.id,
                "admin_graphql_api_id": gid("ProductVariant", variant.id),
                "product_id": record.id,
                "title": variant.title,
                "sku": variant.sku,
                "position": position,
                "inventory_policy": variant.inventory_policy.lower(),
                "option1": options[0],
                "option2": options[1],
                "option3": options[2],
                "created_at": _time(store, variant.created_at),
                "updated_at": _time(store, variant.updated_at),
                "inventory_item_id": variant.inventory_item_id,
                "inventory_quantity": sum(level.get("available", 0) for level in item.levels.values()) if item else 0,
            }
        )
    return {
        "id": record.id,
        "admin_graphql_api_id": gid("Product", record.id),
        "title": record.title,
        "vendor": record.vendor,
        "product_type": record.product_type,
        "created_at": _time(store, record.created_at),
        "updated_at": _time(store, record.updated_at),
        "status": record.status.lower(),
        "tags": ", ".join(record.tags),
        "variants": variants,
        "options": [{"name": name, "position": n} for n, name in enumerate(record.options, start=1)],
        "variant_gids": [
            {"admin_graphql_api_id": v["admin_graphql_api_id"], "updated_at": _utc(store, v["updated_at"])}
            for v in variants
        ],
    }


def inventory_level(store: Store, item: InventoryItem, location_id: int) -> Json:
    """One inventory level, as inventory_levels/update carries it."""
    level = item.levels.get(location_id, {})
    return {
        "inventory_item_id": item.id,
        "location_id": location_id,
        "available": level.get("available", 0) if item.tracked else None,
        "updated_at": _time(store, item.level_updated_at.get(location_id)),
        "admin_graphql_api_id": f"gid://shopify/InventoryLevel/{location_id}?inventory_item_id={item.id}",
    }


def _utc(store: Store, local: str | None) -> str | None:
    # variant_gids carry UTC times ("...Z") where the rest of the body carries the shop's offset.
    if local is None:
        return None
    return datetime.fromisoformat(local).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
