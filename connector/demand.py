"""Demand history glue: what a pass records about sales and stock, and the daily sales the rules see.

The math (velocity, safety stock, reorder point) lives in `rules.demand`; this module only turns
what the state file holds into `DaySales` per item.

History starts for an item on the first day a pass saw it: before that the connector knows
neither its stock nor its closed orders, so those days are left out rather than counted as
days without sales.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from stockstatus.core.model import Item, OpenOrder
from stockstatus.core.state import DemandHistory, SeenLine, StockPresence
from stockstatus.rules.model import DaySales, Status


def seen_lines(orders: Iterable[OpenOrder], tz: ZoneInfo) -> list[SeenLine]:
    """Each open order's lines, one per (order, item), dated by the order's day in the store's calendar."""
    units: dict[tuple[str, str], int] = defaultdict(int)
    meta: dict[tuple[str, str], tuple[str | None, date]] = {}
    for order in orders:
        day = order.created_at.astimezone(tz).date()
        for line in order.lines:
            if line.quantity <= 0:
                continue
            key = (order.order_id, line.item_key)
            units[key] += line.quantity
            meta[key] = (line.sku, day)
    return [SeenLine(order_id, item_key, *meta[order_id, item_key], n) for (order_id, item_key), n in units.items()]


def orderable(item: Item) -> bool:
    """Whether a buyer could order the item as pulled: stock on the shelf, or shown as sellable past zero."""
    if item.managed and item.available is not None and item.available > 0:
        return True
    return item.shown.status is not None and item.shown.status is not Status.OUT_OF_STOCK


def stock_presence(items: Iterable[Item], today: date) -> list[StockPresence]:
    """Today's row per item for the stock-presence table."""
    return [StockPresence(item.key, today, orderable(item)) for item in items]


def daily_sales(
    history: DemandHistory,
    *,
    current: Sequence[SeenLine] = (),
    today: date,
    days: int,
    items: Collection[str] | None = None,
) -> dict[str, tuple[DaySales, ...]]:
    """Per item key: the last `days` days ending yesterday, oldest first, as `rules.demand` reads them.

    Sparse: a day without an entry was orderable and sold nothing. Days with sales are listed;
    days the item could not be ordered, and days before the first pass that saw it (nothing is
    known about them), are listed with `in_stock=False` so velocity leaves them out. A day with
    no stock observation between two that have one takes the earlier day's; a day with sales was
    orderable, whatever was recorded.

    `current` are this pass's open order lines (they may not be recorded yet); a line already
    recorded counts once. An item never observed gets every day as unknown. With `items`, only
    those items' histories are built.
    """
    since = today - timedelta(days=days)
    units: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    counted: set[tuple[str, str]] = set()
    for line in (*current, *history.lines):
        if (line.order_id, line.item_key) in counted or not since <= line.day < today:
            continue
        counted.add((line.order_id, line.item_key))
        units[line.item_key][line.day] += line.units
    sales: dict[str, tuple[DaySales, ...]] = {}
    keys = set(history.stock_days) | set(units)
    for item_key in keys if items is None else keys.intersection(items):
        observed = history.stock_days.get(item_key, {})
        sold = units.get(item_key, {})
        known = [d for d in observed if since <= d < today]
        first = min(known) if known else today
        rows = []
        in_stock = False
        day = since
        while day < today:
            n = sold.get(day, 0)
            if day < first:
                rows.append(DaySales(day, n, in_stock=False))
            else:
                in_stock = observed.get(day, in_stock)
                if n > 0 or not in_stock:
                    rows.append(DaySales(day, n, in_stock=in_stock or n > 0))
            day += timedelta(days=1)
        sales[item_key] = tuple(rows)
    return sales


def unknown_history(today: date, days: int) -> tuple[DaySales, ...]:
    """The sales history of an item no pass has seen yet: every day unknown."""
    return tuple(DaySales(today - timedelta(days=n), 0, in_stock=False) for n in range(days, 0, -1))
