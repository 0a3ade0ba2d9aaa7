"""Targeted passes: the items a store's webhook delivery says were touched, with their whole queues.

A targeted pass is an incremental pass widened by the delivery: it pulls what changed in the
store since the bookmark (which is how an order's stock movement is found: the platform marks
the item modified) and every open order (each item's whole backorder queue, exactly as a full
pass sees it), and adds the touched items the change listing did not return (an order that
moved to another status without moving stock) when their decision can depend on the open
orders: an item the store last showed in stock has stock above zero and no queue, so an order
that did not move its stock cannot change it, and it is not worth a read of the whole
catalogue. It reads the store's current state and never
the delivery's values, so a late, repeated or out-of-order delivery cannot bring back an old
value: the worst it costs is a pass that finds nothing to write.

What a delivery touched is a `Touched`: item keys, products (all their items) and SKUs. A
delivery that cannot be mapped (an unknown topic, a deleted order that carries only its id, a
body that is not the documented shape) is `Touched.unmapped()`: the pass is then an
incremental pass of the store, never nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from stockstatus.core.model import Item
from stockstatus.core.state import Accepted
from stockstatus.rules.model import Status


@dataclass(frozen=True, slots=True)
class Touched:
    """The items one or more deliveries touched."""

    keys: frozenset[str] = frozenset()
    """Item keys (WooCommerce "12" or "12/34" for a variation; Shopify the variant id)."""
    products: frozenset[str] = frozenset()
    """Product ids: every item of the product (a product edit, an item key unknown in the payload)."""
    skus: frozenset[str] = frozenset()
    unmapped: bool = False
    """Some delivery could not be mapped to items: what changed since the bookmark is all there is."""

    @classmethod
    def of(cls, keys: Iterable[str] = (), products: Iterable[str] = (), skus: Iterable[str | None] = ()) -> Touched:
        """The items named (an empty payload is unmapped: nothing names what changed)."""
        touched = cls(frozenset(keys), frozenset(products), frozenset(s for s in skus if s))
        return touched if touched else cls.unknown()

    @classmethod
    def unknown(cls) -> Touched:
        return cls(unmapped=True)

    def __bool__(self) -> bool:
        return bool(self.keys or self.products or self.skus or self.unmapped)

    def __or__(self, other: Touched) -> Touched:
        return Touched(
            self.keys | other.keys,
            self.products | other.products,
            self.skus | other.skus,
            self.unmapped or other.unmapped,
        )

    def matches(self, item: Item) -> bool:
        return (
            item.key in self.keys
            or item.parent_key in self.products
            or item.key in self.products
            or (item.sku is not None and item.sku in self.skus)
        )

    def with_queues(self, accepted: Mapping[str, Accepted]) -> Touched:
        """Without the keys and SKUs the store last showed in stock (their decision needs no queue)."""
        shelved = {key for key, a in accepted.items() if a.status is Status.IN_STOCK}
        waiting = {a.sku for a in accepted.values() if a.sku and a.status is not Status.IN_STOCK}
        shelved_skus = {a.sku for a in accepted.values() if a.sku and a.status is Status.IN_STOCK} - waiting
        return replace(self, keys=self.keys - shelved, skus=self.skus - shelved_skus)

    def missing_from(self, items: Sequence[Item]) -> bool:
        """Whether some touched key, product or SKU is not among `items` (so they must be looked up)."""
        keys = {i.key for i in items}
        products = {i.parent_key or i.key for i in items}
        skus = {i.sku for i in items if i.sku}
        return bool(self.keys - keys or self.products - products or self.skus - skus)

    def to_json(self) -> str | None:
        """As kept in the state file (None: unmapped)."""
        if self.unmapped:
            return None
        return json.dumps({"keys": sorted(self.keys), "products": sorted(self.products), "skus": sorted(self.skus)})

    @classmethod
    def from_json(cls, text: str | None) -> Touched:
        if text is None:
            return cls.unknown()
        try:
            data = json.loads(text)
            return cls.of(data.get("keys", ()), data.get("products", ()), data.get("skus", ()))
        except (ValueError, AttributeError, TypeError):
            return cls.unknown()


def widen(changed: list[Item], everything: Sequence[Item], touched: Touched) -> list[Item]:
    """The changed items plus the touched ones among `everything` that the change listing left out."""
    have = {item.key for item in changed}
    return changed + [item for item in everything if item.key not in have and touched.matches(item)]
