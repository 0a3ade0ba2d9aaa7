"""Benchmark: `connector restore` after a first pass over a generated catalogue, on both platforms' fakes.

Prints, per platform, the first pass's write requests and time, the fields it recorded, then the
restore's write requests and time, and the ratio of the two: a restore writes in the same
batches as a pass, so the ratio stays near 1 whatever the size.

    python tests/benchmarks/restore.py --products 1000

The fakes answer in-process at once, so the times are the connector's own cost; on a real
store the write requests dominate, which is what the ratio compares.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from stockstatus.adapters.shopify.fake import FakeShopify
from stockstatus.adapters.shopify.fake import seed as seed_shopify
from stockstatus.adapters.woocommerce.fake import FakeWooCommerce
from stockstatus.adapters.woocommerce.fake import seed as seed_woocommerce
from stockstatus.core import catalogue, demo
from stockstatus.core.config import from_mapping
from stockstatus.core.state import StateStore
from stockstatus.core.sync import resync
from stockstatus.core.sync.restore import Fate, restore_store

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


class Counting(httpx.AsyncBaseTransport):
    """Passes requests to a fake and counts those that write (a REST write, a GraphQL mutation)."""

    def __init__(self, inner: httpx.MockTransport) -> None:
        self.inner = inner
        self.writes = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = request.content
        graphql = request.url.path.endswith("graphql.json")
        if (graphql and b"mutation" in body) or (not graphql and request.method not in ("GET", "HEAD")):
            self.writes += 1
        return await self.inner.handle_async_request(request)


def store(platform: str, products: int) -> tuple[dict[str, Any], dict[str, str], Counting]:
    goods = catalogue.generated(products, NOW.date())
    if platform == "woocommerce":
        woo = FakeWooCommerce(base_url="https://bench.example", consumer_key="ck_" + "a" * 40)
        seed_woocommerce(woo, goods)
        settings = {"url": woo.base_url, "key_env": "K", "secret_env": "S"}
        return settings, {"K": woo.consumer_key, "S": woo.consumer_secret}, Counting(woo.transport())
    shop = FakeShopify("bench.myshopify.com", access_token="shpat_" + "b" * 32, plan="plus")
    seed_shopify(shop, goods)
    settings = {"shop": shop.shop, "token_env": "T", "tags": {"backorder": "backorder"}}
    return settings, {"T": shop.access_token}, Counting(shop.transport())


async def measure(platform: str, products: int) -> None:
    settings, environ, counting = store(platform, products)
    folder = Path(tempfile.mkdtemp())
    raw = demo.demo_settings()
    raw["stores"] = [{"name": "bench", "platform": platform, **settings}]
    config = from_mapping(raw, path=folder / "connector.toml", base_dir=folder)
    state = StateStore(folder / "state.sqlite")
    try:
        started = time.monotonic()
        [run] = await resync(
            config, state=state, clock=lambda: NOW, environ=environ, transports={"bench": counting}, force=True
        )
        pass_seconds, pass_writes = time.monotonic() - started, counting.writes
        recorded = len(state.originals.for_store("bench"))
        counting.writes = 0
        started = time.monotonic()
        restored = await restore_store(
            config, store_name="bench", state=state, environ=environ, transports={"bench": counting}
        )
        restore_seconds = time.monotonic() - started
    finally:
        state.close()
    print(
        f"{platform}: {run.items} items; pass wrote {run.written} items in {pass_writes} write requests "
        f"({pass_seconds:.2f}s), recording {recorded} fields; restore put {restored.count(Fate.RESTORED)} back "
        f"in {counting.writes} write requests ({restore_seconds:.2f}s), {restored.outcome.value}; "
        f"restore/pass write requests {counting.writes / max(pass_writes, 1):.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=500)
    parser.add_argument("--platform", choices=["woocommerce", "shopify", "both"], default="both")
    args = parser.parse_args()
    for platform in ("woocommerce", "shopify") if args.platform == "both" else (args.platform,):
        asyncio.run(measure(platform, args.products))


if __name__ == "__main__":
    main()
