"""Shared rule lists and facts for the rules tests (the shop owner's example config)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from stockstatus.rules import Facts

TODAY = date(2026, 11, 22)


def days(n: int) -> date:
    """A date n days from TODAY (negative: in the past)."""
    return TODAY + timedelta(days=n)


EXAMPLE_RULES: list[dict[str, object]] = [
    {
        "name": "discontinued",
        "when": {"tags_any": ["discontinued"]},
        "then": {"status": "out_of_stock", "message": "No longer available"},
    },
    {
        "name": "pre-order until release",
        "when": {"release_date": "future"},
        "then": {"status": "pre_order", "eta": "release_date", "message": "Pre-order: ships {eta:%-d %B %Y}"},
    },
    {
        "name": "backorder while a restock is due",
        "when": {"available": "<= 0", "eta_within_days": 30},
        "then": {"status": "backorder", "eta": "restock_date", "message": "Back in stock by {eta:%-d %B}"},
    },
    {
        "name": "backorder on supplier lead time",
        "when": {"available": "<= 0", "tags_any": ["made-to-order"]},
        "then": {"status": "backorder", "eta": "lead_time"},
    },
    {
        "name": "sold out",
        "when": {"available": "<= 0"},
        "then": {"status": "out_of_stock"},
    },
]

BASE = Facts(sku="TEE-RED-M", today=TODAY, available=0, name="Red tee M")


def facts(**changes: object) -> Facts:
    """BASE with some fields changed (tags/categories given as lists become frozensets)."""
    for key in ("tags", "categories"):
        if key in changes:
            changes[key] = frozenset(changes[key])  # type: ignore[call-overload]
    return replace(BASE, **changes)  # type: ignore[arg-type]
