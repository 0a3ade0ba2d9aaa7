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

import random
import sys
import threading
from collections.abc import Callable
from datetime import date, timedelta
from http.server import ThreadingHTTPServer
from typing import Any, TextIO

from stockstatus.core.loopback import serve as serve_on_loopback

from .fake import PLANS, FakeShopify

__all__ = ["demo_catalogue", "generated_catalogue", "run", "serve"]

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
    products: int = 50,
    empty: bool = False,
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
    if not empty:
        generated_catalogue(fake, products)
    limits = fake.plan
    out.write(
        f"Fake Shopify (Admin GraphQL API 2026-07, 2026-10) serving {0 if empty else products} products at {fake.base_url}\n"
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


def demo_catalogue(fake: FakeShopify, today: date) -> None:
    """The WooCommerce demo's coffee-gear shop, in Shopify's terms.

    Stock sits in the Berlin warehouse (fulfils online orders); the showroom's units do not count
    for online sales. Every variant starts with Shopify's default `inventoryPolicy: DENY`. Two
    open orders; one sells the Comandante grinder into negative stock.
    """

    def in_days(n: int) -> tuple[str, str]:
        return ("date", (today + timedelta(days=n)).isoformat())

    if not fake.locations:
        fake.add_location(WAREHOUSE)
        fake.add_location(SHOWROOM, fulfills_online_orders=False)

    def simple(
        title: str,
        sku: str,
        kind: str,
        stock: int | None,
        *,
        tags: tuple[str, ...] = (),
        metafields: dict[str, tuple[str, str]] | None = None,
    ) -> int:
        spec: dict[str, Any] = {"sku": sku, "tracked": stock is not None, "stock": stock or 0}
        product = fake.create_product(title, product_type=kind, tags=tags, metafields=metafields, variants=[spec])
        return product.variant_ids[0]

    simple("Baratza Encore ESP Grinder", "GRD-ENCORE-ESP", "Grinders", 12)
    simple("Hario V60 Dripper 02 Ceramic", "BRW-V60-02", "Brewers", 25)
    simple("Acaia Pearl Scale", "SCL-PEARL", "Scales", None)
    filters = simple("Kalita Wave 185 Filters (100)", "FLT-WAVE-185", "Filters", 3)
    simple("Fellow Stagg EKG Kettle", "KTL-STAGG-EKG", "Kettles", 0, metafields={RESTOCK_DATE: in_days(10)})
    comandante = simple(
        "Comandante C40 MK4 Grinder", "GRD-C40-MK4", "Grinders", 2, metafields={RESTOCK_DATE: in_days(18)}
    )
    simple("Niche Zero Grinder 2027 Edition", "GRD-NICHE-27", "Grinders", 0, metafields={RELEASE_DATE: in_days(30)})
    simple("Origami Dripper Air M", "BRW-ORIGAMI-AIR", "Brewers", None, metafields={RELEASE_DATE: in_days(14)})
    chemex = fake.create_product(
        "Chemex Classic 6-Cup",
        product_type="Brewers",
        variants=[{"sku": "BRW-CHEMEX-6", "stock": {WAREHOUSE: 0, SHOWROOM: 2}}],
    )
    del chemex  # two in the showroom, none for online orders: still sold out online
    simple("AeroPress Go Travel Kit", "BRW-AEROPRESS-GO", "Brewers", 5, tags=(DISCONTINUED,))
    beans = fake.create_product(
        "Ethiopia Guji Natural Whole Bean",
        product_type="Coffee",
        variants=[
            {"sku": "BEAN-GUJI-250", "title": "250 g", "stock": 40},
            {"sku": "BEAN-GUJI-500", "title": "500 g", "stock": 0},
            {"sku": "BEAN-GUJI-1000", "title": "1 kg", "stock": 0, "metafields": {RESTOCK_DATE: in_days(7)}},
        ],
    )
    fake.create_order([(comandante, 3)])
    fake.create_order([(filters, 1), (beans.variant_ids[0], 2)])


_ADJECTIVES = ("Classic", "Pro", "Mini", "Travel", "Barista", "Studio", "Everyday", "Compact", "Deluxe", "Nordic")
_NOUNS = (
    ("Burr Grinder", "Grinders"),
    ("Gooseneck Kettle", "Kettles"),
    ("Pour-Over Dripper", "Brewers"),
    ("French Press", "Brewers"),
    ("Espresso Tamper", "Accessories"),
    ("Milk Pitcher", "Accessories"),
    ("Brew Scale", "Scales"),
    ("Paper Filters", "Filters"),
)
_SIZES = ("250 g", "500 g", "1 kg")


def generated_catalogue(fake: FakeShopify, n: int, *, today: date | None = None, seed: int = 7) -> None:
    """`n` products: ~70 % one variant, ~30 % coffee in 2-3 sizes; some sold past zero, some with
    release or restock dates (merchant metafields), some tagged "discontinued". Deterministic per seed."""
    picker = random.Random(seed)
    today = today or fake.now().date()
    if not fake.locations:
        fake.add_location(WAREHOUSE)

    def quantity() -> int:
        roll = picker.random()
        return -picker.randint(1, 4) if roll < 0.12 else 0 if roll < 0.35 else picker.randint(1, 60)

    def dates(stock: int) -> dict[str, tuple[str, str]]:
        if picker.random() < 0.08:
            return {RELEASE_DATE: ("date", (today + timedelta(days=picker.randint(5, 90))).isoformat())}
        if stock <= 0 and picker.random() < 0.5:
            return {RESTOCK_DATE: ("date", (today + timedelta(days=picker.randint(3, 40))).isoformat())}
        return {}

    for number in range(1, n + 1):
        tags = (DISCONTINUED,) if picker.random() < 0.06 else ()
        if picker.random() < 0.3:
            variants = []
            for size in _SIZES[: picker.randint(2, 3)]:
                stock = quantity()
                variants.append(
                    {
                        "sku": f"GEN-{number:05d}-{size.replace(' ', '').upper()}",
                        "title": size,
                        "stock": stock,
                        "metafields": dates(stock),
                    }
                )
            fake.create_product(f"Whole Bean {number}", product_type="Coffee", tags=tags, variants=variants)
        else:
            noun, kind = picker.choice(_NOUNS)
            tracked = picker.random() < 0.8
            stock = quantity() if tracked else 0
            fake.create_product(
                f"{picker.choice(_ADJECTIVES)} {noun} {number}",
                product_type=kind,
                tags=tags,
                variants=[{"sku": f"GEN-{number:05d}", "tracked": tracked, "stock": stock}],
                metafields=dates(stock),
            )
