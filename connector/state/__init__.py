"""The state file: what each store accepted, every run, every decision that changed something.

Small repositories over one sqlite-utils database, each owning its tables:

- `runs`: one row per pass (`Runs`);
- `bookmarks`: where incremental pulls start (`Bookmarks`);
- `accepted`: per store and item, the last decision the platform confirmed (`AcceptedItems`); it
  advances only after the platform confirms a write (or when the store already showed that decision);
- `decisions`: the decision log (`DecisionLog`);
- `demand`: order lines and stock presence, for sales history (`DemandRecords`);
- `notices`: what waiting buyers were told (`Notifications`);
- `skips`: the items passes leave as they are, and why (`Skips`);
- `outbox`: webhook events waiting to be sent (`Outbox`);
- `deliveries`: webhook deliveries received from the stores, for duplicates and `status` (`Deliveries`);
- `holds`: stores paused by the operator or held by a rail (`Holds`);
- `incoming`: when each item's undated incoming stock was first seen (`IncomingSightings`);
- `originals`: what each field the connector writes held before its first write, and the
  connector's last value there, for `connector restore` (`Originals`).

`lock(store)` is the cross-process lock on one store's passes (`lock`: a flock beside the file).

The schema is declared in `schema` and grows by numbered migrations recorded in the database
itself, so an old state file is upgraded in place. `StateStore` opens (creating or upgrading)
the file and holds the repositories.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from stockstatus.core.errors import StateError
from stockstatus.core.state import schema
from stockstatus.core.state.accepted import Acceptance, Accepted, AcceptedItems, AcceptedRow
from stockstatus.core.state.bookmarks import ITEMS_BOOKMARK, Bookmarks
from stockstatus.core.state.decisions import DecisionLog, Outcome
from stockstatus.core.state.deliveries import Deliveries, Receipt, ReceiptSummary
from stockstatus.core.state.demand import (
    HISTORY_KEYS_PER_QUERY,
    DemandHistory,
    DemandRecords,
    ItemHistory,
    SeenLine,
    StockPresence,
)
from stockstatus.core.state.holds import Hold, HoldKind, Holds
from stockstatus.core.state.incoming import IncomingSightings
from stockstatus.core.state.lock import StoreBusy, StoreLock, lock_path
from stockstatus.core.state.notices import Baseline, NotificationRecord, Notifications
from stockstatus.core.state.originals import FieldRecord, Original, Originals, Scope
from stockstatus.core.state.outbox import Delivery, Outbox, OutboxSummary
from stockstatus.core.state.runs import RunRecord, Runs
from stockstatus.core.state.schema import MIGRATIONS, Migration
from stockstatus.core.state.skips import REASON_CHARS, Skip, SkipRecord, Skips, clip

__all__ = [
    "HISTORY_KEYS_PER_QUERY",
    "ITEMS_BOOKMARK",
    "MIGRATIONS",
    "REASON_CHARS",
    "Acceptance",
    "Accepted",
    "AcceptedItems",
    "AcceptedRow",
    "Baseline",
    "Bookmarks",
    "DecisionLog",
    "Deliveries",
    "Delivery",
    "DemandHistory",
    "DemandRecords",
    "FieldRecord",
    "Hold",
    "HoldKind",
    "Holds",
    "IncomingSightings",
    "ItemHistory",
    "Migration",
    "NotificationRecord",
    "Notifications",
    "Original",
    "Originals",
    "Outbox",
    "OutboxSummary",
    "Outcome",
    "Receipt",
    "ReceiptSummary",
    "RunRecord",
    "Runs",
    "Scope",
    "SeenLine",
    "Skip",
    "SkipRecord",
    "Skips",
    "StateStore",
    "StockPresence",
    "StoreBusy",
    "StoreLock",
    "clip",
    "lock_path",
    "utc_now",
]


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class StateStore:
    """Open (creating or upgrading) the state file at `path`; ":memory:" for tests and the demo."""

    def __init__(self, path: Path | str, *, now: Callable[[], str] = utc_now) -> None:
        self._now = now
        self.path: Path | None = None if str(path) == ":memory:" else Path(path)
        """The file (None in memory: no other process can share it, so passes need no lock)."""
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
            schema.migrate(self.db, now)
        except sqlite3.DatabaseError as exc:
            raise StateError(f"state file {path}: {exc} (is it a connector state file?)") from exc
        self._attach()

    def _attach(self) -> None:
        now = self._now
        self.runs = Runs(self.db, now)
        self.bookmarks = Bookmarks(self.db, now)
        self.accepted = AcceptedItems(self.db, now)
        self.decisions = DecisionLog(self.db)
        self.demand = DemandRecords(self.db, now)
        self.notices = Notifications(self.db, now)
        self.holds = Holds(self.db, now)
        self.skips = Skips(self.db, now)
        self.outbox = Outbox(self.db, now)
        self.incoming = IncomingSightings(self.db, now)
        self.deliveries = Deliveries(self.db, now)
        self.originals = Originals(self.db, now)

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
            schema.migrate(store.db, store._now)
        except sqlite3.DatabaseError as exc:
            store.close()
            raise StateError(f"state file {path}: {exc} (is it a connector state file?)") from exc
        except StateError:
            store.close()
            raise
        return store

    @classmethod
    def read_only(cls, path: Path | str) -> StateStore:
        """The state file opened read-only, without copying it: for a reader beside the daemon.

        A writer (the daemon) goes on while it is open (WAL). A missing file, or one at an older
        schema version (a daemon not yet upgraded), gives `copy_of` instead.
        """
        if not Path(path).is_file():
            return cls.copy_of(path)
        try:
            conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
            db = sqlite_utils.Database(conn)
            current = schema.version(db)
        except sqlite3.DatabaseError as exc:
            raise StateError(f"state file {path}: {exc} (is it a connector state file?)") from exc
        if current != len(schema.MIGRATIONS):
            db.close()
            return cls.copy_of(path)
        store = cls.__new__(cls)
        store._now = utc_now
        store.path = Path(path)
        store.db = db
        store._attach()
        return store

    def lock(self, store: str) -> StoreLock | None:
        """The cross-process lock on `store`'s passes; None for an in-memory state (nothing to share)."""
        if self.path is None:
            return None
        return StoreLock(lock_path(self.path, store), store, now=self._now)

    @property
    def version(self) -> int:
        return schema.version(self.db)

    def close(self) -> None:
        self.db.close()

    def record(
        self,
        run_id: int,
        store: str,
        *,
        accepted: Iterable[Acceptance | AcceptedRow] = (),
        outcomes: Iterable[Outcome] = (),
        fields: Iterable[FieldRecord] = (),
        staged: bool = False,
    ) -> None:
        """In one transaction: advance the items the store now shows, append decision-log lines, and
        note the fields written (the first write of a field keeps what it held before: `originals`).

        With `staged`, the items the pass staged (`AcceptedItems.stage`) are advanced first."""
        now = self._now()
        with self.db.conn:
            if staged:
                self.accepted.accept_staged(run_id, store, at=now)
            self.accepted.upsert(run_id, store, accepted, at=now)
            self.decisions.append(run_id, store, outcomes, at=now)
            self.originals.note(run_id, store, fields, at=now)

    def has_written(self, store: str) -> bool:
        """Whether any pass ever wrote to `store` (a write the store accepted)."""
        if self.originals.recorded(store):
            return True
        row = self.db.execute(
            "SELECT 1 FROM decisions WHERE store = ? AND result = 'written' LIMIT 1", [store]
        ).fetchone()
        return row is not None
