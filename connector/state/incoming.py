"""When each item's platform-reported incoming quantity was first seen, so its ETA does not slide."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date

import sqlite_utils

from stockstatus.core.supply import IncomingSeen


class IncomingSightings:
    """Per store and item: the incoming quantity seen and the day (store calendar) it first was.

    A platform's `incoming` (Shopify) has no date: the connector dates it from the day it first
    saw it, and that day must survive the passes that follow, or the ETA would move a day every day.
    """

    def __init__(self, db: sqlite_utils.Database, now: Callable[[], str]) -> None:
        self._db = db
        self._now = now

    def for_store(self, store: str) -> dict[str, IncomingSeen]:
        rows = self._db.execute(
            "SELECT item_key, quantity, first_seen FROM incoming_seen WHERE store = ?", [store]
        ).fetchall()
        return {str(key): IncomingSeen(int(quantity), date.fromisoformat(day)) for key, quantity, day in rows}

    def update(self, store: str, seen: Mapping[str, IncomingSeen], gone: Iterable[str]) -> None:
        """Keep the sightings `seen` and forget the items whose incoming stock arrived (`gone`)."""
        now = self._now()
        with self._db.conn:
            if seen:
                self._db.table("incoming_seen").upsert_all(
                    [
                        {
                            "store": store,
                            "item_key": key,
                            "quantity": sighting.quantity,
                            "first_seen": sighting.first_seen.isoformat(),
                            "updated_at": now,
                        }
                        for key, sighting in seen.items()
                    ],
                    pk=("store", "item_key"),
                )
            for key in gone:
                self._db.execute("DELETE FROM incoming_seen WHERE store = ? AND item_key = ?", [store, key])
