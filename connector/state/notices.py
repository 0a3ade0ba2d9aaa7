"""The notifications table: what each waiting order's buyer was (or is being) told.

One row per order, item, kind and ETA: the unique key is what makes a notice go out at most once
(see `stockstatus.core.notify`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlite_utils

from stockstatus.core.outcomes import NoticeKind, NotificationStatus


@dataclass(frozen=True, slots=True)
class NotificationRecord:
    """One row of the notifications table.

    `kind`: a baseline (the ETA first seen, told by the shop's checkout; never sent), or a
    notice sent; `status`: see `NotificationStatus`.
    """

    id: int
    order_id: str
    item_key: str
    kind: NoticeKind
    eta: date | None
    status: NotificationStatus
    attempts: int = 0
    message: str | None = None
    error: str | None = None
    created_at: str = ""


@dataclass(frozen=True, slots=True)
class Baseline:
    """The ship-by date first seen for one waiting order's item (recorded, never sent)."""

    order_id: str
    item_key: str
    eta: date | None


class Notifications:
    """A store's notice rows: baselines, claims before sending, and the platform's answers."""

    def __init__(self, db: sqlite_utils.Database, now: Callable[[], str]) -> None:
        self._db = db
        self._now = now

    def rows(
        self, store: str, order_ids: Iterable[str] | None = None, *, status: NotificationStatus | None = None
    ) -> list[NotificationRecord]:
        """The store's rows (only those of `order_ids`, or in `status`, when given), oldest first."""
        sql = "SELECT * FROM notifications WHERE store = ?"
        args: list[Any] = [store]
        if status is not None:
            sql += " AND status = ?"
            args.append(status.value)
        if order_ids is not None:
            sql += " AND order_id IN (SELECT value FROM json_each(?))"
            args.append(json.dumps(sorted(set(order_ids))))
        return [_record(row) for row in self._db.query(sql + " ORDER BY id", args)]

    def record_baselines(self, store: str, baselines: Iterable[Baseline]) -> None:
        """Record the first ETA seen per order and item, in one transaction; never sent."""
        now = self._now()
        with self._db.conn:
            self._db.conn.executemany(
                "INSERT OR IGNORE INTO notifications (store, order_id, item_key, kind, eta, status, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        store,
                        b.order_id,
                        b.item_key,
                        NoticeKind.BASELINE.value,
                        _eta(b.eta),
                        NotificationStatus.RECORDED.value,
                        now,
                    )
                    for b in baselines
                ],
            )

    def claim(
        self,
        store: str,
        order_id: str,
        item_key: str,
        kind: NoticeKind,
        eta: date | None,
        message: str,
        *,
        max_attempts: int,
    ) -> int | None:
        """Record a notice as pending (committed before it is sent); its row id, or None if it
        may not be sent: already sent, pending or unconfirmed, or failed `max_attempts` times."""
        now = self._now()
        pending, failed = NotificationStatus.PENDING.value, NotificationStatus.FAILED.value
        with self._db.conn:
            cursor = self._db.conn.execute(
                "INSERT INTO notifications"
                " (store, order_id, item_key, kind, eta, status, message, attempts, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?) "
                "ON CONFLICT (store, order_id, item_key, kind, eta) DO UPDATE SET "
                "status = ?, message = excluded.message, error = NULL, attempts = attempts + 1 "
                "WHERE status = ? AND attempts < ? "
                "RETURNING id",
                [
                    store,
                    order_id,
                    item_key,
                    kind.value,
                    _eta(eta),
                    pending,
                    message,
                    now,
                    pending,
                    failed,
                    max_attempts,
                ],
            )
            row = cursor.fetchone()
        return int(row[0]) if row else None

    def confirm(self, row_id: int, *, ok: bool, error: str | None = None) -> None:
        """After the platform answered: sent, or failed with why."""
        status = NotificationStatus.SENT if ok else NotificationStatus.FAILED
        with self._db.conn:
            self._db.execute(
                "UPDATE notifications SET status = ?, error = ?, sent_at = ? WHERE id = ?",
                [status.value, error, self._now() if ok else None, row_id],
            )

    def mark_unconfirmed(self, row_ids: Iterable[int]) -> None:
        """Pending rows a previous pass left (it stopped between sending and confirming)."""
        with self._db.conn:
            self._db.conn.executemany(
                "UPDATE notifications SET status = ? WHERE id = ? AND status = ?",
                [
                    (NotificationStatus.UNCONFIRMED.value, row_id, NotificationStatus.PENDING.value)
                    for row_id in row_ids
                ],
            )


def _eta(value: date | None) -> str:
    # '' when there is none: NULLs never collide in a UNIQUE key.
    return value.isoformat() if value is not None else ""


def _record(row: Mapping[str, Any]) -> NotificationRecord:
    return NotificationRecord(
        id=int(row["id"]),
        order_id=row["order_id"],
        item_key=row["item_key"],
        kind=NoticeKind(row["kind"]),
        eta=date.fromisoformat(row["eta"]) if row["eta"] else None,
        status=NotificationStatus(row["status"]),
        attempts=int(row["attempts"] or 0),
        message=row["message"],
        error=row["error"],
        created_at=row["created_at"],
    )
