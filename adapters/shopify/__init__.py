"""Shopify (Admin GraphQL API) platform: the `stockstatus.platforms` entry point `platform`."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

import httpx

from stockstatus.core.catalogue import Catalogue
from stockstatus.core.platform import DemoStore

from .client import Credentials, ShopifyAdapter
from .settings import MetafieldKeys, ShopifySettings

__all__ = ["Credentials", "MetafieldKeys", "ShopifyAdapter", "ShopifySettings", "platform"]

DEMO_SHOP = "demo-shopify.myshopify.com"
DEMO_TOKEN_ENV = "DEMO_SHOPIFY_TOKEN"


class ShopifyPlatform:
    """The entry-point object: settings model, adapter factory, demo store and sandbox."""

    name = "shopify"
    settings_model = ShopifySettings

    def create_adapter(
        self,
        settings: ShopifySettings,
        client: httpx.AsyncClient,
        environ: Mapping[str, str],
    ) -> ShopifyAdapter:
        """The adapter for one store; the token (or client ID and secret) come from the named env variables."""
        if settings.token_env is not None:
            credentials = Credentials(token=environ[settings.token_env])
        else:
            assert settings.client_id_env is not None and settings.client_secret_env is not None
            credentials = Credentials(
                client_id=environ[settings.client_id_env], client_secret=environ[settings.client_secret_env]
            )
        return ShopifyAdapter(settings, client, credentials)

    def missing_secrets(self, settings: ShopifySettings, environ: Mapping[str, str]) -> list[str]:
        """One message per credential variable that is unset or empty."""
        named = [
            (field, getattr(settings, field))
            for field in ("token_env", "client_id_env", "client_secret_env")
            if getattr(settings, field) is not None
        ]
        return [f"{field}: environment variable {name} is not set" for field, name in named if not environ.get(name)]

    def demo_store(self, catalogue: Catalogue) -> DemoStore:
        """A FakeShopify (Plus plan limits) seeded with `catalogue`."""
        # Imported here: syncing a real shop never loads the simulator.
        from .fake import FakeShopify, seed

        fake = FakeShopify(DEMO_SHOP, access_token=f"shpat_{secrets.token_hex(16)}", plan="plus")
        seed(fake, catalogue)
        settings: dict[str, Any] = {"shop": DEMO_SHOP, "token_env": DEMO_TOKEN_ENV}
        return DemoStore(settings=settings, environ={DEMO_TOKEN_ENV: fake.access_token}, transport=fake.transport())

    def run_sandbox(self, *, host: str, port: int, catalogue: Catalogue, options: Mapping[str, str]) -> None:
        """Serve a fake Shopify seeded with `catalogue` until interrupted; options["plan"] picks the limits."""
        from .fake import sandbox

        sandbox.run(
            host, port, catalogue, plan=options.get("plan") or "standard", client_secret=options.get("client_secret")
        )


platform = ShopifyPlatform()
