"""A Shopify store's own settings: which shop, which API version, which env vars hold its credentials.

`shop` is the shop's permanent domain, `name.myshopify.com`. For the loopback sandbox
(`connector sandbox shopify`) it may instead be `127.0.0.1:PORT`, `localhost:PORT` or
`[::1]:PORT`: only those loopback addresses are reached over plain http, every other shop over
https, so a token can never leave the machine unencrypted.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from stockstatus.core.model import Status
from stockstatus.core.platform import StoreSettings

API_VERSIONS = ("2026-07", "2026-10")
"""The versions the connector's documents are checked against (Shopify's official schemas)."""
DEFAULT_API_VERSION = "2026-10"
API_VERSION = re.compile(r"^(20\d\d)-(0[1-9]|1[0-2])$")
MAX_PAGE_SIZE = 250
"""Shopify's largest `first` for a connection."""

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PASTED_TOKEN = re.compile(r"^(shpat|shpca|shppa|shpss|atkn)_[0-9a-zA-Z]{8,}$")
"""What Shopify access tokens and secrets look like (pasted instead of a variable's name)."""
MYSHOPIFY = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
LOOPBACK = re.compile(r"^(127\.0\.0\.1|localhost|\[::1\]):\d{1,5}$")
NAMESPACE = re.compile(r"^([A-Za-z0-9_-]{3,255}|\$app|\$app:[A-Za-z0-9_-]{1,250})$")
"""A plain namespace, or the app-reserved one (`$app`, `$app:name`) only this app can write."""
KEY = re.compile(r"^[A-Za-z0-9_-]{2,64}$")
QUALIFIED = re.compile(r"^[A-Za-z0-9_-]{3,255}\.[A-Za-z0-9_-]{2,64}$")
TAG = re.compile(r"^[^,]{1,255}$")


class MetafieldKeys(BaseModel):
    """Where the connector writes (status, ETA, message) and reads (merchant fields) per variant.

    The connector's own metafields live on the variant, in `namespace`: `status` and `message`
    as `single_line_text_field`, `eta` as `date`, and the same three for the answer at sell-out
    (`sellout_*`, written ahead while the variant is in stock). The merchant fields are `namespace.key` names,
    read from the variant first and then from its product.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    namespace: str = Field(
        default="connector",
        description='Metafield namespace the connector writes in; "$app:connector" reserves it to the app '
        "(staff and other apps can then only read it).",
    )
    status: str = Field(default="status", description="Key of the status metafield (single_line_text_field).")
    eta: str = Field(default="eta", description="Key of the ETA metafield (date, YYYY-MM-DD).")
    message: str = Field(default="message", description="Key of the buyer message metafield (single_line_text_field).")
    sellout_status: str = Field(
        default="sellout_status",
        description="Key of the metafield (single_line_text_field) holding, while the variant is in stock, the status "
        "it shows once sold out (set only when that is a backorder, a pre-order or has a message).",
    )
    sellout_eta: str = Field(
        default="sellout_eta",
        description="Key of the metafield (date) holding, while the variant is in stock, the ETA of the first unit "
        "sold past zero.",
    )
    sellout_message: str = Field(
        default="sellout_message",
        description="Key of the metafield (single_line_text_field) holding, while the variant is in stock, the "
        "buyer message it shows once sold out.",
    )
    notice: str = Field(
        default="stock_notice",
        description="Key of the order metafield (multi_line_text_field) that holds the latest notice for the buyer.",
    )
    release_date: str = Field(
        default="custom.release_date", description="namespace.key of the merchant's release date."
    )
    restock_date: str = Field(
        default="custom.restock_date", description="namespace.key of the merchant's restock date."
    )
    supplier: str = Field(default="custom.supplier", description="namespace.key of the merchant's supplier name.")

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        if not NAMESPACE.match(value):
            raise ValueError(
                "a metafield namespace is 3-255 letters, digits, '-' or '_', or the app-reserved "
                '"$app:name" (e.g. "$app:connector")'
            )
        return value

    @field_validator("status", "eta", "message", "notice", "sellout_status", "sellout_eta", "sellout_message")
    @classmethod
    def _key(cls, value: str) -> str:
        if not KEY.match(value):
            raise ValueError("a metafield key is 2-64 letters, digits, '-' or '_'")
        return value

    @field_validator("release_date", "restock_date", "supplier")
    @classmethod
    def _qualified(cls, value: str) -> str:
        if not QUALIFIED.match(value):
            raise ValueError('give the metafield as "namespace.key", e.g. "custom.release_date"')
        return value

    def merchant(self, name: str) -> tuple[str, str]:
        """(namespace, key) of a merchant field: release_date, restock_date or supplier."""
        namespace, _, key = str(getattr(self, name)).partition(".")
        return namespace, key


PRODUCT_STATUSES = ("active", "unlisted", "draft", "archived")


class PullFilter(BaseModel):
    """Which products and variants a pass pulls and decides; the rest are left as they are.

    Defaults: active and unlisted products (both sell) and drafts (so a product shows the right
    status the moment it is published) are pulled; archived ones (no longer sold) are not. Gift
    cards are left out (they are not stock), and so are bundle parents (variants that require
    components: Shopify sells them from their components' stock, and the components are pulled
    as variants of their own).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    statuses: tuple[str, ...] = Field(
        default=("active", "unlisted", "draft"),
        description="Product statuses pulled: active, unlisted, draft, archived.",
    )
    gift_cards: bool = Field(default=False, description="Pull gift card products.")
    bundle_parents: bool = Field(default=False, description="Pull bundle parents (variants that require components).")

    @field_validator("statuses")
    @classmethod
    def _statuses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        wanted = tuple(dict.fromkeys(s.strip().lower() for s in value))
        unknown = [s for s in wanted if s not in PRODUCT_STATUSES]
        if unknown or not wanted:
            raise ValueError(
                f"unknown product status {', '.join(map(repr, unknown))}" if unknown else "name at least one status"
            )
        return wanted

    @property
    def search(self) -> str:
        """The filter as Shopify search terms on `productVariants`."""
        terms = [f"product_status:{','.join(s.upper() for s in self.statuses)}"]
        if not self.gift_cards:
            terms.append("gift_card:false")
        if not self.bundle_parents:
            terms.append("requires_components:false")
        return " AND ".join(terms)


class ShopifySettings(StoreSettings):
    """Settings of one Shopify store (Admin GraphQL API)."""

    shop: str = Field(
        description='The shop\'s myshopify domain, e.g. "us-shop.myshopify.com" (sandbox: "127.0.0.1:PORT").'
    )
    api_version: str = Field(
        default=DEFAULT_API_VERSION,
        description="Admin API version (YYYY-MM). Shopify answers a version it no longer supports with the "
        "oldest one it does; the connector logs that once per pass with the version to set.",
    )
    token_env: str | None = Field(
        default=None, description="Environment variable holding an Admin API access token (shpat_...)."
    )
    client_id_env: str | None = Field(
        default=None, description="Environment variable holding the app's client ID (client-credentials grant)."
    )
    client_secret_env: str | None = Field(
        default=None, description="Environment variable holding the app's client secret (client-credentials grant)."
    )
    metafields: MetafieldKeys = Field(default=MetafieldKeys(), description="Metafields written and read.")
    locations: tuple[str, ...] = Field(
        default=(),
        description="Locations (names or numeric ids) whose available quantity is summed; "
        "default: every active location that fulfils online orders.",
    )
    tags: dict[Status, str] = Field(
        default_factory=dict,
        description='Optional product tag per status, e.g. {backorder = "backorder", pre_order = "pre-order"}.',
    )
    pull: PullFilter = Field(default=PullFilter(), description="Which products and variants are pulled.")
    test_orders: bool = Field(
        default=False,
        description="Queue the work of test orders (Bogus Gateway, test mode) like real orders' work.",
    )
    selling_plans: Literal["keep", "manage"] = Field(
        default="keep",
        description='Variants sold through a selling plan (pre-order or subscription apps): "keep" leaves '
        'their inventory policy to the app that set it; "manage" lets the connector decide it too.',
    )
    create_metafield_definitions: bool = Field(
        default=False,
        description="Let `connector check` create the connector's missing metafield definitions "
        "(with storefront read access).",
    )
    notice_tag: str = Field(
        default="stock-notice",
        description="Order tag added with each buyer notice (a Shopify Flow trigger can email the buyer).",
    )
    bulk_threshold: int | None = Field(
        default=None,
        ge=0,
        description="Override: variants (at one location) above which the pull uses a bulk operation instead of "
        "pages. Unset, the pull takes whichever the estimated time favours (points over the restore rate, "
        "against a bulk operation's wait).",
    )
    bulk_write_threshold: int | None = Field(
        default=None,
        ge=0,
        description="Override: changed variants from which a push is a bulk import (bulkOperationRunMutation) "
        "instead of PushChanges requests. Unset, the push takes whichever the estimated time favours.",
    )
    bulk_read_rate: float = Field(
        default=2000.0,
        gt=0,
        description="Objects a second a bulk query is assumed to export, for the estimate that chooses pages or "
        "bulk (an assumption: Shopify publishes no figure).",
    )
    bulk_write_rate: float = Field(
        default=50.0,
        gt=0,
        description="Result lines (one mutation each) a second a bulk import is assumed to run, for the estimate "
        "that chooses requests or bulk (an assumption: Shopify publishes no figure).",
    )
    page_size: int = Field(
        default=MAX_PAGE_SIZE,
        ge=1,
        le=MAX_PAGE_SIZE,
        description="Largest page asked for (the cost budget may lower it).",
    )
    bulk_poll_seconds: float = Field(
        default=2.0, gt=0, description="Seconds between polls of a running bulk operation."
    )
    bulk_timeout_seconds: float = Field(
        default=3600.0, gt=0, description="Give up on a bulk operation after this long."
    )

    @field_validator("shop")
    @classmethod
    def _shop(cls, value: str) -> str:
        value = value.strip().lower()
        for prefix in ("https://", "http://"):
            value = value.removeprefix(prefix)
        value = value.rstrip("/")
        if MYSHOPIFY.match(value) or LOOPBACK.match(value):
            return value
        # A pasted admin address names the shop too: keep only what the API is reached at.
        host = value.split("/", 1)[0]
        if MYSHOPIFY.match(host) or LOOPBACK.match(host):
            return host
        admin = re.match(r"^admin\.shopify\.com/store/([a-z0-9][a-z0-9-]*)(/|$)", value)
        if admin:
            return f"{admin.group(1)}.myshopify.com"
        if "@" in value.split("/", 1)[0]:
            # Never repeated: what stands before the @ is often a token.
            raise ValueError(
                "shop must not carry a user or password (user:password@...): the token comes from the "
                "environment variable token_env names"
            )
        raise ValueError(
            'shop must be the shop\'s myshopify domain, e.g. "us-shop.myshopify.com" '
            '(find it in Settings → Domains), or "127.0.0.1:PORT" for the local sandbox'
        )

    @field_validator("api_version")
    @classmethod
    def _api_version(cls, value: str) -> str:
        value = value.strip()
        if not API_VERSION.match(value):
            raise ValueError(
                f'api_version must be a Shopify Admin API version "YYYY-MM", e.g. "{DEFAULT_API_VERSION}" (got {value!r})'
            )
        return value

    @field_validator("token_env", "client_id_env", "client_secret_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and (not ENV_NAME.match(value) or PASTED_TOKEN.match(value)):
            raise ValueError(
                "give the NAME of an environment variable (letters, digits, underscore, e.g. US_SHOP_TOKEN), "
                "never the token itself"
            )
        return value

    @field_validator("notice_tag")
    @classmethod
    def _notice_tag(cls, value: str) -> str:
        if not TAG.match(value) or value != value.strip():
            raise ValueError("notice_tag must be 1-255 characters without commas or outer spaces")
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[Status, str]) -> dict[Status, str]:
        for status, tag in value.items():
            if not TAG.match(tag) or tag != tag.strip():
                raise ValueError(f"tag for {status.value} must be 1-255 characters without commas or outer spaces")
        if len(set(value.values())) != len(value):
            raise ValueError("each status needs its own tag")
        return value

    @model_validator(mode="after")
    def _one_kind_of_auth(self) -> ShopifySettings:
        static = self.token_env is not None
        grant = self.client_id_env is not None or self.client_secret_env is not None
        if static == grant:
            raise ValueError(
                "set either token_env (an Admin API access token) or client_id_env and client_secret_env "
                "(client-credentials grant), not both and not neither"
            )
        if grant and (self.client_id_env is None or self.client_secret_env is None):
            raise ValueError("the client-credentials grant needs both client_id_env and client_secret_env")
        return self

    @property
    def base_url(self) -> str:
        """https://shop (http:// only for the loopback sandbox)."""
        scheme = "http" if LOOPBACK.match(self.shop) else "https"
        return f"{scheme}://{self.shop}"

    @property
    def graphql_url(self) -> str:
        return f"{self.base_url}/admin/api/{self.api_version}/graphql.json"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/admin/oauth/access_token"
