"""The decision log: one line per change a pass planned, wrote or could not write."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from stockstatus.core.outcomes import ChangeResult
from stockstatus.core.state.schema import to_json
from stockstatus.rules.model import Decision, Status


@dataclass(frozen=True, slots=True)
class Outcome:
    """One item's line in the decision log."""

    item_key: str
    sku: str | None
    previous: Status | None
    decision: Decision
    fields: Mapping[str, Any]
    result: ChangeResult
    error: str | None = None


class DecisionLog:
    """Every decision that changed something (or would have, in a dry run), per run."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self._db = db

    def append(self, run_id: int, store: str, outcomes: Iterable[Outcome], *, at: str) -> None:
        """Log one line per outcome; inside the caller's transaction (`StateStore.record`)."""
        self._db.table("decisions").insert_all(
            {
                "run_id": run_id,
                "store": store,
                "item_key": o.item_key,
                "sku": o.sku,
                "previous_status": o.previous.value if o.previous else None,
                "status": o.decision.status.value,
                "eta": o.decision.eta.isoformat() if o.decision.eta else None,
                "message": o.decision.message,
                "sell_limit": o.decision.sell_limit,
                "rule": o.decision.rule,
                "reasons": to_json(list(o.decision.reasons)),
                "inputs": to_json(o.decision.inputs),
                "fields": to_json(o.fields),
                "result": o.result.value,
                "error": o.error,
                "at": at,
            }
            for o in outcomes
        )

    def history(self, sku: str, store: str | None = None, limit: int = 50) -> Iterator[dict[str, Any]]:
        """A SKU's logged decisions, newest first."""
        where, args = ("AND d.store = ?", [store]) if store else ("", [])
        # With the pass that made each decision: a scheduled one, a reconcile, or a store webhook's.
        yield from self._db.query(
            f"SELECT d.*, r.mode AS pass FROM decisions d LEFT JOIN runs r ON r.id = d.run_id "
            f"WHERE d.sku = ? {where} ORDER BY d.id DESC LIMIT ?",
            [sku, *args, limit],
        )
