"""`FakeShopify`: the store behind Shopify's Admin API endpoints, request by request.

A request goes: an injected fault answers first; `POST /admin/oauth/access_token` is the
client-credentials grant (form fields grant_type, client_id, client_secret; answers access_token,
scope, expires_in); `POST /admin/api/<version>/graphql.json` authenticates with
`X-Shopify-Access-Token` (401 with Shopify's body otherwise), parses and validates the document
against the schema, charges its requested cost (`cost`) to the plan's leaky bucket — refusing it
with `THROTTLED` (HTTP 200) when the bucket holds too little, or with `MAX_COST_EXCEEDED` above
1,000 points — runs it (`root`), refunds what it did not spend, and answers `extensions.cost`
with `throttleStatus`; `GET /bulk-results/<key>.jsonl` serves a bulk operation's result and `POST /staged-uploads/` takes a
staged upload (`bulk`).
One lock serves one request at a time, so the sandbox's HTTP threads can share the store.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import httpx
from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    execute_sync,
    get_operation_ast,
    parse,
    validate,
    visit,
)
from graphql.execution.values import get_variable_values

from . import bulk, cost, payloads
from .cost import PLANS, LeakyBucket
from .records import Json
from .root import Root, load_schema
from .store import ALL_SCOPES, Store
from .webhooks import DEFAULT_RETRY_DELAYS

__all__ = ["INVALID_TOKEN", "FakeShopify", "Fault"]

API_VERSIONS = ("2025-10", "2026-01", "2026-04", "2026-07", "2026-10")
"""The stable versions the fake answers, oldest first (Shopify supports each for about a year)."""
VERSION = re.compile(r"^20\d\d-(0[1-9]|1[0-2])$")
DEPRECATION_NOTICE = "https://shopify.dev/api/usage/versioning#deprecation-practices"
"""What the fake sends in X-Shopify-API-Deprecated-Reason when a request uses a deprecated field."""
TOKEN_LIFETIME = 86399
"""Seconds a client-credentials token lives (Shopify: 24 hours; it answers expires_in 86399)."""
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"


@dataclass
class Fault:
    """An injected answer for the next `times` requests whose path contains `path_contains`."""

    status: int
    times: int
    body: Any = None
    headers: Mapping[str, str] | None = None
    path_contains: str | None = None


def _json(status: int, body: Any, headers: Mapping[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status, json=body, headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    )


class FakeShopify(Store):
    """One fake shop behind its HTTP endpoints. Seed it with `add_location`, `create_product`,
    `create_order`; change it like a merchant with `set_available` and `cancel_order` (or through
    the GraphQL mutations); reach it with `transport()` in-process or `sandbox.serve` over HTTP.

    `now` is the shop's wall clock (timestamps, `updated_at` searches); `clock` the monotonic one
    that paces the cost bucket and expires tokens.
    """

    def __init__(
        self,
        shop: str = "fake-shop.myshopify.com",
        *,
        base_url: str | None = None,
        access_token: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        plan: str = "standard",
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        scopes: Iterable[str] = ALL_SCOPES,
        token_lifetime: int = TOKEN_LIFETIME,
        webhook_retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS,
    ) -> None:
        if plan not in PLANS:
            raise ValueError(f"unknown plan {plan!r} (one of {', '.join(PLANS)})")
        super().__init__(shop, base_url=base_url, now=now, scopes=scopes)
        self.access_token = access_token or f"shpat_{secrets.token_hex(16)}"
        self.client_id = client_id or secrets.token_hex(16)
        self.client_secret = client_secret or f"shpss_{secrets.token_hex(16)}"
        self.plan = PLANS[plan]
        self.clock = clock
        self.token_lifetime = token_lifetime
        self.bucket = LeakyBucket(self.plan, clock)
        self.schema = load_schema()
        self._root = Root(self)
        self.issued_tokens: dict[str, float] = {}
        """Client-credentials tokens and when (clock) each expires."""
        self.faults: list[Fault] = []
        self.versions: tuple[str, ...] = API_VERSIONS
        """Supported stable versions, oldest first: an older one is answered as the oldest (fall forward)."""
        self._documents: dict[str, tuple[DocumentNode, list[GraphQLError], list[str]]] = {}
        self.revoked: set[str] = set()
        """Access tokens that no longer work (the app was uninstalled or its token rotated)."""
        self.log: list[Json] = []
        """One entry per GraphQL request: operation, requested and actual cost, throttled, errors."""
        self._in_request = False
        self.webhooks.retry_delays = webhook_retry_delays
        self._serving = threading.Lock()
        """One request at a time: the sandbox's threaded server may run a daemon's reads and an
        operator's writes at once."""

    def __repr__(self) -> str:
        return f"FakeShopify({self.shop!r}, plan={self.plan.name!r})"

    @property
    def throttled(self) -> int:
        """How many GraphQL requests were refused with THROTTLED."""
        return sum(1 for entry in self.log if entry.get("throttled"))

    def fail_next(
        self,
        status: int,
        *,
        times: int = 1,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        path_contains: str | None = None,
    ) -> None:
        """Answer the next `times` requests (whose path contains `path_contains`) with `status`."""
        self.faults.append(Fault(status, times, body, headers, path_contains))

    # --- HTTP ------------------------------------------------------------------------------

    def transport(self) -> httpx.MockTransport:
        """An httpx transport that answers from this fake, in-process."""
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        with self._serving:
            self._in_request = True
            try:
                return self._handle(request)
            finally:
                # Webhooks go out once the request's work is done, each event once.
                self._in_request = False
                self.flush_events()

    # --- webhooks ----------------------------------------------------------------------------

    def flush_events(self) -> None:
        """Render each pending event's payload now and queue its deliveries."""
        if getattr(self, "_in_request", False):
            return
        events, self.events = list(self.events), {}
        for topic, about in events:
            if not self.webhooks.wants(topic):
                continue
            payload = self._event_payload(topic, about)
            if payload is not None:
                self.webhooks.fire(topic, payload)

    def _event_payload(self, topic: str, about: Any) -> Json | None:
        if topic.startswith("ORDERS_"):
            found = self.orders.get(about)
            return payloads.order(self, found) if found else None
        if topic == "PRODUCTS_UPDATE":
            product = self.products.get(about)
            return payloads.product(self, product) if product else None
        item_id, location_id = about
        item = self.inventory_items.get(item_id)
        return payloads.inventory_level(self, item, location_id) if item else None

    def wait_for_deliveries(self, timeout: float = 10.0) -> bool:
        """Wait until every delivery owed so far (retries included) was attempted; False on timeout."""
        return self.webhooks.wait(timeout)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        for fault in self.faults:
            if fault.times > 0 and (fault.path_contains is None or fault.path_contains in path):
                fault.times -= 1
                return _json(fault.status, fault.body if fault.body is not None else {"errors": "Fault"}, fault.headers)
        if request.method == "POST" and path == "/admin/oauth/access_token":
            return self._grant(request)
        match = re.fullmatch(r"/admin/api/([^/]+)/graphql\.json", path)
        if match and request.method == "POST":
            served = self.served_version(match.group(1))
            if served is None:
                return _json(404, {"errors": "Not Found"})
            if not self._authenticated(request):
                return _json(401, {"errors": INVALID_TOKEN})
            response = self._graphql(request, served)
            response.headers["X-Shopify-API-Version"] = served
            return response
        match = re.fullmatch(r"/bulk-results/([0-9a-f]+)\.jsonl", path)
        if match and request.method == "GET":
            return bulk.result(self, match.group(1))
        if path == bulk.STAGED_UPLOAD_PATH and request.method == "POST":
            return bulk.upload(self, request)
        return _json(404, {"errors": "Not Found"})

    def served_version(self, asked: str) -> str | None:
        """The version a request for `asked` runs with: itself when supported, the oldest supported
        one when `asked` is older (Shopify falls forward), None (404) for a version not yet released."""
        if asked in self.versions:
            return asked
        if VERSION.match(asked) and asked < self.versions[0]:
            return self.versions[0]
        return None

    def revoke(self, token: str) -> None:
        """The token stops working, as when the merchant uninstalls the app: every request answers 401."""
        self.revoked.add(token)

    def _authenticated(self, request: httpx.Request) -> bool:
        token = request.headers.get("X-Shopify-Access-Token", "")
        if token in self.revoked:
            return False
        if secrets.compare_digest(token, self.access_token):
            return True
        expires = self.issued_tokens.get(token)
        return expires is not None and self.clock() < expires

    def _grant(self, request: httpx.Request) -> httpx.Response:
        content_type = request.headers.get("Content-Type", "")
        if "json" in content_type:
            try:
                form = {str(k): str(v) for k, v in json.loads(request.content or b"{}").items()}
            except (ValueError, AttributeError):
                form = {}
        else:
            form = dict(parse_qsl(request.content.decode("utf-8", "replace"), keep_blank_values=True))
        if form.get("grant_type") != "client_credentials":
            return _json(
                400, {"error": "unsupported_grant_type", "error_description": "The grant type is not supported."}
            )
        if not (
            secrets.compare_digest(form.get("client_id", ""), self.client_id)
            and secrets.compare_digest(form.get("client_secret", ""), self.client_secret)
        ):
            return _json(401, {"error": "invalid_client", "error_description": "Client authentication failed."})
        token = f"shpat_{secrets.token_hex(16)}"
        self.issued_tokens[token] = self.clock() + self.token_lifetime
        return _json(
            200, {"access_token": token, "scope": ",".join(sorted(self.scopes)), "expires_in": self.token_lifetime}
        )

    def _cost_block(self, requested: int | None, actual: int | None) -> Json:
        return {
            "cost": {"requestedQueryCost": requested, "actualQueryCost": actual, "throttleStatus": self.bucket.status()}
        }

    def _errors(self, errors: list[Json], requested: int | None = None, entry: Json | None = None) -> httpx.Response:
        if entry is not None:
            entry["errors"] = [e.get("extensions", {}).get("code") or e.get("message") for e in errors]
            self.log.append(entry)
        return _json(200, {"errors": errors, "extensions": self._cost_block(requested, None)})

    def _checked(self, text: str) -> tuple[DocumentNode, list[GraphQLError], list[str]]:
        """A document parsed and validated, with the deprecated fields it uses; remembered by its
        text, since a client sends the same few documents again and again."""
        found = self._documents.get(text)
        if found is None:
            document = parse(text)
            problems = validate(self.schema, document)
            found = (document, list(problems), [] if problems else deprecated_uses(self.schema, document))
            if len(self._documents) > 256:
                self._documents.clear()
            self._documents[text] = found
        return found

    def _graphql(self, request: httpx.Request, version: str) -> httpx.Response:
        try:
            body = json.loads(request.content or b"{}")
            text = body["query"]
            variables = body.get("variables") or {}
            operation_name = body.get("operationName")
        except (ValueError, KeyError, TypeError):
            return _json(400, {"errors": {"query": "Required parameter missing or invalid"}})
        entry: Json = {"operation": operation_name, "requested": None, "actual": None, "throttled": False}
        try:
            document, problems, deprecated = self._checked(text)
        except GraphQLError as exc:
            return self._errors([dict(exc.formatted)], entry=entry)
        if problems:
            return self._errors([dict(p.formatted) for p in problems], entry=entry)
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            return self._errors([{"message": "An operation name is required"}], entry=entry)
        entry["operation"] = operation.name.value if operation.name else operation_name
        coerced = get_variable_values(self.schema, operation.variable_definitions or (), variables)
        if isinstance(coerced, list):
            return self._errors([dict(e.formatted) for e in coerced], entry=entry)
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        requested = cost.requested_cost(self.schema, operation, fragments, coerced)
        entry["requested"] = requested
        if requested > cost.MAX_QUERY_COST:
            return self._errors(
                [
                    {
                        "message": f"Query cost is {requested}, which exceeds the single query max cost limit "
                        f"({cost.MAX_QUERY_COST}).\n\nSee https://shopify.dev/concepts/about-apis/rate-limits for more "
                        "information on how the\ncost of a query is calculated.\n\nTo query larger amounts of data with "
                        "fewer limits, bulk operations should be used instead.\nSee "
                        "https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n",
                        "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": cost.MAX_QUERY_COST},
                    }
                ],
                requested,
                entry,
            )
        if not self.bucket.take(requested):
            entry["throttled"] = True
            return self._errors(
                [
                    {
                        "message": "Throttled",
                        "extensions": {
                            "code": "THROTTLED",
                            "documentation": "https://shopify.dev/api/usage/rate-limits",
                        },
                    }
                ],
                requested,
                entry,
            )
        context: Json = {"bulk": False, "scopes": self.scopes, "version": version}
        result = self._execute(document, operation, coerced, context)
        actual = cost.actual_cost(self.schema, operation, fragments, coerced, result.data)
        self.bucket.refund(requested - actual)
        entry["actual"] = actual
        answer: Json = {"data": result.data}
        if result.errors:
            answer["errors"] = [e.formatted for e in result.errors]
            entry["errors"] = [(e.extensions or {}).get("code") or e.message for e in result.errors]
        answer["extensions"] = self._cost_block(requested, actual)
        if context.get("search"):  # Shopify: terms it dropped from a `query:` argument, and why
            answer["extensions"]["search"] = context["search"]
            entry["search_warnings"] = [w for s in context["search"] for w in s["warnings"]]
        self.log.append(entry)
        if deprecated:
            entry["deprecated"] = deprecated
        return _json(200, answer, {"X-Shopify-API-Deprecated-Reason": DEPRECATION_NOTICE} if deprecated else None)

    def _execute(
        self, document: DocumentNode, operation: OperationDefinitionNode, variables: Mapping[str, Any], context: Json
    ) -> Any:
        root = self._root
        faults = self.field_faults

        def field_faults(resolve: Any, parent: Any, info: Any, **args: Any) -> Any:
            # A fault set with `fail_field` fails that root field alone, as a top-level error
            # whose path is its alias: Shopify answers the request's other fields as usual.
            pending = faults.get(info.field_name) if parent is root else None
            if pending:
                fault = pending.pop(0)
                raise GraphQLError(fault["message"], extensions={"code": fault["code"]})
            return resolve(parent, info, **args)

        return execute_sync(
            self.schema,
            document,
            root_value=root,
            context_value=context,
            variable_values=dict(variables),
            operation_name=operation.name.value if operation.name else None,
            middleware=[field_faults],
        )


def deprecated_uses(schema: GraphQLSchema, document: DocumentNode) -> list[str]:
    """The deprecated fields a document selects (`Type.field`)."""
    found: list[str] = []
    info = TypeInfo(schema)

    class Deprecations(Visitor):
        def enter_field(self, node: Any, *args: Any) -> None:
            definition = info.get_field_def()
            if definition is not None and definition.deprecation_reason:
                found.append(f"{info.get_parent_type()}.{node.name.value}")

    visit(document, TypeInfoVisitor(info, Deprecations()))
    return found
