"""The contract between the core and a platform (WooCommerce, Shopify, or a third party's).

A platform is found through the `stockstatus.platforms` entry-point group: the entry point names
an object that satisfies `Platform`. The core never imports a platform package by name, so the
built-in ones load exactly as an outside package would.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib.metadata import entry_points
from typing import Any, Protocol, TypeGuard, runtime_checkable

import httpx
from pydantic import BaseModel, ConfigDict

from stockstatus.core.catalogue import Catalogue
from stockstatus.core.model import Decision, Item, OpenOrder, Update, WriteResult

ENTRY_POINT_GROUP = "stockstatus.platforms"

log = logging.getLogger(__name__)


class StoreSettings(BaseModel):
    """Base of a platform's own store settings (URL, credentials' env names, meta keys...).

    Subclasses list only platform-specific keys; the common keys (name, platform, timezone,
    schedule) are validated by the core. Unknown keys are errors.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True, slots=True)
class Capabilities:
    max_batch: int
    """Most items the platform accepts in one write request."""
    writes_stock_status: bool
    """Whether the platform lets the connector set the status directly (else via a policy)."""


@runtime_checkable
class Adapter(Protocol):
    """What the sync engine needs from a platform, for one store.

    Every method raises `connector.errors.RemoteError` subclasses (or `FetchError`) on failure;
    none of them ever turns a failed read into an empty result.
    """

    capabilities: Capabilities

    async def check(self) -> None:
        """Reach the store with the configured credentials; raise AuthError/RemoteError if not."""

    async def pull_items(self) -> list[Item]:
        """Every sellable item of the store with its stock and connector-owned fields."""

    async def open_orders(self) -> list[OpenOrder]:
        """Orders accepted but not shipped (they may be waiting for stock)."""

    def plan(self, item: Item, decision: Decision) -> Mapping[str, Any]:
        """The platform fields to write so the store shows `decision`; empty when it already does."""

    async def push(self, updates: Sequence[Update]) -> list[WriteResult]:
        """Write the updates in as few requests as the platform allows; one result per update."""


@runtime_checkable
class PullsChanges(Protocol):
    """Optional capability of an adapter: pull only what changed (incremental passes).

    An adapter without it still works: every pass then pulls the whole catalogue.
    """

    async def pull_changed(self, since: datetime) -> list[Item] | None:
        """The items whose platform data may have changed after `since` (an aware datetime).

        Must include every item whose stock, policy, connector fields or merchant fields
        changed after `since`, including changes caused by orders; may include more. Return
        None when the platform cannot tell (the core then pulls everything).
        """


def pulls_changes(adapter: object) -> TypeGuard[PullsChanges]:
    """Whether the adapter can pull only what changed since a moment."""
    return isinstance(adapter, PullsChanges)


@runtime_checkable
class ReadsKnownItems(Protocol):
    """Optional capability of an adapter: read faster when told which items the last passes saw.

    Called before a pull with what the state file knows; an adapter uses it only to choose
    cheaper requests (e.g. reading known variations many at a time by SKU) and must still
    return every item of the store, known or not.
    """

    def known_items(self, skus: Mapping[str, str | None]) -> None:
        """Item key → SKU (None when it had none) of the items the store last confirmed."""


def reads_known_items(adapter: object) -> TypeGuard[ReadsKnownItems]:
    """Whether the adapter reads faster when told the items it already knows."""
    return isinstance(adapter, ReadsKnownItems)


@runtime_checkable
class CountsItems(Protocol):
    """Optional capability of an adapter: the store's own count of its sellable items.

    Asked only when a full listing looks suspicious (empty, or much smaller than the last one):
    a count that shows the same shrink confirms it. Without it such a listing fails the pass
    until the operator accepts it (`connector resync --force`).
    """

    async def count_items(self) -> int | None:
        """How many items `pull_items` would return, by a request other than the listing; None if unknown."""


def counts_items(adapter: object) -> TypeGuard[CountsItems]:
    """Whether the adapter can ask the store how many items it has."""
    return isinstance(adapter, CountsItems)


@runtime_checkable
class TellsCustomers(Protocol):
    """Optional capability of an adapter: leave a message for an order's buyer.

    An adapter without it still works: customer notices are then skipped with a warning.
    """

    async def check_notices(self) -> None:
        """Raise AuthError, saying what to grant, when the credentials cannot leave such messages."""

    async def notify_customer(self, order_id: str, message: str) -> WriteResult:
        """Tell the buyer of `order_id` (an `OpenOrder.order_id`) `message`, once.

        Return `ok=False` with the reason only when the platform certainly did not record it
        (a 4xx, a throttle, a missing permission): the core may try again later. When the
        outcome is unknown (timeout, connection lost, 5xx) raise the `RemoteError`: the core then
        never sends it again. Must not retry by itself after a request may have arrived.
        """


def tells_customers(adapter: object) -> TypeGuard[TellsCustomers]:
    """Whether the adapter can leave messages for buyers."""
    return isinstance(adapter, TellsCustomers)


@dataclass(frozen=True, slots=True)
class FieldWrite:
    """One field a plan writes, as the store will hold it once written (see `Restores.written`)."""

    field: str
    """The field's name in the adapter's own plan vocabulary (`backorders`, `meta:_eta`, `tag:pre-order`)."""
    value: str | None
    """What the store holds after the write; None when the write removes the field."""
    shared: bool = False
    """True when the field lives on the product the item shares with its siblings (`Item.parent_key`)."""


@dataclass(frozen=True, slots=True)
class Restoration:
    """Fields to put back on one item: field -> the value before the connector's first write (None: delete)."""

    item: Item
    fields: Mapping[str, str | None]


@runtime_checkable
class Restores(Protocol):
    """Optional capability of an adapter: tell what each field held before a write, and put it back.

    With it a pass records, at the first write of each field, what the store held there, and
    `connector restore` can undo the connector's writes. The core stays generic over fields:
    every field a plan names is split by `written` and read back by `held`, so a platform that
    writes a new field needs no change in the core.
    """

    def written(self, item: Item, fields: Mapping[str, Any]) -> list[FieldWrite]:
        """Each single field `fields` (a plan of `item`) writes, with the value the store then holds."""

    def held(self, item: Item, field: str) -> str | None:
        """What `item` holds now (as pulled) in `field` (a `FieldWrite.field`); None when it has no such field.

        Raises LookupError when the adapter cannot read the field back.
        """

    async def restore(self, restorations: Sequence[Restoration]) -> list[WriteResult]:
        """Write the values back, in batches, retried like pushes; one result per restoration, in order."""


def restores(adapter: object) -> TypeGuard[Restores]:
    """Whether the adapter can record and restore the fields it writes."""
    return isinstance(adapter, Restores)


@dataclass(frozen=True, slots=True)
class WebhookSubscription:
    """One webhook subscription as the store reports it."""

    id: str
    """The platform's id for it (what `delete_webhook` takes)."""
    topic: str
    """The platform's own name for what it reports: `order.created`, `ORDERS_CREATE`, ..."""
    address: str
    """Where the store delivers it."""
    status: str
    """`active`, or the platform's word for a subscription that delivers nothing (`paused`,
    `disabled`: WooCommerce disables a webhook after repeated failed deliveries)."""
    name: str | None = None

    @property
    def active(self) -> bool:
        return self.status == "active"


@runtime_checkable
class ManagesWebhooks(Protocol):
    """Optional capability of an adapter: the store's webhook subscriptions.

    `connector webhooks install | status | remove` and `connector check` use it; an adapter
    without it leaves the store to scheduled passes alone.
    """

    webhook_topics: tuple[str, ...]
    """The topics the connector subscribes to, in the platform's own names."""
    webhook_name: str
    """The name the connector gives its subscriptions (how it recognises them with their address)."""

    async def list_webhooks(self) -> list[WebhookSubscription]:
        """Every webhook subscription of the store (the connector's and others')."""

    async def create_webhook(self, topic: str, address: str, secret: str | None) -> WebhookSubscription:
        """Subscribe `address` to `topic`; `secret` signs the deliveries where the platform takes one
        (WooCommerce; Shopify signs with the app's client secret)."""

    async def delete_webhook(self, subscription: WebhookSubscription) -> None:
        """Remove one subscription."""


def manages_webhooks(adapter: object) -> TypeGuard[ManagesWebhooks]:
    """Whether the adapter can list, create and delete the store's webhook subscriptions."""
    return isinstance(adapter, ManagesWebhooks)


class Platform(Protocol):
    """The entry-point object of one platform."""

    name: str
    settings_model: type[StoreSettings]

    def create_adapter(
        self,
        settings: Any,
        client: httpx.AsyncClient,
        environ: Mapping[str, str],
    ) -> Adapter:
        """Build the adapter for one store. `client` is the core's configured HTTP client."""

    def missing_secrets(self, settings: Any, environ: Mapping[str, str]) -> list[str]:
        """Problems with the credentials `settings` names in `environ` (empty when all are set).

        Each problem names the settings key and the environment variable, never a value.
        """


@dataclass(frozen=True, slots=True)
class DemoStore:
    """A fake store running in-process, seeded with a sample catalogue, for `connector demo`."""

    settings: Mapping[str, Any]
    """Platform keys for the store's config entry (URL, env names...)."""
    environ: Mapping[str, str]
    """Environment the settings refer to (the fake's credentials)."""
    transport: httpx.AsyncBaseTransport
    """Routes the adapter's requests into the fake."""


@runtime_checkable
class Simulates(Protocol):
    """Optional capability of a platform: a fake store, for `connector demo` and `connector sandbox`.

    A platform without it still syncs real stores; the demo leaves it out and `connector sandbox`
    refuses it, each saying so.
    """

    def demo_store(self, catalogue: Catalogue) -> DemoStore:
        """A fake store running in-process, seeded with `catalogue` (products and open orders)."""

    def run_sandbox(self, *, host: str, port: int, catalogue: Catalogue, options: Mapping[str, str]) -> None:
        """Serve a fake store seeded with `catalogue` over HTTP until interrupted.

        Prints its base URL and the credentials it accepts first. `options` carries
        platform-specific flags (for example a plan name).
        """


def simulates(platform: object) -> TypeGuard[Simulates]:
    """Whether the platform offers a fake store for the demo and the sandbox."""
    return isinstance(platform, Simulates)


@cache
def _discover() -> tuple[dict[str, Platform], dict[str, str]]:
    found: dict[str, Platform] = {}
    broken: dict[str, str] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            found[ep.name] = ep.load()
        except Exception as exc:  # noqa: BLE001 -- a broken plugin must not take the other platforms down
            broken[ep.name] = f"{ep.value}: {type(exc).__name__}: {exc}"
            log.error("platform %s could not be loaded (%s)", ep.name, broken[ep.name])
    return found, broken


def platforms() -> dict[str, Platform]:
    """Platforms installed in this environment, by name."""
    return _discover()[0]


def broken_platforms() -> dict[str, str]:
    """Installed platforms whose entry point failed to load, with the reason."""
    return _discover()[1]
