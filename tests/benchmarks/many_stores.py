"""Benchmark: one daemon carrying many stores; its CPU, memory and how late passes start.

Sandbox stores (half WooCommerce, half Shopify, `--skus` sellable items each) are served by two
processes of their own, so their work is not counted. The daemon runs in this process with one
`[[stores]]` table per store, each on `schedule = "every N seconds"`; after the first (full) pass
of every store it runs incremental passes. It prints, per round of the schedule: passes started,
how late they started against their schedule (median, 95th percentile, worst), and the
daemon's CPU (share of one core) and RSS.

    python tests/benchmarks/many_stores.py --stores 200 --skus 500 --interval 300 --rounds 3
    python tests/benchmarks/many_stores.py --stores 200 --skus 500 --interval 30 --rounds 4

`--interval 30` compresses time tenfold against the 5-minute schedule: a daemon that keeps up
there has ten times the headroom at 5 minutes. The sandboxes' catalogues do not change between
rounds, so the incremental passes are quiet ones (what most ticks of a real shop are).

The state file starts empty, so every store's first pass runs at the daemon's start (a store
that never ran is overdue) and the daemon's bound on passes at once queues them: round 0's lag
is that queue. Each store then runs in its own slot of the interval (`schedule.slot_of`), and
in round 0 also at its slot once its first pass is done, so round 0 counts more passes than
stores. Later rounds show the lag of the schedule itself.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import resource
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import sandbox_process
from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent

from stockstatus.core.config import Config
from stockstatus.core.daemon import Daemon
from stockstatus.core.outcomes import JobKind
from stockstatus.core.sync import StoreRun

SKUS_PER_PRODUCT = 1.45


def rss_mb() -> float:
    """This process's resident memory now, from /proc (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class TimedDaemon(Daemon):
    """The daemon, noting how late each pass starts against the time its schedule gave it."""

    interval: float = 300.0
    t0: float = 0.0
    starts: list[tuple[int, float, str]]
    _due: dict[str, list[datetime]]

    def _schedule(self, config: Config, *, first: bool = False) -> None:
        if first:
            self._due = defaultdict(list)
            self._due_at: dict[str, datetime] = {}
            # APScheduler says which run time it submits a job for just before the pass starts.
            self.scheduler._scheduler.add_listener(self._submitted, EVENT_JOB_SUBMITTED)
        super()._schedule(config, first=first)

    def _submitted(self, event: JobSubmissionEvent) -> None:
        self._due[event.job_id].append(max(event.scheduled_run_times))

    async def _run_store(self, name: str, full: bool = False) -> None:
        self._due_at[name] = self._due[f"{JobKind.RECONCILE if full else JobKind.PASS}:{name}"].pop(0)
        await super()._run_store(name, full)

    async def _pass(self, name: str, full: bool) -> StoreRun:
        # The pass itself starts here, once the store's lock and a turn among all passes are had.
        due = self._due_at.pop(name, None)
        if due is not None:  # a scheduled pass (a webhook's targeted pass has no schedule)
            lag = (datetime.now(UTC) - due).total_seconds()
            self.starts.append((int((time.monotonic() - self.t0) // self.interval), lag, name))
        return await super()._pass(name, full)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def run_daemon(
    config: Path, environ: dict[str, str], interval: float, rounds: int, concurrent: int | None
) -> None:
    daemon = TimedDaemon(config, environ, **({} if concurrent is None else {"concurrent_passes": concurrent}))
    daemon.interval = interval
    daemon.starts = []
    stores = len(daemon.config.select(None))
    samples: dict[int, list[tuple[float, float]]] = defaultdict(list)
    daemon.t0 = time.monotonic()
    cpu0 = cpu_seconds()
    serving = asyncio.create_task(daemon.serve())
    print(f"{'round':>5}{'passes':>8}{'lag p50 s':>11}{'lag p95 s':>11}{'lag max s':>11}{'CPU %':>8}{'RSS MB':>9}")
    for tick in range(rounds):
        end = daemon.t0 + (tick + 1) * interval
        started_cpu, started = cpu_seconds(), time.monotonic()
        while time.monotonic() < end:
            await asyncio.sleep(min(1.0, max(0.0, end - time.monotonic())))
            samples[tick].append((time.monotonic(), rss_mb()))
        cpu = (cpu_seconds() - started_cpu) / (time.monotonic() - started) * 100
        lags = [lag for t, lag, _ in daemon.starts if t == tick]
        peak = max(rss for _, rss in samples[tick])
        if lags:
            print(
                f"{tick:>5}{len(lags):>8}{statistics.median(lags):>11.2f}{percentile(lags, 0.95):>11.2f}"
                f"{max(lags):>11.2f}{cpu:>8.0f}{peak:>9.0f}"
            )
        else:
            print(f"{tick:>5}{0:>8}{'-':>11}{'-':>11}{'-':>11}{cpu:>8.0f}{peak:>9.0f}")
    daemon.stop()
    await serving
    total = cpu_seconds() - cpu0
    wall = time.monotonic() - daemon.t0
    passes = len(daemon.starts)
    print(
        f"{stores} stores, {passes} passes of {stores * rounds} scheduled in {wall:.0f} s: "
        f"{total:.1f} s of CPU ({total / wall * 100:.0f} % of one core), "
        f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB, "
        f"failed passes: {sum(1 for p in daemon.passes if p.outcome.value == 'failed')}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--stores", type=int, default=200, help="stores in all, half of each platform")
    parser.add_argument("--skus", type=int, default=500, help="sellable items per store")
    parser.add_argument("--interval", type=float, default=300, help="seconds between a store's passes")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrent", type=int, help="passes at once (default: the daemon's own)")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[attr-defined]  # each round as it ends
    logging.basicConfig(level=logging.ERROR)
    products = max(1, round(args.skus / SKUS_PER_PRODUCT))
    woo = args.stores - args.stores // 2
    started = time.monotonic()
    sandboxes = [
        sandbox_process.start("woocommerce", products, woo),
        sandbox_process.start("shopify", products, args.stores // 2),
    ]
    try:
        stores = [store for sandbox in sandboxes for store in sandbox.stores]
        seeded = time.monotonic() - started
        print(
            f"{len(stores)} sandbox stores ({woo} WooCommerce, {args.stores // 2} Shopify) of about {args.skus} SKUs, "
            f"seeded in {seeded:.0f} s; a pass every {args.interval:g} s per store"
        )
        environ = {k: v for store in stores for k, v in store.environ.items()}
        with tempfile.TemporaryDirectory() as folder:
            config = Path(folder) / "connector.toml"
            tables = "".join(
                store.table + f'schedule = "every {int(args.interval)}s"\nreconcile = "0 3 * * *"\n' for store in stores
            )
            example = (Path(__file__).resolve().parents[2] / "config.example.toml").read_text()
            rules = example[example.index("\n[[rules]]") :]
            config.write_text(f'timezone = "Europe/Berlin"\nstate = "{folder}/state.sqlite"\n' + tables + rules)
            asyncio.run(run_daemon(config, {**os.environ, **environ}, args.interval, args.rounds, args.concurrent))
    finally:
        for sandbox in sandboxes:
            sandbox.stop()


if __name__ == "__main__":
    main()
