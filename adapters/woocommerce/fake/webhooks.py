"""Webhooks as WooCommerce 10 keeps and delivers them (`WC_Webhook`, `WC_REST_Webhooks_Controller`).

What the real store does, and the fake with it:

- a webhook has a topic `<resource>.<event>` (order, product, coupon, customer × created,
  updated, deleted, restored), a delivery URL, a secret and a status: `active` delivers,
  `paused` (by the merchant) and `disabled` (by WooCommerce, after failures) do not;
- the REST answer has no failure count: `failure_count` lives in the `wc_webhooks` table and shows
  only as the status turning `disabled`. A delivery answered 2xx, 301 or 302 resets the count;
  anything else (or no answer) adds one, and a failure while the count is already above 5 disables
  the webhook (`woocommerce_max_webhook_delivery_failures`), so the seventh consecutive failure
  does it (as seen on the real store). Re-enabling keeps the count: the next failure disables it
  again. A failed delivery is never sent again: WooCommerce has no retries;
- creating a webhook sends a ping, `webhook_id=<id>` as a form body, unsigned; until a ping is
  answered 200, every save of the webhook (each delivery's outcome is one) pings again;
- each save of a resource fires its hooks (a REST-created order fires order.created, then
  order.updated); a webhook delivers each resource at most once per
  request (`WC_Webhook::is_already_processed`), in the background (Action Scheduler), with the
  payload built when it is sent: the resource as `GET /wc/v3/<resource>s/<id>` renders it then
  (a variation is `product.updated` with the variation as `products/<id>` renders it), or
  `{"id": <id>}` for `deleted`;
- the body is `wp_json_encode`d (`/` escaped as `\\/`, non-ASCII as `\\uXXXX`) and signed as sent:
  `X-WC-Webhook-Signature` is base64 HMAC-SHA256 of those bytes with the secret;
- `X-WC-Webhook-Delivery-ID` is `wp_hash(webhook id . unix time)`: two deliveries of one webhook in
  the same second carry the same id, so a receiver must not take it alone as the event's identity.

The fake delivers on one sender thread, and only to loopback addresses (127.0.0.1, ::1,
localhost): anything else fails as an unreachable URL would, so a sandbox never posts to the
internet. `wait_for_deliveries()` lets a test wait until the queue is empty.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import queue
import secrets
import string
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from .errors import Json, WooError

__all__ = ["MAX_DELIVERY_FAILURES", "Delivery", "Hookshot", "Webhook", "is_valid_topic", "wp_json_encode"]

MAX_DELIVERY_FAILURES = 5
"""woocommerce_max_webhook_delivery_failures' default: more consecutive failures than this disable."""

RESOURCES = ("coupon", "customer", "order", "product")
EVENTS = ("created", "updated", "deleted", "restored")

# WC_Webhook::get_topic_hooks, for the resources the fake keeps (what `hooks` shows).
TOPIC_HOOKS: dict[str, list[str]] = {
    "order.created": ["woocommerce_new_order"],
    "order.updated": ["woocommerce_update_order", "woocommerce_order_refunded"],
    "order.deleted": ["wp_trash_post"],
    "order.restored": ["untrashed_post"],
    "product.created": [
        "woocommerce_process_product_meta",
        "woocommerce_new_product",
        "woocommerce_new_product_variation",
    ],
    "product.updated": [
        "woocommerce_process_product_meta",
        "woocommerce_update_product",
        "woocommerce_update_product_variation",
    ],
    "product.deleted": ["wp_trash_post"],
    "product.restored": ["untrashed_post"],
    "coupon.created": ["woocommerce_process_shop_coupon_meta", "woocommerce_new_coupon"],
    "coupon.updated": ["woocommerce_process_shop_coupon_meta", "woocommerce_update_coupon"],
    "coupon.deleted": ["wp_trash_post"],
    "coupon.restored": ["untrashed_post"],
    "customer.created": ["user_register", "woocommerce_created_customer", "woocommerce_new_customer"],
    "customer.updated": ["profile_update", "woocommerce_update_customer"],
    "customer.deleted": ["delete_user"],
}

USER_AGENT = "WooCommerce/10.0.2 Hookshot (WordPress/6.8.3)"
_SUCCESS = range(200, 303)  # WC_Webhook::log_delivery: 2xx, 301 and 302 count as delivered
_LOOPBACK_NAMES = frozenset({"localhost"})


def is_valid_topic(topic: str) -> bool:
    """wc_is_webhook_valid_topic: a known `<resource>.<event>`, or `action.<hook>`."""
    if topic.startswith("action.") and len(topic) > len("action."):
        return True
    resource, _, event = topic.partition(".")
    return resource in RESOURCES and event in EVENTS and topic in TOPIC_HOOKS


def wp_json_encode(payload: Any) -> bytes:
    """PHP's json_encode with no flags: `/` escaped, non-ASCII as \\uXXXX, no spaces."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/").encode()


def signature(body: bytes, secret: str) -> str:
    """X-WC-Webhook-Signature: base64 of the raw HMAC-SHA256 of the body, keyed with the secret."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def generate_password(length: int = 50) -> str:
    """wp_generate_password(50, true, true): the secret a webhook created without one gets."""
    alphabet = string.ascii_letters + string.digits + "!@#$%^&*()-_ []{}<>~`+=,.;:/?|"
    return "".join(secrets.choice(alphabet) for _ in range(length))


@dataclass
class Webhook:
    """One row of `wc_webhooks`."""

    id: int
    name: str
    status: str
    topic: str
    delivery_url: str
    secret: str
    date_created: datetime
    date_modified: datetime | None  # None until the first update (the real store answers null)
    failure_count: int = 0
    pending_delivery: bool = True

    @property
    def resource(self) -> str:
        return self.topic.split(".")[0]

    @property
    def event(self) -> str:
        parts = self.topic.split(".", 1)
        return parts[1] if len(parts) > 1 else ""

    @property
    def hooks(self) -> list[str]:
        if self.resource == "action":
            return [self.event]
        return list(TOPIC_HOOKS.get(self.topic, []))


@dataclass(frozen=True)
class Delivery:
    """One POST the store made (or tried): what a test reads back from `FakeWooCommerce.deliveries`."""

    webhook_id: int
    topic: str
    url: str
    delivery_id: str
    resource_id: int | None
    ping: bool
    response_code: int | None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.response_code is not None and self.response_code in _SUCCESS


@dataclass
class _Job:
    webhook_id: int
    resource_id: int | None  # None: the creation ping


@dataclass
class Hookshot:
    """The store's webhooks, the deliveries they owe, and the one thread that sends them.

    `render(resource, id)` gives the payload a resource would have now (None once it is gone);
    `lock` is the store's, held while a payload is built and while a webhook's row changes, and
    never while a POST is on the wire.
    """

    lock: threading.RLock
    now: Callable[[], datetime]
    render: Callable[[str, int], Json | None]
    home_url: Callable[[], str]
    webhooks: dict[int, Webhook] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    timeout: float = 10.0
    _queue: queue.Queue[_Job | None] = field(default_factory=queue.Queue)
    _thread: threading.Thread | None = None
    _processed: dict[int, set[int]] = field(default_factory=dict)
    _pending: set[tuple[int, int]] = field(default_factory=set)

    # ---- the records ---------------------------------------------------------------------------

    def create(self, webhook_id: int, params: Json) -> Webhook:
        """WC_REST_Webhooks_Controller::create_item after argument validation."""
        topic = str(params.get("topic") or "")
        if not topic or not is_valid_topic(topic.lower()):
            raise WooError(
                "woocommerce_rest_shop_webhook_invalid_topic", "Webhook topic is required and must be valid.", 400
            )
        url = str(params.get("delivery_url") or "")
        if not _is_valid_url(url):
            raise WooError(
                "woocommerce_rest_shop_webhook_invalid_delivery_url",
                "Webhook delivery URL must be a valid URL starting with http:// or https://.",
                400,
            )
        now = self.now()
        name = str(params.get("name") or "") or f"Webhook created on {now.strftime('%b %d, %Y @ %I:%M %p')}"
        status = str(params.get("status") or "active")
        webhook = Webhook(
            id=webhook_id,
            name=name,
            status=status if status in ("active", "paused", "disabled") else "disabled",
            topic=topic,
            delivery_url=url,
            secret=str(params.get("secret") or "") or generate_password(),
            date_created=now,
            date_modified=None,
        )
        self.webhooks[webhook.id] = webhook
        self._enqueue(_Job(webhook.id, None))
        return webhook

    def get(self, webhook_id: int, *, status: int, message: str = "ID is invalid.") -> Webhook:
        """The webhook, or the error an unknown id gets: as seen on the real store, GET answers 404
        and PUT 400, both "ID is invalid.", and DELETE 404 "Invalid ID."."""
        webhook = self.webhooks.get(webhook_id)
        if webhook is None:
            raise WooError("woocommerce_rest_shop_webhook_invalid_id", message, status)
        return webhook

    def update(self, webhook: Webhook, params: Json) -> Webhook:
        """WC_REST_Webhooks_Controller::update_item after argument validation."""
        topic = params.get("topic")
        if topic:
            if not is_valid_topic(str(topic).lower()):
                raise WooError("woocommerce_rest_shop_webhook_invalid_topic", "Webhook topic must be valid.", 400)
            webhook.topic = str(topic)
        url = params.get("delivery_url")
        if url:
            if not _is_valid_url(str(url)):
                raise WooError(
                    "woocommerce_rest_shop_webhook_invalid_delivery_url",
                    "Webhook delivery URL must be a valid URL starting with http:// or https://.",
                    400,
                )
            webhook.delivery_url = str(url)
        if params.get("secret"):
            webhook.secret = str(params["secret"])
        status = params.get("status")
        if status:
            if status not in ("active", "paused", "disabled"):
                raise WooError("woocommerce_rest_shop_webhook_invalid_status", "Webhook status must be valid.", 400)
            # The failure count is kept: a re-enabled webhook that failed six times in a row is
            # disabled again by its next failure.
            webhook.status = str(status)
        if params.get("name"):
            webhook.name = str(params["name"])
        webhook.date_modified = self.now()
        if webhook.status == "active" and webhook.pending_delivery:
            # WC_Webhook_Data_Store::update pings a webhook that never answered a ping.
            self._enqueue(_Job(webhook.id, None))
        return webhook

    def delete(self, webhook_id: int, *, force: bool) -> Webhook:
        if not force:
            raise WooError("woocommerce_rest_trash_not_supported", "Webhooks do not support trashing.", 501)
        webhook = self.get(webhook_id, status=404, message="Invalid ID.")
        del self.webhooks[webhook_id]
        return webhook

    # ---- firing --------------------------------------------------------------------------------

    def fire(self, events: Iterable[tuple[str, str, int]]) -> None:
        """The hooks one request fired, as (resource, event, id): queue what active webhooks owe."""
        self._processed = {}
        for resource, event, resource_id in events:
            for webhook in self.webhooks.values():
                if webhook.status != "active" or webhook.resource != resource or webhook.event != event:
                    continue
                done = self._processed.setdefault(webhook.id, set())
                if resource_id in done:
                    continue
                done.add(resource_id)
                if (webhook.id, resource_id) in self._pending:
                    # wc_webhook_process_delivery schedules one delivery per webhook and resource
                    # while one is pending: the payload, built when sent, carries both changes.
                    continue
                self._pending.add((webhook.id, resource_id))
                self._enqueue(_Job(webhook.id, resource_id))

    def wait(self, timeout: float = 10.0) -> bool:
        """Block until every queued delivery was attempted; False if `timeout` passed first."""
        deadline = time.monotonic() + timeout
        done = self._queue.all_tasks_done  # the condition Queue.join waits on
        with done:
            while self._queue.unfinished_tasks:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                done.wait(left)
        return True

    def _enqueue(self, job: _Job) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="woocommerce-hookshot", daemon=True)
            self._thread.start()
        self._queue.put(job)

    # ---- sending -------------------------------------------------------------------------------

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout, follow_redirects=False, trust_env=False) as client:
            while True:
                job = self._queue.get()
                try:
                    if job is not None:
                        self._deliver(client, job)
                finally:
                    self._queue.task_done()

    def _deliver(self, client: httpx.Client, job: _Job) -> None:
        with self.lock:
            if job.resource_id is not None:
                self._pending.discard((job.webhook_id, job.resource_id))
            webhook = self.webhooks.get(job.webhook_id)
            if webhook is None:
                return
            url = webhook.delivery_url
            topic = webhook.topic
            delivery_id = _delivery_id(webhook.id, self.now())
            if job.resource_id is None:
                body = f"webhook_id={webhook.id}".encode()
                headers = {"User-Agent": USER_AGENT, "Content-Type": "application/x-www-form-urlencoded"}
            else:
                if webhook.event == "deleted":
                    payload: Any = {"id": job.resource_id}
                else:
                    payload = self.render(webhook.resource, job.resource_id) or []
                body = wp_json_encode(payload)
                headers = {
                    "User-Agent": USER_AGENT,
                    "Content-Type": "application/json",
                    "X-WC-Webhook-Source": self.home_url().rstrip("/") + "/",
                    "X-WC-Webhook-Topic": topic,
                    "X-WC-Webhook-Resource": webhook.resource,
                    "X-WC-Webhook-Event": webhook.event,
                    "X-WC-Webhook-Signature": signature(body, webhook.secret),
                    "X-WC-Webhook-ID": str(webhook.id),
                    "X-WC-Webhook-Delivery-ID": delivery_id,
                }
        code, error = self._post(client, url, body, headers)
        with self.lock:
            self.deliveries.append(
                Delivery(job.webhook_id, topic, url, delivery_id, job.resource_id, job.resource_id is None, code, error)
            )
            webhook = self.webhooks.get(job.webhook_id)
            if webhook is None:
                return
            if job.resource_id is None:
                if code == 200:
                    webhook.pending_delivery = False
                return
            if code is not None and code in _SUCCESS:
                webhook.failure_count = 0
            elif webhook.failure_count > MAX_DELIVERY_FAILURES:
                webhook.status = "disabled"
            else:
                webhook.failure_count += 1
            if webhook.status == "active" and webhook.pending_delivery:
                # Counting saves the webhook, and WC_Webhook_Data_Store::update pings an active
                # webhook whose ping never got a 200 (seen on the real store: a ping per failure).
                self._enqueue(_Job(webhook.id, None))

    @staticmethod
    def _post(client: httpx.Client, url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str | None]:
        host = urlsplit(url).hostname or ""
        if not _is_loopback(host):
            return None, f"the sandbox delivers to loopback addresses only, not {host!r}"
        try:
            return client.post(url, content=body, headers=headers).status_code, None
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"


def _delivery_id(webhook_id: int, now: datetime) -> str:
    # wp_hash(id . strtotime('now')): an HMAC-MD5 under the site's salt, equal within one second.
    return hmac.new(b"fake-woocommerce-salt", f"{webhook_id}{int(now.timestamp())}".encode(), "md5").hexdigest()


def _is_valid_url(url: str) -> bool:
    """wc_is_valid_url: http or https with a host."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
