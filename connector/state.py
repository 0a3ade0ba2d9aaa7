"""The state file: what each store accepted, every run, every decision that changed something.

One thin module over sqlite-utils. The schema is declared here and grows by numbered
migrations recorded in the database itself, so an old state file is upgraded in place.
Per store and item it keeps the last decision the platform confirmed; it advances only after
the platform confirms a write (or when the store already showed that decision).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from stockstatus.core.errors import StateError
from stockstatus.rules.model import Decision, Status


def _v1(db: sqlite_utils.Database) -> None:
    db.table("runs").create(
        {
            "id": int,
            "store": str,
            "mode": str,
            "started_at": str,
            "finished_at": str,
            "outcome": str,
            "items": int,
            "changes": int,
            "written": int,
            "failed": int,
            "counts": str,
            "error": str,
        },
        pk="id",
        not_null=["store", "mode", "started_at", "outcome"],
    )
    db.table("runs").create_index(["store", "started_at"])
    db.table("items").create(
        {
            "store": str,
            "item_key": str,
            "sku": str,
            "name": str,
            "status": str,
            "eta": str,
            "message": str,
            "sell_limit": int,
            "rule": str,
            "inputs": str,
            "fields": str,
            "run_id": int,
            "accepted_at": str,
        },
        pk=("store", "item_key"),
        not_null=["store", "item_key", "status", "rule", "accepted_at"],
    )
    db.table("items").create_index(["store", "sku"])
    db.table("decisions").create(
        {
            "id": int,
            "run_id": int,
            "store": str,
            "item_key": str,
            "sku": str,
            "previous_status": str,
            "status": str,
            "eta": str,
            "message": str,
            "sell_limit": int,
            "rule": str,
            "reasons": str,
            "inputs": str,
            "fields": str,
            "result": str,
            "error": str,
            "at": str,
        },
        pk="id",
        not_null=["run_id", "store", "item_key", "status", "rule", "result", "at"],
        foreign_keys=[("run_id", "runs", "id")],
    )
    db.table("decisions").create_index(["store", "sku"])
    db.table("decisions").create_index(["run_id"])


def _v2(db: sqlite_utils.Database) -> None:
    # Demand history. Stores only hand out open orders, so each order line is kept from the
    # pass that first sees it; its sale counts on the order's date (store calendar).
    db.table("order_lines").create(
        {
            "store": str,
            "order_id": str,
            "item_key": str,
            "sku": str,
            "day": str,
            "units": int,
            "first_seen": str,
        },
        pk=("store", "order_id", "item_key"),
        not_null=["store", "order_id", "item_key", "day", "units", "first_seen"],
    )
    db.table("order_lines").create_index(["store", "day"])
    # Whether each item could be ordered on a day: days it could not say nothing about demand.
    db.table("stock_days").create(
        {"store": str, "item_key": str, "day": str, "in_stock": int},
        pk=("store", "item_key", "day"),
        not_null=["store", "item_key", "day", "in_stock"],
    )
    db.table("stock_days").create_index(["store", "day"])


def _v3(db: sqlite_utils.Database) -> None:
    # Where each store's incremental pulls start: the moment (UTC, ISO 8601) of the last pass
    # that completed, minus a small overlap for clock skew.
    db.table("bookmarks").create(
        {"store": str, "kind": str, "value": str, "updated_at": str},
        pk=("store", "kind"),
        not_null=["store", "kind", "value", "updated_at"],
    )


def _v4(db: sqlite_utils.Database) -> None:
    # What each waiting order's buyer was told (see connector.notify). One row per order, item,
    # kind and ETA: the unique key is what makes a notice go out at most once. `eta` is '' when
    # there is none (NULLs never collide in a UNIQUE key).
    db.execute(
        """
        CREATE TABLE notifications (
            id INTEGER PRIMARY KEY,
            store TEXT NOT NULL,
            order_id TEXT NOT NULL,
            item_key TEXT NOT NULL,
            kind TEXT NOT NULL,
            eta TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL,
            message TEXT,
            error TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            sent_at TEXT,
            UNIQUE (store, order_id, item_key, kind, eta)
        )
        """
    )
    db.execute("CREATE INDEX idx_notifications_store_status ON notifications (store, status)")


def _v5(db: sqlite_utils.Database) -> None:
    # What the decisions behind a bookmark were made under (settings digest, supply digest, day):
    # when any of it differs, unchanged items may decide differently, so the next pass is full.
    # NULL for bookmarks written before: their next pass is a full one.
    db.table("bookmarks").add_column("basis", str)


def _v6(db: sqlite_utils.Database) -> None:
    # How long each pass took, as measured (started_at/finished_at have one-second resolution).
    db.table("runs").add_column("seconds", float)


MIGRATIONS: tuple[tuple[str, Callable[[sqlite_utils.Database], None]], ...] = (
    ("runs, accepted items and the decision log", _v1),
    ("order lines and daily stock presence, for demand", _v2),
    ("bookmarks for incremental passes", _v3),
    ("customer notifications, at most once per order, item, kind and ETA", _v4),
    ("what each bookmark's decisions were made under", _v5),
    ("each pass's measured duration", _v6),
)
"""Append only: entry N upgrades a state file from version N to N+1."""


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
class SeenLine:
    """One open order line as a pass saw it: `day` is the order's date in the store's calendar."""

    order_id: str
    item_key: str
    sku: str | None
    day: date
    units: int


@dataclass(frozen=True, slots=True)
class DemandHistory:
    """A store's recorded order lines and stock presence since a day (one query's worth)."""

    lines: tuple[SeenLine, ...] = ()
    stock_days: Mapping[str, Mapping[date, bool]] = field(default_factory=dict)
    """item key -> day -> whether the item could be ordered that day."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """One item's line in the decision log."""

    item_key: str
    sku: str | None
    previous: Status | None
    decision: Decision
    fields: Mapping[str, Any]
    result: str
    """"written", "failed", "planned" (dry run) or "skipped" (data problem)."""
    error: str | None = None


ITEMS_BOOKMARK = "items"
HISTORY_KEYS_PER_QUERY = 400
"""Item keys named in one demand-history query (twice each: SQLite allows 32,766 parameters)."""


@dataclass(frozen=True, slots=True)
class NotificationRecord:
    """One row of the notifications table: what a waiting order's buyer was (or is being) told.

    `kind` is "baseline" (the ETA first seen, told by the shop's checkout; never sent),
    "eta_changed" or "back_in_stock". `status`: "recorded" (baselines), "pending" (claimed, being
    sent), "sent", "failed" (the platform refused; retried while attempts remain) or
    "unconfirmed" (found pending by a later pass: it may or may not have reached the buyer).
    """

    id: int
    order_id: str
    item_key: str
    kind: str
    eta: date | None
    status: str
    attempts: int = 0
    message: str | None = None
    error: str | None = None
    created_at: str = ""


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class StateStore:
    """Open (creating or upgrading) the state file at `path`; ":memory:" for tests and the demo."""

    def __init__(self, path: Path | str, *, now: Callable[[], str] = utc_now) -> None:
        self._now = now
        try:
            if str(path) == ":memory:":
                self.db = sqlite_utils.Database(memory=True)
            else:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                # Created owner-only before SQLite opens it (SQLite gives its -wal and -shm files
                # the same mode): the file holds order lines and customers' notices.
                os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
                self.db = sqlite_utils.Database(Path(path))
                self.db.enable_wal()
            self.db.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StateError(f"state file {path}: {exc} (is it a connector state file?)") from exc

    @classmethod
    def copy_of(cls, path: Path | str) -> StateStore:
        """An in-memory copy of the state file, upgraded in memory: for commands that must not write.

        A missing file gives an empty store; the file itself is opened read-only and never changed.
        """
        store = cls(":memory:")
        if not Path(path).is_file():
            return store
        try:
            source = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
            try:
                source.backup(store.db.conn)
            finally:
                source.close()
            store._migrate()
        except sqlite3.DatabaseError as exc:
            store.close()
            raise StateError(f"state file {path}: {exc} (is it a connector state file?)") from exc
        except StateError:
            store.close()
            raise
        return store

    @property
    def version(self) -> int:
        if "migrations" not in self.db.table_names():
            return 0
        row = self.db.execute("SELECT max(version) FROM migrations").fetchone()
        return int(row[0] or 0)

    def _migrate(self) -> None:
        current = self.version
        if current > len(MIGRATIONS):
            raise StateError(
                f"state file has schema version {current}, newer than this connector knows "
                f"({len(MIGRATIONS)}); upgrade the connector"
            )
        for version, (name, migrate) in enumerate(MIGRATIONS[current:], start=current + 1):
            with self.db.conn:
                if "migrations" not in self.db.table_names():
                    self.db.table("migrations").create({"version": int, "name": str, "applied_at": str}, pk="version")
                migrate(self.db)
                self.db.table("migrations").insert({"version": version, "name": name, "applied_at": self._now()})

    def close(self) -> None:
        self.db.close()

    # runs

    def begin_run(self, store: str, mode: str) -> int:
        """Record the start of a pass; a run still marked running from a crash becomes 'interrupted'."""
        with self.db.conn:
            self.db.execute("UPDATE runs SET outcome = 'interrupted' WHERE store = ? AND outcome = 'running'", [store])
            table = self.db.table("runs").insert(
                {"store": store, "mode": mode, "started_at": self._now(), "outcome": "running"}
            )
        assert table.last_pk is not None
        return int(table.last_pk)

    def finish_run(
        self,
        run_id: int,
        *,
        outcome: str,
        items: int = 0,
        changes: int = 0,
        written: int = 0,
        failed: int = 0,
        counts: Mapping[str, int] | None = None,
        error: str | None = None,
        mode: str | None = None,
        seconds: float | None = None,
    ) -> None:
        with self.db.conn:
            self.db.table("runs").update(
                run_id,
                ({"mode": mode} if mode else {})
                | ({"seconds": seconds} if seconds is not None else {})
                | {
                    "finished_at": self._now(),
                    "outcome": outcome,
                    "items": items,
                    "changes": changes,
                    "written": written,
                    "failed": failed,
                    "counts": json.dumps(dict(counts or {}), sort_keys=True),
                    "error": error,
                },
            )

    def runs(self, store: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        where, args = ("WHERE store = ?", [store]) if store else ("", [])
        return list(self.db.query(f"SELECT * FROM runs {where} ORDER BY id DESC LIMIT ?", [*args, limit]))

    # bookmarks

    def bookmark(self, store: str, kind: str = ITEMS_BOOKMARK) -> datetime | None:
        """Where the next incremental pull of `store` starts; None when there is none (a full pass is due)."""
        row = self.db.execute("SELECT value FROM bookmarks WHERE store = ? AND kind = ?", [store, kind]).fetchone()
        return datetime.fromisoformat(row[0]) if row else None

    def basis(self, store: str, kind: str = ITEMS_BOOKMARK) -> dict[str, str] | None:
        """What the decisions up to the bookmark were made under (see `set_bookmark`); None if unknown."""
        row = self.db.execute("SELECT basis FROM bookmarks WHERE store = ? AND kind = ?", [store, kind]).fetchone()
        if not row or not row[0]:
            return None
        value = json.loads(row[0])
        return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else None

    def set_bookmark(
        self, store: str, moment: datetime, kind: str = ITEMS_BOOKMARK, *, basis: Mapping[str, str] | None = None
    ) -> None:
        """Record where the next incremental pull starts (only after a pass completed).

        `basis` names what the pass decided under besides the store's data (a settings digest,
        a supply digest, the day): a later pass under another basis must be a full one.
        """
        with self.db.conn:
            self.db.table("bookmarks").upsert(
                {
                    "store": store,
                    "kind": kind,
                    "value": moment.astimezone(UTC).isoformat(),
                    "updated_at": self._now(),
                    "basis": _json(dict(basis)) if basis is not None else None,
                },
                pk=("store", "kind"),
            )

    def forget_bookmark(self, store: str, kind: str = ITEMS_BOOKMARK) -> None:
        with self.db.conn:
            self.db.execute("DELETE FROM bookmarks WHERE store = ? AND kind = ?", [store, kind])

    # accepted decisions

    def accepted(self, store: str) -> dict[str, Accepted]:
        rows = self.db.query(
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

    def record(
        self,
        run_id: int,
        store: str,
        *,
        accepted: Iterable[tuple[str, str | None, str, Decision, Mapping[str, Any]]] = (),
        outcomes: Iterable[Outcome] = (),
    ) -> None:
        """In one transaction: advance accepted items and append decision-log lines.

        `accepted` holds (item_key, sku, name, decision, fields) the store now shows.
        """
        now = self._now()
        with self.db.conn:
            self.db.table("items").upsert_all(
                (
                    {
                        "store": store,
                        "item_key": key,
                        "sku": sku,
                        "name": name,
                        "status": decision.status.value,
                        "eta": decision.eta.isoformat() if decision.eta else None,
                        "message": decision.message,
                        "sell_limit": decision.sell_limit,
                        "rule": decision.rule,
                        "inputs": _json(decision.inputs),
                        "fields": _json(fields),
                        "run_id": run_id,
                        "accepted_at": now,
                    }
                    for key, sku, name, decision, fields in accepted
                ),
                pk=("store", "item_key"),
            )
            self.db.table("decisions").insert_all(
                {
                    "run_id": run_id,
                    "store": store,
                    "item_key": o.item_key,
                    "sku": o.sku,
                    "previous_status": o.previous.value if o.previous else None,
                    "status": o.decision.status.value,
                    "eta": o.decision.eta.isoformat() if o.decision.eta else None,
                    "message": o.decision.message,
                    "sell_limit": o.decision.sell_limit,
                    "rule": o.decision.rule,
                    "reasons": _json(list(o.decision.reasons)),
                    "inputs": _json(o.decision.inputs),
                    "fields": _json(o.fields),
                    "result": o.result,
                    "error": o.error,
                    "at": now,
                }
                for o in outcomes
            )

    # demand history

    def observe(self, store: str, *, lines: Iterable[SeenLine], stock: Iterable[tuple[str, date, bool]]) -> None:
        """Record open order lines (kept from the first sighting) and today's stock presence.

        `stock` holds (item_key, day, orderable); an item orderable at any pass of a day counts
        as in stock that day.
        """
        now = self._now()
        with self.db.conn:
            self.db.conn.executemany(
                "INSERT INTO order_lines (store, order_id, item_key, sku, day, units, first_seen) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (store, order_id, item_key) DO UPDATE SET units = excluded.units, sku = excluded.sku "
                "WHERE units != excluded.units OR sku IS NOT excluded.sku",
                [(store, x.order_id, x.item_key, x.sku, x.day.isoformat(), x.units, now) for x in lines],
            )
            self.db.conn.executemany(
                "INSERT INTO stock_days (store, item_key, day, in_stock) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (store, item_key, day) DO UPDATE SET in_stock = 1 "
                "WHERE in_stock = 0 AND excluded.in_stock = 1",
                [(store, key, day.isoformat(), int(orderable)) for key, day, orderable in stock],
            )

    def demand_history(self, store: str, since: date, items: Collection[str] | None = None) -> DemandHistory:
        """Order lines dated on or after `since`, and stock presence since then; only of `items` when
        given (an incremental pass reads the history of the few items it decides, not the shop's)."""
        if items is None:
            rows = self._demand_rows(store, since, ())
        else:
            keys = sorted(items)
            rows = []
            for start in range(0, len(keys), HISTORY_KEYS_PER_QUERY):
                rows.extend(self._demand_rows(store, since, keys[start : start + HISTORY_KEYS_PER_QUERY]))
        lines: list[SeenLine] = []
        stock: dict[str, dict[date, bool]] = {}
        for kind, order_id, item_key, sku, day, value in rows:
            if kind == "line":
                lines.append(SeenLine(order_id, item_key, sku, date.fromisoformat(day), int(value)))
            else:
                stock.setdefault(item_key, {})[date.fromisoformat(day)] = bool(value)
        return DemandHistory(tuple(lines), stock)

    def _demand_rows(self, store: str, since: date, keys: Sequence[str]) -> list[tuple[Any, ...]]:
        """One query over both tables; every item's rows when `keys` is empty."""
        only = f" AND item_key IN ({', '.join('?' * len(keys))})" if keys else ""
        return self.db.execute(
            f"SELECT 'line', order_id, item_key, sku, day, units FROM order_lines WHERE store = ? AND day >= ?{only} "
            "UNION ALL "
            f"SELECT 'stock', NULL, item_key, NULL, day, in_stock FROM stock_days WHERE store = ? AND day >= ?{only}",
            [store, since.isoformat(), *keys, store, since.isoformat(), *keys],
        ).fetchall()

    # customer notifications

    def notifications(
        self, store: str, order_ids: Iterable[str] | None = None, *, status: str | None = None
    ) -> list[NotificationRecord]:
        """The store's notification rows (only those of `order_ids`, or in `status`, when given), oldest first."""
        sql = "SELECT * FROM notifications WHERE store = ?"
        args: list[Any] = [store]
        if status is not None:
            sql += " AND status = ?"
            args.append(status)
        if order_ids is not None:
            sql += " AND order_id IN (SELECT value FROM json_each(?))"
            args.append(json.dumps(sorted(set(order_ids))))
        return [_notification(row) for row in self.db.query(sql + " ORDER BY id", args)]

    def record_baselines(self, store: str, baselines: Iterable[tuple[str, str, date | None]]) -> None:
        """Record the first ETA seen for (order_id, item_key, eta) in one transaction; never sent."""
        now = self._now()
        with self.db.conn:
            self.db.conn.executemany(
                "INSERT OR IGNORE INTO notifications (store, order_id, item_key, kind, eta, status, created_at) "
                "VALUES (?, ?, ?, 'baseline', ?, 'recorded', ?)",
                [(store, order, item, _eta(eta), now) for order, item, eta in baselines],
            )

    def claim_notification(
        self, store: str, order_id: str, item_key: str, kind: str, eta: date | None, message: str, *, max_attempts: int
    ) -> int | None:
        """Record a notice as 'pending' (committed before it is sent); its row id, or None if it
        may not be sent: already sent, pending or unconfirmed, or failed `max_attempts` times."""
        now = self._now()
        with self.db.conn:
            cursor = self.db.conn.execute(
                "INSERT INTO notifications"
                " (store, order_id, item_key, kind, eta, status, message, attempts, created_at) "
                "VALUES (?, ?, ?, ?, ?, 'pending', ?, 1, ?) "
                "ON CONFLICT (store, order_id, item_key, kind, eta) DO UPDATE SET "
                "status = 'pending', message = excluded.message, error = NULL, attempts = attempts + 1 "
                "WHERE status = 'failed' AND attempts < ? "
                "RETURNING id",
                [store, order_id, item_key, kind, _eta(eta), message, now, max_attempts],
            )
            row = cursor.fetchone()
        return int(row[0]) if row else None

    def confirm_notification(self, row_id: int, *, ok: bool, error: str | None = None) -> None:
        """After the platform answered: 'sent', or 'failed' with why."""
        with self.db.conn:
            self.db.execute(
                "UPDATE notifications SET status = ?, error = ?, sent_at = ? WHERE id = ?",
                ["sent" if ok else "failed", error, self._now() if ok else None, row_id],
            )

    def mark_unconfirmed(self, row_ids: Iterable[int]) -> None:
        """Pending rows a previous pass left (it stopped between sending and confirming)."""
        with self.db.conn:
            self.db.conn.executemany(
                "UPDATE notifications SET status = 'unconfirmed' WHERE id = ? AND status = 'pending'",
                [(row_id,) for row_id in row_ids],
            )

    def history(self, sku: str, store: str | None = None, limit: int = 50) -> Iterator[dict[str, Any]]:
        """A SKU's logged decisions, newest first."""
        where, args = ("AND store = ?", [store]) if store else ("", [])
        yield from self.db.query(
            f"SELECT * FROM decisions WHERE sku = ? {where} ORDER BY id DESC LIMIT ?", [sku, *args, limit]
        )


def _eta(value: date | None) -> str:
    return value.isoformat() if value is not None else ""


def _notification(row: Mapping[str, Any]) -> NotificationRecord:
    return NotificationRecord(
        id=int(row["id"]),
        order_id=row["order_id"],
        item_key=row["item_key"],
        kind=row["kind"],
        eta=date.fromisoformat(row["eta"]) if row["eta"] else None,
        status=row["status"],
        attempts=int(row["attempts"] or 0),
        message=row["message"],
        error=row["error"],
        created_at=row["created_at"],
    )


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)
