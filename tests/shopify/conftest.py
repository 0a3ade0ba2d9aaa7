from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

SCHEMAS = Path(__file__).resolve().parents[2].parent / "shared" / "platform-schemas"


@pytest.fixture(scope="session")
def official_schemas():
    """Shopify's official Admin API schemas by version (skips when ../shared is absent)."""
    from graphql import build_client_schema

    folder = SCHEMAS / "shopify"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent: Shopify's official schemas live beside the project")
    return {
        version: build_client_schema(json.load(gzip.open(folder / f"admin_{version}.json.gz"))["data"])
        for version in ("2026-07", "2026-10")
    }
