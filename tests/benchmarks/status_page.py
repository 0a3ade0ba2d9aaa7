"""Benchmark: how long the status page's state-file pages take as a store grows (a script, not a test).

    python tests/benchmarks/status_page.py                    # 20,000 items, 10 decisions each
    python tests/benchmarks/status_page.py --items 2000 --decisions 2

A state file is filled with one store's accepted items and a decision log, then the overview, a
page of items (filtered and searched) and a SKU's history are fetched from the page served on
127.0.0.1 (SKU pages also pull the store, which is a pass's cost and not measured here). Every
page reads a read-only in-memory copy of the state file, so the figure to watch is the ratio of
a page's time to the copy's: the copy grows with the file, the page's own work with what it shows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from aiohttp.test_utils import TestClient, TestServer  # noqa: E402

from stockstatus.core import config as config_module  # noqa: E402
from stockstatus.core.outcomes import PassMode  # noqa: E402
from stockstatus.core.state import StateStore  # noqa: E402
from stockstatus.core.web import status_app  # noqa: E402
from tests.conftest import FIXED_NOW  # noqa: E402

STATUSES = ("in_stock", "backorder", "pre_order", "out_of_stock")
CONFIG = """\
timezone = "Europe/Berlin"
state = "state.sqlite"

[[stores]]
name = "shop"
platform = "woocommerce"
url = "https://shop.example.com"
key_env = "BENCH_KEY"
secret_env = "BENCH_SECRET"
"""


def fill(state: StateStore, items: int, decisions: int) -> None:
    now = FIXED_NOW.isoformat()
    run_id = state.runs.begin("shop", PassMode.FULL)
    rows = [
        {
            "store": "shop",
            "item_key": str(n),
            "sku": f"SKU-{n:06d}",
            "name": f"Product {n}",
            "status": STATUSES[n % 4],
            "eta": "2026-12-01" if n % 4 else None,
            "message": None,
            "sell_limit": 5,
            "rule": "rule",
            "inputs": json.dumps({"available": -(n % 3)}),
            "fields": "{}",
            "run_id": run_id,
            "accepted_at": now,
        }
        for n in range(items)
    ]
    with state.db.conn:
        state.db.table("items").insert_all(rows, batch_size=2000)
        state.db.table("decisions").insert_all(
            (
                {
                    "run_id": run_id,
                    "store": "shop",
                    "item_key": str(n % items),
                    "sku": f"SKU-{n % items:06d}",
                    "previous_status": "in_stock",
                    "status": STATUSES[n % 4],
                    "eta": None,
                    "message": None,
                    "sell_limit": None,
                    "rule": "rule",
                    "reasons": json.dumps(["available -1 <= 0", "ETA 2026-12-01 within 45 days"]),
                    "inputs": json.dumps({"available": -1, "today": "2026-11-22", "sku": "x" * 12}),
                    "fields": json.dumps({"backorders": "notify", "meta:connector_eta": "2026-12-01"}),
                    "result": "written",
                    "error": None,
                    "at": now,
                }
                for n in range(items * decisions)
            ),
            batch_size=2000,
        )


async def measure(config: config_module.Config, paths: list[str], repeat: int) -> dict[str, float]:
    app = status_app(config, environ={}, clock=lambda: FIXED_NOW)
    out = {}
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        for path in paths:
            times = []
            for _ in range(repeat):
                started = time.perf_counter()
                response = await client.get(path)
                await response.read()
                assert response.status == 200, (path, response.status)
                times.append(time.perf_counter() - started)
            out[path] = statistics.median(times)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--decisions", type=int, default=10, help="logged decisions per item")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "connector.toml"
        path.write_text(CONFIG, encoding="utf-8")
        config = config_module.load(path)
        state = StateStore(config.state_path)
        fill(state, args.items, args.decisions)
        state.close()
        size = config.state_path.stat().st_size / 1e6
        copies = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            StateStore.copy_of(config.state_path).close()
            copies.append(time.perf_counter() - started)
        copy = statistics.median(copies)
        paths = [
            "/",
            "/stores/shop",
            "/stores/shop?status=backorder&page=3",
            "/stores/shop?q=Product%201234",
        ]
        timings = asyncio.run(measure(config, paths, args.repeat))
    print(f"state file: {args.items} items, {args.items * args.decisions} logged decisions, {size:.1f} MB")
    print(f"read-only copy of the state file: {copy * 1000:.1f} ms")
    for page, seconds in timings.items():
        print(f"{page:<40} {seconds * 1000:8.1f} ms  ({seconds / copy:.1f}x the copy)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
