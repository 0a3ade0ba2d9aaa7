"""Listing routes as WC_REST_CRUD_Controller::get_items answers them: filter, order, page.

Which records a list request selects (status, SKU, stock status, terms, include/exclude, parent,
the exclusive after/before dates in the store's or GMT time), in which order (date and modified
tie-break on id so pages stay stable), and the page itself with `X-WP-Total`, `X-WP-TotalPages`
and `Link` headers that repeat the query without credentials.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx

from .auth import CREDENTIAL_PARAMS
from .errors import Json
from .params import is_integer, parse_query_date, to_bool, wp_parse_list
from .render import json_response
from .store import Store, price_of

__all__ = ["collection", "order_matches", "ordered", "product_matches", "variation_matches"]

HIDDEN_FROM_ANY = frozenset({"trash", "auto-draft", "checkout-draft"})


def product_matches(store: Store, product: Json, params: Mapping[str, Any]) -> bool:
    status = params.get("status", "any")
    if status == "any" and product["status"] in HIDDEN_FROM_ANY:
        return False
    if status != "any" and product["status"] != status:
        return False
    if "type" in params and product["type"] != params["type"]:
        return False
    if params.get("sku") and product["sku"] not in [s.strip() for s in str(params["sku"]).split(",")]:
        return False
    if "stock_status" in params and store.shown_stock(product)["stock_status"] != params["stock_status"]:
        return False
    if params.get("tag") and not {str(t) for t in wp_parse_list(params["tag"])} & {
        str(t["id"]) for t in product["tags"]
    }:
        return False
    if params.get("category") and not {str(c) for c in wp_parse_list(params["category"])} & {
        str(c["id"]) for c in product["categories"]
    }:
        return False
    if params.get("search") and str(params["search"]).lower() not in product["name"].lower():
        return False
    return _common_filters(store, product, params)


def variation_matches(store: Store, variation: Json, params: Mapping[str, Any]) -> bool:
    status = params.get("status", "any")
    if status != "any" and variation["status"] != status:
        return False
    if params.get("sku") and variation["sku"] not in [s.strip() for s in str(params["sku"]).split(",")]:
        return False
    if "stock_status" in params and store.shown_stock(variation)["stock_status"] != params["stock_status"]:
        return False
    return _common_filters(store, variation, params)


def order_matches(store: Store, order: Json, statuses: set[str], params: Mapping[str, Any]) -> bool:
    if "any" in statuses:
        if order["status"] in HIDDEN_FROM_ANY:
            return False
    elif order["status"] not in statuses:
        return False
    if params.get("customer") is not None and order["customer_id"] != int(params["customer"]):
        return False
    if params.get("product") is not None and int(params["product"]) not in {
        li["product_id"] for li in order["line_items"]
    }:
        return False
    return _common_filters(store, order, params)


def _common_filters(store: Store, record: Json, params: Mapping[str, Any]) -> bool:
    include = {int(i) for i in wp_parse_list(params.get("include", [])) if is_integer(i)}
    exclude = {int(i) for i in wp_parse_list(params.get("exclude", [])) if is_integer(i)}
    if include and record["id"] not in include:
        return False
    if record["id"] in exclude:
        return False
    parents = {int(i) for i in wp_parse_list(params.get("parent", [])) if is_integer(i)}
    if parents and record.get("parent_id", 0) not in parents:
        return False
    return _date_filters(store, record, params)


def _date_filters(store: Store, record: Json, params: Mapping[str, Any]) -> bool:
    use_gmt = to_bool(params.get("dates_are_gmt", False))

    def column(field: str) -> datetime:
        moment: datetime = record[field]
        zone = UTC if use_gmt else store.timezone
        return moment.astimezone(zone).replace(tzinfo=None, microsecond=0)

    # WP_Date_Query's after/before are exclusive.
    bounds: tuple[tuple[str, str, Callable[[datetime, datetime], bool]], ...] = (
        ("after", "date_created", operator.gt),
        ("before", "date_created", operator.lt),
        ("modified_after", "date_modified", operator.gt),
        ("modified_before", "date_modified", operator.lt),
    )
    for param, field, keep in bounds:
        if params.get(param) and not keep(column(field), parse_query_date(str(params[param]))):
            return False
    return True


def collection(
    records: list[Json],
    params: Mapping[str, Any],
    query: Mapping[str, Any],
    link_base: str,
    render: Callable[[Json], Json],
) -> httpx.Response:
    """One page of `records` as the answer to a list request (`query`: its query string, parsed)."""
    per_page = int(float(params.get("per_page", 10)))
    page = int(float(params.get("page", 1)))
    selected = ordered(records, params)
    total = len(selected)
    pages = math.ceil(total / per_page) if total else 0
    start = int(float(params["offset"])) if params.get("offset") is not None else (page - 1) * per_page
    # Past the last page WooCommerce answers 200 with [] and the real totals (it re-counts
    # without LIMIT); the prev link then points at the last page.
    body = [render(r) for r in selected[start : start + per_page]]
    headers = [("X-WP-Total", str(total)), ("X-WP-TotalPages", str(pages))]
    # WordPress repeats every query parameter in these links; credentials are left out here
    # so that a secret sent in the query string is never echoed back.
    shown = {k: v for k, v in query.items() if k not in CREDENTIAL_PARAMS and not k.startswith("oauth_")}
    if page > 1:
        headers.append(("Link", f'<{_page_link(link_base, shown, min(page - 1, max(pages, 1)))}>; rel="prev"'))
    if pages > page:
        headers.append(("Link", f'<{_page_link(link_base, shown, page + 1)}>; rel="next"'))
    return json_response(200, body, headers)


def _page_link(base: str, query: Mapping[str, Any], page: int) -> str:
    flat = {k: (",".join(map(str, v)) if isinstance(v, list) else v) for k, v in query.items() if k != "page"}
    flat["page"] = page
    return f"{base}?{urlencode(flat)}"


def ordered(records: list[Json], params: Mapping[str, Any]) -> list[Json]:
    orderby = params.get("orderby", "date")
    descending = params.get("order", "desc") == "desc"
    if orderby in ("include", "post__in") and params.get("include"):
        position = {int(i): n for n, i in enumerate(wp_parse_list(params["include"])) if is_integer(i)}
        return sorted(records, key=lambda r: position.get(r["id"], 0))
    keys: dict[str, Callable[[Json], Any]] = {
        "id": lambda r: r["id"],
        # WooCommerce adds ID to date/modified ordering so pages stay stable.
        "date": lambda r: (r["date_created"].replace(microsecond=0), r["id"]),
        "modified": lambda r: (r["date_modified"].replace(microsecond=0), r["id"]),
        "title": lambda r: (str(r.get("name", "")).lower(), r["id"]),
        "slug": lambda r: (str(r.get("slug", "")), r["id"]),
        "menu_order": lambda r: (r.get("menu_order", 0), r["id"]),
        "price": lambda r: (price_of(r.get("regular_price")), r["id"]),
    }
    return sorted(records, key=keys.get(str(orderby), keys["date"]), reverse=descending)
