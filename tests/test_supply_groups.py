"""Two stores sharing one warehouse: a WooCommerce and a Shopify store selling the same SKUs from one
purchase-order file, decided as one supply group."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from stockstatus.adapters.shopify.fake import FakeShopify
from stockstatus.adapters.shopify.fake.sandbox import serve as serve_shopify
from stockstatus.adapters.woocommerce.fake import FakeWooCommerce
from stockstatus.adapters.woocommerce.fake import serve as serve_woocommerce
from stockstatus.core.config import Config, from_mapping
from stockstatus.core.daemon import Daemon
from stockstatus.core.errors import ConfigError
from stockstatus.core.explain import as_dict, explain_sku, text
from stockstatus.core.state import StateStore
from stockstatus.core.sync import StoreRun, resync
from tests.cli_shop import run_cli
from tests.conftest import FIXED_NOW, MovingClock, due_now
from tests.loopback_shop import wait_for

TODAY = FIXED_NOW.date()  # 2026-11-22 in Berlin
FIRST, SECOND = TODAY + timedelta(days=10), TODAY + timedelta(days=30)
RULES = [
    {
        "name": "backorder while a shipment is due",
        "when": {"available": "<= 0", "eta_within_days": 60},
        "then": {"status": "backorder", "eta": "supply", "cap": "incoming"},
    },
    {"name": "sold out", "when": {"available": "<= 0"}, "then": {"status": "out_of_stock"}},
]
ENV = {"EU_KEY": "ck_" + "a" * 40, "EU_SECRET": "cs_" + "b" * 40, "US_TOKEN": "shpat_" + "c" * 32}
US_SHOP = "us-shop.myshopify.com"


@dataclass
class Warehouse:
    """Two sandbox stores on one clock, one purchase-order file, and the config that groups them."""

    tmp_path: Path
    state: StateStore
    clock: MovingClock = field(default_factory=MovingClock)
    woo: FakeWooCommerce = field(init=False)
    shop: FakeShopify = field(init=False)
    woo_ids: dict[str, int] = field(default_factory=dict)
    shop_ids: dict[str, int] = field(default_factory=dict)
    shop_orders: dict[str, int] = field(default_factory=dict)
    woo_orders: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.woo = FakeWooCommerce(
            base_url="https://eu.test", consumer_key=ENV["EU_KEY"], consumer_secret=ENV["EU_SECRET"], now=self.clock
        )
        self.shop = FakeShopify(US_SHOP, access_token=ENV["US_TOKEN"], now=self.clock)

    def sell_everywhere(self, sku: str) -> None:
        self.woo_ids[sku] = self.woo.create_product(name=sku, sku=sku, manage_stock=True, stock_quantity=0)["id"]
        product = self.shop.create_product(sku, variants=[{"sku": sku, "stock": 0}])
        self.shop_ids[sku] = product.variant_ids[0]

    def order_woo(self, name: str, sku: str, units: int, days_ago: float) -> None:
        line = {"product_id": self.woo_ids[sku], "quantity": units}
        order = self.woo.create_order(status="processing", set_paid=True, line_items=[line])
        self.woo.set_order_date(order["id"], FIXED_NOW - timedelta(days=days_ago))
        self.woo_orders[name] = order["id"]

    def order_shop(self, name: str, sku: str, units: int, days_ago: float) -> None:
        placed = self.shop.create_order([(self.shop_ids[sku], units)], created_at=FIXED_NOW - timedelta(days=days_ago))
        self.shop_orders[name] = placed.id

    def purchase_orders(self, *lines: tuple[str, int, date]) -> Path:
        path = self.tmp_path / "incoming.csv"
        rows = [f"{sku},{units},{day.isoformat()},Acme,PO-{n}" for n, (sku, units, day) in enumerate(lines, start=1)]
        path.write_text("sku,quantity,expected_date,supplier,reference\n" + "\n".join(rows) + "\n")
        return path

    def config(self, *, grouped: bool = True, **extra: Any) -> Config:
        group = {"supply_group": "wh"} if grouped else {}
        data = {
            "timezone": "Europe/Berlin",
            "supply": {"purchase_orders": [str(self.tmp_path / "incoming.csv")], "handling_days": 0},
            "stores": [
                {
                    "name": "eu-shop",
                    "platform": "woocommerce",
                    "url": "https://eu.test",
                    "key_env": "EU_KEY",
                    "secret_env": "EU_SECRET",
                    **group,
                },
                {"name": "us-shop", "platform": "shopify", "shop": US_SHOP, "token_env": "US_TOKEN", **group},
            ],
            "rules": RULES,
            **extra,
        }
        return from_mapping(data, path=self.tmp_path / "connector.toml", base_dir=self.tmp_path)

    @property
    def transports(self) -> dict[str, Any]:
        return {"eu-shop": self.woo.transport(), "us-shop": self.shop.transport()}

    async def passes(self, config: Config | None = None, **kw: Any) -> dict[str, StoreRun]:
        runs = await resync(
            config or self.config(), state=self.state, clock=self.clock, environ=ENV, transports=self.transports, **kw
        )
        return {run.store: run for run in runs}

    def dates(self, run: StoreRun, sku: str) -> dict[str, date | None]:
        """Each of the run's orders for `sku` by the test's name for it, with its ship-by date."""
        names = {str(v): k for k, v in (self.woo_orders if run.store == "eu-shop" else self.shop_orders).items()}
        [change] = [c for c in run.changes if c.item.sku == sku]
        return {names[o.order_id]: o.ships_by for o in change.decision.order_etas}


@pytest.fixture
def warehouse(tmp_path, state) -> Warehouse:
    house = Warehouse(tmp_path, state)
    house.sell_everywhere("KTL-1")
    # Orders interleaved in time across the two stores: 12 units wait in all.
    house.order_woo("eu-1", "KTL-1", 3, days_ago=5)
    house.order_shop("us-1", "KTL-1", 4, days_ago=4)
    house.order_woo("eu-2", "KTL-1", 2, days_ago=3)
    house.order_shop("us-2", "KTL-1", 3, days_ago=2)
    # 10 units in ten days cover part of the combined queue; 5 more in thirty days.
    house.purchase_orders(("KTL-1", 10, FIRST), ("KTL-1", 5, SECOND))
    return house


def decision(run: StoreRun, sku: str) -> Any:
    [change] = [c for c in run.changes if c.item.sku == sku]
    return change.decision


async def test_a_shipment_is_allocated_once_first_in_first_out_across_both_stores(warehouse):
    runs = await warehouse.passes()
    eu, us = runs["eu-shop"], runs["us-shop"]
    assert eu.outcome == "ok" and us.outcome == "ok"
    # The first 10 units go to eu-1 (3), us-1 (4), eu-2 (2) and one unit of us-2, in order time.
    assert warehouse.dates(eu, "KTL-1") == {"eu-1": FIRST, "eu-2": FIRST}
    assert warehouse.dates(us, "KTL-1") == {"us-1": FIRST, "us-2": SECOND}
    [late] = decision(us, "KTL-1").order_etas[1:]
    assert [(p.units, p.ships_by) for p in late.shipments] == [(1, FIRST), (2, SECOND)]
    # The next unit and the cap are the group's: the same whichever store is asked.
    for run in (eu, us):
        made = decision(run, "KTL-1")
        assert (made.status.value, made.eta, made.sell_limit) == ("backorder", SECOND, 15 - 12)


async def test_without_the_group_each_store_promises_the_same_shipment(warehouse):
    runs = await warehouse.passes(warehouse.config(grouped=False))
    eu, us = decision(runs["eu-shop"], "KTL-1"), decision(runs["us-shop"], "KTL-1")
    # What the group prevents: 5 + 7 waiting units, each store promised the first 10 and offering the rest.
    assert eu.eta == us.eta == FIRST
    assert eu.sell_limit + us.sell_limit + 12 > 15


async def test_an_order_cancelled_in_one_store_moves_the_other_stores_orders_up(warehouse):
    await warehouse.passes()
    warehouse.clock.advance(60)
    warehouse.shop.cancel_order(warehouse.shop_orders["us-1"], restock=True)
    runs = await warehouse.passes()
    # us-1's 4 units are free again: eu-2 and all of us-2 now fit in the first shipment.
    assert warehouse.dates(runs["us-shop"], "KTL-1") == {"us-2": FIRST}
    # eu-shop's orders were in the first shipment already; its next unit moves up to it too.
    eu = decision(runs["eu-shop"], "KTL-1")
    assert (eu.eta, eu.sell_limit) == (FIRST, 15 - 8)
    assert warehouse.dates(runs["eu-shop"], "KTL-1") == {"eu-1": FIRST, "eu-2": FIRST}
    # 8 waiting and 10 coming: the next unit is covered by the first shipment, in both stores.
    assert decision(runs["us-shop"], "KTL-1").eta == FIRST


async def test_a_store_of_the_group_that_cannot_be_read_makes_the_shared_skus_wait(warehouse):
    warehouse.woo_ids["MUG-1"] = warehouse.woo.create_product(
        name="Mug", sku="MUG-1", manage_stock=True, stock_quantity=0
    )["id"]
    first = await warehouse.passes()  # both stores read: eu-shop knows what us-shop sells
    assert decision(first["eu-shop"], "MUG-1").status.value == "out_of_stock"
    kettle = warehouse.woo.get_product(warehouse.woo_ids["KTL-1"])
    before = {m["key"]: m["value"] for m in kettle["meta_data"]}

    warehouse.clock.advance(60)
    warehouse.shop.revoke(ENV["US_TOKEN"])  # us-shop now refuses the connector
    warehouse.order_woo("eu-3", "KTL-1", 5, days_ago=0)
    warehouse.purchase_orders(("KTL-1", 10, FIRST), ("KTL-1", 5, SECOND), ("MUG-1", 4, FIRST))
    runs = await warehouse.passes()
    eu = runs["eu-shop"]
    assert runs["us-shop"].outcome == "failed"
    assert eu.outcome == "ok"
    # The kettle waits: eu-3 is not promised the shipment on half the facts.
    [skipped] = [s for s in eu.skipped if s.item.sku == "KTL-1"]
    assert "supply group wh" in skipped.reason and "us-shop could not be read" in skipped.reason
    kettle = warehouse.woo.get_product(warehouse.woo_ids["KTL-1"])
    assert {m["key"]: m["value"] for m in kettle["meta_data"]} == before
    # A SKU only eu-shop sells is decided as usual.
    assert decision(eu, "MUG-1").status.value == "backorder"
    assert any("us-shop could not be read" in w and "1 item(s)" in w for w in eu.warnings)
    # What the operator sees in `connector status`: the skipped item and its reason.
    [skip] = [s for s in warehouse.state.skips.for_store("eu-shop") if s.sku == "KTL-1"]
    assert "us-shop could not be read" in skip.reason


class EmptyListing(httpx.AsyncBaseTransport):
    """A store whose product listing comes back empty (a cache or plugin gone wrong) once `on`."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner, self.on = inner, False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.on and request.method == "GET" and request.url.path.endswith("/products"):
            return httpx.Response(200, json=[], headers={"X-WP-Total": "0", "X-WP-TotalPages": "0"})
        return await self.inner.handle_async_request(request)


async def test_a_listing_of_another_store_that_is_not_believed_makes_the_shared_skus_wait(warehouse):
    for n in range(12):  # enough items for a shrunken listing to be doubted
        warehouse.woo.create_product(name=f"Mug {n}", sku=f"MUG-{n}", manage_stock=True, stock_quantity=3)
    woo = EmptyListing(warehouse.woo.transport())
    transports = {"eu-shop": woo, "us-shop": warehouse.shop.transport()}
    config = warehouse.config()

    async def passes() -> dict[str, StoreRun]:
        runs = await resync(config, state=warehouse.state, clock=warehouse.clock, environ=ENV, transports=transports)
        return {run.store: run for run in runs}

    assert {run.outcome for run in (await passes()).values()} == {"ok"}
    warehouse.clock.advance(60)
    woo.on = True
    runs = await passes()
    assert runs["eu-shop"].outcome == "failed"  # its own pass does not believe the listing either
    [skipped] = runs["us-shop"].skipped
    assert skipped.item.sku == "KTL-1" and "eu-shop could not be read" in skipped.reason
    assert any("the listing has 0 items" in w for w in runs["us-shop"].warnings)


async def test_passes_of_both_stores_at_once_finish_and_agree(warehouse):
    config = warehouse.config()
    both = await asyncio.wait_for(
        asyncio.gather(
            warehouse.passes(config, store_name="eu-shop", wait=5),
            warehouse.passes(config, store_name="us-shop", wait=5),
        ),
        timeout=60,
    )
    runs = {name: run for one in both for name, run in one.items()}
    assert {run.outcome for run in runs.values()} == {"ok"}
    assert decision(runs["eu-shop"], "KTL-1").eta == decision(runs["us-shop"], "KTL-1").eta == SECOND


async def test_the_daemon_runs_both_stores_passes_side_by_side_without_waiting_on_each_other(warehouse, tmp_path):
    path = tmp_path / "connector.toml"
    path.write_text(
        'timezone = "Europe/Berlin"\nstate = "state.sqlite"\n'
        f'[supply]\npurchase_orders = ["incoming.csv"]\nhandling_days = 0\n'
        '[[stores]]\nname = "eu-shop"\nplatform = "woocommerce"\nurl = "https://eu.test"\nkey_env = "EU_KEY"\n'
        'secret_env = "EU_SECRET"\nschedule = "every 1h"\nsupply_group = "wh"\n'
        f'[[stores]]\nname = "us-shop"\nplatform = "shopify"\nshop = "{US_SHOP}"\ntoken_env = "US_TOKEN"\n'
        'schedule = "every 1h"\nsupply_group = "wh"\n'
        '[[rules]]\nname = "backorder while a shipment is due"\n'
        'when = { available = "<= 0", eta_within_days = 60 }\n'
        'then = { status = "backorder", eta = "supply", cap = "incoming" }\n'
    )
    daemon = Daemon(path, ENV, clock=warehouse.clock, transports=warehouse.transports)
    serving = asyncio.create_task(daemon.serve())
    await wait_for(lambda: daemon.runs >= 2)  # both stores' first passes, started together
    warehouse.clock.advance(15)
    warehouse.order_shop("us-3", "KTL-1", 1, days_ago=0)
    due_now(daemon, "store:eu-shop", "store:us-shop")  # due at the same moment
    await wait_for(lambda: daemon.runs >= 4)
    daemon.stop()
    assert await asyncio.wait_for(serving, 10) == 0
    assert {(p.mode, p.outcome) for p in daemon.passes} == {("full", "ok")}
    # 13 waiting against 15 coming: both stores show the second shipment as the next unit's date.
    after = StateStore(tmp_path / "state.sqlite")
    etas = {store: {a.eta for a in after.accepted.for_store(store).values()} for store in ("eu-shop", "us-shop")}
    after.close()
    assert etas == {"eu-shop": {SECOND.isoformat()}, "us-shop": {SECOND.isoformat()}}


async def test_explain_shows_the_other_stores_orders_in_the_timeline(warehouse):
    [explained] = await explain_sku(
        warehouse.config(),
        "KTL-1",
        store_name="eu-shop",
        state=warehouse.state,
        clock=warehouse.clock,
        environ=ENV,
        transports=warehouse.transports,
    )
    shown = text(explained)
    assert "supply group wh" in shown
    us_2 = str(warehouse.shop_orders["us-2"])
    [line] = [row for row in shown.splitlines() if f"order {us_2}" in row and "us-shop" in row]
    assert "in 2 shipments" in line or SECOND.isoformat() in line
    data = as_dict(explained)["group"]
    assert data["name"] == "wh"
    assert [(o["store"], o["later"]) for o in data["orders"]] == [
        ("eu-shop", 3),
        ("us-shop", 4),
        ("eu-shop", 2),
        ("us-shop", 3),
    ]
    assert data["orders"][3]["ships_by"] == SECOND.isoformat()


def test_the_operator_sees_the_group_in_explain_and_the_waiting_items_in_status(
    warehouse, tmp_path, monkeypatch, capsys
):
    woo_server = serve_woocommerce(warehouse.woo, host="127.0.0.1", port=0)
    shop_server = serve_shopify(warehouse.shop)
    try:
        warehouse.woo.base_url = f"http://127.0.0.1:{woo_server.server_address[1]}"
        shop = f"127.0.0.1:{shop_server.server_address[1]}"
        warehouse.shop.base_url = f"http://{shop}"
        path = tmp_path / "connector.toml"
        path.write_text(
            'timezone = "Europe/Berlin"\nstate = "connector.sqlite"\n'
            '[supply]\npurchase_orders = ["incoming.csv"]\nhandling_days = 0\n'
            f'[[stores]]\nname = "eu-shop"\nplatform = "woocommerce"\nurl = "{warehouse.woo.base_url}"\n'
            'key_env = "EU_KEY"\nsecret_env = "EU_SECRET"\nsupply_group = "wh"\n'
            f'[[stores]]\nname = "us-shop"\nplatform = "shopify"\nshop = "{shop}"\ntoken_env = "US_TOKEN"\n'
            'supply_group = "wh"\n'
            '[[rules]]\nname = "backorder while a shipment is due"\n'
            'when = { available = "<= 0", eta_within_days = 60 }\n'
            'then = { status = "backorder", eta = "supply", cap = "incoming" }\n'
        )
        for name, value in ENV.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("CONNECTOR_CONFIG", raising=False)
        config = ("--config", str(path))

        explained = run_cli(capsys, *config, "rules", "explain", "KTL-1", "--store", "eu-shop")
        assert explained.code == 0, explained.err
        assert "supply group wh: every store's waiting orders, first in first out" in explained.out
        us_2 = warehouse.shop_orders["us-2"]
        assert f"order {us_2} (us-shop, ordered 2026-11-20 10:00 UTC): 0 now, 3 later by {SECOND}" in explained.out
        assert run_cli(capsys, *config, "resync").code == 0

        warehouse.shop.revoke(ENV["US_TOKEN"])
        warehouse.order_woo("eu-3", "KTL-1", 5, days_ago=0)
        waited = run_cli(capsys, *config, "resync", "--store", "eu-shop")
        assert "supply group wh: store us-shop could not be read" in waited.out + waited.err
        status = run_cli(capsys, *config, "status")
        [line] = [row for row in status.out.splitlines() if "KTL-1" in row]
        assert "waits for supply group wh: store us-shop could not be read" in line
    finally:
        for server in (woo_server, shop_server):
            server.shutdown()
            server.server_close()


def _store(name: str, **keys: str) -> dict[str, str]:
    if name == "eu-shop":
        return {
            "name": name,
            "platform": "woocommerce",
            "url": "https://eu.test",
            "key_env": "K",
            "secret_env": "S",
            **keys,
        }
    return {"name": name, "platform": "shopify", "shop": US_SHOP, "token_env": "T", **keys}


@pytest.mark.parametrize(
    ("stores", "problems"),
    [
        (
            [_store("eu-shop", supply_group="wh"), _store("us-shop", supply_group="wh2")],
            [
                "stores[0] (eu-shop).supply_group: 'wh' has no other store",
                "stores[1] (us-shop).supply_group: 'wh2' has no other store",
            ],
        ),
        (
            [_store("eu-shop", supply_group="wh", timezone="Europe/Berlin"), _store("us-shop", supply_group="wh")],
            ["stores[0] (eu-shop).supply_group: the stores of 'wh' are in different timezones"],
        ),
        (
            [_store("eu-shop", supply_group="eu wh"), _store("us-shop", supply_group="eu wh")],
            ["stores[0].supply_group", "stores[1].supply_group"],
        ),
    ],
    ids=["a group of one store (a typo)", "two calendars", "a name with a space"],
)
def test_a_supply_group_that_cannot_work_is_refused_naming_the_store_and_key(stores, problems, tmp_path):
    with pytest.raises(ConfigError) as refused:
        from_mapping({"timezone": "America/New_York", "stores": stores}, path=tmp_path / "c.toml", base_dir=tmp_path)
    for problem in problems:
        assert problem in str(refused.value)
