"""Sample catalogues, in no platform's terms: what the demo and every sandbox are seeded with.

A platform's simulator turns these into its own products (WooCommerce products and variations,
Shopify products, variants and inventory levels) and its own open orders, so the demo shows every
platform deciding alike on the same shop. Dates are relative to a `today` the caller gives.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

__all__ = ["DISCONTINUED", "Catalogue", "SampleOrder", "SampleProduct", "SampleVariant", "demo", "generated"]

DISCONTINUED = "discontinued"
"""The tag the example rules read as "never restocked"."""


@dataclass(frozen=True, slots=True)
class SampleVariant:
    """One option of a variable product (a size of a coffee)."""

    sku: str
    option: str
    price: str
    stock: int | None
    """Units that count for online sales; None when the store does not track stock."""
    restock_date: date | None = None
    release_date: date | None = None


@dataclass(frozen=True, slots=True)
class SampleProduct:
    """A product: simple (`variants` empty, its own SKU and stock) or variable (one row a variant)."""

    name: str
    category: str
    price: str
    sku: str | None = None
    stock: int | None = None
    """Units that count for online sales; None when the store does not track stock."""
    elsewhere: int = 0
    """Units at a place that does not serve online orders (a showroom): they never count."""
    tags: tuple[str, ...] = ()
    restock_date: date | None = None
    release_date: date | None = None
    option_name: str = "Size"
    variants: tuple[SampleVariant, ...] = ()

    @property
    def variable(self) -> bool:
        return bool(self.variants)


@dataclass(frozen=True, slots=True)
class SampleOrder:
    """An open (paid, unshipped) order: (SKU, units) lines and who placed it."""

    lines: tuple[tuple[str, int], ...]
    first_name: str
    last_name: str
    email: str


@dataclass(frozen=True, slots=True)
class Catalogue:
    products: tuple[SampleProduct, ...]
    orders: tuple[SampleOrder, ...] = ()

    def __iter__(self) -> Iterator[SampleProduct]:
        return iter(self.products)

    def __len__(self) -> int:
        return len(self.products)


def demo(today: date) -> Catalogue:
    """A small coffee-gear shop showing all four statuses under the example rules.

    Every item starts as a new store holds it (not sellable past zero), so the connector has real
    changes to make. Two open orders; one sells the Comandante grinder into negative stock.
    """

    def in_days(n: int) -> date:
        return today + timedelta(days=n)

    products = (
        # in stock
        SampleProduct("Baratza Encore ESP Grinder", "Grinders", "199.95", sku="GRD-ENCORE-ESP", stock=12),
        SampleProduct("Hario V60 Dripper 02 Ceramic", "Brewers", "27.00", sku="BRW-V60-02", stock=25),
        SampleProduct("Acaia Pearl Scale", "Scales", "165.00", sku="SCL-PEARL"),
        SampleProduct("Kalita Wave 185 Filters (100)", "Filters", "9.50", sku="FLT-WAVE-185", stock=3),
        # backorder: sold out, restock due within three weeks
        SampleProduct(
            "Fellow Stagg EKG Kettle", "Kettles", "169.00", sku="KTL-STAGG-EKG", stock=0, restock_date=in_days(10)
        ),
        SampleProduct(
            "Comandante C40 MK4 Grinder", "Grinders", "279.00", sku="GRD-C40-MK4", stock=2, restock_date=in_days(18)
        ),
        # pre-order: release date ahead
        SampleProduct(
            "Niche Zero Grinder 2027 Edition",
            "Grinders",
            "699.00",
            sku="GRD-NICHE-27",
            stock=0,
            release_date=in_days(30),
        ),
        SampleProduct("Origami Dripper Air M", "Brewers", "32.00", sku="BRW-ORIGAMI-AIR", release_date=in_days(14)),
        # out of stock: no restock date (two in the showroom do not count online), or discontinued
        SampleProduct("Chemex Classic 6-Cup", "Brewers", "49.50", sku="BRW-CHEMEX-6", stock=0, elsewhere=2),
        SampleProduct(
            "AeroPress Go Travel Kit", "Brewers", "39.95", sku="BRW-AEROPRESS-GO", stock=5, tags=(DISCONTINUED,)
        ),
        # a variable product: one size in stock, one sold out, one sold out with a restock date
        SampleProduct(
            "Ethiopia Guji Natural Whole Bean",
            "Coffee",
            "14.50",
            variants=(
                SampleVariant("BEAN-GUJI-250", "250 g", "14.50", 40),
                SampleVariant("BEAN-GUJI-500", "500 g", "26.00", 0),
                SampleVariant("BEAN-GUJI-1000", "1 kg", "48.00", 0, restock_date=in_days(7)),
            ),
        ),
    )
    orders = (
        # Orders placed through the API skip the stock check, so the grinder goes to -1.
        SampleOrder((("GRD-C40-MK4", 3),), "Mara", "Jensen", "mara@example.com"),
        SampleOrder((("FLT-WAVE-185", 1), ("BEAN-GUJI-250", 2)), "Tomás", "Ruiz", "tomas@example.com"),
    )
    return Catalogue(products, orders)


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


def generated(count: int, today: date, *, seed: int = 7) -> Catalogue:
    """`count` realistic products for load, paging and throttling tests; the same for one seed.

    About 70 % are simple and 30 % a coffee in two or three sizes; some are sold past zero, some
    have a release or restock date, some are tagged "discontinued". No open orders: a product sold
    past zero stands for orders the store already took.
    """
    if count < 0:
        raise ValueError(f"a catalogue cannot have {count} products")
    picker = random.Random(seed)

    def quantity() -> int:
        roll = picker.random()
        return -picker.randint(1, 4) if roll < 0.12 else 0 if roll < 0.35 else picker.randint(1, 60)

    def dates(stock: int) -> tuple[date | None, date | None]:
        """(restock, release)"""
        if picker.random() < 0.08:
            return None, today + timedelta(days=picker.randint(5, 90))
        if stock <= 0 and picker.random() < 0.5:
            return today + timedelta(days=picker.randint(3, 40)), None
        return None, None

    products = []
    for number in range(1, count + 1):
        if picker.random() < 0.3:
            origin = picker.choice(("Ethiopia", "Colombia", "Kenya", "Brazil", "Guatemala", "Rwanda"))
            variants = []
            for size in _SIZES[: picker.randint(2, 3)]:
                stock = quantity()
                restock, release = dates(stock)
                grams = size.replace(" ", "").upper()
                variants.append(
                    SampleVariant(
                        f"GEN-{number:05d}-{grams}", size, f"{picker.randint(9, 60)}.00", stock, restock, release
                    )
                )
            products.append(
                SampleProduct(
                    f"{origin} Lot {number} Whole Bean", "Coffee", variants[0].price, variants=tuple(variants)
                )
            )
            continue
        noun, category = picker.choice(_NOUNS)
        tracked = picker.random() < 0.8  # some shops do not count stock for every product
        stock = quantity()
        restock, release = dates(stock)
        tags = (DISCONTINUED,) if picker.random() < 0.05 else ()
        products.append(
            SampleProduct(
                f"{picker.choice(_ADJECTIVES)} {noun} {number}",
                category,
                f"{picker.randint(8, 400)}.00",
                sku=f"GEN-{number:05d}",
                stock=stock if tracked else None,
                tags=tags,
                restock_date=restock,
                release_date=release,
            )
        )
    return Catalogue(tuple(products))
