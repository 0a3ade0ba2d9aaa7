"""Benchmark: a Shopify pull at 1 to 250 active locations, against the in-process fake.

Prints, per number of active locations (all counted, the default: they fulfil online orders),
the requests a full pull and then an incremental pull after one sale made, the largest cost one request asked
for (Shopify refuses more than 1,000 points), and the points all of them asked for. The last
column is what the first page of ten variants cost when every active location's level was read
with `inventoryLevels(first: <active locations>)`: 2 + 10 x (14 + 3 x locations), refused from
29 locations on.

    python tests/benchmarks/shopify_locations.py --variants 200
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime, timedelta

import httpx

from stockstatus.adapters.shopify.client import Credentials, ShopifyAdapter
from stockstatus.adapters.shopify.fake import FakeClock, FakeShopify
from stockstatus.adapters.shopify.settings import ShopifySettings
from stockstatus.core.http import HttpPolicy

SHOP = "bench.myshopify.com"


async def measure(locations: int, variants: int) -> tuple[int, int, int, int, int, float]:
    clock = FakeClock()
    now = datetime(2026, 11, 22, 9, tzinfo=UTC)
    wall = [now - timedelta(hours=1)]  # the catalogue is an hour old; one sale happens now
    fake = FakeShopify(SHOP, clock=clock, now=lambda: wall[0], plan="plus")
    names = [f"Store {n:03d}" for n in range(locations)]
    for name in names:
        fake.add_location(name)
    for n in range(variants):
        fake.create_product(f"Lamp {n}", variants=[{"sku": f"L-{n}", "stock": {names[n % locations]: 3}}])
    adapter = ShopifyAdapter(
        ShopifySettings(shop=SHOP, token_env="T"),
        httpx.AsyncClient(transport=fake.transport()),
        Credentials(token=fake.access_token),
        policy=HttpPolicy(attempts=4),
        sleep=clock.sleep,
        clock=clock,
    )
    started = time.perf_counter()
    await adapter.pull_items()
    full = len(fake.log)
    wall[0] = now
    fake.set_available(fake.products[min(fake.products)].variant_ids[0], 7, location=names[-1])  # one sale
    await adapter.pull_changed(now - timedelta(minutes=1))
    elapsed = time.perf_counter() - started
    requested = [e["requested"] or 0 for e in fake.log]
    return full, len(fake.log) - full, max(requested), sum(requested), 2 + 10 * (14 + 3 * locations), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=200)
    args = parser.parse_args()
    print(f"{args.variants} variants, Plus plan; all active locations count")
    print(
        f"{'locations':>9} {'full reqs':>9} {'incr reqs':>9} {'max cost':>8} {'points':>9} {'old 1st page':>12} {'s':>6}"
    )
    for locations in (1, 30, 100, 250):
        full, incremental, largest, points, old, elapsed = asyncio.run(measure(locations, args.variants))
        print(f"{locations:>9} {full:>9} {incremental:>9} {largest:>8} {points:>9} {old:>12} {elapsed:>6.1f}")


if __name__ == "__main__":
    main()
