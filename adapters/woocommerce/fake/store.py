"""The store's records and what saving them does, as WooCommerce's data stores do it.

Products, variations, orders with their notes, product tags and categories, each a plain dict
keyed by id, with WordPress's id sequences. Saving runs what `WC_Product::save` and friends run:
managed stock recomputes `stock_status`, unmanaged stock forgets its quantity, a variation saves
its parent, an order reduces (or gives back) stock as its status moves. Nothing here knows HTTP:
the routes validate a request, then call these.
"""

from __future__ import annotations

import math
import re
import secrets
import string
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any

from .errors import Json, WooError
from .params import (
    PRODUCT_STATUSES,
    PRODUCT_TYPES,
    STOCK_STATUSES,
    VARIATION_STATUSES,
    is_integer,
    is_number,
    to_bool,
)

__all__ = ["Now", "Store"]

STOCK_REDUCING_ORDER_STATUSES = frozenset({"processing", "on-hold", "completed"})
# WooCommerce hooks wc_maybe_increase_stock_levels on cancelled and pending; a full refund
# restocks too. An order moved there gets its reduced units back, once.
STOCK_RESTORING_ORDER_STATUSES = frozenset({"cancelled", "pending", "refunded"})
PAID_ORDER_STATUSES = frozenset({"processing", "completed"})
ORDER_STATUS_LABELS = {
    "pending": "Pending payment",
    "processing": "Processing",
    "on-hold": "On hold",
    "completed": "Completed",
    "cancelled": "Cancelled",
    "refunded": "Refunded",
    "failed": "Failed",
    "checkout-draft": "Draft",
}

UNCATEGORIZED_ID = 15
UNCATEGORIZED: dict[str, Any] = {"id": UNCATEGORIZED_ID, "name": "Uncategorized", "slug": "uncategorized"}

Now = Callable[[], datetime]


class Store:
    """A WooCommerce store's records in memory (no locking: the caller holds the store's lock)."""

    def __init__(self, *, now: Now | None = None, timezone: tzinfo = UTC) -> None:
        self._now: Now = now or (lambda: datetime.now(UTC))
        self.timezone = timezone
        self.products: dict[int, Json] = {}
        self.variations: dict[int, Json] = {}
        self.orders: dict[int, Json] = {}
        self.notes: dict[int, list[Json]] = {}
        self.tags: dict[int, Json] = {}
        self.categories: dict[int, Json] = {UNCATEGORIZED_ID: dict(UNCATEGORIZED)}
        # WordPress posts share one id sequence (products, variations, orders); terms, post meta,
        # order items and order item meta each have their own table.
        self._next_post_id = 10
        self._next_term_id = 16
        self._next_meta_id = 1
        self._next_item_id = 1
        self._next_item_meta_id = 1
        # Order notes are comments; a new WordPress already holds comment 1 (the sample comment).
        self._next_note_id = 2
        # The hooks webhooks listen to, as (resource, event, id), fired since the request began.
        self.fired: list[tuple[str, str, int]] = []

    def _fire(self, resource: str, event: str, record: Json) -> None:
        # WC_Webhook::is_valid_resource skips auto-drafts, and draft orders.
        ignored = ("auto-draft", "new") if resource == "product" else ("draft", "auto-draft", "new")
        if record.get("status") not in ignored:
            self.fired.append((resource, event, int(record["id"])))

    def now(self) -> datetime:
        """The store's clock (injected in tests)."""
        return self._now()

    def timezone_string(self) -> str:
        """WordPress's `timezone_string`: an IANA name, or "" when the site runs on a fixed offset."""
        # A new WordPress has no name and offset 0: that is a store built on plain `UTC`.
        key = getattr(self.timezone, "key", None)
        return key if isinstance(key, str) else ""

    def gmt_offset(self) -> int | float:
        """WordPress's `gmt_offset` now, in hours (1 for Berlin in winter, 5.5 for Kolkata)."""
        offset = self.now().astimezone(self.timezone).utcoffset()
        hours = (offset.total_seconds() if offset else 0.0) / 3600
        return int(hours) if hours.is_integer() else hours

    def _trash(self, product: Json) -> None:
        """wp_trash_post: remember the status and free the slug (`name__trashed`); variations go too."""
        product["previous_status"] = product["status"]
        product["status"] = "trash"
        product["slug"] = f"{product['slug']}__trashed"
        product["date_modified"] = self._now()
        self.fired.append(("product", "deleted", product["id"]))
        for variation_id in product.get("variations", []):
            variation = self.variations.get(variation_id)
            if variation is not None:
                variation["previous_status"] = variation["status"]
                variation["status"] = "trash"

    # ---- lookups -------------------------------------------------------------------------------

    def _product(self, product_id: int, *, status: int) -> Json:
        product = self.products.get(product_id)
        if product is None:
            raise WooError("woocommerce_rest_product_invalid_id", "Invalid ID.", status)
        return product

    def _variation(self, product_id: int, variation_id: int, *, status: int) -> Json:
        variation = self.variations.get(variation_id)
        if variation is None or variation["parent_id"] != product_id:
            raise WooError("woocommerce_rest_product_variation_invalid_id", "Invalid ID.", status)
        return variation

    def _order(self, order_id: int, *, status: int) -> Json:
        order = self.orders.get(order_id)
        if order is None:
            raise WooError("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", status)
        return order

    def _take_post_id(self) -> int:
        self._next_post_id += 1
        return self._next_post_id - 1

    def _take_meta_id(self) -> int:
        self._next_meta_id += 1
        return self._next_meta_id - 1

    def _take_note_id(self) -> int:
        self._next_note_id += 1
        return self._next_note_id - 1

    def _term(self, table: dict[int, Json], name: str) -> Json:
        for term in table.values():
            if term["name"] == name or term["slug"] == slugify(name):
                return dict(term)
        term = {"id": self._next_term_id, "name": name, "slug": slugify(name)}
        self._next_term_id += 1
        table[term["id"]] = term
        return dict(term)

    def _terms_by_name(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Let seeding helpers name tags/categories; REST itself only assigns existing ids."""
        out = dict(fields)
        for key, table in (("tags", self.tags), ("categories", self.categories)):
            if key in out and isinstance(out[key], list):
                out[key] = [
                    {"id": self._term(table, t)["id"]}
                    if isinstance(t, str)
                    else (
                        {"id": self._term(table, t["name"])["id"]}
                        if isinstance(t, dict) and "id" not in t and "name" in t
                        else t
                    )
                    for t in out[key]
                ]
        return out

    def _assign_terms(self, table: dict[int, Json], requested: Any) -> list[Json]:
        # The products controller reads only each term's id; unknown ids are dropped.
        found = []
        for entry in requested if isinstance(requested, list) else []:
            term_id = entry.get("id") if isinstance(entry, dict) else None
            if is_integer(term_id) and int(float(str(term_id))) in table:
                found.append(dict(table[int(float(str(term_id)))]))
        return found

    def term_count(self, table: dict[int, Json], term_id: int) -> int:
        """How many products carry the term (the `count` a term shows)."""
        key = "tags" if table is self.tags else "categories"
        return sum(1 for p in self.products.values() if any(t["id"] == term_id for t in p[key]))

    def _insert_term(self, table: dict[int, Json], params: Mapping[str, Any]) -> Json:
        """wp_insert_term: a new tag or category from already validated `name`, `slug`, `description`."""
        name = str(params.get("name") or "").strip()
        if not name:
            raise WooError("rest_missing_callback_param", "Missing parameter(s): name", 400)
        slug = slugify(str(params.get("slug") or name))
        for term in table.values():
            if term["name"] == name or term["slug"] == slug:
                # WordPress's wp_insert_term refuses a duplicate and names the existing term.
                raise WooError(
                    "term_exists",
                    "A term with the name provided already exists with this parent.",
                    400,
                    resource_id=term["id"],
                )
        term = {
            "id": self._next_term_id,
            "name": name,
            "slug": slug,
            "description": str(params.get("description") or ""),
        }
        self._next_term_id += 1
        table[term["id"]] = term
        return term

    # ---- products: create and save --------------------------------------------------------------

    def _new_item_record(self, now: datetime) -> Json:
        return {
            "id": self._take_post_id(),
            "date_created": now,
            "date_modified": now,
            "status": "publish",
            "description": "",
            "sku": "",
            "global_unique_id": "",
            "regular_price": "",
            "sale_price": "",
            "virtual": False,
            "downloadable": False,
            "tax_status": "taxable",
            "tax_class": "",
            "manage_stock": False,
            "stock_quantity": None,
            "stock_status": "instock",
            "backorders": "no",
            "low_stock_amount": None,
            "weight": "",
            "dimensions": {"length": "", "width": "", "height": ""},
            "shipping_class": "",
            "attributes": [],
            "menu_order": 0,
            "meta_data": [],
            "total_sales": 0,
        }

    def _create_product(self, fields: Mapping[str, Any]) -> Json:
        product_type = fields.get("type", "simple")
        if product_type not in PRODUCT_TYPES:
            product_type = "simple"  # WC_Product_Factory falls back to a simple product
        product = {
            **self._new_item_record(self._now()),
            "name": "",
            "slug": "",
            "type": product_type,
            "featured": False,
            "catalog_visibility": "visible",
            "short_description": "",
            "external_url": "",
            "button_text": "",
            "sold_individually": False,
            "reviews_allowed": True,
            "purchase_note": "",
            "categories": [],
            "tags": [],
            "brands": [],
            "default_attributes": [],
            "upsell_ids": [],
            "cross_sell_ids": [],
            "post_password": "",
            "parent_id": 0,
            "variations": [],
        }
        self.products[product["id"]] = product
        try:
            self._save_product(product, fields, creating=True)
        except WooError:
            del self.products[product["id"]]
            raise
        self._fire("product", "created", product)  # woocommerce_new_product
        return product

    def _save_product(
        self, product: Json, fields: Mapping[str, Any], *, creating: bool = False, syncing: bool = False
    ) -> Json:
        """prepare_object_for_database + save(): apply `fields`, settle stock, bump the date."""
        self._check_sku(product, fields)
        plain = (
            "name",
            "description",
            "short_description",
            "regular_price",
            "sale_price",
            "tax_class",
            "weight",
            "shipping_class",
            "purchase_note",
            "post_password",
            "global_unique_id",
            "external_url",
            "button_text",
        )
        for key in plain:
            if isinstance(fields.get(key), str):
                product[key] = fields[key]
        for key in ("featured", "virtual", "downloadable", "sold_individually", "reviews_allowed"):
            if fields.get(key) is not None:
                product[key] = to_bool(fields[key])
        if fields.get("sku") is not None:
            product["sku"] = str(fields["sku"])
        if fields.get("type") in PRODUCT_TYPES and not creating:
            product["type"] = fields["type"]
        for key, allowed in (
            ("status", PRODUCT_STATUSES),
            ("catalog_visibility", ("visible", "catalog", "search", "hidden")),
            ("tax_status", ("taxable", "shipping", "none")),
        ):
            if fields.get(key) in allowed:
                product[key] = fields[key]
        if fields.get("slug"):
            product["slug"] = self._unique_slug(slugify(str(fields["slug"])), product["id"])
        elif not product["slug"]:
            product["slug"] = self._unique_slug(slugify(product["name"]), product["id"])
        if "categories" in fields:
            product["categories"] = self._assign_terms(self.categories, fields["categories"])
        if "tags" in fields:
            product["tags"] = self._assign_terms(self.tags, fields["tags"])
        if not product["categories"]:
            product["categories"] = [dict(UNCATEGORIZED)]  # WordPress assigns the default category
        if isinstance(fields.get("attributes"), list):
            product["attributes"] = [self._product_attribute(a, n) for n, a in enumerate(fields["attributes"])]
        if isinstance(fields.get("default_attributes"), list):
            product["default_attributes"] = list(fields["default_attributes"])
        for key in ("upsell_ids", "cross_sell_ids"):
            if isinstance(fields.get(key), list):
                product[key] = [int(i) for i in fields[key] if is_integer(i)]
        self._apply_common(product, fields)
        self._settle(product)
        product["date_modified"] = self._now()
        if not creating and not syncing:
            # woocommerce_update_product; a parent re-saved by its variation's save fires nothing
            # (seen on the real store).
            self._fire("product", "updated", product)
        return product

    def _check_sku(self, record: Json, fields: Mapping[str, Any]) -> None:
        sku = fields.get("sku")
        if not sku:
            return
        for other in [*self.products.values(), *self.variations.values()]:
            if other["id"] != record["id"] and other["sku"] == sku:
                raise WooError(
                    "product_invalid_sku",
                    "Invalid or duplicated SKU.",
                    400,
                    resource_id=other["id"],
                    unique_sku=f"{sku}-1",
                )

    def _unique_slug(self, slug: str, own_id: int) -> str:
        taken = {p["slug"] for p in self.products.values() if p["id"] != own_id}
        candidate, n = slug, 2
        while candidate in taken:
            candidate, n = f"{slug}-{n}", n + 1
        return candidate

    @staticmethod
    def _product_attribute(attribute: Any, position: int) -> Json:
        attribute = attribute if isinstance(attribute, dict) else {}
        name = str(attribute.get("name", ""))
        return {
            "id": int(attribute.get("id", 0) or 0),
            "name": name,
            "slug": name,
            "position": int(attribute.get("position", position) or position),
            "visible": to_bool(attribute.get("visible", False)),
            "variation": to_bool(attribute.get("variation", False)),
            "options": [str(o) for o in attribute.get("options", [])],
        }

    def _apply_common(self, record: Json, fields: Mapping[str, Any]) -> None:
        """The stock, price-independent and meta fields products and variations share."""
        if isinstance(fields.get("dimensions"), dict):
            record["dimensions"] = {
                **record["dimensions"],
                **{k: str(v) for k, v in fields["dimensions"].items() if k in record["dimensions"]},
            }
        if fields.get("menu_order") is not None and is_integer(fields["menu_order"]):
            record["menu_order"] = int(float(fields["menu_order"]))
        if "low_stock_amount" in fields:
            value = fields["low_stock_amount"]
            record["low_stock_amount"] = int(float(value)) if is_integer(value) else None
        if fields.get("manage_stock") is not None:
            # wc_string_to_bool: a batch sending "parent" stores false (the variation inherits).
            record["manage_stock"] = to_bool(fields["manage_stock"])
        if fields.get("stock_status") is not None:
            # WC_Product::set_stock_status stores anything unknown as "instock"; single requests
            # never get here with a bad value because the schema rejects it first.
            value = fields["stock_status"]
            record["stock_status"] = value if value in STOCK_STATUSES else "instock"
        if fields.get("backorders") is not None:
            record["backorders"] = str(fields["backorders"])
        if record["manage_stock"] and fields.get("stock_quantity") is not None:
            quantity = fields["stock_quantity"]
            # wc_stock_amount: floor of a number; a null quantity is skipped (isset is false).
            record["stock_quantity"] = math.floor(float(quantity)) if is_integer(quantity) or is_number(quantity) else 0
        if isinstance(fields.get("meta_data"), list):
            self._update_meta(record, fields["meta_data"])

    def _update_meta(self, record: Json, updates: list[Any]) -> None:
        """WC_Data::update_meta_data per item, then save_meta_data (a null value deletes)."""
        rows: list[Json] = record["meta_data"]
        for entry in updates:
            if not isinstance(entry, dict) or "key" not in entry:
                continue
            key, value = str(entry["key"]), _stored_meta_value(entry.get("value"))
            target: Json | None = None
            meta_id = entry.get("id")
            if meta_id:
                target = next((r for r in rows if is_integer(meta_id) and r["id"] == int(float(meta_id))), None)
            else:
                matches = [r for r in rows if r["key"] == key]
                for row in matches:
                    row["value"] = None  # only the first row with the key keeps a value
                target = matches[0] if matches else None
            if target is not None:
                target["key"], target["value"] = key, value
            else:
                rows.append({"id": self._take_meta_id(), "key": key, "value": value})
        record["meta_data"] = [r for r in rows if r["value"] is not None]

    # ---- stock ----------------------------------------------------------------------------------

    def _settle(self, record: Json) -> None:
        """validate_props on save: align stock fields, recompute managed status, sync parents."""
        if record["manage_stock"]:
            record["stock_status"] = _derived_status(record["stock_quantity"], record["backorders"])
        else:
            record["stock_quantity"] = None
            record["backorders"] = "no"
            record["low_stock_amount"] = None
            if record.get("type") == "variable":
                record["stock_status"] = self._status_from_children(record)

    def _status_from_children(self, parent: Json) -> str:
        statuses = [
            self.shown_stock(self.variations[v])["stock_status"]
            for v in parent["variations"]
            if v in self.variations and self.variations[v]["status"] in ("publish", "private")
        ]
        if "instock" in statuses:
            return "instock"
        if "onbackorder" in statuses:
            return "onbackorder"
        return "outofstock"

    def shown_stock(self, record: Json) -> Json:
        """What the API shows for stock (variations inherit from a stock-managing parent)."""
        if record.get("type") == "variation" and not record["manage_stock"]:
            parent = self.products.get(record["parent_id"])
            if parent is not None and parent["manage_stock"]:
                return {
                    "manage_stock": "parent",
                    "stock_quantity": parent["stock_quantity"],
                    "backorders": parent["backorders"],
                    "stock_status": parent["stock_status"],
                }
        return {
            "manage_stock": record["manage_stock"],
            "stock_quantity": record["stock_quantity"],
            "backorders": record["backorders"],
            "stock_status": record["stock_status"],
        }

    def _stock_owner(self, record: Json) -> Json | None:
        """The product or variation whose quantity an order line changes (None if unmanaged)."""
        if record["manage_stock"]:
            return record
        if record.get("type") == "variation":
            parent = self.products.get(record["parent_id"])
            if parent is not None and parent["manage_stock"]:
                return parent
        return None

    def _change_stock(self, record: Json, delta: int) -> str | None:
        """Move the stock `record` draws on; "Name (SKU) 5&rarr;3" for the order note (None if unmanaged)."""
        # wc_update_product_stock re-reads the product and saves it: the date moves and a
        # variation's parent is re-saved, like any other write.
        owner = self._stock_owner(record)
        if owner is None:
            return None
        before = owner["stock_quantity"] or 0
        owner["stock_quantity"] = before + delta
        change = f"{self.formatted_name(record)} {before}&rarr;{before + delta}"
        if owner.get("type") == "variation":
            self._save_variation(owner, {})
        else:
            self._save_product(owner, {})
            for variation_id in owner.get("variations", []):
                if variation_id in self.variations:
                    self.variations[variation_id]["date_modified"] = self._now()
        return change

    def formatted_name(self, record: Json) -> str:
        """WC_Product::get_formatted_name: "Name (SKU)", or "Name (#id)" without a SKU."""
        name = record.get("name", "")
        if record.get("type") == "variation":
            parent = self.products.get(record["parent_id"], {})
            name = self._line_name(record, parent) if parent else name
        return f"{name} ({record['sku'] or '#' + str(record['id'])})"

    # ---- variations -------------------------------------------------------------------------------

    def _create_variation(self, parent: Json, fields: Mapping[str, Any]) -> Json:
        variation = {
            **self._new_item_record(self._now()),
            "type": "variation",
            "parent_id": parent["id"],
            "image": None,
        }
        self.variations[variation["id"]] = variation
        parent["variations"].append(variation["id"])
        try:
            self._save_variation(variation, fields, creating=True)
        except WooError:
            del self.variations[variation["id"]]
            parent["variations"].remove(variation["id"])
            raise
        return variation

    def _save_variation(self, variation: Json, fields: Mapping[str, Any], *, creating: bool = False) -> Json:
        self._check_sku(variation, fields)
        for key in (
            "description",
            "regular_price",
            "sale_price",
            "tax_class",
            "weight",
            "shipping_class",
            "global_unique_id",
        ):
            if isinstance(fields.get(key), str):
                variation[key] = fields[key]
        if fields.get("sku") is not None:
            variation["sku"] = str(fields["sku"])
        for key in ("virtual", "downloadable"):
            if fields.get(key) is not None:
                variation[key] = to_bool(fields[key])
        if fields.get("status") in VARIATION_STATUSES:
            variation["status"] = fields["status"]
        if fields.get("tax_status") in ("taxable", "shipping", "none"):
            variation["tax_status"] = fields["tax_status"]
        if isinstance(fields.get("attributes"), list):
            variation["attributes"] = [
                {
                    "id": int(a.get("id", 0) or 0),
                    "name": str(a.get("name", "")),
                    "slug": slugify(str(a.get("name", ""))),
                    "option": str(a.get("option", "")),
                }
                for a in fields["attributes"]
                if isinstance(a, dict)
            ]
        if "image" in fields:
            variation["image"] = fields["image"] if isinstance(fields["image"], dict) else None
        self._apply_common(variation, fields)
        self._settle(variation)
        variation["date_modified"] = self._now()
        # woocommerce_new_product_variation / woocommerce_update_product_variation: topics
        # product.created and product.updated, with the variation's own id.
        self._fire("product", "created" if creating else "updated", variation)
        # Saving a variation re-saves its parent (WC_Product_Variable::sync): its date moves too.
        parent = self.products.get(variation["parent_id"])
        if parent is not None:
            self._save_product(parent, {}, syncing=True)
        return variation

    # ---- orders -------------------------------------------------------------------------------------

    def _create_order(self, fields: Mapping[str, Any]) -> Json:
        now = self._now()
        order: Json = {
            "id": self._take_post_id(),
            "parent_id": int(fields.get("parent_id", 0) or 0),
            "status": "pending",
            "currency": str(fields.get("currency", "USD")),
            "date_created": now,
            "date_modified": now,
            "date_completed": None,
            "date_paid": None,
            "customer_id": int(fields.get("customer_id", 0) or 0),
            "order_key": "wc_order_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(13)),
            "billing": _address(fields.get("billing"), with_email=True),
            "shipping": _address(fields.get("shipping"), with_email=False),
            "payment_method": str(fields.get("payment_method", "")),
            "payment_method_title": str(fields.get("payment_method_title", "")),
            "transaction_id": str(fields.get("transaction_id", "")),
            "created_via": str(fields.get("created_via") or "rest-api"),
            "customer_note": str(fields.get("customer_note", "")),
            "meta_data": [],
            "line_items": [],
            "stock_reduced": False,
        }
        for line in fields.get("line_items") or []:
            order["line_items"].append(self._line_item(line))
        self.orders[order["id"]] = order
        if isinstance(fields.get("meta_data"), list):
            self._update_meta(order, fields["meta_data"])
        status = fields.get("status", "pending")
        if to_bool(fields.get("set_paid", False)) and status == "pending":
            status = "processing"  # payment_complete() moves a pending order on
        # woocommerce_new_order fires when the row is created, before the status moves stock.
        self._fire("order", "created", order)
        self._set_order_status(order, str(status))
        # The REST controller saves a new order twice (calculate_totals, then save): the second
        # save fires woocommerce_update_order, so order.updated follows order.created.
        self._fire("order", "updated", order)
        return order

    def _line_item(self, line: Any) -> Json:
        if not isinstance(line, dict):
            raise WooError("woocommerce_rest_required_product_reference", "Product ID or SKU is required.", 400)
        record = self._line_product(line)
        quantity = int(float(line.get("quantity", 1) or 1))
        price = (
            price_of(line.get("price"))
            if line.get("price") is not None
            else price_of(record.get("sale_price") or record.get("regular_price"))
        )
        is_variation = record.get("type") == "variation"
        parent = self.products.get(record["parent_id"]) if is_variation else None
        item_id = self._next_item_id
        self._next_item_id += 1
        return {
            "id": item_id,
            "name": self._line_name(record, parent),
            "product_id": parent["id"] if parent else record["id"],
            "variation_id": record["id"] if is_variation else 0,
            "quantity": quantity,
            "tax_class": "",
            "subtotal": money(price * quantity),
            "subtotal_tax": "0.00",
            "total": money(price * quantity),
            "total_tax": "0.00",
            "taxes": [],
            "meta_data": [],
            "sku": record.get("sku", ""),
            "price": _number(price),
            "image": {"id": "", "src": ""},
            "parent_name": parent["name"] if parent else None,
        }

    def _line_product(self, line: Mapping[str, Any]) -> Json:
        variation_id = int(float(line.get("variation_id") or 0)) if is_integer(line.get("variation_id") or 0) else 0
        product_id = int(float(line.get("product_id") or 0)) if is_integer(line.get("product_id") or 0) else 0
        if variation_id:
            record = self.variations.get(variation_id)
        elif product_id:
            record = self.products.get(product_id) or self.variations.get(product_id)
        elif line.get("sku"):
            record = next(
                (r for r in [*self.products.values(), *self.variations.values()] if r["sku"] == line["sku"]), None
            )
        else:
            raise WooError("woocommerce_rest_required_product_reference", "Product ID or SKU is required.", 400)
        if record is None:
            raise WooError("woocommerce_rest_invalid_product_id", "Product ID provided is invalid.", 400)
        return record

    @staticmethod
    def _line_name(record: Json, parent: Json | None) -> str:
        if parent is None:
            return str(record.get("name", ""))
        options = ", ".join(a["option"] for a in record.get("attributes", []))
        return f"{parent['name']} - {options}" if options else parent["name"]

    def _update_order(self, order: Json, fields: Mapping[str, Any]) -> Json:
        for key in ("customer_note", "payment_method", "payment_method_title", "transaction_id"):
            if isinstance(fields.get(key), str):
                order[key] = fields[key]
        for key in ("billing", "shipping"):
            if isinstance(fields.get(key), dict):
                order[key] = {**order[key], **{k: str(v) for k, v in fields[key].items() if k in order[key]}}
        if isinstance(fields.get("meta_data"), list):
            self._update_meta(order, fields["meta_data"])
        for line in fields.get("line_items") or []:
            order["line_items"].append(self._line_item(line))
        status = fields.get("status", order["status"])
        if to_bool(fields.get("set_paid", False)) and status in ("pending", "failed", "on-hold"):
            status = "processing"
        self._set_order_status(order, str(status))
        self._fire("order", "updated", order)  # woocommerce_update_order
        return order

    def _set_order_status(self, order: Json, status: str) -> None:
        previous = order["status"]
        order["status"] = status
        now = self._now()
        if status in PAID_ORDER_STATUSES and order["date_paid"] is None:
            order["date_paid"] = now
        if status == "completed" and order["date_completed"] is None:
            order["date_completed"] = now
        if status in STOCK_REDUCING_ORDER_STATUSES and not order["stock_reduced"]:
            self._reduce_stock(order, now)
        elif status in STOCK_RESTORING_ORDER_STATUSES and order["stock_reduced"]:
            self._restore_stock(order, now)
        if status != previous:
            # WC_Order::status_transition notes the change after the status hooks moved stock.
            self._system_note(
                order,
                f"Order status changed from {ORDER_STATUS_LABELS.get(previous, previous)}"
                f" to {ORDER_STATUS_LABELS.get(status, status)}.",
                now,
            )
        order["date_modified"] = now

    def _system_note(self, order: Json, text: str, when: datetime) -> None:
        # The notes of one status change share its moment: the store lists them in the order added.
        self._add_note(order, {"note": text}, when)

    def _reduce_stock(self, order: Json, when: datetime) -> None:
        """wc_reduce_stock_levels: no stock check (REST orders may push stock below zero)."""
        changes: list[str] = []
        for line in order["line_items"]:
            record = (
                self.variations.get(line["variation_id"])
                if line["variation_id"]
                else self.products.get(line["product_id"])
            )
            if record is None or self._stock_owner(record) is None:
                continue
            if any(m["key"] == "_reduced_stock" for m in line["meta_data"]):
                continue
            change = self._change_stock(record, -line["quantity"])
            if change is not None:
                changes.append(change)
            line["meta_data"].append(_item_meta(self._take_item_meta_id(), "_reduced_stock", str(line["quantity"])))
        order["stock_reduced"] = True
        if changes:
            self._system_note(order, "Stock levels reduced: " + ", ".join(changes), when)

    def _restore_stock(self, order: Json, when: datetime) -> None:
        """wc_increase_stock_levels: give back exactly what `_reduced_stock` recorded."""
        changes: list[str] = []
        for line in order["line_items"]:
            reduced = next((m for m in line["meta_data"] if m["key"] == "_reduced_stock"), None)
            if reduced is None:
                continue
            record = (
                self.variations.get(line["variation_id"])
                if line["variation_id"]
                else self.products.get(line["product_id"])
            )
            if record is not None:
                change = self._change_stock(record, int(reduced["value"]))
                if change is not None:
                    changes.append(change)
            line["meta_data"].remove(reduced)
        order["stock_reduced"] = False
        if changes:
            self._system_note(order, "Stock levels increased: " + ", ".join(changes), when)

    def _order_for_note(self, order_id: int) -> Json:
        if order_id not in self.orders:
            raise WooError("woocommerce_rest_order_invalid_id", "Invalid order ID.", 404)
        return self.orders[order_id]

    def _add_note(self, order: Json, params: Mapping[str, Any], when: datetime | None = None) -> Json:
        """wc_create_order_note from already validated `note`, `customer_note`, `added_by_user`."""
        text = str(params["note"])
        if not text:
            raise WooError("woocommerce_rest_invalid_order_note", "Cannot create order note, please try again.", 500)
        note = {
            "id": self._take_note_id(),
            "note": text,
            "customer_note": to_bool(params.get("customer_note", False)),
            "added_by_user": to_bool(params.get("added_by_user", False)),
            "date_created": when or self._now(),
        }
        self.notes.setdefault(order["id"], []).append(note)
        return note

    def _take_item_meta_id(self) -> int:
        self._next_item_meta_id += 1
        return self._next_item_meta_id - 1


def _stored_meta_value(value: Any) -> Any:
    """What a meta value reads back as: post meta keeps scalars as strings, arrays as they were."""
    if value is None or isinstance(value, (dict, list, str)):
        return value
    if isinstance(value, bool):
        return "1" if value else ""  # PHP's (string) true / false
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _derived_status(quantity: int | None, backorders: str) -> str:
    """Managed stock: quantity > 0 → instock; else backorders allowed → onbackorder; else out."""
    if (quantity or 0) > 0:
        return "instock"
    return "onbackorder" if backorders != "no" else "outofstock"


def _address(given: Any, *, with_email: bool) -> Json:
    keys = ["first_name", "last_name", "company", "address_1", "address_2", "city", "state", "postcode", "country"]
    keys += ["email", "phone"] if with_email else ["phone"]
    given = given if isinstance(given, dict) else {}
    return {k: str(given.get(k, "")) for k in keys}


def _item_meta(meta_id: int, key: str, value: str) -> Json:
    return {"id": meta_id, "key": key, "value": value, "display_key": key, "display_value": value}


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug or "product"


def money(value: float) -> str:
    return f"{value:.2f}"


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def price_of(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0
