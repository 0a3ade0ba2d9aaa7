"""The sync engine: one pass over one store: pull, decide, push what changed, record.

The template every run follows (the daemon's scheduled jobs and `connector resync` alike):

1. pull every item and the open orders; if either fails, nothing is pushed and the run fails
   (a failed read is never taken for "out of stock");
2. turn each item into facts (stock, backorder queue, incoming supply, dates, lead time, sales
   history, the status the store accepted last, today in the store's timezone) and ask the
   store's rule set for a decision (`gather` does this part, and `connector rules explain` and
   `connector report reorder` reuse it, so they see exactly what a pass sees). Facts are built a
   chunk of items at a time as the pass decides them, and let go once decided: what outlives an
   item's decision is its line of the plan, if it changes;
3. ask the adapter which platform fields differ from what the store holds; equal means no call;
4. push the differences (unless dry-run) and record, in one transaction, what the store now
   accepts and a log line for every change;
   Before pushing, the rails (`rails`) measure the plan: a pass that would change too much of
   the store stops there, writes nothing and holds the store for the operator; a full listing
   that is empty or shrank sharply is not believed (the pass fails before step 2's facts are
   recorded from it). A paused store gets no pass; a pass that writes holds the store's lock, so two
   processes never pass over one store at once.
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

Stores sharing a warehouse (a supply group): a pass over one of them also reads the group's
other stores, read-only, and decides its items along the group's one queue; it is always full,
and holds only its own store's lock (`group` says why each of these).

Targeted passes (`targeted`): the daemon's webhook listener turns each verified delivery into
the items it touched; an incremental pass widened by those items runs (mode `webhook`).

By job: `facts` (queues, facts, `gather`), `group` (supply groups), `incremental` (bookmark and basis), `targeted`
(what deliveries touched), `run` (the pass
template, `StoreRun`, `Change`), `push` (chunks and progress), `announce` (webhook events queued after a
pass, sent by `flush_outbox`); this module opens adapters and runs passes over a config's stores.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx

from stockstatus.core import logs
from stockstatus.core.config import Config, Store
from stockstatus.core.errors import AuthError, ConnectorError, FetchError
from stockstatus.core.events import OUTBOX_SECONDS, OutboxRound, send_outbox
from stockstatus.core.http import make_client
from stockstatus.core.model import Item
from stockstatus.core.platform import Adapter, platforms
from stockstatus.core.state import StateStore
from stockstatus.core.sync.announce import announce
from stockstatus.core.sync.clock import Clock, as_of_clock, system_clock, today_in
from stockstatus.core.sync.facts import (
    Gathered,
    ItemFacts,
    Sources,
    Verdict,
    backorder_queues,
    facts_for,
    gather,
    verdict,
)
from stockstatus.core.sync.group import Peers, join_group, read_peers
from stockstatus.core.sync.incremental import (
    BASIS_CHANGES,
    BOOKMARK_OVERLAP,
    IncrementalStart,
    decision_basis,
    incremental_start,
)
from stockstatus.core.sync.push import Progress, push_chunks, push_in_chunks
from stockstatus.core.sync.run import Change, Skipped, StoreRun, run_store
from stockstatus.core.sync.targeted import Touched
from stockstatus.rules.model import Decision

__all__ = [
    "BASIS_CHANGES",
    "BOOKMARK_OVERLAP",
    "Change",
    "Clock",
    "Gathered",
    "IncrementalStart",
    "ItemFacts",
    "Peers",
    "Progress",
    "Skipped",
    "Sources",
    "StoreFacts",
    "StoreRun",
    "Touched",
    "Verdict",
    "as_of_clock",
    "backorder_queues",
    "decision_basis",
    "facts_for",
    "flush_outbox",
    "gather",
    "gather_stores",
    "incremental_start",
    "open_adapter",
    "peers_of",
    "push_chunks",
    "push_in_chunks",
    "resync",
    "run_store",
    "system_clock",
    "today_in",
    "verdict",
]


@asynccontextmanager
async def open_adapter(
    store: Store,
    environ: Mapping[str, str],
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> AsyncIterator[Adapter]:
    """The store's adapter on a configured client (through `transports[store.name]` when given)."""
    async with make_client(transport=(transports or {}).get(store.name)) as client:
        yield platforms()[store.platform].create_adapter(store.settings, client, environ)


def peers_of(
    config: Config,
    store: Store,
    environ: Mapping[str, str],
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> Peers | None:
    """The other stores of `store`'s supply group, opened on demand; None when it is in none."""
    others = config.group(store)
    if store.supply_group is None or not others:
        return None
    return Peers(store.supply_group, others, lambda peer: open_adapter(peer, environ, transports))


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
    force: bool = False,
    scheduled: bool = False,
    wait: float = 0.0,
    send_events: bool = True,
    as_of: date | None = None,
    touched: Touched | None = None,
) -> list[StoreRun]:
    """A full pass over each selected store, one after another (`incremental`, `force`,
    `scheduled`, `wait`, `touched`: see `run_store`).

    Each pass queues its webhook events in the outbox; with `send_events` (not the daemon, whose
    outbox job sends them) one bounded round of the outbox follows the passes.

    `transports` maps a store name to the transport its client uses (the demo's and tests'
    in-process fakes); other stores use the network. `sources` defaults to the config's (whose
    purchase-order reader keeps its cache for as long as the config is loaded). `as_of` plans
    a dry run for that day in each store's calendar (give it a copy of the state file: a pass
    records what it saw, and a day that has not come has nothing to record).
    """
    if as_of is not None and not dry_run:
        raise ValueError("as_of plans a dry run: a pass that writes decides for today")
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
                clock=clock if as_of is None else as_of_clock(clock, store.timezone, as_of),
                dry_run=dry_run,
                incremental=incremental,
                progress=progress,
                stopping=stopping,
                force=force,
                scheduled=scheduled,
                wait=wait,
                peers=peers_of(config, store, environ, transports),
                touched=touched,
            )
        runs.append(run)
        if hook is not None and not dry_run:
            announce(run, hook, state, clock)
    if hook is not None and not dry_run and send_events:
        await flush_outbox(config, state=state, clock=clock, environ=environ, transports=transports)
    return runs


async def flush_outbox(
    config: Config,
    *,
    state: StateStore,
    clock: Clock = system_clock,
    environ: Mapping[str, str],
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    seconds: float = OUTBOX_SECONDS,
) -> OutboxRound:
    """One round of the outbox to the config's webhook (nothing without one): see `send_outbox`."""
    hook = config.settings.webhook
    if hook is None:
        return OutboxRound()
    async with make_client(transport=(transports or {}).get("webhook")) as client:
        return await send_outbox(client, hook, environ, state.outbox, clock, seconds=seconds)


@dataclass(frozen=True, slots=True)
class StoreFacts:
    """One store as a pass would see it (for the read-only commands)."""

    store: Store
    gathered: Gathered
    plan: Callable[[Item, Decision], Mapping[str, Any]]
    """The adapter's plan (pure: no request), so a read-only command judges items as a pass does."""


async def gather_stores(
    config: Config,
    *,
    store_name: str | None = None,
    state: StateStore,
    clock: Clock = system_clock,
    environ: Mapping[str, str],
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    sources: Sources | None = None,
    as_of: date | None = None,
) -> list[StoreFacts]:
    """Pull each selected store and build its facts, as a pass would; writes nothing anywhere.

    For read-only commands (`rules explain`, `report reorder`). A store that cannot be read
    raises FetchError naming it: a failed read is never an empty store. `as_of`: the facts of
    that day in each store's calendar (today's stock, orders and supply, that day's date).
    """
    sources = sources or Sources.of(config)
    stores = config.select(store_name)
    config.check_secrets(stores, environ)
    out = []
    for store in stores:
        async with open_adapter(store, environ, transports) as adapter:
            try:
                moved = clock if as_of is None else as_of_clock(clock, store.timezone, as_of)
                with logs.fields(store=store.name):
                    gathered = await gather(store, adapter, sources=sources, state=state, clock=moved)
                    peers = peers_of(config, store, environ, transports)
                    if peers is not None:
                        orders = sources.purchase_orders.read()
                        read = await read_peers(
                            peers,
                            sources=sources,
                            state=state,
                            clock=moved,
                            purchase_orders=orders,
                            today=gathered.today,
                        )
                        gathered = join_group(store, gathered, peers.group, read, purchase_orders=orders, state=state)
            except AuthError as exc:
                raise FetchError(f"store {store.name}: the store refused the credentials ({exc})") from exc
            except (ConnectorError, httpx.HTTPError) as exc:
                raise FetchError(f"store {store.name}: could not be read: {exc}") from exc
            out.append(StoreFacts(store, gathered, adapter.plan))
    return out
