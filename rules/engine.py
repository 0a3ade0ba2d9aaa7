"""Evaluation: a compiled RuleSet turns one SKU's Facts into a Decision (first match wins).

The hot path (`decide`) does only what the decision itself needs: the tests of the rules up to
the first match, the cap, the message and the per-order dates. Reasons and inputs are worked out
when someone reads them (`Decision.reasons` / `.inputs`), from the same compiled rule.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from stockstatus.rules.compiler import Rule, compile_specs
from stockstatus.rules.demand import DEFAULT_WINDOW_DAYS, days_of_cover
from stockstatus.rules.errors import RuleError
from stockstatus.rules.model import (
    AtSellout,
    Decision,
    Facts,
    OrderEta,
    Shipment,
    Status,
    Why,
    make_at_sellout,
    make_order_eta,
)
from stockstatus.rules.schema import validate_options, validate_rules
from stockstatus.rules.subject import Subject, queued_units, supply_values
from stockstatus.rules.supply import (
    DEFAULT_HORIZON_DAYS,
    GroupOrderEta,
    SupplyTimeline,
    etas_in,
    group_etas,
    merged,
    one_shipment,
    queued_elsewhere,
    timeline,
)

DEFAULT_RULE = "default"
_later_decision = Decision.explained_later


class _Build(Protocol):
    """How `RuleSet._decide` makes its Decision: `_later` for `decide`, `_now` for `why`."""

    def __call__(
        self,
        rules: RuleSet,
        facts: Facts,
        status: Status,
        rule: str,
        eta: date | None,
        sell_limit: int | None,
        message: str | None,
        on_sellout: Status | None,
        order_etas: tuple[OrderEta, ...],
        at_sellout: AtSellout | None,
        explain: Callable[..., Why],
        /,
        *args: object,
    ) -> Decision: ...


def _later(
    rules: RuleSet,
    facts: Facts,
    status: Status,
    rule: str,
    eta: date | None,
    sell_limit: int | None,
    message: str | None,
    on_sellout: Status | None,
    order_etas: tuple[OrderEta, ...],
    at_sellout: AtSellout | None,
    explain: Callable[..., Why],
    /,
    *args: object,
) -> Decision:
    """The decision, its reasons and inputs worked out when read (by `rules.why(facts)`)."""
    return _later_decision(status, rule, eta, sell_limit, message, on_sellout, order_etas, rules, facts, at_sellout)


def _now(
    rules: RuleSet,
    facts: Facts,
    status: Status,
    rule: str,
    eta: date | None,
    sell_limit: int | None,
    message: str | None,
    on_sellout: Status | None,
    order_etas: tuple[OrderEta, ...],
    at_sellout: AtSellout | None,
    explain: Callable[..., Why],
    /,
    *args: object,
) -> Decision:
    """The decision with its reasons and inputs, `explain(rules, facts, *args)`, worked out now."""
    reasons, inputs = explain(rules, facts, *args)
    return Decision(status, rule, eta, sell_limit, message, reasons, on_sellout, order_etas, inputs, at_sellout)


@dataclass(frozen=True, slots=True)
class CheckTrace:
    """One condition of one rule, as evaluated for `explain`."""

    key: str
    """Where it comes from: "when.available", "then.eta", "then.cap", ..."""
    passed: bool
    text: str


@dataclass(frozen=True, slots=True)
class RuleTrace:
    """One rule's result for `explain`; `decision` is set on the rule that decided."""

    position: int | None
    """Index in the rule list; None for the built-in default."""
    name: str
    matched: bool
    checks: tuple[CheckTrace, ...]
    decision: Decision | None = None


class Explanation(list[RuleTrace]):
    """`RuleSet.explain`'s answer: the rule traces in order (it is their list), plus the derivation.

    - `decision`: what `decide` returns for the same facts.
    - `timeline`: the FIFO supply/queue timeline at the stock level the rules were evaluated at
      (`timeline.lines()` prints it; `timeline.rows` are (day, incoming, supply, covered) rows).
    - `order_etas`: per queued order, units now / later and the ship-by date.
    - `held`: why hysteresis kept the sold-out status (None when it did not).
    - `velocity`, `days_of_cover`: demand over the default window (None when unknown).
    - `group_orders`: in a supply group, every store's waiting orders in the group's FIFO order,
      each with its store and ship dates (this store's are the decision's `order_etas`).
    """

    decision: Decision | None
    timeline: SupplyTimeline
    held: str | None
    velocity: float | None
    days_of_cover: float | None
    group_orders: tuple[GroupOrderEta, ...]

    def __init__(
        self,
        traces: Sequence[RuleTrace],
        *,
        decision: Decision | None,
        timeline: SupplyTimeline,
        held: str | None = None,
        velocity: float | None = None,
        days_of_cover: float | None = None,
        group_orders: tuple[GroupOrderEta, ...] = (),
    ) -> None:
        super().__init__(traces)
        self.decision = decision
        self.timeline = timeline
        self.held = held
        self.velocity = velocity
        self.days_of_cover = days_of_cover
        self.group_orders = group_orders

    @property
    def traces(self) -> tuple[RuleTrace, ...]:
        """Each rule's result, in order (the same as the list itself)."""
        return tuple(self)

    @property
    def order_etas(self) -> tuple[OrderEta, ...]:
        return self.decision.order_etas if self.decision is not None else ()


_Check = Callable[[Subject, date | None], bool]
_Step = tuple[
    Callable[[Subject], bool] | None,
    Callable[[Subject], date | None] | None,
    bool,
    _Check | None,
    Rule,
]
"""A rule as a plan runs it: its `when` tests in one call, its ETA source, whether it needs an
ETA to match, its other checks of the ETA (and cap) in one call, and the rule."""


def _all_checks(checks: Sequence[_Check]) -> _Check | None:
    """`compiler.all_of` for the checks that take the ETA too."""
    if not checks:
        return None
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        a, b = checks
        return lambda s, eta: a(s, eta) and b(s, eta)

    def every(s: Subject, eta: date | None) -> bool:
        for check in checks:  # noqa: SIM110
            if not check(s, eta):
                return False
        return True

    return every


_ETA_CHECK_SECTION = {"has_eta": "then.eta", "eta_within_days": "when.eta_within_days", "cap": "then.cap"}
_HELD_BACK = frozenset({Status.OUT_OF_STOCK, Status.BACKORDER})
"""Statuses that cannot hold while units are on the shelf: the connector never rewrites stock."""
_SOLD_OUT = frozenset({Status.OUT_OF_STOCK, Status.BACKORDER})
"""Previous statuses that hysteresis (`back_in_stock_at`) holds on to."""
_PAST_ZERO = frozenset({Status.BACKORDER, Status.PRE_ORDER})
"""`Status.sellable_past_zero` as a set (a property call costs more on the hot path)."""
_SALES_KEYS = frozenset({"velocity", "days_of_cover"})


def _jsonable(value: object) -> object:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, frozenset):
        return sorted(value)
    return value


@dataclass(frozen=True, slots=True)
class RuleSet:
    """A validated, compiled rule list. Build it with `compile_rules`; it is immutable and shareable."""

    rules: tuple[Rule, ...]
    handling_days: int = 0
    source: str = "rules"
    horizon_days: int = DEFAULT_HORIZON_DAYS
    """Supply expected later than this many days from today does not count."""
    back_in_stock_at: int | None = None
    """Hysteresis: an item last shown sold out is in stock again only once available reaches this."""
    _points: tuple[float, ...] = field(init=False, repr=False, compare=False)
    _plans: tuple[tuple[_Step, ...], ...] = field(init=False, repr=False, compare=False)
    _untracked: tuple[_Step, ...] = field(init=False, repr=False, compare=False)
    _zero_plans: tuple[tuple[_Step, ...], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # The rules indexed by stock level: between two breakpoints of the `available`
        # conditions the same rules can apply, so each stretch gets its own plan in which those
        # tests are already answered. A plan is flat tuples: no attribute lookups in the loop.
        def step(rule: Rule, indexed: bool) -> _Step:
            # A rule that gives an ETA matches only with one: asked in place, not by a call.
            needs_eta = rule.eta_source is not None and rule.action.eta is not None
            return (
                rule.match_rest if indexed else rule.match,
                rule.eta_source.resolve if rule.eta_source is not None else None,
                needs_eta,
                _all_checks([k.test for k in rule.eta_checks if not (needs_eta and k.key == "has_eta")]),
                rule,
            )

        points = sorted(
            {r.stock_range[0] for r in self.rules if r.stock_range and r.stock_range[0] > -math.inf}
            | {r.stock_range[1] + 1 for r in self.rules if r.stock_range and r.stock_range[1] < math.inf}
        )

        def plan_at(level: float) -> tuple[_Step, ...]:
            return tuple(
                step(r, True) if r.stock_range is not None else step(r, False)
                for r in self.rules
                if r.stock_range is None or r.stock_range[0] <= level <= r.stock_range[1]
            )

        starts = [points[0] - 1 if points else 0, *points]
        plans = tuple(plan_at(level) for level in starts)
        at_zero = plans[bisect_right(points, 0)]
        # Pre-arming after the first pass stopped at rule k: rules before k that do not read the
        # stock level answer the same at sell-out (they failed), so only the others are asked.
        zero = tuple(
            tuple(s for s in at_zero if s[4].position >= k or s[4].stock_dependent) for k in range(len(self.rules) + 1)
        )
        untracked = tuple(step(r, False) for r in self.rules if r.stock_range is None)
        object.__setattr__(self, "_points", tuple(points))
        object.__setattr__(self, "_plans", plans)
        object.__setattr__(self, "_untracked", untracked)
        object.__setattr__(self, "_zero_plans", zero)

    @property
    def reads_sales(self) -> bool:
        """Whether any rule reads the sales history (`velocity`, `days_of_cover`): without one, a
        pass need not build it."""
        return any(c.key in _SALES_KEYS for r in self.rules for c in r.conditions)

    @property
    def names(self) -> tuple[str, ...]:
        """The rule names in order."""
        return tuple(r.name for r in self.rules)

    def decide(self, facts: Facts) -> Decision | None:
        """The decision for one SKU; None when no rule matches and stock is not tracked."""
        return self._decide(facts, _later)

    def why(self, facts: Facts) -> Why:
        """The reasons and inputs of `decide(facts)` (what `Decision.reasons` / `.inputs` read)."""
        made = self._decide(facts, _now)
        assert made is not None  # only a decision made from these facts asks
        return made.reasons, made.inputs

    def _decide(self, facts: Facts, build: _Build) -> Decision | None:
        available = facts.available
        subject = Subject(facts, available, self.horizon_days)
        found = self._first_match(subject)
        if found is not None:
            rule, eta = found
            status = rule.action.status
            if available is None or available <= 0:
                return self._rule_decision(build, rule, subject, eta, None, None)
            on_shelf = status in _HELD_BACK
            if not on_shelf and status is not Status.IN_STOCK:
                return self._rule_decision(build, rule, subject, eta, None, None)  # pre-order with stock
        elif available is None:
            return None
        elif available <= 0:
            return build(
                self,
                facts,
                Status.OUT_OF_STOCK,
                DEFAULT_RULE,
                None,
                None,
                None,
                None,
                self._order_etas(subject, Status.OUT_OF_STOCK, None, self.handling_days),
                None,
                _explain_default,
                Status.OUT_OF_STOCK,
            )
        else:
            rule, eta, on_shelf = None, None, False

        # In stock with units on the shelf: pre-arm with what the rules say at the last sale.
        subject.available = 0
        at_zero = self._first_match(subject, rule.position if rule is not None else len(self.rules))
        if on_shelf and rule is not None:
            sellout_status, sellout_rule = rule.action.status, rule
        elif at_zero is not None:
            sellout_status, sellout_rule = at_zero[0].action.status, at_zero[0]
        else:
            sellout_status, sellout_rule = Status.OUT_OF_STOCK, None
        if (
            self.back_in_stock_at is not None
            and available < self.back_in_stock_at
            and facts.previous_status in _SOLD_OUT
            and sellout_status is not Status.IN_STOCK
        ):
            return self._held(build, subject, at_zero)
        limit = None
        if sellout_rule is not None and sellout_rule.action.cap is not None and sellout_status in _PAST_ZERO:
            limit = sellout_rule.action.cap.sell_limit(subject)
        if sellout_status is Status.OUT_OF_STOCK and (sellout_rule is None or sellout_rule.action.message is None):
            at_sellout = None  # a plain sell-out: what `_at_sellout` answers, without the call
        else:
            at_sellout = self._at_sellout(subject, sellout_status, sellout_rule, at_zero, limit)
        subject.available = available
        sellout_name = sellout_rule.name if sellout_rule is not None else DEFAULT_RULE
        order_etas = (
            self._order_etas(subject, Status.IN_STOCK, None, self.handling_days) if facts.backorder_queue else ()
        )
        if rule is None:
            return build(
                self,
                facts,
                Status.IN_STOCK,
                DEFAULT_RULE,
                None,
                limit,
                None,
                sellout_status,
                order_etas,
                at_sellout,
                _explain_default,
                Status.IN_STOCK,
                sellout_status,
                sellout_name,
            )
        if on_shelf:
            return build(
                self,
                facts,
                Status.IN_STOCK,
                rule.name,
                None,
                limit,
                None,
                sellout_status,
                order_etas,
                at_sellout,
                _explain_on_shelf,
                rule,
            )
        return self._rule_decision(
            build, rule, subject, eta, sellout_status, sellout_name, limit, at_sellout=at_sellout
        )

    def _at_sellout(
        self,
        subject: Subject,
        status: Status,
        rule: Rule | None,
        at_zero: tuple[Rule, date | None] | None,
        limit: int | None,
    ) -> AtSellout | None:
        """What the SKU shows after its last unit sells (`subject` is at available 0): the
        sell-out rule's ETA and message as a pass at that moment would write them. None for a
        plain sell-out (out of stock, no message): the store's own sold-out text says it all."""
        if rule is None:
            return None if status is Status.OUT_OF_STOCK else make_at_sellout(status, None, None)
        action = rule.action
        eta = None
        if action.eta is not None:
            if at_zero is not None and at_zero[0] is rule and at_zero[1] is not None:
                eta = at_zero[1]
            elif rule.eta_source is not None:
                # The rule matched while units were on the shelf: its ETA at zero may differ.
                eta = rule.eta_source.resolve(subject)
        message = None
        template = action.message
        if template is not None:
            facts = subject.facts
            message = template.render(
                facts.sku,
                facts.name,
                0,
                eta,
                facts.today,
                queued_units(subject) if "queue" in template.fields else None,
                limit,
            )
        if status is Status.OUT_OF_STOCK and message is None:
            return None
        return make_at_sellout(status, eta, message)

    def explain(self, facts: Facts) -> Explanation:
        """Every rule's result with per-condition texts; the deciding trace carries the decision.

        When no rule matches, a last trace named "default" shows the built-in fallback. When
        hysteresis holds the sold-out status, the rules are shown as evaluated at sell-out
        (available 0), which is what decided.
        """
        decision = self.decide(facts)
        held = None
        view = facts.available
        if decision is not None and "held_until_available" in decision.inputs:
            held = decision.reasons[-1]
            view = 0
        subject = Subject(facts, view, self.horizon_days)
        traces: list[RuleTrace] = []
        decided = False
        for rule in self.rules:
            checks = [CheckTrace(f"when.{c.key}", c.test(subject), c.describe(subject)) for c in rule.conditions]
            if rule.eta_source is not None or rule.eta_checks:
                eta = rule.eta_source.resolve(subject) if rule.eta_source is not None else None
                checks.extend(
                    CheckTrace(_ETA_CHECK_SECTION.get(k.key, k.key), k.test(subject, eta), k.describe(subject, eta))
                    for k in rule.eta_checks
                )
            matched = all(c.passed for c in checks)
            mine = matched and not decided
            decided = decided or matched
            traces.append(RuleTrace(rule.position, rule.name, matched, tuple(checks), decision if mine else None))
        if not decided:
            if view is None:
                text = "stock not tracked: no opinion, the item is left as it is"
            else:
                text = f"available {view} {'>' if view > 0 else '<='} 0"
            traces.append(
                RuleTrace(
                    None,
                    DEFAULT_RULE,
                    decision is not None,
                    (CheckTrace("default", decision is not None, text),),
                    decision,
                )
            )
        v = subject.velocity(DEFAULT_WINDOW_DAYS)
        group_orders: tuple[GroupOrderEta, ...] = ()
        if facts.group is not None:
            # Dated as the decision dates this store's own orders, so both lists agree.
            subject.available = facts.available
            deciding = next((r for r in self.rules if decision is not None and r.name == decision.rule), None)
            handling = deciding.action.handling_days if deciding is not None else self.handling_days
            status = decision.status if decision is not None else Status.OUT_OF_STOCK
            group_orders = self._group_orders(subject, status, decision.eta if decision else None, handling)
        return Explanation(
            traces,
            decision=decision,
            timeline=timeline(
                view,
                facts.backorder_queue,
                facts.supply,
                facts.today,
                horizon_days=self.horizon_days,
                also_queued=queued_elsewhere(facts.group),
            ),
            held=held,
            velocity=v,
            days_of_cover=days_of_cover(facts.available, v),
            group_orders=group_orders,
        )

    def _plan(self, available: int | None) -> tuple[_Step, ...]:
        if available is None:
            return self._untracked
        return self._plans[bisect_right(self._points, available)]

    def _first_match(self, subject: Subject, stock_only_before: int | None = None) -> tuple[Rule, date | None] | None:
        """The first rule that holds, with its ETA. With `stock_only_before` = k (pre-arming at
        available 0), rules before position k that do not read the stock level are skipped: they
        already failed."""
        available = subject.available
        if stock_only_before is not None and available == 0:
            plan = self._zero_plans[stock_only_before]
        elif available is None:
            plan = self._untracked
        else:
            # `_plan` inlined: this runs once or twice for every SKU of every pass.
            plan = self._plans[bisect_right(self._points, available)]
        for match, resolve, needs_eta, check, rule in plan:
            if match is not None and not match(subject):
                continue
            if resolve is None:
                eta = None
            else:
                eta = resolve(subject)
                if eta is None and needs_eta:
                    continue
            if check is None or check(subject, eta):
                return rule, eta
        return None

    def _rule_decision(
        self,
        build: _Build,
        rule: Rule,
        subject: Subject,
        eta: date | None,
        sellout: Status | None,
        sellout_rule: str | None,
        limit: int | None = None,
        held: str | None = None,
        at_sellout: AtSellout | None = None,
    ) -> Decision:
        facts = subject.facts
        action = rule.action
        shown = eta if action.eta is not None else None
        if action.cap is not None:
            limit = action.cap.sell_limit(subject)
        message = None
        template = action.message
        if template is not None:
            message = template.render(
                facts.sku,
                facts.name,
                subject.available,
                shown,
                facts.today,
                queued_units(subject) if "queue" in template.fields else None,
                limit,
            )
        order_etas = (
            self._order_etas(subject, action.status, shown, action.handling_days) if facts.backorder_queue else ()
        )
        return build(
            self,
            facts,
            action.status,
            rule.name,
            shown,
            limit,
            message,
            sellout,
            order_etas,
            at_sellout,
            _explain_rule,
            rule,
            subject.available,
            eta,
            sellout,
            sellout_rule,
            held,
        )

    def _held(self, build: _Build, subject: Subject, at_zero: tuple[Rule, date | None] | None) -> Decision:
        """Hysteresis: the decision the rules give at sell-out, while available < back_in_stock_at."""
        facts = subject.facts
        reason = (
            f"held: last shown {facts.previous_status.value if facts.previous_status else '?'};"
            f" back in stock only once available reaches {self.back_in_stock_at}"
            f" (now {facts.available}); decided as if sold out"
        )
        if at_zero is None:
            return build(
                self,
                facts,
                Status.OUT_OF_STOCK,
                DEFAULT_RULE,
                None,
                None,
                None,
                None,
                self._order_etas(subject, Status.OUT_OF_STOCK, None, self.handling_days),
                None,
                _explain_default,
                Status.OUT_OF_STOCK,
                None,
                None,
                0,
                reason,
            )
        return self._rule_decision(build, at_zero[0], subject, at_zero[1], None, None, held=reason)

    def _order_etas(
        self, subject: Subject, status: Status, eta: date | None, handling_days: int
    ) -> tuple[OrderEta, ...]:
        """Per queued order: FIFO against supply; no later than the decision's ETA (which is the
        next unit's, behind every queued one); a pre-order no earlier than its release date.

        In a supply group: this store's orders, dated along the whole group's queue."""
        facts = subject.facts
        if not facts.backorder_queue:
            return ()
        if facts.group is not None:
            store = facts.group.store
            return tuple(g.eta for g in self._group_orders(subject, status, eta, handling_days) if g.store == store)
        etas = etas_in(
            subject.available,
            facts.backorder_queue,
            subject.counted(),
            facts.today,
            handling_days,
            _not_before(facts, status),
        )
        return _no_later_than(etas, eta)

    def _group_orders(
        self, subject: Subject, status: Status, eta: date | None, handling_days: int
    ) -> tuple[GroupOrderEta, ...]:
        """Every waiting order of the SKU's supply group, dated along the group's one FIFO queue."""
        facts = subject.facts
        assert facts.group is not None
        dated = group_etas(
            subject.available,
            facts.backorder_queue,
            facts.group,
            facts.supply,
            facts.today,
            horizon_days=self.horizon_days,
            handling_days=handling_days,
            not_before=_not_before(facts, status),
        )
        if eta is None:
            return dated
        capped = _no_later_than(tuple(g.eta for g in dated), eta)
        return tuple(GroupOrderEta(g.store, g.ordered_at, e) for g, e in zip(dated, capped, strict=True))


def _not_before(facts: Facts, status: Status) -> date | None:
    """A pre-order ships on its release date at the earliest."""
    if status is Status.PRE_ORDER and facts.release_date is not None and facts.release_date >= facts.today:
        return facts.release_date
    return None


def _no_later_than(etas: tuple[OrderEta, ...], eta: date | None) -> tuple[OrderEta, ...]:
    """No order ships after the decision's ETA (the next unit's, behind every queued one)."""
    if eta is None:
        return etas
    for o in etas:
        if o.ships_by is None or o.ships_by > eta:
            break
    else:
        return etas  # the usual case: every order ships by then already
    return tuple(o if o.ships_by is not None and o.ships_by <= eta else _ships_by(o, eta) for o in etas)


def _ships_by(order: OrderEta, eta: date) -> OrderEta:
    """`order` with every part that would ship after `eta` (or never) shipping by `eta`."""
    parts = order.shipments
    if len(parts) == 1:
        day = parts[0].ships_by
        shipments = one_shipment(parts[0].units, day if day is not None and day <= eta else eta)
    else:
        shipments = merged(
            Shipment(p.units, p.ships_by if p.ships_by is not None and p.ships_by <= eta else eta) for p in parts
        )
    return make_order_eta(order.order_id, order.now, order.later, eta, shipments)


def _base_inputs(facts: Facts, available: int | None = None, *, view: bool = False) -> dict[str, object]:
    inputs: dict[str, object] = {
        "sku": facts.sku,
        "today": facts.today.isoformat(),
        "available": facts.available,
    }
    if view and available != facts.available:
        inputs["evaluated_at_available"] = available
    return inputs


def _sellout_reason(status: Status, rule: str) -> str:
    return f'at sell-out: {status.value} (rule "{rule}")'


def _explain_default(
    rules: RuleSet,
    facts: Facts,
    status: Status,
    sellout: Status | None = None,
    sellout_rule: str | None = None,
    available: int | None = None,
    held: str | None = None,
) -> Why:
    shown = facts.available if available is None else available
    sign = ">" if status is Status.IN_STOCK else "<="
    reasons: tuple[str, ...] = ("no rule matched", f"available {shown} {sign} 0")
    inputs = _base_inputs(facts)
    if sellout is not None and sellout_rule is not None:
        reasons = (*reasons, _sellout_reason(sellout, sellout_rule))
        inputs["on_sellout_rule"] = sellout_rule
    if held is not None:
        reasons = (*reasons, held)
        inputs["held_until_available"] = rules.back_in_stock_at
        inputs["previous_status"] = facts.previous_status.value if facts.previous_status else None
    return reasons, inputs


def _explain_on_shelf(rules: RuleSet, facts: Facts, rule: Rule) -> Why:
    subject = Subject(facts, facts.available, rules.horizon_days)
    reasons = [c.describe(subject) for c in rule.conditions]
    reasons.append(f"{facts.available} on the shelf ship now: in_stock until sold out, then {rule.action.status.value}")
    inputs = _base_inputs(facts)
    _condition_inputs(rule, subject, inputs)
    inputs["on_sellout_rule"] = rule.name
    return tuple(reasons), inputs


def _condition_inputs(rule: Rule, subject: Subject, inputs: dict[str, object]) -> None:
    facts = subject.facts
    for condition in rule.conditions:
        for field_name in condition.inputs:
            if field_name != "available":
                inputs[field_name] = _jsonable(getattr(facts, field_name))
        if condition.values is not None:
            inputs.update(condition.values(subject))


def _explain_rule(
    rules: RuleSet,
    facts: Facts,
    rule: Rule,
    available: int | None,
    eta: date | None,
    sellout: Status | None,
    sellout_rule: str | None,
    held: str | None,
) -> Why:
    """The reasons and inputs of a rule's decision (worked out when read)."""
    subject = Subject(facts, available, rules.horizon_days)
    action = rule.action
    reasons = [c.describe(subject) for c in rule.conditions]
    reasons.extend(k.describe(subject, eta) for k in rule.eta_checks)
    inputs = _base_inputs(facts, available, view=True)
    _condition_inputs(rule, subject, inputs)
    source = rule.eta_source
    if source is not None:
        for field_name in source.inputs:
            if field_name != "available":
                inputs[field_name] = _jsonable(getattr(facts, field_name))
        if source.name == "supply":
            inputs.update(supply_values(subject))
        inputs["eta_source"] = source.name
    if action.cap is not None:
        inputs["queued"] = queued_units(subject)
        cap = action.cap
        inputs["cap"] = cap.max if not cap.incoming else {"max": cap.max, "incoming": subject.incoming()}
    shown = eta if action.eta is not None else None
    if shown is not None:
        inputs["eta"] = shown.isoformat()
    if sellout is not None and sellout_rule is not None:
        reasons.append(_sellout_reason(sellout, sellout_rule))
        inputs["on_sellout_rule"] = sellout_rule
    if held is not None:
        reasons.append(held)
        inputs["previous_status"] = facts.previous_status.value if facts.previous_status else None
        inputs["held_until_available"] = rules.back_in_stock_at
    return tuple(reasons), inputs


def compile_rules(
    raw_rules: Sequence[Mapping[str, object]],
    *,
    handling_days: int = 0,
    source: str = "rules",
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    back_in_stock_at: int | None = None,
) -> RuleSet:
    """Validate and compile the parsed `[[rules]]` tables (first match wins).

    `handling_days` is the global default added to supply-derived ETAs (a rule's
    `then.handling_days` overrides it). `horizon_days`: supply expected further ahead does not
    count (no reliable timeline). `back_in_stock_at`: hysteresis, see rules/__init__.py.
    `source` prefixes every error location, e.g. "stores[1].rules" for a store's own rules.
    Raises RuleError listing every problem.
    """
    problems = validate_options(
        handling_days=handling_days, horizon_days=horizon_days, back_in_stock_at=back_in_stock_at
    )
    try:
        specs = validate_rules(raw_rules, source=source)
    except RuleError as exc:
        raise RuleError([*problems, *exc.problems]) from None
    if problems:
        raise RuleError(problems)
    rules = compile_specs(specs, handling_days=handling_days)
    return RuleSet(rules, handling_days, source, horizon_days, back_in_stock_at)
