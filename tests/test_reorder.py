"""`connector report reorder` over a loopback WooCommerce sandbox, with a sales history that earlier
passes recorded in the state file. The expected figures are computed by hand in the comments."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

from stockstatus.core.state import SeenLine, StateStore, StockPresence
from tests.test_end_to_end import cli
from tests.test_explain import configure, in_days, shop, today  # noqa: F401  (shop is a fixture)

# z = 1.5, lead time L = 4 days (default), review period R = 5 days, velocity over the last 3 days.
DEMAND = "z = 1.5\nvelocity_window_days = 3\nreview_period_days = 5"


def seed_history(state_path, ids: dict[str, int]) -> None:
    """What passes on the last three days saw: sales per day and whether each SKU could be ordered."""
    state = StateStore(state_path)
    d = {n: today() - timedelta(days=n) for n in (1, 2, 3)}
    lines, stock = [], []
    # BEAN-1: in stock every day, sold 0, 2, 4 -> d = 2/day, sd = 2 (sample).
    for n, units in ((3, 0), (2, 2), (1, 4)):
        if units:
            lines.append(SeenLine(f"b{n}", str(ids["BEAN-1"]), "BEAN-1", d[n], units))
        stock.append(StockPresence(str(ids["BEAN-1"]), d[n], True))
    # KTL-1: sold 3 on day -3, then out of stock: those days say nothing -> d = 3/day, sd = 0.
    lines.append(SeenLine("k3", str(ids["KTL-1"]), "KTL-1", d[3], 3))
    stock += [StockPresence(str(ids["KTL-1"]), d[n], n == 3) for n in (3, 2, 1)]
    # MUG-1: the same demand as BEAN-1 but plenty on the shelf.
    for n, units in ((3, 0), (2, 2), (1, 4)):
        if units:
            lines.append(SeenLine(f"m{n}", str(ids["MUG-1"]), "MUG-1", d[n], units))
        stock.append(StockPresence(str(ids["MUG-1"]), d[n], True))
    state.demand.observe("explain-shop", lines=lines, stock=stock)
    state.close()


def setup(shop, tmp_path, monkeypatch):  # noqa: F811
    fake = shop.fake
    ids = {
        "BEAN-1": fake.create_product(name="Guji Beans", sku="BEAN-1", manage_stock=True, stock_quantity=5)["id"],
        "KTL-1": fake.create_product(name="Stagg Kettle", sku="KTL-1", manage_stock=True, stock_quantity=0)["id"],
        "MUG-1": fake.create_product(name="Mug", sku="MUG-1", manage_stock=True, stock_quantity=100)["id"],
        "UNM-1": fake.create_product(name="Print", sku="UNM-1", manage_stock=False, stock_status="instock")["id"],
    }
    config = configure(
        shop, tmp_path, monkeypatch, demand=DEMAND, purchase_orders=f"BEAN-1,4,{in_days(3).isoformat()},Acme,PO-9\n"
    )
    seed_history(tmp_path / "state" / "connector.sqlite", ids)
    return config


def test_reorder_csv_lists_skus_at_or_below_their_reorder_point(shop, tmp_path, monkeypatch, capsys):  # noqa: F811
    config = setup(shop, tmp_path, monkeypatch)
    result = cli(capsys, ["--config", str(config), "report", "reorder", "--csv"])
    assert result.code == 0, result.err
    rows = list(csv.DictReader(io.StringIO(result.out)))
    # Most urgent first (furthest below the reorder point). MUG-1 (position 100) is not due.
    assert [r["sku"] for r in rows] == ["KTL-1", "BEAN-1"]
    kettle, beans = rows
    # KTL-1: d = 3, sd = 0 -> safety 0, reorder point 3*4 = 12; position 0;
    # order up to 3*(4+5) = 27 -> order 27.
    assert {
        k: kettle[k]
        for k in (
            "available",
            "on_order",
            "position",
            "velocity_per_day",
            "demand_sd",
            "safety_stock",
            "reorder_point",
            "order_up_to",
            "days_of_cover",
            "suggested",
        )
    } == {
        "available": "0",
        "on_order": "0",
        "position": "0",
        "velocity_per_day": "3.00",
        "demand_sd": "0.00",
        "safety_stock": "0.0",
        "reorder_point": "12.0",
        "order_up_to": "27.0",
        "days_of_cover": "0.0",
        "suggested": "27",
    }
    # BEAN-1: d = 2, sd = 2; safety = 1.5*2*sqrt(4) = 6; reorder point 2*4 + 6 = 14;
    # position 5 on hand + 4 on order = 9 <= 14; up to 2*9 + 1.5*2*sqrt(9) = 27 -> order 18;
    # cover 5 / 2 = 2.5 days.
    assert {
        k: beans[k]
        for k in (
            "store",
            "name",
            "lead_time_days",
            "on_order",
            "position",
            "velocity_per_day",
            "demand_sd",
            "safety_stock",
            "reorder_point",
            "order_up_to",
            "days_of_cover",
            "suggested",
        )
    } == {
        "store": "explain-shop",
        "name": "Guji Beans",
        "lead_time_days": "4",
        "on_order": "4",
        "position": "9",
        "velocity_per_day": "2.00",
        "demand_sd": "2.00",
        "safety_stock": "6.0",
        "reorder_point": "14.0",
        "order_up_to": "27.0",
        "days_of_cover": "2.5",
        "suggested": "18",
    }
    assert shop.fake.write_requests == []


def test_reorder_table_says_what_to_order_and_what_was_assessed(shop, tmp_path, monkeypatch, capsys):  # noqa: F811
    config = setup(shop, tmp_path, monkeypatch)
    state_file = tmp_path / "state" / "connector.sqlite"
    before = state_file.read_bytes()
    result = cli(capsys, ["--config", str(config), "report", "reorder"])
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].split()[:3] == ["store", "SKU", "name"]
    [kettle] = [line for line in lines if "KTL-1" in line]
    [beans] = [line for line in lines if "BEAN-1" in line]
    assert kettle.split()[-1] == "27" and beans.split()[-1] == "18"
    assert "14.0" in beans and "6.0" in beans
    assert not any("MUG-1" in line for line in lines)
    assert "2 to reorder of 3 SKUs assessed; 1 not assessed (1 stock not tracked)" in result.out
    assert state_file.read_bytes() == before, "a report writes nothing"


def test_skus_left_out_are_counted_by_the_input_they_lack(shop, tmp_path, monkeypatch, capsys):  # noqa: F811
    fake = shop.fake
    fake.create_product(name="Guji Beans", sku="BEAN-1", manage_stock=True, stock_quantity=5)
    fake.create_product(name="Filter", sku="FLT-1", manage_stock=True, stock_quantity=3)
    fake.create_product(name="Print", sku="UNM-1", manage_stock=False, stock_status="instock")
    config = configure(shop, tmp_path, monkeypatch, demand=DEMAND)

    result = cli(capsys, ["--config", str(config), "report", "reorder"])
    assert result.code == 0, result.err
    # A fresh state file: nothing sold yet is not the same as no lead time.
    assert "0 to reorder of 0 SKUs assessed; 3 not assessed (2 no sales history yet, 1 stock not tracked)" in result.out
    assert "no lead time" not in result.out
    assert "sales history is recorded by each pass" in result.out


def test_a_sku_without_a_lead_time_is_counted_as_such(shop, tmp_path, monkeypatch, capsys):  # noqa: F811
    shop.fake.create_product(name="Guji Beans", sku="BEAN-1", manage_stock=True, stock_quantity=5)
    config = configure(shop, tmp_path, monkeypatch, demand=DEMAND)
    text = config.read_text(encoding="utf-8").replace("lead_time_days = { default = 4 }\n", "")
    config.write_text(text, encoding="utf-8")
    result = cli(capsys, ["--config", str(config), "report", "reorder"])
    assert result.code == 0, result.err
    assert "1 not assessed (1 no lead time configured)" in result.out


def test_a_pass_decides_a_velocity_rule_on_the_recorded_history(shop, tmp_path, monkeypatch, capsys):  # noqa: F811
    config = setup(shop, tmp_path, monkeypatch)
    # Sales history is built only for rules that read it: this one does, so a pass must read it.
    text = config.read_text(encoding="utf-8")
    first_rule = text.index("[[rules]]")
    fast = (
        '[[rules]]\nname = "fast movers"\n'
        'when = { velocity = { window_days = 3, is = ">= 2" } }\nthen = { status = "backorder" }\n\n'
    )
    config.write_text(text[:first_rule] + fast + text[first_rule:], encoding="utf-8")

    result = cli(capsys, ["--config", str(config), "resync", "--dry-run", "--json"])
    assert result.code == 0, result.err
    [run] = json.loads(result.out)["runs"]
    rules = {c["sku"]: c["rule"] for c in run["changes"]}
    # BEAN-1 and MUG-1 sold 2 a day, KTL-1 3 a day on its one day in stock; the print has no history.
    assert rules["BEAN-1"] == rules["MUG-1"] == rules["KTL-1"] == "fast movers"
    assert rules.get("UNM-1") != "fast movers"
