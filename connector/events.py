"""Outbound events: status changes, ETA slips and back-in-stock, posted to a shop's webhook.

Besides the item events, a store that tells its buyers (`notify`) posts one event per notice
it sent: `order_eta_changed` and `order_back_in_stock`, with the order, item, dates and the
message, so an email or chat tool can reach the buyer too (on Shopify, where an order note is
not emailed, this is how the buyer hears of it).

The body is JSON, signed with HMAC-SHA256 over the exact bytes sent (header
`X-Connector-Signature: sha256=<hex>`), so a receiver can check it came from this connector.
Deliveries go through the HTTP policy (retried with backoff); one that still fails is logged and
does not fail the pass: the store already shows the change.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from stockstatus.core.errors import RemoteError
from stockstatus.core.http import send
from stockstatus.core.outcomes import NoticeKind, NoticeResult
from stockstatus.rules.model import Status

if TYPE_CHECKING:
    from stockstatus.core.notify import Notice

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

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("url must start with https:// (or http://)")
        return value


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
    """Post each event; the number delivered. Failures are logged, never raised."""
    secret = environ.get(settings.secret_env, "")
    delivered = 0
    for event in events:
        body = json.dumps(event, sort_keys=True).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Connector-Event": event["event"],
            "X-Connector-Delivery": str(uuid.uuid4()),
            "X-Connector-Signature": sign(secret, body),
        }
        try:
            await send(client, "POST", settings.url, content=body, headers=headers)
            delivered += 1
        except RemoteError as exc:
            log.warning(
                "webhook %s for %s not delivered: %s", event["event"], event.get("sku") or event.get("item"), exc
            )
    return delivered
