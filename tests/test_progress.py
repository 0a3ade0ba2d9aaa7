"""Long write phases: chunked so progress shows and a stop waits for one chunk only."""

from __future__ import annotations

import asyncio
import io

from stockstatus.adapters.woocommerce.fake import FakeWooCommerce
from stockstatus.core.config import from_mapping
from stockstatus.core.model import Item, Update
from stockstatus.core.progress import TerminalProgress
from stockstatus.core.state import StateStore
from stockstatus.core.sync import push_chunks, resync
from stockstatus.rules.model import Decision, Status
from tests.conftest import FIXED_NOW

ENV = {"K": "ck_" + "a" * 40, "S": "cs_" + "b" * 40}


def update(key: str, parent: str | None = None) -> Update:
    item = Item(key=key, sku=key, name=key, managed=True, available=0, parent_key=parent)
    return Update(item=item, decision=Decision(status=Status.OUT_OF_STOCK, rule="r"), fields={"x": 1})


def test_chunks_never_split_the_variants_of_one_product():
    updates = [update("1"), update("2/21", "2"), update("2/22", "2"), update("2/23", "2"), update("3")]
    chunks = push_chunks(updates, 2)
    assert [[u.item.key for u in c] for c in chunks] == [["1"], ["2/21", "2/22", "2/23"], ["3"]]
    assert [u.item.key for c in push_chunks(updates, 100) for u in c] == [u.item.key for u in updates]


class Recorder:
    def __init__(self):
        self.events = []

    def start(self, label, total):
        self.events.append(("start", total))

    def advance(self, done):
        self.events.append(("advance", done))

    def finish(self):
        self.events.append(("finish",))


def store_with(products: int):
    fake = FakeWooCommerce(base_url="https://shop.test", consumer_key=ENV["K"], consumer_secret=ENV["S"])
    for n in range(products):
        fake.create_product(name=f"P{n}", sku=f"P{n}", manage_stock=True, stock_quantity=0)
    return fake


def config(tmp_path):
    return from_mapping(
        {
            "stores": [
                {
                    "name": "shop",
                    "platform": "woocommerce",
                    "url": "https://shop.test",
                    "key_env": "K",
                    "secret_env": "S",
                }
            ]
        },
        path=tmp_path / "c.toml",
        base_dir=tmp_path,
    )


async def test_a_long_write_phase_reports_its_progress(tmp_path):
    fake, progress = store_with(450), Recorder()
    await resync(
        config(tmp_path),
        state=StateStore(":memory:"),
        clock=lambda: FIXED_NOW,
        environ=ENV,
        transports={"shop": fake.transport()},
        progress=progress,
    )
    assert progress.events == [("start", 450), ("advance", 400), ("advance", 50), ("finish",)]


async def test_a_stop_lets_the_chunk_in_flight_finish_and_sends_no_more(tmp_path):
    fake = store_with(450)
    stopping = asyncio.Event()

    class StopAfterFirstChunk(Recorder):
        def advance(self, done):
            stopping.set()  # SIGTERM arrives while the first chunk is being written

    state = StateStore(":memory:")
    [run] = await resync(
        config(tmp_path),
        state=state,
        clock=lambda: FIXED_NOW,
        environ=ENV,
        transports={"shop": fake.transport()},
        progress=StopAfterFirstChunk(),
        stopping=stopping,
    )
    assert (run.written, run.failed, run.outcome) == (400, 50, "partial")
    assert {c.error for c in run.changes if c.result == "failed"} == {"not sent: the connector was stopping"}
    assert len(state.accepted.for_store("shop")) == 400  # state records exactly what the store confirmed
    # The next pass converges: the 50 left are planned and written, nothing else is.
    [again] = await resync(
        config(tmp_path), state=state, clock=lambda: FIXED_NOW, environ=ENV, transports={"shop": fake.transport()}
    )
    assert (again.written, again.failed, again.outcome) == (50, 0, "ok")


def test_the_bar_draws_in_place_and_clears():
    out = io.StringIO()
    bar = TerminalProgress(out)
    bar.start("shop: writing", 4)
    bar.advance(4)
    bar.finish()
    text = out.getvalue()
    assert "shop: writing [" in text and "4/4" in text and text.endswith("\r\x1b[K")
    assert TerminalProgress.for_terminal(io.StringIO()) is None  # not a terminal: plain output
