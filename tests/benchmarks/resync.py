"""Benchmark: full passes over a generated WooCommerce catalogue, against the sandbox over loopback HTTP.

Prints, for a dry run, a first pass (everything to write), a second pass (nothing changed) and an
incremental pass with nothing changed since the second:
wall time, items, changes, and the requests each made (reads and writes) as the store saw them.

    python tests/benchmarks/resync.py --products 2000

The fake answers instantly, so these figures are the connector's own cost plus loopback HTTP and
OAuth signing; on a real store each saved item adds tens of milliseconds of the server's time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from adapters.woocommerce.fake import FakeWooCommerce
from adapters.woocommerce.sandbox import generated_catalogue, serve
from connector.config import load
from connector.state import StateStore
from connector.sync import resync

CONFIG = """
timezone = "Europe/Berlin"
state = "bench.sqlite"
[[stores]]
name = "bench"
platform = "woocommerce"
url = "{url}"
key_env = "BENCH_WC_KEY"
secret_env = "BENCH_WC_SECRET"
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=2000)
    args = parser.parse_args()

    # One clock for the store and the connector, moved 20 minutes on before the later passes (as
    # the daemon's schedule would), so the incremental pass starts after the previous writes.
    shift = [timedelta(0)]

    def clock() -> datetime:
        return datetime.now(UTC) + shift[0]

    fake = FakeWooCommerce(base_url="http://127.0.0.1", now=clock)
    server = serve(fake, "127.0.0.1", 0)
    port = server.server_address[1]
    fake.base_url = f"http://127.0.0.1:{port}"
    generated_catalogue(fake, args.products)
    os.environ.update(BENCH_WC_KEY=fake.consumer_key, BENCH_WC_SECRET=fake.consumer_secret)
    example = (Path(__file__).resolve().parents[2] / "config.example.toml").read_text()
    rules = example[example.index("[[rules]]"):]
    supply = example[example.index("[supply]"):example.index("[[rules]]")]
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "connector.toml"
            path.write_text(CONFIG.format(url=fake.base_url) + supply + rules)
            config = load(path)
            state = StateStore(config.state_path)
            print(f"catalogue: {args.products} products, served on {fake.base_url} (OAuth 1.0a)")
            print(f"{'pass':<14}{'seconds':>9}{'items':>8}{'changes':>9}{'reads':>7}{'writes':>8}")
            passes = (
                ("dry run", True, False),
                ("first pass", False, False),
                ("second pass", False, False),
                # The second pass started after the first one's writes: nothing changed since.
                ("incremental", False, True),
            )
            for label, dry_run, incremental in passes:
                if label in ("second pass", "incremental"):
                    shift[0] += timedelta(minutes=20)
                fake.requests.clear()
                started = time.perf_counter()
                [run] = asyncio.run(
                    resync(
                        config, state=state, clock=clock, environ=os.environ, dry_run=dry_run, incremental=incremental
                    )
                )
                seconds = time.perf_counter() - started
                assert run.outcome == "ok", run.error
                writes = len(fake.write_requests)
                reads = len(fake.requests) - writes
                print(f"{label:<14}{seconds:>9.2f}{run.items:>8}{len(run.changes):>9}{reads:>7}{writes:>8}")
            state.close()
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    main()
