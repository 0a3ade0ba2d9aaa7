"""Shopify's search syntax for the `query:` argument of a connection, and the fields each filters on.

shopify.dev/docs/api/usage/search-syntax: terms `[-|NOT ]field:[<|>|<=|>=]value` or `(subquery)`,
joined by AND (also implied by a space) and OR (binding looser than AND). Like Shopify, a term on
a field the connection does not filter on is dropped and reported in `extensions.search[].warnings`
(code `invalid_field`) instead of failing the query. `search_fields` lists the fields per
connection (a subset of Shopify's); `search` applies a query to a connection's records.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from .records import ISO_DATE, Json, Order, Product, Variant

__all__ = ["FieldFilter", "search", "search_fields"]

T = TypeVar("T")


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


def _list_filter(value: Callable[[Any], str]) -> FieldFilter:
    """A field matched against a comma-separated list of values, case-insensitively (`product_status:ACTIVE,DRAFT`)."""

    def make(comparator: str, given: str) -> Predicate:
        if comparator != ":":
            raise ValueError(f"Invalid value {given!r}: a list takes no comparator.")
        wanted = {part.strip().lower() for part in given.split(",") if part.strip()}
        return lambda record: value(record).lower() in wanted

    return make


def _bool_filter(value: Callable[[Any], bool]) -> FieldFilter:
    """A boolean field (`gift_card:false`)."""

    def make(comparator: str, given: str) -> Predicate:
        if comparator != ":" or given.lower() not in ("true", "false"):
            raise ValueError(f"Invalid value {given!r}: true or false.")
        wanted = given.lower() == "true"
        return lambda record: bool(value(record)) == wanted

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
        "product_status": _list_filter(lambda v: product_of(v).status),
        "gift_card": _bool_filter(lambda v: product_of(v).gift_card),
        "requires_components": _bool_filter(lambda v: v.requires_components),
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
        "fulfillmentOrders": {  # FulfillmentOrder records
            "id": _id_filter(lambda w: w.id),
            "assigned_location_id": _id_filter(lambda w: w.location_id),
            "status": _list_filter(lambda w: w.status),
            "updated_at": _time_filter(lambda w: w.updated_at, now),
        },
        "inventoryShipments": {
            "status": _text_filter(lambda shipment: [shipment.status]),
            "destination_id": _id_filter(lambda shipment: shipment.destination_id),
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
