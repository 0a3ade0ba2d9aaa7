"""Listing routes as WC_REST_CRUD_Controller::get_items answers them: filter, order, page.

Which records a list request selects (status, SKU, stock status, terms, include/exclude, parent,
the exclusive after/before dates in the store's or GMT time), in which order, and the page itself
with `X-WP-Total`, `X-WP-TotalPages` and one `Link` header that repeats the query without
credentials.

Order: products by `date` or `modified` are sorted by the second alone, with MariaDB's unstable
filesort (`filesort`), so products sharing a second move between pages exactly as on WooCommerce
10; variations and orders tie-break on id (`post_date DESC, ID DESC`), and `id`, `title`, `slug`,
`menu_order`, `price` and `include` are stable.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import urlencode

import httpx

from . import filesort
from .auth import CREDENTIAL_PARAMS
from .errors import Json
from .params import is_integer, parse_query_date, to_bool, wp_parse_list
from .render import json_response
from .store import Store, price_of

__all__ = [
    "Filter",
    "Paging",
    "collection",
    "order_filter",
    "ordered",
    "product_filter",
    "variation_filter",
    "variation_in_products_filter",
]

HIDDEN_FROM_ANY = frozenset({"trash", "auto-draft", "checkout-draft"})


@functools.lru_cache(maxsize=64)
def skus(value: str) -> frozenset[str]:
    """The SKUs a `sku=A,B,…` parameter asks for (parsed once a request, not once a record)."""
    return frozenset(s.strip() for s in value.split(","))


Filter = Callable[[Json], bool]
"""Whether one record is selected: built once a request from its parameters (a catalogue of
100,000 products is filtered for every page, so nothing is parsed again per record)."""


def _all(checks: list[Filter]) -> Filter:
    if len(checks) == 1:
        return checks[0]
    first, rest = checks[0], _all(checks[1:])
    return lambda record: first(record) and rest(record)


def _status_check(params: Mapping[str, Any]) -> Filter:
    status = params.get("status", "any")
    if status == "any":
        return lambda record: record["status"] not in HIDDEN_FROM_ANY
    return lambda record: record["status"] == status


def product_filter(store: Store, params: Mapping[str, Any]) -> Filter:
    """Which products a products listing selects."""
    checks = [_status_check(params)]
    if "type" in params:
        kind = params["type"]
        checks.append(lambda product: product["type"] == kind)
    checks += _sku_and_stock(store, params)
    for param, terms in (("tag", "tags"), ("category", "categories")):
        if params.get(param):
            wanted = {str(t) for t in wp_parse_list(params[param])}
            checks.append(_has_term(terms, wanted))
    if params.get("search"):
        needle = str(params["search"]).lower()
        checks.append(lambda product: needle in product["name"].lower())
    return _all(checks + _common_checks(store, params))


def _has_term(terms: str, wanted: set[str]) -> Filter:
    return lambda product: bool(wanted & {str(t["id"]) for t in product[terms]})


def variation_filter(store: Store, params: Mapping[str, Any]) -> Filter:
    """Which variations a product's variations listing selects (those of a trashed product are
    trashed with it)."""
    return _all([_status_check(params), *_sku_and_stock(store, params), *_common_checks(store, params)])


def variation_in_products_filter(store: Store, params: Mapping[str, Any]) -> Filter:
    """Which variations `products?sku=…` selects: the products query's status and SKU filters apply."""
    return _all([_status_check(params), variation_filter(store, {**params, "status": "any"})])


def _sku_and_stock(store: Store, params: Mapping[str, Any]) -> list[Filter]:
    checks: list[Filter] = []
    if params.get("sku"):
        wanted = skus(str(params["sku"]))
        checks.append(lambda record: record["sku"] in wanted)
    if "stock_status" in params:
        shown = params["stock_status"]
        checks.append(lambda record: store.shown_stock(record)["stock_status"] == shown)
    return checks


def order_filter(store: Store, statuses: set[str], params: Mapping[str, Any]) -> Filter:
    """Which orders an orders listing selects."""
    checks: list[Filter] = []
    if "any" in statuses:
        checks.append(lambda order: order["status"] not in HIDDEN_FROM_ANY)
    else:
        checks.append(lambda order: order["status"] in statuses)
    if params.get("customer") is not None:
        customer = int(params["customer"])
        checks.append(lambda order: order["customer_id"] == customer)
    if params.get("product") is not None:
        product = int(params["product"])
        checks.append(lambda order: product in {li["product_id"] for li in order["line_items"]})
    return _all(checks + _common_checks(store, params))


def _ids(params: Mapping[str, Any], name: str) -> set[int]:
    return {int(i) for i in wp_parse_list(params.get(name, [])) if is_integer(i)}


def _common_checks(store: Store, params: Mapping[str, Any]) -> list[Filter]:
    checks: list[Filter] = []
    include, exclude, parents = _ids(params, "include"), _ids(params, "exclude"), _ids(params, "parent")
    if include:
        checks.append(lambda record: record["id"] in include)
    if exclude:
        checks.append(lambda record: record["id"] not in exclude)
    if parents:
        checks.append(lambda record: record.get("parent_id", 0) in parents)
    zone = UTC if to_bool(params.get("dates_are_gmt", False)) else store.timezone

    def column(record: Json, field: str) -> datetime:
        moment: datetime = record[field]
        return moment.astimezone(zone).replace(tzinfo=None, microsecond=0)

    # WP_Date_Query's after/before are exclusive.
    bounds: tuple[tuple[str, str, Callable[[datetime, datetime], bool]], ...] = (
        ("after", "date_created", operator.gt),
        ("before", "date_created", operator.lt),
        ("modified_after", "date_modified", operator.gt),
        ("modified_before", "date_modified", operator.lt),
    )

    def within(field: str, keep: Callable[[datetime, datetime], bool], limit: datetime) -> Filter:
        return lambda record: keep(column(record, field), limit)

    for param, field, keep in bounds:
        if params.get(param):
            checks.append(within(field, keep, parse_query_date(str(params[param]))))
    return checks


@dataclass(frozen=True)
class Paging:
    """How a route's records are ordered: products page by the second alone, others tie-break on id."""

    timezone: tzinfo
    unstable_dates: bool = False
    row_estimate: int = filesort.row_estimate(1)
    """InnoDB's row estimate for wp_posts: the filesort keeps a priority queue below a third of it."""


def collection(
    records: list[Json],
    params: Mapping[str, Any],
    query: Mapping[str, Any],
    link_base: str,
    render: Callable[[Json], Any],
    paging: Paging,
) -> httpx.Response:
    """One page of `records` as the answer to a list request (`query`: its query string, parsed)."""
    per_page = int(float(params.get("per_page", 10)))
    page = int(float(params.get("page", 1)))
    total = len(records)
    pages = math.ceil(total / per_page) if total else 0
    start = int(float(params["offset"])) if params.get("offset") is not None else (page - 1) * per_page
    # Past the last page WooCommerce answers 200 with [] and the real totals (it re-counts
    # without LIMIT); the prev link then points at the last page.
    body = [render(r) for r in ordered(records, params, paging, max(start, 0), per_page)]
    headers = [("X-WP-Total", str(total)), ("X-WP-TotalPages", str(pages))]
    # WordPress repeats every query parameter in these links, in the order sent; credentials are
    # left out here so that a secret sent in the query string is never echoed back.
    shown = {k: v for k, v in query.items() if k not in CREDENTIAL_PARAMS and not k.startswith("oauth_")}
    links = []
    if page > 1:
        links.append(f'<{_page_link(link_base, shown, min(page - 1, max(pages, 1)))}>; rel="prev"')
    if pages > page:
        links.append(f'<{_page_link(link_base, shown, page + 1)}>; rel="next"')
    if links:
        # WP_REST_Response::link_header appends to one header, comma-separated.
        headers.append(("Link", ", ".join(links)))
    return json_response(200, body, headers)


def _page_link(base: str, query: Mapping[str, Any], page: int) -> str:
    # add_query_arg keeps the parameters where they were and replaces `page` in place.
    flat = {k: (",".join(map(str, v)) if isinstance(v, list) else v) for k, v in query.items()}
    flat["page"] = page
    return f"{base}?{urlencode(flat)}"


def _local_second(moment: datetime, zone: tzinfo) -> int:
    """post_date / post_modified: the store's wall-clock time to the second, as a number."""
    wall = moment.astimezone(zone).replace(tzinfo=None, microsecond=0)
    return int((wall - datetime(1970, 1, 1)).total_seconds())


def ordered(records: list[Json], params: Mapping[str, Any], paging: Paging, offset: int, count: int) -> list[Json]:
    """The `count` records from `offset` in the order the request asks for, as the store pages them."""
    orderby = str(params.get("orderby", "date"))
    descending = params.get("order", "desc") == "desc"
    if orderby in ("include", "post__in") and params.get("include"):
        position = {int(i): n for n, i in enumerate(wp_parse_list(params["include"])) if is_integer(i)}
        return sorted(records, key=lambda r: position.get(r["id"], 0))[offset : offset + count]
    if paging.unstable_dates and orderby in ("date", "modified"):
        return _by_date_alone(records, orderby, descending, paging, offset, count)
    keys: dict[str, Callable[[Json], Any]] = {
        "id": lambda r: r["id"],
        "date": lambda r: (r["date_created"].replace(microsecond=0), r["id"]),
        "modified": lambda r: (r["date_modified"].replace(microsecond=0), r["id"]),
        "title": lambda r: (str(r.get("name", "")).lower(), r["id"]),
        "slug": lambda r: (str(r.get("slug", "")), r["id"]),
        "menu_order": lambda r: (r.get("menu_order", 0), r["id"]),
        "price": lambda r: (price_of(r.get("regular_price")), r["id"]),
    }
    return sorted(records, key=keys.get(orderby, keys["date"]), reverse=descending)[offset : offset + count]


def _by_date_alone(
    records: list[Json], orderby: str, descending: bool, paging: Paging, offset: int, count: int
) -> list[Json]:
    """`ORDER BY post_date DESC LIMIT offset, count` with no tie-break, as MariaDB answers it.

    By date MariaDB reads the `type_status_date` index (post type, status, date, id); by modified
    date it scans the table in id order (both seen with EXPLAIN on the real store).
    """
    field = "date_created" if orderby == "date" else "date_modified"
    sign = -1 if descending else 1

    def second(record: Json) -> int:
        return _local_second(record[field], paging.timezone)

    if orderby == "date":
        scan = sorted(records, key=lambda r: (r.get("type") == "variation", r["status"], second(r), r["id"]))
    else:
        scan = sorted(records, key=lambda r: r["id"])
    return filesort.limit(scan, lambda r: sign * second(r), offset, count, estimate=paging.row_estimate)
