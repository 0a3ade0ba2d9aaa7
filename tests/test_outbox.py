"""Webhook events go through an outbox in the state file: they never hold up a pass, are tried a
bounded number of times, outlive a restart, and `status` shows them."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from stockstatus.adapters.woocommerce.fake import FakeWooCommerce
from stockstatus.core import operator
from stockstatus.core.config import from_mapping
from stockstatus.core.daemon import Daemon
from stockstatus.core.events import GIVE_UP_ROUND_AFTER, OUTBOX_POLICY
from stockstatus.core.state import StateStore
from stockstatus.core.state.outbox import LONGEST_WAIT, MOST_ATTEMPTS
from stockstatus.core.sync import flush_outbox, resync
from tests.conftest import MovingClock, due_now

URL = "https://shop.test"
ENV = {"SHOP_KEY": "ck_" + "a" * 40, "SHOP_SECRET": "cs_" + "b" * 40, "HOOK": "hook-secret"}
HOOK = "https://hooks.example/T000/B000/secretpath"
STORE = {"name": "shop", "platform": "woocommerce", "url": URL, "key_env": "SHOP_KEY", "secret_env": "SHOP_SECRET"}
RULES = [{"name": "discontinued", "when": {"tags_any": ["discontinued"]}, "then": {"status": "out_of_stock"}}]
ITEMS = 18
# Every item here changes on purpose (one event each): the rails against mass changes stand aside.
RAILS = {"max_changed_share": 1.0, "max_out_of_stock_share": 1.0}


class Receiver:
    """The shop's webhook endpoint: answers `status`, or waits until `open` is set."""

    def __init__(self, status: int = 204) -> None:
        self.status = status
        self.tries: list[dict[str, str]] = []
        self.received: list[dict[str, str]] = []
        self.open = asyncio.Event()
        self.open.set()

    async def handle(self, request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0)  # an answer takes a moment: other tasks run meanwhile
        await self.open.wait()
        body = json.loads(request.content)
        entry = {"delivery": request.headers["X-Connector-Delivery"], "sku": body["sku"], "event": body["event"]}
        self.tries.append(entry)
        if self.status < 300:
            self.received.append(entry)
        return httpx.Response(self.status)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)


def shop(clock: MovingClock) -> FakeWooCommerce:
    """A store whose every product is discontinued but still shown in stock: one event each."""
    fake = FakeWooCommerce(base_url=URL, consumer_key=ENV["SHOP_KEY"], consumer_secret=ENV["SHOP_SECRET"], now=clock)
    for n in range(ITEMS):
        fake.create_product(
            name=f"Item {n}", sku=f"OLD-{n:02d}", manage_stock=False, stock_status="instock", tags=["discontinued"]
        )
    return fake


def config(tmp_path: Path):
    data = {
        "timezone": "Europe/Berlin",
        "stores": [STORE],
        "webhook": {"url": HOOK, "secret_env": "HOOK"},
        "rules": RULES,
        "rails": RAILS,
    }
    return from_mapping(data, path=tmp_path / "connector.toml", base_dir=tmp_path)


@pytest.fixture
def clock() -> MovingClock:
    return MovingClock()


async def test_a_receiver_that_is_down_does_not_hold_up_the_pass(tmp_path, clock, state, no_backoff):
    fake, receiver = shop(clock), Receiver(503)
    [run] = await resync(
        config(tmp_path),
        state=state,
        clock=clock,
        environ=ENV,
        transports={"shop": fake.transport(), "webhook": receiver.transport()},
    )
    assert run.outcome == "ok" and run.written == ITEMS
    # One round gives up after a few failures in a row: not the full policy for each of 18 events.
    assert len(receiver.tries) == GIVE_UP_ROUND_AFTER * OUTBOX_POLICY.attempts
    [row] = operator.status(config(tmp_path), state)
    assert row["outbox"]["pending"] == ITEMS and row["outbox"]["failed"] == 0
    text = operator.status_text([row])
    assert f"webhook:   {ITEMS} events waiting, the oldest since 2026-11-22 11:00:00+01:00" in text
    assert "503" in text and "secretpath" not in text


async def test_events_outlive_a_restart_and_arrive_once_each(tmp_path, clock, no_backoff):
    fake, receiver = shop(clock), Receiver(503)
    path = tmp_path / "state.sqlite"
    state = StateStore(path)
    transports = {"shop": fake.transport(), "webhook": receiver.transport()}
    await resync(config(tmp_path), state=state, clock=clock, environ=ENV, transports=transports)
    first_ids = {t["sku"]: t["delivery"] for t in receiver.tries}
    state.close()

    receiver.status = 204
    reopened = StateStore(path)
    try:
        round_ = await flush_outbox(config(tmp_path), state=reopened, clock=clock, environ=ENV, transports=transports)
        # The events never tried go at once; those tried a moment ago wait for their next try.
        assert round_.sent == ITEMS - GIVE_UP_ROUND_AFTER and round_.left == 0
        clock.advance(minutes=5)
        round_ = await flush_outbox(config(tmp_path), state=reopened, clock=clock, environ=ENV, transports=transports)
        assert round_.sent == GIVE_UP_ROUND_AFTER
        assert sorted(r["sku"] for r in receiver.received) == [f"OLD-{n:02d}" for n in range(ITEMS)]
        # A repeat of an event is recognisable: the same delivery id as its first try.
        assert all(first_ids.get(r["sku"], r["delivery"]) == r["delivery"] for r in receiver.received)
        clock.advance(minutes=60)
        await flush_outbox(config(tmp_path), state=reopened, clock=clock, environ=ENV, transports=transports)
        assert len(receiver.received) == ITEMS
        assert operator.status(config(tmp_path), reopened)[0]["outbox"]["pending"] == 0
    finally:
        reopened.close()


async def test_an_event_is_tried_a_bounded_number_of_times_then_kept_as_failed(tmp_path, clock, state, no_backoff):
    fake, receiver = shop(clock), Receiver(410)  # gone: refused every time
    transports = {"shop": fake.transport(), "webhook": receiver.transport()}
    cfg = config(tmp_path)
    await resync(cfg, state=state, clock=clock, environ=ENV, transports=transports)
    for _ in range(MOST_ATTEMPTS * ITEMS):
        clock.advance(minutes=LONGEST_WAIT / timedelta(minutes=1))
        await flush_outbox(cfg, state=state, clock=clock, environ=ENV, transports=transports)
    tries = len(receiver.tries)
    assert tries == MOST_ATTEMPTS * ITEMS
    clock.advance(minutes=600)
    await flush_outbox(cfg, state=state, clock=clock, environ=ENV, transports=transports)
    assert len(receiver.tries) == tries, "a failed event is not sent again"
    [row] = operator.status(cfg, state)
    assert row["outbox"] == {"pending": 0, "failed": ITEMS, "oldest": None, "last_error": row["outbox"]["last_error"]}
    assert "410" in row["outbox"]["last_error"] and "secretpath" not in row["outbox"]["last_error"]
    assert f"0 events waiting; {ITEMS} failed for good" in operator.status_text([row])


async def test_the_daemon_passes_go_on_while_the_receiver_hangs(tmp_path, clock):
    fake, receiver = shop(clock), Receiver(204)
    receiver.open.clear()  # every delivery hangs until the test lets it through
    path = tmp_path / "connector.toml"
    path.write_text(
        'timezone = "Europe/Berlin"\nstate = "state.sqlite"\n'
        '[[stores]]\nname = "shop"\nplatform = "woocommerce"\nurl = "https://shop.test"\n'
        'key_env = "SHOP_KEY"\nsecret_env = "SHOP_SECRET"\nschedule = "every 1h"\n'
        f'[webhook]\nurl = "{HOOK}"\nsecret_env = "HOOK"\n'
        "[rails]\nmax_changed_share = 1.0\nmax_out_of_stock_share = 1.0\n"
        '[[rules]]\nname = "discontinued"\nwhen = { tags_any = ["discontinued"] }\nthen = { status = "out_of_stock" }\n'
    )
    daemon = Daemon(path, ENV, clock=clock, transports={"shop": fake.transport(), "webhook": receiver.transport()})
    serving = asyncio.create_task(daemon.serve())
    try:
        await wait_for(lambda: daemon.runs >= 1)
        due_now(daemon, "webhook-outbox")
        for _ in range(3):  # passes complete while the outbox round waits on the receiver
            runs = daemon.runs
            clock.advance(15)
            due_now(daemon, "store:shop")
            await wait_for(lambda before=runs: daemon.runs > before)
        assert receiver.received == []
        receiver.open.set()
        due_now(daemon, "webhook-outbox")
        await wait_for(lambda: len(receiver.received) == ITEMS)
    finally:
        daemon.stop()
        assert await asyncio.wait_for(serving, 10) == 0
    assert [p.outcome for p in daemon.passes] == ["ok"] * 4


async def wait_for(condition, seconds=10.0):
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_two_senders_at_once_deliver_each_event_once(tmp_path, clock, no_backoff):
    fake, receiver = shop(clock), Receiver(204)
    path = tmp_path / "state.sqlite"
    daemon_side, resync_side = StateStore(path), StateStore(path)
    transports = {"shop": fake.transport(), "webhook": receiver.transport()}
    try:
        await resync(
            config(tmp_path),
            state=daemon_side,
            clock=clock,
            environ=ENV,
            transports={"shop": fake.transport()},
            send_events=False,
        )
        rounds = await asyncio.gather(
            *(
                flush_outbox(config(tmp_path), state=side, clock=clock, environ=ENV, transports=transports)
                for side in (daemon_side, resync_side)
            )
        )
    finally:
        daemon_side.close()
        resync_side.close()
    assert sum(r.sent for r in rounds) == ITEMS
    assert sorted(r["sku"] for r in receiver.received) == [f"OLD-{n:02d}" for n in range(ITEMS)]
