"""Two items with one SKU (after the spaces WooCommerce trims) never both claim one purchase order."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from stockstatus.adapters.woocommerce.fake import FakeWooCommerce
from stockstatus.core.catalogue import Catalogue, SampleProduct
from stockstatus.core.config import from_mapping
from stockstatus.core.platform import platforms
from stockstatus.core.sync import StoreRun, resync
from tests.conftest import FIXED_NOW, MovingClock

TODAY = FIXED_NOW.date()
RULES = [
    {
        "name": "backorder while a shipment is due",
        "when": {"available": "<= 0", "eta_within_days": 45},
        "then": {"status": "backorder", "eta": "supply", "cap": "incoming"},
    },
    {"name": "sold out", "when": {"available": "<= 0"}, "then": {"status": "out_of_stock"}},
]
PO_UNITS = 3


def purchase_order(tmp_path: Path, sku: str = "DUP-1") -> Path:
    path = tmp_path / "incoming.csv"
    expected = (TODAY + timedelta(days=10)).isoformat()
    path.write_text(f"sku,quantity,expected_date,supplier,reference\n{sku},{PO_UNITS},{expected},Acme,PO-7\n")
    return path


def config(tmp_path: Path, store: dict[str, Any]):
    data = {
        "timezone": "Europe/Berlin",
        "supply": {"purchase_orders": [str(purchase_order(tmp_path))], "handling_days": 0},
        "stores": [{"name": "shop", **store}],
        "rules": RULES,
    }
    return from_mapping(data, path=tmp_path / "connector.toml", base_dir=tmp_path)


def promised(run: StoreRun) -> dict[str | None, tuple[str, int | None]]:
    return {c.item.key: (c.decision.status.value, c.decision.sell_limit) for c in run.changes}


# WooCommerce refuses a second "DUP-1" itself; copies that differ in spaces come in by imports.
SPELLINGS = [
    (platform, spelling)
    for platform in ("woocommerce", "shopify")
    for spelling in ("DUP-1", " DUP-1 ", "DUP-1\t", "\nDUP-1")
    if (platform, spelling) != ("woocommerce", "DUP-1")
]


@pytest.mark.parametrize(("platform", "spelling"), SPELLINGS)
async def test_one_purchase_order_is_promised_once_and_the_duplicate_is_reported(platform, spelling, tmp_path, state):
    sample = Catalogue(
        (
            SampleProduct("Kettle", "Kettles", "10.00", sku="DUP-1", stock=0),
            SampleProduct("Kettle (copy)", "Kettles", "10.00", sku=spelling, stock=0),
            SampleProduct("Mug", "Mugs", "5.00", sku="MUG-1", stock=0),
        )
    )
    store = platforms()[platform].demo_store(sample)
    [run] = await resync(
        config(tmp_path, {"platform": platform, **store.settings}),
        state=state,
        clock=lambda: FIXED_NOW,
        environ=store.environ,
        transports={"shop": store.transport},
    )
    assert run.outcome == "ok"
    decided = {c.item.name: (c.decision.status.value, c.decision.sell_limit) for c in run.changes}
    # The first by key gets the purchase order; the copy is decided without it.
    assert decided["Kettle"] == ("backorder", PO_UNITS)
    assert decided["Kettle (copy)"][0] == "out_of_stock"
    assert sum(limit or 0 for status, limit in decided.values() if status == "backorder") == PO_UNITS
    [warning] = [w for w in run.warnings if "DUP-1" in w]
    assert "on 2 items" in warning and "count for item #" in warning and "own SKU" in warning


async def test_an_incremental_pass_never_gives_the_order_to_a_second_item(tmp_path, state):
    clock = MovingClock()
    env = {"K": "ck_" + "a" * 40, "S": "cs_" + "b" * 40}
    fake = FakeWooCommerce(base_url="https://shop.test", consumer_key=env["K"], consumer_secret=env["S"], now=clock)
    first = fake.create_product(name="Kettle", sku="DUP-1", manage_stock=True, stock_quantity=0)
    copy = fake.create_product(name="Kettle (copy)", sku="DUP-1 ", manage_stock=True, stock_quantity=0)
    cfg = config(tmp_path, {"platform": "woocommerce", "url": "https://shop.test", "key_env": "K", "secret_env": "S"})

    async def sync(**kw: Any) -> StoreRun:
        [run] = await resync(cfg, state=state, clock=clock, environ=env, transports={"shop": fake.transport()}, **kw)
        return run

    full = await sync()
    assert promised(full)[str(first["id"])] == ("backorder", PO_UNITS)
    assert promised(full)[str(copy["id"])][0] == "out_of_stock"

    clock.advance(30)
    await sync(incremental=True)  # pulls what the full pass wrote, and moves the bookmark past it
    clock.advance(30)
    fake.update_product(copy["id"], name="Kettle, second batch")  # only the copy is pulled next
    incremental = await sync(incremental=True)
    assert incremental.mode == "incremental" and incremental.items == 1
    assert incremental.changes == []  # still decided without the purchase order: nothing to write
    assert any("DUP-1" in w and f"#{first['id']}" in w for w in incremental.warnings)
    shown = fake.get_product(copy["id"])
    assert shown["backorders"] == "no" and shown["stock_status"] == "outofstock"
