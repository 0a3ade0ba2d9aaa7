"""The fake WooCommerce on a loopback port, and the catalogues it is seeded with.

`run()` is what `connector sandbox --platform woocommerce` serves: a plain-http store, so clients
must sign with OAuth 1.0a exactly as they would against a real http store. `demo_catalogue()` is
the small coffee-gear shop `connector demo` shows; `generated_catalogue()` makes any number of
realistic products for load and pagination tests.
"""

from __future__ import annotations

import random
import sys
import threading
from collections.abc import Callable
from datetime import date, timedelta
from http.server import ThreadingHTTPServer
from typing import Any, TextIO

from stockstatus.adapters.woocommerce.fake import FakeWooCommerce
from stockstatus.core.loopback import serve as serve_on_loopback

__all__ = ["demo_catalogue", "generated_catalogue", "run", "serve"]

RELEASE_DATE = "release_date"
RESTOCK_DATE = "restock_date"
DISCONTINUED = "discontinued"


# --------------------------------------------------------------------------------------------
# HTTP


def serve(fake: FakeWooCommerce, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """Serve `fake` over HTTP in a background thread; stop with `shutdown()` then `server_close()`.

    The fake's `base_url` is left as it is: set it to the address clients will call.
    """
    return serve_on_loopback(fake.handle, host, port, server_version="nginx")


def run(
    host: str = "127.0.0.1",
    port: int = 8080,
    products: int = 50,
    empty: bool = False,
    *,
    out: TextIO | None = None,
    wait: Callable[[], None] | None = None,
) -> None:
    """Serve a seeded plain-http fake store until Ctrl-C, after printing how to reach it.

    `wait` blocks until the store should stop (default: until KeyboardInterrupt); `out` is where
    the banner goes (default stdout).
    """
    out = out or sys.stdout
    fake = FakeWooCommerce(base_url=f"http://{host}:{port}")
    server = serve(fake, host, port)
    bound_port = server.server_address[1]
    fake.base_url = f"http://{host}:{bound_port}"
    if not empty:
        generated_catalogue(fake, products)
    out.write(_banner(fake, 0 if empty else products))
    out.flush()
    try:
        (wait or _wait_for_interrupt)()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()
        out.write("\nsandbox stopped\n")
        out.flush()


def _wait_for_interrupt() -> None:
    threading.Event().wait()


def _banner(fake: FakeWooCommerce, products: int) -> str:
    return (
        f"Fake WooCommerce 10 (REST v3) serving {products} products at {fake.base_url}\n"
        f"  consumer key:    {fake.consumer_key}\n"
        f"  consumer secret: {fake.consumer_secret}\n"
        "Plain http, as on a real http store: requests must be signed with OAuth 1.0a.\n"
        "Point a store of your config at it:\n"
        f'  url = "{fake.base_url}"\n'
        '  key_env = "WC_KEY"\n'
        '  secret_env = "WC_SECRET"\n'
        f"  export WC_KEY={fake.consumer_key} WC_SECRET={fake.consumer_secret}\n"
        "Press Ctrl-C to stop.\n"
    )


# --------------------------------------------------------------------------------------------
# Catalogues


def demo_catalogue(fake: FakeWooCommerce, today: date) -> None:
    """A small coffee-gear shop showing all four statuses under the example rules.

    Every product starts with WooCommerce's defaults (backorders "no", status derived from
    stock), so the connector has real changes to make. Two processing orders are open; one sells
    the Comandante grinder into negative stock.
    """

    def in_days(n: int) -> str:
        return (today + timedelta(days=n)).isoformat()

    # in stock
    fake.create_product(
        name="Baratza Encore ESP Grinder",
        sku="GRD-ENCORE-ESP",
        regular_price="199.95",
        manage_stock=True,
        stock_quantity=12,
        categories=["Grinders"],
    )
    fake.create_product(
        name="Hario V60 Dripper 02 Ceramic",
        sku="BRW-V60-02",
        regular_price="27.00",
        manage_stock=True,
        stock_quantity=25,
        categories=["Brewers"],
    )
    fake.create_product(
        name="Acaia Pearl Scale",
        sku="SCL-PEARL",
        regular_price="165.00",
        manage_stock=False,
        stock_status="instock",
        categories=["Scales"],
    )
    filters = fake.create_product(
        name="Kalita Wave 185 Filters (100)",
        sku="FLT-WAVE-185",
        regular_price="9.50",
        manage_stock=True,
        stock_quantity=3,
        categories=["Filters"],
    )
    # backorder: sold out, restock due within three weeks
    fake.create_product(
        name="Fellow Stagg EKG Kettle",
        sku="KTL-STAGG-EKG",
        regular_price="169.00",
        manage_stock=True,
        stock_quantity=0,
        categories=["Kettles"],
        meta_data=[{"key": RESTOCK_DATE, "value": in_days(10)}],
    )
    comandante = fake.create_product(
        name="Comandante C40 MK4 Grinder",
        sku="GRD-C40-MK4",
        regular_price="279.00",
        manage_stock=True,
        stock_quantity=2,
        categories=["Grinders"],
        meta_data=[{"key": RESTOCK_DATE, "value": in_days(18)}],
    )
    # pre-order: release date ahead
    fake.create_product(
        name="Niche Zero Grinder 2027 Edition",
        sku="GRD-NICHE-27",
        regular_price="699.00",
        manage_stock=True,
        stock_quantity=0,
        categories=["Grinders"],
        meta_data=[{"key": RELEASE_DATE, "value": in_days(30)}],
    )
    fake.create_product(
        name="Origami Dripper Air M",
        sku="BRW-ORIGAMI-AIR",
        regular_price="32.00",
        manage_stock=False,
        stock_status="instock",
        categories=["Brewers"],
        meta_data=[{"key": RELEASE_DATE, "value": in_days(14)}],
    )
    # out of stock: no restock date, or discontinued
    fake.create_product(
        name="Chemex Classic 6-Cup",
        sku="BRW-CHEMEX-6",
        regular_price="49.50",
        manage_stock=True,
        stock_quantity=0,
        categories=["Brewers"],
    )
    fake.create_product(
        name="AeroPress Go Travel Kit",
        sku="BRW-AEROPRESS-GO",
        regular_price="39.95",
        manage_stock=True,
        stock_quantity=5,
        categories=["Brewers"],
        tags=[DISCONTINUED],
    )
    # a variable product: one size in stock, one sold out with a restock date, one sold out
    beans = fake.create_product(
        name="Ethiopia Guji Natural Whole Bean",
        type="variable",
        categories=["Coffee"],
        attributes=[{"name": "Size", "variation": True, "visible": True, "options": ["250 g", "500 g", "1 kg"]}],
    )
    small = fake.create_variation(
        beans["id"],
        sku="BEAN-GUJI-250",
        regular_price="14.50",
        manage_stock=True,
        stock_quantity=40,
        attributes=[{"name": "Size", "option": "250 g"}],
    )
    fake.create_variation(
        beans["id"],
        sku="BEAN-GUJI-500",
        regular_price="26.00",
        manage_stock=True,
        stock_quantity=0,
        attributes=[{"name": "Size", "option": "500 g"}],
    )
    fake.create_variation(
        beans["id"],
        sku="BEAN-GUJI-1000",
        regular_price="48.00",
        manage_stock=True,
        stock_quantity=0,
        attributes=[{"name": "Size", "option": "1 kg"}],
        meta_data=[{"key": RESTOCK_DATE, "value": in_days(7)}],
    )

    # Open orders: REST orders skip the stock check, so the grinder goes to -1.
    fake.create_order(
        status="processing",
        billing={"first_name": "Mara", "last_name": "Jensen", "email": "mara@example.com"},
        line_items=[{"product_id": comandante["id"], "quantity": 3}],
    )
    fake.create_order(
        status="processing",
        billing={"first_name": "Tomás", "last_name": "Ruiz", "email": "tomas@example.com"},
        line_items=[
            {"product_id": filters["id"], "quantity": 1},
            {"product_id": beans["id"], "variation_id": small["id"], "quantity": 2},
        ],
    )


_ADJECTIVES = ("Classic", "Pro", "Mini", "Travel", "Barista", "Studio", "Everyday", "Compact", "Deluxe", "Nordic")
_NOUNS = (
    ("Burr Grinder", "Grinders", 149.0),
    ("Gooseneck Kettle", "Kettles", 79.0),
    ("Pour-Over Dripper", "Brewers", 29.0),
    ("French Press", "Brewers", 39.0),
    ("Espresso Tamper", "Accessories", 45.0),
    ("Milk Pitcher", "Accessories", 19.0),
    ("Brew Scale", "Scales", 89.0),
    ("Paper Filters", "Filters", 8.5),
    ("Cold Brew Jar", "Brewers", 34.0),
    ("Knock Box", "Accessories", 25.0),
)
_ORIGINS = (
    "Ethiopia Yirgacheffe",
    "Colombia Huila",
    "Kenya Nyeri",
    "Brazil Cerrado",
    "Guatemala Antigua",
    "Rwanda Nyamasheke",
)
_SIZES = (("250 g", 1.0), ("500 g", 1.8), ("1 kg", 3.3))


def generated_catalogue(fake: FakeWooCommerce, n: int, *, today: date | None = None, seed: int = 7) -> None:
    """`n` products like a real shop's: ~70 % simple, ~30 % variable (2-3 sizes), mostly managed.

    Some are sold past zero (negative stock), some tagged "discontinued", some carry a
    `release_date` in the future or a `restock_date` within a few weeks. Deterministic per `seed`.
    """
    picker = random.Random(seed)
    today = today or fake.now().date()
    for number in range(1, n + 1):
        if picker.random() < 0.3:
            _generated_variable(fake, picker, number, today)
        else:
            _generated_simple(fake, picker, number, today)


def _generated_quantity(picker: random.Random) -> int:
    roll = picker.random()
    if roll < 0.12:
        return -picker.randint(1, 4)  # sold past zero by open orders
    if roll < 0.35:
        return 0
    return picker.randint(1, 60)


def _generated_meta(picker: random.Random, quantity: int | None, today: date) -> list[dict[str, str]]:
    if picker.random() < 0.08:
        return [{"key": RELEASE_DATE, "value": (today + timedelta(days=picker.randint(5, 90))).isoformat()}]
    if quantity is not None and quantity <= 0 and picker.random() < 0.5:
        return [{"key": RESTOCK_DATE, "value": (today + timedelta(days=picker.randint(3, 40))).isoformat()}]
    return []


def _generated_simple(fake: FakeWooCommerce, picker: random.Random, number: int, today: date) -> None:
    noun, category, base_price = picker.choice(_NOUNS)
    managed = picker.random() < 0.8
    quantity = _generated_quantity(picker) if managed else None
    fields: dict[str, Any] = {
        "name": f"{picker.choice(_ADJECTIVES)} {noun} {number}",
        "sku": f"GEN-{number:05d}",
        "regular_price": f"{base_price * picker.uniform(0.8, 1.4):.2f}",
        "manage_stock": managed,
        "categories": [category],
        "meta_data": _generated_meta(picker, quantity, today),
    }
    if managed:
        fields["stock_quantity"] = quantity
    else:
        fields["stock_status"] = picker.choice(("instock", "instock", "instock", "outofstock"))
    if picker.random() < 0.06:
        fields["tags"] = [DISCONTINUED]
    fake.create_product(**fields)


def _generated_variable(fake: FakeWooCommerce, picker: random.Random, number: int, today: date) -> None:
    sizes = _SIZES[: picker.randint(2, 3)]
    parent = fake.create_product(
        name=f"{picker.choice(_ORIGINS)} Whole Bean {number}",
        sku=f"GEN-{number:05d}",
        type="variable",
        categories=["Coffee"],
        tags=[DISCONTINUED] if picker.random() < 0.05 else [],
        attributes=[{"name": "Size", "variation": True, "visible": True, "options": [s for s, _ in sizes]}],
    )
    base_price = picker.uniform(11.0, 18.0)
    for label, factor in sizes:
        quantity = _generated_quantity(picker)
        fake.create_variation(
            parent["id"],
            sku=f"GEN-{number:05d}-{label.replace(' ', '').upper()}",
            regular_price=f"{base_price * factor:.2f}",
            manage_stock=True,
            stock_quantity=quantity,
            attributes=[{"name": "Size", "option": label}],
            meta_data=_generated_meta(picker, quantity, today),
        )
