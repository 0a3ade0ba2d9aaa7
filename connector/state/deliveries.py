"""The deliveries table: webhook deliveries the daemon's listener received from the stores.

A verified delivery is recorded with its id before it is answered, so a repeat (the store
retrying after a lost answer) or a replay is recognised and triggers nothing. Rows are kept for
`KEPT` (7 days, longer than either platform retries a delivery) and then pruned; `status` reads
them for the last delivery, the counts of the last 24 hours and the lag from delivery to write.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlite_utils

from stockstatus.core.outcomes import ReceiptOutcome

KEPT = timedelta(days=7)
"""How long delivery ids are remembered: WooCommerce gives up after five failures in a row,
Shopify retries a delivery for 4 hours; a week covers both with room to spare."""


@dataclass(frozen=True, slots=True)
class Receipt:
    """A verified delivery still waiting for its targeted pass."""

    id: int
    store: str
    topic: str
    items: str | None
    """What the delivery touched (JSON written by `sync.targeted.Touched`); None: not mapped."""
    received_at: str


@dataclass(frozen=True, slots=True)
class ReceiptSummary:
    """One store's deliveries, for `status`."""

    last: str | None
    """When the latest verified delivery arrived (UTC ISO 8601)."""
    received: int
    """Verified deliveries in the window."""
    rejected: int
    """Deliveries answered 4xx in the window."""
    waiting: int
    """Verified deliveries whose pass has not run yet."""
    p95_lag_ms: int | None
    """95th percentile of delivery → written, over the window's passed deliveries."""
    last_rejection: str | None


class Deliveries:
    """Webhook deliveries received: their ids (for duplicates), outcomes and lags."""

    def __init__(self, db: sqlite_utils.Database, now: Callable[[], str]) -> None:
        self._db = db
        self._now = now

    def receive(self, store: str, delivery_id: str, topic: str, items: str | None, at: datetime) -> int | None:
        """Record a verified delivery as queued: its row id; None when its id was seen already (nothing recorded)."""
        try:
            with self._db.conn:
                table = self._db.table("deliveries").insert(
                    {
                        "store": store,
                        "delivery_id": delivery_id,
                        "topic": topic,
                        "received_at": iso(at),
                        "outcome": ReceiptOutcome.QUEUED.value,
                        "items": items,
                    }
                )
                self._prune(store, at)
        except sqlite3.IntegrityError:
            return None
        return table.last_pk

    def stale(self, store: str, delivery_id: str, topic: str, at: datetime) -> None:
        """Record a verified delivery too old to be believed new (a replay): counted, never passed."""
        with self._db.conn:
            self._db.execute(
                "INSERT OR IGNORE INTO deliveries (store, delivery_id, topic, received_at, outcome) VALUES (?, ?, ?, ?, ?)",
                [store, delivery_id, topic, iso(at), ReceiptOutcome.STALE.value],
            )

    def reject(self, store: str, topic: str, reason: str, at: datetime) -> None:
        """Record a refused delivery of a configured store (its id, unverified, is not kept)."""
        with self._db.conn:
            self._db.table("deliveries").insert(
                {
                    "store": store,
                    "topic": topic[:100],
                    "received_at": iso(at),
                    "outcome": ReceiptOutcome.REJECTED.value,
                    "reason": reason,
                }
            )
            self._prune(store, at)

    def waiting(self, store: str | None = None) -> list[Receipt]:
        """Verified deliveries whose pass has not run (a daemon stopped in between), oldest first."""
        where, args = ("outcome = ?", [ReceiptOutcome.QUEUED.value])
        if store is not None:
            where, args = where + " AND store = ?", [*args, store]
        rows = self._db.query(f"SELECT * FROM deliveries WHERE {where} ORDER BY id", args)
        return [Receipt(r["id"], r["store"], r["topic"], r["items"], r["received_at"]) for r in rows]

    def passed(self, receipts: Iterable[tuple[int, int | None]], run_id: int | None) -> None:
        """Mark deliveries (id, lag in ms or None) as handled by the pass `run_id`."""
        with self._db.conn:
            self._db.conn.executemany(
                "UPDATE deliveries SET outcome = ?, run_id = ?, lag_ms = ? WHERE id = ?",
                [(ReceiptOutcome.PASSED.value, run_id, lag, id_) for id_, lag in receipts],
            )

    def last_received(self, store: str) -> datetime | None:
        row = self._db.execute(
            "SELECT max(received_at) FROM deliveries WHERE store = ? AND outcome != ?",
            [store, ReceiptOutcome.REJECTED.value],
        ).fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    def summary(self, store: str, since: datetime) -> ReceiptSummary:
        counts = dict(
            self._db.execute(
                "SELECT outcome, count(*) FROM deliveries WHERE store = ? AND received_at >= ? GROUP BY outcome",
                [store, iso(since)],
            ).fetchall()
        )
        lags = [
            int(row[0])
            for row in self._db.execute(
                "SELECT lag_ms FROM deliveries WHERE store = ? AND received_at >= ? AND lag_ms IS NOT NULL "
                "ORDER BY lag_ms",
                [store, iso(since)],
            ).fetchall()
        ]
        rejection = self._db.execute(
            "SELECT reason FROM deliveries WHERE store = ? AND outcome = ? ORDER BY id DESC LIMIT 1",
            [store, ReceiptOutcome.REJECTED.value],
        ).fetchone()
        return ReceiptSummary(
            last=_iso_or_none(self.last_received(store)),
            received=sum(n for outcome, n in counts.items() if outcome != ReceiptOutcome.REJECTED.value),
            rejected=counts.get(ReceiptOutcome.REJECTED.value, 0),
            waiting=len(self.waiting(store)),
            p95_lag_ms=percentile(lags, 0.95),
            last_rejection=rejection[0] if rejection else None,
        )

    def _prune(self, store: str, at: datetime) -> None:
        # Inside the caller's transaction, by the (store, received_at) index: the table stays a
        # week long however busy the store is. Queued ones wait for their pass however old.
        self._db.execute(
            "DELETE FROM deliveries WHERE store = ? AND received_at < ? AND outcome != ?",
            [store, iso(at - KEPT), ReceiptOutcome.QUEUED.value],
        )


def percentile(sorted_values: list[int], share: float) -> int | None:
    """The nearest-rank percentile of already sorted values; None for none."""
    if not sorted_values:
        return None
    rank = max(math.ceil(share * len(sorted_values)), 1)
    return sorted_values[rank - 1]


def iso(at: datetime) -> str:
    # One zone and one format, so the times compare as text in SQL; milliseconds, for lags.
    return at.astimezone(UTC).isoformat(timespec="milliseconds")


def _iso_or_none(at: datetime | None) -> str | None:
    return iso(at) if at is not None else None
