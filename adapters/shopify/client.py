"""The Shopify adapter: Admin GraphQL API reads (pages or a bulk operation) and writes (aliased
requests or bulk imports), each way chosen per pass by its estimated time (`read_estimates`,
`write_estimates`).

Every request goes through `connector.http.send` (the one retry/backoff policy). What is
Shopify's own is added here:

- a `check` callback reads `extensions.cost` of every answer and turns `THROTTLED` into a
  `TransientError` whose `retry_after` is the time the bucket needs to hold the request's cost,
  so the policy module waits and retries it; `ACCESS_DENIED` becomes an `AuthError` naming the
  missing scope; any other GraphQL error a `PlatformError` (not retried);
- pacing: before each request whose estimated cost exceeds what the bucket holds now (the last
  `throttleStatus` plus what has flowed back since), the adapter waits the time the bucket
  needs, with the injected `sleep`. Bucket size and restore rate are read from every answer,
  never assumed;
- page sizes follow the cost budget: the first page is small, then `first` is the largest the
  single-query limit (1,000 points) and the bucket allow, from the per-node cost Shopify reported
  (`requestedQueryCost`), at most 250.

Requests are sent one at a time: Shopify's budget is per app and shop, so parallel requests
would only share it.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import time
from collections.abc import AsyncGenerator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from functools import cache
from importlib.resources import files
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from graphql import (
    OperationDefinitionNode,
    StringValueNode,
    VariableNode,
    Visitor,
    parse,
    print_ast,
    visit,
)

from stockstatus.core.errors import (
    AuthError,
    FetchError,
    PlatformError,
    RemoteError,
    TransientError,
)
from stockstatus.core.http import DEFAULT_POLICY, HttpPolicy, Sleep, pause, receive, send, send_json
from stockstatus.core.model import Decision, Item, OpenOrder, Update, WriteResult
from stockstatus.core.platform import Capabilities, FieldWrite, Restoration, WebhookSubscription

from . import mapping, queries
from .pagination import Cursors
from .settings import MAX_PAGE_SIZE, ShopifySettings
from .versions import ApiVersions

log = logging.getLogger(__name__)

MAX_QUERY_COST = 1000
"""Shopify refuses a single query that requests more (MAX_COST_EXCEEDED)."""
MUTATION_COST = 10
FIRST_PAGE = 10
"""The first page of a listing: small, to learn its per-node cost from the answer."""
ORDER_LINES_PER_PAGE = 20
METAFIELDS_PER_SET = 25
PRODUCT_IDS_PER_QUERY = 50
"""Products named in one incremental `product_ids:` filter (keeps the search string short)."""
CHANGED_PRODUCTS_LIMIT = 2000
"""More changed products than this and an incremental pull reads the whole catalogue instead
(pages or a bulk operation cost less than this many filtered listings)."""
VARIANT_SLOTS, METAFIELD_SLOTS, TAG_SLOTS = 10, 4, 5
"""Aliased slots of PushChanges.graphql (see the file)."""
PASS_SCOPES = (
    "read_products",
    "write_products",
    "read_inventory",
    "read_orders",
    "read_merchant_managed_fulfillment_orders",
    "read_locations",
)
"""What every pass needs: variants and their metafields and policy, stock, the waiting orders and
their fulfilment work, locations."""
ALL_ORDERS_HINT = (
    "the app's token lacks read_all_orders: Shopify shows it only the last 60 days of orders, so work "
    "waiting longer (the oldest pre-orders and backorders) drops out of the queue, its units look free, "
    "and later buyers are promised them first. Request access to all orders for the app and add the "
    "read_all_orders scope"
)
SCOPES_PAGE = "Shopify admin → Settings → Apps → Develop apps → the app → Configuration"
SCOPES_HINT = f"the app needs the access scopes {', '.join(PASS_SCOPES)} ({SCOPES_PAGE})"
STATUS_TYPE, DATE_TYPE, NOTICE_TYPE = "single_line_text_field", "date", "multi_line_text_field"
DEFINITIONS_PAGE = "Shopify admin → Settings → Custom data"
REQUEST_SECONDS = 0.25
"""Assumed round trip of one Admin API request, for the estimates that choose pages or bulk."""
BULK_START_SECONDS = 5.0
"""Assumed time before a bulk operation's first object, however small it is (Shopify queues it)."""
RESTORE_RATE = 100.0
"""Points a second assumed before Shopify has reported the bucket (Standard's documented rate)."""
UPLOAD_BYTES = 90 * 1024 * 1024
"""A bulk import's file is closed past this size (Shopify takes files of up to 100 MB)."""
BULK_BUSY = ("LIMIT_REACHED", "OPERATION_IN_PROGRESS")
"""userErrors codes of a bulk operation refused because the app runs as many as it may."""
SHIPMENTS_PER_PAGE = 8
"""In-transit shipments a page asks for: each may carry 50 line items (an inventory item each),
about 103 cost points, so a page stays well under the 1,000-point single-query limit."""


@dataclass(frozen=True, slots=True)
class Definition:
    """One metafield definition the connector relies on."""

    owner_type: str
    """MetafieldOwnerType: PRODUCTVARIANT or ORDER."""
    setting: str
    """The `MetafieldKeys` field naming its key."""
    type: str
    name: str
    storefront: bool
    """Whether the theme (Storefront API, Liquid) must read it."""


DEFINITIONS = (
    Definition("PRODUCTVARIANT", "status", STATUS_TYPE, "Stock status", True),
    Definition("PRODUCTVARIANT", "eta", DATE_TYPE, "Expected ship date", True),
    Definition("PRODUCTVARIANT", "message", STATUS_TYPE, "Stock message", True),
    Definition("PRODUCTVARIANT", "sellout_status", STATUS_TYPE, "Stock status once sold out", True),
    Definition("PRODUCTVARIANT", "sellout_eta", DATE_TYPE, "Expected ship date once sold out", True),
    Definition("PRODUCTVARIANT", "sellout_message", STATUS_TYPE, "Stock message once sold out", True),
    Definition("ORDER", "notice", NOTICE_TYPE, "Stock notice for the buyer", False),
)


@cache
def document(name: str) -> str:
    """The text of `operations/<name>.graphql`."""
    return files("stockstatus.adapters.shopify").joinpath("operations", f"{name}.graphql").read_text("utf-8")


def _missing_scopes(needed: Iterable[str], granted: frozenset[str]) -> list[str]:
    """The needed scopes not granted; a write scope grants the read one of its resource."""
    return [s for s in needed if s not in granted and s.replace("read_", "write_", 1) not in granted]


def inline_variables(text: str, values: Mapping[str, str]) -> str:
    """The document with its variables replaced by literal strings (bulk queries take none)."""

    class Inline(Visitor):
        def enter_variable(self, node: VariableNode, *args: Any) -> StringValueNode:
            return StringValueNode(value=values[node.name.value])

        def enter_operation_definition(self, node: OperationDefinitionNode, *args: Any) -> OperationDefinitionNode:
            return OperationDefinitionNode(
                operation=node.operation,
                name=node.name,
                directives=node.directives,
                variable_definitions=(),
                selection_set=node.selection_set,
            )

    return print_ast(visit(parse(text), Inline()))


@dataclass
class _Bucket:
    """The last throttleStatus and when it was read."""

    maximum: float
    available: float
    restore_rate: float
    at: float

    def now(self, clock: float) -> float:
        return min(self.maximum, self.available + max(0.0, clock - self.at) * self.restore_rate)


@dataclass(frozen=True, slots=True)
class Estimate:
    """What one way of reading or writing is expected to cost: bucket points and seconds."""

    points: float
    seconds: float
    requests: int

    def __str__(self) -> str:
        return f"{self.points:.0f} points, {self.requests} requests, about {self.seconds:.0f} s"


@dataclass
class _BulkImport:
    """One bulk import of a push: a document run once per line, and the updates behind each line."""

    kind: str
    """The alias of the document's field ("variants" or "metafields"), as in PushChanges."""
    document: str
    lines: list[str] = field(default_factory=list)
    """The JSONL lines: each the variables of one execution."""
    payloads: list[list[dict[str, Any]]] = field(default_factory=list)
    """Per line, its input entries (what `_Work.answer` names in messages)."""
    owners: list[list[list[int]]] = field(default_factory=list)
    """Per line, per input entry, the indexes of the updates it carries."""
    taken: list[Any] = field(default_factory=list)
    """The `_Work` queue entries it carries, given back when it cannot start."""
    size: int = 0
    operation: str | None = None
    started: float = 0.0

    def add(
        self, variables: dict[str, Any], payloads: list[dict[str, Any]], owners: list[list[int]], entry: Any
    ) -> None:
        line = json.dumps(variables, separators=(",", ":")) + "\n"
        self.lines.append(line)
        self.size += len(line.encode())
        self.payloads.append(payloads)
        self.owners.append(owners)
        self.taken.append(entry)

    def content(self) -> bytes:
        return "".join(self.lines).encode()


class Credentials:
    """Where the access token comes from: a static token, or the client-credentials grant."""

    def __init__(
        self, *, token: str | None = None, client_id: str | None = None, client_secret: str | None = None
    ) -> None:
        if (token is None) == (client_id is None or client_secret is None):
            raise ValueError("give a token, or a client id and secret")
        self._token = token
        self._client_id = client_id
        self._client_secret = client_secret
        self.expires_at: float | None = None

    def __repr__(self) -> str:
        kind = "static token" if self._client_id is None else "client credentials"
        return f"Credentials({kind}, <hidden>)"

    @property
    def grant(self) -> bool:
        return self._client_id is not None

    def form(self) -> dict[str, str]:
        assert self._client_id is not None and self._client_secret is not None
        return {"grant_type": "client_credentials", "client_id": self._client_id, "client_secret": self._client_secret}

    def current(self, now: float) -> str | None:
        """The token to use, or None when a new one must be fetched first."""
        if self._token is None or (self.expires_at is not None and now >= self.expires_at):
            return None
        return self._token

    def accept(self, token: str, expires_in: float, now: float) -> None:
        """A fresh token; it is renewed a tenth of its life (at most 5 minutes) before it expires."""
        self._token = token
        self.expires_at = now + expires_in - min(300.0, expires_in / 10)


@dataclass
class _Slots:
    """The writes of one PushChanges request and the updates each depends on."""

    variables: dict[str, Any] = field(default_factory=dict)
    owners: dict[str, list[list[int]]] = field(default_factory=dict)
    """alias → per input entry, the indexes of the updates it carries."""
    used: int = 0


WEBHOOK_TOPICS = ("ORDERS_CREATE", "ORDERS_UPDATED", "ORDERS_CANCELLED", "INVENTORY_LEVELS_UPDATE", "PRODUCTS_UPDATE")
"""What the connector subscribes to: orders placed, changed and cancelled, stock moved at a
location, and products or variants edited (an inventory policy among them)."""


class ShopifyAdapter:
    """One Shopify store, through the Admin GraphQL API."""

    capabilities = Capabilities(max_batch=250, writes_stock_status=False)

    def __init__(
        self,
        settings: ShopifySettings,
        client: httpx.AsyncClient,
        credentials: Credentials,
        *,
        policy: HttpPolicy = DEFAULT_POLICY,
        sleep: Sleep = pause,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._client = client
        self._credentials = credentials
        self._policy = policy
        self._sleep = sleep
        self._clock = clock
        self._bucket: _Bucket | None = None
        self._per_node: dict[str, float] = {}
        self._costs: dict[str, float] = {}
        self._last_requested: float | None = None
        self._versions = ApiVersions(settings.api_version, settings.shop)
        self._counted: tuple[str, ...] = ()
        """Gids of the locations whose stock counts, in the order of the level aliases."""
        self._services: tuple[str, ...] = ()
        """Names of the counted locations a fulfilment service runs."""
        self._checked_scopes: frozenset[str] | None = None
        """The access scopes the last `check` read."""
        self._shipments_denied = False
        """Whether the token was refused inventory shipments (said once, then not asked again)."""
        self._definitions_checked = False
        """Whether the variant metafield definitions were compared with what a push writes."""
        self._plans = mapping.Plans()
        self.paced = 0
        """Times this adapter waited for the bucket before a request (for logs and tests)."""
        self.requests = 0

    def __repr__(self) -> str:
        return f"ShopifyAdapter({self.settings.shop!r}, {self.settings.api_version})"

    # --- requests ----------------------------------------------------------------------------

    async def _token(self) -> str:
        token = self._credentials.current(self._clock())
        if token is not None:
            return token
        try:
            answer = await send_json(
                self._client,
                "POST",
                self.settings.token_url,
                policy=self._policy,
                sleep=self._sleep,
                data=self._credentials.form(),
            )
        except AuthError as exc:
            raise AuthError(
                f"Shopify refused the client ID/secret of {self.settings.shop} (client-credentials grant): check "
                "client_id_env and client_secret_env, and that the app is installed on this shop",
                status=exc.status,
                code=exc.code,
            ) from exc
        except PlatformError as exc:
            raise AuthError(
                f"Shopify refused the client-credentials grant for {self.settings.shop} ({exc})",
                status=exc.status,
                code=exc.code,
            ) from exc
        try:
            body = answer.body
            token, expires_in = str(body["access_token"]), float(body.get("expires_in") or 86399)
        except (ValueError, KeyError, TypeError) as exc:
            raise AuthError(f"{self.settings.token_url} did not answer an access token") from exc
        self._credentials.accept(token, expires_in, self._clock())
        log.info("store %s: new access token, valid %.0f s", self.settings.shop, expires_in)
        return token

    async def _pace(self, estimate: float) -> None:
        bucket = self._bucket
        if bucket is None:
            return
        need = min(estimate, bucket.maximum)
        available = bucket.now(self._clock())
        if need > available and bucket.restore_rate > 0:
            # One point more than needed: Shopify reports whole points, and floats round.
            wait = (need + 1 - available) / bucket.restore_rate
            self.paced += 1
            log.debug("waiting %.2fs for %.0f cost points (bucket holds %.0f)", wait, need, available)
            await self._sleep(wait)

    def _check(self, body: Any, *, partial: bool = False) -> None:
        """Read the cost extension; raise for THROTTLED (retried), ACCESS_DENIED and other errors.

        With `partial`, other errors of an answer whose `data` holds at least one field's answer
        are left to the caller: a mutation document runs each aliased field on its own, so one
        field's error (even Shopify's internal one) says nothing about the others, and sending
        the whole request again would repeat what was applied (see `push`).
        """
        if not isinstance(body, dict):
            raise PlatformError(f"{self.settings.shop}: the GraphQL endpoint answered {type(body).__name__}")
        cost = (body.get("extensions") or {}).get("cost") or {}
        requested_cost = cost.get("requestedQueryCost")
        self._last_requested = float(requested_cost) if isinstance(requested_cost, (int, float)) else None
        throttle = cost.get("throttleStatus") or {}
        if throttle:
            self._bucket = _Bucket(
                maximum=float(throttle.get("maximumAvailable") or 0),
                available=float(throttle.get("currentlyAvailable") or 0),
                restore_rate=float(throttle.get("restoreRate") or 0),
                at=self._clock(),
            )
        errors = body.get("errors")
        if not errors:
            return
        if not isinstance(errors, list):
            raise PlatformError(f"{self.settings.shop}: {errors}")
        codes = [str((e.get("extensions") or {}).get("code") or "") for e in errors if isinstance(e, dict)]
        first = errors[0] if isinstance(errors[0], dict) else {"message": str(errors[0])}
        message = str(first.get("message") or "GraphQL error")
        if "THROTTLED" in codes:
            requested = float(cost.get("requestedQueryCost") or 0)
            bucket = self._bucket
            wait = 1.0
            if bucket is not None and bucket.restore_rate > 0:
                wait = max(0.1, (min(requested, bucket.maximum) + 1 - bucket.available) / bucket.restore_rate)
            raise TransientError(
                f"Shopify throttled the request (needs {requested:.0f} points)",
                status=200,
                code="THROTTLED",
                retry_after=wait,
            )
        answered = isinstance(body.get("data"), dict) and any(v is not None for v in body["data"].values())
        if partial and answered and "ACCESS_DENIED" not in codes:
            return
        if "INTERNAL_SERVER_ERROR" in codes:
            # Shopify's "something went wrong on our end" in a 200: it passes like a 5xx.
            raise TransientError(
                f"Shopify answered an internal error: {message}", status=200, code="INTERNAL_SERVER_ERROR"
            )
        if "ACCESS_DENIED" in codes:
            denied = next(e for e in errors if (e.get("extensions") or {}).get("code") == "ACCESS_DENIED")
            raise AuthError(
                f"Shopify denied access: {denied.get('message')} — {SCOPES_HINT}", status=200, code="ACCESS_DENIED"
            )
        raise PlatformError(f"Shopify answered a GraphQL error: {message}", status=200, code=codes[0] or None)

    async def _graphql(
        self,
        name: str,
        variables: Mapping[str, Any] | None = None,
        *,
        estimate: float | None = None,
        query: str | None = None,
        policy: HttpPolicy | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Run one document from `operations/` and return its `data`.

        Given an `errors` list, GraphQL errors of an answer that has `data` are added to it
        instead of raised (THROTTLED and ACCESS_DENIED still raise).
        """
        text = query or document(name)
        needed = estimate if estimate is not None else self._costs.get(name, 50.0)
        given = dict(variables or {})
        if all(v is None or isinstance(v, (str, int, float, bool)) for v in given.values()):
            # A query's own cost, computed as Shopify computes it: pacing for less gets it throttled.
            needed = max(needed, queries.cached_cost(text, tuple(sorted(given.items()))))
        await self._pace(needed)
        headers = {"X-Shopify-Access-Token": await self._token()}
        payload = {"query": text, "variables": given, "operationName": name}
        self.requests += 1
        try:
            # A retried mutation may already have been applied: every write the connector sends
            # sets absolute values (a policy, a metafield, a tag present or absent), so applying
            # it twice leaves the same store; a buyer notice is sent with attempts=1.
            answer = await send_json(
                self._client,
                "POST",
                self.settings.graphql_url,
                policy=policy or self._policy,
                sleep=self._sleep,
                check=functools.partial(self._check, partial=errors is not None),
                headers=headers,
                json=payload,
            )
        except PlatformError as exc:
            if exc.code == "MAX_COST_EXCEEDED" and self._last_requested is not None:
                self._costs[name] = self._last_requested
            raise
        except AuthError as exc:
            if exc.code == "ACCESS_DENIED":
                raise
            raise AuthError(
                f"Shopify refused the access token for {self.settings.shop} (HTTP {exc.status}): check the token "
                f"in the environment variable the config names; {SCOPES_HINT}",
                status=exc.status,
                code=exc.code,
            ) from exc
        self._versions.read(answer.response)
        body = answer.body
        requested = ((body.get("extensions") or {}).get("cost") or {}).get("requestedQueryCost")
        if isinstance(requested, (int, float)):
            self._costs[name] = float(requested)
        data = body.get("data")
        if not isinstance(data, dict):
            raise PlatformError(f"Shopify answered {name} without data")
        if errors is not None:
            errors.extend(e if isinstance(e, dict) else {"message": str(e)} for e in body.get("errors") or ())
        return data

    def _page_size(self, name: str, guess: float | None = None) -> int:
        """The largest `first` the single-query limit and the bucket allow for one page of `name`.

        From the per-node cost Shopify reported for the listing; before any report, from `guess`
        (the document's own estimate), and never more than FIRST_PAGE until Shopify has answered.
        """
        per_node = self._per_node.get(name)
        budget = float(MAX_QUERY_COST)
        if self._bucket is not None and self._bucket.maximum > 0:
            budget = min(budget, self._bucket.maximum)
        fits = int((budget - 2) // max(per_node if per_node is not None else (guess or 1.0), 1.0))
        largest = min(self.settings.page_size, MAX_PAGE_SIZE)
        if per_node is None:
            largest = min(largest, FIRST_PAGE)
        return max(1, min(largest, fits))

    def _learn(self, name: str, first: int) -> None:
        requested = self._costs.get(name)
        if requested is not None and first > 0:
            self._per_node[name] = max(1.0, (requested - 2) / first)

    async def _pages(
        self, name: str, root: str, variables: Mapping[str, Any], what: str, *, query: str | None = None
    ) -> list[dict[str, Any]]:
        """Every node of a cursor-paged connection (see `_each_page`)."""
        return [node async for page in self._each_page(name, root, variables, what, query=query) for node in page]

    async def _each_page(
        self, name: str, root: str, variables: Mapping[str, Any], what: str, *, query: str | None = None
    ) -> AsyncGenerator[list[dict[str, Any]], None]:
        """The nodes of a cursor-paged connection page by page, each page as large as the budget allows.

        `root` is the connection's path in `data`: a root field, or "object.field" for one
        object's connection (a location's inventory levels). `query` is the document as sent,
        when the adapter shaped it (counted locations written in). A page Shopify refuses as too
        costly (MAX_COST_EXCEEDED) is asked again smaller, sized from the cost Shopify reported.
        """
        text = query or document(name)
        guess = queries.per_node_cost(text, variables)
        cursors = Cursors(what)
        while not cursors.done:
            first = self._page_size(name, guess)
            per_node = self._per_node.get(name, guess)
            try:
                data = await self._graphql(
                    name,
                    {**variables, "first": first, "after": cursors.after},
                    estimate=2 + first * per_node,
                    query=query,
                )
            except PlatformError as exc:
                if exc.code != "MAX_COST_EXCEEDED" or first <= 1:
                    raise
                self._learn(name, first)
                smaller = min(first - 1, self._page_size(name, guess))
                self._per_node[name] = max(self._per_node.get(name, guess), (MAX_QUERY_COST - 2) / (smaller + 1))
                log.info("%s: a page of %d cost more than Shopify allows; asking for %d", what, first, smaller)
                continue
            self._learn(name, first)
            connection: Any = data
            for field_name in root.split("."):
                connection = connection.get(field_name) if isinstance(connection, dict) else None
            if not isinstance(connection, dict) or not isinstance(connection.get("nodes"), list):
                raise FetchError(f"{what}: page {cursors.pages + 1} has no {root}")
            cursors.accept(connection.get("pageInfo"))
            yield connection["nodes"]
        log.debug("%s: %d pages", what, cursors.pages)

    # --- Adapter protocol --------------------------------------------------------------------

    async def check(self) -> None:
        """Read the shop and the token's access scopes; raise AuthError/RemoteError with what to fix."""
        self._checked_scopes = await self._granted_scopes()
        missing = _missing_scopes(PASS_SCOPES, self._checked_scopes)
        if missing:
            raise AuthError(
                f"the app's token for {self.settings.shop} lacks the access scope(s) {', '.join(missing)} "
                f"that every pass needs: add them in {SCOPES_PAGE}, then reinstall the app"
            )
        if "read_all_orders" not in self._checked_scopes:
            log.warning("store %s: %s (%s)", self.settings.shop, ALL_ORDERS_HINT, SCOPES_PAGE)
        try:
            await self.locations()
        except FetchError as exc:  # the pass reports it, with what to set; check is about access
            log.warning("store %s: %s", self.settings.shop, exc)
        if self._services and _missing_scopes(("read_third_party_fulfillment_orders",), self._checked_scopes):
            log.warning(
                "store %s: the locations %s whose stock counts are run by a fulfilment service, and the token "
                "lacks read_third_party_fulfillment_orders: their orders' work is invisible, so it is not queued "
                "and its units look free. Add the scope in %s",
                self.settings.shop,
                ", ".join(self._services),
                SCOPES_PAGE,
            )

        if _missing_scopes(("read_inventory_shipments",), self._checked_scopes):
            log.warning(
                "store %s: without the access scope read_inventory_shipments, incoming stock is dated from the "
                "day it was first seen, not by its shipments' arrival dates (optional; add it in %s)",
                self.settings.shop,
                SCOPES_PAGE,
            )
        await self.metafield_definitions(("PRODUCTVARIANT",), create=self.settings.create_metafield_definitions)

    async def check_notices(self) -> None:
        """Raise AuthError when the token cannot tag orders and set their metafields (write_orders).

        Uses the scopes `check` just read, when it did: `connector check` asks both in a row.
        Then checks the order metafield definition of the notices as `check` does the variants'.
        """
        granted = self._checked_scopes if self._checked_scopes is not None else await self._granted_scopes()
        if _missing_scopes(("write_orders",), granted):
            raise AuthError(
                f"the app's token for {self.settings.shop} lacks the access scope(s) write_orders that "
                f"telling buyers needs (an order tag and metafield): add it in {SCOPES_PAGE}"
            )
        await self.metafield_definitions(("ORDER",), create=self.settings.create_metafield_definitions)

    async def metafield_definitions(
        self, owner_types: Sequence[str], *, create: bool, report_missing: bool = True
    ) -> list[str]:
        """Compare the connector's metafield definitions of `owner_types` with what it writes.

        A definition of another type would make Shopify refuse every write of that metafield:
        that is one PlatformError naming the definition and the fix. A missing definition is
        created when `create` (the store's `create_metafield_definitions`), else logged with how
        to create it: without one, the metafields still save, but the storefront cannot read
        them. A definition the theme cannot read (storefront access) is logged too. Returns the
        keys created.
        """
        keys = self.settings.metafields
        created: list[str] = []
        for owner_type in owner_types:
            wanted = [d for d in DEFINITIONS if d.owner_type == owner_type]
            data = await self._graphql(
                "MetafieldDefinitions", {"ownerType": owner_type, "namespace": keys.namespace}, estimate=20
            )
            found = {
                str(node.get("key")): node
                for node in ((data.get("metafieldDefinitions") or {}).get("nodes") or ())
                if isinstance(node, dict)
            }
            wrong = []
            missing = []
            for definition in wanted:
                key = getattr(keys, definition.setting)
                node = found.get(key)
                if node is None:
                    missing.append(definition)
                    continue
                kind = str((node.get("type") or {}).get("name") or "")
                if kind != definition.type:
                    wrong.append(f"{keys.namespace}.{key} is {kind}, the connector writes {definition.type}")
                elif definition.storefront and (node.get("access") or {}).get("storefront") != "PUBLIC_READ":
                    log.warning(
                        "store %s: the theme cannot read the metafield %s.%s: give its definition storefront "
                        "access in %s",
                        self.settings.shop,
                        keys.namespace,
                        key,
                        DEFINITIONS_PAGE,
                    )
            if wrong:
                raise PlatformError(
                    f"{self.settings.shop}: the {owner_type.lower()} metafield definition(s) "
                    f"{'; '.join(wrong)}: Shopify would refuse every such write. Fix: delete or change those "
                    f"definitions in {DEFINITIONS_PAGE}, or set metafields.namespace (or the key) in this "
                    "store's settings to one the connector can own"
                )
            for definition in missing:
                key = getattr(keys, definition.setting)
                if not create:
                    if not report_missing:
                        continue
                    log.warning(
                        "store %s: no metafield definition for %s.%s (%s): the metafields still save, but "
                        "the theme cannot read them; set create_metafield_definitions = true and run "
                        "`connector check` to create it",
                        self.settings.shop,
                        keys.namespace,
                        key,
                        definition.type,
                    )
                    continue
                await self._create_definition(definition, key)
                created.append(f"{keys.namespace}.{key}")
        return created

    async def _create_definition(self, definition: Definition, key: str) -> None:
        namespace = self.settings.metafields.namespace
        payload: dict[str, Any] = {
            "ownerType": definition.owner_type,
            "namespace": namespace,
            "key": key,
            "name": definition.name,
            "type": definition.type,
            "description": "Written by the stock-status connector.",
        }
        if definition.storefront:
            payload["access"] = {"storefront": "PUBLIC_READ"}
        data = await self._graphql("CreateMetafieldDefinition", {"definition": payload}, estimate=MUTATION_COST)
        answer = data.get("metafieldDefinitionCreate") or {}
        problems = [str(e.get("message")) for e in answer.get("userErrors") or ()]
        if problems or not (answer.get("createdDefinition") or {}).get("id"):
            raise PlatformError(
                f"{self.settings.shop}: could not create the metafield definition {namespace}.{key}: "
                f"{'; '.join(problems) or 'no definition was created'}"
            )
        log.info(
            "store %s: created the metafield definition %s.%s (%s)", self.settings.shop, namespace, key, definition.type
        )

    async def _granted_scopes(self) -> frozenset[str]:
        try:
            data = await self._graphql("Shop")
        except PlatformError as exc:
            if exc.status == 404:
                raise PlatformError(
                    f"no Admin API at {self.settings.graphql_url}: check `shop` (the myshopify domain) and "
                    f"api_version ({exc})",
                    status=exc.status,
                    code=exc.code,
                ) from exc
            raise
        installation = data.get("currentAppInstallation")
        if not isinstance(data.get("shop"), dict) or not isinstance(installation, dict):
            raise PlatformError(f"{self.settings.graphql_url} did not answer the shop and the app's access scopes")
        return frozenset(str(s.get("handle")) for s in installation.get("accessScopes") or () if isinstance(s, dict))

    async def locations(self) -> tuple[int, frozenset[str]]:
        """(active locations, gids of those whose stock counts): the configured ones, else those
        that fulfil online orders. Only the counted ones are asked for in later reads."""
        nodes = await self._pages("Locations", "locations", {}, "locations")
        active = [n for n in nodes if n.get("isActive")]
        wanted = self.settings.locations
        if not wanted:
            chosen = [n for n in active if n.get("fulfillsOnlineOrders")]
            if not chosen:
                raise FetchError(
                    f"{self.settings.shop}: no active location fulfils online orders; name the locations "
                    "whose stock counts in the store's `locations` setting"
                )
        else:
            chosen = []
            for name in wanted:
                match = [
                    n for n in active if name in (n.get("name"), n.get("id"), mapping.GID.sub(r"\2", n.get("id") or ""))
                ]
                if not match:
                    known = ", ".join(sorted(str(n.get("name")) for n in active))
                    raise FetchError(f"{self.settings.shop}: no active location {name!r} (active: {known})")
                chosen.extend(match)
        self._counted = tuple(sorted({str(n["id"]) for n in chosen}, key=_gid_order))
        self._services = tuple(str(n.get("name")) for n in chosen if n.get("isFulfillmentService"))
        return max(1, len(active)), frozenset(self._counted)

    def _variants_query(self) -> str:
        """Variants.graphql with one inventory level per counted location."""
        return queries.at_locations(document("Variants"), self._counted)

    def _variables(self, search: str | None = None) -> dict[str, Any]:
        """The Variants variables: the pull filter (and `search`, e.g. product ids) and the metafields."""
        query = self.settings.pull.search + (f" AND {search}" if search else "")
        return {"query": query, **self._metafield_variables()}

    def _paged(self, points: float, requests: int) -> Estimate:
        """Requests costing `points`: what the bucket holds now is spent first, the rest restores at its rate."""
        bucket = self._bucket
        rate = bucket.restore_rate if bucket is not None and bucket.restore_rate > 0 else RESTORE_RATE
        held = bucket.now(self._clock()) if bucket is not None else 0.0
        return Estimate(points, max(0.0, points - held) / rate + requests * REQUEST_SECONDS, requests)

    def _bulk(self, objects: int, rate: float, operations: int = 1, extra_requests: int = 0) -> Estimate:
        """A bulk operation over `objects`: a start and a result per operation, polls while it runs."""
        wait = objects / rate
        polls = max(1, int(wait // self.settings.bulk_poll_seconds) + 1) * operations
        requests = 2 * operations + polls + extra_requests
        points = (MUTATION_COST + 2) * operations + polls * 2 + extra_requests * MUTATION_COST
        seconds = BULK_START_SECONDS + wait + self.settings.bulk_poll_seconds + requests * REQUEST_SECONDS
        return Estimate(points, seconds, requests)

    def read_estimates(self, count: int, shop_size: int | None = None) -> tuple[Estimate, Estimate]:
        """(pages, bulk) for reading `count` variants with pages, or the shop's `shop_size` in one bulk query.

        Pages: each variant costs what Variants.graphql requests a node at the counted locations,
        a page 2 more, pages as large as the single-query limit and the bucket allow.
        """
        variables = {**self._variables(), "after": None}
        per_variant = max(1.0, queries.per_node_cost(self._variants_query(), variables))
        budget = float(MAX_QUERY_COST)
        if self._bucket is not None and self._bucket.maximum > 0:
            budget = min(budget, self._bucket.maximum)
        first = max(1, min(self.settings.page_size, MAX_PAGE_SIZE, int((budget - 2) // per_variant)))
        pages = max(1, -(-count // first))
        paged = self._paged(count * per_variant + 2 * pages, pages)
        return paged, self._bulk(shop_size if shop_size is not None else count, self.settings.bulk_read_rate)

    def _bulk_pays(self, count: int, shop_size: int | None = None) -> bool:
        """Whether `count` variants are pulled with a bulk operation (over `shop_size`) rather than pages.

        With `bulk_threshold` set, that count decides: it counts variants at one location, and a
        variant read at many counted locations costs more points a page, so the pull turns to a
        bulk operation sooner. Unset, the estimated seconds decide (`read_estimates`).
        """
        if count <= 0:
            return False
        threshold = self.settings.bulk_threshold
        if threshold is not None:
            variables = {**self._variables(), "after": None}
            per_variant = queries.per_node_cost(self._variants_query(), variables)
            one = queries.at_locations(document("Variants"), self._counted[:1])
            return count * per_variant > threshold * queries.per_node_cost(one, variables)
        paged, bulk = self.read_estimates(count, shop_size)
        chosen = bulk.seconds < paged.seconds
        log.info(
            "store %s: reading %d variants: pages %s, a bulk operation %s: %s",
            self.settings.shop,
            count,
            paged,
            bulk,
            "bulk" if chosen else "pages",
        )
        return chosen

    async def count_items(self) -> int | None:
        """The shop's own count of its variants (`productVariantsCount`), apart from the listing; None if not exact."""
        size = (await self._graphql("CatalogueSize")).get("productVariantsCount") or {}
        if size.get("precision") not in (None, "EXACT") or size.get("count") is None:
            return None
        return int(size["count"])

    async def pull_items(self) -> list[Item]:
        """Every variant the pull filter admits, with stock at the counted locations and the connector's metafields."""
        await self.locations()
        size = await self._graphql("CatalogueSize")
        count = int(((size.get("productVariantsCount") or {}).get("count")) or 0)
        # Shipments first, so that each variant is dated as it is mapped.
        arrivals = await self._arrivals(frozenset(self._counted)) if count else {}
        pulled: _Pulled | None = None
        if self._bulk_pays(count):
            log.info(
                "store %s: %d variants at %d counted locations: pulling with a bulk operation",
                self.settings.shop,
                count,
                len(self._counted),
            )
            pulled = await self._bulk_variants(count, arrivals)
        if pulled is None:
            pulled = _Pulled(self, arrivals)
            await self._read_pages(pulled, self._variables(), "variants")
        items = self._finish(pulled)
        log.info(
            "store %s: pulled %d variants in %d requests (%d paced waits)",
            self.settings.shop,
            len(items),
            self.requests,
            self.paced,
        )
        return items

    async def pull_changed(self, since: datetime) -> list[Item] | None:
        """Every variant of each product that changed after `since`; None when that is most of the shop.

        A product counts as changed when it was edited (`products` by `updated_at`), one of its
        variants was (`productVariants` by `updated_at`, the connector's own writes included), or
        the stock of one of its variants moved at a location whose stock counts (that location's
        `inventoryLevels` by `updated_at`: sales, cancellations, counts, incoming). With nothing
        changed that is one read per listing and counted location. All variants of a changed
        product are pulled, so a product tag that follows its variants' statuses is settled on
        whole products. Shopify's search index lags its writes by seconds; `since` already starts
        minutes early.
        """
        await self.locations()
        moment = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        query = f"updated_at:>'{moment}'"
        products: set[int] = set()
        listings: list[tuple[str, str, dict[str, str], str]] = [
            ("ChangedProducts", "products", {}, "changed products"),
            ("ChangedVariants", "productVariants", {}, "changed variants"),
        ]
        listings += [
            ("ChangedStock", "location.inventoryLevels", {"location": location}, f"stock changed at {location}")
            for location in self._counted
        ]
        for name, root, extra, what in listings:
            pages = self._each_page(name, root, {**extra, "query": query}, what)
            async for page in pages:
                for node in page:
                    found = self._changed_products(node, what)
                    if found is None:
                        await pages.aclose()
                        log.info(
                            "store %s: an inventory item shared by many variants changed: pulling the whole catalogue",
                            self.settings.shop,
                        )
                        return None
                    products.update(found)
                if len(products) > CHANGED_PRODUCTS_LIMIT:
                    await pages.aclose()
                    log.info(
                        "store %s: more than %d products changed since %s: pulling the whole catalogue",
                        self.settings.shop,
                        CHANGED_PRODUCTS_LIMIT,
                        moment,
                    )
                    return None
        shop_size: int | None = None
        if self.settings.bulk_threshold is None and products:
            paged, _ = self.read_estimates(len(products))
            if paged.seconds > self._bulk(0, self.settings.bulk_read_rate).seconds:
                shop_size = await self.count_items()  # worth a request only where bulk could win
        if self._bulk_pays(len(products), shop_size):
            # At least a variant each: paging them costs more than a bulk operation over the shop.
            log.info(
                "store %s: %d products changed since %s, at %d counted locations: pulling the whole catalogue",
                self.settings.shop,
                len(products),
                moment,
                len(self._counted),
            )
            return None
        pulled = _Pulled(self, await self._arrivals(frozenset(self._counted)) if products else {})
        ordered = sorted(products)
        for start in range(0, len(ordered), PRODUCT_IDS_PER_QUERY):
            ids = ",".join(str(n) for n in ordered[start : start + PRODUCT_IDS_PER_QUERY])
            await self._read_pages(pulled, self._variables(f"product_ids:{ids}"), "variants of changed products")
        items = self._finish(pulled)
        log.info(
            "store %s: %d products changed since %s: %d variants pulled",
            self.settings.shop,
            len(products),
            moment,
            len(items),
        )
        return items

    def _changed_products(self, node: Mapping[str, Any], what: str) -> list[int] | None:
        """The product numbers a node of a changed-listing names: a product, a variant's, or a stocked item's.

        Empty for stock of an inventory item no variant uses (a deleted variant's): it sells
        nothing. None when an item is shared by more variants than the listing reads.
        """
        if "item" in node:
            variants = (node.get("item") or {}).get("variants") or {}
            if (variants.get("pageInfo") or {}).get("hasNextPage"):
                return None
            return [self._product_number(v, what) for v in variants.get("nodes") or ()]
        return [self._product_number(node, what)]

    def _product_number(self, node: Mapping[str, Any], what: str) -> int:
        global_id = (node.get("product") or {}).get("id") if "product" in node else node.get("id")
        match = mapping.GID.match(str(global_id or ""))
        if match is None or match.group(1) != "Product":
            raise FetchError(f"{self.settings.shop}: a node of {what} names no product (got {global_id!r})")
        return int(match.group(2))

    def _admitted(self, node: Mapping[str, Any]) -> str | None:
        """Why the pull filter leaves a variant out (its product's status, a gift card, a bundle
        parent), or None when it is pulled. Checked on what came back: Shopify drops a search term
        it cannot apply rather than failing the query."""
        pull = self.settings.pull
        product = node.get("product") or {}
        status = str(product.get("status") or "ACTIVE").lower()
        if status not in pull.statuses:
            return status
        if product.get("isGiftCard") and not pull.gift_cards:
            return "gift card"
        if node.get("requiresComponents") and not pull.bundle_parents:
            return "bundle parent"
        return None

    async def _arrivals(self, chosen: frozenset[str]) -> dict[str, list[tuple[date, int]]]:
        """Per inventory item gid, the dated units of in-transit shipments to the counted locations.

        Shipments without an arrival date are left out (their units stay undated `incoming`).
        Without the read_inventory_shipments scope (optional: `check` warns of it) this is logged
        and nothing is dated.
        """
        if self._shipments_denied:
            return {}
        found: dict[str, list[tuple[date, int]]] = {}
        for location in sorted(chosen):
            number = mapping.GID.sub(r"\2", location)
            query = f"destination_id:{number} AND (status:in_transit OR status:partially_received)"
            cursors = Cursors(f"shipments to {location}")
            while not cursors.done:
                try:
                    data = await self._graphql(
                        "InTransitShipments",
                        {"first": SHIPMENTS_PER_PAGE, "after": cursors.after, "query": query},
                        estimate=2 + SHIPMENTS_PER_PAGE * 103,
                    )
                except AuthError as exc:
                    if exc.code != "ACCESS_DENIED":
                        raise
                    self._shipments_denied = True
                    log.info(
                        "store %s: the token cannot read inventory shipments (read_inventory_shipments): incoming "
                        "stock is dated from the day it was first seen, not by the shipments' arrival dates; add "
                        "the scope in %s to use them",
                        self.settings.shop,
                        SCOPES_PAGE,
                    )
                    return {}
                zone = _zone((data.get("shop") or {}).get("ianaTimezone"))
                connection = data.get("inventoryShipments") or {}
                for shipment in connection.get("nodes") or ():
                    arrives = ((shipment.get("tracking") or {}).get("arrivesAt")) or None
                    lines = shipment.get("lineItems") or {}
                    if (lines.get("pageInfo") or {}).get("hasNextPage"):
                        log.warning(
                            "store %s: shipment %s has more than 50 lines: the others stay undated",
                            self.settings.shop,
                            shipment.get("name"),
                        )
                    if arrives is None:
                        continue
                    day = datetime.fromisoformat(str(arrives)).astimezone(zone).date()
                    for line in lines.get("nodes") or ():
                        item = str((line.get("inventoryItem") or {}).get("id") or "")
                        quantity = int(line.get("unreceivedQuantity") or 0)
                        if item and quantity > 0:
                            found.setdefault(item, []).append((day, quantity))
                cursors.accept(connection.get("pageInfo"))
        return found

    async def _read_pages(self, pulled: _Pulled, variables: Mapping[str, Any], what: str) -> None:
        """Variants.graphql page by page, each page mapped to items as it arrives."""
        pages = self._each_page("Variants", "productVariants", variables, what, query=self._variants_query())
        async for page in pages:
            for node in page:
                pulled.add(node)

    def _finish(self, pulled: _Pulled) -> list[Item]:
        """The pulled items; says what the pull filter left out, and which variants a selling plan keeps."""
        items = pulled.items
        if pulled.left_out:
            log.info(
                "store %s: left out by the pull filter: %s",
                self.settings.shop,
                ", ".join(f"{n} {reason}" for reason, n in sorted(pulled.left_out.items())),
            )
        planned = [i for i in items if i.platform.get("selling_plans") and i.platform.get("tracked")]
        if planned and self.settings.selling_plans == "keep":
            names = ", ".join(i.label for i in planned[:10]) + (
                f" and {len(planned) - 10} more" if len(planned) > 10 else ""
            )
            log.warning(
                "store %s: %d variant(s) sold through a selling plan keep the inventory policy their app set "
                '(selling_plans = "manage" hands it to the connector): %s',
                self.settings.shop,
                len(planned),
                names,
            )
        return items

    def _metafield_variables(self) -> dict[str, str]:
        keys = self.settings.metafields
        variables = {
            "namespace": keys.namespace,
            "statusKey": keys.status,
            "etaKey": keys.eta,
            "messageKey": keys.message,
            "selloutStatusKey": keys.sellout_status,
            "selloutEtaKey": keys.sellout_eta,
            "selloutMessageKey": keys.sellout_message,
        }
        for name, prefix in (("release_date", "release"), ("restock_date", "restock"), ("supplier", "supplier")):
            namespace, key = keys.merchant(name)
            variables[f"{prefix}Namespace"], variables[f"{prefix}Key"] = namespace, key
        return variables

    async def _bulk_variants(self, count: int, arrivals: Mapping[str, Sequence[tuple[date, int]]]) -> _Pulled | None:
        """The catalogue through bulkOperationRunQuery: run, poll, then map the result file to items as it arrives.

        None when Shopify runs as many bulk operations for the app as it allows (another pass, or
        one left running): the pull then reads pages. An operation that does not finish in
        `bulk_timeout_seconds` is cancelled. A completed operation without a result file is an
        error for a shop with variants: Shopify gives no file only when nothing matched.
        """
        query = queries.at_locations(document("BulkVariants"), self._counted)
        query = inline_variables(query, {**self._metafield_variables(), "query": self.settings.pull.search})
        started = await self._graphql("RunBulkQuery", {"query": query}, estimate=MUTATION_COST)
        payload = started.get("bulkOperationRunQuery") or {}
        problems = payload.get("userErrors") or []
        operation = payload.get("bulkOperation") or {}
        busy = [p for p in problems if p.get("code") in ("LIMIT_REACHED", "OPERATION_IN_PROGRESS")]
        if busy:
            log.warning(
                "store %s: Shopify runs no more bulk operations for the app now (%s): pulling with pages",
                self.settings.shop,
                busy[0].get("message"),
            )
            return None
        if problems or not operation.get("id"):
            text = "; ".join(str(p.get("message")) for p in problems) or "no bulk operation was created"
            raise FetchError(f"{self.settings.shop}: the bulk pull could not start: {text}")
        waited = 0.0
        while True:
            await self._sleep(self.settings.bulk_poll_seconds)
            waited += self.settings.bulk_poll_seconds
            status = (await self._graphql("BulkOperation", {"id": operation["id"]})).get("bulkOperation") or {}
            state = status.get("status")
            if state == "COMPLETED":
                break
            if state in ("FAILED", "CANCELED", "CANCELING", "EXPIRED") or state is None:
                raise FetchError(
                    f"{self.settings.shop}: the bulk pull ended {state or 'unknown'}"
                    + (f" ({status.get('errorCode')})" if status.get("errorCode") else "")
                    + "; nothing is written for this store until a pull succeeds"
                )
            if waited >= self.settings.bulk_timeout_seconds:
                await self._cancel_bulk(str(operation["id"]))
                raise FetchError(
                    f"{self.settings.shop}: the bulk pull did not finish in "
                    f"{self.settings.bulk_timeout_seconds:.0f} s (still {state}); it was cancelled, so it no "
                    "longer counts against the app's bulk operations. Raise bulk_timeout_seconds for a large shop"
                )
        url = status.get("url")
        if not url:
            if count > 0:
                raise FetchError(
                    f"{self.settings.shop}: the bulk pull completed without a result file although the shop has "
                    f"{count} variants (objects counted: {status.get('objectCount')}); nothing is written for this "
                    "store until a pull succeeds"
                )
            return _Pulled(self, arrivals)
        what = f"{self.settings.shop} bulk pull"
        roots = int(status.get("rootObjectCount") or 0)
        objects = int(status.get("objectCount") or 0)

        async def read(response: httpx.Response) -> _Pulled:
            # Each attempt starts from nothing: the items of a download cut off are dropped with it.
            pulled = _Pulled(self, arrivals)
            rebuilt = BulkResult(what, pulled.add)
            async for line in response.aiter_lines():
                rebuilt.add(line)
            rebuilt.close()
            if len(rebuilt) < roots or rebuilt.objects < objects:  # cut off between two lines
                raise TransientError(
                    f"{what}: the result holds {len(rebuilt)} of the {roots} variants and {rebuilt.objects} of "
                    f"the {objects} objects Shopify counted (cut off)",
                    code="unreadable_body",
                )
            return pulled

        # The file lives at a signed URL (Google Cloud Storage on real shops): no token is sent there.
        # It is read as it arrives; a download cut off or spoilt is fetched again under the policy.
        return await receive(self._client, "GET", str(url), read, policy=self._policy, sleep=self._sleep)

    async def _cancel_bulk(self, operation: str) -> None:
        """Ask Shopify to cancel a bulk operation; a refusal is logged (it may have just ended)."""
        try:
            data = await self._graphql("CancelBulkOperation", {"id": operation}, estimate=MUTATION_COST)
        except RemoteError as exc:
            log.warning("store %s: could not cancel bulk operation %s: %s", self.settings.shop, operation, exc)
            return
        problems = (data.get("bulkOperationCancel") or {}).get("userErrors") or []
        if problems:
            log.warning(
                "store %s: Shopify did not cancel bulk operation %s: %s",
                self.settings.shop,
                operation,
                "; ".join(str(p.get("message")) for p in problems),
            )

    async def open_orders(self) -> list[OpenOrder]:
        """The open fulfilment work at the counted locations, one order each with its units still to ship.

        Read from fulfillment orders (`OpenWork.graphql`): held and scheduled work is included
        (it still waits for stock); work assigned to a location whose stock does not count is
        left out, and so are test orders unless `test_orders` is set.
        """
        if not self._counted:
            await self.locations()
        nodes = await self._pages(
            "OpenWork", "fulfillmentOrders", {"lines": ORDER_LINES_PER_PAGE}, "open fulfilment work"
        )
        work: list[tuple[Mapping[str, Any], list[dict[str, Any]]]] = []
        elsewhere = tests = 0
        for node in nodes:
            if str(node.get("status") or "") not in mapping.OPEN_WORK:
                continue
            location = ((node.get("assignedLocation") or {}).get("location") or {}).get("id")
            if location not in self._counted:
                elsewhere += 1
                continue
            if (node.get("order") or {}).get("test") and not self.settings.test_orders:
                tests += 1
                continue
            lines_connection = node.get("lineItems") or {}
            lines = list(lines_connection.get("nodes") or ())
            info = lines_connection.get("pageInfo") or {}
            if info.get("hasNextPage"):
                cursors = Cursors(f"line items of fulfillment order {node.get('id')}")
                cursors.accept(info)
                while not cursors.done:
                    data = await self._graphql(
                        "WorkLineItems", {"id": node["id"], "first": MAX_PAGE_SIZE // 2, "after": cursors.after}
                    )
                    more = ((data.get("fulfillmentOrder") or {}).get("lineItems")) or {}
                    lines.extend(more.get("nodes") or ())
                    cursors.accept(more.get("pageInfo"))
            work.append((node, lines))
        if elsewhere or tests:
            log.info(
                "store %s: not queued: %d fulfillment orders at locations whose stock does not count, %d of test orders",
                self.settings.shop,
                elsewhere,
                tests,
            )
        return mapping.open_work(work)

    def plan(self, item: Item, decision: Decision) -> Mapping[str, Any]:
        """Fields to write so the store shows `decision` (see `mapping.plan`); empty when it does.

        A policy the connector never wrote (the variant has no status metafield of the
        connector's yet) is the merchant's own choice: each one a pass would change is logged
        (INFO) with its old and new value. The dry-run plan shows every such change as
        `inventoryPolicy old → new` already, so this is for the daemon's log, not a warning
        per variant on every first pass.
        """
        fields = mapping.plan(item, decision, self.settings)
        wanted = fields.get("inventoryPolicy")
        if wanted is not None and not (item.platform.get("metafields") or {}).get("status"):
            log.info(
                "store %s: %s: the merchant's inventory policy %s would become %s (%s)",
                self.settings.shop,
                item.label,
                item.platform.get("inventory_policy"),
                wanted,
                decision.status.value,
            )
        return self._plans(fields)

    async def push(self, updates: Sequence[Update]) -> list[WriteResult]:
        """Write the updates with as few PushChanges requests as its slots allow; one result per update.

        Policies go per product through productVariantsBulkUpdate (allowPartialUpdates), metafields
        through metafieldsSet (25 a call; atomic, so a refused call is sent again without the
        refused metafields) and metafieldsDelete, tags through tagsAdd/tagsRemove. Every
        userErrors entry is mapped back to the update it came from.
        """
        for update in updates:
            mapping.validate_fields(update.item, update.fields)
        if not self._definitions_checked and any(
            name.startswith(mapping.METAFIELD_PREFIX) and value for u in updates for name, value in u.fields.items()
        ):
            # A definition of another type fails every write of its metafield: one clear error
            # before the first write, not one refusal per variant.
            await self.metafield_definitions(("PRODUCTVARIANT",), create=False, report_missing=False)
            self._definitions_checked = True
        return await self._write([(u.item, u.fields) for u in updates], "pushed")

    def written(self, item: Item, fields: Mapping[str, Any]) -> list[FieldWrite]:
        """Each field a plan writes, as the store then holds it (see `mapping.written`)."""
        return mapping.written(fields)

    def held(self, item: Item, field: str) -> str | None:
        """What the variant (or its product, for a tag) holds now in a field (see `mapping.held`)."""
        return mapping.held(item, field, self.settings.metafields)

    async def restore(self, restorations: Sequence[Restoration]) -> list[WriteResult]:
        """Put fields back with the same mutations and slots as `push`; one result per restoration."""
        changes = [(r.item, mapping.restore_fields(r.item, r.fields)) for r in restorations]
        return await self._write(changes, "restored")

    async def _write(self, changes: Sequence[tuple[Item, Mapping[str, Any]]], verb: str) -> list[WriteResult]:
        """Send the fields of each item (validated by the caller) in PushChanges requests; one result per item."""
        errors: dict[int, list[str]] = {i: [] for i in range(len(changes))}
        work = _Work.of(changes, self.settings)
        if self._bulk_writes_pay(work, len(changes)):
            await self._bulk_push(work, errors)
        while work.pending():
            slots = work.take()
            failures: list[dict[str, Any]] = []
            try:
                data = await self._graphql(
                    "PushChanges", slots.variables, estimate=MUTATION_COST * slots.used, errors=failures
                )
            except RemoteError as exc:
                log.warning("store %s: a write request failed: %s", self.settings.shop, exc)
                for entries in slots.owners.values():
                    for owners in entries:
                        for index in owners:
                            errors[index].append(f"request failed: {exc}")
                continue
            if failures:
                log.warning(
                    "store %s: Shopify answered errors for part of a write request: %s",
                    self.settings.shop,
                    "; ".join(str(f.get("message")) for f in failures),
                )
            work.answer(slots, data, errors, failures)
        results = [
            WriteResult(item_key=item.key, ok=not errors[i], error="; ".join(dict.fromkeys(errors[i])) or None)
            for i, (item, _) in enumerate(changes)
        ]
        log.info(
            "store %s: %s %d updates in %d PushChanges requests; %d failed",
            self.settings.shop,
            verb,
            len(changes),
            work.requests,
            sum(not r.ok for r in results),
        )
        return results

    def write_estimates(self, work: _Work) -> tuple[Estimate, Estimate]:
        """(requests, bulk) for the policy and metafield writes of `work`.

        Requests: every PushChanges slot is a mutation (10 points), a request carries at most
        10 product policy updates and 4 metafieldsSet calls. Bulk: one staged upload request and,
        per import, an upload, a start, polls and the result; the imports run at once from API
        version 2026-01 (five per app and shop), one after the other before.
        """
        policies, metafields = len(work.variants), len(work.metafields)
        requests = max(-(-policies // VARIANT_SLOTS), -(-metafields // METAFIELD_SLOTS))
        paged = self._paged(MUTATION_COST * (policies + metafields), requests)
        sizes = [n for n in (policies, metafields) if n]
        together = self.settings.api_version >= "2026-01"
        lines = (max(sizes) if together else sum(sizes)) if sizes else 0
        return paged, self._bulk(lines, self.settings.bulk_write_rate, len(sizes), extra_requests=1 + len(sizes))

    def _bulk_writes_pay(self, work: _Work, changed: int) -> bool:
        """Whether the policies and metafields of a push go as bulk imports (see `write_estimates`).

        `bulk_write_threshold`, when set, decides by the number of changed variants instead.
        """
        if not (work.variants or work.metafields):
            return False
        threshold = self.settings.bulk_write_threshold
        if threshold is not None:
            return changed >= threshold
        paged, bulk = self.write_estimates(work)
        chosen = bulk.seconds < paged.seconds
        log.info(
            "store %s: writing %d changed variants: requests %s, bulk imports %s: %s",
            self.settings.shop,
            changed,
            paged,
            bulk,
            "bulk" if chosen else "requests",
        )
        return chosen

    async def _bulk_push(self, work: _Work, errors: dict[int, list[str]]) -> None:
        """Policies and metafields of `work` through bulkOperationRunMutation; what cannot start goes back to `work`.

        Staged upload (stagedUploadsCreate, then the JSONL file POSTed to the storage with the
        form fields it gave), one bulk import per kind, polls, then each result file read line by
        line: a line's userErrors and errors are mapped to its updates as PushChanges answers are
        (a refused metafieldsSet line sends its innocent metafields again as requests). An update
        whose line is not in the result, or whose import failed, is not confirmed: it fails, and
        the next pass writes it again. Nothing is applied before an import starts, so an import
        that cannot be staged or started is written with requests instead.
        """
        imports: list[_BulkImport] = []

        def admit(kind: str, name: str, variables: dict[str, Any], chunk: list[Any], entry: Any) -> None:
            last = imports[-1] if imports and imports[-1].kind == kind else None
            if last is None or last.size >= UPLOAD_BYTES:
                last = _BulkImport(kind, name)
                imports.append(last)
            last.add(variables, [p for p, _ in chunk], [o for _, o in chunk], entry)

        for product, entries in work.variants:
            admit(
                "variants",
                "BulkPolicies",
                {"productId": product, "variants": [p for p, _ in entries]},
                entries,
                (product, entries),
            )
        for chunk in work.metafields:
            admit("metafields", "BulkMetafields", {"metafields": [p for p, _ in chunk]}, chunk, chunk)
        work.variants, work.metafields = [], []

        def back(bulk: _BulkImport, why: str) -> None:
            log.warning("store %s: %s: writing the %s with requests instead", self.settings.shop, why, bulk.kind)
            (work.variants if bulk.kind == "variants" else work.metafields).extend(bulk.taken)

        try:
            paths = await self._stage(imports)
        except RemoteError as exc:
            for bulk in imports:
                back(bulk, f"the bulk import could not be staged ({exc})")
            return
        waiting = list(zip(imports, paths, strict=True))
        running: list[_BulkImport] = []
        while waiting or running:
            deferred: list[tuple[_BulkImport, str]] = []
            for bulk, path in waiting:
                refusal = await self._start_import(bulk, path)
                if refusal is None:
                    running.append(bulk)
                elif refusal in BULK_BUSY and running:
                    deferred.append((bulk, path))  # this pass's other import holds the slot: after it
                else:
                    back(bulk, f"Shopify did not start the bulk import ({refusal})")
            waiting = deferred
            while running:  # polled in turn: they run at the same time on Shopify's side
                await self._finish_import(running.pop(0), work, errors)

    async def _stage(self, imports: Sequence[_BulkImport]) -> list[str]:
        """Upload each import's JSONL file to a staged target; the staged upload paths, in order."""
        data = await self._graphql(
            "StageUploads",
            {
                "input": [
                    {
                        "resource": "BULK_MUTATION_VARIABLES",
                        "filename": f"{bulk.kind}.jsonl",
                        "mimeType": "text/jsonl",
                        "httpMethod": "POST",
                    }
                    for bulk in imports
                ]
            },
            estimate=MUTATION_COST,
        )
        payload = data.get("stagedUploadsCreate") or {}
        targets = payload.get("stagedTargets") or []
        problems = [str(p.get("message")) for p in payload.get("userErrors") or ()]
        if problems or len(targets) != len(imports):
            raise PlatformError(f"{self.settings.shop}: no staged upload targets ({'; '.join(problems) or 'none'})")
        paths: list[str] = []
        for bulk, target in zip(imports, targets, strict=True):
            fields = {str(p["name"]): str(p["value"]) for p in target.get("parameters") or ()}
            if not target.get("url") or "key" not in fields:
                raise PlatformError(f"{self.settings.shop}: a staged upload target without a url or key")
            # The storage is Google Cloud Storage on real shops: the signed form fields are the
            # credential, so no token goes there. The file must be the form's last field.
            await send(
                self._client,
                "POST",
                str(target["url"]),
                policy=self._policy,
                sleep=self._sleep,
                describe=f"{self.settings.shop} staged upload of the {bulk.kind}",
                data=fields,
                files={"file": (f"{bulk.kind}.jsonl", bulk.content(), "text/jsonl")},
            )
            paths.append(fields["key"])
        return paths

    async def _start_import(self, bulk: _BulkImport, path: str) -> str | None:
        """Start one bulk import; None when it runs, else why not (a userErrors code or message)."""
        try:
            data = await self._graphql(
                "RunBulkMutation",
                {"mutation": document(bulk.document), "stagedUploadPath": path},
                estimate=MUTATION_COST,
            )
        except RemoteError as exc:
            return str(exc)
        payload = data.get("bulkOperationRunMutation") or {}
        problems = payload.get("userErrors") or []
        operation = (payload.get("bulkOperation") or {}).get("id")
        if problems or not operation:
            first = problems[0] if problems else {}
            return str(first.get("code") or first.get("message") or "no bulk operation was created")
        bulk.operation = str(operation)
        bulk.started = self._clock()
        log.info(
            "store %s: bulk import of %d %s lines started (%s)",
            self.settings.shop,
            len(bulk.lines),
            bulk.kind,
            operation,
        )
        return None

    async def _finish_import(self, bulk: _BulkImport, work: _Work, errors: dict[int, list[str]]) -> None:
        """Wait for one bulk import, then map its result file to the updates; never read a missing line as done."""
        assert bulk.operation is not None
        everyone = sorted({i for line in bulk.owners for owners in line for i in owners})

        def fail(reason: str) -> None:
            log.warning("store %s: bulk import of the %s: %s", self.settings.shop, bulk.kind, reason)
            for index in everyone:
                errors[index].append(f"bulk import of the {bulk.kind}: {reason}")

        waited = 0.0
        while True:
            status = (await self._graphql("BulkOperation", {"id": bulk.operation})).get("bulkOperation") or {}
            state = status.get("status")
            if state == "COMPLETED":
                break
            if state in ("FAILED", "CANCELED", "CANCELING", "EXPIRED") or state is None:
                code = f" ({status.get('errorCode')})" if status.get("errorCode") else ""
                fail(f"Shopify ended it {state or 'unknown'}{code}; not confirmed")
                return
            if waited >= self.settings.bulk_timeout_seconds:
                await self._cancel_bulk(bulk.operation)
                fail(f"not finished in {self.settings.bulk_timeout_seconds:.0f} s; cancelled, not confirmed")
                return
            await self._sleep(self.settings.bulk_poll_seconds)
            waited += self.settings.bulk_poll_seconds
        url = status.get("url")
        if not url:
            fail("Shopify completed it without a result file; not confirmed")
            return
        what = f"{self.settings.shop} bulk import of the {bulk.kind}"
        expected = len(bulk.lines)

        async def read(response: httpx.Response) -> dict[int, dict[str, Any]]:
            found: dict[int, dict[str, Any]] = {}
            number = 0
            async for text in response.aiter_lines():
                number += 1
                if not text.strip():
                    continue
                line = _result_line(text, what, number)
                position = line.get("__lineNumber") if isinstance(line, dict) else None
                if not isinstance(position, int) or not 0 <= position < expected:
                    raise FetchError(f"{what}: line {number} of the result names no line of the upload")
                found[position] = line
            if len(found) < expected:  # cut off between two lines
                raise TransientError(
                    f"{what}: the result answers {len(found)} of the {expected} lines sent (cut off)",
                    code="unreadable_body",
                )
            return found

        try:
            answered = await receive(self._client, "GET", str(url), read, policy=self._policy, sleep=self._sleep)
        except RemoteError as exc:
            fail(f"its result could not be read ({exc}); not confirmed")
            return
        for position, line in sorted(answered.items()):
            slots = _Slots(variables={bulk.kind: bulk.payloads[position]}, owners={bulk.kind: bulk.owners[position]})
            data = line.get("data") if isinstance(line.get("data"), dict) else {}
            failures = [f if isinstance(f, dict) else {"message": str(f)} for f in line.get("errors") or ()]
            work.answer(slots, data or {}, errors, failures)
        log.info(
            "store %s: bulk import of %d %s lines done in %.0f s",
            self.settings.shop,
            expected,
            bulk.kind,
            self._clock() - bulk.started,
        )

    async def notify_customer(self, order_id: str, message: str) -> WriteResult:
        """Leave `message` for the order's buyer: an order metafield holds it, a tag marks the order.

        The order's note is left alone: it holds the buyer's own instructions and Shopify never
        shows it to them. Shopify sends no email for a metafield or a tag either: a Shopify Flow
        workflow started by the added tag (the store's `notice_tag`) can, with the metafield's
        text (see the README). One request (metafieldsSet, then tagsRemove and tagsAdd so each
        notice adds the tag anew; needs write_orders), sent once, never retried here. A refusal is
        `ok=False`, no answer raises (see `connector.platform.TellsCustomers`).
        """
        order = f"gid://shopify/Order/{order_id}"
        keys = self.settings.metafields
        variables = {
            "order": order,
            "tags": [self.settings.notice_tag],
            "metafields": [
                {
                    "ownerId": order,
                    "namespace": keys.namespace,
                    "key": keys.notice,
                    "type": NOTICE_TYPE,
                    "value": message,
                }
            ],
        }
        once = dataclasses.replace(self._policy, attempts=1)
        try:
            data = await self._graphql("OrderNotice", variables, estimate=2 * MUTATION_COST, policy=once)
        except (AuthError, PlatformError) as exc:
            hint = (
                " (the app needs the write_orders access scope to tell buyers)" if exc.code == "ACCESS_DENIED" else ""
            )
            return WriteResult(item_key=order_id, ok=False, error=f"{exc}{hint}")
        except TransientError as exc:
            if exc.status == 429 or exc.code == "THROTTLED":
                return WriteResult(item_key=order_id, ok=False, error=str(exc))
            raise
        problems: list[str] = []
        for alias in ("metafieldsSet", "tagsRemove", "tagsAdd"):
            payload = data.get(alias)
            if not isinstance(payload, dict):
                raise PlatformError(f"Shopify did not answer {alias} for order {order_id}; not confirmed")
            problems.extend(str(e.get("message") or "refused") for e in payload.get("userErrors") or ())
        if problems:
            return WriteResult(item_key=order_id, ok=False, error="; ".join(problems))
        return WriteResult(item_key=order_id, ok=True)

    # --- webhook subscriptions (ManagesWebhooks) ------------------------------------------------

    webhook_topics = WEBHOOK_TOPICS
    webhook_name = "stock-status-connector"

    async def list_webhooks(self) -> list[WebhookSubscription]:
        """The app's webhook subscriptions (Shopify shows an app only its own).

        Shopify keeps no disabled state: a subscription whose deliveries kept failing is removed,
        so a missing one is what a failing one becomes.
        """
        nodes = await self._pages("WebhookSubscriptions", "webhookSubscriptions", {}, "webhook subscriptions")
        return [_subscription(node, f"webhook subscriptions of {self.settings.shop}") for node in nodes]

    async def create_webhook(self, topic: str, address: str, secret: str | None) -> WebhookSubscription:
        """webhookSubscriptionCreate (JSON); `secret` is not sent: Shopify signs with the app's client secret."""
        variables = {"topic": topic, "subscription": {"uri": address, "format": "JSON", "name": self.webhook_name}}
        data = await self._graphql("CreateWebhook", variables, estimate=MUTATION_COST)
        payload = data.get("webhookSubscriptionCreate")
        if not isinstance(payload, dict):
            raise PlatformError(f"Shopify did not answer webhookSubscriptionCreate for {topic}")
        refused = [str(e.get("message") or "refused") for e in payload.get("userErrors") or ()]
        if refused:
            raise PlatformError(f"Shopify refused the {topic} subscription: {'; '.join(refused)}")
        return _subscription(payload.get("webhookSubscription"), f"new {topic} subscription")

    async def delete_webhook(self, subscription: WebhookSubscription) -> None:
        """webhookSubscriptionDelete; one already gone (Shopify removed it) is no error."""
        data = await self._graphql("DeleteWebhook", {"id": subscription.id}, estimate=MUTATION_COST)
        payload = data.get("webhookSubscriptionDelete")
        if not isinstance(payload, dict):
            raise PlatformError(f"Shopify did not answer webhookSubscriptionDelete for {subscription.id}")
        refused = [str(e.get("message") or "refused") for e in payload.get("userErrors") or ()]
        if refused and not any("does not exist" in message for message in refused):
            raise PlatformError(f"Shopify refused to delete {subscription.id}: {'; '.join(refused)}")


def _subscription(node: Any, what: str) -> WebhookSubscription:
    if not isinstance(node, dict) or not all(isinstance(node.get(k), str) for k in ("id", "topic", "uri")):
        raise FetchError(f"{what}: not a webhook subscription (id, topic and uri expected)")
    return WebhookSubscription(
        id=node["id"],
        topic=node["topic"],
        address=node["uri"],
        status="active",
        name=node.get("name") if isinstance(node.get("name"), str) else None,
    )


# --- bulk -----------------------------------------------------------------------------------


def _result_line(text: str, what: str, number: int) -> Any:
    """One line of a bulk operation's JSONL result, parsed; one that is not JSON (cut off mid-line,
    or an error page in its place) is a TransientError, so the file is fetched again."""
    try:
        return json.loads(text)
    except ValueError as exc:
        raise TransientError(
            f"{what}: line {number} of the result is not JSON (cut off, or an error page)", code="unreadable_body"
        ) from exc


class BulkResult:
    """Variant nodes shaped like a `Variants` page, rebuilt from a bulk JSONL file line by line.

    Root lines are variants, each with its inventory levels (aliased objects) on the same line,
    so a variant is whole once the next one starts (or the file ends): it is then handed to
    `on_variant` and let go, and memory holds one variant's line, not the file's. Lines of a
    nested connection carry `__parentId` (the id of their variant or of its inventory item) and
    are attached as inventory levels; BulkVariants asks for none, and Shopify writes such lines
    right after their parent only when it groups objects, so one found after another variant is
    refused rather than guessed at.
    """

    def __init__(self, what: str, on_variant: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.what = what
        self.lines = 0
        self.objects = 0
        """Lines holding an object (what Shopify counts as `objectCount`)."""
        self.roots = 0
        self._kept: list[dict[str, Any]] = []
        self._on_variant = on_variant if on_variant is not None else self._kept.append
        self._pending: dict[str, Any] | None = None
        self._parents: tuple[str, ...] = ()

    def add(self, text: str) -> None:
        self.lines += 1
        if not text.strip():
            return
        line = _result_line(text, self.what, self.lines)
        if not isinstance(line, dict):
            raise TransientError(
                f"{self.what}: line {self.lines} of the result is not an object", code="unreadable_body"
            )
        self.objects += 1
        if "__parentId" in line:
            owner = self._pending
            if owner is None or str(line.pop("__parentId")) not in self._parents:
                raise FetchError(
                    f"{self.what}: line {self.lines} belongs to no variant just before it (a nested line must "
                    "follow its variant)"
                )
            inventory = owner.setdefault("inventoryItem", {})
            inventory.setdefault("inventoryLevels", {"nodes": []})["nodes"].append(line)
            return
        if not str(line.get("id", "")).startswith("gid://shopify/ProductVariant/"):
            raise FetchError(f"{self.what}: line {self.lines} is not a variant ({str(line.get('id'))[:60]!r})")
        self._hand_on()
        self.roots += 1
        self._pending = line
        inventory = line.get("inventoryItem") or {}
        self._parents = (line["id"], str(inventory["id"])) if inventory.get("id") else (line["id"],)

    def close(self) -> None:
        """The file has ended: hand on the last variant."""
        self._hand_on()

    def _hand_on(self) -> None:
        if self._pending is not None:
            pending, self._pending, self._parents = self._pending, None, ()
            self._on_variant(pending)

    def variants(self) -> list[dict[str, Any]]:
        """The variants, when no `on_variant` took them."""
        return self._kept

    def __len__(self) -> int:
        return self.roots


def rebuild_bulk(lines: Iterable[str], *, what: str) -> list[dict[str, Any]]:
    """Variant nodes shaped like a `Variants` page from the lines of a bulk JSONL file."""
    result = BulkResult(what)
    for line in lines:
        result.add(line)
    result.close()
    return result.variants()


class _Pulled:
    """The items of one pull, each variant node mapped as it arrives (a page, a bulk line) and then let go."""

    def __init__(self, adapter: ShopifyAdapter, arrivals: Mapping[str, Sequence[tuple[date, int]]]) -> None:
        self._admitted = adapter._admitted
        self._arrivals = arrivals
        self._keys = adapter.settings.metafields
        self._counted = adapter._counted
        self._chosen = frozenset(adapter._counted)
        self._tags = bool(adapter.settings.tags)
        self._groups: dict[str, mapping.TagGroup] = {}
        self._shared = mapping.Shared()
        self.items: list[Item] = []
        self.left_out: dict[str, int] = {}
        """Variants the pull filter left out, by why."""

    def add(self, node: dict[str, Any]) -> None:
        reason = self._admitted(node)
        if reason is not None:
            self.left_out[reason] = self.left_out.get(reason, 0) + 1
            return
        inventory = node.get("inventoryItem")
        if isinstance(inventory, dict) and "inventoryLevels" not in inventory:
            inventory["inventoryLevels"] = {"nodes": queries.levels_of(inventory, self._counted)}
        group = None
        if self._tags:
            # Product tags are shared by the product's variants: the group counts the variants
            # pulled, so that plan removes a stale tag only once it has seen all of them.
            product = node.get("product") or {}
            product_id = str(product.get("id"))
            group = self._groups.get(product_id)
            if group is None:
                tags = frozenset(str(t) for t in product.get("tags") or ())
                group = self._groups[product_id] = mapping.TagGroup(product_id, tags, 0)
            group.variants += 1
        self.items.append(mapping.variant_item(node, self._keys, self._chosen, group, self._shared, self._arrivals))


# --- push -----------------------------------------------------------------------------------


class _Work:
    """The writes of one push, queued per kind and handed out a request's worth at a time."""

    def __init__(self) -> None:
        self.variants: list[tuple[str, list[tuple[dict[str, Any], list[int]]]]] = []
        self.metafields: list[list[tuple[dict[str, Any], list[int]]]] = []
        self.deletions: list[list[tuple[dict[str, Any], list[int]]]] = []
        self.tags_add: list[tuple[str, list[str], list[int]]] = []
        self.tags_remove: list[tuple[str, list[str], list[int]]] = []
        self.requests = 0

    @classmethod
    def of(cls, changes: Sequence[tuple[Item, Mapping[str, Any]]], settings: ShopifySettings) -> _Work:
        work = cls()
        keys = settings.metafields
        date_fields = {mapping.metafield_field(keys, "eta"), mapping.metafield_field(keys, "sellout_eta")}
        policies: dict[str, dict[str, tuple[dict[str, Any], list[int]]]] = {}
        sets: list[tuple[dict[str, Any], list[int]]] = []
        deletes: list[tuple[dict[str, Any], list[int]]] = []
        adds: dict[str, dict[str, list[int]]] = {}
        removes: dict[str, dict[str, list[int]]] = {}
        for index, (item, fields) in enumerate(changes):
            owner = mapping.variant_owner(item)
            product = mapping.product_owner(item) or ""
            for name, value in fields.items():
                if name == "inventoryPolicy":
                    entry = policies.setdefault(product, {}).setdefault(owner, ({"id": owner}, []))
                    entry[0]["inventoryPolicy"] = value
                    entry[1].append(index)
                elif name.startswith(mapping.METAFIELD_PREFIX):
                    namespace, _, key = name[len(mapping.METAFIELD_PREFIX) :].partition(".")
                    identity = {"ownerId": owner, "namespace": namespace, "key": key}
                    if value:
                        kind = DATE_TYPE if name in date_fields else STATUS_TYPE
                        sets.append(({**identity, "type": kind, "value": value}, [index]))
                    else:
                        deletes.append((identity, [index]))
                elif name == mapping.TAGS_ADD:
                    for tag in value.split(","):
                        adds.setdefault(product, {}).setdefault(tag, []).append(index)
                elif name == mapping.TAGS_REMOVE:
                    for tag in value.split(","):
                        removes.setdefault(product, {}).setdefault(tag, []).append(index)
        for product, entries in policies.items():
            listed = list(entries.values())
            for start in range(0, len(listed), MAX_PAGE_SIZE):
                work.variants.append((product, listed[start : start + MAX_PAGE_SIZE]))
        work.metafields = [sets[i : i + METAFIELDS_PER_SET] for i in range(0, len(sets), METAFIELDS_PER_SET)]
        work.deletions = [deletes[i : i + MAX_PAGE_SIZE] for i in range(0, len(deletes), MAX_PAGE_SIZE)]
        for target, source in ((work.tags_add, adds), (work.tags_remove, removes)):
            for product, tags in source.items():
                owners = sorted({i for members in tags.values() for i in members})
                target.append((product, sorted(tags), owners))
        return work

    def pending(self) -> bool:
        return bool(self.variants or self.metafields or self.deletions or self.tags_add or self.tags_remove)

    def take(self) -> _Slots:
        slots = _Slots()
        self.requests += 1
        for n in range(VARIANT_SLOTS):
            if not self.variants:
                break
            product, entries = self.variants.pop(0)
            slots.variables.update(
                {f"withVariants{n}": True, f"product{n}": product, f"variants{n}": [payload for payload, _ in entries]}
            )
            slots.owners[f"variants{n}"] = [owners for _, owners in entries]
        for n in range(METAFIELD_SLOTS):
            if not self.metafields:
                break
            chunk = self.metafields.pop(0)
            slots.variables.update({f"withMetafields{n}": True, f"metafields{n}": [payload for payload, _ in chunk]})
            slots.owners[f"metafields{n}"] = [owners for _, owners in chunk]
        if self.deletions:
            chunk = self.deletions.pop(0)
            slots.variables.update({"withDeletions": True, "deletions": [payload for payload, _ in chunk]})
            slots.owners["deletions"] = [owners for _, owners in chunk]
        for verb, queue in (("Add", self.tags_add), ("Remove", self.tags_remove)):
            for n in range(TAG_SLOTS):
                if not queue:
                    break
                product, tags, owners = queue.pop(0)
                slots.variables.update(
                    {f"withTags{verb}{n}": True, f"tags{verb}Id{n}": product, f"tags{verb}{n}": tags}
                )
                slots.owners[f"tags{verb}{n}"] = [owners]
        slots.used = len(slots.owners)
        return slots

    def answer(
        self,
        slots: _Slots,
        data: Mapping[str, Any],
        errors: dict[int, list[str]],
        failures: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        """Map each slot's userErrors back to updates; requeue an atomic metafieldsSet's innocents.

        `failures` are the request's top-level GraphQL errors: each belongs to the alias its
        `path` starts with; one without a path to every alias Shopify did not answer. An alias
        that answered is judged by its own userErrors only.
        """
        by_alias: dict[str, list[str]] = {}
        unplaced: list[str] = []
        for failure in failures:
            path = list(failure.get("path") or ())
            message = str(failure.get("message") or "GraphQL error")
            code = (failure.get("extensions") or {}).get("code")
            text = f"{message} ({code})" if code else message
            if path and str(path[0]) in slots.owners:
                by_alias.setdefault(str(path[0]), []).append(text)
            else:
                unplaced.append(text)
        for alias, entries in slots.owners.items():
            payload = data.get(alias)
            everyone = sorted({i for owners in entries for i in owners})
            if not isinstance(payload, dict):
                reasons = by_alias.get(alias) or unplaced or ["no answer"]
                for index in everyone:
                    errors[index].append(f"Shopify did not apply {alias}: {'; '.join(reasons)}")
                continue
            refused: dict[int, list[str]] = {}
            general: list[str] = []
            for problem in payload.get("userErrors") or ():
                message = str(problem.get("message") or "refused")
                if problem.get("code"):
                    message = f"{message} ({problem['code']})"
                position = _input_index(problem)
                if position is not None and position < len(entries):
                    refused.setdefault(position, []).append(message)
                else:
                    general.append(message)
            if alias.startswith("metafields") and (refused or general):
                variables = slots.variables[alias]
                for position, messages in refused.items():
                    for index in entries[position]:
                        errors[index].extend(f"metafield {variables[position]['key']}: {m}" for m in messages)
                innocent = [(variables[p], entries[p]) for p in range(len(entries)) if p not in refused]
                if general or not innocent:
                    for _, owners in innocent:
                        for index in owners:
                            errors[index].extend(general or ["metafields not saved"])
                else:
                    self.metafields.append(innocent)  # metafieldsSet is atomic: send the others again
                continue
            for position, messages in refused.items():
                for index in entries[position]:
                    errors[index].extend(messages)
            for message in general:
                for index in everyone:
                    errors[index].append(message)


def _zone(name: Any) -> tzinfo:
    """The shop's timezone (Shopify's ianaTimezone), UTC when it names none this machine knows."""
    try:
        return ZoneInfo(str(name)) if name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _input_index(problem: Mapping[str, Any]) -> int | None:
    """Which input entry a userError is about: `field: ["variants", "2", "id"]` or `elementIndex`."""
    path = list(problem.get("field") or [])
    if len(path) >= 2 and str(path[1]).isdigit():
        return int(path[1])
    index = problem.get("elementIndex")
    return int(index) if isinstance(index, int) else None


def _gid_order(global_id: str) -> tuple[int, str]:
    """Sort key of a global id: by its number, so aliases follow the shop's own order."""
    match = mapping.GID.match(global_id)
    return (int(match.group(2)) if match else 0, global_id)
