"""The runs table: one row per pass, from its start to its outcome."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import sqlite_utils

from stockstatus.core.outcomes import PassMode, RunOutcome


class Runs:
    """Every pass over every store: mode, outcome, counts, error, duration."""

    def __init__(self, db: sqlite_utils.Database, now: Callable[[], str]) -> None:
        self._db = db
        self._now = now

    def begin(self, store: str, mode: PassMode) -> int:
        """Record the start of a pass; a run still marked running from a crash becomes interrupted."""
        with self._db.conn:
            self._db.execute(
                "UPDATE runs SET outcome = ? WHERE store = ? AND outcome = ?",
                [RunOutcome.INTERRUPTED.value, store, RunOutcome.RUNNING.value],
            )
            table = self._db.table("runs").insert(
                {"store": store, "mode": mode.value, "started_at": self._now(), "outcome": RunOutcome.RUNNING.value}
            )
        assert table.last_pk is not None
        return int(table.last_pk)

    def finish(
        self,
        run_id: int,
        *,
        outcome: RunOutcome,
        items: int = 0,
        changes: int = 0,
        written: int = 0,
        failed: int = 0,
        counts: Mapping[str, int] | None = None,
        error: str | None = None,
        mode: PassMode | None = None,
        seconds: float | None = None,
    ) -> None:
        """Record how a pass ended (`mode` when it changed on the way: an incremental pass that pulled all)."""
        with self._db.conn:
            self._db.table("runs").update(
                run_id,
                ({"mode": mode.value} if mode else {})
                | ({"seconds": seconds} if seconds is not None else {})
                | {
                    "finished_at": self._now(),
                    "outcome": outcome.value,
                    "items": items,
                    "changes": changes,
                    "written": written,
                    "failed": failed,
                    "counts": json.dumps(dict(counts or {}), sort_keys=True),
                    "error": error,
                },
            )

    def recent(self, store: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        """The latest runs (of `store`, when given), newest first, as the table's rows."""
        where, args = ("WHERE store = ?", [store]) if store else ("", [])
        return list(self._db.query(f"SELECT * FROM runs {where} ORDER BY id DESC LIMIT ?", [*args, limit]))
