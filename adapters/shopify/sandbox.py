"""The fake Shopify on a loopback port, and the catalogues it is seeded with.

`run()` is what `connector sandbox shopify` serves. The adapter reaches it with
`shop = "127.0.0.1:PORT"`: loopback shops are the only ones spoken to over plain http.
`demo_catalogue()` is the same coffee-gear shop as the WooCommerce demo (same SKUs, stock,
tags, release and restock dates — as merchant metafields — and open orders), so
`connector demo` shows the two platforms deciding alike. `generated_catalogue()` makes any
number of realistic products for load and throttling tests.

While the sandbox runs, stock and orders change through its GraphQL API as on a real shop, so a
daemon pointed at it can be watched following them (the token has every scope the fake knows,
`write_inventory` included):

- `inventorySetQuantities` / `inventoryAdjustQuantities` set or move `available` (with the
  `@idempotent(key:)` directive Shopify requires since 2026-04, and `changeFromQuantity` on each
  quantity — null skips the comparison);
- `orderCreate` places an order (pass `options: {inventoryBehaviour: DECREMENT_IGNORING_POLICY}`
  or `DECREMENT_OBEYING_POLICY` to take stock; Shopify's default, BYPASS, takes none), and
  `orderCancel(restock: true)` puts its stock back;
- `productCreate` then `productVariantsBulkCreate` (optionValues `{optionName: "Title", name: ...}`,
  `inventoryItem: {sku, tracked: true}`, `inventoryQuantities`) seed an `--empty` sandbox.

Products, variants and inventory levels carry `updatedAt`; listings filter by `query:` in
Shopify's search syntax: `updated_at:>'2026-11-29T10:00:00Z'`, `sku:KTL-1`, `tag:`, `vendor:`,
`title:`, `product_ids:1,2` (the fields the fake knows: `fake.search_fields`).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from datetime import date
from http.server import ThreadingHTTPServer
from typing import Any, TextIO

from stockstatus.core import catalogue
from stockstatus.core.catalogue import Catalogue
from stockstatus.core.loopback import serve as serve_on_loopback

from .fake import PLANS, FakeShopify

__all__ = ["demo_catalogue", "generated_catalogue", "run", "seed", "serve"]

RELEASE_DATE = "custom.release_date"
RESTOCK_DATE = "custom.restock_date"
DISCONTINUED = "discontinued"
WAREHOUSE = "Berlin warehouse"
SHOWROOM = "Showroom"


def serve(fake: FakeShopify, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """Serve `fake` over HTTP in a background thread; stop with `shutdown()` then `server_close()`.

    The fake's `base_url` is left as it is: set it to the address clients will call.
    """
    return serve_on_loopback(fake.handle, host, port, server_version="cloudflare")


def run(
    host: str = "127.0.0.1",
    port: int = 8081,
    catalogue: Catalogue | None = None,
    *,
    plan: str = "standard",
    out: TextIO | None = None,
    wait: Callable[[], None] | None = None,
) -> None:
    """Serve a seeded fake Shopify until Ctrl-C, after printing how to reach it."""
    if plan not in PLANS:
        raise SystemExit(f"unknown plan {plan!r}: one of {', '.join(PLANS)}")
    out = out or sys.stdout
    fake = FakeShopify("sandbox.myshopify.com", plan=plan)
    server = serve(fake, host, port)
    bound = server.server_address[1]
    fake.base_url = f"http://{host}:{bound}"
    fake.add_location(WAREHOUSE)
    seeded = catalogue or Catalogue(())
    seed(fake, seeded)
    limits = fake.plan
    out.write(
        f"Fake Shopify (Admin GraphQL API 2026-07, 2026-10) serving {len(seeded)} products at {fake.base_url}\n"
        f"  plan {limits.name}: bucket {limits.bucket:.0f} points, restores {limits.restore_rate:.0f} points/s\n"
        f"  access token: {fake.access_token}\n"
        f"  client id / secret (client-credentials grant): {fake.client_id} / {fake.client_secret}\n"
        "Point a store of your config at it (plain http is used for loopback shops only):\n"
        '  platform = "shopify"\n'
        f'  shop = "{host}:{bound}"\n'
        '  token_env = "SHOPIFY_TOKEN"\n'
        f"  export SHOPIFY_TOKEN={fake.access_token}\n"
        f"Change stock and orders while the daemon runs, through {fake.base_url}/admin/api/2026-10/graphql.json:\n"
        '  inventorySetQuantities / inventoryAdjustQuantities (with @idempotent(key: "<uuid>")),\n'
        "  orderCreate (options: {inventoryBehaviour: DECREMENT_IGNORING_POLICY} takes stock), orderCancel,\n"
        "  productCreate + productVariantsBulkCreate to seed an empty sandbox.\n"
        "Press Ctrl-C to stop.\n"
    )
    out.flush()
    try:
        (wait or threading.Event().wait)()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()
        out.write("\nsandbox stopped\n")
        out.flush()


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


def demo_catalogue(fake: FakeShopify, today: date) -> None:
    """The demo's coffee-gear shop (`stockstatus.core.catalogue.demo`)."""
    seed(fake, catalogue.demo(today))


def generated_catalogue(fake: FakeShopify, n: int, *, today: date | None = None, seed_: int = 7) -> None:
    """`n` generated products (`stockstatus.core.catalogue.generated`), deterministic per seed."""
    if not fake.locations:
        fake.add_location(WAREHOUSE)
    seed(fake, catalogue.generated(n, today or fake.now().date(), seed=seed_))
