"""One rules file, a WooCommerce and a Shopify copy of one catalogue: the same statuses, ETAs and messages."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import httpx

from stockstatus.adapters.shopify.client import Credentials, ShopifyAdapter
from stockstatus.adapters.shopify.fake import FakeShopify, generated_catalogue, sandbox
from stockstatus.adapters.shopify.settings import ShopifySettings
from stockstatus.core import catalogue, demo
from stockstatus.core.config import from_mapping
from stockstatus.core.platform import platforms
from stockstatus.core.state import StateStore
from stockstatus.core.sync import resync
from tests.conftest import FIXED_NOW


async def test_the_same_rules_give_the_same_decisions_on_both_platforms(tmp_path: Path):
    raw = demo.demo_settings()
    today = catalogue.demo(FIXED_NOW.date())
    environ: dict[str, str] = {}
    transports: dict[str, httpx.AsyncBaseTransport] = {}
    raw["stores"] = []
    for name in ("woocommerce", "shopify"):
        store = platforms()[name].demo_store(today)
        raw["stores"].append({"name": name, "platform": name, **store.settings})
        environ.update(store.environ)
        transports[name] = store.transport
    config = from_mapping(raw, path=tmp_path / "connector.toml", base_dir=tmp_path)
    state = StateStore(":memory:")
    try:
        runs = await resync(config, state=state, clock=lambda: FIXED_NOW, environ=environ, transports=transports)
        again = await resync(config, state=state, clock=lambda: FIXED_NOW, environ=environ, transports=transports)
    finally:
        state.close()
    assert [r.outcome for r in runs + again] == ["ok"] * 4
    decided = {
        run.platform: {c.item.sku: (c.decision.status, c.decision.eta, c.decision.message) for c in run.changes}
        for run in runs
    }
    assert decided["shopify"] == decided["woocommerce"]
    assert {status.value for status, _, _ in decided["shopify"].values()} == {
        "in_stock",
        "backorder",
        "pre_order",
        "out_of_stock",
    }
    assert all(run.changes == [] for run in again)


async def test_the_sandbox_serves_over_loopback_http():
    fake = FakeShopify("sandbox.myshopify.com")
    server = sandbox.serve(fake)
    port = server.server_address[1]
    fake.base_url = f"http://127.0.0.1:{port}"
    generated_catalogue(fake, 5)
    try:
        settings = ShopifySettings(shop=f"127.0.0.1:{port}", token_env="T")
        async with httpx.AsyncClient() as client:
            adapter = ShopifyAdapter(settings, client, Credentials(token=fake.access_token))
            await adapter.check()
            assert len(await adapter.pull_items()) == len(fake.variants)
    finally:
        server.shutdown()
        server.server_close()


def test_the_sandbox_banner_names_the_plan_url_and_token():
    out = io.StringIO()
    stop = threading.Event()
    stop.set()
    sandbox.run(port=0, catalogue=catalogue.generated(3, FIXED_NOW.date()), plan="advanced", out=out, wait=stop.wait)
    text = out.getvalue()
    assert "plan advanced: bucket 4000 points, restores 200 points/s" in text
    assert 'shop = "127.0.0.1:' in text and "shpat_" in text and "sandbox stopped" in text
