"""Demand history glue: what a pass records about sales and stock, and the daily sales the rules see.

The math (velocity, safety stock, reorder point) lives in `rules.demand`; this module only turns
what the state file holds into `DaySales` per item.

History starts for an item on the first day a pass saw it: before that the connector knows
neither its stock nor its closed orders, so those days are left out rather than counted as
days without sales.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from stockstatus.core.model import Item, OpenOrder
from stockstatus.core.state import DemandHistory, ItemHistory, SeenLine, StockPresence
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


def stock_presence(items: Iterable[Item], today: date) -> Iterator[StockPresence]:
    """Today's row per item for the stock-presence table, made as they are written."""
    return (StockPresence(item.key, today, orderable(item)) for item in items)


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
    by_item: dict[str, tuple[list[tuple[date, bool]], list[tuple[str, date, int]]]] = defaultdict(lambda: ([], []))
    for line in history.lines:
        by_item[line.item_key][1].append((line.order_id, line.day, line.units))
    for item_key, observed in history.stock_days.items():
        by_item[item_key][0].extend(sorted(observed.items()))
    histories = (ItemHistory(key, tuple(stock), tuple(lines)) for key, (stock, lines) in sorted(by_item.items()))
    return sales_by_item(histories, current=current, today=today, days=days, items=items)


def sales_by_item(
    histories: Iterable[ItemHistory],
    *,
    current: Sequence[SeenLine] = (),
    today: date,
    days: int,
    items: Collection[str] | None = None,
    shared: dict[tuple[date, int, bool], DaySales] | None = None,
) -> dict[str, tuple[DaySales, ...]]:
    """`daily_sales` from one item's recorded rows at a time (`DemandRecords.by_item`).

    Only the figures are kept, never the rows: equal days of different items share one
    `DaySales`, so an item's history costs a tuple of references. `shared` keeps those days
    from one call to the next (a pass reads its items' histories a chunk at a time).
    """
    since = today - timedelta(days=days)
    now_lines: dict[str, list[SeenLine]] = defaultdict(list)
    for line in current:
        if since <= line.day < today and (items is None or line.item_key in items):
            now_lines[line.item_key].append(line)
    if shared is None:
        shared = {}
    sales: dict[str, tuple[DaySales, ...]] = {}
    for history in histories:
        if items is not None and history.item_key not in items:
            continue
        now = now_lines.pop(history.item_key, ())
        if not (history.stock_days or now or any(since <= day < today for _, day, _ in history.lines)):
            continue  # nothing known inside the window: the caller's "never seen" applies
        sales[history.item_key] = _item_sales(history.stock_days, history.lines, now, since, today, shared)
    for item_key, lines in now_lines.items():
        sales[item_key] = _item_sales((), (), lines, since, today, shared)
    return sales


def _item_sales(
    stock_days: Sequence[tuple[date, bool]],
    recorded: Iterable[tuple[str, date, int]],
    current: Iterable[SeenLine],
    since: date,
    today: date,
    shared: dict[tuple[date, int, bool], DaySales],
) -> tuple[DaySales, ...]:
    sold: dict[date, int] = defaultdict(int)
    counted: set[str] = set()
    for line in current:
        if line.order_id not in counted:
            counted.add(line.order_id)
            sold[line.day] += line.units
    for order_id, day, units in recorded:
        if order_id not in counted and since <= day < today:
            counted.add(order_id)
            sold[day] += units
    observed = {day: orderable for day, orderable in stock_days if since <= day < today}
    first = min(observed) if observed else today
    rows = []
    in_stock = False
    day = since
    one_day = timedelta(days=1)
    while day < today:
        n = sold.get(day, 0)
        if day < first:
            key = (day, n, False)
        else:
            in_stock = observed.get(day, in_stock)
            if not (n > 0 or not in_stock):
                day += one_day
                continue
            key = (day, n, in_stock or n > 0)
        row = shared.get(key)
        if row is None:
            row = shared[key] = DaySales(*key)
        rows.append(row)
        day += one_day
    return tuple(rows)


def unknown_history(today: date, days: int) -> tuple[DaySales, ...]:
    """The sales history of an item no pass has seen yet: every day unknown."""
    return tuple(DaySales(today - timedelta(days=n), 0, in_stock=False) for n in range(days, 0, -1))
