"""The configuration: one TOML file, loaded with pydantic-settings into one typed tree.

The file path comes from `--config`, else `CONNECTOR_CONFIG`, else `./connector.toml`.
Every problem is reported at once, each naming the file and the key path
(`stores[0].url`, `rules[2].when.available`), before any network call. Secrets are never in
the file: a store names the environment variables that hold them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from statistics import NormalDist
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveInt,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from stockstatus.core.errors import ConfigError
from stockstatus.core.events import ENV_NAME, WebhookSettings, looks_like_secret
from stockstatus.core.http import is_loopback
from stockstatus.core.notify import NotifySettings
from stockstatus.core.platform import Platform, StoreSettings, broken_platforms, platforms
from stockstatus.core.schedule import DEFAULT_RECONCILE, trigger_for
from stockstatus.core.supply import PurchaseOrderFiles
from stockstatus.rules import RuleError, RuleSet, compile_rules

DEFAULT_PATH = Path("connector.toml")
ENV_VAR = "CONNECTOR_CONFIG"

_V = TypeVar("_V")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _by_item(
    tables: _ByItem[Any], *, supplier: str | None, vendor: str | None, tags: frozenset[str], categories: frozenset[str]
) -> Any:
    """The first match of supplier, vendor, tag, category (the smallest when several tags match), else default."""
    if supplier and supplier in tables.suppliers:
        return tables.suppliers[supplier]
    if vendor and vendor in tables.vendors:
        return tables.vendors[vendor]
    for table, names in ((tables.tags, tags), (tables.categories, categories)):
        folded = {n.casefold() for n in names}
        matches = [value for name, value in table.items() if name.casefold() in folded]
        if matches:
            return min(matches)
    return tables.default


class _ByItem(_Strict, Generic[_V]):
    default: _V | None = None
    suppliers: dict[str, _V] = {}
    vendors: dict[str, _V] = {}
    tags: dict[str, _V] = {}
    categories: dict[str, _V] = {}

    def for_item(
        self, *, supplier: str | None, vendor: str | None, tags: frozenset[str], categories: frozenset[str]
    ) -> _V | None:
        value: _V | None = _by_item(self, supplier=supplier, vendor=vendor, tags=tags, categories=categories)
        return value


class LeadTimes(_ByItem[NonNegativeInt]):
    """Supplier lead times in days: the first match of supplier, vendor, tag, category wins."""


class LeadTimeSpread(_ByItem[NonNegativeFloat]):
    """Standard deviation of lead times in days (same lookup as `lead_time_days`), for safety stock."""


class Supply(_Strict):
    lead_time_days: LeadTimes = LeadTimes()
    lead_time_sd_days: LeadTimeSpread = LeadTimeSpread()
    handling_days: NonNegativeInt = 0
    """Days between stock arriving and the parcel leaving; added to supply-derived ETAs."""
    purchase_orders: list[str] = []
    """Globs of purchase-order CSV files, relative to the config file."""
    horizon_days: PositiveInt = 120
    """How far ahead supply counts: no ETA inside it means "no reliable timeline"."""
    platform_incoming_reliable: bool = False
    """Whether a platform's undated incoming quantity (Shopify's `incoming`), dated from the day it
    was first seen plus the lead time, counts as supply. An estimate: off unless the shop says so."""


class Demand(_Strict):
    """Sales history and the reorder report's parameters."""

    history_days: PositiveInt = 90
    """Days of order history the rules see (`Facts.sales`)."""
    velocity_window_days: PositiveInt = 28
    """Days the reorder report averages sales over (out-of-stock days excluded)."""
    service_level: float | None = Field(default=None, gt=0.5, lt=1)
    """Chance of not running out during a lead time (0.95 = 95%); sets z. Give this or `z`."""
    z: float | None = Field(default=None, gt=0)
    """Safety factor directly (1.65 ≈ 95%); instead of `service_level`."""
    review_period_days: NonNegativeInt = 7
    """Days between two purchase orders: a suggestion covers them too."""

    @model_validator(mode="after")
    def _one_safety_factor(self) -> Demand:
        if self.service_level is not None and self.z is not None:
            raise ValueError("give service_level or z, not both")
        return self

    @property
    def safety_factor(self) -> float:
        """z: from `z`, else from `service_level` (default 0.95) through the normal distribution."""
        if self.z is not None:
            return self.z
        return NormalDist().inv_cdf(self.service_level if self.service_level is not None else 0.95)


class Rails(_Strict):
    """Limits a pass may not exceed without the operator: mass changes and listings that shrink.

    Shares are fractions of the store's items (0.3 = 30 %). A pass over the limit writes nothing:
    `connector resync --force` goes on, the daemon holds the store until the operator releases it.
    """

    max_changed_share: float = Field(default=0.30, gt=0, le=1)
    """Most of the store's items whose shown status one pass may change."""
    max_out_of_stock_share: float = Field(default=0.20, gt=0, le=1)
    """Most of the store's items one pass may turn out of stock."""
    max_shrink_share: float = Field(default=0.50, gt=0, le=1)
    """A full listing smaller than the last full pass's by more than this share is not believed
    (an empty one never is), unless the store's own count confirms it."""
    min_items: NonNegativeInt = 10
    """Below this many items changed (or, for the shrink, in the last listing) no rail applies:
    in a small shop one edit is a large share."""


class Listen(_Strict):
    """`[listen]`: the daemon's HTTP listener: store webhooks (`connector.listener`) and the status page.

    The daemon listens only when the file has a `[listen]` table (`Config.listen`).
    """

    address: str = "127.0.0.1:8787"
    """host:port the listener binds; loopback by default, behind a reverse proxy that adds TLS."""
    public_url: str | None = None
    """The https:// address the stores post to (the reverse proxy's); deliveries arrive at
    `<public_url>/webhooks/<store name>`."""
    max_body_bytes: PositiveInt = 1024 * 1024
    """A delivery larger than this is refused (413) before it is read whole."""
    debounce_seconds: NonNegativeFloat = Field(default=1.0, le=60)
    """Deliveries for one store within this long of the first are served by one targeted pass."""
    polling_stretch: PositiveInt = 1
    """While the store's webhooks are healthy (a verified delivery within `healthy_minutes`),
    only every Nth scheduled incremental pass runs; 1 keeps the schedule as it is. Reconcile
    passes always run."""
    healthy_minutes: PositiveInt = 60
    """How recent a store's last verified delivery must be for its webhooks to count as healthy."""
    replay_minutes: PositiveInt = 24 * 60
    """A Shopify delivery triggered longer ago than this (X-Shopify-Triggered-At) is a replay:
    answered 200, recorded, and passes over nothing."""
    status_token_env: str | None = None
    """Environment variable holding the token the status page asks of any request not from loopback.
    Without it, only loopback may read the page."""

    @field_validator("status_token_env")
    @classmethod
    def _token_env(cls, value: str | None) -> str | None:
        if value is not None and (not ENV_NAME.match(value) or looks_like_secret(value)):
            raise ValueError(
                "give the NAME of the environment variable holding the status page's token (e.g. "
                "CONNECTOR_STATUS_TOKEN), never the token itself; the value is not shown"
            )
        return value

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        host_port(value)
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        # `connector webhooks install` hands it to the stores, which post orders to it.
        if value is None:
            return None
        match = re.fullmatch(r"(https?)://(\[[^\]]+\]|[^/:?#\s]+)(:\d+)?(/[^?#\s]*)?", value)
        if match is None:
            raise ValueError(f"{value!r} is not a URL like https://connector.example.com")
        if match.group(1) == "http" and not is_loopback(match.group(2)):
            raise ValueError(
                "stores post orders to it: use https:// (a reverse proxy with TLS in front of the listener)"
            )
        return value.rstrip("/")

    @property
    def host(self) -> str:
        return host_port(self.address)[0]

    @property
    def port(self) -> int:
        return host_port(self.address)[1]


def host_port(address: str) -> tuple[str, int]:
    """`host:port` (IPv6 in brackets) as a pair; ValueError saying what is wrong."""
    host, sep, port = address.strip().rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{address!r} is not host:port (e.g. 127.0.0.1:8787)")
    return host, int(port)


class StoreEntry(BaseModel):
    """The keys every store has; the rest belong to its platform's settings model."""

    model_config = ConfigDict(extra="allow", frozen=True)

    name: str
    platform: str
    timezone: str | None = None
    enabled: bool = True
    schedule: str | None = None
    """Incremental passes: a cron expression or an interval (default every 15 minutes)."""
    reconcile: str | None = None
    """Full reconcile passes: a cron expression or an interval (default nightly, "0 3 * * *")."""
    rules: list[dict[str, Any]] | None = None
    """Replaces the file's top-level rules for this store."""
    notify: NotifySettings = NotifySettings()
    """Telling waiting buyers when their order's ETA moves or its item is back (opt-in)."""
    rails: Rails | None = None
    """This store's limits, instead of the file's `[rails]`."""
    supply_group: str | None = None
    """The name of the group of stores this one shares its warehouse and incoming supply with: its
    waiting orders and theirs are served first in first out from one supply (see `Config.group`)."""

    @field_validator("supply_group")
    @classmethod
    def _group(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", value):
            raise ValueError("use letters, digits, '-', '_' or '.' (it names the group in logs and explain)")
        return value

    webhook_secret_env: str | None = None
    """The environment variable holding the secret store webhooks are signed with (WooCommerce:
    the secret set on the webhooks; Shopify: the app's client secret, `client_secret_env` by default)."""

    @field_validator("webhook_secret_env")
    @classmethod
    def _secret_name(cls, value: str | None) -> str | None:
        if value is not None and (not ENV_NAME.match(value) or looks_like_secret(value)):
            raise ValueError(
                "give the NAME of the environment variable holding the webhook secret (e.g. "
                "EU_SHOP_WEBHOOK_SECRET), never the secret itself; the value is not shown"
            )
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", value):
            raise ValueError("use letters, digits, '-', '_' or '.' (it names the store in logs and the CLI)")
        return value


class ConnectorSettings(BaseSettings):
    """The whole file, as typed settings."""

    model_config = SettingsConfigDict(extra="forbid", frozen=True)

    timezone: str = "UTC"
    state: Path = Path("connector.sqlite")
    stores: list[StoreEntry] = Field(min_length=1)
    supply: Supply = Supply()
    demand: Demand = Demand()
    rails: Rails = Rails()
    """Limits on what one pass may change (see `Rails`)."""
    webhook: WebhookSettings | None = None
    """Where status changes, ETA slips and back-in-stock events are posted (optional)."""
    listen: Listen = Listen()
    """The daemon's HTTP listener: webhook deliveries and the status page (on only with a
    `[listen]` table; the defaults serve `python -m stockstatus.core.web.serve`)."""
    back_in_stock_at: PositiveInt | None = None
    """Hysteresis: an item last shown sold out shows in stock again only once available reaches this."""
    rules: list[dict[str, Any]] = []
    rules_file: Path | None = None
    """A TOML file of `[[rules]]` (relative to this file), instead of rules in this file: the shop
    owner edits the rules without touching stores and credentials' names."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Only the file, read by `read_toml` (which explains encodings and syntax errors): values in
        # the environment are secrets, read by name where a store says.
        return (init_settings,)


@dataclass(frozen=True, slots=True)
class Store:
    """One configured store, validated and ready to run."""

    name: str
    platform: str
    timezone: ZoneInfo
    settings: StoreSettings
    rules: RuleSet
    schedule: str | None
    enabled: bool
    index: int
    """Position in the file's `stores` list, for messages that name the key."""
    reconcile: str = DEFAULT_RECONCILE
    """When full passes run (catching drift and edits the incremental passes did not see)."""
    notify: NotifySettings = field(default_factory=NotifySettings)
    """Whether and what to tell waiting buyers (`connector.notify`)."""
    rails: Rails = field(default_factory=Rails)
    """What one pass may change without the operator (`--force`)."""
    webhook_secret_env: str | None = None
    """The variable holding the secret this store's webhook deliveries are signed with, if any
    (`webhook_secret_env`, else the platform settings' `client_secret_env`: Shopify signs with the app's)."""
    decides_by: str = ""
    """A digest of every setting the store's decisions depend on (rules, supply and demand
    settings, timezone, platform settings); an edit that changes it makes the next pass a full
    one. Schedules and customer notices are left out: changing them changes no decision."""
    supply_group: str | None = None
    """The supply group the store shares its warehouse and incoming supply with (None: alone)."""


@dataclass(frozen=True, slots=True)
class Config:
    path: Path
    settings: ConnectorSettings
    stores: tuple[Store, ...]
    state_path: Path
    purchase_orders: PurchaseOrderFiles = field(default_factory=lambda: PurchaseOrderFiles(()))
    """The `[supply] purchase_orders` files, read again only when they change (one reader per loaded config)."""
    rules_path: Path | None = None
    """The `rules_file`, when the rules live there."""

    @property
    def files(self) -> tuple[Path, ...]:
        """The files this configuration was read from (the daemon reloads when one changes)."""
        return (self.path,) if self.rules_path is None else (self.path, self.rules_path)

    @property
    def supply(self) -> Supply:
        return self.settings.supply

    @property
    def demand(self) -> Demand:
        return self.settings.demand

    def group(self, store: Store) -> tuple[Store, ...]:
        """The other stores of `store`'s supply group, in file order (empty when it is in none).

        Disabled stores count: their waiting orders still wait for the same warehouse.
        """
        if store.supply_group is None:
            return ()
        return tuple(s for s in self.stores if s.supply_group == store.supply_group and s.name != store.name)

    @property
    def listen(self) -> Listen:
        return self.settings.listen

    @property
    def listening(self) -> Listen | None:
        """The `[listen]` table when the file has one: the daemon runs its listener only then."""
        return self.settings.listen if "listen" in self.settings.model_fields_set else None

    def select(self, name: str | None) -> tuple[Store, ...]:
        """The enabled stores, or the one named (enabled or not); ConfigError for an unknown name."""
        if name is None:
            return tuple(s for s in self.stores if s.enabled)
        for store in self.stores:
            if store.name == name:
                return (store,)
        known = ", ".join(s.name for s in self.stores)
        raise ConfigError(f"no store named {name!r} (stores: {known})", path=self.path)

    def missing_secrets(self, stores: tuple[Store, ...], environ: Mapping[str, str] | None = None) -> list[str]:
        """One line per credential variable the given stores (and the webhook) need but lack."""
        environ = os.environ if environ is None else environ
        problems = []
        for store in stores:
            platform = platforms()[store.platform]
            for problem in platform.missing_secrets(store.settings, environ):
                problems.append(f"stores[{store.index}] ({store.name}).{problem}")
        hook = self.settings.webhook
        if stores and hook is not None and not environ.get(hook.secret_env):
            problems.append(f"webhook.secret_env: environment variable {hook.secret_env} is not set")
        return problems

    def check_secrets(self, stores: tuple[Store, ...], environ: Mapping[str, str] | None = None) -> None:
        """Raise ConfigError naming every credential variable the given stores need but lack."""
        problems = self.missing_secrets(stores, environ)
        if problems:
            problems.append(
                "set each variable in the environment the connector runs in (export NAME=..., or the service's "
                "EnvironmentFile); secrets never go in this file"
            )
            raise ConfigError(problems, path=self.path)

    def check_supply(self) -> None:
        """Raise ConfigError naming each purchase-order file, line and fix when one has a problem.

        For commands a person runs (`resync`, `rules check`): they stop before any store is
        contacted. The daemon instead reports these as warnings of each run and uses the rest.
        """
        problems = list(self.purchase_orders.read().warnings)
        if problems:
            problems.append(
                "fix the purchase-order file(s) above, or take them out of supply.purchase_orders: nothing was sent"
            )
            raise ConfigError(problems, path=self.path)


def config_path(cli_value: str | os.PathLike[str] | None, environ: Mapping[str, str] | None = None) -> Path:
    """`--config`, else CONNECTOR_CONFIG, else ./connector.toml."""
    environ = os.environ if environ is None else environ
    if cli_value:
        return Path(cli_value)
    if environ.get(ENV_VAR):
        return Path(environ[ENV_VAR])
    return DEFAULT_PATH


def load(path: Path) -> Config:
    """Read and validate the file; raise ConfigError listing every problem."""
    if not path.is_file():
        hint = (
            " (`connector init` writes a starter one, or pass --config)"
            if path == DEFAULT_PATH
            else f" (check --config and ${ENV_VAR}; `connector init {path}` writes a starter one)"
        )
        raise ConfigError(f"configuration file not found{hint}", path=path)
    problems: list[str] = []
    data = read_toml(path, problems)
    if problems:
        raise ConfigError(problems, path=path)
    return from_mapping(data, path=path, base_dir=path.parent)


SAVE_AS_UTF8 = "save it as UTF-8 (in most editors: Save as → Encoding: UTF-8)"


def read_toml(path: Path, problems: list[str], *, key: str = "") -> dict[str, Any]:
    """The tables of a TOML file a person wrote; what is wrong goes to `problems` with line and fix.

    A UTF-8 byte-order mark (Windows editors write one) is accepted; any other encoding is
    refused with the line of the first byte that is not UTF-8, never with a traceback.
    """
    where = f"{key}: {path}" if key else ""
    prefix = f"{where}: " if where else ""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        problems.append(f"{where} not found; check the path (relative paths start at the config file's folder)")
        return {}
    except OSError as exc:
        problems.append(f"{prefix}cannot read: {exc.strerror}")
        return {}
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        problems.append(
            f"{prefix}line {line}, column {column}: not UTF-8 text (byte 0x{raw[exc.start]:02x}, "
            f"perhaps Latin-1 or Windows-1252); {SAVE_AS_UTF8}"
        )
        return {}
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problems.append(
            f'{where + " is " if where else ""}not valid TOML: {exc}; fix that line (strings in "quotes", '
            "one key = value a line, "
            "[[stores]] / [[rules]] for each entry)"
        )
        return {}


def from_mapping(data: Mapping[str, Any], *, path: Path, base_dir: Path) -> Config:
    """Validate an in-memory configuration (the demo builds one); same checks as `load`."""
    try:
        settings = ConnectorSettings.model_validate(dict(data))
    except ValidationError as exc:
        raise ConfigError(describe_validation(exc), path=path) from exc
    return build(settings, path=path, base_dir=base_dir)


def build(settings: ConnectorSettings, *, path: Path, base_dir: Path) -> Config:
    problems: list[str] = []
    default_tz = _zone(settings.timezone, "timezone", problems)
    options = RuleOptions(
        handling_days=settings.supply.handling_days,
        horizon_days=settings.supply.horizon_days,
        back_in_stock_at=settings.back_in_stock_at,
    )
    rules_path = None
    raw_rules, rules_key = settings.rules, "rules"
    if settings.rules_file is not None:
        rules_path = settings.rules_file if settings.rules_file.is_absolute() else base_dir / settings.rules_file
        if settings.rules:
            problems.append("rules_file: the rules are both in this file ([[rules]]) and in rules_file; keep one")
        raw_rules, rules_key = _rules_file(rules_path, problems), f"rules_file ({rules_path}): rules"
    global_rules = _compile(raw_rules, rules_key, options, problems)
    installed = platforms()
    stores: list[Store] = []
    seen: set[str] = set()
    for index, entry in enumerate(settings.stores):
        where = f"stores[{index}]"
        if entry.name in seen:
            problems.append(f"{where}.name: {entry.name!r} is used by another store; names must be unique")
        seen.add(entry.name)
        platform = installed.get(entry.platform)
        if platform is None:
            known = ", ".join(sorted(installed)) or "none installed"
            reason = broken_platforms().get(entry.platform)
            problems.append(
                f"{where}.platform: platform {entry.platform!r} failed to load ({reason})"
                if reason
                else f"{where}.platform: unknown platform {entry.platform!r} (installed: {known})"
            )
            continue
        store_settings = _platform_settings(platform, entry, where, problems)
        tz = _zone(entry.timezone, f"{where}.timezone", problems) if entry.timezone else default_tz
        if tz is not None:
            try:
                trigger_for(entry.schedule, tz)
            except ValueError as exc:
                problems.append(f"{where}.schedule: {exc}")
            try:
                trigger_for(entry.reconcile, tz, default=DEFAULT_RECONCILE)
            except ValueError as exc:
                problems.append(f"{where}.reconcile: {exc}")
        rules = _compile(entry.rules, f"{where}.rules", options, problems) if entry.rules is not None else global_rules
        if store_settings is None or tz is None or rules is None:
            continue
        stores.append(
            Store(
                name=entry.name,
                platform=entry.platform,
                timezone=tz,
                settings=store_settings,
                rules=rules,
                schedule=entry.schedule,
                enabled=entry.enabled,
                index=index,
                reconcile=(entry.reconcile or DEFAULT_RECONCILE).strip(),
                notify=entry.notify,
                rails=entry.rails or settings.rails,
                webhook_secret_env=entry.webhook_secret_env or getattr(store_settings, "client_secret_env", None),
                decides_by=_decides_by(settings, entry, tz, raw_rules),
                supply_group=entry.supply_group,
            )
        )
    problems.extend(_group_problems(settings.stores, stores))
    if problems:
        raise ConfigError(problems, path=path)
    state = settings.state if settings.state.is_absolute() else base_dir / settings.state
    purchase_orders = PurchaseOrderFiles(tuple(settings.supply.purchase_orders), base_dir=base_dir)
    return Config(
        path=path,
        settings=settings,
        stores=tuple(stores),
        state_path=state,
        purchase_orders=purchase_orders,
        rules_path=rules_path,
    )


def _group_problems(entries: list[StoreEntry], stores: list[Store]) -> list[str]:
    """What is wrong with the supply groups: a group of one store, stores of one group in two timezones.

    A group is named on each of its stores (`supply_group = "eu-wh"`), so a store cannot be in two
    groups and a group cannot name a store that does not exist; a typo in a group's name leaves a
    group of one, which is refused here.
    """
    members: dict[str, list[int]] = {}
    for index, entry in enumerate(entries):
        if entry.supply_group is not None:
            members.setdefault(entry.supply_group, []).append(index)
    problems = []
    for group, indexes in members.items():
        if len(indexes) == 1:
            [index] = indexes
            problems.append(
                f"stores[{index}] ({entries[index].name}).supply_group: {group!r} has no other store; a supply "
                "group is two or more stores sharing one warehouse (check the name's spelling on each store, or "
                "remove the key)"
            )
            continue
        zones = {s.timezone.key: s for s in stores if s.supply_group == group}
        if len(zones) > 1:
            named = ", ".join(f"{s.name} {zone}" for zone, s in sorted(zones.items()))
            problems.append(
                f"stores[{indexes[0]}] ({entries[indexes[0]].name}).supply_group: the stores of {group!r} are in "
                f"different timezones ({named}); a group's orders are dated on one calendar, so give its stores "
                "one timezone"
            )
    return problems


_NOT_DECIDING = frozenset({"schedule", "reconcile", "enabled", "notify", "rails", "webhook_secret_env"})
"""Store keys that change when and whether passes run, what buyers are told, or what a pass may
write without the operator, but no decision."""


def _decides_by(settings: ConnectorSettings, entry: StoreEntry, tz: ZoneInfo, rules: list[dict[str, Any]]) -> str:
    """A digest of what the store's decisions depend on besides the store's data and the day."""
    inputs = {
        "store": entry.model_dump(mode="json", exclude=set(_NOT_DECIDING)),
        "rules": rules if entry.rules is None else None,
        "timezone": tz.key,
        "supply": settings.supply.model_dump(mode="json"),
        "demand": settings.demand.model_dump(mode="json"),
        "back_in_stock_at": settings.back_in_stock_at,
    }
    text = json.dumps(inputs, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _rules_file(path: Path, problems: list[str]) -> list[dict[str, Any]]:
    """The `[[rules]]` of a rules file; what is wrong with it goes to `problems`, naming the file."""
    found: list[str] = []
    data = read_toml(path, found, key="rules_file")
    if found:
        problems.extend(found)
        return []
    unknown = sorted(set(data) - {"rules"})
    if unknown:
        problems.append(
            f"rules_file ({path}): {', '.join(unknown)}: unknown key (a rules file holds only [[rules]] tables; "
            "move the rest to the config file)"
        )
    rules = data.get("rules", [])
    if not isinstance(rules, list) or not all(isinstance(rule, dict) for rule in rules):
        problems.append(f"rules_file ({path}): rules: write each rule as a [[rules]] table")
        return []
    return rules


def _platform_settings(platform: Platform, entry: StoreEntry, where: str, problems: list[str]) -> StoreSettings | None:
    extra = dict(entry.model_extra or {})
    prefix = f"{where} ({entry.name})"
    # Every platform names its credentials' variables in `*_env` keys: a value that looks like the
    # secret itself is refused here, for any platform, without being repeated.
    pasted = sorted(k for k, v in extra.items() if k.endswith("_env") and isinstance(v, str) and looks_like_secret(v))
    problems.extend(
        f"{prefix}.{key}: this looks like a secret itself, not the NAME of an environment variable: put the "
        "secret in the environment and write the variable's name here (the value is not shown)"
        for key in pasted
    )
    try:
        validated = platform.settings_model.model_validate(extra)
    except ValidationError as exc:
        said = tuple(f"{prefix}.{key}:" for key in pasted)  # the platform's own word on them is one too many
        problems.extend(line for line in describe_validation(exc, prefix=prefix) if not line.startswith(said))
        return None
    return None if pasted else validated


def _zone(name: str | None, key: str, problems: list[str]) -> ZoneInfo | None:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"{key}: unknown timezone {name!r} (use an IANA name such as 'Europe/Berlin')")
        return None


@dataclass(frozen=True, slots=True)
class RuleOptions:
    """The settings every rule set of a config is compiled with."""

    handling_days: int
    horizon_days: int
    back_in_stock_at: int | None


def _compile(raw: list[dict[str, Any]], key: str, options: RuleOptions, problems: list[str]) -> RuleSet | None:
    try:
        return compile_rules(
            raw,
            source=key,
            handling_days=options.handling_days,
            horizon_days=options.horizon_days,
            back_in_stock_at=options.back_in_stock_at,
        )
    except RuleError as exc:
        problems.extend(exc.problems)
        return None


def describe_validation(exc: ValidationError, *, prefix: str = "") -> list[str]:
    """pydantic errors as 'key.path: what is wrong' lines a shop owner can act on."""
    lines = []
    for error in exc.errors(include_url=False):
        key = _key_path(error["loc"])
        if prefix:
            key = f"{prefix}.{key}" if key else prefix
        kind = error["type"]
        if kind == "extra_forbidden":
            message = "unknown key (check its spelling against the example `connector init` writes, or remove it)"
        elif kind == "missing":
            message = "required key is missing (add it; the example `connector init` writes shows every key)"
        elif kind == "list_type":
            message = "must be a list: write each entry as its own [[table]] (double brackets), or [a, b] inline"
        else:
            message = error["msg"].removeprefix("Value error, ")
            if _may_echo(error):
                message += f" (got {error['input']!r})"
        lines.append(f"{key}: {message}" if key else message)
    return lines


_SECRET_LIKE = re.compile(r"env|secret|token|key|password", re.IGNORECASE)


def _may_echo(error: Any) -> bool:
    """Whether the rejected value can be shown: never for keys that might hold a pasted secret."""
    if error["type"] in ("value_error", "assertion_error") or "input" not in error:
        return False
    if isinstance(error["input"], (dict, list)):
        return False
    return not any(isinstance(part, str) and _SECRET_LIKE.search(part) for part in error["loc"])


def _key_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
