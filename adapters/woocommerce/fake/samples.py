"""A sample catalogue (`stockstatus.core.catalogue`) as a WooCommerce store holds it.

Every item starts with WooCommerce's defaults (backorders "no", status derived from stock), so
the connector has real changes to make. A product with stock is managed; one without (`stock`
None) is unmanaged and "instock"; restock and release dates are the `restock_date` and
`release_date` meta the example rules read; a variable product has one attribute (its
`option_name`, "Size") with a variation per option. Open orders are "processing" orders placed
over REST, which skip the stock check and so may sell an item past zero.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from stockstatus.core.catalogue import Catalogue, SampleOrder, SampleProduct, SampleVariant

from .routes import FakeWooCommerce

__all__ = ["RELEASE_DATE", "RESTOCK_DATE", "seed"]

RESTOCK_DATE = "restock_date"
RELEASE_DATE = "release_date"


def seed(fake: FakeWooCommerce, catalogue: Catalogue) -> None:
    """Create the catalogue's products, variations and open orders in `fake`, in catalogue order."""
    for product in catalogue:
        _create(fake, product)
    for order in catalogue.orders:
        _place(fake, order)


def _stock_fields(stock: int | None) -> dict[str, Any]:
    if stock is None:
        return {"manage_stock": False, "stock_status": "instock"}
    return {"manage_stock": True, "stock_quantity": stock}


def _dates(restock: date | None, release: date | None) -> dict[str, Any]:
    meta = [
        {"key": key, "value": day.isoformat()} for key, day in ((RESTOCK_DATE, restock), (RELEASE_DATE, release)) if day
    ]
    return {"meta_data": meta} if meta else {}


def _create(fake: FakeWooCommerce, product: SampleProduct) -> None:
    fields: dict[str, Any] = {"name": product.name, "categories": [product.category]}
    if product.sku is not None:
        fields["sku"] = product.sku
    if product.tags:
        fields["tags"] = list(product.tags)
    if not product.variable:
        # A showroom's units (`elsewhere`) have no place in WooCommerce: an item has one stock.
        fake.create_product(
            **fields,
            regular_price=product.price,
            **_stock_fields(product.stock),
            **_dates(product.restock_date, product.release_date),
        )
        return
    # A variable parent has no price of its own: it shows its variations'.
    parent = fake.create_product(
        **fields,
        type="variable",
        attributes=[
            {
                "name": product.option_name,
                "variation": True,
                "visible": True,
                "options": [variant.option for variant in product.variants],
            }
        ],
    )
    for variant in product.variants:
        _create_variation(fake, parent["id"], product.option_name, variant)


def _create_variation(fake: FakeWooCommerce, parent_id: int, option_name: str, variant: SampleVariant) -> None:
    fake.create_variation(
        parent_id,
        sku=variant.sku,
        regular_price=variant.price,
        **_stock_fields(variant.stock),
        attributes=[{"name": option_name, "option": variant.option}],
        **_dates(variant.restock_date, variant.release_date),
    )


def _place(fake: FakeWooCommerce, order: SampleOrder) -> None:
    fake.create_order(
        status="processing",
        billing={"first_name": order.first_name, "last_name": order.last_name, "email": order.email},
        line_items=[{"sku": sku, "quantity": units} for sku, units in order.lines],
    )
