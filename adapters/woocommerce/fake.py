"""An in-process WooCommerce (REST v3, WooCommerce 10) that behaves like a real store.

The fake answers `httpx.Request`s the way WordPress + WooCommerce do, so the adapter, the demo and
the tests talk to it through an ordinary `httpx.AsyncClient` (see `FakeWooCommerce.transport`).
It was built from payloads and schemas recorded on a live WooCommerce 10.0.2 store and from
WooCommerce's own REST controllers; where the real store does something surprising the fake does
it too, and a comment says so:

- managed stock: `stock_status` is recomputed on every save from `stock_quantity` and `backorders`;
  unmanaged items forget their quantity and get `backorders: "no"` (WC_Product::validate_props);
- variations whose parent manages stock report `manage_stock: "parent"` and the parent's stock;
- a variable parent that does not manage stock takes its status from its variations;
- every write bumps `date_modified`, and writing a variation re-saves its parent;
- batches are not validated per field (a bad `stock_status` is stored as "instock"), answer 200
  with per-item errors, and refuse more than 100 items with 413;
- over plain http only OAuth 1.0a one-legged signatures authenticate; over https Basic does;
- orders created over REST skip the stock check and carry `_reduced_stock` line-item meta but no
  `Backordered` meta.

Nothing here reads files: the store lives in memory behind one lock, so the sandbox's HTTP
threads can share it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import operator
import re
import secrets
import string
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from functools import partial
from typing import Any
from urllib.parse import quote, unquote, unquote_plus, urlencode, urlsplit

import httpx

__all__ = ["FakeWooCommerce", "Fault", "WooError", "sign_oauth1"]

NAMESPACE = "wc/v3"
API_ROOT = "/wp-json/wc/v3"
BATCH_LIMIT = 100
"""woocommerce_rest_batch_items_limit's default."""
MAX_PER_PAGE = 100
OAUTH_WINDOW_SECONDS = 15 * 60
"""WC_REST_Authentication::check_oauth_timestamp_and_nonce: timestamps and nonces live 15 minutes."""
WC_VERSION = "10.0.2"

STOCK_STATUSES = ("instock", "outofstock", "onbackorder")
BACKORDERS = ("no", "notify", "yes")
PRODUCT_TYPES = ("simple", "grouped", "external", "variable")
PRODUCT_STATUSES = ("draft", "pending", "private", "publish", "future", "auto-draft", "trash")
VARIATION_STATUSES = ("draft", "pending", "private", "publish")
ORDER_STATUSES = (
    "auto-draft",
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "checkout-draft",
)
ORDER_LIST_STATUSES = ("any", "trash", *ORDER_STATUSES)
PRODUCT_LIST_STATUSES = ("any", "future", "trash", "draft", "pending", "private", "publish")
STOCK_REDUCING_ORDER_STATUSES = frozenset({"processing", "on-hold", "completed"})
# WooCommerce hooks wc_maybe_increase_stock_levels on cancelled and pending; a full refund
# restocks too. An order moved there gets its reduced units back, once.
STOCK_RESTORING_ORDER_STATUSES = frozenset({"cancelled", "pending", "refunded"})
PAID_ORDER_STATUSES = frozenset({"processing", "completed"})
HIDDEN_FROM_ANY = frozenset({"trash", "auto-draft", "checkout-draft"})

UNCATEGORIZED_ID = 15
UNCATEGORIZED: dict[str, Any] = {"id": UNCATEGORIZED_ID, "name": "Uncategorized", "slug": "uncategorized"}
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}(?::\d{2})?)?$")
CREDENTIAL_PARAMS = frozenset({"consumer_key", "consumer_secret"})

Now = Callable[[], datetime]
Json = dict[str, Any]


class WooError(Exception):
    """A WP_Error: becomes `{"code", "message", "data": {"status", ...}}` with that HTTP status."""

    def __init__(self, code: str, message: str, status: int, **data: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.data = data

    def body(self) -> Json:
        return {"code": self.code, "message": self.message, "data": {"status": self.status, **self.data}}

    def batch_entry(self, item_id: Any) -> Json:
        return {"id": item_id, "error": self.body()}


@dataclass
class Fault:
    """An injected failure: the next `times` matching requests get this answer instead."""

    status: int
    times: int
    path_contains: str | None = None
    body: Mapping[str, Any] | None = None
    headers: Mapping[str, str] | None = None

    def matches(self, path: str) -> bool:
        return self.times > 0 and (self.path_contains is None or self.path_contains in path)


# --------------------------------------------------------------------------------------------
# WordPress argument validation (rest_validate_value_from_schema), for the args we use.


@dataclass(frozen=True)
class Arg:
    type: str | tuple[str, ...]
    enum: tuple[str, ...] | None = None
    minimum: int | None = None
    maximum: int | None = None
    items_enum: tuple[str, ...] | None = None
    date: bool = False
    required: bool = False


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return value.is_integer()
    if isinstance(value, str):
        try:
            return float(value).is_integer()
        except ValueError:
            return False
    return False


def _is_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, str):
        return value.lower() in ("true", "false", "1", "0")
    if isinstance(value, int):
        return value in (0, 1)
    return False


def to_bool(value: Any) -> bool:
    """rest_sanitize_boolean / wc_string_to_bool."""
    if isinstance(value, str):
        return value.lower() in ("true", "1", "yes")
    return bool(value)


def wp_parse_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return list(value.values())
    return [part for part in re.split(r"[\s,]+", str(value)) if part]


def _english_list(values: Iterable[str]) -> str:
    """wp_sprintf_l: "a, b, and c"."""
    items = list(values)
    if len(items) <= 1:
        return "".join(items)
    if len(items) == 2:
        return f"{items[0]} and {items[1]}"
    return ", ".join(items[:-1]) + ", and " + items[-1]


def _check_arg(name: str, value: Any, arg: Arg) -> tuple[str, str] | None:
    """(code, message) when `value` breaks the arg's schema, like WordPress words it."""
    types = (arg.type,) if isinstance(arg.type, str) else arg.type
    if value is None and "null" in types:
        return None
    checks: dict[str, Callable[[Any], bool]] = {
        "integer": _is_integer,
        "boolean": _is_boolean,
        "string": lambda v: isinstance(v, str),
        "array": lambda v: isinstance(v, (list, dict, str)),
        "object": lambda v: isinstance(v, dict),
        "null": lambda v: v is None,
    }
    if not any(checks[t](value) for t in types):
        return "rest_invalid_type", f"{name} is not of type {','.join(types)}."
    if "array" in types and arg.items_enum is not None:
        for item in wp_parse_list(value):
            if item not in arg.items_enum:
                return "rest_not_in_enum", f"{name}[0] is not one of {_english_list(arg.items_enum)}."
    if arg.enum is not None and value not in arg.enum:
        return "rest_not_in_enum", f"{name} is not one of {_english_list(arg.enum)}."
    if "integer" in types and value is not None:
        number = int(float(value))
        if arg.minimum is not None and arg.maximum is not None and not arg.minimum <= number <= arg.maximum:
            return (
                "rest_out_of_bounds",
                f"{name} must be between {arg.minimum} (inclusive) and {arg.maximum} (inclusive)",
            )
        if arg.minimum is not None and number < arg.minimum:
            return "rest_out_of_bounds", f"{name} must be greater than or equal to {arg.minimum}"
    if arg.date and not DATE_RE.match(str(value)):
        return "rest_invalid_date", "Invalid date."
    return None


def validate_args(params: Mapping[str, Any], args: Mapping[str, Arg]) -> None:
    """WP_REST_Request::has_valid_params: one 400 naming every bad parameter; nulls are skipped."""
    missing = [name for name, arg in args.items() if arg.required and params.get(name) is None]
    if missing:
        raise WooError(
            "rest_missing_callback_param",
            f"Missing parameter(s): {', '.join(missing)}",
            400,
            params=missing,
        )
    invalid: dict[str, str] = {}
    details: dict[str, Json] = {}
    for name, arg in args.items():
        value = params.get(name)
        if value is None:
            continue
        problem = _check_arg(name, value, arg)
        if problem:
            code, message = problem
            invalid[name] = message
            details[name] = {"code": code, "message": message, "data": None}
    if invalid:
        raise WooError(
            "rest_invalid_param",
            f"Invalid parameter(s): {', '.join(invalid)}",
            400,
            params=invalid,
            details=details,
        )


def _list_args(orderby: tuple[str, ...], status: Arg) -> dict[str, Arg]:
    return {
        "context": Arg("string", enum=("view", "edit")),
        "page": Arg("integer", minimum=1),
        "per_page": Arg("integer", minimum=1, maximum=MAX_PER_PAGE),
        "search": Arg("string"),
        "after": Arg("string", date=True),
        "before": Arg("string", date=True),
        "modified_after": Arg("string", date=True),
        "modified_before": Arg("string", date=True),
        "dates_are_gmt": Arg("boolean"),
        "exclude": Arg("array"),
        "include": Arg("array"),
        "offset": Arg("integer"),
        "order": Arg("string", enum=("asc", "desc")),
        "orderby": Arg("string", enum=orderby),
        "parent": Arg("array"),
        "status": status,
    }


PRODUCT_LIST_ARGS = {
    **_list_args(
        (
            "date",
            "id",
            "include",
            "title",
            "slug",
            "modified",
            "popularity",
            "rating",
            "post__in",
            "price",
            "sales",
            "menu_order",
            "random",
        ),
        Arg("string", enum=PRODUCT_LIST_STATUSES),
    ),
    "type": Arg("string", enum=PRODUCT_TYPES),
    "sku": Arg("string"),
    "stock_status": Arg("string", enum=STOCK_STATUSES),
    "category": Arg("string"),
    "tag": Arg("string"),
}
VARIATION_LIST_ARGS = {
    **_list_args(
        ("date", "id", "include", "title", "slug", "modified", "menu_order"),
        Arg("string", enum=PRODUCT_LIST_STATUSES),
    ),
    "sku": Arg("string"),
    "stock_status": Arg("string", enum=STOCK_STATUSES),
}
ORDER_LIST_ARGS = {
    **_list_args(
        ("date", "id", "include", "title", "slug", "modified"),
        Arg("array", items_enum=ORDER_LIST_STATUSES),
    ),
    "customer": Arg("integer"),
    "product": Arg("integer"),
}
_ITEM_WRITE_ARGS = {
    "sku": Arg("string"),
    "global_unique_id": Arg("string"),
    "regular_price": Arg("string"),
    "sale_price": Arg("string"),
    "virtual": Arg("boolean"),
    "downloadable": Arg("boolean"),
    "tax_status": Arg("string", enum=("taxable", "shipping", "none")),
    "tax_class": Arg("string"),
    "manage_stock": Arg("boolean"),
    "stock_quantity": Arg("integer"),
    "stock_status": Arg("string", enum=STOCK_STATUSES),
    "backorders": Arg("string", enum=BACKORDERS),
    "low_stock_amount": Arg(("integer", "null")),
    "weight": Arg("string"),
    "dimensions": Arg("object"),
    "shipping_class": Arg("string"),
    "attributes": Arg("array"),
    "menu_order": Arg("integer"),
    "meta_data": Arg("array"),
}
PRODUCT_WRITE_ARGS = {
    "name": Arg("string"),
    "slug": Arg("string"),
    "type": Arg("string", enum=PRODUCT_TYPES),
    "status": Arg("string", enum=PRODUCT_STATUSES),
    "featured": Arg("boolean"),
    "catalog_visibility": Arg("string", enum=("visible", "catalog", "search", "hidden")),
    "description": Arg("string"),
    "short_description": Arg("string"),
    **_ITEM_WRITE_ARGS,
    "sold_individually": Arg("boolean"),
    "reviews_allowed": Arg("boolean"),
    "purchase_note": Arg("string"),
    "categories": Arg("array"),
    "tags": Arg("array"),
    "images": Arg("array"),
    "default_attributes": Arg("array"),
}
VARIATION_WRITE_ARGS = {
    "description": Arg("string"),
    "status": Arg("string", enum=VARIATION_STATUSES),
    **_ITEM_WRITE_ARGS,
    "image": Arg(("object", "null")),
}
ORDER_WRITE_ARGS = {
    "parent_id": Arg("integer"),
    "status": Arg("string", enum=ORDER_STATUSES),
    "currency": Arg("string"),
    "customer_id": Arg("integer"),
    "customer_note": Arg("string"),
    "billing": Arg("object"),
    "shipping": Arg("object"),
    "payment_method": Arg("string"),
    "payment_method_title": Arg("string"),
    "transaction_id": Arg("string"),
    "meta_data": Arg("array"),
    "line_items": Arg("array"),
    "set_paid": Arg("boolean"),
}
TERM_LIST_ARGS = {
    "context": Arg("string", enum=("view", "edit")),
    "page": Arg("integer", minimum=1),
    "per_page": Arg("integer", minimum=1, maximum=MAX_PER_PAGE),
    "search": Arg("string"),
    "exclude": Arg("array"),
    "include": Arg("array"),
    "order": Arg("string", enum=("asc", "desc")),
    "orderby": Arg("string", enum=("id", "include", "name", "slug", "term_group", "description", "count")),
    "hide_empty": Arg("boolean"),
    "product": Arg("integer"),
    "slug": Arg("string"),
}
TERM_WRITE_ARGS = {
    "name": Arg("string"),
    "slug": Arg("string"),
    "description": Arg("string"),
}
NOTE_WRITE_ARGS = {
    "note": Arg("string", required=True),
    "customer_note": Arg("boolean"),
    "added_by_user": Arg("boolean"),
}


# --------------------------------------------------------------------------------------------
# PHP's view of a request: $_GET / $_POST parsing and OAuth 1.0a as WC_REST_Authentication does it.

PhpValue = str | dict[str, "PhpValue"]


def php_parse_str(query: str) -> dict[str, PhpValue]:
    """PHP's parse_str: "+" is a space, `a[]=1&a[x]=2` nest, dots and spaces in names become "_"."""
    result: dict[str, PhpValue] = {}
    for pair in query.split("&"):
        if not pair:
            continue
        raw_name, _, raw_value = pair.partition("=")
        name, value = unquote_plus(raw_name), unquote_plus(raw_value)
        match = re.match(r"^([^\[]+)((?:\[[^\]]*\])*)$", name)
        if not match:
            continue
        base = re.sub(r"[. ]", "_", match.group(1))
        subkeys = re.findall(r"\[([^\]]*)\]", match.group(2))
        _php_assign(result, [base, *subkeys], value)
    return result


def _php_assign(target: dict[str, PhpValue], keys: list[str], value: str) -> None:
    key = keys[0]
    if key == "":
        key = str(sum(1 for k in target if k.isdigit()))
    if len(keys) == 1:
        target[key] = value
        return
    child = target.get(key)
    if not isinstance(child, dict):
        child = {}
        target[key] = child
    _php_assign(child, keys[1:], value)


def php_to_json(value: PhpValue) -> Any:
    """A PHP array as the REST API sees it: consecutive integer keys are a list."""
    if isinstance(value, dict):
        if value and list(value) == [str(i) for i in range(len(value))]:
            return [php_to_json(v) for v in value.values()]
        return {k: php_to_json(v) for k, v in value.items()}
    return value


def rfc3986(value: str) -> str:
    """wc_rest_urlencode_rfc3986 (= rawurlencode)."""
    return quote(value, safe="~")


def parse_oauth_header(header: str) -> dict[str, str]:
    """WC_REST_Authentication::parse_header (the OAuth PHP library's regex, urldecode included)."""
    if not header.startswith("OAuth "):
        return {}
    found: dict[str, str] = {}
    for name, _, quoted, bare in re.findall(r'(oauth_[a-z_-]*)=(:?"([^"]*)"|([^,]*))', header):
        found[name] = unquote_plus(quoted if quoted else bare)
    return found


def _join_with_equals_sign(params: Mapping[str, PhpValue], prefix: str = "") -> list[str]:
    pairs: list[str] = []
    for key, value in params.items():
        name = f"{prefix}%5B{key}%5D" if prefix else key
        if isinstance(value, dict):
            pairs.extend(_join_with_equals_sign(value, name))
        else:
            pairs.append(rfc3986(f"{name}={value}"))
    return pairs


def _encode_values(value: PhpValue) -> PhpValue:
    if isinstance(value, dict):
        return {k: _encode_values(v) for k, v in value.items()}
    return rfc3986(value)


def oauth_string_to_sign(method: str, base_url: str, params: Mapping[str, PhpValue]) -> str:
    """check_oauth_signature's base string: sorted by raw name, each pair encoded twice, "%26"-joined.

    `params` are all request parameters as PHP decoded them, without `oauth_signature`.
    """
    ordered = {rfc3986(k): _encode_values(params[k]) for k in sorted(params, key=lambda k: k.encode())}
    return f"{method.upper()}&{rfc3986(base_url)}&{'%26'.join(_join_with_equals_sign(ordered))}"


def sign_oauth1(method: str, base_url: str, params: Mapping[str, PhpValue], secret: str, algorithm: str) -> str:
    """The signature WooCommerce expects (algorithm "HMAC-SHA1" or "HMAC-SHA256")."""
    digest = hashlib.sha1 if algorithm == "HMAC-SHA1" else hashlib.sha256
    text = oauth_string_to_sign(method, base_url, params)
    return base64.b64encode(hmac.new(f"{secret}&".encode(), text.encode(), digest).digest()).decode()


@dataclass
class ApiKey:
    consumer_key: str
    consumer_secret: str
    permissions: str = "read_write"

    def __post_init__(self) -> None:
        # WooCommerce keeps timestamp => nonce (one per second: a quirk we keep).
        self.nonces: dict[int, str] = {}

    def __repr__(self) -> str:
        return f"ApiKey(consumer_key='{self.consumer_key[:7]}…', permissions={self.permissions!r})"


@dataclass
class Parsed:
    """One request as WordPress sees it after routing."""

    method: str
    path: str
    route: str
    query: dict[str, Any]
    body: dict[str, Any]

    @property
    def params(self) -> dict[str, Any]:
        # WP_REST_Request::get_parameter_order: JSON/POST body wins over the query string.
        return {**self.query, **self.body}


# --------------------------------------------------------------------------------------------
# Small helpers on dates and shapes.


def _wp_date(moment: datetime | None, zone: tzinfo) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S")


def _gmt(moment: datetime | None) -> str | None:
    return _wp_date(moment, UTC)


def _parse_query_date(value: str) -> datetime:
    # WP_Date_Query formats the parsed value with 'Y-m-d H:i:s': an offset in the value is not
    # converted, only dropped. The wall-clock time is compared with the chosen column.
    return datetime.fromisoformat(value.replace("Z", "").replace("z", "").replace(" ", "T")[:19])


def _slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug or "product"


def _money(value: float) -> str:
    return f"{value:.2f}"


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _price(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


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


def _random_key(prefix: str) -> str:
    return prefix + secrets.token_hex(20)


def _json_response(status: int, body: Any, headers: Iterable[tuple[str, str]] = ()) -> httpx.Response:
    content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    all_headers = [("Content-Type", "application/json; charset=UTF-8"), *headers]
    return httpx.Response(status, headers=all_headers, content=content)


def _strip_secrets(query: Mapping[str, Any]) -> dict[str, Any]:
    """Query parameters fit to repeat (Link headers, the request log): no secrets or signatures."""
    return {k: ("[redacted]" if k == "consumer_secret" or k == "oauth_signature" else v) for k, v in query.items()}


# --------------------------------------------------------------------------------------------
# The store.


class FakeWooCommerce:
    """A WooCommerce store in memory, answering the REST v3 routes the connector uses.

    Use `transport()` to route an `httpx.AsyncClient` into it, or `sandbox.serve()` to put it on
    a loopback port. Seed it with `create_product`, `create_variation` and `create_order`, which
    run the same code as the REST routes. `requests` records every request handled (method, URL
    path, query without secrets); `fail_next` injects failures (503, 429 with Retry-After, ...).
    """

    def __init__(
        self,
        *,
        base_url: str = "https://woo.test",
        consumer_key: str | None = None,
        consumer_secret: str | None = None,
        now: Now | None = None,
        timezone: tzinfo = UTC,
        auth_clock: Callable[[], float] = time.time,
        key_permissions: str = "read_write",
    ) -> None:
        self.base_url = base_url
        if key_permissions not in ("read", "write", "read_write"):
            raise ValueError(f"key_permissions: one of read, write, read_write (got {key_permissions!r})")
        self._key = ApiKey(consumer_key or _random_key("ck_"), consumer_secret or _random_key("cs_"), key_permissions)
        self._now: Now = now or (lambda: datetime.now(UTC))
        self.timezone = timezone
        # OAuth timestamps are compared with the wall clock even when tests pin `now`: clients
        # sign with their own real time.
        self._auth_clock = auth_clock
        self._lock = threading.RLock()
        self.products: dict[int, Json] = {}
        self.variations: dict[int, Json] = {}
        self.orders: dict[int, Json] = {}
        self.notes: dict[int, list[Json]] = {}
        self.tags: dict[int, Json] = {}
        self.categories: dict[int, Json] = {UNCATEGORIZED_ID: dict(UNCATEGORIZED)}
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self._faults: list[Fault] = []
        # WordPress posts share one id sequence (products, variations, orders); terms, post meta,
        # order items and order item meta each have their own table.
        self._next_post_id = 10
        self._next_term_id = 16
        self._next_meta_id = 1
        self._next_item_id = 1
        self._next_item_meta_id = 1
        self._next_note_id = 1

    def __repr__(self) -> str:
        return f"FakeWooCommerce(base_url={self.base_url!r}, products={len(self.products)}, orders={len(self.orders)})"

    # ---- credentials -----------------------------------------------------------------------

    @property
    def consumer_key(self) -> str:
        return self._key.consumer_key

    @property
    def consumer_secret(self) -> str:
        return self._key.consumer_secret

    @property
    def base_url(self) -> str:
        return self._base_url

    @base_url.setter
    def base_url(self, value: str) -> None:
        self._base_url = value.rstrip("/")

    def now(self) -> datetime:
        """The store's clock (injected in tests)."""
        return self._now()

    @property
    def is_ssl(self) -> bool:
        return urlsplit(self._base_url).scheme == "https"

    # ---- test controls ---------------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        times: int = 1,
        *,
        path_contains: str | None = None,
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer the next `times` requests (whose path contains `path_contains`) with `status`."""
        with self._lock:
            self._faults.append(Fault(status, times, path_contains, body, headers))

    @property
    def write_requests(self) -> list[tuple[str, str, dict[str, Any]]]:
        """The recorded requests that could change the store (anything but GET/HEAD/OPTIONS)."""
        return [r for r in self.requests if r[0] not in ("GET", "HEAD", "OPTIONS")]

    def set_order_date(self, order_id: int, when: datetime) -> None:
        """Back-date an order (REST treats `date_created` as read-only)."""
        with self._lock:
            order = self.orders[order_id]
            moment = when if when.tzinfo else when.replace(tzinfo=self.timezone)
            order["date_created"] = moment.astimezone(UTC)

    def transport(self) -> httpx.MockTransport:
        """An httpx transport (sync and async) that routes requests into this store."""
        return httpx.MockTransport(self.handle)

    # ---- direct helpers (same code as the REST routes) --------------------------------------

    def create_product(self, **fields: Any) -> Json:
        """Create a product as POST products would; tags/categories may be plain names."""
        with self._lock:
            fields = self._terms_by_name(fields)
            validate_args(fields, PRODUCT_WRITE_ARGS)
            return self._render_product(self._create_product(fields))

    def create_variation(self, product_id: int, **fields: Any) -> Json:
        """Create a variation as POST products/<id>/variations would."""
        with self._lock:
            validate_args(fields, VARIATION_WRITE_ARGS)
            parent = self._product(product_id, status=404)
            return self._render_variation(self._create_variation(parent, fields))

    def create_order(self, **fields: Any) -> Json:
        """Create an order as POST orders would (stock is reduced for paid/on-hold statuses)."""
        with self._lock:
            validate_args(fields, ORDER_WRITE_ARGS)
            return self._render_order(self._create_order(fields))

    def update_order(self, order_id: int, **fields: Any) -> Json:
        """Update an order as PUT orders/<id> would."""
        with self._lock:
            validate_args(fields, ORDER_WRITE_ARGS)
            return self._render_order(self._update_order(self._order(order_id, status=400), fields))

    def update_product(self, product_id: int, **fields: Any) -> Json:
        """Update a product as PUT products/<id> would."""
        with self._lock:
            fields = self._terms_by_name(fields)
            validate_args(fields, PRODUCT_WRITE_ARGS)
            product = self._product(product_id, status=400)
            return self._render_product(self._save_product(product, fields))

    def get_product(self, product_id: int) -> Json:
        with self._lock:
            return self._render_product(self._product(product_id, status=404))

    def get_variation(self, product_id: int, variation_id: int) -> Json:
        with self._lock:
            return self._render_variation(self._variation(product_id, variation_id, status=404))

    def get_order(self, order_id: int) -> Json:
        with self._lock:
            return self._render_order(self._order(order_id, status=404))

    def order_notes(self, order_id: int) -> list[Json]:
        with self._lock:
            return [self._render_note(order_id, note) for note in self.notes.get(order_id, [])]

    def tag(self, name: str) -> Json:
        """The product tag called `name`, created when missing (REST assigns tags by id)."""
        with self._lock:
            return self._term(self.tags, name)

    def category(self, name: str) -> Json:
        with self._lock:
            return self._term(self.categories, name)

    # ---- HTTP entry point ------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one HTTP request the way WordPress + WooCommerce would."""
        with self._lock:
            query = php_to_json(php_parse_str(request.url.query.decode()))
            if not isinstance(query, dict):
                query = {}
            self.requests.append((request.method, request.url.path, _strip_secrets(query)))
            fault = next((f for f in self._faults if f.matches(request.url.path)), None)
            if fault is not None:
                fault.times -= 1
                self._faults = [f for f in self._faults if f.times > 0]
                return self._fault_response(fault)
            try:
                return self._serve(request, query)
            except WooError as error:
                return self._error_response(error)

    # ---- the request pipeline (WP_REST_Server::serve_request) -------------------------------

    def _serve(self, request: httpx.Request, query: dict[str, Any]) -> httpx.Response:
        raw_path = request.url.raw_path.decode().split("?", 1)[0]
        form = self._form_params(request)
        authenticated, auth_error, auth_method = self._authenticate(request, raw_path, form)
        if auth_error is not None:
            headers = []
            if auth_method == "basic_auth":
                headers.append(
                    (
                        "WWW-Authenticate",
                        'Basic realm="WooCommerce API. Use a consumer key in the username field and a consumer secret in the password field."',
                    )
                )
            return self._error_response(auth_error, headers)

        route = self._route_of(request.url.path)
        body = self._body_params(request, form)
        parsed = Parsed(request.method.upper(), request.url.path, route, query, body)
        if authenticated:
            self._check_key_permissions(self._method(parsed))
        handler, groups, kind = self._match(parsed)
        return handler(parsed, authenticated, kind, **groups)

    def _check_key_permissions(self, method: str) -> None:
        """WC_REST_Authentication::check_permissions (rest_pre_dispatch: before the route is matched)."""
        permissions = self._key.permissions
        if method in ("HEAD", "GET"):
            if permissions not in ("read", "read_write"):
                raise WooError(
                    "woocommerce_rest_authentication_error", "The API key provided does not have read permissions.", 401
                )
        elif method in ("POST", "PUT", "PATCH", "DELETE"):
            if permissions not in ("write", "read_write"):
                raise WooError(
                    "woocommerce_rest_authentication_error",
                    "The API key provided does not have write permissions.",
                    401,
                )
        elif method != "OPTIONS":
            raise WooError("woocommerce_rest_authentication_error", "Unknown request method.", 401)

    def _route_of(self, path: str) -> str:
        home_path = urlsplit(self._base_url).path.rstrip("/")
        if home_path and path.startswith(home_path):
            path = path[len(home_path) :]
        if not path.startswith("/wp-json"):
            raise WooError("rest_no_route", "No route was found matching the URL and request method.", 404)
        route = path[len("/wp-json") :].rstrip("/")
        return route or "/"

    def _form_params(self, request: httpx.Request) -> dict[str, PhpValue]:
        content_type = request.headers.get("content-type", "")
        if request.method.upper() in ("POST", "PUT", "PATCH") and "application/x-www-form-urlencoded" in content_type:
            return php_parse_str(request.content.decode("utf-8", "replace"))
        return {}

    def _body_params(self, request: httpx.Request, form: dict[str, PhpValue]) -> dict[str, Any]:
        if form:
            converted = php_to_json(form)
            return converted if isinstance(converted, dict) else {}
        content = request.content
        if not content or "json" not in request.headers.get("content-type", "application/json"):
            return {}
        try:
            body = json.loads(content)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise WooError(
                "rest_invalid_json",
                "Invalid JSON body passed.",
                400,
                json_error_code=4,
                json_error_message=f"Syntax error ({type(exc).__name__})",
            ) from None
        return body if isinstance(body, dict) else {}

    # ---- authentication (WC_REST_Authentication) ----------------------------------------------

    def _authenticate(
        self, request: httpx.Request, raw_path: str, form: dict[str, PhpValue]
    ) -> tuple[bool, WooError | None, str]:
        """(authenticated, error to answer with, auth method tried last)."""
        get_params = php_parse_str(request.url.query.decode())
        if self.is_ssl:
            outcome = self._basic_auth(request, get_params)
            if outcome is not None:
                return outcome
        return self._oauth1(request, raw_path, get_params, form)

    def _basic_auth(
        self, request: httpx.Request, get_params: Mapping[str, PhpValue]
    ) -> tuple[bool, WooError | None, str] | None:
        key, secret = get_params.get("consumer_key"), get_params.get("consumer_secret")
        if not (isinstance(key, str) and key and isinstance(secret, str) and secret):
            key, secret = self._basic_credentials(request)
        if not key or not secret:
            return None
        if not hmac.compare_digest(key.encode(), self._key.consumer_key.encode()):
            return None  # an unknown key is "no credentials": the OAuth path runs next
        if not hmac.compare_digest(secret.encode(), self._key.consumer_secret.encode()):
            return (
                False,
                WooError("woocommerce_rest_authentication_error", "Consumer secret is invalid.", 401),
                "basic_auth",
            )
        return True, None, "basic_auth"

    @staticmethod
    def _basic_credentials(request: httpx.Request) -> tuple[str, str]:
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("basic "):
            return "", ""
        try:
            decoded = base64.b64decode(header[6:].strip()).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return "", ""
        user, _, password = decoded.partition(":")
        return user, password

    def _oauth1(
        self, request: httpx.Request, raw_path: str, get_params: dict[str, PhpValue], form: dict[str, PhpValue]
    ) -> tuple[bool, WooError | None, str]:
        params: dict[str, PhpValue] = {**get_params, **form}
        params.update(parse_oauth_header(request.headers.get("authorization", "").strip()))
        required = ("oauth_consumer_key", "oauth_timestamp", "oauth_nonce", "oauth_signature", "oauth_signature_method")
        missing = [name for name in required if not params.get(name) or params.get(name) == "0"]
        if len(missing) == len(required):
            return False, None, "oauth1"
        if missing:
            noun = "parameter" if len(missing) == 1 else "parameters"
            message = f"Missing OAuth {noun} {', '.join(missing)}"
            return False, WooError("woocommerce_rest_authentication_missing_parameter", message, 401), "oauth1"
        if params["oauth_consumer_key"] != self._key.consumer_key:
            return False, WooError("woocommerce_rest_authentication_error", "Consumer key is invalid.", 401), "oauth1"
        error = self._check_oauth_signature(request.method, raw_path, params)
        if error is None:
            error = self._check_timestamp_and_nonce(str(params["oauth_timestamp"]), str(params["oauth_nonce"]))
        return error is None, error, "oauth1"

    def _signature_base_url(self, raw_path: str) -> str:
        # get_home_url( null, $request_path, is_ssl() ? 'https' : 'http' ): the store's own home
        # URL, not the Host the client used, plus the raw request path below the home path.
        home = urlsplit(self._base_url)
        home_path = home.path.rstrip("/") + "/"
        path = raw_path[len(home_path) :] if raw_path.startswith(home_path) else raw_path
        return f"{self._base_url}/{path.lstrip('/')}"

    def _check_oauth_signature(self, method: str, raw_path: str, params: dict[str, PhpValue]) -> WooError | None:
        provided = params.pop("oauth_signature")
        provided = unquote(str(provided).replace(" ", "+"))
        algorithm = params["oauth_signature_method"]
        if algorithm not in ("HMAC-SHA1", "HMAC-SHA256"):
            return WooError(
                "woocommerce_rest_authentication_error", "Invalid signature - signature method is invalid.", 401
            )
        expected = sign_oauth1(
            method, self._signature_base_url(raw_path), params, self._key.consumer_secret, str(algorithm)
        )
        if not hmac.compare_digest(expected.encode(), provided.encode()):
            return WooError(
                "woocommerce_rest_authentication_error", "Invalid signature - provided signature does not match.", 401
            )
        return None

    def _check_timestamp_and_nonce(self, timestamp: str, nonce: str) -> WooError | None:
        now = int(self._auth_clock())
        try:
            stamp = int(float(timestamp))
        except ValueError:
            stamp = 0
        if stamp < now - OAUTH_WINDOW_SECONDS or stamp > now + OAUTH_WINDOW_SECONDS:
            return WooError("woocommerce_rest_authentication_error", "Invalid timestamp.", 401)
        if nonce in self._key.nonces.values():
            return WooError(
                "woocommerce_rest_authentication_error", "Invalid nonce - nonce has already been used.", 401
            )
        self._key.nonces[stamp] = nonce
        self._key.nonces = {t: n for t, n in self._key.nonces.items() if t >= now - OAUTH_WINDOW_SECONDS}
        return None

    # ---- routing -----------------------------------------------------------------------------

    _ROUTES: tuple[tuple[str, dict[str, str]], ...] = (
        (r"/wc/v3", {"GET": "_index"}),
        (r"/wc/v3/products", {"GET": "_list_products", "POST": "_post_product"}),
        (r"/wc/v3/products/batch", {"POST": "_batch_products", "PUT": "_batch_products", "PATCH": "_batch_products"}),
        (
            r"/wc/v3/products/(?P<product_id>\d+)",
            {"GET": "_get_product", "POST": "_put_product", "PUT": "_put_product", "PATCH": "_put_product"},
        ),
        (r"/wc/v3/products/(?P<product_id>\d+)/variations", {"GET": "_list_variations", "POST": "_post_variation"}),
        (
            r"/wc/v3/products/(?P<product_id>\d+)/variations/batch",
            {"POST": "_batch_variations", "PUT": "_batch_variations", "PATCH": "_batch_variations"},
        ),
        (
            r"/wc/v3/products/(?P<product_id>\d+)/variations/(?P<variation_id>\d+)",
            {"GET": "_get_variation", "POST": "_put_variation", "PUT": "_put_variation", "PATCH": "_put_variation"},
        ),
        (r"/wc/v3/products/tags", {"GET": "_list_tags", "POST": "_post_tag"}),
        (r"/wc/v3/products/tags/(?P<term_id>\d+)", {"GET": "_get_tag"}),
        (r"/wc/v3/products/categories", {"GET": "_list_categories", "POST": "_post_category"}),
        (r"/wc/v3/products/categories/(?P<term_id>\d+)", {"GET": "_get_category"}),
        (r"/wc/v3/orders", {"GET": "_list_orders", "POST": "_post_order"}),
        (
            r"/wc/v3/orders/(?P<order_id>\d+)",
            {"GET": "_get_order", "POST": "_put_order", "PUT": "_put_order", "PATCH": "_put_order"},
        ),
        (r"/wc/v3/orders/(?P<order_id>\d+)/notes", {"GET": "_list_notes", "POST": "_post_note"}),
    )

    @staticmethod
    def _method(parsed: Parsed) -> str:
        # WordPress lets a client tunnel a method through POST with _method / X-HTTP-Method-Override.
        override = parsed.query.get("_method")
        if parsed.method == "POST" and isinstance(override, str):
            return override.upper()
        return parsed.method

    def _match(self, parsed: Parsed) -> tuple[Callable[..., httpx.Response], dict[str, int], str]:
        method = self._method(parsed)
        for pattern, handlers in self._ROUTES:
            found = re.fullmatch(pattern, parsed.route, flags=re.IGNORECASE)
            if not found:
                continue
            if method not in handlers:
                break  # WordPress answers a known route with a wrong method as "no route"
            groups = {k: int(v) for k, v in found.groupdict().items()}
            return getattr(self, handlers[method]), groups, method
        raise WooError("rest_no_route", "No route was found matching the URL and request method.", 404)

    @staticmethod
    def _require(authenticated: bool, code: str, message: str) -> None:
        # Permission callbacks run after argument validation, so a bad per_page is a 400 even
        # without credentials.
        if not authenticated:
            raise WooError(code, message, 401)

    def _fault_response(self, fault: Fault) -> httpx.Response:
        body = (
            dict(fault.body)
            if fault.body is not None
            else {
                "code": "fake_injected_failure",
                "message": f"Injected HTTP {fault.status}.",
                "data": {"status": fault.status},
            }
        )
        return _json_response(fault.status, body, list((fault.headers or {}).items()))

    @staticmethod
    def _error_response(error: WooError, headers: Iterable[tuple[str, str]] = ()) -> httpx.Response:
        return _json_response(error.status, error.body(), headers)

    # ---- route handlers: index ---------------------------------------------------------------

    def _index(self, parsed: Parsed, authenticated: bool, kind: str) -> httpx.Response:
        routes = {}
        for pattern, handlers in self._ROUTES:
            routes[pattern] = {"namespace": NAMESPACE, "methods": sorted(handlers)}
        body = {"namespace": NAMESPACE, "routes": routes, "_links": {"up": [{"href": f"{self._base_url}/wp-json/"}]}}
        return _json_response(200, body)

    # ---- route handlers: products ------------------------------------------------------------

    def _list_products(self, parsed: Parsed, authenticated: bool, kind: str) -> httpx.Response:
        params = parsed.params
        validate_args(params, PRODUCT_LIST_ARGS)
        self._require(authenticated, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        found = [p for p in self.products.values() if self._product_matches(p, params)]
        return self._collection(found, params, parsed, "products", self._render_product)

    def _product_matches(self, product: Json, params: Mapping[str, Any]) -> bool:
        status = params.get("status", "any")
        if status == "any" and product["status"] in HIDDEN_FROM_ANY:
            return False
        if status != "any" and product["status"] != status:
            return False
        if "type" in params and product["type"] != params["type"]:
            return False
        if params.get("sku") and product["sku"] not in [s.strip() for s in str(params["sku"]).split(",")]:
            return False
        if "stock_status" in params and self._stock(product)["stock_status"] != params["stock_status"]:
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
        return self._common_filters(product, params)

    def _get_product(self, parsed: Parsed, authenticated: bool, kind: str, product_id: int) -> httpx.Response:
        self._require(authenticated, "woocommerce_rest_cannot_view", "Sorry, you cannot view this resource.")
        return _json_response(200, self._render_product(self._product(product_id, status=404)))

    def _post_product(self, parsed: Parsed, authenticated: bool, kind: str) -> httpx.Response:
        validate_args(parsed.params, PRODUCT_WRITE_ARGS)
        self._require(
            authenticated, "woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources."
        )
        if parsed.params.get("id"):
            raise WooError("woocommerce_rest_product_exists", "Cannot create existing product.", 400)
        product = self._create_product(parsed.body)
        location = f"{self._base_url}{API_ROOT}/products/{product['id']}"
        return _json_response(201, self._render_product(product), [("Location", location)])

    def _put_product(self, parsed: Parsed, authenticated: bool, kind: str, product_id: int) -> httpx.Response:
        validate_args(parsed.params, PRODUCT_WRITE_ARGS)
        self._require(
            authenticated, "woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."
        )
        # WC_REST_CRUD_Controller::update_item answers an unknown id with 400 (GET says 404).
        product = self._product(product_id, status=400)
        return _json_response(200, self._render_product(self._save_product(product, parsed.body)))

    def _batch_products(self, parsed: Parsed, authenticated: bool, kind: str) -> httpx.Response:
        self._require(
            authenticated,
            "woocommerce_rest_cannot_batch",
            "Sorry, you are not allowed to batch manipulate this resource.",
        )

        def create(fields: Json) -> Json:
            return self._render_product(self._create_product(fields))

        def update(fields: Json) -> Json:
            product = self._product(self._batch_id(fields), status=400)
            return self._render_product(self._save_product(product, fields))

        return self._batch(parsed.body, create, update, self._delete_product)

    def _delete_product(self, product_id: int) -> Json:
        product = self._product(product_id, status=404)
        rendered = self._render_product(product)
        for variation_id in product["variations"]:
            self.variations.pop(variation_id, None)
        del self.products[product_id]
        return rendered

    # ---- route handlers: variations ----------------------------------------------------------

    def _list_variations(self, parsed: Parsed, authenticated: bool, kind: str, product_id: int) -> httpx.Response:
        params = parsed.params
        validate_args(params, VARIATION_LIST_ARGS)
        self._require(authenticated, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        parent = self._product(product_id, status=404)
        found = [
            self.variations[v]
            for v in parent["variations"]
            if v in self.variations and self._variation_matches(self.variations[v], params)
        ]
        return self._collection(found, params, parsed, f"products/{product_id}/variations", self._render_variation)

    def _variation_matches(self, variation: Json, params: Mapping[str, Any]) -> bool:
        status = params.get("status", "any")
        if status != "any" and variation["status"] != status:
            return False
        if params.get("sku") and variation["sku"] not in [s.strip() for s in str(params["sku"]).split(",")]:
            return False
        if "stock_status" in params and self._stock(variation)["stock_status"] != params["stock_status"]:
            return False
        return self._common_filters(variation, params)

    def _get_variation(
        self, parsed: Parsed, authenticated: bool, kind: str, product_id: int, variation_id: int
    ) -> httpx.Response:
        self._require(authenticated, "woocommerce_rest_cannot_view", "Sorry, you cannot view this resource.")
        return _json_response(200, self._render_variation(self._variation(product_id, variation_id, status=404)))

    def _post_variation(self, parsed: Parsed, authenticated: bool, kind: str, product_id: int) -> httpx.Response:
        validate_args(parsed.params, VARIATION_WRITE_ARGS)
        self._require(
            authenticated, "woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources."
        )
        parent = self._product(product_id, status=404)
        variation = self._create_variation(parent, parsed.body)
        location = f"{self._base_url}{API_ROOT}/products/{product_id}/variations/{variation['id']}"
        return _json_response(201, self._render_variation(variation), [("Location", location)])

    def _put_variation(
        self, parsed: Parsed, authenticated: bool, kind: str, product_id: int, variation_id: int
    ) -> httpx.Response:
        validate_args(parsed.params, VARIATION_WRITE_ARGS)
        self._require(
            authenticated, "woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."
        )
        variation = self._variation(product_id, variation_id, status=400)
        return _json_response(200, self._render_variation(self._save_variation(variation, parsed.body)))

    def _batch_variations(self, parsed: Parsed, authenticated: bool, kind: str, product_id: int) -> httpx.Response:
        self._require(
            authenticated,
            "woocommerce_rest_cannot_batch",
            "Sorry, you are not allowed to batch manipulate this resource.",
        )
        parent = self._product(product_id, status=404)

        def create(fields: Json) -> Json:
            return self._render_variation(self._create_variation(parent, fields))

        def update(fields: Json) -> Json:
            variation = self._variation(product_id, self._batch_id(fields), status=400)
            return self._render_variation(self._save_variation(variation, fields))

        def delete(variation_id: int) -> Json:
            variation = self._variation(product_id, variation_id, status=404)
            rendered = self._render_variation(variation)
            del self.variations[variation_id]
            parent["variations"].remove(variation_id)
            self._save_product(parent, {})
            return rendered

        return self._batch(parsed.body, create, update, delete)

    # ---- batches (WC_REST_Controller::batch_items) --------------------------------------------

    @staticmethod
    def _batch_id(fields: Mapping[str, Any]) -> int:
        try:
            return int(fields.get("id") or 0)
        except (TypeError, ValueError):
            return 0

    def _batch(
        self,
        body: Mapping[str, Any],
        create: Callable[[Json], Json],
        update: Callable[[Json], Json],
        delete: Callable[[int], Json],
    ) -> httpx.Response:
        groups = {k: body.get(k) for k in ("create", "update", "delete") if body.get(k)}
        total = sum(len(v) for v in groups.values() if isinstance(v, list))
        if total > BATCH_LIMIT:
            raise WooError(
                "woocommerce_rest_request_entity_too_large",
                f"Unable to accept more than {BATCH_LIMIT} items for this request.",
                413,
            )
        answer: Json = {}
        for fields in groups.get("create") or []:
            answer.setdefault("create", []).append(self._batch_item(partial(create, dict(fields)), 0))
        for fields in groups.get("update") or []:
            item_id = fields.get("id") if isinstance(fields, dict) else None
            answer.setdefault("update", []).append(self._batch_item(partial(update, dict(fields)), item_id))
        for raw_id in groups.get("delete") or []:
            item_id = self._batch_id({"id": raw_id})
            if item_id == 0:
                continue
            answer.setdefault("delete", []).append(self._batch_item(partial(delete, item_id), item_id))
        # PHP's empty array: a batch with nothing in it answers [] rather than {}.
        return _json_response(200, answer or [])

    @staticmethod
    def _batch_item(work: Callable[[], Json], item_id: Any) -> Json:
        try:
            return work()
        except WooError as error:
            return error.batch_entry(item_id)

    # ---- route handlers: orders --------------------------------------------------------------

    def _list_orders(self, parsed: Parsed, authenticated: bool, kind: str) -> httpx.Response:
        params = parsed.params
        validate_args(params, ORDER_LIST_ARGS)
        self._require(authenticated, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        statuses = set(wp_parse_list(params.get("status", "any")))
        found = [o for o in self.orders.values() if self._order_matches(o, statuses, params)]
        return self._collection(found, params, parsed, "orders", self._render_order)

    def _order_matches(self, order: Json, statuses: set[str], params: Mapping[str, Any]) -> bool:
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
        return self._common_filters(order, params)

    def _get_order(self, parsed: Parsed, authenticated: bool, kind: str, order_id: int) -> httpx.Response:
        self._require(authenticated, "woocommerce_rest_cannot_view", "Sorry, you cannot view this resource.")
        return _json_response(200, self._render_order(self._order(order_id, status=404)))

    def _post_order(self, parsed: Parsed, authenticated: bool, kind: str) -> httpx.Response:
        validate_args(parsed.params, ORDER_WRITE_ARGS)
        self._require(
            authenticated, "woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources."
        )
        order = self._create_order(parsed.body)
        location = f"{self._base_url}{API_ROOT}/orders/{order['id']}"
        return _json_response(201, self._render_order(order), [("Location", location)])

    def _put_order(self, parsed: Parsed, authenticated: bool, kind: str, order_id: int) -> httpx.Response:
        validate_args(parsed.params, ORDER_WRITE_ARGS)
        self._require(
            authenticated, "woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."
        )
        order = self._order(order_id, status=400)
        return _json_response(200, self._render_order(self._update_order(order, parsed.body)))

    def _list_notes(self, parsed: Parsed, authenticated: bool, kind: str, order_id: int) -> httpx.Response:
        self._require(authenticated, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        self._order_for_note(order_id)
        wanted = parsed.params.get("type", "any")
        notes = [
            self._render_note(order_id, n)
            for n in reversed(self.notes.get(order_id, []))
            if wanted == "any" or (wanted == "customer") == n["customer_note"]
        ]
        return _json_response(200, notes)

    def _post_note(self, parsed: Parsed, authenticated: bool, kind: str, order_id: int) -> httpx.Response:
        validate_args(parsed.params, NOTE_WRITE_ARGS)
        self._require(
            authenticated, "woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources."
        )
        order = self._order_for_note(order_id)
        text = str(parsed.params["note"])
        if not text:
            raise WooError("woocommerce_rest_invalid_order_note", "Cannot create order note, please try again.", 500)
        note = {
            "id": self._take_note_id(),
            "note": text,
            "customer_note": to_bool(parsed.params.get("customer_note", False)),
            "added_by_user": to_bool(parsed.params.get("added_by_user", False)),
            "date_created": self._now(),
        }
        self.notes.setdefault(order["id"], []).append(note)
        location = f"{self._base_url}{API_ROOT}/orders/{order_id}/notes/{note['id']}"
        return _json_response(201, self._render_note(order_id, note), [("Location", location)])

    def _order_for_note(self, order_id: int) -> Json:
        if order_id not in self.orders:
            raise WooError("woocommerce_rest_order_invalid_id", "Invalid order ID.", 404)
        return self.orders[order_id]

    # ---- route handlers: product tags and categories (WC_REST_Terms_Controller) ----------------
    # Products are assigned terms by id only, so a store is seeded by creating its tags and
    # categories first, exactly as here.

    def _list_tags(self, parsed: Parsed, authenticated: bool, kind: str) -> httpx.Response:
        return self._list_terms(self.tags, "products/tags", parsed, authenticated)

    def _list_categories(self, parsed: Parsed, authenticated: bool, kind: str) -> httpx.Response:
        return self._list_terms(self.categories, "products/categories", parsed, authenticated)

    def _post_tag(self, parsed: Parsed, authenticated: bool, kind: str) -> httpx.Response:
        return self._post_term(self.tags, "products/tags", parsed, authenticated)

    def _post_category(self, parsed: Parsed, authenticated: bool, kind: str) -> httpx.Response:
        return self._post_term(self.categories, "products/categories", parsed, authenticated)

    def _get_tag(self, parsed: Parsed, authenticated: bool, kind: str, term_id: int) -> httpx.Response:
        return self._get_term(self.tags, "products/tags", term_id, authenticated)

    def _get_category(self, parsed: Parsed, authenticated: bool, kind: str, term_id: int) -> httpx.Response:
        return self._get_term(self.categories, "products/categories", term_id, authenticated)

    def _term_count(self, table: dict[int, Json], term_id: int) -> int:
        key = "tags" if table is self.tags else "categories"
        return sum(1 for p in self.products.values() if any(t["id"] == term_id for t in p[key]))

    def _render_term(self, table: dict[int, Json], route: str, term: Json) -> Json:
        body: Json = {
            "id": term["id"],
            "name": term["name"],
            "slug": term["slug"],
            "description": term.get("description", ""),
            "count": self._term_count(table, term["id"]),
        }
        if table is self.categories:
            body.update({"parent": 0, "display": "default", "image": None, "menu_order": 0})
        body["_links"] = {
            "self": [{"href": f"{self._base_url}{API_ROOT}/{route}/{term['id']}"}],
            "collection": [{"href": f"{self._base_url}{API_ROOT}/{route}"}],
        }
        return body

    def _list_terms(self, table: dict[int, Json], route: str, parsed: Parsed, authenticated: bool) -> httpx.Response:
        params = parsed.params
        validate_args(params, TERM_LIST_ARGS)
        self._require(authenticated, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        found = list(table.values())
        if params.get("search"):
            needle = str(params["search"]).lower()
            found = [t for t in found if needle in t["name"].lower() or needle in t["slug"]]
        if params.get("slug"):
            found = [t for t in found if t["slug"] == params["slug"]]
        if to_bool(params.get("hide_empty", False)):
            found = [t for t in found if self._term_count(table, t["id"])]
        by = params.get("orderby", "name")
        found.sort(key=lambda t: str(t.get(by, t["name"])).lower() if by != "id" else t["id"])
        if params.get("order") == "desc":
            found.reverse()
        query = {**params, "orderby": "include", "include": ",".join(str(t["id"]) for t in found)} if found else params
        return self._collection(found, query, parsed, route, lambda t: self._render_term(table, route, t))

    def _post_term(self, table: dict[int, Json], route: str, parsed: Parsed, authenticated: bool) -> httpx.Response:
        params = parsed.params
        validate_args(params, TERM_WRITE_ARGS)
        self._require(
            authenticated, "woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources."
        )
        name = str(params.get("name") or "").strip()
        if not name:
            raise WooError("rest_missing_callback_param", "Missing parameter(s): name", 400)
        slug = _slugify(str(params.get("slug") or name))
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
        location = f"{self._base_url}{API_ROOT}/{route}/{term['id']}"
        return _json_response(201, self._render_term(table, route, term), [("Location", location)])

    def _get_term(self, table: dict[int, Json], route: str, term_id: int, authenticated: bool) -> httpx.Response:
        self._require(authenticated, "woocommerce_rest_cannot_view", "Sorry, you cannot view this resource.")
        if term_id not in table:
            raise WooError("woocommerce_rest_term_invalid", "Resource does not exist.", 404)
        return _json_response(200, self._render_term(table, route, table[term_id]))

    # ---- collections (WC_REST_CRUD_Controller::get_items) --------------------------------------

    def _common_filters(self, record: Json, params: Mapping[str, Any]) -> bool:
        include = {int(i) for i in wp_parse_list(params.get("include", [])) if _is_integer(i)}
        exclude = {int(i) for i in wp_parse_list(params.get("exclude", [])) if _is_integer(i)}
        if include and record["id"] not in include:
            return False
        if record["id"] in exclude:
            return False
        parents = {int(i) for i in wp_parse_list(params.get("parent", [])) if _is_integer(i)}
        if parents and record.get("parent_id", 0) not in parents:
            return False
        return self._date_filters(record, params)

    def _date_filters(self, record: Json, params: Mapping[str, Any]) -> bool:
        use_gmt = to_bool(params.get("dates_are_gmt", False))

        def column(field: str) -> datetime:
            moment: datetime = record[field]
            zone = UTC if use_gmt else self.timezone
            return moment.astimezone(zone).replace(tzinfo=None, microsecond=0)

        # WP_Date_Query's after/before are exclusive.
        bounds: tuple[tuple[str, str, Callable[[datetime, datetime], bool]], ...] = (
            ("after", "date_created", operator.gt),
            ("before", "date_created", operator.lt),
            ("modified_after", "date_modified", operator.gt),
            ("modified_before", "date_modified", operator.lt),
        )
        for param, field, keep in bounds:
            if params.get(param) and not keep(column(field), _parse_query_date(str(params[param]))):
                return False
        return True

    def _collection(
        self,
        records: list[Json],
        params: Mapping[str, Any],
        parsed: Parsed,
        base_route: str,
        render: Callable[[Json], Json],
    ) -> httpx.Response:
        per_page = int(float(params.get("per_page", 10)))
        page = int(float(params.get("page", 1)))
        ordered = self._ordered(records, params)
        total = len(ordered)
        pages = math.ceil(total / per_page) if total else 0
        start = int(float(params["offset"])) if params.get("offset") is not None else (page - 1) * per_page
        # Past the last page WooCommerce answers 200 with [] and the real totals (it re-counts
        # without LIMIT); the prev link then points at the last page.
        body = [render(r) for r in ordered[start : start + per_page]]
        headers = [("X-WP-Total", str(total)), ("X-WP-TotalPages", str(pages))]
        link_base = f"{self._base_url}{API_ROOT}/{base_route}"
        # WordPress repeats every query parameter in these links; credentials are left out here
        # so that a secret sent in the query string is never echoed back.
        query = {k: v for k, v in parsed.query.items() if k not in CREDENTIAL_PARAMS and not k.startswith("oauth_")}
        if page > 1:
            headers.append(("Link", f'<{self._page_link(link_base, query, min(page - 1, max(pages, 1)))}>; rel="prev"'))
        if pages > page:
            headers.append(("Link", f'<{self._page_link(link_base, query, page + 1)}>; rel="next"'))
        return _json_response(200, body, headers)

    @staticmethod
    def _page_link(base: str, query: Mapping[str, Any], page: int) -> str:
        flat = {k: (",".join(map(str, v)) if isinstance(v, list) else v) for k, v in query.items() if k != "page"}
        flat["page"] = page
        return f"{base}?{urlencode(flat)}"

    @staticmethod
    def _ordered(records: list[Json], params: Mapping[str, Any]) -> list[Json]:
        orderby = params.get("orderby", "date")
        descending = params.get("order", "desc") == "desc"
        if orderby in ("include", "post__in") and params.get("include"):
            position = {int(i): n for n, i in enumerate(wp_parse_list(params["include"])) if _is_integer(i)}
            return sorted(records, key=lambda r: position.get(r["id"], 0))
        keys: dict[str, Callable[[Json], Any]] = {
            "id": lambda r: r["id"],
            # WooCommerce adds ID to date/modified ordering so pages stay stable.
            "date": lambda r: (r["date_created"].replace(microsecond=0), r["id"]),
            "modified": lambda r: (r["date_modified"].replace(microsecond=0), r["id"]),
            "title": lambda r: (str(r.get("name", "")).lower(), r["id"]),
            "slug": lambda r: (str(r.get("slug", "")), r["id"]),
            "menu_order": lambda r: (r.get("menu_order", 0), r["id"]),
            "price": lambda r: (_price(r.get("regular_price")), r["id"]),
        }
        return sorted(records, key=keys.get(str(orderby), keys["date"]), reverse=descending)

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
            if term["name"] == name or term["slug"] == _slugify(name):
                return dict(term)
        term = {"id": self._next_term_id, "name": name, "slug": _slugify(name)}
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
            if _is_integer(term_id) and int(float(str(term_id))) in table:
                found.append(dict(table[int(float(str(term_id)))]))
        return found

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
        return product

    def _save_product(self, product: Json, fields: Mapping[str, Any], *, creating: bool = False) -> Json:
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
            product["slug"] = self._unique_slug(_slugify(str(fields["slug"])), product["id"])
        elif not product["slug"]:
            product["slug"] = self._unique_slug(_slugify(product["name"]), product["id"])
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
                product[key] = [int(i) for i in fields[key] if _is_integer(i)]
        self._apply_common(product, fields)
        self._settle(product)
        product["date_modified"] = self._now()
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
        if fields.get("menu_order") is not None and _is_integer(fields["menu_order"]):
            record["menu_order"] = int(float(fields["menu_order"]))
        if "low_stock_amount" in fields:
            value = fields["low_stock_amount"]
            record["low_stock_amount"] = int(float(value)) if _is_integer(value) else None
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
            record["stock_quantity"] = (
                int(math.floor(float(quantity))) if _is_integer(quantity) or _is_number(quantity) else 0
            )
        if isinstance(fields.get("meta_data"), list):
            self._update_meta(record, fields["meta_data"])

    def _update_meta(self, record: Json, updates: list[Any]) -> None:
        """WC_Data::update_meta_data per item, then save_meta_data (a null value deletes)."""
        rows: list[Json] = record["meta_data"]
        for entry in updates:
            if not isinstance(entry, dict) or "key" not in entry:
                continue
            key, value = str(entry["key"]), entry.get("value")
            target: Json | None = None
            meta_id = entry.get("id")
            if meta_id:
                target = next((r for r in rows if _is_integer(meta_id) and r["id"] == int(float(meta_id))), None)
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
            self._stock(self.variations[v])["stock_status"]
            for v in parent["variations"]
            if v in self.variations and self.variations[v]["status"] in ("publish", "private")
        ]
        if "instock" in statuses:
            return "instock"
        if "onbackorder" in statuses:
            return "onbackorder"
        return "outofstock"

    def _stock(self, record: Json) -> Json:
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

    def _change_stock(self, record: Json, delta: int) -> None:
        # wc_update_product_stock re-reads the product and saves it: the date moves and a
        # variation's parent is re-saved, like any other write.
        owner = self._stock_owner(record)
        if owner is None:
            return
        owner["stock_quantity"] = (owner["stock_quantity"] or 0) + delta
        if owner.get("type") == "variation":
            self._save_variation(owner, {})
        else:
            self._save_product(owner, {})
            for variation_id in owner.get("variations", []):
                if variation_id in self.variations:
                    self.variations[variation_id]["date_modified"] = self._now()

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
            self._save_variation(variation, fields)
        except WooError:
            del self.variations[variation["id"]]
            parent["variations"].remove(variation["id"])
            raise
        return variation

    def _save_variation(self, variation: Json, fields: Mapping[str, Any]) -> Json:
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
                    "slug": _slugify(str(a.get("name", ""))),
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
        # Saving a variation re-saves its parent (WC_Product_Variable::sync): its date moves too.
        parent = self.products.get(variation["parent_id"])
        if parent is not None:
            self._save_product(parent, {})
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
        self._set_order_status(order, str(status))
        return order

    def _line_item(self, line: Any) -> Json:
        if not isinstance(line, dict):
            raise WooError("woocommerce_rest_required_product_reference", "Product ID or SKU is required.", 400)
        record = self._line_product(line)
        quantity = int(float(line.get("quantity", 1) or 1))
        price = (
            _price(line.get("price"))
            if line.get("price") is not None
            else _price(record.get("sale_price") or record.get("regular_price"))
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
            "subtotal": _money(price * quantity),
            "subtotal_tax": "0.00",
            "total": _money(price * quantity),
            "total_tax": "0.00",
            "taxes": [],
            "meta_data": [],
            "sku": record.get("sku", ""),
            "price": _number(price),
            "image": {"id": "", "src": ""},
            "parent_name": parent["name"] if parent else None,
        }

    def _line_product(self, line: Mapping[str, Any]) -> Json:
        variation_id = int(float(line.get("variation_id") or 0)) if _is_integer(line.get("variation_id") or 0) else 0
        product_id = int(float(line.get("product_id") or 0)) if _is_integer(line.get("product_id") or 0) else 0
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
        for key, with_email in (("billing", True), ("shipping", False)):
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
        return order

    def _set_order_status(self, order: Json, status: str) -> None:
        order["status"] = status
        now = self._now()
        if status in PAID_ORDER_STATUSES and order["date_paid"] is None:
            order["date_paid"] = now
        if status == "completed" and order["date_completed"] is None:
            order["date_completed"] = now
        if status in STOCK_REDUCING_ORDER_STATUSES and not order["stock_reduced"]:
            self._reduce_stock(order)
        elif status in STOCK_RESTORING_ORDER_STATUSES and order["stock_reduced"]:
            self._restore_stock(order)
        order["date_modified"] = now

    def _reduce_stock(self, order: Json) -> None:
        """wc_reduce_stock_levels: no stock check (REST orders may push stock below zero)."""
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
            self._change_stock(record, -line["quantity"])
            line["meta_data"].append(_item_meta(self._take_item_meta_id(), "_reduced_stock", str(line["quantity"])))
        order["stock_reduced"] = True

    def _restore_stock(self, order: Json) -> None:
        """wc_increase_stock_levels: give back exactly what `_reduced_stock` recorded."""
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
                self._change_stock(record, int(reduced["value"]))
            line["meta_data"].remove(reduced)
        order["stock_reduced"] = False

    def _take_item_meta_id(self) -> int:
        self._next_item_meta_id += 1
        return self._next_item_meta_id - 1

    # ---- rendering (payload shapes as recorded on WooCommerce 10.0.2) --------------------------------

    def _dates(self, record: Json, *names: str) -> Json:
        out: Json = {}
        for name in names:
            out[name] = _wp_date(record.get(name), self.timezone)
        return out

    def _render_product(self, product: Json) -> Json:
        stock = self._stock(product)
        price = product["sale_price"] or product["regular_price"]
        if product["type"] == "variable":
            prices = [
                _price(self.variations[v]["sale_price"] or self.variations[v]["regular_price"])
                for v in product["variations"]
                if v in self.variations
            ]
            price = f"{min(prices):g}" if prices else ""
        base, pid = self._base_url, product["id"]
        return {
            "id": pid,
            "name": product["name"],
            "slug": product["slug"],
            "permalink": f"{base}/product/{product['slug']}/",
            "date_created": _wp_date(product["date_created"], self.timezone),
            "date_created_gmt": _gmt(product["date_created"]),
            "date_modified": _wp_date(product["date_modified"], self.timezone),
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
            **self._render_stock(stock),
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
            "variations": [v for v in product["variations"] if v in self.variations],
            "grouped_products": [],
            "menu_order": product["menu_order"],
            "price_html": _price_html(price),
            "related_ids": [],
            "meta_data": [dict(m) for m in product["meta_data"]],
            "stock_status": stock["stock_status"],
            "has_options": product["type"] == "variable",
            "post_password": product["post_password"],
            "global_unique_id": product["global_unique_id"],
            "_links": _links(base, f"products/{pid}", "products"),
        }

    def _render_stock(self, stock: Json) -> Json:
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

    def _render_variation(self, variation: Json) -> Json:
        stock = self._stock(variation)
        parent = self.products.get(variation["parent_id"], {})
        base, vid, pid = self._base_url, variation["id"], variation["parent_id"]
        price = variation["sale_price"] or variation["regular_price"]
        query = "&".join(f"attribute_{a['slug']}={quote(a['option'])}" for a in variation["attributes"])
        stock_fields = self._render_stock(stock)
        return {
            "id": vid,
            "type": "variation",
            "date_created": _wp_date(variation["date_created"], self.timezone),
            "date_created_gmt": _gmt(variation["date_created"]),
            "date_modified": _wp_date(variation["date_modified"], self.timezone),
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
            "_links": _links(
                base, f"products/{pid}/variations/{vid}", f"products/{pid}/variations", up=f"products/{pid}"
            ),
        }

    def _render_order(self, order: Json) -> Json:
        base, oid = self._base_url, order["id"]
        total = sum(_price(li["total"]) for li in order["line_items"])
        status = order["status"]
        return {
            "id": oid,
            "parent_id": order["parent_id"],
            "status": status,
            "currency": order["currency"],
            "version": WC_VERSION,
            "prices_include_tax": False,
            "date_created": _wp_date(order["date_created"], self.timezone),
            "date_modified": _wp_date(order["date_modified"], self.timezone),
            "discount_total": "0.00",
            "discount_tax": "0.00",
            "shipping_total": "0.00",
            "shipping_tax": "0.00",
            "cart_tax": "0.00",
            "total": _money(total),
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
            "date_completed": _wp_date(order["date_completed"], self.timezone),
            "date_paid": _wp_date(order["date_paid"], self.timezone),
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
                "email_templates": [
                    {"embeddable": True, "href": f"{base}{API_ROOT}/orders/{oid}/actions/email_templates"}
                ],
            },
        }

    def _render_note(self, order_id: int, note: Json) -> Json:
        base = self._base_url
        return {
            "id": note["id"],
            "author": "admin" if note["added_by_user"] else "system",
            "date_created": _wp_date(note["date_created"], self.timezone),
            "date_created_gmt": _gmt(note["date_created"]),
            "note": note["note"],
            "customer_note": note["customer_note"],
            "_links": {
                "self": [{"href": f"{base}{API_ROOT}/orders/{order_id}/notes/{note['id']}"}],
                "collection": [{"href": f"{base}{API_ROOT}/orders/{order_id}/notes"}],
                "up": [{"href": f"{base}{API_ROOT}/orders/{order_id}"}],
            },
        }


def _derived_status(quantity: int | None, backorders: str) -> str:
    """Managed stock: quantity > 0 → instock; else backorders allowed → onbackorder; else out."""
    if (quantity or 0) > 0:
        return "instock"
    return "onbackorder" if backorders != "no" else "outofstock"


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return not isinstance(value, bool)


def _address(given: Any, *, with_email: bool) -> Json:
    keys = ["first_name", "last_name", "company", "address_1", "address_2", "city", "state", "postcode", "country"]
    keys += ["email", "phone"] if with_email else ["phone"]
    given = given if isinstance(given, dict) else {}
    return {k: str(given.get(k, "")) for k in keys}


def _item_meta(meta_id: int, key: str, value: str) -> Json:
    return {"id": meta_id, "key": key, "value": value, "display_key": key, "display_value": value}


def _price_html(price: str) -> str:
    if price == "":
        return ""
    amount = f"{_price(price):.2f}"
    return (
        '<span class="woocommerce-Price-amount amount"><bdi><span class="woocommerce-Price-currencySymbol">'
        f"&#36;</span>{amount}</bdi></span>"
    )
