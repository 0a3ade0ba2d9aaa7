"""The `connector` command: a thin shell over the library, one function per command.

Exit codes: 0 done; 1 a store failed or some writes were refused; 2 the configuration is invalid.

Every command reads the time from one clock, `main`'s `clock` (the system clock unless a caller
passes another), so that "today" in the store's calendar, the state file's timestamps and the
daemon's passes agree, and so that tests can pin it.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from typing import Any, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from stockstatus.core import catalogue, daemon, demo, explain, logs, operator, report
from stockstatus.core import config as config_module
from stockstatus.core.catalogue import Catalogue
from stockstatus.core.errors import ConfigError, ConnectorError
from stockstatus.core.outcomes import RunOutcome
from stockstatus.core.platform import platforms, simulates
from stockstatus.core.progress import TerminalProgress
from stockstatus.core.state import StateStore
from stockstatus.core.sync import Clock, resync, system_clock

log = logging.getLogger("connector")

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2

TEST_CLOCK_VARIABLE = "CONNECTOR_TEST_CLOCK_START"
"""For the project's tests of `connector` as a separate process, and for nothing else: an ISO 8601
instant with its UTC offset at which the process's clock starts; it then runs on at the real pace.
Read only when the module is run as `python -m stockstatus.core.cli` (how those tests start it);
the installed `connector` command never reads it, so a stray variable cannot move a shop's dates."""


def clock_starting_at(start: datetime) -> Clock:
    """A clock that reads `start` now and then moves on with the real (monotonic) time."""
    began = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - began)


def _test_clock(environ: Mapping[str, str]) -> Clock:
    text = environ.get(TEST_CLOCK_VARIABLE)
    if not text:
        return system_clock
    try:
        start = datetime.fromisoformat(text)
    except ValueError:
        start = None
    if start is None or start.tzinfo is None:
        raise SystemExit(f"{TEST_CLOCK_VARIABLE}: {text!r} is not an ISO 8601 instant with a UTC offset")
    return clock_starting_at(start)


def _state_now(clock: Clock) -> Callable[[], str]:
    """The state file's timestamps, read from the command's clock."""
    return lambda: clock().astimezone(UTC).isoformat(timespec="seconds")


def say(text: str, *, file: TextIO | None = None) -> None:
    """Print text output with control characters from store data or files escaped (line breaks kept)."""
    print(report.printable(text, keep="\n"), file=file or sys.stdout)


def cmd_resync(args: argparse.Namespace) -> int:
    """Run one full pass now: pull, decide, push what changed, record.

    Prints the plan (SKU, from → to, ETA, rule) and a summary per store. With --incremental,
    only what changed since the store's last completed pass is pulled and decided (a full pass
    when there is no such pass yet).

    Example: connector resync --store eu-shop --dry-run
    """
    config = config_module.load(config_module.config_path(args.config))
    config.check_secrets(config.select(args.store))  # before the state file is touched
    config.check_supply()
    state = StateStore(config.state_path, now=_state_now(args.clock))
    try:
        runs = asyncio.run(
            resync(
                config,
                store_name=args.store,
                dry_run=args.dry_run,
                incremental=args.incremental,
                state=state,
                clock=args.clock,
                environ=os.environ,
                progress=None if args.json else TerminalProgress.for_terminal(),
            )
        )
    finally:
        state.close()
    if args.json:
        print(json.dumps({"runs": [r.as_dict() for r in runs]}, indent=2))
    else:
        for run in runs:
            say(report.run_text(run))
    return EXIT_OK if all(r.outcome is RunOutcome.OK for r in runs) else EXIT_FAILED


def cmd_rules_check(args: argparse.Namespace) -> int:
    """Validate the configuration and its rules without contacting any store.

    Example: connector --config shop.toml rules check
    """
    config = config_module.load(config_module.config_path(args.config))
    config.check_supply()
    for store in config.stores:
        names = ", ".join(store.rules.names) or "(no rules: built-in default only)"
        say(f"{store.name} ({store.platform}, {store.timezone.key}): {names}")
    say(f"{', '.join(str(f) for f in config.files)}: OK")
    return EXIT_OK


def cmd_rules_explain(args: argparse.Namespace) -> int:
    """Show why a SKU gets its status: facts, each rule's result, supply timeline, decision.

    Pulls the store (read-only) and builds the SKU's facts exactly as a pass does: stock, the
    backorder queue, incoming supply, sales history and the status the store accepted last.
    Writes nothing, to the store or to the state file.

    Example: connector rules explain KTL-1 --store eu-shop
    """
    config = config_module.load(config_module.config_path(args.config))
    config.check_secrets(config.select(args.store))
    state = StateStore.copy_of(config.state_path)
    try:
        found = asyncio.run(
            explain.explain_sku(
                config, args.sku, store_name=args.store, state=state, clock=args.clock, environ=os.environ
            )
        )
    except explain.UnknownSku as exc:
        say(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        state.close()
    if args.json:
        print(explain.dumps(found))
    else:
        say("\n\n".join(explain.text(e) for e in found))
    return EXIT_OK


def cmd_report_reorder(args: argparse.Namespace) -> int:
    """List SKUs at or below their reorder point, with a suggested quantity to order.

    Demand comes from the order history in the state file (days out of stock left out), supply
    from the store and the purchase-order files. Settings: `[demand]` in the config. Pulls the
    store read-only; writes nothing.

    Example: connector report reorder --store eu-shop --csv > reorder.csv
    """
    config = config_module.load(config_module.config_path(args.config))
    config.check_secrets(config.select(args.store))
    state = StateStore.copy_of(config.state_path)
    try:
        found = asyncio.run(
            report.reorder_report(config, store_name=args.store, state=state, clock=args.clock, environ=os.environ)
        )
    finally:
        state.close()
    if args.csv:
        sys.stdout.write(report.reorder_csv(found))
        for warning in found.warnings:
            say(f"warning: {warning}", file=sys.stderr)
    else:
        say(report.reorder_table(found))
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    """Run the daemon: every enabled store on its own schedule, until SIGTERM or Ctrl-C.

    A store's `schedule` is an interval ("every 15m") or a cron expression ("*/10 * * * *") in
    the store's timezone. Edits to the config file apply at the next run; an edit that does not
    validate is logged and the last good config keeps running.

    Example: connector --log-format json run
    """
    return daemon.run(config_module.config_path(args.config), os.environ, clock=args.clock)


def cmd_check(args: argparse.Namespace) -> int:
    """Check each store: credentials set, accepted, with the permissions needed, and reachable.

    Example: connector check --store eu-shop
    """
    config = config_module.load(config_module.config_path(args.config))
    results = asyncio.run(operator.check_stores(config, config.select(args.store), os.environ))
    for result in results:
        if result.ok:
            say(f"{result.store}: OK")
        else:
            say(f"{result.store}: FAILED: {result.problem}\n  fix: {result.fix}")
    return EXIT_OK if all(r.ok for r in results) else EXIT_FAILED


def cmd_status(args: argparse.Namespace) -> int:
    """Per store: the last run, its outcome and counts by status, the next run, the last error.

    Example: connector status --json
    """
    config = config_module.load(config_module.config_path(args.config))
    state = StateStore.copy_of(config.state_path)
    try:
        rows = operator.status(config, state, args.clock)
    finally:
        state.close()
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        say(operator.status_text(rows))
    return EXIT_OK


def cmd_history(args: argparse.Namespace) -> int:
    """A SKU's changes over time: when, from → to, ETA, the rule and why, and the store's answer.

    Example: connector history KTL-1 --store eu-shop
    """
    config = config_module.load(config_module.config_path(args.config))
    state = StateStore.copy_of(config.state_path)
    try:
        rows = list(state.decisions.history(args.sku, store=args.store, limit=args.limit))
    finally:
        state.close()
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        say(operator.history_text(rows))
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the whole loop against built-in fake stores with a sample catalogue.

    No credentials and no network: the stores run inside this process.

    Example: connector demo
    """
    return demo.run(json_output=args.json, clock=args.clock)


def cmd_sandbox(args: argparse.Namespace) -> int:
    """Serve a fake store over HTTP on loopback, for trying the connector against an API.

    Prints the base URL and the credentials it accepts, then serves until Ctrl-C.

    Example: connector sandbox woocommerce --port 8080 --products 500 --timezone Europe/Berlin
    """
    installed = platforms()
    if args.platform not in installed:
        raise ConfigError(f"unknown platform {args.platform!r} (installed: {', '.join(sorted(installed))})")
    platform = installed[args.platform]
    if not simulates(platform):
        offered = ", ".join(sorted(demo.simulated_platforms())) or "none"
        raise ConfigError(f"platform {args.platform!r} offers no sandbox (platforms with one: {offered})")
    if args.products < 0:
        raise ConfigError(f"--products must be 0 or more, not {args.products}")
    options = {"plan": args.plan} if args.plan else {}
    if args.timezone is not None:
        try:
            ZoneInfo(args.timezone)
        except (ValueError, ZoneInfoNotFoundError):
            raise ConfigError(
                f"--timezone: {args.timezone!r} is not a timezone name (an IANA name such as Europe/Berlin)"
            ) from None
        options["timezone"] = args.timezone
    today = args.clock().astimezone(UTC).date()
    seeded = Catalogue(()) if args.empty else catalogue.generated(args.products, today)
    platform.run_sandbox(host=args.host, port=args.port, catalogue=seeded, options=options)
    return EXIT_OK


def _help(func: Any) -> str:
    return inspect.cleandoc(func.__doc__ or "")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="connector",
        description="Keep every SKU's stock status (in stock, backorder, pre-order, out of stock) right.",
    )
    top.add_argument(
        "--config",
        metavar="PATH",
        help=f"configuration file (default: ${config_module.ENV_VAR} or ./{config_module.DEFAULT_PATH})",
    )
    top.add_argument("--version", action="version", version=f"%(prog)s {version('stock-status-connector')}")
    top.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    top.add_argument("--log-format", default="text", choices=["text", "json"], help="log lines as text or JSON")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, func: Any, parent: Any = sub) -> argparse.ArgumentParser:
        text = _help(func)
        p: argparse.ArgumentParser = parent.add_parser(
            name, help=text.splitlines()[0], description=text, formatter_class=argparse.RawDescriptionHelpFormatter
        )
        p.set_defaults(func=func)
        return p

    p = add("resync", cmd_resync)
    p.add_argument("--store", metavar="NAME", help="only this store (default: every enabled store)")
    p.add_argument("--dry-run", action="store_true", help="show the plan; write nothing to the store")
    p.add_argument("--incremental", action="store_true", help="pull only what changed since the last completed pass")
    p.add_argument("--json", action="store_true", help="print machine-readable results")

    rules = sub.add_parser("rules", help="check the rules, explain a decision")
    rules_sub = rules.add_subparsers(dest="rules_command", required=True, metavar="COMMAND")
    add("check", cmd_rules_check, rules_sub)
    p = add("explain", cmd_rules_explain, rules_sub)
    p.add_argument("sku", metavar="SKU", help="the SKU to explain (or #KEY for an item without a SKU)")
    p.add_argument("--store", metavar="NAME", help="only this store (default: every enabled store)")
    p.add_argument("--json", action="store_true", help="print machine-readable results")

    reports = sub.add_parser("report", help="reports from the stores and the state file")
    reports_sub = reports.add_subparsers(dest="report_command", required=True, metavar="REPORT")
    p = add("reorder", cmd_report_reorder, reports_sub)
    p.add_argument("--store", metavar="NAME", help="only this store (default: every enabled store)")
    p.add_argument("--csv", action="store_true", help="CSV on standard output instead of a table")

    p = add("run", cmd_run)

    p = add("check", cmd_check)
    p.add_argument("--store", metavar="NAME", help="only this store (default: every enabled store)")

    p = add("status", cmd_status)
    p.add_argument("--json", action="store_true", help="print machine-readable results")

    p = add("history", cmd_history)
    p.add_argument("sku", metavar="SKU")
    p.add_argument("--store", metavar="NAME", help="only this store")
    p.add_argument("--limit", type=int, default=50, help="most recent N changes (default: 50)")
    p.add_argument("--json", action="store_true", help="print machine-readable results")

    p = add("demo", cmd_demo)
    p.add_argument("--json", action="store_true", help="print machine-readable results")

    p = add("sandbox", cmd_sandbox)
    p.add_argument("platform", help="which fake store: " + ", ".join(sorted(demo.simulated_platforms())))
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port (default: 8080; 0 picks a free one)")
    p.add_argument("--products", type=int, default=50, help="products to generate (default: 50)")
    p.add_argument("--empty", action="store_true", help="start with no products, to seed through the API")
    p.add_argument("--plan", help="platform plan whose limits to mimic (Shopify)")
    p.add_argument("--timezone", metavar="ZONE", help="the store's timezone, an IANA name (WooCommerce; default: UTC)")
    return top


def main(argv: Sequence[str] | None = None, *, clock: Clock = system_clock) -> int:
    """`connector ARGV`; every command reads the time from `clock`."""
    args = parser().parse_args(argv)
    args.clock = clock
    logs.configure(args.log_level, args.log_format)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        say(f"configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except ConnectorError as exc:
        say(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):  # output piped into `head` and the like
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keep the interpreter from writing again
            return EXIT_FAILED
        where = f" {exc.filename}" if exc.filename else ""
        say(f"error: cannot use{where}: {exc.strerror or exc} (check the path and its permissions)", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(clock=_test_clock(os.environ)))
