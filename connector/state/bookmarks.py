"""Where each store's next incremental pull starts, and what the decisions up to it were made under."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import sqlite_utils

from stockstatus.core.state.schema import to_json

ITEMS_BOOKMARK = "items"


class Bookmarks:
    """One bookmark per store and kind: a moment (UTC) and the basis of the decisions before it."""

    def __init__(self, db: sqlite_utils.Database, now: Callable[[], str]) -> None:
        self._db = db
        self._now = now

    def get(self, store: str, kind: str = ITEMS_BOOKMARK) -> datetime | None:
        """Where the next incremental pull of `store` starts; None when there is none (a full pass is due)."""
        row = self._db.execute("SELECT value FROM bookmarks WHERE store = ? AND kind = ?", [store, kind]).fetchone()
        return datetime.fromisoformat(row[0]) if row else None

    def basis(self, store: str, kind: str = ITEMS_BOOKMARK) -> dict[str, str] | None:
        """What the decisions up to the bookmark were made under (see `set`); None if unknown."""
        row = self._db.execute("SELECT basis FROM bookmarks WHERE store = ? AND kind = ?", [store, kind]).fetchone()
        if not row or not row[0]:
            return None
        value = json.loads(row[0])
        return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else None

    def set(
        self, store: str, moment: datetime, kind: str = ITEMS_BOOKMARK, *, basis: Mapping[str, str] | None = None
    ) -> None:
        """Record where the next incremental pull starts (only after a pass completed).

        `basis` names what the pass decided under besides the store's data (a settings digest,
        a supply digest, the day): a later pass under another basis must be a full one.
        """
        with self._db.conn:
            self._db.table("bookmarks").upsert(
                {
                    "store": store,
                    "kind": kind,
                    "value": moment.astimezone(UTC).isoformat(),
                    "updated_at": self._now(),
                    "basis": to_json(dict(basis)) if basis is not None else None,
                },
                pk=("store", "kind"),
            )

    def forget(self, store: str, kind: str = ITEMS_BOOKMARK) -> None:
        with self._db.conn:
            self._db.execute("DELETE FROM bookmarks WHERE store = ? AND kind = ?", [store, kind])
