"""The status page over a state file built by real passes against a WooCommerce and a Shopify sandbox
(tests/status_shops.py): what an operator reads on each page, who may read it, and that no secret
is ever on it. The page is served on 127.0.0.1; requests "from another machine" are made by
injecting the peer address the access rule sees (no test binds anything but loopback)."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
import sqlite_utils
from aiohttp.test_utils import TestClient, TestServer

from stockstatus.core.state import MIGRATIONS, StateStore
from stockstatus.core.web import Deliveries, status_app, views
from stockstatus.core.web.access import COOKIE
from stockstatus.core.web.serve import split_address, start
from tests.conftest import FIXED_NOW
from tests.status_shops import HANDLING_DAYS, PO_DAYS, RELEASE_DAYS, Sandboxes, in_days, pinned, run_passes, sandboxes

TOKEN = "status-page-token-7f3a9c2e41b8"
OUTSIDE = "203.0.113.9"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandboxes]:
    """Both sandboxes with their passes run once for the module: eu-shop paused, us-shop held."""
    with pytest.MonkeyPatch.context() as patch, sandboxes(tmp_path_factory.mktemp("status")) as boxes:
        for name, value in boxes.environ.items():
            patch.setenv(name, value)
        patch.delenv("CONNECTOR_CONFIG", raising=False)
        run_passes(boxes)
        yield boxes


def environ(boxes: Sandboxes, **extra: str) -> dict[str, str]:
    return {**boxes.environ, "STATUS_TOKEN": TOKEN, **extra}


async def client(boxes: Sandboxes, *, peer: str = "127.0.0.1", **options) -> TestClient:
    options.setdefault("environ", environ(boxes))
    app = status_app(boxes.load(), clock=pinned, peer=lambda request: peer, **options)
    started = TestClient(TestServer(app, host="127.0.0.1"))
    await started.start_server()
    return started


async def page(boxes: Sandboxes, path: str, **options) -> tuple[int, str]:
    c = await client(boxes, **options)
    try:
        response = await c.get(path, allow_redirects=False)
        return response.status, await response.text()
    finally:
        await c.close()


def text_of(html: str) -> str:
    """What a person reads: the HTML without tags, styles and the chart's drawing, spaces collapsed."""
    html = re.sub(r"<style>.*?</style>", " ", html, flags=re.S)
    html = re.sub(r"<[^>]+>", " ", html)
    html = html.replace("&lt;", "<").replace("&gt;", ">").replace("&#39;", "'").replace("&amp;", "&")
    return re.sub(r"\s+", " ", html)


def card(html: str, store: str) -> str:
    found = re.search(rf'<section class="card" id="store-{store}".*?</section>', html, flags=re.S)
    assert found, f"no card for {store}"
    return text_of(found.group(0))


# ---- the overview ----------------------------------------------------------------------------


async def test_the_overview_says_which_store_is_paused_and_which_is_held_and_why(built):
    status, html = await page(built, "/")
    assert status == 200
    eu, us = card(html, "eu-shop"), card(html, "us-shop")
    assert "paused" in eu and "stocktake until Monday" in eu and "connector resume eu-shop" in eu
    assert "held" in us and "would turn 10 of 13 items (77%) out of stock" in us
    assert "connector resync --store us-shop --force" in us
    # Last and next run in the store's timezone (10:00 UTC is 11:00 in Berlin), mode and outcome.
    assert "2026-11-22 11:00 CET · full · ok" in eu and "2026-11-22 11:00 CET · full · held" in us
    # eu-shop runs every 15 minutes in its slot (1 min 9 s past the quarter), us-shop on a cron.
    assert "next run 2026-11-22 11:01 CET" in eu and "next run 2026-11-22 11:10 CET" in us
    # Counts by status: what each store accepted.
    assert "1 in_stock 1 backorder 1 pre_order 1 out_of_stock" in eu
    assert "12 in_stock 1 backorder 0 pre_order 0 out_of_stock" in us


async def test_what_the_daemon_knows_shows_on_the_overview(built):
    class Daemon:
        def next_run(self, store: str) -> datetime | None:
            return FIXED_NOW + timedelta(minutes=3)

        def pass_running(self, store: str) -> bool:
            return store == "us-shop"

        def deliveries(self, store: str) -> Deliveries | None:
            if store != "eu-shop":
                return None
            return Deliveries({"applied": 5, "rejected": 1}, FIXED_NOW - timedelta(minutes=2), lag_seconds=4.2)

    status, html = await page(built, "/", live=lambda config, state: Daemon())
    assert status == 200
    eu, us = card(html, "eu-shop"), card(html, "us-shop")
    assert "next run 2026-11-22 11:03 CET" in eu
    assert "6 in the last 24 h, 5 applied · 1 rejected; last 2026-11-22 10:58 CET; lag 4 s" in eu
    assert "a pass is running now" in us and "not known" in us


async def test_webhook_deliveries_recorded_in_the_state_file_are_counted(built, tmp_path):
    copy = tmp_path / "with-deliveries.sqlite"
    state = StateStore.copy_of(built.load().state_path)
    state.db.execute("VACUUM INTO ?", [str(copy)])
    state.close()
    state = StateStore(copy)
    state.db.table("deliveries").insert_all(
        {
            "store": "us-shop",
            "delivery_id": f"d{n}",
            "topic": "inventory_levels/update",
            "received_at": (FIXED_NOW - timedelta(hours=hours)).isoformat(),
            "outcome": outcome,
            "items": 1,
        }
        for n, (hours, outcome) in enumerate([(1, "applied"), (2, "applied"), (30, "applied"), (3, "rejected")])
    )
    state.close()
    config = built.load()
    moved = type(config)(**{**{f: getattr(config, f) for f in config.__dataclass_fields__}, "state_path": copy})
    app = status_app(moved, environ=environ(built), clock=pinned)
    async with TestClient(TestServer(app, host="127.0.0.1")) as c:
        html = await (await c.get("/")).text()
    # The delivery 30 hours old is outside the day counted; the newest is shown in Berlin time.
    assert "3 in the last 24 h, 2 applied · 1 rejected; last 2026-11-22 10:00 CET" in card(html, "us-shop")


# ---- a store's items -------------------------------------------------------------------------


async def test_a_stores_items_filter_by_status_and_show_eta_limit_and_queue(built):
    status, html = await page(built, "/stores/eu-shop?status=backorder")
    assert status == 200
    rows = re.findall(r'<tr data-sku="([^"]+)">(.*?)</tr>', html, flags=re.S)
    assert [sku for sku, _ in rows] == ["KTL-1"]
    cells = text_of(rows[0][1])
    eta = in_days(PO_DAYS + HANDLING_DAYS).isoformat()
    assert f"KTL-1 Stagg Kettle backorder {eta}" in cells and " 2 " in cells  # two units waiting
    assert "1 item(s) with status backorder" in text_of(html)


async def test_a_stores_items_are_searched_by_sku_or_name(built):
    _, by_name = await page(built, "/stores/eu-shop?q=grinder")
    assert re.findall(r'data-sku="([^"]+)"', by_name) == ["PRE-1"]
    _, by_sku = await page(built, "/stores/us-shop?q=LAMP-1")
    assert re.findall(r'data-sku="([^"]+)"', by_sku) == ["LAMP-1", "LAMP-10", "LAMP-11"]
    _, none = await page(built, "/stores/us-shop?q=100%25")  # "%" is searched for, not a wildcard
    assert "No item matches." in none


async def test_a_stores_items_come_in_pages(built, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 5)
    _, first = await page(built, "/stores/us-shop")
    _, last = await page(built, "/stores/us-shop?page=3")
    assert len(re.findall(r"data-sku=", first)) == 5 and "page 1 of 3" in text_of(first)
    assert re.findall(r'data-sku="([^"]+)"', last) == ["LAMP-8", "LAMP-9", "LAMP-XL"]
    assert 'rel="prev"' in last and 'rel="next"' not in last


@pytest.mark.parametrize(
    ("path", "code", "says"),
    [
        ("/stores/eu-shop?status=sold", 400, "status filter 'sold': use one of in_stock, backorder"),
        ("/stores/eu-shop?page=two", 400, "page 'two': give a page number"),
        ("/stores/nowhere", 404, "no store named 'nowhere' in the config"),
    ],
)
async def test_bad_input_gets_a_clear_answer_naming_it(built, path, code, says):
    status, html = await page(built, path)
    assert status == code and says in text_of(html)


# ---- a SKU -----------------------------------------------------------------------------------


async def test_a_sku_page_says_what_rules_explain_says_and_draws_its_eta(built, capsys):
    capsys.readouterr()
    assert await asyncio.to_thread(built.cli, "rules", "explain", "KTL-1", "--store", "eu-shop", "--json") == 0
    [cli] = json.loads(capsys.readouterr().out)["items"]
    status, html = await page(built, "/stores/eu-shop/skus/KTL-1")
    assert status == 200
    shown = text_of(html)
    eta = cli["decision"]["eta"]
    assert eta == in_days(PO_DAYS + HANDLING_DAYS).isoformat()
    assert f'data-eta="{eta}"' in html  # the chart's ETA marker
    assert f'data-crossing="{in_days(PO_DAYS).isoformat()}"' in html
    assert f"ETA {eta}" in shown and "(rule “backorder while a shipment is due”)" in shown
    for line in cli["timeline"][1:-1]:  # every row of explain's timeline is in the page's table
        day, incoming, _, total = line.split()[:4]
        assert f"{day} {incoming} {total}" in shown
    assert "next unit covered on " + in_days(PO_DAYS).isoformat() in shown.lower()
    for order in cli["decision"]["order_etas"]:
        assert f"{order['order_id']} {order['now']} {order['later']} {order['ships_by']}" in shown
    for rule in cli["rules"]:
        assert rule["name"] in shown
    # History: the change the first pass wrote, in the store's timezone.
    assert "2026-11-22 11:00 CET out_of_stock → backorder" in shown


async def test_a_pre_order_page_marks_its_release(built):
    status, html = await page(built, "/stores/eu-shop/skus/PRE-1")
    assert status == 200
    release = in_days(RELEASE_DAYS)
    assert f'data-eta="{release.isoformat()}"' in html and "pre_order" in text_of(html)


async def test_a_store_that_cannot_be_read_is_said_so_not_shown_out_of_stock(built, no_backoff):
    down = httpx.MockTransport(lambda request: httpx.Response(503, text="maintenance"))
    status, html = await page(built, "/stores/eu-shop/skus/MUG-1", transports={"eu-shop": down})
    shown = text_of(html)
    assert status == 200 and "could not read the store to explain this SKU" in shown
    assert "out_of_stock" not in re.sub(r"History of changes.*", "", shown)


async def test_an_unknown_sku_says_the_store_lists_no_such_item(built):
    status, html = await page(built, "/stores/eu-shop/skus/NOPE-9")
    assert status == 200 and "the store lists no item with this SKU now" in text_of(html)


# ---- access ----------------------------------------------------------------------------------


async def test_another_address_without_the_token_is_refused(built):
    for path in ("/", "/stores/eu-shop", "/stores/eu-shop/skus/KTL-1"):
        status, html = await page(built, path, peer=OUTSIDE)
        assert status == 401 and "access token" in html
        assert "eu-shop" not in html and "KTL-1" not in text_of(html)


async def test_another_address_with_a_wrong_token_is_refused(built):
    c = await client(built, peer=OUTSIDE)
    try:
        wrong = await c.get("/", headers={"Authorization": "Bearer nope"})
        by_query = await c.get("/?token=nope", allow_redirects=False)
        forged = await c.get("/", cookies={COOKIE: TOKEN})  # the cookie holds a digest, not the token
        assert [wrong.status, by_query.status, forged.status] == [401, 401, 401]
    finally:
        await c.close()


async def test_another_address_with_the_bearer_token_reads_the_page(built):
    c = await client(built, peer=OUTSIDE)
    try:
        response = await c.get("/stores/us-shop", headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status == 200 and "LAMP-XL" in await response.text()
    finally:
        await c.close()


async def test_a_token_in_the_address_becomes_a_strict_cookie_and_leaves_the_address(built):
    c = await client(built, peer=OUTSIDE)
    try:
        response = await c.get(f"/stores/eu-shop?status=backorder&token={TOKEN}", allow_redirects=False)
        assert response.status == 303
        assert response.headers["Location"] == "/stores/eu-shop?status=backorder"
        cookie = response.headers["Set-Cookie"]
        assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert TOKEN not in cookie
        followed = await c.get("/stores/eu-shop?status=backorder")  # the client sends the cookie back
        assert followed.status == 200 and 'data-sku="KTL-1"' in await followed.text()
    finally:
        await c.close()


async def test_without_a_configured_token_only_loopback_is_served(built):
    unset = {k: v for k, v in environ(built).items() if k != "STATUS_TOKEN"}
    status, html = await page(built, f"/?token={TOKEN}", peer=OUTSIDE, environ=unset)
    assert status == 401 and "the variable STATUS_TOKEN, which [listen] status_token_env names, is not set" in html
    for loopback in ("127.0.0.1", "::1", "::ffff:127.0.0.1"):
        status, _ = await page(built, "/", peer=loopback, environ=unset)
        assert status == 200


async def test_paths_the_page_does_not_own_are_left_to_the_listener(built):
    # A webhook delivery from a store's address must not meet the page's token check.
    status, _ = await page(built, "/webhooks/eu-shop", peer=OUTSIDE)
    assert status == 404


# ---- what is on every page -------------------------------------------------------------------


def every_path() -> list[str]:
    skus = {"eu-shop": ["KTL-1", "MUG-1", "OLD-1", "PRE-1"], "us-shop": ["LAMP-XL", "LAMP-0"]}
    paths = ["/", "/stores/nowhere", "/stores/eu-shop?status=sold"]
    for store, listed in skus.items():
        paths += [f"/stores/{store}", *(f"/stores/{store}/skus/{sku}" for sku in listed)]
    return paths


async def test_no_secret_is_on_any_page(built):
    secrets = list(environ(built).values())
    c = await client(built)
    try:
        for path in every_path():
            response = await c.get(path)
            body = await response.text()
            headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
            for secret in secrets:
                assert secret not in body and secret not in headers, f"{path} shows a secret"
    finally:
        await c.close()


async def test_pages_load_nothing_from_elsewhere_and_fit_a_phone(built):
    c = await client(built)
    try:
        for path in every_path():
            response = await c.get(path)
            body = await response.text()
            assert "default-src 'none'" in response.headers["Content-Security-Policy"]
            assert response.headers["Cache-Control"] == "no-store"
            assert not re.search(r"<(script|link|img|iframe)\b", body), path
            # The one URL on a page is the SVG namespace, which is a name, never fetched.
            assert set(re.findall(r"https?://[^\s\"'<>]+", body)) <= {"http://www.w3.org/2000/svg"}, path
            assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in body
    finally:
        await c.close()


def test_the_token_variable_is_checked_as_a_name_not_a_value(tmp_path: Path):
    from stockstatus.core import config as config_module
    from stockstatus.core.errors import ConfigError

    path = tmp_path / "connector.toml"
    path.write_text(
        f'[listen]\nstatus_token_env = "{TOKEN}"\n[[stores]]\nname = "s"\nplatform = "woocommerce"\n'
        'url = "https://shop.example.com"\nkey_env = "K"\nsecret_env = "S"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as raised:
        config_module.load(path)
    assert "listen.status_token_env" in str(raised.value) and TOKEN not in str(raised.value)


async def test_the_page_never_writes_the_state_file(built):
    path = built.load().state_path
    before = path.read_bytes(), path.stat().st_mtime_ns
    c = await client(built)
    try:
        for url in every_path():
            assert (await c.get(url)).status in (200, 400, 404)
    finally:
        await c.close()
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_a_state_file_an_older_connector_wrote_is_read_from_an_upgraded_copy(tmp_path: Path):
    # A file at schema version 1 (the first release): one run recorded.
    path = tmp_path / "old.sqlite"
    db = sqlite_utils.Database(path)
    db.table("migrations").create({"version": int, "name": str, "applied_at": str}, pk="version")
    MIGRATIONS[0].apply(db)
    db.table("migrations").insert({"version": 1, "name": MIGRATIONS[0].name, "applied_at": "2026-01-01T00:00:00+00:00"})
    db.table("runs").insert(
        {"store": "shop", "mode": "full", "started_at": "2026-01-01T00:00:00+00:00", "outcome": "ok"}
    )
    db.close()
    before = path.read_bytes()
    reader = StateStore.read_only(path)
    try:
        assert reader.path is None  # an in-memory copy, upgraded there
        assert [r.outcome.value for r in reader.runs.recent("shop")] == ["ok"]
    finally:
        reader.close()
    assert path.read_bytes() == before  # the file is left as the older connector wrote it
    missing = StateStore.read_only(tmp_path / "missing.sqlite")
    assert missing.runs.recent("shop") == [] and not (tmp_path / "missing.sqlite").exists()
    missing.close()


async def test_served_on_an_address_the_access_log_never_shows_the_token(built, caplog):
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    serving = await start(status_app(built.load(), environ=environ(built), clock=pinned), "127.0.0.1:0")
    try:
        assert serving.port > 0 and serving.url == f"http://127.0.0.1:{serving.port}"
        async with httpx.AsyncClient() as http:
            response = await http.get(f"{serving.url}/stores/eu-shop?status=backorder&token={TOKEN}")
        assert response.status_code == 200  # loopback: the token is not needed, and not echoed
    finally:
        await serving.stop()
    logged = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert logged == [logged[0]] and logged[0].startswith("GET /stores/eu-shop 200")
    assert TOKEN not in caplog.text


@pytest.mark.parametrize("address", ["8787", "localhost", "127.0.0.1:http", ":8787", "127.0.0.1:70000"])
def test_a_bad_address_is_refused_naming_it(address):
    with pytest.raises(ValueError, match=re.escape(f"address {address!r}: give host:port, e.g. 127.0.0.1:8787")):
        split_address(address)


@pytest.mark.parametrize(
    "header", [("X-Forwarded-For", OUTSIDE), ("Forwarded", f"for={OUTSIDE};proto=https"), ("X-Real-IP", OUTSIDE)]
)
async def test_a_request_a_proxy_on_this_machine_forwarded_needs_the_token(built, header):
    c = await client(built, peer="127.0.0.1")
    try:
        refused = await c.get("/", headers=dict([header]))
        allowed = await c.get("/", headers=dict([header, ("Authorization", f"Bearer {TOKEN}")]))
        assert (refused.status, allowed.status) == (401, 200)
    finally:
        await c.close()


async def test_a_sku_of_a_paused_or_held_store_says_no_pass_writes_to_it(built):
    _, paused = await page(built, "/stores/eu-shop/skus/MUG-1")
    _, held = await page(built, "/stores/us-shop/skus/LAMP-0")
    assert "The store is paused" in text_of(paused) and "stocktake until Monday" in text_of(paused)
    assert "The store is held" in text_of(held) and "connector resync --store us-shop --force" in text_of(held)


async def test_a_page_that_fails_says_so_and_the_next_one_is_served(built, caplog):
    async def broken(config, store, sku):
        raise RuntimeError("the explanation broke")

    c = await client(built, explainer=broken)
    try:
        failed = await c.get("/stores/eu-shop/skus/KTL-1")
        assert failed.status == 500 and "this page failed" in await failed.text()
        assert failed.headers["Cache-Control"] == "no-store"
        assert (await c.get("/")).status == 200
    finally:
        await c.close()
    assert "the explanation broke" in caplog.text
