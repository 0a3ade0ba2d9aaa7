"""The daemon's webhook listener: store deliveries in, targeted passes queued, answered within milliseconds.

Built on aiohttp's server (`aiohttp.web`), on the daemon's own asyncio loop: a maintained
library that gives the raw body (signatures are over the exact bytes) and refuses a body over
`client_max_size` before reading it whole.

- `POST /webhooks/<store>`: a delivery from that store. Verified with the store's webhook secret
  (`connector.inbound`); unsigned, wrongly signed, too large, for an unknown or disabled store,
  or for a store with no webhook secret: answered 4xx, and nothing changes but the count of
  rejections `status` shows. A verified delivery is recorded with its id (a repeat or a replay
  answers 200 and triggers nothing), queued for a targeted pass of its store, and answered
  200 at once: the pass runs apart, debounced and under the store's lock (`Daemon.deliveries`).
- `GET /healthz`: 200 while the daemon runs (for the reverse proxy and the service manager).
- `GET /` and `/stores/...`: the status page (`connector.web`), with its own access rules.

The listener binds `[listen] address` (loopback by default): TLS and the public name belong to
a reverse proxy in front of it (README, "Real-time updates").
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from aiohttp import web

from stockstatus.core.config import Config, Listen
from stockstatus.core.inbound import READERS, Ping, Refused
from stockstatus.core.state import StateStore
from stockstatus.core.sync.targeted import Touched
from stockstatus.core.web import StatusPage, add_status_routes

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/{store}"


class Queue(Protocol):
    """Where a verified delivery goes: the daemon, which runs the targeted passes."""

    def delivered(self, store: str, touched: Touched, receipt: int, received: float) -> None: ...


@dataclass
class Listener:
    """The HTTP server of one daemon: started and stopped with it, on its loop."""

    settings: Listen
    config: Callable[[], Config]
    """The config as last validated (a reload takes effect at the next delivery)."""
    state: StateStore
    environ: Mapping[str, str]
    clock: Callable[[], datetime]
    queue: Queue
    page: StatusPage | None = None
    """The status page, served on the same address (`GET /`, `/stores/...`)."""

    def __post_init__(self) -> None:
        self._said: set[tuple[str, str]] = set()
        """(store, reason) of rejections logged as warnings: a repeat is logged at INFO only."""
        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        """The port bound (the configured one, or the one the system chose for port 0)."""

    def app(self) -> web.Application:
        app = web.Application(client_max_size=self.settings.max_body_bytes)
        app.router.add_post(WEBHOOK_PATH, self.webhook)
        app.router.add_get("/healthz", self.healthz)
        if self.page is not None:
            add_status_routes(app, self.page)
        return app

    async def start(self) -> None:
        """Bind and serve; OSError (address in use, not this machine's) is the caller's to report."""
        self._runner = web.AppRunner(self.app(), access_log=None, handle_signals=False, shutdown_timeout=5.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.host, self.settings.port)
        try:
            await site.start()
        except OSError:
            await self._runner.cleanup()
            self._runner = None
            raise
        addresses = self._runner.addresses  # the port the system chose, for port 0
        self.port = int(addresses[0][1]) if addresses else self.settings.port
        log.warning("listening for store webhooks on %s:%s", self.settings.host, self.port)

    async def stop(self) -> None:
        """Stop taking deliveries; requests in flight are answered first."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def webhook(self, request: web.Request) -> web.Response:
        name = request.match_info["store"]
        store = next((s for s in self.config().stores if s.name == name), None)
        if store is None or not store.enabled:
            # Unknown names are not recorded: anyone can post to any path.
            return _answer(404, "no enabled store by that name")
        reader = READERS.get(store.platform)
        if reader is None:
            return _answer(404, f"{store.platform} stores send no webhooks the connector reads")
        now = self.clock()
        topic = request.headers.get("X-WC-Webhook-Topic") or request.headers.get("X-Shopify-Topic") or ""
        secret = self.environ.get(store.webhook_secret_env or "") if store.webhook_secret_env else None
        if not secret:
            why = (
                f"environment variable {store.webhook_secret_env} is not set"
                if store.webhook_secret_env
                else "no webhook_secret_env in its config"
            )
            # The sender is told no more than that: the variable's name is for the operator (status, log).
            reason = f"the store has no webhook secret ({why})"
            return self._reject(store.name, topic, 403, reason, now, said="this store takes no webhooks yet")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            limit = self.settings.max_body_bytes
            return self._reject(store.name, topic, 413, f"body over the {limit} bytes [listen] max_body_bytes", now)
        try:
            delivery = reader(request.headers, body, secret)
        except Refused as exc:
            return self._reject(store.name, topic, exc.status, exc.reason, now)
        if isinstance(delivery, Ping):
            return _answer(200, "ping")
        settings = self.config().listening or self.settings  # reloaded keys apply from this delivery
        if delivery.triggered_at is not None and now - delivery.triggered_at > timedelta(
            minutes=settings.replay_minutes
        ):
            self.state.deliveries.stale(store.name, delivery.delivery_id, delivery.topic, now)
            log.info(
                "store %s: delivery %s fired at %s: a replay, nothing done",
                name,
                delivery.delivery_id,
                delivery.triggered_at.isoformat(),
            )
            return _answer(200, "replay: fired longer ago than the connector takes deliveries; nothing done")
        receipt = self.state.deliveries.receive(
            store.name, delivery.delivery_id, delivery.topic, delivery.touched.to_json(), now
        )
        if receipt is None:
            return _answer(200, "duplicate: already received; nothing done")
        self.queue.delivered(store.name, delivery.touched, receipt, time.monotonic())
        return _answer(200, "queued")

    def _reject(
        self, store: str, topic: str, status: int, reason: str, now: datetime, *, said: str | None = None
    ) -> web.Response:
        self.state.deliveries.reject(store, topic, reason, now)
        # A wrong secret refuses every delivery: said once as a warning, then quietly (status counts them).
        level = logging.INFO if (store, reason) in self._said else logging.WARNING
        self._said.add((store, reason))
        log.log(level, "store %s: webhook delivery refused (%d): %s", store, status, reason, extra={"store": store})
        return _answer(status, said or reason)


def _answer(status: int, text: str) -> web.Response:
    return web.json_response({"ok": status < 400, "detail": text}, status=status)
