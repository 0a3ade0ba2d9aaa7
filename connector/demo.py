"""`connector demo`: the whole loop against built-in fake stores, no credentials, no network.

Each installed platform that offers a demo store contributes one fake store seeded with a
sample catalogue. The demo shows the plan, applies it, reads the stores back, and runs a
second pass to show that nothing left to change means nothing written.
"""

from __future__ import annotations

import asyncio
import json
import textwrap
import tomllib
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from stockstatus.core import catalogue
from stockstatus.core import config as config_module
from stockstatus.core.config import Config
from stockstatus.core.errors import ConfigError
from stockstatus.core.outcomes import RunOutcome
from stockstatus.core.platform import Simulates, platforms, simulates
from stockstatus.core.report import run_text
from stockstatus.core.state import StateStore
from stockstatus.core.sync import Clock, StoreRun, gather_stores, open_adapter, resync, system_clock, today_in, verdict
from stockstatus.rules.engine import DEFAULT_RULE

LEGEND = """\
What the words mean
  in_stock      ships now
  backorder     can be ordered now, ships by the ETA (restock or shipment due)
  pre_order     can be ordered before its release, ships from the ETA
  out_of_stock  cannot be ordered
  decided       a rule of config.example.toml chose the status (first match wins)
  skipped       left as it is: the store holds data the connector cannot read
  left to store stock not tracked and no rule applies: the store keeps its own status
  at sell-out   what an item in stock switches to at the last sale, set in advance
"""

WIDTH = 80
"""The demo fits a terminal of this many columns."""

EXAMPLE_CONFIG = "config.example.toml"
"""The example every new user copies; the demo decides by its rules and settings, not a copy of them."""


def example_text() -> str:
    """The example configuration shipped in the package (the project's config.example.toml)."""
    return files("stockstatus.core").joinpath(EXAMPLE_CONFIG).read_text("utf-8")


def demo_settings() -> dict[str, Any]:
    """The example configuration's rules and settings, without its stores and purchase-order files.

    The demo's stores are the built-in fake ones; the example's purchase-order paths name files
    on the merchant's machine, which the demo must not read.
    """
    raw: dict[str, Any] = tomllib.loads(example_text())
    raw.pop("stores", None)
    raw.pop("state", None)
    raw.get("supply", {}).pop("purchase_orders", None)
    return raw


def simulated_platforms() -> dict[str, Simulates]:
    """The installed platforms that offer a fake store, by name."""
    return {name: platform for name, platform in platforms().items() if simulates(platform)}


@dataclass(frozen=True, slots=True)
class DemoSetup:
    """The demo's configuration with one fake store per platform, the credentials the fakes accept
    and the in-process transports that reach them."""

    config: Config
    environ: dict[str, str]
    transports: dict[str, httpx.AsyncBaseTransport]


def demo_config(clock: Clock = system_clock) -> DemoSetup:
    """The demo's configuration with one fake store per platform, its environment and transports."""
    raw = demo_settings()
    today = today_in(ZoneInfo(raw["timezone"]), clock)
    environ: dict[str, str] = {}
    transports: dict[str, httpx.AsyncBaseTransport] = {}
    stores = []
    for name, platform in sorted(simulated_platforms().items()):
        store = platform.demo_store(catalogue.demo(today))
        store_name = f"demo-{name}"
        stores.append({"name": store_name, "platform": name, **store.settings})
        environ.update(store.environ)
        transports[store_name] = store.transport
    if not stores:
        raise ConfigError("no installed platform offers a demo store (see `connector --version` for what is installed)")
    raw["stores"] = stores
    config = config_module.from_mapping(raw, path=Path(f"<built-in {EXAMPLE_CONFIG}>"), base_dir=Path("."))
    return DemoSetup(config, environ, transports)


async def _shown(
    config: Config, environ: dict[str, str], transports: dict[str, httpx.AsyncBaseTransport]
) -> list[list[str]]:
    rows = []
    for store in config.stores:
        async with open_adapter(store, environ, transports) as adapter:
            for item in sorted(await adapter.pull_items(), key=lambda i: i.label):
                shown = item.shown
                rows.append(
                    [
                        store.name,
                        item.label,
                        item.name[:28],
                        "-" if item.available is None else str(item.available),
                        shown.status.value if shown.status else "?",
                        shown.eta.isoformat() if shown.eta else "",
                        shown.message or "",
                    ]
                )
    return rows


@dataclass(frozen=True, slots=True)
class Accounted:
    """One item of a demo store: what it shows now, whether a rule decided it, and why."""

    sku: str
    name: str
    shows: str
    outcome: str
    """ "decided", "skipped" or "left to store"."""
    why: str


async def _accounted(
    config: Config,
    state: StateStore,
    clock: Clock,
    environ: dict[str, str],
    transports: dict[str, httpx.AsyncBaseTransport],
) -> dict[str, list[Accounted]]:
    """Every item of every store, judged exactly as a pass judges it (the pass's own `verdict`)."""
    out: dict[str, list[Accounted]] = {}
    for one in await gather_stores(config, state=state, clock=clock, environ=environ, transports=transports):
        rows = []
        for seen in one.gathered.facts:
            item = seen.item
            judged = verdict(item, one.store.rules.decide(seen.facts), one.plan)
            shows = item.shown.status.value if item.shown.status else "?"
            if item.shown.eta:
                shows += f" {item.shown.eta:%d %b}"
            decision = judged.decision
            if decision is None:
                outcome, why = "left to store", "stock not tracked and no rule applies"
            elif judged.skipped is not None:
                outcome, why = "skipped", judged.skipped
            else:
                outcome = "decided"
                # The engine names the fallback "default"; its first reason already says no rule matched.
                prefix = "" if decision.rule == DEFAULT_RULE else f"rule {decision.rule!r}: "
                why = prefix + "; ".join(decision.reasons)
                if decision.message:
                    why += f'; buyers read "{decision.message}"'
            rows.append(Accounted(item.label, item.name, shows, outcome, why))
        out[one.store.name] = rows
    return out


def accounting_text(store: str, rows: list[Accounted]) -> str:
    """Every item of one store, in an 80-column terminal: what it shows and why."""
    counts = {kind: sum(1 for r in rows if r.outcome == kind) for kind in ("decided", "skipped", "left to store")}
    out = [
        f"{store}: {len(rows)} items: {counts['decided']} decided by the rules, {counts['skipped']} skipped, "
        f"{counts['left to store']} left to the store"
    ]
    for row in rows:
        head = f"  {row.sku:<17} {row.shows:<20} {row.outcome}"
        out.append(head if len(head) <= WIDTH else head[: WIDTH - 1] + "…")
        out.extend(textwrap.wrap(row.why, WIDTH, initial_indent="      ", subsequent_indent="      "))
    return "\n".join(out)


async def _run(
    clock: Clock,
) -> tuple[list[StoreRun], list[StoreRun], list[StoreRun], list[list[str]], dict[str, list[Accounted]]]:
    setup = demo_config(clock)
    config, environ, transports = setup.config, setup.environ, setup.transports
    state = StateStore(":memory:")
    try:
        passes = [
            await resync(config, dry_run=dry_run, state=state, clock=clock, environ=environ, transports=transports)
            for dry_run in (True, False, False)
        ]
        planned, applied, again = passes
        shown = await _shown(config, environ, transports)
        accounted = await _accounted(config, state, clock, environ, transports)
    finally:
        state.close()
    return planned, applied, again, shown, accounted


def run(*, json_output: bool = False, clock: Clock = system_clock) -> int:
    """Run the demo and print what happened; 0 when every pass succeeded."""
    planned, applied, again, shown, accounted = asyncio.run(_run(clock))
    ok = all(r.outcome is RunOutcome.OK for r in (*planned, *applied, *again))
    if json_output:
        print(
            json.dumps(
                {
                    "plan": [r.as_dict() for r in planned],
                    "applied": [r.as_dict() for r in applied],
                    "second_pass": [r.as_dict() for r in again],
                    "shown": [
                        dict(zip(["store", "sku", "name", "available", "status", "eta", "message"], r, strict=True))
                        for r in shown
                    ],
                    "items": {
                        store: [
                            {"sku": r.sku, "name": r.name, "shows": r.shows, "outcome": r.outcome, "why": r.why}
                            for r in rows
                        ]
                        for store, rows in accounted.items()
                    },
                },
                indent=2,
            )
        )
        return 0 if ok else 1
    now = clock().astimezone()
    print(f"Demo: built-in fake stores, sample catalogue, today {now:%Y-%m-%d}. No credentials, no network.\n")
    print(LEGEND)
    print("1. The plan (dry run: what would change, and which rule decided it)\n")
    for r in planned:
        print(run_text(r) + "\n")
    print("2. Applied\n")
    for r in applied:
        print(f"  {r.store}: {r.written} written, {r.failed} failed ({r.outcome.value})")
    print("\n3. Every item: what the store shows now, and why\n")
    previous: list[Accounted] | None = None
    for store, rows in accounted.items():
        if previous is not None and [(r.sku, r.shows, r.outcome, r.why) for r in rows] == [
            (r.sku, r.shows, r.outcome, r.why) for r in previous
        ]:
            print(f"{store}: the same {len(rows)} items, each shown alike and for the same reason\n")
            continue
        print(accounting_text(store, rows) + "\n")
        previous = rows
    print("4. A second pass with nothing changed\n")
    for r in again:
        print(run_text(r) + "\n")
    print("Next: `connector init` writes connector.toml; set your store's URL and key names")
    print("in it, and run `connector resync --dry-run`. Or try an API:")
    print(" or ".join(f"`connector sandbox {name}`" for name in sorted(simulated_platforms())) + ".")
    return 0 if ok else 1
