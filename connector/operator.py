"""What the person running the daemon asks: can each store be reached, how did runs go, why a SKU changed."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from importlib.resources import files
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from stockstatus.core import subscriptions
from stockstatus.core.config import Config, Store
from stockstatus.core.errors import AuthError, ConnectorError
from stockstatus.core.outcomes import ChangeResult, PassMode, RunOutcome
from stockstatus.core.platform import manages_webhooks, platforms, tells_customers
from stockstatus.core.report import printable, table
from stockstatus.core.schedule import DEFAULT_RECONCILE, DEFAULT_SCHEDULE, next_run
from stockstatus.core.state import HoldKind, StateStore
from stockstatus.core.sync import Clock, open_adapter, system_clock

EXAMPLE_CONFIG = "config.example.toml"
"""The complete, commented example shipped in the package (the project's config.example.toml)."""


def example_config() -> str:
    """The example configuration as the package ships it."""
    return files("stockstatus.core").joinpath(EXAMPLE_CONFIG).read_text("utf-8")


def write_starter_config(path: Path) -> None:
    """Write the example configuration to `path`; ConnectorError if a file is already there.

    Created with "x" (exclusive) so that an existing config, or one another process writes
    meanwhile, is never overwritten.
    """
    try:
        with path.open("x", encoding="utf-8") as out:
            out.write(example_config())
    except FileExistsError:
        raise ConnectorError(
            f"{path} already exists and was left as it is (remove or rename it first, or name another path)"
        ) from None


@dataclass(frozen=True, slots=True)
class CheckResult:
    store: str
    ok: bool
    problem: str | None = None
    fix: str | None = None


async def check_stores(
    config: Config,
    stores: tuple[Store, ...],
    environ: Mapping[str, str],
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    clock: Clock = system_clock,
) -> list[CheckResult]:
    """Credentials, permissions and reachability of each store, with what to fix.

    A store whose adapter can tell its own timezone (`KnowsTimezone`) must keep the same
    calendar as the config says, else the key to change is named.
    """
    results = []
    for store in stores:
        platform = platforms()[store.platform]
        missing = platform.missing_secrets(store.settings, environ)
        if missing:
            results.append(CheckResult(store.name, False, "; ".join(missing), "export the variable(s) before starting"))
            continue
        async with open_adapter(store, environ, transports) as adapter:
            try:
                await adapter.check()
                if store.notify.enabled:
                    if not tells_customers(adapter):
                        results.append(
                            CheckResult(
                                store.name,
                                False,
                                f"the {store.platform} adapter cannot leave messages for buyers",
                                f"set stores[{store.index}].notify.enabled = false",
                            )
                        )
                        continue
                    await adapter.check_notices()
                mismatch = await _timezone_mismatch(config, store, adapter, clock())
                if mismatch is not None:
                    results.append(CheckResult(store.name, False, *mismatch))
                    continue
                unhealthy = await _webhooks_unhealthy(config, store, adapter)
                if unhealthy is not None:
                    results.append(CheckResult(store.name, False, *unhealthy))
                    continue
            except AuthError as exc:
                results.append(CheckResult(store.name, False, str(exc), "renew the credentials or their permissions"))
            except (ConnectorError, httpx.HTTPError) as exc:
                fix = "check the store's address and that it is up"
                if getattr(exc, "code", None) == URL_NOT_HOME:
                    fix = f"change stores[{store.index}].url to the URL the message names"
                results.append(CheckResult(store.name, False, str(exc), fix))
            else:
                results.append(CheckResult(store.name, True))
    return results


async def _webhooks_unhealthy(config: Config, store: Store, adapter: object) -> tuple[str, str] | None:
    """(problem, fix) when the store's webhooks to the listener are missing or stopped.

    Asked only when `[listen] public_url` is set: without it the connector uses no webhooks.
    """
    listen = config.listen
    if not listen.public_url or not manages_webhooks(adapter):
        return None
    address = subscriptions.delivery_address(listen.public_url, store.name)
    plan = subscriptions.survey(adapter, await adapter.list_webhooks(), address)
    missing = [t.topic for t in plan.topics if t.health is subscriptions.Health.MISSING]
    stopped = [f"{t.topic} ({t.status})" for t in plan.topics if t.health is subscriptions.Health.INACTIVE]
    if not missing and not stopped:
        return None
    problems = []
    if missing:
        problems.append(f"webhooks missing at {address}: {', '.join(missing)}")
    if stopped:
        problems.append(f"webhooks not delivering: {', '.join(stopped)}")
    why = (
        " (WooCommerce disables a webhook after more than five failed deliveries in a row; Shopify removes a "
        "subscription whose deliveries failed for four hours)"
    )
    return "; ".join(problems) + why, f"connector webhooks install --store {store.name}"


URL_NOT_HOME = "url_not_home"
"""The error code an adapter's `check` gives when the configured url is not the store's own address."""


@runtime_checkable
class KnowsTimezone(Protocol):
    """An adapter that can tell the store's own timezone after `check` (None when it cannot)."""

    async def store_timezone(self) -> str | None: ...


def _zone_or_offset(name: str) -> ZoneInfo | timezone | None:
    """An IANA zone, or a fixed offset written `UTC+2` / `UTC-5:30`; None when neither."""
    if name.startswith("UTC") and name[3:4] in ("+", "-"):
        hours, _, minutes = name[4:].partition(":")
        if hours.isdigit() and (not minutes or minutes.isdigit()):
            delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
            return timezone(-delta if name[3] == "-" else delta)
    try:
        return ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        return None


async def _timezone_mismatch(config: Config, store: Store, adapter: object, now: datetime) -> tuple[str, str] | None:
    """(problem, fix) when the store's own timezone keeps other calendar days than the config's.

    Two names are the same here when their UTC offsets agree all year (Europe/Paris for a store
    in Europe/Berlin is fine): what matters is the calendar date a buyer is shown.
    """
    if not isinstance(adapter, KnowsTimezone):
        return None
    theirs = await adapter.store_timezone()
    if not theirs:
        return None
    zone = _zone_or_offset(theirs)
    ours = store.timezone
    if zone is not None:
        year = now.year
        moments = [datetime(year, month, 15, 12, tzinfo=UTC) for month in (1, 4, 7, 10)]
        if all(m.astimezone(zone).utcoffset() == m.astimezone(ours).utcoffset() for m in moments):
            return None
    entry = config.settings.stores[store.index] if store.index < len(config.settings.stores) else None
    key = f"stores[{store.index}].timezone" if entry is not None and entry.timezone else "timezone"
    problem = (
        f"the store's timezone is {theirs} (WordPress → Settings → General) but the config's is {ours.key}: "
        "ETAs would be dated in the wrong calendar"
    )
    if isinstance(zone, timezone):
        # WordPress set to a fixed offset (or "UTC"): no daylight saving time; a city is better.
        hours = (zone.utcoffset(None) or timedelta()).total_seconds() / 3600
        name = "UTC" if hours == 0 else f"Etc/GMT{-int(hours):+d}" if hours.is_integer() else None
        fix = (
            f'set {key} = "{name}"' if name else f"set {key} to a zone with the store's offset ({theirs})"
        ) + " (or choose the store's city in WordPress → Settings → General, and that zone here)"
    elif zone is None:
        fix = f"set {key} to the store's timezone, an IANA name such as Europe/Berlin"
    else:
        fix = f'set {key} = "{theirs}"'
    return problem, fix


OVERDUE = timedelta(minutes=1)
"""A scheduled pass this late means no daemon is running the store (or it is stuck)."""


def next_pass(
    schedule: str | None, timezone: ZoneInfo, after: datetime, *, store: str, default: str = DEFAULT_SCHEDULE
) -> datetime | None:
    """When a store's schedule runs next after a pass that started at `after` (an interval: its next slot)."""
    return next_run(schedule, timezone, store, after, default=default)


def _local(moment: datetime | str | None, zone: ZoneInfo) -> str | None:
    """An instant in the store's timezone with its offset ("2026-11-22T11:00:00+01:00")."""
    if moment is None:
        return None
    when = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    if when.tzinfo is None:  # the state file writes UTC
        when = when.replace(tzinfo=UTC)
    return when.astimezone(zone).isoformat(timespec="seconds")


def status(config: Config, state: StateStore, clock: Clock = system_clock) -> list[dict[str, Any]]:
    """Per store: last run, its outcome and counts, the next scheduled run, the last error, pause and hold.

    Times are in the store's timezone with their offset. `counts` is the whole store: what
    it accepted, item by item, from every pass (an incremental pass decides only what changed);
    `run_counts` is what the last pass decided.
    """
    now = clock()
    out = []
    for store in config.stores:
        zone = store.timezone
        runs = [r for r in state.runs.recent(store.name, limit=50) if r.mode is not PassMode.DRY_RUN]
        last = runs[0] if runs else None
        last_error = next((r for r in runs if r.outcome in (RunOutcome.FAILED, RunOutcome.PARTIAL)), None)
        full = next(
            (r for r in runs if r.mode is PassMode.FULL and r.outcome in (RunOutcome.OK, RunOutcome.PARTIAL)),
            None,
        )
        bookmark = state.bookmarks.get(store.name)
        # Counted from the passes the state file records, so a stopped daemon shows as overdue.
        next_run = (
            next_pass(store.schedule, zone, datetime.fromisoformat(last.started_at), store=store.name) if last else None
        )
        next_full = next_pass(
            store.reconcile,
            zone,
            datetime.fromisoformat(full.started_at) if full else now,
            store=store.name,
            default=DEFAULT_RECONCILE,
        )
        accepted = state.accepted.counts(store.name)
        out.append(
            {
                "store": store.name,
                "platform": store.platform,
                "timezone": zone.key,
                "enabled": store.enabled,
                "last_run": _local(last.started_at, zone) if last else None,
                "mode": last.mode.value if last else None,
                "last_full": _local(full.started_at, zone) if full else None,
                "bookmark": _local(bookmark, zone),
                "seconds": last.took if last else None,
                "outcome": last.outcome.value if last else "never run",
                "counts": dict(sorted(accepted.items())),
                "items": sum(accepted.values()),
                "run_counts": dict(last.counts) if last else {},
                "written": last.written if last else 0,
                "failed": last.failed if last else 0,
                "next_run": _local(next_run, zone) if next_run and store.enabled else None,
                "next_reconcile": _local(next_full, zone) if next_full and store.enabled else None,
                "overdue": bool(store.enabled and next_run is not None and now - next_run > OVERDUE),
                "last_error": (
                    {"at": _local(last_error.started_at, zone), "error": last_error.error} if last_error else None
                ),
                "holds": [
                    {"kind": h.kind.value, "since": _local(h.since, zone), "reason": h.reason}
                    for h in state.holds.of(store.name)
                ],
                "skipped": _skipped(state, store.name, zone),
                "outbox": _outbox(state, store.name, zone),
                "webhooks": _webhooks(config, state, store.name, zone, now),
            }
        )
    return out


def _when(text: str | None) -> str:
    """An ISO instant as the status text shows it: "2026-11-22 11:00:00+01:00"."""
    return text.replace("T", " ") if text else "-"


HOLD_LINES = {
    HoldKind.PAUSED: "PAUSED since {since}: {reason}; no pass writes until `connector resume {store}`",
    HoldKind.HELD: "HELD since {since}: {reason}",
    HoldKind.RELEASE: "released ({since}): the next pass may go over the rails, once",
}


def status_text(rows: list[dict[str, Any]]) -> str:
    lines = []
    for row in rows:
        counts = ", ".join(f"{n} {s}" for s, n in sorted(row["counts"].items())) or "-"
        took = f" in {row['seconds']:.1f}s" if row["seconds"] is not None else ""
        disabled = "" if row["enabled"] else " [disabled]"
        lines.append(f"{row['store']} ({row['platform']}; times in {row['timezone']}){disabled}")
        mode = f" ({row['mode']})" if row["mode"] else ""
        lines.append(
            f"  last run:  {_when(row['last_run'])}{mode} {row['outcome']}{took}; "
            f"{row['written']} written, {row['failed']} failed"
        )
        if row["mode"] in (PassMode.INCREMENTAL, PassMode.WEBHOOK):
            decided = ", ".join(f"{n} {s}" for s, n in sorted(row["run_counts"].items())) or "nothing"
            lines.append(f"             decided {decided} (the items that changed)")
        lines.append(
            (f"  statuses:  {counts} ({row['items']} items the store accepted)" if row["items"] else "  statuses:  -")
            + (" (what the held pass decided; not written)" if row["outcome"] == RunOutcome.HELD else "")
        )
        lines.append(
            f"  last full: {_when(row['last_full'])}; changes since {_when(row['bookmark']) if row['bookmark'] else '- (next pass is full)'}"
        )
        late = " (overdue: is `connector run` running?)" if row["overdue"] else ""
        upcoming = _when(row["next_run"]) if row["next_run"] else ("at the daemon's start" if row["enabled"] else "-")
        lines.append(f"  next run:  {upcoming}{late}; next full reconcile {_when(row['next_reconcile'])}")
        if row["last_error"]:
            lines.append(
                f"  last error ({_when(row['last_error']['at'])}): {printable(row['last_error']['error'] or '')}"
            )
        for hold in row["holds"]:
            shown = {**hold, "since": _when(hold["since"])}
            lines.append(f"  {printable(HOLD_LINES[hold['kind']].format(store=row['store'], **shown))}")
        outbox = row["outbox"]
        if outbox["pending"] or outbox["failed"]:
            oldest = f", the oldest since {_when(outbox['oldest'])}" if outbox["oldest"] else ""
            lines.append(f"  webhook:   {outbox['pending']} events waiting{oldest}; {outbox['failed']} failed for good")
            if outbox["last_error"]:
                lines.append(f"    last error: {printable(outbox['last_error'])}")
        lines.extend(_webhook_lines(row))
        skipped = row["skipped"]
        if skipped["count"]:
            lines.append(f"  skipped:   {skipped['count']} items left as they are; the first {len(skipped['first'])}:")
            for skip in skipped["first"]:
                lines.append(
                    f"    {printable(skip['sku'] or '#' + skip['item'])} (since {_when(skip['since'])}): "
                    f"{printable(skip['reason'])}"
                )
    return "\n".join(lines)


SKIPS_SHOWN = 5
"""How many skipped items `status` lists per store (all are counted)."""


def _skipped(state: StateStore, store: str, zone: ZoneInfo) -> dict[str, Any]:
    skips = state.skips.for_store(store)
    return {
        "count": len(skips),
        "first": [
            {"sku": s.sku, "item": s.item_key, "since": _local(s.first_seen, zone), "reason": s.reason}
            for s in skips[:SKIPS_SHOWN]
        ],
    }


def _outbox(state: StateStore, store: str, zone: ZoneInfo) -> dict[str, Any]:
    summary = state.outbox.summary(store)
    return {
        "pending": summary.pending,
        "failed": summary.failed,
        "oldest": _local(summary.oldest, zone),
        "last_error": summary.last_error,
    }


WEBHOOK_WINDOW = timedelta(hours=24)
"""The window `status` counts deliveries and measures their lag over."""


def _webhooks(config: Config, state: StateStore, store: str, zone: ZoneInfo, now: datetime) -> dict[str, Any] | None:
    """The store's webhook deliveries, when the daemon listens for them (or has before)."""
    summary = state.deliveries.summary(store, now - WEBHOOK_WINDOW)
    listen = config.listening
    if listen is None and summary.last is None and not summary.rejected:
        return None
    return {
        "url": f"{listen.public_url}/webhooks/{store}" if listen is not None and listen.public_url else None,
        "last_delivery": _local(summary.last, zone),
        "received_24h": summary.received,
        "rejected_24h": summary.rejected,
        "waiting": summary.waiting,
        "p95_lag_seconds": None if summary.p95_lag_ms is None else round(summary.p95_lag_ms / 1000, 3),
        "last_rejection": summary.last_rejection,
    }


def _webhook_lines(row: dict[str, Any]) -> list[str]:
    hooks = row["webhooks"]
    if hooks is None:
        return []
    if hooks["last_delivery"] is None:
        where = f" (the store posts to {hooks['url']})" if hooks["url"] else ""
        lines = [f"  webhooks:  no delivery received yet{where}; passes follow the schedule"]
    else:
        lag = f"{hooks['p95_lag_seconds']:.1f}s" if hooks["p95_lag_seconds"] is not None else "-"
        waiting = f"; {hooks['waiting']} waiting for their pass" if hooks["waiting"] else ""
        lines = [
            f"  webhooks:  last delivery {_when(hooks['last_delivery'])}; last 24 h: {hooks['received_24h']} "
            f"received, {hooks['rejected_24h']} rejected; p95 delivery to write {lag}{waiting}"
        ]
    if hooks["rejected_24h"] and hooks["last_rejection"]:
        lines.append(f"    last rejected: {printable(hooks['last_rejection'])}")
    return lines


def history(state: StateStore, sku: str, *, store: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """A SKU's logged decisions, newest first, after where it is skipped now and why."""
    skipped = [
        {
            "at": s.first_seen,
            "store": s.store,
            "item_key": s.item_key,
            "sku": s.sku,
            "previous_status": None,
            "status": "(left as it is)",
            "eta": None,
            "rule": "",
            "result": ChangeResult.SKIPPED.value,
            "error": s.reason,
            "reasons": "[]",
            "pass": None,
        }
        for s in state.skips.for_sku(sku, store)
    ]
    return skipped + list(state.decisions.history(sku, store=store, limit=limit))


def history_text(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "no recorded decisions for this SKU (only changes are logged; see `connector rules explain`)"
    body = [
        [
            r["at"],
            r["store"],
            r.get("pass") or "",
            f"{r['previous_status'] or '?'} → {r['status']}",
            r["eta"] or "",
            r["rule"],
            r["result"] + (f": {r['error']}" if r["error"] else ""),
            "; ".join(json.loads(r["reasons"] or "[]")),
        ]
        for r in rows
    ]
    return table(["when", "store", "pass", "status", "ETA", "rule", "result", "why"], body)
