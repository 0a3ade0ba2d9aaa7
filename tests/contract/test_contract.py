"""The platform contract: what the sync engine relies on from every platform, on its fake store.

A new platform is one folder and one entry point; it is done when this suite passes for it
(`python -m pytest tests/contract`).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime

import pydantic
import pytest

from stockstatus.core import catalogue as samples
from stockstatus.core.errors import AuthError
from stockstatus.core.model import Update
from stockstatus.core.platform import pulls_changes
from stockstatus.core.state import StateStore

from .conftest import Fault, Shop, open_shop, today


def expected_stock(catalogue: samples.Catalogue) -> dict[str, int | None]:
    """Each SKU's sellable quantity: the catalogue's stock less what the open orders took."""
    ordered: Counter[str] = Counter()
    for order in catalogue.orders:
        for sku, quantity in order.lines:
            ordered[sku] += quantity
    stock: dict[str, int | None] = {}
    for product in catalogue:
        rows = product.variants or (product,)
        for row in rows:
            assert row.sku is not None
            stock[row.sku] = None if row.stock is None else row.stock - ordered[row.sku]
    return stock


def test_settings_refuse_unknown_keys(shop: Shop) -> None:
    shop.platform.settings_model.model_validate(dict(shop.demo.settings))
    with pytest.raises(pydantic.ValidationError):
        shop.platform.settings_model.model_validate({**shop.demo.settings, "no_such_key": "x"})


def test_missing_credentials_are_named_without_their_values(shop: Shop) -> None:
    settings = shop.store.settings
    assert shop.platform.missing_secrets(settings, shop.environ) == []
    problems = shop.platform.missing_secrets(settings, {})
    assert problems, "a store without its credentials must be refused before any request"
    for name, value in shop.environ.items():
        assert any(name in p for p in problems), f"no problem names {name}: {problems}"
        assert all(value not in p for p in problems)


@pytest.mark.parametrize("size", [None, 24], ids=["demo", "generated-24"])
async def test_pull_returns_every_sku_once_with_its_stock(
    platform_name: str, size: int | None, state: StateStore
) -> None:
    catalogue = samples.demo(today()) if size is None else samples.generated(size, today())
    shop = open_shop(platform_name, catalogue, state)
    async with shop.adapter() as adapter:
        items = await adapter.pull_items()

    assert Counter(i.sku for i in items) == Counter(expected_stock(catalogue).keys()), "each SKU once, no others"
    assert len({i.key for i in items}) == len(items), "keys are unique"
    by_sku = {i.sku: i for i in items}
    for sku, stock in expected_stock(catalogue).items():
        item = by_sku[sku]
        assert (item.managed, item.available) == (stock is not None, stock), sku
    for product in catalogue:
        if product.variable:
            parents = {by_sku[v.sku].parent_key for v in product.variants}
            assert len(parents) == 1 and None not in parents, f"variants of {product.name} name one parent"
        for row in product.variants or (product,):
            item = by_sku[row.sku]
            assert (item.restock_date, item.release_date) == (row.restock_date, row.release_date), row.sku
            assert item.problems == (), row.sku
        if samples.DISCONTINUED in product.tags:
            assert samples.DISCONTINUED in by_sku[product.sku].tags


async def test_open_orders_come_back_with_their_lines(shop: Shop) -> None:
    async with shop.adapter() as adapter:
        items = await adapter.pull_items()
        orders = await adapter.open_orders()

    keys = {i.sku: i.key for i in items}
    expected = Counter(tuple(sorted(o.lines)) for o in shop.catalogue.orders)
    assert Counter(tuple(sorted((l.sku, l.quantity) for l in o.lines)) for o in orders) == expected
    assert len({o.order_id for o in orders}) == len(orders)
    for order in orders:
        assert order.created_at.tzinfo is not None, "order dates are aware"
        for line in order.lines:
            assert line.item_key == keys[line.sku], "a line names the pulled item it waits for"


async def test_push_answers_once_per_update_and_the_store_then_shows_each_decision(shop: Shop) -> None:
    planned = await shop.run(dry_run=True)
    assert planned.outcome == "ok" and planned.changes, "a new store holds things to change"
    assert shop.wire.writes == [], "a dry run writes nothing"
    updates = [Update(c.item, c.decision, c.fields) for c in planned.changes]

    async with shop.adapter() as adapter:
        results = await adapter.push(updates)
        after = {i.key: i for i in await adapter.pull_items()}

    assert sorted(r.item_key for r in results) == sorted(u.item.key for u in updates), "one result per update"
    assert [r for r in results if not r.ok] == []
    for update in updates:
        shown = after[update.item.key]
        assert adapter.plan(shown, update.decision) == {}, f"{shown.label} already shows its decision"
        assert (shown.shown.status, shown.shown.eta) == (update.decision.status, update.decision.eta), shown.label


async def test_a_second_pass_writes_nothing(shop: Shop) -> None:
    first = await shop.run()
    assert first.outcome == "ok" and first.written == len(first.changes) > 0
    assert shop.wire.writes, "the first pass wrote its changes"

    shop.wire.writes.clear()
    again = await shop.run()
    assert (again.outcome, again.changes, shop.wire.writes) == ("ok", [], [])


@pytest.mark.parametrize("fault", ["unreadable", "maintenance"])
async def test_a_failed_read_writes_nothing(shop: Shop, fault: Fault) -> None:
    """Whichever read of a pass fails (and every read after it), the pass fails and nothing is written."""
    before = await shop.items()
    shop.wire.fail_reads(None)
    await shop.run(dry_run=True)
    reads = shop.wire.reads
    assert reads > 0

    for start in range(reads):
        shop.wire.fail_reads(start, fault)
        run = await shop.run()
        assert run.outcome == "failed" and run.error, f"reads from #{start} failing: {run.outcome}"
        assert shop.wire.writes == [], f"reads from #{start} failing: wrote {shop.wire.writes}"

    assert await shop.items() == before, "a failed read is never taken for 'out of stock'"
    assert shop.state.accepted.for_store(shop.store.name) == {}


async def test_refused_credentials_fail_the_pass_naming_them(shop: Shop) -> None:
    wrong = {name: f"not-{value}" for name, value in shop.environ.items()}
    before = await shop.items()

    async with shop.adapter(wrong) as adapter:
        with pytest.raises(AuthError):
            await adapter.check()
    run = await shop.run(environ=wrong)

    assert run.outcome == "failed"
    assert run.error is not None and "credentials" in run.error
    for secret in (*shop.environ.values(), *wrong.values()):
        assert secret not in run.error
    assert shop.wire.writes == []
    assert await shop.items() == before


async def test_an_incremental_pull_returns_what_changed_through_the_api(shop: Shop) -> None:
    async with shop.adapter() as adapter:
        if not pulls_changes(adapter):
            pytest.skip(f"the {shop.name} adapter does not offer incremental pulls")
    planned = await shop.run(dry_run=True)
    change = planned.changes[0]
    since = datetime.now(UTC)
    # Stores keep modification times to the second (WooCommerce's and Shopify's filters compare
    # whole seconds): the change is made in the next one, and the seeding stays before `since`.
    await asyncio.sleep(1.01 - time.time() % 1)

    async with shop.adapter() as adapter:
        [result] = await adapter.push([Update(change.item, change.decision, change.fields)])
        assert result.ok
        changed = await adapter.pull_changed(since)
    if changed is None:
        pytest.skip(f"the {shop.name} store could not tell what changed")

    [item] = [i for i in changed if i.key == change.item.key]
    assert adapter.plan(item, change.decision) == {}, "the changed item comes back as it is now"
