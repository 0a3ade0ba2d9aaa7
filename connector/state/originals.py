"""The originals table: what each field the connector writes held before the connector's first write.

One row per store, field and owner (an item, or the product several items share), written in the
transaction that records the first accepted write of that field (`StateStore.record`); later
writes only move `last_written`. `connector restore` puts `original` back where the store still
holds `last_written`, and deletes the rows it restored. A value of None is a field that did not
exist before (a meta key, a metafield, a tag): restore deletes it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import chain

import sqlite_utils


class Scope(StrEnum):
    """Where a recorded field lives."""

    ITEM = "item"
    """On the item itself (its `backorders`, its meta, a variant's `inventoryPolicy`)."""
    PARENT = "parent"
    """On the product its items share (a stock pool's `backorders`, product tags): owner is `Item.parent_key`."""


@dataclass(frozen=True, slots=True)
class FieldRecord:
    """One field the connector wrote: its value before the write and the value written."""

    scope: Scope
    owner: str
    field: str
    sku: str | None
    before: str | None
    written: str | None


@dataclass(frozen=True, slots=True)
class Original:
    """A field as recorded: what it held before the connector's first write, and the connector's last value."""

    scope: Scope
    owner: str
    field: str
    sku: str | None
    original: str | None
    last_written: str | None
    first_written_at: str
    last_written_at: str


def _dump(value: str | None) -> str:
    return json.dumps(value)


def _load(text: str) -> str | None:
    value = json.loads(text)
    return value if value is None else str(value)


class Originals:
    """Original values per store and field, for `connector restore`."""

    def __init__(self, db: sqlite_utils.Database, now: Callable[[], str]) -> None:
        self._db = db
        self._now = now

    def note(self, run_id: int, store: str, records: Iterable[FieldRecord], *, at: str) -> None:
        """Record accepted writes; inside the caller's transaction (`StateStore.record`).

        The first write of a field keeps its `before` as the original; every write moves the
        connector's last value.
        """
        # Made as they are written: a store's first pass writes several fields of every item.
        rows = (
            (store, r.scope.value, r.owner, r.field, r.sku, _dump(r.before), _dump(r.written), run_id, at, at)
            for r in records
        )
        first = next(rows, None)
        if first is None:
            return
        self._db.conn.executemany(
            """
            INSERT INTO originals (store, scope, owner, field, sku, original, last_written, first_run_id,
                                   first_written_at, last_written_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (store, scope, owner, field) DO UPDATE SET
                last_written = excluded.last_written, last_written_at = excluded.last_written_at
            """,
            chain([first], rows),
        )

    def for_store(self, store: str) -> list[Original]:
        """Every field recorded for `store`, in a stable order (owner, field)."""
        rows = self._db.execute(
            "SELECT scope, owner, field, sku, original, last_written, first_written_at, last_written_at "
            "FROM originals WHERE store = ? ORDER BY scope, owner, field",
            [store],
        ).fetchall()
        return [Original(Scope(r[0]), r[1], r[2], r[3], _load(r[4]), _load(r[5]), r[6], r[7] or r[6]) for r in rows]

    def recorded(self, store: str) -> bool:
        """Whether anything is recorded for `store`."""
        return self._db.execute("SELECT 1 FROM originals WHERE store = ? LIMIT 1", [store]).fetchone() is not None

    def forget(self, store: str, originals: Sequence[Original]) -> None:
        """Drop restored fields: the connector's next write of one records its original afresh."""
        with self._db.conn:
            self._db.conn.executemany(
                "DELETE FROM originals WHERE store = ? AND scope = ? AND owner = ? AND field = ?",
                [(store, o.scope.value, o.owner, o.field) for o in originals],
            )
