"""The GraphQL object types of the fake, as views over the store's records.

graphql-core's default resolver reads attributes and calls methods (`method(info, **arguments)`),
so each view's properties and methods are its object type's fields. `connection` pages a list the
way Shopify pages one (cursors, `first`/`last` required and at most 250 outside a bulk operation);
`need_scope` answers ACCESS_DENIED for a field whose access scope the token lacks.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from graphql import GraphQLError

from .records import EPOCH, FulfillmentOrder, Json, gid, iso, namespace_of, parse_gid
from .search import search
from .store import Store

__all__ = ["View", "connection", "need_scope", "view_of"]

MAX_PAGE = 250


def need_scope(info: Any, scope: str, what: str) -> None:
    """Refuse the field `what` with ACCESS_DENIED unless the request's token has `scope` (a write
    scope grants the read one of its resource)."""
    granted = info.context["scopes"]
    if scope not in granted and scope.replace("read_", "write_", 1) not in granted:
        raise GraphQLError(
            f"Access denied for {what} field. Required access: `{scope}` access scope.",
            extensions={
                "code": "ACCESS_DENIED",
                "documentation": "https://shopify.dev/api/usage/access-scopes",
                "requiredAccess": f"`{scope}` access scope.",
            },
        )


def _cursor(number: int) -> str:
    return base64.b64encode(json.dumps({"last_id": number}).encode()).decode()


def _uncursor(value: str) -> int:
    try:
        return int(json.loads(base64.b64decode(value.encode(), validate=True))["last_id"])
    except (ValueError, KeyError, TypeError) as exc:
        raise GraphQLError(f"Invalid cursor for current pagination sort: {value}") from exc


def connection(items: Iterable[Any], info: Any, args: Mapping[str, Any], key: Callable[[Any], int]) -> Json:
    """A Relay connection over `items` (sorted by `key`), paged the way Shopify pages."""
    first, last = args.get("first"), args.get("last")
    bulk = info.context.get("bulk", False)
    if not bulk:
        if first is None and last is None:
            raise GraphQLError("you must provide one of first or last")
        for name, value in (("first", first), ("last", last)):
            if value is not None and not 0 <= value <= MAX_PAGE:
                raise GraphQLError(f"The {name} argument must be between 0 and {MAX_PAGE}.")
    ordered = sorted(items, key=key, reverse=bool(args.get("reverse")))
    if args.get("after"):
        after = _uncursor(args["after"])
        ordered = [x for x in ordered if (key(x) < after if args.get("reverse") else key(x) > after)]
    if args.get("before"):
        before = _uncursor(args["before"])
        ordered = [x for x in ordered if (key(x) > before if args.get("reverse") else key(x) < before)]
    has_next = has_previous = False
    page = ordered
    if first is not None:
        page, has_next = ordered[:first], len(ordered) > first
    if last is not None:
        has_previous = len(page) > last
        page = page[-last:] if last else []
    edges = [{"cursor": _cursor(key(x)), "node": x} for x in page]
    return {
        "edges": edges,
        "nodes": page,
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": has_previous or bool(args.get("after")),
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


class View:
    """A record seen as a GraphQL object; `typename` resolves the Node and error interfaces."""

    typename = ""

    def __init__(self, fake: Store, record: Any) -> None:
        self.fake = fake
        self.record = record


class HasMetafields(View):
    owner_kind = ""

    @property
    def owner(self) -> str:
        return gid(self.owner_kind, self.record.id)

    def metafield(self, info: Any, key: str, namespace: str | None = None) -> MetafieldView | None:
        found = self.fake.metafields.get((self.owner, namespace_of(namespace), key))
        return MetafieldView(self.fake, found) if found else None

    def metafields(self, info: Any, **args: Any) -> Json:
        owned = [m for (owner, _, _), m in self.fake.metafields.items() if owner == self.owner]
        if args.get("namespace"):
            owned = [m for m in owned if m.namespace == args["namespace"]]
        if args.get("keys"):
            owned = [m for m in owned if f"{m.namespace}.{m.key}" in args["keys"]]
        return connection([MetafieldView(self.fake, m) for m in owned], info, args, key=lambda v: v.record.id)


class MetafieldView(View):
    typename = "Metafield"

    @property
    def id(self) -> str:
        return gid("Metafield", self.record.id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.record, name)


class LocationView(View):
    typename = "Location"

    @property
    def id(self) -> str:
        return gid("Location", self.record.id)

    @property
    def name(self) -> str:
        return str(self.record.name)

    @property
    def isActive(self) -> bool:
        return bool(self.record.active)

    @property
    def fulfillsOnlineOrders(self) -> bool:
        return bool(self.record.fulfills_online_orders)

    @property
    def isFulfillmentService(self) -> bool:
        return bool(self.record.fulfillment_service)

    def inventoryLevels(self, info: Any, **args: Any) -> Json:
        need_scope(info, "read_inventory", "inventoryLevels")
        stocked = [
            (item, self.record.id) for item in self.fake.inventory_items.values() if self.record.id in item.levels
        ]
        found = search(info, stocked, self.fake.search_fields["inventoryLevels"], args.get("query"))
        return connection([LevelView(self.fake, level) for level in found], info, args, key=lambda v: v.record[0].id)

    def inventoryLevel(self, info: Any, inventoryItemId: str, includeInactive: bool = False) -> LevelView | None:
        need_scope(info, "read_inventory", "inventoryLevel")
        item = self.fake.inventory_items.get(parse_gid(inventoryItemId, "InventoryItem") or -1)
        return LevelView(self.fake, (item, self.record.id)) if item and self.record.id in item.levels else None


class ProductView(HasMetafields):
    typename = "Product"
    owner_kind = "Product"

    @property
    def id(self) -> str:
        return gid("Product", self.record.id)

    @property
    def title(self) -> str:
        return str(self.record.title)

    @property
    def tags(self) -> list[str]:
        return sorted(self.record.tags, key=str.lower)

    @property
    def vendor(self) -> str:
        return str(self.record.vendor)

    @property
    def productType(self) -> str:
        return str(self.record.product_type)

    @property
    def requiresSellingPlan(self) -> bool:
        return bool(self.record.requires_selling_plan)

    @property
    def status(self) -> str:
        return str(self.record.status)

    @property
    def isGiftCard(self) -> bool:
        return bool(self.record.gift_card)

    @property
    def createdAt(self) -> str:
        return iso(self.record.created_at)

    @property
    def updatedAt(self) -> str:
        return iso(self.record.updated_at)

    def variants(self, info: Any, **args: Any) -> Json:
        need_scope(info, "read_products", "variants")
        views = [VariantView(self.fake, self.fake.variants[v]) for v in self.record.variant_ids]
        return connection(views, info, args, key=lambda v: v.record.id)


class VariantView(HasMetafields):
    typename = "ProductVariant"
    owner_kind = "ProductVariant"

    @property
    def id(self) -> str:
        return gid("ProductVariant", self.record.id)

    @property
    def sku(self) -> str | None:
        return self.record.sku  # type: ignore[no-any-return]

    @property
    def title(self) -> str:
        return str(self.record.title)

    @property
    def displayName(self) -> str:
        return f"{self.fake.products[self.record.product_id].title} - {self.record.title}"

    @property
    def inventoryPolicy(self) -> str:
        return str(self.record.inventory_policy)

    @property
    def requiresComponents(self) -> bool:
        return bool(self.record.requires_components)

    @property
    def inventoryQuantity(self) -> int | None:
        item = self.fake.inventory_items[self.record.inventory_item_id]
        return sum(level.get("available", 0) for level in item.levels.values()) if item.tracked else None

    @property
    def inventoryItem(self) -> InventoryItemView:
        return InventoryItemView(self.fake, self.fake.inventory_items[self.record.inventory_item_id])

    @property
    def product(self) -> ProductView:
        return ProductView(self.fake, self.fake.products[self.record.product_id])

    @property
    def selectedOptions(self) -> list[Json]:
        names = self.fake.products[self.record.product_id].options
        return [{"name": n, "value": v} for n, v in zip(names, self.record.option_values, strict=False)]

    @property
    def createdAt(self) -> str:
        return iso(self.record.created_at)

    @property
    def updatedAt(self) -> str:
        return iso(self.record.updated_at)

    @property
    def sellingPlanGroupsCount(self) -> Json:
        return {"count": len(self.record.selling_plan_groups), "precision": "EXACT"}


class ShipmentView(View):
    typename = "InventoryShipment"

    @property
    def id(self) -> str:
        return gid("InventoryShipment", self.record.id)

    @property
    def name(self) -> str:
        return str(self.record.name)

    @property
    def status(self) -> str:
        return str(self.record.status)

    @property
    def tracking(self) -> Json:
        arrives = self.record.arrives_at
        return {"arrivesAt": iso(arrives) if arrives is not None else None}

    def lineItems(self, info: Any, **args: Any) -> Json:
        lines = [
            {
                "number": index + 1,
                "id": gid("InventoryShipmentLineItem", self.record.id * 1000 + index),
                "inventoryItem": InventoryItemView(self.fake, self.fake.inventory_items[item_id]),
                "quantity": quantity,
                "unreceivedQuantity": quantity - received,
            }
            for index, (item_id, quantity, received) in enumerate(self.record.lines)
        ]
        return connection(lines, info, args, key=lambda line: line["number"])


class MetafieldDefinitionView(View):
    typename = "MetafieldDefinition"

    @property
    def id(self) -> str:
        return gid("MetafieldDefinition", self.record.id)

    @property
    def name(self) -> str:
        return str(self.record.name)

    @property
    def namespace(self) -> str:
        return str(self.record.namespace)

    @property
    def key(self) -> str:
        return str(self.record.key)

    @property
    def ownerType(self) -> str:
        return str(self.record.owner_type)

    @property
    def type(self) -> Json:
        return {"name": self.record.type}

    @property
    def access(self) -> Json:
        return {"storefront": self.record.storefront}


class InventoryItemView(View):
    typename = "InventoryItem"

    @property
    def id(self) -> str:
        return gid("InventoryItem", self.record.id)

    @property
    def tracked(self) -> bool:
        return bool(self.record.tracked)

    @property
    def sku(self) -> str | None:
        return self.fake.variants[self.record.variant_id].sku

    @property
    def variant(self) -> VariantView:
        return VariantView(self.fake, self.fake.variants[self.record.variant_id])

    def variants(self, info: Any, **args: Any) -> Json:
        """The variants that use this item (one in the fake; none once its variant is deleted)."""
        found = self.fake.variants.get(self.record.variant_id)
        views = [VariantView(self.fake, found)] if found else []
        return connection(views, info, args, key=lambda v: v.record.id)

    def inventoryLevel(self, info: Any, locationId: str, includeInactive: bool = False) -> LevelView | None:
        need_scope(info, "read_inventory", "inventoryLevel")
        location_id = parse_gid(locationId, "Location")
        return LevelView(self.fake, (self.record, location_id)) if location_id in self.record.levels else None

    def inventoryLevels(self, info: Any, **args: Any) -> Json:
        need_scope(info, "read_inventory", "inventoryLevels")
        levels = [
            (self.record, location_id)
            for location_id in self.record.levels
            if args.get("includeInactive") or self.fake.locations[location_id].active
        ]
        found = search(info, levels, self.fake.search_fields["inventoryLevels"], args.get("query"))
        return connection([LevelView(self.fake, level) for level in found], info, args, key=lambda v: v.record[1])


class LevelView(View):
    typename = "InventoryLevel"

    @property
    def id(self) -> str:
        item, location_id = self.record
        return f"gid://shopify/InventoryLevel/{item.id}?inventory_item_id={item.id}&location_id={location_id}"

    @property
    def location(self) -> LocationView:
        return LocationView(self.fake, self.fake.locations[self.record[1]])

    @property
    def item(self) -> InventoryItemView:
        return InventoryItemView(self.fake, self.record[0])

    @property
    def createdAt(self) -> str:
        item, location_id = self.record
        return iso(item.level_created_at.get(location_id, EPOCH))

    @property
    def updatedAt(self) -> str:
        item, location_id = self.record
        return iso(item.level_updated_at.get(location_id, EPOCH))

    def quantities(self, info: Any, names: list[str]) -> list[Json]:
        item, location_id = self.record
        level = item.levels[location_id]
        known = {
            "available",
            "incoming",
            "committed",
            "on_hand",
            "reserved",
            "damaged",
            "safety_stock",
            "quality_control",
        }
        unknown = [n for n in names if n not in known]
        if unknown:
            raise GraphQLError(f"Invalid quantity names: {', '.join(unknown)}")
        return [
            {
                "id": f"gid://shopify/InventoryQuantity/{item.id}-{location_id}-{n}",
                "name": n,
                "quantity": level.get(n, 0),
            }
            for n in names
        ]


class OrderView(HasMetafields):
    typename = "Order"
    owner_kind = "Order"

    @property
    def id(self) -> str:
        return gid("Order", self.record.id)

    @property
    def name(self) -> str:
        return str(self.record.name)

    @property
    def createdAt(self) -> str:
        return iso(self.record.created_at)

    @property
    def processedAt(self) -> str:
        return iso(self.record.processed_at or self.record.created_at)

    @property
    def updatedAt(self) -> str:
        return iso(self.record.updated_at or self.record.created_at)

    @property
    def closed(self) -> bool:
        return bool(self.record.closed)

    @property
    def closedAt(self) -> str | None:
        return iso(self.record.closed_at) if self.record.closed_at else None

    @property
    def cancelledAt(self) -> str | None:
        return iso(self.record.cancelled_at) if self.record.cancelled_at else None

    @property
    def cancelReason(self) -> str | None:
        return self.record.cancel_reason  # type: ignore[no-any-return]

    @property
    def email(self) -> str | None:
        return self.record.email  # type: ignore[no-any-return]

    @property
    def tags(self) -> list[str]:
        return list(self.record.tags)

    @property
    def displayFulfillmentStatus(self) -> str:
        return str(self.record.fulfillment_status)

    @property
    def test(self) -> bool:
        return bool(self.record.test)

    def fulfillmentOrders(self, info: Any, **args: Any) -> Json:
        views = [WorkView(self.fake, work) for work in self.record.work if visible_work(info, self.fake, work)]
        return connection(views, info, args, key=lambda v: v.record.id)

    @property
    def note(self) -> str | None:
        return self.record.note  # type: ignore[no-any-return]

    def lineItems(self, info: Any, **args: Any) -> Json:
        views = [LineView(self.fake, line) for line in self.record.lines]
        return connection(views, info, args, key=lambda v: v.record.id)


class LineView(View):
    typename = "LineItem"

    @property
    def id(self) -> str:
        return gid("LineItem", self.record.id)

    @property
    def sku(self) -> str | None:
        return self.record.sku  # type: ignore[no-any-return]

    @property
    def quantity(self) -> int:
        return int(self.record.quantity)

    @property
    def unfulfilledQuantity(self) -> int:
        return int(self.record.quantity - self.record.fulfilled)

    @property
    def title(self) -> str:
        return str(self.record.title)

    @property
    def variant(self) -> VariantView | None:
        found = self.fake.variants.get(self.record.variant_id) if self.record.variant_id else None
        return VariantView(self.fake, found) if found else None


def visible_work(info: Any, fake: Store, work: FulfillmentOrder) -> bool:
    """Whether the request's token sees a fulfillment order: work at a merchant's own location needs
    the merchant-managed scope, at a fulfilment service's location the third-party one; without
    read_all_orders only the work of the last 60 days' orders shows."""
    scopes = info.context["scopes"]
    if fake.locations[work.location_id].fulfillment_service:
        allowed = scopes & {"read_third_party_fulfillment_orders", "write_third_party_fulfillment_orders"}
    else:
        allowed = scopes & {"read_merchant_managed_fulfillment_orders", "write_merchant_managed_fulfillment_orders"}
    return bool(allowed) and fake.visible_order(fake.orders[work.order_id], scopes)


class WorkView(View):
    """A fulfillment order: one location's work for an order."""

    typename = "FulfillmentOrder"

    @property
    def id(self) -> str:
        return gid("FulfillmentOrder", self.record.id)

    @property
    def status(self) -> str:
        return str(self.record.status)

    @property
    def fulfillAt(self) -> str | None:
        return iso(self.record.fulfill_at) if self.record.fulfill_at else None

    @property
    def createdAt(self) -> str:
        return iso(self.record.created_at)

    @property
    def updatedAt(self) -> str:
        return iso(self.record.updated_at)

    @property
    def assignedLocation(self) -> Json:
        location = self.fake.locations[self.record.location_id]
        return {"name": location.name, "location": LocationView(self.fake, location)}

    @property
    def order(self) -> OrderView:
        return OrderView(self.fake, self.fake.orders[self.record.order_id])

    @property
    def orderId(self) -> str:
        return gid("Order", self.record.order_id)

    @property
    def orderName(self) -> str:
        return str(self.fake.orders[self.record.order_id].name)

    def lineItems(self, info: Any, **args: Any) -> Json:
        lines = {line.id: line for line in self.fake.orders[self.record.order_id].lines}
        views = [WorkLineView(self.fake, (lines[i], left)) for i, left in self.record.remaining.items() if i in lines]
        return connection(views, info, args, key=lambda v: v.record[0].id)


class WorkLineView(View):
    """A fulfillment order line item: an order line and the units this location still has to ship."""

    typename = "FulfillmentOrderLineItem"

    @property
    def id(self) -> str:
        return gid("FulfillmentOrderLineItem", self.record[0].id)

    @property
    def remainingQuantity(self) -> int:
        return int(self.record[1])

    @property
    def totalQuantity(self) -> int:
        return int(self.record[0].quantity)

    @property
    def sku(self) -> str | None:
        return self.record[0].sku  # type: ignore[no-any-return]

    @property
    def variant(self) -> VariantView | None:
        found = self.fake.variants.get(self.record[0].variant_id) if self.record[0].variant_id else None
        return VariantView(self.fake, found) if found else None

    @property
    def lineItem(self) -> LineView:
        return LineView(self.fake, self.record[0])


class AdjustmentGroupView(View):
    typename = "InventoryAdjustmentGroup"

    @property
    def id(self) -> str:
        return gid("InventoryAdjustmentGroup", self.record.id)

    @property
    def createdAt(self) -> str:
        return iso(self.record.created_at)

    @property
    def reason(self) -> str:
        return str(self.record.reason)

    @property
    def referenceDocumentUri(self) -> str | None:
        return self.record.reference_document_uri  # type: ignore[no-any-return]

    def changes(
        self,
        info: Any,
        inventoryItemIds: list[str] | None = None,
        locationIds: list[str] | None = None,
        quantityNames: list[str] | None = None,
    ) -> list[Json]:
        items = {parse_gid(i, "InventoryItem") for i in inventoryItemIds} if inventoryItemIds is not None else None
        places = {parse_gid(i, "Location") for i in locationIds} if locationIds is not None else None
        return [
            {
                "name": change.name,
                "delta": change.delta,
                "quantityAfterChange": change.quantity_after,
                "ledgerDocumentUri": change.ledger_document_uri,
                "item": InventoryItemView(self.fake, self.fake.inventory_items[change.item_id])
                if change.item_id in self.fake.inventory_items
                else None,
                "location": LocationView(self.fake, self.fake.locations[change.location_id]),
            }
            for change in self.record.changes
            if (items is None or change.item_id in items)
            and (places is None or change.location_id in places)
            and (quantityNames is None or change.name in quantityNames)
        ]


class BulkView(View):
    typename = "BulkOperation"

    @property
    def id(self) -> str:
        return gid("BulkOperation", self.record.id)

    @property
    def status(self) -> str:
        return str(self.record.status)

    @property
    def errorCode(self) -> str | None:
        return self.record.error_code  # type: ignore[no-any-return]

    @property
    def objectCount(self) -> int:
        return len(self.record.lines) if self.record.status == "COMPLETED" else 0

    @property
    def rootObjectCount(self) -> int:
        return (
            sum(1 for line in self.record.lines if "__parentId" not in line) if self.record.status == "COMPLETED" else 0
        )

    @property
    def createdAt(self) -> str:
        return iso(self.record.created_at)

    @property
    def completedAt(self) -> str | None:
        return self.createdAt if self.record.status == "COMPLETED" else None

    @property
    def query(self) -> str:
        return str(self.record.query)

    @property
    def type(self) -> str:
        return str(self.record.type)

    @property
    def url(self) -> str | None:
        if self.record.status != "COMPLETED" or not self.record.lines:
            return None  # Shopify: no url when the query matched nothing
        return f"{self.fake.base_url}/bulk-results/{self.record.key}.jsonl"

    @property
    def partialDataUrl(self) -> str | None:
        return None


def view_of(fake: Store, global_id: str) -> View | None:
    """The view of the record a global ID names (the `node` query), or None if there is none."""
    match = re.fullmatch(r"gid://shopify/([A-Za-z]+)/(\d+)", global_id or "")
    if not match:
        return None
    kind, number = match.group(1), int(match.group(2))
    table: dict[str, tuple[Mapping[int, Any], type[View]]] = {
        "Product": (fake.products, ProductView),
        "ProductVariant": (fake.variants, VariantView),
        "InventoryItem": (fake.inventory_items, InventoryItemView),
        "Location": (fake.locations, LocationView),
        "Order": (fake.orders, OrderView),
        "BulkOperation": (fake.bulk_operations, BulkView),
        "FulfillmentOrder": (fake.fulfillment_orders, WorkView),
        "InventoryAdjustmentGroup": (fake.adjustment_groups, AdjustmentGroupView),
    }
    if kind not in table or number not in table[kind][0]:
        return None
    records, view = table[kind]
    return view(fake, records[number])
