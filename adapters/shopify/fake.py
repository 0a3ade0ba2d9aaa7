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
  orders and stocks the item (Shopify's `committed` quantity);
- changes stock, orders and products through the API a merchant or another app uses:
  inventorySetQuantities / inventoryAdjustQuantities (`available`; set also `on_hand`), all or
  nothing, each quantity compared with its mandatory `changeFromQuantity` (explicit null skips the
  comparison), under the `@idempotent(key:)` directive required since 2026-04 (a retried key
  answers the first answer); orderCreate with `options.inventoryBehaviour` (BYPASS, the default,
  takes no stock; DECREMENT_OBEYING_POLICY refuses a tracked DENY variant short of stock);
  orderCancel (answers a Job; `restock` puts committed units back); productCreate (one
  standalone "Default Title" variant) and productVariantsBulkCreate (DEFAULT /
  REMOVE_STANDALONE_VARIANT / PRESERVE_STANDALONE_VARIANT);
- keeps modification times to the second on the shop's wall clock `now`: a product's `updatedAt`
  moves when it is created, its tags change or a product metafield is set or deleted; a
  variant's when it is created, productVariantsBulkUpdate changes it or a variant metafield is
  set or deleted; an inventory level's when any of its quantities changes (counts, orders,
  cancellations). Stock changes move neither the product's nor the variant's `updatedAt`: Shopify
  says a product's "can" move then, which a client cannot count on;
- filters connections by the `query:` argument in Shopify's search syntax (`search_fields` lists
  the fields per connection), and like Shopify drops a term on a field it does not filter on,
  reporting it in `extensions.search[].warnings` (code `invalid_field`) instead of failing.

Plans (shopify.dev GraphQL Admin API rate limits: restore rate per plan; bucket 20 × that, the
ratio Shopify has always used): Standard 100 points/s and 2,000 points, Advanced 200/4,000,
Plus 1,000/20,000.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib.resources import files
from typing import Any, TypeVar
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
from graphql.execution.values import get_directive_values, get_variable_values

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
    {
        "read_products",
        "write_products",
        "read_inventory",
        "write_inventory",
        "read_orders",
        "read_locations",
        "write_orders",
    }
)
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
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Json = dict[str, Any]
T = TypeVar("T")


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
    status: str = "ACTIVE"
    options: list[str] = field(default_factory=lambda: ["Title"])
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

    @property
    def fulfillment_status(self) -> str:
        shipped = sum(line.fulfilled for line in self.lines)
        if shipped == 0:
            return "UNFULFILLED"
        if all(line.fulfilled >= line.quantity for line in self.lines):
            return "FULFILLED"
        return "PARTIALLY_FULFILLED"


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


def _iso(moment: datetime) -> str:
    """A DateTime as Shopify writes it: UTC, whole seconds, `Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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


# --------------------------------------------------------------------------------------------
# Search syntax (shopify.dev/docs/api/usage/search-syntax) for the `query:` argument: terms
# `[-|NOT ]field:[<|>|<=|>=]value` or `(subquery)`, joined by AND (also implied by a space) and
# OR (binding looser than AND). Like Shopify, a term on a field the connection does not filter on
# is dropped and reported in `extensions.search[].warnings` instead of failing the query.


@dataclass(frozen=True, slots=True)
class _Term:
    field: str | None
    comparator: str
    value: str


@dataclass(frozen=True, slots=True)
class _Not:
    child: _Node


@dataclass(frozen=True, slots=True)
class _All:
    children: tuple[_Node, ...]


@dataclass(frozen=True, slots=True)
class _Any:
    children: tuple[_Node, ...]


_Node = _Term | _Not | _All | _Any
_SEARCH_TOKEN = re.compile(
    r"""
    (?P<open>\() | (?P<close>\)) |
    (?P<connective>AND|OR)(?=[\s()]|$) |
    (?P<not>NOT)(?=\s) |
    (?P<minus>-)(?=[^\s()]) |
    (?:(?P<field>[A-Za-z_][\w.]*)(?P<comparator>:(?:<=|>=|<|>)?))?
    (?P<value>'[^']*'? | "[^"]*"? | [^\s()]+)?
""",
    re.VERBOSE,
)


def _search_tokens(text: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    pos = 0
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        match = _SEARCH_TOKEN.match(text, pos)
        if match is None or match.end() == pos:  # nothing the grammar knows: skip the character
            pos += 1
            continue
        pos = match.end()
        kind = next((k for k in ("open", "close", "connective", "not", "minus") if match.group(k)), "term")
        if kind == "connective":
            tokens.append((match.group("connective"), None))
        elif kind == "minus":
            tokens.append(("not", None))
        elif kind == "term":
            value = match.group("value") or ""
            if len(value) >= 2 and value[0] in "'\"" and value[-1] == value[0]:
                value = value[1:-1]
            elif value[:1] in ("'", '"'):
                value = value[1:]
            tokens.append(("term", _Term(match.group("field"), match.group("comparator") or ":", value)))
        else:
            tokens.append((kind, None))
    return tokens


class _SearchParser:
    """Recursive descent over the tokens: OR of ANDs of (NOT) terms or parenthesised queries."""

    def __init__(self, text: str) -> None:
        self.tokens = _search_tokens(text)
        self.at = 0

    def _peek(self) -> str | None:
        return self.tokens[self.at][0] if self.at < len(self.tokens) else None

    def parse(self) -> _Node | None:
        nodes = []
        while self.at < len(self.tokens):
            node = self._or()
            if node is not None:
                nodes.append(node)
            if self._peek() == "close":  # an unmatched ")": Shopify does not fail a search over it
                self.at += 1
        return nodes[0] if len(nodes) == 1 else (_All(tuple(nodes)) if nodes else None)

    def _or(self) -> _Node | None:
        options = [self._and()]
        while self._peek() == "OR":
            self.at += 1
            options.append(self._and())
        found = tuple(o for o in options if o is not None)
        return found[0] if len(found) == 1 else (_Any(found) if found else None)

    def _and(self) -> _Node | None:
        parts: list[_Node] = []
        while self._peek() not in (None, "OR", "close"):
            if self._peek() == "AND":
                self.at += 1
                continue
            part = self._unary()
            if part is not None:
                parts.append(part)
        return parts[0] if len(parts) == 1 else (_All(tuple(parts)) if parts else None)

    def _unary(self) -> _Node | None:
        kind, value = self.tokens[self.at]
        self.at += 1
        if kind == "not":
            child = self._unary() if self._peek() not in (None, "OR", "AND", "close") else None
            return _Not(child) if child is not None else None
        if kind == "open":
            inner = self._or()
            if self._peek() == "close":
                self.at += 1
            return inner
        return value if kind == "term" else None


Predicate = Callable[[Any], bool]
FieldFilter = Callable[[str, str], Predicate]
"""(comparator, value) → predicate on a record; raises ValueError for a value the field cannot take."""
INVALID_FIELD = "Invalid search field for this query."


def _compile(node: _Node, fields: Mapping[str, FieldFilter], warnings: list[Json]) -> Predicate | None:
    """A predicate for `node`, or None where Shopify would drop the term (warned in `warnings`)."""
    if isinstance(node, _Term):
        if node.field is None:
            warnings.append(
                {
                    "field": "default",
                    "code": "unsupported",
                    "message": "The fake Shopify does not run free-text search; the term was ignored.",
                }
            )
            return None
        make = fields.get(node.field.lower())
        if make is None:
            warnings.append({"field": node.field, "message": INVALID_FIELD, "code": "invalid_field"})
            return None
        try:
            return make(node.comparator, node.value)
        except ValueError as exc:
            warnings.append({"field": node.field, "message": str(exc), "code": "invalid_value"})
            return lambda record: False
    if isinstance(node, _Not):
        inner = _compile(node.child, fields, warnings)
        return None if inner is None else (lambda record: not inner(record))
    compiled = [p for p in (_compile(c, fields, warnings) for c in node.children) if p is not None]
    if not compiled:
        return None
    if isinstance(node, _All):
        return lambda record: all(p(record) for p in compiled)
    return lambda record: any(p(record) for p in compiled)


def _time_interval(value: str, now: datetime) -> tuple[datetime, datetime]:
    """The span a time value names: a year, month, day or second (`now` too); zone-less times are
    UTC (the fake shop's time zone)."""
    text = value.strip()
    if text.lower() == "now":
        start = now.astimezone(UTC).replace(microsecond=0)
        return start, start + timedelta(seconds=1)
    try:
        if re.fullmatch(r"\d{4}", text):
            year = int(text)
            return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
        if re.fullmatch(r"\d{4}-\d{2}", text):
            year, month = map(int, text.split("-"))
            start = datetime(year, month, 1, tzinfo=UTC)
            return start, datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        if ISO_DATE.match(text):
            start = datetime.fromisoformat(text).replace(tzinfo=UTC)
            return start, start + timedelta(days=1)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"Invalid time value {value!r} for this search field.") from None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment, moment + (timedelta(microseconds=1) if moment.microsecond else timedelta(seconds=1))


def _time_filter(when: Callable[[Any], datetime | None], now: Callable[[], datetime]) -> FieldFilter:
    def make(comparator: str, value: str) -> Predicate:
        start, end = _time_interval(value, now())
        tests: dict[str, Callable[[datetime], bool]] = {
            ":": lambda t: start <= t < end,
            ":>": lambda t: t >= end,
            ":>=": lambda t: t >= start,
            ":<": lambda t: t < start,
            ":<=": lambda t: t < end,
        }
        test = tests[comparator]

        def matches(record: Any) -> bool:
            moment = when(record)
            return moment is not None and test(moment)

        return matches

    return make


def _numeric_id(value: str) -> int:
    if not value.strip().isdigit():
        raise ValueError(f"Invalid id {value!r}: give the numeric part of the ID.")
    return int(value)


def _id_filter(number: Callable[[Any], int]) -> FieldFilter:
    def make(comparator: str, value: str) -> Predicate:
        wanted = _numeric_id(value)
        tests: dict[str, Callable[[int], bool]] = {
            ":": lambda n: n == wanted,
            ":>": lambda n: n > wanted,
            ":>=": lambda n: n >= wanted,
            ":<": lambda n: n < wanted,
            ":<=": lambda n: n <= wanted,
        }
        test = tests[comparator]
        return lambda record: test(number(record))

    return make


def _ids_filter(number: Callable[[Any], int]) -> FieldFilter:
    """A comma-separated list of numeric ids (`product_ids:1,2,3`)."""

    def make(comparator: str, value: str) -> Predicate:
        if comparator != ":":
            raise ValueError("A list of ids takes no comparator.")
        wanted = {_numeric_id(part) for part in value.split(",") if part.strip()}
        return lambda record: number(record) in wanted

    return make


def _choice_filter(values: Callable[[Any], set[str]], known: Iterable[str]) -> FieldFilter:
    """A field with a fixed set of values (`any` matches every record)."""
    choices = frozenset(known)

    def make(comparator: str, value: str) -> Predicate:
        wanted = value.lower()
        if comparator != ":" or wanted not in choices | {"any"}:
            raise ValueError(f"Invalid value {value!r}: one of {', '.join(sorted(choices))}.")
        return lambda record: wanted == "any" or wanted in values(record)

    return make


def _order_state(order: Order) -> set[str]:
    state = "cancelled" if order.cancelled_at else ("closed" if order.closed else "open")
    return {state} | ({"not_closed"} if state == "open" else set())


_SHOWN_FULFILMENT = {
    "UNFULFILLED": {"unfulfilled", "unshipped"},
    "PARTIALLY_FULFILLED": {"partial", "unshipped"},
    "FULFILLED": {"fulfilled", "shipped"},
}


def _without(matching: FieldFilter) -> FieldFilter:
    """`tag_not:x`: the records `tag:x` does not match."""

    def make(comparator: str, value: str) -> Predicate:
        predicate = matching(comparator, value)
        return lambda record: not predicate(record)

    return make


def _text_filter(values: Callable[[Any], Iterable[str | None]]) -> FieldFilter:
    """A text field: `field:value` matches a value case-insensitively, `field:val*` a prefix."""

    def make(comparator: str, value: str) -> Predicate:
        if comparator != ":":
            raise ValueError(f"Invalid value {value!r}: a text field takes no comparator.")
        wanted = value.lower()
        if wanted.endswith("*"):
            prefix = wanted[:-1]
            return lambda record: any((v or "").lower().startswith(prefix) for v in values(record))
        return lambda record: any((v or "").lower() == wanted for v in values(record))

    return make


def search_fields(
    now: Callable[[], datetime], products_by_id: Mapping[int, Product], variants_by_id: Mapping[int, Variant]
) -> dict[str, dict[str, FieldFilter]]:
    """The fields each connection's `query:` filters on in the fake (a subset of Shopify's)."""

    def level_time(table: str) -> Callable[[Any], datetime | None]:
        return lambda level: getattr(level[0], table).get(level[1])

    def product_of(variant: Variant) -> Product:
        return products_by_id[variant.product_id]

    products: dict[str, FieldFilter] = {
        "id": _id_filter(lambda p: p.id),
        "created_at": _time_filter(lambda p: p.created_at, now),
        "updated_at": _time_filter(lambda p: p.updated_at, now),
        "title": _text_filter(lambda p: [p.title]),
        "sku": _text_filter(lambda p: [variants_by_id[v].sku for v in p.variant_ids if v in variants_by_id]),
        "tag": _text_filter(lambda p: p.tags),
        "tag_not": _without(_text_filter(lambda p: p.tags)),
        "vendor": _text_filter(lambda p: [p.vendor]),
        "product_type": _text_filter(lambda p: [p.product_type]),
        "status": _text_filter(lambda p: [p.status]),
    }
    variants: dict[str, FieldFilter] = {
        "id": _id_filter(lambda v: v.id),
        "product_id": _id_filter(lambda v: v.product_id),
        "product_ids": _ids_filter(lambda v: v.product_id),
        "updated_at": _time_filter(lambda v: v.updated_at, now),
        "sku": _text_filter(lambda v: [v.sku]),
        "title": _text_filter(lambda v: [v.title]),
        "tag": _text_filter(lambda v: product_of(v).tags),
        "tag_not": _without(_text_filter(lambda v: product_of(v).tags)),
        "vendor": _text_filter(lambda v: [product_of(v).vendor]),
        "product_type": _text_filter(lambda v: [product_of(v).product_type]),
        "product_status": _text_filter(lambda v: [product_of(v).status]),
    }
    return {
        "products": products,
        "productsCount": products,
        "productVariants": variants,
        "productVariantsCount": {},  # Shopify documents "No supported search fields" and ignores them
        "inventoryLevels": {  # (inventory item, location id)
            "inventory_item_id": _id_filter(lambda level: level[0].id),
            "created_at": _time_filter(level_time("level_created_at"), now),
            "updated_at": _time_filter(level_time("level_updated_at"), now),
        },
        "orders": {
            "status": _choice_filter(_order_state, ("open", "closed", "cancelled", "not_closed")),
            "fulfillment_status": _choice_filter(
                lambda o: _SHOWN_FULFILMENT[o.fulfillment_status],
                (
                    "unshipped",
                    "shipped",
                    "fulfilled",
                    "partial",
                    "scheduled",
                    "on_hold",
                    "unfulfilled",
                    "request_declined",
                ),
            ),
            "created_at": _time_filter(lambda o: o.created_at, now),
            "processed_at": _time_filter(lambda o: o.processed_at or o.created_at, now),
            "updated_at": _time_filter(lambda o: o.updated_at or o.created_at, now),
        },
    }


def search(info: Any, items: Iterable[T], fields: Mapping[str, FieldFilter], query: str | None) -> list[T]:
    """`items` that match `query`; dropped terms are reported the way Shopify reports them."""
    found = list(items)
    if not query or not query.strip():
        return found
    tree = _SearchParser(query).parse()
    warnings: list[Json] = []
    predicate = _compile(tree, fields, warnings) if tree is not None else None
    if warnings:
        info.context.setdefault("search", []).append(
            {"path": list(info.path.as_list()), "query": query, "warnings": warnings}
        )
    return found if predicate is None else [x for x in found if predicate(x)]


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

    def inventoryLevels(self, info: Any, **args: Any) -> Json:
        _need(info, "read_inventory", "inventoryLevels")
        stocked = [
            (item, self.record.id) for item in self.fake.inventory_items.values() if self.record.id in item.levels
        ]
        found = search(info, stocked, self.fake.search_fields["inventoryLevels"], args.get("query"))
        return connection([_LevelView(self.fake, level) for level in found], info, args, key=lambda v: v.record[0].id)

    def inventoryLevel(self, info: Any, inventoryItemId: str, includeInactive: bool = False) -> _LevelView | None:
        _need(info, "read_inventory", "inventoryLevel")
        item = self.fake.inventory_items.get(parse_gid(inventoryItemId, "InventoryItem") or -1)
        return _LevelView(self.fake, (item, self.record.id)) if item and self.record.id in item.levels else None


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

    @property
    def status(self) -> str:
        return str(self.record.status)

    @property
    def createdAt(self) -> str:
        return _iso(self.record.created_at)

    @property
    def updatedAt(self) -> str:
        return _iso(self.record.updated_at)

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

    @property
    def selectedOptions(self) -> list[Json]:
        names = self.fake.products[self.record.product_id].options
        return [{"name": n, "value": v} for n, v in zip(names, self.record.option_values, strict=False)]

    @property
    def createdAt(self) -> str:
        return _iso(self.record.created_at)

    @property
    def updatedAt(self) -> str:
        return _iso(self.record.updated_at)


class _InventoryItemView(_View):
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
    def variant(self) -> _VariantView:
        return _VariantView(self.fake, self.fake.variants[self.record.variant_id])

    def inventoryLevel(self, info: Any, locationId: str, includeInactive: bool = False) -> _LevelView | None:
        _need(info, "read_inventory", "inventoryLevel")
        location_id = parse_gid(locationId, "Location")
        return _LevelView(self.fake, (self.record, location_id)) if location_id in self.record.levels else None

    def inventoryLevels(self, info: Any, **args: Any) -> Json:
        _need(info, "read_inventory", "inventoryLevels")
        levels = [
            (self.record, location_id)
            for location_id in self.record.levels
            if args.get("includeInactive") or self.fake.locations[location_id].active
        ]
        found = search(info, levels, self.fake.search_fields["inventoryLevels"], args.get("query"))
        return connection([_LevelView(self.fake, level) for level in found], info, args, key=lambda v: v.record[1])


class _LevelView(_View):
    typename = "InventoryLevel"

    @property
    def id(self) -> str:
        item, location_id = self.record
        return f"gid://shopify/InventoryLevel/{item.id}?inventory_item_id={item.id}&location_id={location_id}"

    @property
    def location(self) -> _LocationView:
        return _LocationView(self.fake, self.fake.locations[self.record[1]])

    @property
    def item(self) -> _InventoryItemView:
        return _InventoryItemView(self.fake, self.record[0])

    @property
    def createdAt(self) -> str:
        item, location_id = self.record
        return _iso(item.level_created_at.get(location_id, EPOCH))

    @property
    def updatedAt(self) -> str:
        item, location_id = self.record
        return _iso(item.level_updated_at.get(location_id, EPOCH))

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
        return _iso(self.record.created_at)

    @property
    def processedAt(self) -> str:
        return _iso(self.record.processed_at or self.record.created_at)

    @property
    def updatedAt(self) -> str:
        return _iso(self.record.updated_at or self.record.created_at)

    @property
    def closed(self) -> bool:
        return bool(self.record.closed)

    @property
    def closedAt(self) -> str | None:
        return _iso(self.record.closed_at) if self.record.closed_at else None

    @property
    def cancelledAt(self) -> str | None:
        return _iso(self.record.cancelled_at) if self.record.cancelled_at else None

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
    def title(self) -> str:
        return str(self.record.title)

    @property
    def variant(self) -> _VariantView | None:
        found = self.fake.variants.get(self.record.variant_id) if self.record.variant_id else None
        return _VariantView(self.fake, found) if found else None


class _AdjustmentGroupView(_View):
    typename = "InventoryAdjustmentGroup"

    @property
    def id(self) -> str:
        return gid("InventoryAdjustmentGroup", self.record.id)

    @property
    def createdAt(self) -> str:
        return _iso(self.record.created_at)

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
                "item": _InventoryItemView(self.fake, self.fake.inventory_items[change.item_id])
                if change.item_id in self.fake.inventory_items
                else None,
                "location": _LocationView(self.fake, self.fake.locations[change.location_id]),
            }
            for change in self.record.changes
            if (items is None or change.item_id in items)
            and (places is None or change.location_id in places)
            and (quantityNames is None or change.name in quantityNames)
        ]


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
        return (
            sum(1 for line in self.record.lines if "__parentId" not in line) if self.record.status == "COMPLETED" else 0
        )

    @property
    def createdAt(self) -> str:
        return _iso(self.record.created_at)

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

    def currentAppInstallation(self, info: Any) -> Json:
        """The token's granted scopes, as the merchant approved them (any token may read them)."""
        scopes = [{"handle": scope, "description": scope.replace("_", " ")} for scope in sorted(self.fake.scopes)]
        return {"id": "gid://shopify/AppInstallation/1", "accessScopes": scopes}

    def locations(self, info: Any, **args: Any) -> Json:
        _need(info, "read_locations", "locations")
        views = [
            _LocationView(self.fake, loc)
            for loc in self.fake.locations.values()
            if loc.active or args.get("includeInactive")
        ]
        return connection(views, info, args, key=lambda v: v.record.id)

    def location(self, info: Any, id: str | None = None) -> _LocationView | None:
        _need(info, "read_locations", "location")
        if id is None:  # Shopify: the shop's primary location
            first = next(iter(self.fake.locations.values()), None)
            return _LocationView(self.fake, first) if first else None
        found = self.fake.locations.get(parse_gid(id, "Location") or -1)
        return _LocationView(self.fake, found) if found else None

    def productVariants(self, info: Any, **args: Any) -> Json:
        _need(info, "read_products", "productVariants")
        found = self._search(info, "productVariants", self.fake.variants.values(), args)
        return connection([_VariantView(self.fake, v) for v in found], info, args, key=lambda v: v.record.id)

    def products(self, info: Any, **args: Any) -> Json:
        _need(info, "read_products", "products")
        found = self._search(info, "products", self.fake.products.values(), args)
        return connection([_ProductView(self.fake, p) for p in found], info, args, key=lambda v: v.record.id)

    def productVariantsCount(self, info: Any, limit: int | None = 10000, **args: Any) -> Json:
        _need(info, "read_products", "productVariantsCount")
        return _count(len(self._search(info, "productVariantsCount", self.fake.variants.values(), args)), limit)

    def productsCount(self, info: Any, limit: int | None = 10000, **args: Any) -> Json:
        _need(info, "read_products", "productsCount")
        return _count(len(self._search(info, "productsCount", self.fake.products.values(), args)), limit)

    def orders(self, info: Any, **args: Any) -> Json:
        _need(info, "read_orders", "orders")
        found = self._search(info, "orders", self.fake.orders.values(), args)
        return connection([_OrderView(self.fake, o) for o in found], info, args, key=lambda v: v.record.id)

    def _search(self, info: Any, name: str, items: Iterable[T], args: Mapping[str, Any]) -> list[T]:
        return search(info, items, self.fake.search_fields[name], args.get("query"))

    def order(self, info: Any, id: str) -> _OrderView | None:
        _need(info, "read_orders", "order")
        found = self.fake.orders.get(parse_gid(id, "Order") or -1)
        return _OrderView(self.fake, found) if found else None

    def node(self, info: Any, id: str) -> _View | None:
        return self.fake.view_of(id)

    def job(self, info: Any, id: str) -> Json | None:
        number = parse_gid(id, "Job")
        return {"id": id, "done": True} if number in self.fake.jobs else None

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

    def inventorySetQuantities(self, info: Any, input: Json) -> Json:
        _need(info, "write_inventory", "inventorySetQuantities")
        return self.fake.idempotent(info, "inventorySetQuantities", input, lambda: self.fake.set_quantities(input))

    def inventoryAdjustQuantities(self, info: Any, input: Json) -> Json:
        _need(info, "write_inventory", "inventoryAdjustQuantities")
        return self.fake.idempotent(
            info, "inventoryAdjustQuantities", input, lambda: self.fake.adjust_quantities(input)
        )

    def orderCreate(self, info: Any, order: Json, options: Json | None = None) -> Json:
        _need(info, "write_orders", "orderCreate")
        return self.fake.create_order_from_input(order, options or {})

    def orderCancel(self, info: Any, orderId: str, reason: str, restock: bool, **args: Any) -> Json:
        _need(info, "write_orders", "orderCancel")
        return self.fake.cancel_order_from_input(orderId, reason, restock, args.get("staffNote"))

    def productCreate(self, info: Any, product: Json | None = None) -> Json:
        _need(info, "write_products", "productCreate")
        return self.fake.create_product_from_input(product)

    def productVariantsBulkCreate(
        self, info: Any, productId: str, variants: list[Json], strategy: str = "DEFAULT"
    ) -> Json:
        _need(info, "write_products", "productVariantsBulkCreate")
        return self.fake.bulk_create_variants(productId, variants, strategy)


def _count(total: int, limit: int | None) -> Json:
    if limit is not None and total > limit:
        return {"count": limit, "precision": "AT_LEAST"}
    return {"count": total, "precision": "EXACT"}


# --------------------------------------------------------------------------------------------


def _schema() -> GraphQLSchema:
    schema = build_schema(files("stockstatus.adapters.shopify").joinpath("fake_schema.graphql").read_text("utf-8"))
    for name in ("Node", "DisplayableError"):
        interface = schema.get_type(name)
        interface.resolve_type = lambda value, info, abstract: value.typename  # type: ignore[union-attr]
    return schema


def _json(status: int, body: Any, headers: Mapping[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status, json=body, headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    )


class FakeShopify:
    """One fake shop. Seed it with `add_location`, `create_product`, `create_order`; change it
    like a merchant with `set_available` and `cancel_order` (or through the GraphQL mutations).

    `now` is the shop's wall clock (timestamps, `updated_at` searches); `clock` the monotonic one
    that paces the cost bucket and expires tokens.
    """

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
        self.search_fields = search_fields(lambda: self.now(), self.products, self.variants)
        self.inventory_items: dict[int, InventoryItem] = {}
        self.orders: dict[int, Order] = {}
        self.metafields: dict[tuple[str, str, str], Metafield] = {}
        self.bulk_operations: dict[int, BulkOperation] = {}
        self.adjustment_groups: dict[int, AdjustmentGroup] = {}
        self.jobs: set[int] = set()
        self.idempotency_keys: dict[str, tuple[str, str, Json]] = {}
        """@idempotent key → (mutation, its arguments as JSON, the answer it got)."""
        self.issued_tokens: dict[str, float] = {}
        """Client-credentials tokens and when (clock) each expires."""
        self.faults: list[Fault] = []
        self.log: list[Json] = []
        """One entry per GraphQL request: operation, requested and actual cost, throttled, errors."""
        self.bulk_polls = 1
        """Status polls a new bulk operation answers RUNNING before it completes."""
        self.bulk_outcome: tuple[str, str] | None = None
        """(status, errorCode) the next bulk operations end in instead of COMPLETED."""
        self._serving = threading.Lock()
        """One request at a time: the sandbox's threaded server may run a daemon's reads and an
        operator's writes at once."""

    def __repr__(self) -> str:
        return f"FakeShopify({self.shop!r}, plan={self.plan.name!r})"

    # --- seeding ---------------------------------------------------------------------------

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    def _stamp(self) -> datetime:
        """Now, to the second (Shopify's timestamps have no fractions, and searches compare them)."""
        return self.now().astimezone(UTC).replace(microsecond=0)

    def _touch(self, owner: str) -> None:
        """The product or variant `owner` (a GID) was edited: its updatedAt moves."""
        record: Product | Variant | None = self.products.get(parse_gid(owner, "Product") or -1) or self.variants.get(
            parse_gid(owner, "ProductVariant") or -1
        )
        if record is not None:
            record.updated_at = self._stamp()

    def _stock(self, item: InventoryItem, location_id: int, available: int = 0, incoming: int = 0) -> None:
        """Stock `item` at a location (a new inventory level)."""
        now = self._stamp()
        level = item.levels.setdefault(location_id, {"available": 0, "incoming": 0, "on_hand": 0})
        level["on_hand"] += available - level["available"]
        level["available"], level["incoming"] = available, incoming
        item.level_created_at.setdefault(location_id, now)
        item.level_updated_at[location_id] = now

    def _move(self, item: InventoryItem, location_id: int, deltas: Mapping[str, int]) -> list[InventoryChange]:
        """Change quantities of one inventory level by `deltas` (name → delta); its updatedAt moves.
        Callers keep Shopify's identity on_hand = available + committed + unavailable."""
        level = item.levels[location_id]
        changes = []
        for name, delta in deltas.items():
            level[name] = level.get(name, 0) + delta
            changes.append(InventoryChange(item.id, location_id, name, delta, level[name]))
        if any(deltas.values()):
            item.level_updated_at[location_id] = self._stamp()
        return changes

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
        now = self._stamp()
        product = Product(
            self._next_id(), title, vendor, product_type, list(dict.fromkeys(tags)), created_at=now, updated_at=now
        )
        self.products[product.id] = product
        for number, spec in enumerate(variants, start=1):
            self._create_variant(product, number, spec)
        for name, (kind, value) in (metafields or {}).items():
            self.put_metafield(gid("Product", product.id), name, kind, value)
        return product

    def _create_variant(self, product: Product, number: int, spec: Mapping[str, Any]) -> Variant:
        item = InventoryItem(self._next_id(), 0, bool(spec.get("tracked", True)))
        now = self._stamp()
        variant = Variant(
            id=self._next_id(),
            product_id=product.id,
            title=str(spec.get("title") or ("Default Title" if number == 1 else f"Option {number}")),
            sku=spec.get("sku"),
            inventory_policy=str(spec.get("inventory_policy", "DENY")),
            inventory_item_id=item.id,
            created_at=now,
            updated_at=now,
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
            self._stock(item, location_id, given.get("stock", 0), given.get("incoming", 0))
        self.inventory_items[item.id] = item
        self.variants[variant.id] = variant
        product.variant_ids.append(variant.id)
        for name, (kind, value) in (spec.get("metafields") or {}).items():
            self.put_metafield(gid("ProductVariant", variant.id), name, kind, value)
        return variant

    def _delete_variant(self, variant: Variant) -> None:
        self.products[variant.product_id].variant_ids.remove(variant.id)
        del self.variants[variant.id]
        del self.inventory_items[variant.inventory_item_id]
        owner = gid("ProductVariant", variant.id)
        for key in [k for k in self.metafields if k[0] == owner]:
            del self.metafields[key]

    def put_metafield(self, owner: str, name: str, kind: str, value: str) -> Metafield:
        """Set a metafield on a product or variant (its owner's updatedAt moves when it changes)."""
        namespace, _, key = name.partition(".")
        found = self.metafields.get((owner, namespace, key))
        if found:
            if (found.type, found.value) != (kind, value):
                found.type, found.value = kind, value
                self._touch(owner)
            return found
        metafield = Metafield(self._next_id(), owner, namespace, key, kind, value)
        self.metafields[(owner, namespace, key)] = metafield
        self._touch(owner)
        return metafield

    def _claim_location(self, item: InventoryItem) -> int | None:
        """Where an order takes the item from: the first active location that fulfils online orders
        and stocks it."""
        for location in self.locations.values():
            if location.active and location.fulfills_online_orders and location.id in item.levels:
                return location.id
        return None

    def _claim(self, variant: Variant, quantity: int) -> int | None:
        """Commit `quantity` of a tracked variant to an order: off `available`, onto `committed`."""
        item = self.inventory_items[variant.inventory_item_id]
        location_id = self._claim_location(item) if item.tracked else None
        if location_id is not None:
            self._move(item, location_id, {"available": -quantity, "committed": quantity})
        return location_id

    def create_order(self, lines: Iterable[tuple[int, int]], *, created_at: datetime | None = None) -> Order:
        """An open, unfulfilled order of (variant id, quantity) lines; takes stock off `available`
        at the first active location that fulfils online orders and stocks the item."""
        items = []
        for variant_id, quantity in lines:
            variant = self.variants[variant_id]
            title = self.products[variant.product_id].title
            items.append(
                LineItem(
                    self._next_id(),
                    variant_id,
                    variant.sku,
                    quantity,
                    title=title,
                    claimed_at=self._claim(variant, quantity),
                )
            )
        return self._file_order(items, created_at=created_at)

    def _file_order(
        self,
        lines: list[LineItem],
        *,
        created_at: datetime | None = None,
        processed_at: datetime | None = None,
        **fields: Any,
    ) -> Order:
        created = created_at or self._stamp()
        order = Order(
            self._next_id(),
            f"#{1000 + len(self.orders) + 1}",
            created,
            lines,
            processed_at=processed_at or created,
            updated_at=created,
            **fields,
        )
        self.orders[order.id] = order
        return order

    def set_available(self, variant_id: int, quantity: int, *, location: str | None = None) -> None:
        """Set a variant's `available` at `location` (default: where orders take it from), as a
        merchant's stock count does; the level's updatedAt moves."""
        item = self.inventory_items[self.variants[variant_id].inventory_item_id]
        location_id = (
            self.location_named(location).id if location else (self._claim_location(item) or next(iter(item.levels)))
        )
        if location_id not in item.levels:
            self._stock(item, location_id)
        delta = quantity - item.levels[location_id]["available"]
        self._move(item, location_id, {"available": delta, "on_hand": delta})

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
                self._move(item, line.claimed_at, {"committed": -unshipped, "available": unshipped})
            else:  # not restocked: the committed units leave the location's stock
                self._move(item, line.claimed_at, {"committed": -unshipped, "on_hand": -unshipped})
        order.cancelled_at = order.updated_at = self._stamp()
        order.cancel_reason = reason
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

    def fail_next(
        self,
        status: int,
        *,
        times: int = 1,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        path_contains: str | None = None,
    ) -> None:
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
            "InventoryAdjustmentGroup": (self.adjustment_groups, _AdjustmentGroupView),
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
        with self._serving:
            return self._handle(request)

    def _handle(self, request: httpx.Request) -> httpx.Response:
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
            return _json(
                400, {"error": "unsupported_grant_type", "error_description": "The grant type is not supported."}
            )
        if not (
            secrets.compare_digest(form.get("client_id", ""), self.client_id)
            and secrets.compare_digest(form.get("client_secret", ""), self.client_secret)
        ):
            return _json(401, {"error": "invalid_client", "error_description": "Client authentication failed."})
        token = f"shpat_{secrets.token_hex(16)}"
        self.issued_tokens[token] = self.clock() + self.token_lifetime
        return _json(
            200, {"access_token": token, "scope": ",".join(sorted(self.scopes)), "expires_in": self.token_lifetime}
        )

    def _cost_block(self, requested: int | None, actual: int | None) -> Json:
        return {
            "cost": {"requestedQueryCost": requested, "actualQueryCost": actual, "throttleStatus": self.bucket.status()}
        }

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
            return self._errors(
                [
                    {
                        "message": f"Query cost is {requested}, which exceeds the single query max cost limit "
                        f"({cost.MAX_QUERY_COST}).\n\nSee https://shopify.dev/concepts/about-apis/rate-limits for more "
                        "information on how the\ncost of a query is calculated.\n\nTo query larger amounts of data with "
                        "fewer limits, bulk operations should be used instead.\nSee "
                        "https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n",
                        "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": cost.MAX_QUERY_COST},
                    }
                ],
                requested,
                entry,
            )
        if not self.bucket.take(requested):
            entry["throttled"] = True
            return self._errors(
                [
                    {
                        "message": "Throttled",
                        "extensions": {
                            "code": "THROTTLED",
                            "documentation": "https://shopify.dev/api/usage/rate-limits",
                        },
                    }
                ],
                requested,
                entry,
            )
        context: Json = {"bulk": False, "scopes": self.scopes}
        result = self._execute(document, operation, coerced, context)
        actual = cost.actual_cost(self.schema, operation, fragments, coerced, result.data)
        self.bucket.refund(requested - actual)
        entry["actual"] = actual
        answer: Json = {"data": result.data}
        if result.errors:
            answer["errors"] = [e.formatted for e in result.errors]
            entry["errors"] = [(e.extensions or {}).get("code") or e.message for e in result.errors]
        answer["extensions"] = self._cost_block(requested, actual)
        if context.get("search"):  # Shopify: terms it dropped from a `query:` argument, and why
            answer["extensions"]["search"] = context["search"]
            entry["search_warnings"] = [w for s in context["search"] for w in s["warnings"]]
        self.log.append(entry)
        return _json(200, answer)

    def _execute(
        self, document: DocumentNode, operation: OperationDefinitionNode, variables: Mapping[str, Any], context: Json
    ) -> Any:
        return execute_sync(
            self.schema,
            document,
            root_value=self._root,
            context_value=context,
            variable_values=dict(variables),
            operation_name=operation.name.value if operation.name else None,
        )

    # --- mutations -------------------------------------------------------------------------

    def bulk_update_variants(self, product_id: str, inputs: list[Json], partial: bool) -> Json:
        product = self.products.get(parse_gid(product_id, "Product") or -1)
        if product is None:
            return {
                "product": None,
                "productVariants": None,
                "userErrors": [
                    {"field": ["productId"], "message": "Product does not exist", "code": "PRODUCT_DOES_NOT_EXIST"}
                ],
            }
        if len(inputs) > MAX_INPUT_LIST:
            return {
                "product": None,
                "productVariants": None,
                "userErrors": [
                    {"field": ["variants"], "message": f"Input exceeds {MAX_INPUT_LIST} items", "code": "INVALID_INPUT"}
                ],
            }
        errors: list[Json] = []
        changes: list[tuple[Variant, Json]] = []
        for index, given in enumerate(inputs):
            if not given.get("id"):
                errors.append(
                    {
                        "field": ["variants", str(index), "id"],
                        "message": "Product variant is missing ID attribute",
                        "code": "PRODUCT_VARIANT_ID_MISSING",
                    }
                )
                continue
            variant = self.variants.get(parse_gid(given["id"], "ProductVariant") or -1)
            if variant is None or variant.product_id != product.id:
                errors.append(
                    {
                        "field": ["variants", str(index), "id"],
                        "message": "Product variant does not exist",
                        "code": "PRODUCT_VARIANT_DOES_NOT_EXIST",
                    }
                )
                continue
            if given.get("inventoryQuantities") is not None:
                errors.append(
                    {
                        "field": ["variants", str(index), "inventoryQuantities"],
                        "code": "NO_INVENTORY_QUANTITIES_ON_VARIANTS_UPDATE",
                        "message": "Inventory quantities can only be provided during create. To update "
                        "inventory for existing variants, use inventoryAdjustQuantities.",
                    }
                )
                continue
            if given.get("optionValues") is not None:
                errors.append(
                    {
                        "field": ["variants", str(index), "optionValues"],
                        "code": "INVALID_INPUT",
                        "message": "The fake Shopify does not change a variant's option values.",
                    }
                )
                continue
            changes.append((variant, given))
        if errors and not partial:
            return {"product": _ProductView(self, product), "productVariants": None, "userErrors": errors}
        for variant, given in changes:
            before = (variant.inventory_policy, variant.sku, self.inventory_items[variant.inventory_item_id].tracked)
            if given.get("inventoryPolicy"):
                variant.inventory_policy = given["inventoryPolicy"]
            item_input = given.get("inventoryItem") or {}
            if "sku" in item_input:
                variant.sku = item_input["sku"]
            if item_input.get("tracked") is not None:
                self.inventory_items[variant.inventory_item_id].tracked = item_input["tracked"]
            if (
                variant.inventory_policy,
                variant.sku,
                self.inventory_items[variant.inventory_item_id].tracked,
            ) != before:
                variant.updated_at = self._stamp()
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
            return {
                "metafields": None,
                "userErrors": [
                    {
                        "field": ["metafields"],
                        "message": f"Exceeded the maximum metafields input limit of {MAX_METAFIELDS_PER_SET}.",
                        "code": "LESS_THAN_OR_EQUAL_TO",
                        "elementIndex": None,
                    }
                ],
            }
        errors: list[Json] = []
        for index, given in enumerate(inputs):

            def refuse(name: str, message: str, code: str, index: int = index) -> None:
                errors.append(
                    {"field": ["metafields", str(index), name], "message": message, "code": code, "elementIndex": index}
                )

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
            self.put_metafield(
                given["ownerId"],
                f"{given.get('namespace') or 'app--connector'}.{given['key']}",
                given.get("type")
                or self.metafields[(given["ownerId"], given.get("namespace") or "app--connector", given["key"])].type,
                given["value"],
            )
            for given in inputs
        ]
        return {"metafields": [_MetafieldView(self, m) for m in saved], "userErrors": []}

    def delete_metafields(self, inputs: list[Json], info: Any) -> Json:
        _need(info, "write_products", "metafieldsDelete")
        if len(inputs) > MAX_INPUT_LIST:
            return {
                "deletedMetafields": None,
                "userErrors": [{"field": ["metafields"], "message": "Too many metafields"}],
            }
        deleted: list[Json | None] = []
        for given in inputs:
            found = self.metafields.pop((given["ownerId"], given["namespace"], given["key"]), None)
            if found:
                self._touch(given["ownerId"])
            deleted.append(
                {"ownerId": given["ownerId"], "namespace": given["namespace"], "key": given["key"]} if found else None
            )
        return {"deletedMetafields": deleted, "userErrors": []}

    def update_order(self, given: Json) -> Json:
        """orderUpdate: the fields the fake knows (`note`, overwritten as a whole, like Shopify)."""
        order = self.orders.get(parse_gid(given["id"], "Order") or -1)
        if order is None:
            return {"order": None, "userErrors": [{"field": ["id"], "message": "Order does not exist"}]}
        if "note" in given and given["note"] != order.note:
            order.note = given["note"]
            order.updated_at = self._stamp()
        return {"order": _OrderView(self, order), "userErrors": []}

    def change_tags(self, owner: str, tags: list[str], *, add: bool) -> Json:
        product = self.products.get(parse_gid(owner, "Product") or -1)
        if product is None:
            return {"node": None, "userErrors": [{"field": ["id"], "message": "Resource not found"}]}
        before = list(product.tags)
        if add:
            for tag in tags:
                if tag.strip() and tag.strip().lower() not in {t.lower() for t in product.tags}:
                    product.tags.append(tag.strip())
        else:
            gone = {t.strip().lower() for t in tags}
            product.tags = [t for t in product.tags if t.lower() not in gone]
        if product.tags != before:
            product.updated_at = self._stamp()
        return {"node": _ProductView(self, product), "userErrors": []}

    # --- inventory, order and product mutations ---------------------------------------------

    def idempotent(self, info: Any, mutation: str, arguments: Json, run: Callable[[], Json]) -> Json:
        """Run a mutation that Shopify requires an `@idempotent(key:)` directive on (inventory
        mutations, since 2026-04); a retried key answers the first answer without running again."""
        directive = self.schema.get_directive("idempotent")
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
        if key in self.idempotency_keys:
            earlier, earlier_arguments, answer = self.idempotency_keys[key]
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
        self.idempotency_keys[key] = (mutation, fingerprint, answer)
        return answer

    def _inventory_target(self, given: Json, where: list[str], errors: list[Json]) -> tuple[InventoryItem, int] | None:
        """The (item, location) a quantity input names, or None after recording why not."""
        item = self.inventory_items.get(parse_gid(given["inventoryItemId"], "InventoryItem") or -1)
        location = self.locations.get(parse_gid(given["locationId"], "Location") or -1)
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

    def _adjustment_group(self, reason: str, reference: str | None, changes: list[InventoryChange]) -> Json:
        group = AdjustmentGroup(self._next_id(), self._stamp(), reason, reference, changes)
        self.adjustment_groups[group.id] = group
        return {"inventoryAdjustmentGroup": _AdjustmentGroupView(self, group), "userErrors": []}

    def set_quantities(self, given: Json) -> Json:
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
            target = self._inventory_target(quantity, where, errors)
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
            for change in self._move(item, location_id, {name: delta, other: delta})
        ]
        return self._adjustment_group(given["reason"], given.get("referenceDocumentUri"), changes)

    def adjust_quantities(self, given: Json) -> Json:
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
            target = self._inventory_target(change, where, errors)
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
            for change in self._move(item, location_id, {"available": delta, "on_hand": delta})
        ]
        return self._adjustment_group(given["reason"], given.get("referenceDocumentUri"), changes)

    def create_order_from_input(self, given: Json, options: Json) -> Json:
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
                variant = self.variants.get(parse_gid(line["variantId"], "ProductVariant") or -1)
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
                processed_at = min(
                    processed_at if processed_at.tzinfo else processed_at.replace(tzinfo=UTC), self._stamp()
                )
        if not errors and behaviour == "DECREMENT_OBEYING_POLICY":
            ordered: dict[int, int] = {}
            for variant, line in wanted:
                if variant is not None:
                    ordered[variant.id] = ordered.get(variant.id, 0) + line["quantity"]
            for variant_id, quantity in ordered.items():
                variant = self.variants[variant_id]
                item = self.inventory_items[variant.inventory_item_id]
                if not item.tracked or variant.inventory_policy != "DENY":
                    continue
                location_id = self._claim_location(item)
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
            claimed = self._claim(variant, line["quantity"]) if variant and behaviour != "BYPASS" else None
            title = self.products[variant.product_id].title if variant else str(line.get("title"))
            items.append(
                LineItem(
                    self._next_id(),
                    variant.id if variant else None,
                    variant.sku if variant else line.get("sku"),
                    line["quantity"],
                    title=title,
                    claimed_at=claimed,
                )
            )
        order = self._file_order(
            items,
            processed_at=processed_at,
            email=given.get("email"),
            note=given.get("note"),
            tags=list(dict.fromkeys(t.strip() for t in given.get("tags") or () if t.strip())),
        )
        return {"order": _OrderView(self, order), "userErrors": []}

    def cancel_order_from_input(self, order_id: str, reason: str, restock: bool, staff_note: str | None) -> Json:
        """orderCancel: answers a Job (Shopify cancels asynchronously; the fake has already done it)."""
        order = self.orders.get(parse_gid(order_id, "Order") or -1)
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
        self.cancel_order(order.id, reason=reason, restock=restock)
        job = self._next_id()
        self.jobs.add(job)
        return {"job": {"id": gid("Job", job), "done": False}, "orderCancelUserErrors": [], "userErrors": []}

    def create_product_from_input(self, given: Json | None) -> Json:
        """productCreate: the product with Shopify's standalone "Default Title" variant (untracked,
        stocked at the primary location with nothing available)."""
        title = ((given or {}).get("title") or "").strip()
        if not title:
            return {"product": None, "userErrors": [{"field": ["title"], "message": "Title can't be blank"}]}
        assert given is not None
        now = self._stamp()
        tags = [t.strip() for t in given.get("tags") or () if t.strip()]
        product = Product(
            self._next_id(),
            title,
            given.get("vendor") or "",
            given.get("productType") or "",
            list(dict.fromkeys(tags)),
            status=given.get("status") or "ACTIVE",
            created_at=now,
            updated_at=now,
        )
        self.products[product.id] = product
        self._add_variant(product, "Default Title", None, "DENY", tracked=False, quantities={})
        return {"product": _ProductView(self, product), "userErrors": []}

    def _add_variant(
        self,
        product: Product,
        title: str,
        sku: str | None,
        policy: str,
        *,
        tracked: bool,
        quantities: Mapping[int, int],
    ) -> Variant:
        item = InventoryItem(self._next_id(), 0, tracked)
        now = self._stamp()
        variant = Variant(self._next_id(), product.id, title, sku, policy, item.id, created_at=now, updated_at=now)
        item.variant_id = variant.id
        primary = next((loc.id for loc in self.locations.values() if loc.active), None)
        for location_id, available in (quantities or ({primary: 0} if primary is not None else {})).items():
            self._stock(item, location_id, available)
        self.inventory_items[item.id] = item
        self.variants[variant.id] = variant
        product.variant_ids.append(variant.id)
        return variant

    def bulk_create_variants(self, product_id: str, inputs: list[Json], strategy: str) -> Json:
        """productVariantsBulkCreate, all or nothing: each variant names a value for every option of
        the product (`optionValues: [{optionName: "Title", name: "250 g"}]` for a product made by
        productCreate); DEFAULT drops a lone "Default Title" variant, REMOVE_STANDALONE_VARIANT any
        lone variant, PRESERVE_STANDALONE_VARIANT none."""
        product = self.products.get(parse_gid(product_id, "Product") or -1)
        if product is None:
            return {
                "product": None,
                "productVariants": None,
                "userErrors": [
                    {"field": ["productId"], "message": "Product does not exist", "code": "PRODUCT_DOES_NOT_EXIST"}
                ],
            }
        if len(inputs) > MAX_INPUT_LIST:
            return {
                "product": None,
                "productVariants": None,
                "userErrors": [
                    {"field": ["variants"], "message": f"Input exceeds {MAX_INPUT_LIST} items", "code": "INVALID_INPUT"}
                ],
            }
        lone = self.variants[product.variant_ids[0]] if len(product.variant_ids) == 1 else None
        remove = lone is not None and (
            strategy == "REMOVE_STANDALONE_VARIANT" or (strategy == "DEFAULT" and lone.title == "Default Title")
        )
        titles = {self.variants[v].title for v in product.variant_ids if not (remove and lone and v == lone.id)}
        errors: list[Json] = []
        planned: list[tuple[str, Json, dict[int, int]]] = []
        for index, given in enumerate(inputs):
            where = ["variants", str(index)]
            if given.get("id"):
                errors.append(
                    {
                        "field": [*where, "id"],
                        "message": "On create, this key cannot be used.",
                        "code": "NO_KEY_ON_CREATE",
                    }
                )
            values: dict[str, str] = {}
            for number, option in enumerate(given.get("optionValues") or ()):
                if option.get("optionName") not in product.options or not (option.get("name") or "").strip():
                    errors.append(
                        {
                            "field": [*where, "optionValues", str(number)],
                            "code": "INVALID_INPUT",
                            "message": f"Give optionName (one of {', '.join(product.options)}) and name; "
                            "the fake Shopify does not take option ids.",
                        }
                    )
                    continue
                values[option["optionName"]] = option["name"].strip()
            missing = [name for name in product.options if name not in values]
            if missing:
                errors.append(
                    {
                        "field": where,
                        "code": "NEED_TO_ADD_OPTION_VALUES",
                        "message": f"You need to add option values for {', '.join(missing)}",
                    }
                )
                continue
            title = " / ".join(values[name] for name in product.options)
            if title in titles:
                errors.append(
                    {
                        "field": where,
                        "code": "VARIANT_ALREADY_EXISTS",
                        "message": f"The variant '{title}' already exists.",
                    }
                )
            titles.add(title)
            quantities: dict[int, int] = {}
            for number, quantity in enumerate(given.get("inventoryQuantities") or ()):
                location = self.locations.get(parse_gid(quantity["locationId"], "Location") or -1)
                if location is None:
                    errors.append(
                        {
                            "field": [*where, "inventoryQuantities", str(number), "locationId"],
                            "code": "TRACKED_VARIANT_LOCATION_NOT_FOUND",
                            "message": "Quantity could not be set. The location was not found.",
                        }
                    )
                    continue
                quantities[location.id] = quantity["availableQuantity"]
            planned.append((title, given, quantities))
        if errors:
            return {"product": _ProductView(self, product), "productVariants": None, "userErrors": errors}
        if remove and lone is not None:
            self._delete_variant(lone)
        created = [
            self._add_variant(
                product,
                title,
                (given.get("inventoryItem") or {}).get("sku"),
                given.get("inventoryPolicy") or "DENY",
                tracked=bool((given.get("inventoryItem") or {}).get("tracked")),
                quantities=quantities,
            )
            for title, given, quantities in planned
        ]
        return {
            "product": _ProductView(self, product),
            "productVariants": [_VariantView(self, v) for v in created],
            "userErrors": [],
        }

    # --- bulk operations -------------------------------------------------------------------

    def run_bulk_query(self, text: str, info: Any) -> Json:
        running = [op for op in self.bulk_operations.values() if op.status in ("CREATED", "RUNNING")]
        if running:
            return {
                "bulkOperation": None,
                "userErrors": [
                    {
                        "field": None,
                        "code": "OPERATION_IN_PROGRESS",
                        "message": f"A bulk query operation for this app and shop is already in progress: {gid('BulkOperation', running[0].id)}.",
                    }
                ],
            }
        try:
            document = parse(text)
        except GraphQLError as exc:
            return {
                "bulkOperation": None,
                "userErrors": [{"field": ["query"], "message": exc.message, "code": "INVALID"}],
            }
        problems = validate(self.schema, document)
        operation = get_operation_ast(document)
        if problems or operation is None or operation.variable_definitions:
            message = problems[0].message if problems else "Bulk queries take no variables and one operation"
            return {"bulkOperation": None, "userErrors": [{"field": ["query"], "message": message, "code": "INVALID"}]}
        operation_record = BulkOperation(
            self._next_id(), text, self.now(), polls_left=self.bulk_polls, fail_with=self.bulk_outcome
        )
        result = execute_sync(
            self.schema, document, root_value=self._root, context_value={"bulk": True, "scopes": info.context["scopes"]}
        )
        if result.errors:
            operation_record.fail_with = (
                "FAILED",
                "ACCESS_DENIED"
                if any((e.extensions or {}).get("code") == "ACCESS_DENIED" for e in result.errors)
                else "INTERNAL_SERVER_ERROR",
            )
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
        return httpx.Response(
            404,
            content=b"<?xml version='1.0'?><Error><Code>NoSuchKey</Code></Error>",
            headers={"Content-Type": "application/xml"},
        )


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
