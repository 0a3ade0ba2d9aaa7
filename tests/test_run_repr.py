"""A pass's result stays small when printed: asyncio formats every finished task's result with
`repr` (`asyncio.run` does it when it returns), so a repr that lists a large plan costs memory
in proportion to the catalogue."""

from __future__ import annotations

import asyncio

from stockstatus.core.model import Item
from stockstatus.core.sync.run import Change, StoreRun
from stockstatus.rules.model import Decision, Status


def test_a_run_repr_counts_its_plan_instead_of_listing_it():
    item = Item(key="1", sku="MUG-1", name="Mug", managed=True, available=0)
    change = Change(item, Decision(Status.OUT_OF_STOCK, "sold out"), {"backorders": "no"})
    run = StoreRun(store="eu-shop", platform="woocommerce", dry_run=True, items=20_000)
    run.changes = [change] * 20_000

    text = repr(run)

    assert "changes=20000" in text and "items=20000" in text and "'eu-shop'" in text
    assert len(text) < 400


def test_a_finished_pass_task_formats_without_its_plan():
    run = StoreRun(store="eu-shop", platform="woocommerce", dry_run=True)
    run.changes = [
        Change(
            Item(key=str(n), sku=None, name="x", managed=False, available=None),
            Decision(Status.IN_STOCK, "default"),
            {},
        )
        for n in range(5_000)
    ]

    async def a_pass() -> list[StoreRun]:
        return [run]

    async def main() -> str:
        task = asyncio.ensure_future(a_pass())
        await task
        return repr(task)

    assert len(asyncio.run(main())) < 600
