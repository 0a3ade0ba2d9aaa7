"""Compiled `when` conditions: each valid key becomes a fast test and a description of its result.

Every `when` key has one builder in `BUILDERS`, taking the value `rules.schema` validated. A new
condition is one field in `WhenSpec` and one builder here, not a change to the engine. Builders run
once, at compile time; the closures they return only read precomputed values, so evaluating a
rule does no parsing and no validation.
"""

from __future__ import annotations

import fnmatch
import math
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from stockstatus.rules.demand import days_of_cover
from stockstatus.rules.model import Facts
from stockstatus.rules.schema import Comparison, DateWhen, Windowed
from stockstatus.rules.subject import Subject, describe_arrival, supply_values

Test = Callable[[Subject], bool]


@dataclass(frozen=True, slots=True)
class Condition:
    """One compiled `when` key: a fast test and a human description of its result."""

    key: str
    test: Test
    describe: Callable[[Subject], str]
    inputs: tuple[str, ...]
    """Names of the Facts fields it reads (for Decision.inputs)."""
    cost: int = 2
    """Cheap, selective tests run first (order inside a rule does not change its meaning)."""
    values: Callable[[Subject], dict[str, object]] | None = None
    """Derived figures it looked at (queued units, velocity, ...), for Decision.inputs."""
    interval: tuple[float, float] | None = None
    """For `available`: the stock levels it holds at (low, high), so a RuleSet can index rules
    by stock level instead of testing it; None when it is not an interval (`!=`)."""
    sales_days: int = 0
    """Days of sales history before today it reads (`velocity`, `days_of_cover`: the window)."""


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _listed(values: Sequence[str]) -> str:
    return ", ".join(values)


def number_text(x: float) -> str:
    if x == math.inf:
        return "infinite"
    return f"{x:.2f}".rstrip("0").rstrip(".") if isinstance(x, float) else str(x)


OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
}

_INTERVALS: dict[str, Callable[[float], tuple[float, float] | None]] = {
    "<=": lambda n: (-math.inf, n),
    "<": lambda n: (-math.inf, n - 1),
    ">=": lambda n: (n, math.inf),
    ">": lambda n: (n + 1, math.inf),
    "==": lambda n: (n, n),
    "!=": lambda n: None,
}

# `available <op> limit` without an operator call (the most common test of all).
_AVAILABLE_TESTS: dict[str, Callable[[float], Test]] = {
    "<=": lambda n: lambda s: s.available is not None and s.available <= n,
    "<": lambda n: lambda s: s.available is not None and s.available < n,
    ">": lambda n: lambda s: s.available is not None and s.available > n,
    ">=": lambda n: lambda s: s.available is not None and s.available >= n,
    "==": lambda n: lambda s: s.available is not None and s.available == n,
    "!=": lambda n: lambda s: s.available is not None and s.available != n,
}


def _available(value: Comparison) -> Condition:
    op_text, limit = value.op, value.limit
    op = OPERATORS[op_text]

    def describe(s: Subject) -> str:
        if s.available is None:
            return "stock not tracked"
        if op(s.available, limit):
            return f"available {s.available} {op_text} {limit}"
        return f"available {s.available}, not {op_text} {limit}"

    return Condition(
        "available",
        _AVAILABLE_TESTS[op_text](limit),
        describe,
        ("available",),
        cost=0,
        interval=_INTERVALS[op_text](limit),
    )


# One closure per (names, mode) reading the attribute directly: these run for most SKUs.
_SET_TESTS: dict[tuple[str, str], Callable[[frozenset[str]], Test]] = {
    ("tags", "any"): lambda wanted: lambda s: not wanted.isdisjoint(s.tags),
    ("tags", "all"): lambda wanted: lambda s: wanted.issubset(s.tags),
    ("tags", "none"): lambda wanted: lambda s: wanted.isdisjoint(s.tags),
    ("categories", "any"): lambda wanted: lambda s: not wanted.isdisjoint(s.categories),
    ("categories", "all"): lambda wanted: lambda s: wanted.issubset(s.categories),
    ("categories", "none"): lambda wanted: lambda s: wanted.isdisjoint(s.categories),
}


def _set_condition(key: str, attr: str, label: str, mode: str) -> Callable[[tuple[str, ...]], Condition]:
    """tags_any / tags_all / tags_none and the same for categories (case-insensitive)."""
    have: Callable[[Subject], frozenset[str]] = operator.attrgetter(attr)

    def build(shown: tuple[str, ...]) -> Condition:
        wanted = frozenset(v.casefold() for v in shown)
        listed = _listed(shown)

        def describe(s: Subject) -> str:
            if mode == "all":
                missing = sorted(wanted - have(s))
                return f"not {label} {_listed(missing)}" if missing else f"{label} all of: {listed}"
            hit = sorted(wanted & have(s))
            return f"{label} {_listed(hit)}" if hit else f"not {label} any of: {listed}"

        return Condition(key, _SET_TESTS[attr, mode](wanted), describe, (attr,))

    return build


def _one_of(key: str, attr: str, label: str) -> Callable[[tuple[str, ...]], Condition]:
    """vendor_in / supplier_in (case-insensitive)."""
    folded: Callable[[Subject], str | None] = operator.attrgetter(attr)

    def build(shown: tuple[str, ...]) -> Condition:
        wanted = frozenset(v.casefold() for v in shown)

        def test(s: Subject) -> bool:
            return folded(s) in wanted

        def describe(s: Subject) -> str:
            actual = getattr(s.facts, attr)
            if actual is None:
                return f"no {label}"
            verb = "is" if folded(s) in wanted else "is not"
            return f"{label} {actual} {verb} one of: {_listed(shown)}"

        return Condition(key, test, describe, (attr,))

    return build


def _sku_matches(patterns: tuple[str, ...]) -> Condition:
    regex = re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns))

    def test(s: Subject) -> bool:
        return regex.match(s.facts.sku) is not None

    def describe(s: Subject) -> str:
        sku = s.facts.sku
        for pattern in patterns:
            if fnmatch.fnmatchcase(sku, pattern):
                return f"SKU {sku} matches {pattern}"
        return f"SKU {sku} matches none of: {_listed(patterns)}"

    return Condition("sku_matches", test, describe, ("sku",), cost=3)


def _date_test(read: Callable[[Facts], date | None], value: DateWhen, *, today_is_future: bool) -> Test:
    if value == "none":
        return lambda s: read(s.facts) is None
    if value == "any":
        return lambda s: read(s.facts) is not None
    # Whether today itself counts as the future (a release day no longer sells as a pre-order).
    if value == "future":
        after = operator.ge if today_is_future else operator.gt
    else:
        after = operator.lt if today_is_future else operator.le
    return lambda s: (d := read(s.facts)) is not None and after(d, s.today)


def _date_condition(key: str, label: str, *, today_is_future: bool) -> Callable[[DateWhen], Condition]:
    """release_date / restock_date = "future" | "past" | "none" | "any".

    On the day itself a release date counts as past (released) and a restock date as future
    (still due today): `today_is_future` says which.
    """
    read: Callable[[Facts], date | None] = operator.attrgetter(key)

    def build(value: DateWhen) -> Condition:
        def describe(s: Subject) -> str:
            d = read(s.facts)
            if d is None:
                return f"no {label} date"
            future = d >= s.today if today_is_future else d > s.today
            return f"{label} date {d.isoformat()} is {'future' if future else 'past'} (today {s.today.isoformat()})"

        return Condition(key, _date_test(read, value, today_is_future=today_is_future), describe, (key,), cost=1)

    return build


def _count_condition(key: str, label: str, count: Callable[[Subject], int]) -> Callable[[Comparison], Condition]:
    """queue_length / queued_units: a whole-number comparison like available."""

    def build(value: Comparison) -> Condition:
        op_text, limit, op = value.op, value.limit, OPERATORS[value.op]

        def test(s: Subject) -> bool:
            return op(count(s), limit)

        def describe(s: Subject) -> str:
            n = count(s)
            return f"{label} {n} {op_text} {limit}" if op(n, limit) else f"{label} {n}, not {op_text} {limit}"

        def values(s: Subject) -> dict[str, object]:
            return {key: count(s)}

        return Condition(key, test, describe, (), cost=1, values=values)

    return build


def _queue_length(s: Subject) -> int:
    return len(s.facts.backorder_queue)


def _velocity(value: Windowed) -> Condition:
    window, op_text, limit = value.window_days, value.comparison.op, value.comparison.limit
    op = OPERATORS[op_text]
    over = f"over {plural(window, 'day')}"

    def test(s: Subject) -> bool:
        v = s.velocity(window)
        return v is not None and op(v, limit)

    def describe(s: Subject) -> str:
        v = s.velocity(window)
        if v is None:
            return f"velocity unknown: no day in stock {over}"
        verb = "" if op(v, limit) else "not "
        return f"velocity {number_text(v)} a day {over}, {verb}{op_text} {number_text(limit)}"

    def values(s: Subject) -> dict[str, object]:
        v = s.velocity(window)
        return {f"velocity_{window}d": None if v is None else round(v, 3)}

    return Condition("velocity", test, describe, (), cost=6, values=values, sales_days=window)


def _days_of_cover(value: Windowed) -> Condition:
    window, op_text, limit = value.window_days, value.comparison.op, value.comparison.limit
    op = OPERATORS[op_text]
    over = f"at the velocity over {plural(window, 'day')}"

    def cover(s: Subject) -> float | None:
        return days_of_cover(s.available, s.velocity(window))

    def test(s: Subject) -> bool:
        c = cover(s)
        return c is not None and op(c, limit)

    def describe(s: Subject) -> str:
        if s.available is None:
            return "stock not tracked"
        c = cover(s)
        if c is None:
            return f"days of cover unknown: no day in stock over {plural(window, 'day')}"
        verb = "" if op(c, limit) else "not "
        return f"{number_text(c)} days of cover {over}, {verb}{op_text} {number_text(limit)}"

    def values(s: Subject) -> dict[str, object]:
        c = cover(s)
        return {f"days_of_cover_{window}d": None if c is None else number_text(c) if c == math.inf else round(c, 3)}

    return Condition("days_of_cover", test, describe, ("available",), cost=6, values=values, sales_days=window)


def _has_reliable_eta(value: bool) -> Condition:
    def test(s: Subject) -> bool:
        return (s.arrival() is not None) is value

    return Condition("has_reliable_eta", test, describe_arrival, ("available",), cost=5, values=supply_values)


BUILDERS: dict[str, Callable[[Any], Condition]] = {
    "available": _available,
    "tags_any": _set_condition("tags_any", "tags", "tagged", "any"),
    "tags_all": _set_condition("tags_all", "tags", "tagged", "all"),
    "tags_none": _set_condition("tags_none", "tags", "tagged", "none"),
    "categories_any": _set_condition("categories_any", "categories", "in category", "any"),
    "categories_all": _set_condition("categories_all", "categories", "in category", "all"),
    "categories_none": _set_condition("categories_none", "categories", "in category", "none"),
    "vendor_in": _one_of("vendor_in", "vendor", "vendor"),
    "supplier_in": _one_of("supplier_in", "supplier", "supplier"),
    "sku_matches": _sku_matches,
    "release_date": _date_condition("release_date", "release", today_is_future=False),
    "restock_date": _date_condition("restock_date", "restock", today_is_future=True),
    "queue_length": _count_condition("queue_length", "queue length", _queue_length),
    "queued_units": _count_condition("queued_units", "queued units", lambda s: s.queued()),
    "velocity": _velocity,
    "days_of_cover": _days_of_cover,
    "has_reliable_eta": _has_reliable_eta,
}
"""Conditions that look only at the facts, by `when` key; each takes the value `WhenSpec` holds."""

STOCK_KEYS = frozenset({"available", "queued_units", "days_of_cover", "has_reliable_eta"})
"""Conditions that read the stock level (pre-arming asks them again at available 0)."""
