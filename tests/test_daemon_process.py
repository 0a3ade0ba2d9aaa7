"""The daemon as an operator runs it: a real process against loopback stores, edited and stopped while it runs."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from stockstatus.adapters.shopify.fake import FakeShopify
from stockstatus.adapters.shopify.fake import sandbox as shopify_sandbox
from stockstatus.adapters.woocommerce.auth import WooCommerceAuth
from stockstatus.adapters.woocommerce.fake import FakeWooCommerce
from stockstatus.adapters.woocommerce.fake import sandbox as woo_sandbox
from stockstatus.core.loopback import serve

PRODUCTS = 900


@pytest.fixture
def slow_store():
    """A store whose batch writes take a while, as they do on a real one (~45 ms per item saved)."""
    fake = FakeWooCommerce(base_url="http://127.0.0.1")
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
    env = {**os.environ, "WC_KEY": fake.consumer_key, "WC_SECRET": fake.consumer_secret}
    return subprocess.Popen(
        [sys.executable, "-m", "connector.cli", "--config", str(config), "--log-level", "INFO", "run"],
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


# --- both platforms, changed through their own APIs while the daemon runs ---------------------

BERLIN = ZoneInfo("Europe/Berlin")
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
schedule = "every 1s"
notify = {{ enabled = true }}

[[stores]]
name = "shopify"
platform = "shopify"
shop = "{shop}"
token_env = "SHOP_TOKEN"
schedule = "every 1s"
notify = {{ enabled = true }}
"""


@pytest.fixture
def two_stores():
    """A WooCommerce and a Shopify sandbox on loopback, each with one kettle in stock (2 left)."""
    restock = (datetime.now(BERLIN).date() + timedelta(days=10)).isoformat()
    woo = FakeWooCommerce(base_url="http://127.0.0.1")
    woo_server = woo_sandbox.serve(woo, "127.0.0.1", 0)
    woo.base_url = f"http://127.0.0.1:{woo_server.server_address[1]}"
    kettle = woo.create_product(
        name="Kettle",
        sku="KTL-W",
        manage_stock=True,
        stock_quantity=2,
        meta_data=[{"key": "restock_date", "value": restock}],
    )
    shop = FakeShopify("sandbox.myshopify.com")
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


class Running:
    """`connector run` in a process; its log lines are collected as they come."""

    def __init__(self, config: Path, environ: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "connector.cli", "--config", str(config), "--log-level", "INFO", "run"],
            env={**os.environ, **environ},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def _collect(self) -> None:
        """The last lines read, and the pipe closed (the process has ended)."""
        self._reader.join(5)
        assert self.process.stdout is not None
        self.process.stdout.close()

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def until(self, what: str, check: Callable[[], bool], seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while not check():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                self._collect()
                raise AssertionError(f"{what}: not seen; daemon output:\n{self.output}")
            time.sleep(0.1)

    def logged(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def stop(self) -> str:
        """SIGTERM; the process must exit 0."""
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        finally:
            self.process.kill()
            self._collect()
        assert self.process.returncode == 0, self.output
        return self.output


def woo_api(woo: FakeWooCommerce, method: str, path: str, body: dict[str, Any]) -> Any:
    auth = WooCommerceAuth(woo.consumer_key, woo.consumer_secret)
    response = httpx.request(method, f"{woo.base_url}/wp-json/wc/v3/{path}", json=body, auth=auth)
    assert response.status_code in (200, 201), response.text
    return response.json()


def shopify_api(shop: FakeShopify, query: str, **variables: Any) -> Any:
    response = httpx.post(
        f"{shop.base_url}/admin/api/2026-10/graphql.json",
        json={"query": query, "variables": variables},
        headers={"X-Shopify-Access-Token": shop.access_token},
    )
    body = response.json()
    assert not body.get("errors") and not next(iter(body["data"].values()))["userErrors"], body
    return body["data"]


def test_the_daemon_follows_both_stores_takes_rule_edits_and_tells_each_buyer_once(tmp_path, two_stores):
    woo, kettle, shop, variant = two_stores
    config = tmp_path / "connector.toml"
    stores = STORES.format(woo_url=woo.base_url, shop=shop.base_url.removeprefix("http://"))
    config.write_text(stores + RULES.replace("{message}", "Ships by {eta:%-d %B}"))
    environ = {"WC_KEY": woo.consumer_key, "WC_SECRET": woo.consumer_secret, "SHOP_TOKEN": shop.access_token}

    def woo_meta(key: str) -> str | None:
        return next((m["value"] for m in woo.get_product(kettle)["meta_data"] if m["key"] == key), None)

    def woo_notes() -> list[str]:
        return [n["note"] for order in woo.orders for n in woo.order_notes(order) if n["customer_note"]]

    def shop_notes() -> list[str]:
        # Shopify notices go to an order metafield (the buyer's note is left alone).
        return [
            m.value for (owner, _, key), m in shop.metafields.items() if "/Order/" in owner and key == "stock_notice"
        ]

    daemon = Running(config, environ)
    daemon.until(
        "both kettles shown in stock",
        lambda: (
            woo_meta("connector_status") == "in_stock"
            and shop.variant_metafield(variant, "connector.status") == "in_stock"
        ),
    )

    # Buyers order 3 kettles in each shop, 2 are on the shelf: the third waits for the restock.
    woo_api(woo, "POST", "orders", {"status": "processing", "line_items": [{"product_id": kettle, "quantity": 3}]})
    shopify_api(
        shop,
        """mutation Buy($order: OrderCreateOrderInput!, $options: OrderCreateOptionsInput) {
                           orderCreate(order: $order, options: $options) { userErrors { message } } }""",
        order={
            "email": "buyer@example.com",
            "lineItems": [{"variantId": f"gid://shopify/ProductVariant/{variant}", "quantity": 3}],
        },
        options={"inventoryBehaviour": "DECREMENT_IGNORING_POLICY"},
    )
    daemon.until(
        "both kettles on backorder",
        lambda: (
            woo_meta("connector_status") == "backorder"
            and shop.variant_metafield(variant, "connector.status") == "backorder"
        ),
    )

    # The supplier slips by ten days: the merchant moves the restock date in each admin. Each
    # waiting buyer is told once.
    slipped = datetime.now(BERLIN).date() + timedelta(days=20)
    woo_api(woo, "PUT", f"products/{kettle}", {"meta_data": [{"key": "restock_date", "value": slipped.isoformat()}]})
    shopify_api(
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
    daemon.until("each buyer told of the new date", lambda: len(woo_notes()) == 1 and len(shop_notes()) == 1)

    # A broken edit is refused with its reason and the daemon keeps going; the fixed edit
    # reaches the items of both shops at the next pass, though nothing changed in the stores.
    config.write_text(stores + RULES.replace("eta_within_days = 60", 'eta_within_days = "soon"'))
    daemon.until("the broken edit refused", lambda: daemon.logged("config edit rejected"))
    assert daemon.logged("eta_within_days")
    config.write_text(stores + RULES.replace("{message}", "Back soon: ships by {eta:%-d %B}"))
    daemon.until(
        "the edited message in both shops",
        lambda: (
            (woo_meta("connector_message") or "").startswith("Back soon")
            and (shop.variant_metafield(variant, "connector.message") or "").startswith("Back soon")
        ),
    )
    assert daemon.logged("the rules or settings changed")
    assert "daemon stopped" in daemon.stop()

    # A restart takes up from the state file: nobody is told twice.
    daemon = Running(config, environ)
    daemon.until("a pass after the restart", lambda: daemon.logged("incremental pass"))
    daemon.stop()
    assert len(woo_notes()) == 1 and len(shop_notes()) == 1
    assert f"{slipped.day} {slipped:%B}" in woo_notes()[0] and f"{slipped.day} {slipped:%B}" in shop_notes()[0]
