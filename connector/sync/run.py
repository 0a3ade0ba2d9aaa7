"""One pass over one store, the template every run follows: pull, decide, push what changed, record.

What a pass did is a `StoreRun`: its mode and outcome, a `Change` per item whose shown status or
fields change, the items left as they are and why.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import httpx

from stockstatus.core import logs
from stockstatus.core.config import Store
from stockstatus.core.demand import stock_presence
from stockstatus.core.errors import AuthError, ConnectorError, FetchError
from stockstatus.core.model import Item, WriteResult
from stockstatus.core.notify import Decided, Notice, tell_customers
from stockstatus.core.outcomes import ChangeResult, PassMode, RunOutcome
from stockstatus.core.platform import Adapter, counts_items, restores
from stockstatus.core.state import (
    Acceptance,
    Accepted,
    AcceptedRow,
    FieldRecord,
    HoldKind,
    Outcome,
    Scope,
    Skip,
    StateStore,
    StoreBusy,
    clip,
)
from stockstatus.core.supply import PurchaseOrders
from stockstatus.core.sync.clock import Clock, system_clock, today_in
from stockstatus.core.sync.facts import Refused, Sources, failure, gather
from stockstatus.core.sync.facts import verdict as judge
from stockstatus.core.sync.group import Peers, join_group, read_peers
from stockstatus.core.sync.incremental import BOOKMARK_OVERLAP, IncrementalStart, decision_basis, incremental_start
from stockstatus.core.sync.push import Progress, push_in_chunks
from stockstatus.core.sync.rails import FORCE_HINT, over_rails, shrank, tally
from stockstatus.core.sync.takeover import FieldTakeover, takeover
from stockstatus.core.sync.targeted import Touched
from stockstatus.rules.model import Decision, Status

log = logging.getLogger("stockstatus.core.sync")

NO_FIELDS_PLANNED: Mapping[str, Any] = {}

STAGED_AT_ONCE = 500
"""Rows of items the store already shows, staged in the state file's temporary table at once."""


@dataclass(frozen=True, slots=True)
class Change:
    """One line of the plan: an item whose shown status or fields will change."""

    item: Item
    decision: Decision
    fields: Mapping[str, Any]
    result: ChangeResult = ChangeResult.PLANNED
    error: str | None = None

    @property
    def previous(self) -> Status | None:
        return self.item.shown.status


@dataclass(frozen=True, slots=True)
class Skipped:
    """An item a pass left as it is, and why (data it could not read, a decision it cannot show)."""

    item: Item
    reason: str


@dataclass(repr=False)
class StoreRun:
    """What one pass over one store did.

    Its repr names the lists' lengths, not their items: asyncio formats a finished task's result
    with `repr` (`asyncio.run` does it on every return, reprlib cutting the text only after
    building it), and a 100,000-item pass's plan printed in full is hundreds of megabytes.
    """

    store: str
    platform: str
    dry_run: bool
    run_id: int | None = None
    mode: PassMode = PassMode.FULL
    outcome: RunOutcome = RunOutcome.RUNNING
    error: str | None = None
    items: int = 0
    decided: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    changes: list[Change] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
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
    forced: bool = False
    """Run with --force: the rails and the suspicious-read check were not applied."""
    takeover: list[FieldTakeover] | None = None
    """A dry run before the connector's first write to the store: what the merchant has now in
    each field the plan writes against what the connector will set, counted (`takeover`)."""

    def __repr__(self) -> str:
        return (
            f"StoreRun(store={self.store!r}, platform={self.platform!r}, dry_run={self.dry_run!r},"
            f" run_id={self.run_id!r}, mode={self.mode.value!r}, outcome={self.outcome.value!r},"
            f" error={self.error!r}, items={self.items}, decided={self.decided}, changes={len(self.changes)},"
            f" skipped={len(self.skipped)}, warnings={len(self.warnings)}, notices={len(self.notices)},"
            f" seconds={self.seconds:.3f})"
        )

    @property
    def written(self) -> int:
        return sum(1 for c in self.changes if c.result is ChangeResult.WRITTEN)

    @property
    def failed(self) -> int:
        return sum(1 for c in self.changes if c.result is ChangeResult.FAILED)

    def as_dict(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "platform": self.platform,
            "dry_run": self.dry_run,
            "mode": self.mode.value,
            "full_because": self.full_because,
            "forced": self.forced,
            "run_id": self.run_id,
            "outcome": self.outcome.value,
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
                            "shipments": [
                                {"units": p.units, "ships_by": p.ships_by.isoformat() if p.ships_by else None}
                                for p in o.shipments
                            ],
                        }
                        for o in c.decision.order_etas
                    ],
                    "rule": c.decision.rule,
                    "fields": dict(c.fields),
                    "result": c.result.value,
                    "error": c.error,
                }
                for c in self.changes
            ],
            "skipped": [{"item": s.item.key, "sku": s.item.sku, "reason": s.reason} for s in self.skipped],
            "warnings": list(self.warnings),
            "notices": [n.as_dict() for n in self.notices],
            "takeover": None if self.takeover is None else [t.as_dict() for t in self.takeover],
        }


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
    force: bool = False,
    scheduled: bool = False,
    wait: float = 0.0,
    peers: Peers | None = None,
    touched: Touched | None = None,
) -> StoreRun:
    """One pass over one store. Never raises for a remote failure: the run records it.

    `peers`: the other stores of its supply group, read (in full, read-only) to decide the SKUs
    they share (see `sync.group`); such a pass is always a full one.

    `incremental` pulls only what changed since the store's bookmark; without a bookmark, or
    with an adapter that cannot, the pass is a full one. `touched` (with `incremental`) makes
    it a targeted pass (mode `webhook`, see `targeted`): the items store webhooks named as well. A pass that ends "ok" (not a dry run)
    moves the bookmark to the start of its pull, minus `BOOKMARK_OVERLAP`.

    A paused store is not passed over (a dry run still shows its plan). A held store is not
    passed over by `scheduled` (daemon) passes; another pass measures again and lifts the hold
    when it stays within the rails. `force` applies neither the rails nor the suspicious-read
    check (`connector resync --force`). A pass that writes holds the store's cross-process lock
    (see `state.lock`), waiting up to `wait` seconds for another process's pass to end.
    """
    paused = state.holds.get(store.name, HoldKind.PAUSED)
    held = state.holds.get(store.name, HoldKind.HELD)
    if paused is not None and not dry_run:
        return StoreRun(
            store=store.name,
            platform=store.platform,
            dry_run=dry_run,
            outcome=RunOutcome.PAUSED,
            error=f"store {store.name} is paused since {paused.since} ({paused.reason}); nothing was read or "
            f"written. `connector resume {store.name}` lets passes write again",
        )
    if held is not None and scheduled and not dry_run and not force:
        return StoreRun(
            store=store.name, platform=store.platform, dry_run=dry_run, outcome=RunOutcome.HELD, error=held.reason
        )
    lock = None if dry_run else state.lock(store.name)
    if lock is not None:
        try:
            await lock.acquire(wait)
        except StoreBusy as exc:
            return StoreRun(
                store=store.name, platform=store.platform, dry_run=dry_run, outcome=RunOutcome.BUSY, error=str(exc)
            )
    try:
        return await _locked_run(
            store,
            adapter,
            sources=sources,
            state=state,
            clock=clock,
            dry_run=dry_run,
            incremental=incremental,
            progress=progress,
            stopping=stopping,
            force=force,
            peers=peers,
            touched=touched,
        )
    finally:
        if lock is not None:
            lock.release()


async def _locked_run(
    store: Store,
    adapter: Adapter,
    *,
    sources: Sources,
    state: StateStore,
    clock: Clock,
    dry_run: bool,
    incremental: bool,
    progress: Progress | None,
    stopping: asyncio.Event | None,
    force: bool,
    peers: Peers | None = None,
    touched: Touched | None = None,
) -> StoreRun:
    started = time.monotonic()
    today = today_in(store.timezone, clock)
    purchase_orders = sources.purchase_orders.read()
    basis = decision_basis(store, purchase_orders, today)
    if incremental and peers is not None:
        # Another store's new order moves this store's dates for the same SKU: decide every item.
        start = IncrementalStart(full_because=f"the store is in supply group {peers.group}: decided with the group")
    else:
        start = incremental_start(store, adapter, state, basis) if incremental else IncrementalStart()
    mode = PassMode.FULL
    if dry_run:
        mode = PassMode.DRY_RUN
    elif start.since is not None:
        mode = PassMode.INCREMENTAL if touched is None else PassMode.WEBHOOK
    run = StoreRun(
        store=store.name,
        platform=store.platform,
        dry_run=dry_run,
        mode=mode,
        full_because=start.full_because,
        forced=force,
    )
    for hold in state.holds.of(store.name):
        if dry_run and hold.kind is not HoldKind.RELEASE:
            run.warnings.append(f"the store is {hold.kind.value} since {hold.since}: {hold.reason}")
    run.run_id = state.runs.begin(store.name, mode)
    # JSON log lines made during the pass (the HTTP policy's retries too) name its store and run.
    with logs.fields(store=store.name, run=run.run_id, mode=mode.value):
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
                since=start.since,
                progress=progress,
                stopping=stopping,
                purchase_orders=purchase_orders,
                today=today,
                force=force,
                peers=peers,
                touched=touched,
            )
            if run.outcome is RunOutcome.OK and not dry_run:
                state.bookmarks.set(store.name, pulled_at - BOOKMARK_OVERLAP, basis=basis)
        except AuthError as exc:
            run.outcome = RunOutcome.FAILED
            run.error = f"the store refused the credentials: {exc}"
        except (ConnectorError, httpx.HTTPError) as exc:
            run.outcome, run.error = RunOutcome.FAILED, str(exc)
        except Exception as exc:
            log.debug("store %s: the pass failed", store.name, exc_info=True)
            run.outcome, run.error = RunOutcome.FAILED, f"the pass failed: {failure(exc)}"
        finally:
            if run.outcome is RunOutcome.FAILED:
                # Reported by the caller: the CLI prints it, the daemon logs it once per outage.
                log.info("store %s: run failed, nothing more was written: %s", store.name, run.error)
            run.seconds = time.monotonic() - started
            if run.outcome is RunOutcome.RUNNING:  # cancelled mid-pass
                run.outcome = RunOutcome.INTERRUPTED
            state.runs.finish(
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
    force: bool = False,
    peers: Peers | None = None,
    touched: Touched | None = None,
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
        sales=store.rules.reads_sales,
        sales_days=store.rules.sales_days,
        touched=touched,
    )
    if peers is not None:
        purchase_orders = purchase_orders or sources.purchase_orders.read()
        read = await read_peers(
            peers,
            sources=sources,
            state=state,
            clock=clock,
            purchase_orders=purchase_orders,
            today=gathered.today,
            doubt=None if force else lambda peer, read, pulled: _doubt_listing(peer, read, state, pulled),
        )
        gathered = join_group(store, gathered, peers.group, read, purchase_orders=purchase_orders, state=state)
    if since is not None and not gathered.incremental and not dry_run:
        run.mode = PassMode.FULL  # the adapter could not tell what changed and pulled everything
        run.full_because = "the store could not tell what changed"
    run.items = len(gathered.items)
    if not gathered.incremental and not force:
        doubt = await _doubt_listing(store, adapter, state, len(gathered.items))
        if doubt is not None and not dry_run:
            raise FetchError(doubt)
        if doubt is not None:
            run.warnings.append(f"a pass would fail: {doubt}")
    run.warnings.extend(gathered.warnings)
    for warning in gathered.warnings:
        log.warning("store %s: %s", store.name, warning)
    # What was seen is true whether or not this pass writes: record it for demand.
    state.demand.observe(store.name, lines=gathered.seen, stock=stock_presence(gathered.items, gathered.today))
    state.incoming.update(store.name, gathered.incoming_seen, gathered.incoming_gone)

    # Each item is decided as its facts are built, and only what the rest of the pass needs is
    # kept: a Change per item to write, and for the items the store already shows what the
    # state file, the takeover plan and the buyers' notices ask of them.
    keeps_unchanged = not dry_run  # accepted again at the end of the pass (their rows staged now)
    if keeps_unchanged:
        state.accepted.unstage(store.name)
    sizes_takeover = dry_run and restores(adapter) and not state.has_written(store.name)
    waiting: frozenset[str] = frozenset()
    if store.notify.enabled:
        # Only items with an open order can owe its buyer a notice (`plan_notices`).
        waiting = frozenset(line.item_key for order in gathered.orders for line in order.lines if line.quantity > 0)
    unchanged: list[AcceptedRow] = []
    unchanged_items: list[Item] = []
    decided: list[Decided] = []
    unbuilt: list[Skipped] = []
    changes: list[Change] = []
    for seen in gathered.each():
        item = seen.item
        if isinstance(seen, Refused):
            unbuilt.append(Skipped(item, seen.reason))
            continue
        try:
            judged = judge(item, store.rules.decide(seen.facts), adapter.plan)
        except Exception as exc:
            log.debug("store %s: %s could not be decided", store.name, item.label, exc_info=True)
            run.skipped.append(Skipped(item, f"could not be decided: {failure(exc)}"))
            continue
        decision, fields = judged.decision, judged.fields
        if decision is None:
            continue
        if judged.skipped is not None:
            run.skipped.append(Skipped(item, judged.skipped))
            continue
        run.decided += 1
        run.counts[decision.status.value] += 1
        if item.key in waiting:
            decided.append(Decided(item, decision))
        if fields:
            changes.append(Change(item, decision, fields))
            continue
        if keeps_unchanged:
            unchanged.append(AcceptedRow.of(Acceptance(item.key, item.sku, item.name, decision, NO_FIELDS_PLANNED)))
            if len(unchanged) >= STAGED_AT_ONCE:
                state.accepted.stage(run.run_id or 0, store.name, unchanged)
                unchanged.clear()
        if sizes_takeover:
            unchanged_items.append(item)
    run.skipped[:0] = unbuilt
    if unchanged:
        state.accepted.stage(run.run_id or 0, store.name, unchanged)
        unchanged.clear()

    store_items = run.items if not gathered.incremental else max(run.items, len(gathered.accepted))
    release = state.holds.get(store.name, HoldKind.RELEASE)
    verdict = None
    if not force and (release is None or dry_run):
        verdict = over_rails(tally(((c.item.shown.status, c.decision) for c in changes), store_items), store.rails)
    if verdict is not None and dry_run:
        run.warnings.append(f"the rails would hold this pass: {verdict}")
    elif verdict is not None:
        run.changes = changes
        run.outcome = RunOutcome.HELD
        run.error = (
            f"store {store.name} held before writing: {verdict}. Nothing was written. If the plan is right "
            f"(`connector resync --store {store.name} --dry-run` shows it), apply it with "
            f"`{FORCE_HINT.format(store=store.name)}`, or `connector resume {store.name}` to let the daemon's "
            f"next pass apply it; if not, fix the rules and run `connector resync --store {store.name}`"
        )
        state.holds.hold(store.name, run.error)  # said by the caller: the CLI prints it, the daemon logs it once
        return

    run.changes = changes
    if not dry_run and changes:
        results = await push_in_chunks(adapter, changes, progress=progress, stopping=stopping, store=store.name)
        for n, change in enumerate(changes):
            changes[n] = _applied(change, results.get(change.item.key))
    # What buyers were told before, kept only for the items this pass changes (`announce`).
    run.accepted_before = {
        c.item.key: gathered.accepted[c.item.key] for c in changes if c.item.key in gathered.accepted
    }

    if sizes_takeover and restores(adapter):
        run.takeover = takeover(adapter, [(c.item, c.fields) for c in changes], unchanged_items)
        unchanged_items = []
    state.record(
        run.run_id or 0,
        store.name,
        accepted=()
        if dry_run
        else (
            Acceptance(c.item.key, c.item.sku, c.item.name, c.decision, c.fields)
            for c in changes
            if c.result is ChangeResult.WRITTEN
        ),
        staged=keeps_unchanged,
        outcomes=(
            Outcome(c.item.key, c.item.sku, c.previous, c.decision, c.fields, c.result, c.error) for c in changes
        ),
        fields=() if dry_run else _field_records(adapter, changes),
    )
    if run.failed:
        run.outcome = RunOutcome.PARTIAL
        run.error = f"{run.failed} of {len(run.changes)} writes failed"
    else:
        run.outcome = RunOutcome.OK
    if not dry_run:
        state.holds.passed(store.name)
    # Kept in the state file, and logged once per item and reason rather than at every pass.
    run.skipped = [Skipped(s.item, clip(s.reason)) for s in run.skipped]
    skips = [Skip(s.item.key, s.item.sku, s.reason) for s in run.skipped]
    if dry_run:
        fresh = state.skips.new_reasons(store.name, skips)
    else:
        left = {s.item_key for s in skips}
        fresh = state.skips.record(
            run.run_id or 0,
            store.name,
            skips,
            decided=[i.key for i in gathered.items if i.key not in left],
            full=not gathered.incremental,
        )
    for skip in fresh:
        log.warning(
            "store %s: %s left unchanged: %s",
            store.name,
            skip.sku or f"#{skip.item_key}",
            skip.reason,
            extra={"sku": skip.sku, "item": skip.item_key},
        )

    if store.notify.enabled:
        refused = {c.item.key for c in run.changes if c.result is ChangeResult.FAILED}
        told = await tell_customers(
            store.name,
            store.notify,
            adapter,
            state=state,
            decided=[d for d in decided if d.item.key not in refused],
            orders=gathered.orders,
            today=gathered.today,
            dry_run=dry_run,
        )
        run.notices = told.unconfirmed + told.notices
        run.warnings.extend(told.warnings or ())


async def _doubt_listing(store: Store, adapter: Adapter, state: StateStore, pulled: int) -> str | None:
    """Why a full listing of `pulled` items is not believed, or None (see `rails`)."""
    last = state.runs.last_full(store.name)
    if last is None or not shrank(last.items, pulled, store.rails):
        return None
    count = await adapter.count_items() if counts_items(adapter) else None
    if count is not None and shrank(last.items, count, store.rails):
        log.warning(
            "store %s: the listing shrank from %d to %d items; the store's own count (%d) confirms it",
            store.name,
            last.items,
            pulled,
            count,
        )
        return None
    confirm = (
        "the store gives no count to confirm it"
        if count is None
        else f"the store's own count ({count}) does not confirm it"
    )
    return (
        f"store {store.name}: the listing has {pulled} items where the last full pass ({last.started_at}) read "
        f"{last.items}; {confirm}. Not believed: nothing was written and the bookmark stays. If the catalogue "
        f"really shrank, accept it with `{FORCE_HINT.format(store=store.name)}`"
    )


def _field_records(adapter: Adapter, changes: list[Change]) -> Iterator[FieldRecord]:
    """Each field the store accepted from this pass, with what it held before (read from the pull).

    Kept by `StateStore.record` in the same transaction as the write's acceptance; only a field's
    first write keeps its `before` (`state.originals`). An adapter without `Restores` records nothing.
    Made as they are recorded: several per item written.
    """
    if not restores(adapter):
        return
    for change in changes:
        if change.result is not ChangeResult.WRITTEN:
            continue
        item = change.item
        for write in adapter.written(item, change.fields):
            if write.shared and item.parent_key is None:
                continue  # a shared field needs its product: nothing to restore it onto
            try:
                before = adapter.held(item, write.field)
            except LookupError as exc:
                log.warning("%s: %s is not recorded for restore: %s", item.label, write.field, exc)
                continue
            scope, owner = (Scope.PARENT, str(item.parent_key)) if write.shared else (Scope.ITEM, item.key)
            yield FieldRecord(scope, owner, write.field, item.sku, before, write.value)


def _applied(change: Change, result: WriteResult | None) -> Change:
    if result is None:
        result = WriteResult(change.item.key, ok=False, error="the store did not answer for this item")
    return Change(
        change.item,
        change.decision,
        change.fields,
        result=ChangeResult.WRITTEN if result.ok else ChangeResult.FAILED,
        error=result.error,
    )
