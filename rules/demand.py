"""Demand: sales velocity, its spread, safety stock, reorder point, days of cover. Pure functions.

Sales history is `Facts.sales`: units sold per calendar day (store timezone), ending yesterday.

- **Window**: the `window_days` days before today (today itself is not over yet).
- **Days out of stock** (`DaySales.in_stock = False`) are left out: a day nobody could buy says
  nothing about demand. A day of the window with no entry counts as in stock with no sales (the
  history may list only days with sales); mark days before a product existed as not in stock to
  leave them out too.
- **Velocity** d̄ = units sold on the counted days / number of counted days (units per day);
  None when the window has no counted day ("unknown", which no comparison matches).
- **σ_d** = sample standard deviation of daily units over the counted days (0 with one day).
- **Safety stock** = z·σ_d·√L, or with a lead time that varies (σ_L days)
  z·√(L·σ_d² + d̄²·σ_L²).
- **Reorder point** = d̄·L + safety stock.
- **Days of cover** = available / d̄ (0 when nothing is available, infinite with no demand).
- **Inventory position** = available (negative = units owed to backorders) + every known
  incoming quantity, late ones included (still on order).
- **Suggested quantity** (periodic review every R = `review_days`): order up to
  d̄·(L + R) + z·√((L + R)·σ_d² + d̄²·σ_L²) when the position is at or below the reorder point.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import NormalDist

from stockstatus.rules.model import DaySales, Facts

DEFAULT_WINDOW_DAYS = 28


def daily_demand(sales: Iterable[DaySales], today: date, window_days: int = DEFAULT_WINDOW_DAYS) -> list[int]:
    """Units sold on each in-stock day of the window (days without an entry count as 0)."""
    start = today - timedelta(days=window_days)
    units: dict[date, int] = {}
    closed: set[date] = set()
    for entry in sales:
        if start <= entry.day < today:
            if entry.in_stock:
                units[entry.day] = units.get(entry.day, 0) + entry.units
            else:
                closed.add(entry.day)
    counted = window_days - len(closed)
    values = [n for d, n in units.items() if d not in closed]
    return values + [0] * (counted - len(values))


def velocity(sales: Iterable[DaySales], today: date, window_days: int = DEFAULT_WINDOW_DAYS) -> float | None:
    """Mean units per in-stock day over the window; None when no day of it counts."""
    values = daily_demand(sales, today, window_days)
    return sum(values) / len(values) if values else None


def demand_sd(sales: Iterable[DaySales], today: date, window_days: int = DEFAULT_WINDOW_DAYS) -> float | None:
    """Sample standard deviation of daily units over the in-stock days of the window."""
    values = daily_demand(sales, today, window_days)
    return _sd(values) if values else None


def _sd(values: list[int]) -> float:
    n = len(values)
    if n < 2:
        return 0.0
    mean = sum(values) / n
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))


def days_of_cover(available: int | None, daily: float | None) -> float | None:
    """Days the stock lasts at `daily` units per day (0 when none is available, inf with no demand)."""
    if available is None or daily is None:
        return None
    if available <= 0:
        return 0.0
    return math.inf if daily <= 0 else available / daily


def z_for(service_level: float) -> float:
    """The z-score of a cycle service level (0.95 → 1.645)."""
    if not 0 < service_level < 1:
        raise ValueError(f"service level {service_level} is not between 0 and 1 (e.g. 0.95)")
    return NormalDist().inv_cdf(service_level)


def safety_stock(
    z: float,
    demand_sd_daily: float,
    lead_time_days: float,
    *,
    mean_daily: float = 0.0,
    lead_time_sd_days: float | None = None,
) -> float:
    """z·σ_d·√L, or z·√(L·σ_d² + d̄²·σ_L²) when the lead time varies by σ_L days."""
    if lead_time_sd_days:
        return z * math.sqrt(lead_time_days * demand_sd_daily**2 + mean_daily**2 * lead_time_sd_days**2)
    return z * demand_sd_daily * math.sqrt(lead_time_days)


def reorder_point(mean_daily: float, lead_time_days: float, safety: float) -> float:
    """d̄·L + safety stock."""
    return mean_daily * lead_time_days + safety


@dataclass(frozen=True, slots=True)
class ReorderSuggestion:
    """One SKU's reorder figures (for `connector report reorder`)."""

    sku: str
    velocity: float
    """d̄, units per in-stock day over the window."""
    demand_sd: float
    lead_time_days: int
    z: float
    safety_stock: float
    reorder_point: float
    position: int
    """On hand + on order − backorders."""
    order_up_to: float
    suggested: int
    """Units to order now (0 when above the reorder point)."""
    days_of_cover: float | None

    @property
    def due(self) -> bool:
        """At or below the reorder point."""
        return self.position <= self.reorder_point


NOT_TRACKED = "stock not tracked"
NO_LEAD_TIME = "no lead time configured"
NO_HISTORY = "no sales history yet"


def missing_for_reorder(
    facts: Facts, *, window_days: int = DEFAULT_WINDOW_DAYS, lead_time_days: int | None = None
) -> str | None:
    """Which input a reorder suggestion lacks (`NOT_TRACKED`, `NO_LEAD_TIME`, `NO_HISTORY`), or None.

    Checked in that order: the first one missing is the one to fix first.
    """
    lead = facts.lead_time_days if lead_time_days is None else lead_time_days
    if facts.available is None:
        return NOT_TRACKED
    if lead is None or lead < 0:
        return NO_LEAD_TIME
    if not daily_demand(facts.sales, facts.today, window_days):
        return NO_HISTORY
    return None


def reorder_suggestion(
    facts: Facts,
    *,
    service_level: float = 0.95,
    z: float | None = None,
    window_days: int = DEFAULT_WINDOW_DAYS,
    review_days: int = 7,
    lead_time_days: int | None = None,
) -> ReorderSuggestion | None:
    """Reorder point, inventory position and suggested quantity; None without lead time or history.

    `z` overrides `service_level`. `lead_time_days` overrides `facts.lead_time_days`; the lead
    time's spread is `facts.lead_time_sd_days`. Untracked stock gives None.
    """
    if missing_for_reorder(facts, window_days=window_days, lead_time_days=lead_time_days) is not None:
        return None
    lead = facts.lead_time_days if lead_time_days is None else lead_time_days
    assert lead is not None and facts.available is not None  # missing_for_reorder checked both
    values = daily_demand(facts.sales, facts.today, window_days)
    mean = sum(values) / len(values)
    sd = _sd(values)
    score = z_for(service_level) if z is None else z
    sd_lead = facts.lead_time_sd_days
    safety = safety_stock(score, sd, lead, mean_daily=mean, lead_time_sd_days=sd_lead)
    point = reorder_point(mean, lead, safety)
    protect = lead + review_days
    up_to = reorder_point(mean, protect, safety_stock(score, sd, protect, mean_daily=mean, lead_time_sd_days=sd_lead))
    on_order = sum(e.quantity for e in facts.supply if e.quantity is not None and e.quantity > 0)
    position = facts.available + on_order
    suggested = max(math.ceil(up_to - position - 1e-9), 0) if position <= point else 0
    return ReorderSuggestion(
        sku=facts.sku,
        velocity=mean,
        demand_sd=sd,
        lead_time_days=lead,
        z=score,
        safety_stock=safety,
        reorder_point=point,
        position=position,
        order_up_to=up_to,
        suggested=suggested,
        days_of_cover=days_of_cover(facts.available, mean),
    )
