"""`Store`: one fake shop's records and what a merchant (or Shopify itself) does to them.

Locations, products with their variants and inventory items, inventory levels per location,
orders, metafields, bulk operations and inventory adjustment groups, each a dict keyed by numeric
id. Changing them keeps what Shopify keeps: an order commits stock (`available` → `committed`)
at the first active location that fulfils online orders and stocks the item, a cancellation puts
it back or takes it off `on_hand`, and `updatedAt` moves to the second on the shop's wall clock
`now` as Shopify moves it. Nothing here knows GraphQL or HTTP: the mutations check their input and
call these, and `routes.FakeShopify` serves the store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from .records import (
    AdjustmentGroup,
    BulkOperation,
    FulfillmentOrder,
    InventoryChange,
    InventoryItem,
    InventoryShipment,
    Json,
    LineItem,
    Location,
    Metafield,
    MetafieldDefinition,
    Order,
    Product,
    Variant,
    gid,
    parse_gid,
)
from .search import search_fields
from .webhooks import Dispatcher

__all__ = ["ALL_SCOPES", "Store"]

ALL_SCOPES = frozenset(
    {
        "read_products",
        "write_products",
        "read_inventory",
        "write_inventory",
        "read_orders",
        "read_all_orders",
        "read_merchant_managed_fulfillment_orders",
        "read_locations",
        "write_orders",
    }
)
ORDER_WINDOW = timedelta(days=60)
"""Without read_all_orders an app sees only the orders of the last 60 days (Shopify's `Order`
documentation). Their fulfillment orders are not shown either: each belongs to an `Order!`."""
FULFILLMENT_ORDER_SCOPES = frozenset(
    {
        "read_merchant_managed_fulfillment_orders",
        "write_merchant_managed_fulfillment_orders",
        "read_assigned_fulfillment_orders",
        "write_assigned_fulfillment_orders",
        "read_third_party_fulfillment_orders",
        "write_third_party_fulfillment_orders",
    }
)


class Store:
    """One fake shop's records. Seed it with `add_location`, `create_product`, `create_order`;
    change it like a merchant with `set_available` and `cancel_order`.

    `now` is the shop's wall clock (timestamps, `updated_at` searches).
    """

    def __init__(
        self,
        shop: str,
        *,
        base_url: str | None,
        now: Callable[[], datetime],
        scopes: Iterable[str],
    ) -> None:
        self.shop = shop
        self.shop_name = shop.split(".")[0]
        self.base_url = (base_url or f"https://{shop}").rstrip("/")
        self.now = now
        self.scopes = frozenset(scopes)
        self._ids = 1000
        self.locations: dict[int, Location] = {}
        self.products: dict[int, Product] = {}
        self.variants: dict[int, Variant] = {}
        self.search_fields = search_fields(lambda: self.now(), self.products, self.variants)
        self.inventory_items: dict[int, InventoryItem] = {}
        self.orders: dict[int, Order] = {}
        self.metafields: dict[tuple[str, str, str], Metafield] = {}
        self.bulk_operations: dict[int, BulkOperation] = {}
        self.fulfillment_orders: dict[int, FulfillmentOrder] = {}
        self.bulk_concurrency = 5
        """Bulk query operations one app may run at once (five from API version 2026-01)."""
        self.adjustment_groups: dict[int, AdjustmentGroup] = {}
        self.jobs: set[int] = set()
        self.idempotency_keys: dict[str, tuple[str, str, Json]] = {}
        """@idempotent key → (mutation, its arguments as JSON, the answer it got)."""
        self.bulk_polls = 1
        """Status polls a new bulk operation answers RUNNING before it completes."""
        self.bulk_outcome: tuple[str, str] | None = None
        """(status, errorCode) the next bulk operations end in instead of COMPLETED."""
        self.bulk_rate: float | None = None
        """Objects (result lines) a bulk operation works through per second of the monotonic clock;
        None: it completes after `bulk_polls` polls whatever its size."""
        self.bulk_mutation_rate: float | None = None
        """Lines a bulk mutation works through per second, when it differs from `bulk_rate`."""
        self.staged_targets: dict[str, dict[str, str]] = {}
        """Staged upload key → the form parameters `stagedUploadsCreate` issued for it."""
        self.staged_files: dict[str, bytes] = {}
        """Staged upload key → the file uploaded there."""
        self.bulk_result_cut: int | None = None
        """When set, result files are served cut after this many bytes (a download that broke off)."""
        self.shipments: dict[int, InventoryShipment] = {}
        self.iana_timezone = "UTC"
        """The shop's timezone (Settings → General), as `shop.ianaTimezone` answers it."""
        self.metafield_definitions: dict[tuple[str, str, str], MetafieldDefinition] = {}
        """(owner type, namespace, key) → the definition that fixes those metafields' type."""
        self.field_faults: dict[str, list[Json]] = {}
        """Mutation or query field name → errors its next resolutions raise (see `fail_field`)."""
        self.webhooks = Dispatcher(shop, client_secret=lambda: str(getattr(self, "client_secret", "")), now=now)
        """Webhook subscriptions and their deliveries."""
        self.events: dict[tuple[str, Any], None] = {}
        """Webhook events since the request began, in order, each once: (topic, what it is about)."""

    def event(self, topic: str, about: Any) -> None:
        """Something webhooks tell about happened: `about` is an order or product id, or an
        (inventory item id, location id) pair. `flush_events` turns them into deliveries."""
        self.events[(topic, about)] = None
        self.flush_events()

    def flush_events(self) -> None:
        """Deliver what `events` holds (the HTTP front end defers this to the end of a request)."""
        self.events.clear()

    # --- ids, times and inventory levels (the mutations change records through these too) ---

    def next_id(self) -> int:
        """A new record id (one sequence for every kind of record)."""
        self._ids += 1
        return self._ids

    def stamp(self) -> datetime:
        """Now, to the second (Shopify's timestamps have no fractions, and searches compare them)."""
        return self.now().astimezone(UTC).replace(microsecond=0)

    def touch(self, owner: str) -> None:
        """The product or variant `owner` (a GID) was edited: its updatedAt moves."""
        record: Product | Variant | None = self.products.get(parse_gid(owner, "Product") or -1) or self.variants.get(
            parse_gid(owner, "ProductVariant") or -1
        )
        if record is not None:
            record.updated_at = self.stamp()
            self.event("PRODUCTS_UPDATE", record.product_id if isinstance(record, Variant) else record.id)

    def stock(self, item: InventoryItem, location_id: int, available: int = 0, incoming: int = 0) -> None:
        """Stock `item` at a location (a new inventory level)."""
        now = self.stamp()
        level = item.levels.setdefault(location_id, {"available": 0, "incoming": 0, "on_hand": 0})
        level["on_hand"] += available - level["available"]
        level["available"], level["incoming"] = available, incoming
        item.level_created_at.setdefault(location_id, now)
        item.level_updated_at[location_id] = now
        self.event("INVENTORY_LEVELS_UPDATE", (item.id, location_id))

    def move(self, item: InventoryItem, location_id: int, deltas: Mapping[str, int]) -> list[InventoryChange]:
        """Change quantities of one inventory level by `deltas` (name → delta); its updatedAt moves.
        Callers keep Shopify's identity on_hand = available + committed + unavailable."""
        level = item.levels[location_id]
        changes = []
        for name, delta in deltas.items():
            level[name] = level.get(name, 0) + delta
            changes.append(InventoryChange(item.id, location_id, name, delta, level[name]))
        if any(deltas.values()):
            item.level_updated_at[location_id] = self.stamp()
        if deltas.get("available"):
            # inventory_levels/update, and products/update for the variant's inventory_quantity
            # (Shopify sends both in the same second).
            self.event("INVENTORY_LEVELS_UPDATE", (item.id, location_id))
            variant = self.variants.get(item.variant_id)
            if variant is not None:
                self.event("PRODUCTS_UPDATE", variant.product_id)
        return changes

    # --- seeding, and what a merchant does -------------------------------------------------

    def add_location(
        self, name: str, *, active: bool = True, fulfills_online_orders: bool = True, fulfillment_service: bool = False
    ) -> Location:
        location = Location(self.next_id(), name, active, fulfills_online_orders, fulfillment_service)
        self.locations[location.id] = location
        return location

    def location_named(self, name: str) -> Location:
        return next(loc for loc in self.locations.values() if loc.name == name)

    def create_product(
        self,
        title: str,
        *,
        variants: Iterable[Mapping[str, Any]] = ({},),
        vendor: str = "",
        product_type: str = "",
        tags: Iterable[str] = (),
        metafields: Mapping[str, tuple[str, str]] | None = None,
        status: str = "ACTIVE",
        gift_card: bool = False,
    ) -> Product:
        """A product with its variants. Each variant mapping may give: sku, title, inventory_policy
        ("DENY"/"CONTINUE"), tracked (default True), stock (int at the first location, or
        {location name: int}), incoming (same forms), metafields ({"ns.key": (type, value)}),
        requires_components (a bundle parent). `status` is ACTIVE, UNLISTED, DRAFT or ARCHIVED."""
        if not self.locations:
            self.add_location("Shop location")
        now = self.stamp()
        product = Product(
            self.next_id(),
            title,
            vendor,
            product_type,
            list(dict.fromkeys(tags)),
            status=status,
            gift_card=gift_card,
            created_at=now,
            updated_at=now,
        )
        self.products[product.id] = product
        for number, spec in enumerate(variants, start=1):
            self._create_variant(product, number, spec)
        for name, (kind, value) in (metafields or {}).items():
            self.put_metafield(gid("Product", product.id), name, kind, value)
        return product

    def _create_variant(self, product: Product, number: int, spec: Mapping[str, Any]) -> Variant:
        item = InventoryItem(self.next_id(), 0, bool(spec.get("tracked", True)))
        now = self.stamp()
        variant = Variant(
            id=self.next_id(),
            product_id=product.id,
            title=str(spec.get("title") or ("Default Title" if number == 1 else f"Option {number}")),
            sku=spec.get("sku"),
            inventory_policy=str(spec.get("inventory_policy", "DENY")),
            inventory_item_id=item.id,
            created_at=now,
            updated_at=now,
            requires_components=bool(spec.get("requires_components", False)),
        )
        item.variant_id = variant.id
        first = next(iter(self.locations.values()))
        quantities: dict[int, dict[str, int]] = {}
        for quantity_name in ("stock", "incoming"):
            given = spec.get(quantity_name, 0)
            per_location = given if isinstance(given, Mapping) else {first.name: given}
            for location_name, quantity in per_location.items():
                quantities.setdefault(self.location_named(location_name).id, {})[quantity_name] = int(quantity)
        for location_id, given in quantities.items():
            self.stock(item, location_id, given.get("stock", 0), given.get("incoming", 0))
        self.inventory_items[item.id] = item
        self.variants[variant.id] = variant
        product.variant_ids.append(variant.id)
        for name, (kind, value) in (spec.get("metafields") or {}).items():
            self.put_metafield(gid("ProductVariant", variant.id), name, kind, value)
        return variant

    def delete_variant(self, variant: Variant) -> None:
        """Remove a variant with its inventory item and metafields (productVariantsBulkCreate
        dropping a standalone variant)."""
        self.products[variant.product_id].variant_ids.remove(variant.id)
        del self.variants[variant.id]
        del self.inventory_items[variant.inventory_item_id]
        owner = gid("ProductVariant", variant.id)
        for key in [k for k in self.metafields if k[0] == owner]:
            del self.metafields[key]

    def add_variant(
        self,
        product: Product,
        title: str,
        sku: str | None,
        policy: str,
        *,
        tracked: bool,
        quantities: Mapping[int, int],
    ) -> Variant:
        """A variant made through the API: stocked with `quantities` (location id → available),
        or with nothing at the primary location when none are given."""
        item = InventoryItem(self.next_id(), 0, tracked)
        now = self.stamp()
        variant = Variant(self.next_id(), product.id, title, sku, policy, item.id, created_at=now, updated_at=now)
        item.variant_id = variant.id
        primary = next((loc.id for loc in self.locations.values() if loc.active), None)
        for location_id, available in (quantities or ({primary: 0} if primary is not None else {})).items():
            self.stock(item, location_id, available)
        self.inventory_items[item.id] = item
        self.variants[variant.id] = variant
        product.variant_ids.append(variant.id)
        return variant

    def define_metafield(
        self, owner_type: str, name: str, kind: str, *, storefront: str = "NONE", title: str | None = None
    ) -> MetafieldDefinition:
        """A metafield definition (as the merchant makes in Settings → Custom data, or an app)."""
        namespace, _, key = name.partition(".")
        definition = MetafieldDefinition(self.next_id(), owner_type, namespace, key, kind, title or key, storefront)
        self.metafield_definitions[(owner_type, namespace, key)] = definition
        return definition

    def ship(
        self, variant_id: int, quantity: int, *, arrives_at: datetime | None, location: str | None = None
    ) -> InventoryShipment:
        """An in-transit shipment of `quantity` units to a location (default: the first), arriving
        `arrives_at` (None: the merchant gave no date); the units become `incoming` there."""
        item = self.inventory_items[self.variants[variant_id].inventory_item_id]
        target = self.location_named(location) if location else next(iter(self.locations.values()))
        number = self.next_id()
        shipment = InventoryShipment(
            number, f"#T{number}", target.id, "IN_TRANSIT", arrives_at, [(item.id, quantity, 0)]
        )
        self.shipments[number] = shipment
        if target.id not in item.levels:
            self.stock(item, target.id)
        self.move(item, target.id, {"incoming": quantity})
        return shipment

    def receive(self, shipment_id: int, quantity: int | None = None) -> None:
        """Receive (part of) a shipment: its units move from `incoming` to `available`."""
        shipment = self.shipments[shipment_id]
        lines = []
        for item_id, ordered, received in shipment.lines:
            now = min(ordered - received, quantity if quantity is not None else ordered)
            self.move(
                self.inventory_items[item_id],
                shipment.destination_id,
                {"incoming": -now, "available": now, "on_hand": now},
            )
            lines.append((item_id, ordered, received + now))
        shipment.lines = lines
        done = all(received >= ordered for _, ordered, received in lines)
        shipment.status = "RECEIVED" if done else "PARTIALLY_RECEIVED"

    def fail_field(self, name: str, *, code: str = "INTERNAL_SERVER_ERROR", times: int = 1) -> None:
        """The next `times` resolutions of the field `name` (e.g. "tagsAdd") fail with a top-level
        error of `code`: its alias answers null, the other fields of the request run as usual."""
        self.field_faults.setdefault(name, []).extend(
            {"message": f"Internal error. Looks like something went wrong on our end. ({name})", "code": code}
            for _ in range(times)
        )

    def set_selling_plans(self, variant_id: int, *groups: str, required: bool = False) -> None:
        """Sell a variant through selling plan groups (a pre-order or subscription app's)."""
        variant = self.variants[variant_id]
        variant.selling_plan_groups = list(groups)
        self.products[variant.product_id].requires_selling_plan = required
        variant.updated_at = self.stamp()
        self.event("PRODUCTS_UPDATE", variant.product_id)

    def put_metafield(self, owner: str, name: str, kind: str, value: str) -> Metafield:
        """Set a metafield on a product or variant (its owner's updatedAt moves when it changes)."""
        namespace, _, key = name.partition(".")
        found = self.metafields.get((owner, namespace, key))
        if found:
            if (found.type, found.value) != (kind, value):
                found.type, found.value = kind, value
                self.touch(owner)
            return found
        metafield = Metafield(self.next_id(), owner, namespace, key, kind, value)
        self.metafields[(owner, namespace, key)] = metafield
        self.touch(owner)
        return metafield

    def claim_location(self, item: InventoryItem) -> int | None:
        """Where an order takes the item from: the first active location that fulfils online orders
        and stocks it."""
        for location in self.locations.values():
            if location.active and location.fulfills_online_orders and location.id in item.levels:
                return location.id
        return None

    def claim(self, variant: Variant, quantity: int) -> int | None:
        """Commit `quantity` of a tracked variant to an order: off `available`, onto `committed`."""
        item = self.inventory_items[variant.inventory_item_id]
        location_id = self.claim_location(item) if item.tracked else None
        if location_id is not None:
            self.move(item, location_id, {"available": -quantity, "committed": quantity})
        return location_id

    def create_order(
        self, lines: Iterable[tuple[int, int]], *, created_at: datetime | None = None, test: bool = False
    ) -> Order:
        """An open, unfulfilled order of (variant id, quantity) lines; takes stock off `available`
        at the first active location that fulfils online orders and stocks the item."""
        items = []
        for variant_id, quantity in lines:
            variant = self.variants[variant_id]
            title = self.products[variant.product_id].title
            items.append(
                LineItem(
                    self.next_id(),
                    variant_id,
                    variant.sku,
                    quantity,
                    title=title,
                    claimed_at=self.claim(variant, quantity),
                )
            )
        return self.file_order(items, created_at=created_at, test=test)

    def file_order(
        self,
        lines: list[LineItem],
        *,
        created_at: datetime | None = None,
        processed_at: datetime | None = None,
        **fields: Any,
    ) -> Order:
        created = created_at or self.stamp()
        order = Order(
            self.next_id(),
            f"#{1000 + len(self.orders) + 1}",
            created,
            lines,
            processed_at=processed_at or created,
            updated_at=created,
            **fields,
        )
        self.orders[order.id] = order
        self.route(order)
        self.event("ORDERS_CREATE", order.id)
        return order

    def route(self, order: Order) -> None:
        """Shopify's order routing: one fulfillment order per location, each line at the location
        that committed its stock, else the first active location that fulfils online orders."""
        fallback = next(
            (loc.id for loc in self.locations.values() if loc.active and loc.fulfills_online_orders),
            next(iter(self.locations), None),
        )
        by_location: dict[int, dict[int, int]] = {}
        for line in order.lines:
            location = line.claimed_at if line.claimed_at is not None else fallback
            if location is None or line.quantity - line.fulfilled <= 0:
                continue
            by_location.setdefault(location, {})[line.id] = line.quantity - line.fulfilled
        for location_id, remaining in by_location.items():
            work = FulfillmentOrder(
                self.next_id(), order.id, location_id, remaining, created_at=order.created_at, updated_at=self.stamp()
            )
            order.work.append(work)
            self.fulfillment_orders[work.id] = work

    def hold(self, order_id: int) -> None:
        """Put an order's open work on hold (a merchant's or a fraud app's fulfilment hold)."""
        for work in self.orders[order_id].work:
            if work.status in ("OPEN", "IN_PROGRESS"):
                work.status, work.updated_at = "ON_HOLD", self.stamp()

    def schedule(self, order_id: int, fulfill_at: datetime) -> None:
        """Defer an order's open work to `fulfill_at` (a pre-order or a subscription's next delivery)."""
        for work in self.orders[order_id].work:
            if work.status in ("OPEN", "ON_HOLD"):
                work.status, work.fulfill_at, work.updated_at = "SCHEDULED", fulfill_at, self.stamp()

    def move_work(self, order_id: int, location: str) -> None:
        """Move an order's open work to another location (fulfillmentOrderMove)."""
        target = self.location_named(location).id
        for work in self.orders[order_id].work:
            if work.status not in ("CLOSED", "CANCELLED"):
                work.location_id, work.updated_at = target, self.stamp()

    def visible_order(self, order: Order, scopes: Iterable[str]) -> bool:
        """Whether a token with `scopes` sees the order: without read_all_orders, the last 60 days only."""
        return "read_all_orders" in scopes or order.created_at >= self.now() - ORDER_WINDOW

    def delete_product(self, product_id: int) -> None:
        """Delete a product with its variants, inventory items and metafields (productDelete).
        Order lines keep their SKU but lose their variant, as on Shopify."""
        product = self.products.pop(product_id)
        for variant_id in product.variant_ids:
            variant = self.variants.pop(variant_id)
            self.inventory_items.pop(variant.inventory_item_id, None)
        owners = {gid("Product", product_id), *(gid("ProductVariant", v) for v in product.variant_ids)}
        for key in [k for k in self.metafields if k[0] in owners]:
            del self.metafields[key]

    def set_available(self, variant_id: int, quantity: int, *, location: str | None = None) -> None:
        """Set a variant's `available` at `location` (default: where orders take it from), as a
        merchant's stock count does; the level's updatedAt moves."""
        item = self.inventory_items[self.variants[variant_id].inventory_item_id]
        location_id = (
            self.location_named(location).id if location else (self.claim_location(item) or next(iter(item.levels)))
        )
        if location_id not in item.levels:
            self.stock(item, location_id)
        delta = quantity - item.levels[location_id]["available"]
        self.move(item, location_id, {"available": delta, "on_hand": delta})

    def cancel_order(self, order_id: int, *, reason: str = "OTHER", restock: bool = False) -> Order:
        """Cancel an order (it leaves `status:open`). Its unshipped committed units go back to
        `available` with `restock`, or off `on_hand` without."""
        order = self.orders[order_id]
        for line in order.lines:
            unshipped = line.quantity - line.fulfilled
            variant = self.variants.get(line.variant_id or -1)
            item = self.inventory_items.get(variant.inventory_item_id) if variant else None
            if line.claimed_at is None or unshipped <= 0 or item is None or line.claimed_at not in item.levels:
                continue
            if restock and self.locations[line.claimed_at].active:
                self.move(item, line.claimed_at, {"committed": -unshipped, "available": unshipped})
            else:  # not restocked: the committed units leave the location's stock
                self.move(item, line.claimed_at, {"committed": -unshipped, "on_hand": -unshipped})
        order.cancelled_at = order.updated_at = self.stamp()
        order.cancel_reason = reason
        for work in order.work:
            if work.status not in ("CLOSED", "CANCELLED"):
                work.status, work.updated_at = "CANCELLED", order.cancelled_at
        self.event("ORDERS_CANCELLED", order.id)
        self.event("ORDERS_UPDATED", order.id)
        return order

    # --- reading back (tests) -----------------------------------------------------------------

    def variant(self, variant_id: int) -> Variant:
        return self.variants[variant_id]

    def order_note(self, order_id: int) -> str | None:
        return self.orders[order_id].note

    def variant_metafield(self, variant_id: int, name: str) -> str | None:
        namespace, _, key = name.partition(".")
        found = self.metafields.get((gid("ProductVariant", variant_id), namespace, key))
        return found.value if found else None

    def available(self, variant_id: int) -> int:
        item = self.inventory_items[self.variants[variant_id].inventory_item_id]
        return sum(level.get("available", 0) for level in item.levels.values())
