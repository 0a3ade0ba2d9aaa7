from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
PLATFORM_SCHEMAS = SHARED / "platform-schemas"

# 2026-11-22 10:00 UTC is 11:00 in Berlin: the tests' "today" is 2026-11-22 in the store's calendar.
FIXED_NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    return lambda: FIXED_NOW


@pytest.fixture
def platform_schemas() -> Path:
    if not PLATFORM_SCHEMAS.is_dir():
        pytest.skip(f"{PLATFORM_SCHEMAS} is absent: the recorded platform schemas live beside the project")
    return PLATFORM_SCHEMAS
