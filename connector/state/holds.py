"""Stores that must not be written: paused by the operator, or held by a rail until the operator looks.

A pause (`connector pause STORE`) is a kill switch: no pass writes to the store until
`connector resume STORE`. A hold is set by a pass that would have changed more of the store than
the rails allow; the daemon runs no pass over a held store until the operator releases it, with
`connector resync --store STORE --force` (applies the plan now) or `connector resume STORE`
(the daemon's next pass applies it, rails lifted once). Kept in the state file, so every
process on it (a running daemon included) sees them at its next pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import sqlite_utils


class HoldKind(StrEnum):
    """Why a store is not written (the holds table's `kind`)."""

    PAUSED = "paused"
    """The operator paused it (`connector pause`)."""
    HELD = "held"
    """A rail stopped a pass before writing; waiting for the operator."""
    RELEASE = "release"
    """The operator released a hold: the next pass may go over the rails, once."""


@dataclass(frozen=True, slots=True)
class Hold:
    store: str
    kind: HoldKind
    reason: str
    since: str


class Holds:
    """Paused and held stores (the `holds` table)."""

    def __init__(self, db: sqlite_utils.Database, now: Callable[[], str]) -> None:
        self._db = db
        self._now = now

    def _set(self, store: str, kind: HoldKind, reason: str) -> None:
        with self._db.conn:
            self._db.table("holds").upsert(
                {"store": store, "kind": kind.value, "reason": reason, "since": self._now()}, pk=("store", "kind")
            )

    def _clear(self, store: str, *kinds: HoldKind) -> list[Hold]:
        found = [h for h in self.of(store) if h.kind in kinds]
        with self._db.conn:
            for hold in found:
                self._db.execute("DELETE FROM holds WHERE store = ? AND kind = ?", [store, hold.kind.value])
        return found

    def of(self, store: str) -> list[Hold]:
        rows = self._db.execute(
            "SELECT store, kind, reason, since FROM holds WHERE store = ? ORDER BY kind", [store]
        ).fetchall()
        return [Hold(r[0], HoldKind(r[1]), r[2], r[3]) for r in rows]

    def get(self, store: str, kind: HoldKind) -> Hold | None:
        return next((h for h in self.of(store) if h.kind is kind), None)

    def pause(self, store: str, reason: str) -> None:
        self._set(store, HoldKind.PAUSED, reason)

    def hold(self, store: str, reason: str) -> None:
        """A rail stopped a pass: hold the store (a release granted earlier is used up)."""
        with self._db.conn:
            self._clear(store, HoldKind.RELEASE)
            self._set(store, HoldKind.HELD, reason)

    def resume(self, store: str) -> list[Hold]:
        """Lift a pause and a hold; a lifted hold lets the next pass over the rails once. Returns what was lifted."""
        lifted = self._clear(store, HoldKind.PAUSED, HoldKind.HELD)
        if any(h.kind is HoldKind.HELD for h in lifted):
            self._set(store, HoldKind.RELEASE, "released by the operator: the next pass may go over the rails")
        return lifted

    def passed(self, store: str) -> None:
        """A pass wrote within the rails (or forced): the store is no longer held, a release is used up."""
        self._clear(store, HoldKind.HELD, HoldKind.RELEASE)
