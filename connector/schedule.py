"""Store schedules: a cron expression or an interval, read in the store's timezone."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

DEFAULT_SCHEDULE = "every 15m"
DEFAULT_RECONCILE = "0 3 * * *"
"""The full reconcile pass: nightly at 03:00 in the store's timezone."""

_UNITS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
}
_INTERVAL = re.compile(r"^(?:every\s+)?(\d+)\s*([a-z]+?)s?$", re.IGNORECASE)
MIN_INTERVAL = timedelta(seconds=1)


def interval_of(text: str) -> timedelta | None:
    """The interval an "every 15m" / "10 minutes" / "1h" schedule names, or None if it is not one."""
    found = _INTERVAL.match(text.strip())
    if not found or found.group(2).lower() not in _UNITS:
        return None
    return timedelta(seconds=int(found.group(1)) * _UNITS[found.group(2).lower()])


def trigger_for(text: str | None, timezone: ZoneInfo, *, default: str = DEFAULT_SCHEDULE) -> BaseTrigger:
    """The APScheduler trigger of a schedule; ValueError with what is wrong for a bad one.

    A cron expression has five fields (minute hour day month weekday) and is read in the
    store's timezone, so "0 6 * * *" runs at 06:00 local time across daylight-saving changes.
    """
    text = (text or default).strip()
    interval = interval_of(text)
    if interval is not None:
        if interval < MIN_INTERVAL:
            raise ValueError(f"{text!r} is shorter than {int(MIN_INTERVAL.total_seconds())} seconds")
        return IntervalTrigger(seconds=int(interval.total_seconds()), timezone=timezone)
    if len(text.split()) != 5:
        raise ValueError(
            f'{text!r} is neither an interval ("every 15m", "1h") nor a cron expression with five fields '
            '(minute hour day month weekday, e.g. "*/15 * * * *")'
        )
    try:
        return CronTrigger.from_crontab(text, timezone=timezone)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a valid cron expression: {exc}") from exc
