"""One pass per store at a time across processes: a second resync waits or says who holds the
store, and a holder killed with SIGKILL leaves nothing held."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.loopback_shop import Shop, serve_shop

HOLD = """
import asyncio, sys, time
from stockstatus.core.state import StateStore
lock = StateStore(sys.argv[1]).lock("shop")
asyncio.run(lock.acquire(0))
print("held", flush=True)
time.sleep(float(sys.argv[2]))
"""


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Shop]:
    with serve_shop(tmp_path, monkeypatch) as served:
        yield served


def hold_store(shop: Shop, seconds: float) -> subprocess.Popen[str]:
    """Another process holding the store's pass lock (as a running pass does) for `seconds`."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(shop.config.parent / "state.sqlite"), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def test_a_second_pass_exits_naming_the_holder_and_a_killed_holder_frees_the_store(shop: Shop, capsys):
    holder = hold_store(shop, 60)
    try:
        assert shop.cli("resync", "--wait", "0") == 1
        out = capsys.readouterr().out
        assert f"a pass is already running (pid {holder.pid} since" in out and "did not start" in out
        assert shop.fake.write_requests == [] and shop.fake.requests == []
        # Dry runs write nothing to the store: they do not wait for the lock.
        assert shop.cli("resync", "--dry-run") == 0
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.communicate(timeout=10)
    capsys.readouterr()
    assert shop.cli("resync", "--wait", "0") == 0  # the kernel released the killed holder's lock
    assert shop.statuses()["MUG-0"] == "in_stock"


def test_a_second_pass_waits_for_the_first_to_end(shop: Shop, capsys):
    holder = hold_store(shop, 1.0)
    try:
        assert shop.cli("resync", "--wait", "20") == 0
    finally:
        holder.communicate(timeout=10)
    assert shop.statuses()["MUG-0"] == "in_stock"
