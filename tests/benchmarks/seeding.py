"""Benchmark: seeding the sandboxes with a generated catalogue, and listing it, against its size.

    python tests/benchmarks/seeding.py --products 1000 10000 100000

Prints, per platform and size, the seconds to seed the fake store in memory (products,
variants or variations, stock) and the time per sellable item: a flat figure per item across
sizes is linear seeding. For the WooCommerce sandbox it then prints the CPU one listing request
costs it (a page of 100 products by id, and `products?sku=` with 100 variation SKUs, as a pass
reads): a page filters the whole catalogue, as the store's query scans its index, so it grows
with the catalogue, while a page by SKU is found through the SKU index and stays flat.
"""

from __future__ import annotations

import argparse
import time
from datetime import date

import httpx

from stockstatus.adapters.shopify.fake import FakeShopify
from stockstatus.adapters.shopify.fake.samples import seed as seed_shopify
from stockstatus.adapters.woocommerce.fake import FakeWooCommerce, seed
from stockstatus.core import catalogue

TODAY = date(2026, 12, 7)


def seed_woocommerce(generated: catalogue.Catalogue) -> FakeWooCommerce:
    fake = FakeWooCommerce(base_url="https://seeding.test")
    seed(fake, generated)
    return fake


def listing_ms(fake: FakeWooCommerce, rounds: int = 5) -> tuple[float, float]:
    """Milliseconds of the sandbox's CPU for one page of 100 products and one page by SKU."""
    client = httpx.Client(
        transport=fake.transport(), base_url="https://seeding.test", auth=(fake.consumer_key, fake.consumer_secret)
    )
    order = {"per_page": "100", "orderby": "id", "order": "asc"}
    skus = ",".join(str(v["sku"]) for v in list(fake.variations.values())[:100])
    pages = max(1, len(fake.products) // 100)
    out = []
    for params in ({**order, "page": str(pages // 2 + 1)}, {**order, "sku": skus}):
        started = time.process_time()
        for _ in range(rounds):
            client.get("/wp-json/wc/v3/products", params=params).raise_for_status()
        out.append((time.process_time() - started) / rounds * 1000)
    return out[0], out[1]


def seed_shopify_store(generated: catalogue.Catalogue) -> None:
    seed_shopify(FakeShopify("seeding.myshopify.com"), generated)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--products", nargs="+", type=int, default=[1000, 10000, 100000])
    args = parser.parse_args()
    print(f"{'platform':<13}{'products':>10}{'SKUs':>9}{'seconds':>9}{'µs per SKU':>12}")
    listed = []
    for platform, seeder in (("woocommerce", seed_woocommerce), ("shopify", seed_shopify_store)):
        for products in args.products:
            generated = catalogue.generated(products, TODAY)
            skus = sum(len(p.variants) if p.variable else 1 for p in generated)
            started = time.perf_counter()
            fake = seeder(generated)
            seconds = time.perf_counter() - started
            print(f"{platform:<13}{products:>10}{skus:>9}{seconds:>9.2f}{seconds / skus * 1e6:>12.0f}")
            if isinstance(fake, FakeWooCommerce):
                listed.append((products, *listing_ms(fake)))
            del fake
    print("\nthe WooCommerce sandbox's CPU per listing request (ms)")
    print(f"{'products':>10}{'page of 100':>13}{'µs/product':>12}{'100 by SKU':>12}")
    for products, page, by_sku in listed:
        print(f"{products:>10}{page:>13.1f}{page / products * 1000:>12.2f}{by_sku:>12.1f}")


if __name__ == "__main__":
    main()
