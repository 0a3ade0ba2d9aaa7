"""A WooCommerce and a Shopify sandbox on loopback, and a state file built by real passes over both,
for the status page's tests: SKUs in each status, a paused store and a held store.

- `eu-shop` (WooCommerce): KTL-1 sold out with two orders waiting and a purchase order due
  (backorder), MUG-1 on the shelf (in stock), OLD-1 discontinued (out of stock), PRE-1 before its
  release (pre-order). The operator paused it after its first pass.
- `us-shop` (Shopify): twelve lamps on the shelf and a sold-out lamp with a restock date
  (backorder). After its first pass ten lamps sold out; the next pass would have turned most of the
  store out of stock, so a rail held it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from stockstatus.adapters.shopify.fake import FakeShopify
from stockstatus.adapters.shopify.fake import sandbox as shopify_sandbox
from stockstatus.adapters.woocommerce.fake import FakeWooCommerce
from stockstatus.adapters.woocommerce.fake import serve as woo_serve
from stockstatus.core import config as config_module
from stockstatus.core.cli import main
from tests.conftest import FIXED_NOW

BERLIN = ZoneInfo("Europe/Berlin")
TODAY = FIXED_NOW.astimezone(BERLIN).date()
HANDLING_DAYS = 2
PO_DAYS = 7
"""KTL-1's purchase order arrives this many days from today."""
RELEASE_DAYS = 20
RESTOCK_DAYS = 10


def pinned() -> datetime:
    return FIXED_NOW


def in_days(n: int) -> date:
    return TODAY + timedelta(days=n)


CONFIG = """\
timezone = "Europe/Berlin"
state = "state/connector.sqlite"

[listen]
status_token_env = "STATUS_TOKEN"

[[stores]]
name = "eu-shop"
platform = "woocommerce"
url = "{woo_url}"
key_env = "EU_WC_KEY"
secret_env = "EU_WC_SECRET"
schedule = "every 15m"

[[stores]]
name = "us-shop"
platform = "shopify"
shop = "{shop}"
token_env = "US_SHOP_TOKEN"
schedule = "*/10 * * * *"

[supply]
handling_days = {handling}
purchase_orders = ["incoming/*.csv"]

[[rules]]
name = "discontinued"
when = {{ tags_any = ["discontinued"] }}
then = {{ status = "out_of_stock" }}

[[rules]]
name = "pre-order until release"
when = {{ release_date = "future" }}
then = {{ status = "pre_order", eta = "release_date", message = "Pre-order: ships {{eta:%-d %B}}" }}

[[rules]]
name = "backorder while a shipment is due"
when = {{ available = "<= 0", eta_within_days = 45 }}
then = {{ status = "backorder", eta = "supply", message = "Ships by {{eta:%-d %B}}" }}

[[rules]]
name = "sold out"
when = {{ available = "<= 0" }}
then = {{ status = "out_of_stock" }}
"""


@dataclass
class Sandboxes:
    config: Path
    environ: dict[str, str]
    woo: FakeWooCommerce
    shop: FakeShopify
    lamps: list[int]
    """The Shopify variants on the shelf (the first ten sell out before the held pass)."""

    def cli(self, *argv: str) -> int:
        return main(["--config", str(self.config), *argv], clock=pinned)

    def load(self) -> config_module.Config:
        return config_module.load(self.config)


@contextmanager
def sandboxes(folder: Path) -> Iterator[Sandboxes]:
    """Both sandboxes on loopback ports, seeded, with a config for them in `folder` (no pass run yet)."""
    woo = FakeWooCommerce(base_url="http://127.0.0.1", now=pinned)
    woo_server = woo_serve(woo, host="127.0.0.1", port=0)
    woo.base_url = f"http://127.0.0.1:{woo_server.server_address[1]}"
    shop = FakeShopify("sandbox.myshopify.com", now=pinned)
    shop_server = shopify_sandbox.serve(shop)
    shop.base_url = f"http://127.0.0.1:{shop_server.server_address[1]}"
    try:
        kettle = woo.create_product(name="Stagg Kettle", sku="KTL-1", manage_stock=True, stock_quantity=1)
        woo.create_product(name="Mug", sku="MUG-1", manage_stock=True, stock_quantity=5)
        woo.create_product(name="Old Teapot", sku="OLD-1", manage_stock=True, stock_quantity=0, tags=["discontinued"])
        woo.create_product(
            name="Grinder Pro",
            sku="PRE-1",
            manage_stock=True,
            stock_quantity=0,
            meta_data=[{"key": "release_date", "value": in_days(RELEASE_DAYS).isoformat()}],
        )
        first = woo.create_order(status="processing", line_items=[{"product_id": kettle["id"], "quantity": 1}])
        woo.create_order(status="processing", line_items=[{"product_id": kettle["id"], "quantity": 2}])
        woo.set_order_date(first["id"], FIXED_NOW - timedelta(days=3))
        shop.add_location("Warehouse")
        lamps = [
            shop.create_product(f"Lamp {n}", variants=[{"sku": f"LAMP-{n}", "stock": 4}]).variant_ids[0]
            for n in range(12)
        ]
        shop.create_product(
            "Lamp XL",
            variants=[{"sku": "LAMP-XL", "stock": 0}],
            metafields={"custom.restock_date": ("date", in_days(RESTOCK_DAYS).isoformat())},
        )
        (folder / "incoming").mkdir(parents=True, exist_ok=True)
        (folder / "incoming" / "acme.csv").write_text(
            f"sku,quantity,expected_date,supplier,reference\nKTL-1,6,{in_days(PO_DAYS).isoformat()},Acme,PO-77\n",
            encoding="utf-8",
        )
        config = folder / "connector.toml"
        config.write_text(
            CONFIG.format(woo_url=woo.base_url, shop=shop.base_url.removeprefix("http://"), handling=HANDLING_DAYS),
            encoding="utf-8",
        )
        environ = {
            "EU_WC_KEY": woo.consumer_key,
            "EU_WC_SECRET": woo.consumer_secret,
            "US_SHOP_TOKEN": shop.access_token,
        }
        yield Sandboxes(config, environ, woo, shop, lamps)
    finally:
        for server in (woo_server, shop_server):
            server.shutdown()
            server.server_close()


def run_passes(boxes: Sandboxes) -> None:
    """Real passes over both stores, then a pause of one and a held pass over the other.

    The credentials must be in `os.environ` (the commands read it).
    """
    assert all(os.environ.get(name) == value for name, value in boxes.environ.items())
    assert boxes.cli("resync") == 0
    assert boxes.cli("pause", "eu-shop", "--reason", "stocktake until Monday") == 0
    for variant in boxes.lamps[:10]:
        boxes.shop.set_available(variant, 0)
    assert boxes.cli("resync", "--store", "us-shop") == 1  # held by the rails: nothing written
