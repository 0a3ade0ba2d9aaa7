"""One pass over one store: pull, decide, push what changed, record.

The template every run follows (the daemon's scheduled jobs and `connector resync` alike):

1. pull every item and the open orders; if either fails, nothing is pushed and the run fails
   (a failed read is never taken for "out of stock");
2. turn each item into facts (stock, backorder queue, incoming supply, dates, lead time, sales
   history, the status the store accepted last, today in the store's timezone) and ask the
   store's rule set for a decision (`gather` does this part, and `connector rules explain` and
   `connector report reorder` reuse it, so they see exactly what a pass sees);
3. ask the adapter which platform fields differ from what the store holds; equal means no call;
4. push the differences (unless dry-run) and record, in one transaction, what the store now
   accepts and a log line for every change;
5. with the store's `notify` enabled, tell the buyers of waiting orders whose ETA moved or whose
   item is back (`connector.notify`: at most once each, recorded before sending; a dry run
   lists them and sends nothing).

Full and incremental passes. A full pass pulls the whole catalogue. An incremental pass pulls
only the items the platform reports changed since the store's bookmark (adapters that can:
`connector.platform.PullsChanges`), plus every open order (each changed item needs its whole
backorder queue), and decides only those items: the others keep what the store accepted.
The connector's own writes move the platform's modification dates, so the next incremental
pass pulls what it just wrote; the plan diffs against the store, so that costs reads, no writes.
The bookmark is the moment the pass's pull started, minus `BOOKMARK_OVERLAP` for clock skew
between this machine and the store; it advances only when a pass (full or incremental) ends
"ok". A partial pass keeps the old bookmark, so the items whose writes failed are pulled and
retried by the next incremental pass; a failed pass or a dry run never moves it; no bookmark
means a full pass. An unchanged item keeps its decision only while what it was decided under
is unchanged too: the bookmark records that basis (the store's settings and rules, the
purchase-order files, the day in the store's timezone), and an incremental pass asked for under
another basis runs as a full one, so a rules edit, a new purchase order or midnight reaches
every item at the next pass.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import httpx

from stockstatus.core.config import Config, Demand, Store, Supply
from stockstatus.core.demand import daily_sales, seen_lines, stock_presence, unknown_history
from stockstatus.core.errors import AuthError, ConnectorError, FetchError
from stockstatus.core.events import WebhookSettings, deliver, events_for, notice_events
from stockstatus.core.http import make_client
from stockstatus.core.model import Item, OpenOrder, Update, WriteResult
from stockstatus.core.notify import Notice, tell_customers
from stockstatus.core.platform import Adapter, platforms, pulls_changes
from stockstatus.core.state import Accepted, Outcome, SeenLine, StateStore
from stockstatus.core.supply import (
    NO_PURCHASE_ORDERS,
    PurchaseOrderFiles,
    PurchaseOrders,
    supply_for,
)
from stockstatus.rules.model import DaySales, Decision, Facts, QueuedOrder, Status

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

BOOKMARK_OVERLAP = timedelta(minutes=5)
"""How far before a pull's start the next incremental pull begins: covers clock skew with the store."""


def system_clock() -> datetime:
    return datetime.now(UTC)


def today_in(tz: ZoneInfo, clock: Clock) -> date:
    """Today's calendar date in the store's timezone."""
    return clock().astimezone(tz).date()


@dataclass(frozen=True, slots=True)
class Change:
    """One line of the plan: an item whose shown status or fields will change."""

    item: Item
    decision: Decision
    fields: Mapping[str, Any]
    result: str = "planned"
    error: str | None = None

    @property
    def previous(self) -> Status | None:
        return self.item.shown.status


@dataclass
class StoreRun:
    """What one pass over one store did."""

    store: str
    platform: str
    dry_run: bool
    run_id: int | None = None
    mode: str = "full"
    """"full", "incremental" or "dry-run" (as recorded in the state file's runs)."""
    outcome: str = "running"
    error: str | None = None
    items: int = 0
    decided: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    changes: list[Change] = field(default_factory=list)
    skipped: list[tuple[Item, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """Problems with optional sources (a bad purchase-order line...): reported, the rest used."""
    seconds: float = 0.0
    accepted_before: dict[str, Accepted] = field(default_factory=dict)
    """What the store had accepted before this pass, per item (what buyers were told)."""
    notices: list[Notice] = field(default_factory=list)
    """Messages to waiting buyers: sent, failed, or (dry run) planned; and unconfirmed ones a
    previous pass left (it stopped between sending and the store's answer)."""
    full_because: str | None = None
    """Why an incremental pass was asked for but a full one ran."""

    @property
    def written(self) -> int:
        return sum(1 for c in self.changes if c.result == "written")

    @property
    def failed(self) -> int:
        return sum(1 for c in self.changes if c.result == "failed")

    def as_dict(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "platform": self.platform,
            "dry_run": self.dry_run,
            "mode": self.mode,
            "full_because": self.full_because,
            "run_id": self.run_id,
            "outcome": self.outcome,
            "error": self.error,
            "items": self.items,
            "decided": self.decided,
            "counts": dict(sorted(self.counts.items())),
            "written": self.written,
            "failed": self.failed,
            "seconds": round(self.seconds, 3),
            "changes": [
                {
                    "item": c.item.key,
                    "sku": c.item.sku,
                    "name": c.item.name,
                    "from": c.previous.value if c.previous else None,
                    "to": c.decision.status.value,
                    "eta": c.decision.eta.isoformat() if c.decision.eta else None,
                    "message": c.decision.message,
                    "sell_limit": c.decision.sell_limit,
                    "order_etas": [
                        {
                            "order_id": o.order_id,
                            "now": o.now,
                            "later": o.later,
                            "ships_by": o.ships_by.isoformat() if o.ships_by else None,
                        }
                        for o in c.decision.order_etas
                    ],
                    "rule": c.decision.rule,
                    "fields": dict(c.fields),
                    "result": c.result,
                    "error": c.error,
                }
                for c in self.changes
            ],
            "skipped": [{"item": i.key, "sku": i.sku, "reason": r} for i, r in self.skipped],
            "warnings": list(self.warnings),
            "notices": [n.as_dict() for n in self.notices],
        }


def backorder_queues(items: Iterable[Item], orders: Sequence[OpenOrder]) -> dict[str, tuple[QueuedOrder, ...]]:
    """Which open orders wait for each oversold item, oldest first.

    The platform's available count already has open orders taken off, so -available units were
    sold beyond stock. Stock served the oldest orders first, so those units belong to the newest
    open orders that contain the item. Each waiting order is listed with its full quantity: when
    stock covered part of the oldest of them, the engine ships that part now and the rest later
    (a partial backorder).
    """
    by_item: dict[str, list[tuple[OpenOrder, int]]] = defaultdict(list)
    for order in orders:
        for line in order.lines:
            if line.quantity > 0:
                by_item[line.item_key].append((order, line.quantity))
    queues: dict[str, tuple[QueuedOrder, ...]] = {}
    for item in items:
        short = -(item.available or 0)
        if short <= 0 or item.key not in by_item:
            continue
        waiting: list[QueuedOrder] = []
        for order, quantity in sorted(by_item[item.key], key=lambda o: (o[0].created_at, o[0].order_id), reverse=True):
            if short <= 0:
                break
            waiting.append(QueuedOrder(order_id=order.order_id, ordered_at=order.created_at, quantity=quantity))
            short -= quantity
        queues[item.key] = tuple(reversed(waiting))
    return queues


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
            item, purchase_orders=purchase_orders or NO_PURCHASE_ORDERS, today=today, lead_time_days=lead_time
        ),
        previous_status=previous,
        sales=sales,
        lead_time_sd_days=supply.lead_time_sd_days.for_item(
            supplier=item.supplier, vendor=item.vendor, tags=item.tags, categories=item.categories
        ),
    )


@dataclass(frozen=True, slots=True)
class Gathered:
    """A store as a pass sees it: what was pulled, and the facts each item is decided on."""

    today: date
    items: list[Item]
    orders: list[OpenOrder]
    facts: list[tuple[Item, Facts]]
    accepted: dict[str, Accepted]
    seen: list[SeenLine]
    """This pass's open order lines, dated in the store's calendar (recorded for demand)."""
    warnings: list[str]
    incremental: bool = False
    """Whether only the items changed since a bookmark were pulled."""


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
) -> Gathered:
    """Pull the store and build every item's facts. Reads the state file; writes nothing anywhere.

    With `since` and an adapter that can, only the items changed after `since` are pulled (the
    open orders always all are); otherwise the whole catalogue. `purchase_orders` and `today`
    default to reading the files and the clock now.
    """
    changed: list[Item] | None = None
    if since is not None and pulls_changes(adapter):
        changed = await adapter.pull_changed(since)
    items = changed if changed is not None else await adapter.pull_items()
    orders = await adapter.open_orders()
    if today is None:
        today = today_in(store.timezone, clock)
    if purchase_orders is None:
        purchase_orders = sources.purchase_orders.read()
    accepted = state.accepted(store.name)
    seen = seen_lines(orders, store.timezone)
    days = sources.demand.history_days
    # An incremental pass decides only what it pulled: build only those items' sales histories.
    keys = {item.key for item in items} if changed is not None else None
    history = state.demand_history(store.name, since=today - timedelta(days=days), items=keys)
    sales = daily_sales(history, current=seen, today=today, days=days, items=keys)
    never_seen = unknown_history(today, days)
    queues = backorder_queues(items, orders)
    facts = []
    for item in items:
        previous = accepted.get(item.key)
        facts.append(
            (
                item,
                facts_for(
                    item,
                    today=today,
                    supply=sources.supply,
                    queue=queues.get(item.key, ()),
                    purchase_orders=purchase_orders,
                    previous=previous.status if previous is not None else None,
                    sales=sales.get(item.key, never_seen),
                ),
            )
        )
    return Gathered(today, items, orders, facts, accepted, seen, list(purchase_orders.warnings), changed is not None)


BASIS_CHANGES = {
    "settings": "the rules or settings changed",
    "supply": "the purchase orders changed",
    "day": "a new day began in the store's timezone",
}
"""Why a change of each part of the decision basis makes unchanged items decide anew."""


def decision_basis(store: Store, purchase_orders: PurchaseOrders, today: date) -> dict[str, str]:
    """What a pass decides under besides the store's data: settings, supply files, the day.

    An incremental pass decides only the items that changed in the store; that is sound only
    while everything else every decision reads is as it was at the bookmark.
    """
    return {"settings": store.decides_by, "supply": purchase_orders.digest, "day": today.isoformat()}


def _incremental_start(
    store: Store, adapter: Adapter, state: StateStore, basis: Mapping[str, str]
) -> tuple[datetime | None, str | None]:
    """(where the incremental pull starts, None) or (None, why the pass must be a full one)."""
    since = state.bookmark(store.name)
    if since is None:
        return None, "no pass has completed yet"
    if not pulls_changes(adapter):
        return None, f"the {store.platform} adapter cannot pull only changes"
    before = state.basis(store.name)
    if before is None:
        return None, "the last pass did not record what it decided under"
    moved = [why for part, why in BASIS_CHANGES.items() if before.get(part) != basis.get(part)]
    if moved:
        return None, "; ".join(moved)
    return since, None


async def run_store(
    store: Store,
    adapter: Adapter,
    *,
    sources: Sources,
    state: StateStore,
    clock: Clock = system_clock,
    dry_run: bool = False,
    incremental: bool = False,
    progress: Progress | None = None,
    stopping: asyncio.Event | None = None,
) -> StoreRun:
    """One pass over one store. Never raises for a remote failure: the run records it.

    `incremental` pulls only what changed since the store's bookmark; without a bookmark, or
    with an adapter that cannot, the pass is a full one. A pass that ends "ok" (not a dry run)
    moves the bookmark to the start of its pull, minus `BOOKMARK_OVERLAP`.
    """
    started = time.monotonic()
    today = today_in(store.timezone, clock)
    purchase_orders = sources.purchase_orders.read()
    basis = decision_basis(store, purchase_orders, today)
    since, full_because = None, None
    if incremental:
        since, full_because = _incremental_start(store, adapter, state, basis)
    mode = "dry-run" if dry_run else ("incremental" if since is not None else "full")
    run = StoreRun(store=store.name, platform=store.platform, dry_run=dry_run, mode=mode, full_because=full_because)
    run.run_id = state.begin_run(store.name, mode)
    pulled_at = clock()
    try:
        await _pass(
            run,
            store,
            adapter,
            sources=sources,
            state=state,
            clock=clock,
            dry_run=dry_run,
            since=since,
            progress=progress,
            stopping=stopping,
            purchase_orders=purchase_orders,
            today=today,
        )
        if run.outcome == "ok" and not dry_run:
            state.set_bookmark(store.name, pulled_at - BOOKMARK_OVERLAP, basis=basis)
    except AuthError as exc:
        run.outcome = "failed"
        run.error = f"the store refused the credentials: {exc}"
    except (ConnectorError, httpx.HTTPError) as exc:
        run.outcome, run.error = "failed", str(exc)
    finally:
        if run.outcome == "failed":
            # Reported by the caller: the CLI prints it, the daemon logs it once per outage.
            log.info("store %s: run failed, nothing more was written: %s", store.name, run.error)
        run.seconds = time.monotonic() - started
        if run.outcome == "running":  # cancelled mid-pass
            run.outcome = "interrupted"
        state.finish_run(
            run.run_id,
            outcome=run.outcome,
            items=run.items,
            changes=len(run.changes),
            written=run.written,
            failed=run.failed,
            counts=run.counts,
            error=run.error,
            mode=run.mode,
            seconds=round(run.seconds, 3),
        )
    return run


async def _pass(
    run: StoreRun,
    store: Store,
    adapter: Adapter,
    *,
    sources: Sources,
    state: StateStore,
    clock: Clock,
    dry_run: bool,
    since: datetime | None = None,
    progress: Progress | None = None,
    stopping: asyncio.Event | None = None,
    purchase_orders: PurchaseOrders | None = None,
    today: date | None = None,
) -> None:
    gathered = await gather(
        store,
        adapter,
        sources=sources,
        state=state,
        clock=clock,
        since=since,
        purchase_orders=purchase_orders,
        today=today,
    )
    if since is not None and not gathered.incremental and not dry_run:
        run.mode = "full"  # the adapter could not tell what changed and pulled everything
        run.full_because = "the store could not tell what changed"
    run.items = len(gathered.items)
    run.accepted_before = gathered.accepted
    run.warnings.extend(gathered.warnings)
    for warning in gathered.warnings:
        log.warning("store %s: %s", store.name, warning)
    # What was seen is true whether or not this pass writes: record it for demand.
    state.observe(store.name, lines=gathered.seen, stock=stock_presence(gathered.items, gathered.today))

    unchanged: list[tuple[str, str | None, str, Decision, Mapping[str, Any]]] = []
    updates: list[Update] = []
    decided: list[tuple[Item, Decision]] = []
    for item, facts in gathered.facts:
        decision = store.rules.decide(facts)
        if decision is None:
            continue
        if item.problems:
            # A field we could not read may be the one that matters: leave the item as it is.
            run.skipped.append((item, "; ".join(item.problems)))
            continue
        run.decided += 1
        run.counts[decision.status.value] += 1
        try:
            fields = adapter.plan(item, decision)
        except ValueError as exc:
            run.skipped.append((item, str(exc)))
            continue
        decided.append((item, decision))
        if fields:
            updates.append(Update(item=item, decision=decision, fields=fields))
        else:
            unchanged.append((item.key, item.sku, item.name, decision, {}))

    if dry_run or not updates:
        run.changes = [Change(u.item, u.decision, u.fields) for u in updates]
    else:
        results = await _push_in_chunks(adapter, updates, progress=progress, stopping=stopping, store=store.name)
        run.changes = [_applied(u, results.get(u.item.key)) for u in updates]

    accepted = unchanged + [
        (c.item.key, c.item.sku, c.item.name, c.decision, c.fields) for c in run.changes if c.result == "written"
    ]
    outcomes = [
        Outcome(c.item.key, c.item.sku, c.previous, c.decision, c.fields, c.result, c.error) for c in run.changes
    ]
    state.record(run.run_id or 0, store.name, accepted=[] if dry_run else accepted, outcomes=outcomes)
    if run.failed:
        run.outcome = "partial"
        run.error = f"{run.failed} of {len(run.changes)} writes failed"
    else:
        run.outcome = "ok"
    for item, reason in run.skipped:
        log.warning("store %s: %s left unchanged: %s", store.name, item.label, reason)

    if store.notify.enabled:
        refused = {c.item.key for c in run.changes if c.result == "failed"}
        told = await tell_customers(
            store.name,
            store.notify,
            adapter,
            state=state,
            decided=[(item, decision) for item, decision in decided if item.key not in refused],
            orders=gathered.orders,
            today=gathered.today,
            dry_run=dry_run,
        )
        run.notices = told.unconfirmed + told.notices
        run.warnings.extend(told.warnings or ())


class Progress(Protocol):
    """Told how a long write phase advances (a terminal progress bar, for instance)."""

    def start(self, label: str, total: int) -> None: ...

    def advance(self, done: int) -> None: ...

    def finish(self) -> None: ...


def push_chunks(updates: Sequence[Update], size: int) -> list[list[Update]]:
    """Updates in chunks of about `size`, never splitting the variants of one product.

    Variants may share a product's stock (and its policy), which the adapter settles within
    one push: they must travel together.
    """
    groups: dict[str, list[Update]] = {}
    for update in updates:
        groups.setdefault(update.item.parent_key or update.item.key, []).append(update)
    chunks: list[list[Update]] = [[]]
    for group in groups.values():
        if chunks[-1] and len(chunks[-1]) + len(group) > size:
            chunks.append([])
        chunks[-1].extend(group)
    return [c for c in chunks if c]


async def _push_in_chunks(
    adapter: Adapter,
    updates: Sequence[Update],
    *,
    progress: Progress | None,
    stopping: asyncio.Event | None,
    store: str,
) -> dict[str, WriteResult]:
    """Push chunk by chunk, so progress can be shown and a stop waits for one chunk only.

    Once `stopping` is set, the chunks not yet sent are reported as not written: they keep
    their old state and are planned again by the next pass.
    """
    size = max(adapter.capabilities.max_batch * 4, 1)
    results: dict[str, WriteResult] = {}
    if progress is not None:
        progress.start(f"{store}: writing", len(updates))
    try:
        for chunk in push_chunks(updates, size):
            if stopping is not None and stopping.is_set():
                for update in chunk:
                    results[update.item.key] = WriteResult(
                        update.item.key, ok=False, error="not sent: the connector was stopping"
                    )
                continue
            results.update((r.item_key, r) for r in await adapter.push(chunk))
            if progress is not None:
                progress.advance(len(chunk))
    finally:
        if progress is not None:
            progress.finish()
    return results


def _applied(update: Update, result: WriteResult | None) -> Change:
    if result is None:
        result = WriteResult(update.item.key, ok=False, error="the store did not answer for this item")
    return Change(
        update.item,
        update.decision,
        update.fields,
        result="written" if result.ok else "failed",
        error=result.error,
    )


@asynccontextmanager
async def open_adapter(
    store: Store,
    environ: Mapping[str, str],
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> AsyncIterator[Adapter]:
    """The store's adapter on a configured client (through `transports[store.name]` when given)."""
    async with make_client(transport=(transports or {}).get(store.name)) as client:
        yield platforms()[store.platform].create_adapter(store.settings, client, environ)


async def resync(
    config: Config,
    *,
    store_name: str | None = None,
    dry_run: bool = False,
    incremental: bool = False,
    state: StateStore,
    clock: Clock = system_clock,
    environ: Mapping[str, str],
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    sources: Sources | None = None,
    progress: Progress | None = None,
    stopping: asyncio.Event | None = None,
) -> list[StoreRun]:
    """A full pass over each selected store, one after another (`incremental`: see `run_store`).

    `transports` maps a store name to the transport its client uses (the demo's and tests'
    in-process fakes); other stores use the network. `sources` defaults to the config's (whose
    purchase-order reader keeps its cache for as long as the config is loaded).
    """
    sources = sources or Sources.of(config)
    stores = config.select(store_name)
    config.check_secrets(stores, environ)
    runs = []
    hook = config.settings.webhook
    for store in stores:
        async with open_adapter(store, environ, transports) as adapter:
            run = await run_store(
                store,
                adapter,
                sources=sources,
                state=state,
                clock=clock,
                dry_run=dry_run,
                incremental=incremental,
                progress=progress,
                stopping=stopping,
            )
        runs.append(run)
        if hook is not None and not dry_run:
            await _announce(run, hook, environ, clock, (transports or {}).get("webhook"))
    return runs


async def _announce(
    run: StoreRun,
    hook: WebhookSettings,
    environ: Mapping[str, str],
    clock: Clock,
    transport: httpx.AsyncBaseTransport | None,
) -> None:
    """Post the events of the changes the store accepted in this pass, and of the notices it took.

    "From" is the decision the store accepted before (what buyers were told), not the status
    read back: a pre-armed store switches by itself at the last sale.
    """
    announced = run.accepted_before
    accepted = [
        (
            c.item.key,
            c.item.sku,
            announced[c.item.key].status if c.item.key in announced else c.previous,
            announced[c.item.key].eta
            if c.item.key in announced
            else (c.item.shown.eta.isoformat() if c.item.shown.eta else None),
            c.decision.status,
            c.decision.eta.isoformat() if c.decision.eta else None,
        )
        for c in run.changes
        if c.result == "written"
    ]
    events = events_for(run.store, accepted, slip_days=hook.eta_slip_days, wanted=hook.events, at=clock())
    events += notice_events(run.store, run.notices, wanted=hook.events, at=clock())
    if events:
        async with make_client(transport=transport) as client:
            await deliver(client, hook, environ, events)


async def gather_stores(
    config: Config,
    *,
    store_name: str | None = None,
    state: StateStore,
    clock: Clock = system_clock,
    environ: Mapping[str, str],
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    sources: Sources | None = None,
) -> list[tuple[Store, Gathered]]:
    """Pull each selected store and build its facts, as a pass would; writes nothing anywhere.

    For read-only commands (`rules explain`, `report reorder`). A store that cannot be read
    raises FetchError naming it: a failed read is never an empty store.
    """
    sources = sources or Sources.of(config)
    stores = config.select(store_name)
    config.check_secrets(stores, environ)
    out = []
    for store in stores:
        async with open_adapter(store, environ, transports) as adapter:
            try:
                out.append((store, await gather(store, adapter, sources=sources, state=state, clock=clock)))
            except AuthError as exc:
                raise FetchError(f"store {store.name}: the store refused the credentials ({exc})") from exc
            except (ConnectorError, httpx.HTTPError) as exc:
                raise FetchError(f"store {store.name}: could not be read: {exc}") from exc
    return out
