"""Outbound events: status changes, ETA slips and back-in-stock, posted to a shop's webhook.

Besides the item events, a store that tells its buyers (`notify`) posts one event per notice
it sent: `order_eta_changed` and `order_back_in_stock`, with the order, item, dates and the
message, so an email or chat tool can reach the buyer too (on Shopify, where an order note is
not emailed, this is how the buyer hears of it).

The body is JSON, signed with HMAC-SHA256 over the exact bytes sent (header
`X-Connector-Signature: sha256=<hex>`), so a receiver can check it came from this connector.
A pass never sends: it queues its events in the outbox of the state file (`queue`), and
`send_outbox` delivers them apart (the daemon's outbox job; the end of a `resync`), within a
bounded time per round, each event with a bounded number of tries spread over hours
(`state.outbox`). An event that still fails is kept as failed and shown by `status`; it never
fails a pass: the store already shows the change.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from stockstatus.core.errors import RemoteError
from stockstatus.core.http import HttpPolicy, is_loopback, redact_url, send
from stockstatus.core.outcomes import DeliveryStatus, NoticeKind, NoticeResult
from stockstatus.rules.model import Status

if TYPE_CHECKING:
    from stockstatus.core.notify import Notice
    from stockstatus.core.state import Delivery, Outbox

log = logging.getLogger(__name__)


class EventKind(StrEnum):
    """What a webhook event reports (its `event` field and `X-Connector-Event` header)."""

    STATUS_CHANGED = "status_changed"
    ETA_SLIPPED = "eta_slipped"
    BACK_IN_STOCK = "back_in_stock"
    ORDER_ETA_CHANGED = "order_eta_changed"
    ORDER_BACK_IN_STOCK = "order_back_in_stock"


ALL_EVENTS: tuple[EventKind, ...] = tuple(EventKind)

ORDER_EVENTS = {
    NoticeKind.ETA_CHANGED: EventKind.ORDER_ETA_CHANGED,
    NoticeKind.BACK_IN_STOCK: EventKind.ORDER_BACK_IN_STOCK,
}
"""The event a notice the store took is announced as."""


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A change the store accepted for one item: what buyers were shown before, and now."""

    item_key: str
    sku: str | None
    before: Status | None
    old_eta: str | None
    after: Status
    new_eta: str | None


class WebhookSettings(BaseModel):
    """`[webhook]`: where events go and which ones."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str
    secret_env: str = Field(description="Environment variable holding the signing secret.")
    events: tuple[EventKind, ...] = ALL_EVENTS
    eta_slip_days: int = Field(1, ge=0, description="An ETA moving later by more than this many days is a slip.")
    allow_insecure_http: bool = Field(
        False, description="Accept a plain http:// url to a host other than this machine (events travel unencrypted)."
    )

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        # The url is never repeated in a message: its path or user may be the receiver's secret.
        value = value.strip()
        if not value.lower().startswith(("https://", "http://")):
            raise ValueError("url must start with https:// (or http://)")
        try:
            parsed = httpx.URL(value)
        except httpx.InvalidURL:
            raise ValueError("url is not a valid URL (the value is not shown: it may hold a secret)") from None
        if parsed.userinfo:
            raise ValueError(
                "url must not carry a user or password (user:password@...): it would be sent in clear "
                "to every receiver on the way; give the receiver a secret path or check the signature instead"
            )
        if not parsed.host:
            raise ValueError("url must name a host, e.g. https://hooks.example.com/stock")
        return value

    @field_validator("secret_env")
    @classmethod
    def _secret_env(cls, value: str) -> str:
        if not ENV_NAME.match(value) or looks_like_secret(value):
            raise ValueError(
                "give the NAME of the environment variable holding the signing secret (e.g. "
                "CONNECTOR_WEBHOOK_SECRET), never the secret itself; the value is not shown"
            )
        return value

    @model_validator(mode="after")
    def _encrypted(self) -> WebhookSettings:
        parsed = httpx.URL(self.url)
        if parsed.scheme == "http" and not is_loopback(parsed.host) and not self.allow_insecure_http:
            raise ValueError(
                "url: plain http to another machine sends every event unencrypted; use https://, or set "
                "allow_insecure_http = true in [webhook] if you accept that"
            )
        return self

    @property
    def shown_url(self) -> str:
        """The url as logs and errors may show it: scheme, host and port; the path stays secret."""
        return redact_url(self.url)


ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PASTED_PREFIXES = re.compile(
    r"^(ck_|cs_|shpat_|shpca_|shppa_|shpss_|whsec_|sk_live_|sk_test_|rk_live_|xox[abpr]-|ghp_|github_pat_|AKIA)",
    re.IGNORECASE,
)
_RANDOM_RUN = re.compile(r"[A-Za-z0-9]{16,}")


def looks_like_secret(value: str) -> bool:
    """Whether a value given where the NAME of an environment variable belongs looks like a secret itself.

    Known key and token prefixes, or a long run of letters and digits with several digits in it
    (names of variables are words joined by underscores).
    """
    if _PASTED_PREFIXES.match(value):
        return True
    return any(sum(c.isdigit() for c in run) >= 3 for run in _RANDOM_RUN.findall(value))


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def events_for(
    store: str,
    changes: Iterable[StatusChange],
    *,
    slip_days: int,
    wanted: Iterable[EventKind] = ALL_EVENTS,
    at: datetime,
) -> list[dict[str, Any]]:
    """Events for the changes the store accepted."""
    wanted = set(wanted)
    out: list[dict[str, Any]] = []
    for change in changes:
        before, after, old_eta, new_eta = change.before, change.after, change.old_eta, change.new_eta
        common: dict[str, Any] = {
            "store": store,
            "item": change.item_key,
            "sku": change.sku,
            "at": at.isoformat(timespec="seconds"),
        }
        if before is not None and before != after:
            if EventKind.STATUS_CHANGED in wanted:
                out.append(
                    {
                        "event": EventKind.STATUS_CHANGED.value,
                        **common,
                        "from": before.value,
                        "to": after.value,
                        "eta": new_eta,
                    }
                )
            if after is Status.IN_STOCK and before is not Status.IN_STOCK and EventKind.BACK_IN_STOCK in wanted:
                out.append({"event": EventKind.BACK_IN_STOCK.value, **common, "from": before.value})
        elif old_eta and new_eta and EventKind.ETA_SLIPPED in wanted:
            slip = (datetime.fromisoformat(new_eta) - datetime.fromisoformat(old_eta)).days
            if slip > slip_days:
                out.append(
                    {
                        "event": EventKind.ETA_SLIPPED.value,
                        **common,
                        "status": after.value,
                        "from": old_eta,
                        "to": new_eta,
                        "days": slip,
                    }
                )
    return out


def notice_events(
    store: str, notices: Iterable[Notice], *, wanted: Iterable[EventKind] = ALL_EVENTS, at: datetime
) -> list[dict[str, Any]]:
    """One event per notice the store took (result "sent")."""
    wanted = set(wanted)
    out: list[dict[str, Any]] = []
    for notice in notices:
        kind = ORDER_EVENTS.get(notice.kind)
        if notice.result is not NoticeResult.SENT or kind is None or kind not in wanted:
            continue
        out.append(
            {
                "event": kind.value,
                "store": store,
                "order": notice.order_id,
                "item": notice.item_key,
                "sku": notice.sku,
                "eta": notice.eta.isoformat() if notice.eta else None,
                "told": notice.told.isoformat() if notice.told else None,
                "message": notice.message,
                "at": at.isoformat(timespec="seconds"),
            }
        )
    return out


async def deliver(
    client: httpx.AsyncClient,
    settings: WebhookSettings,
    environ: Mapping[str, str],
    events: list[dict[str, Any]],
) -> int:
    """Post each event; the number delivered. Failures are logged, never raised.

    Logs and errors name the webhook by `shown_url` only: Slack- and Teams-style webhooks carry
    their secret in the path.
    """
    secret = environ.get(settings.secret_env, "")
    delivered = 0
    shown = f"webhook {settings.shown_url}"
    if events and httpx.URL(settings.url).scheme == "http" and not is_loopback(httpx.URL(settings.url).host):
        log.warning("%s: events are sent over plain http (allow_insecure_http = true): use https", shown)
    for event in events:
        body = json.dumps(event, sort_keys=True).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Connector-Event": event["event"],
            "X-Connector-Delivery": str(uuid.uuid4()),
            "X-Connector-Signature": sign(secret, body),
        }
        try:
            await send(client, "POST", settings.url, content=body, headers=headers, describe=f"POST {shown}")
            delivered += 1
        except RemoteError as exc:
            log.warning(
                "%s: %s for %s not delivered: %s", shown, event["event"], event.get("sku") or event.get("item"), exc
            )
    return delivered


OUTBOX_POLICY = HttpPolicy(timeout=10.0, connect_timeout=5.0, attempts=2, backoff_max=2.0, retry_after_max=5.0)
"""One outbox try: short, since the event's own tries are spread over hours (`state.outbox`)."""
OUTBOX_SECONDS = 30.0
"""The longest one round of the outbox may take; what is left waits for the next round."""
GIVE_UP_ROUND_AFTER = 3
"""Failed tries in a row after which a round stops: the receiver is down, the rest waits."""


@dataclass
class OutboxRound:
    """What one round of the outbox did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    """Events that used their last try in this round."""
    left: int = 0
    """Events due but not tried in this round (time was up, or the receiver is down)."""


async def send_outbox(
    client: httpx.AsyncClient,
    settings: WebhookSettings,
    environ: Mapping[str, str],
    outbox: Outbox,
    clock: Callable[[], datetime],
    *,
    seconds: float = OUTBOX_SECONDS,
    policy: HttpPolicy = OUTBOX_POLICY,
) -> OutboxRound:
    """Deliver the outbox's due events, oldest first, for at most `seconds`. Never raises for the receiver."""
    done = OutboxRound()
    due = outbox.due(clock())
    if not due:
        return done
    shown = f"webhook {settings.shown_url}"
    url = httpx.URL(settings.url)
    if url.scheme == "http" and not is_loopback(url.host):
        log.warning("%s: events are sent over plain http (allow_insecure_http = true): use https", shown)
    secret = environ.get(settings.secret_env, "")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    in_a_row = 0
    for delivery in due:
        remaining = deadline - loop.time()
        if remaining <= 0 or in_a_row >= GIVE_UP_ROUND_AFTER:
            done.left += 1
            continue
        if not outbox.claim(delivery, clock()):
            continue  # another process's round is sending it
        try:
            async with asyncio.timeout(remaining):
                await send(
                    client,
                    "POST",
                    settings.url,
                    content=_body(delivery),
                    headers=_headers(delivery, secret),
                    policy=policy,
                    describe=f"POST {shown}",
                )
        except (RemoteError, TimeoutError) as exc:
            in_a_row += 1
            error = str(exc) or f"no answer within the round's {seconds:.0f}s"
            status = outbox.not_sent(delivery, error, clock())
            if status is DeliveryStatus.FAILED:
                done.failed += 1
                log.error(
                    "%s: %s of store %s given up after its last try: %s", shown, delivery.event, delivery.store, error
                )
            else:
                done.retrying += 1
                log.info(
                    "%s: %s of store %s not delivered, tried again later: %s",
                    shown,
                    delivery.event,
                    delivery.store,
                    error,
                )
            continue
        in_a_row = 0
        outbox.sent(delivery, clock())
        done.sent += 1
    if done.retrying or done.left:
        log.warning(
            "%s: %d events delivered, %d wait for a later try (see `connector status`)",
            shown,
            done.sent,
            done.retrying + done.left,
        )
    return done


def _body(delivery: Delivery) -> bytes:
    return json.dumps(delivery.body, sort_keys=True).encode()


def _headers(delivery: Delivery, secret: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Connector-Event": delivery.event,
        # The same id on every try of one event: a receiver drops a repeat by it.
        "X-Connector-Delivery": delivery.delivery_id,
        "X-Connector-Signature": sign(secret, _body(delivery)),
    }
