from __future__ import annotations

from typing import Any

import httpx

from stockstatus.adapters.shopify.client import Credentials, ShopifyAdapter
from stockstatus.adapters.shopify.fake import FakeClock, FakeShopify
from stockstatus.adapters.shopify.settings import ShopifySettings
from stockstatus.core.http import HttpPolicy

SHOP = "test-shop.myshopify.com"
FAST = HttpPolicy(attempts=4)


class Sleeps:
    """An injected sleep: records each wait and moves the fake's clock instead of waiting."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.clock.advance(seconds)


def make_fake(**kw: Any) -> tuple[FakeShopify, FakeClock]:
    clock = FakeClock()
    fake = FakeShopify(SHOP, clock=clock, **kw)
    fake.add_location("Warehouse")
    return fake, clock


def settings(**fields: Any) -> ShopifySettings:
    fields.setdefault("token_env", "SHOP_TOKEN")
    return ShopifySettings(shop=SHOP, **fields)


def make_adapter(
    fake: FakeShopify, clock: FakeClock, *, credentials: Credentials | None = None, **fields: Any
) -> tuple[ShopifyAdapter, Sleeps, httpx.AsyncClient]:
    sleeps = Sleeps(clock)
    client = httpx.AsyncClient(transport=fake.transport())
    adapter = ShopifyAdapter(
        settings(**fields),
        client,
        credentials or Credentials(token=fake.access_token),
        policy=FAST,
        sleep=sleeps,
        clock=clock,
    )
    return adapter, sleeps, client
