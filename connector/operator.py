"""What the person running the daemon asks: can each store be reached, how did runs go, why a SKU changed."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Protocol, runtime_checkable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from stockstatus.core.config import Config, Store
from stockstatus.core.errors import AuthError, ConnectorError
from stockstatus.core.outcomes import PassMode, RunOutcome
from stockstatus.core.platform import platforms, tells_customers
from stockstatus.core.report import printable, table
from stockstatus.core.schedule import DEFAULT_RECONCILE, DEFAULT_SCHEDULE, interval_of, trigger_for
from stockstatus.core.state import StateStore
from stockstatus.core.sync import Clock, open_adapter, system_clock


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
    schedule: str | None, timezone: ZoneInfo, after: datetime, *, default: str = DEFAULT_SCHEDULE
) -> datetime | None:
    """When a schedule runs next after a pass that started at `after` (an interval counts from it)."""
    interval = interval_of(schedule or default)
    if interval is not None:
        return after.astimezone(timezone) + interval
    moment: datetime | None = trigger_for(schedule, timezone, default=default).get_next_fire_time(
        None, after.astimezone(timezone) + timedelta(seconds=1)
    )
    return moment


def status(config: Config, state: StateStore, clock: Clock = system_clock) -> list[dict[str, Any]]:
    """Per store: last run, its outcome and counts, the next scheduled run, the last error."""
    now = clock()
    out = []
    for store in config.stores:
        runs = [r for r in state.runs.recent(store.name, limit=50) if r.mode is not PassMode.DRY_RUN]
        last = runs[0] if runs else None
        last_error = next((r for r in runs if r.outcome in (RunOutcome.FAILED, RunOutcome.PARTIAL)), None)
        full = next(
            (r for r in runs if r.mode is PassMode.FULL and r.outcome in (RunOutcome.OK, RunOutcome.PARTIAL)),
            None,
        )
        bookmark = state.bookmarks.get(store.name)
        # Counted from the passes the state file records, so a stopped daemon shows as overdue.
        next_run = next_pass(store.schedule, store.timezone, datetime.fromisoformat(last.started_at)) if last else None
        next_full = next_pass(
            store.reconcile,
            store.timezone,
            datetime.fromisoformat(full.started_at) if full else now,
            default=DEFAULT_RECONCILE,
        )
        out.append(
            {
                "store": store.name,
                "platform": store.platform,
                "enabled": store.enabled,
                "last_run": last.started_at if last else None,
                "mode": last.mode.value if last else None,
                "last_full": full.started_at if full else None,
                "bookmark": bookmark.isoformat(timespec="seconds") if bookmark else None,
                "seconds": last.took if last else None,
                "outcome": last.outcome.value if last else "never run",
                "counts": dict(last.counts) if last else {},
                "written": last.written if last else 0,
                "failed": last.failed if last else 0,
                "next_run": next_run.isoformat(timespec="seconds") if next_run and store.enabled else None,
                "next_reconcile": (next_full.isoformat(timespec="minutes") if next_full and store.enabled else None),
                "overdue": bool(store.enabled and next_run is not None and now - next_run > OVERDUE),
                "last_error": ({"at": last_error.started_at, "error": last_error.error} if last_error else None),
            }
        )
    return out


def status_text(rows: list[dict[str, Any]]) -> str:
    lines = []
    for row in rows:
        counts = ", ".join(f"{n} {s}" for s, n in sorted(row["counts"].items())) or "-"
        took = f" in {row['seconds']:.1f}s" if row["seconds"] is not None else ""
        lines.append(f"{row['store']} ({row['platform']}){'' if row['enabled'] else ' [disabled]'}")
        mode = f" ({row['mode']})" if row["mode"] else ""
        lines.append(
            f"  last run:  {row['last_run'] or '-'}{mode} {row['outcome']}{took}; "
            f"{row['written']} written, {row['failed']} failed"
        )
        lines.append(
            f"  statuses:  {counts}" + (" (items that pass decided)" if row["mode"] == PassMode.INCREMENTAL else "")
        )
        lines.append(
            f"  last full: {row['last_full'] or '-'}; changes since {row['bookmark'] or '- (next pass is full)'}"
        )
        late = " (overdue: is `connector run` running?)" if row["overdue"] else ""
        upcoming = row["next_run"] or ("at the daemon's start" if row["enabled"] else "-")
        lines.append(f"  next run:  {upcoming}{late}; next full reconcile {row['next_reconcile'] or '-'}")
        if row["last_error"]:
            lines.append(f"  last error ({row['last_error']['at']}): {printable(row['last_error']['error'])}")
    return "\n".join(lines)


def history_text(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "no recorded decisions for this SKU (only changes are logged; see `connector rules explain`)"
    body = [
        [
            r["at"],
            r["store"],
            f"{r['previous_status'] or '?'} → {r['status']}",
            r["eta"] or "",
            r["rule"],
            r["result"] + (f": {r['error']}" if r["error"] else ""),
            "; ".join(json.loads(r["reasons"] or "[]")),
        ]
        for r in rows
    ]
    return table(["when", "store", "status", "ETA", "rule", "result", "why"], body)
