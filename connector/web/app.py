"""The status page as an aiohttp application: `GET /` and everything under `/stores/`.

Read-only. Each request opens the state file read-only and the current config; a SKU's
page runs `rules explain` for it (a read-only pull of its store) so the page and the terminal
show the same explanation. Access: see `access`. Every answer carries headers that keep it out of
caches and frames and let it load nothing from anywhere (its CSS and chart are inline).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any

import httpx
import jinja2
from aiohttp import web

from stockstatus.core import explain
from stockstatus.core.config import Config, Store
from stockstatus.core.errors import ConnectorError
from stockstatus.core.state import StateStore
from stockstatus.core.sync import Clock, system_clock
from stockstatus.core.web import chart, views
from stockstatus.core.web.access import COOKIE, AccessRule, Grant, cookie_value, token_from

log = logging.getLogger(__name__)

Explainer = Callable[[Config, str, str], Awaitable[list[explain.Explanation]]]
"""(config, store name, SKU) -> the explanations `connector rules explain SKU --store STORE` prints."""
Peer = Callable[[web.BaseRequest], str | None]
"""The address a request came from (the socket's peer by default; tests inject one)."""

HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}

_templates = jinja2.Environment(
    loader=jinja2.PackageLoader("stockstatus.core.web", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def owns(path: str) -> bool:
    """Whether a path belongs to the status page (the listener's other routes are left alone)."""
    return path == "/" or path == "/stores" or path.startswith("/stores/")


class _Answer(Exception):
    """Raised by a handler's helper to answer at once (an unknown store's 404 page)."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


def _token_hint(variable: str | None, token: str | None) -> str:
    """Why no token opens the page, when none can: the variable's name, never a value."""
    if token:
        return ""
    if variable:
        return f" (the variable {variable}, which [listen] status_token_env names, is not set)"
    return " (none is configured: set [listen] status_token_env)"


def _remote(request: web.BaseRequest) -> str | None:
    return request.remote


class StatusPage:
    """The page's handlers over one config source, the environment and the daemon's live view."""

    def __init__(
        self,
        config: Config | Callable[[], Config],
        *,
        environ: Mapping[str, str],
        clock: Clock = system_clock,
        live: Callable[[Config, StateStore], views.Live] | None = None,
        explainer: Explainer | None = None,
        transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
        peer: Peer = _remote,
    ) -> None:
        self._config = config if callable(config) else (lambda: config)
        self._environ = environ
        self._clock = clock
        self._live = live or (lambda config, state: views.FromStateFile(config, state, clock))
        self._explainer = explainer or self._explain
        self._transports = transports
        self._peer = peer
        self._pulling: dict[str, asyncio.Lock] = {}
        """One explanation's pull per store at a time: reloads of SKU pages queue, they do not
        multiply the requests a store gets."""

    @property
    def config(self) -> Config:
        return self._config()

    @contextlib.contextmanager
    def _state(self, config: Config) -> Iterator[StateStore]:
        state = StateStore.read_only(config.state_path)
        try:
            yield state
        finally:
            state.close()

    async def _explain(self, config: Config, store: str, sku: str) -> list[explain.Explanation]:
        # As `connector rules explain` does: on an in-memory copy, which the pass's own gathering
        # code may use as it likes without touching the file.
        state = StateStore.copy_of(config.state_path)
        try:
            return await explain.explain_sku(
                config,
                sku,
                store_name=store,
                state=state,
                clock=self._clock,
                environ=self._environ,
                transports=self._transports,
            )
        finally:
            state.close()

    def _render(self, template: str, *, status: int = 200, **context: Any) -> web.Response:
        html = _templates.get_template(template).render(**context)
        return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")

    def _store(self, config: Config, name: str) -> Store:
        found = next((s for s in config.stores if s.name == name), None)
        if found is None:
            raise _Answer(
                self._render(
                    "error.html", status=404, message=f"no store named {name!r} in the config", stores=config.stores
                )
            )
        return found

    def _error_page(self, message: str, config: Config | None = None) -> str:
        return _templates.get_template("error.html").render(message=message, stores=config.stores if config else ())

    # ---- access ------------------------------------------------------------------------------

    @web.middleware
    async def guard(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """Refuse the page's paths to anyone not on loopback without the token; add the page's headers."""
        if not owns(request.path):
            return await handler(request)
        listen = self.config.settings.listen
        rule = AccessRule(token_from(self._environ, listen.status_token_env))
        grant = rule.grant(self._peer(request), request.headers, request.cookies, request.query)
        if grant is Grant.REFUSED:
            response: web.StreamResponse = web.Response(
                status=401,
                text=self._error_page(
                    "this status page answers other machines only with its access token: send it as "
                    "`Authorization: Bearer TOKEN` or open the page once with ?token=TOKEN"
                    + _token_hint(listen.status_token_env, rule.token)
                ),
                content_type="text/html",
                charset="utf-8",
                headers={"WWW-Authenticate": 'Bearer realm="connector status"'},
            )
        elif grant is Grant.SET_COOKIE:
            assert rule.token is not None
            # The token leaves the address bar (and the history, and any log of URLs) at once.
            query = {k: v for k, v in request.query.items() if k != "token"}
            response = web.Response(status=303, headers={"Location": str(request.rel_url.with_query(query))})
            secure = request.secure or request.headers.get("X-Forwarded-Proto", "") == "https"
            response.set_cookie(
                COOKIE, cookie_value(rule.token), httponly=True, samesite="Strict", secure=secure, path="/"
            )
        else:
            try:
                response = await handler(request)
            except _Answer as answer:
                response = answer.response
            except web.HTTPException:
                raise
            except Exception:  # any failure is one page's, told as such; the daemon goes on
                log.exception("status page %s failed", request.path)
                response = web.Response(
                    status=500,
                    text=self._error_page("this page failed; the connector's log says why (nothing was changed)"),
                    content_type="text/html",
                )
        response.headers.update(HEADERS)
        return response

    # ---- pages -------------------------------------------------------------------------------

    async def overview(self, request: web.Request) -> web.StreamResponse:
        config = self.config
        with self._state(config) as state:
            stores = views.overview(config, state, self._live(config, state), self._clock)
        return self._render("overview.html", stores=stores, statuses=views.STATUSES, now=self._clock())

    async def store(self, request: web.Request) -> web.StreamResponse:
        config = self.config
        store = self._store(config, request.match_info["store"])
        status = request.query.get("status", "")
        if status and status not in views.STATUSES:
            return self._render(
                "error.html",
                status=400,
                message=f"status filter {status!r}: use one of {', '.join(views.STATUSES)} (or none)",
                stores=config.stores,
            )
        raw_page = request.query.get("page", "1")
        if not raw_page.isdigit():
            return self._render(
                "error.html",
                status=400,
                message=f"page {raw_page!r}: give a page number (1, 2, …)",
                stores=config.stores,
            )
        search = request.query.get("q", "").strip()
        with self._state(config) as state:
            found = views.items(state, store, status=status, search=search, page=int(raw_page))
            skipped = views.skipped(state, store)
        return self._render(
            "store.html", store=store, page=found, skipped=skipped, statuses=views.STATUSES, stores=config.stores
        )

    async def sku(self, request: web.Request) -> web.StreamResponse:
        config = self.config
        store = self._store(config, request.match_info["store"])
        sku = request.match_info["sku"]
        error = None
        explained: list[explain.Explanation] = []
        try:
            async with self._pulling.setdefault(store.name, asyncio.Lock()):
                explained = await self._explainer(config, store.name, sku)
        except explain.UnknownSku as exc:
            error = f"the store lists no item with this SKU now: {exc}"
        except (ConnectorError, httpx.HTTPError) as exc:
            # A failed read says so; it never reads as "out of stock".
            error = f"could not read the store to explain this SKU: {exc}"
        with self._state(config) as state:
            changes = views.history(state, store, sku)
            holds = views.holds(state, store)
        shown = [
            {
                "e": e,
                "facts": explain.fact_rows(e),
                "series": (series := chart.chart_series(e, store.timezone)),
                "svg": chart.svg(series) if series else None,
                "caption": chart.describe(series) if series else None,
                "line": e.supply_timeline,
            }
            for e in explained
        ]
        return self._render(
            "sku.html",
            store=store,
            sku=sku,
            error=error,
            explained=shown,
            changes=changes,
            holds=holds,
            stores=config.stores,
        )


def add_status_routes(app: web.Application, page: StatusPage) -> None:
    """Add the status page to an application (before it starts): its routes and its access guard.

    The guard acts only on the page's own paths (`owns`), so the listener's other routes, such as
    webhook deliveries, keep their own rules.
    """
    app.middlewares.append(page.guard)
    app.router.add_get("/", page.overview, name="overview")
    app.router.add_get("/stores/{store}", page.store, name="store")
    app.router.add_get("/stores/{store}/skus/{sku:.+}", page.sku, name="sku")


def status_app(
    config: Config | Callable[[], Config],
    *,
    environ: Mapping[str, str],
    clock: Clock = system_clock,
    live: Callable[[Config, StateStore], views.Live] | None = None,
    explainer: Explainer | None = None,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    peer: Peer = _remote,
) -> web.Application:
    """The status page as an application of its own, to serve at `/` (see `serve.start`).

    `config`: the config, or a function giving the current one (the daemon's, reloaded when the
    file changes). `live`: what the running daemon knows, per request; without it,
    `views.FromStateFile`. `explainer`: how a SKU is explained (default: `rules explain`'s own
    function, pulling the store read-only through `transports` when given). `peer`: the address
    a request came from, for the access rule.
    """
    app = web.Application()
    add_status_routes(
        app,
        StatusPage(
            config, environ=environ, clock=clock, live=live, explainer=explainer, transports=transports, peer=peer
        ),
    )
    return app
