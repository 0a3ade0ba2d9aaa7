"""The daemon against an in-process fake store: scheduled passes, reloads, health, clean stop.

The daemon and the store share a clock the test moves on; passes are made due through the
scheduler (`due_now`) instead of waiting out real intervals, except in the one test that checks
that the schedule itself runs them.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from stockstatus.adapters.woocommerce.fake import FakeWooCommerce
from stockstatus.core.daemon import Daemon
from stockstatus.core.errors import ConfigError
from stockstatus.core.schedule import trigger_for
from tests.conftest import MovingClock, due_now

BERLIN = ZoneInfo("Europe/Berlin")
URL = "https://shop.test"
ENV = {"SHOP_KEY": "ck_" + "a" * 40, "SHOP_SECRET": "cs_" + "b" * 40}
CONFIG = """
timezone = "Europe/Berlin"
state = "state.sqlite"
[[stores]]
name = "shop"
platform = "woocommerce"
url = "https://shop.test"
key_env = "SHOP_KEY"
secret_env = "SHOP_SECRET"
schedule = "{schedule}"

[[rules]]
name = "sold out"
when = {{ available = "<= 0" }}
then = {{ status = "{sold_out}" }}
"""


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("every 15m", IntervalTrigger),
        ("10 minutes", IntervalTrigger),
        ("1h", IntervalTrigger),
        ("*/15 * * * *", CronTrigger),
        ("0 6 * * 1-5", CronTrigger),
        (None, IntervalTrigger),
    ],
)
def test_schedules_are_intervals_or_cron_expressions(text, kind):
    assert isinstance(trigger_for(text, BERLIN), kind)


def test_cron_runs_at_local_time_across_daylight_saving():
    trigger = trigger_for("0 6 * * *", BERLIN)
    before_change = datetime(2026, 10, 24, 3, tzinfo=BERLIN)  # DST ends on 25 October at 03:00
    first = trigger.get_next_fire_time(None, before_change)
    second = trigger.get_next_fire_time(first, first + timedelta(seconds=1))
    assert (first.hour, second.hour) == (6, 6)
    assert second.astimezone(UTC) - first.astimezone(UTC) == timedelta(hours=25)


@pytest.mark.parametrize("text", ["every 0s", "sometimes", "61 * * * *", "* * * *"])
def test_bad_schedules_say_what_is_wrong(text):
    with pytest.raises(ValueError, match=repr(text).replace("*", r"\*")):
        trigger_for(text, BERLIN)


async def wait_for(condition, seconds=10.0):
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


@pytest.fixture
def clock() -> MovingClock:
    return MovingClock()


@pytest.fixture
def fake(clock: MovingClock) -> FakeWooCommerce:
    return FakeWooCommerce(base_url=URL, consumer_key=ENV["SHOP_KEY"], consumer_secret=ENV["SHOP_SECRET"], now=clock)


def write(path: Path, sold_out: str = "out_of_stock", schedule: str = "every 1h") -> None:
    """The config; an hourly schedule, so that in a test only the passes it makes due run."""
    path.write_text(CONFIG.format(sold_out=sold_out, schedule=schedule))


def meta(record: dict, key: str) -> object:
    return next((m["value"] for m in record["meta_data"] if m["key"] == key), None)


async def next_pass(daemon: Daemon, clock: MovingClock) -> None:
    """A quarter of an hour on: the store's job is due, and its pass is awaited."""
    clock.advance(15)
    runs = daemon.runs
    due_now(daemon, "store:shop")
    await wait_for(lambda: daemon.runs > runs)


async def test_the_schedule_runs_passes_without_being_asked(tmp_path, fake, clock):
    mug = fake.create_product(name="Mug", sku="MUG", manage_stock=True, stock_quantity=1)
    path = tmp_path / "connector.toml"
    write(path, schedule="every 1s")
    daemon = Daemon(path, ENV, clock=clock, transports={"shop": fake.transport()})
    serving = asyncio.create_task(daemon.serve())
    await wait_for(lambda: daemon.runs >= 1)
    clock.advance(1)
    # Nothing but the interval makes the next pass run.
    await wait_for(lambda: daemon.runs >= 2)
    daemon.stop()
    assert await asyncio.wait_for(serving, 10) == 0
    assert list(daemon.passes)[:2] == [("shop", "full", "ok"), ("shop", "incremental", "ok")]
    assert meta(fake.get_product(mug["id"]), "connector_status") == "in_stock"


async def test_passes_follow_the_store_and_config_edits_apply_without_restart(tmp_path, fake, clock, caplog):
    caplog.set_level(logging.INFO)
    mug = fake.create_product(name="Mug", sku="MUG", manage_stock=True, stock_quantity=1)
    path = tmp_path / "connector.toml"
    write(path)
    daemon = Daemon(path, ENV, clock=clock, transports={"shop": fake.transport()})
    serving = asyncio.create_task(daemon.serve())

    await wait_for(lambda: daemon.runs >= 1)
    assert fake.get_product(mug["id"])["meta_data"]  # the first pass ran at start

    # A sale through the store's own API: the next pass follows it (WooCommerce switched the
    # status itself at the sale; the connector's own field says the pass saw it).
    assert meta(fake.get_product(mug["id"]), "connector_status") == "in_stock"
    fake.create_order(status="processing", line_items=[{"product_id": mug["id"], "quantity": 2}])
    await next_pass(daemon, clock)
    assert fake.get_product(mug["id"])["stock_status"] == "outofstock"
    assert meta(fake.get_product(mug["id"]), "connector_status") == "out_of_stock"

    # A broken edit is rejected with the reason, once; the last good rules keep running.
    path.write_text(CONFIG.format(sold_out="sold_out_forever", schedule="every 1h"))
    await next_pass(daemon, clock)
    await next_pass(daemon, clock)
    assert "config edit rejected" in caplog.text and "sold_out_forever" in caplog.text
    assert caplog.text.count("config edit rejected") == 1
    assert [outcome for _, _, outcome in daemon.passes][-2:] == ["ok", "ok"]
    assert fake.get_product(mug["id"])["stock_status"] == "outofstock"

    # A valid edit takes effect at the next pass.
    write(path, sold_out="backorder")
    path.write_text(
        path.read_text().replace(
            'then = { status = "backorder" }', 'then = { status = "backorder", eta = "2027-01-15" }'
        )
    )
    await next_pass(daemon, clock)
    assert fake.get_product(mug["id"])["backorders"] == "notify"

    daemon.stop()
    assert await asyncio.wait_for(serving, 10) == 0


async def test_a_failing_store_is_logged_once_and_its_recovery_once(tmp_path, fake, clock, caplog):
    fake.create_product(name="Mug", sku="MUG", manage_stock=True, stock_quantity=1)
    path = tmp_path / "connector.toml"
    write(path)
    fake.fail_next(401, times=3, path_contains="products")
    daemon = Daemon(path, ENV, clock=clock, transports={"shop": fake.transport()})
    serving = asyncio.create_task(daemon.serve())
    await wait_for(lambda: daemon.runs >= 1)
    for _ in range(4):
        await next_pass(daemon, clock)
    daemon.stop()
    await asyncio.wait_for(serving, 10)
    assert caplog.text.count("is unhealthy") == 1
    assert len([r for r in caplog.records if r.levelno >= logging.ERROR]) == 1  # not one per failed run
    assert caplog.text.count("recovered") == 1
    assert "refused the credentials" in caplog.text


def test_a_daemon_does_not_start_on_an_invalid_config(tmp_path):
    path = tmp_path / "connector.toml"
    path.write_text(CONFIG.format(sold_out="nope", schedule="every 1h"))
    with pytest.raises(ConfigError, match="rules"):
        Daemon(path, ENV)


def test_an_edit_of_the_rules_file_is_taken_or_refused_with_its_reason(tmp_path, caplog):
    from stockstatus.core.daemon import ConfigWatcher

    rules = tmp_path / "rules.toml"
    rules.write_text(
        '[[rules]]\nname = "sold out"\nwhen = { available = "<= 0" }\nthen = { status = "out_of_stock" }\n'
    )
    path = tmp_path / "connector.toml"
    path.write_text('rules_file = "rules.toml"\n' + CONFIG.split("[[rules]]")[0].format(schedule="every 1h"))
    watcher = ConfigWatcher(path)
    assert watcher.config.stores[0].rules.names == ("sold out",) and not watcher.poll()

    rules.write_text(rules.read_text().replace('"<= 0"', '"none left"'))
    assert not watcher.poll() and not watcher.poll()  # refused, and said once
    assert caplog.text.count("config edit rejected") == 1 and "none left" in caplog.text
    assert watcher.config.stores[0].rules.names == ("sold out",)  # the last good rules keep running

    rules.write_text(rules.read_text().replace('"none left"', '"<= 0"').replace("sold out", "gone"))
    assert watcher.poll() and watcher.config.stores[0].rules.names == ("gone",)
