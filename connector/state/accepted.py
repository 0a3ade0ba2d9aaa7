"""The items table: per store and item, the last decision the platform confirmed.

It advances only after the platform confirms a write (or when the store already showed that
decision): it is what "push only on change" compares with.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from stockstatus.core.state.schema import to_json
from stockstatus.rules.model import Decision, Status


@dataclass(frozen=True, slots=True)
class Accepted:
    """The last decision a store confirmed for one item."""

    item_key: str
    sku: str | None
    status: Status
    eta: str | None
    message: str | None
    rule: str
    accepted_at: str


@dataclass(frozen=True, slots=True)
class Acceptance:
    """A decision the store now shows for one item, with the platform fields that show it."""

    item_key: str
    sku: str | None
    name: str
    decision: Decision
    fields: Mapping[str, Any]


NO_FIELDS = to_json({})

_STAGED = "staged_acceptances"
_STAGED_COLUMNS = (
    "run_id",
    "store",
    "item_key",
    "sku",
    "name",
    "status",
    "eta",
    "message",
    "sell_limit",
    "rule",
    "inputs",
    "fields",
)


@dataclass(frozen=True, slots=True)
class AcceptedRow:
    """An acceptance as the items table keeps it, made when the item is decided.

    A pass records the items whose store already shows their decision only at its end, with the
    items it wrote; this row is all it keeps of such an item until then (its decision, and the
    facts that decision was made from, are let go).
    """

    item_key: str
    sku: str | None
    name: str
    status: str
    eta: str | None
    message: str | None
    sell_limit: int | None
    rule: str
    inputs: str
    fields: str

    @classmethod
    def of(cls, acceptance: Acceptance) -> AcceptedRow:
        decision = acceptance.decision
        return cls(
            item_key=acceptance.item_key,
            sku=acceptance.sku,
            name=acceptance.name,
            status=decision.status.value,
            eta=decision.eta.isoformat() if decision.eta else None,
            message=decision.message,
            sell_limit=decision.sell_limit,
            rule=decision.rule,
            inputs=to_json(decision.inputs),
            fields=to_json(acceptance.fields) if acceptance.fields else NO_FIELDS,
        )


class AcceptedItems:
    """What each store accepted, item by item."""

    def __init__(self, db: sqlite_utils.Database, now: Callable[[], str]) -> None:
        self._db = db
        self._now = now

    def for_store(self, store: str) -> dict[str, Accepted]:
        """Item key -> the last decision the store confirmed."""
        rows = self._db.query(
            "SELECT item_key, sku, status, eta, message, rule, accepted_at FROM items WHERE store = ?", [store]
        )
        return {
            row["item_key"]: Accepted(
                item_key=row["item_key"],
                sku=row["sku"],
                status=Status(row["status"]),
                eta=row["eta"],
                message=row["message"],
                rule=row["rule"],
                accepted_at=row["accepted_at"],
            )
            for row in rows
        }

    def counts(self, store: str) -> dict[str, int]:
        """Status -> how many of the store's items show it (counted in SQL: `status` and the
        status page ask this of every store, and building each item would take a second at
        20,000 items)."""
        rows = self._db.execute("SELECT status, count(*) FROM items WHERE store = ? GROUP BY status", [store])
        return {str(status): int(count) for status, count in rows.fetchall()}

    def stage(self, run_id: int, store: str, rows: Iterable[AcceptedRow]) -> None:
        """Keep `rows` for `StateStore.record(..., staged=True)` to accept at the end of the pass.

        Items the store already shows are accepted with the items a pass writes, after the
        write: a pass that is held or fails accepts none. Until then their rows wait in a
        temporary table of this connection (SQLite's, never the file), not in the process's
        memory: on a pass with nothing to change that is every item of the store.
        """
        with self._db.conn:
            self._db.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_STAGED} ({', '.join(_STAGED_COLUMNS)})")
            self._db.conn.executemany(
                f"INSERT INTO temp.{_STAGED} ({', '.join(_STAGED_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(_STAGED_COLUMNS))})",
                (
                    (
                        run_id,
                        store,
                        r.item_key,
                        r.sku,
                        r.name,
                        r.status,
                        r.eta,
                        r.message,
                        r.sell_limit,
                        r.rule,
                        r.inputs,
                        r.fields,
                    )
                    for r in rows
                ),
            )

    def unstage(self, store: str) -> None:
        """Forget the rows staged for `store` by passes that ended before accepting them."""
        with self._db.conn:
            if self._staging():
                self._db.execute(f"DELETE FROM temp.{_STAGED} WHERE store = ?", [store])

    def accept_staged(self, run_id: int, store: str, *, at: str) -> None:
        """Advance the items staged by pass `run_id`; inside the caller's transaction (`StateStore.record`)."""
        if not self._staging():
            return
        columns = _STAGED_COLUMNS[2:]
        self._db.execute(
            f"INSERT INTO items (store, {', '.join(columns)}, run_id, accepted_at) "
            f"SELECT store, {', '.join(columns)}, run_id, ? FROM temp.{_STAGED} "
            "WHERE run_id = ? AND store = ? ORDER BY rowid "
            f"ON CONFLICT (store, item_key) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in columns)}, "
            "run_id = excluded.run_id, accepted_at = excluded.accepted_at",
            [at, run_id, store],
        )
        self._db.execute(f"DELETE FROM temp.{_STAGED} WHERE run_id = ?", [run_id])

    def _staging(self) -> bool:
        found = self._db.execute("SELECT 1 FROM sqlite_temp_master WHERE name = ?", [_STAGED]).fetchone()
        return found is not None

    def upsert(self, run_id: int, store: str, accepted: Iterable[Acceptance | AcceptedRow], *, at: str) -> None:
        """Advance the items the store now shows; inside the caller's transaction (`StateStore.record`)."""
        self._db.table("items").upsert_all(
            (
                {
                    "store": store,
                    "item_key": row.item_key,
                    "sku": row.sku,
                    "name": row.name,
                    "status": row.status,
                    "eta": row.eta,
                    "message": row.message,
                    "sell_limit": row.sell_limit,
                    "rule": row.rule,
                    "inputs": row.inputs,
                    "fields": row.fields,
                    "run_id": run_id,
                    "accepted_at": at,
                }
                for row in (a if isinstance(a, AcceptedRow) else AcceptedRow.of(a) for a in accepted)
            ),
            pk=("store", "item_key"),
        )
