"""The runs table: one row per pass, from its start to its outcome."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlite_utils

from stockstatus.core.outcomes import PassMode, RunOutcome


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One row of the runs table."""

    id: int
    store: str
    mode: PassMode
    outcome: RunOutcome
    started_at: str
    finished_at: str | None = None
    items: int = 0
    changes: int = 0
    written: int = 0
    failed: int = 0
    counts: Mapping[str, int] = field(default_factory=dict)
    """Decided items per status."""
    error: str | None = None
    seconds: float | None = None
    """As measured; None for passes recorded before durations were (and for unfinished ones)."""

    @property
    def took(self) -> float | None:
        """How long the pass took: as measured, else from its one-second timestamps."""
        if self.seconds is not None:
            return self.seconds
        if not self.finished_at:
            return None
        return (datetime.fromisoformat(self.finished_at) - datetime.fromisoformat(self.started_at)).total_seconds()


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

    def recent(self, store: str | None = None, limit: int = 20) -> list[RunRecord]:
        """The latest runs (of `store`, when given), newest first."""
        where, args = ("WHERE store = ?", [store]) if store else ("", [])
        rows = self._db.query(f"SELECT * FROM runs {where} ORDER BY id DESC LIMIT ?", [*args, limit])
        return [_record(row) for row in rows]

    def last_full(self, store: str) -> RunRecord | None:
        """The store's latest full pass that read the whole listing and wrote (ok or partial)."""
        rows = list(
            self._db.query(
                "SELECT * FROM runs WHERE store = ? AND mode = ? AND outcome IN (?, ?) ORDER BY id DESC LIMIT 1",
                [store, PassMode.FULL.value, RunOutcome.OK.value, RunOutcome.PARTIAL.value],
            )
        )
        return _record(rows[0]) if rows else None


def _record(row: Mapping[str, Any]) -> RunRecord:
    return RunRecord(
        id=int(row["id"]),
        store=row["store"],
        mode=PassMode(row["mode"]),
        outcome=RunOutcome(row["outcome"]),
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        items=int(row["items"] or 0),
        changes=int(row["changes"] or 0),
        written=int(row["written"] or 0),
        failed=int(row["failed"] or 0),
        counts={str(k): int(v) for k, v in json.loads(row["counts"] or "{}").items()},
        error=row["error"],
        seconds=float(row["seconds"]) if row["seconds"] is not None else None,
    )
