"""Rails against mass changes, and listings that are not believed, driven through `connector`
and the daemon as an operator meets them."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from stockstatus.adapters.woocommerce.fake import FakeWooCommerce
from stockstatus.core.config import Rails, from_mapping
from stockstatus.core.daemon import Daemon
from stockstatus.core.model import Item, Shown
from stockstatus.core.state import StateStore
from stockstatus.core.sync import Sources, resync, run_store
from stockstatus.core.sync.rails import over_rails, shrank, tally
from stockstatus.rules.model import Decision, Status
from tests.conftest import due_now
from tests.loopback_shop import ENV, Shop, passes, seed, serve_shop, wait_for


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Shop]:
    with serve_shop(tmp_path, monkeypatch) as served:
        yield served


MUGS = [f"MUG-{n}" for n in range(18)]


def test_a_first_pass_that_agrees_with_the_store_is_not_held(shop: Shop, capsys):
    # Every item is written (the connector's fields are new to the store), but no shown status changes.
    assert shop.cli("resync") == 0
    assert set(shop.statuses().values()) == {"in_stock", "out_of_stock"}
    assert "HELD" not in capsys.readouterr().out


def test_a_rules_edit_that_flips_most_of_a_store_is_held_until_forced(shop: Shop, capsys):
    assert shop.cli("resync") == 0
    shop.write_config(condition="tags_none")  # one word changed: every mug is now "discontinued"
    capsys.readouterr()

    assert shop.cli("resync") == 1
    out = capsys.readouterr().out
    assert "held before writing" in out
    assert "change the status of 20 of 20 items (100%)" in out and "turn 18 of 20 items (90%) out of stock" in out
    assert "max_changed_share 30%" in out and "max_out_of_stock_share 20%" in out
    assert "connector resync --store shop --force" in out
    assert all(shop.statuses()[sku] == "in_stock" for sku in MUGS)  # nothing was written

    assert shop.cli("status") == 0
    out = capsys.readouterr().out
    assert "HELD since" in out and "(what the held pass decided; not written)" in out

    # A dry run says what the rails would say, and holds nothing more.
    assert shop.cli("resync", "--dry-run") == 0
    out = capsys.readouterr().out
    assert "the rails would hold this pass" in out and "out_of_stock" in out

    assert shop.cli("resync", "--force", "--json") == 0
    [run] = json.loads(capsys.readouterr().out)["runs"]
    assert run["forced"] and run["outcome"] == "ok" and run["written"] == 20
    assert all(shop.statuses()[sku] == "out_of_stock" for sku in MUGS)
    assert shop.cli("status", "--json") == 0
    assert json.loads(capsys.readouterr().out)[0]["holds"] == []


def test_the_limits_are_the_operators_to_set(shop: Shop, capsys):
    shop.write_config(extra="[rails]\nmin_items = 2\n")
    assert shop.cli("resync") == 0
    for product_id in shop.ids[:5]:  # 5 of 20 turned out of stock: 25 %, over the default 20 %
        shop.fake.update_product(product_id, tags=["discontinued"])
    capsys.readouterr()
    assert shop.cli("resync", "--json") == 1
    assert json.loads(capsys.readouterr().out)["runs"][0]["outcome"] == "held"

    shop.write_config(extra="[rails]\nmin_items = 2\nmax_out_of_stock_share = 0.3\n")
    assert shop.cli("resync") == 0  # within the new limit: it writes, and the hold is lifted
    capsys.readouterr()
    assert [shop.statuses()[f"MUG-{n}"] for n in range(6)] == ["out_of_stock"] * 5 + ["in_stock"]
    assert shop.cli("status", "--json") == 0
    assert json.loads(capsys.readouterr().out)[0]["holds"] == []


def test_a_small_shop_is_never_held_for_one_edit(tmp_path, capsys, monkeypatch):
    # Below min_items changes no rail applies: in a shop of four, one edit is 25 %.
    fake = FakeWooCommerce(
        base_url="https://shop.test", consumer_key=ENV["SHOP_KEY"], consumer_secret=ENV["SHOP_SECRET"]
    )
    seed(fake, in_stock=3, discontinued=1)
    config = from_mapping(
        {
            "stores": [
                {
                    "name": "shop",
                    "platform": "woocommerce",
                    "url": "https://shop.test",
                    "key_env": "SHOP_KEY",
                    "secret_env": "SHOP_SECRET",
                }
            ],
            "rules": [{"name": "all", "when": {"tags_none": ["discontinued"]}, "then": {"status": "out_of_stock"}}],
        },
        path=tmp_path / "c.toml",
        base_dir=tmp_path,
    )
    state = StateStore(":memory:")
    [run] = asyncio.run(resync(config, state=state, environ=ENV, transports={"shop": fake.transport()}))
    assert run.outcome == "ok" and run.written == 3  # 3 of 4 items turned out of stock


@pytest.mark.parametrize(
    ("value", "key"),
    [("max_changed_share = 1.5", "rails.max_changed_share"), ("min_items = -1", "rails.min_items")],
)
def test_bad_rail_settings_name_the_key(shop: Shop, capsys, value, key):
    shop.write_config(extra=f"[rails]\n{value}\n")
    assert shop.cli("rules", "check") == 2
    assert key in capsys.readouterr().err


async def test_the_daemon_holds_the_store_logs_once_and_waits_for_the_operator(shop: Shop, caplog):
    caplog.set_level(logging.INFO)
    daemon = Daemon(shop.config, ENV)
    serving = asyncio.create_task(daemon.serve())
    try:
        await wait_for(lambda: daemon.runs >= 1)
        assert shop.statuses()["MUG-0"] == "in_stock"

        shop.write_config(condition="tags_none")  # saved while the daemon runs
        await wait_for(lambda: any(p.outcome == "held" for p in daemon.passes))
        await passes(daemon, 3)  # later runs wait for the operator
        assert caplog.text.count("waiting for the operator") == 1
        assert all(shop.statuses()[sku] == "in_stock" for sku in MUGS)

        assert shop.cli("resume", "shop") == 0  # the operator looked, and lets it through
        # The command sets up its own log handler, as it does when run from a shell: put pytest's back.
        logging.getLogger().handlers.append(caplog.handler)
        logging.getLogger().setLevel(logging.INFO)
        due_now(daemon, "store:shop")
        await wait_for(lambda: all(shop.statuses()[sku] == "out_of_stock" for sku in MUGS), seconds=15)
        await wait_for(lambda: "passes resumed" in caplog.text)
    finally:
        daemon.stop()
        assert await asyncio.wait_for(serving, 10) == 0


# ---- suspicious reads ------------------------------------------------------------------------


def test_an_empty_listing_fails_the_pass_and_keeps_the_bookmark(shop: Shop, capsys):
    assert shop.cli("resync") == 0
    state = StateStore(shop.config.parent / "state.sqlite")
    bookmark = state.bookmarks.get("shop")
    state.close()
    shop.empty_listing = True
    capsys.readouterr()

    assert shop.cli("resync") == 1
    out = capsys.readouterr().out
    assert "the listing has 0 items where the last full pass" in out and "read 20" in out
    assert "no count to confirm it" in out and "--force" in out
    state = StateStore(shop.config.parent / "state.sqlite")
    assert state.bookmarks.get("shop") == bookmark
    state.close()

    assert shop.cli("status") == 0
    assert "last error" in capsys.readouterr().out

    # The operator accepts a genuine emptying; the passes after it compare with the new size.
    assert shop.cli("resync", "--force") == 0
    assert shop.cli("resync") == 0


class _Counting:
    """A store whose listing lost most items, and whose own count says `count`."""

    def __init__(self, items: list[Item], count: int | None) -> None:
        from stockstatus.core.platform import Capabilities

        self.capabilities = Capabilities(max_batch=100, writes_stock_status=True)
        self.items = items
        self.count = count

    async def check(self) -> None: ...

    async def pull_items(self) -> list[Item]:
        return self.items

    async def open_orders(self) -> list:
        return []

    def plan(self, item, decision):
        return {} if item.shown.status is decision.status else {"status": decision.status.value}

    async def push(self, updates):
        from stockstatus.core.model import WriteResult

        return [WriteResult(u.item.key, ok=True) for u in updates]

    async def count_items(self) -> int | None:
        return self.count


@pytest.mark.parametrize(("count", "outcome"), [(3, "ok"), (40, "failed"), (None, "failed")])
async def test_a_shrink_stands_only_when_the_stores_own_count_confirms_it(tmp_path, count, outcome):
    config = from_mapping(
        {
            "stores": [
                {"name": "shop", "platform": "woocommerce", "url": "https://x.test", "key_env": "K", "secret_env": "S"}
            ]
        },
        path=tmp_path / "c.toml",
        base_dir=tmp_path,
    )
    [store] = config.stores
    state = StateStore(":memory:")
    clock = lambda: datetime(2026, 11, 22, 10, tzinfo=UTC)  # noqa: E731
    many = [Item(str(n), f"S{n}", f"n{n}", True, 5, shown=Shown(Status.IN_STOCK)) for n in range(40)]
    first = await run_store(store, _Counting(many, 40), sources=Sources(), state=state, clock=clock)
    assert first.outcome == "ok"
    second = await run_store(store, _Counting(many[:3], count), sources=Sources(), state=state, clock=clock)
    assert second.outcome == outcome
    if outcome == "failed":
        assert "has 3 items where the last full pass" in (second.error or "")


def test_rail_arithmetic():
    rails = Rails()
    d = Decision(status=Status.OUT_OF_STOCK, rule="r")
    assert over_rails(tally([(Status.IN_STOCK, d)] * 10, 100), rails) is None  # 10 %: within both
    assert "out of stock" in (over_rails(tally([(Status.IN_STOCK, d)] * 21, 100), rails) or "")
    assert over_rails(tally([(Status.OUT_OF_STOCK, d)] * 90, 100), rails) is None  # no change at all
    assert shrank(20, 0, rails) and shrank(20, 9, rails) and not shrank(20, 10, rails) and not shrank(4, 1, rails)
    assert not shrank(0, 0, rails)


async def test_a_genuine_shrink_on_shopify_stands_because_the_shops_own_count_confirms_it(tmp_path):
    from stockstatus.adapters.shopify.fake import FakeShopify

    fake = FakeShopify("rails-shop.myshopify.com", access_token="shpat_" + "c" * 32)
    fake.add_location("Warehouse")
    for n in range(20):
        fake.create_product(f"Mug {n}", variants=[{"sku": f"MUG-{n}", "stock": 5}])
    store = {"name": "shop", "platform": "shopify", "shop": "rails-shop.myshopify.com", "token_env": "TOKEN"}
    config = from_mapping({"stores": [store]}, path=tmp_path / "c.toml", base_dir=tmp_path)
    environ, transports = {"TOKEN": fake.access_token}, {"shop": fake.transport()}
    state = StateStore(":memory:")
    [first] = await resync(config, state=state, environ=environ, transports=transports)
    assert first.outcome == "ok" and first.items == 20

    for variant in list(fake.variants.values())[:15]:  # the merchant deletes most of the range
        fake.delete_variant(variant)
    [second] = await resync(config, state=state, environ=environ, transports=transports)
    assert second.outcome == "ok" and second.items == 5


def test_the_examples_rails_table_uncommented_loads_and_shows_the_defaults(tmp_path):
    import re

    from stockstatus.core.config import load

    text = (Path(__file__).resolve().parents[1] / "config.example.toml").read_text()
    text = text.replace("# [rails]\n", "[rails]\n")
    text, shown = re.subn(r"^# (max_\w+_share|min_items) ", r"\1 ", text, flags=re.M)
    assert shown == 4
    (tmp_path / "connector.toml").write_text(text)
    assert load(tmp_path / "connector.toml").stores[0].rails == Rails()


def test_a_stores_own_rails_replace_the_files(shop: Shop, capsys):
    assert shop.cli("resync") == 0
    shop.write_config(condition="tags_none", extra="[rails]\nmax_changed_share = 0.1\n")
    text = shop.config.read_text().replace(
        'schedule = "every 1s"\n',
        'schedule = "every 1s"\nrails = { max_changed_share = 1.0, max_out_of_stock_share = 1.0 }\n',
    )
    shop.config.write_text(text)
    assert shop.cli("resync") == 0  # this store may change everything at once
    assert all(shop.statuses()[sku] == "out_of_stock" for sku in MUGS)
