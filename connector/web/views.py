"""What the status page shows, read from the config and the state file (and the daemon, when it runs).

Pure reading: every view is built from the state file opened read-only, so the page never
writes, and from the `Live` source for what only the running daemon knows. Times are shown in
each store's timezone, dates are calendar dates in it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from stockstatus.core import operator
from stockstatus.core.config import Config, Store
from stockstatus.core.outcomes import PassMode, RunOutcome
from stockstatus.core.state import HoldKind, RunRecord, StateStore
from stockstatus.core.sync import Clock
from stockstatus.rules.model import Status

STATUSES = tuple(s.value for s in Status)
PAGE_SIZE = 50
"""Items per page of a store's list."""
DELIVERY_WINDOW = timedelta(hours=24)
"""Webhook deliveries are counted over this window."""


@dataclass(frozen=True, slots=True)
class Deliveries:
    """Webhook deliveries a store sent the listener, over the last `DELIVERY_WINDOW`."""

    by_outcome: Mapping[str, int]
    last_at: datetime | None
    lag_seconds: float | None = None
    """How late the newest delivery arrived after the store made its event, when known."""

    @property
    def total(self) -> int:
        return sum(self.by_outcome.values())


class Live(Protocol):
    """What only the running daemon knows; the page asks it per store at each request.

    The daemon provides one; without it (`FromStateFile`) next runs follow the config's schedules,
    a pass counts as running while the state file says so, and deliveries are read from the state
    file's `deliveries` table when there is one.
    """

    def next_run(self, store: str) -> datetime | None: ...

    def pass_running(self, store: str) -> bool: ...

    def deliveries(self, store: str) -> Deliveries | None: ...


@dataclass(frozen=True, slots=True)
class FromStateFile:
    """`Live` without a daemon: everything from the config and the state file."""

    config: Config
    state: StateStore
    clock: Clock

    def _last(self, store: str) -> RunRecord | None:
        runs = (r for r in self.state.runs.recent(store, limit=50) if r.mode is not PassMode.DRY_RUN)
        return next(runs, None)

    def next_run(self, store: str) -> datetime | None:
        """From the store's schedule and its last pass, as `connector status` counts it."""
        last = self._last(store)
        if last is None:
            return None
        found = _store(self.config, store)
        return operator.next_pass(
            found.schedule, found.timezone, datetime.fromisoformat(last.started_at), store=found.name
        )

    def pass_running(self, store: str) -> bool:
        last = self._last(store)
        return last is not None and last.outcome is RunOutcome.RUNNING

    def deliveries(self, store: str) -> Deliveries | None:
        return recorded_deliveries(self.state, store, self.clock())


def recorded_deliveries(state: StateStore, store: str, now: datetime) -> Deliveries | None:
    """Deliveries from the state file's `deliveries` table; None when the file has none."""
    if "deliveries" not in state.db.table_names():
        return None
    since = (now - DELIVERY_WINDOW).astimezone(UTC).isoformat(timespec="seconds")
    rows = state.db.execute(
        "SELECT outcome, count(*) FROM deliveries WHERE store = ? AND received_at >= ? GROUP BY outcome",
        [store, since],
    ).fetchall()
    last = state.db.execute("SELECT max(received_at) FROM deliveries WHERE store = ?", [store]).fetchone()
    return Deliveries(
        by_outcome={str(outcome): int(n) for outcome, n in rows},
        last_at=_instant(last[0]) if last and last[0] else None,
    )


def _instant(text: str) -> datetime:
    when = datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def local(moment: datetime | str | None, zone: ZoneInfo) -> str:
    """An instant as the page shows it, in the store's timezone: "2026-11-22 11:00 CET"."""
    if moment is None or moment == "":
        return "–"
    when = _instant(moment) if isinstance(moment, str) else moment
    return when.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


# ---- the overview ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HoldView:
    kind: str
    since: str
    reason: str
    command: str
    """The CLI command that lifts it."""


@dataclass(frozen=True, slots=True)
class StoreView:
    """One store's line on the overview."""

    name: str
    platform: str
    timezone: str
    enabled: bool
    health: str
    """ok, failing, held, paused, overdue, running, never run, disabled."""
    health_note: str
    last_run: str
    mode: str
    outcome: str
    took: str
    next_run: str
    counts: Mapping[str, int]
    items: int
    holds: tuple[HoldView, ...]
    last_error: str | None
    skipped: int
    outbox_pending: int
    outbox_failed: int
    deliveries: Deliveries | None
    deliveries_last: str
    running: bool


def overview(config: Config, state: StateStore, live: Live, clock: Clock) -> list[StoreView]:
    """Every configured store, in the config's order."""
    views = []
    for row in operator.status(config, state, clock):
        store = _store(config, row["store"])
        zone = store.timezone
        holds = tuple(
            HoldView(
                kind=h["kind"],
                since=local(h["since"], zone),
                reason=h["reason"],
                command=_lift_command(HoldKind(h["kind"]), store.name),
            )
            for h in row["holds"]
        )
        running = live.pass_running(store.name)
        next_run = live.next_run(store.name) if store.enabled else None
        deliveries = live.deliveries(store.name)
        health, note = _health(row, holds, running)
        views.append(
            StoreView(
                name=store.name,
                platform=store.platform,
                timezone=zone.key,
                enabled=store.enabled,
                health=health,
                health_note=note,
                last_run=local(row["last_run"], zone),
                mode=row["mode"] or "–",
                outcome=row["outcome"],
                took="–" if row["seconds"] is None else f"{row['seconds']:.1f} s",
                next_run=local(next_run, zone) if next_run else ("–" if not store.enabled else "at the daemon's start"),
                counts={s: row["counts"].get(s, 0) for s in STATUSES},
                items=row["items"],
                holds=holds,
                last_error=(row["last_error"] or {}).get("error"),
                skipped=row["skipped"]["count"],
                outbox_pending=row["outbox"]["pending"],
                outbox_failed=row["outbox"]["failed"],
                deliveries=deliveries,
                deliveries_last=local(deliveries.last_at, zone) if deliveries and deliveries.last_at else "–",
                running=running,
            )
        )
    return views


def holds(state: StateStore, store: Store) -> tuple[HoldView, ...]:
    """Why no pass writes to the store now (paused, held), with the command that lifts each."""
    return tuple(
        HoldView(
            kind=h.kind.value,
            since=local(h.since, store.timezone),
            reason=h.reason,
            command=_lift_command(h.kind, store.name),
        )
        for h in state.holds.of(store.name)
        if h.kind is not HoldKind.RELEASE
    )


def _store(config: Config, name: str) -> Store:
    return next(s for s in config.stores if s.name == name)


def _lift_command(kind: HoldKind, store: str) -> str:
    if kind is HoldKind.PAUSED:
        return f"connector resume {store}"
    if kind is HoldKind.HELD:
        return f"connector resync --store {store} --force (or connector resume {store}: the next pass applies it)"
    return ""


def _health(row: Mapping[str, Any], holds: tuple[HoldView, ...], running: bool) -> tuple[str, str]:
    kinds = {h.kind for h in holds}
    if not row["enabled"]:
        return "disabled", "enabled = false in the config: no passes run"
    if HoldKind.PAUSED.value in kinds:
        return "paused", "paused by the operator: no pass writes"
    if HoldKind.HELD.value in kinds:
        return "held", "a rail stopped a pass: nothing is written until the operator looks"
    if running:
        return "running", "a pass is running now"
    if row["outcome"] == RunOutcome.FAILED.value:
        return "failing", "the last pass failed: nothing was written"
    if row["outcome"] == "never run":
        return "never run", "no pass recorded yet"
    if row["overdue"]:
        return "overdue", "the scheduled pass is late: is `connector run` running?"
    if row["outcome"] == RunOutcome.PARTIAL.value:
        return "partial", "some writes were refused; the next pass retries them"
    return "ok", ""


# ---- a store's items -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ItemRow:
    key: str
    sku: str | None
    label: str
    """The SKU, or `#key` for an item without one (what `rules explain` takes)."""
    name: str
    status: str
    eta: str
    sell_limit: str
    queue: str
    """Units waiting (sold beyond stock) when the last accepted decision was made."""
    rule: str
    message: str
    accepted_at: str


@dataclass(frozen=True, slots=True)
class ItemPage:
    rows: tuple[ItemRow, ...]
    total: int
    page: int
    pages: int
    status: str
    search: str


def items(state: StateStore, store: Store, *, status: str = "", search: str = "", page: int = 1) -> ItemPage:
    """A page of the items the store accepted, filtered by status and by SKU or name (case-insensitive)."""
    where, args = ["store = ?"], [store.name]
    if status:
        where.append("status = ?")
        args.append(status)
    if search:
        where.append("(sku LIKE ? ESCAPE '\\' OR name LIKE ? ESCAPE '\\' OR item_key = ?)")
        pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        args += [pattern, pattern, search]
    clause = " AND ".join(where)
    total = int(state.db.execute(f"SELECT count(*) FROM items WHERE {clause}", args).fetchone()[0])
    pages = max(math.ceil(total / PAGE_SIZE), 1)
    page = min(max(page, 1), pages)
    found = state.db.query(
        f"SELECT item_key, sku, name, status, eta, sell_limit, rule, message, inputs, accepted_at FROM items"
        f" WHERE {clause} ORDER BY sku IS NULL, sku, item_key LIMIT ? OFFSET ?",
        [*args, PAGE_SIZE, (page - 1) * PAGE_SIZE],
    )
    rows = tuple(_item_row(row, store.timezone) for row in found)
    return ItemPage(rows=rows, total=total, page=page, pages=pages, status=status, search=search)


def _item_row(row: Mapping[str, Any], zone: ZoneInfo) -> ItemRow:
    inputs = json.loads(row["inputs"] or "{}")
    available = inputs.get("available")
    queue = str(max(-available, 0)) if isinstance(available, int) else "–"
    out_of_stock = row["status"] == Status.OUT_OF_STOCK.value
    limit = "0" if out_of_stock else ("–" if row["sell_limit"] is None else str(row["sell_limit"]))
    return ItemRow(
        key=row["item_key"],
        sku=row["sku"],
        label=row["sku"] or f"#{row['item_key']}",
        name=row["name"] or "",
        status=row["status"],
        eta=row["eta"] or "–",
        sell_limit=limit,
        queue=queue,
        rule=row["rule"],
        message=row["message"] or "",
        accepted_at=local(row["accepted_at"], zone),
    )


@dataclass(frozen=True, slots=True)
class SkipRow:
    label: str
    since: str
    reason: str


def skipped(state: StateStore, store: Store) -> list[SkipRow]:
    return [
        SkipRow(label=s.sku or f"#{s.item_key}", since=local(s.first_seen, store.timezone), reason=s.reason)
        for s in state.skips.for_store(store.name)
    ]


# ---- a SKU's history -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Change:
    at: str
    previous: str
    status: str
    eta: str
    rule: str
    result: str
    why: str


def history(state: StateStore, store: Store, sku: str) -> list[Change]:
    """The SKU's logged changes in this store, newest first, as `connector history` lists them."""
    return [
        Change(
            at=local(r["at"], store.timezone),
            previous=r["previous_status"] or "?",
            status=r["status"],
            eta=r["eta"] or "",
            rule=r["rule"],
            result=r["result"] + (f": {r['error']}" if r["error"] else ""),
            why="; ".join(json.loads(r["reasons"] or "[]")),
        )
        for r in operator.history(state, sku, store=store.name)
    ]
