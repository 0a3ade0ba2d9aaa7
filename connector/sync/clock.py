"""The injected clock, and today's date in a store's calendar."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def today_in(tz: ZoneInfo, clock: Clock) -> date:
    """Today's calendar date in the store's timezone."""
    return clock().astimezone(tz).date()


def as_of_clock(clock: Clock, tz: ZoneInfo, day: date) -> Clock:
    """A clock that reads `day` in the store's calendar, at the time of day `clock` reads there.

    For planning ("what will the store show on Monday"): the date is the store's, so each store
    of a config, whatever its timezone, is planned for the same calendar day.
    """

    def moved() -> datetime:
        now = clock().astimezone(tz)
        return datetime.combine(day, now.time(), tzinfo=tz).astimezone(UTC)

    return moved
