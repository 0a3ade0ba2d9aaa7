from __future__ import annotations

import sqlite3
from datetime import date

import pytest

from stockstatus.core.errors import StateError
from stockstatus.core.outcomes import ChangeResult, PassMode, RunOutcome
from stockstatus.core.state import MIGRATIONS, Acceptance, DemandHistory, Outcome, SeenLine, StateStore, StockPresence
from stockstatus.rules.model import Decision, Status


def decision(status: Status = Status.BACKORDER, **kw) -> Decision:
    return Decision(status=status, rule=kw.pop("rule", "restock due"), eta=kw.pop("eta", date(2026, 12, 1)), **kw)


def test_new_state_file_is_migrated_to_the_latest_version(tmp_path):
    path = tmp_path / "state" / "connector.sqlite"
    store = StateStore(path)
    assert store.version == len(MIGRATIONS)
    assert {"runs", "items", "decisions", "migrations"} <= set(store.db.table_names())
    store.close()
    # reopening does not migrate again
    again = StateStore(path)
    assert again.db.execute("SELECT count(*) FROM migrations").fetchone()[0] == len(MIGRATIONS)


def test_a_state_file_from_a_newer_connector_is_refused(tmp_path):
    path = tmp_path / "s.sqlite"
    StateStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO migrations VALUES (99, 'future', 'x')")
    conn.commit()
    conn.close()
    with pytest.raises(StateError, match="newer than this connector"):
        StateStore(path)


def test_a_file_that_is_not_a_database_is_reported(tmp_path):
    path = tmp_path / "s.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StateError, match=r"s\.sqlite"):
        StateStore(path)


def test_accepted_decisions_and_log_are_recorded_together():
    state = StateStore(":memory:")
    run = state.runs.begin("eu-shop", PassMode.FULL)
    d = decision(inputs={"available": -2})
    state.record(
        run,
        "eu-shop",
        accepted=[Acceptance("10", "MUG-1", "Mug", d, {"backorders": "notify"})],
        outcomes=[Outcome("10", "MUG-1", Status.OUT_OF_STOCK, d, {"backorders": "notify"}, ChangeResult.WRITTEN)],
    )
    state.runs.finish(run, outcome=RunOutcome.OK, items=1, changes=1, written=1, counts={"backorder": 1})
    accepted = state.accepted.for_store("eu-shop")
    assert accepted["10"].status is Status.BACKORDER
    assert accepted["10"].eta == "2026-12-01"
    assert state.accepted.for_store("other") == {}
    [line] = list(state.decisions.history("MUG-1"))
    assert (line["previous_status"], line["status"], line["result"]) == ("out_of_stock", "backorder", "written")
    assert state.runs.recent("eu-shop")[0].outcome == "ok"


def test_a_run_left_running_by_a_crash_is_marked_interrupted():
    state = StateStore(":memory:")
    crashed = state.runs.begin("eu-shop", PassMode.FULL)
    state.runs.begin("eu-shop", PassMode.FULL)
    outcomes = {r.id: r.outcome for r in state.runs.recent("eu-shop")}
    assert outcomes[crashed] == "interrupted"


def test_a_version_1_state_file_is_upgraded_in_place_keeping_its_data(tmp_path, monkeypatch):
    path = tmp_path / "connector.sqlite"
    # A state file as the first release wrote it: only migration 1.
    monkeypatch.setattr("stockstatus.core.state.schema.MIGRATIONS", MIGRATIONS[:1])
    old = StateStore(path)
    run = old.runs.begin("eu-shop", PassMode.FULL)
    old.record(run, "eu-shop", accepted=[Acceptance("10", "MUG-1", "Mug", decision(), {})])
    old.runs.finish(run, outcome=RunOutcome.OK)
    assert old.version == 1 and "order_lines" not in old.db.table_names()
    old.close()
    monkeypatch.undo()

    # Opened read-only (explain, reports): upgraded in memory, the file is left as it was.
    copy = StateStore.copy_of(path)
    assert copy.version == len(MIGRATIONS) and copy.accepted.for_store("eu-shop")["10"].status is Status.BACKORDER
    copy.close()
    assert sqlite3.connect(path).execute("SELECT max(version) FROM migrations").fetchone()[0] == 1

    state = StateStore(path)
    assert state.version == len(MIGRATIONS) and state.bookmarks.get("eu-shop") is None
    assert state.accepted.for_store("eu-shop")["10"].status is Status.BACKORDER
    assert state.runs.recent("eu-shop")[0].outcome == "ok"
    state.demand.observe(
        "eu-shop",
        lines=[SeenLine("1001", "10", "MUG-1", date(2026, 11, 20), 2)],
        stock=[StockPresence("10", date(2026, 11, 22), True)],
    )
    history = state.demand.since("eu-shop", since=date(2026, 11, 1))
    assert history.lines == (SeenLine("1001", "10", "MUG-1", date(2026, 11, 20), 2),)
    assert history.stock_days == {"10": {date(2026, 11, 22): True}}


def test_order_lines_are_kept_from_first_sight_and_a_day_in_stock_at_any_pass_counts():
    state = StateStore(":memory:")
    day = date(2026, 11, 21)
    state.demand.observe("s", lines=[SeenLine("1", "10", "A", day, 2)], stock=[StockPresence("10", day, False)])
    state.demand.observe("s", lines=[SeenLine("1", "10", "A", day, 3)], stock=[StockPresence("10", day, True)])
    state.demand.observe("s", lines=[], stock=[StockPresence("10", day, False)])
    history = state.demand.since("s", since=day)
    assert history.lines == (SeenLine("1", "10", "A", day, 3),)  # the order was edited: its units now
    assert history.stock_days == {"10": {day: True}}
    assert state.demand.since("s", since=date(2026, 11, 22)).lines == ()
    assert state.demand.since("other", since=day) == DemandHistory()


def test_an_incremental_pass_reads_only_the_history_of_the_items_it_decides():
    from stockstatus.core.demand import daily_sales

    state = StateStore(":memory:")
    day, today = date(2026, 11, 20), date(2026, 11, 22)
    keys = [str(n) for n in range(1000)]  # more than one query's worth of keys
    state.demand.observe(
        "s",
        lines=[SeenLine("1", "7", "A", day, 2), SeenLine("2", "999", "B", day, 1)],
        stock=[StockPresence(key, day, key != "3") for key in keys],
    )
    whole = state.demand.since("s", since=date(2026, 11, 1))
    some = state.demand.since("s", since=date(2026, 11, 1), items={"3", "7", "999", "unknown"})
    assert set(some.stock_days) == {"3", "7", "999"}
    assert some.lines == whole.lines
    everything = daily_sales(whole, today=today, days=30)
    picked = daily_sales(some, today=today, days=30, items={"3", "7", "999", "unknown"})
    assert picked == {key: everything[key] for key in ("3", "7", "999")}
