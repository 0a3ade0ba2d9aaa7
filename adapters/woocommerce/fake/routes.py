"""`FakeWooCommerce`: the store behind WordPress's REST pipeline, route by route.

A request goes the way `WP_REST_Server::serve_request` takes it: an injected fault answers first;
then authentication (`auth`), the route table below (a known route with a wrong method is "no
route"), argument validation (`params`), the permission check, and the handler, which changes the
store (`store`) and renders the answer (`render`, `listing`). Batches answer 200 with per-item
errors and refuse more than 100 items. One lock guards the store, so the sandbox's HTTP threads
can share it.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import httpx

from . import fields, filesort, listing, recorded
from .auth import ApiKey, Authentication, random_key, strip_secrets
from .errors import Json, WooError
from .params import (
    NOTE_WRITE_ARGS,
    ORDER_LIST_ARGS,
    ORDER_WRITE_ARGS,
    PRODUCT_LIST_ARGS,
    PRODUCT_WRITE_ARGS,
    TERM_LIST_ARGS,
    TERM_WRITE_ARGS,
    VARIATION_LIST_ARGS,
    VARIATION_WRITE_ARGS,
    WEBHOOK_CREATE_ARGS,
    WEBHOOK_LIST_ARGS,
    WEBHOOK_UPDATE_ARGS,
    PhpValue,
    php_parse_str,
    php_to_json,
    to_bool,
    validate_args,
    wp_parse_list,
)
from .render import (
    API_ROOT,
    error_response,
    json_response,
    render_note,
    render_order,
    render_product,
    render_system_status,
    render_term,
    render_variation,
    render_variation_as_product,
    render_webhook,
)
from .store import Now, Store
from .webhooks import Delivery, Hookshot, Webhook

__all__ = ["FakeWooCommerce", "Fault"]

NAMESPACE = "wc/v3"
BATCH_LIMIT = 100
"""woocommerce_rest_batch_items_limit's default."""


_BATCH = {"POST": "_batch_products", "PUT": "_batch_products", "PATCH": "_batch_products"}


def _editable(kind: str) -> dict[str, str]:
    """GET one item, and POST/PUT/PATCH it (WordPress's EDITABLE)."""
    return {"GET": f"_get_{kind}", "POST": f"_put_{kind}", "PUT": f"_put_{kind}", "PATCH": f"_put_{kind}"}


# Answers that are one resource keep `_links` whatever `_fields` says; lists trim each item.
_RESOURCE_ROUTES = frozenset(
    {
        "/wc/v3/products/(?P<id>[\\d]+)",
        "/wc/v3/products/(?P<product_id>[\\d]+)/variations/(?P<id>[\\d]+)",
        "/wc/v3/orders/(?P<id>[\\d]+)",
        "/wc/v3/products/tags/(?P<id>[\\d]+)",
        "/wc/v3/products/categories/(?P<id>[\\d]+)",
        "/wc/v3/webhooks/(?P<id>[\\d]+)",
    }
)
_COLLECTION_ROUTES = frozenset(
    {
        "/wc/v3/products",
        "/wc/v3/products/(?P<product_id>[\\d]+)/variations",
        "/wc/v3/orders",
        "/wc/v3/orders/(?P<order_id>[\\d]+)/notes",
        "/wc/v3/products/tags",
        "/wc/v3/products/categories",
        "/wc/v3/webhooks",
    }
)


@dataclass
class _Served:
    """What the pipeline learnt about a request that decides the answer's headers."""

    authenticated: bool = False
    allow: list[str] | None = None


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


class FakeWooCommerce(Store):
    """A WooCommerce store in memory, answering the REST v3 routes the connector uses.

    Use `transport()` to route an `httpx.AsyncClient` into it, or `sandbox.serve()` to put it on
    a loopback port. Seed it with `create_product`, `create_variation` and `create_order`, which
    run the same code as the REST routes. `requests` records every request handled (method, URL
    path, query without secrets); `fail_next` injects failures (503, 429 with Retry-After, ...).

    `timezone` is the store's (WordPress → Settings → General). `now` is its clock: products
    created at one moment share a creation second, and listings by date then page them as
    MariaDB does. `row_estimate` is InnoDB's estimate of wp_posts' rows, which decides up to which
    `offset + per_page` MariaDB keeps a priority queue (a third of it); the default, one leaf
    page's worth (356), is what a young store's statistics say, and a store whose statistics
    have caught up with a large catalogue estimates ten or more rows per post.
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
        row_estimate: int = filesort.row_estimate(1),
    ) -> None:
        super().__init__(now=now, timezone=timezone)
        self.base_url = base_url
        # InnoDB's row estimate for wp_posts decides when MariaDB sorts product pages with a
        # priority queue; a young store's statistics say one leaf page (see `filesort`).
        self.row_estimate = row_estimate
        if key_permissions not in ("read", "write", "read_write"):
            raise ValueError(f"key_permissions: one of read, write, read_write (got {key_permissions!r})")
        key = ApiKey(consumer_key or random_key("ck_"), consumer_secret or random_key("cs_"), key_permissions)
        self._auth = Authentication(key, auth_clock)
        self._lock = threading.RLock()
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self._faults: list[Fault] = []
        # Webhooks live in their own table (wc_webhooks), with its own id sequence.
        self._next_webhook_id = 1
        self._hookshot = Hookshot(
            lock=self._lock, now=self.now, render=self._webhook_payload, home_url=lambda: self._base_url
        )

    def __repr__(self) -> str:
        return f"FakeWooCommerce(base_url={self.base_url!r}, products={len(self.products)}, orders={len(self.orders)})"

    # ---- credentials -----------------------------------------------------------------------

    @property
    def consumer_key(self) -> str:
        return self._auth.key.consumer_key

    @property
    def consumer_secret(self) -> str:
        return self._auth.key.consumer_secret

    @property
    def base_url(self) -> str:
        return self._base_url

    @base_url.setter
    def base_url(self, value: str) -> None:
        self._base_url = value.rstrip("/")

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
        with self._action():
            fields = self._terms_by_name(fields)
            validate_args(fields, PRODUCT_WRITE_ARGS)
            return self._render_product(self._create_product(fields), edit=True)

    def create_variation(self, product_id: int, **fields: Any) -> Json:
        """Create a variation as POST products/<id>/variations would."""
        with self._action():
            validate_args(fields, VARIATION_WRITE_ARGS)
            parent = self._product(product_id, status=404)
            return self._render_variation(self._create_variation(parent, fields), created=True)

    def create_order(self, **fields: Any) -> Json:
        """Create an order as POST orders would (stock is reduced for paid/on-hold statuses)."""
        with self._action():
            validate_args(fields, ORDER_WRITE_ARGS)
            return self._render_order(self._create_order(fields))

    def update_order(self, order_id: int, **fields: Any) -> Json:
        """Update an order as PUT orders/<id> would."""
        with self._action():
            validate_args(fields, ORDER_WRITE_ARGS)
            return self._render_order(self._update_order(self._order(order_id, status=400), fields))

    def update_product(self, product_id: int, **fields: Any) -> Json:
        """Update a product as PUT products/<id> would."""
        with self._action():
            fields = self._terms_by_name(fields)
            validate_args(fields, PRODUCT_WRITE_ARGS)
            product = self._product(product_id, status=400)
            return self._render_product(self._save_product(product, fields), edit=True)

    def get_product(self, product_id: int) -> Json:
        with self._action():
            return self._render_product(self._product(product_id, status=404))

    def get_variation(self, product_id: int, variation_id: int) -> Json:
        with self._action():
            return self._render_variation(self._variation(product_id, variation_id, status=404))

    def get_order(self, order_id: int) -> Json:
        with self._action():
            return self._render_order(self._order(order_id, status=404))

    def order_notes(self, order_id: int) -> list[Json]:
        with self._action():
            return [self._render_note(order_id, note) for note in self.notes.get(order_id, [])]

    def tag(self, name: str) -> Json:
        """The product tag called `name`, created when missing (REST assigns tags by id)."""
        with self._action():
            return self._term(self.tags, name)

    def category(self, name: str) -> Json:
        with self._action():
            return self._term(self.categories, name)

    def create_webhook(self, **fields: Any) -> Json:
        """Create a webhook as POST webhooks would (its ping is sent like any delivery)."""
        with self._action():
            validate_args(fields, WEBHOOK_CREATE_ARGS)
            return self._render_webhook(self._new_webhook(fields))

    # ---- webhooks: what a test reads back ------------------------------------------------------

    @property
    def webhooks(self) -> list[Webhook]:
        """The store's webhooks, with what the REST API does not show (`failure_count`)."""
        with self._lock:
            return list(self._hookshot.webhooks.values())

    @property
    def deliveries(self) -> list[Delivery]:
        """Every delivery the store attempted (pings included), oldest first."""
        with self._lock:
            return list(self._hookshot.deliveries)

    def wait_for_deliveries(self, timeout: float = 10.0) -> bool:
        """Wait until every delivery owed so far was attempted; False if `timeout` passed first."""
        return self._hookshot.wait(timeout)

    @contextmanager
    def _action(self) -> Iterator[None]:
        """One request's worth of work under the lock; the webhooks it fired are queued at its end."""
        with self._lock:
            try:
                yield
            finally:
                fired, self.fired = self.fired, []
                self._hookshot.fire(fired)

    def _webhook_payload(self, resource: str, resource_id: int) -> Json | None:
        """What `GET /wc/v3/<resource>s/<id>` would answer now (the store's lock is held)."""
        try:
            if resource == "order":
                return self._render_order(self._order(resource_id, status=404))
            if resource == "product":
                if resource_id in self.variations:
                    return render_variation_as_product(self, self.variations[resource_id], self._base_url)
                return self._render_product(self._product(resource_id, status=404))
        except WooError as error:
            return error.body()  # the resource went before the delivery: get_endpoint_data's error
        return None

    # ---- HTTP entry point ------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one HTTP request the way WordPress + WooCommerce would."""
        with self._action():
            query = php_to_json(php_parse_str(request.url.query.decode()))
            if not isinstance(query, dict):
                query = {}
            self.requests.append((request.method, request.url.path, strip_secrets(query)))
            fault = next((f for f in self._faults if f.matches(request.url.path)), None)
            if fault is not None:
                fault.times -= 1
                self._faults = [f for f in self._faults if f.times > 0]
                return self._fault_response(fault)
            served = _Served()
            try:
                response = self._serve(request, query, served)
            except WooError as error:
                response = self._error_response(error)
            return self._with_server_headers(response, served)

    # ---- the request pipeline (WP_REST_Server::serve_request) -------------------------------

    def _serve(self, request: httpx.Request, query: dict[str, Any], served: _Served) -> httpx.Response:
        raw_path = request.url.raw_path.decode().split("?", 1)[0]
        form = self._form_params(request)
        authenticated, auth_error, auth_method = self._auth.authenticate(request, raw_path, form, self._base_url)
        if auth_error is not None:
            headers = []
            if auth_method == "basic_auth":
                headers.append(
                    (
                        "WWW-Authenticate",
                        'Basic realm="WooCommerce API. Use a consumer key in the username field and a consumer'
                        ' secret in the password field."',
                    )
                )
            return self._error_response(auth_error, headers)
        served.authenticated = authenticated

        route = self._route_of(request.url.path)
        parsed = Parsed(request.method.upper(), request.url.path, route, query, {})
        if authenticated:
            self._auth.check_key_permissions(self._method(parsed))
        handler, groups, kind, wp_route = self._match(parsed)
        served.allow = self._allowed_methods(wp_route, groups, authenticated)
        # The body is parsed once the route is matched: a broken one still gets the route's Allow.
        parsed.body = self._body_params(request, form)
        response = handler(parsed, authenticated, kind, **groups)
        names = fields.requested(parsed.query)
        if names is not None and response.is_success and kind != "OPTIONS":
            response = self._trimmed(response, names, wp_route)
        return response

    def _with_server_headers(self, response: httpx.Response, served: _Served) -> httpx.Response:
        """The headers WordPress sends with every REST answer, in the order the real store sends them."""
        own = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in ("content-type", "content-length")]
        headers = [
            ("Content-Type", response.headers.get("content-type", "application/json; charset=UTF-8")),
            ("X-Robots-Tag", "noindex"),
        ]
        if not any(k.lower() == "link" for k, _ in own):
            # A paginated answer's own Link replaces this one (PHP's header() replaces by name).
            headers.append(("Link", f'<{self._base_url}/wp-json/>; rel="https://api.w.org/"'))
        headers += [
            ("X-Content-Type-Options", "nosniff"),
            ("Access-Control-Expose-Headers", "X-WP-Total, X-WP-TotalPages, Link"),
            (
                "Access-Control-Allow-Headers",
                "Authorization, X-WP-Nonce, Content-Disposition, Content-MD5, Content-Type",
            ),
            *own,
        ]
        if served.allow:
            headers.append(("Allow", ", ".join(served.allow)))
        if served.authenticated:
            # wp_get_nocache_headers, sent for a logged-in user (a valid API key logs one in).
            headers += [
                ("Expires", "Wed, 11 Jan 1984 05:00:00 GMT"),
                ("Cache-Control", "no-cache, must-revalidate, max-age=0, no-store, private"),
            ]
        return httpx.Response(response.status_code, headers=headers, content=response.content)

    def _trimmed(self, response: httpx.Response, names: list[str], wp_route: str) -> httpx.Response:
        body = json.loads(response.content)
        orders = wp_route.startswith("/wc/v3/orders") and "notes" not in wp_route
        products = wp_route in ("/wc/v3/products", "/wc/v3/products/(?P<id>[\\d]+)")
        if wp_route in _RESOURCE_ROUTES:
            body = fields.trim_item(body, names, keep_links=True, nested_objects=orders, in_asked_order=products)
        elif wp_route in _COLLECTION_ROUTES and isinstance(body, list):
            body = [
                fields.trim_item(item, names, keep_links=False, nested_objects=orders, in_asked_order=products)
                for item in body
            ]
        else:
            body = fields.trim(body, names)
        headers = [
            (k, v) for k, v in response.headers.multi_items() if k.lower() not in ("content-type", "content-length")
        ]
        return json_response(response.status_code, body, headers)

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
            # PHP's json_last_error / json_last_error_msg for what json_decode refused.
            code, message = (
                (5, "Malformed UTF-8 characters, possibly incorrectly encoded")
                if isinstance(exc, UnicodeDecodeError)
                else (4, "Syntax error")
            )
            raise WooError(
                "rest_invalid_json", "Invalid JSON body passed.", 400, json_error_code=code, json_error_message=message
            ) from None
        return body if isinstance(body, dict) else {}

    # ---- routing -----------------------------------------------------------------------------

    # (pattern the fake matches, WordPress's name of the route, handler per method)
    _ROUTES: tuple[tuple[str, str, dict[str, str]], ...] = (
        (r"/", "/", {"GET": "_site_index"}),
        (r"/wc/v3", "/wc/v3", {"GET": "_index"}),
        (r"/wc/v3/products", "/wc/v3/products", {"GET": "_list_products", "POST": "_post_product"}),
        (r"/wc/v3/products/batch", "/wc/v3/products/batch", _BATCH),
        (
            r"/wc/v3/products/(?P<product_id>\d+)",
            "/wc/v3/products/(?P<id>[\\d]+)",
            {**_editable("product"), "DELETE": "_delete_product"},
        ),
        (
            r"/wc/v3/products/(?P<product_id>\d+)/variations",
            "/wc/v3/products/(?P<product_id>[\\d]+)/variations",
            {"GET": "_list_variations", "POST": "_post_variation"},
        ),
        (
            r"/wc/v3/products/(?P<product_id>\d+)/variations/batch",
            "/wc/v3/products/(?P<product_id>[\\d]+)/variations/batch",
            dict.fromkeys(_BATCH, "_batch_variations"),
        ),
        (
            r"/wc/v3/products/(?P<product_id>\d+)/variations/(?P<variation_id>\d+)",
            "/wc/v3/products/(?P<product_id>[\\d]+)/variations/(?P<id>[\\d]+)",
            _editable("variation"),
        ),
        (r"/wc/v3/products/tags", "/wc/v3/products/tags", {"GET": "_list_tags", "POST": "_post_tag"}),
        (r"/wc/v3/products/tags/(?P<term_id>\d+)", "/wc/v3/products/tags/(?P<id>[\\d]+)", {"GET": "_get_tag"}),
        (
            r"/wc/v3/products/categories",
            "/wc/v3/products/categories",
            {"GET": "_list_categories", "POST": "_post_category"},
        ),
        (
            r"/wc/v3/products/categories/(?P<term_id>\d+)",
            "/wc/v3/products/categories/(?P<id>[\\d]+)",
            {"GET": "_get_category"},
        ),
        (r"/wc/v3/orders", "/wc/v3/orders", {"GET": "_list_orders", "POST": "_post_order"}),
        (
            r"/wc/v3/orders/(?P<order_id>\d+)",
            "/wc/v3/orders/(?P<id>[\\d]+)",
            {**_editable("order"), "DELETE": "_delete_order"},
        ),
        (
            r"/wc/v3/orders/(?P<order_id>\d+)/notes",
            "/wc/v3/orders/(?P<order_id>[\\d]+)/notes",
            {"GET": "_list_notes", "POST": "_post_note"},
        ),
        (r"/wc/v3/settings", "/wc/v3/settings", {"GET": "_list_setting_groups"}),
        (r"/wc/v3/settings/(?P<group>[\w-]+)", "/wc/v3/settings/(?P<group_id>[\\w-]+)", {"GET": "_get_settings"}),
        (r"/wc/v3/system_status", "/wc/v3/system_status", {"GET": "_system_status"}),
        (r"/wc/v3/webhooks", "/wc/v3/webhooks", {"GET": "_list_webhooks", "POST": "_post_webhook"}),
        (r"/wc/v3/webhooks/batch", "/wc/v3/webhooks/batch", dict.fromkeys(_BATCH, "_batch_webhooks")),
        (
            r"/wc/v3/webhooks/(?P<webhook_id>\d+)",
            "/wc/v3/webhooks/(?P<id>[\\d]+)",
            {**_editable("webhook"), "DELETE": "_delete_webhook"},
        ),
    )

    @staticmethod
    def _method(parsed: Parsed) -> str:
        # WordPress lets a client tunnel a method through POST with _method / X-HTTP-Method-Override.
        override = parsed.query.get("_method")
        if parsed.method == "POST" and isinstance(override, str):
            return override.upper()
        return parsed.method

    def _match(self, parsed: Parsed) -> tuple[Callable[..., httpx.Response], dict[str, Any], str, str]:
        """(handler, URL parameters, method, WordPress's route name) for the request."""
        method = self._method(parsed)
        for pattern, wp_route, handlers in self._ROUTES:
            found = re.fullmatch(pattern, parsed.route, flags=re.IGNORECASE)
            if not found:
                continue
            groups: dict[str, Any] = {k: (v if k == "group" else int(v)) for k, v in found.groupdict().items()}
            if method == "OPTIONS":
                # rest_handle_options_request: the route's description, whoever asks.
                return self._options, {"wp_route": wp_route}, method, wp_route
            if method not in handlers:
                break  # WordPress answers a known route with a wrong method as "no route"
            return getattr(self, handlers[method]), groups, method, wp_route
        raise WooError("rest_no_route", "No route was found matching the URL and request method.", 404)

    def _allowed_methods(self, wp_route: str, groups: Mapping[str, Any], authenticated: bool) -> list[str] | None:
        """rest_send_allow_header: the route's methods whose permission check passes for this request."""
        if wp_route == "/":
            return ["GET"]
        methods: list[str] = recorded.route_entry(wp_route)["methods"]
        if wp_route == "/wc/v3":
            return methods  # no permission check
        if not authenticated:
            return None
        if "variation_id" in groups:
            variation = self.variations.get(groups["variation_id"])
            if variation is None or variation["parent_id"] != groups.get("product_id"):
                # The variation routes' permission checks refuse an unknown variation, or one
                # asked for under another product, for every method (products and orders do not).
                return None
        return methods

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
        return json_response(fault.status, body, list((fault.headers or {}).items()))

    @staticmethod
    def _error_response(error: WooError, headers: Iterable[tuple[str, str]] = ()) -> httpx.Response:
        return error_response(error, headers)

    # ---- rendering (see `render` and `listing`) ------------------------------------------------

    def _render_product(self, product: Json, *, edit: bool = False) -> Json:
        return render_product(self, product, self._base_url, edit=edit)

    def _render_variation(self, variation: Json, *, created: bool = False) -> Json:
        return render_variation(self, variation, self._base_url, created=created)

    def _render_order(self, order: Json) -> Json:
        return render_order(self, order, self._base_url)

    def _render_note(self, order_id: int, note: Json) -> Json:
        return render_note(self, order_id, note, self._base_url)

    def _render_term(self, table: dict[int, Json], route: str, term: Json) -> Json:
        return render_term(self, table, route, term, self._base_url)

    def _collection(
        self,
        records: list[Json],
        params: Mapping[str, Any],
        parsed: Parsed,
        base_route: str,
        render: Callable[[Json], Json],
    ) -> httpx.Response:
        return listing.collection(
            records, params, parsed.query, f"{self._base_url}{API_ROOT}/{base_route}", render, self._paging(base_route)
        )

    def _paging(self, base_route: str) -> listing.Paging:
        # Only the products query loses its id tie-break (WooCommerce's catalogue ordering).
        return listing.Paging(self.timezone, unstable_dates=base_route == "products", row_estimate=self.row_estimate)

    # ---- route handlers: index ---------------------------------------------------------------

    def _site_index(self, parsed: Parsed, authenticated: bool, kind: str) -> httpx.Response:
        """GET /wp-json/: the site, its timezone and its namespaces (no credentials needed)."""
        home = self._base_url
        body = {
            "name": "WooCommerce",
            "description": "",
            "url": home,
            "home": home,
            "gmt_offset": self.gmt_offset(),
            "timezone_string": self.timezone_string(),
            "page_for_posts": 0,
            "page_on_front": 0,
            "show_on_front": "posts",
            "namespaces": [NAMESPACE],
            "authentication": [],
            "routes": {
                wp_route: self._route_description(wp_route) for _, wp_route, _ in self._ROUTES if wp_route != "/"
            },
            "site_logo": 0,
            "site_icon": 0,
            "site_icon_url": "",
            "_links": {"help": [{"href": "https://developer.wordpress.org/rest-api/"}]},
        }
        return json_response(200, body)

    def _index(self, parsed: Parsed, authenticated: bool, kind: str) -> httpx.Response:
        routes = {wp_route: self._route_description(wp_route) for _, wp_route, _ in self._ROUTES if wp_route != "/"}
        body = {"namespace": NAMESPACE, "routes": routes, "_links": {"up": [{"href": f"{self._base_url}/wp-json/"}]}}
        return json_response(200, body)

    def _route_description(self, wp_route: str) -> Json:
        entry = recorded.route_entry(wp_route)
        if "(?P<" not in wp_route:
            # WordPress links the routes that need no URL parameters.
            entry["_links"] = {"self": [{"href": f"{self._base_url}/wp-json{wp_route}"}]}
        return entry

    def _options(self, parsed: Parsed, authenticated: bool, kind: str, wp_route: str) -> httpx.Response:
        if wp_route == "/":
            return json_response(200, {"namespace": "", "methods": ["GET"], "endpoints": []})
        body = recorded.options(wp_route)
        if "(?P<" not in wp_route:
            body["_links"] = {"self": [{"href": f"{self._base_url}/wp-json{wp_route}"}]}
        return json_response(200, body)

    # ---- route handlers: products ------------------------------------------------------------

    def _list_products(self, parsed: Parsed, authenticated: bool, kind: str) -> httpx.Response:
        params = parsed.params
        validate_args(params, PRODUCT_LIST_ARGS)
        self._require(authenticated, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        selects = listing.product_filter(self, params)
        if params.get("sku"):
            # The SKU lookup table's index finds the records holding those SKUs; the catalogue is
            # not scanned (a pass asks for 100 SKUs at a time of a store of 100,000).
            held = [r for r in map(self.sku_owner, listing.skus(str(params["sku"]))) if r is not None]
            products = sorted((r for r in held if r["id"] in self.products), key=lambda r: r["id"])
            variations = sorted((r for r in held if r["id"] in self.variations), key=lambda r: r["id"])
        else:
            products, variations = list(self.products.values()), []
        found = [p for p in products if selects(p)]
        if variations and not any(params.get(k) for k in ("type", "category", "tag")):
            # With `sku` WooCommerce queries post types product and product_variation.
            selects = listing.variation_in_products_filter(self, params)
            found += [v for v in variations if selects(v)]
        return self._collection(found, params, parsed, "products", self._render_any_product)

    def _render_any_product(self, record: Json) -> Json:
        if record.get("type") == "variation":
            return render_variation_as_product(self, record, self._base_url)
        return self._render_product(record)

    def _get_product(self, parsed: Parsed, authenticated: bool, kind: str, product_id: int) -> httpx.Response:
        self._require(authenticated, "woocommerce_rest_cannot_view", "Sorry, you cannot view this resource.")
        if product_id in self.variations:
            # The products controller reads any product object, a variation too.
            return json_response(200, render_variation_as_product(self, self.variations[product_id], self._base_url))
        return json_response(200, self._render_product(self._product(product_id, status=404)))

    def _post_product(self, parsed: Parsed, authenticated: bool, kind: str) -> httpx.Response:
        validate_args(parsed.params, PRODUCT_WRITE_ARGS)
        self._require(
            authenticated, "woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources."
        )
        if parsed.params.get("id"):
            raise WooError("woocommerce_rest_product_exists", "Cannot create existing product.", 400)
        product = self._create_product(parsed.body)
        location = f"{self._base_url}{API_ROOT}/products/{product['id']}"
        return json_response(201, self._render_product(product, edit=True), [("Location", location)])

    def _put_product(self, parsed: Parsed, authenticated: bool, kind: str, product_id: int) -> httpx.Response:
        validate_args(parsed.params, PRODUCT_WRITE_ARGS)
        self._require(
            authenticated, "woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."
        )
        # WC_REST_CRUD_Controller::update_item answers an unknown id with 400 (GET says 404).
        product = self._product(product_id, status=400)
        return json_response(200, self._render_product(self._save_product(product, parsed.body), edit=True))

    def _batch_products(self, parsed: Parsed, authenticated: bool, kind: str) -> httpx.Response:
        self._require(
            authenticated,
            "woocommerce_rest_cannot_batch",
            "Sorry, you are not allowed to batch manipulate this resource.",
        )

        def create(fields: Json) -> Json:
            return self._render_product(self._create_product(fields), edit=True)

        def update(fields: Json) -> Json:
            product_id = self._batch_id(fields)
            self._refuse_variation(product_id)
            product = self._product(product_id, status=400)
            return self._render_product(self._save_product(product, fields), edit=True)

        def delete(product_id: int) -> Json:
            self._refuse_variation(product_id)
            return self._remove_product(product_id, force=True)

        return self._batch(parsed.body, create, update, delete)

    def _refuse_variation(self, product_id: int) -> None:
        if product_id in self.variations:
            # WC_REST_Products_Controller checks the post type; its message is HTML-escaped.
            raise WooError(
                "woocommerce_rest_invalid_product_id",
                "To manipulate product variations you should use the /products/&lt;product_id&gt;/variations/&lt;id&gt;"
                " endpoint.",
                404,
            )

    def _delete_product(self, parsed: Parsed, authenticated: bool, kind: str, product_id: int) -> httpx.Response:
        self._require(
            authenticated, "woocommerce_rest_cannot_delete", "Sorry, you are not allowed to delete this resource."
        )
        force = to_bool(parsed.params.get("force", False))
        return json_response(200, self._remove_product(product_id, force=force))

    def _remove_product(self, product_id: int, *, force: bool) -> Json:
        """WC_REST_Products_Controller::delete_item: the answer shows the product as it was."""
        product = self._product(product_id, status=404)
        rendered = self._render_product(product, edit=True)
        if force:
            # A variable product's variations are deleted with it.
            for variation_id in product["variations"]:
                self.variations.pop(variation_id, None)
            del self.products[product_id]
        elif product["status"] == "trash":
            raise WooError("woocommerce_rest_already_trashed", "The product has already been deleted.", 410)
        else:
            self._trash(product)
        return rendered

    # ---- route handlers: variations ----------------------------------------------------------

    def _list_variations(self, parsed: Parsed, authenticated: bool, kind: str, product_id: int) -> httpx.Response:
        params = parsed.params
        validate_args(params, VARIATION_LIST_ARGS)
        self._require(authenticated, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        # A missing parent is no error: the query for its children finds none (200, totals 0/0).
        parent = self.products.get(product_id, {"variations": []})
        selects = listing.variation_filter(self, params)
        found = [
            self.variations[v] for v in parent["variations"] if v in self.variations and selects(self.variations[v])
        ]
        return self._collection(found, params, parsed, f"products/{product_id}/variations", self._render_variation)

    def _get_variation(
        self, parsed: Parsed, authenticated: bool, kind: str, product_id: int, variation_id: int
    ) -> httpx.Response:
        self._require(authenticated, "woocommerce_rest_cannot_view", "Sorry, you cannot view this resource.")
        return json_response(200, self._render_variation(self._variation(product_id, variation_id, status=404)))

    def _post_variation(self, parsed: Parsed, authenticated: bool, kind: str, product_id: int) -> httpx.Response:
        validate_args(parsed.params, VARIATION_WRITE_ARGS)
        self._require(
            authenticated, "woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources."
        )
        parent = self._product(product_id, status=404)
        variation = self._create_variation(parent, parsed.body)
        location = f"{self._base_url}{API_ROOT}/products/{product_id}/variations/{variation['id']}"
        return json_response(201, self._render_variation(variation, created=True), [("Location", location)])

    def _put_variation(
        self, parsed: Parsed, authenticated: bool, kind: str, product_id: int, variation_id: int
    ) -> httpx.Response:
        validate_args(parsed.params, VARIATION_WRITE_ARGS)
        self._require(
            authenticated, "woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."
        )
        variation = self._variation(product_id, variation_id, status=400)
        return json_response(200, self._render_variation(self._save_variation(variation, parsed.body)))

    def _batch_variations(self, parsed: Parsed, authenticated: bool, kind: str, product_id: int) -> httpx.Response:
        self._require(
            authenticated,
            "woocommerce_rest_cannot_batch",
            "Sorry, you are not allowed to batch manipulate this resource.",
        )
        parent = self._product(product_id, status=404)

        def create(fields: Json) -> Json:
            return self._render_variation(self._create_variation(parent, fields), created=True)

        def update(fields: Json) -> Json:
            # Unknown, or a variation of another product: item status 404 in a batch.
            variation = self._variation(product_id, self._batch_id(fields), status=404)
            return self._render_variation(self._save_variation(variation, fields))

        def delete(variation_id: int) -> Json:
            variation = self._variation(product_id, variation_id, status=404)
            rendered = self._render_variation(variation)
            del self.variations[variation_id]
            parent["variations"].remove(variation_id)
            self._save_product(parent, {}, syncing=True)
            return rendered

        # WC_REST_Product_Variations_Controller::batch_items turns each id to delete into a request
        # body, and that body is what a failed item's `id` shows.
        return self._batch(
            parsed.body,
            create,
            update,
            delete,
            failed_delete_id=lambda i: {"id": i, "product_id": product_id, "force": True},
        )

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
        *,
        failed_delete_id: Callable[[int], Any] = lambda item_id: item_id,
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
        for item in groups.get("create") or []:
            answer.setdefault("create", []).append(self._batch_item(partial(create, dict(item)), 0))
        for item in groups.get("update") or []:
            item_id = item.get("id") if isinstance(item, dict) else None
            answer.setdefault("update", []).append(self._batch_item(partial(update, dict(item)), item_id))
        for raw_id in groups.get("delete") or []:
            item_id = self._batch_id({"id": raw_id})
            if item_id == 0:
                continue
            entry = self._batch_item(partial(delete, item_id), item_id)
            if "error" in entry and set(entry) == {"id", "error"}:
                entry["id"] = failed_delete_id(item_id)
            answer.setdefault("delete", []).append(entry)
        # PHP's empty array: a batch with nothing in it answers [] rather than {}.
        return json_response(200, answer or [])

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
        selects = listing.order_filter(self, statuses, params)
        found = [o for o in self.orders.values() if selects(o)]
        return self._collection(found, params, parsed, "orders", self._render_order)

    def _get_order(self, parsed: Parsed, authenticated: bool, kind: str, order_id: int) -> httpx.Response:
        self._require(authenticated, "woocommerce_rest_cannot_view", "Sorry, you cannot view this resource.")
        return json_response(200, self._render_order(self._order(order_id, status=404)))

    def _post_order(self, parsed: Parsed, authenticated: bool, kind: str) -> httpx.Response:
        validate_args(parsed.params, ORDER_WRITE_ARGS)
        self._require(
            authenticated, "woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources."
        )
        order = self._create_order(parsed.body)
        location = f"{self._base_url}{API_ROOT}/orders/{order['id']}"
        return json_response(201, self._render_order(order), [("Location", location)])

    def _put_order(self, parsed: Parsed, authenticated: bool, kind: str, order_id: int) -> httpx.Response:
        validate_args(parsed.params, ORDER_WRITE_ARGS)
        self._require(
            authenticated, "woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."
        )
        order = self._order(order_id, status=400)
        return json_response(200, self._render_order(self._update_order(order, parsed.body)))

    def _delete_order(self, parsed: Parsed, authenticated: bool, kind: str, order_id: int) -> httpx.Response:
        self._require(
            authenticated, "woocommerce_rest_cannot_delete", "Sorry, you are not allowed to delete this resource."
        )
        order = self._order(order_id, status=404)
        # Like products, the answer shows the order as it was before the delete.
        rendered = self._render_order(order)
        if to_bool(parsed.params.get("force", False)):
            del self.orders[order_id]
            self.notes.pop(order_id, None)
        elif order["status"] == "trash":
            raise WooError("woocommerce_rest_already_trashed", "The shop_order has already been deleted.", 410)
        else:
            order["previous_status"] = order["status"]
            order["status"] = "trash"
            order["date_modified"] = self.now()
            self.fired.append(("order", "deleted", order_id))  # wp_trash_post; a forced delete fires nothing
        return json_response(200, rendered)

    def _list_notes(self, parsed: Parsed, authenticated: bool, kind: str, order_id: int) -> httpx.Response:
        self._require(authenticated, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        self._order_for_note(order_id)
        wanted = parsed.params.get("type", "any")
        # Newest first; notes of one second in the order they were added (as seen on the real store).
        newest_first = sorted(
            self.notes.get(order_id, []), key=lambda n: (-n["date_created"].replace(microsecond=0).timestamp(), n["id"])
        )
        notes = [
            self._render_note(order_id, n)
            for n in newest_first
            if wanted == "any" or (wanted == "customer") == n["customer_note"]
        ]
        return json_response(200, notes)

    def _post_note(self, parsed: Parsed, authenticated: bool, kind: str, order_id: int) -> httpx.Response:
        validate_args(parsed.params, NOTE_WRITE_ARGS)
        self._require(
            authenticated, "woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources."
        )
        note = self._add_note(self._order_for_note(order_id), parsed.params)
        location = f"{self._base_url}{API_ROOT}/orders/{order_id}/notes/{note['id']}"
        return json_response(201, self._render_note(order_id, note), [("Location", location)])

    # ---- route handlers: settings and system status ----------------------------------------------

    def _list_setting_groups(self, parsed: Parsed, authenticated: bool, kind: str) -> httpx.Response:
        self._require(authenticated, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        groups = [("general", "General"), ("products", "Products")]
        body = [
            {
                "id": group,
                "label": label,
                "description": "",
                "parent_id": "",
                "sub_groups": [],
                "_links": {"options": [{"href": f"{self._base_url}{API_ROOT}/settings/{group}"}]},
            }
            for group, label in groups
        ]
        return json_response(200, body)

    def _get_settings(self, parsed: Parsed, authenticated: bool, kind: str, group: str) -> httpx.Response:
        self._require(authenticated, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        options = recorded.settings_group(group)
        if options is None:
            raise WooError("rest_setting_setting_group_invalid", "Invalid setting group.", 404)
        for option in options:
            option["_links"] = {
                "self": [
                    {
                        "href": f"{self._base_url}{API_ROOT}/settings/{group}/{option['id']}",
                        "targetHints": {"allow": ["GET", "POST", "PUT", "PATCH"]},
                    }
                ],
                "collection": [{"href": f"{self._base_url}{API_ROOT}/settings/{group}"}],
            }
        return json_response(200, options)

    def _system_status(self, parsed: Parsed, authenticated: bool, kind: str) -> httpx.Response:
        self._require(authenticated, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        return json_response(200, render_system_status(self, self._base_url))

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
            found = [t for t in found if self.term_count(table, t["id"])]
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
        term = self._insert_term(table, params)
        location = f"{self._base_url}{API_ROOT}/{route}/{term['id']}"
        return json_response(201, self._render_term(table, route, term), [("Location", location)])

    def _get_term(self, table: dict[int, Json], route: str, term_id: int, authenticated: bool) -> httpx.Response:
        self._require(authenticated, "woocommerce_rest_cannot_view", "Sorry, you cannot view this resource.")
        if term_id not in table:
            raise WooError("woocommerce_rest_term_invalid", "Resource does not exist.", 404)
        return json_response(200, self._render_term(table, route, table[term_id]))

    # ---- route handlers: webhooks (WC_REST_Webhooks_Controller) ---------------------------------

    def _render_webhook(self, webhook: Webhook) -> Json:
        return render_webhook(self, webhook, self._base_url)

    def _new_webhook(self, params: Mapping[str, Any]) -> Webhook:
        webhook = self._hookshot.create(self._next_webhook_id, dict(params))
        self._next_webhook_id += 1
        return webhook

    def _list_webhooks(self, parsed: Parsed, authenticated: bool, kind: str) -> httpx.Response:
        params = parsed.params
        validate_args(params, WEBHOOK_LIST_ARGS)
        self._require(authenticated, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        wanted = params.get("status", "all")
        needle = str(params.get("search") or "").lower()
        found: list[Json] = [
            {"id": w.id, "date_created": w.date_created, "name": w.name, "webhook": w}
            for w in self._hookshot.webhooks.values()
            if (wanted == "all" or w.status == wanted) and needle in w.name.lower()
        ]
        return self._collection(found, params, parsed, "webhooks", lambda r: self._render_webhook(r["webhook"]))

    def _get_webhook(self, parsed: Parsed, authenticated: bool, kind: str, webhook_id: int) -> httpx.Response:
        self._require(authenticated, "woocommerce_rest_cannot_view", "Sorry, you cannot view this resource.")
        return json_response(200, self._render_webhook(self._hookshot.get(webhook_id, status=404)))

    def _post_webhook(self, parsed: Parsed, authenticated: bool, kind: str) -> httpx.Response:
        validate_args(parsed.params, WEBHOOK_CREATE_ARGS)
        self._require(
            authenticated, "woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources."
        )
        if parsed.params.get("id"):
            raise WooError("woocommerce_rest_shop_webhook_exists", "Cannot create existing shop_webhook.", 400)
        webhook = self._new_webhook(parsed.params)
        location = f"{self._base_url}{API_ROOT}/webhooks/{webhook.id}"
        return json_response(201, self._render_webhook(webhook), [("Location", location)])

    def _put_webhook(self, parsed: Parsed, authenticated: bool, kind: str, webhook_id: int) -> httpx.Response:
        validate_args(parsed.params, WEBHOOK_UPDATE_ARGS)
        self._require(
            authenticated, "woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."
        )
        webhook = self._hookshot.update(self._hookshot.get(webhook_id, status=400), parsed.params)
        return json_response(200, self._render_webhook(webhook))

    def _delete_webhook(self, parsed: Parsed, authenticated: bool, kind: str, webhook_id: int) -> httpx.Response:
        self._require(
            authenticated, "woocommerce_rest_cannot_delete", "Sorry, you are not allowed to delete this resource."
        )
        if not to_bool(parsed.params.get("force", False)):
            raise WooError("woocommerce_rest_trash_not_supported", "Webhooks do not support trashing.", 501)
        rendered = self._render_webhook(self._hookshot.get(webhook_id, status=404, message="Invalid ID."))
        self._hookshot.delete(webhook_id, force=True)
        return json_response(200, rendered)

    def _batch_webhooks(self, parsed: Parsed, authenticated: bool, kind: str) -> httpx.Response:
        self._require(
            authenticated,
            "woocommerce_rest_cannot_batch",
            "Sorry, you are not allowed to batch manipulate this resource.",
        )

        def create(fields: Json) -> Json:
            validate_args(fields, WEBHOOK_CREATE_ARGS)
            return self._render_webhook(self._new_webhook(fields))

        def update(fields: Json) -> Json:
            webhook = self._hookshot.get(self._batch_id(fields), status=400)
            return self._render_webhook(self._hookshot.update(webhook, fields))

        def delete(webhook_id: int) -> Json:
            rendered = self._render_webhook(self._hookshot.get(webhook_id, status=404, message="Invalid ID."))
            self._hookshot.delete(webhook_id, force=True)
            return rendered

        return self._batch(parsed.body, create, update, delete)
