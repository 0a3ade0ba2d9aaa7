"""What the fake answers with: resources as JSON, shaped as recorded on WooCommerce 10.0.2.

Products, variations, orders, order notes and terms are rendered from the store's records (a
variation shows its stock-managing parent's stock, a variable product its cheapest variation's
price), with the `_links` and dates WordPress adds; `json_response` is the one way a body, an
error or a page leaves the fake.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from .errors import Json, WooError
from .store import Store, money, price_of

if TYPE_CHECKING:
    from .webhooks import Webhook

__all__ = [
    "API_ROOT",
    "error_response",
    "json_response",
    "render_order",
    "render_product",
    "render_system_status",
    "render_variation",
    "render_variation_as_product",
    "render_webhook",
]

API_ROOT = "/wp-json/wc/v3"
WC_VERSION = "10.0.2"


def _wp_date(moment: datetime | None, zone: tzinfo) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S")


def _gmt(moment: datetime | None) -> str | None:
    return _wp_date(moment, UTC)


def _links(base: str, path: str, collection: str, *, up: str | None = None) -> Json:
    links: Json = {
        "self": [
            {"href": f"{base}{API_ROOT}/{path}", "targetHints": {"allow": ["GET", "POST", "PUT", "PATCH", "DELETE"]}}
        ],
        "collection": [{"href": f"{base}{API_ROOT}/{collection}"}],
    }
    if up is not None:
        links["up"] = [{"href": f"{base}{API_ROOT}/{up}"}]
    return links


def json_response(status: int, body: Any, headers: Iterable[tuple[str, str]] = ()) -> httpx.Response:
    content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    all_headers = [("Content-Type", "application/json; charset=UTF-8"), *headers]
    return httpx.Response(status, headers=all_headers, content=content)


def error_response(error: WooError, headers: Iterable[tuple[str, str]] = ()) -> httpx.Response:
    return json_response(error.status, error.body(), headers)


def render_product(store: Store, product: Json, base: str, *, edit: bool = False) -> Json:
    """A product; `edit` is the context writes answer in (create, update, batch, delete)."""
    stock = store.shown_stock(product)
    price = product["sale_price"] or product["regular_price"]
    if product["type"] == "variable":
        prices = [
            price_of(store.variations[v]["sale_price"] or store.variations[v]["regular_price"])
            for v in product["variations"]
            if v in store.variations
        ]
        price = f"{min(prices):g}" if prices else ""
    pid = product["id"]
    return {
        "id": pid,
        "name": product["name"],
        "slug": product["slug"],
        # A trashed post has no pretty permalink any more.
        "permalink": (
            f"{base}/?post_type=product&p={product['id']}"
            if product["status"] == "trash"
            else f"{base}/product/{product['slug']}/"
        ),
        "date_created": _wp_date(product["date_created"], store.timezone),
        "date_created_gmt": _gmt(product["date_created"]),
        "date_modified": _wp_date(product["date_modified"], store.timezone),
        "date_modified_gmt": _gmt(product["date_modified"]),
        "type": product["type"],
        "status": product["status"],
        "featured": product["featured"],
        "catalog_visibility": product["catalog_visibility"],
        "description": product["description"],
        "short_description": product["short_description"],
        "sku": product["sku"],
        "price": price,
        "regular_price": product["regular_price"],
        "sale_price": product["sale_price"],
        "date_on_sale_from": None,
        "date_on_sale_from_gmt": None,
        "date_on_sale_to": None,
        "date_on_sale_to_gmt": None,
        "on_sale": bool(product["sale_price"]),
        "purchasable": price != "" and product["status"] == "publish",
        "total_sales": product["total_sales"],
        "virtual": product["virtual"],
        "downloadable": product["downloadable"],
        "downloads": [],
        "download_limit": -1,
        "download_expiry": -1,
        "external_url": product["external_url"],
        "button_text": product["button_text"],
        "tax_status": product["tax_status"],
        "tax_class": product["tax_class"],
        **_stock_fields(stock),
        "low_stock_amount": product["low_stock_amount"],
        "sold_individually": product["sold_individually"],
        "weight": product["weight"],
        "dimensions": dict(product["dimensions"]),
        "shipping_required": not product["virtual"],
        "shipping_taxable": product["tax_status"] in ("taxable", "shipping"),
        "shipping_class": product["shipping_class"],
        "shipping_class_id": 0,
        "reviews_allowed": product["reviews_allowed"],
        "average_rating": "0.00",
        "rating_count": 0,
        "upsell_ids": list(product["upsell_ids"]),
        "cross_sell_ids": list(product["cross_sell_ids"]),
        "parent_id": product["parent_id"],
        "purchase_note": product["purchase_note"],
        "categories": [dict(c) for c in product["categories"]],
        "brands": [],
        "tags": [dict(t) for t in product["tags"]],
        "images": [],
        "attributes": [dict(a) for a in product["attributes"]],
        "default_attributes": list(product["default_attributes"]),
        "variations": [v for v in product["variations"] if v in store.variations],
        "grouped_products": [],
        "menu_order": product["menu_order"],
        "price_html": _price_html(price),
        "related_ids": [],
        "meta_data": [dict(m) for m in product["meta_data"]],
        "stock_status": stock["stock_status"],
        "has_options": product["type"] == "variable",
        "post_password": product["post_password"],
        "global_unique_id": product["global_unique_id"],
        # Only the edit context shows how WordPress would name the product's URL.
        **({"permalink_template": f"{base}/product/%pagename%/", "generated_slug": product["slug"]} if edit else {}),
        "_links": _links(base, f"products/{pid}", "products"),
    }


def _stock_fields(stock: Json) -> Json:
    backorders = stock["backorders"]
    allowed = backorders in ("yes", "notify")
    managed = bool(stock["manage_stock"])
    quantity = stock["stock_quantity"]
    backordered = stock["stock_status"] == "onbackorder" or (
        managed and allowed and quantity is not None and quantity < 0
    )
    return {
        "manage_stock": stock["manage_stock"],
        "stock_quantity": quantity,
        "backorders": backorders,
        "backorders_allowed": allowed,
        "backordered": backordered,
    }


def render_variation(store: Store, variation: Json, base: str, *, created: bool = False) -> Json:
    """A variation; `created` for the answer to creating it, which WooCommerce renders before the sync."""
    stock = store.shown_stock(variation)
    if created and stock["manage_stock"] == "parent":
        # The new variation's own status ("instock") is shown, not yet the parent's: a re-read
        # shows the parent's (seen on WooCommerce 10.0.2 for POST and batch create alike).
        stock = {**stock, "stock_status": variation["stock_status"]}
    parent = store.products.get(variation["parent_id"], {})
    vid, pid = variation["id"], variation["parent_id"]
    price = variation["sale_price"] or variation["regular_price"]
    query = "&".join(f"attribute_{a['slug']}={quote(a['option'])}" for a in variation["attributes"])
    stock_fields = _stock_fields(stock)
    return {
        "id": vid,
        "type": "variation",
        "date_created": _wp_date(variation["date_created"], store.timezone),
        "date_created_gmt": _gmt(variation["date_created"]),
        "date_modified": _wp_date(variation["date_modified"], store.timezone),
        "date_modified_gmt": _gmt(variation["date_modified"]),
        "description": variation["description"],
        "permalink": f"{base}/product/{parent.get('slug', '')}/" + (f"?{query}" if query else ""),
        "sku": variation["sku"],
        "global_unique_id": variation["global_unique_id"],
        "price": price,
        "regular_price": variation["regular_price"],
        "sale_price": variation["sale_price"],
        "date_on_sale_from": None,
        "date_on_sale_from_gmt": None,
        "date_on_sale_to": None,
        "date_on_sale_to_gmt": None,
        "on_sale": bool(variation["sale_price"]),
        "status": variation["status"],
        "purchasable": price != "" and variation["status"] == "publish",
        "virtual": variation["virtual"],
        "downloadable": variation["downloadable"],
        "downloads": [],
        "download_limit": -1,
        "download_expiry": -1,
        "tax_status": variation["tax_status"],
        "tax_class": variation["tax_class"],
        "manage_stock": stock_fields["manage_stock"],
        "stock_quantity": stock_fields["stock_quantity"],
        "stock_status": stock["stock_status"],
        "backorders": stock_fields["backorders"],
        "backorders_allowed": stock_fields["backorders_allowed"],
        "backordered": stock_fields["backordered"],
        "low_stock_amount": variation["low_stock_amount"],
        "weight": variation["weight"],
        "dimensions": dict(variation["dimensions"]),
        "shipping_class": variation["shipping_class"],
        "shipping_class_id": 0,
        "image": variation["image"],
        "attributes": [dict(a) for a in variation["attributes"]],
        "menu_order": variation["menu_order"],
        "meta_data": [dict(m) for m in variation["meta_data"]],
        # The recorded store names a variation by its attribute values ("S").
        "name": ", ".join(a["option"] for a in variation["attributes"]) or parent.get("name", ""),
        "parent_id": pid,
        "_links": _links(base, f"products/{pid}/variations/{vid}", f"products/{pid}/variations", up=f"products/{pid}"),
    }


def render_variation_as_product(store: Store, variation: Json, base: str) -> Json:
    """A variation read through the products route (`products/<id>`, `products?sku=`).

    The products controller renders the variation object with the product fields: its name is
    "Parent - S", it has no terms or variations of its own, and its links point at the products
    route with the parent `up` (as recorded on WooCommerce 10.0.2).
    """
    parent = store.products.get(variation["parent_id"], {})
    shown = render_variation(store, variation, base)
    options = ", ".join(a["option"] for a in variation["attributes"])
    name = f"{parent.get('name', '')} - {options}" if options else parent.get("name", "")
    as_product = {
        **variation,
        "name": name,
        "slug": f"{parent.get('slug', 'product')}-{'-'.join(a['option'].lower() for a in variation['attributes'])}"
        if variation["attributes"]
        else parent.get("slug", ""),
        "featured": False,
        "catalog_visibility": "visible",
        "short_description": "",
        "external_url": "",
        "button_text": "",
        "sold_individually": False,
        "reviews_allowed": False,
        "purchase_note": "",
        "categories": [],
        "tags": [],
        "default_attributes": [],
        "upsell_ids": [],
        "cross_sell_ids": [],
        "post_password": "",
        "variations": [],
    }
    body = render_product(store, as_product, base)
    body.update(
        {
            "permalink": shown["permalink"],
            "attributes": shown["attributes"],
            "has_options": False,
            "total_sales": str(body["total_sales"]),  # a variation's comes back as a string
            "_links": {**_links(base, f"products/{variation['id']}", "products", up=f"products/{parent.get('id', 0)}")},
        }
    )
    return body


def render_system_status(store: Store, base: str) -> Json:
    """GET system_status, with the sections and the keys a connector reads (a subset of each)."""
    return {
        "environment": {
            "home_url": base,
            "site_url": base,
            "version": WC_VERSION,
            "wp_version": "6.8.3",
            "wp_multisite": False,
            "wp_cron": True,
            "language": "en_US",
            "server_info": "nginx",
            "php_version": "8.2.36",
            "mysql_version": "10.11.19",
            "mysql_version_string": "10.11.19-MariaDB-0+deb12u1",
            "default_timezone": "UTC",
        },
        "database": {"wc_database_version": WC_VERSION, "database_prefix": "wp_"},
        "active_plugins": [
            {
                "plugin": "woocommerce/woocommerce.php",
                "name": "WooCommerce",
                "version": WC_VERSION,
                "url": "https://woocommerce.com/",
                "author_name": "Automattic",
                "network_activated": False,
            }
        ],
        "inactive_plugins": [],
        "dropins_mu_plugins": {"dropins": [], "mu_plugins": []},
        "theme": {"name": "Twenty Twenty-Five", "version": "1.3"},
        "settings": {
            "api_enabled": False,
            "force_ssl": False,
            "currency": "USD",
            "currency_symbol": "&#36;",
            "currency_position": "left",
            "thousand_separator": ",",
            "decimal_separator": ".",
            "number_of_decimals": 2,
            "order_datastore": "WC_Order_Data_Store_CPT",
            "HPOS_enabled": False,
        },
        "security": {"secure_connection": base.startswith("https://"), "hide_errors": True},
        "pages": [],
        "post_type_counts": [
            {"type": "product", "count": str(len(store.products))},
            {"type": "product_variation", "count": str(len(store.variations))},
            {"type": "shop_order", "count": str(len(store.orders))},
        ],
        "logging": {
            "logging_enabled": True,
            "default_handler": "Automattic\\WooCommerce\\Internal\\Admin\\Logging\\LogHandlerFileV2",
        },
    }


def render_order(store: Store, order: Json, base: str) -> Json:
    oid = order["id"]
    total = sum(price_of(li["total"]) for li in order["line_items"])
    status = order["status"]
    return {
        "id": oid,
        "parent_id": order["parent_id"],
        "status": status,
        "currency": order["currency"],
        "version": WC_VERSION,
        "prices_include_tax": False,
        "date_created": _wp_date(order["date_created"], store.timezone),
        "date_modified": _wp_date(order["date_modified"], store.timezone),
        "discount_total": "0.00",
        "discount_tax": "0.00",
        "shipping_total": "0.00",
        "shipping_tax": "0.00",
        "cart_tax": "0.00",
        "total": money(total),
        "total_tax": "0.00",
        "customer_id": order["customer_id"],
        "order_key": order["order_key"],
        "billing": dict(order["billing"]),
        "shipping": dict(order["shipping"]),
        "payment_method": order["payment_method"],
        "payment_method_title": order["payment_method_title"],
        "transaction_id": order["transaction_id"],
        "customer_ip_address": "",
        "customer_user_agent": "",
        "created_via": order["created_via"],
        "customer_note": order["customer_note"],
        "date_completed": _wp_date(order["date_completed"], store.timezone),
        "date_paid": _wp_date(order["date_paid"], store.timezone),
        "cart_hash": "",
        "number": str(oid),
        "meta_data": [dict(m) for m in order["meta_data"]],
        "line_items": [
            {**li, "meta_data": [dict(m) for m in li["meta_data"]], "taxes": list(li["taxes"])}
            for li in order["line_items"]
        ],
        "tax_lines": [],
        "shipping_lines": [],
        "fee_lines": [],
        "coupon_lines": [],
        "refunds": [],
        "payment_url": f"{base}/checkout/order-pay/{oid}/?pay_for_order=true&key={order['order_key']}",
        "is_editable": status in ("pending", "on-hold", "auto-draft", "checkout-draft"),
        "needs_payment": status in ("pending", "failed") and total > 0,
        "needs_processing": True,
        "date_created_gmt": _gmt(order["date_created"]),
        "date_modified_gmt": _gmt(order["date_modified"]),
        "date_completed_gmt": _gmt(order["date_completed"]),
        "date_paid_gmt": _gmt(order["date_paid"]),
        "currency_symbol": {"USD": "$", "EUR": "€", "GBP": "£"}.get(order["currency"], order["currency"]),
        "_links": {
            **_links(base, f"orders/{oid}", "orders"),
            "email_templates": [{"embeddable": True, "href": f"{base}{API_ROOT}/orders/{oid}/actions/email_templates"}],
        },
    }


def render_note(store: Store, order_id: int, note: Json, base: str) -> Json:
    return {
        "id": note["id"],
        # System notes are signed by WooCommerce; a note added for a user carries their name.
        "author": "admin" if note["added_by_user"] else "WooCommerce",
        "date_created": _wp_date(note["date_created"], store.timezone),
        "date_created_gmt": _gmt(note["date_created"]),
        "note": note["note"],
        "customer_note": note["customer_note"],
        "_links": {
            "self": [
                {
                    "href": f"{base}{API_ROOT}/orders/{order_id}/notes/{note['id']}",
                    "targetHints": {"allow": ["GET", "DELETE"]},
                }
            ],
            "collection": [{"href": f"{base}{API_ROOT}/orders/{order_id}/notes"}],
            "up": [{"href": f"{base}{API_ROOT}/orders/{order_id}"}],
        },
    }


def render_term(store: Store, table: dict[int, Json], route: str, term: Json, base: str) -> Json:
    body: Json = {
        "id": term["id"],
        "name": term["name"],
        "slug": term["slug"],
        "description": term.get("description", ""),
        "count": store.term_count(table, term["id"]),
    }
    if table is store.categories:
        body.update({"parent": 0, "display": "default", "image": None, "menu_order": 0})
    body["_links"] = {
        "self": [{"href": f"{base}{API_ROOT}/{route}/{term['id']}"}],
        "collection": [{"href": f"{base}{API_ROOT}/{route}"}],
    }
    return body


def render_webhook(store: Store, webhook: Webhook, base: str) -> Json:
    """A webhook as WC_REST_Webhooks_Controller (v3) shows it: never its secret, in any context."""
    body: Json = {
        "id": webhook.id,
        "name": webhook.name,
        "status": webhook.status,
        "topic": webhook.topic,
        "resource": webhook.resource,
        "event": webhook.event,
        "hooks": webhook.hooks,
        "delivery_url": webhook.delivery_url,
    }
    body.update(
        {
            "date_created": _wp_date(webhook.date_created, store.timezone),
            "date_created_gmt": _gmt(webhook.date_created),
            "date_modified": _wp_date(webhook.date_modified, store.timezone),
            "date_modified_gmt": _gmt(webhook.date_modified),
            "_links": {
                "self": [
                    {
                        "href": f"{base}{API_ROOT}/webhooks/{webhook.id}",
                        "targetHints": {"allow": ["GET", "POST", "PUT", "PATCH", "DELETE"]},
                    }
                ],
                "collection": [{"href": f"{base}{API_ROOT}/webhooks"}],
            },
        }
    )
    return body


def _price_html(price: str) -> str:
    if price == "":
        return ""
    amount = f"{price_of(price):.2f}"
    return (
        '<span class="woocommerce-Price-amount amount"><bdi><span class="woocommerce-Price-currencySymbol">'
        f"&#36;</span>{amount}</bdi></span>"
    )
