"""Supply sources and the facts a pass gathers: purchase-order files, restock dates, platform
`incoming`, the backorder queue, the status accepted last, and sales history."""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from stockstatus.adapters.woocommerce.fake import FakeWooCommerce
from stockstatus.core.config import from_mapping
from stockstatus.core.model import Item
from stockstatus.core.report import run_text
from stockstatus.core.supply import PurchaseOrderFiles, PurchaseOrders, parse_purchase_orders, supply_for
from stockstatus.core.sync import gather_stores, resync
from stockstatus.rules.model import DaySales, Status, SupplyEvent
from tests.conftest import FIXED_NOW

TODAY = date(2026, 11, 22)
URL = "https://shop.test"
ENV = {"SHOP_KEY": "ck_" + "a" * 40, "SHOP_SECRET": "cs_" + "b" * 40}


def test_good_rows_are_used_in_any_column_order_with_bom_and_spaces():
    text = (
        "\ufeff Reference , SKU,expected_date ,quantity,supplier\n"
        "PO-1, KTL-1 ,2026-12-10, 24 ,Acme\n"
        "\n"
        "PO-2,KTL-1,2026-12-01,6,\n"
        "PO-3,MUG-1,2027-01-15,100,FarEast\n"
    )
    parsed = parse_purchase_orders(text.removeprefix("\ufeff"), source="po.csv")
    assert parsed.problems == ()
    assert parsed.events["KTL-1"] == (
        SupplyEvent(date(2026, 12, 10), 24, "Acme", "PO-1"),
        SupplyEvent(date(2026, 12, 1), 6, None, "PO-2"),
    )
    assert parsed.events["MUG-1"] == (SupplyEvent(date(2027, 1, 15), 100, "FarEast", "PO-3"),)


def test_bad_rows_are_reported_with_file_line_and_reason_and_the_rest_is_used():
    text = (
        "sku,quantity,expected_date,supplier,reference\n"
        "KTL-1,24,2026-12-10,Acme,PO-1\n"
        "KTL-1,lots,2026-12-10,Acme,PO-2\n"
        ",5,2026-12-10,Acme,PO-3\n"
        "KTL-1,5,10/12/2026,Acme,PO-4\n"
        "KTL-1,-5,2026-02-30,Acme,PO-5\n"
        "MUG-1,3,2026-12-24,Acme,PO-6,surprise\n"
        "MUG-1,0,2026-12-24,Acme,cancelled\n"
        "MUG-1,7,2026-12-24\n"
    )
    parsed = parse_purchase_orders(text, source="incoming/acme.csv")
    assert parsed.events == {
        "KTL-1": (SupplyEvent(date(2026, 12, 10), 24, "Acme", "PO-1"),),
        "MUG-1": (SupplyEvent(date(2026, 12, 24), 7),),
    }
    assert parsed.problems == (
        "incoming/acme.csv:3: quantity 'lots' is not a whole number of units (write e.g. 24)",
        "incoming/acme.csv:4: sku is empty (give each line the SKU of the product it brings)",
        "incoming/acme.csv:5: expected_date '10/12/2026' is not a date like 2026-12-31 (year-month-day)",
        "incoming/acme.csv:6: quantity -5 is negative; a purchase order brings units: write how many are coming "
        "(0 for a cancelled line); expected_date '2026-02-30' is not a date like 2026-12-31 (year-month-day)",
        "incoming/acme.csv:7: more values than the header has columns; a comma inside a value needs the value "
        'in double quotes ("Acme, Inc.")',
    )


def test_a_file_without_the_required_columns_is_reported_once():
    parsed = parse_purchase_orders("sku,qty,expected_date\nKTL-1,3,2026-12-01\n", source="po.csv")
    assert parsed.events == {}
    [problem] = parsed.problems
    assert problem.startswith("po.csv:1: the header lacks column(s) quantity")


def test_a_semicolon_separated_file_is_named_as_such():
    parsed = parse_purchase_orders("sku;quantity;expected_date\nKTL-1;3;2026-12-01\n", source="po.csv")
    assert parsed.events == {}
    assert parsed.problems == (
        "po.csv:1: the columns are separated by ';', not ','; save the file as comma-separated CSV "
        "(in Excel: Save as → CSV UTF-8 (Comma delimited))",
    )


def test_a_path_that_matches_nothing_is_reported(tmp_path):
    files = PurchaseOrderFiles(["incoming/po-1042.csv", "inbox/*.csv"], base_dir=tmp_path)
    first, second = files.read().warnings
    assert "'incoming/po-1042.csv' matches no file" in first and "check the path" in first
    assert "'inbox/*.csv': the folder" in second and "does not exist" in second


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_globs_are_relative_to_the_config_and_combine_files_soonest_first(tmp_path):
    write(tmp_path / "incoming" / "acme.csv", "sku,quantity,expected_date\nKTL-1,5,2026-12-20\n")
    write(tmp_path / "incoming" / "fareast.csv", "sku,quantity,expected_date,reference\nKTL-1,9,2026-12-05,FE-1\n")
    (tmp_path / "received").mkdir()
    files = PurchaseOrderFiles(["incoming/*.csv", "received/*.csv"], base_dir=tmp_path)
    read = files.read()
    assert read.warnings == ()  # a glob matching nothing in a folder that exists: an empty inbox
    assert [(e.expected.day, e.quantity) for e in read.events["KTL-1"]] == [(5, 9), (20, 5)]


def test_a_file_that_cannot_be_read_is_reported_and_the_others_are_used(tmp_path):
    write(tmp_path / "po" / "good.csv", "sku,quantity,expected_date\nKTL-1,5,2026-12-20\n")
    (tmp_path / "po" / "bad.csv").write_bytes(b"sku,quantity,expected_date\nK\xe4TL,5,2026-12-20\n")
    read = PurchaseOrderFiles(["po/*.csv"], base_dir=tmp_path).read()
    assert list(read.events) == ["KTL-1"]
    [warning] = read.warnings
    assert str(tmp_path / "po" / "bad.csv") in warning and "UTF-8" in warning


def test_a_changed_file_is_read_again_and_an_unchanged_one_is_not(tmp_path):
    path = write(tmp_path / "po.csv", "sku,quantity,expected_date\nKTL-1,5,2026-12-20\n")
    files = PurchaseOrderFiles(["po.csv"], base_dir=tmp_path)
    assert files.read().events["KTL-1"][0].quantity == 5
    stat = path.stat()

    # Same size and modification time: the file is taken as unchanged and not parsed again.
    path.write_text("sku,quantity,expected_date\nKTL-1,7,2026-12-20\n", encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert files.read().events["KTL-1"][0].quantity == 5
    assert files.parses == 1

    # Edited (new modification time): read again.
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert files.read().events["KTL-1"][0].quantity == 7
    path.write_text("sku,quantity,expected_date\nKTL-1,12,2026-12-20\n", encoding="utf-8")
    assert files.read().events["KTL-1"][0].quantity == 12
    assert files.parses == 3

    path.unlink()
    gone = files.read()
    assert gone.events == {} and gone.files == ()
    assert [w.split(" (")[0] for w in gone.warnings] == ["supply.purchase_orders: 'po.csv' matches no file"]


def item(**kw) -> Item:
    fields = {"key": "1", "sku": "KTL-1", "name": "Kettle", "managed": True, "available": 0} | kw
    return Item(**fields)


def test_supply_for_combines_purchase_orders_restock_date_and_platform_incoming():
    orders = PurchaseOrders(events={"KTL-1": (SupplyEvent(date(2026, 12, 20), 5, "Acme", "PO-1"),)})
    kettle = item(restock_date=date(2026, 12, 1), supplier="Acme", incoming=8)
    assert supply_for(kettle, purchase_orders=orders, today=TODAY, lead_time_days=14) == (
        SupplyEvent(date(2026, 12, 1), None, "Acme", "restock_date meta"),
        SupplyEvent(date(2026, 12, 6), 8, "Acme", "shopify incoming"),
        SupplyEvent(date(2026, 12, 20), 5, "Acme", "PO-1"),
    )
    # Without a lead time, `incoming` has no date: it is not supply the rules can use.
    assert supply_for(item(incoming=8), purchase_orders=orders, today=TODAY, lead_time_days=None) == (
        SupplyEvent(date(2026, 12, 20), 5, "Acme", "PO-1"),
    )


# ---- through the store -------------------------------------------------------------------


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock():
    return Clock(FIXED_NOW)


@pytest.fixture
def fake(clock):
    return FakeWooCommerce(base_url=URL, consumer_key=ENV["SHOP_KEY"], consumer_secret=ENV["SHOP_SECRET"], now=clock)


def make_config(tmp_path: Path, **supply):
    data = {
        "timezone": "Europe/Berlin",
        "supply": {"handling_days": 1, "lead_time_days": {"default": 10}, "lead_time_sd_days": {"default": 2.5}}
        | supply,
        "stores": [
            {"name": "shop", "platform": "woocommerce", "url": URL, "key_env": "SHOP_KEY", "secret_env": "SHOP_SECRET"}
        ],
        "rules": [
            {
                "name": "restock due",
                "when": {"available": "<= 0", "eta_within_days": 30},
                "then": {"status": "backorder", "eta": "restock_date"},
            },
            {"name": "sold out", "when": {"available": "<= 0"}, "then": {"status": "out_of_stock"}},
        ],
    }
    return from_mapping(data, path=tmp_path / "connector.toml", base_dir=tmp_path)


async def pass_(config, state, fake, clock, **kw):
    [run] = await resync(config, state=state, clock=clock, environ=ENV, transports={"shop": fake.transport()}, **kw)
    return run


async def facts_by_sku(config, state, fake, clock):
    [seen] = await gather_stores(config, state=state, clock=clock, environ=ENV, transports={"shop": fake.transport()})
    return {f.item.sku: f.facts for f in seen.gathered.facts}


async def test_a_pass_gathers_queue_supply_previous_status_and_sales(tmp_path, fake, clock, state):
    write(
        tmp_path / "incoming" / "acme.csv",
        "sku,quantity,expected_date,supplier,reference\nKTL-1,5,2026-12-02,Acme,PO-1\n",
    )
    config = make_config(tmp_path, purchase_orders=["incoming/*.csv"])
    kettle = fake.create_product(
        name="Kettle",
        sku="KTL-1",
        manage_stock=True,
        stock_quantity=0,
        meta_data=[{"key": "restock_date", "value": "2026-12-12"}],
    )
    mug = fake.create_product(name="Mug", sku="MUG-1", manage_stock=True, stock_quantity=20)

    # Three days ago: a pass sees an order of 2 mugs (then shipped); yesterday: an order of 3.
    clock.now = FIXED_NOW - timedelta(days=3)
    shipped = fake.create_order(status="processing", line_items=[{"product_id": mug["id"], "quantity": 2}])
    assert (await pass_(config, state, fake, clock)).outcome == "ok"
    fake.update_order(shipped["id"], status="completed")
    clock.now = FIXED_NOW - timedelta(days=1)
    fake.create_order(status="processing", line_items=[{"product_id": mug["id"], "quantity": 3}])
    assert (await pass_(config, state, fake, clock)).outcome == "ok"

    clock.now = FIXED_NOW
    waiting = fake.create_order(status="processing", line_items=[{"product_id": kettle["id"], "quantity": 2}])
    facts = await facts_by_sku(config, state, fake, clock)

    ktl = facts["KTL-1"]
    assert ktl.available == -2
    assert [(q.order_id, q.quantity) for q in ktl.backorder_queue] == [(str(waiting["id"]), 2)]
    assert ktl.supply == (
        SupplyEvent(date(2026, 12, 2), 5, "Acme", "PO-1"),
        SupplyEvent(date(2026, 12, 12), None, None, "restock_date meta"),
    )
    assert ktl.restock_date == date(2026, 12, 12)
    assert (ktl.lead_time_days, ktl.lead_time_sd_days) == (10, 2.5)
    assert ktl.previous_status is Status.BACKORDER

    mugs = facts["MUG-1"]
    assert mugs.previous_status is Status.IN_STOCK
    # 90 days ending yesterday; before the first pass nothing is known; in-stock days without
    # sales are implied; the open order of yesterday (recorded and still open) counts once.
    assert len([d for d in mugs.sales if not d.in_stock]) == 87
    assert [d for d in mugs.sales if d.in_stock] == [
        DaySales(date(2026, 11, 19), 2, True),
        DaySales(date(2026, 11, 21), 3, True),
    ]
    assert mugs.sales[0].day == date(2026, 8, 24) and mugs.sales[-1].day == date(2026, 11, 21)


async def test_a_bad_purchase_order_line_is_a_warning_of_the_run_not_a_failure(tmp_path, fake, clock, state):
    write(tmp_path / "po.csv", "sku,quantity,expected_date\nKTL-1,5,2026-12-02\nKTL-1,five,2026-12-03\n")
    config = make_config(tmp_path, purchase_orders=["po.csv"])
    fake.create_product(name="Kettle", sku="KTL-1", manage_stock=True, stock_quantity=0)
    run = await pass_(config, state, fake, clock)
    assert run.outcome == "ok"
    expected = f"{tmp_path / 'po.csv'}:3: quantity 'five' is not a whole number of units (write e.g. 24)"
    assert run.warnings == [expected]
    assert f"warning: {expected}" in run_text(run)
    assert run.as_dict()["warnings"] == [expected]


async def test_gathering_facts_writes_nothing(tmp_path, fake, clock, state):
    config = make_config(tmp_path)
    mug = fake.create_product(name="Mug", sku="MUG-1", manage_stock=True, stock_quantity=2)
    fake.create_order(status="processing", line_items=[{"product_id": mug["id"], "quantity": 1}])
    await facts_by_sku(config, state, fake, clock)
    assert fake.write_requests == []
    assert state.runs.recent() == []
    assert state.demand.since("shop", TODAY - timedelta(days=90)).lines == ()
