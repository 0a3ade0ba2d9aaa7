"""Known variations are read many per request by SKU; a parent is listed only where that could miss something."""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any

import httpx
import pytest

from stockstatus.adapters.woocommerce.auth import WooCommerceAuth
from stockstatus.adapters.woocommerce.client import WooCommerceAdapter
from stockstatus.adapters.woocommerce.fake import FakeWooCommerce
from stockstatus.adapters.woocommerce.settings import WooCommerceSettings
from stockstatus.core.http import HttpPolicy
from stockstatus.core.model import Item

URL = "http://127.0.0.1:9"


async def no_sleep(_: float) -> None:
    return None


def seeded(parents: int = 30) -> tuple[FakeWooCommerce, list[dict[str, Any]]]:
    fake = FakeWooCommerce(base_url=URL)
    for n in range(12):
        fake.create_product(name=f"Mug {n}", sku=f"MUG-{n}", manage_stock=True, stock_quantity=n % 4)
    made = []
    for n in range(parents):
        sizes = ["S", "M", "L"]
        parent = fake.create_product(
            name=f"Tee {n}",
            type="variable",
            tags=["cotton"] if n % 2 else [],
            attributes=[{"name": "Size", "options": sizes, "variation": True}],
            meta_data=[{"key": "supplier", "value": "Acme"}],
        )
        for i, size in enumerate(sizes):
            fake.create_variation(
                parent["id"],
                sku=f"TEE-{n}-{size}",
                manage_stock=True,
                stock_quantity=(n + i) % 3 - 1,
                attributes=[{"name": "Size", "option": size}],
            )
        made.append(parent)
    # A parent whose variations sell from its own stock (`manage_stock: "parent"`).
    pool = fake.create_product(
        name="Pool",
        type="variable",
        manage_stock=True,
        stock_quantity=2,
        backorders="notify",
        attributes=[{"name": "Colour", "options": ["Red", "Blue"], "variation": True}],
    )
    for colour in ("Red", "Blue"):
        fake.create_variation(pool["id"], sku=f"POOL-{colour}", attributes=[{"name": "Colour", "option": colour}])
    made.append(pool)
    return fake, made


def adapter(fake: FakeWooCommerce) -> tuple[WooCommerceAdapter, httpx.AsyncClient]:
    client = httpx.AsyncClient(transport=fake.transport())
    settings = WooCommerceSettings(url=URL, key_env="K", secret_env="S")
    auth = WooCommerceAuth(fake.consumer_key, fake.consumer_secret)
    return WooCommerceAdapter(settings, client, auth, policy=HttpPolicy(attempts=1), sleep=no_sleep), client


def shown(items: list[Item]) -> list[tuple[Item, dict[str, Any]]]:
    """Items with what they carry for writing, the shared stock pool by its parent and value."""

    def platform(item: Item) -> dict[str, Any]:
        fields = dict(item.platform)
        pool = fields.pop("stock_pool", None)
        fields["pool"] = None if pool is None else (pool.parent_id, pool.backorders)
        return fields

    return sorted(((item, platform(item)) for item in items), key=lambda pair: pair[0].key)


def kinds(fake: FakeWooCommerce) -> Counter[str]:
    found: Counter[str] = Counter()
    for _, path, query in fake.requests:
        if path.endswith("/variations"):
            found["variation listing"] += 1
        elif path.endswith("/products"):
            found["sku read" if query.get("sku") else "product page"] += 1
    return found


async def pull(fake: FakeWooCommerce, known: list[Item] | None) -> list[Item]:
    woo, client = adapter(fake)
    async with client:
        if known is not None:
            woo.known_items({item.key: item.sku for item in known})
        fake.requests.clear()
        return await woo.pull_items()


async def test_known_variations_are_read_a_hundred_per_request_and_give_the_same_items():
    fake, _ = seeded(parents=40)
    listed = await pull(fake, None)
    assert kinds(fake) == {"product page": 1, "variation listing": 41}

    by_sku = await pull(fake, listed)

    # 122 variation SKUs: two requests of 100 and 22, no listing.
    assert kinds(fake) == {"product page": 1, "sku read": 2}
    assert shown(by_sku) == shown(listed)
    assert len(listed) == 12 + 40 * 3 + 2


async def test_a_parent_is_listed_when_a_variation_is_new_has_no_sku_or_changed_its_sku():
    fake, parents = seeded(parents=6)
    known = await pull(fake, None)
    grown, renamed, skuless, removed = parents[0], parents[1], parents[2], parents[3]
    fake.create_variation(grown["id"], sku="TEE-0-XL", manage_stock=True, stock_quantity=4)
    fake.create_variation(skuless["id"], manage_stock=True, stock_quantity=1)
    auth = WooCommerceAuth(fake.consumer_key, fake.consumer_secret)
    variation = next(i for i in known if i.parent_key == str(renamed["id"]))
    gone = next(i for i in known if i.parent_key == str(removed["id"]))
    async with httpx.AsyncClient(base_url=f"{URL}/wp-json/wc/v3/", transport=fake.transport(), auth=auth) as api:
        path = f"products/{renamed['id']}/variations/{variation.platform['variation_id']}"
        (await api.put(path, json={"sku": "TEE-1-NEW"})).raise_for_status()
        path = f"products/{removed['id']}/variations/batch"
        (await api.post(path, json={"delete": [gone.platform["variation_id"]]})).raise_for_status()

    pulled = await pull(fake, known)

    listings = {path.split("/")[-2] for _, path, _ in fake.requests if path.endswith("/variations")}
    assert listings == {str(p["id"]) for p in (grown, renamed, skuless, removed)}
    assert shown(pulled) == shown(await pull(fake, None))
    assert "TEE-0-XL" in {i.sku for i in pulled} and "TEE-1-NEW" in {i.sku for i in pulled}
    assert gone.key not in {i.key for i in pulled}


@pytest.mark.parametrize("sku", ["A,B", " PADDED"])
async def test_a_sku_the_store_would_split_or_trim_has_its_parent_listed(sku):
    fake, parents = seeded(parents=2)
    known = await pull(fake, None)
    first = parents[0]
    told = [i if i.parent_key != str(first["id"]) else dataclasses.replace(i, sku=sku) for i in known]

    await pull(fake, told)

    assert kinds(fake)["variation listing"] == 1


async def test_two_known_variations_with_one_sku_have_both_parents_listed():
    fake, parents = seeded(parents=3)
    known = await pull(fake, None)
    first, second = (str(p["id"]) for p in parents[:2])
    # The state file still says the SKU belongs to a variation of the first product, and the
    # store has since given it to one of the second's (the first one's was renamed).
    moved = next(i for i in known if i.parent_key == second)
    told = [
        dataclasses.replace(i, sku=moved.sku) if i.parent_key == first and i.sku.endswith("-S") else i for i in known
    ]

    pulled = await pull(fake, told)

    listings = {path.split("/")[-2] for _, path, _ in fake.requests if path.endswith("/variations")}
    assert listings == {first, second}
    assert shown(pulled) == shown(known)


async def test_variations_read_by_sku_are_named_by_id_too():
    fake, _ = seeded(parents=5)
    listed = await pull(fake, None)
    ids = {str(i.platform["variation_id"]) for i in listed if i.platform.get("variation_id")}

    await pull(fake, listed)

    reads = [query for _, path, query in fake.requests if path.endswith("/products") and query.get("sku")]
    assert len(reads) == 1
    assert set(reads[0]["include"].split(",")) == ids
    assert len(reads[0]["sku"].split(",")) == len(ids)


async def test_a_store_that_answers_nothing_to_sku_with_include_is_read_by_sku_alone():
    fake, _ = seeded(parents=40)
    listed = await pull(fake, None)

    def without_include(request: httpx.Request) -> httpx.Response:
        # A store whose products query leaves variations out when ids are named.
        if request.url.path.endswith("/products") and request.url.params.get("include"):
            fake.requests.append((request.method, request.url.path, dict(request.url.params)))
            return httpx.Response(200, json=[], headers={"X-WP-Total": "0", "X-WP-TotalPages": "0"})
        return fake.handle(request)

    settings = WooCommerceSettings(url=URL, key_env="K", secret_env="S")
    auth = WooCommerceAuth(fake.consumer_key, fake.consumer_secret)
    async with httpx.AsyncClient(transport=httpx.MockTransport(without_include)) as client:
        woo = WooCommerceAdapter(settings, client, auth, policy=HttpPolicy(attempts=1), sleep=no_sleep)
        woo.known_items({item.key: item.sku for item in listed})
        fake.requests.clear()
        first = await woo.pull_items()
        with_include = sum(1 for _, path, q in fake.requests if path.endswith("/products") and q.get("include"))
        fake.requests.clear()
        second = await woo.pull_items()

    assert shown(first) == shown(listed) and shown(second) == shown(listed)
    # First pass: both chunks asked with include=, then again without; no parent listed.
    assert with_include == 2
    assert kinds(fake) == {"product page": 1, "sku read": 2}
    assert not any(q.get("include") for _, path, q in fake.requests if path.endswith("/products"))
