"""The store webhooks the connector subscribes to: `connector webhooks install | status | remove`.

Each store posts to `<[listen] public_url>/webhooks/<store name>`. The connector's own
subscriptions are those at that address. For each topic the platform's adapter names
(`ManagesWebhooks.webhook_topics`) a store should have exactly one active subscription there:

- `install` creates what is missing, replaces what no longer delivers (WooCommerce disables a
  webhook after repeated failed deliveries, and one re-enabled keeps its failure count: a new
  one starts from none), removes a second one to the same topic, and leaves what is healthy
  alone: run twice, the second run changes nothing;
- `status` lists each subscription and its health; `check` says what is missing or disabled;
- `remove` deletes the connector's own subscriptions, never anyone else's.

Subscriptions with the connector's name at another address are shown, never touched: they may
be an old public URL's, or another connector's (a staging one) on the same store.

WooCommerce signs deliveries with the secret set on each webhook, read here from the store's
`webhook_secret_env`; Shopify signs with the app's client secret and takes none.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import quote

import httpx

from stockstatus.core.config import Config, Store
from stockstatus.core.errors import ConfigError, ConnectorError
from stockstatus.core.platform import ManagesWebhooks, WebhookSubscription, manages_webhooks
from stockstatus.core.sync import open_adapter

__all__ = [
    "Health",
    "StorePlan",
    "TopicHealth",
    "delivery_address",
    "install",
    "remove",
    "survey",
    "webhook_secret",
]


class Health(StrEnum):
    OK = "ok"
    MISSING = "missing"
    INACTIVE = "inactive"


def delivery_address(public_url: str, store_name: str) -> str:
    """Where a store posts its deliveries: `<public_url>/webhooks/<store name>`."""
    return f"{public_url.rstrip('/')}/webhooks/{quote(store_name, safe='')}"


@dataclass(frozen=True)
class TopicHealth:
    """One topic of one store: the connector's subscriptions to it at the right address, and how they stand."""

    topic: str
    health: Health
    subscriptions: tuple[WebhookSubscription, ...] = ()

    @property
    def status(self) -> str:
        """What to show: `active`, `missing`, or the platform's word (`disabled`, `paused`)."""
        if self.health is Health.MISSING:
            return "missing"
        if self.health is Health.OK:
            return "active"
        return ", ".join(sorted({s.status for s in self.subscriptions}))


@dataclass
class StorePlan:
    """What a store has, and what `install` or `remove` does (or would do, with --dry-run)."""

    store: str
    platform: str
    address: str
    topics: list[TopicHealth] = field(default_factory=list)
    strays: list[WebhookSubscription] = field(default_factory=list)
    """A second subscription to a topic at the connector's address (install removes it)."""
    elsewhere: list[WebhookSubscription] = field(default_factory=list)
    """Subscriptions with the connector's name at another address (shown, never changed)."""
    create: list[str] = field(default_factory=list)
    delete: list[WebhookSubscription] = field(default_factory=list)
    error: str | None = None
    fix: str | None = None

    @property
    def healthy(self) -> bool:
        return self.error is None and all(t.health is Health.OK for t in self.topics)

    def as_dict(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "platform": self.platform,
            "address": self.address,
            "topics": [
                {"topic": t.topic, "status": t.status, "ids": [s.id for s in t.subscriptions]} for t in self.topics
            ],
            "strays": [{"id": s.id, "topic": s.topic, "address": s.address, "status": s.status} for s in self.strays],
            "elsewhere": [
                {"id": s.id, "topic": s.topic, "address": s.address, "status": s.status} for s in self.elsewhere
            ],
            "create": list(self.create),
            "delete": [{"id": s.id, "topic": s.topic, "address": s.address} for s in self.delete],
            "error": self.error,
            "fix": self.fix,
        }


def public_url(config: Config) -> str:
    """`[listen] public_url`, or ConfigError saying how to set it."""
    listen = config.listen
    if not listen.public_url:
        raise ConfigError(
            [
                "listen.public_url: not set; the stores need the https:// address that reaches the daemon's listener",
                'add [listen] with public_url = "https://connector.example.com" (the reverse proxy in front of it)',
            ],
            path=config.path,
        )
    return listen.public_url


def webhook_secret(store: Store, environ: Mapping[str, str]) -> str | None:
    """The secret deliveries are signed with, from the variable the store names (None when it names none)."""
    if store.webhook_secret_env is None:
        return None
    return environ.get(store.webhook_secret_env) or None


def survey(adapter: ManagesWebhooks, subscriptions: list[WebhookSubscription], address: str) -> StorePlan:
    """How the store's subscriptions stand against what the connector needs (no request made)."""
    plan = StorePlan(store="", platform="", address=address)
    own = [s for s in subscriptions if s.address == address]
    for topic in adapter.webhook_topics:
        here = tuple(s for s in own if s.topic == topic)
        active = [s for s in here if s.active]
        if active:
            plan.topics.append(TopicHealth(topic, Health.OK, tuple(active[:1])))
            plan.strays.extend(s for s in here if s is not active[0])
        elif here:
            plan.topics.append(TopicHealth(topic, Health.INACTIVE, here))
        else:
            plan.topics.append(TopicHealth(topic, Health.MISSING))
    plan.strays.extend(s for s in own if s.topic not in adapter.webhook_topics)
    plan.elsewhere.extend(
        s for s in subscriptions if s.address != address and (s.name or "").startswith(adapter.webhook_name)
    )
    return plan


async def _store_plan(
    config: Config,
    store: Store,
    environ: Mapping[str, str],
    transports: Mapping[str, httpx.AsyncBaseTransport] | None,
    action: str,
    *,
    dry_run: bool,
) -> StorePlan:
    address = delivery_address(public_url(config), store.name)
    empty = StorePlan(store.name, store.platform, address)
    async with open_adapter(store, environ, transports) as adapter:
        if not manages_webhooks(adapter):
            empty.error = f"the {store.platform} adapter cannot manage webhook subscriptions"
            empty.fix = "nothing to do: scheduled passes keep the store up to date"
            return empty
        secret = webhook_secret(store, environ)
        if action == "install" and store.platform == "woocommerce" and secret is None:
            variable = store.webhook_secret_env
            empty.error = (
                f"stores[{store.index}].webhook_secret_env: not set"
                if variable is None
                else f"stores[{store.index}].webhook_secret_env: environment variable {variable} is not set"
            )
            empty.fix = (
                "name the variable holding the secret WooCommerce signs deliveries with (webhook_secret_env = "
                '"EU_SHOP_WEBHOOK_SECRET") and export it, e.g. `openssl rand -hex 32`'
            )
            return empty
        try:
            plan = survey(adapter, await adapter.list_webhooks(), address)
            plan.store, plan.platform = store.name, store.platform
            if action == "install":
                for topic in plan.topics:
                    if topic.health is not Health.OK:
                        plan.create.append(topic.topic)
                        plan.delete.extend(topic.subscriptions)
                plan.delete.extend(plan.strays)
            elif action == "remove":
                plan.delete.extend(s for t in plan.topics for s in t.subscriptions)
                plan.delete.extend(plan.strays)
            if dry_run:
                return plan
            # Replacements are created before the old ones go, so a store is never left without.
            for topic_name in plan.create:
                await adapter.create_webhook(topic_name, address, secret)
            for subscription in plan.delete:
                await adapter.delete_webhook(subscription)
        except (ConnectorError, httpx.HTTPError) as exc:
            plan = empty
            plan.error = str(exc)
            plan.fix = "check the store's address, credentials and their permissions (connector check)"
    return plan


async def survey_stores(
    config: Config,
    stores: tuple[Store, ...],
    environ: Mapping[str, str] | None = None,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> list[StorePlan]:
    """`connector webhooks status`: each store's subscriptions and their health; nothing is changed."""
    environ = os.environ if environ is None else environ
    return [await _store_plan(config, s, environ, transports, "status", dry_run=True) for s in stores]


async def install(
    config: Config,
    stores: tuple[Store, ...],
    environ: Mapping[str, str] | None = None,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    *,
    dry_run: bool = False,
) -> list[StorePlan]:
    """`connector webhooks install`: make each store's subscriptions what the connector needs."""
    environ = os.environ if environ is None else environ
    return [await _store_plan(config, s, environ, transports, "install", dry_run=dry_run) for s in stores]


async def remove(
    config: Config,
    stores: tuple[Store, ...],
    environ: Mapping[str, str] | None = None,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    *,
    dry_run: bool = False,
) -> list[StorePlan]:
    """`connector webhooks remove`: delete the connector's subscriptions (and only those)."""
    environ = os.environ if environ is None else environ
    return [await _store_plan(config, s, environ, transports, "remove", dry_run=dry_run) for s in stores]


def text(plans: list[StorePlan], action: str, *, dry_run: bool = False) -> str:
    """What a command prints: per store, the address, each topic's health, and what was (or would be) done."""
    lines: list[str] = []
    for plan in plans:
        lines.append(f"{plan.store} ({plan.platform}) → {plan.address}")
        if plan.error is not None:
            lines.append(f"  FAILED: {plan.error}")
            if plan.fix:
                lines.append(f"  fix: {plan.fix}")
            continue
        width = max((len(t.topic) for t in plan.topics), default=0)
        for topic in plan.topics:
            ids = ", ".join(s.id for s in topic.subscriptions)
            lines.append(f"  {topic.topic:<{width}}  {topic.status}{f'  ({ids})' if ids else ''}")
        for stray in plan.strays:
            lines.append(f"  {stray.topic:<{width}}  {stray.status} ({stray.id}): not needed")
        for other in plan.elsewhere:
            lines.append(
                f"  {other.topic:<{width}}  {other.status} at {other.address} ({other.id}): the connector's name at "
                "another address, left alone (delete it in the store's admin if nothing listens there)"
            )
        verb = "would " if dry_run else ""
        for topic_name in plan.create:
            lines.append(f"  {verb}create {topic_name}")
        for subscription in plan.delete:
            lines.append(f"  {verb}delete {subscription.topic} ({subscription.id}, {subscription.status})")
        if action == "status" and not plan.healthy:
            lines.append(f"  fix: connector webhooks install --store {plan.store}")
        if action != "status" and not plan.create and not plan.delete:
            lines.append("  nothing to do")
    return "\n".join(lines)
