"""Mutations of stock: inventorySetQuantities and inventoryAdjustQuantities.

Both are all or nothing, compare each quantity with its mandatory `changeFromQuantity` first
(an explicit null skips the comparison), and run under the `@idempotent(key:)` directive Shopify
requires on them since 2026-04: a retried key answers the first answer without running again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from graphql import GraphQLError
from graphql.execution.values import get_directive_values

from stockstatus.adapters.shopify.fake.records import AdjustmentGroup, InventoryChange, InventoryItem, Json, parse_gid
from stockstatus.adapters.shopify.fake.store import Store
from stockstatus.adapters.shopify.fake.views import AdjustmentGroupView

__all__ = ["adjust_quantities", "idempotent", "set_quantities"]

INVENTORY_REASONS = frozenset(
    {
        "correction",
        "cycle_count_available",
        "damaged",
        "movement_canceled",
        "movement_created",
        "movement_received",
        "movement_updated",
        "other",
        "promotion",
        "quality_control",
        "received",
        "reservation_created",
        "reservation_deleted",
        "reservation_updated",
        "restock",
        "safety_stock",
        "shrinkage",
    }
)
"""The `reason` values inventorySetQuantities and inventoryAdjustQuantities accept (shopify.dev, inventory states)."""
MAX_INVENTORY_QUANTITY = 1_000_000_000
"""inventorySetQuantities refuses a quantity above this (INVALID_QUANTITY_TOO_HIGH)."""


def idempotent(store: Store, info: Any, mutation: str, arguments: Json, run: Callable[[], Json]) -> Json:
    """Run a mutation that Shopify requires an `@idempotent(key:)` directive on (inventory
    mutations, since 2026-04); a retried key answers the first answer without running again."""
    directive = info.schema.get_directive("idempotent")
    values = get_directive_values(directive, info.field_nodes[0], info.variable_values) if directive else None
    key = (values or {}).get("key")
    if key is None:
        raise GraphQLError(
            f'{mutation} requires an idempotency key: add @idempotent(key: "<a new UUID>") to the field.',
            extensions={
                "code": "BAD_REQUEST",
                "documentation": "https://shopify.dev/docs/api/usage/idempotent-requests",
            },
        )
    if not str(key).strip():
        raise GraphQLError(
            "The idempotency key cannot be an empty string or whitespace only.", extensions={"code": "BAD_REQUEST"}
        )
    fingerprint = json.dumps(arguments, sort_keys=True, default=str)
    if key in store.idempotency_keys:
        earlier, earlier_arguments, answer = store.idempotency_keys[key]
        if (earlier, earlier_arguments) != (mutation, fingerprint):
            return {
                "inventoryAdjustmentGroup": None,
                "userErrors": [
                    {
                        "field": None,
                        "code": "IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
                        "message": "The same idempotency key cannot be used with different operation parameters.",
                    }
                ],
            }
        if answer["userErrors"]:
            return {
                "inventoryAdjustmentGroup": None,
                "userErrors": [
                    {
                        "field": None,
                        "code": "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED",
                        "message": "A previous request with this idempotency key failed. Retry with a new idempotency key.",
                    }
                ],
            }
        return answer
    answer = run()
    store.idempotency_keys[key] = (mutation, fingerprint, answer)
    return answer


def _inventory_target(
    store: Store, given: Json, where: list[str], errors: list[Json]
) -> tuple[InventoryItem, int] | None:
    """The (item, location) a quantity input names, or None after recording why not."""
    item = store.inventory_items.get(parse_gid(given["inventoryItemId"], "InventoryItem") or -1)
    location = store.locations.get(parse_gid(given["locationId"], "Location") or -1)
    if item is None:
        errors.append(
            {
                "field": [*where, "inventoryItemId"],
                "code": "INVALID_INVENTORY_ITEM",
                "message": "The specified inventory item could not be found.",
            }
        )
    elif location is None or not location.active:
        errors.append(
            {
                "field": [*where, "locationId"],
                "code": "INVALID_LOCATION",
                "message": "The specified location could not be found.",
            }
        )
    elif location.id not in item.levels:
        errors.append(
            {
                "field": [*where, "locationId"],
                "code": "INVALID_LOCATION",
                "message": "The specified inventory item is not stocked at the location.",
            }
        )
    else:
        return item, location.id
    return None


def _adjustment_group(store: Store, reason: str, reference: str | None, changes: list[InventoryChange]) -> Json:
    group = AdjustmentGroup(store.next_id(), store.stamp(), reason, reference, changes)
    store.adjustment_groups[group.id] = group
    return {"inventoryAdjustmentGroup": AdjustmentGroupView(store, group), "userErrors": []}


def set_quantities(store: Store, given: Json) -> Json:
    """inventorySetQuantities: absolute `available` or `on_hand` quantities, all or nothing, each
    compared with its `changeFromQuantity` first (explicit null skips the comparison)."""
    name, errors = given["name"], []
    if name not in ("available", "on_hand"):
        errors.append(
            {
                "field": ["input", "name"],
                "code": "INVALID_NAME",
                "message": "The quantity name must be either 'available' or 'on_hand'.",
            }
        )
    if given["reason"] not in INVENTORY_REASONS:
        errors.append(
            {"field": ["input", "reason"], "code": "INVALID_REASON", "message": "The specified reason is invalid."}
        )
    planned: list[tuple[InventoryItem, int, int]] = []
    seen: set[tuple[int, int]] = set()
    for index, quantity in enumerate(given["quantities"]):
        where = ["input", "quantities", str(index)]
        target = _inventory_target(store, quantity, where, errors)
        if "changeFromQuantity" not in quantity:
            errors.append(
                {
                    "field": [*where, "changeFromQuantity"],
                    "code": "COMPARE_QUANTITY_REQUIRED",
                    "message": "changeFromQuantity is required: give the quantity you expect, or null "
                    "to skip the comparison.",
                }
            )
        if not -MAX_INVENTORY_QUANTITY <= quantity["quantity"] <= MAX_INVENTORY_QUANTITY:
            high = quantity["quantity"] > 0
            errors.append(
                {
                    "field": [*where, "quantity"],
                    "code": "INVALID_QUANTITY_TOO_HIGH" if high else "INVALID_QUANTITY_TOO_LOW",
                    "message": f"The total quantity can't be {'higher' if high else 'lower'} than "
                    f"{'' if high else '-'}1,000,000,000.",
                }
            )
        elif name == "on_hand" and quantity["quantity"] < 0:
            errors.append(
                {
                    "field": [*where, "quantity"],
                    "code": "INVALID_QUANTITY_NEGATIVE",
                    "message": "The quantity can't be negative.",
                }
            )
        if target is None or name not in ("available", "on_hand"):
            continue
        item, location_id = target
        if (item.id, location_id) in seen:
            errors.append(
                {
                    "field": where,
                    "code": "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
                    "message": "The combination of inventoryItemId and locationId must be unique.",
                }
            )
            continue
        seen.add((item.id, location_id))
        current = item.levels[location_id].get(name, 0)
        expected = quantity.get("changeFromQuantity")
        if expected is not None and expected != current:
            errors.append(
                {
                    "field": [*where, "changeFromQuantity"],
                    "code": "CHANGE_FROM_QUANTITY_STALE",
                    "message": "The changeFromQuantity value does not match persisted value.",
                }
            )
        planned.append((item, location_id, quantity["quantity"] - current))
    if errors:
        return {"inventoryAdjustmentGroup": None, "userErrors": errors}
    other = "on_hand" if name == "available" else "available"
    changes = [
        change
        for item, location_id, delta in planned
        for change in store.move(item, location_id, {name: delta, other: delta})
    ]
    return _adjustment_group(store, given["reason"], given.get("referenceDocumentUri"), changes)


def adjust_quantities(store: Store, given: Json) -> Json:
    """inventoryAdjustQuantities: `available` moved by deltas, all or nothing, each compared with
    its `changeFromQuantity` first (explicit null skips the comparison)."""
    errors: list[Json] = []
    if given["name"] != "available":
        errors.append(
            {
                "field": ["input", "name"],
                "code": "INVALID_QUANTITY_NAME",
                "message": "The specified quantity name is invalid. (The fake Shopify adjusts `available` only.)",
            }
        )
    if given["reason"] not in INVENTORY_REASONS:
        errors.append(
            {"field": ["input", "reason"], "code": "INVALID_REASON", "message": "The specified reason is invalid."}
        )
    planned: list[tuple[InventoryItem, int, int]] = []
    running: dict[tuple[int, int], int] = {}
    for index, change in enumerate(given["changes"]):
        where = ["input", "changes", str(index)]
        target = _inventory_target(store, change, where, errors)
        if "changeFromQuantity" not in change:
            errors.append(
                {
                    "field": [*where, "changeFromQuantity"],
                    "code": None,
                    "message": "changeFromQuantity is required: give the quantity you expect, or null "
                    "to skip the comparison.",
                }
            )
        if change.get("ledgerDocumentUri"):
            errors.append(
                {
                    "field": [*where, "ledgerDocumentUri"],
                    "code": "INVALID_AVAILABLE_DOCUMENT",
                    "message": "A ledger document URI is not allowed when adjusting available.",
                }
            )
        if target is None:
            continue
        item, location_id = target
        current = running.get((item.id, location_id), item.levels[location_id].get("available", 0))
        expected = change.get("changeFromQuantity")
        if expected is not None and expected != current:
            errors.append(
                {
                    "field": [*where, "changeFromQuantity"],
                    "code": "CHANGE_FROM_QUANTITY_STALE",
                    "message": "The changeFromQuantity argument no longer matches the persisted quantity.",
                }
            )
        after = current + change["delta"]
        if not -2 * MAX_INVENTORY_QUANTITY <= after <= 2 * MAX_INVENTORY_QUANTITY:
            high = after > 0
            errors.append(
                {
                    "field": [*where, "delta"],
                    "code": "INVALID_QUANTITY_TOO_HIGH" if high else "INVALID_QUANTITY_TOO_LOW",
                    "message": f"The quantity can't be {'higher' if high else 'lower'} than "
                    f"{'' if high else '-'}2,000,000,000.",
                }
            )
        running[(item.id, location_id)] = after
        planned.append((item, location_id, change["delta"]))
    if errors:
        return {"inventoryAdjustmentGroup": None, "userErrors": errors}
    changes = [
        change
        for item, location_id, delta in planned
        for change in store.move(item, location_id, {"available": delta, "on_hand": delta})
    ]
    return _adjustment_group(store, given["reason"], given.get("referenceDocumentUri"), changes)
