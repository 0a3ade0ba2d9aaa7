"""The contract suite's stage: every platform with a simulator, its fake store, and a watched wire.

Each test gets one platform's fake store (`Simulates.demo_store`), seeded with a small sample
catalogue, and drives it only through the public protocol and the sync engine. The store's
transport is wrapped at the httpx boundary (`Wire`): it records which requests wrote and can
make the store unreadable from a chosen read on.

The toy platform (`toyshop/`) joins through a `stockstatus.platforms` entry point in a
`.dist-info` put on `sys.path`, exactly as an installed third-party package would.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import graphql
import httpx
import pytest

from stockstatus.core import catalogue as samples
from stockstatus.core import config as config_module
from stockstatus.core.catalogue import Catalogue
from stockstatus.core.config import Store
from stockstatus.core.http import waiting_with
from stockstatus.core.model import Item
from stockstatus.core.platform import ENTRY_POINT_GROUP, DemoStore, Platform, _discover, platforms, simulates
from stockstatus.core.state import StateStore
from stockstatus.core.sync import Sources, StoreRun, open_adapter, run_store, system_clock, today_in

TOY = "toyshop"
TOY_ENTRY_POINT = f"{TOY} = tests.contract.toyshop:platform"
TIMEZONE = "Europe/Berlin"

# The demo's rules: between them they reach all four statuses on the demo catalogue.
RULES: list[dict[str, Any]] = [
    {
        "name": "discontinued",
        "when": {"tags_any": [samples.DISCONTINUED]},
        "then": {"status": "out_of_stock", "message": "No longer available"},
    },
    {
        "name": "pre-order until release",
        "when": {"release_date": "future"},
        "then": {"status": "pre_order", "eta": "release_date", "message": "Pre-order: ships from {eta:%-d %B %Y}"},
    },
    {
        "name": "backorder while a restock is due",
        "when": {"available": "<= 0", "eta_within_days": 30},
        "then": {"status": "backorder", "eta": "restock_date", "message": "Back in stock soon: ships by {eta:%-d %B}"},
    },
    {"name": "sold out", "when": {"available": "<= 0"}, "then": {"status": "out_of_stock"}},
]


def contract_platforms() -> list[Any]:
    """Every installed platform with a simulator, and the toy one (installed by `toyshop_installed`)."""
    found = {name: p for name, p in platforms().items() if simulates(p)}
    return [pytest.param(name, id=name) for name in sorted({*found, TOY})]


@pytest.fixture(scope="module", autouse=True)
def toyshop_installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A distribution whose only content is one entry point naming the toy platform.

    Module-scoped and undone afterwards: the rest of the test suite must not see a toy shop.
    """
    site = tmp_path_factory.mktemp("site-packages")
    dist = site / "toyshop_contract-0.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: toyshop-contract\nVersion: 0.0\n", "utf-8")
    (dist / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{TOY_ENTRY_POINT}\n", "utf-8")
    sys.path.insert(0, str(site))
    _discover.cache_clear()
    try:
        yield site
    finally:
        sys.path.remove(str(site))
        _discover.cache_clear()


def is_write(request: httpx.Request) -> bool:
    """Whether a request may change the store: anything but a GET/HEAD or a GraphQL query."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return False
    try:
        document = json.loads(request.content).get("query")
    except (ValueError, AttributeError):
        return True
    if not isinstance(document, str):
        return True
    operations = [d for d in graphql.parse(document).definitions if isinstance(d, graphql.OperationDefinitionNode)]
    return any(o.operation is not graphql.OperationType.QUERY for o in operations)


Fault = Literal["unreadable", "maintenance"]


async def no_wait(seconds: float) -> None:
    """The policy's backoff, taken at once: an unreadable read is retried, and the suite stays fast."""


@dataclass
class Wire(httpx.AsyncBaseTransport):
    """The fake store's transport, watched: which requests wrote, and reads failing on demand.

    With `fail_from` set, the read with that index (counted from 0 since it was set) and every
    read after it fail: "unreadable" cuts the body in half, "maintenance" answers 503 asking to
    come back in an hour (longer than the HTTP policy waits, so it is reported, not retried).
    """

    inner: httpx.AsyncBaseTransport
    writes: list[str] = field(default_factory=list)
    reads: int = 0
    fail_from: int | None = None
    fault: Fault = "unreadable"

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        if is_write(request):
            self.writes.append(f"{request.method} {request.url.path}")
            return await self.inner.handle_async_request(request)
        index, self.reads = self.reads, self.reads + 1
        if self.fail_from is None or index < self.fail_from:
            return await self.inner.handle_async_request(request)
        if self.fault == "maintenance":
            return httpx.Response(503, headers={"Retry-After": "3600"}, json={"message": "Down for maintenance"})
        answer = await self.inner.handle_async_request(request)
        body = await answer.aread()
        return httpx.Response(
            answer.status_code, headers={"Content-Type": "application/json"}, content=body[: len(body) // 2]
        )

    def fail_reads(self, start: int | None, fault: Fault = "unreadable") -> None:
        self.reads, self.fail_from, self.fault = 0, start, fault

    async def aclose(self) -> None:
        """Left open: the fake store outlives each client the core opens on it."""


@dataclass
class Shop:
    """One platform's fake store, configured as a store of the connector."""

    name: str
    platform: Platform
    catalogue: Catalogue
    demo: DemoStore
    store: Store
    wire: Wire
    state: StateStore
    environ: Mapping[str, str]

    @asynccontextmanager
    async def adapter(self, environ: Mapping[str, str] | None = None) -> AsyncIterator[Any]:
        """The store's adapter, as the core builds it, on a client through the watched wire."""
        async with open_adapter(
            self.store, self.environ if environ is None else environ, {self.store.name: self.wire}
        ) as made:
            yield made

    async def run(
        self, *, dry_run: bool = False, incremental: bool = False, environ: Mapping[str, str] | None = None
    ) -> StoreRun:
        """One pass of the sync engine over the store; the HTTP policy's waits pass at once."""
        with waiting_with(no_wait):
            async with self.adapter(environ) as made:
                return await run_store(
                    self.store, made, sources=Sources(), state=self.state, dry_run=dry_run, incremental=incremental
                )

    async def items(self) -> list[Item]:
        """What the store holds now, read through a fresh adapter (not counted as the test's reads)."""
        async with open_adapter(self.store, self.environ, {self.store.name: self.demo.transport}) as made:
            return await made.pull_items()


def today() -> date:
    """Today in the store's calendar: the fake stores keep the wall clock, so the connector does too."""
    return today_in(ZoneInfo(TIMEZONE), system_clock)


@pytest.fixture
def catalogue() -> Catalogue:
    return samples.demo(today())


@pytest.fixture(params=contract_platforms())
def platform_name(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


def open_shop(name: str, catalogue: Catalogue, state: StateStore) -> Shop:
    """`name`'s fake store seeded with `catalogue`, as the only store of a configuration."""
    platform = simulator = platforms()[name]
    assert simulates(simulator)
    demo = simulator.demo_store(catalogue)
    raw = {
        "timezone": TIMEZONE,
        "stores": [{"name": f"contract-{name}", "platform": name, **demo.settings}],
        "rules": RULES,
    }
    config = config_module.from_mapping(raw, path=Path("<contract suite>"), base_dir=Path("."))
    return Shop(name, platform, catalogue, demo, config.stores[0], Wire(demo.transport), state, demo.environ)


@pytest.fixture
def shop(platform_name: str, catalogue: Catalogue, state: StateStore) -> Shop:
    return open_shop(platform_name, catalogue, state)
