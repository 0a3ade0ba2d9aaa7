from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from stockstatus.core import http
from stockstatus.core.state import StateStore

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
PLATFORM_SCHEMAS = SHARED / "platform-schemas"

# Property tests: Hypothesis's usual 100 examples in a default run; `HYPOTHESIS_PROFILE=ci` for a
# thorough one. Most of their time goes into generating the facts, not into the code under test.
# No deadline: a busy machine makes single examples slow without anything being wrong.
settings.register_profile("default", max_examples=100, deadline=None)
settings.register_profile("ci", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# 2026-11-22 10:00 UTC is 11:00 in Berlin: the tests' "today" is 2026-11-22 in the store's calendar.
FIXED_NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


class MovingClock:
    """One wall clock for a fake store and the connector, moved on by the test."""

    def __init__(self, now: datetime = FIXED_NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += timedelta(minutes=minutes)


def due_now(daemon: Any, *job_ids: str) -> None:
    """Make the daemon's scheduled jobs due at once, as if their interval had just elapsed.

    The scheduler then runs them as it runs any due job (one instance at a time, missed runs
    coalesced, the store's lock), so a test need not wait out real intervals. "Now" here is the
    scheduler's own (real) time; the passes read the daemon's clock.
    """
    now = datetime.now(UTC)
    for job_id in job_ids:
        job = daemon.scheduler.get_job(job_id)
        assert job is not None, f"the daemon has no job {job_id!r}: {[j.id for j in daemon.scheduler.get_jobs()]}"
        job.modify(next_run_time=now)


@pytest.fixture
def clock():
    return lambda: FIXED_NOW


@pytest.fixture
def state() -> Iterator[StateStore]:
    """An in-memory state file."""
    store = StateStore(":memory:")
    yield store
    store.close()


@pytest.fixture
def platform_schemas() -> Path:
    if not PLATFORM_SCHEMAS.is_dir():
        pytest.skip(f"{PLATFORM_SCHEMAS} is absent: the recorded platform schemas live beside the project")
    return PLATFORM_SCHEMAS


@pytest.fixture
def no_backoff() -> Iterator[list[float]]:
    """The HTTP policy retries as configured but does not wait between tries.

    For tests of what a failing store leads to, not of the backoff itself (tests/test_http.py
    covers that): five tries of a store answering 500 would otherwise wait several seconds. The
    policy's documented hook, `waiting_with`, does the waits for the test's context (a command the
    test runs in a thread gets a copy of it); the list collects each wait asked for, so a test can
    see that it did retry.
    """
    asked: list[float] = []

    async def record(seconds: float) -> None:
        asked.append(seconds)

    with http.waiting_with(record):
        yield asked
