"""Demand history: open order lines from the pass that first saw them, and daily stock presence."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlite_utils

HISTORY_KEYS_PER_QUERY = 400
"""Item keys named in one demand-history query (twice each: SQLite allows 32,766 parameters)."""


@dataclass(frozen=True, slots=True)
class SeenLine:
    """One open order line as a pass saw it: `day` is the order's date in the store's calendar."""

    order_id: str
    item_key: str
    sku: str | None
    day: date
    units: int


@dataclass(frozen=True, slots=True)
class StockPresence:
    """Whether a buyer could order an item at a pass on `day` (any pass that day counts)."""

    item_key: str
    day: date
    orderable: bool


@dataclass(frozen=True, slots=True)
class DemandHistory:
    """A store's recorded order lines and stock presence since a day (one query's worth)."""

    lines: tuple[SeenLine, ...] = ()
    stock_days: Mapping[str, Mapping[date, bool]] = field(default_factory=dict)
    """item key -> day -> whether the item could be ordered that day."""


@dataclass(frozen=True, slots=True)
class ItemHistory:
    """One item's recorded stock presence and order lines since a day, oldest first."""

    item_key: str
    stock_days: tuple[tuple[date, bool], ...]
    """(day, whether the item could be ordered that day)."""
    lines: tuple[tuple[str, date, int], ...]
    """(order id, day, units)."""


class DemandRecords:
    """The order_lines and stock_days tables."""

    def __init__(self, db: sqlite_utils.Database, now: Callable[[], str]) -> None:
        self._db = db
        self._now = now

    def observe(self, store: str, *, lines: Iterable[SeenLine], stock: Iterable[StockPresence]) -> None:
        """Record open order lines (kept from the first sighting) and today's stock presence.

        An item orderable at any pass of a day counts as in stock that day.
        """
        now = self._now()
        with self._db.conn:
            self._db.conn.executemany(
                "INSERT INTO order_lines (store, order_id, item_key, sku, day, units, first_seen) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (store, order_id, item_key) DO UPDATE SET units = excluded.units, sku = excluded.sku "
                "WHERE units != excluded.units OR sku IS NOT excluded.sku",
                ((store, x.order_id, x.item_key, x.sku, x.day.isoformat(), x.units, now) for x in lines),
            )
            self._db.conn.executemany(
                "INSERT INTO stock_days (store, item_key, day, in_stock) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (store, item_key, day) DO UPDATE SET in_stock = 1 "
                "WHERE in_stock = 0 AND excluded.in_stock = 1",
                ((store, s.item_key, s.day.isoformat(), int(s.orderable)) for s in stock),
            )

    def since(self, store: str, since: date, items: Collection[str] | None = None) -> DemandHistory:
        """Order lines dated on or after `since`, and stock presence since then; only of `items` when
        given (an incremental pass reads the history of the few items it decides, not the shop's)."""
        if items is None:
            rows = self._rows(store, since, ())
        else:
            keys = sorted(items)
            rows = []
            for start in range(0, len(keys), HISTORY_KEYS_PER_QUERY):
                rows.extend(self._rows(store, since, keys[start : start + HISTORY_KEYS_PER_QUERY]))
        lines: list[SeenLine] = []
        stock: dict[str, dict[date, bool]] = {}
        for kind, order_id, item_key, sku, day, value in rows:
            if kind == "line":
                lines.append(SeenLine(order_id, item_key, sku, date.fromisoformat(day), int(value)))
            else:
                stock.setdefault(item_key, {})[date.fromisoformat(day)] = bool(value)
        return DemandHistory(tuple(lines), stock)

    def by_item(self, store: str, since: date, items: Collection[str] | None = None) -> Iterator[ItemHistory]:
        """The same rows as `since`, one item at a time in key order, read as they are used.

        A full pass over a large shop reads months of rows for every item: holding them all at
        once (as `since` does) costs far more memory than the sales figures made from them.
        """
        chunks: Iterable[Sequence[str]]
        if items is None:
            chunks = [()]
        else:
            keys = sorted(items)
            chunks = (
                keys[start : start + HISTORY_KEYS_PER_QUERY] for start in range(0, len(keys), HISTORY_KEYS_PER_QUERY)
            )
        days: dict[str, date] = {}

        def day_of(text: str) -> date:
            known = days.get(text)
            if known is None:
                known = days[text] = date.fromisoformat(text)
            return known

        for chunk in chunks:
            if items is not None and not chunk:
                continue
            only = f" AND item_key IN ({', '.join('?' * len(chunk))})" if chunk else ""
            start = since.isoformat()
            stock = self._db.conn.execute(
                f"SELECT item_key, day, in_stock FROM stock_days WHERE store = ? AND day >= ?{only} "
                "ORDER BY item_key, day",
                [store, start, *chunk],
            )
            lines = self._db.conn.execute(
                f"SELECT item_key, order_id, day, units FROM order_lines WHERE store = ? AND day >= ?{only} "
                "ORDER BY item_key, day, order_id",
                [store, start, *chunk],
            )
            next_stock = next(stock, None)
            next_line = next(lines, None)
            while next_stock is not None or next_line is not None:
                key = min(row[0] for row in (next_stock, next_line) if row is not None)
                observed: list[tuple[date, bool]] = []
                while next_stock is not None and next_stock[0] == key:
                    observed.append((day_of(next_stock[1]), bool(next_stock[2])))
                    next_stock = next(stock, None)
                sold: list[tuple[str, date, int]] = []
                while next_line is not None and next_line[0] == key:
                    sold.append((next_line[1], day_of(next_line[2]), int(next_line[3])))
                    next_line = next(lines, None)
                yield ItemHistory(key, tuple(observed), tuple(sold))

    def _rows(self, store: str, since: date, keys: Sequence[str]) -> list[tuple[Any, ...]]:
        """One query over both tables; every item's rows when `keys` is empty."""
        only = f" AND item_key IN ({', '.join('?' * len(keys))})" if keys else ""
        return self._db.execute(
            f"SELECT 'line', order_id, item_key, sku, day, units FROM order_lines WHERE store = ? AND day >= ?{only} "
            "UNION ALL "
            f"SELECT 'stock', NULL, item_key, NULL, day, in_stock FROM stock_days WHERE store = ? AND day >= ?{only}",
            [store, since.isoformat(), *keys, store, since.isoformat(), *keys],
        ).fetchall()
