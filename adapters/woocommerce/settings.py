"""A WooCommerce store's own settings: where the shop is, which env vars hold its keys, meta keys."""

from __future__ import annotations

import re
from typing import Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from stockstatus.core.http import is_loopback
from stockstatus.core.platform import StoreSettings

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PASTED_KEY = re.compile(r"^c[ks]_[0-9a-f]{16,}$", re.IGNORECASE)
"""What WooCommerce consumer keys/secrets look like (ck_/cs_ + 40 hex digits)."""
ORDER_STATUS_SLUG = re.compile(r"^[a-z0-9_-]+$")
META_KEY = re.compile(r"^\S(.*\S)?$")
ORDER_STATUSES = (
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "checkout-draft",
    "trash",
    "auto-draft",
)
"""WooCommerce's own order statuses, as GET /orders?status= takes them (its schema's enum without
"any", which would count shipped orders as open). Plugins can register more; a store refuses a
status it does not have with HTTP 400."""


class MetaKeys(BaseModel):
    """Names of the product/variation `meta_data` keys the connector reads and writes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: str = Field(default="connector_status", description="Meta key the connector writes the status to.")
    eta: str = Field(default="connector_eta", description="Meta key the connector writes the ETA (YYYY-MM-DD) to.")
    message: str = Field(default="connector_message", description="Meta key the connector writes the buyer message to.")
    sellout_status: str = Field(
        default="connector_sellout_status",
        description="Meta key the connector writes, while the item is in stock, the status it shows once sold out "
        "(set only when that is a backorder, a pre-order or has a message; empty otherwise).",
    )
    sellout_eta: str = Field(
        default="connector_sellout_eta",
        description="Meta key the connector writes, while the item is in stock, the ETA (YYYY-MM-DD) of the first "
        "unit sold past zero.",
    )
    sellout_message: str = Field(
        default="connector_sellout_message",
        description="Meta key the connector writes, while the item is in stock, the buyer message it shows once "
        "sold out.",
    )
    release_date: str = Field(
        default="release_date", description="Meta key merchants keep a release date (YYYY-MM-DD) in."
    )
    restock_date: str = Field(
        default="restock_date", description="Meta key merchants keep a restock date (YYYY-MM-DD) in."
    )
    supplier: str = Field(default="supplier", description="Meta key merchants keep the supplier's name in.")
    pool_conflict: str = Field(
        default="connector_pool_conflict",
        description="Meta key the connector writes, on a variation sharing its parent's stock, the status its "
        "rules wanted when a sibling that must not sell past zero decided the shared stock's policy.",
    )

    @field_validator("*")
    @classmethod
    def _meta_key(cls, value: str) -> str:
        if not META_KEY.match(value):
            raise ValueError("a meta key must be non-empty without leading or trailing spaces")
        return value


class WooCommerceSettings(StoreSettings):
    """Settings of one WooCommerce store (REST API v3)."""

    url: str = Field(
        description="Base URL of the shop, e.g. https://shop.example.com (https strongly preferred; "
        "over plain http the connector signs requests with OAuth 1.0a).",
    )
    key_env: str = Field(description="Name of the environment variable holding the REST API consumer key (ck_...).")
    secret_env: str = Field(
        description="Name of the environment variable holding the REST API consumer secret (cs_...).",
    )
    api_path: str = Field(
        default="/wp-json/wc/v3", description="Path of the WooCommerce REST API v3 below the shop URL."
    )
    backorders_allowed_as: Literal["notify", "yes"] = Field(
        default="notify",
        description="What the connector writes to `backorders` when selling past zero is allowed: "
        '"notify" tells buyers the item is on backorder, "yes" does not.',
    )
    meta_keys: MetaKeys = Field(default=MetaKeys(), description="Product meta keys read and written.")
    order_statuses: tuple[str, ...] = Field(
        default=("processing", "on-hold"),
        min_length=1,
        description="Order statuses counted as open (accepted, not yet shipped).",
    )
    page_concurrency: int = Field(
        default=6,
        ge=1,
        le=16,
        description="Read requests in flight at once while pulling (pages of products, of variations, by SKU): the "
        "store's PHP workers and one or two waiting, so that a worker that finishes starts the next at once.",
    )
    write_concurrency: int = Field(
        default=6,
        ge=1,
        le=8,
        description="Batch write requests in flight at once (the store's PHP workers and one or two waiting).",
    )
    batch_size: int = Field(
        default=100, ge=1, le=100, description="Items per batch write request (WooCommerce allows 100)."
    )
    allow_insecure_http: bool = Field(
        default=False,
        description="Accept a plain http:// url to a host other than this machine (the key travels unencrypted).",
    )

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        # Parsed by hand so that the message names what is wrong in the shop owner's terms.
        value = value.strip()
        scheme, sep, rest = value.partition("://")
        if not sep or scheme.lower() not in ("http", "https"):
            raise ValueError("url must start with https:// (or http://), e.g. https://shop.example.com")
        host = rest.split("/", 1)[0]
        if "@" in host:
            # Never repeated: what stands before the @ is often the key and secret.
            raise ValueError(
                "url must not carry a user or password (user:password@...): put the key and secret in the "
                "environment variables key_env and secret_env name"
            )
        path = rest.split("?", 1)[0].split("#", 1)[0][len(host) :]
        if "/wp-json" in path.lower() or "/wp-admin" in path.lower():
            home = f"{scheme.lower()}://{host}{path[: path.lower().index('/wp-')]}".rstrip("/")
            raise ValueError(
                f'give the shop\'s home URL, not an API or admin address: url = "{home}" '
                "(the connector adds /wp-json/wc/v3 itself, see api_path)"
            )
        if not host or host.startswith(":") or "?" in rest or "#" in rest:
            raise ValueError("url must name the shop's host, e.g. https://shop.example.com (no query or #)")
        return f"{scheme.lower()}://{rest}".rstrip("/")

    @model_validator(mode="after")
    def _encrypted(self) -> WooCommerceSettings:
        if self.insecure_http and not self.allow_insecure_http:
            raise ValueError(
                "url: plain http to another machine sends the consumer key unencrypted; use https://, or set "
                "allow_insecure_http = true for this store if you accept that (a warning is logged on each run)"
            )
        return self

    @property
    def insecure_http(self) -> bool:
        """Plain http to a host that is not this machine: requests can be read on the way."""
        parsed = httpx.URL(self.url)
        return parsed.scheme == "http" and not is_loopback(parsed.host)

    @field_validator("key_env", "secret_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if not ENV_NAME.match(value) or PASTED_KEY.match(value):
            raise ValueError(
                "give the NAME of an environment variable (letters, digits, underscore, e.g. EU_SHOP_WC_KEY), "
                "never the key itself"
            )
        return value

    @field_validator("api_path")
    @classmethod
    def _api_path(cls, value: str) -> str:
        value = "/" + value.strip().strip("/")
        if "?" in value or "#" in value or " " in value:
            raise ValueError('api_path must be a plain path such as "/wp-json/wc/v3"')
        return value

    @field_validator("order_statuses")
    @classmethod
    def _order_statuses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for status in value:
            if not ORDER_STATUS_SLUG.match(status):
                raise ValueError(f'order status "{status}" is not a status slug such as "processing" or "on-hold"')
            if status == "any" or status.startswith("wc-"):
                # "any" counts shipped orders as open; "wc-processing" is the database's name, which
                # the REST API refuses. Other unknown slugs may be a plugin's own statuses: the store
                # itself says whether it has them (`connector check`, and each pass, name this key).
                fix = '"processing"' if status == "any" else f'"{status.removeprefix("wc-")}"'
                raise ValueError(
                    f'"{status}" is not an order status the REST API takes; use {fix} (WooCommerce\'s '
                    "own: " + ", ".join(f'"{s}"' for s in ORDER_STATUSES) + ")"
                )
        return value

    @property
    def api_url(self) -> str:
        """Absolute URL of the REST API root (no trailing slash)."""
        return self.url + self.api_path
