"""Benchmark: WooCommerce passes against a sandbox that costs what a real store costs, beside the merchant's script.

A mixed catalogue (about 70 % simple products, 30 % variable with 2 or 3 variations) is served
by the WooCommerce fake behind the cost model of `costmodel.py` (the real store's time per
request and per item, by endpoint, and W workers), in a process of its own. Three scenarios, one
table each:

- first pass: a full pass over a store showing none of the connector's statuses (nearly every
  item changes; applied with `--force`, as an operator applies a first pass the rails hold);
- nothing to change: a full pass again (the reconcile a daemon runs every night);
- incremental: a merchant sells out 1 % of the SKUs, then an incremental pass.

Each table gives the connector's requests (reads, writes), the minimum reads for the read
strategy it used, the server's bound (the cost model's busy time / W: nothing finishes sooner),
wall time, wall / bound, the connector's peak RSS, and the merchant's script
(`merchant_woocommerce.py`, the official `woocommerce` client: list everything, one PUT per
changed item) on the same catalogue, cost model and run, with how many times faster the
connector was.

    python tests/benchmarks/woocommerce_pass.py --skus 5000 --workers 1 --time-scale 0.25
    python tests/benchmarks/woocommerce_pass.py --skus 5000 --workers 4 --time-scale 0.25

`--time-scale` multiplies every cost (ratios stay as long as the fake's own time per request
stays below the scaled cost: "fake s" is the fake's own answering time, counted in the bound
wherever it exceeded the model's). `--merchant nothing` runs the merchant's script in the
"nothing to change" scenario only (its first pass, one PUT per item, is the longest part of a
run); `--first-pass-workers 4` shortens a W = 1 run's first pass.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from costmodel import FREE, Sandbox, peak_rss_mb

from stockstatus.adapters.woocommerce import mapping
from stockstatus.adapters.woocommerce.auth import WooCommerceAuth
from stockstatus.core.config import load
from stockstatus.core.outcomes import ChangeResult
from stockstatus.core.state import StateStore
from stockstatus.core.sync import resync
from stockstatus.core.sync.run import StoreRun

HERE = Path(__file__).resolve().parent
STORE = """
[[stores]]
name = "bench"
platform = "woocommerce"
url = "{url}"
key_env = "BENCH_WC_KEY"
secret_env = "BENCH_WC_SECRET"
{extra}
"""


class WritePhase:
    """Told by the pass when its writes start and end (its `progress`): the write phase's own wall time and bound."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.started: tuple[float, float] | None = None
        self.wall = self.bound = 0.0

    def start(self, label: str, total: int) -> None:
        self.started = (time.perf_counter(), self.sandbox.stats()["busy"])

    def advance(self, done: int) -> None:
        return None

    def finish(self) -> None:
        if self.started is None:
            return
        stats = self.sandbox.stats()
        self.wall = time.perf_counter() - self.started[0]
        self.bound = (stats["busy"] - self.started[1]) / stats["workers"]


@dataclass
class Figures:
    reads: int
    writes: int
    minimum: int
    bound: float
    busy: float
    fake: float
    wall: float
    rss: float
    merchant: dict[str, Any] | None
    writes_wall: float = 0.0
    writes_bound: float = 0.0
    before_writes_wall: float = 0.0
    before_writes_bound: float = 0.0


def minimum_reads(stats: dict[str, Any]) -> int:
    """The fewest reads that return what this pass read, with its strategy: full pages of 100."""
    requests, items = stats["requests"], stats["items"]
    least = 0
    for kind, count in requests.items():
        if kind in ("product page", "order page"):
            least += max(1, math.ceil(items.get(kind, 0) / 100))
        elif kind in ("sku read", "sku read by id"):
            least += math.ceil(items.get(kind, 0) / 100)
        elif kind in ("variation listing", "other"):
            least += count  # one per variable product listed (a parent's variations fit one page)
    return least


def merchant_changes(run: StoreRun) -> list[dict[str, Any]]:
    """The connector's writes of this pass as the merchant's one PUT per item."""
    changes = []
    for change in run.changes:
        if change.result is not ChangeResult.WRITTEN:
            continue
        payload = mapping.item_payload(change.item, change.fields)
        if payload is None:
            continue
        platform = change.item.platform
        payload.pop("id")
        path = (
            f"products/{platform['product_id']}/variations/{platform['variation_id']}"
            if platform.get("variation_id")
            else f"products/{platform['product_id']}"
        )
        changes.append({"path": path, "data": payload})
    return changes


def run_merchant(sandbox: Sandbox, changes: list[dict[str, Any]], folder: Path) -> dict[str, Any]:
    path = folder / "changes.json"
    path.write_text(json.dumps(changes))
    env = {**os.environ, "WC_URL": sandbox.url, "WC_KEY": sandbox.key, "WC_SECRET": sandbox.secret}
    sandbox.reset()
    done = subprocess.run(
        [sys.executable, str(HERE / "merchant_woocommerce.py"), str(path)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    figures["stats"] = sandbox.stats()
    return figures


def sell_out(sandbox: Sandbox, keys: list[str]) -> None:
    """A merchant's sales between passes, at no cost to the model: these items' stock goes to 0."""
    auth = WooCommerceAuth(sandbox.key, sandbox.secret)
    with httpx.Client(base_url=f"{sandbox.url}/wp-json/wc/v3/", auth=auth, headers={FREE: "1"}, timeout=60) as api:
        for key in keys:
            parent, _, variation = key.partition("/")
            path = f"products/{parent}/variations/{variation}" if variation else f"products/{parent}"
            api.put(path, json={"manage_stock": True, "stock_quantity": 0}).raise_for_status()


def table(title: str, figures: Figures, run: StoreRun, workers: int) -> None:
    print(f"\n{title}: {run.items} items, {len(run.changes)} changes, {run.mode.value} pass, W = {workers}")
    print(
        f"  {'':<18}{'reads':>7}{'writes':>8}{'min reads':>11}{'bound s':>9}{'wall s':>8}{'wall/bound':>12}"
        f"{'RSS MB':>8}{'fake s':>8}"
    )
    print(
        f"  {'connector':<18}{figures.reads:>7}{figures.writes:>8}{figures.minimum:>11}{figures.bound:>9.1f}"
        f"{figures.wall:>8.1f}{figures.wall / figures.bound if figures.bound else 0:>12.2f}{figures.rss:>8.0f}"
        f"{figures.fake:>8.1f}"
    )
    if figures.before_writes_bound:
        print(
            f"  before the writes (reads, deciding): {figures.before_writes_wall:.1f} s against a bound of "
            f"{figures.before_writes_bound:.1f} s ({figures.before_writes_wall / figures.before_writes_bound:.2f})"
        )
    if figures.writes_bound:
        print(
            f"  the write phase alone: {figures.writes_wall:.1f} s against a bound of {figures.writes_bound:.1f} s "
            f"({figures.writes_wall / figures.writes_bound:.2f})"
        )
    merchant = figures.merchant
    if merchant is None:
        return
    stats = merchant["stats"]
    bound = stats["bound"]
    print(
        f"  {'merchant script':<18}{stats['reads']:>7}{stats['writes']:>8}{'':>11}{bound:>9.1f}"
        f"{merchant['seconds']:>8.1f}{merchant['seconds'] / bound if bound else 0:>12.2f}{merchant['rss_mb']:>8.0f}"
        f"{stats['fake']:>8.1f}"
    )
    print(
        f"  connector / merchant: {merchant['seconds'] / figures.wall:.2f}× faster "
        f"(the server's time: {stats['busy'] / figures.busy if figures.busy else 0:.2f}× less)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--skus", type=int, default=2000, help="about how many SKUs (default 2000)")
    parser.add_argument("--workers", type=int, default=1, help="the store's PHP workers (default 1)")
    parser.add_argument("--time-scale", type=float, default=0.1, help="multiply every cost (default 0.1)")
    parser.add_argument(
        "--first-pass-workers",
        type=int,
        default=None,
        help="the store's workers during the first pass only (a shorter run when --workers is 1)",
    )
    parser.add_argument(
        "--merchant",
        default="first,nothing,incremental",
        help="the scenarios the merchant's script runs in, comma-separated (default all; '' for none)",
    )
    parser.add_argument("--sold", type=float, default=0.01, help="share of SKUs sold out before the incremental pass")
    parser.add_argument("--settings", default="", help="extra store settings (TOML lines), e.g. write_concurrency = 4")
    args = parser.parse_args()

    print(f"seeding about {args.skus} SKUs ...", flush=True)
    sandbox = Sandbox.start(args.skus, workers=args.workers, time_scale=args.time_scale)
    print(
        f"sandbox: {sandbox.skus} SKUs in {sandbox.products} products (seeded in {sandbox.seeded_seconds:.0f} s), "
        f"W = {args.workers}, time scale {args.time_scale}"
    )
    os.environ.update({"BENCH_WC_KEY": sandbox.key, "BENCH_WC_SECRET": sandbox.secret})
    example = (HERE.parents[1] / "config.example.toml").read_text()
    # The tables themselves, at the start of a line: the example's comments name them too.
    rules = example[example.index("\n[[rules]]") :]
    supply = example[example.index("\n[supply]") : example.index("\n[[rules]]")]
    try:
        with tempfile.TemporaryDirectory() as name:
            folder = Path(name)
            path = folder / "connector.toml"
            store = STORE.format(url=sandbox.url, extra=args.settings.replace(";", "\n"))
            path.write_text('timezone = "Europe/Berlin"\nstate = "bench.sqlite"\n' + store + supply + rules)
            config = load(path)
            state = StateStore(config.state_path)

            # One clock for the store and the connector, moved 20 minutes on before each pass (as
            # the daemon's schedule would), so an incremental pass starts after the last writes.
            shift = [timedelta(0)]

            def clock() -> datetime:
                return datetime.now(UTC) + shift[0]

            def one(scenario: str, incremental: bool, force: bool, workers: int) -> tuple[StoreRun, Figures]:
                sandbox.set_workers(workers)
                shift[0] += timedelta(minutes=20)
                sandbox.shift_clock(shift[0])
                sandbox.reset()
                phase = WritePhase(sandbox)
                started = time.perf_counter()
                [run] = asyncio.run(
                    resync(
                        config,
                        state=state,
                        clock=clock,
                        environ=os.environ,
                        incremental=incremental,
                        force=force,
                        progress=phase,
                    )
                )
                wall = time.perf_counter() - started
                assert run.outcome.value == "ok", (run.outcome, run.error)
                stats = sandbox.stats()
                figures = Figures(
                    stats["reads"],
                    stats["writes"],
                    minimum_reads(stats),
                    stats["bound"],
                    stats["busy"],
                    stats["fake"],
                    wall,
                    peak_rss_mb(),
                    None,
                    phase.wall,
                    phase.bound,
                )
                if phase.started is not None:
                    # Everything the pass did before its first write: the reads, and deciding every item.
                    figures.before_writes_wall = phase.started[0] - started
                    figures.before_writes_bound = phase.started[1] / stats["workers"]
                if scenario in args.merchant.split(","):
                    figures.merchant = run_merchant(sandbox, merchant_changes(run), folder)
                return run, figures

            workers = args.first_pass_workers or args.workers
            first, figures = one("first", incremental=False, force=True, workers=workers)
            table("first pass", figures, first, workers)
            again, figures = one("nothing", incremental=False, force=False, workers=args.workers)
            table("nothing to change", figures, again, args.workers)
            in_stock = [c.item.key for c in first.changes if (c.item.available or 0) > 0]
            sold = in_stock[:: max(1, round(len(in_stock) / max(1, args.skus * args.sold)))]
            shift[0] += timedelta(minutes=5)
            sandbox.shift_clock(shift[0])
            sell_out(sandbox, sold)
            later, figures = one("incremental", incremental=True, force=False, workers=args.workers)
            table(f"incremental after {len(sold)} sell-outs", figures, later, args.workers)
            state.close()
    finally:
        sandbox.stop()
    print(f"\n(run at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC)")


if __name__ == "__main__":
    main()
