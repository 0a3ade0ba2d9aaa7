"""Variations read by SKU and id at once (`products?sku=…&include=…`), on a real WooCommerce 10 store and the fake.

WooCommerce's products query takes in variations only when `sku=` is given; `include=` then
narrows it to the ids named, which is what keeps the request's cost independent of the size of
the catalogue (see `WooCommerceAdapter._sku_chunk`). Both stores must answer the same: the
variations named by both, nothing for ids alone, and the adapter's pull by SKU must name every
variation by id and give the items that listing each product gives.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import httpx
import pytest

from .conftest import fake_target, real_target
from .test_variations_by_sku import comparable, pull

pytestmark = pytest.mark.realstore

FIELDS = "id,sku,type,parent_id"


def seed(api: httpx.Client, prefix: str) -> dict[str, Any]:
    """A simple product and a variable one with three variations, one selling from the parent's stock."""
    simple = api.post("products", json={"name": f"{prefix} mug", "sku": f"{prefix}-MUG", "regular_price": "5"})
    simple.raise_for_status()
    sizes = ["S", "M", "L"]
    parent = api.post(
        "products",
        json={
            "name": f"{prefix} tee",
            "type": "variable",
            "manage_stock": True,
            "stock_quantity": 2,
            "attributes": [{"name": "Size", "options": sizes, "variation": True}],
        },
    )
    parent.raise_for_status()
    pid = parent.json()["id"]
    create: list[dict[str, Any]] = []
    for n, size in enumerate(sizes):
        variation: dict[str, Any] = {
            "sku": f"{prefix}-TEE-{size}",
            "regular_price": "10",
            "attributes": [{"name": "Size", "option": size}],
            "meta_data": [{"key": "stock_eta", "value": f"2031-01-0{n + 1}"}],
        }
        if size != "L":
            variation |= {"manage_stock": True, "stock_quantity": n - 1, "backorders": "notify" if n else "no"}
        create.append(variation)
    made = api.post(f"products/{pid}/variations/batch", json={"create": create})
    made.raise_for_status()
    return {
        "simple": simple.json(),
        "parent": pid,
        "variations": {v["sku"].removeprefix(f"{prefix}-"): v["id"] for v in made.json()["create"]},
    }


def named(objects: list[dict[str, Any]], prefix: str, parent: int) -> list[tuple[str, str, bool]]:
    """What came back, without the store's ids: SKU, type, and whether its parent is the seeded one."""
    return sorted((o["sku"].removeprefix(f"{prefix}-"), o["type"], o["parent_id"] == parent) for o in objects)


def ask(api: httpx.Client, prefix: str, parent: int, **params: str) -> list[tuple[str, str, bool]]:
    """`GET products` with `params`, as `named` shows it."""
    response = api.get("products", params={"per_page": "100", "orderby": "id", "order": "asc", **params})
    response.raise_for_status()
    return named(response.json(), prefix, parent)


@pytest.fixture(scope="module")
def stores(realstore: dict[str, str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for target in (fake_target(), real_target(realstore)):
        prefix = f"I{secrets.token_hex(3).upper()}"
        with target.api() as api:
            seeded = seed(api, prefix)
            v, mug = seeded["variations"], seeded["simple"]
            skus = ",".join(f"{prefix}-{s}" for s in ("TEE-S", "TEE-M", "TEE-L", "MUG"))

            answers = {
                "sku and include": ask(
                    api, prefix, seeded["parent"], sku=skus, include=f"{v['TEE-S']},{v['TEE-L']}", _fields=FIELDS
                ),
                "include alone": ask(
                    api, prefix, seeded["parent"], include=f"{v['TEE-S']},{v['TEE-L']}", _fields=FIELDS
                ),
                "include of another": ask(
                    api, prefix, seeded["parent"], sku=f"{prefix}-TEE-S", include=str(mug["id"]), _fields=FIELDS
                ),
                "sku and include of a product": ask(
                    api, prefix, seeded["parent"], sku=skus, include=str(mug["id"]), _fields=FIELDS
                ),
            }
        listed, _ = asyncio.run(pull(target, None))
        by_sku, recorder = asyncio.run(pull(target, listed))
        found[target.name] = {
            "answers": answers,
            "listed": {i.key: comparable(i) for i in listed if (i.sku or "").startswith(prefix)},
            "by_sku": {i.key: comparable(i) for i in by_sku if (i.sku or "").startswith(prefix)},
            "reads": [e for e in recorder.exchanges if e.path.endswith("/products") and e.params.get("sku")],
            "listings": [e.path for e in recorder.exchanges if e.path.endswith("/variations")],
            "parent": seeded["parent"],
            "ids": set(v.values()),
        }
        with target.api() as api:
            api.post(
                "products/batch", json={"delete": [seeded["parent"], mug["id"]]}, params={"force": "true"}
            ).raise_for_status()
    return found


@pytest.mark.parametrize("name", ["fake", "real"])
def test_sku_with_include_answers_the_variations_named_by_both(stores, name):
    answers = stores[name]["answers"]
    assert answers["sku and include"] == [("TEE-L", "variation", True), ("TEE-S", "variation", True)]
    # Ids alone query products only; a SKU outside the ids named is not answered.
    assert answers["include alone"] == []
    assert answers["include of another"] == []
    assert answers["sku and include of a product"] == [("MUG", "simple", False)]


def test_the_real_store_and_the_fake_answer_sku_with_include_alike(stores):
    assert stores["real"]["answers"] == stores["fake"]["answers"]


@pytest.mark.parametrize("name", ["fake", "real"])
def test_a_pull_reads_known_variations_by_sku_and_id_and_gives_the_listed_items(stores, name):
    found = stores[name]
    assert found["by_sku"] == found["listed"] and len(found["listed"]) == 4
    assert f"/products/{found['parent']}/variations" not in {p.split("/wp-json/wc/v3")[-1] for p in found["listings"]}
    named_ids = [{int(i) for i in e.params.get("include", "").split(",") if i} for e in found["reads"]]
    ours = [e for e, ids in zip(found["reads"], named_ids, strict=True) if ids & found["ids"]]
    assert ours and all(e.status == 200 for e in ours)
    assert found["ids"] <= set().union(*named_ids)
