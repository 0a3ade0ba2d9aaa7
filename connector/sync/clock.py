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
