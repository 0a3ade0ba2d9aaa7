"""The QueryRoot and Mutation types of the fake, and its schema.

`schema.graphql` is a subset of the official Admin API schema (a test checks it is one), so a
document the real API would refuse for its shape is refused here too. `Root` is the root value
graphql-core executes against: queries answer views (`views`), filtered by the `query:` argument
(`search`); mutations call `mutations` and `bulk`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from importlib.resources import files
from typing import Any, TypeVar

from graphql import GraphQLSchema, build_schema

from . import bulk
from .mutations import inventory, orders, products, webhooks
from .records import Json, namespace_of, parse_gid
from .search import search
from .store import FULFILLMENT_ORDER_SCOPES, Store
from .views import (
    BulkView,
    LocationView,
    MetafieldDefinitionView,
    OrderView,
    ProductView,
    ShipmentView,
    VariantView,
    View,
    WorkView,
    connection,
    need_scope,
    view_of,
    visible_work,
)

__all__ = ["Root", "load_schema"]

T = TypeVar("T")


class Root:
    """QueryRoot and Mutation fields."""

    def __init__(self, fake: Store) -> None:
        self.fake = fake

    # --- queries ---------------------------------------------------------------------------

    def shop(self, info: Any) -> Json:
        return {
            "id": "gid://shopify/Shop/1",
            "name": self.fake.shop_name,
            "myshopifyDomain": self.fake.shop,
            "ianaTimezone": self.fake.iana_timezone,
        }

    def currentAppInstallation(self, info: Any) -> Json:
        """The token's granted scopes, as the merchant approved them (any token may read them)."""
        scopes = [{"handle": scope, "description": scope.replace("_", " ")} for scope in sorted(self.fake.scopes)]
        return {"id": "gid://shopify/AppInstallation/1", "accessScopes": scopes}

    def inventoryShipments(self, info: Any, **args: Any) -> Json:
        """Inventory shipments, filtered by `status:` and `destination_id:` (read_inventory_shipments)."""
        need_scope(info, "read_inventory_shipments", "inventoryShipments")
        found = self._search(info, "inventoryShipments", self.fake.shipments.values(), args)
        return connection([ShipmentView(self.fake, s) for s in found], info, args, key=lambda v: v.record.id)

    def metafieldDefinitions(self, info: Any, ownerType: str, **args: Any) -> Json:
        """The definitions of one owner type, filtered by namespace and key when given."""
        need_scope(info, "read_products" if ownerType != "ORDER" else "read_orders", "metafieldDefinitions")
        found = [
            MetafieldDefinitionView(self.fake, d)
            for (owner, namespace, key), d in self.fake.metafield_definitions.items()
            if owner == ownerType
            and (args.get("namespace") is None or namespace_of(args["namespace"]) == namespace)
            and args.get("key") in (None, key)
        ]
        return connection(found, info, args, key=lambda v: v.record.id)

    def locations(self, info: Any, **args: Any) -> Json:
        need_scope(info, "read_locations", "locations")
        views = [
            LocationView(self.fake, loc)
            for loc in self.fake.locations.values()
            if loc.active or args.get("includeInactive")
        ]
        return connection(views, info, args, key=lambda v: v.record.id)

    def location(self, info: Any, id: str | None = None) -> LocationView | None:
        need_scope(info, "read_locations", "location")
        if id is None:  # Shopify: the shop's primary location
            first = next(iter(self.fake.locations.values()), None)
            return LocationView(self.fake, first) if first else None
        found = self.fake.locations.get(parse_gid(id, "Location") or -1)
        return LocationView(self.fake, found) if found else None

    def productVariants(self, info: Any, **args: Any) -> Json:
        need_scope(info, "read_products", "productVariants")
        found = self._search(info, "productVariants", self.fake.variants.values(), args)
        return connection([VariantView(self.fake, v) for v in found], info, args, key=lambda v: v.record.id)

    def products(self, info: Any, **args: Any) -> Json:
        need_scope(info, "read_products", "products")
        found = self._search(info, "products", self.fake.products.values(), args)
        return connection([ProductView(self.fake, p) for p in found], info, args, key=lambda v: v.record.id)

    def productVariantsCount(self, info: Any, limit: int | None = 10000, **args: Any) -> Json:
        need_scope(info, "read_products", "productVariantsCount")
        return _count(len(self._search(info, "productVariantsCount", self.fake.variants.values(), args)), limit)

    def productsCount(self, info: Any, limit: int | None = 10000, **args: Any) -> Json:
        need_scope(info, "read_products", "productsCount")
        return _count(len(self._search(info, "productsCount", self.fake.products.values(), args)), limit)

    def orders(self, info: Any, **args: Any) -> Json:
        need_scope(info, "read_orders", "orders")
        scopes = info.context["scopes"]
        visible = [o for o in self.fake.orders.values() if self.fake.visible_order(o, scopes)]
        found = self._search(info, "orders", visible, args)
        return connection([OrderView(self.fake, o) for o in found], info, args, key=lambda v: v.record.id)

    def fulfillmentOrders(self, info: Any, **args: Any) -> Json:
        """Every fulfillment order the token's scopes show; closed and cancelled ones only with includeClosed."""
        if not info.context["scopes"] & FULFILLMENT_ORDER_SCOPES:
            need_scope(info, "read_merchant_managed_fulfillment_orders", "fulfillmentOrders")
        work = [
            w
            for w in self.fake.fulfillment_orders.values()
            if visible_work(info, self.fake, w)
            and (args.get("includeClosed") or w.status not in ("CLOSED", "CANCELLED", "INCOMPLETE"))
        ]
        found = self._search(info, "fulfillmentOrders", work, args)
        return connection([WorkView(self.fake, w) for w in found], info, args, key=lambda v: v.record.id)

    def fulfillmentOrder(self, info: Any, id: str) -> WorkView | None:
        found = self.fake.fulfillment_orders.get(parse_gid(id, "FulfillmentOrder") or -1)
        return WorkView(self.fake, found) if found and visible_work(info, self.fake, found) else None

    def _search(self, info: Any, name: str, items: Iterable[T], args: Mapping[str, Any]) -> list[T]:
        return search(info, items, self.fake.search_fields[name], args.get("query"))

    def order(self, info: Any, id: str) -> OrderView | None:
        need_scope(info, "read_orders", "order")
        found = self.fake.orders.get(parse_gid(id, "Order") or -1)
        return OrderView(self.fake, found) if found and self.fake.visible_order(found, info.context["scopes"]) else None

    def node(self, info: Any, id: str) -> View | None:
        return view_of(self.fake, id)

    def job(self, info: Any, id: str) -> Json | None:
        number = parse_gid(id, "Job")
        return {"id": id, "done": True} if number in self.fake.jobs else None

    def bulkOperation(self, info: Any, id: str) -> BulkView | None:
        operation = self.fake.bulk_operations.get(parse_gid(id, "BulkOperation") or -1)
        if operation is None:
            return None
        clock = getattr(self.fake, "clock", None)
        bulk.advance(operation, clock() if clock is not None else None)
        return BulkView(self.fake, operation)

    # --- mutations -------------------------------------------------------------------------

    def productVariantsBulkUpdate(
        self, info: Any, productId: str, variants: list[Json], allowPartialUpdates: bool = False
    ) -> Json:
        need_scope(info, "write_products", "productVariantsBulkUpdate")
        return products.bulk_update_variants(self.fake, productId, variants, allowPartialUpdates)

    def metafieldsSet(self, info: Any, metafields: list[Json]) -> Json:
        return products.set_metafields(self.fake, metafields, info)

    def metafieldsDelete(self, info: Any, metafields: list[Json]) -> Json:
        return products.delete_metafields(self.fake, metafields, info)

    def metafieldDefinitionCreate(self, info: Any, definition: Json) -> Json:
        need_scope(info, "write_products" if definition["ownerType"] != "ORDER" else "write_orders", "definition")
        return products.create_metafield_definition(self.fake, definition)

    def tagsAdd(self, info: Any, id: str, tags: list[str]) -> Json:
        need_scope(info, "write_orders" if parse_gid(id, "Order") else "write_products", "tagsAdd")
        return products.change_tags(self.fake, id, tags, add=True)

    def tagsRemove(self, info: Any, id: str, tags: list[str]) -> Json:
        need_scope(info, "write_orders" if parse_gid(id, "Order") else "write_products", "tagsRemove")
        return products.change_tags(self.fake, id, tags, add=False)

    def bulkOperationRunQuery(self, info: Any, query: str, groupObjects: bool = False) -> Json:
        return bulk.run_query(self.fake, query, info)

    def bulkOperationRunMutation(
        self,
        info: Any,
        mutation: str,
        stagedUploadPath: str,
        clientIdentifier: str | None = None,
        groupObjects: bool | None = None,
    ) -> Json:
        return bulk.run_mutation(self.fake, mutation, stagedUploadPath, info)

    def stagedUploadsCreate(self, info: Any, input: list[Json]) -> Json:
        return bulk.stage(self.fake, input)

    def bulkOperationCancel(self, info: Any, id: str) -> Json:
        return bulk.cancel(self.fake, id)

    def productDelete(self, info: Any, input: Json, synchronous: bool = True) -> Json:
        need_scope(info, "write_products", "productDelete")
        return products.delete_product_from_input(self.fake, input)

    def orderUpdate(self, info: Any, input: Json) -> Json:
        need_scope(info, "write_orders", "orderUpdate")
        return orders.update_order(self.fake, input)

    def inventorySetQuantities(self, info: Any, input: Json) -> Json:
        need_scope(info, "write_inventory", "inventorySetQuantities")
        return inventory.idempotent(
            self.fake, info, "inventorySetQuantities", input, lambda: inventory.set_quantities(self.fake, input)
        )

    def inventoryAdjustQuantities(self, info: Any, input: Json) -> Json:
        need_scope(info, "write_inventory", "inventoryAdjustQuantities")
        return inventory.idempotent(
            self.fake, info, "inventoryAdjustQuantities", input, lambda: inventory.adjust_quantities(self.fake, input)
        )

    def orderCreate(self, info: Any, order: Json, options: Json | None = None) -> Json:
        need_scope(info, "write_orders", "orderCreate")
        return orders.create_order_from_input(self.fake, order, options or {})

    def orderCancel(self, info: Any, orderId: str, reason: str, restock: bool, **args: Any) -> Json:
        need_scope(info, "write_orders", "orderCancel")
        return orders.cancel_order_from_input(self.fake, orderId, reason, restock, args.get("staffNote"))

    def productCreate(self, info: Any, product: Json | None = None) -> Json:
        need_scope(info, "write_products", "productCreate")
        return products.create_product_from_input(self.fake, product)

    def productVariantsBulkCreate(
        self, info: Any, productId: str, variants: list[Json], strategy: str = "DEFAULT"
    ) -> Json:
        need_scope(info, "write_products", "productVariantsBulkCreate")
        return products.bulk_create_variants(self.fake, productId, variants, strategy)

    # --- webhook subscriptions ----------------------------------------------------------------

    def webhookSubscriptions(self, info: Any, **args: Any) -> Json:
        found = [s for s in self.fake.webhooks.subscriptions.values() if webhooks.matches(s, args)]
        key = (lambda s: s.created_at.timestamp() * 1e6 + s.id) if args.get("sortKey") == "CREATED_AT" else None
        page = connection(found, info, args, key or (lambda s: s.id))
        page["nodes"] = [webhooks.subscription_view(s) for s in page["nodes"]]
        for edge in page["edges"]:
            edge["node"] = webhooks.subscription_view(edge["node"])
        return page

    def webhookSubscription(self, info: Any, id: str) -> Json | None:
        found = self.fake.webhooks.subscriptions.get(parse_gid(id, "WebhookSubscription") or -1)
        return webhooks.subscription_view(found) if found else None

    def webhookSubscriptionCreate(self, info: Any, topic: str, webhookSubscription: Json) -> Json:
        need_scope(info, webhooks.TOPIC_SCOPES.get(topic, "read_products"), "webhookSubscriptionCreate")
        return webhooks.create(self.fake, self.fake.webhooks, topic, webhookSubscription, info.context["version"])

    def webhookSubscriptionUpdate(self, info: Any, id: str, webhookSubscription: Json) -> Json:
        return webhooks.update(self.fake, self.fake.webhooks, id, webhookSubscription)

    def webhookSubscriptionDelete(self, info: Any, id: str) -> Json:
        return webhooks.delete(self.fake.webhooks, id)


def _count(total: int, limit: int | None) -> Json:
    if limit is not None and total > limit:
        return {"count": limit, "precision": "AT_LEAST"}
    return {"count": total, "precision": "EXACT"}


@functools.cache
def load_schema() -> GraphQLSchema:
    """The fake's schema, built once per process: it is never changed after this, and building it
    costs a fifth of a second, which every test's fake store would otherwise pay."""
    schema = build_schema(files("stockstatus.adapters.shopify.fake").joinpath("schema.graphql").read_text("utf-8"))
    for name in ("Node", "DisplayableError"):
        interface = schema.get_type(name)
        interface.resolve_type = lambda value, info, abstract: value.typename  # type: ignore[union-attr]
    return schema
