"""A sample catalogue as Shopify products, variants, stock and open orders.

`seed()` fills a fake from a neutral catalogue (`stockstatus.core.catalogue`): the demo's
coffee-gear shop, the same as the WooCommerce demo (same SKUs, stock, tags, release and restock
dates — as merchant metafields — and open orders), so `connector demo` shows the two platforms
deciding alike; `generated_catalogue()` makes any number of realistic products for load and
throttling tests.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from stockstatus.core import catalogue
from stockstatus.core.catalogue import Catalogue

from .routes import FakeShopify

__all__ = ["RELEASE_DATE", "RESTOCK_DATE", "SHOWROOM", "WAREHOUSE", "generated_catalogue", "seed"]

RELEASE_DATE = "custom.release_date"
RESTOCK_DATE = "custom.restock_date"
WAREHOUSE = "Berlin warehouse"
SHOWROOM = "Showroom"


def seed(fake: FakeShopify, catalogue: Catalogue) -> None:
    """Create the catalogue's products, variants, stock and open orders in `fake`, in catalogue order.

    Stock sits in the warehouse (fulfils online orders); units a product has `elsewhere` sit in
    the showroom, which does not count for online sales. Restock and release dates are the
    merchant metafields the example config reads; the product type is the category. Every
    variant starts with Shopify's default `inventoryPolicy: DENY`. Orders take stock as they are
    placed, so an order larger than the stock leaves it negative.
    """
    if not fake.locations:
        fake.add_location(WAREHOUSE)
        fake.add_location(SHOWROOM, fulfills_online_orders=False)
    showroom = any(loc.name == SHOWROOM for loc in fake.locations.values())
    by_sku: dict[str, int] = {}

    def dates(restock: date | None, release: date | None) -> dict[str, tuple[str, str]]:
        found = {}
        if restock is not None:
            found[RESTOCK_DATE] = ("date", restock.isoformat())
        if release is not None:
            found[RELEASE_DATE] = ("date", release.isoformat())
        return found

    def stock(units: int | None, elsewhere: int) -> Any:
        if elsewhere and showroom:
            return {WAREHOUSE: units or 0, SHOWROOM: elsewhere}
        return units or 0

    for product in catalogue:
        if product.variable:
            variants: list[dict[str, Any]] = [
                {
                    "sku": v.sku,
                    "title": v.option,
                    "tracked": v.stock is not None,
                    "stock": v.stock or 0,
                    "metafields": dates(v.restock_date, v.release_date),
                }
                for v in product.variants
            ]
            created = fake.create_product(
                product.name, product_type=product.category, tags=product.tags, variants=variants
            )
            skus = [v.sku for v in product.variants]
        else:
            spec = {
                "sku": product.sku,
                "tracked": product.stock is not None,
                "stock": stock(product.stock, product.elsewhere),
            }
            created = fake.create_product(
                product.name,
                product_type=product.category,
                tags=product.tags,
                variants=[spec],
                metafields=dates(product.restock_date, product.release_date) or None,
            )
            skus = [product.sku or ""]
        by_sku.update(zip(skus, created.variant_ids, strict=True))
    for order in catalogue.orders:
        fake.create_order([(by_sku[sku], units) for sku, units in order.lines])


def generated_catalogue(fake: FakeShopify, n: int, *, today: date | None = None, seed_: int = 7) -> None:
    """`n` generated products (`stockstatus.core.catalogue.generated`), deterministic per seed."""
    if not fake.locations:
        fake.add_location(WAREHOUSE)
    seed(fake, catalogue.generated(n, today or fake.now().date(), seed=seed_))
