"""Compilation: valid rule specs (`rules.schema`) become `Rule`s made of fast callables.

Nothing here validates: a `RuleSpec` is already consistent. The compiled rule carries its
conditions (cheapest first, in one callable), the stretch of stock levels its `available`
conditions allow (so a RuleSet can index rules by stock level), its ETA source, the checks that
need the ETA, and its action.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from stockstatus.rules.conditions import BUILDERS, STOCK_KEYS, Condition, Test
from stockstatus.rules.eta import Cap, EtaCheck, EtaSource, cap_check, eta_source, has_eta_check, within_check
from stockstatus.rules.model import Status
from stockstatus.rules.schema import RuleSpec
from stockstatus.rules.subject import Subject
from stockstatus.rules.template import MessageTemplate


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
    tests: tuple[Test, ...]
    eta_source: EtaSource | None
    """The source the ETA checks look at (also set for has_eta = false, where action.eta is None)."""
    eta_checks: tuple[EtaCheck, ...]
    action: Action
    match: Test | None = None
    """All `tests` in one call (cheapest first); None when the rule has no `when` conditions."""
    stock_dependent: bool = True
    """Whether anything in the rule reads the stock level (available, the queue, supply ETA,
    cap). Pre-arming re-asks only these: the others answer the same at sell-out."""
    stock_range: tuple[float, float] | None = None
    """The stock levels (low, high) its `available` intervals allow; None: any, untracked too."""
    match_rest: Test | None = None
    """`match` without the tests that `stock_range` already covers."""

    @property
    def unconditional(self) -> bool:
        """True when the rule matches every SKU, so rules after it are unreachable."""
        return not self.conditions and not self.eta_checks


def all_of(tests: Sequence[Test]) -> Test | None:
    """One callable for a rule's tests: saves the per-test loop on the hot path."""
    if not tests:
        return None
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        a, b = tests
        return lambda s: a(s) and b(s)
    if len(tests) == 3:
        a, b, c = tests
        return lambda s: a(s) and b(s) and c(s)

    def every(s: Subject) -> bool:
        # A loop, not all(genexpr): this runs for every SKU and rule, and the generator costs.
        for test in tests:  # noqa: SIM110
            if not test(s):
                return False
        return True

    return every


def _stock_range(conditions: Sequence[Condition]) -> tuple[float, float] | None:
    """The stock levels every `available` interval of the rule allows; None when it has none."""
    stock_range: tuple[float, float] | None = None
    for c in conditions:
        if c.interval is not None:
            low, high = stock_range or (-math.inf, math.inf)
            stock_range = (max(low, c.interval[0]), min(high, c.interval[1]))
    return stock_range


def _eta_checks(spec: RuleSpec, source: EtaSource | None, cap: Cap | None) -> tuple[EtaCheck, ...]:
    checks: list[EtaCheck] = []
    if source is not None:
        # A rule that gives an ETA matches only when it has one (see rules/__init__.py).
        checks.append(has_eta_check(source, spec.wants_eta))
    if spec.when.eta_within_days is not None:
        checks.append(within_check(spec.when.eta_within_days))
    if cap is not None:
        checks.append(cap_check(cap))
    return tuple(checks)


def compile_rule(position: int, spec: RuleSpec, handling_days: int) -> Rule:
    """One valid rule; `handling_days` is the global default its `then.handling_days` overrides."""
    then = spec.then
    handling = then.handling_days if then.handling_days is not None else handling_days
    conditions = tuple(BUILDERS[key](value) for key, value in spec.when.conditions())
    source = eta_source(then.eta, handling) if then.eta is not None else None
    cap = Cap.of(then.cap) if then.cap is not None else None
    cheapest_first = sorted(conditions, key=lambda c: c.cost)
    tests = tuple(c.test for c in cheapest_first)
    return Rule(
        position=position,
        name=spec.name,
        conditions=conditions,
        tests=tests,
        match=all_of(tests),
        stock_range=_stock_range(conditions),
        match_rest=all_of([c.test for c in cheapest_first if c.interval is None]),
        stock_dependent=(
            any("available" in c.inputs or c.key in STOCK_KEYS for c in conditions)
            or (source is not None and source.name == "supply")
            or cap is not None
        ),
        eta_source=source,
        eta_checks=_eta_checks(spec, source, cap),
        action=Action(then.status, source if spec.wants_eta else None, then.message, cap, handling),
    )


def compile_specs(specs: Sequence[RuleSpec], *, handling_days: int = 0) -> tuple[Rule, ...]:
    """Valid rules in order (first match wins); positions are their indexes in the list."""
    return tuple(compile_rule(position, spec, handling_days) for position, spec in enumerate(specs))
