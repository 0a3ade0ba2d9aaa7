"""The state file's schema: declared in code, grown by numbered migrations recorded in the database.

An old state file is upgraded in place; entry N of `MIGRATIONS` upgrades version N to N+1.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from stockstatus.core.errors import StateError


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


def _v7(db: sqlite_utils.Database) -> None:
    # When each item's platform-reported incoming quantity (Shopify's `incoming`, undated) was
    # first seen, in the store's calendar: its estimated arrival counts from that day.
    db.table("incoming_seen").create(
        {"store": str, "item_key": str, "quantity": int, "first_seen": str, "updated_at": str},
        pk=("store", "item_key"),
        not_null=["store", "item_key", "quantity", "first_seen", "updated_at"],
    )


def _v8(db: sqlite_utils.Database) -> None:
    # Stores the operator paused (`connector pause`) and stores a rail held (a pass that would
    # have changed too much): one row per store and kind, so a hold and a pause are lifted apart.
    # A `release` row lets the next pass go over the rails once (`connector resume` of a held store).
    db.table("holds").create(
        {"store": str, "kind": str, "reason": str, "since": str},
        pk=("store", "kind"),
        not_null=["store", "kind", "reason", "since"],
    )


def _v9(db: sqlite_utils.Database) -> None:
    # Why each item a pass left as it is was skipped: one row per store and item while it lasts,
    # so `status` and `history` can say it and the log says it once, not at every pass.
    db.table("skips").create(
        {
            "store": str,
            "item_key": str,
            "sku": str,
            "reason": str,
            "first_seen": str,
            "last_seen": str,
            "run_id": int,
        },
        pk=("store", "item_key"),
        not_null=["store", "item_key", "reason", "first_seen", "last_seen", "run_id"],
    )
    db.table("skips").create_index(["store", "sku"])


def _v10(db: sqlite_utils.Database) -> None:
    # Webhook events waiting for delivery (see state.outbox): a pass queues them, a task of
    # their own sends them, and they outlive a restart. Times are UTC ISO 8601.
    db.table("outbox").create(
        {
            "id": int,
            "store": str,
            "event": str,
            "body": str,
            "delivery_id": str,
            "status": str,
            "attempts": int,
            "created_at": str,
            "next_at": str,
            "sent_at": str,
            "last_error": str,
        },
        pk="id",
        not_null=["store", "event", "body", "delivery_id", "status", "attempts", "created_at", "next_at"],
    )
    db.table("outbox").create_index(["status", "next_at"])
    db.table("outbox").create_index(["store", "status"])


def _v11(db: sqlite_utils.Database) -> None:
    # What each field the connector writes held before its first write, and what the connector
    # last wrote there, so `connector restore` can put the original back where the store still
    # holds the connector's own value. `scope` is "item" (the field is the item's own) or
    # "parent" (it lives on the product several items share: a stock pool's backorders, product
    # tags); `owner` is then the item's or the product's key. Values are JSON: null is a field
    # that did not exist (a meta key, a metafield, a tag), which restore deletes.
    db.table("originals").create(
        {
            "store": str,
            "scope": str,
            "owner": str,
            "field": str,
            "sku": str,
            "original": str,
            "last_written": str,
            "first_run_id": int,
            "first_written_at": str,
            "last_written_at": str,
        },
        pk=("store", "scope", "owner", "field"),
        not_null=["store", "scope", "owner", "field", "original", "last_written", "first_written_at"],
    )
    db.table("originals").create_index(["store", "sku"])


def _v12(db: sqlite_utils.Database) -> None:
    # Webhook deliveries the daemon's listener received from the stores (see state.deliveries):
    # their ids, so a repeat or replay triggers nothing, and what became of each, for `status`.
    # Rejected ones have no delivery id (it is not believed) and are kept for counting only.
    db.table("deliveries").create(
        {
            "id": int,
            "store": str,
            "delivery_id": str,
            "topic": str,
            "received_at": str,
            "outcome": str,
            "items": str,
            "reason": str,
            "run_id": int,
            "lag_ms": int,
        },
        pk="id",
        not_null=["store", "topic", "received_at", "outcome"],
    )
    db.execute("CREATE UNIQUE INDEX deliveries_store_delivery_id ON deliveries (store, delivery_id)")
    db.table("deliveries").create_index(["store", "received_at"])
    db.table("deliveries").create_index(["outcome"])


def _v13(db: sqlite_utils.Database) -> None:
    # A pass reads sales history a few hundred items at a time, as it decides them: without this
    # index each such read of order lines would scan every line of the store since the window.
    db.table("order_lines").create_index(["store", "item_key", "day"])


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step: its name as recorded in the `migrations` table, and what it does."""

    name: str
    apply: Callable[[sqlite_utils.Database], None]


MIGRATIONS: tuple[Migration, ...] = (
    Migration("runs, accepted items and the decision log", _v1),
    Migration("order lines and daily stock presence, for demand", _v2),
    Migration("bookmarks for incremental passes", _v3),
    Migration("customer notifications, at most once per order, item, kind and ETA", _v4),
    Migration("what each bookmark's decisions were made under", _v5),
    Migration("each pass's measured duration", _v6),
    Migration("when each item's undated incoming stock was first seen", _v7),
    Migration("paused and held stores", _v8),
    Migration("the items passes skip, and why", _v9),
    Migration("the outbox of webhook events", _v10),
    Migration("original values of the fields the connector writes, for restore", _v11),
    Migration("webhook deliveries received from the stores", _v12),
    Migration("order lines found by item, for sales history read a chunk of items at a time", _v13),
)
"""Append only: entry N upgrades a state file from version N to N+1."""


def version(db: sqlite_utils.Database) -> int:
    """The schema version a database is at (0: a new file)."""
    if "migrations" not in db.table_names():
        return 0
    row = db.execute("SELECT max(version) FROM migrations").fetchone()
    return int(row[0] or 0)


def migrate(db: sqlite_utils.Database, now: Callable[[], str]) -> None:
    """Apply the migrations `db` lacks, each in its own transaction and recorded with the time."""
    migrations = MIGRATIONS
    current = version(db)
    if current > len(migrations):
        raise StateError(
            f"state file has schema version {current}, newer than this connector knows "
            f"({len(migrations)}); upgrade the connector"
        )
    for number, migration in enumerate(migrations[current:], start=current + 1):
        with db.conn:
            if "migrations" not in db.table_names():
                db.table("migrations").create({"version": int, "name": str, "applied_at": str}, pk="version")
            migration.apply(db)
            db.table("migrations").insert({"version": number, "name": migration.name, "applied_at": now()})


def to_json(value: Any) -> str:
    """A JSON column's text: keys sorted, dates and other values as their string."""
    return json.dumps(value, sort_keys=True, default=str)
