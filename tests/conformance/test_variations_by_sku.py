"""Variations read by SKU give the same items as per-product listings, on a real WooCommerce 10 store and the fake.

Both stores are seeded as in `test_realstore` (a variable product whose 12 variations have two
attributes and stock of their own, one whose 3 variations share its stock). On each, the
adapter pulls once listing every parent's variations and once told the items it knows (so it
reads them through `products?sku=`); the two pulls must give the same items, and the real
store's items must equal the fake's, SKU by SKU.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import date
from typing import Any

import httpx
import pytest

from stockstatus.adapters.woocommerce.auth import WooCommerceAuth
from stockstatus.adapters.woocommerce.client import WooCommerceAdapter
from stockstatus.adapters.woocommerce.settings import WooCommerceSettings
from stockstatus.core.http import HttpPolicy
from stockstatus.core.model import Item

from .conftest import Recorder, Target, fake_target, real_target
from .test_realstore import seed

pytestmark = pytest.mark.realstore


def comparable(item: Item) -> dict[str, Any]:
    """What an item says, without the store's ids (the two stores number their posts apart)."""
    platform = dict(item.platform)
    pool = platform.pop("stock_pool", None)
    for name in ("product_id", "variation_id"):
        platform.pop(name, None)
    return {
        "sku": item.sku,
        "name": item.name,
        "managed": item.managed,
        "available": item.available,
        "shown": item.shown,
        "tags": item.tags,
        "categories": item.categories,
        "release_date": item.release_date,
        "restock_date": item.restock_date,
        "problems": item.problems,
        "pooled": pool is not None,
        "pool_backorders": None if pool is None else pool.backorders,
        "platform": {k: v for k, v in platform.items() if k != "meta"},
        "meta": sorted((k, str(v)) for k, v in (platform.get("meta") or {}).items()),
    }


async def pull(target: Target, known: list[Item] | None) -> tuple[list[Item], Recorder]:
    recorder = Recorder(target.inner)
    settings = WooCommerceSettings(url=target.url, key_env="K", secret_env="S")
    async with httpx.AsyncClient(transport=recorder, timeout=600) as client:
        adapter = WooCommerceAdapter(
            settings, client, WooCommerceAuth(target.key, target.secret), policy=HttpPolicy(attempts=2)
        )
        if known is not None:
            adapter.known_items({item.key: item.sku for item in known})
        items = await adapter.pull_items()
    return items, recorder


@pytest.fixture(scope="module")
def pulled(realstore: dict[str, str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for target in (fake_target(), real_target(realstore)):
        prefix = f"K{secrets.token_hex(3).upper()}"
        with target.api() as api:
            seeded, parents = seed(api, prefix, date.today())
        listed, _ = asyncio.run(pull(target, None))
        by_sku, recorder = asyncio.run(pull(target, listed))
        ours = [i for i in listed if (i.sku or "").startswith(prefix)]
        found[target.name] = {
            "prefix": prefix,
            "parents": parents,
            "listed": {i.key: comparable(i) for i in listed},
            "by_sku": {i.key: comparable(i) for i in by_sku},
            "ours": {i.sku.removeprefix(prefix): comparable(i) for i in ours if i.sku},
            "names": {i.sku.removeprefix(prefix): i.name.replace(prefix, "") for i in ours if i.sku},
            "exchanges": recorder.exchanges,
            "seeded": len(seeded),
        }
    return found


@pytest.mark.parametrize("name", ["fake", "real"])
def test_reading_known_variations_by_sku_gives_the_same_items_as_listing_them(pulled, name):
    found = pulled[name]
    assert found["by_sku"] == found["listed"]
    assert len(found["ours"]) == found["seeded"]


@pytest.mark.parametrize("name", ["fake", "real"])
def test_known_variations_are_not_listed_per_product(pulled, name):
    found = pulled[name]
    listed = {e.path.split("/")[-2] for e in found["exchanges"] if e.path.endswith("/variations")}
    assert not listed & {str(pid) for pid in found["parents"].values()}
    by_sku = [e for e in found["exchanges"] if e.path.endswith("/products") and e.params.get("sku")]
    assert by_sku and all(e.status == 200 for e in by_sku)


def test_the_real_store_and_the_fake_give_the_same_items_sku_by_sku(pulled):
    fake, real = pulled["fake"], pulled["real"]

    def without_prefix(found: dict[str, Any]) -> dict[str, Any]:
        return {
            sku: {**item, "sku": sku, "name": found["names"][sku], "meta": item["meta"]}
            for sku, item in found["ours"].items()
        }

    assert without_prefix(real) == without_prefix(fake)
