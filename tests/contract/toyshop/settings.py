"""A toy shop's own settings: where its API is and which environment variable holds the token."""

from __future__ import annotations

from pydantic import Field

from stockstatus.core.platform import StoreSettings


class ToyshopSettings(StoreSettings):
    """Settings of one toy shop."""

    url: str = Field(description="Base URL of the shop's API, e.g. https://toyshop.example/api.")
    token_env: str = Field(description="Name of the environment variable holding the API token.")
