"""Stores that share a warehouse: a store's pass decides its SKUs with the whole group's facts.

A supply group (`supply_group = "eu-wh"` on each of its stores) shares one warehouse and one
incoming supply. Its waiting orders are one queue, first in first out by order time across its
stores (`rules.supply.group_etas`), so a shipment of 10 units is promised once, not once per store.

How a pass gets the other stores' facts. Each pass over a store of a group reads every other
store of the group too, in full and read-only (items and open orders, as its own pass would), and
builds the group's queue from what it read a moment ago. We chose this over keeping each store's
last queue in the state file and reading that: a queue from the state file is as old as that
store's last pass (up to its schedule's interval, longer while it fails), and an order placed
there since would find its units already promised here; a fresh read costs the other stores'
reads on each pass but never promises on facts older than the pass. For the same reason a
grouped store's passes are all full ones (an incremental pass decides only the items changed in
its own store, while an order in another store of the group moves the dates of the same SKU here).

Locks. A pass writes only to its own store and holds only that store's lock; reading the other
stores takes none of theirs (the connector's writes never change the stock and orders read), so
two passes of one group running at once never wait for each other and cannot deadlock. Both
decide from the same facts and give the same dates.

One store of the group cannot be read (or its listing is not believed, as its own pass would not
believe it: empty, or shrunk past the rails). The group's decisions wait: each item of this store
whose SKU that store also sells (as its last accepted decisions in the state file say; every
item with a SKU when it never had one) is left as it is, nothing is written for it, and it is
listed among the pass's skipped items with the reason, which `connector status` shows and the
log says once; the pass also warns, with the read's error. Items of SKUs only this store sells
are decided as usual. The next pass that reads the whole group decides them again.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from datetime import date

from stockstatus.core.config import Store
from stockstatus.core.platform import Adapter
from stockstatus.core.state import StateStore
from stockstatus.core.supply import PurchaseOrders
from stockstatus.core.sync.clock import Clock
from stockstatus.core.sync.facts import Built, Gathered, ItemFacts, Refused, Sources, failure, gather, sku_key
from stockstatus.rules.model import Facts, StoreQueue, SupplyEvent, SupplyGroup

log = logging.getLogger("stockstatus.core.sync")


@dataclass(frozen=True, slots=True)
class Peers:
    """The other stores of a store's supply group, and how to reach each (read-only)."""

    group: str
    stores: tuple[Store, ...]
    open: Callable[[Store], AbstractAsyncContextManager[Adapter]] = field(compare=False)


@dataclass(frozen=True, slots=True)
class PeerRead:
    """One other store of the group as this pass read it: its facts, or why it could not be read."""

    store: Store
    gathered: Gathered | None
    error: str | None = None


async def read_peers(
    peers: Peers,
    *,
    sources: Sources,
    state: StateStore,
    clock: Clock,
    purchase_orders: PurchaseOrders,
    today: date,
    doubt: Callable[[Store, Adapter, int], Awaitable[str | None]] | None = None,
) -> list[PeerRead]:
    """Pull every other store of the group, in full, as its own pass would; writes nothing anywhere.

    `doubt` (a pass's check of a listing that is empty or shrank sharply) says why a store's
    listing is not believed: such a store counts as not read, as it would fail its own pass.
    """
    out = []
    for peer in peers.stores:
        try:
            async with peers.open(peer) as adapter:
                gathered = await gather(
                    peer,
                    adapter,
                    sources=sources,
                    state=state,
                    clock=clock,
                    purchase_orders=purchase_orders,
                    today=today,
                )
                reason = await doubt(peer, adapter, len(gathered.items)) if doubt is not None else None
            if reason is not None:
                out.append(PeerRead(peer, None, reason))
                continue
        except Exception as exc:  # whatever stopped the read, the group's decisions wait
            log.debug("supply group %s: store %s could not be read", peers.group, peer.name, exc_info=True)
            out.append(PeerRead(peer, None, failure(exc)))
            continue
        out.append(PeerRead(peer, gathered))
    return out


def waiting_reason(group: str, store: str) -> str:
    """Why an item of a group waits (kept stable, so the log says it once per item)."""
    return (
        f"waits for supply group {group}: store {store} could not be read, so its orders waiting for this SKU "
        "are not known; nothing is written for it until the whole group is read"
    )


def join_group(
    store: Store,
    own: Gathered,
    group: str,
    peers: Sequence[PeerRead],
    *,
    purchase_orders: PurchaseOrders,
    state: StateStore,
) -> Gathered:
    """`own` with each item's facts decided along the group: the other stores' waiting orders for
    its SKU, and the group's supply (purchase orders once, each store's own dated supply).

    Items whose SKU a store that could not be read also sells are moved to `refused` (they wait).
    """
    warnings = list(own.warnings)
    by_sku: dict[str, list[tuple[str, ItemFacts]]] = {}
    unreadable: dict[str, str] = {}  # SKU -> a store whose item of it could not be read
    unread: dict[str, frozenset[str] | None] = {}  # store -> the SKUs it sold last (None: not known)
    for peer in peers:
        name = peer.store.name
        if peer.gathered is None:
            known = (sku_key(a.sku) for a in state.accepted.for_store(name).values())
            unread[name] = frozenset(k for k in known if k is not None) or None
            continue
        not_counting = _others(peer.gathered)
        for one in peer.gathered.each():
            key = sku_key(one.item.sku)
            if key is None:
                continue
            if isinstance(one, Refused):
                # Its facts could not be built: its waiting orders are not known either.
                unreadable.setdefault(key, name)
            elif one.item.key not in not_counting:
                by_sku.setdefault(key, []).append((name, one))
    # Decided along the group, each item needs the others' facts: these are held for the pass.
    facts: list[ItemFacts] = []
    refused: list[Refused] = []
    waits: list[Refused] = []
    waiting: Counter[str] = Counter()
    counted_elsewhere = _others(own)
    for seen in own.each():
        if isinstance(seen, Refused):
            refused.append(seen)
            continue
        key = sku_key(seen.item.sku)
        if key is None or seen.item.key in counted_elsewhere:
            facts.append(seen)  # no SKU, or one SKU on two items here: decided as a store alone decides it
            continue
        missing = [name for name, skus in unread.items() if skus is None or key in skus]
        if key in unreadable:
            missing.append(unreadable[key])
        if missing:
            waits.append(Refused(seen.item, waiting_reason(group, missing[0])))
            waiting[missing[0]] += 1
            continue
        others = by_sku.get(key, [])
        if not others:
            facts.append(seen)  # only this store sells it: nothing to share
            continue
        facts.append(ItemFacts(seen.item, _grouped(store.name, group, seen, others, purchase_orders)))
    for peer in peers:
        if peer.gathered is None:
            warnings.append(
                f"supply group {group}: store {peer.store.name} could not be read ({peer.error}); "
                f"{waiting[peer.store.name]} item(s) of this store sharing SKUs with it wait, nothing is written "
                "for them"
            )
    built: list[Built] = [*facts, *refused, *waits]
    return replace(own, built=built, warnings=warnings)


def _others(gathered: Gathered) -> frozenset[str]:
    """The items that do not count their SKU's purchase orders (all but one per SKU in a store:
    see `shared_skus`)."""
    return frozenset().union(*(shared.others for shared in gathered.shared))


def _grouped(
    store: str, group: str, own: ItemFacts, others: Sequence[tuple[str, ItemFacts]], purchase_orders: PurchaseOrders
) -> Facts:
    """One item's facts with its group: the others' queues, and the group's supply (the purchase
    orders once, plus every store's own dated supply: restock dates, shipments, platform incoming)."""
    supply = list(own.facts.supply)
    for name, seen in others:
        supply.extend(_labelled(e, name) for e in _own_supply(seen.facts.supply, purchase_orders, seen.item.sku))
    queues = tuple(
        StoreQueue(
            store=name,
            available=seen.facts.available,
            queue=tuple(replace(q, store=name) for q in seen.facts.backorder_queue),
        )
        for name, seen in others
    )
    return replace(
        own.facts,
        supply=tuple(sorted(supply, key=lambda e: e.expected)),
        group=SupplyGroup(name=group, store=store, others=queues),
    )


def _own_supply(events: Sequence[SupplyEvent], purchase_orders: PurchaseOrders, sku: str | None) -> list[SupplyEvent]:
    """A store's supply events for a SKU without the purchase-order lines (the group counts those once)."""
    lines = Counter(purchase_orders.events.get(sku or "", ()))
    out = []
    for event in events:
        if lines[event] > 0:
            lines[event] -= 1
            continue
        out.append(event)
    return out


def _labelled(event: SupplyEvent, store: str) -> SupplyEvent:
    """Another store's own supply event, named by its store in explain's timeline."""
    return replace(event, reference=f"{event.reference} ({store})" if event.reference else f"({store})")
