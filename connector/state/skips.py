"""The skips table: per store and item, why the last pass that saw it left it as it is.

A row lives while the item is skipped: the pass that decides the item again removes it, and a
full pass removes the rows of items it no longer saw. `first_seen` says since when; the reason
is kept cut to a readable length (a 100 KB field value must not become a 100 KB line).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlite_utils

REASON_CHARS = 200
"""The longest reason kept or printed; longer ones keep their start and end."""


def clip(text: str, limit: int = REASON_CHARS) -> str:
    """`text` cut to about `limit` characters, keeping its start and its end and saying how much went."""
    if len(text) <= limit:
        return text
    tail = limit // 4
    head = limit - tail - 30
    return f"{text[:head]} …[{len(text) - head - tail} characters cut]… {text[-tail:]}"


@dataclass(frozen=True, slots=True)
class Skip:
    """One item a pass left as it is, and why."""

    item_key: str
    sku: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class SkipRecord:
    """One row of the skips table."""

    store: str
    item_key: str
    sku: str | None
    reason: str
    first_seen: str
    last_seen: str
    run_id: int


class Skips:
    """The items each store's passes currently leave as they are, with their reasons."""

    def __init__(self, db: sqlite_utils.Database, now: Callable[[], str]) -> None:
        self._db = db
        self._now = now

    def new_reasons(self, store: str, skipped: Iterable[Skip]) -> list[Skip]:
        """Those of `skipped` whose item was not skipped before, or was for another reason."""
        kept = {r.item_key: r.reason for r in self.for_store(store)}
        return [s for s in skipped if kept.get(s.item_key) != clip(s.reason)]

    def record(
        self, run_id: int, store: str, skipped: Iterable[Skip], *, decided: Iterable[str], full: bool
    ) -> list[Skip]:
        """Keep this pass's skips; forget those of items it decided (all others', after a full pass).

        Returns the skips that are new or whose reason changed: those are worth a log line.
        """
        skipped = list(skipped)
        fresh = self.new_reasons(store, skipped)
        now = self._now()
        with self._db.conn:
            if full:
                keep = [s.item_key for s in skipped]
                marks = ",".join("?" * len(keep))
                self._db.execute(
                    f"DELETE FROM skips WHERE store = ? AND item_key NOT IN ({marks})"
                    if keep
                    else "DELETE FROM skips WHERE store = ?",
                    [store, *keep],
                )
            else:
                self._db.conn.executemany(
                    "DELETE FROM skips WHERE store = ? AND item_key = ?", [(store, key) for key in decided]
                )
            changed = {s.item_key for s in fresh}
            for skip in skipped:
                if skip.item_key in changed:
                    self._db.execute(
                        "INSERT INTO skips (store, item_key, sku, reason, first_seen, last_seen, run_id) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (store, item_key) DO UPDATE SET "
                        "sku = excluded.sku, reason = excluded.reason, first_seen = excluded.first_seen, "
                        "last_seen = excluded.last_seen, run_id = excluded.run_id",
                        [store, skip.item_key, skip.sku, clip(skip.reason), now, now, run_id],
                    )
                else:
                    self._db.execute(
                        "UPDATE skips SET last_seen = ?, run_id = ?, sku = ? WHERE store = ? AND item_key = ?",
                        [now, run_id, skip.sku, store, skip.item_key],
                    )
        return fresh

    def for_store(self, store: str) -> list[SkipRecord]:
        """The store's skipped items, the longest-skipped first."""
        rows = self._db.query("SELECT * FROM skips WHERE store = ? ORDER BY first_seen, sku, item_key", [store])
        return [_record(row) for row in rows]

    def for_sku(self, sku: str, store: str | None = None) -> list[SkipRecord]:
        """Where `sku` is skipped now, and why."""
        where, args = ("AND store = ?", [store]) if store else ("", [])
        rows = self._db.query(f"SELECT * FROM skips WHERE sku = ? {where} ORDER BY store", [sku, *args])
        return [_record(row) for row in rows]


def _record(row: Mapping[str, Any]) -> SkipRecord:
    return SkipRecord(
        store=row["store"],
        item_key=row["item_key"],
        sku=row["sku"],
        reason=row["reason"],
        first_seen=row["first_seen"],
        last_seen=row["last_seen"],
        run_id=int(row["run_id"]),
    )
