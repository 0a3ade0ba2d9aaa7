"""Incremental passes against the fake WooCommerce: what they pull, what they write, the bookmark."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from stockstatus.adapters.woocommerce import fake as woo_fake
from stockstatus.adapters.woocommerce.fake import FakeWooCommerce
from stockstatus.core import catalogue
from stockstatus.core import daemon as daemon_module
from stockstatus.core.config import from_mapping
from stockstatus.core.daemon import Daemon
from stockstatus.core.http import make_client
from stockstatus.core.model import Decision, Item, OpenOrder, Update, WriteResult
from stockstatus.core.platform import Adapter, platforms, pulls_changes
from stockstatus.core.state import StateStore
from stockstatus.core.sync import BOOKMARK_OVERLAP, Sources, resync, run_store
from tests.conftest import MovingClock, due_now

URL = "https://shop.test"
ENV = {"SHOP_KEY": "ck_" + "a" * 40, "SHOP_SECRET": "cs_" + "b" * 40}
TODAY = date(2026, 11, 22)
RULES = [
    {"name": "discontinued", "when": {"tags_any": ["discontinued"]}, "then": {"status": "out_of_stock"}},
    {"name": "pre-order", "when": {"release_date": "future"}, "then": {"status": "pre_order", "eta": "release_date"}},
    {
        "name": "restock due",
        "when": {"available": "<= 0", "eta_within_days": 60},
        "then": {"status": "backorder", "eta": "restock_date"},
    },
    {"name": "sold out", "when": {"available": "<= 0"}, "then": {"status": "out_of_stock"}},
]
STORE = {"name": "shop", "platform": "woocommerce", "url": URL, "key_env": "SHOP_KEY", "secret_env": "SHOP_SECRET"}


@pytest.fixture
def clock() -> MovingClock:
    return MovingClock()


@pytest.fixture
def fake(clock: MovingClock) -> FakeWooCommerce:
    return FakeWooCommerce(base_url=URL, consumer_key=ENV["SHOP_KEY"], consumer_secret=ENV["SHOP_SECRET"], now=clock)


@pytest.fixture
def config(tmp_path: Path):
    data = {"timezone": "Europe/Berlin", "stores": [STORE], "rules": RULES}
    return from_mapping(data, path=tmp_path / "connector.toml", base_dir=tmp_path)


async def run(config, state, fake, clock, **kw):
    [result] = await resync(config, state=state, clock=clock, environ=ENV, transports={"shop": fake.transport()}, **kw)
    return result


def counted(fake: FakeWooCommerce) -> tuple[int, int]:
    """(reads, writes) the store saw since the last `fake.requests.clear()`."""
    writes = len(fake.write_requests)
    return len(fake.requests) - writes, writes


def seed(fake: FakeWooCommerce) -> dict[str, dict]:
    restock = (TODAY + timedelta(days=10)).isoformat()
    shirt = fake.create_product(
        name="Shirt",
        type="variable",
        manage_stock=False,
        attributes=[{"name": "Size", "options": ["S", "M"], "variation": True}],
    )
    return {
        "kettle": fake.create_product(
            name="Kettle",
            sku="KTL",
            manage_stock=True,
            stock_quantity=0,
            meta_data=[{"key": "restock_date", "value": restock}],
        ),
        "mug": fake.create_product(name="Mug", sku="MUG", manage_stock=True, stock_quantity=4),
        "chemex": fake.create_product(name="Chemex", sku="CHX", manage_stock=True, stock_quantity=3),
        "shirt": shirt,
        "shirt-s": fake.create_variation(
            shirt["id"], sku="SH-S", manage_stock=True, stock_quantity=2, attributes=[{"name": "Size", "option": "S"}]
        ),
        "shirt-m": fake.create_variation(
            shirt["id"], sku="SH-M", manage_stock=True, stock_quantity=5, attributes=[{"name": "Size", "option": "M"}]
        ),
    }


async def test_no_bookmark_means_a_full_pass_and_a_completed_pass_sets_one(fake, config, state, clock):
    seed(fake)
    first = await run(config, state, fake, clock, incremental=True)
    assert first.mode == "full" and first.outcome == "ok" and first.items == 5
    assert state.bookmarks.get("shop") == clock.now - BOOKMARK_OVERLAP
    assert state.runs.recent("shop")[0].mode == "full"


async def test_an_incremental_pass_picks_up_a_stock_change_and_a_new_order(fake, config, state, clock):
    items = seed(fake)
    await run(config, state, fake, clock)
    clock.advance(15)
    await run(config, state, fake, clock, incremental=True)  # sees the first pass's own writes
    clock.advance(15)

    # Changes through the store's API: the mug's stock is counted to 0; a customer orders 4 shirts (S).
    fake.update_product(items["mug"]["id"], stock_quantity=0)
    fake.create_order(
        status="processing",
        line_items=[{"product_id": items["shirt"]["id"], "variation_id": items["shirt-s"]["id"], "quantity": 4}],
    )
    fake.requests.clear()
    result = await run(config, state, fake, clock, incremental=True)

    assert result.mode == "incremental" and result.outcome == "ok"
    # Only the mug and the shirt (whose variation's stock the order took) were pulled and decided.
    assert sorted(c.item.sku for c in result.changes) == ["MUG", "SH-S"]
    assert result.items == 3  # the mug, and both variations of the re-saved shirt
    assert fake.get_product(items["mug"]["id"])["stock_status"] == "outofstock"
    assert fake.get_variation(items["shirt"]["id"], items["shirt-s"]["id"])["stock_status"] == "outofstock"
    assert state.runs.recent("shop")[0].mode == "incremental"
    # Items not pulled keep what the store accepted.
    assert set(state.accepted.for_store("shop")) >= {str(items["kettle"]["id"]), str(items["chemex"]["id"])}


CATALOGUE_SIZE = 250
"""Three listing pages of 100 and about 75 variable products: enough that a full pass reads tens of
pages, so "reads little" is a contrast and not a coincidence."""


async def test_no_change_incremental_passes_write_nothing_and_read_little(fake, config, state, clock):
    woo_fake.seed(fake, catalogue.generated(CATALOGUE_SIZE, TODAY))
    fake.requests.clear()
    full = await run(config, state, fake, clock)
    full_reads, full_writes = counted(fake)
    assert full.outcome == "ok" and full_writes > 0

    # The next incremental pass pulls what the full pass wrote (its own writes moved the dates)
    # and writes nothing: the plan diffs against the store.
    clock.advance(15)
    fake.requests.clear()
    echo = await run(config, state, fake, clock, incremental=True)
    echo_reads, echo_writes = counted(fake)
    assert echo.mode == "incremental" and echo.outcome == "ok"
    assert echo_writes == 0 and echo.changes == []
    assert echo_reads <= full_reads  # here the full pass wrote to every item: all are read again

    clock.advance(15)
    fake.requests.clear()
    quiet = await run(config, state, fake, clock, incremental=True)
    reads, writes = counted(fake)
    assert quiet.mode == "incremental" and quiet.items == 0 and quiet.changes == []
    assert writes == 0 and reads <= 5, fake.requests
    assert full_reads > 10 * reads, (full_reads, reads)  # the full pass did read page after page
    print(
        f"{CATALOGUE_SIZE} products: full pass {full_reads} reads/{full_writes} writes; next incremental {echo_reads} reads/"
        f"{echo_writes} writes; no-change incremental {reads} reads/{writes} writes"
    )


async def test_dry_runs_and_failed_passes_leave_the_bookmark(fake, config, state, clock):
    seed(fake)
    await run(config, state, fake, clock, dry_run=True)
    assert state.bookmarks.get("shop") is None and state.runs.recent("shop")[0].mode == "dry-run"

    await run(config, state, fake, clock)
    bookmark = state.bookmarks.get("shop")
    clock.advance(15)
    dry = await run(config, state, fake, clock, incremental=True, dry_run=True)
    assert dry.mode == "dry-run" and state.bookmarks.get("shop") == bookmark

    fake.fail_next(401, path_contains="orders")
    failed = await run(config, state, fake, clock, incremental=True)
    assert failed.outcome == "failed" and state.bookmarks.get("shop") == bookmark


async def test_a_partial_pass_keeps_the_bookmark_so_failed_writes_are_retried(fake, config, state, clock):
    items = seed(fake)
    await run(config, state, fake, clock)
    bookmark = state.bookmarks.get("shop")
    clock.advance(15)
    fake.update_product(items["chemex"]["id"], stock_quantity=0)
    fake.fail_next(400, path_contains="products/batch")
    partial = await run(config, state, fake, clock, incremental=True)
    assert partial.outcome == "partial" and state.bookmarks.get("shop") == bookmark

    # Nothing about the chemex changed since, but it is pulled again from the old bookmark.
    clock.advance(15)
    retried = await run(config, state, fake, clock, incremental=True)
    assert retried.outcome == "ok" and [c.item.sku for c in retried.changes] == ["CHX"]
    assert fake.get_product(items["chemex"]["id"])["backorders"] == "no"
    assert state.bookmarks.get("shop") == clock.now - BOOKMARK_OVERLAP


async def test_a_full_reconcile_catches_an_edit_the_incremental_pass_cannot_see(fake, config, state, clock):
    items = seed(fake)
    await run(config, state, fake, clock)
    clock.advance(15)
    await run(config, state, fake, clock, incremental=True)
    clock.advance(15)
    # An edit that did not move the modification date (a direct database edit, a plugin that
    # writes post meta without saving the product).
    record = fake.products[items["mug"]["id"]]
    record["stock_quantity"], record["stock_status"] = 0, "outofstock"

    incremental = await run(config, state, fake, clock, incremental=True)
    assert incremental.items == 0 and incremental.changes == []
    full = await run(config, state, fake, clock)
    assert full.mode == "full" and [c.item.sku for c in full.changes] == ["MUG"]
    assert full.changes[0].result == "written"


class WholeCatalogueOnly:
    """A third-party adapter without `pull_changed` (wrapping the WooCommerce one)."""

    def __init__(self, inner: Adapter) -> None:
        self.inner = inner
        self.capabilities = inner.capabilities

    async def check(self) -> None:
        await self.inner.check()

    async def pull_items(self) -> list[Item]:
        return await self.inner.pull_items()

    async def open_orders(self) -> list[OpenOrder]:
        return await self.inner.open_orders()

    def plan(self, item: Item, decision: Decision) -> Mapping[str, Any]:
        return self.inner.plan(item, decision)

    async def push(self, updates: Sequence[Update]) -> list[WriteResult]:
        return await self.inner.push(updates)


async def test_an_adapter_that_cannot_pull_changes_gets_full_passes(fake, config, state, clock):
    seed(fake)
    [store] = config.select("shop")
    async with make_client(transport=fake.transport()) as client:
        inner = platforms()["woocommerce"].create_adapter(store.settings, client, ENV)
        assert pulls_changes(inner)
        plain = WholeCatalogueOnly(inner)
        assert isinstance(plain, Adapter) and not pulls_changes(plain)
        first = await run_store(store, plain, sources=Sources(), state=state, clock=clock, incremental=True)
        clock.advance(15)
        second = await run_store(store, plain, sources=Sources(), state=state, clock=clock, incremental=True)
    assert (first.mode, second.mode) == ("full", "full")
    assert second.items == 5 and second.changes == [] and second.outcome == "ok"


DAEMON_CONFIG = """
timezone = "Europe/Berlin"
state = "state.sqlite"
[[stores]]
name = "shop"
platform = "woocommerce"
url = "https://shop.test"
key_env = "SHOP_KEY"
secret_env = "SHOP_SECRET"
schedule = "every 1h"
reconcile = "every 1h"

[[rules]]
name = "sold out"
when = { available = "<= 0" }
then = { status = "out_of_stock" }
"""


async def test_the_daemon_runs_incremental_and_reconcile_passes_never_at_once(
    tmp_path, monkeypatch, fake, clock, caplog
):
    caplog.set_level(logging.INFO)
    mug = fake.create_product(name="Mug", sku="MUG", manage_stock=True, stock_quantity=1)
    path = tmp_path / "connector.toml"
    path.write_text(DAEMON_CONFIG)

    running, most = 0, 0
    real = daemon_module.resync

    async def watched(*args, **kwargs):  # lets every pass through; counts how many run at once
        nonlocal running, most
        running += 1
        most = max(most, running)
        try:
            await asyncio.sleep(0.2)  # a slow store: the two jobs' passes would overlap without the lock
            return await real(*args, **kwargs)
        finally:
            running -= 1

    async def until(what: str, condition) -> None:
        deadline = time.monotonic() + 10
        while not condition():
            assert time.monotonic() < deadline, f"{what}: {list(daemon.passes)}"
            await asyncio.sleep(0.01)

    async def due_while_the_other_runs(first: str, second: str) -> None:
        """`first`'s pass starts; while it is in flight, `second` falls due too."""
        clock.advance(15)
        due_now(daemon, first)
        await until(f"{first} running", lambda: running == 1)
        due_now(daemon, second)

    monkeypatch.setattr(daemon_module, "resync", watched)
    daemon = Daemon(path, ENV, clock=clock, transports={"shop": fake.transport()})
    serving = asyncio.create_task(daemon.serve())
    await until("the first pass, at start", lambda: len(daemon.passes) == 1 and running == 0)
    assert {j.id for j in daemon.scheduler.get_jobs()} >= {"store:shop", "reconcile:shop"}

    # A reconcile due during an incremental pass waits for it, then runs.
    await due_while_the_other_runs("store:shop", "reconcile:shop")
    await until("both passes", lambda: len(daemon.passes) == 3 and running == 0)
    # An incremental pass due during a reconcile is skipped: the reconcile reads everything.
    skipped = "a pass is still running; this incremental pass is skipped"
    await due_while_the_other_runs("reconcile:shop", "store:shop")
    await until("the reconcile alone", lambda: skipped in caplog.text and len(daemon.passes) == 4 and running == 0)

    # A sale through the store's API is followed by the next pass.
    fake.create_order(status="processing", line_items=[{"product_id": mug["id"], "quantity": 2}])
    clock.advance(15)
    due_now(daemon, "store:shop")
    await until("the pass after the sale", lambda: len(daemon.passes) == 5)
    status = {m["key"]: m["value"] for m in fake.get_product(mug["id"])["meta_data"]}["connector_status"]
    assert status == "out_of_stock"

    daemon.stop()
    assert await asyncio.wait_for(serving, 10) == 0
    assert most == 1
    # The first pass after start has no bookmark: full.
    assert [p.mode for p in daemon.passes] == ["full", "incremental", "full", "full", "incremental"]
    assert all(p.outcome == "ok" for p in daemon.passes)


def test_reconcile_is_validated_like_schedule_and_defaults_to_nightly(tmp_path):
    from stockstatus.core.errors import ConfigError

    data = {"timezone": "Europe/Berlin", "stores": [STORE], "rules": RULES}
    [store] = from_mapping(data, path=tmp_path / "c.toml", base_dir=tmp_path).stores
    assert store.reconcile == "0 3 * * *"
    with pytest.raises(ConfigError, match=r"stores\[0\]\.reconcile: 'nightly'"):
        from_mapping(
            {**data, "stores": [{**STORE, "reconcile": "nightly"}]}, path=tmp_path / "c.toml", base_dir=tmp_path
        )


async def test_status_shows_each_runs_mode_and_the_bookmark(fake, config, clock):
    from stockstatus.core.operator import status, status_text

    state = StateStore(":memory:", now=lambda: clock.now.isoformat(timespec="seconds"))
    seed(fake)
    await run(config, state, fake, clock)
    clock.advance(15)
    await run(config, state, fake, clock, incremental=True)
    [row] = status(config, state, clock)
    assert row["mode"] == "incremental" and row["last_full"] and row["bookmark"]
    text = status_text([row])
    assert "(incremental) ok" in text and "next full reconcile 2026-11-23 03:00:00+01:00" in text
    assert "next run:  2026-11-22 11:20:25+01:00;" in text  # every 15 minutes, in the store's slot (5 min 25 s)
    assert not row["overdue"]
    clock.advance(20)  # no daemon ran the pass due 5 minutes ago
    [late] = status(config, state, clock)
    assert late["overdue"] and "overdue: is `connector run` running?" in status_text([late])
    state.close()


def with_rules(tmp_path: Path, rules: list[dict[str, Any]], **extra: Any):
    data = {"timezone": "Europe/Berlin", "stores": [STORE], "rules": rules, **extra}
    return from_mapping(data, path=tmp_path / "connector.toml", base_dir=tmp_path)


async def test_a_rules_edit_reaches_every_item_at_the_next_pass(fake, config, state, clock, tmp_path):
    items = seed(fake)
    await run(config, state, fake, clock)
    clock.advance(15)
    await run(config, state, fake, clock, incremental=True)
    clock.advance(15)

    # The owner stops taking backorders on restocks: no store data changed, but the kettle's
    # status must follow the edit now, not at the nightly reconcile.
    edited = with_rules(tmp_path, [r for r in RULES if r["name"] != "restock due"])
    result = await run(edited, state, fake, clock, incremental=True)
    assert result.mode == "full" and result.full_because == "the rules or settings changed"
    assert [(c.item.sku, c.decision.status.value) for c in result.changes] == [("KTL", "out_of_stock")]
    assert fake.get_product(items["kettle"]["id"])["backorders"] == "no"

    # Once a pass completed under the new rules, passes are incremental again.
    clock.advance(15)
    after = await run(edited, state, fake, clock, incremental=True)
    assert after.mode == "incremental" and after.full_because is None


async def test_schedule_and_notice_edits_keep_passes_incremental(fake, config, state, clock, tmp_path):
    seed(fake)
    await run(config, state, fake, clock)
    clock.advance(15)
    store = {**STORE, "schedule": "every 5m", "reconcile": "0 4 * * *", "notify": {"enabled": True}}
    edited = from_mapping(
        {"timezone": "Europe/Berlin", "stores": [store], "rules": RULES},
        path=tmp_path / "connector.toml",
        base_dir=tmp_path,
    )
    result = await run(edited, state, fake, clock, incremental=True)
    assert result.mode == "incremental"


async def test_a_purchase_order_edit_redates_items_nobody_touched_in_the_store(fake, state, clock, tmp_path):
    chemex = fake.create_product(name="Chemex", sku="CHX", manage_stock=True, stock_quantity=0)
    fake.create_product(name="Mug", sku="MUG", manage_stock=True, stock_quantity=4)
    rules = [
        {
            "name": "shipment due",
            "when": {"available": "<= 0", "eta_within_days": 60},
            "then": {"status": "backorder", "eta": "supply"},
        },
        {"name": "sold out", "when": {"available": "<= 0"}, "then": {"status": "out_of_stock"}},
    ]
    orders = tmp_path / "incoming.csv"
    orders.write_text("sku,quantity,expected_date\nCHX,10,2026-12-10\n")
    config = with_rules(tmp_path, rules, supply={"purchase_orders": ["incoming.csv"]})
    first = await run(config, state, fake, clock)
    assert [(c.item.sku, c.decision.eta) for c in first.changes if c.item.sku == "CHX"] == [("CHX", date(2026, 12, 10))]

    clock.advance(15)
    orders.write_text("sku,quantity,expected_date\nCHX,10,2026-12-10\n")  # rewritten, same lines
    same = await run(config, state, fake, clock, incremental=True)
    assert same.mode == "incremental"

    clock.advance(15)
    orders.write_text("sku,quantity,expected_date\nCHX,10,2026-12-18\n")  # the supplier slipped
    slipped = await run(config, state, fake, clock, incremental=True)
    assert slipped.mode == "full" and slipped.full_because == "the purchase orders changed"
    assert [(c.item.sku, c.decision.eta) for c in slipped.changes] == [("CHX", date(2026, 12, 18))]
    assert {m["key"]: m["value"] for m in fake.get_product(chemex["id"])["meta_data"]}["connector_eta"] == "2026-12-18"


async def test_the_first_pass_of_a_day_decides_every_item_so_a_release_day_switches(fake, state, clock, tmp_path):
    # 2026-11-22 10:00 UTC; the grinder is released on the 23rd (Berlin calendar).
    grinder = fake.create_product(
        name="Grinder",
        sku="GRD",
        manage_stock=True,
        stock_quantity=5,
        meta_data=[{"key": "release_date", "value": "2026-11-23"}],
    )
    config = with_rules(tmp_path, RULES)
    first = await run(config, state, fake, clock)
    assert [c.decision.status.value for c in first.changes] == ["pre_order"]
    clock.advance(15)
    assert (await run(config, state, fake, clock, incremental=True)).mode == "incremental"

    clock.now = datetime(2026, 11, 22, 22, 59, tzinfo=clock.now.tzinfo)  # 23:59 in Berlin
    assert (await run(config, state, fake, clock, incremental=True)).mode == "incremental"
    clock.now = datetime(2026, 11, 22, 23, 5, tzinfo=clock.now.tzinfo)  # 00:05 on release day
    release_day = await run(config, state, fake, clock, incremental=True)
    assert release_day.mode == "full" and release_day.full_because == "a new day began in the store's timezone"
    assert [(c.item.sku, c.decision.status.value) for c in release_day.changes] == [("GRD", "in_stock")]
    assert {m["key"]: m["value"] for m in fake.get_product(grinder["id"])["meta_data"]}[
        "connector_status"
    ] == "in_stock"
