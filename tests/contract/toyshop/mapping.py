"""Toy shop payloads ↔ the core's model: items and orders in, the fields that show a decision out."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from stockstatus.core.model import Decision, Item, OpenOrder, OrderLine, Shown, Status


def _day(record: Mapping[str, Any], key: str, problems: list[str]) -> date | None:
    value = record.get(key)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        problems.append(f"{key} {value!r} is not a date (YYYY-MM-DD)")
        return None


def item(record: Mapping[str, Any]) -> Item:
    """One sellable item as the toy shop lists it."""
    problems: list[str] = []
    status = record.get("status")
    shown = Shown(
        status=Status(status) if status else None,
        eta=_day(record, "eta", problems),
        message=record.get("message"),
    )
    return Item(
        key=str(record["id"]),
        sku=record.get("sku"),
        name=record["name"],
        managed=record["tracked"],
        available=record["quantity"] if record["tracked"] else None,
        shown=shown,
        tags=frozenset(record.get("tags", ())),
        categories=frozenset([record["category"]]) if record.get("category") else frozenset(),
        release_date=_day(record, "release_date", problems),
        restock_date=_day(record, "restock_date", problems),
        parent_key=str(record["parent_id"]) if record.get("parent_id") else None,
        problems=tuple(problems),
    )


def order(record: Mapping[str, Any]) -> OpenOrder:
    """One open order as the toy shop lists it."""
    return OpenOrder(
        order_id=str(record["id"]),
        created_at=datetime.fromisoformat(record["created_at"]),
        lines=tuple(OrderLine(str(line["item_id"]), line.get("sku"), line["quantity"]) for line in record["lines"]),
        status="open",
        number=str(record.get("number", "")),
    )


def fields_for(shown: Shown, decision: Decision) -> dict[str, Any]:
    """The fields whose value differs from what the shop shows now (empty: it already shows `decision`)."""
    wanted: dict[str, Any] = {
        "status": decision.status.value,
        "eta": decision.eta.isoformat() if decision.eta else None,
        "message": decision.message,
    }
    now: dict[str, Any] = {
        "status": shown.status.value if shown.status else None,
        "eta": shown.eta.isoformat() if shown.eta else None,
        "message": shown.message,
    }
    return {key: value for key, value in wanted.items() if now[key] != value}
