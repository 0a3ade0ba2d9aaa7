"""The fake shop's records: plain dataclasses keyed by numeric id, and Shopify's global IDs.

Nothing here changes a record or knows GraphQL or HTTP: `store` keeps and changes them, `views`
answers queries about them.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "EPOCH",
    "ISO_DATE",
    "AdjustmentGroup",
    "BulkOperation",
    "FulfillmentOrder",
    "InventoryChange",
    "InventoryItem",
    "InventoryShipment",
    "Json",
    "LineItem",
    "Location",
    "Metafield",
    "MetafieldDefinition",
    "Order",
    "Product",
    "Variant",
    "gid",
    "iso",
    "namespace_of",
    "parse_gid",
]

Json = dict[str, Any]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def gid(kind: str, number: int) -> str:
    """The global ID of a record: `gid://shopify/Product/1001`."""
    return f"gid://shopify/{kind}/{number}"


def parse_gid(value: Any, kind: str | None = None) -> int | None:
    """The numeric id in a global ID (of `kind`, when given), or None for anything else."""
    match = re.fullmatch(r"gid://shopify/([A-Za-z]+)/(\d+)", str(value or ""))
    if not match or (kind is not None and match.group(1) != kind):
        return None
    return int(match.group(2))


APP_NAMESPACE = "app--connector"
"""The app-reserved namespace of the app the fake's tokens belong to (Shopify: `app--<app id>`)."""


def namespace_of(given: str | None) -> str:
    """A namespace as Shopify stores it: none or `$app` is the app-reserved one, `$app:name` a
    reserved one of this app's (`app--<app id>--name`)."""
    if not given or given == "$app":
        return APP_NAMESPACE
    if given.startswith("$app:"):
        return f"{APP_NAMESPACE}--{given[5:]}"
    return given


def iso(moment: datetime) -> str:
    """A DateTime as Shopify writes it: UTC, whole seconds, `Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Location:
    id: int
    name: str
    active: bool = True
    fulfills_online_orders: bool = True
    fulfillment_service: bool = False
    """Run by a fulfilment service app (a 3PL): its work needs the third-party fulfillment order scopes."""


@dataclass
class Metafield:
    id: int
    owner: str
    namespace: str
    key: str
    type: str
    value: str


@dataclass
class MetafieldDefinition:
    """A definition fixes the type of every metafield of its owner type, namespace and key."""

    id: int
    owner_type: str
    """ORDER, PRODUCT or PRODUCTVARIANT."""
    namespace: str
    key: str
    type: str
    name: str
    storefront: str = "NONE"


@dataclass
class Product:
    id: int
    title: str
    vendor: str = ""
    product_type: str = ""
    tags: list[str] = field(default_factory=list)
    variant_ids: list[int] = field(default_factory=list)
    status: str = "ACTIVE"
    gift_card: bool = False
    options: list[str] = field(default_factory=lambda: ["Title"])
    requires_selling_plan: bool = False
    """Sold only through a selling plan (subscriptions, some pre-order apps)."""
    """Option names; a product made without options has Shopify's single "Title" option."""
    created_at: datetime = EPOCH
    updated_at: datetime = EPOCH


@dataclass
class Variant:
    id: int
    product_id: int
    title: str
    sku: str | None
    inventory_policy: str
    inventory_item_id: int
    created_at: datetime = EPOCH
    updated_at: datetime = EPOCH
    requires_components: bool = False
    """A bundle parent: sold only with its components (Shopify takes their stock)."""
    selling_plan_groups: list[str] = field(default_factory=list)
    """Names of the selling plan groups (a pre-order app's, say) the variant is sold through."""

    @property
    def option_values(self) -> list[str]:
        """One value per product option; Shopify titles a variant with its values joined by " / "."""
        return self.title.split(" / ")


@dataclass
class InventoryItem:
    id: int
    variant_id: int
    tracked: bool
    levels: dict[int, dict[str, int]] = field(default_factory=dict)
    """location id → quantity name (available, incoming, committed, on_hand) → quantity."""
    level_created_at: dict[int, datetime] = field(default_factory=dict)
    level_updated_at: dict[int, datetime] = field(default_factory=dict)
    """location id → when that inventory level's quantities last changed."""


@dataclass
class LineItem:
    id: int
    variant_id: int | None
    sku: str | None
    quantity: int
    fulfilled: int = 0
    title: str = ""
    claimed_at: int | None = None
    """The location whose `available` this line took (None: no stock was claimed)."""


@dataclass
class Order:
    id: int
    name: str
    created_at: datetime
    lines: list[LineItem]
    closed: bool = False
    cancelled_at: datetime | None = None
    note: str | None = None
    processed_at: datetime | None = None
    updated_at: datetime | None = None
    email: str | None = None
    tags: list[str] = field(default_factory=list)
    cancel_reason: str | None = None
    closed_at: datetime | None = None
    test: bool = False
    work: list[FulfillmentOrder] = field(default_factory=list)
    """The order's fulfillment orders (Shopify routes each line to a location when the order is made)."""

    @property
    def fulfillment_status(self) -> str:
        shipped = sum(line.fulfilled for line in self.lines)
        waiting = {w.status for w in self.work if w.status not in ("CLOSED", "CANCELLED")}
        if shipped == 0 and waiting in ({"ON_HOLD"}, {"SCHEDULED"}):
            return waiting.pop()  # Shopify shows held or scheduled work instead of UNFULFILLED
        if shipped == 0:
            return "UNFULFILLED"
        if all(line.fulfilled >= line.quantity for line in self.lines):
            return "FULFILLED"
        return "PARTIALLY_FULFILLED"


@dataclass
class FulfillmentOrder:
    """The work one location has to do for an order: its lines and the units still to ship."""

    id: int
    order_id: int
    location_id: int
    remaining: dict[int, int]
    """line item id → units still to ship from this location."""
    created_at: datetime
    status: str = "OPEN"
    """OPEN, IN_PROGRESS, SCHEDULED, ON_HOLD, CLOSED, CANCELLED."""
    fulfill_at: datetime | None = None
    updated_at: datetime = EPOCH


@dataclass
class InventoryShipment:
    """A shipment of an inventory transfer to one location; its units are `incoming` there."""

    id: int
    name: str
    destination_id: int
    status: str
    """DRAFT, IN_TRANSIT, PARTIALLY_RECEIVED or RECEIVED."""
    arrives_at: datetime | None
    lines: list[tuple[int, int, int]] = field(default_factory=list)
    """(inventory item id, quantity, received)."""


@dataclass
class InventoryChange:
    item_id: int
    location_id: int
    name: str
    delta: int
    quantity_after: int
    ledger_document_uri: str | None = None


@dataclass
class AdjustmentGroup:
    """What one inventorySetQuantities / inventoryAdjustQuantities call changed (InventoryAdjustmentGroup)."""

    id: int
    created_at: datetime
    reason: str
    reference_document_uri: str | None
    changes: list[InventoryChange]


@dataclass
class BulkOperation:
    id: int
    query: str
    created_at: datetime
    status: str = "CREATED"
    polls_left: int = 1
    lines: list[Json] = field(default_factory=list)
    key: str = field(default_factory=lambda: secrets.token_hex(12))
    error_code: str | None = None
    fail_with: tuple[str, str] | None = None
    """(status, errorCode) to end in instead of COMPLETED."""
    type: str = "QUERY"
    """QUERY (bulkOperationRunQuery) or MUTATION (bulkOperationRunMutation)."""
    ready_at: float | None = None
    """With a timed store (`Store.bulk_rate`), the monotonic time it completes at; else polls decide."""
