"""The outbox: webhook events waiting to be delivered, kept in the state file.

A pass only adds its events here (no network under the store's lock); they are sent apart (the
daemon's outbox job, the end of a `resync`), each with a bounded number of attempts spread over
time, and they outlive a restart. Each event keeps one delivery id across its attempts, so a
receiver can drop a repeat (an answer lost after the event arrived).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlite_utils

from stockstatus.core.outcomes import DeliveryStatus

MOST_ATTEMPTS = 8
"""Tries per event before it is kept as failed (shown by `status`, never sent again)."""
FIRST_WAIT = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=1)
CLAIM = timedelta(minutes=5)
"""How long a try keeps an event from other senders (a resync beside the daemon); longer than a round."""
SENT_KEPT = timedelta(days=7)
"""Delivered events are forgotten after this long."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event in the outbox."""

    id: int
    store: str
    event: str
    body: dict[str, Any]
    delivery_id: str
    attempts: int
    created_at: str


@dataclass(frozen=True, slots=True)
class OutboxSummary:
    """Where a store's events stand (for `status`)."""

    pending: int
    failed: int
    oldest: str | None
    """When the oldest event still waiting was added."""
    last_error: str | None


def wait_after(attempts: int) -> timedelta:
    """How long an event waits after its `attempts`-th failed try: doubling, at most an hour."""
    doubled: timedelta = FIRST_WAIT * (2 ** max(attempts - 1, 0))
    return min(doubled, LONGEST_WAIT)


class Outbox:
    """Events waiting for the webhook, sent, or given up on."""

    def __init__(self, db: sqlite_utils.Database, now: Callable[[], str]) -> None:
        self._db = db
        self._now = now

    def add(self, store: str, events: Iterable[Mapping[str, Any]], at: datetime) -> int:
        """Queue `events` for delivery from `at` on; how many were queued."""
        now = _iso(at)
        rows = [
            {
                "store": store,
                "event": str(event["event"]),
                "body": json.dumps(event, sort_keys=True),
                "delivery_id": str(uuid.uuid4()),
                "status": DeliveryStatus.PENDING.value,
                "attempts": 0,
                "created_at": now,
                "next_at": now,
            }
            for event in events
        ]
        if rows:
            with self._db.conn:
                self._db.table("outbox").insert_all(rows)
        return len(rows)

    def due(self, at: datetime, limit: int = 500) -> list[Delivery]:
        """Pending events whose next try is due at `at`, oldest first."""
        rows = self._db.query(
            "SELECT * FROM outbox WHERE status = ? AND next_at <= ? ORDER BY id LIMIT ?",
            [DeliveryStatus.PENDING.value, _iso(at), limit],
        )
        return [
            Delivery(
                id=int(r["id"]),
                store=r["store"],
                event=r["event"],
                body=json.loads(r["body"]),
                delivery_id=r["delivery_id"],
                attempts=int(r["attempts"]),
                created_at=r["created_at"],
            )
            for r in rows
        ]

    def claim(self, delivery: Delivery, at: datetime) -> bool:
        """Take `delivery` for one try; False when another sender took it since it was listed.

        The claim moves its next try past `CLAIM`: a sender that dies mid-try leaves it to be tried again then.
        """
        with self._db.conn:
            cursor = self._db.execute(
                "UPDATE outbox SET next_at = ? WHERE id = ? AND status = ? AND next_at <= ?",
                [_iso(at + CLAIM), delivery.id, DeliveryStatus.PENDING.value, _iso(at)],
            )
        return cursor.rowcount == 1

    def sent(self, delivery: Delivery, at: datetime) -> None:
        with self._db.conn:
            self._db.table("outbox").update(
                delivery.id,
                {"status": DeliveryStatus.SENT.value, "attempts": delivery.attempts + 1, "sent_at": _iso(at)},
            )
            self._db.execute(
                "DELETE FROM outbox WHERE status = ? AND sent_at < ?",
                [DeliveryStatus.SENT.value, _iso(at - SENT_KEPT)],
            )

    def not_sent(self, delivery: Delivery, error: str, at: datetime) -> DeliveryStatus:
        """Record a failed try: the event waits for its next one, or is failed after the last."""
        attempts = delivery.attempts + 1
        status = DeliveryStatus.FAILED if attempts >= MOST_ATTEMPTS else DeliveryStatus.PENDING
        with self._db.conn:
            self._db.table("outbox").update(
                delivery.id,
                {
                    "status": status.value,
                    "attempts": attempts,
                    "last_error": error,
                    "next_at": _iso(at + wait_after(attempts)),
                },
            )
        return status

    def summary(self, store: str) -> OutboxSummary:
        counts = dict(
            self._db.execute("SELECT status, count(*) FROM outbox WHERE store = ? GROUP BY status", [store]).fetchall()
        )
        oldest = self._db.execute(
            "SELECT min(created_at) FROM outbox WHERE store = ? AND status = ?", [store, DeliveryStatus.PENDING.value]
        ).fetchone()[0]
        error = self._db.execute(
            "SELECT last_error FROM outbox WHERE store = ? AND last_error IS NOT NULL AND status != ? "
            "ORDER BY id DESC LIMIT 1",
            [store, DeliveryStatus.SENT.value],
        ).fetchone()
        return OutboxSummary(
            pending=int(counts.get(DeliveryStatus.PENDING.value, 0)),
            failed=int(counts.get(DeliveryStatus.FAILED.value, 0)),
            oldest=oldest,
            last_error=error[0] if error else None,
        )


def _iso(at: datetime) -> str:
    # One zone and one format, so the times compare as text in SQL.
    return at.astimezone(UTC).isoformat(timespec="seconds")
