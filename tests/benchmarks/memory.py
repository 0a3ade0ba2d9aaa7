"""Benchmark: the connector's peak memory (RSS) on a full pass, against the catalogue's size.

For each platform and each size, a sandbox store is seeded with a generated catalogue in a
process of its own (its memory is not counted), the state file is given `--days` days of sales
history for every item (stock presence each day, sales on about one day in five), and one full
pass runs in a fresh child process: a dry run by default (it reads and decides everything and
holds the plan; `--write` writes it too). The child's peak RSS is its `ru_maxrss`, read from
outside when it ends.

    python tests/benchmarks/memory.py --skus 1000 10000 100000
    python tests/benchmarks/memory.py --platform woocommerce --skus 100000 --rules velocity

`--rules example` decides with config.example.toml's rules, which read no sales history;
`--rules velocity` adds a first rule on sales velocity, so every item's history is built.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sandbox_process

SKUS_PER_PRODUCT = 1.45
"""Sellable items per generated product (a third are variable, with two or three sizes)."""

VELOCITY_RULE = """
[[rules]]
name = "fast movers never wait"
when = { velocity = { window_days = 28, is = "> 40" }, available = "<= 0" }
then = { status = "out_of_stock" }
"""


def config_text(tables: str, state: str, *, velocity: bool) -> str:
    example = (Path(__file__).resolve().parents[2] / "config.example.toml").read_text()
    # The tables themselves, at the start of a line: the example's comments name them too.
    rules = example[example.index("\n[[rules]]") :]
    supply = example[example.index("\n[supply]") : example.index("\n[[rules]]")]
    head = f'timezone = "Europe/Berlin"\nstate = "{state}"\n'
    return head + tables + supply + (VELOCITY_RULE if velocity else "") + rules


def seed_history(state: Path, store: str, keys: list[str], days: int, *, seed: int = 11) -> int:
    """Give every item `days` days of stock presence and sales; the rows written."""
    from stockstatus.core.state import StateStore

    StateStore(state).close()  # the schema, by the connector's own migrations
    picker = random.Random(seed)
    today = datetime.now(UTC).date()
    day_names = [(today - timedelta(days=n)).isoformat() for n in range(days, 0, -1)]
    rows = 0
    with sqlite3.connect(state) as db:
        for start in range(0, len(keys), 2000):
            stock = []
            lines = []
            for key in keys[start : start + 2000]:
                for n, day in enumerate(day_names):
                    orderable = picker.random() > 0.15
                    stock.append((store, key, day, int(orderable)))
                    if orderable and picker.random() < 0.2:
                        lines.append((store, f"{n}-{key}", key, None, day, picker.randint(1, 3), day + "T12:00:00Z"))
            db.executemany("INSERT INTO stock_days VALUES (?, ?, ?, ?)", stock)
            db.executemany("INSERT INTO order_lines VALUES (?, ?, ?, ?, ?, ?, ?)", lines)
            rows += len(stock) + len(lines)
    return rows


def one_pass(config_path: str, dry_run: bool) -> None:
    """The child: one full pass over every store of the config; prints items and changes."""
    from stockstatus.core.config import load
    from stockstatus.core.state import StateStore
    from stockstatus.core.sync import resync

    config = load(Path(config_path))
    state = StateStore(config.state_path)
    runs = asyncio.run(resync(config, state=state, environ=os.environ, dry_run=dry_run))
    for run in runs:
        assert run.outcome == "ok", run.error
        print(run.items, len(run.changes))
    state.close()


IMPORTS_ONLY = (
    "import stockstatus.core.sync, stockstatus.core.config, stockstatus.adapters.woocommerce.client,"
    " stockstatus.adapters.shopify.client"
)


def measure(config_path: Path | None, environ: dict[str, str], dry_run: bool) -> tuple[float, float, str]:
    """(seconds, peak RSS in MB, what the child printed) of one pass in a fresh process; with no
    config, of a process that only imports what a pass imports."""
    read, write = os.pipe()
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # the child: nothing of the parent's heap is touched, and exec starts it afresh
        os.close(read)
        os.dup2(write, 1)
        if config_path is None:
            argv = [sys.executable, "-c", IMPORTS_ONLY]
        else:
            argv = [sys.executable, __file__, "--child", str(config_path)] + ([] if dry_run else ["--write"])
        os.execve(sys.executable, argv, {**os.environ, **environ})
    os.close(write)
    with os.fdopen(read) as out:
        printed = out.read()
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"the pass failed (exit {os.waitstatus_to_exitcode(status)})")
    return seconds, usage.ru_maxrss / 1024, printed.strip()  # Linux gives kilobytes


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--platform", nargs="+", choices=["woocommerce", "shopify"], default=["woocommerce", "shopify"])
    parser.add_argument("--skus", nargs="+", type=int, default=[1000, 10000, 100000])
    parser.add_argument("--days", type=int, default=90, help="days of sales history in the state file")
    parser.add_argument("--rules", choices=["example", "velocity"], default="velocity")
    parser.add_argument("--write", action="store_true", help="a pass that writes (default: a dry run)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        one_pass(args.child, dry_run=not args.write)
        return

    mode = "writing pass" if args.write else "dry run"
    _, imports, _ = measure(None, {}, dry_run=True)
    print(f"peak RSS of one full pass ({mode}), {args.days} days of history, rules: {args.rules}")
    print(f"the connector's imports alone: {imports:.1f} MB; KB/SKU is the pass's RSS above them")
    print(f"{'platform':<13}{'SKUs':>8}{'history rows':>14}{'seconds':>9}{'peak RSS MB':>13}{'KB/SKU':>8}")
    for platform in args.platform:
        for skus in args.skus:
            sandbox = sandbox_process.start(platform, max(1, round(skus / SKUS_PER_PRODUCT)))
            try:
                [store] = sandbox.stores
                with tempfile.TemporaryDirectory() as folder:
                    state = Path(folder) / "state.sqlite"
                    rows = seed_history(state, store.name, store.keys, args.days)
                    path = Path(folder) / "connector.toml"
                    path.write_text(config_text(store.table, str(state), velocity=args.rules == "velocity"))
                    seconds, rss, _ = measure(path, store.environ, dry_run=not args.write)
            finally:
                sandbox.stop()
            count = len(store.keys)
            above = (rss - imports) * 1024 / count
            print(f"{platform:<13}{count:>8}{rows:>14}{seconds:>9.1f}{rss:>13.1f}{above:>8.1f}")


if __name__ == "__main__":
    main()
