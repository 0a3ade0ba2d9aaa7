"""One bad item never stops a store: on both platforms and in a dry run, the rest syncs."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from stockstatus.core import catalogue, demo, operator
from stockstatus.core.catalogue import Catalogue, SampleOrder, SampleProduct
from stockstatus.core.config import Config, from_mapping
from stockstatus.core.daemon import Health
from stockstatus.core.platform import platforms
from stockstatus.core.state import StateStore
from stockstatus.core.sync import StoreRun, resync
from tests.conftest import FIXED_NOW

TODAY = FIXED_NOW.date()
PLATFORMS = ["woocommerce", "shopify"]
FAR = SampleProduct("Placeholder Dripper", "Brewers", "20.00", sku="FAR-9999", stock=0, restock_date=date(9999, 12, 31))
HUGE = SampleProduct("Barcode Scale", "Scales", "60.00", sku="HUGE-1", stock=5)


def shop(products: tuple[SampleProduct, ...] = (), orders: tuple[SampleOrder, ...] = ()) -> Catalogue:
    """The demo's coffee shop with extra products and open orders."""
    base = catalogue.demo(TODAY)
    return Catalogue(base.products + products, base.orders + orders)


def config_for(platform: str, settings: dict[str, Any], tmp_path: Path) -> Config:
    raw = demo.demo_settings()
    raw["stores"] = [{"name": "shop", "platform": platform, **settings}]
    return from_mapping(raw, path=tmp_path / "connector.toml", base_dir=tmp_path)


async def sync(platform: str, sample: Catalogue, tmp_path: Path, state: StateStore, **kw: Any) -> StoreRun:
    store = platforms()[platform].demo_store(sample)
    [run] = await resync(
        config_for(platform, dict(store.settings), tmp_path),
        state=state,
        clock=lambda: FIXED_NOW,
        environ=store.environ,
        transports={"shop": store.transport},
        **kw,
    )
    return run


async def alone(platform: str, sample: Catalogue, tmp_path: Path, **kw: Any) -> StoreRun:
    """The same pass on a state file of its own."""
    other = StateStore(":memory:")
    try:
        return await sync(platform, sample, tmp_path, other, **kw)
    finally:
        other.close()


def decided(run: StoreRun) -> dict[str | None, str]:
    return {c.item.sku: c.decision.status.value for c in run.changes}


@pytest.mark.parametrize("dry_run", [False, True], ids=["resync", "dry-run"])
@pytest.mark.parametrize("platform", PLATFORMS)
async def test_a_restock_date_of_9999_12_31_is_no_reliable_timeline(platform, dry_run, tmp_path, state):
    without = await alone(platform, shop(), tmp_path, dry_run=dry_run)
    run = await sync(platform, shop((FAR,)), tmp_path, state, dry_run=dry_run)
    assert run.outcome == "ok" and run.error is None
    plan = decided(run)
    assert plan.pop("FAR-9999") == "out_of_stock"  # sold out and no reliable timeline
    assert plan == decided(without) and len(plan) > 3


# Shopify's GraphQL Int is 32-bit: the largest line it can hand out is still absurd.
ABSURD = {"woocommerce": 10**19, "shopify": 2_000_000_000}


@pytest.mark.parametrize("dry_run", [False, True], ids=["resync", "dry-run"])
@pytest.mark.parametrize("platform", PLATFORMS)
async def test_an_absurd_order_line_skips_its_item_only(platform, dry_run, tmp_path, state):
    without = await alone(platform, shop((HUGE,)), tmp_path, dry_run=dry_run)
    absurd = SampleOrder((("HUGE-1", ABSURD[platform]),), "Ada", "Byte", "ada@example.com")
    run = await sync(platform, shop((HUGE,), (absurd,)), tmp_path, state, dry_run=dry_run)
    assert run.outcome == "ok"
    [skipped] = run.skipped
    assert (
        skipped.item.sku == "HUGE-1" and str(ABSURD[platform]) in skipped.reason and "not believable" in skipped.reason
    )
    expected = decided(without)
    expected.pop("HUGE-1")
    assert decided(run) == expected


async def test_an_item_the_rules_cannot_decide_is_skipped_with_its_reason(tmp_path, state, monkeypatch):
    from stockstatus.rules import engine

    decide = engine.RuleSet.decide

    def fails_for_one(self, facts):  # a bug in the rules for one item's facts
        if facts.sku == "KTL-STAGG-EKG":
            raise ArithmeticError("division by zero in a cover calculation")
        return decide(self, facts)

    monkeypatch.setattr(engine.RuleSet, "decide", fails_for_one)
    run = await sync("woocommerce", shop(), tmp_path, state)
    assert run.outcome == "ok"
    assert [(s.item.sku, s.reason) for s in run.skipped] == [
        ("KTL-STAGG-EKG", "could not be decided: ArithmeticError: division by zero in a cover calculation")
    ]
    assert run.written == len(run.changes) > 3


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_a_pass_that_still_fails_is_recorded_with_its_error_and_the_store_is_unhealthy(
    platform, tmp_path, state, monkeypatch, caplog
):
    from stockstatus.core.state import DecisionLog

    def broken(*args, **kw):
        raise RuntimeError("disk I/O error")

    monkeypatch.setattr(DecisionLog, "append", broken)  # the state file fails while recording
    run = await sync(platform, shop(), tmp_path, state)
    assert run.outcome == "failed" and run.error == "the pass failed: RuntimeError: disk I/O error"
    [recorded] = state.runs.recent("shop")
    assert recorded.outcome == "failed" and recorded.error == run.error

    store = platforms()[platform].demo_store(shop())
    text = operator.status_text(operator.status(config_for(platform, dict(store.settings), tmp_path), state))
    assert "failed" in text and "disk I/O error" in text

    with caplog.at_level(logging.ERROR, logger="stockstatus.core.daemon"):
        health = Health()
        health.update(run)
    assert health.failing == {"shop": run.error}
    assert "store shop is unhealthy: the pass failed: RuntimeError: disk I/O error" in caplog.text
