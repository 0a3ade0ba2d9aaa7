"""Benchmark: passes over a generated catalogue, against a sandbox store over loopback HTTP.

Prints, for a dry run, a first pass (everything to write), an incremental pass after it (it
reads back what the first pass wrote, and writes nothing), a quiet incremental pass (nothing
changed since the last one) and a full pass with nothing to change: wall time, items, changes,
and the requests each made (reads and writes) as the store saw them.

    python tests/benchmarks/resync.py --products 2000
    python tests/benchmarks/resync.py --platform shopify --products 7000 --plan plus

The sandboxes answer at once, so these figures are the connector's own cost plus loopback HTTP
(and OAuth signing on WooCommerce); on a real WooCommerce store each saved item adds tens of
milliseconds of the server's time, and a Shopify store paces requests by its cost bucket (the
sandbox's bucket is real: a plan's restore rate bounds the figures here too).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from stockstatus.adapters.shopify import fake as shopify_fake
from stockstatus.adapters.shopify.fake import FakeShopify
from stockstatus.adapters.woocommerce import fake as woo_fake
from stockstatus.adapters.woocommerce.fake import FakeWooCommerce
from stockstatus.core import catalogue
from stockstatus.core.config import load
from stockstatus.core.state import StateStore
from stockstatus.core.sync import resync

STORES = {
    "woocommerce": """
[[stores]]
name = "bench"
platform = "woocommerce"
url = "{url}"
key_env = "BENCH_WC_KEY"
secret_env = "BENCH_WC_SECRET"
""",
    "shopify": """
[[stores]]
name = "bench"
platform = "shopify"
shop = "{shop}"
token_env = "BENCH_SHOPIFY_TOKEN"
""",
}
SHOPIFY_WRITES = frozenset({"PushChanges", "OrderNotice"})
"""Requests that change the shop (bulkOperationRunQuery is a mutation that only reads)."""


@dataclass
class Sandbox:
    """A seeded store on a loopback port, and how to count the requests it saw."""

    store: str
    environ: dict[str, str]
    counts: Callable[[], tuple[int, int]]
    """(reads, writes) since the last `clear()`."""
    clear: Callable[[], None]
    stop: Callable[[], None]


def woocommerce(products: int, clock: Callable[[], datetime], plan: str) -> Sandbox:
    fake = FakeWooCommerce(base_url="http://127.0.0.1", now=clock)
    server = woo_fake.serve(fake, "127.0.0.1", 0)
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    woo_fake.seed(fake, catalogue.generated(products, clock().date()))

    def counts() -> tuple[int, int]:
        writes = len(fake.write_requests)
        return len(fake.requests) - writes, writes

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return Sandbox(
        STORES["woocommerce"].format(url=fake.base_url),
        {"BENCH_WC_KEY": fake.consumer_key, "BENCH_WC_SECRET": fake.consumer_secret},
        counts,
        fake.requests.clear,
        stop,
    )


def shopify(products: int, clock: Callable[[], datetime], plan: str) -> Sandbox:
    fake = FakeShopify("bench.myshopify.com", plan=plan, now=clock)
    server = shopify_fake.serve(fake, "127.0.0.1", 0)
    port = server.server_address[1]
    fake.base_url = f"http://127.0.0.1:{port}"
    fake.add_location(shopify_fake.WAREHOUSE)
    shopify_fake.generated_catalogue(fake, products, today=clock().date())

    def counts() -> tuple[int, int]:
        operations = [str(entry.get("operation")) for entry in fake.log if not entry.get("throttled")]
        writes = sum(1 for name in operations if name in SHOPIFY_WRITES)
        return len(operations) - writes, writes

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return Sandbox(
        STORES["shopify"].format(shop=f"127.0.0.1:{port}"),
        {"BENCH_SHOPIFY_TOKEN": fake.access_token},
        counts,
        fake.log.clear,
        stop,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--platform", choices=["woocommerce", "shopify"], default="woocommerce")
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--plan", default="standard", help="Shopify plan whose cost bucket the sandbox keeps")
    args = parser.parse_args()

    # One clock for the store and the connector, moved 20 minutes on before the later passes (as
    # the daemon's schedule would), so an incremental pass starts after the previous writes.
    shift = [timedelta(0)]

    def clock() -> datetime:
        return datetime.now(UTC) + shift[0]

    store = (woocommerce if args.platform == "woocommerce" else shopify)(args.products, clock, args.plan)
    os.environ.update(store.environ)
    example = (Path(__file__).resolve().parents[2] / "config.example.toml").read_text()
    # The tables themselves, at the start of a line: the example's comments name them too.
    rules = example[example.index("\n[[rules]]") :]
    supply = example[example.index("\n[supply]") : example.index("\n[[rules]]")]
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "connector.toml"
            path.write_text('timezone = "Europe/Berlin"\nstate = "bench.sqlite"\n' + store.store + supply + rules)
            config = load(path)
            state = StateStore(config.state_path)
            print(f"{args.platform}: {args.products} products generated, served over loopback HTTP")
            print(f"{'pass':<16}{'mode':<13}{'seconds':>9}{'items':>8}{'changes':>9}{'reads':>7}{'writes':>8}")
            passes = (
                ("dry run", True, False),
                ("first pass", False, False),
                ("incremental", False, True),  # reads back what the first pass wrote
                ("quiet incr.", False, True),  # nothing changed since the last pass
                ("full again", False, False),  # a reconcile with nothing to change
            )
            for label, dry_run, incremental in passes:
                if label != "dry run":
                    shift[0] += timedelta(minutes=20)
                store.clear()
                started = time.perf_counter()
                [run] = asyncio.run(
                    resync(
                        config, state=state, clock=clock, environ=os.environ, dry_run=dry_run, incremental=incremental
                    )
                )
                seconds = time.perf_counter() - started
                assert run.outcome == "ok", run.error
                assert label != "quiet incr." or run.mode == "incremental", run.full_because
                reads, writes = store.counts()
                print(
                    f"{label:<16}{run.mode:<13}{seconds:>9.2f}{run.items:>8}{len(run.changes):>9}{reads:>7}{writes:>8}"
                )
                if run.full_because:
                    print(f"{'':<16}(full: {run.full_because})")
            state.close()
    finally:
        store.stop()


if __name__ == "__main__":
    main()
