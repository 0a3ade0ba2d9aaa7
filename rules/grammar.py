"""The rule grammar: checks the `[[rules]]` tables and compiles each key into a small closure.

Every `when` key has one builder in `WHEN_KEYS`; every ETA source one builder in `ETA_SOURCES`.
A new condition or ETA source (the FIFO `supply` source, demand rules) is one more entry there,
not a change to the engine. Builders run once, at compile time; the closures they return only read
precomputed values, so evaluating a rule does no parsing and no validation.

All problems are collected (`RuleError` lists them all), each named
`rules[i] ("name").section.key: what is wrong`.
"""

from __future__ import annotations

import difflib
import fnmatch
import json
import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from stockstatus.rules.demand import DEFAULT_WINDOW_DAYS, days_of_cover, velocity
from stockstatus.rules.errors import RuleError
from stockstatus.rules.model import Facts, Status
from stockstatus.rules.supply import DEFAULT_HORIZON_DAYS, incoming_known, next_arrival
from stockstatus.rules.template import ETA_FIELDS, MessageTemplate, parse_template

_EMPTY: frozenset[str] = frozenset()


_UNSET = object()


def _folded(names: frozenset[str]) -> frozenset[str]:
    """Names casefolded; the set itself when they already are (the usual case, no copy)."""
    if not names:
        return _EMPTY
    joined = "\x00".join(names)
    if joined.casefold() == joined:
        return names
    return frozenset(n.casefold() for n in names)


class Subject:
    """One SKU's facts as the compiled closures read them; derived values worked out once, on demand.

    `available` is separate from `facts.available` so that pre-arming can ask "what if it sold
    out?" without copying the facts. Casefolded names, the supply arrival and demand figures are
    computed the first time a condition asks (most decisions never need most of them).
    """

    __slots__ = (
        "_arrival",
        "_arrival_key",
        "_cache",
        "_categories",
        "_horizon_end",
        "_incoming",
        "_tags",
        "available",
        "facts",
        "horizon_days",
        "today",
    )

    def __init__(self, facts: Facts, available: int | None, horizon_days: int = DEFAULT_HORIZON_DAYS) -> None:
        self.facts = facts
        self.available = available
        self.today = facts.today
        self.horizon_days = horizon_days
        self._cache: dict[object, object] | None = None
        self._arrival_key: object = _UNSET
        self._arrival: date | None = None
        self._tags: frozenset[str] | None = None
        self._categories: frozenset[str] | None = None
        self._horizon_end: date | None = None
        self._incoming: int | None = None

    def _cached(self, key: object, compute: Callable[[Subject], object]) -> object:
        cache = self._cache
        if cache is None:
            cache = self._cache = {}
        elif key in cache:
            return cache[key]
        value = cache[key] = compute(self)
        return value

    @property
    def tags(self) -> frozenset[str]:
        tags = self._tags
        if tags is None:
            tags = self._tags = _folded(self.facts.tags)
        return tags

    @property
    def categories(self) -> frozenset[str]:
        categories = self._categories
        if categories is None:
            categories = self._categories = _folded(self.facts.categories)
        return categories

    @property
    def vendor(self) -> str | None:
        vendor = self.facts.vendor
        return vendor.casefold() if vendor else None

    @property
    def supplier(self) -> str | None:
        supplier = self.facts.supplier
        return supplier.casefold() if supplier else None

    @property
    def horizon_end(self) -> date:
        end = self._horizon_end
        if end is None:
            end = self._horizon_end = self.today + timedelta(days=self.horizon_days)
        return end

    def arrival(self) -> date | None:
        """The day supply covers the queue plus the next unit (FIFO, no handling); None: no timeline."""
        available = self.available
        if self._arrival_key is not _UNSET and self._arrival_key == available:
            return self._arrival
        facts = self.facts
        if not facts.supply:
            arrival = self.today if available is not None and available > 0 else None
        else:
            arrival = next_arrival(available, facts.backorder_queue, facts.supply, self.today, self.horizon_end)
        self._arrival_key = available
        self._arrival = arrival
        return arrival

    def incoming(self) -> int:
        """Known incoming units inside the horizon."""
        incoming = self._incoming
        if incoming is None:
            supply = self.facts.supply
            incoming = self._incoming = incoming_known(supply, self.today, self.horizon_end) if supply else 0
        return incoming

    def velocity(self, window_days: int) -> float | None:
        """Units per in-stock day over the window (None: no day of it counts)."""
        return self._cached(("velocity", window_days), lambda s: velocity(s.facts.sales, s.today, window_days))  # type: ignore[return-value]

    def queued(self) -> int:
        """Units waiting for supply, at this view's `available`."""
        return queued_units(self)


@dataclass(frozen=True, slots=True)
class Condition:
    """One compiled `when` key: a fast test and a human description of its result."""

    key: str
    test: Callable[[Subject], bool]
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


@dataclass(frozen=True, slots=True)
class EtaCheck:
    """A check that needs the rule's resolved ETA (or its cap): has_eta, eta_within_days, cap."""

    key: str
    test: Callable[[Subject, date | None], bool]
    describe: Callable[[Subject, date | None], str]


@dataclass(frozen=True, slots=True)
class EtaSource:
    """Where a rule's ETA comes from; `resolve` gives None when there is no reliable date."""

    name: str
    resolve: Callable[[Subject], date | None]
    describe: Callable[[Subject], str]
    inputs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Action:
    """A compiled `then` table."""

    status: Status
    eta: EtaSource | None
    """None when the rule gives no ETA, or when it matches only without one (has_eta = false)."""
    message: MessageTemplate | None
    cap: Cap | None
    handling_days: int = 0
    """The handling days this rule adds to supply-derived ETAs (and to its per-order ship dates)."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One compiled rule. `tests` mirrors `conditions` for the fast path."""

    position: int
    name: str
    conditions: tuple[Condition, ...]
    tests: tuple[Callable[[Subject], bool], ...]
    eta_source: EtaSource | None
    """The source the ETA checks look at (also set for has_eta = false, where action.eta is None)."""
    eta_checks: tuple[EtaCheck, ...]
    action: Action
    match: Callable[[Subject], bool] | None = None
    """All `tests` in one call (cheapest first); None when the rule has no `when` conditions."""
    stock_dependent: bool = True
    """Whether anything in the rule reads the stock level (available, the queue, supply ETA,
    cap). Pre-arming re-asks only these: the others answer the same at sell-out."""
    stock_range: tuple[float, float] | None = None
    """The stock levels (low, high) its `available` intervals allow; None: any, untracked too."""
    match_rest: Callable[[Subject], bool] | None = None
    """`match` without the tests that `stock_range` already covers."""

    @property
    def unconditional(self) -> bool:
        """True when the rule matches every SKU, so rules after it are unreachable."""
        return not self.conditions and not self.eta_checks


_STOCK_KEYS = frozenset({"available", "queued_units", "days_of_cover", "has_reliable_eta"})


def _all_of(tests: Sequence[Callable[[Subject], bool]]) -> Callable[[Subject], bool] | None:
    """One callable for a rule's tests: saves the per-test loop on the hot path."""
    if not tests:
        return None
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        a, b = tests

        def both(s: Subject) -> bool:
            return a(s) and b(s)

        return both
    if len(tests) == 3:
        a, b, c = tests

        def three(s: Subject) -> bool:
            return a(s) and b(s) and c(s)

        return three

    def every(s: Subject) -> bool:
        # A loop, not all(genexpr): this runs for every SKU and rule, and the generator costs.
        for test in tests:  # noqa: SIM110
            if not test(s):
                return False
        return True

    return every


class _Invalid(Exception):
    """A builder's complaint about one key's value (becomes one problem)."""


def _show(value: object) -> str:
    """A value as the shop owner wrote it in TOML."""
    try:
        return json.dumps(value, ensure_ascii=False)
    except TypeError:
        return str(value)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _int_value(value: object, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid(f"{_show(value)} is not a whole number")
    if value < minimum:
        raise _Invalid(f"{value} is below {minimum}")
    return value


def _str_list(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        raise _Invalid(f"{_show(value)} is not a list; write [{_show(value)}]")
    if not isinstance(value, (list, tuple)):
        raise _Invalid(f"{_show(value)} is not a list of names")
    if not value:
        raise _Invalid("the list is empty, so the condition could never hold")
    bad = [v for v in value if not isinstance(v, str) or not v.strip()]
    if bad:
        raise _Invalid(f"{_show(bad[0])} is not a name (the list must hold non-empty strings)")
    return tuple(value)


def _names(values: Sequence[str]) -> str:
    return ", ".join(values)


# ---------------------------------------------------------------------------------------------
# `when` keys

_COMPARISON = re.compile(r"^\s*(<=|>=|==|!=|<|>)\s*([+-]?\d+)\s*$")
_OPERATORS: dict[str, Callable[[int, int], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
}


def _available(value: object) -> Condition:
    if isinstance(value, bool | int):
        raise _Invalid(f'{_show(value)} is not a comparison; write e.g. "== {value}" or "<= {value}"')
    match = _COMPARISON.match(value) if isinstance(value, str) else None
    if match is None:
        raise _Invalid(f'{_show(value)} is not a comparison like "<= 0" (operators: <, <=, ==, !=, >=, >)')
    op_text, limit = match.group(1), int(match.group(2))
    op = _OPERATORS[op_text]
    test = _available_test(op_text, limit)

    def describe(s: Subject) -> str:
        if s.available is None:
            return "stock not tracked"
        if op(s.available, limit):
            return f"available {s.available} {op_text} {limit}"
        return f"available {s.available}, not {op_text} {limit}"

    return Condition("available", test, describe, ("available",), cost=0, interval=_INTERVALS[op_text](limit))


_INTERVALS: dict[str, Callable[[int], tuple[float, float] | None]] = {
    "<=": lambda n: (-math.inf, n),
    "<": lambda n: (-math.inf, n - 1),
    ">=": lambda n: (n, math.inf),
    ">": lambda n: (n + 1, math.inf),
    "==": lambda n: (n, n),
    "!=": lambda n: None,
}


def _available_test(op_text: str, limit: int) -> Callable[[Subject], bool]:
    """`available <op> limit` without an operator call (the most common test of all)."""
    if op_text == "<=":
        return lambda s: s.available is not None and s.available <= limit
    if op_text == "<":
        return lambda s: s.available is not None and s.available < limit
    if op_text == ">":
        return lambda s: s.available is not None and s.available > limit
    if op_text == ">=":
        return lambda s: s.available is not None and s.available >= limit
    if op_text == "==":
        return lambda s: s.available is not None and s.available == limit
    return lambda s: s.available is not None and s.available != limit


def _set_condition(key: str, attr: str, label: str, mode: str) -> Callable[[object], Condition]:
    """tags_any / tags_all / tags_none and the same for categories (case-insensitive)."""

    def build(value: object) -> Condition:
        shown = _str_list(value)
        wanted = frozenset(v.casefold() for v in shown)
        listed = _names(shown)

        have: Callable[[Subject], frozenset[str]] = operator.attrgetter(attr)

        if mode == "any":

            def test(s: Subject) -> bool:
                return not wanted.isdisjoint(have(s))

            def describe(s: Subject) -> str:
                hit = sorted(wanted & have(s))
                return f"{label} {_names(hit)}" if hit else f"not {label} any of: {listed}"

        elif mode == "all":

            def test(s: Subject) -> bool:
                return wanted.issubset(have(s))

            def describe(s: Subject) -> str:
                missing = sorted(wanted - have(s))
                return f"not {label} {_names(missing)}" if missing else f"{label} all of: {listed}"

        else:

            def test(s: Subject) -> bool:
                return wanted.isdisjoint(have(s))

            def describe(s: Subject) -> str:
                hit = sorted(wanted & have(s))
                return f"{label} {_names(hit)}" if hit else f"not {label} any of: {listed}"

        return Condition(key, test, describe, (attr,))

    return build


def _one_of(key: str, attr: str, label: str) -> Callable[[object], Condition]:
    """vendor_in / supplier_in (case-insensitive)."""

    def build(value: object) -> Condition:
        shown = _str_list(value)
        wanted = frozenset(v.casefold() for v in shown)

        def test(s: Subject) -> bool:
            return getattr(s, attr) in wanted

        def describe(s: Subject) -> str:
            actual = getattr(s.facts, attr)
            if actual is None:
                return f"no {label}"
            verb = "is" if getattr(s, attr) in wanted else "is not"
            return f"{label} {actual} {verb} one of: {_names(shown)}"

        return Condition(key, test, describe, (attr,))

    return build


def _sku_matches(value: object) -> Condition:
    patterns = _str_list(value)
    regex = re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns))

    def test(s: Subject) -> bool:
        return regex.match(s.facts.sku) is not None

    def describe(s: Subject) -> str:
        sku = s.facts.sku
        for pattern in patterns:
            if fnmatch.fnmatchcase(sku, pattern):
                return f"SKU {sku} matches {pattern}"
        return f"SKU {sku} matches none of: {_names(patterns)}"

    return Condition("sku_matches", test, describe, ("sku",), cost=3)


_WHEN_DATE_VALUES = ("future", "past", "none", "any")


def _date_condition(key: str, label: str, *, today_is_future: bool) -> Callable[[object], Condition]:
    """release_date / restock_date = "future" | "past" | "none" | "any".

    On the day itself a release date counts as past (released) and a restock date as future
    (still due today): `today_is_future` says which.
    """

    def build(value: object) -> Condition:
        if value not in _WHEN_DATE_VALUES:
            raise _Invalid(f"{_show(value)} is not one of " + ", ".join(f'"{v}"' for v in _WHEN_DATE_VALUES))

        def future(d: date, today: date) -> bool:
            return d >= today if today_is_future else d > today

        read: Callable[[Facts], date | None] = operator.attrgetter(key)
        test: Callable[[Subject], bool]
        after: Callable[[date, date], bool]
        if value in ("future", "past"):
            # Whether today itself counts as the future (a release day still sells as a pre-order).
            if value == "future":
                after = operator.ge if today_is_future else operator.gt
            else:
                after = operator.lt if today_is_future else operator.le

            def test(s: Subject, after: Callable[[date, date], bool] = after) -> bool:
                return (d := read(s.facts)) is not None and after(d, s.today)
        elif value == "none":

            def test(s: Subject) -> bool:
                return read(s.facts) is None
        else:

            def test(s: Subject) -> bool:
                return read(s.facts) is not None

        def describe(s: Subject) -> str:
            d = getattr(s.facts, key)
            if d is None:
                return f"no {label} date"
            when = "future" if future(d, s.today) else "past"
            return f"{label} date {d.isoformat()} is {when} (today {s.today.isoformat()})"

        return Condition(key, test, describe, (key,), cost=1)

    return build


def _count_condition(key: str, label: str, count: Callable[[Subject], int]) -> Callable[[object], Condition]:
    """queue_length / queued_units: a whole-number comparison like available."""

    def build(value: object) -> Condition:
        op_text, limit, op = _comparison(value, example="> 0")

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


_DECIMAL_COMPARISON = re.compile(r"^\s*(<=|>=|==|!=|<|>)\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*$")


def _comparison(
    value: object, *, example: str, decimals: bool = False
) -> tuple[str, float, Callable[[float, float], bool]]:
    pattern = _DECIMAL_COMPARISON if decimals else _COMPARISON
    match = pattern.match(value) if isinstance(value, str) and not isinstance(value, bool) else None
    if match is None:
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise _Invalid(f'{_show(value)} is not a comparison; write e.g. "{example.split()[0]} {value}"')
        raise _Invalid(f'{_show(value)} is not a comparison like "{example}" (operators: <, <=, ==, !=, >=, >)')
    number = match.group(2)
    limit: float = float(number) if decimals and not re.fullmatch(r"[+-]?\d+", number) else int(number)
    op: Callable[[float, float], bool] = _OPERATORS[match.group(1)]  # type: ignore[assignment]
    return match.group(1), limit, op


def _windowed(key: str, value: object, example: str) -> tuple[int, tuple[str, float, Callable[[float, float], bool]]]:
    """`"> 2"` (the default window) or `{ window_days = 7, is = "> 2" }`."""
    window = DEFAULT_WINDOW_DAYS
    if isinstance(value, Mapping):
        unknown = [k for k in value if k not in ("window_days", "is")]
        if unknown:
            raise _Invalid(f'unknown key {unknown[0]!r}; write {{ window_days = 28, is = "{example}" }}')
        if "is" not in value:
            raise _Invalid(f"missing 'is'; write {{ window_days = 28, is = \"{example}\" }}")
        if "window_days" in value:
            try:
                window = _int_value(value["window_days"], minimum=1)
            except _Invalid as exc:
                raise _Invalid(f"window_days: {exc}") from exc
        value = value["is"]
    return window, _comparison(value, example=example, decimals=True)


def _number(x: float) -> str:
    if x == math.inf:
        return "infinite"
    return f"{x:.2f}".rstrip("0").rstrip(".") if isinstance(x, float) else str(x)


def _velocity(value: object) -> Condition:
    window, (op_text, limit, op) = _windowed("velocity", value, "> 2")
    over = f"over {_plural(window, 'day')}"

    def test(s: Subject) -> bool:
        v = s.velocity(window)
        return v is not None and op(v, limit)

    def describe(s: Subject) -> str:
        v = s.velocity(window)
        if v is None:
            return f"velocity unknown: no day in stock {over}"
        verb = "" if op(v, limit) else "not "
        return f"velocity {_number(v)} a day {over}, {verb}{op_text} {_number(limit)}"

    def values(s: Subject) -> dict[str, object]:
        v = s.velocity(window)
        return {f"velocity_{window}d": None if v is None else round(v, 3)}

    return Condition("velocity", test, describe, (), cost=6, values=values)


def _days_of_cover(value: object) -> Condition:
    window, (op_text, limit, op) = _windowed("days_of_cover", value, "< 14")
    over = f"at the velocity over {_plural(window, 'day')}"

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
            return f"days of cover unknown: no day in stock over {_plural(window, 'day')}"
        verb = "" if op(c, limit) else "not "
        return f"{_number(c)} days of cover {over}, {verb}{op_text} {_number(limit)}"

    def values(s: Subject) -> dict[str, object]:
        c = cover(s)
        return {f"days_of_cover_{window}d": None if c is None else _number(c) if c == math.inf else round(c, 3)}

    return Condition("days_of_cover", test, describe, ("available",), cost=6, values=values)


def _has_reliable_eta(value: object) -> Condition:
    if not isinstance(value, bool):
        raise _Invalid(f"{_show(value)} is not true or false")

    def test(s: Subject) -> bool:
        return (s.arrival() is not None) is value

    def describe(s: Subject) -> str:
        return describe_arrival(s)

    def values(s: Subject) -> dict[str, object]:
        return _supply_values(s)

    return Condition("has_reliable_eta", test, describe, ("available",), cost=5, values=values)


def describe_arrival(s: Subject) -> str:
    """The FIFO arrival of the next unit, in words."""
    queued = s.queued()
    arrival = s.arrival()
    if arrival is None:
        return f"no reliable timeline: supply up to {s.horizon_end.isoformat()} does not cover {queued} queued + 1"
    if arrival == s.today and s.available is not None and s.available > 0:
        return f"{s.available} on hand: the next unit ships now"
    return f"supply covers {queued} queued + 1 on {arrival.isoformat()}"


def _supply_values(s: Subject) -> dict[str, object]:
    arrival = s.arrival()
    return {
        "queued": s.queued(),
        "supply": [[e.expected.isoformat(), e.quantity, e.reference] for e in s.facts.supply],
        "next_arrival": arrival.isoformat() if arrival is not None else None,
        "horizon_end": s.horizon_end.isoformat(),
    }


WHEN_KEYS: dict[str, Callable[[object], Condition]] = {
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
"""Conditions that look only at the facts. Order in a rule does not matter (all must hold)."""

ETA_WHEN_KEYS = ("eta_within_days", "has_eta")
"""Conditions on the ETA the rule's own `then.eta` gives."""

THEN_KEYS = ("status", "eta", "handling_days", "message", "cap")
RULE_KEYS = ("name", "when", "then")

# ---------------------------------------------------------------------------------------------
# ETA sources. Every source yields a date no earlier than today, or None: a date in the past
# (a late shipment, a stale fixed date) is not a promise a shop can make.

SUPPLY_DERIVED = frozenset({"restock_date", "lead_time", "supply"})
"""Sources that date the goods' arrival; handling days are added to these only."""


def _handling_text(handling: int) -> str:
    return f" + {_plural(handling, 'handling day')}" if handling else ""


def _release_source(handling: int) -> EtaSource:
    del handling  # the release date is the ship date

    def resolve(s: Subject) -> date | None:
        d = s.facts.release_date
        return d if d is not None and d >= s.today else None

    def describe(s: Subject) -> str:
        d = s.facts.release_date
        if d is None:
            return "no ETA: no release date"
        if d < s.today:
            return f"no ETA: release date {d.isoformat()} has passed"
        return f"ETA {d.isoformat()} (release date)"

    return EtaSource("release_date", resolve, describe, ("release_date",))


def _restock_source(handling: int) -> EtaSource:
    extra = timedelta(days=handling)

    def resolve(s: Subject) -> date | None:
        d = s.facts.restock_date
        return d + extra if d is not None and d >= s.today else None

    def describe(s: Subject) -> str:
        d = s.facts.restock_date
        if d is None:
            return "no ETA: no restock date"
        if d < s.today:
            return f"no ETA: restock date {d.isoformat()} has passed (shipment late)"
        return f"ETA {(d + extra).isoformat()} (restock {d.isoformat()}{_handling_text(handling)})"

    return EtaSource("restock_date", resolve, describe, ("restock_date",))


def _lead_time_source(handling: int) -> EtaSource:
    def resolve(s: Subject) -> date | None:
        n = s.facts.lead_time_days
        return s.today + timedelta(days=n + handling) if n is not None and n >= 0 else None

    def describe(s: Subject) -> str:
        n = s.facts.lead_time_days
        if n is None or n < 0:
            return "no ETA: no supplier lead time known"
        eta = s.today + timedelta(days=n + handling)
        return f"ETA {eta.isoformat()} (lead time {_plural(n, 'day')}{_handling_text(handling)})"

    return EtaSource("lead_time", resolve, describe, ("lead_time_days",))


def _fixed_source(fixed: date) -> EtaSource:
    def resolve(s: Subject) -> date | None:
        return fixed if fixed >= s.today else None

    def describe(s: Subject) -> str:
        if fixed < s.today:
            return f"no ETA: fixed date {fixed.isoformat()} has passed"
        return f"ETA {fixed.isoformat()} (fixed date)"

    return EtaSource(fixed.isoformat(), resolve, describe, ())


def _supply_source(handling: int) -> EtaSource:
    extra = timedelta(days=handling)

    def resolve(s: Subject) -> date | None:
        arrival = s.arrival()
        return arrival + extra if arrival is not None else None

    def describe(s: Subject) -> str:
        arrival = s.arrival()
        if arrival is None:
            return "no ETA: " + describe_arrival(s)
        return f"ETA {(arrival + extra).isoformat()} ({describe_arrival(s)}{_handling_text(handling)})"

    return EtaSource("supply", resolve, describe, ("available",))


ETA_SOURCES: dict[str, Callable[[int], EtaSource]] = {
    "release_date": _release_source,
    "restock_date": _restock_source,
    "lead_time": _lead_time_source,
    "supply": _supply_source,
}
"""Named ETA sources, each built with the handling days that apply to the rule."""


def _fixed_date(value: object) -> date | None:
    if isinstance(value, date):  # an unquoted TOML date
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise _Invalid(f"{_show(value)} is not a valid date ({exc})") from exc
    return None


# ---------------------------------------------------------------------------------------------
# ETA-phase checks


def _has_eta_check(source: EtaSource, wanted: bool) -> EtaCheck:
    def test(s: Subject, eta: date | None) -> bool:
        return (eta is not None) is wanted

    def describe(s: Subject, eta: date | None) -> str:
        return source.describe(s)

    return EtaCheck("has_eta", test, describe)


def _within_check(days: int) -> EtaCheck:
    def test(s: Subject, eta: date | None) -> bool:
        return eta is not None and (eta - s.today).days <= days

    def describe(s: Subject, eta: date | None) -> str:
        if eta is None:
            return f"no ETA within {_plural(days, 'day')}"
        away = (eta - s.today).days
        if away <= days:
            return f"ETA {eta.isoformat()} within {_plural(days, 'day')} (in {away})"
        return f"ETA {eta.isoformat()} is {_plural(away, 'day')} away, more than {days}"

    return EtaCheck("eta_within_days", test, describe)


def queued_units(s: Subject) -> int:
    """Units already sold beyond stock (waiting for supply)."""
    if s.available is not None:
        return -s.available if s.available < 0 else 0
    return sum(q.quantity for q in s.facts.backorder_queue)


@dataclass(frozen=True, slots=True)
class Cap:
    """`then.cap`: the most units that may wait, fixed (`max`) and/or what `incoming` supply covers."""

    max: int | None
    incoming: bool

    def total(self, s: Subject) -> int:
        """Units allowed to wait in all (the smaller of the two when both are set)."""
        if not self.incoming:
            return self.max  # type: ignore[return-value]
        room = s.incoming()
        return room if self.max is None or room < self.max else self.max

    def sell_limit(self, s: Subject) -> int:
        """Units that may still be sold past the shelf; <= 0 means the cap is reached."""
        return self.total(s) - queued_units(s)

    def describe(self, s: Subject) -> str:
        queued = queued_units(s)
        if not self.incoming:
            head = f"cap {self.max}"
        else:
            room = s.incoming()
            where = f"incoming {room} up to {s.horizon_end.isoformat()}"
            head = where if self.max is None else f"cap {self.total(s)} (the smaller of {self.max} and {where})"
        left = self.total(s) - queued
        if left > 0:
            return f"{head}: {left} more can be ordered ({queued} waiting)"
        return f"{head} reached ({queued} waiting)"


def _cap_check(cap: Cap) -> EtaCheck:
    def test(s: Subject, eta: date | None) -> bool:
        return cap.sell_limit(s) > 0

    def describe(s: Subject, eta: date | None) -> str:
        return cap.describe(s)

    return EtaCheck("cap", test, describe)


def _cap(value: object) -> Cap:
    """`cap = 200`, `cap = "incoming"` or `cap = { max = 50, incoming = true }`."""
    if value == "incoming":
        return Cap(None, True)
    if isinstance(value, Mapping):
        unknown = [k for k in value if k not in ("max", "incoming")]
        if unknown:
            raise _Invalid(f"unknown key {unknown[0]!r}; write {{ max = 50, incoming = true }}")
        fixed = None
        if "max" in value:
            try:
                fixed = _int_value(value["max"])
            except _Invalid as exc:
                raise _Invalid(f"max: {exc}") from exc
        incoming = value.get("incoming", False)
        if not isinstance(incoming, bool):
            raise _Invalid(f"incoming: {_show(incoming)} is not true or false")
        if fixed is None and not incoming:
            raise _Invalid("sets no limit; write { max = 50 }, { incoming = true } or both")
        return Cap(fixed, incoming)
    if isinstance(value, str):
        raise _Invalid(
            f'{_show(value)} is not a cap; use a whole number, "incoming" or {{ max = 50, incoming = true }}'
        )
    return Cap(_int_value(value), False)


# ---------------------------------------------------------------------------------------------
# Whole rules


def _unknown_key(key: str, valid: Sequence[str], elsewhere: Mapping[str, Sequence[str]]) -> str:
    for section, keys in elsewhere.items():
        if key in keys:
            return f"unknown key {key!r}; it belongs in {section}"
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else f"; valid keys: {', '.join(valid)}"
    return f"unknown key {key!r}{hint}"


_VALID_WHEN = (*WHEN_KEYS, *ETA_WHEN_KEYS)
_STATUSES = ", ".join(f'"{s.value}"' for s in Status)


def parse_rules(raw_rules: object, *, handling_days: int = 0, source: str = "rules") -> tuple[Rule, ...]:
    """Validate the `[[rules]]` tables and compile them; raise RuleError listing every problem."""
    problems: list[str] = []
    if isinstance(handling_days, bool) or not isinstance(handling_days, int) or handling_days < 0:
        problems.append(f"handling_days: {_show(handling_days)} is not a whole number >= 0")
        handling_days = 0
    if isinstance(raw_rules, (str, bytes, Mapping)) or not isinstance(raw_rules, Sequence):
        raise RuleError([f"{source}: expected a list of [[rules]] tables, got {_show(raw_rules)}"])

    compiled: list[Rule] = []
    seen: dict[str, int] = {}
    for position, raw in enumerate(raw_rules):
        rule = _parse_rule(position, raw, handling_days, source, problems)
        name = raw.get("name") if isinstance(raw, Mapping) else None
        if isinstance(name, str) and name.strip():
            key = name.strip().casefold()
            if key in seen:
                problems.append(
                    f'{source}[{position}] ("{name.strip()}").name: the same name as'
                    f" {source}[{seen[key]}]; rule names must be unique"
                )
            else:
                seen[key] = position
        if rule is not None:
            compiled.append(rule)

    catch_all = next((r for r in compiled if r.unconditional), None)
    if catch_all is not None:
        for rule in compiled:
            if rule.position > catch_all.position:
                problems.append(
                    f'{source}[{rule.position}] ("{rule.name}"): never reached, because'
                    f' {source}[{catch_all.position}] ("{catch_all.name}") has no conditions'
                    " and matches every item"
                )
    if problems:
        raise RuleError(problems)
    return tuple(compiled)


def _parse_rule(position: int, raw: object, handling_days: int, source: str, problems: list[str]) -> Rule | None:
    where = f"{source}[{position}]"
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: expected a [[rules]] table, got {_show(raw)}")
        return None
    before = len(problems)

    name = raw.get("name")
    if isinstance(name, str) and name.strip():
        name = name.strip()
        where = f'{where} ("{name}")'
        if name.casefold() == "default":
            problems.append(f'{where}.name: "default" is the name of the built-in fallback; choose another')
    else:
        problems.append(f"{where}.name: missing" if name is None else f"{where}.name: {_show(name)} is not a name")
        name = ""

    for key in raw:
        if key not in RULE_KEYS:
            problems.append(f"{where}: " + _unknown_key(str(key), RULE_KEYS, {"when": _VALID_WHEN, "then": THEN_KEYS}))

    when = raw.get("when", {})
    if not isinstance(when, Mapping):
        problems.append(f'{where}.when: expected a table like {{ available = "<= 0" }}')
        when = {}
    then = raw.get("then")
    if then is None:
        problems.append(f'{where}.then: missing (e.g. then = {{ status = "out_of_stock" }})')
        then = {}
    elif not isinstance(then, Mapping):
        problems.append(f'{where}.then: expected a table like {{ status = "out_of_stock" }}')
        then = {}

    conditions: list[Condition] = []
    for key, value in when.items():
        if key in ETA_WHEN_KEYS:
            continue
        builder = WHEN_KEYS.get(key)
        if builder is None:
            problems.append(f"{where}.when: " + _unknown_key(str(key), _VALID_WHEN, {"then": THEN_KEYS}))
            continue
        try:
            conditions.append(builder(value))
        except _Invalid as exc:
            problems.append(f"{where}.when.{key}: {exc}")

    for key in then:
        if key not in THEN_KEYS:
            problems.append(f"{where}.then: " + _unknown_key(str(key), THEN_KEYS, {"when": _VALID_WHEN}))

    status: Status | None = None
    raw_status = then.get("status")
    if raw_status is None:
        if then:
            problems.append(f"{where}.then.status: missing; use one of {_STATUSES}")
    else:
        try:
            status = Status(raw_status)
        except ValueError:
            problems.append(f"{where}.then.status: {_show(raw_status)} is not one of {_STATUSES}")

    carries_eta = status is None or status.sellable_past_zero

    # handling days: a per-rule override, added to supply-derived ETAs only
    handling = handling_days
    raw_handling = then.get("handling_days")
    if raw_handling is not None:
        try:
            handling = _int_value(raw_handling)
        except _Invalid as exc:
            problems.append(f"{where}.then.handling_days: {exc}")

    source_obj: EtaSource | None = None
    raw_eta = then.get("eta")
    if raw_eta is not None:
        try:
            fixed = _fixed_date(raw_eta)
            if fixed is not None:
                source_obj = _fixed_source(fixed)
            elif isinstance(raw_eta, str) and raw_eta in ETA_SOURCES:
                source_obj = ETA_SOURCES[raw_eta](handling)
            else:
                raise _Invalid(
                    f"{_show(raw_eta)} is not an ETA source; use "
                    + ", ".join(f'"{s}"' for s in ETA_SOURCES)
                    + ' or a date "YYYY-MM-DD"'
                )
        except _Invalid as exc:
            problems.append(f"{where}.then.eta: {exc}")
        if not carries_eta:
            problems.append(
                f'{where}.then.eta: a {status} decision has no ETA; only "backorder" and "pre_order" carry one'
            )
    if raw_handling is not None and raw_eta is not None and source_obj is not None:
        if source_obj.name not in SUPPLY_DERIVED:
            problems.append(
                f"{where}.then.handling_days: only added to a restock_date, lead_time or supply ETA,"
                f" not to eta = {_show(raw_eta)}"
            )
    elif raw_handling is not None and raw_eta is None:
        problems.append(f"{where}.then.handling_days: has no effect without then.eta")

    eta_checks: list[EtaCheck] = []
    has_eta = when.get("has_eta")
    within = when.get("eta_within_days")
    wants_eta = True
    if has_eta is not None:
        if not isinstance(has_eta, bool):
            problems.append(f"{where}.when.has_eta: {_show(has_eta)} is not true or false")
        elif raw_eta is None:
            problems.append(f"{where}.when.has_eta: needs then.eta (the ETA source it checks)")
        else:
            wants_eta = has_eta
    if within is not None:
        if raw_eta is None:
            problems.append(f"{where}.when.eta_within_days: needs then.eta (the ETA source it checks)")
        elif not wants_eta:
            problems.append(f"{where}.when.eta_within_days: contradicts has_eta = false")
        try:
            eta_checks.append(_within_check(_int_value(within)))
        except _Invalid as exc:
            problems.append(f"{where}.when.eta_within_days: {exc}")
    if source_obj is not None:
        # A rule that gives an ETA matches only when it has one (see rules/__init__.py).
        eta_checks.insert(0, _has_eta_check(source_obj, wants_eta))

    cap: Cap | None = None
    raw_cap = then.get("cap")
    if raw_cap is not None:
        try:
            cap = _cap(raw_cap)
        except _Invalid as exc:
            problems.append(f"{where}.then.cap: {exc}")
        if not carries_eta:
            problems.append(f"{where}.then.cap: limits backorders and pre-orders; a {status} decision has none")
    if cap is not None:
        eta_checks.append(_cap_check(cap))

    message: MessageTemplate | None = None
    raw_message = then.get("message")
    if raw_message is not None:
        if not isinstance(raw_message, str):
            problems.append(f"{where}.then.message: {_show(raw_message)} is not text")
        else:
            message, template_problems = parse_template(raw_message)
            problems.extend(f"{where}.then.message: {p}" for p in template_problems)
            if message is not None and message.fields & ETA_FIELDS and (source_obj is None or not wants_eta):
                used = ", ".join(f"{{{f}}}" for f in sorted(message.fields & ETA_FIELDS))
                why = "has_eta = false" if raw_eta is not None else "there is no then.eta"
                problems.append(f"{where}.then.message: uses {used} but this rule never has an ETA ({why})")
            if message is not None and "limit" in message.fields and raw_cap is None:
                problems.append(f"{where}.then.message: uses {{limit}} but this rule has no then.cap")

    if len(problems) > before or status is None:
        return None
    action = Action(status, source_obj if wants_eta else None, message, cap, handling)
    tests = tuple(c.test for c in sorted(conditions, key=lambda c: c.cost))
    stock_range: tuple[float, float] | None = None
    for c in conditions:
        if c.interval is not None:
            low, high = stock_range or (-math.inf, math.inf)
            stock_range = (max(low, c.interval[0]), min(high, c.interval[1]))
    return Rule(
        position=position,
        name=name,
        conditions=tuple(conditions),
        tests=tests,
        match=_all_of(tests),
        stock_range=stock_range,
        match_rest=_all_of(tuple(c.test for c in sorted(conditions, key=lambda c: c.cost) if c.interval is None)),
        stock_dependent=(
            any("available" in c.inputs or c.key in _STOCK_KEYS for c in conditions)
            or (source_obj is not None and source_obj.name == "supply")
            or cap is not None
        ),
        eta_source=source_obj,
        eta_checks=tuple(eta_checks),
        action=action,
    )
