"""What a pass reads and the facts each item is decided on: backorder queues, supply, sales history.

`gather` is the part of a pass that reads; `connector rules explain` and `connector report
reorder` reuse it, so they see exactly what a pass sees.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from stockstatus.core.config import Config, Demand, Store, Supply
from stockstatus.core.demand import sales_by_item, seen_lines, unknown_history
from stockstatus.core.model import Item, OpenOrder, OrderLine
from stockstatus.core.platform import Adapter, pulls_changes, reads_known_items
from stockstatus.core.state import Accepted, SeenLine, StateStore
from stockstatus.core.supply import (
    NO_PURCHASE_ORDERS,
    IncomingSeen,
    PurchaseOrderFiles,
    PurchaseOrders,
    date_incoming,
    supply_for,
)
from stockstatus.core.sync.clock import Clock, today_in
from stockstatus.core.sync.targeted import Touched, widen
from stockstatus.rules.model import DaySales, Decision, Facts, QueuedOrder, Status

MOST_UNITS = 10**9
"""The largest count of units (stock, incoming, an order line) believed. Beyond it a number is a
data error (a pasted barcode, 10^19 units): refused for its item, which is left as it is."""


def _believable(count: int | None) -> bool:
    return count is None or -MOST_UNITS <= count <= MOST_UNITS


def believable(items: list[Item], orders: list[OpenOrder]) -> tuple[list[Item], list[OpenOrder]]:
    """Items and orders with every absurd count refused: the order line is dropped, and its item
    (or the item whose own count is absurd) carries the reason among its problems, so the pass
    leaves it as it is and the rest of the store syncs."""
    reasons: dict[str, list[str]] = defaultdict(list)
    kept_orders: list[OpenOrder] = []
    for order in orders:
        lines: list[OrderLine] = []
        for line in order.lines:
            if _believable(line.quantity):
                lines.append(line)
            else:
                reasons[line.item_key].append(
                    f"order {order.number or order.order_id} has a line of {line.quantity} units, "
                    f"more than {MOST_UNITS} (not believable; the line is ignored)"
                )
        kept_orders.append(order if len(lines) == len(order.lines) else replace(order, lines=tuple(lines)))
    kept_items: list[Item] = []
    for item in items:
        problems = list(reasons.get(item.key, ()))
        for what, count in (("available", item.available), ("incoming", item.incoming)):
            if not _believable(count):
                problems.append(f"{what} quantity {count} is beyond {MOST_UNITS} units either way (not believable)")
        kept_items.append(replace(item, problems=item.problems + tuple(problems)) if problems else item)
    return kept_items, kept_orders


_WHITESPACE_RUN = re.compile(r"[\r\n\t ]+")


def sku_key(sku: str | None) -> str | None:
    """A SKU as WooCommerce saves it: runs of spaces, tabs and line breaks made one space, ends trimmed.

    (WooCommerce passes every SKU through `wc_clean`, i.e. `sanitize_text_field`.) Two items whose
    SKUs are equal after this are one SKU to the store, and to the purchase-order files.
    """
    if sku is None:
        return None
    return _WHITESPACE_RUN.sub(" ", sku).strip(" ") or None


def _key_order(key: str) -> tuple[tuple[int, str], ...]:
    # Platform ids are numbers (WooCommerce "123/456" for a variation): compare them as numbers.
    return tuple((len(part), part) for part in key.split("/"))


@dataclass(frozen=True, slots=True)
class SharedSku:
    """Items that carry one SKU: only `holder` counts the SKU's purchase orders."""

    sku: str
    items: tuple[str, ...]
    """Labels of the items, in key order."""
    holder: str | None
    """The key of the item decided with the purchase orders; None when none is, this pass."""
    others: frozenset[str]
    """Keys of the pulled items decided without them."""

    def text(self) -> str:
        head = f"SKU {self.sku!r} is on {len(self.items)} items ({', '.join(self.items)}) once its spaces are trimmed"
        if self.holder is None:
            return (
                f"{head}: this pass pulled some of them only, so none counts its purchase orders "
                f"until the next full pass; give each item its own SKU"
            )
        return (
            f"{head}: its purchase orders count for item #{self.holder} only, the others are "
            f"decided without them; give each item its own SKU"
        )


def shared_skus(items: Sequence[Item], not_pulled: Iterable[Accepted] = ()) -> list[SharedSku]:
    """Items whose SKUs are one after `sku_key`, so one purchase order is never promised twice.

    The first item by key counts the purchase orders, the others are decided without them.
    `not_pulled` (an incremental pass: what the store accepted for items it did not pull) take
    part: if one of them comes first it keeps the purchase orders, and if one comes later, the
    decision it keeps may count them, so no pulled item does until a full pass decides all.
    """
    pulled = {item.key for item in items}
    groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for item in items:
        key = sku_key(item.sku)
        if key is not None:
            groups[key].append((item.key, item.label))
    for accepted in not_pulled:
        key = sku_key(accepted.sku)
        if key is not None and key in groups and accepted.item_key not in pulled:
            groups[key].append((accepted.item_key, accepted.sku or f"#{accepted.item_key}"))
    out = []
    for sku, members in sorted(groups.items()):
        if len(members) < 2:
            continue
        members.sort(key=lambda m: _key_order(m[0]))
        first = members[0][0]
        partial = any(k not in pulled for k, _ in members)
        holder = None if partial and first in pulled else first
        out.append(
            SharedSku(
                sku=sku,
                items=tuple(f"{label} #{k}" for k, label in members),
                holder=holder,
                others=frozenset(k for k, _ in members if k in pulled and k != holder),
            )
        )
    return out


def backorder_queues(items: Iterable[Item], orders: Sequence[OpenOrder]) -> dict[str, tuple[QueuedOrder, ...]]:
    """Which open orders wait for each oversold item, oldest first.

    The platform's available count already has open orders taken off, so -available units were
    sold beyond stock. Stock served the oldest orders first, so those units belong to the newest
    open orders that contain the item. Each waiting order is listed with its full quantity: when
    stock covered part of the oldest of them, the engine ships that part now and the rest later
    (a partial backorder).
    """
    by_item: dict[str, list[QueuedOrder]] = defaultdict(list)
    for order in orders:
        for line in order.lines:
            if line.quantity > 0:
                by_item[line.item_key].append(
                    QueuedOrder(order_id=order.order_id, ordered_at=order.created_at, quantity=line.quantity)
                )
    queues: dict[str, tuple[QueuedOrder, ...]] = {}
    for item in items:
        short = -(item.available or 0)
        if short <= 0 or item.key not in by_item:
            continue
        waiting: list[QueuedOrder] = []
        for queued in sorted(by_item[item.key], key=lambda q: (q.ordered_at, q.order_id), reverse=True):
            if short <= 0:
                break
            waiting.append(queued)
            short -= queued.quantity
        queues[item.key] = tuple(reversed(waiting))
    return queues


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a pass does with one item: write `fields`, leave it for a `skipped` reason, or leave it
    to the store (`decision` None: stock not tracked and no rule decided)."""

    decision: Decision | None
    fields: Mapping[str, Any] = field(default_factory=dict)
    skipped: str | None = None

    @property
    def left_to_store(self) -> bool:
        return self.decision is None


def check_storable(decision: Decision) -> None:
    """Refuse a decision whose numbers the state file cannot hold (supply of 10^19 units)."""
    counts = [decision.sell_limit, *(n for o in decision.order_etas for n in (o.now, o.later))]
    for count in counts:
        if count is not None and not -MOST_UNITS <= count <= MOST_UNITS:
            raise ValueError(f"decided on a count of {count} units, more than {MOST_UNITS} (not believable)")


def verdict(item: Item, decision: Decision | None, plan: Callable[[Item, Decision], Mapping[str, Any]]) -> Verdict:
    """The one place that says whether a pass writes, skips or leaves an item (the pass and
    `rules explain` both ask it, so explain never shows a decision a pass would not apply)."""
    if decision is None:
        return Verdict(None)
    if item.problems:
        # A field we could not read may be the one that matters: leave the item as it is.
        return Verdict(decision, skipped="; ".join(item.problems))
    try:
        check_storable(decision)
        fields = plan(item, decision)
    except ValueError as exc:
        return Verdict(decision, skipped=str(exc))
    return Verdict(decision, fields=fields)


@dataclass(frozen=True, slots=True)
class Sources:
    """What a pass reads besides the store: supply settings and files, demand settings."""

    supply: Supply = field(default_factory=Supply)
    demand: Demand = field(default_factory=Demand)
    purchase_orders: PurchaseOrderFiles = field(default_factory=lambda: PurchaseOrderFiles(()))

    @classmethod
    def of(cls, config: Config) -> Sources:
        return cls(supply=config.supply, demand=config.demand, purchase_orders=config.purchase_orders)


def facts_for(
    item: Item,
    *,
    today: date,
    supply: Supply,
    queue: tuple[QueuedOrder, ...],
    purchase_orders: PurchaseOrders | None = None,
    previous: Status | None = None,
    sales: tuple[DaySales, ...] = (),
    incoming_since: date | None = None,
) -> Facts:
    lead_time = supply.lead_time_days.for_item(
        supplier=item.supplier, vendor=item.vendor, tags=item.tags, categories=item.categories
    )
    return Facts(
        sku=item.sku or item.key,
        today=today,
        available=item.available if item.managed else None,
        name=item.name,
        tags=item.tags,
        categories=item.categories,
        vendor=item.vendor,
        supplier=item.supplier,
        release_date=item.release_date,
        restock_date=item.restock_date,
        lead_time_days=lead_time,
        backorder_queue=queue,
        supply=supply_for(
            item,
            purchase_orders=purchase_orders or NO_PURCHASE_ORDERS,
            today=today,
            lead_time_days=lead_time,
            incoming_since=incoming_since,
            incoming_reliable=supply.platform_incoming_reliable,
        ),
        previous_status=previous,
        sales=sales,
        lead_time_sd_days=supply.lead_time_sd_days.for_item(
            supplier=item.supplier, vendor=item.vendor, tags=item.tags, categories=item.categories
        ),
    )


@dataclass(frozen=True, slots=True)
class ItemFacts:
    """One pulled item and the facts the rules decide it on."""

    item: Item
    facts: Facts


@dataclass(frozen=True, slots=True)
class Refused:
    """One pulled item left as it is before any rule runs (its facts could not be built), and why."""

    item: Item
    reason: str


FACTS_PER_CHUNK = 400
"""Items whose facts are built together: one demand-history query (`HISTORY_KEYS_PER_QUERY`) each."""

Built = ItemFacts | Refused
"""What building one item's facts gives: its facts, or why there are none."""


@dataclass(frozen=True, slots=True)
class FactsBuilder:
    """Builds each pulled item's facts when it is asked for, a chunk of items at a time.

    A pass decides an item and lets its facts go: holding every item's facts (and months of
    sales history each) until the last item is decided costs more memory than the rest of a
    pass. Iterating again builds them again (the sales history read again from the state file).
    """

    items: Sequence[Item]
    today: date
    supply: Supply
    queues: Mapping[str, tuple[QueuedOrder, ...]]
    purchase_orders: PurchaseOrders
    without_orders: frozenset[str]
    """Items decided without the purchase orders (one SKU on several items: see `shared_skus`)."""
    accepted: Mapping[str, Accepted]
    first_seen: Mapping[str, date]
    history: Callable[[Sequence[str]], Mapping[str, tuple[DaySales, ...]]] | None
    """Sales history of some items (None: the rules read none, so no item gets any)."""
    never_seen: tuple[DaySales, ...]

    def __iter__(self) -> Iterator[Built]:
        for start in range(0, len(self.items), FACTS_PER_CHUNK):
            chunk = self.items[start : start + FACTS_PER_CHUNK]
            history = self.history([item.key for item in chunk]) if self.history is not None else {}
            for item in chunk:
                yield self.one(item, history.get(item.key, self.never_seen))

    def one(self, item: Item, sales: tuple[DaySales, ...]) -> Built:
        previous = self.accepted.get(item.key)
        try:
            built = facts_for(
                item,
                today=self.today,
                supply=self.supply,
                queue=self.queues.get(item.key, ()),
                purchase_orders=NO_PURCHASE_ORDERS if item.key in self.without_orders else self.purchase_orders,
                previous=previous.status if previous is not None else None,
                sales=sales,
                incoming_since=self.first_seen.get(item.key),
            )
        except Exception as exc:  # noqa: BLE001 - one item's bad data must not stop the store
            return Refused(item, f"its facts could not be built: {failure(exc)}")
        return ItemFacts(item, built)


@dataclass(frozen=True, slots=True)
class Gathered:
    """A store as a pass sees it: what was pulled, and the facts each item is decided on.

    The facts are built as they are read (`each`, `facts`), not held: a pass over 100,000 items
    keeps one chunk of them at a time.
    """

    today: date
    items: list[Item]
    orders: list[OpenOrder]
    built: Iterable[Built]
    """Each item's facts or why there are none, in the items' order, built anew on each iteration."""
    accepted: dict[str, Accepted]
    seen: list[SeenLine]
    """This pass's open order lines, dated in the store's calendar (recorded for demand)."""
    warnings: list[str]
    incremental: bool = False
    """Whether only the items changed since a bookmark were pulled."""
    shared: list[SharedSku] = field(default_factory=list)
    """SKUs carried by more than one item (reported among `warnings` too)."""
    incoming_seen: dict[str, IncomingSeen] = field(default_factory=dict)
    """Undated incoming stock first seen, or changed, in this pass (for the state file)."""
    incoming_gone: list[str] = field(default_factory=list)
    """Items whose undated incoming stock is gone since the last pass."""

    def each(self) -> Iterator[Built]:
        """Every pulled item's facts, or why it has none, in the items' order; built as read."""
        return iter(self.built)

    @property
    def facts(self) -> Iterator[ItemFacts]:
        """The items whose facts could be built, with their facts, built as read."""
        return (one for one in self.built if isinstance(one, ItemFacts))

    @property
    def refused(self) -> list[tuple[Item, str]]:
        """Items whose facts could not be built, and why: left as they are (not among `facts`).

        Found by building every item's facts: a pass learns them from `each` as it decides."""
        return [(one.item, one.reason) for one in self.built if isinstance(one, Refused)]


async def gather(
    store: Store,
    adapter: Adapter,
    *,
    sources: Sources,
    state: StateStore,
    clock: Clock,
    since: datetime | None = None,
    purchase_orders: PurchaseOrders | None = None,
    today: date | None = None,
    sales: bool = True,
    sales_days: int | None = None,
    touched: Touched | None = None,
) -> Gathered:
    """Pull the store and get ready to build every item's facts. Reads the state file; writes nothing anywhere.

    With `since` and an adapter that can, only the items changed after `since` are pulled (the
    open orders always all are); otherwise the whole catalogue. `touched` (a targeted pass)
    adds the items a webhook delivery named that the change listing left out and whose decision
    the open orders can change, found in the whole listing. `purchase_orders` and `today`
    default to reading the files and the clock now. Without `sales` the facts carry no sales
    history (`Facts.sales` empty): for rules that read none, it is months of rows per item not read.
    `sales_days` keeps it to that many days before today when fewer than `[demand] history_days`
    (a pass: the longest window its rules read; `rules explain` shows the whole history).
    Each item's sales history is read from the state file when its facts are built.
    """
    changed: list[Item] | None = None
    accepted = state.accepted.for_store(store.name)
    if reads_known_items(adapter):
        adapter.known_items({key: known.sku for key, known in accepted.items()})
    if since is not None and pulls_changes(adapter):
        changed = await adapter.pull_changed(since)
    if changed is not None and touched is not None and touched.with_queues(accepted).missing_from(changed):
        changed = widen(changed, await adapter.pull_items(), touched)
    items = changed if changed is not None else await adapter.pull_items()
    orders = await adapter.open_orders()
    items, orders = believable(items, orders)
    if today is None:
        today = today_in(store.timezone, clock)
    if purchase_orders is None:
        purchase_orders = sources.purchase_orders.read()
    seen = seen_lines(orders, store.timezone)
    queues = backorder_queues(items, orders)
    shared = shared_skus(items, accepted.values() if changed is not None else ())
    without_orders = frozenset().union(*(group.others for group in shared))
    known_incoming = state.incoming.for_store(store.name)
    incoming_seen, incoming_gone = date_incoming(items, known_incoming, today)
    first_seen = {key: s.first_seen for key, s in known_incoming.items()} | {
        key: s.first_seen for key, s in incoming_seen.items()
    }
    history_days = min(sources.demand.history_days, sales_days or sources.demand.history_days)
    builder = FactsBuilder(
        items=items,
        today=today,
        supply=sources.supply,
        queues=queues,
        purchase_orders=purchase_orders,
        without_orders=without_orders,
        accepted=accepted,
        first_seen=first_seen,
        history=_history_reader(state, store.name, seen, today, history_days) if sales else None,
        never_seen=unknown_history(today, history_days) if sales else (),
    )
    return Gathered(
        today=today,
        items=items,
        orders=orders,
        built=builder,
        accepted=accepted,
        seen=seen,
        warnings=list(purchase_orders.warnings) + [group.text() for group in shared],
        incremental=changed is not None,
        shared=shared,
        incoming_seen=incoming_seen,
        incoming_gone=incoming_gone,
    )


def _history_reader(
    state: StateStore, store: str, seen: Sequence[SeenLine], today: date, days: int
) -> Callable[[Sequence[str]], Mapping[str, tuple[DaySales, ...]]]:
    """Reads some items' sales histories from the state file (with this pass's open order lines)."""
    current: dict[str, list[SeenLine]] = defaultdict(list)
    for line in seen:
        current[line.item_key].append(line)
    days_sold: dict[tuple[date, int, bool], DaySales] = {}  # equal days shared by every chunk's items

    def read(keys: Sequence[str]) -> Mapping[str, tuple[DaySales, ...]]:
        wanted = set(keys)
        recorded = state.demand.by_item(store, since=today - timedelta(days=days), items=wanted)
        lines = [line for key in wanted for line in current.get(key, ())]
        return sales_by_item(recorded, current=lines, today=today, days=days, items=wanted, shared=days_sold)

    return read


def failure(exc: BaseException) -> str:
    """An unexpected error as one line: its kind and message."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
