"""The core's view of a store: items as pulled, open orders, planned changes and write results.

Adapters build these from platform payloads; the sync engine never sees a raw payload.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from weakref import WeakValueDictionary

from stockstatus.rules.model import Decision, Status

__all__ = [
    "Decision",
    "Item",
    "OpenOrder",
    "OrderLine",
    "Shown",
    "Status",
    "Update",
    "WriteResult",
    "name_set",
]


@dataclass(frozen=True, slots=True)
class Shown:
    """What the store shows buyers now, as read back from the platform."""

    status: Status | None = None
    eta: date | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class Item:
    """One sellable unit of a store (a simple product or a variant), identified by `key`.

    `key` is the platform's id, unique within the store and stable across runs
    (WooCommerce: "123" for a product, "123/456" for a variation).
    """

    key: str
    sku: str | None
    name: str
    managed: bool
    """True when the platform tracks a quantity for this item."""
    available: int | None
    """Sellable quantity (open orders already taken off; may be negative). None if not tracked."""
    shown: Shown = Shown()
    tags: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    vendor: str | None = None
    supplier: str | None = None
    release_date: date | None = None
    restock_date: date | None = None
    parent_key: str | None = None
    incoming: int | None = None
    """Units on their way to the store that the platform itself reports (Shopify's `incoming`);
    None where the platform has no such count."""
    incoming_dated: tuple[tuple[date, int], ...] = ()
    """The part of `incoming` whose arrival day (store calendar) the platform knows, soonest first
    (Shopify: in-transit inventory shipments); the rest is dated from when it was first seen."""
    problems: tuple[str, ...] = ()
    """Data the adapter could not read for this item (bad date in a meta field, ...)."""
    platform: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    """Platform fields the adapter needs to plan writes (current `backorders`, meta ids, ...)."""

    @property
    def label(self) -> str:
        """How to name the item to a person: its SKU, or its key when it has none."""
        return self.sku or f"#{self.key}"


@dataclass(frozen=True, slots=True)
class OrderLine:
    item_key: str
    sku: str | None
    quantity: int


@dataclass(frozen=True, slots=True)
class OpenOrder:
    """An order that is paid/accepted but not yet shipped (it may wait for supply)."""

    order_id: str
    created_at: datetime
    lines: tuple[OrderLine, ...]
    status: str = ""
    number: str = ""
    """What the buyer knows the order as ("#1001" on Shopify, the order number on WooCommerce);
    empty when the platform gives none (the id is shown instead)."""


@dataclass(frozen=True, slots=True)
class Update:
    """A decision that differs from what the store holds, with the platform fields to write."""

    item: Item
    decision: Decision
    fields: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class WriteResult:
    """The platform's answer for one item of a push."""

    item_key: str
    ok: bool
    error: str | None = None


_NO_NAMES: frozenset[str] = frozenset()
_NAME_SETS: WeakValueDictionary[frozenset[str], frozenset[str]] = WeakValueDictionary()


def name_set(found: Iterable[str]) -> frozenset[str]:
    """Tags or categories as an `Item` holds them: one object for equal sets.

    A catalogue's items share a few dozen sets of names; each holding a copy of its own cost
    about 430 bytes an item (40 MB at 100,000 SKUs). Weakly held: a set no item holds any more
    is let go.
    """
    made = frozenset(found)
    if not made:
        return _NO_NAMES
    return _NAME_SETS.setdefault(made, made)
