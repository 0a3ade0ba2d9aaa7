"""A toy platform, for the contract suite: the smallest platform that passes it.

Registered as a third-party package would be, through one `stockstatus.platforms` entry point
(`toyshop = tests.contract.toyshop:platform`), never by name.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping

import httpx

from stockstatus.core.catalogue import Catalogue
from stockstatus.core.errors import ConfigError
from stockstatus.core.platform import DemoStore, StoreSettings

from .client import ToyshopAdapter
from .settings import ToyshopSettings

__all__ = ["ToyshopAdapter", "ToyshopSettings", "platform"]

DEMO_URL = "https://toyshop.example/api"
DEMO_TOKEN_ENV = "DEMO_TOYSHOP_TOKEN"


class ToyshopPlatform:
    """The entry-point object: settings model, adapter factory and an in-process demo store."""

    name: str = "toyshop"
    settings_model: type[StoreSettings] = ToyshopSettings

    def create_adapter(
        self, settings: ToyshopSettings, client: httpx.AsyncClient, environ: Mapping[str, str]
    ) -> ToyshopAdapter:
        return ToyshopAdapter(settings, client, environ[settings.token_env])

    def missing_secrets(self, settings: ToyshopSettings, environ: Mapping[str, str]) -> list[str]:
        if environ.get(settings.token_env):
            return []
        return [f"token_env: environment variable {settings.token_env} is not set"]

    def demo_store(self, catalogue: Catalogue) -> DemoStore:
        """A toy shop at https://toyshop.example/api seeded with `catalogue`."""
        from .fake import ToyStore

        store = ToyStore(catalogue, token=secrets.token_hex(16))
        return DemoStore(
            settings={"url": DEMO_URL, "token_env": DEMO_TOKEN_ENV},
            environ={DEMO_TOKEN_ENV: store.token},
            transport=store.transport(),
        )

    def run_sandbox(self, *, host: str, port: int, catalogue: Catalogue, options: Mapping[str, str]) -> None:
        raise ConfigError("the toy shop runs in-process only: it has no sandbox server")


platform = ToyshopPlatform()
