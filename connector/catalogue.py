"""Sample catalogues, in no platform's terms: what the demo and every sandbox are seeded with.

A platform's simulator turns these into its own products (WooCommerce products and variations,
Shopify products, variants and inventory levels) and its own open orders, so the demo shows every
platform deciding alike on the same shop. Dates are relative to a `today` the caller gives.
"""

from __future__ import annotations

import random
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

__all__ = [
    "DISCONTINUED",
    "Catalogue",
    "CatalogueFileError",
    "SampleOrder",
    "SampleProduct",
    "SampleVariant",
    "demo",
    "from_file",
    "generated",
]

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


# ---- a catalogue file: what `connector sandbox PLATFORM --catalogue FILE` seeds ------------------

_PRODUCT_KEYS = {
    "sku",
    "name",
    "category",
    "price",
    "stock",
    "tags",
    "restock_date",
    "release_date",
    "option_name",
    "variants",
}
_VARIANT_KEYS = {"sku", "option", "price", "stock", "restock_date", "release_date"}
_ORDER_KEYS = {"lines", "first_name", "last_name", "email"}


class CatalogueFileError(ValueError):
    """A catalogue file that cannot be seeded; the message names the file and the key."""


def from_file(path: Path, today: date) -> Catalogue:
    """The catalogue a TOML file describes ([[products]], optional [[products.variants]], [[orders]]).

    A date is a TOML date (2026-12-20) or a whole number of days from `today` (14), so a file
    kept for trying things stays current. `stock` left out means the store does not track it.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogueFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CatalogueFileError(f"{path}: not a TOML file: {exc}") from None
    where = str(path)
    _unknown(data, {"products", "orders"}, where)
    products = [
        _product(raw, today, f"{where}: products[{n}]") for n, raw in enumerate(_tables(data, "products", where))
    ]
    skus = {p.sku for p in products if p.sku is not None} | {v.sku for p in products for v in p.variants}
    orders = [_order(raw, skus, f"{where}: orders[{n}]", n) for n, raw in enumerate(_tables(data, "orders", where))]
    return Catalogue(tuple(products), tuple(orders))


def _tables(data: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise CatalogueFileError(f"{where}: {key} must be a list of tables, written [[{key}]]")
    return value


def _unknown(raw: dict[str, Any], known: set[str], where: str) -> None:
    for key in raw:
        if key not in known:
            raise CatalogueFileError(f"{where}.{key}: unknown key (known: {', '.join(sorted(known))})")


def _text(raw: dict[str, Any], key: str, where: str, default: str | None = None) -> str | None:
    value = raw.get(key, default)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise CatalogueFileError(f"{where}.{key}: must be non-empty text in quotes, not {value!r}")
    return value


def _stock(raw: dict[str, Any], where: str) -> int | None:
    value = raw.get("stock")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise CatalogueFileError(f"{where}.stock: must be a whole number of units (leave it out: not tracked)")
    return value


def _when(raw: dict[str, Any], key: str, today: date, where: str) -> date | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return today + timedelta(days=value)
    raise CatalogueFileError(f"{where}.{key}: must be a date (2026-12-20, no quotes) or days from today (14)")


def _product(raw: dict[str, Any], today: date, where: str) -> SampleProduct:
    _unknown(raw, _PRODUCT_KEYS, where)
    name = _text(raw, "name", where)
    if name is None:
        raise CatalogueFileError(f"{where}.name: required (the product's name)")
    variants = []
    raw_variants = raw.get("variants", [])
    if not isinstance(raw_variants, list) or not all(isinstance(v, dict) for v in raw_variants):
        raise CatalogueFileError(f"{where}.variants: must be a list of tables, written [[products.variants]]")
    for n, variant in enumerate(raw_variants):
        at = f"{where}.variants[{n}]"
        _unknown(variant, _VARIANT_KEYS, at)
        sku, option = _text(variant, "sku", at), _text(variant, "option", at)
        if sku is None or option is None:
            raise CatalogueFileError(f"{at}: a variant needs a sku and an option (its size, colour...)")
        variants.append(
            SampleVariant(
                sku,
                option,
                _text(variant, "price", at, "10.00") or "10.00",
                _stock(variant, at),
                _when(variant, "restock_date", today, at),
                _when(variant, "release_date", today, at),
            )
        )
    if variants and ("sku" in raw or "stock" in raw):
        raise CatalogueFileError(f"{where}: a product with variants has its sku and stock on each variant")
    tags = raw.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise CatalogueFileError(f'{where}.tags: must be a list of text, e.g. ["discontinued"]')
    return SampleProduct(
        name=name,
        category=_text(raw, "category", where, "General") or "General",
        price=_text(raw, "price", where, "10.00") or "10.00",
        sku=_text(raw, "sku", where),
        stock=_stock(raw, where),
        tags=tuple(tags),
        restock_date=_when(raw, "restock_date", today, where),
        release_date=_when(raw, "release_date", today, where),
        option_name=_text(raw, "option_name", where, "Size") or "Size",
        variants=tuple(variants),
    )


def _order(raw: dict[str, Any], skus: set[str], where: str, number: int) -> SampleOrder:
    _unknown(raw, _ORDER_KEYS, where)
    lines = raw.get("lines")
    if not isinstance(lines, dict) or not lines:
        raise CatalogueFileError(f'{where}.lines: give SKUs and units, e.g. lines = {{ "KTL-1" = 2 }}')
    for sku, units in lines.items():
        if sku not in skus:
            raise CatalogueFileError(f"{where}.lines: SKU {sku!r} is not a product or variant of this file")
        if isinstance(units, bool) or not isinstance(units, int) or units < 1:
            raise CatalogueFileError(f"{where}.lines.{sku}: units must be a whole number, 1 or more")
    return SampleOrder(
        tuple(lines.items()),
        _text(raw, "first_name", where, "Sam") or "Sam",
        _text(raw, "last_name", where, f"Buyer{number + 1}") or "Buyer",
        _text(raw, "email", where, f"buyer{number + 1}@example.com") or "buyer@example.com",
    )
