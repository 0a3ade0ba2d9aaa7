"""Webhook subscriptions as Shopify keeps and delivers them (Admin API, HTTPS endpoints).

What Shopify documents, and the fake does:

- a subscription names a topic (`ORDERS_CREATE`, ...), a `uri`, a format (JSON) and the API
  version the app used; `webhookSubscriptionCreate` refuses an address that is not `https://`
  (the fake lets plain `http://` through for loopback addresses only, so a local receiver can
  take its deliveries) and a second subscription to the same topic and address;
- a delivery is a POST of the resource in the REST Admin API's shape (an order, a product with
  its variants, an inventory level), built when the event happens, with the headers
  `X-Shopify-Topic` (`orders/create`), `X-Shopify-Hmac-Sha256` (base64 HMAC-SHA256 of the raw body
  with the app's client secret), `X-Shopify-Shop-Domain`, `X-Shopify-API-Version`,
  `X-Shopify-Webhook-Id` (one per delivery, kept by its retries), `X-Shopify-Event-Id` (one per
  event: the same on its retries and on its deliveries to other subscriptions) and
  `X-Shopify-Triggered-At`;
- an answer other than 2xx (or none within five seconds) is a failure; a failed delivery is
  retried 8 times over about 4 hours with exponential backoff, with its original payload, to the
  address the subscription had when it was triggered (shopify.dev changelog, September 2024); a
  delivery whose retries all fail removes a subscription that was created through the Admin API.

The fake sends from one thread, to loopback addresses only (anything else fails, as an
unreachable address would); `retry_delays` is the backoff schedule, which tests shorten.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import ipaddress
import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

import httpx

from .records import Json

__all__ = ["RETRIES", "TOPICS", "Delivery", "Dispatcher", "Subscription", "hmac_sha256"]

TOPICS = {
    "ORDERS_CREATE": "orders/create",
    "ORDERS_UPDATED": "orders/updated",
    "ORDERS_CANCELLED": "orders/cancelled",
    "INVENTORY_LEVELS_UPDATE": "inventory_levels/update",
    "PRODUCTS_UPDATE": "products/update",
}
"""The topics the fake fires (GraphQL enum value → the REST name sent in X-Shopify-Topic)."""
RETRIES = 8
DEFAULT_RETRY_DELAYS = tuple(60.0 * 2**n for n in range(RETRIES))
"""1, 2, 4, ... 128 minutes: eight retries over about four hours."""
TIMEOUT = 5.0


def hmac_sha256(body: bytes, secret: str) -> str:
    """X-Shopify-Hmac-Sha256: base64 of the raw HMAC-SHA256 of the body, keyed with the client secret."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@dataclass
class Subscription:
    id: int
    topic: str
    uri: str
    api_version: str
    created_at: datetime
    updated_at: datetime
    name: str | None = None
    format: str = "JSON"
    filter: str | None = None
    include_fields: list[str] = field(default_factory=list)
    metafield_namespaces: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Delivery:
    """One POST the shop made (or tried); retries are deliveries too."""

    subscription_id: int
    topic: str
    uri: str
    webhook_id: str
    event_id: str
    attempt: int
    status_code: int | None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass
class _Job:
    subscription_id: int
    topic: str
    uri: str
    body: bytes
    headers: dict[str, str]
    attempt: int = 0


@dataclass
class Dispatcher:
    """The shop's subscriptions, the deliveries they owe, and the thread that sends them."""

    shop: str
    client_secret: Callable[[], str]
    now: Callable[[], datetime]
    retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS
    subscriptions: dict[int, Subscription] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    """Subscriptions Shopify removed because their deliveries kept failing."""
    lock: threading.Condition = field(default_factory=threading.Condition)
    _due: list[tuple[float, int, _Job]] = field(default_factory=list)
    _sequence: itertools.count[int] = field(default_factory=itertools.count)
    _busy: int = 0
    _thread: threading.Thread | None = None

    def wants(self, topic: str) -> bool:
        """Whether any subscription would take an event of `topic` (so its payload is worth building)."""
        with self.lock:
            return any(s.topic == topic for s in self.subscriptions.values())

    def fire(self, topic: str, payload: Json) -> None:
        """An event of `topic` happened: queue one delivery per subscription to it."""
        event_id = str(uuid.uuid4())
        triggered_at = self.now().isoformat().replace("+00:00", "Z")
        with self.lock:
            wanted = [s for s in self.subscriptions.values() if s.topic == topic]
        for subscription in wanted:
            body = json.dumps(_only(payload, subscription.include_fields), separators=(",", ":")).encode()
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "Shopify-Captain-Hook",
                "X-Shopify-Topic": TOPICS[topic],
                "X-Shopify-Hmac-Sha256": hmac_sha256(body, self.client_secret()),
                "X-Shopify-Shop-Domain": self.shop,
                "X-Shopify-API-Version": subscription.api_version,
                "X-Shopify-Webhook-Id": str(uuid.uuid4()),
                "X-Shopify-Event-Id": event_id,
                "X-Shopify-Triggered-At": triggered_at,
            }
            self._schedule(_Job(subscription.id, topic, subscription.uri, body, headers), delay=0.0)

    def wait(self, timeout: float = 10.0) -> bool:
        """Block until nothing is queued or being sent (retries included); False on timeout."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while self._due or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.lock.wait(min(left, 0.05))
        return True

    def _schedule(self, job: _Job, delay: float) -> None:
        with self.lock:
            heapq.heappush(self._due, (time.monotonic() + delay, next(self._sequence), job))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="shopify-webhooks", daemon=True)
                self._thread.start()
            self.lock.notify_all()

    def _run(self) -> None:
        with httpx.Client(timeout=TIMEOUT, follow_redirects=False, trust_env=False) as client:
            while True:
                with self.lock:
                    while not self._due or self._due[0][0] > time.monotonic():
                        self.lock.wait(None if not self._due else max(self._due[0][0] - time.monotonic(), 0.0))
                    _, _, job = heapq.heappop(self._due)
                    self._busy += 1
                try:
                    self._attempt(client, job)
                finally:
                    with self.lock:
                        self._busy -= 1
                        self.lock.notify_all()

    def _attempt(self, client: httpx.Client, job: _Job) -> None:
        code, error = _post(client, job.uri, job.body, job.headers)
        delivery = Delivery(
            job.subscription_id,
            job.topic,
            job.uri,
            job.headers["X-Shopify-Webhook-Id"],
            job.headers["X-Shopify-Event-Id"],
            job.attempt,
            code,
            error,
        )
        with self.lock:
            self.deliveries.append(delivery)
        if delivery.delivered:
            return
        if job.attempt < len(self.retry_delays):
            job.attempt += 1
            self._schedule(job, self.retry_delays[job.attempt - 1])
            return
        with self.lock:
            # Every retry failed: a subscription made through the Admin API is removed.
            if self.subscriptions.pop(job.subscription_id, None) is not None:
                self.removed.append(job.subscription_id)


def _only(payload: Json, include_fields: list[str]) -> Json:
    """`includeFields`: only the named top-level fields (all when none are named)."""
    if not include_fields:
        return payload
    return {k: v for k, v in payload.items() if k in include_fields}


def _post(client: httpx.Client, uri: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str | None]:
    host = urlsplit(uri).hostname or ""
    if not is_loopback(host):
        return None, f"the sandbox delivers to loopback addresses only, not {host!r}"
    try:
        return client.post(uri, content=body, headers=headers).status_code, None
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
