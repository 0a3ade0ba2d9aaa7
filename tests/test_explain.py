"""`connector rules explain SKU` against a WooCommerce sandbox on a loopback port: what a shop owner
sees when asking why a SKU shows what it shows. Nothing of ours is mocked; the store and the
command read the same pinned clock."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from stockstatus.adapters.woocommerce.fake import FakeWooCommerce, serve
from tests.test_end_to_end import cli, pinned

TIMEZONE = "Europe/Berlin"
STORE = "explain-shop"
KEY_ENV, SECRET_ENV = "EXPLAIN_WC_KEY", "EXPLAIN_WC_SECRET"


def today() -> date:
    return pinned().astimezone(ZoneInfo(TIMEZONE)).date()


def in_days(n: int) -> date:
    return today() + timedelta(days=n)


@dataclass
class Shop:
    fake: FakeWooCommerce
    url: str


@pytest.fixture
def shop() -> Iterator[Shop]:
    fake = FakeWooCommerce(base_url="http://127.0.0.1:1", now=pinned)
    server = serve(fake, host="127.0.0.1", port=0)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        fake.base_url = url
        yield Shop(fake, url)
    finally:
        server.shutdown()
        server.server_close()


CONFIG = """\
timezone = "{timezone}"
state = "state/connector.sqlite"

[[stores]]
name = "{store}"
platform = "woocommerce"
url = "{url}"
key_env = "{key_env}"
secret_env = "{secret_env}"

[supply]
handling_days = 2
purchase_orders = ["incoming/*.csv"]
lead_time_days = {{ default = 4 }}

[demand]
{demand}

[[rules]]
name = "discontinued"
when = {{ tags_any = ["discontinued"] }}
then = {{ status = "out_of_stock" }}

[[rules]]
name = "backorder while a restock is due"
when = {{ available = "<= 0", eta_within_days = 30 }}
then = {{ status = "backorder", eta = "restock_date", message = "Ships by {{eta:%Y-%m-%d}}" }}

[[rules]]
name = "sold out"
when = {{ available = "<= 0" }}
then = {{ status = "out_of_stock" }}
"""


def configure(
    shop: Shop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, demand: str = "", purchase_orders: str = ""
) -> Path:
    monkeypatch.setenv(KEY_ENV, shop.fake.consumer_key)
    monkeypatch.setenv(SECRET_ENV, shop.fake.consumer_secret)
    monkeypatch.delenv("CONNECTOR_CONFIG", raising=False)
    (tmp_path / "incoming").mkdir(exist_ok=True)
    (tmp_path / "incoming" / "acme.csv").write_text(
        "sku,quantity,expected_date,supplier,reference\n" + purchase_orders, encoding="utf-8"
    )
    path = tmp_path / "connector.toml"
    path.write_text(
        CONFIG.format(
            timezone=TIMEZONE, store=STORE, url=shop.url, key_env=KEY_ENV, secret_env=SECRET_ENV, demand=demand
        ),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def kettle_shop(shop: Shop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Shop, Path]:
    """A kettle sold out with two orders waiting, a restock date and a purchase order on its way."""
    restock = in_days(10).isoformat()
    kettle = shop.fake.create_product(
        name="Stagg Kettle",
        sku="KTL-1",
        manage_stock=True,
        stock_quantity=1,
        meta_data=[{"key": "restock_date", "value": restock}],
    )
    shop.fake.create_product(name="Mug", sku="MUG-1", manage_stock=True, stock_quantity=5)
    first = shop.fake.create_order(status="processing", line_items=[{"product_id": kettle["id"], "quantity": 1}])
    shop.fake.create_order(status="processing", line_items=[{"product_id": kettle["id"], "quantity": 2}])
    shop.fake.set_order_date(first["id"], pinned() - timedelta(hours=5))
    assert shop.fake.get_product(kettle["id"])["stock_quantity"] == -2
    config = configure(shop, tmp_path, monkeypatch, purchase_orders=f"KTL-1,6,{in_days(7).isoformat()},Acme,PO-77\n")
    shop.fake.requests.clear()
    return shop, config


def test_explain_shows_facts_rules_timeline_and_decision_and_writes_nothing(kettle_shop, capsys):
    shop, config = kettle_shop
    result = cli(capsys, ["--config", str(config), "rules", "explain", "KTL-1"])
    assert result.code == 0, result.err
    out = result.out
    eta = (in_days(10) + timedelta(days=2)).isoformat()

    assert "KTL-1 'Stagg Kettle' in store explain-shop" in out
    assert "available    -2" in out
    assert f"{in_days(7).isoformat()}      +6  PO-77 (Acme)" in out
    assert f"{in_days(10).isoformat()}       ?  restock_date meta" in out
    # The two units waiting belong to the newest order (stock served the older one).
    [queued] = [line for line in out.splitlines() if line.strip().startswith("order ") and "unit(s)" in line]
    assert "2 unit(s)" in queued
    assert "supply timeline" in out and "PO-77" in out.split("supply timeline", 1)[1]
    rules = out.split("rules (first match decides)", 1)[1]
    assert "1. discontinued: no match" in rules
    assert "2. backorder while a restock is due: DECIDES" in rules
    assert "3. sold out: matches" in rules
    decision = out.split("\ndecision\n", 1)[1]
    assert "status      backorder" in decision and f"ETA         {eta}" in decision
    assert f"message     Ships by {eta}" in decision
    assert "nothing recorded yet" in out

    assert shop.fake.write_requests == [], "explain never writes to the store"
    assert not (config.parent / "state" / "connector.sqlite").exists(), "nor creates the state file"


def test_explain_shows_the_last_accepted_decision_and_leaves_the_state_file_alone(kettle_shop, capsys):
    shop, config = kettle_shop
    assert cli(capsys, ["--config", str(config), "resync"]).code == 0
    state_file = config.parent / "state" / "connector.sqlite"
    before = state_file.read_bytes()
    writes = len(shop.fake.write_requests)

    result = cli(capsys, ["--config", str(config), "rules", "explain", "KTL-1", "--json"])
    assert result.code == 0, result.err
    [explained] = json.loads(result.out)["items"]
    assert explained["store"] == STORE and explained["sku"] == "KTL-1"
    assert explained["facts"]["available"] == -2
    assert explained["facts"]["previous_status"] == "backorder"
    assert [(s["reference"], s["quantity"]) for s in explained["facts"]["supply"]] == [
        ("PO-77", 6),
        ("restock_date meta", None),
    ]
    assert [q["quantity"] for q in explained["facts"]["backorder_queue"]] == [2]
    assert [r["decided"] for r in explained["rules"]] == [False, True, False]
    assert explained["decision"]["status"] == "backorder"
    assert explained["accepted"]["status"] == "backorder"
    assert explained["accepted"]["eta"] == explained["decision"]["eta"]

    assert state_file.read_bytes() == before, "explain does not write to the state file"
    assert len(shop.fake.write_requests) == writes


def test_an_unknown_sku_exits_1_naming_the_stores_searched(kettle_shop, capsys):
    shop, config = kettle_shop
    result = cli(capsys, ["--config", str(config), "rules", "explain", "NOPE-1"])
    assert result.code == 1
    assert "NOPE-1" in result.err and STORE in result.err
    assert result.out == "", "no explanation of another SKU is printed instead"
    assert shop.fake.requests, "the store was searched"
    assert shop.fake.write_requests == []
    assert not (config.parent / "state" / "connector.sqlite").exists()


def test_a_bad_purchase_order_line_is_shown_as_a_warning(shop, tmp_path, monkeypatch, capsys):
    shop.fake.create_product(name="Mug", sku="MUG-1", manage_stock=True, stock_quantity=5)
    config = configure(shop, tmp_path, monkeypatch, purchase_orders="MUG-1,many,2026-01-01,Acme,PO-1\n")
    result = cli(capsys, ["--config", str(config), "rules", "explain", "MUG-1"])
    assert result.code == 0, result.err
    assert "acme.csv:2: quantity 'many' is not a whole number of units" in result.out
    # A warning, not a failure: the SKU is still explained, from the store's facts.
    assert "MUG-1 'Mug' in store explain-shop" in result.out
    assert "status      in_stock" in result.out.split("\ndecision\n", 1)[1]


def test_an_item_a_pass_skips_is_explained_as_skipped_with_the_pass_reason(shop, tmp_path, monkeypatch, capsys):
    shop.fake.create_product(
        name="Lamp",
        sku="LMP-1",
        manage_stock=True,
        stock_quantity=4,
        meta_data=[{"key": "release_date", "value": "31/12/2026"}],
    )
    config = configure(shop, tmp_path, monkeypatch)

    plan = cli(capsys, ["--config", str(config), "resync", "--dry-run", "--json"])
    assert plan.code == 0, plan.err
    [run] = json.loads(plan.out)["runs"]
    [skipped] = [s for s in run["skipped"] if s["sku"] == "LMP-1"]

    result = cli(capsys, ["--config", str(config), "rules", "explain", "LMP-1"])
    assert result.code == 0, result.err
    assert f"SKIPPED by a pass (nothing written): {skipped['reason']}" in result.out
    assert "31/12/2026" in skipped["reason"]
    assert "\ndecision\n" not in result.out, "no decision is shown as if it were applied"
    assert "(not applied)" in result.out

    result = cli(capsys, ["--config", str(config), "rules", "explain", "LMP-1", "--json"])
    [explained] = json.loads(result.out)["items"]
    assert explained["skipped"] == skipped["reason"]
    assert explained["applied"] is False and explained["writes"] is None


def test_explain_names_the_fields_a_pass_would_write(kettle_shop, capsys):
    _shop, config = kettle_shop
    result = cli(capsys, ["--config", str(config), "rules", "explain", "MUG-1", "--json"])
    [explained] = json.loads(result.out)["items"]
    assert explained["applied"] is True and explained["writes"], "the store does not show the decision yet"
    assert cli(capsys, ["--config", str(config), "resync"]).code == 0
    result = cli(capsys, ["--config", str(config), "rules", "explain", "MUG-1"])
    assert "a pass writes nothing: the store already shows this" in result.out


def test_an_order_served_by_two_shipments_lists_each_with_its_units_and_date(shop, tmp_path, monkeypatch, capsys):
    lamp = shop.fake.create_product(name="Lamp", sku="LMP-2", manage_stock=True, stock_quantity=0)
    shop.fake.create_order(status="processing", line_items=[{"product_id": lamp["id"], "quantity": 3}])
    first, second = in_days(5), in_days(20)
    config = configure(
        shop,
        tmp_path,
        monkeypatch,
        purchase_orders=f"LMP-2,2,{first.isoformat()},Acme,PO-1\nLMP-2,5,{second.isoformat()},Acme,PO-2\n",
    )
    result = cli(capsys, ["--config", str(config), "rules", "explain", "LMP-2", "--json"])
    assert result.code == 0, result.err
    [explained] = json.loads(result.out)["items"]
    [order] = explained["decision"]["order_etas"]
    handling = timedelta(days=2)
    assert order["shipments"] == [
        {"units": 2, "ships_by": (first + handling).isoformat()},
        {"units": 1, "ships_by": (second + handling).isoformat()},
    ]
    assert order["ships_by"] == (second + handling).isoformat()

    text = cli(capsys, ["--config", str(config), "rules", "explain", "LMP-2"]).out
    assert f"in 2 shipments: 2 by {(first + handling).isoformat()}, 1 by {(second + handling).isoformat()}" in text

    plan = cli(capsys, ["--config", str(config), "resync", "--dry-run", "--json"])
    [run] = json.loads(plan.out)["runs"]
    [change] = [c for c in run["changes"] if c["sku"] == "LMP-2"]
    [planned] = change["order_etas"]
    assert planned["shipments"] == order["shipments"], "the plan and explain give the order the same shipments"
