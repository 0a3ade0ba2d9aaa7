"""The daemon as an operator runs it: a real process, stopped by a signal mid-write and started again.

Only what needs a real process is here (a signal, the exit code, a restart from the state file);
the daemon following both platforms over HTTP, config edits and notices are tested in-process in
test_daemon.py. The process's clock starts at the tests' FIXED_NOW (`CONNECTOR_TEST_CLOCK_START`).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from stockstatus.adapters.woocommerce.fake import FakeWooCommerce
from stockstatus.core.cli import TEST_CLOCK_VARIABLE, clock_starting_at
from stockstatus.core.loopback import serve
from tests.conftest import FIXED_NOW

PRODUCTS = 500
"""More than one chunk of writes (400 items), so that a stop falls between two. The first chunk
(four batches, two in flight) takes 0.8 s: that is how long the signal has to arrive in."""


@pytest.fixture
def slow_store():
    """A store whose batch writes take a while, as they do on a real one (~45 ms per item saved)."""
    fake = FakeWooCommerce(base_url="http://127.0.0.1", now=clock_starting_at(FIXED_NOW))
    for n in range(PRODUCTS):
        fake.create_product(name=f"Mug {n}", sku=f"MUG-{n}", manage_stock=True, stock_quantity=0)
    batches = threading.Event()

    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/batch"):
            batches.set()
            time.sleep(0.4)
        return fake.handle(request)

    server = serve(handle, "127.0.0.1", 0)
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    yield fake, batches
    server.shutdown()
    server.server_close()


def start(config: Path, fake: FakeWooCommerce) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        TEST_CLOCK_VARIABLE: FIXED_NOW.isoformat(),
        "WC_KEY": fake.consumer_key,
        "WC_SECRET": fake.consumer_secret,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "stockstatus.core.cli", "--config", str(config), "--log-level", "INFO", "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def written(fake: FakeWooCommerce) -> int:
    return sum(1 for p in fake.products.values() if any(m["key"] == "connector_status" for m in p["meta_data"]))


def test_sigterm_mid_write_exits_cleanly_and_a_restart_converges(tmp_path, slow_store):
    fake, batches = slow_store
    config = tmp_path / "connector.toml"
    config.write_text(
        f'state = "state.sqlite"\n[[stores]]\nname = "shop"\nplatform = "woocommerce"\nurl = "{fake.base_url}"\n'
        'key_env = "WC_KEY"\nsecret_env = "WC_SECRET"\nschedule = "every 1h"\n'
    )
    daemon = start(config, fake)
    try:
        assert batches.wait(30), "the daemon never started writing"
        daemon.send_signal(signal.SIGTERM)
        output, _ = daemon.communicate(timeout=60)
    finally:
        daemon.kill()
    assert daemon.returncode == 0, output
    assert "daemon stopped" in output
    stopped_at = written(fake)
    assert 0 < stopped_at < PRODUCTS  # it stopped mid-pass, after the chunk in flight
    with sqlite3.connect(tmp_path / "state.sqlite") as db:
        [(outcome, accepted)] = db.execute("SELECT outcome, written FROM runs").fetchall()
        assert outcome == "partial" and accepted == stopped_at  # state holds exactly what the store confirmed
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    daemon = start(config, fake)
    try:
        deadline = time.monotonic() + 60
        while written(fake) < PRODUCTS and time.monotonic() < deadline:
            time.sleep(0.2)
        daemon.send_signal(signal.SIGTERM)
        output, _ = daemon.communicate(timeout=60)
    finally:
        daemon.kill()
    assert written(fake) == PRODUCTS, output
    with sqlite3.connect(tmp_path / "state.sqlite") as db:
        second = db.execute("SELECT written FROM runs ORDER BY id DESC LIMIT 1").fetchone()[0]
    assert second == PRODUCTS - stopped_at  # only what was left: nothing written twice
