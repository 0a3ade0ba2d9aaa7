"""Restore: put every field the connector changed back to what it held before the connector's first write.

Only where the store still holds the connector's own last value (read now): a field the merchant
edited since is left as it is and reported. The originals come from the state file (`originals`,
recorded at each field's first accepted write); the writes go through the adapter (`Restores`),
in batches, retried like pushes. A restore that writes pauses the store first, so the daemon's
next pass does not write the connector's values again; `connector resume` lifts the pause.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from stockstatus.core.config import Config
from stockstatus.core.errors import AuthError, ConfigError, ConnectorError
from stockstatus.core.model import Item, WriteResult
from stockstatus.core.outcomes import RunOutcome
from stockstatus.core.platform import Restoration, restores
from stockstatus.core.state import Original, Scope, StateStore, StoreBusy
from stockstatus.core.sync import open_adapter

log = logging.getLogger("stockstatus.core.sync")

PAUSE_REASON = "restored to the values the store held before the connector (connector restore)"


class Fate:
    """What became of one recorded field (the `result` of a `FieldRestore`)."""

    RESTORED = "restored"
    PLANNED = "would restore"
    FAILED = "failed"
    ALREADY = "already as before"
    LEFT = "left"


@dataclass(frozen=True, slots=True)
class FieldRestore:
    """One recorded field: what it holds now, what it held before the connector, what became of it."""

    original: Original
    sku: str | None
    item_key: str | None
    now: str | None
    result: str
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "item": self.item_key,
            "field": self.original.field,
            "on": self.original.scope.value,
            "now": self.now,
            "original": self.original.original,
            "connector_wrote": self.original.last_written,
            "result": self.result,
            "reason": self.reason,
        }


@dataclass
class StoreRestore:
    """What `connector restore` did to one store."""

    store: str
    platform: str
    dry_run: bool
    outcome: RunOutcome = RunOutcome.RUNNING
    error: str | None = None
    fields: list[FieldRestore] = field(default_factory=list)
    unknown_skus: list[str] = field(default_factory=list)
    paused: bool = False

    def count(self, result: str) -> int:
        return sum(1 for f in self.fields if f.result == result)

    def as_dict(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "platform": self.platform,
            "dry_run": self.dry_run,
            "outcome": self.outcome.value,
            "error": self.error,
            "paused": self.paused,
            "restored": self.count(Fate.RESTORED),
            "failed": self.count(Fate.FAILED),
            "left": self.count(Fate.LEFT),
            "fields": [f.as_dict() for f in self.fields],
            "unknown_skus": list(self.unknown_skus),
        }


async def restore_store(
    config: Config,
    *,
    store_name: str,
    skus: Sequence[str] = (),
    dry_run: bool = False,
    state: StateStore,
    environ: Mapping[str, str],
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    wait: float = 0.0,
) -> StoreRestore:
    """Restore one store's recorded fields (only those of `skus`, when given); see the module's docstring.

    Never raises for a remote failure: the result says it. A store that cannot be read writes nothing.
    """
    [store] = config.select(store_name)
    config.check_secrets((store,), environ)
    run = StoreRestore(store=store.name, platform=store.platform, dry_run=dry_run)
    recorded = state.originals.for_store(store.name)
    if not dry_run:
        # Before anything is read: a daemon's pass that starts meanwhile must not write again.
        reason = f"{PAUSE_REASON}; `connector resume {store.name}` lets passes write again"
        state.holds.pause(store.name, reason)
        run.paused = True
    lock = None if dry_run else state.lock(store.name)
    if lock is not None:
        try:
            await lock.acquire(wait)
        except StoreBusy as exc:
            run.outcome, run.error = RunOutcome.BUSY, str(exc)
            return run
    try:
        async with open_adapter(store, environ, transports) as adapter:
            restorer = adapter if restores(adapter) else None
            if restorer is None:
                raise ConfigError(f"store {store.name}: platform {store.platform} cannot restore what it wrote")
            if not recorded:
                run.unknown_skus = list(skus)
                run.outcome = RunOutcome.FAILED if skus else RunOutcome.OK
                return run
            try:
                items = await adapter.pull_items()
            except AuthError as exc:
                run.outcome, run.error = RunOutcome.FAILED, f"the store refused the credentials: {exc}"
                return run
            except (ConnectorError, httpx.HTTPError) as exc:
                run.outcome, run.error = RunOutcome.FAILED, f"the store could not be read, nothing was written: {exc}"
                return run
            _judge(run, recorded, items, restorer.held, skus)
            by_key = {i.key: i for i in items}
            todo: dict[str, tuple[Item, dict[str, str | None], list[int]]] = {}
            for index, one in enumerate(run.fields):
                if one.result != Fate.PLANNED or one.item_key is None:
                    continue
                item = by_key[one.item_key]
                entry = todo.setdefault(item.key, (item, {}, []))
                entry[1][one.original.field] = one.original.original
                entry[2].append(index)
            if not dry_run and todo:
                batch = list(todo.values())
                try:
                    results = await restorer.restore([Restoration(item, fields) for item, fields, _ in batch])
                except (ConnectorError, httpx.HTTPError, ValueError) as exc:
                    # Refused before or while sending: every field stays recorded for a later restore.
                    results = [WriteResult(item.key, ok=False, error=str(exc)) for item, _, _ in batch]
                for (_, _, indexes), result in zip(batch, results, strict=True):
                    for index in indexes:
                        one = run.fields[index]
                        run.fields[index] = FieldRestore(
                            one.original,
                            one.sku,
                            one.item_key,
                            one.now,
                            Fate.RESTORED if result.ok else Fate.FAILED,
                            None if result.ok else result.error,
                        )
            if not dry_run:
                done = [f.original for f in run.fields if f.result in (Fate.RESTORED, Fate.ALREADY)]
                state.originals.forget(store.name, done)
    finally:
        if lock is not None:
            lock.release()
    failed = run.count(Fate.FAILED)
    if failed:
        run.outcome, run.error = RunOutcome.PARTIAL, f"{failed} of {failed + run.count(Fate.RESTORED)} writes failed"
    else:
        run.outcome = RunOutcome.FAILED if run.unknown_skus else RunOutcome.OK
    log.info("store %s: restore %s", store.name, run.outcome.value)
    return run


def _judge(
    run: StoreRestore,
    recorded: Sequence[Original],
    items: Sequence[Item],
    held: Callable[[Item, str], str | None],
    skus: Sequence[str],
) -> None:
    """Decide each recorded field: to restore, already as before, or left (and why)."""
    by_key = {i.key: i for i in items}
    by_parent: dict[str, list[Item]] = {}
    for one in items:
        if one.parent_key is not None:
            by_parent.setdefault(one.parent_key, []).append(one)
    wanted = set(skus)
    found: set[str] = set()
    for original in recorded:
        item: Item | None
        if original.scope is Scope.PARENT:
            family = by_parent.get(original.owner, [])
            item = family[0] if family else None
            named = {i.sku for i in family if i.sku}
        else:
            item = by_key.get(original.owner)
            named = {item.sku} if item is not None and item.sku else {original.sku} if original.sku else set()
        if wanted:
            hit = named & wanted
            if not hit:
                continue
            found |= hit
        sku = item.sku if item is not None and original.scope is Scope.ITEM else original.sku
        if item is None:
            run.fields.append(FieldRestore(original, sku, None, None, Fate.LEFT, "no longer in the store"))
            continue
        try:
            now = held(item, original.field)
        except LookupError as exc:
            run.fields.append(FieldRestore(original, sku, item.key, None, Fate.LEFT, f"cannot be read back: {exc}"))
            continue
        if now == original.original:
            run.fields.append(FieldRestore(original, sku, item.key, now, Fate.ALREADY))
        elif now == original.last_written:
            run.fields.append(FieldRestore(original, sku, item.key, now, Fate.PLANNED))
        else:
            wrote = "deleted it" if original.last_written is None else f"wrote {original.last_written!r}"
            why = f"changed since the connector wrote it (it {wrote}): kept as it is"
            run.fields.append(FieldRestore(original, sku, item.key, now, Fate.LEFT, why))
    run.unknown_skus = sorted(wanted - found)
