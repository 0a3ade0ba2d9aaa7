"""The WooCommerce adapter: pulls products, variations and open orders; pushes batch writes.

Every request goes through `connector.http.send` (the one retry/backoff policy) with this
store's auth set per request; the adapter never builds a client and never retries by itself.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx

from stockstatus.core.errors import AuthError, FetchError, PlatformError, RemoteError, TransientError
from stockstatus.core.http import DEFAULT_POLICY, HttpPolicy, JsonAnswer, Sleep, pause, send, send_json
from stockstatus.core.model import Decision, Item, OpenOrder, Update, WriteResult
from stockstatus.core.pagination import ListingMoved, PageNumbers, parse_count
from stockstatus.core.platform import Capabilities, FieldWrite, Restoration, WebhookSubscription

from . import mapping
from .auth import WooCommerceAuth
from .settings import ORDER_STATUSES, WooCommerceSettings

log = logging.getLogger(__name__)

PER_PAGE = 100
"""WooCommerce's largest page (per_page above 100 is a 400)."""

LISTING_ORDER = {"orderby": "id", "order": "asc"}
"""How every listing is ordered: by id, which is unique, so pages neither overlap nor skip."""

PRODUCT_FIELDS = ",".join(mapping.PRODUCT_FIELDS)
LISTED_FIELDS = ",".join((*mapping.PRODUCT_FIELDS, "variations"))
"""A full or incremental listing also asks each variable product's variation ids (see `_variations`)."""
VARIATION_FIELDS = ",".join(mapping.VARIATION_FIELDS)
SKU_READ_FIELDS = ",".join((*(f for f in mapping.VARIATION_FIELDS if f != "name"), "type", "parent_id"))
"""A variation read through `products?sku=` is named "Parent - S" there: its name is rebuilt as listed."""
SKUS_PER_REQUEST = 100
"""SKUs per `products?sku=` request: one page (`per_page` is at most 100)."""
ORDER_FIELDS = ",".join(mapping.ORDER_FIELDS)

WEBHOOK_TOPICS = (
    "order.created",
    "order.updated",
    "order.deleted",
    "product.created",
    "product.updated",
    "product.deleted",
)
"""What the connector subscribes to: new and changed orders (a cancellation is an update, a
trashed order a deletion), and products and variations changed by anyone, an order included
(a variation reports as product.updated under its own id)."""

T = TypeVar("T")


async def _all(awaitables: Iterable[Awaitable[T]], at_once: int | None = None) -> list[T]:
    """Await all, in order; the first failure cancels the rest and is raised as itself.

    With `at_once`, at most that many are started at a time, the next taken from `awaitables`
    only when one ends: a listing of thousands of pages holds a few tasks, not one per page.
    """
    slots = asyncio.Semaphore(at_once) if at_once else None

    async def one(awaitable: Awaitable[T]) -> T:
        try:
            return await awaitable
        finally:
            if slots is not None:
                slots.release()

    tasks: list[asyncio.Task[T]] = []
    with _first_failure():
        async with asyncio.TaskGroup() as group:
            pending = iter(awaitables)
            while True:
                if slots is not None:
                    await slots.acquire()
                awaitable = next(pending, None)
                if awaitable is None:
                    break
                tasks.append(group.create_task(one(awaitable)))
    return [task.result() for task in tasks]


@contextmanager
def _first_failure() -> Iterator[None]:
    """A task group's first failure, raised as itself (callers catch FetchError, AuthError...)."""
    try:
        yield
    except BaseExceptionGroup as failed:
        first = failed.exceptions[0]
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        raise first from None


def _same(obj: dict[str, Any]) -> dict[str, Any]:
    return obj


@dataclass
class _Entry:
    """One object of a batch request and the updates whose outcome depends on it."""

    payload: dict[str, Any]
    owners: list[int] = field(default_factory=list)


class WooCommerceAdapter:
    """One WooCommerce store, through REST API v3."""

    capabilities = Capabilities(max_batch=100, writes_stock_status=True)

    def __init__(
        self,
        settings: WooCommerceSettings,
        client: httpx.AsyncClient,
        auth: WooCommerceAuth,
        *,
        policy: HttpPolicy = DEFAULT_POLICY,
        sleep: Sleep = pause,
    ) -> None:
        self.settings = settings
        self._client = client
        self._auth = auth
        self._policy = policy
        self._sleep = sleep
        self._index: dict[str, Any] | None = None
        """The WordPress index (`GET /wp-json/`) as `check` read it."""
        self._known: dict[int, dict[int, str | None]] = {}
        """Parent id → variation id → SKU, as the last passes saw them (`known_items`)."""
        self._home_confirmed = False
        """Whether `url` was seen to be the store's home URL (then a bad signature means a bad secret)."""
        self._reads_by_id: bool | None = None
        """Whether `products?sku=` honours `include=` of variation ids (None: not seen yet; see `_by_sku`)."""

    def __repr__(self) -> str:
        return f"WooCommerceAdapter({self.settings.url!r})"

    # --- requests ----------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"{self.settings.api_url}/{path}"

    async def _send(self, method: str, path: str, *, policy: HttpPolicy | None = None, **kwargs: Any) -> httpx.Response:
        try:
            return await send(
                self._client,
                method,
                self._url(path),
                auth=self._auth,
                policy=policy or self._policy,
                sleep=self._sleep,
                **kwargs,
            )
        except AuthError as exc:
            raise self._auth_hint(exc) from exc

    async def _send_json(self, method: str, path: str, **kwargs: Any) -> JsonAnswer:
        """`_send` for an answer whose JSON is needed: an unreadable body is retried by the policy."""
        try:
            return await send_json(
                self._client, method, self._url(path), auth=self._auth, policy=self._policy, sleep=self._sleep, **kwargs
            )
        except AuthError as exc:
            raise self._auth_hint(exc) from exc

    def _auth_hint(self, exc: AuthError) -> AuthError:
        if exc.status == 403 or "have read permissions" in str(exc) or "have write permissions" in str(exc):
            hint = (
                "the key has no permission for this: give it Read/Write in WooCommerce → Settings → Advanced → REST API"
            )
        elif "signature" in str(exc).lower() and not self._home_confirmed:
            hint = (
                f"the request was signed for {self.settings.url}, which must be the store's home URL exactly "
                "(scheme, host and port: WordPress → Settings → General → Site Address), else check the "
                f"consumer secret in {self.settings.secret_env}; `connector check` compares the two"
            )
        elif exc.code == "woocommerce_rest_cannot_view":
            hint = (
                "the key's user may not see this: create the key for an administrator or shop manager "
                "(WooCommerce → Settings → Advanced → REST API)"
            )
        else:
            hint = (
                f"check the consumer key and secret in {self.settings.key_env} and {self.settings.secret_env} "
                "(WooCommerce → Settings → Advanced → REST API)"
            )
        return AuthError(f"{exc}; {hint}", status=exc.status, code=exc.code)

    async def _page(
        self, path: str, params: Mapping[str, str], page: int, limit: asyncio.Semaphore, what: str
    ) -> tuple[list[dict[str, Any]], httpx.Response]:
        async with limit:
            answer = await self._send_json("GET", path, params={**params, "page": str(page), "per_page": str(PER_PAGE)})
        body, response = answer.body, answer.response
        if not isinstance(body, list) or not all(isinstance(x, dict) and "id" in x for x in body):
            raise FetchError(f"{what}: page {page} is not a list of objects with ids")
        return body, response

    async def _listing(
        self,
        path: str,
        params: Mapping[str, str],
        limit: asyncio.Semaphore,
        what: str,
        convert: Callable[[dict[str, Any]], T] = _same,  # type: ignore[assignment]
    ) -> list[T]:
        """Every object of a paged collection, each once, or FetchError: a listing is complete or it fails.

        Each object is passed through `convert` as its page arrives, and only what that returns is
        kept: the pages' JSON is let go page by page (a store's whole catalogue as JSON is several
        times the items made of it).

        Pages are ordered by id, ascending (`LISTING_ORDER`): WooCommerce's default order (by
        creation date, with no tie-break for products) serves products created in the same second
        twice on one page and never on another. The distinct ids read must match the store's
        `X-WP-Total` (`PageNumbers.finish`). A product created or deleted while the pages are read
        changes that total: the listing is read again once from page 1, and fails if it moves
        again (the next pass reads it; nothing is written from a listing that is not whole).
        """
        ordered = {**LISTING_ORDER, **params}
        where = f"{what} at {self.settings.url}"
        try:
            return await self._pages(path, ordered, limit, where, convert)
        except ListingMoved as moved:
            log.info("%s; reading it again", moved)
            return await self._pages(path, ordered, limit, where, convert)

    async def _pages(
        self,
        path: str,
        params: Mapping[str, str],
        limit: asyncio.Semaphore,
        what: str,
        convert: Callable[[dict[str, Any]], T],
    ) -> list[T]:
        """One reading of a paged collection: page 1, then the others (as many at once as `limit` lets through)."""
        first, response = await self._page(path, params, 1, limit, what)
        pages = PageNumbers.from_header(
            response.headers.get("X-WP-TotalPages"),
            first_page_count=len(first),
            per_page=PER_PAGE,
            total_items=response.headers.get("X-WP-Total"),
            what=what,
        )
        pages.accept(1, [x["id"] for x in first])
        found: dict[int, list[tuple[Any, T]]] = {1: [(x["id"], convert(x)) for x in first]}
        del first

        async def rest(page: int) -> None:
            body, answer = await self._page(path, params, page, limit, what)
            pages.accept(
                page,
                [x["id"] for x in body],
                total_pages=parse_count(answer.headers.get("X-WP-TotalPages"), what=what, header="page count"),
                total_items=parse_count(answer.headers.get("X-WP-Total"), what=what, header="total"),
            )
            found[page] = [(x["id"], convert(x)) for x in body]

        # One more task than requests let through, so that the next request is ready when one ends.
        await _all((rest(page) for page in pages.remaining()), at_once=self.settings.page_concurrency + 1)
        pages.finish()
        objects: dict[Any, T] = {}
        for page in sorted(found):
            for key, obj in found[page]:
                objects.setdefault(key, obj)
        log.debug("%s: %d objects in %d pages", what, len(objects), pages.total_pages)
        return list(objects.values())

    # --- Adapter protocol --------------------------------------------------------------------

    async def check(self) -> None:
        """Prove this is the store the config means, read a product and an order, and prove the key may write.

        First the WordPress index (`GET /wp-json/`, no credentials): its `home` must be the
        configured `url` — OAuth 1.0a signatures cover the scheme, host and port, so a `url` of
        `http://localhost` for a store at `http://127.0.0.1`, or plain http for a store behind a
        TLS proxy, is refused as "Invalid signature" however right the key is. Its timezone is
        kept for `store_timezone`. The write probe is an empty `products/batch`: WooCommerce checks
        the key's write permission before it looks at the request
        (WC_REST_Authentication::check_permissions), and a batch with nothing in it saves nothing.
        Raises AuthError/PlatformError with what to fix.
        """
        await self._read_index()
        try:
            body = (await self._send_json("GET", "products", params={"per_page": "1", "_fields": "id"})).body
        except TransientError as exc:
            if exc.code != "unreadable_body":
                raise
            raise PlatformError(
                f"{self.settings.api_url}/products did not answer JSON: is this a WooCommerce shop? ({exc})"
            ) from exc
        except PlatformError as exc:
            if exc.status == 404:
                raise PlatformError(
                    f"no WooCommerce REST API at {self.settings.api_url}: check the url, that WooCommerce is active "
                    f"and that WordPress permalinks are not 'Plain' ({exc})",
                    status=exc.status,
                    code=exc.code,
                ) from exc
            raise
        if not isinstance(body, list):
            raise PlatformError(f"{self.settings.api_url}/products did not answer a product list: is this WooCommerce?")
        with self._order_statuses_named():
            await self._send(
                "GET",
                "orders",
                params={"per_page": "1", "_fields": "id", "status": ",".join(self.settings.order_statuses)},
            )
        await self._send("POST", "products/batch", json={})

    async def _read_index(self) -> None:
        """Read `GET /wp-json/` (home URL, timezone); PlatformError naming the URL to use when `url` is not home.

        A store whose index cannot be read (a security plugin hiding it) is not refused here: the
        requests that follow say whether the API answers.
        """
        self._index = None
        try:
            response = await send(
                self._client,
                "GET",
                self._index_url(),
                policy=self._policy,
                sleep=self._sleep,
                params={"_fields": "home,url,timezone_string,gmt_offset"},
                # A store that moved (http to https, a www host) redirects: its index says where.
                follow_redirects=True,
            )
            index = response.json()
        except (RemoteError, ValueError) as exc:
            log.info("%s/wp-json/ could not be read (%s); the home URL and timezone are not compared", self, exc)
            return
        if not isinstance(index, dict):
            return
        self._index = index
        home = index.get("home")
        if isinstance(home, str) and home and not same_site(home, self.settings.url):
            raise PlatformError(
                f"url {self.settings.url} is not this store's home URL {home.rstrip('/')}: WooCommerce checks "
                f'request signatures against its home URL, so set url = "{home.rstrip("/")}" '
                "(WordPress → Settings → General → Site Address)",
                code="url_not_home",  # stockstatus.core.operator.URL_NOT_HOME,
            )
        self._home_confirmed = isinstance(home, str) and bool(home)

    def _index_url(self) -> str:
        """The WordPress REST index: `api_path` without its `/wc/v3` (a store may serve the API elsewhere)."""
        root = (
            self.settings.api_path.removesuffix("/wc/v3") if self.settings.api_path.endswith("/wc/v3") else "/wp-json"
        )
        return f"{self.settings.url}{root}/"

    async def store_timezone(self) -> str | None:
        """The store's timezone as WordPress has it (Settings → General), read by `check`; None if unknown.

        An IANA name (`timezone_string`) when the store has one, else its fixed offset as
        `UTC+2` / `UTC-5:30` (`gmt_offset`; WordPress then has no daylight saving time).
        """
        index = self._index
        if index is None:
            return None
        name = index.get("timezone_string")
        if isinstance(name, str) and name.strip():
            return name.strip()
        offset = index.get("gmt_offset")
        try:
            hours = float(offset) if offset not in (None, "") else None
        except (TypeError, ValueError):
            return None
        if hours is None:
            return None
        sign = "+" if hours >= 0 else "-"
        whole, minutes = divmod(round(abs(hours) * 60), 60)
        return f"UTC{sign}{whole}" + (f":{minutes:02d}" if minutes else "")

    async def check_notices(self) -> None:
        """Nothing more to prove: adding an order note needs the key's write permission, which `check` proves."""

    async def pull_items(self) -> list[Item]:
        """Every simple product and every variation, with stock and connector-owned meta."""
        return await self._pull({})

    async def pull_changed(self, since: datetime) -> list[Item] | None:
        """The products modified after `since`, and every variation of a variable product modified then.

        WooCommerce moves a product's `date_modified_gmt` on every save: an edit, a stock change
        from an order (wc_update_product_stock saves the product), a no-op write, and the
        connector's own writes. Saving a variation re-saves its parent (WC_Product_Variable::sync),
        so a variable product modified after `since` may have any of its variations changed: all
        of them are pulled. `modified_after` is exclusive and has one-second resolution; `since`
        is rounded down, so an item saved in that second is pulled again rather than missed.
        """
        moment = since.astimezone(UTC).replace(tzinfo=None, microsecond=0)
        return await self._pull({"modified_after": moment.isoformat(), "dates_are_gmt": "true"})

    def known_items(self, skus: Mapping[str, str | None]) -> None:
        """Item key → SKU of the items the last passes saw: their variations can be read by SKU.

        Without it (a first pass, or a state file that does not know a parent's variations yet)
        every variable product's variations are listed, one request per product.
        """
        known: dict[int, dict[int, str | None]] = {}
        for key, sku in skus.items():
            parent, slash, variation = key.partition("/")
            if slash and parent.isdigit() and variation.isdigit():
                known.setdefault(int(parent), {})[int(variation)] = sku
        self._known = known

    async def _pull(self, filters: Mapping[str, str]) -> list[Item]:
        """Products page by page, each mapped as it arrives; variations listed as their parents are found.

        One `page_concurrency` bound covers every read of the pull, so the store always has that
        many requests to serve: a variable product's variations are listed as soon as its page
        is read, alongside the remaining product pages, rather than after the last of them. Those
        the last passes saw can be read by SKU (`_variations`); they are read once the listing is
        whole, since a SKU moved between two parents needs both listed. Nothing keeps a page's
        JSON: a product becomes its Item (or what its variations need of it) on arrival.
        """
        limit = asyncio.Semaphore(self.settings.page_concurrency)
        keys = self.settings.meta_keys
        listed: dict[Any, list[Item]] = {}
        """Parent id → the items of its variations, listed as its page arrived."""
        to_list: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        queued: set[Any] = set()

        def arrived(product: dict[str, Any]) -> Item | dict[str, Any] | None:
            if mapping.has_variations(product):
                parent = mapping.parent_record(product, keys)
                # One the last passes saw whole may be read by SKU, after the listing (`_variations`).
                if self._readable_by_sku(parent) is None and parent["id"] not in queued:
                    # A listing read again (see `_listing`) finds its parents again: listed once.
                    queued.add(parent["id"])
                    to_list.put_nowait(parent)
                return parent
            return mapping.product_item(product, keys) if mapping.is_item(product) else None

        async def list_variations() -> None:
            while (parent := await to_list.get()) is not None:
                listed[parent["id"]] = await self._listed_variations(parent, limit)

        with _first_failure():
            async with asyncio.TaskGroup() as group:
                # One more lister than requests let through: the next listing is ready when one ends.
                listers = [group.create_task(list_variations()) for _ in range(self.settings.page_concurrency + 1)]
                try:
                    products = await self._listing(
                        "products", {**filters, "_fields": LISTED_FIELDS}, limit, "products", arrived
                    )
                finally:
                    for _ in listers:
                        to_list.put_nowait(None)
                parents = [p for p in products if isinstance(p, dict)]
                by_sku = await self._variations([p for p in parents if p["id"] not in queued], limit)
        items: list[Item] = []
        for product in products:
            if isinstance(product, Item):
                items.append(product)
            elif product is not None:
                items.extend(listed[product["id"]] if product["id"] in listed else by_sku[product["id"]])
        log.info(
            "pulled %d items (%d products, %d variable, %d grouped/external skipped)",
            len(items),
            len(products),
            len(parents),
            sum(product is None for product in products),
        )
        return items

    async def _listed_variations(self, parent: Mapping[str, Any], limit: asyncio.Semaphore) -> list[Item]:
        """The items of one variable product's variations, listed (`products/<id>/variations`)."""
        pool = mapping.StockPool(parent_id=int(parent["id"]), backorders=parent.get("backorders"))
        keys = self.settings.meta_keys
        return await self._listing(
            f"products/{parent['id']}/variations",
            {"_fields": VARIATION_FIELDS},
            limit,
            f"variations of product #{parent['id']}",
            lambda variation: mapping.variation_item(parent, variation, keys, pool),
        )

    async def _variations(
        self, parents: Sequence[Mapping[str, Any]], limit: asyncio.Semaphore
    ) -> dict[Any, list[Item]]:
        """The items of every variation of `parents`, by parent id: known ones many per request by SKU, the rest listed.

        Listing one product's variations costs a real store about 95 ms of server time, while
        `products?sku=A,B,…` answers variations of any parents, up to 100 a request, for about
        10 ms each (README, "Speed at scale"). A parent is read by SKU when the
        last passes saw each of its variations (`known_items`) with a SKU and its `variations`
        ids are exactly those: a new, removed or SKU-less variation, or one whose SKU changed
        (it does not come back), has its parent listed instead, so nothing is missed.
        """
        wanted: dict[str, tuple[int, int]] = {}
        """SKU → (parent id, variation id) of the variations read by SKU."""
        readable = [skus for skus in map(self._readable_by_sku, parents) if skus is not None]
        count = Counter(sku for skus in readable for sku in skus)
        for skus in readable:
            # Two known variations with one SKU (moved between products since the last pass):
            # neither parent could tell its own from the answer, so both are listed.
            if all(count[sku] == 1 for sku in skus):
                wanted |= skus
        found: dict[Any, list[Item]] = {}
        if wanted:
            keys = self.settings.meta_keys
            read = await self._by_sku(wanted, {p["id"]: str(p.get("name") or "") for p in parents}, limit)
            for parent in parents:
                variations = read.pop(parent["id"], None)
                if variations is not None:
                    pool = mapping.StockPool(parent_id=int(parent["id"]), backorders=parent.get("backorders"))
                    found[parent["id"]] = [mapping.variation_item(parent, v, keys, pool) for v in variations]
        # Whatever did not come back whole by SKU is listed, one request per product.
        listed = [p for p in parents if p["id"] not in found]
        listings = await _all(
            (self._listed_variations(p, limit) for p in listed), at_once=self.settings.page_concurrency + 1
        )
        found |= {p["id"]: v for p, v in zip(listed, listings, strict=True)}
        log.debug("variations of %d products read by SKU, of %d listed", len(parents) - len(listed), len(listed))
        return found

    def _trimmed(self, record: dict[str, Any]) -> dict[str, Any]:
        return mapping.trimmed(record, self.settings.meta_keys)

    def _readable_by_sku(self, parent: Mapping[str, Any]) -> dict[str, tuple[int, int]] | None:
        ids = parent.get("variations")
        known = self._known.get(int(parent["id"]))
        if not known or not isinstance(ids, list) or not ids or set(ids) != set(known):
            return None
        skus: dict[str, tuple[int, int]] = {}
        for vid, sku in known.items():
            # WooCommerce splits `sku=` on commas and matches each part exactly.
            if not sku or "," in sku or sku != sku.strip():
                return None
            skus[sku] = (int(parent["id"]), vid)
        return skus if len(skus) == len(known) else None

    async def _by_sku(
        self, wanted: Mapping[str, tuple[int, int]], names: Mapping[Any, str], limit: asyncio.Semaphore
    ) -> dict[Any, list[dict[str, Any]]]:
        """Variations by SKU, `SKUS_PER_REQUEST` a request; only parents all of whose variations came back.

        Each request names the variations by id too (`products?sku=A,B&include=7,9`; see
        `_sku_chunk`). A store that answers nothing to that where `sku=` alone finds them is read
        by SKU alone from then on.
        """
        skus = list(wanted)
        chunks = [skus[start : start + SKUS_PER_REQUEST] for start in range(0, len(skus), SKUS_PER_REQUEST)]
        by_id = self._reads_by_id is not False
        answers = await _all(self._sku_chunk(chunk, wanted, limit, by_id=by_id) for chunk in chunks)
        if by_id:
            # Nothing of a chunk came back: its variations are all gone or renamed, or the store
            # does not combine `include` with `sku`. Asked by SKU alone, the answer tells which.
            empty = [n for n, answer in enumerate(answers) if not _owned(answer, wanted)]
            again = await _all(self._sku_chunk(chunks[n], wanted, limit, by_id=False) for n in empty)
            for n, answer in zip(empty, again, strict=True):
                answers[n] = answer
            if any(_owned(answer, wanted) for answer in again):
                log.warning(
                    "%s answers products?sku= with include= of variation ids with nothing: reading "
                    "variations by SKU alone (each such request then costs the store a scan of every product)",
                    self,
                )
                self._reads_by_id = False
            elif len(empty) < len(chunks):
                self._reads_by_id = True
        expected: dict[int, set[int]] = {}
        for parent, vid in wanted.values():
            expected.setdefault(parent, set()).add(vid)
        got: dict[int, dict[int, dict[str, Any]]] = {}
        for answer in answers:
            for obj in _owned(answer, wanted):
                owner = wanted[str(obj["sku"])]
                got.setdefault(owner[0], {})[owner[1]] = _as_listed(obj, names.get(owner[0], ""))
        return {
            parent: [got[parent][vid] for vid in sorted(vids)]
            for parent, vids in expected.items()
            if set(got.get(parent, ())) == vids
        }

    async def _sku_chunk(
        self, chunk: Sequence[str], wanted: Mapping[str, tuple[int, int]], limit: asyncio.Semaphore, *, by_id: bool
    ) -> list[dict[str, Any]]:
        """One `products?sku=` request (paged if need be), with `include=` of the variation ids when `by_id`.

        `sku=` makes WooCommerce query variations as well as products; matched on its own it
        walks every product and variation of the store (the SKU is post meta, joined to each),
        so the request's cost grows with the catalogue: 100 variations cost 1.5-1.8 s of server
        time in a store of 120,000 products and variations, 0.8-1.1 s in a small one.
        `include=` lets the database start from the hundred ids instead: 0.7-1.0 s at either
        size (README, "Speed at scale").
        """
        params = {"sku": ",".join(chunk), "_fields": SKU_READ_FIELDS}
        if by_id:
            params["include"] = ",".join(sorted({str(wanted[sku][1]) for sku in chunk}))
        return await self._listing("products", params, limit, f"variations by SKU ({chunk[0]}…)", self._trimmed)

    async def open_orders(self) -> list[OpenOrder]:
        """Orders in the configured open statuses (default processing, on-hold)."""
        limit = asyncio.Semaphore(self.settings.page_concurrency)
        params = {"status": ",".join(self.settings.order_statuses), "_fields": ORDER_FIELDS}
        with self._order_statuses_named():
            # Each order mapped as its page arrives: its JSON (addresses, totals...) is let go.
            return await self._listing("orders", params, limit, "open orders", mapping.open_order)

    @contextmanager
    def _order_statuses_named(self) -> Iterator[None]:
        """A status the store does not have comes back as HTTP 400 on `status`: name the config key."""
        try:
            yield
        except PlatformError as exc:
            if exc.status != 400 or exc.code != "rest_invalid_param":
                raise
            raise PlatformError(
                f"order_statuses = {list(self.settings.order_statuses)}: the store refused them (it has no such "
                f"order status); WooCommerce's own are {', '.join(ORDER_STATUSES)}, and plugins may add more",
                status=exc.status,
                code=exc.code,
            ) from exc

    def plan(self, item: Item, decision: Decision) -> Mapping[str, Any]:
        """Fields to write so the store shows `decision` (see `mapping.plan`); empty when it does."""
        return mapping.plan(item, decision, self.settings)

    async def push(self, updates: Sequence[Update]) -> list[WriteResult]:
        """Batch-write the updates; one result per update, in order. Raises only for invalid fields.

        Products and stock pools' parents go to `products/batch`, variations to
        `products/<parent>/variations/batch`, at most `batch_size` objects per request and
        `write_concurrency` requests at once. A failed request fails its objects only.
        """
        for update in updates:
            mapping.validate_fields(update.item, update.fields)
        errors: dict[int, list[str]] = {i: [] for i in range(len(updates))}
        endpoints = self._group(updates, errors)
        pools = {int(u.item.platform["product_id"]) for u in updates if u.item.platform.get("stock_pool") is not None}
        # A stock pool's parent is saved before its variations: WooCommerce derives each
        # variation's stock_status from the parent's backorders when the variation is saved, and
        # the parent's own from its variations' (WC_Product_Variable::sync), so a variation saved
        # first keeps showing "on backorder" under a parent that no longer allows it. Only those
        # variations wait, each for its own parent's batch: the other batches do not wait for
        # the slowest of the parents'.
        products = endpoints.pop("products/batch", {})
        parents = {pid: entry for pid, entry in products.items() if pid in pools}
        others = {pid: entry for pid, entry in products.items() if pid not in pools}
        size = self.settings.batch_size
        # The largest batches first: the store's workers then finish close together, rather than
        # one saving a batch of 100 while the others wait idle at the end of the push.
        requests = _batches({"products/batch": parents}, size) + sorted(
            _batches({"products/batch": others, **endpoints}, size), key=_largest_first
        )
        saved = {pid: asyncio.Event() for pid in parents}
        limit = asyncio.Semaphore(self.settings.write_concurrency)

        async def write(path: str, chunk: list[_Entry]) -> list[str | None]:
            parent = _parent_of(path)
            if parent in saved:
                await saved[parent].wait()
            try:
                return await self._write(path, chunk, limit)
            finally:
                for entry in chunk if path == "products/batch" else ():
                    if entry.payload["id"] in saved:
                        saved[entry.payload["id"]].set()

        outcomes = await _all(write(path, chunk) for path, chunk in requests)
        for (_, chunk), outcome in zip(requests, outcomes, strict=True):
            for entry, error in zip(chunk, outcome, strict=True):
                if error:
                    for owner in entry.owners:
                        errors[owner].append(error)

        results = [
            WriteResult(item_key=u.item.key, ok=not errors[i], error="; ".join(errors[i]) or None)
            for i, u in enumerate(updates)
        ]
        failed = sum(not r.ok for r in results)
        log.info("pushed %d updates in %d requests; %d failed", len(updates), len(requests), failed)
        return results

    def written(self, item: Item, fields: Mapping[str, Any]) -> list[FieldWrite]:
        """Each field a plan writes, as the store then holds it (see `mapping.written`)."""
        return mapping.written(fields)

    def held(self, item: Item, field: str) -> str | None:
        """What the item holds now in a plan field (see `mapping.held`)."""
        return mapping.held(item, field)

    async def restore(self, restorations: Sequence[Restoration]) -> list[WriteResult]:
        """Put fields back through the same batch endpoints as `push`; one result per restoration.

        Pools' parents go first, as in `push`, so that variations saved after them derive their
        stock_status from the restored `backorders`.
        """
        parents: dict[int, _Entry] = {}
        endpoints: dict[str, dict[int, _Entry]] = {}
        for index, restoration in enumerate(restorations):
            for path, payload in mapping.restore_payloads(restoration.item, restoration.fields).items():
                target = parents if path.endswith("#parent") else endpoints.setdefault(path, {})
                entry = target.setdefault(int(payload["id"]), _Entry({"id": payload["id"]}))
                _merge(entry.payload, {k: v for k, v in payload.items() if k != "id"})
                entry.owners.append(index)
        size = self.settings.batch_size
        limit = asyncio.Semaphore(self.settings.write_concurrency)
        waves = [{"products/batch": parents}, endpoints]
        errors: dict[int, list[str]] = {i: [] for i in range(len(restorations))}
        requests = 0
        for wave in waves:
            chunks = [
                (path, list(entries.values())[start : start + size])
                for path, entries in wave.items()
                for start in range(0, len(entries), size)
            ]
            requests += len(chunks)
            outcomes = await _all(self._write(path, chunk, limit) for path, chunk in chunks)
            for (_, chunk), outcome in zip(chunks, outcomes, strict=True):
                for entry, error in zip(chunk, outcome, strict=True):
                    for owner in entry.owners if error else ():
                        errors[owner].append(error or "")
        results = [
            WriteResult(item_key=r.item.key, ok=not errors[i], error="; ".join(errors[i]) or None)
            for i, r in enumerate(restorations)
        ]
        log.info(
            "restored %d items in %d requests; %d failed", len(restorations), requests, sum(not r.ok for r in results)
        )
        return results

    async def notify_customer(self, order_id: str, message: str) -> WriteResult:
        """Add a customer note to the order (`customer_note: true`): WooCommerce emails it to the buyer.

        Sent once, never retried here: a note POST that may have arrived is not sent again (the
        core records the notice before and after). A refusal (4xx, 429) is `ok=False`; no answer
        (timeout, connection lost, 5xx) raises.
        """
        once = dataclasses.replace(self._policy, attempts=1)
        try:
            await self._send(
                "POST", f"orders/{order_id}/notes", policy=once, json={"note": message, "customer_note": True}
            )
        except (AuthError, PlatformError) as exc:
            return WriteResult(item_key=order_id, ok=False, error=str(exc))
        except TransientError as exc:
            if exc.status == 429:
                return WriteResult(item_key=order_id, ok=False, error=str(exc))
            raise
        return WriteResult(item_key=order_id, ok=True)

    # --- webhooks (ManagesWebhooks) -----------------------------------------------------------

    webhook_topics = WEBHOOK_TOPICS
    webhook_name = "Stock-status connector"

    async def list_webhooks(self) -> list[WebhookSubscription]:
        """Every webhook of the store, whatever its status (`GET webhooks`, all pages).

        WooCommerce's answer has no failure count: a webhook that failed too often shows as
        `disabled`, which is all a client can see of its health.
        """
        found: list[dict[str, Any]] = await self._listing("webhooks", {}, asyncio.Semaphore(2), "webhooks")
        return [_webhook(raw, f"webhooks at {self.settings.url}") for raw in found]

    async def create_webhook(self, topic: str, address: str, secret: str | None) -> WebhookSubscription:
        """POST webhooks, active, signed with `secret` (WooCommerce pings `address` once, unsigned)."""
        if not secret:
            raise ValueError("a WooCommerce webhook needs the secret its deliveries are signed with")
        body = {
            "name": f"{self.webhook_name}: {topic}",
            "status": "active",
            "topic": topic,
            "delivery_url": address,
            "secret": secret,
        }
        answer = await self._send_json("POST", "webhooks", json=body)
        return _webhook(answer.body, f"new webhook at {self.settings.url}")

    async def delete_webhook(self, subscription: WebhookSubscription) -> None:
        """DELETE webhooks/<id> (`force`: webhooks cannot be trashed); one already gone is no error."""
        try:
            await self._send("DELETE", f"webhooks/{subscription.id}", params={"force": "true"})
        except PlatformError as exc:
            if exc.status != 404:
                raise

    # --- writing ---------------------------------------------------------------------------

    def _group(self, updates: Sequence[Update], errors: dict[int, list[str]]) -> dict[str, dict[int, _Entry]]:
        """Batch objects per endpoint, one per product/variation id; outvoted pool members go to `errors`.

        A stock pool's `backorders` is decided over every variation planned this pass (see
        `mapping.StockPool`). A variation outvoted by a sibling that must not sell past zero gets
        the meta of what the store will sell instead of its decision's (`mapping.pool_fallback`),
        and a failed result saying why; a sibling planned without changes of its own is written
        the same way, as part of the parent's write, so nothing written contradicts the pool.
        """
        endpoints: dict[str, dict[int, _Entry]] = {}
        pools: dict[int, list[int]] = {}
        for index, update in enumerate(updates):
            if update.item.platform.get("stock_pool") is not None:
                pools.setdefault(int(update.item.platform["product_id"]), []).append(index)

        def add(item: Item, fields: Mapping[str, Any], owners: Iterable[int]) -> None:
            own = mapping.item_payload(item, fields)
            if own is None:
                return
            platform = item.platform
            path = (
                f"products/{platform['product_id']}/variations/batch"
                if platform.get("variation_id")
                else "products/batch"
            )
            entry = endpoints.setdefault(path, {}).setdefault(own["id"], _Entry({"id": own["id"]}))
            _merge(entry.payload, own)
            entry.owners.extend(owners)

        outvoted: set[int] = set()
        for parent, members in pools.items():
            wanted = {
                i: str(updates[i].fields["parent_backorders"])
                for i in members
                if "parent_backorders" in updates[i].fields
            }
            pool = updates[members[0]].item.platform.get("stock_pool")
            if isinstance(pool, mapping.StockPool):
                value, current = pool.resolved(wanted.values()), pool.backorders
                quiet = {key: pair for key, pair in pool.decided.items() if pool.wanted.get(key) != value}
            else:
                value = mapping.resolve_pool_conflicts(list(wanted.values())) if wanted else None
                current = updates[members[0]].item.platform.get("parent_backorders")
                quiet = {}
            owners = []
            for index in members:
                update = updates[index]
                quiet.pop(update.item.key, None)
                mine = wanted.get(index) or (
                    mapping.desired_backorders(update.item, update.decision, self.settings.backorders_allowed_as)
                )
                if value is None or mine == value or mapping.outvoted(update.item, update.decision, mine):
                    # Agrees with the pool, or outvoted by an earlier pass (its fields already say so).
                    owners.append(index)
                    continue
                outvoted.add(index)
                fallback = mapping.pool_fallback(update.item, update.decision, self.settings)
                add(update.item, fallback, [index])
                errors[index].append(
                    f"sells from the stock of product #{parent}, shared with a variation that must not sell past "
                    f'zero: the shared backorders setting stays "{value}", so the store takes no '
                    f"{update.decision.status.value.replace('_', '-')}s for it; shown as what the store sells "
                    f"({self.settings.meta_keys.pool_conflict} = {update.decision.status.value}) until the "
                    "variations agree or get stock of their own"
                )
            if value is not None and value != current and owners:
                entry = endpoints.setdefault("products/batch", {}).setdefault(parent, _Entry({"id": parent}))
                entry.payload["backorders"] = value
                entry.owners.extend(owners)
                # Each variation of the pool is saved after the parent (see `push`) so that the
                # store derives its stock_status from the new value; an empty entry saves it as it is.
                siblings = [updates[i].item for i in members]
                if isinstance(pool, mapping.StockPool):
                    siblings += [item for item, _ in pool.decided.values()]
                for sibling in siblings:
                    vid = sibling.platform.get("variation_id")
                    if vid:
                        path = f"products/{parent}/variations/batch"
                        endpoints.setdefault(path, {}).setdefault(int(vid), _Entry({"id": vid})).owners.extend(owners)
                for item, decision in quiet.values():
                    # Planned without changes of its own, but the parent's new value outvotes it.
                    log.warning(
                        "%s shares the stock of product #%d with a variation that must not sell past zero: "
                        "shown as what the store sells (%s = %s)",
                        item.label,
                        parent,
                        self.settings.meta_keys.pool_conflict,
                        decision.status.value,
                    )
                    add(item, mapping.pool_fallback(item, decision, self.settings), owners)

        for index, update in enumerate(updates):
            if index not in outvoted:
                add(update.item, update.fields, [index])
        return endpoints

    async def _write(self, path: str, chunk: list[_Entry], limit: asyncio.Semaphore) -> list[str | None]:
        """POST one batch; per object None (saved) or why it was not."""
        body = {"update": [entry.payload for entry in chunk]}
        try:
            # The policy may send this batch again when its answer is lost or unreadable, after
            # WooCommerce saved it: harmless, every field is an absolute value (a status, a
            # backorders setting, a date), never an increment.
            async with limit:
                answer = (await self._send_json("POST", path, json=body)).body
        except RemoteError as exc:
            hint = " (lower batch_size)" if exc.status == 413 else ""
            log.warning("batch of %d to %s failed: %s", len(chunk), path, exc)
            return [f"request failed: {exc}{hint}"] * len(chunk)
        returned: dict[str, Any] = {}
        for obj in answer.get("update") or () if isinstance(answer, dict) else ():
            if isinstance(obj, dict) and "id" in obj:
                returned.setdefault(str(obj["id"]), obj)
        outcome: list[str | None] = []
        for entry in chunk:
            obj = returned.get(str(entry.payload["id"]))
            if obj is None:
                outcome.append(f"WooCommerce's batch answer did not include #{entry.payload['id']}; not confirmed")
            elif isinstance(obj.get("error"), dict):
                error = obj["error"]
                outcome.append(f"{error.get('code') or 'error'}: {error.get('message') or 'no message'}")
            else:
                outcome.append(None)
        return outcome


def _largest_first(request: tuple[str, list[_Entry]]) -> int:
    return -len(request[1])


def _owned(answer: Iterable[Mapping[str, Any]], wanted: Mapping[str, tuple[int, int]]) -> list[dict[str, Any]]:
    """The objects of a read by SKU that are the variations their SKUs were known for.

    Another product may have taken a SKU since (WooCommerce keeps them unique): only the
    variation the SKU was known for counts.
    """
    return [
        dict(obj)
        for obj in answer
        if obj.get("type") == "variation"
        and wanted.get(str(obj.get("sku") or "")) == (obj.get("parent_id"), obj.get("id"))
    ]


def _batches(endpoints: Mapping[str, Mapping[Any, _Entry]], size: int) -> list[tuple[str, list[_Entry]]]:
    """Each endpoint's entries in requests of at most `size`."""
    return [
        (path, list(entries.values())[start : start + size])
        for path, entries in endpoints.items()
        for start in range(0, len(entries), size)
    ]


def _parent_of(path: str) -> int | None:
    """The product whose variations a batch path writes (`products/<id>/variations/batch`), else None."""
    head, _, rest = path.removeprefix("products/").partition("/")
    return int(head) if rest == "variations/batch" and head.isdigit() else None


def _as_listed(variation: Mapping[str, Any], parent_name: str) -> dict[str, Any]:
    """A variation read through `products?sku=` as `products/<id>/variations` shows it.

    The variations route names a variation by its attribute values ("S, Red"; WooCommerce's
    wc_get_formatted_variation), or its parent's name when it has none, where the products
    route says "Parent - S, Red".
    """
    shown = {k: v for k, v in variation.items() if k not in ("type", "parent_id")}
    options = [str(a.get("option")) for a in variation.get("attributes") or () if isinstance(a, Mapping)]
    shown["name"] = ", ".join(options) or parent_name
    return shown


def _merge(payload: dict[str, Any], more: Mapping[str, Any]) -> None:
    for name, value in more.items():
        if name == "meta_data":
            payload.setdefault("meta_data", []).extend(value)
        else:
            payload[name] = value


def same_site(home: str, url: str) -> bool:
    """Whether two site URLs are the same for a signature: scheme, host, port and path (default ports equal)."""
    a, b = httpx.URL(home), httpx.URL(url)
    return (
        a.scheme == b.scheme
        and (a.host or "").lower() == (b.host or "").lower()
        and a.port == b.port
        and a.path.rstrip("/") == b.path.rstrip("/")
    )


def _webhook(raw: Any, what: str) -> WebhookSubscription:
    """A webhook as the REST API shows it, or FetchError naming what is missing."""
    if not isinstance(raw, dict) or not all(isinstance(raw.get(k), (str, int)) for k in ("id", "topic", "status")):
        raise FetchError(f"{what}: not a webhook (id, topic and status expected)")
    return WebhookSubscription(
        id=str(raw["id"]),
        topic=str(raw["topic"]),
        address=str(raw.get("delivery_url") or ""),
        status=str(raw["status"]),
        name=str(raw["name"]) if raw.get("name") is not None else None,
    )
