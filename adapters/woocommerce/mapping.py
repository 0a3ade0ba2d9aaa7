"""WooCommerce payloads ↔ the core's model, and decisions → the fields to write. Pure: no I/O.

Item keys: "123" for a product, "123/456" for variation 456 of product 123.

Which products are items: every product that is sold from its own stock — simple products and
types added by plugins (subscriptions, bundles...) — and every variation. Not items: variable
parents (their variations are), grouped products (a shelf of other products, which are items
themselves) and external products (sold elsewhere; WooCommerce keeps no stock for them).

Stock pools: a variation that reports `manage_stock: "parent"` sells from its parent's stock.
Its `available` is the parent's `stock_quantity` and its sell-past-zero policy is the parent's
`backorders`, so that is where the policy write goes (field `parent_backorders`); its status,
ETA and message still go to the variation's own meta. Siblings may want different policies for
their one pool: `StockPool` collects what each planned variation wants and the push writes one
value, "no" if any of them must not sell past zero (`resolve_pool_conflicts`).

A variation that wanted to sell past zero (backorder, pre-order) in a pool held at "no" cannot:
the store will sell it from stock and then show it sold out. Nothing contradicting that is
written: its meta gets what the store sells (`in_stock` while the shared quantity is positive,
else `out_of_stock`, no ETA, no message) and its `pool_conflict` meta key the status its rules
wanted. The pass that decides this reports it once as a failed write of that variation, with the
reason; later passes see the `pool_conflict` meta still naming the same status under a parent
still at "no" and plan nothing, so the same disagreement does not fail every pass. When the
siblings agree again (or the variation gets its own stock), the parent changes and the next
pass writes the variation's own decision and clears `pool_conflict`.

An item whose data cannot be read gets a `problems` entry (the core then leaves it unchanged):
a merchant date that is not YYYY-MM-DD, a stock quantity that is not a number. An empty
`stock_quantity` on a managed item is read as 0, which is what WooCommerce itself does with it.
The connector's own meta (status, ETA, message) being unreadable is not a problem: the next
write replaces it.

Field names in a plan (the mapping `plan` returns, also what `connector resync` prints):
`stock_status`, `backorders`, `parent_backorders` and `meta:<meta key>`; values are strings.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from stockstatus.core.errors import FetchError
from stockstatus.core.model import Decision, Item, OpenOrder, OrderLine, Shown, Status, name_set
from stockstatus.core.platform import FieldWrite

from .settings import MetaKeys, WooCommerceSettings

STOCK_STATUS_SHOWN: Mapping[str, Status] = {
    "instock": Status.IN_STOCK,
    "onbackorder": Status.BACKORDER,
    "outofstock": Status.OUT_OF_STOCK,
}
STATUS_TO_STOCK_STATUS: Mapping[Status, str] = {
    Status.IN_STOCK: "instock",
    Status.BACKORDER: "onbackorder",
    Status.PRE_ORDER: "onbackorder",
    Status.OUT_OF_STOCK: "outofstock",
}
STOCK_STATUSES = frozenset(STOCK_STATUS_SHOWN)
BACKORDERS = frozenset({"no", "notify", "yes"})
NOT_ITEMS = frozenset({"grouped", "external"})
META_PREFIX = "meta:"
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# The fields each listing asks for (`_fields`): exactly the top-level fields this module and the
# adapter read, so a product page is about a sixth of its full size. WooCommerce 10 drops a field
# asked for by a nested key (`meta_data.key`, `line_items.sku`, even `dimensions.length`), so lists
# and objects are asked for whole; tests/woocommerce/test_mapping.py proves every read is covered.
PRODUCT_FIELDS = (
    "id",
    "name",
    "sku",
    "type",
    "manage_stock",
    "stock_quantity",
    "stock_status",
    "backorders",
    "meta_data",
    "tags",
    "categories",
    "brands",
    "variations",
)
VARIATION_FIELDS = (
    "id",
    "name",
    "sku",
    "manage_stock",
    "stock_quantity",
    "stock_status",
    "backorders",
    "meta_data",
    "attributes",
)
ORDER_FIELDS = ("id", "number", "status", "date_created_gmt", "line_items")


# --- reading -------------------------------------------------------------------------------


@dataclass(eq=False)
class StockPool:
    """A parent product whose stock several variations sell from (`manage_stock: "parent"`).

    Built once per pull and shared by the Items of its variations. `plan` records here the
    `backorders` each planned variation wants, so that `push` can write one value for the pool
    that takes every sibling into account, also those whose own plan was empty.
    """

    parent_id: int
    backorders: Any
    """The parent's `backorders` as pulled."""
    wanted: dict[str, str] = field(default_factory=dict)
    """Item key → `backorders` that variation's decision needs (filled by `plan`)."""
    decided: dict[str, tuple[Item, Decision]] = field(default_factory=dict)
    """Item key → the variation and its decision, for every planned variation (filled by `plan`)."""

    def resolved(self, more: Iterable[str] = ()) -> str | None:
        """The value to hold (see `resolve_pool_conflicts`); None when no variation was planned."""
        values = [*self.wanted.values(), *more]
        return resolve_pool_conflicts(values) if values else None


def has_variations(product: Mapping[str, Any]) -> bool:
    """Whether the product's sellable units are its variations (a variable parent)."""
    return product.get("type") == "variable" or bool(product.get("variations"))


def is_item(product: Mapping[str, Any]) -> bool:
    """Whether a product (not a variation) is itself a decision unit."""
    return not has_variations(product) and product.get("type") not in NOT_ITEMS


def meta_value(product: Mapping[str, Any], key: str) -> Any:
    """The first value stored under `key` in `meta_data` (None when absent)."""
    for entry in product.get("meta_data") or ():
        if isinstance(entry, Mapping) and entry.get("key") == key:
            return entry.get("value")
    return None


OWN_META = ("status", "eta", "message", "pool_conflict", "sellout_status", "sellout_eta", "sellout_message")
"""The `MetaKeys` fields the connector writes (`own_meta_values`), in the order `Held` keeps their values."""


@lru_cache(maxsize=16)
def _own_positions(keys: MetaKeys) -> dict[str, int]:
    return {getattr(keys, name): position for position, name in enumerate(OWN_META)}


@lru_cache(maxsize=4096)
def _one_of(values: tuple[str | None, ...]) -> tuple[str | None, ...]:
    """One object for equal tuples: most items of a store hold the same few sets of the connector's meta."""
    return values


def _shared_text(value: Any) -> Any:
    # Status and policy words repeat on every item; the JSON decoder makes a new string for each.
    return sys.intern(value) if isinstance(value, str) and len(value) <= 64 else value


def held_meta(record: Mapping[str, Any], keys: MetaKeys) -> tuple[str | None, ...]:
    """The connector's own meta keys (`OWN_META`) as the record holds them: each first value as text, None if absent.

    A value that is not text reads as its JSON (what `connector restore` writes back).
    """
    positions = _own_positions(keys)
    values: list[str | None] = [None] * len(OWN_META)
    for entry in record.get("meta_data") or ():
        if not isinstance(entry, Mapping):
            continue
        key, value = entry.get("key"), entry.get("value")
        position = positions.get(key) if isinstance(key, str) else None
        if position is not None and value is not None and values[position] is None:
            values[position] = _shared_text(value if isinstance(value, str) else json.dumps(value))
    return _one_of(tuple(values))


class Held(Mapping[str, Any]):
    """What an Item keeps of its product or variation: the fields `plan`, `push` and `restore` read.

    A small frozen object rather than the listing's dict: at 100,000 SKUs every byte an item
    keeps for the whole pass costs 100 kB, and the answer's JSON (every meta key, the term
    lists) is let go as soon as the item is made. Read as a mapping (`connector.report` looks
    fields up by name): `type`, `product_id`, `variation_id`, `manage_stock`, `stock_status`,
    `backorders`, `parent_backorders`, `stock_pool`, `meta` (the connector's own meta by
    `MetaKeys` field name, empty text read as None: what `plan` compares) and `meta_data` (those
    keys as stored, by meta key: what restore puts back).
    """

    __slots__ = (
        "_keys",
        "_meta",
        "backorders",
        "manage_stock",
        "parent_backorders",
        "product_id",
        "stock_pool",
        "stock_status",
        "type",
        "variation_id",
    )
    FIELDS = (
        "type",
        "product_id",
        "variation_id",
        "manage_stock",
        "stock_status",
        "backorders",
        "parent_backorders",
        "stock_pool",
        "meta",
        "meta_data",
    )

    type: Any
    product_id: Any
    variation_id: Any
    manage_stock: Any
    stock_status: Any
    backorders: Any
    parent_backorders: Any
    stock_pool: StockPool | None
    _meta: tuple[str | None, ...]
    _keys: MetaKeys

    def __init__(
        self,
        *,
        type: Any,
        product_id: Any,
        manage_stock: Any,
        stock_status: Any,
        backorders: Any,
        meta: tuple[str | None, ...],
        keys: MetaKeys,
        variation_id: Any = None,
        parent_backorders: Any = None,
        stock_pool: StockPool | None = None,
    ) -> None:
        put = object.__setattr__
        put(self, "type", _shared_text(type))
        put(self, "product_id", product_id)
        put(self, "variation_id", variation_id)
        put(self, "manage_stock", _shared_text(manage_stock))
        put(self, "stock_status", _shared_text(stock_status))
        put(self, "backorders", _shared_text(backorders))
        put(self, "parent_backorders", _shared_text(parent_backorders))
        put(self, "stock_pool", stock_pool)
        put(self, "_meta", meta)
        put(self, "_keys", keys)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"Held is read-only ({name})")

    def __getitem__(self, name: str) -> Any:
        if name == "meta":
            return {own: value or None for own, value in zip(OWN_META, self._meta, strict=True)}
        if name == "meta_data":
            return {
                getattr(self._keys, own): value
                for own, value in zip(OWN_META, self._meta, strict=True)
                if value is not None
            }
        if name in Held.FIELDS:
            return getattr(self, name)
        raise KeyError(name)

    def stored(self, key: str, label: str) -> str | None:
        """What the connector's meta `key` holds as stored (None: absent); LookupError for a key it does not write."""
        position = _own_positions(self._keys).get(key)
        if position is None:
            # Only the connector's own keys are kept (what a plan writes), not every key of the product.
            raise LookupError(f"{label}: meta key {key!r} is not one the connector writes")
        return self._meta[position]

    def __iter__(self) -> Iterator[str]:
        return iter(Held.FIELDS)

    def __len__(self) -> int:
        return len(Held.FIELDS)

    def __repr__(self) -> str:
        return f"Held({dict(self)!r})"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text.strip() or None


def _date(value: Any, key: str, problems: list[str]) -> date | None:
    text = _text(value)
    if text is None:
        return None
    if ISO_DATE.match(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    problems.append(f"meta {key}={text!r} is not a date (YYYY-MM-DD)")
    return None


def _names(terms: Any) -> frozenset[str]:
    if isinstance(terms, frozenset):
        return terms  # already read (`parent_record`)
    return name_set(t["name"] for t in terms or () if isinstance(t, Mapping) and t.get("name"))


@lru_cache(maxsize=16)
def _read_keys(keys: MetaKeys) -> frozenset[str]:
    return frozenset(keys.model_dump().values())


def trimmed(record: Mapping[str, Any], keys: MetaKeys) -> dict[str, Any]:
    """A product or variation as listed, with only the meta keys this module reads (the rest can be large)."""
    read = _read_keys(keys)
    meta = [
        entry
        for entry in record.get("meta_data") or ()
        if isinstance(entry, Mapping) and isinstance(entry.get("key"), str) and entry["key"] in read
    ]
    return {**record, "meta_data": meta}


def parent_record(product: Mapping[str, Any], keys: MetaKeys) -> dict[str, Any]:
    """What `variation_item` and the variation reads need of a variable product, until its variations are read.

    Its terms are read once for all its variations; of its meta only the merchant's keys its
    variations inherit are kept.
    """
    inherited = {keys.supplier, keys.release_date, keys.restock_date}
    return {
        "id": product["id"],
        "name": product.get("name"),
        "type": _shared_text(product.get("type")),
        "variations": product.get("variations"),
        "manage_stock": product.get("manage_stock"),
        "stock_quantity": product.get("stock_quantity"),
        "backorders": _shared_text(product.get("backorders")),
        "tags": _names(product.get("tags")),
        "categories": _names(product.get("categories")),
        "brands": _names(product.get("brands")),
        "meta_data": [
            entry
            for entry in product.get("meta_data") or ()
            if isinstance(entry, Mapping) and isinstance(entry.get("key"), str) and entry["key"] in inherited
        ],
    }


def _quantity(value: Any, problems: list[str], whose: str) -> int:
    """A managed stock quantity. Empty counts as 0, as WooCommerce itself does (it then shows the
    item as sold out), so that is not a problem; a value that is not a number is."""
    if value is None or value == "":
        return 0
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        return int(float(value))
    except (TypeError, ValueError):
        problems.append(f"{whose} stock_quantity {value!r} is not a number")
        return 0


def _shown(stock_status: Any, meta: tuple[str | None, ...], keys: MetaKeys) -> Shown:
    """What buyers see: WooCommerce's stock_status, refined by the connector's own status meta.

    The meta says which of backorder/pre-order an `onbackorder` item is; it is believed only
    while WooCommerce still shows the matching stock_status (a sale or a restock since the last
    push makes them disagree, and then the stock_status is what buyers see). A status added by
    a plugin is shown as None: the store shows something the connector does not know.
    """
    shown_by_store = STOCK_STATUS_SHOWN.get(stock_status) if isinstance(stock_status, str) else None
    status = shown_by_store
    # The connector's own meta is not a problem when unreadable: the next write replaces it.
    own = _status(meta[0])
    if own is not None and shown_by_store is not None and STATUS_TO_STOCK_STATUS[own] == stock_status:
        status = own
    return _one_shown(status, _date(meta[1], keys.eta, []), _text(meta[2]))


@lru_cache(maxsize=4096)
def _one_shown(status: Status | None, eta: date | None, message: str | None) -> Shown:
    """One object for what many items show alike."""
    return Shown(status=status, eta=eta, message=message)


def _status(value: str | None) -> Status | None:
    try:
        return Status((value or "").strip())
    except ValueError:
        return None


def product_item(product: Mapping[str, Any], keys: MetaKeys) -> Item:
    """The Item of a simple (or other stock-carrying, non-variable) product."""
    problems: list[str] = []
    managed = product.get("manage_stock") is True
    available = _quantity(product.get("stock_quantity"), problems, "product") if managed else None
    meta = held_meta(product, keys)
    brands = sorted(_names(product.get("brands")))
    return Item(
        key=str(product["id"]),
        sku=_text(product.get("sku")),
        name=str(product.get("name") or ""),
        managed=managed,
        available=available,
        shown=_shown(product.get("stock_status"), meta, keys),
        tags=_names(product.get("tags")),
        categories=_names(product.get("categories")),
        vendor=brands[0] if brands else None,
        supplier=_text(meta_value(product, keys.supplier)),
        release_date=_date(meta_value(product, keys.release_date), keys.release_date, problems),
        restock_date=_date(meta_value(product, keys.restock_date), keys.restock_date, problems),
        problems=tuple(problems),
        platform=Held(
            type=product.get("type"),
            product_id=product["id"],
            manage_stock=product.get("manage_stock"),
            stock_status=product.get("stock_status"),
            backorders=product.get("backorders"),
            meta=meta,
            keys=keys,
        ),
    )


def variation_item(
    parent: Mapping[str, Any],
    variation: Mapping[str, Any],
    keys: MetaKeys,
    pool: StockPool | None = None,
) -> Item:
    """The Item of one variation; tags, categories and missing merchant meta come from the parent.

    `pool` is shared by the variations of `parent` that sell from its stock (made on first use
    when not given).
    """
    problems: list[str] = []
    manage = variation.get("manage_stock")
    pooled = manage == "parent"
    managed = manage is True or pooled
    if pooled and pool is None:
        pool = StockPool(parent_id=int(parent["id"]), backorders=parent.get("backorders"))
    available: int | None = None
    if pooled:
        # The parent's quantity is the pool; older stores repeat it on the variation, use the parent's.
        quantity = (
            parent.get("stock_quantity") if parent.get("manage_stock") is True else variation.get("stock_quantity")
        )
        available = _quantity(quantity, problems, f"parent #{parent['id']}")
    elif managed:
        available = _quantity(variation.get("stock_quantity"), problems, "variation")

    def inherited(key: str) -> Any:
        own = meta_value(variation, key)
        return own if _text(own) is not None else meta_value(parent, key)

    meta = held_meta(variation, keys)
    brands = sorted(_names(parent.get("brands")))
    label = _text(variation.get("name")) or " / ".join(
        str(a.get("option")) for a in variation.get("attributes") or () if isinstance(a, Mapping)
    )
    parent_name = str(parent.get("name") or "")
    return Item(
        key=f"{parent['id']}/{variation['id']}",
        sku=_text(variation.get("sku")),
        name=f"{parent_name} — {label}" if label else parent_name,
        managed=managed,
        available=available,
        shown=_shown(variation.get("stock_status"), meta, keys),
        tags=_names(parent.get("tags")),
        categories=_names(parent.get("categories")),
        vendor=brands[0] if brands else None,
        supplier=_text(inherited(keys.supplier)),
        release_date=_date(inherited(keys.release_date), keys.release_date, problems),
        restock_date=_date(inherited(keys.restock_date), keys.restock_date, problems),
        parent_key=_id_text(parent["id"]),
        problems=tuple(problems),
        platform=Held(
            type="variation",
            product_id=parent["id"],
            variation_id=variation["id"],
            manage_stock=manage,
            stock_status=variation.get("stock_status"),
            backorders=variation.get("backorders"),
            parent_backorders=parent.get("backorders") if pooled else None,
            stock_pool=pool if pooled else None,
            meta=meta,
            keys=keys,
        ),
    )


@lru_cache(maxsize=64)
def _id_text(number: Any) -> str:
    """One string for a parent's id among its variations' items (they come one parent at a time)."""
    return str(number)


def parse_gmt(value: Any, what: str) -> datetime:
    """A WooCommerce `*_gmt` timestamp ("2026-11-22T13:09:01", UTC without offset) as aware UTC."""
    if not isinstance(value, str) or not value:
        raise FetchError(f"{what}: no date_created_gmt")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise FetchError(f"{what}: unreadable date_created_gmt {value!r}") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def open_order(order: Mapping[str, Any]) -> OpenOrder:
    """An order with its lines keyed like items; lines of deleted products (product_id 0) are dropped."""
    lines = []
    for line in order.get("line_items") or ():
        product_id = int(line.get("product_id") or 0)
        if not product_id:
            continue
        variation_id = int(line.get("variation_id") or 0)
        key = f"{product_id}/{variation_id}" if variation_id else str(product_id)
        lines.append(OrderLine(item_key=key, sku=_text(line.get("sku")), quantity=int(line.get("quantity") or 0)))
    return OpenOrder(
        order_id=str(order["id"]),
        created_at=parse_gmt(order.get("date_created_gmt"), f"order #{order.get('id')}"),
        lines=tuple(lines),
        status=str(order.get("status") or ""),
        number=str(order.get("number") or ""),
    )


# --- writing -------------------------------------------------------------------------------


def desired_backorders(item: Item, decision: Decision, allowed_as: str) -> str:
    """`backorders` for a managed item: allowed while the item should sell past zero.

    While an in-stock item still has stock, the value is pre-armed with what should happen at
    sell-out, so WooCommerce switches at the last sale rather than at the next sync.
    """
    if decision.status is Status.IN_STOCK:
        return allowed_as if decision.on_sellout is not None and decision.on_sellout.sellable_past_zero else "no"
    return allowed_as if decision.status.sellable_past_zero else "no"


def plan(item: Item, decision: Decision, settings: WooCommerceSettings) -> dict[str, str]:
    """The fields that differ between what `item` holds and what shows `decision`."""
    platform = item.platform
    if platform.get("type") == "variable":
        raise ValueError(f"{item.label}: a variable product is not an item; its variations are (never written)")
    fields: dict[str, str] = {}
    held: Mapping[str, str | None] = platform.get("meta") or {}
    if item.managed:
        wanted = desired_backorders(item, decision, settings.backorders_allowed_as)
        pool = platform.get("stock_pool")
        target = "parent_backorders" if pool is not None else "backorders"
        if isinstance(pool, StockPool):
            pool.wanted[item.key] = wanted
            pool.decided[item.key] = (item, decision)
        if pool is not None and outvoted(item, decision, wanted):
            # Decided by an earlier pass and still true: the meta already says what the store sells.
            fallback = pool_fallback(item, decision, settings)
            validate_fields(item, fallback)
            return fallback
        if platform.get(target) != wanted:
            fields[target] = wanted
    else:
        wanted = STATUS_TO_STOCK_STATUS[decision.status]
        if platform.get("stock_status") != wanted:
            fields["stock_status"] = wanted
    fields.update(_meta_diff(held, own_meta_values(decision), settings.meta_keys))
    validate_fields(item, fields)
    return fields


def own_meta_values(decision: Decision) -> dict[str, str]:
    """The connector's meta (by `MetaKeys` field name) that shows `decision`; "" clears a key.

    The sell-out keys hold what an in-stock item shows once its last unit sells, written ahead:
    WooCommerce switches the stock status by itself at that sale (`backorders` is pre-armed), and
    a theme that reads these keys when the stock reaches zero shows the right date and message
    before the next pass. They are empty for anything not in stock (the keys above say it).
    """
    after = decision.at_sellout
    return {
        "status": decision.status.value,
        "eta": decision.eta.isoformat() if decision.eta else "",
        "message": decision.message or "",
        "pool_conflict": "",
        "sellout_status": after.status.value if after is not None else "",
        "sellout_eta": after.eta.isoformat() if after is not None and after.eta else "",
        "sellout_message": (after.message or "") if after is not None else "",
    }


def _meta_diff(held: Mapping[str, str | None], values: Mapping[str, str], keys: MetaKeys) -> dict[str, str]:
    names = _field_names(keys)
    return {names[name]: value for name, value in values.items() if (held.get(name) or "") != value}


@lru_cache(maxsize=16)
def _field_names(keys: MetaKeys) -> dict[str, str]:
    """Plan field name by `MetaKeys` field: one string for every plan of the pass, not one each."""
    return {name: META_PREFIX + getattr(keys, name) for name in OWN_META}


def outvoted(item: Item, decision: Decision, wanted: str) -> bool:
    """Whether an earlier pass found this pooled variation outvoted, and that still holds.

    True while the shared stock is held at "no", the variation's decision would sell past zero,
    and its `pool_conflict` meta names that same status (written when the conflict was decided).
    """
    held: Mapping[str, str | None] = item.platform.get("meta") or {}
    return (
        wanted != "no"
        and item.platform.get("parent_backorders") == "no"
        and held.get("pool_conflict") == decision.status.value
    )


def pool_fallback(item: Item, decision: Decision, settings: WooCommerceSettings) -> dict[str, str]:
    """The meta fields (those that differ) that show what the store sells an outvoted pooled variation as.

    With the shared `backorders` at "no" the store sells from the shared quantity and then shows
    the variation sold out; its status meta says so (no ETA, no message, since no backorder or
    pre-order is taken) and `pool_conflict` keeps the status its rules wanted, for the merchant.
    """
    sells = Status.IN_STOCK if (item.available or 0) > 0 else Status.OUT_OF_STOCK
    values = {
        "status": sells.value,
        "eta": "",
        "message": "",
        "pool_conflict": decision.status.value,
        # Sold out it shows out of stock: nothing to write ahead.
        "sellout_status": "",
        "sellout_eta": "",
        "sellout_message": "",
    }
    return _meta_diff(item.platform.get("meta") or {}, values, settings.meta_keys)


def validate_fields(item: Item, fields: Mapping[str, Any]) -> None:
    """Refuse values WooCommerce would mangle: a batch stores an unknown stock_status as `instock`."""
    for name, value in fields.items():
        if name == "stock_status":
            if value not in STOCK_STATUSES:
                raise ValueError(
                    f"{item.label}: refusing to write stock_status={value!r} (not one of {sorted(STOCK_STATUSES)})"
                )
            if item.managed or item.platform.get("type") == "variable":
                raise ValueError(f"{item.label}: stock_status is derived by WooCommerce here and never written")
        elif name in ("backorders", "parent_backorders"):
            if value not in BACKORDERS:
                raise ValueError(f"{item.label}: refusing to write {name}={value!r} (not one of {sorted(BACKORDERS)})")
            if name == "parent_backorders" and not item.platform.get("stock_pool"):
                raise ValueError(f"{item.label}: parent_backorders for an item that has its own stock")
        elif name.startswith(META_PREFIX) and len(name) > len(META_PREFIX):
            if not isinstance(value, str):
                raise ValueError(f"{item.label}: meta value for {name[len(META_PREFIX) :]} must be text, not {value!r}")
        else:
            raise ValueError(f"{item.label}: unknown WooCommerce field {name!r}")


def item_payload(item: Item, fields: Mapping[str, Any]) -> dict[str, Any] | None:
    """The batch entry for the item's own product or variation (None when only its pool changes)."""
    entry: dict[str, Any] = {}
    meta = [
        {"key": name[len(META_PREFIX) :], "value": value}
        for name, value in fields.items()
        if name.startswith(META_PREFIX)
    ]
    for name in ("stock_status", "backorders"):
        if name in fields:
            entry[name] = fields[name]
    if meta:
        entry["meta_data"] = meta
    if not entry:
        return None
    own_id = item.platform.get("variation_id") or item.platform["product_id"]
    return {"id": own_id, **entry}


def resolve_pool_conflicts(wanted: Sequence[str]) -> str:
    """One `backorders` value for a stock pool several variations want written at once.

    "no" wins: a variation that must not sell past zero (discontinued, cap reached) outweighs a
    sibling that could take backorders — a lost sale is recoverable, a broken promise is not.
    Otherwise the values agree (they all come from the same `backorders_allowed_as`).
    """
    return "no" if "no" in wanted else wanted[0]


# --- restoring -----------------------------------------------------------------------------


def written(fields: Mapping[str, Any]) -> list[FieldWrite]:
    """Each field a plan writes, as the store then holds it (a meta key written "" keeps ""; only null deletes)."""
    return [FieldWrite(name, str(value), shared=name == "parent_backorders") for name, value in fields.items()]


def held(item: Item, name: str) -> str | None:
    """What `item` holds now in a plan field (None: a meta key it does not have); LookupError for another name."""
    platform = item.platform
    if name.startswith(META_PREFIX) and len(name) > len(META_PREFIX):
        key = name[len(META_PREFIX) :]
        if isinstance(platform, Held):
            return platform.stored(key, item.label)
        return (platform.get("meta_data") or {}).get(key)
    if name in ("stock_status", "backorders", "parent_backorders"):
        # Only where the connector sets it: WooCommerce derives a managed item's stock_status, and
        # an unmanaged item's backorders has no effect (a change of `manage_stock` reads as an edit).
        own = (name == "stock_status") != item.managed and (name == "parent_backorders") == bool(
            platform.get("stock_pool")
        )
        value = platform.get(name) if own else None
        return None if value is None else str(value)
    raise LookupError(f"{item.label}: no WooCommerce field {name!r} to read back")


def restore_payloads(item: Item, fields: Mapping[str, str | None]) -> dict[str, dict[str, Any]]:
    """The batch objects that put `fields` back, by endpoint: the item's own, and its pool's parent.

    A meta key that did not exist before is deleted (value null: WC_Data::save_meta_data deletes it).
    """
    platform = item.platform
    own: dict[str, Any] = {}
    parent: dict[str, Any] = {}
    for name, value in fields.items():
        if name.startswith(META_PREFIX):
            own.setdefault("meta_data", []).append({"key": name[len(META_PREFIX) :], "value": value})
        elif name == "parent_backorders":
            if value not in BACKORDERS:
                raise ValueError(f"{item.label}: refusing to restore the parent's backorders={value!r}")
            parent["backorders"] = value
        elif name in ("stock_status", "backorders"):
            allowed = STOCK_STATUSES if name == "stock_status" else BACKORDERS
            if value not in allowed:
                raise ValueError(f"{item.label}: refusing to restore {name}={value!r} (not one of {sorted(allowed)})")
            own[name] = value
        else:
            raise ValueError(f"{item.label}: unknown WooCommerce field {name!r}")
    out: dict[str, dict[str, Any]] = {}
    if own:
        variation = platform.get("variation_id")
        path = f"products/{platform['product_id']}/variations/batch" if variation else "products/batch"
        out[path] = {"id": variation or platform["product_id"], **own}
    if parent:
        out["products/batch#parent"] = {"id": platform["product_id"], **parent}
    return out
