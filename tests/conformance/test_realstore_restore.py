"""`connector restore` against a real WooCommerce 10 store and against the fake, side by side.

Both stores get the same few products (a sold-out item with a restock date, one whose merchant
set backorders to "notify", an untracked pre-order, one with the merchant's own value in a meta
key the connector writes, and a variable product whose variations share its stock), a pass, a
merchant's edit, then a restore. What the store holds afterwards must be what it held before the
pass, except the field the merchant edited; meta keys the connector added must be gone.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from stockstatus.core.config import load
from stockstatus.core.outcomes import RunOutcome
from stockstatus.core.state import StateStore
from stockstatus.core.sync import resync
from stockstatus.core.sync.restore import Fate, restore_store

from .conftest import Target, fake_target, real_target
from .test_realstore import CONFIG, ZONE

pytestmark = pytest.mark.realstore


def seed(api: httpx.Client, prefix: str, today: date) -> dict[str, tuple[str, int]]:
    """SKU → (REST path, id) of each seeded product and variation."""
    restock = (today + timedelta(days=10)).isoformat()
    release = (today + timedelta(days=120)).isoformat()
    simples = [
        {
            "sku": f"{prefix}-RESTOCK",
            "manage_stock": True,
            "stock_quantity": 0,
            "meta_data": [{"key": "restock_date", "value": restock}],
        },
        {"sku": f"{prefix}-NOTIFY", "manage_stock": True, "stock_quantity": 0, "backorders": "notify"},
        {
            "sku": f"{prefix}-PRE",
            "manage_stock": False,
            "stock_status": "instock",
            "meta_data": [{"key": "release_date", "value": release}],
        },
        {
            "sku": f"{prefix}-OWN",
            "manage_stock": True,
            "stock_quantity": 3,
            "meta_data": [{"key": "connector_message", "value": "Hand-made to order"}],
        },
    ]
    made = api.post("products/batch", json={"create": [{"name": s["sku"], **s} for s in simples]}).json()["create"]
    found = {p["sku"]: ("products", int(p["id"])) for p in made}
    pool = api.post(
        "products",
        json={
            "name": f"{prefix} pool",
            "type": "variable",
            "manage_stock": True,
            "stock_quantity": 0,
            "backorders": "no",
            "attributes": [{"name": "Colour", "options": ["Red", "Blue"], "variation": True}],
            "meta_data": [{"key": "restock_date", "value": restock}],
        },
    ).json()
    found[f"{prefix}-POOL"] = ("products", int(pool["id"]))
    variations = [
        {"sku": f"{prefix}-POOL-{c.upper()}", "regular_price": "5", "attributes": [{"name": "Colour", "option": c}]}
        for c in ("Red", "Blue")
    ]
    path = f"products/{pool['id']}/variations"
    for v in api.post(f"{path}/batch", json={"create": variations}).json()["create"]:
        found[v["sku"]] = (path, int(v["id"]))
    return found


def snapshot(api: httpx.Client, seeded: dict[str, tuple[str, int]]) -> dict[str, Any]:
    out = {}
    for sku, (path, number) in seeded.items():
        record = api.get(f"{path}/{number}", params={"_fields": "stock_status,backorders,meta_data"}).json()
        meta = {m["key"]: m["value"] for m in record.get("meta_data") or ()}
        out[sku] = (record.get("stock_status"), record.get("backorders"), meta)
    return out


def scenario(target: Target, tmp: Path) -> dict[str, Any]:
    prefix = f"R{secrets.token_hex(3).upper()}"
    config_path = tmp / f"{target.name}-restore.toml"
    config_path.write_text(CONFIG.format(zone=ZONE, url=target.url))
    config = load(config_path)
    environ = {"CONF_KEY": target.key, "CONF_SECRET": target.secret}
    state = StateStore(tmp / f"{target.name}-restore.sqlite")
    try:
        with target.api() as api:
            seeded = seed(api, prefix, date.today())
            before = snapshot(api, seeded)
            [run] = asyncio.run(
                resync(config, state=state, environ=environ, transports={"store": target.inner}, force=True)
            )
            written = snapshot(api, seeded)
            # The merchant rewrites the restock item's message by hand after the pass.
            path, number = seeded[f"{prefix}-RESTOCK"]
            edit = {"meta_data": [{"key": "connector_message", "value": "Call us"}]}
            api.put(f"{path}/{number}", json=edit).raise_for_status()
            restored = asyncio.run(
                restore_store(
                    config,
                    store_name="store",
                    skus=[sku for sku in seeded if not sku.endswith("-POOL")],  # the parent is no item
                    state=state,
                    environ=environ,
                    transports={"store": target.inner},
                )
            )
            after = snapshot(api, seeded)
    finally:
        state.close()
    return {
        "prefix": prefix,
        "run": run,
        "before": before,
        "written": written,
        "restored": restored,
        "after": after,
    }


@pytest.fixture(scope="module")
def restores(realstore: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("restore")
    return {target.name: scenario(target, tmp) for target in (fake_target(), real_target(realstore))}


@pytest.mark.parametrize("name", ["fake", "real"])
def test_restore_gives_back_the_store_as_it_was_but_the_merchants_edit(restores, name):
    found = restores[name]
    prefix, before, written, after = found["prefix"], found["before"], found["written"], found["after"]
    assert found["run"].outcome is RunOutcome.OK
    assert written != before
    restored = found["restored"]
    assert restored.outcome is RunOutcome.OK and restored.paused
    [left] = [f for f in restored.fields if f.result == Fate.LEFT]
    assert (left.sku, left.original.field, left.now) == (f"{prefix}-RESTOCK", "meta:connector_message", "Call us")

    expected = dict(before)
    status, backorders, meta = before[f"{prefix}-RESTOCK"]
    expected[f"{prefix}-RESTOCK"] = (status, backorders, {**meta, "connector_message": "Call us"})
    assert after == expected
    # The merchant's own value in a key the connector writes came back; its added keys are gone.
    assert after[f"{prefix}-OWN"][2] == {"connector_message": "Hand-made to order"}
    assert after[f"{prefix}-POOL"][1] == "no"


def test_restore_reads_and_writes_the_same_on_both_stores(restores):
    def shape(name: str) -> list[tuple[str, str, str]]:
        found = restores[name]
        prefix = found["prefix"]
        return sorted(((f.sku or "").replace(prefix, ""), f.original.field, f.result) for f in found["restored"].fields)

    assert shape("fake") == shape("real")
