"""Benchmark: Shopify passes against the fake's real cost bucket, paged against bulk, requests against bulk imports.

For a first pass (every variant to write) and a pass with nothing to change, per way of reading
(pages, a bulk query, or the adapter's own choice) and of writing (PushChanges requests, bulk
imports, or its choice), prints: requests, points charged (Shopify's actual cost: what the bucket
kept), the bound = points / restore rate + the time bulk operations ran (their union), the pass's
time on the store's clock, the ratio of the two, and the peak RSS of the process that ran it.

A pass is the adapter's: pull, open orders, plan each variant, push what changed (the rules are a
fixed two-line decision: sold out → backorder with an ETA, else in stock pre-armed for backorder,
so a first pass writes a policy and three metafields per variant).

The store's clock is simulated by default (every wait the adapter makes moves it at once, requests
take no time), so the ratio shows the adapter's pacing and polling against the bound alone;
`--time-scale S` runs it S times faster than real time instead (requests then take their real
CPU time, scaled). The fake's bucket is a Shopify plan's (Standard: 100 points a second, 2,000
held); how fast Shopify runs bulk operations is not published, so the fake runs them at the rates
the adapter assumes (`bulk_read_rate`, `bulk_write_rate`) unless told otherwise. The bucket
starts full, so at small sizes a pass can beat the bound.

    python tests/benchmarks/shopify_pass.py --variants 20000
    python tests/benchmarks/shopify_pass.py --variants 2000 --plan advanced --time-scale 50
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime

import httpx

from stockstatus.adapters.shopify.client import Credentials, ShopifyAdapter
from stockstatus.adapters.shopify.fake import FakeClock, FakeShopify
from stockstatus.adapters.shopify.fake.samples import generated_catalogue
from stockstatus.adapters.shopify.settings import ShopifySettings
from stockstatus.core.http import HttpPolicy
from stockstatus.core.model import Decision, Item, Status, Update

SHOP = "bench.myshopify.com"
TODAY = date(2026, 11, 22)
NEVER = 10**9
READS = {"pages": {"bulk_threshold": NEVER}, "bulk": {"bulk_threshold": 0}, "chosen": {}}
WRITES = {"requests": {"bulk_write_threshold": NEVER}, "bulk": {"bulk_write_threshold": 0}, "chosen": {}}
SCENARIOS = [
    ("first", "chosen", "requests"),
    ("first", "chosen", "bulk"),
    ("first", "chosen", "chosen"),
    ("no change", "pages", "chosen"),
    ("no change", "bulk", "chosen"),
    ("no change", "chosen", "chosen"),
]


class ScaledClock:
    """The store's monotonic clock running `scale` times faster than real time; sleeps shrink to match."""

    def __init__(self, scale: float) -> None:
        self.scale = scale
        self._real = time.perf_counter()
        self._start = 1000.0

    def __call__(self) -> float:
        return self._start + (time.perf_counter() - self._real) * self.scale

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.scale)


def decide(item: Item) -> Decision:
    if item.available is not None and item.available <= 0:
        return Decision(Status.BACKORDER, "restock", eta=date(2026, 12, 20), message="Ships soon")
    return Decision(Status.IN_STOCK, "default", on_sellout=Status.BACKORDER)


def products_for(variants: int) -> int:
    """Generated products that hold about `variants` variants (about 1.45 a product)."""
    return max(1, round(variants / 1.45))


async def one_pass(adapter: ShopifyAdapter) -> tuple[int, int]:
    items = await adapter.pull_items()
    await adapter.open_orders()
    updates = [Update(i, decide(i), f) for i in items if (f := adapter.plan(i, decide(i)))]
    results = await adapter.push(updates) if updates else []
    failed = sum(not r.ok for r in results)
    if failed:
        raise SystemExit(f"{failed} writes failed: {next(r.error for r in results if not r.ok)}")
    return len(items), len(updates)


def bulk_seconds(fake: FakeShopify, since: float) -> float:
    """The time bulk operations ran after `since`, overlapping ones counted once."""
    spans = []
    for operation in fake.bulk_operations.values():
        rate = (fake.bulk_mutation_rate or fake.bulk_rate) if operation.type == "MUTATION" else fake.bulk_rate
        if operation.ready_at is None or rate is None:
            continue
        start = operation.ready_at - len(operation.lines) / rate
        if start >= since:
            spans.append((start, operation.ready_at))
    total, reach = 0.0, float("-inf")
    for start, end in sorted(spans):
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total


def run(variants: int, plan: str, scale: float, kind: str, reads: str, writes: str) -> dict[str, object]:
    clock: FakeClock | ScaledClock = FakeClock() if scale <= 0 else ScaledClock(scale)
    sleep: Callable[[float], Awaitable[None]] = clock.sleep
    fake = FakeShopify(SHOP, clock=clock, now=lambda: datetime(2026, 11, 22, 9, tzinfo=UTC), plan=plan)
    seeded = time.perf_counter()
    generated_catalogue(fake, products_for(variants), today=TODAY)
    seeding = time.perf_counter() - seeded
    defaults = ShopifySettings(shop=SHOP, token_env="T")
    fake.bulk_rate, fake.bulk_mutation_rate = defaults.bulk_read_rate, defaults.bulk_write_rate

    async def passes() -> dict[str, object]:
        async with httpx.AsyncClient(transport=fake.transport()) as client:

            def adapter(fields: dict[str, int]) -> ShopifyAdapter:
                return ShopifyAdapter(
                    ShopifySettings(shop=SHOP, token_env="T", **fields),
                    client,
                    Credentials(token=fake.access_token),
                    policy=HttpPolicy(attempts=6),
                    sleep=sleep,
                    clock=clock,
                )

            if kind == "no change":  # the first pass writes everything; the measured one finds it done
                await one_pass(adapter({}))
                # Passes are minutes apart: the bucket is full again when the next one starts.
                await sleep(fake.plan.bucket / fake.plan.restore_rate)
            fake.log.clear()
            started, real, cpu = clock(), time.perf_counter(), time.process_time()
            items, changed = await one_pass(adapter({**READS[reads], **WRITES[writes]}))
            elapsed = clock() - started
            points = sum(float(e["actual"] or 0) for e in fake.log)
            bound = points / fake.plan.restore_rate + bulk_seconds(fake, started)
            operations = [str(e["operation"]) for e in fake.log]
            return {
                "items": items,
                "changed": changed,
                "requests": len(fake.log),
                "throttled": fake.throttled,
                "bulk": sum(op in ("RunBulkQuery", "RunBulkMutation") for op in operations),
                "push_requests": operations.count("PushChanges"),
                "points": points,
                "bound": bound,
                "elapsed": elapsed,
                "real": time.perf_counter() - real,
                "cpu": time.process_time() - cpu,
                "seeding": seeding,
            }

    figures = asyncio.run(passes())
    figures["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=10_000)
    parser.add_argument("--plan", default="standard", choices=["standard", "advanced", "plus"])
    parser.add_argument(
        "--time-scale", type=float, default=0.0, help="store time runs this much faster than real time (0: simulated)"
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:  # one scenario in its own process, so its peak RSS is its own
        kind, reads, writes = args.one.split("/")
        print(json.dumps(run(args.variants, args.plan, args.time_scale, kind, reads, writes)))
        return
    defaults = ShopifySettings(shop=SHOP, token_env="T")
    clock = "simulated" if args.time_scale <= 0 else f"{args.time_scale:g}x real time"
    print(
        f"about {args.variants} variants ({products_for(args.variants)} products), {args.plan} plan, store clock "
        f"{clock}; bulk queries {defaults.bulk_read_rate:g} objects/s, bulk imports {defaults.bulk_write_rate:g} "
        "lines/s (assumed)"
    )
    header = (
        f"{'pass':<10} {'reads':<7} {'writes':<9} {'items':>7} {'changed':>7} {'requests':>8} {'bulk ops':>8} "
        f"{'points':>9} {'bound s':>8} {'time s':>8} {'ratio':>6} {'throttled':>9} {'cpu s':>7} {'RSS MB':>7}"
    )
    print(header)
    for kind, reads, writes in SCENARIOS:
        command = [
            sys.executable,
            __file__,
            "--variants",
            str(args.variants),
            "--plan",
            args.plan,
            "--time-scale",
            str(args.time_scale),
            "--one",
            f"{kind}/{reads}/{writes}",
        ]
        done = subprocess.run(command, check=True, capture_output=True, text=True)
        f = json.loads(done.stdout.strip().splitlines()[-1])
        ratio = f["elapsed"] / f["bound"] if f["bound"] else float("nan")
        print(
            f"{kind:<10} {reads:<7} {writes:<9} {f['items']:>7} {f['changed']:>7} {f['requests']:>8} {f['bulk']:>8} "
            f"{f['points']:>9.0f} {f['bound']:>8.1f} {f['elapsed']:>8.1f} {ratio:>6.2f} {f['throttled']:>9} "
            f"{f['cpu']:>7.1f} {f['rss_mb']:>7.0f}"
        )


if __name__ == "__main__":
    main()
