"""The state file: what each store accepted, every run, every decision that changed something.

One thin module over sqlite-utils. The schema is declared here and grows by numbered
migrations recorded in the database itself, so an old state file is upgraded in place.
Per store and item it keeps the last decision the platform confirmed; it advances only after
the platform confirms a write (or when the store already showed that decision).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from connector.errors import StateError
from rules.model import Decision, Status


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


MIGRATIONS: tuple[tuple[str, Callable[[sqlite_utils.Database], None]], ...] = (
    ("runs, accepted items and the decision log", _v1),
)
"""Append only: entry N upgrades a state file from version N to N+1."""


@dataclass(frozen=True, slots=True)
class Accepted:
    """The last decision a store confirmed for one item."""

    item_key: str
    sku: str | None
    status: Status
    eta: str | None
    message: str | None
    rule: str
    accepted_at: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """One item's line in the decision log."""

    item_key: str
    sku: str | None
    previous: Status | None
    decision: Decision
    fields: Mapping[str, Any]
    result: str
    """"written", "failed", "planned" (dry run) or "skipped" (data problem)."""
    error: str | None = None


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class StateStore:
    """Open (creating or upgrading) the state file at `path`; ":memory:" for tests and the demo."""

    def __init__(self, path: Path | str, *, now: Callable[[], str] = utc_now) -> None:
        self._now = now
        try:
            if str(path) == ":memory:":
                self.db = sqlite_utils.Database(memory=True)
            else:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                self.db = sqlite_utils.Database(Path(path))
                self.db.enable_wal()
            self.db.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StateError(f"state file {path}: {exc} (is it a connector state file?)") from exc

    @property
    def version(self) -> int:
        if "migrations" not in self.db.table_names():
            return 0
        row = self.db.execute("SELECT max(version) FROM migrations").fetchone()
        return int(row[0] or 0)

    def _migrate(self) -> None:
        current = self.version
        if current > len(MIGRATIONS):
            raise StateError(
                f"state file has schema version {current}, newer than this connector knows "
                f"({len(MIGRATIONS)}); upgrade the connector"
            )
        for version, (name, migrate) in enumerate(MIGRATIONS[current:], start=current + 1):
            with self.db.conn:
                if "migrations" not in self.db.table_names():
                    self.db.table("migrations").create(
                        {"version": int, "name": str, "applied_at": str}, pk="version"
                    )
                migrate(self.db)
                self.db.table("migrations").insert({"version": version, "name": name, "applied_at": self._now()})

    def close(self) -> None:
        self.db.close()

    # runs

    def begin_run(self, store: str, mode: str) -> int:
        """Record the start of a pass; a run still marked running from a crash becomes 'interrupted'."""
        with self.db.conn:
            self.db.execute(
                "UPDATE runs SET outcome = 'interrupted' WHERE store = ? AND outcome = 'running'", [store]
            )
            table = self.db.table("runs").insert(
                {"store": store, "mode": mode, "started_at": self._now(), "outcome": "running"}
            )
        assert table.last_pk is not None
        return int(table.last_pk)

    def finish_run(
        self,
        run_id: int,
        *,
        outcome: str,
        items: int = 0,
        changes: int = 0,
        written: int = 0,
        failed: int = 0,
        counts: Mapping[str, int] | None = None,
        error: str | None = None,
    ) -> None:
        with self.db.conn:
            self.db.table("runs").update(
                run_id,
                {
                    "finished_at": self._now(),
                    "outcome": outcome,
                    "items": items,
                    "changes": changes,
                    "written": written,
                    "failed": failed,
                    "counts": json.dumps(dict(counts or {}), sort_keys=True),
                    "error": error,
                },
            )

    def runs(self, store: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        where, args = ("WHERE store = ?", [store]) if store else ("", [])
        return list(self.db.query(f"SELECT * FROM runs {where} ORDER BY id DESC LIMIT ?", [*args, limit]))

    # accepted decisions

    def accepted(self, store: str) -> dict[str, Accepted]:
        rows = self.db.query(
            "SELECT item_key, sku, status, eta, message, rule, accepted_at FROM items WHERE store = ?", [store]
        )
        return {
            row["item_key"]: Accepted(
                item_key=row["item_key"],
                sku=row["sku"],
                status=Status(row["status"]),
                eta=row["eta"],
                message=row["message"],
                rule=row["rule"],
                accepted_at=row["accepted_at"],
            )
            for row in rows
        }

    def record(
        self,
        run_id: int,
        store: str,
        *,
        accepted: Iterable[tuple[str, str | None, str, Decision, Mapping[str, Any]]] = (),
        outcomes: Iterable[Outcome] = (),
    ) -> None:
        """In one transaction: advance accepted items and append decision-log lines.

        `accepted` holds (item_key, sku, name, decision, fields) the store now shows.
        """
        now = self._now()
        with self.db.conn:
            self.db.table("items").upsert_all(
                (
                    {
                        "store": store,
                        "item_key": key,
                        "sku": sku,
                        "name": name,
                        "status": decision.status.value,
                        "eta": decision.eta.isoformat() if decision.eta else None,
                        "message": decision.message,
                        "sell_limit": decision.sell_limit,
                        "rule": decision.rule,
                        "inputs": _json(decision.inputs),
                        "fields": _json(fields),
                        "run_id": run_id,
                        "accepted_at": now,
                    }
                    for key, sku, name, decision, fields in accepted
                ),
                pk=("store", "item_key"),
            )
            self.db.table("decisions").insert_all(
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
                    "reasons": _json(list(o.decision.reasons)),
                    "inputs": _json(o.decision.inputs),
                    "fields": _json(o.fields),
                    "result": o.result,
                    "error": o.error,
                    "at": now,
                }
                for o in outcomes
            )

    def history(self, sku: str, store: str | None = None, limit: int = 50) -> Iterator[dict[str, Any]]:
        """A SKU's logged decisions, newest first."""
        where, args = ("AND store = ?", [store]) if store else ("", [])
        yield from self.db.query(
            f"SELECT * FROM decisions WHERE sku = ? {where} ORDER BY id DESC LIMIT ?", [sku, *args, limit]
        )


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)
