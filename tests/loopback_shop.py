"""A fake WooCommerce on a loopback port and a config file pointing at it, for driving the
`connector` command in-process as an operator would (rails, pause, lock tests)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from stockstatus.adapters.woocommerce.fake import FakeWooCommerce
from stockstatus.core.cli import main
from stockstatus.core.daemon import Daemon
from stockstatus.core.loopback import serve
from tests.conftest import due_now

KEY, SECRET = "ck_" + "a" * 40, "cs_" + "b" * 40
WEBHOOK_SECRET = "whsec-" + "c" * 32
"""What `connector webhooks install` signs the shop's webhooks with (the config's webhook_secret_env)."""
ENV = {"SHOP_KEY": KEY, "SHOP_SECRET": SECRET, "SHOP_WEBHOOK_SECRET": WEBHOOK_SECRET}
SOLD_OUT_RULE = """
[[rules]]
name = "discontinued"
when = {{ {condition} = ["discontinued"] }}
then = {{ status = "out_of_stock" }}

[[rules]]
name = "on sale"
when = {{}}
then = {{ status = "in_stock" }}
"""


@dataclass
class Shop:
    fake: FakeWooCommerce
    config: Path
    url: str
    empty_listing: bool = False
    """Answer the product listing with an empty page (a cache or plugin gone wrong)."""
    ids: list[int] = field(default_factory=list)

    def write_config(self, condition: str = "tags_any", extra: str = "") -> None:
        self.config.write_text(
            'timezone = "Europe/Berlin"\nstate = "state.sqlite"\n'
            f"{extra}\n"
            f'[[stores]]\nname = "shop"\nplatform = "woocommerce"\nurl = "{self.url}"\n'
            'key_env = "SHOP_KEY"\nsecret_env = "SHOP_SECRET"\nwebhook_secret_env = "SHOP_WEBHOOK_SECRET"\n'
            'schedule = "every 1s"\n' + SOLD_OUT_RULE.format(condition=condition)
        )

    def cli(self, *args: str) -> int:
        return main(["--config", str(self.config), *args])

    def statuses(self) -> dict[str, Any]:
        """SKU -> the connector status the store holds (None: never written)."""
        out = {}
        for product in self.fake.products.values():
            meta = {m["key"]: m["value"] for m in product["meta_data"]}
            out[product["sku"]] = meta.get("connector_status")
        return out


def seed(fake: FakeWooCommerce, *, in_stock: int = 18, discontinued: int = 2) -> list[int]:
    """Products whose stock the shop does not count (it sets their status by hand or by rules)."""
    ids = [
        fake.create_product(name=f"Mug {n}", sku=f"MUG-{n}", manage_stock=False, stock_status="instock")["id"]
        for n in range(in_stock)
    ]
    ids += [
        fake.create_product(
            name=f"Old {n}", sku=f"OLD-{n}", manage_stock=False, stock_status="outofstock", tags=["discontinued"]
        )["id"]
        for n in range(discontinued)
    ]
    return ids


@contextmanager
def serve_shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Shop]:
    """The seeded shop on a loopback port, its credentials in the environment, and a config for it."""
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    # The store and the command share the wall clock (the command reads the system's), so the
    # store's modification dates and the connector's bookmarks compare as on a real shop.
    fake = FakeWooCommerce(base_url="http://127.0.0.1", consumer_key=KEY, consumer_secret=SECRET)
    holder: list[Shop] = []

    def handle(request: httpx.Request) -> httpx.Response:
        if holder and holder[0].empty_listing and request.method == "GET" and request.url.path.endswith("/products"):
            return httpx.Response(200, json=[], headers={"X-WP-Total": "0", "X-WP-TotalPages": "0"})
        return fake.handle(request)

    server = serve(handle, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    fake.base_url = url
    shop = Shop(fake, tmp_path / "connector.toml", url)
    holder.append(shop)
    shop.ids = seed(fake)
    shop.write_config()
    try:
        yield shop
    finally:
        # The store sends its webhook deliveries (a new webhook's ping, say) from a thread of its
        # own after the request that owed them has been answered. Left to go on after the test,
        # they reached whatever the next tests had mocked: respx patches httpx in every thread,
        # so a ping sent during a respx test killed the thread with "not mocked", and that test
        # ended in an ERROR. The receivers a test set up are still there while this runs.
        owed = fake.wait_for_deliveries(10)
        server.shutdown()
        server.server_close()
    assert owed, "the store still owed webhook deliveries 10 s after the test"


async def wait_for(condition: Any, seconds: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


async def passes(daemon: Daemon, count: int) -> None:
    """Let `count` more scheduled passes of the shop run, each made due at once instead of waiting out the interval."""
    for _ in range(count):
        runs = daemon.runs
        due_now(daemon, "store:shop")
        await wait_for(lambda runs=runs: daemon.runs > runs)
