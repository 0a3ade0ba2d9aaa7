"""Benchmark: what a supply group costs a pass, and what it saves buyers.

A WooCommerce and a Shopify store (in-process fakes) sell the same SKUs, each oversold by a few
units with orders interleaved in time, against one purchase-order file. The same full passes run
with the stores decided alone and as one supply group; it prints, per pass, wall time and the
read requests each store saw, then the ratio, and the units promised a date against the units
coming (alone, each store promises the same shipment).

    python tests/benchmarks/groups.py --skus 300
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from stockstatus.adapters.shopify.fake import FakeShopify
from stockstatus.adapters.woocommerce.fake import FakeWooCommerce
from stockstatus.core.config import from_mapping
from stockstatus.core.state import StateStore
from stockstatus.core.sync import StoreRun, resync

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
ENV = {"EU_KEY": "ck_" + "a" * 40, "EU_SECRET": "cs_" + "b" * 40, "US_TOKEN": "shpat_" + "c" * 32}
RULES = [
    {
        "name": "backorder while a shipment is due",
        "when": {"available": "<= 0", "eta_within_days": 60},
        "then": {"status": "backorder", "eta": "supply", "cap": "incoming"},
    },
    {"name": "sold out", "when": {"available": "<= 0"}, "then": {"status": "out_of_stock"}},
]
PO_UNITS = 6


def seed(skus: int) -> tuple[FakeWooCommerce, FakeShopify]:
    woo = FakeWooCommerce(
        base_url="https://eu.test", consumer_key=ENV["EU_KEY"], consumer_secret=ENV["EU_SECRET"], now=lambda: NOW
    )
    shop = FakeShopify("us-shop.myshopify.com", access_token=ENV["US_TOKEN"], plan="plus", now=lambda: NOW)
    for n in range(skus):
        sku = f"SKU-{n}"
        product = woo.create_product(name=sku, sku=sku, manage_stock=True, stock_quantity=0)
        variant = shop.create_product(sku, variants=[{"sku": sku, "stock": 0}]).variant_ids[0]
        # Four units waiting in each store, ordered alternately across them.
        for k in range(2):
            order = woo.create_order(
                status="processing", set_paid=True, line_items=[{"product_id": product["id"], "quantity": 2}]
            )
            woo.set_order_date(order["id"], NOW - timedelta(hours=4 * k + 2))
            shop.create_order([(variant, 2)], created_at=NOW - timedelta(hours=4 * k + 1))
    return woo, shop


def config(folder: Path, skus: int, grouped: bool) -> Any:
    expected = (NOW.date() + timedelta(days=10)).isoformat()
    orders = folder / "incoming.csv"
    orders.write_text("sku,quantity,expected_date\n" + "".join(f"SKU-{n},{PO_UNITS},{expected}\n" for n in range(skus)))
    group = {"supply_group": "wh"} if grouped else {}
    return from_mapping(
        {
            "timezone": "Europe/Berlin",
            "supply": {"purchase_orders": [str(orders)]},
            "stores": [
                {
                    "name": "eu-shop",
                    "platform": "woocommerce",
                    "url": "https://eu.test",
                    "key_env": "EU_KEY",
                    "secret_env": "EU_SECRET",
                    **group,
                },
                {"name": "us-shop", "platform": "shopify", "shop": "us-shop.myshopify.com", "token_env": "US_TOKEN"}
                | group,
            ],
            "rules": RULES,
        },
        path=folder / "connector.toml",
        base_dir=folder,
    )


def promised(runs: list[StoreRun]) -> int:
    return sum(
        p.units
        for run in runs
        for change in run.changes
        for o in change.decision.order_etas
        for p in o.shipments
        if p.ships_by is not None
    )


async def passes(skus: int, grouped: bool) -> tuple[float, dict[str, int], int]:
    woo, shop = seed(skus)
    with tempfile.TemporaryDirectory() as folder:
        state = StateStore(":memory:")
        transports = {"eu-shop": woo.transport(), "us-shop": shop.transport()}
        started = time.perf_counter()
        woo.requests.clear()
        shop.log.clear()
        runs = await resync(
            config(Path(folder), skus, grouped),
            state=state,
            clock=lambda: NOW,
            environ=ENV,
            transports=transports,
            dry_run=True,
        )
        seconds = time.perf_counter() - started
        state.close()
    reads = {"eu-shop (WooCommerce)": len(woo.requests), "us-shop (Shopify)": len(shop.log)}
    return seconds, reads, promised(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skus", type=int, default=300)
    args = parser.parse_args()
    alone = asyncio.run(passes(args.skus, grouped=False))
    together = asyncio.run(passes(args.skus, grouped=True))
    coming = args.skus * PO_UNITS
    print(f"{args.skus} SKUs on both stores, 8 units waiting per SKU, {PO_UNITS} coming per SKU ({coming} in all)")
    print("one dry run of both stores:")
    for name, (seconds, reads, units) in (("alone", alone), ("grouped", together)):
        seen = ", ".join(f"{store} {count} requests" for store, count in reads.items())
        print(f"  {name:<8} {seconds:6.2f} s  {seen}; units promised a date {units} (of {coming} coming)")
    print(
        f"grouped / alone: time {together[0] / alone[0]:.2f}x, requests "
        f"{sum(together[1].values()) / max(sum(alone[1].values()), 1):.2f}x"
    )


if __name__ == "__main__":
    main()
