"""A resync through a faulty network reaches the same store as one through a clean network, in one pass.

`FaultyWire` wraps a fake store's transport at the httpx boundary and, seeded, answers a share
of requests with one of the faults real shops and their proxies produce: 429 with `Retry-After`,
5xx with an HTML page, timeouts and connection resets (before the store saw the request, or
after it applied it and the answer was lost), a 200 whose body is cut off, garbled by a PHP
notice or replaced by an HTML error page, and on Shopify `THROTTLED` in a 200. The HTTP policy
must retry all of them (its waits pass at once here), and a write applied twice must leave the
same store.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from stockstatus.core import catalogue as samples
from stockstatus.core import config as config_module
from stockstatus.core.catalogue import Catalogue
from stockstatus.core.config import Config
from stockstatus.core.errors import PlatformError
from stockstatus.core.http import waiting_with
from stockstatus.core.outcomes import RunOutcome
from stockstatus.core.platform import platforms, simulates
from stockstatus.core.state import StateStore
from stockstatus.core.sync import open_adapter, resync, system_clock, today_in

from .contract.conftest import RULES

SEEDS = range(20)
RATE = 0.10
TIMEZONE = "Europe/Berlin"

COMMON_FAULTS = (
    "429",
    "5xx-html",
    "timeout-before",
    "timeout-after",
    "reset-before",
    "reset-after",
    "cut-off",
    "php-notice",
    "html-200",
)
SHOPIFY_FAULTS = (*COMMON_FAULTS, "throttled")

ERROR_PAGE = (
    "<!DOCTYPE html><html><head><title>{title}</title></head>"
    "<body><h1>{title}</h1><p>The server is temporarily unable to service your request.</p></body></html>"
)


@dataclass
class FaultyWire(httpx.AsyncBaseTransport):
    """The fake store's transport with seeded faults: about `rate` of the requests get one of `kinds`."""

    inner: httpx.AsyncBaseTransport
    seed: int
    rate: float
    kinds: tuple[str, ...]
    turn: int = 0
    """Where in `kinds` the first fault starts: kinds take turns over a whole series of runs."""
    only: str = ""
    """Only requests whose path contains this may get a fault."""
    injected: Counter[str] = field(default_factory=Counter)
    hit: list[tuple[str, str]] = field(default_factory=list)
    """(fault, request path) for every fault injected."""
    requests: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.requests.append(f"{request.method} {request.url.path}?{request.url.query.decode()}")
        if self.only not in request.url.path or self.random.random() >= self.rate:
            return await self.inner.handle_async_request(request)
        # Kinds take turns, so that a short series of runs already meets every one.
        kinds = self._kinds_for(request)
        kind = kinds[(self.turn + self.injected.total()) % len(kinds)]
        self.injected[kind] += 1
        self.hit.append((kind, request.url.path))
        return await self._fault(kind, request)

    def _kinds_for(self, request: httpx.Request) -> tuple[str, ...]:
        graphql = request.url.path.endswith("/graphql.json")
        return tuple(k for k in self.kinds if k != "throttled" or graphql)

    async def _fault(self, kind: str, request: httpx.Request) -> httpx.Response:
        if kind == "429":
            return httpx.Response(
                429,
                headers={"Retry-After": str(self.random.choice([1, 2, 5]))},
                json={"errors": "Exceeded 2 calls per second for api client. Reduce request rates."},
            )
        if kind == "5xx-html":
            status = self.random.choice([500, 502, 503, 504])
            return httpx.Response(
                status, headers={"Content-Type": "text/html"}, text=ERROR_PAGE.format(title=f"{status} Server Error")
            )
        if kind == "timeout-before":
            raise httpx.ConnectTimeout("timed out while connecting", request=request)
        if kind == "reset-before":
            raise httpx.ConnectError("[Errno 104] Connection reset by peer", request=request)
        if kind == "html-200":
            page = ERROR_PAGE.format(title="Error establishing a database connection")
            return httpx.Response(200, headers={"Content-Type": "text/html; charset=UTF-8"}, text=page)
        if kind == "throttled":
            return httpx.Response(
                200,
                json={
                    "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                    "extensions": {
                        "cost": {
                            "requestedQueryCost": 120,
                            "actualQueryCost": None,
                            "throttleStatus": {"maximumAvailable": 2000, "currentlyAvailable": 40, "restoreRate": 100},
                        }
                    },
                },
            )
        # The store handles the request (a write is applied); the answer is then lost or spoilt.
        answer = await self.inner.handle_async_request(request)
        body = await answer.aread()
        if kind == "timeout-after":
            raise httpx.ReadTimeout("timed out while reading the answer", request=request)
        if kind == "reset-after":
            raise httpx.ReadError("[Errno 104] Connection reset by peer", request=request)
        headers = {"Content-Type": "application/json"}
        if kind == "cut-off":
            return httpx.Response(answer.status_code, headers=headers, content=body[: max(1, len(body) // 3)])
        if kind == "php-notice":
            notice = b"<br />\n<b>Notice</b>:  Undefined index: sku in /var/www/html/wp-content/plugins/x.php on line 42<br />\n"
            return httpx.Response(answer.status_code, headers=headers, content=notice + body)
        raise AssertionError(f"unknown fault {kind}")

    async def aclose(self) -> None:
        """Left open: the fake store outlives each client the core opens on it."""


@dataclass
class Stage:
    """One platform's fake store, seeded, as the only store of a configuration."""

    config: Config
    transport: httpx.AsyncBaseTransport
    environ: dict[str, str]


def today() -> date:
    return today_in(ZoneInfo(TIMEZONE), system_clock)


def catalogue(platform_name: str) -> Catalogue:
    """The demo shop (every status, waiting orders); on WooCommerce a few more variable products.

    WooCommerce reads and writes each variable product's variations with requests of their own,
    so more of them means more requests for faults to hit; Shopify's fake is the slower one.
    """
    demo = samples.demo(today())
    if platform_name == "shopify":
        return demo
    more = samples.generated(8, today(), seed=3)
    return Catalogue(demo.products + more.products, demo.orders)


def stage(platform_name: str, **settings: Any) -> Stage:
    platform = platforms()[platform_name]
    assert simulates(platform)
    demo = platform.demo_store(catalogue(platform_name))
    raw = {
        "timezone": TIMEZONE,
        "stores": [{"name": f"faults-{platform_name}", "platform": platform_name, **demo.settings, **settings}],
        "rules": RULES,
    }
    config = config_module.from_mapping(raw, path=Path("<fault suite>"), base_dir=Path("."))
    return Stage(config, demo.transport, dict(demo.environ))


async def no_wait(seconds: float) -> None:
    """Backoff, `Retry-After` and pacing pass at once."""


async def snapshot(shop: Stage) -> list[tuple[Any, ...]]:
    """Every item as the store holds it now, with the platform fields the connector writes or reads."""
    store = shop.config.stores[0]
    with waiting_with(no_wait):  # a bulk pull polls its operation
        async with open_adapter(store, shop.environ, {store.name: shop.transport}) as adapter:
            items = await adapter.pull_items()
    return sorted((item.key, item, json.dumps(dict(item.platform), sort_keys=True, default=repr)) for item in items)


async def synced(
    platform_name: str, wire: FaultyWire | None, **settings: Any
) -> tuple[Stage, list[Any], dict[str, Any]]:
    """Resync a freshly seeded store through `wire` (or straight); (stage, runs, accepted decisions)."""
    shop = stage(platform_name, **settings)
    store = shop.config.stores[0]
    transport = shop.transport if wire is None else wire
    if wire is not None:
        wire.inner = shop.transport
    state = StateStore(":memory:")
    try:
        with waiting_with(no_wait):
            runs = await resync(shop.config, state=state, environ=shop.environ, transports={store.name: transport})
        accepted = {key: (a.status, a.eta, a.message) for key, a in state.accepted.for_store(store.name).items()}
    finally:
        state.close()
    return shop, runs, accepted


@pytest.mark.parametrize(
    ("platform_name", "settings", "seeds"),
    [
        ("woocommerce", {}, SEEDS),
        ("shopify", {}, SEEDS),
        # The catalogue read with one bulk operation (its start, polls and file under faults); a
        # short series: the test below spoils the file itself far more often.
        ("shopify", {"bulk_threshold": 1}, range(4)),
    ],
    ids=["woocommerce", "shopify", "shopify-bulk"],
)
async def test_a_resync_through_ten_percent_faults_ends_like_a_clean_one_in_one_pass(
    platform_name: str, settings: dict[str, Any], seeds: range
) -> None:
    clean_shop, clean_runs, clean_accepted = await synced(platform_name, None, **settings)
    assert [r.outcome for r in clean_runs] == [RunOutcome.OK]
    assert clean_runs[0].written > 5, "the clean pass has writes to make: the faults can hit them"
    expected = await snapshot(clean_shop)

    kinds = SHOPIFY_FAULTS if platform_name == "shopify" else COMMON_FAULTS
    unused = httpx.MockTransport(lambda r: httpx.Response(500))  # replaced by each run's fresh store
    injected: Counter[str] = Counter()
    for seed in seeds:
        wire = FaultyWire(unused, seed=seed, rate=RATE, kinds=kinds, turn=injected.total())
        shop, runs, accepted = await synced(platform_name, wire, **settings)
        [run] = runs
        where = f"seed {seed}, faults {dict(wire.injected)}"
        assert (run.outcome, run.error, run.failed) == (RunOutcome.OK, None, 0), where  # `connector resync` exits 0
        assert accepted == clean_accepted, where
        assert await snapshot(shop) == expected, where
        injected += wire.injected

    if len(seeds) >= len(SEEDS):
        assert set(injected) == set(kinds), f"every kind of fault was injected at least once: {dict(injected)}"


async def test_a_bulk_result_cut_off_or_replaced_by_a_page_is_fetched_again() -> None:
    """Two in five downloads of a bulk operation's JSONL file are spoilt; every pass still ends as a clean one."""
    settings = {"bulk_threshold": 1}
    clean_shop, _, clean_accepted = await synced("shopify", None, **settings)
    expected = await snapshot(clean_shop)
    kinds = ("cut-off", "php-notice", "html-200", "5xx-html")
    unused = httpx.MockTransport(lambda r: httpx.Response(500))
    spoilt: Counter[str] = Counter()
    for seed in range(6):
        wire = FaultyWire(unused, seed=seed, rate=0.4, kinds=kinds, turn=spoilt.total(), only="/bulk-results/")
        shop, [run], accepted = await synced("shopify", wire, **settings)
        assert (run.outcome, run.error) == (RunOutcome.OK, None), f"seed {seed}: {wire.hit}"
        assert accepted == clean_accepted and await snapshot(shop) == expected
        spoilt += wire.injected
    assert set(spoilt) == set(kinds), dict(spoilt)


async def test_refused_credentials_are_not_retried_through_the_faulty_wire() -> None:
    """The faults are retried; a 401 is not: the pass fails at once, with nothing written."""
    shop = stage("woocommerce")
    store = shop.config.stores[0]
    refusing = httpx.MockTransport(
        lambda r: httpx.Response(401, json={"code": "woocommerce_rest_authentication_error", "message": "Invalid"})
    )
    wire = FaultyWire(refusing, seed=1, rate=0.0, kinds=COMMON_FAULTS)
    state = StateStore(":memory:")
    try:
        with waiting_with(no_wait):
            [run] = await resync(shop.config, state=state, environ=shop.environ, transports={store.name: wire})
    finally:
        state.close()
    assert run.outcome is RunOutcome.FAILED and "credentials" in (run.error or "")
    assert wire.requests and len(wire.requests) == len(set(wire.requests)), "no request was sent twice"


async def test_a_site_that_keeps_answering_a_page_is_reported_after_the_retries_as_not_woocommerce() -> None:
    """A 200 HTML page is retried like any unreadable answer; when it stays, `check` names the likely mistake."""
    pages: list[str] = []

    def homepage(request: httpx.Request) -> httpx.Response:
        pages.append(request.url.path)
        return httpx.Response(200, headers={"Content-Type": "text/html"}, text=ERROR_PAGE.format(title="My Blog"))

    shop = stage("woocommerce")
    store = shop.config.stores[0]
    with waiting_with(no_wait):
        async with open_adapter(store, shop.environ, {store.name: httpx.MockTransport(homepage)}) as adapter:
            with pytest.raises(PlatformError, match="did not answer JSON: is this a WooCommerce shop") as err:
                await adapter.check()
    assert "My Blog" in str(err.value)
    products = [page for page in pages if page.endswith("/products")]
    assert len(products) == 5, "retried up to the policy's attempts, then reported"
