"""Benchmark: decisions per second of the rules engine on one core (a script, not a test).

    python tests/benchmarks/rules_speed.py                 # 1,000,000 SKUs
    python tests/benchmarks/rules_speed.py --skus 200000 --explain 20000

The rule set is config.example.toml's rules plus a supply-driven backorder rule with a cap (the
FIFO `eta = "supply"`, `cap = { max = 50, incoming = true }`) and a capped pre-order. The facts
are a shop-like mix: most SKUs in stock (pre-armed, so their rules run twice), some sold out with
purchase orders due (some late, some without a quantity) and orders waiting, pre-orders, made to
order, discontinued, and sold out with nothing coming.

The figure is for `RuleSet.decide` alone: reasons and inputs are worked out when read, and the
second figure (`--explain N`) shows that cost for the decisions a run actually logs.

    python tests/benchmarks/rules_speed.py --skus 300000 --against main --rounds 5

`--against REF` compares this tree's rules with the `rules/` folder of a git commit, on the same
catalogue: each side runs in processes of its own, taking turns (old, new, old, new, ...), so a
busy spell on a shared machine slows both; each process reports its best of three rounds, and the
script prints the best and the median of those per side, and their ratios. Both sides must also
decide exactly alike: a digest of every decision (status, rule, ETA, limit, message, sell-out
answer, per-order dates) and of the reasons and inputs of the first `--explain` decisions is
compared, and the script fails when they differ.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
# `--against`: a child process deciding with another commit's rules, found here first (the
# installed project's own import finder comes after the path).
_OTHER_RULES = os.environ.get("RULES_SPEED_IMPORT_ROOT")
if _OTHER_RULES:
    sys.path.insert(0, _OTHER_RULES)

from stockstatus.rules import Decision, Facts, QueuedOrder, RuleSet, SupplyEvent, compile_rules  # noqa: E402

TODAY = date(2026, 11, 22)

SUPPLY_RULE = {
    "name": "backorder while a shipment is due",
    "when": {"available": "<= 0", "eta_within_days": 45},
    "then": {
        "status": "backorder",
        "eta": "supply",
        "cap": {"max": 50, "incoming": True},
        "message": "Ships by {eta:%-d %B} ({limit} left to order)",
    },
}


def ruleset() -> RuleSet:
    example = tomllib.loads((ROOT / "config.example.toml").read_text())
    raw = list(example["rules"])
    for rule in raw:
        if rule["name"] == "pre-order until release":
            rule["then"] = {**rule["then"], "cap": 200}
    # The example's own supply rule, with a fixed cap on top of the incoming one.
    raw = [SUPPLY_RULE if r["name"] == SUPPLY_RULE["name"] else r for r in raw]
    return compile_rules(raw, handling_days=example.get("supply", {}).get("handling_days", 1))


def catalogue(n: int, seed: int = 7) -> list[Facts]:
    rnd = random.Random(seed)
    words = ["new", "sale", "cotton", "summer", "winter", "gift", "bestseller", "eco"]
    tag_pool = [frozenset(rnd.sample(words, rnd.randint(0, 3))) for _ in range(200)]
    cat_pool = [frozenset({c}) for c in ("Shirts", "Shoes", "Mugs", "Games", "Books")]
    vendors = [None, "Acme", "FarEast", "Nordic"]
    ordered = datetime(2026, 11, 1, tzinfo=UTC)

    def pos(k: int) -> tuple[SupplyEvent, ...]:
        return tuple(
            SupplyEvent(
                TODAY + timedelta(days=rnd.randint(-4, 70)),
                None if rnd.random() < 0.1 else rnd.randint(5, 60),
                "Acme",
                f"PO-{rnd.randint(1, 999)}",
            )
            for _ in range(k)
        )

    def queue(units: int) -> tuple[QueuedOrder, ...]:
        out, left, i = [], units, 0
        while left > 0:
            q = min(left, rnd.randint(1, 3))
            out.append(QueuedOrder(f"#{rnd.randint(1000, 99999)}-{i}", ordered + timedelta(hours=i), q))
            left -= q
            i += 1
        return tuple(out)

    items: list[Facts] = []
    for i in range(n):
        r = rnd.random()
        common = {
            "sku": f"SKU-{i:07d}",
            "today": TODAY,
            "name": "Item",
            "tags": tag_pool[rnd.randrange(200)],
            "categories": cat_pool[rnd.randrange(5)],
            "vendor": vendors[rnd.randrange(4)],
        }
        if r < 0.68:  # in stock; a third has a PO open
            items.append(Facts(available=rnd.randint(1, 200), supply=pos(1) if rnd.random() < 0.33 else (), **common))
        elif r < 0.82:  # sold out or oversold, shipments due
            short = rnd.choice((0, 0, 1, 2, 5))
            items.append(Facts(available=-short, supply=pos(rnd.randint(1, 3)), backorder_queue=queue(short), **common))
        elif r < 0.87:  # pre-order
            short = rnd.randint(0, 30)
            items.append(
                Facts(
                    available=-short,
                    release_date=TODAY + timedelta(days=rnd.randint(-3, 90)),
                    backorder_queue=queue(short) if short < 8 else (),
                    **common,
                )
            )
        elif r < 0.90:  # discontinued
            items.append(Facts(available=rnd.randint(-1, 5), **{**common, "tags": common["tags"] | {"discontinued"}}))
        elif r < 0.94:  # made to order
            items.append(
                Facts(
                    available=0,
                    lead_time_days=rnd.choice((None, 14, 21, 60)),
                    **{**common, "tags": common["tags"] | {"made-to-order"}},
                )
            )
        elif r < 0.97:  # restock date typed in by the merchant
            items.append(Facts(available=0, restock_date=TODAY + timedelta(days=rnd.randint(-5, 40)), **common))
        else:  # sold out, nothing coming
            items.append(Facts(available=rnd.choice((0, -1)), **common))
    return items


def digest(decisions: Iterable[Decision | None], explained: int) -> str:
    """A fingerprint of every decision, and of the reasons and inputs of the first `explained`."""
    h = hashlib.sha256()
    for n, d in enumerate(decisions):
        if d is None:
            h.update(b"None\n")
            continue
        fields = (d.status, d.rule, d.eta, d.sell_limit, d.message, d.on_sellout, d.order_etas, d.at_sellout)
        h.update(repr(fields).encode())
        if n < explained:
            h.update(repr(d.reasons).encode())
            h.update(json.dumps(d.inputs, sort_keys=True, default=str).encode())
        h.update(b"\n")
    return h.hexdigest()


def child(skus: int, explained: int) -> None:
    """One side's process of `--against`: best of three streaming rounds, then the digest."""
    rules = ruleset()
    items = catalogue(skus)
    decide = rules.decide
    gc.collect()
    gc.freeze()
    best = min(_streaming_round(items, decide)[0] for _ in range(3))
    print(json.dumps({"rate": skus / best, "digest": digest(map(decide, items), explained)}))


def _streaming_round(items: list[Facts], decide: Callable[[Facts], Decision | None]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of deciding every item, looking at each status as a pass does."""
    counts: Counter[str | None] = Counter()
    wall, cpu = time.perf_counter(), time.process_time()
    for f in items:
        d = decide(f)
        counts[d.status if d is not None else None] += 1
    return time.process_time() - cpu, time.perf_counter() - wall


def against(ref: str, skus: int, explained: int, rounds: int) -> None:
    """Old (`ref`'s rules folder) and new (this tree) in alternating processes; see the docstring."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "rules"], capture_output=True, check=False)
    if archive.returncode != 0:
        sys.exit(f"--against {ref}: no rules/ folder to compare with ({archive.stderr.decode().strip()})")
    me = [sys.executable, __file__, "--skus", str(skus), "--explain", str(explained), "--child"]
    rates: dict[str, list[float]] = {"old": [], "new": []}
    digests: dict[str, set[str]] = {"old": set(), "new": set()}
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
            tar.extractall(Path(tmp) / "stockstatus", filter="data")
        envs = {"old": {**os.environ, "RULES_SPEED_IMPORT_ROOT": tmp}, "new": dict(os.environ)}
        envs["new"].pop("RULES_SPEED_IMPORT_ROOT", None)
        for n in range(rounds):
            for side in ("old", "new") if n % 2 == 0 else ("new", "old"):
                out = subprocess.run(me, env=envs[side], capture_output=True, text=True, check=False)
                if out.returncode != 0:
                    sys.exit(f"the {side} side ({ref if side == 'old' else 'this tree'}) failed:\n{out.stderr}")
                result = json.loads(out.stdout.strip().splitlines()[-1])
                rates[side].append(result["rate"])
                digests[side].add(result["digest"])
                print(f"  round {n + 1} {side} ({ref if side == 'old' else 'this tree'}): {result['rate']:,.0f}/s")
    for side in ("old", "new"):
        r = rates[side]
        print(f"{side}: best {max(r):,.0f}/s, median {statistics.median(r):,.0f}/s over {len(r)} processes")
    old, new = rates["old"], rates["new"]
    print(
        f"new/old: best {max(new) / max(old):.3f}, median {statistics.median(new) / statistics.median(old):.3f}"
        f" ({skus:,} SKUs, each process the best of 3 rounds)"
    )
    if digests["old"] != digests["new"] or len(digests["new"]) != 1:
        sys.exit(f"the decisions differ: {ref} {sorted(digests['old'])}, this tree {sorted(digests['new'])}")
    print(
        f"decisions identical (digest {next(iter(digests['new']))[:16]}, reasons and inputs of the first {explained:,})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skus", type=int, default=1_000_000)
    parser.add_argument("--explain", type=int, default=10_000, help="decisions whose reasons/inputs are read")
    parser.add_argument("--against", metavar="REF", help="compare with the rules of this git commit (see above)")
    parser.add_argument("--rounds", type=int, default=5, help="with --against: processes per side")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.skus, args.explain)
        return
    if args.against:
        against(args.against, args.skus, args.explain, args.rounds)
        return

    rules = ruleset()
    print(f"building {args.skus:,} SKUs ...", flush=True)
    items = catalogue(args.skus)
    decide = rules.decide

    # The catalogue is long-lived: keep the cyclic GC from rescanning it on every collection.
    gc.collect()
    gc.freeze()

    # 1. Streaming, as a sync pass consumes them: decide, look at the status, move on. The best
    # of three rounds: on a shared machine other processes only ever make a round slower.
    rounds = [_streaming_round(items, decide) for _ in range(3)]
    cpu, wall = min(rounds)
    print(
        f"decide, streaming: {len(items):,} SKUs in {cpu:.2f} s of CPU = {len(items) / cpu:,.0f} decisions/s"
        f" on one core, best of 3 rounds (wall {wall:.2f} s; Python {sys.version.split()[0]};"
        f" the rounds: {', '.join(f'{len(items) / c:,.0f}/s' for c, _ in rounds)})"
    )

    # 2. Keeping all of them in a list (more work for Python's cyclic garbage collector).
    wall, cpu = time.perf_counter(), time.process_time()
    decisions = [decide(f) for f in items]
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(
        f"decide, all kept:  {len(items):,} SKUs in {cpu:.2f} s of CPU = {len(items) / cpu:,.0f} decisions/s"
        f" (wall {wall:.2f} s)"
    )
    counts = Counter(d.status if d is not None else None for d in decisions)
    print("  statuses:", ", ".join(f"{k or 'no opinion'} {v:,}" for k, v in counts.most_common()))
    rules_hit = Counter((d.rule if d else "-") for d in decisions)
    print("  rules:   ", ", ".join(f"{k} {v:,}" for k, v in rules_hit.most_common()))

    sample = [d for d in decisions[: args.explain] if d is not None]
    started = time.perf_counter()
    for d in sample:
        d.reasons, d.inputs  # noqa: B018
    seconds = time.perf_counter() - started
    if sample:
        print(f"reasons + inputs read for {len(sample):,} decisions: {len(sample) / seconds:,.0f}/s")


if __name__ == "__main__":
    main()
