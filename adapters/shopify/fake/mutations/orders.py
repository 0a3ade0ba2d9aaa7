"""Mutations of orders: orderUpdate (the note), orderCreate and orderCancel.

orderCreate takes stock as `options.inventoryBehaviour` says: BYPASS, Shopify's default, takes
none; DECREMENT_IGNORING_POLICY commits it; DECREMENT_OBEYING_POLICY refuses a tracked DENY
variant short of stock. orderCancel answers a Job, and `restock` puts committed units back.
"""

from __future__ import annotations

from datetime import UTC, datetime

from stockstatus.adapters.shopify.fake.mutations import MAX_INPUT_LIST
from stockstatus.adapters.shopify.fake.records import Json, LineItem, Variant, gid, parse_gid
from stockstatus.adapters.shopify.fake.store import Store
from stockstatus.adapters.shopify.fake.views import OrderView

__all__ = ["cancel_order_from_input", "create_order_from_input", "update_order"]


def update_order(store: Store, given: Json) -> Json:
    """orderUpdate: the fields the fake knows (`note`, overwritten as a whole, like Shopify)."""
    order = store.orders.get(parse_gid(given["id"], "Order") or -1)
    if order is None:
        return {"order": None, "userErrors": [{"field": ["id"], "message": "Order does not exist"}]}
    if "note" in given and given["note"] != order.note:
        order.note = given["note"]
        order.updated_at = store.stamp()
        store.event("ORDERS_UPDATED", order.id)
    return {"order": OrderView(store, order), "userErrors": []}


def create_order_from_input(store: Store, given: Json, options: Json) -> Json:
    """orderCreate: line items by variant (or custom ones by title); stock is claimed as
    `options.inventoryBehaviour` says — by default (BYPASS) none is."""
    behaviour = options.get("inventoryBehaviour") or "BYPASS"
    errors: list[Json] = []

    def refuse(path: list[str], message: str, code: str = "INVALID") -> None:
        errors.append({"field": ["order", *path], "message": message, "code": code})

    wanted: list[tuple[Variant | None, Json]] = []
    lines = given.get("lineItems") or []
    if not lines:
        refuse(["lineItems"], "An order needs at least one line item.")
    elif len(lines) > MAX_INPUT_LIST:
        refuse(["lineItems"], f"Input exceeds {MAX_INPUT_LIST} items")
    for index, line in enumerate(lines):
        where = ["lineItems", str(index)]
        variant = None
        if line["quantity"] < 1:
            refuse([*where, "quantity"], "Quantity must be greater than or equal to 1.")
        if line.get("variantId"):
            variant = store.variants.get(parse_gid(line["variantId"], "ProductVariant") or -1)
            if variant is None:
                refuse([*where, "variantId"], "Product variant does not exist.")
        elif not (line.get("title") or "").strip():
            refuse([*where, "title"], "Title can't be blank for a line item without a variant.")
        wanted.append((variant, line))
    processed_at = None
    if given.get("processedAt"):
        try:
            processed_at = datetime.fromisoformat(str(given["processedAt"]))
        except ValueError:
            refuse(["processedAt"], "Processed at is not a valid date and time.", "PROCESSED_AT_INVALID")
        else:  # 2026-07 and later clamp a future time to now
            processed_at = min(processed_at if processed_at.tzinfo else processed_at.replace(tzinfo=UTC), store.stamp())
    if not errors and behaviour == "DECREMENT_OBEYING_POLICY":
        ordered: dict[int, int] = {}
        for variant, line in wanted:
            if variant is not None:
                ordered[variant.id] = ordered.get(variant.id, 0) + line["quantity"]
        for variant_id, quantity in ordered.items():
            variant = store.variants[variant_id]
            item = store.inventory_items[variant.inventory_item_id]
            if not item.tracked or variant.inventory_policy != "DENY":
                continue
            location_id = store.claim_location(item)
            available = item.levels[location_id].get("available", 0) if location_id is not None else 0
            if available < quantity:
                index = next(i for i, (v, _) in enumerate(wanted) if v is not None and v.id == variant_id)
                refuse(
                    ["lineItems", str(index)],
                    f"Unable to claim inventory for {variant.sku or variant.title}: "
                    f"{max(available, 0)} available, {quantity} ordered.",
                    "INVENTORY_CLAIM_FAILED",
                )
    if errors:
        return {"order": None, "userErrors": errors}
    items = []
    for variant, line in wanted:
        claimed = store.claim(variant, line["quantity"]) if variant and behaviour != "BYPASS" else None
        title = store.products[variant.product_id].title if variant else str(line.get("title"))
        items.append(
            LineItem(
                store.next_id(),
                variant.id if variant else None,
                variant.sku if variant else line.get("sku"),
                line["quantity"],
                title=title,
                claimed_at=claimed,
            )
        )
    order = store.file_order(
        items,
        processed_at=processed_at,
        email=given.get("email"),
        note=given.get("note"),
        tags=list(dict.fromkeys(t.strip() for t in given.get("tags") or () if t.strip())),
    )
    return {"order": OrderView(store, order), "userErrors": []}


def cancel_order_from_input(store: Store, order_id: str, reason: str, restock: bool, staff_note: str | None) -> Json:
    """orderCancel: answers a Job (Shopify cancels asynchronously; the fake has already done it)."""
    order = store.orders.get(parse_gid(order_id, "Order") or -1)
    errors: list[Json] = []
    if order is None:
        errors.append({"field": ["orderId"], "message": "Order does not exist", "code": "NOT_FOUND"})
    elif order.cancelled_at is not None:
        errors.append({"field": ["orderId"], "message": "Order has already been cancelled", "code": "INVALID"})
    elif staff_note is not None and len(staff_note) > 255:
        errors.append(
            {
                "field": ["staffNote"],
                "message": "Staff note is too long (maximum is 255 characters)",
                "code": "INVALID",
            }
        )
    if errors or order is None:
        plain = [{"field": e["field"], "message": e["message"]} for e in errors]
        return {"job": None, "orderCancelUserErrors": errors, "userErrors": plain}
    store.cancel_order(order.id, reason=reason, restock=restock)
    job = store.next_id()
    store.jobs.add(job)
    return {"job": {"id": gid("Job", job), "done": False}, "orderCancelUserErrors": [], "userErrors": []}
