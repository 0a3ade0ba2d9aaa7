"""The listener in a real daemon process: killed between a delivery and its pass, then started again.

The delivery is recorded before it is answered, so the restarted daemon's first pass serves it;
SIGTERM stops the listener and the daemon exits 0.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from stockstatus.adapters.woocommerce.fake import FakeWooCommerce
from stockstatus.core.cli import TEST_CLOCK_VARIABLE, clock_starting_at
from stockstatus.core.loopback import serve
from tests.conftest import FIXED_NOW
from tests.webhooks import deliver

SECRET = "hooks-" + "k" * 30


@pytest.fixture
def store():
    fake = FakeWooCommerce(base_url="http://127.0.0.1", now=clock_starting_at(FIXED_NOW))
    server = serve(fake.handle, "127.0.0.1", 0)
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    yield fake
    server.shutdown()
    server.server_close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(config: Path, fake: FakeWooCommerce) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        TEST_CLOCK_VARIABLE: FIXED_NOW.isoformat(),
        "WC_KEY": fake.consumer_key,
        "WC_SECRET": fake.consumer_secret,
        "WC_HOOKS": SECRET,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "stockstatus.core.cli", "--config", str(config), "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_until_listening(url: str, daemon: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    with httpx.Client(timeout=1) as client:
        while time.monotonic() < deadline:
            assert daemon.poll() is None, daemon.communicate()[0]
            try:
                if client.get(f"{url}/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
    raise AssertionError("the listener never answered")


def status(fake: FakeWooCommerce, product: int) -> str | None:
    return next((m["value"] for m in fake.get_product(product)["meta_data"] if m["key"] == "connector_status"), None)


def outcomes(state: Path) -> list[str]:
    with sqlite3.connect(state) as db:
        return [row[0] for row in db.execute("SELECT outcome FROM deliveries")]


async def post(url: str, order: dict[str, object]) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await deliver(client, url, "woocommerce", "order.created", order, SECRET)


def test_a_daemon_killed_after_answering_a_delivery_serves_it_after_the_restart(tmp_path, store):
    mug = store.create_product(name="Mug", sku="MUG", manage_stock=True, stock_quantity=1)["id"]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = tmp_path / "connector.toml"
    config.write_text(
        f'state = "state.sqlite"\n[listen]\naddress = "127.0.0.1:{port}"\ndebounce_seconds = 30\n'
        f'[[stores]]\nname = "shop"\nplatform = "woocommerce"\nurl = "{store.base_url}"\n'
        'key_env = "WC_KEY"\nsecret_env = "WC_SECRET"\nwebhook_secret_env = "WC_HOOKS"\nschedule = "every 1h"\n'
        '[[rules]]\nname = "sold out"\nwhen = { available = "<= 0" }\nthen = { status = "out_of_stock" }\n'
    )
    daemon = start(config, store)
    try:
        wait_until_listening(url, daemon)
        while status(store, mug) is None:  # the first pass at start
            time.sleep(0.05)
        order = store.create_order(status="processing", line_items=[{"product_id": mug, "quantity": 1}])
        assert asyncio.run(post(f"{url}/webhooks/shop", order)).status_code == 200
        daemon.send_signal(signal.SIGKILL)  # within the debounce: its pass never ran
        daemon.communicate(timeout=30)
    finally:
        daemon.kill()
    assert status(store, mug) == "in_stock"
    assert outcomes(tmp_path / "state.sqlite") == ["queued"]

    daemon = start(config, store)
    try:
        wait_until_listening(url, daemon)
        deadline = time.monotonic() + 30
        while outcomes(tmp_path / "state.sqlite") != ["passed"] and time.monotonic() < deadline:
            time.sleep(0.05)
        daemon.send_signal(signal.SIGTERM)
        output, _ = daemon.communicate(timeout=60)
    finally:
        daemon.kill()
    assert daemon.returncode == 0, output
    assert status(store, mug) == "out_of_stock"
    assert outcomes(tmp_path / "state.sqlite") == ["passed"]
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/healthz", timeout=1)  # the listener stopped with the daemon
