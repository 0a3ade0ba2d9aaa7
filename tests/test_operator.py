"""The operator's commands: check, status, history, and schedule validation."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from stockstatus.adapters.woocommerce.fake import FakeWooCommerce
from stockstatus.core.cli import main
from stockstatus.core.config import load
from stockstatus.core.errors import ConfigError
from stockstatus.core.operator import check_stores
from stockstatus.core.state import StateStore
from stockstatus.core.sync import resync
from tests.conftest import FIXED_NOW


def pinned() -> datetime:
    """The clock of every `connector` command here: the tests' fixed "now"."""
    return FIXED_NOW


ENV = {"SHOP_KEY": "ck_" + "a" * 40, "SHOP_SECRET": "cs_" + "b" * 40}
CONFIG = """
timezone = "Europe/Berlin"
state = "state.sqlite"
[[stores]]
name = "shop"
platform = "woocommerce"
url = "https://shop.test"
key_env = "SHOP_KEY"
secret_env = "SHOP_SECRET"
schedule = "{schedule}"
[[rules]]
name = "sold out"
when = {{ available = "<= 0" }}
then = {{ status = "out_of_stock" }}
"""


@pytest.fixture
def fake():
    # The store keeps the config's calendar (Europe/Berlin), so `check` has no timezone to flag.
    fake = FakeWooCommerce(
        base_url="https://shop.test",
        consumer_key=ENV["SHOP_KEY"],
        consumer_secret=ENV["SHOP_SECRET"],
        timezone=ZoneInfo("Europe/Berlin"),  # as the config says: `check` compares them
    )
    fake.create_product(name="Mug", sku="MUG", manage_stock=True, stock_quantity=0)
    return fake


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "connector.toml"
    path.write_text(CONFIG.format(schedule="*/10 * * * *"))
    return path


def test_a_bad_schedule_is_a_config_error_naming_the_key(tmp_path):
    path = tmp_path / "connector.toml"
    path.write_text(CONFIG.format(schedule="every blue moon"))
    with pytest.raises(ConfigError, match=r"stores\[0\]\.schedule: 'every blue moon'"):
        load(path)


async def test_check_says_what_to_fix(config_path, fake):
    config = load(config_path)
    [ok] = await check_stores(config, config.stores, ENV, {"shop": fake.transport()})
    assert ok.ok
    [refused] = await check_stores(
        config, config.stores, {**ENV, "SHOP_SECRET": "cs_wrong"}, {"shop": fake.transport()}
    )
    assert not refused.ok and "SHOP_SECRET" in refused.problem and "cs_wrong" not in refused.problem
    [unset] = await check_stores(config, config.stores, {}, {"shop": fake.transport()})
    assert not unset.ok and "SHOP_KEY" in unset.problem


async def test_status_and_history_read_the_state_file(config_path, fake, capsys):
    config = load(config_path)
    state = StateStore(config.state_path, now=lambda: FIXED_NOW.isoformat(timespec="seconds"))
    [run] = await resync(
        config, state=state, clock=lambda: FIXED_NOW, environ=ENV, transports={"shop": fake.transport()}
    )
    state.close()

    assert main(["--config", str(config_path), "status", "--json"], clock=pinned) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert (row["store"], row["outcome"], row["counts"]) == ("shop", "ok", {"out_of_stock": 1})
    assert row["seconds"] == round(run.seconds, 3)  # as measured, not from whole-second timestamps
    assert row["next_run"] is not None and row["last_error"] is None
    assert not row["overdue"], "the command's clock is the pinned one: the pass just ran"

    assert main(["--config", str(config_path), "history", "MUG"], clock=pinned) == 0
    out = capsys.readouterr().out
    assert "sold out" in out and "out_of_stock" in out and "written" in out

    assert main(["--config", str(config_path), "history", "NOPE"], clock=pinned) == 0
    assert "no recorded decisions" in capsys.readouterr().out


def test_status_before_any_run_creates_no_state_file(config_path, capsys):
    assert main(["--config", str(config_path), "status"], clock=pinned) == 0
    assert "never run" in capsys.readouterr().out
    assert not (config_path.parent / "state.sqlite").exists()


async def test_check_finds_a_read_only_key_without_writing_anything(config_path, fake):
    config = load(config_path)
    read_only = FakeWooCommerce(
        base_url="https://shop.test",
        consumer_key=ENV["SHOP_KEY"],
        consumer_secret=ENV["SHOP_SECRET"],
        key_permissions="read",
        timezone=ZoneInfo("Europe/Berlin"),
    )
    read_only.create_product(name="Mug", sku="MUG", manage_stock=True, stock_quantity=0)
    before = read_only.get_product(next(iter(read_only.products)))["date_modified_gmt"]
    [result] = await check_stores(config, config.stores, ENV, {"shop": read_only.transport()})
    assert not result.ok
    assert "does not have write permissions" in result.problem and "Read/Write" in result.problem
    assert read_only.get_product(next(iter(read_only.products)))["date_modified_gmt"] == before
    # With write permission the same probe saves nothing either.
    saved = {n: fake.get_product(n)["date_modified_gmt"] for n in fake.products}
    [ok] = await check_stores(config, config.stores, ENV, {"shop": fake.transport()})
    assert ok.ok and {n: fake.get_product(n)["date_modified_gmt"] for n in fake.products} == saved
    # The WordPress index (home URL, timezone), a product, an order, then the empty batch.
    assert [method for method, _, _ in fake.requests] == ["GET", "GET", "GET", "POST"]


SHOPIFY_CONFIG = """
[[stores]]
name = "us"
platform = "shopify"
shop = "us-shop.myshopify.com"
token_env = "US_TOKEN"
notify = {{ enabled = {notify} }}
"""


@pytest.mark.parametrize(
    ("granted", "notify", "missing"),
    [
        ({"read_products", "write_products", "read_inventory", "read_orders", "read_locations"}, False, None),
        ({"write_products", "read_inventory", "read_orders", "read_locations"}, False, None),  # write implies read
        ({"write_products", "read_orders", "read_locations"}, False, "read_inventory"),
        ({"write_products", "read_inventory", "read_orders", "read_locations"}, True, "write_orders"),
        ({"write_products", "read_inventory", "write_orders", "read_locations"}, True, None),
    ],
)
async def test_check_names_each_shopify_access_scope_the_token_lacks(tmp_path, granted, notify, missing):
    from stockstatus.adapters.shopify.fake import FakeShopify

    shop = FakeShopify("us-shop.myshopify.com", scopes=granted)
    path = tmp_path / "connector.toml"
    path.write_text(SHOPIFY_CONFIG.format(notify=str(notify).lower()))
    config = load(path)
    [result] = await check_stores(config, config.stores, {"US_TOKEN": shop.access_token}, {"us": shop.transport()})
    if missing is None:
        assert result.ok, result.problem
    else:
        assert not result.ok and f"lacks the access scope(s) {missing} " in result.problem
        assert "Configuration" in result.problem


def store_at(home: str, timezone: str, gmt_offset: object = 0):
    """A WooCommerce store at https://shop.test that answers the check's requests, with its WordPress index."""
    import httpx

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/wp-json/":
            body = {"home": home, "url": home, "timezone_string": timezone, "gmt_offset": gmt_offset}
            return httpx.Response(200, json=body)
        return httpx.Response(200, json=[])

    return httpx.MockTransport(answer)


@pytest.mark.parametrize(
    ("theirs", "offset", "fix"),
    [
        ("America/New_York", -5, 'set timezone = "America/New_York"'),
        ("", 2, 'set timezone = "Etc/GMT-2"'),
        ("", 0, 'set timezone = "UTC"'),
    ],
)
async def test_check_names_the_timezone_key_when_the_store_keeps_another_calendar(config_path, theirs, offset, fix):
    config = load(config_path)  # timezone = "Europe/Berlin"
    [result] = await check_stores(
        config, config.stores, ENV, {"shop": store_at("https://shop.test", theirs, offset)}, clock=lambda: FIXED_NOW
    )
    assert not result.ok
    assert (
        f"the store's timezone is {theirs or f'UTC+{offset}'}" in result.problem and "Europe/Berlin" in result.problem
    )
    assert fix in result.fix


async def test_check_accepts_a_timezone_with_the_same_calendar(config_path):
    config = load(config_path)
    for same in ("Europe/Berlin", "Europe/Paris"):
        [result] = await check_stores(config, config.stores, ENV, {"shop": store_at("https://shop.test", same)})
        assert result.ok, result


async def test_check_names_a_stores_own_timezone_key(tmp_path):
    path = tmp_path / "connector.toml"
    path.write_text(
        CONFIG.format(schedule="*/10 * * * *").replace(
            'secret_env = "SHOP_SECRET"\n', 'secret_env = "SHOP_SECRET"\ntimezone = "Asia/Tokyo"\n'
        )
    )
    config = load(path)
    [result] = await check_stores(config, config.stores, ENV, {"shop": store_at("https://shop.test", "UTC")})
    assert 'set stores[0].timezone = "UTC"' in result.fix


async def test_check_names_the_url_to_use_for_a_store_elsewhere(config_path):
    config = load(config_path)  # url = "https://shop.test"
    [result] = await check_stores(
        config, config.stores, ENV, {"shop": store_at("https://www.shop.test", "Europe/Berlin")}
    )
    assert not result.ok and 'set url = "https://www.shop.test"' in result.problem
    assert "stores[0].url" in result.fix
