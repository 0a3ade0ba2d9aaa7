"""`connector pause` / `connector resume`: a kill switch kept in the state file, honoured by
`resync` and by a daemon that is already running."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from stockstatus.core.daemon import Daemon
from tests.conftest import due_now
from tests.loopback_shop import ENV, Shop, passes, serve_shop, wait_for


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Shop]:
    with serve_shop(tmp_path, monkeypatch) as served:
        yield served


def test_a_paused_store_is_not_touched_until_resumed(shop: Shop, capsys):
    assert shop.cli("pause", "shop", "--reason", "checking the new rules") == 0
    assert shop.cli("status") == 0
    out = capsys.readouterr().out
    assert "PAUSED since" in out and "checking the new rules" in out and "connector resume shop" in out

    assert shop.cli("resync") == 1
    assert "is paused since" in capsys.readouterr().out
    assert shop.fake.requests == []  # not even read
    assert set(shop.statuses().values()) == {None}

    # A dry run still shows the plan, and says the store is paused.
    assert shop.cli("resync", "--dry-run") == 0
    out = capsys.readouterr().out
    assert "warning: the store is paused" in out and "MUG-0" in out
    assert shop.fake.write_requests == []

    assert shop.cli("resume", "shop") == 0
    assert "no longer paused" in capsys.readouterr().out
    assert shop.cli("resync") == 0
    assert shop.statuses()["MUG-0"] == "in_stock"
    capsys.readouterr()
    assert shop.cli("status", "--json") == 0
    assert json.loads(capsys.readouterr().out)[0]["holds"] == []


def test_resume_of_a_store_neither_paused_nor_held_says_so(shop: Shop, capsys):
    assert shop.cli("resume", "shop") == 0
    assert "neither paused nor held" in capsys.readouterr().out


def test_pause_names_an_unknown_store(shop: Shop, capsys):
    assert shop.cli("pause", "nope") == 2
    assert "no store named 'nope'" in capsys.readouterr().err


async def test_a_running_daemon_honours_a_pause_at_its_next_run(shop: Shop, caplog):
    caplog.set_level(logging.INFO)
    daemon = Daemon(shop.config, ENV)
    serving = asyncio.create_task(daemon.serve())
    root = logging.getLogger()
    try:
        await wait_for(lambda: daemon.runs >= 1)
        assert shop.cli("pause", "shop") == 0
        root.handlers.append(caplog.handler)  # the command set up its own log handler, as from a shell
        root.setLevel(logging.INFO)
        due_now(daemon, "store:shop")
        await wait_for(lambda: any(p.outcome == "paused" for p in daemon.passes))

        # The shop owner tags a product while the store is paused: nothing is written for it.
        shop.fake.update_product(shop.ids[0], tags=["discontinued"])
        shop.fake.requests.clear()
        await passes(daemon, 3)
        assert shop.fake.requests == [] and shop.statuses()["MUG-0"] == "in_stock"
        assert caplog.text.count("store shop paused: waiting for the operator") == 1

        assert shop.cli("resume", "shop") == 0
        root.handlers.append(caplog.handler)
        root.setLevel(logging.INFO)
        due_now(daemon, "store:shop")
        await wait_for(lambda: shop.statuses()["MUG-0"] == "out_of_stock")
        await wait_for(lambda: "passes resumed" in caplog.text)
    finally:
        daemon.stop()
        assert await asyncio.wait_for(serving, 10) == 0
