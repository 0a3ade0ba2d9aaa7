"""The daemon against an in-process fake store: scheduled passes, reloads, health, clean stop.

The daemon and the store share a clock the test moves on; passes are made due through the
scheduler (`due_now`) instead of waiting out real intervals, except in the one test that checks
that the schedule itself runs them.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from stockstatus.adapters.shopify.fake import FakeShopify
from stockstatus.adapters.shopify.fake import sandbox as shopify_sandbox
from stockstatus.adapters.woocommerce.auth import WooCommerceAuth
from stockstatus.adapters.woocommerce.fake import FakeWooCommerce
from stockstatus.adapters.woocommerce.fake import sandbox as woo_sandbox
from stockstatus.core.daemon import Daemon
from stockstatus.core.errors import ConfigError
from stockstatus.core.operator import status
from stockstatus.core.outcomes import PassMode, RunOutcome
from stockstatus.core.schedule import trigger_for
from stockstatus.core.state import StateStore
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


def test_stores_on_one_interval_fall_due_spread_over_it_each_in_its_own_slot():
    interval = timedelta(minutes=5)
    quarter = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)  # on every store's grid of 5-minute intervals
    offsets = []
    for n in range(200):
        trigger = trigger_for("every 5m", BERLIN, store=f"shop-{n:03}")
        first = trigger.get_next_fire_time(None, quarter)
        # The same second of every interval, however late the previous pass ran.
        assert trigger.get_next_fire_time(first, first + timedelta(seconds=90)) == first + interval
        assert trigger.get_next_fire_time(None, first + timedelta(seconds=1)) == first + interval
        offsets.append(first - quarter)
    assert all(timedelta(0) <= offset < interval for offset in offsets)
    # 200 stores over 30 windows of 10 seconds: about 7 in each, never all at one moment.
    busiest = max(Counter(int(offset.total_seconds()) // 10 for offset in offsets).values())
    assert busiest <= 20, busiest


def test_a_pass_at_another_moment_does_not_move_the_stores_slot():
    trigger = trigger_for("every 15m", BERLIN, store="shop")
    slot = trigger.get_next_fire_time(None, datetime(2026, 11, 22, 10, 0, tzinfo=UTC))
    by_hand = slot + timedelta(minutes=4, seconds=3)  # a first pass at start, or one made due by hand
    assert trigger.get_next_fire_time(by_hand, by_hand) == slot + timedelta(minutes=15)


def test_cron_schedules_run_at_the_times_they_name_for_every_store():
    moments = {
        trigger_for("*/10 * * * *", BERLIN, store=name).get_next_fire_time(
            None, datetime(2026, 11, 22, 10, 1, tzinfo=UTC)
        )
        for name in ("north", "south", "east")
    }
    assert moments == {datetime(2026, 11, 22, 11, 10, tzinfo=BERLIN)}


async def wait_for(condition, seconds=10.0):
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


@pytest.fixture
def clock() -> MovingClock:
    return MovingClock()


@pytest.fixture
def fake(clock: MovingClock) -> FakeWooCommerce:
    return FakeWooCommerce(base_url=URL, consumer_key=ENV["SHOP_KEY"], consumer_secret=ENV["SHOP_SECRET"], now=clock)


def write(path: Path, sold_out: str = "out_of_stock", schedule: str = "every 1h") -> None:
    """The config; an hourly schedule, so that in a test only the passes it makes due run."""
    path.write_text(CONFIG.format(sold_out=sold_out, schedule=schedule))


def meta(record: dict[str, Any], key: str) -> Any:
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
    assert [(p.store, p.mode, p.outcome) for p in daemon.passes][:2] == [
        ("shop", "full", "ok"),
        ("shop", "incremental", "ok"),
    ]
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
    assert [p.outcome for p in daemon.passes][-2:] == ["ok", "ok"]
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


# --- both platforms over loopback HTTP, changed through their own APIs while the daemon runs -----

RULES = """
[[rules]]
name = "restock due"
when = { available = "<= 0", eta_within_days = 60 }
then = { status = "backorder", eta = "restock_date", message = "{message}" }

[[rules]]
name = "sold out"
when = { available = "<= 0" }
then = { status = "out_of_stock" }
"""
STORES = """
state = "state.sqlite"
timezone = "Europe/Berlin"

[[stores]]
name = "woo"
platform = "woocommerce"
url = "{woo_url}"
key_env = "WC_KEY"
secret_env = "WC_SECRET"
schedule = "every 1h"
notify = {{ enabled = true }}

[[stores]]
name = "shopify"
platform = "shopify"
shop = "{shop}"
token_env = "SHOP_TOKEN"
schedule = "every 1h"
notify = {{ enabled = true }}
"""


@pytest.fixture
def two_stores(clock: MovingClock):
    """A WooCommerce and a Shopify sandbox on loopback, each with one kettle in stock (2 left)."""
    restock = (clock.now.astimezone(BERLIN).date() + timedelta(days=10)).isoformat()
    woo = FakeWooCommerce(base_url="http://127.0.0.1", now=clock)
    woo_server = woo_sandbox.serve(woo, "127.0.0.1", 0)
    woo.base_url = f"http://127.0.0.1:{woo_server.server_address[1]}"
    kettle = woo.create_product(
        name="Kettle",
        sku="KTL-W",
        manage_stock=True,
        stock_quantity=2,
        meta_data=[{"key": "restock_date", "value": restock}],
    )
    shop = FakeShopify("sandbox.myshopify.com", now=clock)
    shop_server = shopify_sandbox.serve(shop)
    shop.base_url = f"http://127.0.0.1:{shop_server.server_address[1]}"
    shop.add_location("Warehouse")
    product = shop.create_product(
        "Kettle", variants=[{"sku": "KTL-S", "stock": 2}], metafields={"custom.restock_date": ("date", restock)}
    )
    yield woo, kettle["id"], shop, product.variant_ids[0]
    for server in (woo_server, shop_server):
        server.shutdown()
        server.server_close()


@pytest.fixture
async def api():
    """The merchants' own HTTP client, for both admin APIs."""
    async with httpx.AsyncClient() as client:
        yield client


async def woo_api(api: httpx.AsyncClient, woo: FakeWooCommerce, method: str, path: str, body: dict[str, Any]) -> Any:
    """A request to the store's REST API, as a shop's own tooling sends it."""
    auth = WooCommerceAuth(woo.consumer_key, woo.consumer_secret)
    response = await api.request(method, f"{woo.base_url}/wp-json/wc/v3/{path}", json=body, auth=auth)
    assert response.status_code in (200, 201), response.text
    return response.json()


async def shopify_api(api: httpx.AsyncClient, shop: FakeShopify, query: str, **variables: Any) -> Any:
    """A mutation through the shop's Admin GraphQL API, as its staff's tools send it."""
    response = await api.post(
        f"{shop.base_url}/admin/api/2026-10/graphql.json",
        json={"query": query, "variables": variables},
        headers={"X-Shopify-Access-Token": shop.access_token},
    )
    body = response.json()
    assert not body.get("errors") and not next(iter(body["data"].values()))["userErrors"], body
    return body["data"]


async def test_the_daemon_follows_both_stores_takes_rule_edits_and_tells_each_buyer_once(
    tmp_path, two_stores, clock, api, caplog
):
    caplog.set_level(logging.INFO)
    woo, kettle, shop, variant = two_stores
    config = tmp_path / "connector.toml"
    stores = STORES.format(woo_url=woo.base_url, shop=shop.base_url.removeprefix("http://"))
    config.write_text(stores + RULES.replace("{message}", "Ships by {eta:%-d %B}"))
    environ = {"WC_KEY": woo.consumer_key, "WC_SECRET": woo.consumer_secret, "SHOP_TOKEN": shop.access_token}

    def woo_meta(key: str) -> str | None:
        return meta(woo.get_product(kettle), key)

    def woo_notes() -> list[str]:
        return [n["note"] for order in woo.orders for n in woo.order_notes(order) if n["customer_note"]]

    def shop_notes() -> list[str]:
        # Shopify notices go to an order metafield (the buyer's note is left alone).
        return [
            m.value for (owner, _, key), m in shop.metafields.items() if "/Order/" in owner and key == "stock_notice"
        ]

    async def both_passes(daemon: Daemon) -> None:
        """A quarter of an hour on: both stores' passes are due, and awaited."""
        clock.advance(15)
        runs = daemon.runs
        due_now(daemon, "store:woo", "store:shopify")
        await wait_for(lambda: daemon.runs >= runs + 2)

    daemon = Daemon(config, environ, clock=clock)
    serving = asyncio.create_task(daemon.serve())
    await wait_for(lambda: daemon.runs >= 2)  # each store's first pass, at start
    assert woo_meta("connector_status") == "in_stock"
    assert shop.variant_metafield(variant, "connector.status") == "in_stock"

    # Buyers order 3 kettles in each shop, 2 are on the shelf: the third waits for the restock.
    await woo_api(
        api, woo, "POST", "orders", {"status": "processing", "line_items": [{"product_id": kettle, "quantity": 3}]}
    )
    await shopify_api(
        api,
        shop,
        """mutation Buy($order: OrderCreateOrderInput!, $options: OrderCreateOptionsInput) {
                           orderCreate(order: $order, options: $options) { userErrors { message } } }""",
        order={
            "email": "buyer@example.com",
            "lineItems": [{"variantId": f"gid://shopify/ProductVariant/{variant}", "quantity": 3}],
        },
        options={"inventoryBehaviour": "DECREMENT_IGNORING_POLICY"},
    )
    await both_passes(daemon)
    assert woo_meta("connector_status") == "backorder"
    assert shop.variant_metafield(variant, "connector.status") == "backorder"
    assert woo_notes() == [] and shop_notes() == []  # nobody is told anything new yet

    # The supplier slips by ten days: the merchant moves the restock date in each admin. Each
    # waiting buyer is told once.
    slipped = clock.now.astimezone(BERLIN).date() + timedelta(days=20)
    await woo_api(
        api, woo, "PUT", f"products/{kettle}", {"meta_data": [{"key": "restock_date", "value": slipped.isoformat()}]}
    )
    await shopify_api(
        api,
        shop,
        """mutation Slip($m: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $m) { userErrors { message } } }""",
        m=[
            {
                "ownerId": f"gid://shopify/Product/{shop.variants[variant].product_id}",
                "namespace": "custom",
                "key": "restock_date",
                "type": "date",
                "value": slipped.isoformat(),
            }
        ],
    )
    await both_passes(daemon)
    assert len(woo_notes()) == 1 and len(shop_notes()) == 1

    # A broken edit is refused with its reason and the daemon keeps going; the fixed edit
    # reaches the items of both shops at the next pass, though nothing changed in the stores.
    config.write_text(stores + RULES.replace("eta_within_days = 60", 'eta_within_days = "soon"'))
    await both_passes(daemon)
    assert "config edit rejected" in caplog.text and "eta_within_days" in caplog.text
    assert [p.outcome for p in daemon.passes][-2:] == ["ok", "ok"]
    config.write_text(stores + RULES.replace("{message}", "Back soon: ships by {eta:%-d %B}"))
    await both_passes(daemon)
    assert (woo_meta("connector_message") or "").startswith("Back soon")
    assert (shop.variant_metafield(variant, "connector.message") or "").startswith("Back soon")
    assert "the rules or settings changed" in caplog.text
    daemon.stop()
    assert await asyncio.wait_for(serving, 10) == 0

    # A restart takes up from the state file: the stores' slots have not come round yet (the
    # clock stood still), so no pass runs at start; at the next one nobody is told twice.
    daemon = Daemon(config, environ, clock=clock)
    serving = asyncio.create_task(daemon.serve())
    await wait_for(lambda: hasattr(daemon, "scheduler") and daemon.scheduler.running)
    await asyncio.sleep(0.2)
    assert daemon.runs == 0
    await both_passes(daemon)
    daemon.stop()
    assert await asyncio.wait_for(serving, 10) == 0
    assert [p.mode for p in daemon.passes][-2:] == ["incremental", "incremental"]
    assert len(woo_notes()) == 1 and len(shop_notes()) == 1
    assert f"{slipped.day} {slipped:%B}" in woo_notes()[0] and f"{slipped.day} {slipped:%B}" in shop_notes()[0]


async def test_a_store_whose_credentials_are_not_set_is_unhealthy_and_the_others_run(
    tmp_path, two_stores, clock, caplog
):
    caplog.set_level(logging.INFO)
    woo, kettle, shop, variant = two_stores
    config = tmp_path / "connector.toml"
    config.write_text(
        STORES.format(woo_url=woo.base_url, shop=shop.base_url.removeprefix("http://"))
        + RULES.replace("{message}", "Soon")
    )
    environ = {"WC_KEY": woo.consumer_key, "WC_SECRET": woo.consumer_secret}  # SHOP_TOKEN is not set

    daemon = Daemon(config, environ, clock=clock)
    serving = asyncio.create_task(daemon.serve())
    await wait_for(lambda: daemon.runs >= 2)
    clock.advance(60)
    due_now(daemon, "store:woo", "store:shopify")
    await wait_for(lambda: daemon.runs >= 4)
    daemon.stop()
    assert await asyncio.wait_for(serving, 10) == 0

    assert meta(woo.get_product(kettle), "connector_status") == "in_stock"
    assert shop.variant_metafield(variant, "connector.status") is None
    unhealthy = [r for r in caplog.records if "is unhealthy" in r.getMessage()]
    assert len(unhealthy) == 1 and "shopify" in unhealthy[0].getMessage() and "SHOP_TOKEN" in unhealthy[0].getMessage()
    assert [(p.store, p.outcome) for p in daemon.passes if p.store == "woo"] == [("woo", "ok"), ("woo", "ok")]
    [first, _] = [r for r in caplog.records if r.getMessage().startswith("store woo: ")]
    assert (first.store, first.mode, first.counts, first.items) == ("woo", "full", {"in_stock": 1}, 1)


def test_a_daemon_with_no_store_it_could_run_does_not_start(tmp_path):
    path = tmp_path / "connector.toml"
    path.write_text(CONFIG.format(sold_out="out_of_stock", schedule="every 1h"))
    with pytest.raises(ConfigError, match="SHOP_SECRET"):
        Daemon(path, {"SHOP_KEY": ENV["SHOP_KEY"]})


async def test_passes_over_many_stores_take_turns_within_the_daemons_bound(tmp_path, clock):
    """A daemon carrying many stores runs at most `concurrent_passes` passes at once; the rest wait."""
    stores = ["north", "south", "east"]
    tables = "".join(
        f'[[stores]]\nname = "{name}"\nplatform = "woocommerce"\nurl = "https://{name}.test"\n'
        'key_env = "SHOP_KEY"\nsecret_env = "SHOP_SECRET"\nschedule = "every 1h"\n'
        for name in stores
    )
    path = tmp_path / "connector.toml"
    path.write_text(f'timezone = "Europe/Berlin"\nstate = "state.sqlite"\n{tables}')
    busy: dict[str, int] = dict.fromkeys(stores, 0)
    most_at_once = 0

    def transport(name: str) -> httpx.AsyncBaseTransport:
        store = FakeWooCommerce(
            base_url=f"https://{name}.test", consumer_key=ENV["SHOP_KEY"], consumer_secret=ENV["SHOP_SECRET"], now=clock
        )
        store.create_product(name="Mug", sku=f"MUG-{name}", manage_stock=True, stock_quantity=1)

        async def handle(request: httpx.Request) -> httpx.Response:
            nonlocal most_at_once
            busy[name] += 1
            most_at_once = max(most_at_once, sum(1 for n in busy.values() if n))
            await asyncio.sleep(0.01)  # a store that takes its time: other passes could start meanwhile
            try:
                return store.handle(request)
            finally:
                busy[name] -= 1

        return httpx.MockTransport(handle)

    daemon = Daemon(path, ENV, clock=clock, transports={n: transport(n) for n in stores}, concurrent_passes=1)
    serving = asyncio.create_task(daemon.serve())
    await wait_for(lambda: daemon.runs >= len(stores))
    daemon.stop()
    assert await asyncio.wait_for(serving, 10) == 0
    assert sorted(p.store for p in daemon.passes) == sorted(stores)
    assert all(p.outcome == "ok" for p in daemon.passes)
    assert most_at_once == 1


def named_away_from_its_slot(prefix: str, interval: timedelta) -> str:
    """A store name whose slot is at least a minute from now on either side, so no slot of its
    falls due while the test runs."""
    now = datetime.now(UTC)
    for n in range(100):
        name = f"{prefix}-{n}"
        due = trigger_for(f"every {int(interval.total_seconds())}s", BERLIN, store=name).get_next_fire_time(None, now)
        if timedelta(minutes=1) < due - now < interval - timedelta(minutes=1):
            return name
    raise AssertionError("no such name")


async def test_at_start_only_overdue_stores_pass_at_once_the_others_keep_their_slots_through_reloads(tmp_path):
    """A restart does not make every store due at one moment, and `status` says when each runs."""
    hour = timedelta(hours=1)
    recent = named_away_from_its_slot("recent", hour)
    stores = ["fresh", recent, "stale", "unfinished"]

    def tables(schedule_of: dict[str, str]) -> str:
        return "".join(
            f'[[stores]]\nname = "{name}"\nplatform = "woocommerce"\nurl = "https://{name}.test"\n'
            f'key_env = "SHOP_KEY"\nsecret_env = "SHOP_SECRET"\nschedule = "{schedule_of.get(name, "every 1h")}"\n'
            for name in stores
        )

    path = tmp_path / "connector.toml"
    head = f'timezone = "Europe/Berlin"\nstate = "{tmp_path / "state.sqlite"}"\n'
    path.write_text(head + tables({}))
    # What a previous daemon left in the state file: `recent` passed at its last slot, `stale`
    # two hours ago (its slot passed while no daemon ran), `unfinished` was stopped mid-pass.
    now = datetime.now(UTC)
    last_slot = trigger_for("every 1h", BERLIN, store=recent).get_next_fire_time(None, now) - hour
    for name, started, outcome in [
        (recent, last_slot, RunOutcome.OK),
        ("stale", now - 2 * hour, RunOutcome.OK),
        ("unfinished", now - timedelta(minutes=1), RunOutcome.INTERRUPTED),
    ]:
        earlier = StateStore(tmp_path / "state.sqlite", now=lambda at=started: at.isoformat(timespec="seconds"))
        earlier.runs.finish(earlier.runs.begin(name, PassMode.INCREMENTAL), outcome=outcome)
        earlier.close()

    def transport(name: str) -> httpx.AsyncBaseTransport:
        store = FakeWooCommerce(
            base_url=f"https://{name}.test", consumer_key=ENV["SHOP_KEY"], consumer_secret=ENV["SHOP_SECRET"]
        )
        store.create_product(name="Mug", sku=f"MUG-{name}", manage_stock=True, stock_quantity=1)
        return store.transport()

    daemon = Daemon(path, ENV, transports={name: transport(name) for name in stores})
    serving = asyncio.create_task(daemon.serve())
    await wait_for(lambda: daemon.runs >= 3)
    await asyncio.sleep(0.3)
    assert sorted(p.store for p in daemon.passes) == ["fresh", "stale", "unfinished"]

    def next_runs() -> dict[str, datetime]:
        return {name: daemon.scheduler.get_job(f"store:{name}").next_run_time for name in stores}

    planned = next_runs()
    assert planned[recent] == last_slot + hour
    # `connector status` counts from the state file: it shows the moments the daemon runs them.
    state = StateStore(tmp_path / "state.sqlite")
    try:
        shown = {row["store"]: datetime.fromisoformat(row["next_run"]) for row in status(daemon.config, state)}
    finally:
        state.close()
    assert shown == planned

    # A reload keeps every slot; a store given another interval moves to its slot on that one.
    path.write_text(head + tables({"stale": "every 30m"}))
    due_now(daemon, "config-watch")
    # (Its 30-minute slots include its hourly ones, so the next run itself may not move.)
    await wait_for(lambda: daemon.scheduler.get_job("store:stale").trigger.interval == timedelta(minutes=30))
    moved = next_runs()
    assert {n: moved[n] for n in stores if n != "stale"} == {n: planned[n] for n in stores if n != "stale"}
    thirty = trigger_for("every 30m", BERLIN, store="stale")
    assert moved["stale"] == thirty.get_next_fire_time(None, datetime.now(UTC))
    daemon.stop()
    assert await asyncio.wait_for(serving, 10) == 0
