"""The daemon's webhook listener: verified deliveries lead to targeted passes; anything else changes nothing.

A WooCommerce fake in process (the daemon's client reaches it through its transport) and the
listener on a loopback port the system picks; deliveries are signed and posted by
`tests.webhooks.deliver`, with the payloads the fake's own REST API renders.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from stockstatus.adapters.woocommerce.fake import FakeWooCommerce
from stockstatus.core import daemon as daemon_module
from stockstatus.core.config import load
from stockstatus.core.daemon import Daemon
from stockstatus.core.errors import ConfigError
from stockstatus.core.listener import Listener
from stockstatus.core.operator import history, history_text, status, status_text
from stockstatus.core.state import StateStore
from stockstatus.core.sync import Touched
from tests.conftest import MovingClock, due_now
from tests.webhooks import deliver

SECRET = "whsec-" + "s" * 32
ENV = {"SHOP_KEY": "ck_" + "a" * 40, "SHOP_SECRET": "cs_" + "b" * 40, "SHOP_WEBHOOKS": SECRET}
CONFIG = """
timezone = "Europe/Berlin"
state = "state.sqlite"

[listen]
address = "127.0.0.1:0"
public_url = "https://connector.example.com"
debounce_seconds = {debounce}
max_body_bytes = 20000
polling_stretch = {stretch}

[[stores]]
name = "shop"
platform = "woocommerce"
url = "https://shop.test"
key_env = "SHOP_KEY"
secret_env = "SHOP_SECRET"
webhook_secret_env = "SHOP_WEBHOOKS"
schedule = "every 1h"

[[stores]]
name = "closed"
platform = "woocommerce"
url = "https://closed.test"
key_env = "SHOP_KEY"
secret_env = "SHOP_SECRET"
webhook_secret_env = "SHOP_WEBHOOKS"
enabled = false

[[rules]]
name = "sold out"
when = {{ available = "<= 0" }}
then = {{ status = "out_of_stock" }}
"""


async def wait_for(condition: Any, seconds: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


@dataclass
class Rig:
    daemon: Daemon
    fake: FakeWooCommerce
    client: httpx.AsyncClient
    config: Path
    mug: int

    @property
    def url(self) -> str:
        assert self.daemon.listener is not None and self.daemon.listener.port
        return f"http://127.0.0.1:{self.daemon.listener.port}/webhooks/shop"

    def status(self) -> str | None:
        product = self.fake.get_product(self.mug)
        return next((m["value"] for m in product["meta_data"] if m["key"] == "connector_status"), None)

    def webhook_passes(self) -> int:
        return sum(1 for p in self.daemon.passes if p.mode == "webhook")

    def order(self, quantity: int = 1) -> dict[str, Any]:
        """A buyer orders mugs: the payload of the store's `order.created` delivery."""
        return self.fake.create_order(status="processing", line_items=[{"product_id": self.mug, "quantity": quantity}])

    async def post(self, payload: Any, topic: str = "order.created", **options: Any) -> httpx.Response:
        secret = options.pop("secret", SECRET)
        return await deliver(
            self.client, options.pop("url", self.url), "woocommerce", topic, payload, secret, **options
        )


def write_config(path: Path, *, debounce: float = 0.05, stretch: int = 1) -> None:
    path.write_text(CONFIG.format(debounce=debounce, stretch=stretch))


async def start(path: Path, fake: FakeWooCommerce, clock: MovingClock) -> tuple[Daemon, asyncio.Task[int]]:
    daemon = Daemon(path, ENV, clock=clock, transports={"shop": fake.transport()})
    serving = asyncio.create_task(daemon.serve())
    await wait_for(lambda: daemon.runs >= 1)  # the first pass at start
    return daemon, serving


@pytest.fixture
def clock() -> MovingClock:
    return MovingClock()


@pytest.fixture
def fake(clock: MovingClock) -> FakeWooCommerce:
    return FakeWooCommerce(
        base_url="https://shop.test", consumer_key=ENV["SHOP_KEY"], consumer_secret=ENV["SHOP_SECRET"], now=clock
    )


@pytest.fixture
async def rig(tmp_path: Path, fake: FakeWooCommerce, clock: MovingClock) -> AsyncIterator[Rig]:
    mug = fake.create_product(name="Mug", sku="MUG", manage_stock=True, stock_quantity=1)["id"]
    path = tmp_path / "connector.toml"
    write_config(path)
    daemon, serving = await start(path, fake, clock)
    async with httpx.AsyncClient() as client:
        yield Rig(daemon, fake, client, path, mug)
    daemon.stop()
    assert await asyncio.wait_for(serving, 10) == 0


def state_of(rig: Rig) -> StateStore:
    return StateStore(rig.config.parent / "state.sqlite")


async def test_an_order_delivery_writes_the_new_status_without_waiting_for_the_schedule(rig):
    assert rig.status() == "in_stock"
    payload = rig.order()  # the last mug: only the hourly schedule would see it
    assert rig.status() == "in_stock"

    answer = await rig.post(payload)

    assert answer.status_code == 200
    await wait_for(lambda: rig.webhook_passes() == 1)
    assert rig.status() == "out_of_stock"
    state = state_of(rig)
    summary = state.deliveries.summary("shop", rig.daemon.clock() - timedelta(days=1))
    assert (summary.received, summary.rejected, summary.waiting) == (1, 0, 0)
    assert summary.p95_lag_ms is not None and summary.last is not None
    [run] = [r for r in state.runs.recent("shop") if r.mode == "webhook"]
    assert run.outcome == "ok"
    shown = status_text(status(rig.daemon.config, state, rig.daemon.clock))
    assert "last 24 h: 1 received, 0 rejected; p95 delivery to write" in shown
    assert "last run:  2026-11-22 11:00:00+01:00 (webhook) ok" in shown
    [decision] = list(state.decisions.history("MUG"))[:1]
    assert (decision["pass"], decision["status"]) == ("webhook", "out_of_stock")
    assert " webhook " in history_text(history(state, "MUG")).splitlines()[2]


async def test_deliveries_close_together_are_served_by_one_targeted_pass(tmp_path, fake, clock):
    mugs = [
        fake.create_product(name=f"Mug {n}", sku=f"MUG-{n}", manage_stock=True, stock_quantity=1)["id"]
        for n in range(3)
    ]
    path = tmp_path / "connector.toml"
    write_config(path, debounce=0.5)
    daemon, serving = await start(path, fake, clock)
    url = f"http://127.0.0.1:{daemon.listener.port}/webhooks/shop"
    async with httpx.AsyncClient() as client:
        for mug in mugs:
            order = fake.create_order(status="processing", line_items=[{"product_id": mug, "quantity": 1}])
            assert (await deliver(client, url, "woocommerce", "order.created", order, SECRET)).status_code == 200
        await wait_for(lambda: any(p.mode == "webhook" for p in daemon.passes))
    daemon.stop()
    assert await asyncio.wait_for(serving, 10) == 0
    assert sum(1 for p in daemon.passes if p.mode == "webhook") == 1
    for mug in mugs:
        assert {m["key"]: m["value"] for m in fake.get_product(mug)["meta_data"]}["connector_status"] == "out_of_stock"


BAD = {
    "unsigned": lambda rig, order: {"payload": order, "secret": None},
    "signed with another secret": lambda rig, order: {"payload": order, "secret": "not-the-secret"},
    "body altered after signing": lambda rig, order: {
        "payload": order,
        "signed_body": httpx.Request("POST", rig.url, json={**order, "line_items": []}).content,
    },
    "too large": lambda rig, order: {"payload": None, "body": b'{"line_items": [' + b" " * 30000 + b"]}"},
    "an unknown store": lambda rig, order: {"payload": order, "url": rig.url.replace("/shop", "/someone-else")},
    "a disabled store": lambda rig, order: {"payload": order, "url": rig.url.replace("/shop", "/closed")},
}


@pytest.mark.parametrize("bad", sorted(BAD))
async def test_forged_unsigned_oversized_or_misaddressed_deliveries_change_nothing(rig, bad):
    order = rig.order()
    options = BAD[bad](rig, order)

    answer = await rig.post(options.pop("payload"), **options)

    assert 400 <= answer.status_code < 500, answer.text
    state = state_of(rig)
    assert state.deliveries.waiting() == []
    summary = state.deliveries.summary("shop", rig.daemon.clock() - timedelta(days=1))
    assert summary.received == 0
    # A pass would have written the sold-out mug: give one the time to run, and see none did.
    await asyncio.sleep(0.3)
    assert rig.webhook_passes() == 0 and rig.status() == "in_stock"
    if "store" not in bad:
        assert summary.rejected == 1 and summary.last_rejection
        shown = status_text(status(rig.daemon.config, state, rig.daemon.clock))
        assert "no delivery received yet (the store posts to https://connector.example.com/webhooks/shop)" in shown
        assert f"last rejected: {summary.last_rejection}" in shown


async def test_a_repeated_delivery_answers_200_and_triggers_nothing_more(rig):
    payload = rig.order()
    first = await rig.post(payload, delivery_id="41")
    await wait_for(lambda: rig.webhook_passes() == 1)
    rig.fake.create_product(name="Cup", sku="CUP", manage_stock=True, stock_quantity=0)

    again = await rig.post(payload, delivery_id="41")

    assert (first.status_code, again.status_code) == (200, 200) and "duplicate" in again.text
    assert state_of(rig).deliveries.waiting() == []
    await asyncio.sleep(0.3)
    assert rig.webhook_passes() == 1


async def test_the_ping_woocommerce_sends_when_a_webhook_is_saved_is_answered(rig):
    answer = await rig.client.post(
        rig.url, content=b"webhook_id=7", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert answer.status_code == 200
    assert state_of(rig).deliveries.summary("shop", rig.daemon.clock() - timedelta(days=1)).received == 0


async def test_a_delivery_it_cannot_map_still_brings_an_incremental_pass(rig):
    rig.order()
    answer = await rig.post({"id": 5}, topic="order.deleted")
    assert answer.status_code == 200
    await wait_for(lambda: rig.status() == "out_of_stock")  # found by what changed since the bookmark


async def test_healthz_and_the_status_page_answer_on_the_listener(rig):
    answer = await rig.client.get(rig.url.replace("/webhooks/shop", "/healthz"))
    assert answer.status_code == 200 and answer.json()["ok"] is True
    page = await rig.client.get(rig.url.replace("/webhooks/shop", "/"))
    assert page.status_code == 200 and "/stores/shop" in page.text


async def test_a_daemon_stopped_between_a_delivery_and_its_pass_catches_up_at_its_next_start(tmp_path, fake, clock):
    mug = fake.create_product(name="Mug", sku="MUG", manage_stock=True, stock_quantity=1)["id"]
    path = tmp_path / "connector.toml"
    write_config(path, debounce=30)  # the pass would come long after the stop
    daemon, serving = await start(path, fake, clock)
    order = fake.create_order(status="processing", line_items=[{"product_id": mug, "quantity": 1}])
    async with httpx.AsyncClient() as client:
        url = f"http://127.0.0.1:{daemon.listener.port}/webhooks/shop"
        assert (await deliver(client, url, "woocommerce", "order.created", order, SECRET)).status_code == 200
    daemon.stop()
    assert await asyncio.wait_for(serving, 10) == 0

    def status() -> str:
        return {m["key"]: m["value"] for m in fake.get_product(mug)["meta_data"]}["connector_status"]

    assert status() == "in_stock"
    assert len(StateStore(tmp_path / "state.sqlite").deliveries.waiting()) == 1

    clock.advance(10)
    daemon, serving = await start(path, fake, clock)
    daemon.stop()
    assert await asyncio.wait_for(serving, 10) == 0
    assert status() == "out_of_stock"
    assert StateStore(tmp_path / "state.sqlite").deliveries.waiting() == []


async def test_polling_stretches_while_webhooks_are_healthy_and_reconciles_still_run(tmp_path, fake, clock, caplog):
    caplog.set_level(logging.INFO)
    mug = fake.create_product(name="Mug", sku="MUG", manage_stock=True, stock_quantity=1)["id"]
    path = tmp_path / "connector.toml"
    write_config(path, stretch=3)
    daemon, serving = await start(path, fake, clock)
    url = f"http://127.0.0.1:{daemon.listener.port}/webhooks/shop"
    order = fake.create_order(status="processing", line_items=[{"product_id": mug, "quantity": 1}])
    async with httpx.AsyncClient() as client:
        await deliver(client, url, "woocommerce", "order.created", order, SECRET)
    await wait_for(lambda: any(p.mode == "webhook" for p in daemon.passes))
    runs = daemon.runs
    for skipped in (1, 2):
        clock.advance(15)
        due_now(daemon, "store:shop")
        await wait_for(lambda: caplog.text.count("webhooks are healthy") == skipped)  # noqa: B023
    assert daemon.runs == runs
    clock.advance(15)
    due_now(daemon, "store:shop")
    await wait_for(lambda: daemon.runs == runs + 1)  # the third runs
    assert daemon.passes[-1].mode == "incremental"
    due_now(daemon, "reconcile:shop")
    await wait_for(lambda: daemon.runs == runs + 2)
    assert daemon.passes[-1].mode == "full"
    daemon.stop()
    assert await asyncio.wait_for(serving, 10) == 0


class Gate(httpx.AsyncBaseTransport):
    """The store's transport, held shut while `opened` is clear: a pass in flight waits there."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.opened = asyncio.Event()
        self.opened.set()
        self.waiting = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not self.opened.is_set():
            self.waiting.set()
            await self.opened.wait()
        return await self.inner.handle_async_request(request)


async def test_a_delivery_during_a_targeted_pass_gets_one_more_pass_after_it(tmp_path, fake, clock):
    mugs = [
        fake.create_product(name=f"Mug {n}", sku=f"MUG-{n}", manage_stock=True, stock_quantity=1)["id"]
        for n in range(2)
    ]
    path = tmp_path / "connector.toml"
    write_config(path)
    gate = Gate(fake.transport())
    daemon = Daemon(path, ENV, clock=clock, transports={"shop": gate})
    serving = asyncio.create_task(daemon.serve())
    await wait_for(lambda: daemon.runs >= 1)
    url = f"http://127.0.0.1:{daemon.listener.port}/webhooks/shop"

    def webhook_passes() -> int:
        return sum(1 for p in daemon.passes if p.mode == "webhook")

    async with httpx.AsyncClient() as client:
        gate.opened.clear()
        first = fake.create_order(status="processing", line_items=[{"product_id": mugs[0], "quantity": 1}])
        await deliver(client, url, "woocommerce", "order.created", first, SECRET)
        await wait_for(gate.waiting.is_set)  # its pass is reading the store
        second = fake.create_order(status="processing", line_items=[{"product_id": mugs[1], "quantity": 1}])
        await deliver(client, url, "woocommerce", "order.created", second, SECRET)
        gate.opened.set()
        await wait_for(lambda: webhook_passes() == 2)
    await asyncio.sleep(0.3)
    daemon.stop()
    assert await asyncio.wait_for(serving, 10) == 0
    assert webhook_passes() == 2
    for mug in mugs:
        assert {m["key"]: m["value"] for m in fake.get_product(mug)["meta_data"]}["connector_status"] == "out_of_stock"


@pytest.mark.parametrize(
    ("edit", "said"),
    [
        (('address = "127.0.0.1:0"', 'address = "8787"'), "listen.address"),
        (('address = "127.0.0.1:0"', 'address = "127.0.0.1:99999"'), "is not host:port"),
        (("https://connector.example.com", "http://connector.example.com"), "use https://"),
        (('webhook_secret_env = "SHOP_WEBHOOKS"', 'webhook_secret_env = "whsec_9f8a7b6c5d4e3f2a1b0c"'), "NAME"),
        (("debounce_seconds = 0.05", "debounce_seconds = -1"), "debounce_seconds"),
    ],
)
def test_listen_settings_and_webhook_secrets_are_checked_when_the_config_loads(tmp_path, edit, said):
    path = tmp_path / "connector.toml"
    write_config(path)
    path.write_text(path.read_text().replace(*edit, 1))
    with pytest.raises(ConfigError) as refused:
        load(path)
    assert said in str(refused.value)
    assert "whsec_9f8a" not in str(refused.value)


SHOPIFY_CONFIG = """
state = "state.sqlite"
[listen]
address = "127.0.0.1:0"
replay_minutes = 60

[[stores]]
name = "us"
platform = "shopify"
shop = "us-shop.myshopify.com"
client_id_env = "US_CLIENT_ID"
client_secret_env = "US_APP_SECRET"
"""


@dataclass
class Queued:
    calls: list[tuple[str, Any]]

    def delivered(self, store: str, touched: Any, receipt: int, received: float) -> None:
        self.calls.append((store, touched))


async def test_shopify_deliveries_are_signed_with_the_app_secret_and_old_ones_are_replays(tmp_path, clock):
    path = tmp_path / "connector.toml"
    path.write_text(SHOPIFY_CONFIG)
    config = load(path)
    state = StateStore(tmp_path / "state.sqlite")
    queued = Queued([])
    secret = "shpss_" + "q" * 32
    listener = Listener(config.listen, lambda: config, state, {"US_APP_SECRET": secret}, clock, queued)
    await listener.start()
    url = f"http://127.0.0.1:{listener.port}/webhooks/us"
    order = {"id": 1, "line_items": [{"variant_id": 501, "product_id": 50, "sku": "KTL", "quantity": 1}]}
    try:
        async with httpx.AsyncClient() as client:
            fresh = await deliver(client, url, "shopify", "orders/create", order, secret, triggered_at=clock.now)
            replay = await deliver(
                client, url, "shopify", "orders/create", order, secret, triggered_at=clock.now - timedelta(hours=2)
            )
            forged = await deliver(client, url, "shopify", "orders/create", order, "shpss_" + "x" * 32)
    finally:
        await listener.stop()
    assert (fresh.status_code, replay.status_code, forged.status_code) == (200, 200, 401)
    assert "replay" in replay.text
    assert queued.calls == [("us", Touched.of(keys=["501"], skus=["KTL"]))]
    summary = state.deliveries.summary("us", clock.now - timedelta(days=1))
    assert (summary.received, summary.rejected, summary.waiting) == (2, 1, 1)


async def test_deliveries_out_of_order_end_with_what_the_store_holds(rig):
    order = rig.order()  # the last mug sold...
    cancelled = rig.fake.update_order(order["id"], status="cancelled")  # ...and the order cancelled: back on the shelf
    assert rig.fake.get_product(rig.mug)["stock_quantity"] == 1

    # The cancellation arrives first, the older creation after it (a retry, a slow queue).
    await rig.post(cancelled, topic="order.updated")
    await wait_for(lambda: rig.webhook_passes() == 1)
    await rig.post(order, topic="order.created")
    await wait_for(lambda: rig.webhook_passes() == 2)

    assert rig.status() == "in_stock"  # each pass read the store, not the payload


async def test_a_store_whose_webhook_secret_is_not_set_refuses_deliveries_and_says_why_to_the_operator_only(
    tmp_path, clock
):
    path = tmp_path / "connector.toml"
    path.write_text(SHOPIFY_CONFIG)
    config = load(path)
    state = StateStore(tmp_path / "state.sqlite")
    queued = Queued([])
    listener = Listener(config.listen, lambda: config, state, {}, clock, queued)
    await listener.start()
    try:
        async with httpx.AsyncClient() as client:
            url = f"http://127.0.0.1:{listener.port}/webhooks/us"
            answer = await deliver(client, url, "shopify", "orders/create", {"id": 1}, "shpss_" + "q" * 32)
    finally:
        await listener.stop()
    assert answer.status_code == 403 and "US_APP_SECRET" not in answer.text
    assert queued.calls == []
    summary = state.deliveries.summary("us", clock.now - timedelta(days=1))
    assert summary.rejected == 1 and "US_APP_SECRET is not set" in (summary.last_rejection or "")


class Refusing(httpx.AsyncBaseTransport):
    """The store's transport, refusing the credentials while `refusing` (a key revoked, then restored)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.refusing = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.refusing:
            body = {
                "code": "woocommerce_rest_cannot_view",
                "message": "Sorry, you cannot list resources.",
                "data": {"status": 401},
            }
            return httpx.Response(401, json=body)
        return await self.inner.handle_async_request(request)


async def test_a_targeted_pass_that_fails_is_tried_again_until_it_serves_its_delivery(
    tmp_path, fake, clock, monkeypatch
):
    monkeypatch.setattr(daemon_module, "RETRY_FIRST_SECONDS", 0.2)
    mug = fake.create_product(name="Mug", sku="MUG", manage_stock=True, stock_quantity=1)["id"]
    path = tmp_path / "connector.toml"
    write_config(path)
    store = Refusing(fake.transport())
    daemon = Daemon(path, ENV, clock=clock, transports={"shop": store})
    serving = asyncio.create_task(daemon.serve())
    await wait_for(lambda: daemon.runs >= 1)

    def webhook_passes() -> list[str]:
        return [p.outcome for p in daemon.passes if p.mode == "webhook"]

    store.refusing = True
    order = fake.create_order(status="processing", line_items=[{"product_id": mug, "quantity": 1}])
    async with httpx.AsyncClient() as client:
        url = f"http://127.0.0.1:{daemon.listener.port}/webhooks/shop"
        assert (await deliver(client, url, "woocommerce", "order.created", order, SECRET)).status_code == 200
    await wait_for(lambda: "failed" in webhook_passes())
    store.refusing = False
    await wait_for(lambda: "ok" in webhook_passes())
    daemon.stop()
    assert await asyncio.wait_for(serving, 10) == 0
    assert {m["key"]: m["value"] for m in fake.get_product(mug)["meta_data"]}["connector_status"] == "out_of_stock"
    state = StateStore(tmp_path / "state.sqlite")
    assert [r.store for r in state.deliveries.waiting()] == []
