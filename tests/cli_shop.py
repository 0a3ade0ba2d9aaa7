"""A small WooCommerce shop on a loopback port and the `connector` command run against it.

For the tests of the command line as a user meets it: a config file, the environment
variables it names, and `main(argv, clock=...)` on a pinned clock. The store keeps the
config's calendar (Europe/Berlin) and the same clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from stockstatus.adapters.woocommerce.fake import FakeWooCommerce, serve
from stockstatus.core.cli import main
from tests.conftest import FIXED_NOW, MovingClock

TIMEZONE = ZoneInfo("Europe/Berlin")
KEY_ENV, SECRET_ENV = "CLI_SHOP_KEY", "CLI_SHOP_SECRET"
TODAY = FIXED_NOW.astimezone(TIMEZONE).date()

CONFIG = """\
timezone = "Europe/Berlin"
state = "connector.sqlite"

[[stores]]
name = "eu-shop"
platform = "woocommerce"
url = "{url}"
key_env = "{key_env}"
secret_env = "{secret_env}"

[supply]
handling_days = 1
lead_time_days = {{ default = 21 }}

[[rules]]
name = "discontinued"
when = {{ tags_any = ["discontinued"] }}
then = {{ status = "out_of_stock", message = "No longer available" }}

[[rules]]
name = "pre-order until release"
when = {{ release_date = "future" }}
then = {{ status = "pre_order", eta = "release_date", message = "Pre-order: ships from {{eta:%-d %B %Y}}" }}

[[rules]]
name = "backorder while a restock is due"
when = {{ available = "<= 0", eta_within_days = 30 }}
then = {{ status = "backorder", eta = "restock_date", message = "Back in stock soon: ships by {{eta:%-d %B}}" }}

[[rules]]
name = "sold out"
when = {{ available = "<= 0" }}
then = {{ status = "out_of_stock" }}
"""


def in_days(n: int) -> date:
    return TODAY + timedelta(days=n)


def pinned() -> datetime:
    return FIXED_NOW


@dataclass
class Result:
    code: int
    out: str
    err: str


@dataclass
class Shop:
    fake: FakeWooCommerce
    url: str
    config: Path
    clock: MovingClock
    """The store's clock; commands read `pinned` unless a test passes this one to move on."""
    ids: dict[str, int] = field(default_factory=dict)

    def product(self, sku: str, **fields: Any) -> int:
        created = self.fake.create_product(sku=sku, name=fields.pop("name", sku.title()), **fields)
        self.ids[sku] = int(created["id"])
        return self.ids[sku]

    def read(self, sku: str) -> dict[str, Any]:
        return self.fake.get_product(self.ids[sku])

    def meta(self, sku: str, key: str) -> Any:
        for entry in self.read(sku).get("meta_data") or ():
            if entry.get("key") == key:
                return entry.get("value")
        return None


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str, clock: Callable[[], datetime] = pinned) -> Result:
    """`connector ARGV` in-process on the pinned clock, with what it printed."""
    capsys.readouterr()
    code = main(list(argv), clock=clock)
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


@pytest.fixture(name="shop")
def shop_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Shop]:
    """The store on a loopback port, a config pointing at it, its credentials in the environment."""
    clock = MovingClock()
    fake = FakeWooCommerce(base_url="http://127.0.0.1:1", now=clock, timezone=TIMEZONE)
    server = serve(fake, host="127.0.0.1", port=0)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        fake.base_url = url  # the home URL OAuth signatures are checked against
        config = tmp_path / "connector.toml"
        config.write_text(CONFIG.format(url=url, key_env=KEY_ENV, secret_env=SECRET_ENV), encoding="utf-8")
        monkeypatch.setenv(KEY_ENV, fake.consumer_key)
        monkeypatch.setenv(SECRET_ENV, fake.consumer_secret)
        monkeypatch.delenv("CONNECTOR_CONFIG", raising=False)
        yield Shop(fake, url, config, clock)
    finally:
        server.shutdown()
        server.server_close()
