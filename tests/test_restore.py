"""`connector restore` and the takeover plan, on both platforms' sandboxes (the fakes behind httpx).

A merchant who stops using the connector gets back what the store held before its first write:
backorder settings and Shopify inventory policies, the meta keys / metafields it added (deleted
again), the tags it added or removed, except where the merchant edited a field since.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest

from stockstatus.adapters.shopify.fake import FakeShopify
from stockstatus.adapters.shopify.fake import seed as seed_shopify
from stockstatus.adapters.shopify.fake.records import gid
from stockstatus.adapters.woocommerce.fake import FakeWooCommerce
from stockstatus.adapters.woocommerce.fake import seed as seed_woocommerce
from stockstatus.core import catalogue, demo, report
from stockstatus.core.config import Config, from_mapping
from stockstatus.core.outcomes import RunOutcome
from stockstatus.core.state import HoldKind, StateStore
from stockstatus.core.sync import StoreRun, resync
from stockstatus.core.sync.restore import Fate, StoreRestore, restore_store
from tests.cli_shop import Shop as CliShop
from tests.cli_shop import in_days, run_cli, shop_fixture  # noqa: F401 - the fixture `shop`
from tests.conftest import FIXED_NOW

STORE = "shop"


class Sandbox(Protocol):
    def settings(self) -> dict[str, Any]: ...
    def transport(self) -> httpx.AsyncBaseTransport: ...
    def snapshot(self) -> dict[str, Any]: ...
    def edit(self, sku: str, field: str, value: str) -> None: ...


@dataclass
class WooSandbox:
    fake: FakeWooCommerce

    @classmethod
    def make(cls) -> WooSandbox:
        fake = FakeWooCommerce(base_url="https://restore-test.example", consumer_key="ck_" + "a" * 40)
        seed_woocommerce(fake, catalogue.demo(FIXED_NOW.date()))
        return cls(fake)

    def settings(self) -> dict[str, Any]:
        return {"url": self.fake.base_url, "key_env": "WC_KEY", "secret_env": "WC_SECRET"}

    def environ(self) -> dict[str, str]:
        return {"WC_KEY": self.fake.consumer_key, "WC_SECRET": self.fake.consumer_secret}

    def transport(self) -> httpx.AsyncBaseTransport:
        return self.fake.transport()

    def snapshot(self) -> dict[str, Any]:
        """Every product's and variation's selling fields and meta, as the store holds them."""
        records = [("p", p) for p in self.fake.products.values()] + [("v", v) for v in self.fake.variations.values()]
        return {
            f"{kind}{r['id']}": (
                r.get("stock_status"),
                r.get("backorders"),
                {m["key"]: m["value"] for m in r.get("meta_data") or ()},
            )
            for kind, r in records
        }

    def edit(self, sku: str, field: str, value: str) -> None:
        [product] = [p for p in self.fake.products.values() if p.get("sku") == sku]
        key = field.removeprefix("meta:")
        change = {"meta_data": [{"key": key, "value": value}]} if field.startswith("meta:") else {field: value}
        self.fake.update_product(int(product["id"]), **change)


@dataclass
class ShopifySandbox:
    fake: FakeShopify

    @classmethod
    def make(cls) -> ShopifySandbox:
        fake = FakeShopify("restore-test.myshopify.com", access_token="shpat_" + "c" * 32, plan="plus")
        seed_shopify(fake, catalogue.demo(FIXED_NOW.date()))
        return cls(fake)

    def settings(self) -> dict[str, Any]:
        # Status tags too: the connector adds and removes product tags, which restore must undo.
        return {"shop": self.fake.shop, "token_env": "SHOP_TOKEN", "tags": {"backorder": "backorder"}}

    def environ(self) -> dict[str, str]:
        return {"SHOP_TOKEN": self.fake.access_token}

    def transport(self) -> httpx.AsyncBaseTransport:
        return self.fake.transport()

    def snapshot(self) -> dict[str, Any]:
        """Every variant's policy and metafields, and every product's tags."""
        variants = {
            f"v{v.id}": (
                v.inventory_policy,
                {
                    f"{m.namespace}.{m.key}": m.value
                    for (owner, _, _), m in self.fake.metafields.items()
                    if owner == gid("ProductVariant", v.id)
                },
            )
            for v in self.fake.variants.values()
        }
        products = {f"p{p.id}": sorted(p.tags) for p in self.fake.products.values()}
        return {**variants, **products}

    def edit(self, sku: str, field: str, value: str) -> None:
        [variant] = [v for v in self.fake.variants.values() if v.sku == sku]
        if field == "inventoryPolicy":
            variant.inventory_policy = value
        else:
            kind = "date" if field.endswith(".eta") else "single_line_text_field"
            self.fake.put_metafield(gid("ProductVariant", variant.id), field.removeprefix("metafield:"), kind, value)


@dataclass
class Setup:
    sandbox: WooSandbox | ShopifySandbox
    config: Config
    environ: dict[str, str]
    state: StateStore

    async def passes(self, dry_run: bool = False) -> StoreRun:
        [run] = await resync(
            self.config,
            dry_run=dry_run,
            state=self.state,
            clock=lambda: FIXED_NOW,
            environ=self.environ,
            transports={STORE: self.sandbox.transport()},
        )
        return run

    async def restore(self, *skus: str, dry_run: bool = False) -> StoreRestore:
        return await restore_store(
            self.config,
            store_name=STORE,
            skus=skus,
            dry_run=dry_run,
            state=self.state,
            environ=self.environ,
            transports={STORE: self.sandbox.transport()},
        )


@pytest.fixture(params=["woocommerce", "shopify"])
def setup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Setup]:
    sandbox: WooSandbox | ShopifySandbox = (
        WooSandbox.make() if request.param == "woocommerce" else ShopifySandbox.make()
    )
    raw = demo.demo_settings()
    raw["stores"] = [{"name": STORE, "platform": request.param, **sandbox.settings()}]
    config = from_mapping(raw, path=tmp_path / "connector.toml", base_dir=tmp_path)
    state = StateStore(tmp_path / "connector.sqlite")
    try:
        yield Setup(sandbox, config, sandbox.environ(), state)
    finally:
        state.close()


def _differs(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    return {key for key in before if before[key] != after.get(key)}


async def test_restore_after_passes_gives_back_exactly_what_the_store_held(setup: Setup):
    before = setup.sandbox.snapshot()
    first = await setup.passes()
    assert first.outcome is RunOutcome.OK and first.written > 0
    written = setup.sandbox.snapshot()
    assert _differs(before, written)
    assert (await setup.passes()).written == 0  # a second pass changes nothing and records nothing new

    result = await setup.restore()

    assert result.outcome is RunOutcome.OK
    assert result.count(Fate.RESTORED) > 0 and result.count(Fate.LEFT) == 0
    assert setup.sandbox.snapshot() == before
    # Paused until resumed: the daemon's next pass would write the connector's values again.
    assert result.paused and setup.state.holds.get(STORE, HoldKind.PAUSED) is not None
    assert (await setup.passes()).outcome is RunOutcome.PAUSED
    assert setup.sandbox.snapshot() == before
    # Everything restored is forgotten: a second restore has nothing to do.
    assert not setup.state.originals.recorded(STORE)


async def test_a_field_the_merchant_edited_since_is_kept_and_reported(setup: Setup):
    before = setup.sandbox.snapshot()
    await setup.passes()
    records = setup.state.originals.for_store(STORE)
    # A simple item whose message the connector wrote: the merchant rewrites it by hand.
    message = next(r for r in records if r.field.endswith("message") and r.last_written and r.sku and "-" in r.sku)
    try:
        setup.sandbox.edit(message.sku or "", message.field, "Merchant's own words")
    except ValueError:
        pytest.skip("the item is not a simple product")
    edited = setup.sandbox.snapshot()

    result = await setup.restore()

    [left] = [f for f in result.fields if f.result == Fate.LEFT]
    assert (left.sku, left.original.field, left.now) == (message.sku, message.field, "Merchant's own words")
    assert "changed since the connector wrote it" in (left.reason or "")
    after = setup.sandbox.snapshot()
    changed = _differs(before, after)
    # Only the item the merchant edited differs from before the connector, and only by that edit.
    assert len(changed) == 1
    [key] = changed
    assert after[key] == edited[key] or "Merchant's own words" in json.dumps(after[key])
    text = report.restore_text(result)
    assert f"{message.sku} {message.field.split(':', 1)[-1]} left: changed since the connector wrote it" in text
    assert "connector resume shop" in text


async def test_restore_of_some_skus_leaves_the_others_as_the_connector_set_them(setup: Setup):
    before = setup.sandbox.snapshot()
    await setup.passes()
    written = setup.sandbox.snapshot()
    records = setup.state.originals.for_store(STORE)
    sku = next(r.sku for r in records if r.sku and r.scope.value == "item")
    assert sku is not None

    result = await setup.restore(sku)

    assert {f.sku for f in result.fields} == {sku} and result.count(Fate.RESTORED) > 0
    after = setup.sandbox.snapshot()
    back = _differs(written, after)
    assert back and all(after[key] == before[key] for key in back)
    assert len(_differs(before, after)) == len(_differs(before, written)) - len(back)
    # The other SKUs stay recorded for a later restore.
    assert setup.state.originals.recorded(STORE)


async def test_an_unknown_sku_is_reported_and_fails_the_command(setup: Setup):
    await setup.passes()
    written = setup.sandbox.snapshot()
    result = await setup.restore("NO-SUCH-SKU")
    assert result.outcome is RunOutcome.FAILED and result.unknown_skus == ["NO-SUCH-SKU"]
    assert setup.sandbox.snapshot() == written
    assert "NO-SUCH-SKU: nothing recorded" in report.restore_text(result)


async def test_a_dry_run_restore_writes_nothing_and_does_not_pause(setup: Setup):
    await setup.passes()
    written = setup.sandbox.snapshot()

    result = await setup.restore(dry_run=True)

    assert result.count(Fate.PLANNED) > 0 and result.count(Fate.RESTORED) == 0
    assert setup.sandbox.snapshot() == written
    assert not result.paused and setup.state.holds.get(STORE, HoldKind.PAUSED) is None
    assert setup.state.originals.recorded(STORE)
    assert "dry run: nothing written" in report.restore_text(result)


async def test_a_store_with_nothing_recorded_has_nothing_to_restore(setup: Setup):
    before = setup.sandbox.snapshot()
    result = await setup.restore()
    assert result.outcome is RunOutcome.OK and result.fields == []
    assert setup.sandbox.snapshot() == before
    assert "nothing recorded" in report.restore_text(result)


async def test_the_takeover_plan_shows_what_the_first_pass_takes_over(setup: Setup):
    plan = await setup.passes(dry_run=True)

    assert plan.takeover is not None
    fields = {t.field: t for t in plan.takeover}
    policy = "inventoryPolicy" if "inventoryPolicy" in fields else "backorders"
    changes = fields[policy].changes
    # What the merchant has now → what the connector sets: the demo's sold-out items with a
    # restock due start selling past zero.
    assert changes and all(before is not None and before != after for before, after in changes)
    assert fields[policy].unchanged > 0
    new_fields = [t for t in plan.takeover if all(before is None for before, _ in t.changes)]
    assert new_fields  # the ETA/status fields the store never had
    text = report.run_text(plan)
    assert "takeover: no pass has written to this store yet" in text
    assert f"{policy} (" in text and "unchanged" in text and " new" in text

    # The plan matches what the first pass records as the original values.
    await setup.passes()
    recorded = {(r.field, r.original, r.last_written) for r in setup.state.originals.for_store(STORE)}
    assert {(policy, b, a) for b, a in changes} <= recorded

    assert (await setup.passes(dry_run=True)).takeover is None  # not once the connector has written


# ------------------------------------------------------------------------------------------
# The command, against a WooCommerce store on a loopback port


def test_the_restore_command_restores_reports_and_pauses(shop: CliShop, capsys: pytest.CaptureFixture[str]):
    shop.product("KTL-1", manage_stock=True, stock_quantity=0, meta_data=[{"key": "_restock_date", "value": ""}])
    shop.product("MUG-1", manage_stock=True, stock_quantity=0, backorders="notify")
    before = {sku: shop.read(sku) for sku in ("KTL-1", "MUG-1")}
    config = str(shop.config)
    plan = run_cli(capsys, "--config", config, "resync", "--dry-run")
    assert plan.code == 0 and "takeover: no pass has written to this store yet" in plan.out
    assert "backorders (2): 1 notify → no, 1 unchanged" in plan.out
    assert run_cli(capsys, "--config", config, "resync").code == 0
    assert shop.read("MUG-1")["backorders"] == "no"
    # The merchant writes the kettle's status meta by hand after the pass: restore keeps it.
    shop.fake.update_product(shop.ids["KTL-1"], meta_data=[{"key": "connector_status", "value": "mine"}])

    dry = run_cli(capsys, "--config", config, "restore", "--store", "eu-shop", "--dry-run", "--json")
    assert dry.code == 0
    planned = json.loads(dry.out)
    assert planned["dry_run"] and not planned["paused"]
    assert {(f["sku"], f["field"], f["result"]) for f in planned["fields"]} >= {
        ("MUG-1", "backorders", "would restore"),
        ("KTL-1", "meta:connector_status", "left"),
    }
    assert shop.read("MUG-1")["backorders"] == "no"

    done = run_cli(capsys, "--config", config, "restore", "--store", "eu-shop")
    assert done.code == 0, done.err
    assert "MUG-1" in done.out and "restored" in done.out
    assert "KTL-1" in done.out and "changed since the connector wrote it" in done.out
    assert "PAUSED: no pass writes to eu-shop until `connector resume eu-shop`" in done.out
    mug = shop.read("MUG-1")
    assert mug["backorders"] == before["MUG-1"]["backorders"] == "notify"
    assert {m["key"] for m in mug["meta_data"]} == {m["key"] for m in before["MUG-1"]["meta_data"]}
    assert shop.meta("KTL-1", "connector_status") == "mine"

    paused = run_cli(capsys, "--config", config, "resync")
    assert paused.code == 1 and "paused" in paused.out
    assert run_cli(capsys, "--config", config, "resume", "eu-shop").code == 0
    assert run_cli(capsys, "--config", config, "resync").code == 0
    assert shop.read("MUG-1")["backorders"] == "no"


def test_a_stock_pools_shared_backorders_are_restored_on_the_parent(shop: CliShop, capsys: pytest.CaptureFixture[str]):
    # Two sizes sell from the tee's one stock: the backorders the connector sets live on the parent.
    tee = shop.fake.create_product(
        name="Tee",
        type="variable",
        manage_stock=True,
        stock_quantity=0,
        backorders="no",
        attributes=[{"name": "Size", "options": ["S", "M"], "variation": True}],
        meta_data=[{"key": "restock_date", "value": in_days(10).isoformat()}],
    )
    sizes = {
        size: shop.fake.create_variation(
            tee["id"], sku=f"TEE-{size}", manage_stock=False, attributes=[{"name": "Size", "option": size}]
        )["id"]
        for size in ("S", "M")
    }
    config = str(shop.config)
    assert run_cli(capsys, "--config", config, "resync").code == 0
    assert shop.fake.get_product(tee["id"])["backorders"] == "notify"

    restored = run_cli(capsys, "--config", config, "restore", "--store", "eu-shop", "--sku", "TEE-M", "--json")

    assert restored.code == 0, restored.err
    fields = {(f["field"], f["on"], f["result"]) for f in json.loads(restored.out)["fields"]}
    assert ("parent_backorders", "parent", "restored") in fields
    assert ("meta:connector_status", "item", "restored") in fields
    assert shop.fake.get_product(tee["id"])["backorders"] == "no"
    # The shared field went back for both sizes; TEE-S keeps its own meta until it is restored too.
    small = shop.fake.get_variation(tee["id"], sizes["S"])
    medium = shop.fake.get_variation(tee["id"], sizes["M"])
    assert [m["key"] for m in medium["meta_data"]] == []
    assert "connector_status" in {m["key"] for m in small["meta_data"]}
    assert medium["stock_status"] == small["stock_status"] == "outofstock"


def test_the_restore_command_needs_a_store(shop: CliShop, capsys: pytest.CaptureFixture[str]):
    result = run_cli(capsys, "--config", str(shop.config), "restore")
    assert result.code == 64 and "--store" in result.err


SHOPIFY_CONFIG = """\
timezone = "Europe/Berlin"
state = "connector.sqlite"

[[stores]]
name = "us-shop"
platform = "shopify"
shop = "{shop}"
token_env = "US_SHOP_TOKEN"
tags = {{ backorder = "backorder" }}

[[rules]]
name = "backorder while a restock is due"
when = {{ available = "<= 0", eta_within_days = 30 }}
then = {{ status = "backorder", eta = "restock_date", message = "Ships by {{eta:%-d %B}}" }}
"""


def test_the_restore_command_on_a_shopify_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    from stockstatus.adapters.shopify.fake import sandbox

    fake = FakeShopify("us-shop.myshopify.com", access_token="shpat_" + "d" * 32, plan="plus")
    restock = (FIXED_NOW.date() + timedelta(days=10)).isoformat()
    fake.create_product(
        "Kettle",
        tags=["Kitchen"],
        variants=[{"sku": "KTL-1", "stock": 0, "metafields": {"custom.restock_date": ("date", restock)}}],
    )
    fake.create_product("Mug", variants=[{"sku": "MUG-1", "stock": 0, "inventory_policy": "CONTINUE"}])
    server = sandbox.serve(fake)
    try:
        address = f"127.0.0.1:{server.server_address[1]}"
        fake.base_url = f"http://{address}"
        config = tmp_path / "connector.toml"
        config.write_text(SHOPIFY_CONFIG.format(shop=address), encoding="utf-8")
        monkeypatch.setenv("US_SHOP_TOKEN", fake.access_token)
        before = ShopifySandbox(fake).snapshot()

        assert run_cli(capsys, "--config", str(config), "resync").code == 0
        kettle = next(p for p in fake.products.values() if p.title == "Kettle")
        assert "backorder" in kettle.tags
        assert ShopifySandbox(fake).snapshot() != before

        result = run_cli(capsys, "--config", str(config), "restore", "--store", "us-shop", "--json")

        assert result.code == 0, result.err
        fields = {(f["sku"], f["field"], f["result"]) for f in json.loads(result.out)["fields"]}
        assert ("KTL-1", "tag:backorder", "restored") in fields
        assert ("MUG-1", "inventoryPolicy", "restored") in fields
        assert ShopifySandbox(fake).snapshot() == before
        assert run_cli(capsys, "--config", str(config), "resync").code == 1  # paused
    finally:
        server.shutdown()
        server.server_close()


def test_a_store_that_cannot_be_read_gets_no_restore_writes(
    shop: CliShop, capsys: pytest.CaptureFixture[str], no_backoff: list[float]
):
    shop.product("MUG-1", manage_stock=True, stock_quantity=0, backorders="notify")
    config = str(shop.config)
    assert run_cli(capsys, "--config", config, "resync").code == 0
    shop.fake.requests.clear()
    shop.fake.fail_next(503, times=50)

    result = run_cli(capsys, "--config", config, "restore", "--store", "eu-shop")

    assert result.code == 1
    assert "could not be read, nothing was written" in result.out
    assert shop.fake.write_requests == [] and no_backoff  # retried, then gave up without writing
    assert shop.read("MUG-1")["backorders"] == "no"
    # Still paused (nothing restored, but the operator asked the connector to stop), and still recorded.
    assert "PAUSED" in result.out


def test_a_fields_original_is_kept_from_its_first_write_while_the_last_value_moves(tmp_path: Path):
    from stockstatus.core.state import FieldRecord, Scope

    state = StateStore(tmp_path / "state.sqlite")
    try:
        first = FieldRecord(Scope.ITEM, "10", "backorders", "MUG-1", "no", "notify")
        state.record(1, STORE, fields=[first, FieldRecord(Scope.ITEM, "10", "meta:eta", "MUG-1", None, "2026-12-20")])
        state.record(2, STORE, fields=[FieldRecord(Scope.ITEM, "10", "backorders", "MUG-1", "notify", "yes")])
        recorded = {o.field: (o.original, o.last_written) for o in state.originals.for_store(STORE)}
        assert recorded == {"backorders": ("no", "yes"), "meta:eta": (None, "2026-12-20")}
        assert state.has_written(STORE) and not state.has_written("other")
        state.originals.forget(STORE, [o for o in state.originals.for_store(STORE) if o.field == "backorders"])
        assert [o.field for o in state.originals.for_store(STORE)] == ["meta:eta"]
    finally:
        state.close()
