"""An in-process Shopify (Admin GraphQL API) that behaves like the real one where the connector cares.

The fake executes the documents it receives with graphql-core against `fake_schema.graphql`, a
subset of the official Admin API schema (a test checks it is one), so a document the real API
would refuse for its shape is refused here too. Like Shopify it:

- authenticates every request with `X-Shopify-Access-Token` (401 with Shopify's body otherwise)
  and issues tokens through the client-credentials grant (`POST /admin/oauth/access_token`,
  form fields grant_type, client_id, client_secret; answer access_token, scope, expires_in);
- charges each query its calculated cost (`cost.py`) against a leaky bucket whose size and
  restore rate depend on the plan, answers `extensions.cost` with `throttleStatus` in every
  GraphQL response, refuses a query whose bucket is too empty with `THROTTLED` (HTTP 200), and
  one that requests more than 1,000 points with `MAX_COST_EXCEEDED`;
- requires `first` or `last` (at most 250) on every connection, except in a bulk operation;
- answers ACCESS_DENIED for a field whose access scope the token lacks;
- runs bulk operations (`bulkOperationRunQuery`) whose JSONL result it serves on its own host;
- checks mutation input and answers `userErrors` (unknown product or variant, a metafield value
  that is not a valid date, more than 25 metafields in one metafieldsSet — which is atomic —,
  input lists over 250 entries);
- takes an order's quantities off `available` at the first active location that fulfils online
  orders and stocks the item (Shopify's `committed` quantity).

Plans (shopify.dev GraphQL Admin API rate limits: restore rate per plan; bucket 20 × that, the
ratio Shopify has always used): Standard 100 points/s and 2,000 points, Advanced 200/4,000,
Plus 1,000/20,000.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib.resources import files
from typing import Any
from urllib.parse import parse_qsl

import httpx
from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    build_schema,
    execute_sync,
    get_operation_ast,
    parse,
    validate,
)
from graphql.execution.values import get_variable_values

from . import cost

__all__ = ["PLANS", "FakeClock", "FakeShopify", "Plan", "gid"]

API_VERSIONS = ("2026-07", "2026-10")
MAX_PAGE = 250
MAX_INPUT_LIST = 250
MAX_METAFIELDS_PER_SET = 25
TOKEN_LIFETIME = 86399
"""Seconds a client-credentials token lives (Shopify: 24 hours; it answers expires_in 86399)."""
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SCALAR_METAFIELD_TYPES = frozenset(
    {"single_line_text_field", "multi_line_text_field", "date", "date_time", "number_integer", "boolean", "json"}
)
ALL_SCOPES = frozenset(
    {"read_products", "write_products", "read_inventory", "read_orders", "read_locations", "write_orders"}
)

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Plan:
    name: str
    bucket: float
    restore_rate: float


PLANS: Mapping[str, Plan] = {
    "standard": Plan("standard", 2000.0, 100.0),
    "advanced": Plan("advanced", 4000.0, 200.0),
    "plus": Plan("plus", 20000.0, 1000.0),
}


class FakeClock:
    """A monotonic clock that moves only when told (tests drive pacing and token expiry with it)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += max(0.0, seconds)

    async def sleep(self, seconds: float) -> None:
        """An injectable `sleep` that advances this clock instead of waiting."""
        self.advance(seconds)


def gid(kind: str, number: int) -> str:
    return f"gid://shopify/{kind}/{number}"


def parse_gid(value: Any, kind: str | None = None) -> int | None:
    match = re.fullmatch(r"gid://shopify/([A-Za-z]+)/(\d+)", str(value or ""))
    if not match or (kind is not None and match.group(1) != kind):
        return None
    return int(match.group(2))


class LeakyBucket:
    """Shopify's cost bucket: `restore_rate` points per second flow back, up to `size`."""

    def __init__(self, plan: Plan, clock: Callable[[], float]) -> None:
        self.size = plan.bucket
        self.restore_rate = plan.restore_rate
        self._clock = clock
        self._level = plan.bucket
        self._at = clock()

    @property
    def available(self) -> float:
        now = self._clock()
        self._level = min(self.size, self._level + (now - self._at) * self.restore_rate)
        self._at = now
        return self._level

    def take(self, points: float) -> bool:
        if points > self.available:
            return False
        self._level -= points
        return True

    def refund(self, points: float) -> None:
        self._level = min(self.size, self.available + max(0.0, points))

    def status(self) -> Json:
        return {
            "maximumAvailable": self.size,
            "currentlyAvailable": int(self.available),
            "restoreRate": self.restore_rate,
        }


# --------------------------------------------------------------------------------------------
# Records (the store's state)


@dataclass
class Location:
    id: int
    name: str
    active: bool = True
    fulfills_online_orders: bool = True


@dataclass
class Metafield:
    id: int
    owner: str
    namespace: str
    key: str
    type: str
    value: str


@dataclass
class Product:
    id: int
    title: str
    vendor: str = ""
    product_type: str = ""
    tags: list[str] = field(default_factory=list)
    variant_ids: list[int] = field(default_factory=list)


@dataclass
class Variant:
    id: int
    product_id: int
    title: str
    sku: str | None
    inventory_policy: str
    inventory_item_id: int


@dataclass
class InventoryItem:
    id: int
    variant_id: int
    tracked: bool
    levels: dict[int, dict[str, int]] = field(default_factory=dict)
    """location id → quantity name (available, incoming, committed, on_hand) → quantity."""


@dataclass
class LineItem:
    id: int
    variant_id: int | None
    sku: str | None
    quantity: int
    fulfilled: int = 0


@dataclass
class Order:
    id: int
    name: str
    created_at: datetime
    lines: list[LineItem]
    closed: bool = False
    cancelled_at: datetime | None = None
    note: str | None = None

    @property
    def fulfillment_status(self) -> str:
        shipped = sum(line.fulfilled for line in self.lines)
        if shipped == 0:
            return "UNFULFILLED"
        if all(line.fulfilled >= line.quantity for line in self.lines):
            return "FULFILLED"
        return "PARTIALLY_FULFILLED"


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


@dataclass
class Fault:
    """An injected answer for the next `times` requests whose path contains `path_contains`."""

    status: int
    times: int
    body: Any = None
    headers: Mapping[str, str] | None = None
    path_contains: str | None = None


# --------------------------------------------------------------------------------------------
# The GraphQL views: graphql-core's default resolver reads attributes and calls methods
# (`method(info, **arguments)`), so each view is the object type's fields.


def _need(info: Any, scope: str, what: str) -> None:
    if scope not in info.context["scopes"]:
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


class _View:
    typename = ""

    def __init__(self, fake: FakeShopify, record: Any) -> None:
        self.fake = fake
        self.record = record


class _HasMetafields(_View):
    owner_kind = ""

    @property
    def owner(self) -> str:
        return gid(self.owner_kind, self.record.id)

    def metafield(self, info: Any, key: str, namespace: str | None = None) -> _MetafieldView | None:
        found = self.fake.metafields.get((self.owner, namespace or "app--connector", key))
        return _MetafieldView(self.fake, found) if found else None

    def metafields(self, info: Any, **args: Any) -> Json:
        owned = [m for (owner, _, _), m in self.fake.metafields.items() if owner == self.owner]
        if args.get("namespace"):
            owned = [m for m in owned if m.namespace == args["namespace"]]
        if args.get("keys"):
            owned = [m for m in owned if f"{m.namespace}.{m.key}" in args["keys"]]
        return connection([_MetafieldView(self.fake, m) for m in owned], info, args, key=lambda v: v.record.id)


class _MetafieldView(_View):
    typename = "Metafield"

    @property
    def id(self) -> str:
        return gid("Metafield", self.record.id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.record, name)


class _LocationView(_View):
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


class _ProductView(_HasMetafields):
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

    def variants(self, info: Any, **args: Any) -> Json:
        _need(info, "read_products", "variants")
        views = [_VariantView(self.fake, self.fake.variants[v]) for v in self.record.variant_ids]
        return connection(views, info, args, key=lambda v: v.record.id)


class _VariantView(_HasMetafields):
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
    def inventoryQuantity(self) -> int | None:
        item = self.fake.inventory_items[self.record.inventory_item_id]
        return sum(level.get("available", 0) for level in item.levels.values()) if item.tracked else None

    @property
    def inventoryItem(self) -> _InventoryItemView:
        return _InventoryItemView(self.fake, self.fake.inventory_items[self.record.inventory_item_id])

    @property
    def product(self) -> _ProductView:
        return _ProductView(self.fake, self.fake.products[self.record.product_id])


class _InventoryItemView(_View):
    typename = "InventoryItem"

    @property
    def id(self) -> str:
        return gid("InventoryItem", self.record.id)

    @property
    def tracked(self) -> bool:
        return bool(self.record.tracked)

    def inventoryLevels(self, info: Any, **args: Any) -> Json:
        _need(info, "read_inventory", "inventoryLevels")
        views = [
            _LevelView(self.fake, (self.record, location_id))
            for location_id in self.record.levels
            if args.get("includeInactive") or self.fake.locations[location_id].active
        ]
        return connection(views, info, args, key=lambda v: v.record[1])


class _LevelView(_View):
    typename = "InventoryLevel"

    @property
    def id(self) -> str:
        item, location_id = self.record
        return f"gid://shopify/InventoryLevel/{item.id}?inventory_item_id={item.id}&location_id={location_id}"

    @property
    def location(self) -> _LocationView:
        return _LocationView(self.fake, self.fake.locations[self.record[1]])

    def quantities(self, info: Any, names: list[str]) -> list[Json]:
        item, location_id = self.record
        level = item.levels[location_id]
        known = {"available", "incoming", "committed", "on_hand", "reserved", "damaged", "safety_stock", "quality_control"}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise GraphQLError(f"Invalid quantity names: {', '.join(unknown)}")
        return [
            {"id": f"gid://shopify/InventoryQuantity/{item.id}-{location_id}-{n}", "name": n, "quantity": level.get(n, 0)}
            for n in names
        ]


class _OrderView(_View):
    typename = "Order"

    @property
    def id(self) -> str:
        return gid("Order", self.record.id)

    @property
    def name(self) -> str:
        return str(self.record.name)

    @property
    def createdAt(self) -> str:
        return str(self.record.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))

    @property
    def closed(self) -> bool:
        return bool(self.record.closed)

    @property
    def cancelledAt(self) -> str | None:
        when = self.record.cancelled_at
        return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if when else None

    @property
    def displayFulfillmentStatus(self) -> str:
        return str(self.record.fulfillment_status)

    @property
    def note(self) -> str | None:
        return self.record.note  # type: ignore[no-any-return]

    def lineItems(self, info: Any, **args: Any) -> Json:
        views = [_LineView(self.fake, line) for line in self.record.lines]
        return connection(views, info, args, key=lambda v: v.record.id)


class _LineView(_View):
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
    def variant(self) -> _VariantView | None:
        found = self.fake.variants.get(self.record.variant_id) if self.record.variant_id else None
        return _VariantView(self.fake, found) if found else None


class _BulkView(_View):
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
        return sum(1 for line in self.record.lines if "__parentId" not in line) if self.record.status == "COMPLETED" else 0

    @property
    def createdAt(self) -> str:
        return str(self.record.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"))

    @property
    def completedAt(self) -> str | None:
        return self.createdAt if self.record.status == "COMPLETED" else None

    @property
    def query(self) -> str:
        return str(self.record.query)

    @property
    def type(self) -> str:
        return "QUERY"

    @property
    def url(self) -> str | None:
        if self.record.status != "COMPLETED" or not self.record.lines:
            return None  # Shopify: no url when the query matched nothing
        return f"{self.fake.base_url}/bulk-results/{self.record.key}.jsonl"

    @property
    def partialDataUrl(self) -> str | None:
        return None


class _Root:
    """QueryRoot and Mutation fields."""

    def __init__(self, fake: FakeShopify) -> None:
        self.fake = fake

    # --- queries ---------------------------------------------------------------------------

    def shop(self, info: Any) -> Json:
        return {"id": "gid://shopify/Shop/1", "name": self.fake.shop_name, "myshopifyDomain": self.fake.shop}

    def locations(self, info: Any, **args: Any) -> Json:
        _need(info, "read_locations", "locations")
        views = [
            _LocationView(self.fake, loc)
            for loc in self.fake.locations.values()
            if loc.active or args.get("includeInactive")
        ]
        return connection(views, info, args, key=lambda v: v.record.id)

    def productVariants(self, info: Any, **args: Any) -> Json:
        _need(info, "read_products", "productVariants")
        views = [_VariantView(self.fake, v) for v in self.fake.variants.values()]
        return connection(views, info, args, key=lambda v: v.record.id)

    def products(self, info: Any, **args: Any) -> Json:
        _need(info, "read_products", "products")
        views = [_ProductView(self.fake, p) for p in self.fake.products.values()]
        return connection(views, info, args, key=lambda v: v.record.id)

    def productVariantsCount(self, info: Any, limit: int | None = 10000, **args: Any) -> Json:
        _need(info, "read_products", "productVariantsCount")
        return _count(len(self.fake.variants), limit)

    def productsCount(self, info: Any, limit: int | None = 10000, **args: Any) -> Json:
        _need(info, "read_products", "productsCount")
        return _count(len(self.fake.products), limit)

    def orders(self, info: Any, **args: Any) -> Json:
        _need(info, "read_orders", "orders")
        matching = [o for o in self.fake.orders.values() if _order_matches(o, args.get("query") or "")]
        return connection([_OrderView(self.fake, o) for o in matching], info, args, key=lambda v: v.record.id)

    def order(self, info: Any, id: str) -> _OrderView | None:
        _need(info, "read_orders", "order")
        found = self.fake.orders.get(parse_gid(id, "Order") or -1)
        return _OrderView(self.fake, found) if found else None

    def node(self, info: Any, id: str) -> _View | None:
        return self.fake.view_of(id)

    def bulkOperation(self, info: Any, id: str) -> _BulkView | None:
        operation = self.fake.bulk_operations.get(parse_gid(id, "BulkOperation") or -1)
        if operation is None:
            return None
        self.fake.advance_bulk(operation)
        return _BulkView(self.fake, operation)

    # --- mutations -------------------------------------------------------------------------

    def productVariantsBulkUpdate(
        self, info: Any, productId: str, variants: list[Json], allowPartialUpdates: bool = False
    ) -> Json:
        _need(info, "write_products", "productVariantsBulkUpdate")
        return self.fake.bulk_update_variants(productId, variants, allowPartialUpdates)

    def metafieldsSet(self, info: Any, metafields: list[Json]) -> Json:
        return self.fake.set_metafields(metafields, info)

    def metafieldsDelete(self, info: Any, metafields: list[Json]) -> Json:
        return self.fake.delete_metafields(metafields, info)

    def tagsAdd(self, info: Any, id: str, tags: list[str]) -> Json:
        _need(info, "write_products", "tagsAdd")
        return self.fake.change_tags(id, tags, add=True)

    def tagsRemove(self, info: Any, id: str, tags: list[str]) -> Json:
        _need(info, "write_products", "tagsRemove")
        return self.fake.change_tags(id, tags, add=False)

    def bulkOperationRunQuery(self, info: Any, query: str, groupObjects: bool = False) -> Json:
        return self.fake.run_bulk_query(query, info)

    def orderUpdate(self, info: Any, input: Json) -> Json:
        _need(info, "write_orders", "orderUpdate")
        return self.fake.update_order(input)


def _count(total: int, limit: int | None) -> Json:
    if limit is not None and total > limit:
        return {"count": limit, "precision": "AT_LEAST"}
    return {"count": total, "precision": "EXACT"}


def _order_matches(order: Order, query: str) -> bool:
    """The order search terms the connector uses: status:open|closed|cancelled|any and
    fulfillment_status:unfulfilled|partial|fulfilled|unshipped|shipped|any (values of one field OR-ed)."""
    statuses: set[str] = set()
    fulfilment: set[str] = set()
    for name, value in re.findall(r"(\w+):(\w+)", query):
        if name == "status":
            statuses.add(value.lower())
        elif name == "fulfillment_status":
            fulfilment.add(value.lower())
    state = "cancelled" if order.cancelled_at else ("closed" if order.closed else "open")
    if statuses and "any" not in statuses and state not in statuses:
        return False
    shown = {"UNFULFILLED": {"unfulfilled", "unshipped"}, "PARTIALLY_FULFILLED": {"partial", "unshipped"},
             "FULFILLED": {"fulfilled", "shipped"}}[order.fulfillment_status]
    return not fulfilment or "any" in fulfilment or bool(shown & fulfilment)


# --------------------------------------------------------------------------------------------


def _schema() -> GraphQLSchema:
    schema = build_schema(files("adapters.shopify").joinpath("fake_schema.graphql").read_text("utf-8"))
    for name in ("Node", "DisplayableError"):
        interface = schema.get_type(name)
        interface.resolve_type = lambda value, info, abstract: value.typename  # type: ignore[union-attr]
    return schema


def _json(status: int, body: Any, headers: Mapping[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})})


class FakeShopify:
    """One fake shop. Seed it with `add_location`, `create_product`, `create_order`."""

    def __init__(
        self,
        shop: str = "fake-shop.myshopify.com",
        *,
        base_url: str | None = None,
        access_token: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        plan: str = "standard",
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        scopes: Iterable[str] = ALL_SCOPES,
        token_lifetime: int = TOKEN_LIFETIME,
    ) -> None:
        if plan not in PLANS:
            raise ValueError(f"unknown plan {plan!r} (one of {', '.join(PLANS)})")
        self.shop = shop
        self.shop_name = shop.split(".")[0]
        self.base_url = (base_url or f"https://{shop}").rstrip("/")
        self.access_token = access_token or f"shpat_{secrets.token_hex(16)}"
        self.client_id = client_id or secrets.token_hex(16)
        self.client_secret = client_secret or f"shpss_{secrets.token_hex(16)}"
        self.plan = PLANS[plan]
        self.clock = clock
        self.now = now
        self.scopes = frozenset(scopes)
        self.token_lifetime = token_lifetime
        self.bucket = LeakyBucket(self.plan, clock)
        self.schema = _schema()
        self._root = _Root(self)
        self._ids = 1000
        self.locations: dict[int, Location] = {}
        self.products: dict[int, Product] = {}
        self.variants: dict[int, Variant] = {}
        self.inventory_items: dict[int, InventoryItem] = {}
        self.orders: dict[int, Order] = {}
        self.metafields: dict[tuple[str, str, str], Metafield] = {}
        self.bulk_operations: dict[int, BulkOperation] = {}
        self.issued_tokens: dict[str, float] = {}
        """Client-credentials tokens and when (clock) each expires."""
        self.faults: list[Fault] = []
        self.log: list[Json] = []
        """One entry per GraphQL request: operation, requested and actual cost, throttled, errors."""
        self.bulk_polls = 1
        """Status polls a new bulk operation answers RUNNING before it completes."""
        self.bulk_outcome: tuple[str, str] | None = None
        """(status, errorCode) the next bulk operations end in instead of COMPLETED."""

    def __repr__(self) -> str:
        return f"FakeShopify({self.shop!r}, plan={self.plan.name!r})"

    # --- seeding ---------------------------------------------------------------------------

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    def add_location(self, name: str, *, active: bool = True, fulfills_online_orders: bool = True) -> Location:
        location = Location(self._next_id(), name, active, fulfills_online_orders)
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
    ) -> Product:
        """A product with its variants. Each variant mapping may give: sku, title, inventory_policy
        ("DENY"/"CONTINUE"), tracked (default True), stock (int at the first location, or
        {location name: int}), incoming (same forms), metafields ({"ns.key": (type, value)})."""
        if not self.locations:
            self.add_location("Shop location")
        product = Product(self._next_id(), title, vendor, product_type, list(dict.fromkeys(tags)))
        self.products[product.id] = product
        for number, spec in enumerate(variants, start=1):
            self._create_variant(product, number, spec)
        for name, (kind, value) in (metafields or {}).items():
            self.put_metafield(gid("Product", product.id), name, kind, value)
        return product

    def _create_variant(self, product: Product, number: int, spec: Mapping[str, Any]) -> Variant:
        item = InventoryItem(self._next_id(), 0, bool(spec.get("tracked", True)))
        variant = Variant(
            id=self._next_id(),
            product_id=product.id,
            title=str(spec.get("title") or ("Default Title" if number == 1 else f"Option {number}")),
            sku=spec.get("sku"),
            inventory_policy=str(spec.get("inventory_policy", "DENY")),
            inventory_item_id=item.id,
        )
        item.variant_id = variant.id
        first = next(iter(self.locations.values()))
        for quantity_name in ("stock", "incoming"):
            given = spec.get(quantity_name, 0)
            per_location = given if isinstance(given, Mapping) else {first.name: given}
            for location_name, quantity in per_location.items():
                level = item.levels.setdefault(self.location_named(location_name).id, {})
                level["available" if quantity_name == "stock" else "incoming"] = int(quantity)
        for level in item.levels.values():
            level.setdefault("available", 0)
            level.setdefault("incoming", 0)
            level["on_hand"] = level["available"]
        self.inventory_items[item.id] = item
        self.variants[variant.id] = variant
        product.variant_ids.append(variant.id)
        for name, (kind, value) in (spec.get("metafields") or {}).items():
            self.put_metafield(gid("ProductVariant", variant.id), name, kind, value)
        return variant

    def put_metafield(self, owner: str, name: str, kind: str, value: str) -> Metafield:
        namespace, _, key = name.partition(".")
        found = self.metafields.get((owner, namespace, key))
        if found:
            found.type, found.value = kind, value
            return found
        metafield = Metafield(self._next_id(), owner, namespace, key, kind, value)
        self.metafields[(owner, namespace, key)] = metafield
        return metafield

    def create_order(self, lines: Iterable[tuple[int, int]], *, created_at: datetime | None = None) -> Order:
        """An open, unfulfilled order of (variant id, quantity) lines; takes stock off `available`
        at the first active location that fulfils online orders and stocks the item."""
        order_id = self._next_id()
        items = []
        for variant_id, quantity in lines:
            variant = self.variants[variant_id]
            items.append(LineItem(self._next_id(), variant_id, variant.sku, quantity))
            item = self.inventory_items[variant.inventory_item_id]
            if not item.tracked:
                continue
            for location in self.locations.values():
                if location.active and location.fulfills_online_orders and location.id in item.levels:
                    level = item.levels[location.id]
                    level["available"] -= quantity
                    level["committed"] = level.get("committed", 0) + quantity
                    break
        order = Order(order_id, f"#{1000 + len(self.orders) + 1}", created_at or self.now(), items)
        self.orders[order_id] = order
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

    def variant_by_sku(self, sku: str) -> Variant:
        return next(v for v in self.variants.values() if v.sku == sku)

    def available(self, variant_id: int) -> int:
        item = self.inventory_items[self.variants[variant_id].inventory_item_id]
        return sum(level.get("available", 0) for level in item.levels.values())

    @property
    def throttled(self) -> int:
        return sum(1 for entry in self.log if entry.get("throttled"))

    def fail_next(self, status: int, *, times: int = 1, body: Any = None, headers: Mapping[str, str] | None = None,
                  path_contains: str | None = None) -> None:
        self.faults.append(Fault(status, times, body, headers, path_contains))

    def view_of(self, global_id: str) -> _View | None:
        match = re.fullmatch(r"gid://shopify/([A-Za-z]+)/(\d+)", global_id or "")
        if not match:
            return None
        kind, number = match.group(1), int(match.group(2))
        table: dict[str, tuple[Mapping[int, Any], type[_View]]] = {
            "Product": (self.products, _ProductView),
            "ProductVariant": (self.variants, _VariantView),
            "InventoryItem": (self.inventory_items, _InventoryItemView),
            "Location": (self.locations, _LocationView),
            "Order": (self.orders, _OrderView),
            "BulkOperation": (self.bulk_operations, _BulkView),
        }
        if kind not in table or number not in table[kind][0]:
            return None
        records, view = table[kind]
        return view(self, records[number])

    # --- HTTP ------------------------------------------------------------------------------

    def transport(self) -> httpx.MockTransport:
        """An httpx transport that answers from this fake, in-process."""
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        for fault in self.faults:
            if fault.times > 0 and (fault.path_contains is None or fault.path_contains in path):
                fault.times -= 1
                return _json(fault.status, fault.body if fault.body is not None else {"errors": "Fault"}, fault.headers)
        if request.method == "POST" and path == "/admin/oauth/access_token":
            return self._grant(request)
        match = re.fullmatch(r"/admin/api/([^/]+)/graphql\.json", path)
        if match and request.method == "POST":
            if match.group(1) not in API_VERSIONS:
                return _json(404, {"errors": "Not Found"})
            if not self._authenticated(request):
                return _json(401, {"errors": INVALID_TOKEN})
            return self._graphql(request)
        match = re.fullmatch(r"/bulk-results/([0-9a-f]+)\.jsonl", path)
        if match and request.method == "GET":
            return self._bulk_result(match.group(1))
        return _json(404, {"errors": "Not Found"})

    def _authenticated(self, request: httpx.Request) -> bool:
        token = request.headers.get("X-Shopify-Access-Token", "")
        if secrets.compare_digest(token, self.access_token):
            return True
        expires = self.issued_tokens.get(token)
        return expires is not None and self.clock() < expires

    def _grant(self, request: httpx.Request) -> httpx.Response:
        content_type = request.headers.get("Content-Type", "")
        if "json" in content_type:
            try:
                form = {str(k): str(v) for k, v in json.loads(request.content or b"{}").items()}
            except (ValueError, AttributeError):
                form = {}
        else:
            form = dict(parse_qsl(request.content.decode("utf-8", "replace"), keep_blank_values=True))
        if form.get("grant_type") != "client_credentials":
            return _json(400, {"error": "unsupported_grant_type", "error_description": "The grant type is not supported."})
        if not (secrets.compare_digest(form.get("client_id", ""), self.client_id)
                and secrets.compare_digest(form.get("client_secret", ""), self.client_secret)):
            return _json(401, {"error": "invalid_client", "error_description": "Client authentication failed."})
        token = f"shpat_{secrets.token_hex(16)}"
        self.issued_tokens[token] = self.clock() + self.token_lifetime
        return _json(200, {"access_token": token, "scope": ",".join(sorted(self.scopes)), "expires_in": self.token_lifetime})

    def _cost_block(self, requested: int | None, actual: int | None) -> Json:
        return {"cost": {"requestedQueryCost": requested, "actualQueryCost": actual, "throttleStatus": self.bucket.status()}}

    def _errors(self, errors: list[Json], requested: int | None = None, entry: Json | None = None) -> httpx.Response:
        if entry is not None:
            entry["errors"] = [e.get("extensions", {}).get("code") or e.get("message") for e in errors]
            self.log.append(entry)
        return _json(200, {"errors": errors, "extensions": self._cost_block(requested, None)})

    def _graphql(self, request: httpx.Request) -> httpx.Response:
        try:
            body = json.loads(request.content or b"{}")
            text = body["query"]
            variables = body.get("variables") or {}
            operation_name = body.get("operationName")
        except (ValueError, KeyError, TypeError):
            return _json(400, {"errors": {"query": "Required parameter missing or invalid"}})
        entry: Json = {"operation": operation_name, "requested": None, "actual": None, "throttled": False}
        try:
            document = parse(text)
        except GraphQLError as exc:
            return self._errors([dict(exc.formatted)], entry=entry)
        problems = validate(self.schema, document)
        if problems:
            return self._errors([dict(p.formatted) for p in problems], entry=entry)
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            return self._errors([{"message": "An operation name is required"}], entry=entry)
        entry["operation"] = operation.name.value if operation.name else operation_name
        coerced = get_variable_values(self.schema, operation.variable_definitions or (), variables)
        if isinstance(coerced, list):
            return self._errors([dict(e.formatted) for e in coerced], entry=entry)
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        requested = cost.requested_cost(self.schema, operation, fragments, coerced)
        entry["requested"] = requested
        if requested > cost.MAX_QUERY_COST:
            return self._errors([{
                "message": f"Query cost is {requested}, which exceeds the single query max cost limit "
                f"({cost.MAX_QUERY_COST}).\n\nSee https://shopify.dev/concepts/about-apis/rate-limits for more "
                "information on how the\ncost of a query is calculated.\n\nTo query larger amounts of data with "
                "fewer limits, bulk operations should be used instead.\nSee "
                "https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n",
                "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": cost.MAX_QUERY_COST},
            }], requested, entry)
        if not self.bucket.take(requested):
            entry["throttled"] = True
            return self._errors([{
                "message": "Throttled",
                "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
            }], requested, entry)
        result = self._execute(document, operation, coerced, bulk=False)
        actual = cost.actual_cost(self.schema, operation, fragments, coerced, result.data)
        self.bucket.refund(requested - actual)
        entry["actual"] = actual
        answer: Json = {"data": result.data}
        if result.errors:
            answer["errors"] = [e.formatted for e in result.errors]
            entry["errors"] = [(e.extensions or {}).get("code") or e.message for e in result.errors]
        answer["extensions"] = self._cost_block(requested, actual)
        self.log.append(entry)
        return _json(200, answer)

    def _execute(self, document: DocumentNode, operation: OperationDefinitionNode, variables: Mapping[str, Any], *,
                 bulk: bool) -> Any:
        return execute_sync(
            self.schema,
            document,
            root_value=self._root,
            context_value={"bulk": bulk, "scopes": self.scopes},
            variable_values=dict(variables),
            operation_name=operation.name.value if operation.name else None,
        )

    # --- mutations -------------------------------------------------------------------------

    def bulk_update_variants(self, product_id: str, inputs: list[Json], partial: bool) -> Json:
        product = self.products.get(parse_gid(product_id, "Product") or -1)
        if product is None:
            return {"product": None, "productVariants": None, "userErrors": [
                {"field": ["productId"], "message": "Product does not exist", "code": "PRODUCT_DOES_NOT_EXIST"}]}
        if len(inputs) > MAX_INPUT_LIST:
            return {"product": None, "productVariants": None, "userErrors": [
                {"field": ["variants"], "message": f"Input exceeds {MAX_INPUT_LIST} items", "code": "INVALID_INPUT"}]}
        errors: list[Json] = []
        changes: list[tuple[Variant, Json]] = []
        for index, given in enumerate(inputs):
            if not given.get("id"):
                errors.append({"field": ["variants", str(index), "id"], "message": "Product variant is missing ID attribute",
                               "code": "PRODUCT_VARIANT_ID_MISSING"})
                continue
            variant = self.variants.get(parse_gid(given["id"], "ProductVariant") or -1)
            if variant is None or variant.product_id != product.id:
                errors.append({"field": ["variants", str(index), "id"], "message": "Product variant does not exist",
                               "code": "PRODUCT_VARIANT_DOES_NOT_EXIST"})
                continue
            changes.append((variant, given))
        if errors and not partial:
            return {"product": _ProductView(self, product), "productVariants": None, "userErrors": errors}
        for variant, given in changes:
            if given.get("inventoryPolicy"):
                variant.inventory_policy = given["inventoryPolicy"]
        return {
            "product": _ProductView(self, product),
            "productVariants": [_VariantView(self, v) for v, _ in changes],
            "userErrors": errors,
        }

    def _owner_exists(self, owner: str) -> bool:
        kind = (re.fullmatch(r"gid://shopify/([A-Za-z]+)/\d+", owner or "") or [None, None])[1]
        return kind in ("Product", "ProductVariant") and self.view_of(owner) is not None

    def set_metafields(self, inputs: list[Json], info: Any) -> Json:
        _need(info, "write_products", "metafieldsSet")
        if len(inputs) > MAX_METAFIELDS_PER_SET:
            return {"metafields": None, "userErrors": [{
                "field": ["metafields"], "message": f"Exceeded the maximum metafields input limit of {MAX_METAFIELDS_PER_SET}.",
                "code": "LESS_THAN_OR_EQUAL_TO", "elementIndex": None}]}
        errors: list[Json] = []
        for index, given in enumerate(inputs):
            def refuse(name: str, message: str, code: str, index: int = index) -> None:
                errors.append({"field": ["metafields", str(index), name], "message": message, "code": code,
                               "elementIndex": index})
            namespace = given.get("namespace") or "app--connector"
            existing = self.metafields.get((given["ownerId"], namespace, given["key"]))
            kind = given.get("type") or (existing.type if existing else None)
            if not self._owner_exists(given["ownerId"]):
                refuse("ownerId", "Owner does not exist.", "INVALID")
            elif not 3 <= len(namespace) <= 255:
                refuse("namespace", "Namespace is too short (minimum is 3 characters)", "TOO_SHORT")
            elif not 2 <= len(given["key"]) <= 64:
                refuse("key", "Key is too short (minimum is 2 characters)", "TOO_SHORT")
            elif kind is None:
                refuse("type", "Type can't be blank.", "BLANK")
            elif kind not in SCALAR_METAFIELD_TYPES:
                refuse("type", f"Type {kind!r} is not a valid type.", "INCLUSION")
            elif existing is not None and given.get("type") and existing.type != given["type"]:
                refuse("type", f"Type must be {existing.type!r} (the metafield's type).", "INVALID_TYPE")
            elif given["value"] == "":
                refuse("value", "Value can't be blank.", "BLANK")
            elif kind == "date" and not _is_date(given["value"]):
                refuse("value", "Value must be in YYYY-MM-DD format.", "INVALID_VALUE")
            elif kind == "single_line_text_field" and ("\n" in given["value"] or len(given["value"]) > 5000):
                refuse("value", "Value must be a single line of at most 5000 characters.", "INVALID_VALUE")
        if errors:  # atomic since 2023-01: nothing is saved
            return {"metafields": None, "userErrors": errors}
        saved = [
            self.put_metafield(given["ownerId"], f"{given.get('namespace') or 'app--connector'}.{given['key']}",
                               given.get("type") or self.metafields[(given["ownerId"], given.get("namespace") or "app--connector", given["key"])].type,
                               given["value"])
            for given in inputs
        ]
        return {"metafields": [_MetafieldView(self, m) for m in saved], "userErrors": []}

    def delete_metafields(self, inputs: list[Json], info: Any) -> Json:
        _need(info, "write_products", "metafieldsDelete")
        if len(inputs) > MAX_INPUT_LIST:
            return {"deletedMetafields": None, "userErrors": [{"field": ["metafields"], "message": "Too many metafields"}]}
        deleted: list[Json | None] = []
        for given in inputs:
            found = self.metafields.pop((given["ownerId"], given["namespace"], given["key"]), None)
            deleted.append({"ownerId": given["ownerId"], "namespace": given["namespace"], "key": given["key"]} if found else None)
        return {"deletedMetafields": deleted, "userErrors": []}

    def update_order(self, given: Json) -> Json:
        """orderUpdate: the fields the fake knows (`note`, overwritten as a whole, like Shopify)."""
        order = self.orders.get(parse_gid(given["id"], "Order") or -1)
        if order is None:
            return {"order": None, "userErrors": [{"field": ["id"], "message": "Order does not exist"}]}
        if "note" in given:
            order.note = given["note"]
        return {"order": _OrderView(self, order), "userErrors": []}

    def change_tags(self, owner: str, tags: list[str], *, add: bool) -> Json:
        product = self.products.get(parse_gid(owner, "Product") or -1)
        if product is None:
            return {"node": None, "userErrors": [{"field": ["id"], "message": "Resource not found"}]}
        if add:
            for tag in tags:
                if tag.strip() and tag.strip().lower() not in {t.lower() for t in product.tags}:
                    product.tags.append(tag.strip())
        else:
            gone = {t.strip().lower() for t in tags}
            product.tags = [t for t in product.tags if t.lower() not in gone]
        return {"node": _ProductView(self, product), "userErrors": []}

    # --- bulk operations -------------------------------------------------------------------

    def run_bulk_query(self, text: str, info: Any) -> Json:
        running = [op for op in self.bulk_operations.values() if op.status in ("CREATED", "RUNNING")]
        if running:
            return {"bulkOperation": None, "userErrors": [{
                "field": None, "code": "OPERATION_IN_PROGRESS",
                "message": f"A bulk query operation for this app and shop is already in progress: {gid('BulkOperation', running[0].id)}."}]}
        try:
            document = parse(text)
        except GraphQLError as exc:
            return {"bulkOperation": None, "userErrors": [{"field": ["query"], "message": exc.message, "code": "INVALID"}]}
        problems = validate(self.schema, document)
        operation = get_operation_ast(document)
        if problems or operation is None or operation.variable_definitions:
            message = problems[0].message if problems else "Bulk queries take no variables and one operation"
            return {"bulkOperation": None, "userErrors": [{"field": ["query"], "message": message, "code": "INVALID"}]}
        operation_record = BulkOperation(self._next_id(), text, self.now(), polls_left=self.bulk_polls,
                                         fail_with=self.bulk_outcome)
        result = execute_sync(self.schema, document, root_value=self._root,
                         context_value={"bulk": True, "scopes": info.context["scopes"]})
        if result.errors:
            operation_record.fail_with = ("FAILED", "ACCESS_DENIED" if any(
                (e.extensions or {}).get("code") == "ACCESS_DENIED" for e in result.errors) else "INTERNAL_SERVER_ERROR")
        else:
            operation_record.lines = _jsonl_lines(result.data or {})
        self.bulk_operations[operation_record.id] = operation_record
        return {"bulkOperation": _BulkView(self, operation_record), "userErrors": []}

    def advance_bulk(self, operation: BulkOperation) -> None:
        """One status poll: CREATED → RUNNING (for `bulk_polls` polls) → COMPLETED (or the injected end)."""
        if operation.status not in ("CREATED", "RUNNING"):
            return
        if operation.polls_left > 0:
            operation.polls_left -= 1
            operation.status = "RUNNING"
            return
        if operation.fail_with:
            operation.status, operation.error_code = operation.fail_with
            operation.lines = []
        else:
            operation.status = "COMPLETED"

    def _bulk_result(self, key: str) -> httpx.Response:
        for operation in self.bulk_operations.values():
            if operation.key == key and operation.status == "COMPLETED":
                text = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in operation.lines)
                return httpx.Response(200, content=text.encode(), headers={"Content-Type": "application/jsonl"})
        return httpx.Response(404, content=b"<?xml version='1.0'?><Error><Code>NoSuchKey</Code></Error>",
                              headers={"Content-Type": "application/xml"})


def _is_date(value: str) -> bool:
    if not ISO_DATE.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_connection_value(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("edges"), list)


def _jsonl_lines(data: Mapping[str, Any]) -> list[Json]:
    """A bulk query's result as Shopify writes it: one line per connection node, nested
    connections' nodes on their own lines with `__parentId` = the enclosing line's `id`."""
    lines: list[Json] = []

    def strip(obj: Mapping[str, Any], parent_id: str | None, pending: list[tuple[str | None, Any]]) -> Json:
        out: Json = {}
        for name, value in obj.items():
            if _is_connection_value(value):
                pending.append((parent_id, value))
            elif isinstance(value, dict):
                out[name] = strip(value, parent_id, pending)
            else:
                out[name] = value
        return out

    def emit(parent_id: str | None, conn: Mapping[str, Any]) -> None:
        for edge in conn["edges"]:
            node = edge["node"]
            pending: list[tuple[str | None, Any]] = []
            own_id = node.get("id") if isinstance(node.get("id"), str) else parent_id
            line = strip(node, own_id, pending)
            if parent_id is not None:
                line["__parentId"] = parent_id
            lines.append(line)
            for child_parent, child in pending:
                emit(child_parent, child)

    for value in data.values():
        if _is_connection_value(value):
            emit(None, value)
    return lines
