"""Benchmark: seeding the sandboxes with a generated catalogue, time against its size.

    python tests/benchmarks/seeding.py --products 1000 10000 100000

Prints, per platform and size, the seconds to seed the fake store in memory (products,
variants or variations, stock) and the time per sellable item: a flat figure per item across
sizes is linear seeding.
"""

from __future__ import annotations

import argparse
import time
from datetime import date

from stockstatus.adapters.shopify.fake import FakeShopify
from stockstatus.adapters.shopify.fake.samples import seed as seed_shopify
from stockstatus.adapters.woocommerce.fake import FakeWooCommerce, seed
from stockstatus.core import catalogue

TODAY = date(2026, 12, 7)


def seed_woocommerce(generated: catalogue.Catalogue) -> None:
    seed(FakeWooCommerce(base_url="http://127.0.0.1:1"), generated)


def seed_shopify_store(generated: catalogue.Catalogue) -> None:
    seed_shopify(FakeShopify("seeding.myshopify.com"), generated)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--products", nargs="+", type=int, default=[1000, 10000, 100000])
    args = parser.parse_args()
    print(f"{'platform':<13}{'products':>10}{'SKUs':>9}{'seconds':>9}{'µs per SKU':>12}")
    for platform, seeder in (("woocommerce", seed_woocommerce), ("shopify", seed_shopify_store)):
        for products in args.products:
            generated = catalogue.generated(products, TODAY)
            skus = sum(len(p.variants) if p.variable else 1 for p in generated)
            started = time.perf_counter()
            seeder(generated)
            seconds = time.perf_counter() - started
            print(f"{platform:<13}{products:>10}{skus:>9}{seconds:>9.2f}{seconds / skus * 1e6:>12.0f}")


if __name__ == "__main__":
    main()
