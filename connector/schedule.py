"""Store schedules: a cron expression or an interval, read in the store's timezone.

The one module that imports APScheduler, which ships no type information: everything else sees
the typed `Trigger`, `Job` and `Scheduler` below, so the rest of the core stays `mypy --strict`
and a move to another scheduler touches only this file.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
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
SLOTS_FROM = datetime(1970, 1, 1, tzinfo=UTC)
"""Interval schedules count their slots from here: "every 15m" runs at the same minute and second
past each quarter-hour, day after day and across restarts."""


class Trigger(Protocol):
    """When a job runs: an APScheduler trigger, seen through the one method the core asks of it."""

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None: ...


class Job(Protocol):
    """A scheduled job, as the daemon uses it."""

    @property
    def id(self) -> str: ...

    def remove(self) -> None: ...


def interval_of(text: str) -> timedelta | None:
    """The interval an "every 15m" / "10 minutes" / "1h" schedule names, or None if it is not one."""
    found = _INTERVAL.match(text.strip())
    if not found or found.group(2).lower() not in _UNITS:
        return None
    return timedelta(seconds=int(found.group(1)) * _UNITS[found.group(2).lower()])


def slot_of(store: str, interval: timedelta) -> timedelta:
    """Where in each interval a store's passes fall: whole seconds from a hash of its name.

    Stores on the same interval then fall due spread over it instead of all at one moment, and
    a store keeps its slot across restarts and config reloads (Python's own `hash` of a string
    changes with every process, so a digest of the name is used).
    """
    seconds = max(1, int(interval.total_seconds()))
    digest = hashlib.sha256(store.encode()).digest()
    return timedelta(seconds=int.from_bytes(digest[:8], "big") % seconds)


class _Slots(IntervalTrigger):  # type: ignore[misc]  # APScheduler ships no type information
    """An interval that keeps to its slots (`start_date` plus whole intervals).

    APScheduler's own interval counts on from the previous run, so one run at another moment
    (a store's first pass at start, a pass made due by hand) would move every later one; here
    the next run after any run is the next slot.
    """

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        after = now if previous_fire_time is None else max(now, previous_fire_time + timedelta(microseconds=1))
        found: datetime | None = super().get_next_fire_time(None, after)
        return found


def every(*, seconds: int, timezone: ZoneInfo | None = None, slot: timedelta | None = None) -> Trigger:
    """A trigger firing every `seconds` seconds: `slot` seconds past each multiple of the interval
    (counted from `SLOTS_FROM`), or, without a slot, from one interval after now."""
    if slot is None:
        plain: Trigger = IntervalTrigger(seconds=seconds, timezone=timezone)
        return plain
    slots: Trigger = _Slots(seconds=seconds, timezone=timezone, start_date=SLOTS_FROM + slot)
    return slots


def trigger_for(
    text: str | None, timezone: ZoneInfo, *, default: str = DEFAULT_SCHEDULE, store: str | None = None
) -> Trigger:
    """The APScheduler trigger of a schedule; ValueError with what is wrong for a bad one.

    A cron expression has five fields (minute hour day month weekday) and is read in the
    store's timezone, so "0 6 * * *" runs at 06:00 local time across daylight-saving changes.
    An interval given a `store` runs in that store's slot (`slot_of`); a cron expression runs
    at the times it names.
    """
    text = (text or default).strip()
    interval = interval_of(text)
    if interval is not None:
        if interval < MIN_INTERVAL:
            raise ValueError(f"{text!r} is shorter than {int(MIN_INTERVAL.total_seconds())} seconds")
        slot = None if store is None else slot_of(store, interval)
        return every(seconds=int(interval.total_seconds()), timezone=timezone, slot=slot)
    if len(text.split()) != 5:
        raise ValueError(
            f'{text!r} is neither an interval ("every 15m", "1h") nor a cron expression with five fields '
            '(minute hour day month weekday, e.g. "*/15 * * * *")'
        )
    try:
        cron: Trigger = CronTrigger.from_crontab(text, timezone=timezone)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a valid cron expression: {exc}") from exc
    return cron


def next_run(
    text: str | None, timezone: ZoneInfo, store: str, after: datetime, *, default: str = DEFAULT_SCHEDULE
) -> datetime | None:
    """When a store's schedule runs next after a pass that started at `after`, in its timezone.

    The daemon's own triggers answer, so what `connector status` shows is when the daemon runs it.
    """
    trigger = trigger_for(text, timezone, default=default, store=store)
    # A second on: a pass recorded at its slot's own second is followed by the next slot.
    return trigger.get_next_fire_time(None, after.astimezone(timezone) + timedelta(seconds=1))


class Scheduler:
    """The few calls of APScheduler's `AsyncIOScheduler` the daemon makes, typed."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._scheduler = AsyncIOScheduler(event_loop=loop)

    def add_job(
        self,
        func: Callable[..., Awaitable[None]],
        trigger: Trigger,
        *,
        id: str,
        args: Sequence[object] = (),
        kwargs: Mapping[str, object] | None = None,
        name: str | None = None,
        max_instances: int = 1,
        coalesce: bool = True,
        misfire_grace_time: int = 1,
        next_run_time: datetime | None = None,
    ) -> Job:
        """Schedule `func(*args, **kwargs)`; `next_run_time` runs it once at that moment first.

        The defaults are APScheduler's own job defaults.
        """
        # APScheduler reads a missing `next_run_time` as "from the trigger" but an explicit None
        # as "paused", so it is only passed when given.
        first = {} if next_run_time is None else {"next_run_time": next_run_time}
        job: Job = self._scheduler.add_job(
            func,
            trigger,
            args=list(args),
            kwargs=dict(kwargs or {}),
            id=id,
            name=name,
            max_instances=max_instances,
            coalesce=coalesce,
            misfire_grace_time=misfire_grace_time,
            **first,
        )
        return job

    def get_job(self, job_id: str) -> Job | None:
        job: Job | None = self._scheduler.get_job(job_id)
        return job

    def get_jobs(self) -> list[Job]:
        jobs: list[Job] = self._scheduler.get_jobs()
        return jobs

    def reschedule_job(self, job_id: str, *, trigger: Trigger) -> None:
        self._scheduler.reschedule_job(job_id, trigger=trigger)

    def start(self) -> None:
        self._scheduler.start()

    @property
    def running(self) -> bool:
        """Started and not shut down (paused counts as running)."""
        return bool(self._scheduler.running)

    def pause(self) -> None:
        self._scheduler.pause()

    def shutdown(self, *, wait: bool = True) -> None:
        self._scheduler.shutdown(wait=wait)
