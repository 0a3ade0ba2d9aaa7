"""WooCommerce (REST API v3) platform: the `stockstatus.platforms` entry point `platform`."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from typing import Any

import httpx

from stockstatus.core.catalogue import Catalogue
from stockstatus.core.platform import DemoStore

from .auth import WooCommerceAuth
from .client import WooCommerceAdapter
from .settings import MetaKeys, WooCommerceSettings

__all__ = ["MetaKeys", "WooCommerceAdapter", "WooCommerceAuth", "WooCommerceSettings", "platform"]

log = logging.getLogger(__name__)

DEMO_URL = "https://demo-woo.example"


class WooCommercePlatform:
    """The entry-point object: settings model, adapter factory, demo store and sandbox."""

    name = "woocommerce"
    settings_model = WooCommerceSettings

    def create_adapter(
        self,
        settings: WooCommerceSettings,
        client: httpx.AsyncClient,
        environ: Mapping[str, str],
    ) -> WooCommerceAdapter:
        """The adapter for one store; the key and secret are read from the named env variables."""
        if settings.insecure_http:
            log.warning(
                "%s: plain http to another machine (allow_insecure_http = true): the consumer key can be read "
                "on the way; use https",
                settings.url,
            )
        auth = WooCommerceAuth(environ[settings.key_env], environ[settings.secret_env])
        return WooCommerceAdapter(settings, client, auth)

    def missing_secrets(self, settings: WooCommerceSettings, environ: Mapping[str, str]) -> list[str]:
        """One message per consumer key/secret variable that is unset or empty."""
        return [
            f"{field}: environment variable {name} is not set"
            for field, name in (("key_env", settings.key_env), ("secret_env", settings.secret_env))
            if not environ.get(name)
        ]

    def demo_store(self, catalogue: Catalogue) -> DemoStore:
        """A FakeWooCommerce at https://demo-woo.example seeded with `catalogue`."""
        # Imported here: syncing a real store never loads the simulator.
        from .fake import FakeWooCommerce, seed

        key, secret = f"ck_{secrets.token_hex(20)}", f"cs_{secrets.token_hex(20)}"
        fake = FakeWooCommerce(base_url=DEMO_URL, consumer_key=key, consumer_secret=secret)
        seed(fake, catalogue)
        settings: dict[str, Any] = {"url": DEMO_URL, "key_env": "DEMO_WC_KEY", "secret_env": "DEMO_WC_SECRET"}
        return DemoStore(
            settings=settings,
            environ={"DEMO_WC_KEY": key, "DEMO_WC_SECRET": secret},
            transport=fake.transport(),
        )

    def run_sandbox(self, *, host: str, port: int, catalogue: Catalogue, options: Mapping[str, str]) -> None:
        """Serve a plain-http fake WooCommerce seeded with `catalogue` until interrupted.

        options["timezone"] is the store's timezone (an IANA name; default UTC); other options (a
        Shopify plan) mean nothing here and are ignored.
        """
        from zoneinfo import ZoneInfo

        from .fake import sandbox

        zone = options.get("timezone")
        sandbox.run(host=host, port=port, catalogue=catalogue, timezone=ZoneInfo(zone) if zone else None)


platform = WooCommercePlatform()
