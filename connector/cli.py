"""The `connector` command: a thin shell over the library, one function per command.

Exit codes: 0 done; 1 a store failed or some writes were refused; 2 the configuration is invalid;
64 the command line itself is wrong (an unknown option, a missing argument: nothing was read).

Every command reads the time from one clock, `main`'s `clock` (the system clock unless a caller
passes another), so that "today" in the store's calendar, the state file's timestamps and the
daemon's passes agree, and so that tests can pin it.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import inspect
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any, NoReturn, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from stockstatus.core import catalogue, daemon, demo, explain, logs, operator, report, subscriptions
from stockstatus.core import config as config_module
from stockstatus.core.catalogue import Catalogue
from stockstatus.core.errors import ConfigError, ConnectorError
from stockstatus.core.outcomes import RunOutcome
from stockstatus.core.platform import platforms, simulates
from stockstatus.core.progress import TerminalProgress
from stockstatus.core.state import HoldKind, StateStore
from stockstatus.core.sync import Clock, resync, system_clock
from stockstatus.core.sync.restore import restore_store

log = logging.getLogger("connector")

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2
EXIT_USAGE = 64
"""A usage error (sysexits' EX_USAGE), apart from an invalid config (2): a script or a service
manager can tell "fix the command line" from "fix the file"."""

EXIT_CODES = f"""exit codes:
  {EXIT_OK}   done
  {EXIT_FAILED}   a store failed, some writes were refused, or a SKU was not found
  {EXIT_CONFIG}   the configuration is invalid (the file, its rules, purchase-order files, or a
      credential variable not set): one line per problem names the file and key
  {EXIT_USAGE}  the command line is wrong (an unknown option, a missing argument); nothing was read

--config, --log-level and --log-format may come before or after the command."""

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

    Prints the plan per store: each item to change with its rule, then its status, ETA,
    message and the store's selling field, old → new, and the changes counted by kind. With
    --incremental, only what changed since the store's last completed pass is pulled and
    decided (a full pass when there is no such pass yet).

    With --dry-run --as-of DATE, plans for that day in the store's calendar (release and
    restock dates reached by then, ETAs counted from it) with today's stock, orders and supply:
    what the store would show if nothing else changed. Nothing is written, not even to the
    state file.

    A pass that would change the status of more than the rails allow ([rails] in the config:
    30 % of the store's items, or 20 % turned out of stock) writes nothing, holds the store and
    exits 1; so does a full listing that is empty or much smaller than the last one. Look at
    the plan with --dry-run, then apply it with --force. A paused store is not passed over.
    If another process is running a pass over the store, waits up to --wait seconds.

    Example: connector resync --store eu-shop --dry-run
    Example: connector resync --dry-run --as-of 2026-12-07
    """
    config = config_module.load(config_module.config_path(args.config))
    config.check_secrets(config.select(args.store))  # before the state file is touched
    config.check_supply()
    # Planning for another day records nothing: no run, no demand seen on a day not yet come.
    state = _state(config, args, record=not args.as_of)
    try:
        runs = asyncio.run(
            resync(
                config,
                store_name=args.store,
                dry_run=args.dry_run,
                incremental=args.incremental,
                force=args.force,
                wait=args.wait,
                state=state,
                clock=args.clock,
                environ=os.environ,
                progress=None if args.json else TerminalProgress.for_terminal(),
                as_of=args.as_of,
            )
        )
    finally:
        state.close()
    if args.json:
        print(json.dumps({**_as_of_json(args), "runs": [r.as_dict() for r in runs]}, indent=2))
    else:
        _say_as_of(args)
        for run in runs:
            say(report.run_text(run))
    return EXIT_OK if all(r.outcome is RunOutcome.OK for r in runs) else EXIT_FAILED


def _state(config: config_module.Config, args: argparse.Namespace, *, record: bool) -> StateStore:
    """The state file, or (not `record`) an in-memory copy of it that the command may change freely."""
    if record:
        return StateStore(config.state_path, now=_state_now(args.clock))
    return StateStore.copy_of(config.state_path)


def as_of_date(text: str) -> date:
    """`--as-of`: a calendar date, YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date: write it as YYYY-MM-DD (e.g. 2026-12-31), a day in the store's calendar"
        ) from None


def _as_of_json(args: argparse.Namespace) -> dict[str, Any]:
    return {"as_of": args.as_of.isoformat()} if args.as_of else {}


def _say_as_of(args: argparse.Namespace) -> None:
    """The first line of a plan for another day: which day, and that nothing is written."""
    if args.as_of:
        say(
            f"as of {args.as_of:%A} {args.as_of.isoformat()} in each store's calendar, with today's stock, orders "
            "and supply: a plan, nothing is written (not to the stores, not to the state file)\n"
        )


def cmd_restore(args: argparse.Namespace) -> int:
    """Put back every field the connector changed on a store, as it was before the connector first wrote it.

    Each field (WooCommerce: stock_status, backorders, the meta keys it writes; Shopify:
    inventoryPolicy, metafields, the tags it added or removed) goes back only where the store still
    holds the connector's own last value, read now: a field the merchant edited since is left and
    reported. A field that did not exist before the connector (a meta key, a metafield, a tag) is
    deleted. With --sku, only those SKUs. Afterwards the store is paused (as `connector pause`)
    until `connector resume`, so the daemon does not write its values again; --dry-run shows what
    would be restored and writes nothing, not even the pause.

    Example: connector restore --store eu-shop --dry-run
    Example: connector restore --store eu-shop --sku KTL-1 --sku KTL-2
    """
    config = config_module.load(config_module.config_path(args.config))
    config.check_secrets(config.select(args.store))
    state = _state(config, args, record=not args.dry_run)
    try:
        run = asyncio.run(
            restore_store(
                config,
                store_name=args.store,
                skus=args.sku or (),
                dry_run=args.dry_run,
                state=state,
                environ=os.environ,
                wait=args.wait,
            )
        )
    finally:
        state.close()
    if args.json:
        print(json.dumps(run.as_dict(), indent=2))
    else:
        say(report.restore_text(run))
    return EXIT_OK if run.outcome is RunOutcome.OK else EXIT_FAILED


def cmd_pause(args: argparse.Namespace) -> int:
    """Stop every pass from writing to a store (a kill switch), until `connector resume`.

    Kept in the state file: a running daemon honours it at the store's next pass (a pass in
    progress finishes). `connector status` shows the store as paused, since when and why.

    Example: connector pause eu-shop --reason "wrong rules, checking"
    """
    config = config_module.load(config_module.config_path(args.config))
    [store] = config.select(args.store)
    state = StateStore(config.state_path, now=_state_now(args.clock))
    try:
        state.holds.pause(store.name, args.reason or "paused by the operator")
    finally:
        state.close()
    print(f"{store.name}: paused; no pass writes to it until `connector resume {store.name}`")
    return EXIT_OK


def cmd_resume(args: argparse.Namespace) -> int:
    """Let passes write to a paused or held store again.

    A store held by the rails (a pass that would have changed too much of it) is released: the
    daemon's next pass applies its plan once without the rails. To apply it now instead, run
    `connector resync --store STORE --force`.

    Example: connector resume eu-shop
    """
    config = config_module.load(config_module.config_path(args.config))
    [store] = config.select(args.store)
    state = StateStore(config.state_path, now=_state_now(args.clock))
    try:
        lifted = state.holds.resume(store.name)
    finally:
        state.close()
    if not lifted:
        print(f"{store.name}: neither paused nor held; nothing to do")
    for hold in lifted:
        then = " (the next pass may go over the rails, once)" if hold.kind is HoldKind.HELD else ""
        print(f"{store.name}: no longer {hold.kind.value} (since {hold.since}){then}")
    return EXIT_OK


def cmd_rules_check(args: argparse.Namespace) -> int:
    """Validate the configuration and its rules without contacting any store.

    Credential variables that the enabled stores (and the webhook) name but this environment
    lacks are warnings: the file may be checked on another machine than the one that runs the
    connector. With --strict they are errors (exit 2), as for the commands that reach a store.

    Example: connector --config shop.toml rules check --strict
    """
    config = config_module.load(config_module.config_path(args.config))
    config.check_supply()
    missing = config.missing_secrets(config.select(None), os.environ)
    if missing and args.strict:
        config.check_secrets(config.select(None), os.environ)
    for store in config.stores:
        names = ", ".join(store.rules.names) or "(no rules: built-in default only)"
        say(f"{store.name} ({store.platform}, {store.timezone.key}): {names}")
    for problem in missing:
        say(f"warning: {problem}")
    files = ", ".join(str(f) for f in config.files)
    if missing:
        say(
            f"{files}: OK, with {len(missing)} warning{'' if len(missing) == 1 else 's'}: credential variables not "
            "set in this environment (commands that reach a store stop until they are; --strict makes these errors)"
        )
    else:
        say(f"{files}: OK")
    return EXIT_OK


def cmd_rules_explain(args: argparse.Namespace) -> int:
    """Show why a SKU gets its status: facts, each rule's result, supply timeline, decision.

    Pulls the store (read-only) and builds the SKU's facts exactly as a pass does: stock, the
    backorder queue, incoming supply, sales history and the status the store accepted last.
    Writes nothing, to the store or to the state file.

    With --as-of DATE, explains the decision for that day in the store's calendar, with
    today's stock, orders and supply.

    Example: connector rules explain KTL-1 --store eu-shop
    Example: connector rules explain PRE-1 --as-of 2026-12-24
    """
    config = config_module.load(config_module.config_path(args.config))
    config.check_secrets(config.select(args.store))
    state = StateStore.copy_of(config.state_path)
    try:
        found = asyncio.run(
            explain.explain_sku(
                config,
                args.sku,
                store_name=args.store,
                state=state,
                clock=args.clock,
                environ=os.environ,
                as_of=args.as_of,
            )
        )
    except explain.UnknownSku as exc:
        say(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        state.close()
    if args.json:
        print(explain.dumps(found, as_of=args.as_of))
    else:
        _say_as_of(args)
        say("\n\n".join(explain.text(e) for e in found))
    return EXIT_OK


def cmd_report_reorder(args: argparse.Namespace) -> int:
    """List SKUs at or below their reorder point, with a suggested quantity to order.

    Demand comes from the order history in the state file (days out of stock left out), supply
    from the store and the purchase-order files. Settings: `[demand]` in the config. Pulls the
    store read-only; writes nothing.

    With --as-of DATE, judged on that day in the store's calendar (supply due by then counted
    as on order, the sales window ending then), with today's stock and orders.

    Example: connector report reorder --store eu-shop --csv > reorder.csv
    """
    config = config_module.load(config_module.config_path(args.config))
    config.check_secrets(config.select(args.store))
    state = StateStore.copy_of(config.state_path)
    try:
        found = asyncio.run(
            report.reorder_report(
                config, store_name=args.store, state=state, clock=args.clock, environ=os.environ, as_of=args.as_of
            )
        )
    finally:
        state.close()
    if args.csv:
        sys.stdout.write(report.reorder_csv(found))
        for warning in found.warnings:
            say(f"warning: {warning}", file=sys.stderr)
    else:
        _say_as_of(args)
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


def _webhooks(args: argparse.Namespace, action: str) -> int:
    config = config_module.load(config_module.config_path(args.config))
    stores = config.select(args.store)
    config.check_secrets(stores)
    subscriptions.public_url(config)  # a ConfigError before any store is reached
    dry_run = getattr(args, "dry_run", False)
    run = {"install": subscriptions.install, "remove": subscriptions.remove}.get(action)
    if run is None:
        plans = asyncio.run(subscriptions.survey_stores(config, stores, os.environ))
    else:
        plans = asyncio.run(run(config, stores, os.environ, dry_run=dry_run))
    if args.json:
        print(json.dumps({"dry_run": dry_run, "stores": [p.as_dict() for p in plans]}, indent=2))
    else:
        say(subscriptions.text(plans, action, dry_run=dry_run))
    if any(p.error is not None for p in plans):
        return EXIT_FAILED
    return EXIT_OK if action != "status" or all(p.healthy for p in plans) else EXIT_FAILED


def cmd_webhooks_install(args: argparse.Namespace) -> int:
    """Subscribe each store's webhooks to the daemon's listener at `[listen] public_url`.

    Each store posts to <public_url>/webhooks/<store name>. Creates the subscriptions that are
    missing, replaces those the store disabled after failed deliveries, removes duplicates and
    leaves healthy ones alone: running it again changes nothing. WooCommerce webhooks are signed
    with the secret in the store's `webhook_secret_env`; Shopify signs with the app's client
    secret. With --dry-run, prints what it would do and changes nothing.

    Example: connector webhooks install --store eu-shop --dry-run
    """
    return _webhooks(args, "install")


def cmd_webhooks_status(args: argparse.Namespace) -> int:
    """List each store's webhook subscriptions to the listener and their health.

    A topic is active, missing (never installed, or removed by Shopify after its deliveries kept
    failing), or disabled/paused (WooCommerce stops a webhook after more than five failed
    deliveries in a row). Exits 1 when one is not active. Changes nothing.

    Example: connector webhooks status
    """
    return _webhooks(args, "status")


def cmd_webhooks_remove(args: argparse.Namespace) -> int:
    """Delete the connector's webhook subscriptions (those at its listener's address; no others).

    Scheduled passes keep the stores up to date without them. With --dry-run, prints what it
    would delete.

    Example: connector webhooks remove --store eu-shop
    """
    return _webhooks(args, "remove")


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
        rows = operator.history(state, args.sku, store=args.store, limit=args.limit)
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


def cmd_init(args: argparse.Namespace) -> int:
    """Write a starter configuration: the complete, commented example shipped with the connector.

    PATH defaults to --config, else $CONNECTOR_CONFIG, else ./connector.toml. An existing file
    is never overwritten. Then set each store's url and the names of its credential variables,
    delete the stores you do not have, and check it with `connector rules check`.

    Example: connector init /etc/stock-connector/connector.toml
    """
    path = Path(args.path) if args.path else config_module.config_path(args.config)
    operator.write_starter_config(path)
    named = "" if path == config_module.config_path(None) else f" --config {path}"
    say(
        f"wrote {path}: the example configuration (two stores, rules, supply and demand settings), to edit\n"
        "next:\n"
        "  1. set each store's url (WooCommerce) or shop (Shopify); delete the stores you do not have\n"
        "  2. export the credential variables each store names (key_env, secret_env, token_env)\n"
        f"  3. connector{named} rules check, then connector{named} resync --dry-run"
    )
    return EXIT_OK


def cmd_sandbox(args: argparse.Namespace) -> int:
    """Serve a fake store over HTTP on loopback, for trying the connector against an API.

    Prints the base URL and the credentials it accepts, then serves until Ctrl-C.

    Example: connector sandbox woocommerce --port 8080 --products 500 --timezone Europe/Berlin
    Example: connector sandbox woocommerce --catalogue my-shop.toml
    """
    # The command line alone is wrong here, not a config: usage errors (exit 64).
    command = "connector sandbox"
    installed = platforms()
    if args.platform not in installed:
        raise UsageError(f"unknown platform {args.platform!r} (installed: {', '.join(sorted(installed))})", command)
    platform = installed[args.platform]
    if not simulates(platform):
        offered = ", ".join(sorted(demo.simulated_platforms())) or "none"
        raise UsageError(f"platform {args.platform!r} offers no sandbox (platforms with one: {offered})", command)
    if args.products < 0:
        raise UsageError(f"--products must be 0 or more, not {args.products}", command)
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be from 0 to 65535 (0 takes a free one), not {args.port}", command)
    options = {"plan": args.plan} if args.plan else {}
    if args.client_secret_env is not None:
        secret = os.environ.get(args.client_secret_env)
        if not secret:
            raise UsageError(f"--client-secret-env: environment variable {args.client_secret_env} is not set", command)
        options["client_secret"] = secret
    if args.timezone is not None:
        try:
            ZoneInfo(args.timezone)
        except (ValueError, ZoneInfoNotFoundError):
            raise UsageError(
                f"--timezone: {args.timezone!r} is not a timezone name (an IANA name such as Europe/Berlin)", command
            ) from None
        options["timezone"] = args.timezone
    today = args.clock().astimezone(UTC).date()
    if args.catalogue is not None:
        try:
            seeded = catalogue.from_file(Path(args.catalogue), today)
        except catalogue.CatalogueFileError as exc:
            raise ConfigError(f"--catalogue: {exc}") from None
    else:
        seeded = Catalogue(()) if args.empty else catalogue.generated(args.products, today)
    try:
        platform.run_sandbox(host=args.host, port=args.port, catalogue=seeded, options=options)
    except OSError as exc:
        if exc.errno not in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            raise
        raise ConnectorError(
            f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}; "
            "pick another --port (--port 0 takes a free one)"
        ) from None
    return EXIT_OK


def _help(func: Any) -> str:
    return inspect.cleandoc(func.__doc__ or "")


class UsageError(Exception):
    """The command line is wrong; the message says what and which command's help to read."""

    def __init__(self, message: str, prog: str) -> None:
        super().__init__(message)
        self.prog = prog


class _Parser(argparse.ArgumentParser):
    """argparse with its usage errors raised (exit 64), not printed with exit 2 (an invalid config's code)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, self.prog)


def _global_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    """--config, --log-level and --log-format: on the top parser with their defaults, and on every
    command without any (SUPPRESS), so that given after the command they are taken and, not
    given there, they leave what was given before the command."""

    def default(value: str | None) -> Any:
        return value if defaults else argparse.SUPPRESS

    parser.add_argument(
        "--config",
        metavar="PATH",
        default=default(None),
        help=f"configuration file (default: ${config_module.ENV_VAR} or ./{config_module.DEFAULT_PATH})",
    )
    parser.add_argument(
        "--log-level",
        default=default("WARNING"),
        type=str.upper,
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log lines from this level up (default: WARNING)",
    )
    parser.add_argument(
        "--log-format", default=default("text"), choices=["text", "json"], help="log lines as text or JSON"
    )


def parser() -> argparse.ArgumentParser:
    top = _Parser(
        prog="connector",
        description="Keep every SKU's stock status (in stock, backorder, pre-order, out of stock) right.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _global_options(top, defaults=True)
    top.add_argument("--version", action="version", version=f"%(prog)s {version('stock-status-connector')}")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, func: Any, parent: Any = sub) -> argparse.ArgumentParser:
        text = _help(func)
        p: argparse.ArgumentParser = parent.add_parser(
            name,
            help=text.splitlines()[0],
            description=text,
            epilog=EXIT_CODES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _global_options(p, defaults=False)
        p.set_defaults(func=func)
        return p

    def group(name: str, text: str, dest: str, metavar: str) -> Any:
        p = sub.add_parser(name, help=text, description=text)
        _global_options(p, defaults=False)
        return p.add_subparsers(dest=dest, required=True, metavar=metavar)

    p = add("resync", cmd_resync)
    p.add_argument("--store", metavar="NAME", help="only this store (default: every enabled store)")
    p.add_argument("--dry-run", action="store_true", help="show the plan; write nothing to the store")
    p.add_argument("--incremental", action="store_true", help="pull only what changed since the last completed pass")
    p.add_argument(
        "--force", action="store_true", help="go over the rails and accept a shrunken listing (after a --dry-run)"
    )
    p.add_argument(
        "--wait",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="wait this long for another process's pass over the store to end (default: 10)",
    )
    p.add_argument("--json", action="store_true", help="print machine-readable results")
    p.add_argument(
        "--as-of",
        metavar="DATE",
        type=as_of_date,
        help="decide for this day (YYYY-MM-DD) in the store's calendar; with --dry-run only",
    )

    p = add("restore", cmd_restore)
    p.add_argument("--store", metavar="NAME", required=True, help="the store to restore")
    p.add_argument("--dry-run", action="store_true", help="show what would be restored; write nothing")
    p.add_argument(
        "--sku", metavar="SKU", action="append", help="only this SKU (repeat for more; default: every recorded field)"
    )
    p.add_argument(
        "--wait",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="wait this long for another process's pass over the store to end (default: 10)",
    )
    p.add_argument("--json", action="store_true", help="print machine-readable results")

    p = add("pause", cmd_pause)
    p.add_argument("store", metavar="STORE", help="the store's name in the config")
    p.add_argument("--reason", help="why, shown by `connector status`")
    p = add("resume", cmd_resume)
    p.add_argument("store", metavar="STORE", help="the store's name in the config")

    rules_sub = group("rules", "check the rules, explain a decision", "rules_command", "COMMAND")
    p = add("check", cmd_rules_check, rules_sub)
    p.add_argument("--strict", action="store_true", help="credential variables not set are errors, not warnings")
    p = add("explain", cmd_rules_explain, rules_sub)
    p.add_argument("sku", metavar="SKU", help="the SKU to explain (or #KEY for an item without a SKU)")
    p.add_argument("--store", metavar="NAME", help="only this store (default: every enabled store)")
    p.add_argument("--json", action="store_true", help="print machine-readable results")
    p.add_argument(
        "--as-of",
        metavar="DATE",
        type=as_of_date,
        help="decide for this day (YYYY-MM-DD) in the store's calendar; writes nothing",
    )

    reports_sub = group("report", "reports from the stores and the state file", "report_command", "REPORT")
    p = add("reorder", cmd_report_reorder, reports_sub)
    p.add_argument("--store", metavar="NAME", help="only this store (default: every enabled store)")
    p.add_argument("--csv", action="store_true", help="CSV on standard output instead of a table")
    p.add_argument(
        "--as-of",
        metavar="DATE",
        type=as_of_date,
        help="decide for this day (YYYY-MM-DD) in the store's calendar; writes nothing",
    )

    webhooks_sub = group(
        "webhooks", "the store webhooks that reach the daemon's listener", "webhooks_command", "COMMAND"
    )
    for name, func in (
        ("install", cmd_webhooks_install),
        ("status", cmd_webhooks_status),
        ("remove", cmd_webhooks_remove),
    ):
        p = add(name, func, webhooks_sub)
        p.add_argument("--store", metavar="NAME", help="only this store (default: every enabled store)")
        if name != "status":
            p.add_argument("--dry-run", action="store_true", help="show what would change; change nothing")
        p.add_argument("--json", action="store_true", help="print machine-readable results")

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

    p = add("init", cmd_init)
    p.add_argument("path", nargs="?", metavar="PATH", help="where to write it (default: the config path)")

    p = add("demo", cmd_demo)
    p.add_argument("--json", action="store_true", help="print machine-readable results")

    p = add("sandbox", cmd_sandbox)
    p.add_argument("platform", help="which fake store: " + ", ".join(sorted(demo.simulated_platforms())))
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port (default: 8080; 0 picks a free one)")
    p.add_argument("--products", type=int, default=50, help="products to generate (default: 50)")
    p.add_argument("--empty", action="store_true", help="start with no products, to seed through the API")
    p.add_argument(
        "--catalogue",
        metavar="FILE",
        help="seed with the products and open orders of a TOML file (see the README), instead of --products",
    )
    p.add_argument("--plan", help="platform plan whose limits to mimic (Shopify)")
    p.add_argument(
        "--client-secret-env",
        metavar="NAME",
        help="the sandbox app's client secret, which signs its webhooks, from this variable (Shopify; default: random)",
    )
    p.add_argument("--timezone", metavar="ZONE", help="the store's timezone, an IANA name (WooCommerce; default: UTC)")
    return top


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line as a namespace; UsageError naming the command whose help to read."""
    top = parser()
    args, extra = top.parse_known_args(argv)
    words = [top.prog, args.command, getattr(args, "rules_command", None), getattr(args, "report_command", None)]
    command = " ".join(w for w in words if w)
    if extra:
        raise UsageError(f"unrecognized arguments: {' '.join(extra)}", command)
    if args.command == "resync" and args.as_of and not args.dry_run:
        raise UsageError("--as-of plans for another day and writes nothing: add --dry-run", command)
    return args


def _usage_error(exc: UsageError) -> int:
    say(f"{exc.prog}: usage error: {exc}", file=sys.stderr)
    say(f"(exit {EXIT_USAGE}: the command line is wrong; see `{exc.prog} --help`)", file=sys.stderr)
    return EXIT_USAGE


def main(argv: Sequence[str] | None = None, *, clock: Clock = system_clock) -> int:
    """`connector ARGV`; every command reads the time from `clock`."""
    try:
        args = parse(argv)
    except UsageError as exc:
        return _usage_error(exc)
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    args.clock = clock
    logs.configure(args.log_level, args.log_format)
    try:
        return int(args.func(args))
    except UsageError as exc:
        return _usage_error(exc)
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
