"""Demand figures against hand-computed numbers."""

from __future__ import annotations

import math
from datetime import date, timedelta
from random import Random

import pytest

from stockstatus.rules import (
    DaySales,
    Facts,
    SupplyEvent,
    compile_rules,
    days_of_cover,
    demand_sd,
    reorder_point,
    reorder_suggestion,
    safety_stock,
    velocity,
    z_for,
)

TODAY = date(2026, 11, 22)


def history(*units: int | None) -> tuple[DaySales, ...]:
    """One entry per day ending yesterday; None = a day out of stock."""
    n = len(units)
    return tuple(DaySales(TODAY - timedelta(days=n - i), u or 0, u is not None) for i, u in enumerate(units))


# 7 days: 2 0 4 2 (out) 3 1 -> 6 days in stock, 12 units: mean 2, deviations 0 -2 2 0 1 -1,
# squares sum 10, sample variance 10/5 = 2, sigma = sqrt(2).
WEEK = history(2, 0, 4, 2, None, 3, 1)


@pytest.mark.parametrize(
    ("sales", "window", "mean", "sd"),
    [
        pytest.param(WEEK, 7, 2.0, math.sqrt(2), id="out-of-stock day left out"),
        pytest.param(WEEK, 3, 4 / 2, math.sqrt(2), id="window of 3: out, 3, 1"),
        pytest.param(
            history(5),
            28,
            5 / 28,
            math.sqrt((5 - 5 / 28) ** 2 / 27 + 27 * (5 / 28) ** 2 / 27),
            id="days without an entry count as in stock with no sales",
        ),
        pytest.param(history(None, None), 2, None, None, id="no day in stock: unknown"),
        pytest.param((DaySales(TODAY, 99),), 7, 0.0, 0.0, id="today is not counted (not over yet)"),
    ],
)
def test_velocity_and_spread(sales: tuple[DaySales, ...], window: int, mean: float | None, sd: float | None) -> None:
    assert velocity(sales, TODAY, window) == pytest.approx(mean)
    assert demand_sd(sales, TODAY, window) == pytest.approx(sd)


@pytest.mark.parametrize(
    ("z", "sd", "lead", "mean", "sd_lead", "expected"),
    [
        pytest.param(1.65, math.sqrt(2), 9, 2.0, None, 1.65 * math.sqrt(2) * 3, id="z sigma_d sqrt(L) = 7.0004"),
        pytest.param(
            1.65, math.sqrt(2), 9, 2.0, 2.0, 1.65 * math.sqrt(34), id="with lead-time spread: z sqrt(9*2 + 4*4)"
        ),
        pytest.param(2.0, 0.0, 16, 3.0, 1.0, 6.0, id="steady demand, varying lead time: z * d * sigma_L"),
    ],
)
def test_safety_stock(z: float, sd: float, lead: float, mean: float, sd_lead: float | None, expected: float) -> None:
    assert safety_stock(z, sd, lead, mean_daily=mean, lead_time_sd_days=sd_lead) == pytest.approx(expected)


def test_reorder_point_days_of_cover_and_z() -> None:
    assert reorder_point(2.0, 9, 7.0) == 25.0
    assert days_of_cover(20, 2.0) == 10.0
    assert days_of_cover(0, 2.0) == 0.0
    assert days_of_cover(5, 0.0) == math.inf
    assert days_of_cover(None, 2.0) is None and days_of_cover(5, None) is None
    assert z_for(0.95) == pytest.approx(1.6449, abs=1e-4)
    with pytest.raises(ValueError, match=r"1\.0"):
        z_for(1.0)


def test_reorder_suggestion_by_hand() -> None:
    item = Facts(
        sku="MUG",
        today=TODAY,
        available=10,
        lead_time_days=9,
        sales=WEEK,
        supply=(SupplyEvent(TODAY + timedelta(days=30), 5),),
    )
    got = reorder_suggestion(item, z=1.65, window_days=7, review_days=7)
    assert got is not None
    # d = 2, sigma = sqrt 2; SS(L=9) = 1.65*sqrt2*3 = 7.0004; ROP = 18 + 7.0004 = 25.0004
    assert (got.velocity, got.lead_time_days) == (2.0, 9)
    assert got.safety_stock == pytest.approx(7.0004, abs=1e-4)
    assert got.reorder_point == pytest.approx(25.0004, abs=1e-4)
    # position = 10 on hand + 5 on order = 15 <= ROP: order up to 2*16 + 1.65*sqrt2*4 = 41.3338 -> 27
    assert got.position == 15 and got.due
    assert got.order_up_to == pytest.approx(41.3338, abs=1e-4)
    assert got.suggested == 27
    assert got.days_of_cover == 5.0


def test_reorder_suggestion_above_the_point_and_without_data() -> None:
    item = Facts(sku="MUG", today=TODAY, available=100, lead_time_days=9, sales=WEEK)
    got = reorder_suggestion(item, z=1.65, window_days=7)
    assert got is not None and not got.due and got.suggested == 0
    assert reorder_suggestion(Facts(sku="X", today=TODAY, available=1, sales=WEEK)) is None  # no lead time
    assert (
        reorder_suggestion(
            Facts(sku="X", today=TODAY, available=1, lead_time_days=5, sales=history(None)), window_days=1
        )
        is None
    )  # no day in stock
    backordered = Facts(sku="X", today=TODAY, available=-4, lead_time_days=5)
    got = reorder_suggestion(backordered, window_days=7, review_days=0)
    assert got is not None and got.velocity == 0.0 and got.position == -4 and got.suggested == 4


def test_a_rule_set_reads_sales_back_to_its_longest_window_and_older_days_change_nothing() -> None:
    rules = compile_rules(
        [
            {"name": "fast", "when": {"velocity": {"window_days": 7, "is": "> 3"}}, "then": {"status": "out_of_stock"}},
            {
                "name": "covered",
                "when": {"days_of_cover": {"window_days": 28, "is": "> 10"}, "available": "> 0"},
                "then": {"status": "in_stock"},
            },
        ]
    )
    assert rules.sales_days == 28
    assert (
        compile_rules([{"name": "plain", "when": {"available": "<= 0"}, "then": {"status": "out_of_stock"}}]).sales_days
        == 0
    )

    picker = Random(5)
    base = Facts(sku="TEE-1", today=TODAY, available=0)
    for _ in range(200):
        days = history(*(None if picker.random() < 0.15 else picker.randint(0, 6) for _ in range(90)))
        kept = tuple(d for d in days if d.day >= TODAY - timedelta(days=rules.sales_days))
        for available in (0, 5, 40):
            whole = rules.decide(Facts(sku="TEE-1", today=TODAY, available=available, sales=days))
            window = rules.decide(Facts(sku="TEE-1", today=TODAY, available=available, sales=kept))
            assert whole == window
    assert rules.decide(base) is not None
