"""Evaluation: a compiled RuleSet turns one SKU's Facts into a Decision (first match wins)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from rules.grammar import Rule, Subject, parse_rules, queued_units
from rules.model import Decision, Facts, Status
from rules.template import render_message

DEFAULT_RULE = "default"


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


_ETA_CHECK_SECTION = {"has_eta": "then.eta", "eta_within_days": "when.eta_within_days", "cap": "then.cap"}


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

    @property
    def names(self) -> tuple[str, ...]:
        """The rule names in order."""
        return tuple(r.name for r in self.rules)

    def decide(self, facts: Facts) -> Decision | None:
        """The decision for one SKU; None when no rule matches and stock is not tracked."""
        subject = Subject(facts, facts.available)
        found = self._first_match(subject)
        status = found[0].action.status if found is not None else _default_status(facts.available)
        if status is None:
            return None
        if found is not None and status in _HELD_BACK and facts.available is not None and facts.available > 0:
            return _on_shelf(found[0], subject)
        sellout: tuple[Status, str] | None = None
        if status is Status.IN_STOCK and facts.available is not None and facts.available > 0:
            # Pre-arm: what the rules say once the last unit is sold.
            subject.available = 0
            at_zero = self._first_match(subject)
            subject.available = facts.available
            sellout = (
                (at_zero[0].action.status, at_zero[0].name)
                if at_zero is not None
                else (Status.OUT_OF_STOCK, DEFAULT_RULE)
            )
        if found is None:
            return _default(facts, status, sellout)
        return _decision(found[0], subject, found[1], sellout)

    def explain(self, facts: Facts) -> list[RuleTrace]:
        """Every rule's result with per-condition texts; the deciding trace carries the decision.

        When no rule matches, a last trace named "default" shows the built-in fallback.
        """
        decision = self.decide(facts)
        subject = Subject(facts, facts.available)
        traces: list[RuleTrace] = []
        decided = False
        for rule in self.rules:
            checks = [
                CheckTrace(f"when.{c.key}", c.test(subject), c.describe(subject))
                for c in rule.conditions
            ]
            if rule.eta_source is not None or rule.eta_checks:
                eta = rule.eta_source.resolve(subject) if rule.eta_source is not None else None
                checks.extend(
                    CheckTrace(_ETA_CHECK_SECTION.get(k.key, k.key), k.test(subject, eta), k.describe(subject, eta))
                    for k in rule.eta_checks
                )
            matched = all(c.passed for c in checks)
            mine = matched and not decided
            decided = decided or matched
            traces.append(
                RuleTrace(rule.position, rule.name, matched, tuple(checks), decision if mine else None)
            )
        if not decided:
            if facts.available is None:
                text = "stock not tracked: no opinion, the item is left as it is"
            else:
                text = f"available {facts.available} {'>' if facts.available > 0 else '<='} 0"
            traces.append(
                RuleTrace(None, DEFAULT_RULE, decision is not None, (CheckTrace("default", decision is not None, text),), decision)
            )
        return traces

    def _first_match(self, subject: Subject) -> tuple[Rule, date | None] | None:
        for rule in self.rules:
            for test in rule.tests:
                if not test(subject):
                    break
            else:
                if not rule.eta_checks:
                    return rule, None
                eta = rule.eta_source.resolve(subject) if rule.eta_source is not None else None
                for check in rule.eta_checks:
                    if not check.test(subject, eta):
                        break
                else:
                    return rule, eta
        return None


_HELD_BACK = frozenset({Status.OUT_OF_STOCK, Status.BACKORDER})
"""Statuses that cannot hold while units are on the shelf: the connector never rewrites stock."""


def _on_shelf(rule: Rule, subject: Subject) -> Decision:
    """Units on the shelf ship now: in stock until the last one sells, then the rule's status."""
    facts = subject.facts
    reasons = [c.describe(subject) for c in rule.conditions]
    reasons.append(
        f"{facts.available} on the shelf ship now: in_stock until sold out, then {rule.action.status.value}"
    )
    inputs = _base_inputs(facts)
    for condition in rule.conditions:
        for field_name in condition.inputs:
            inputs[field_name] = _jsonable(getattr(facts, field_name))
    inputs["on_sellout_rule"] = rule.name
    return Decision(
        status=Status.IN_STOCK,
        rule=rule.name,
        reasons=tuple(reasons),
        on_sellout=rule.action.status,
        inputs=inputs,
    )


def _base_inputs(facts: Facts) -> dict[str, object]:
    return {"sku": facts.sku, "today": facts.today.isoformat(), "available": facts.available}


def _default_status(available: int | None) -> Status | None:
    """The built-in fallback: in stock when available > 0, out of stock at or below 0."""
    if available is None:
        return None
    return Status.IN_STOCK if available > 0 else Status.OUT_OF_STOCK


def _sellout_reason(sellout: tuple[Status, str]) -> str:
    return f'at sell-out: {sellout[0].value} (rule "{sellout[1]}")'


def _default(facts: Facts, status: Status, sellout: tuple[Status, str] | None) -> Decision:
    sign = ">" if status is Status.IN_STOCK else "<="
    reasons: tuple[str, ...] = ("no rule matched", f"available {facts.available} {sign} 0")
    inputs = _base_inputs(facts)
    if sellout is not None:
        reasons = (*reasons, _sellout_reason(sellout))
        inputs["on_sellout_rule"] = sellout[1]
    return Decision(
        status=status,
        rule=DEFAULT_RULE,
        reasons=reasons,
        on_sellout=sellout[0] if sellout is not None else None,
        inputs=inputs,
    )


def _decision(
    rule: Rule, subject: Subject, eta: date | None, sellout: tuple[Status, str] | None
) -> Decision:
    """Build the matched rule's decision (runs once per SKU, so it may be verbose)."""
    facts = subject.facts
    action = rule.action
    shown_eta = eta if action.eta is not None else None
    reasons = [c.describe(subject) for c in rule.conditions]
    reasons.extend(k.describe(subject, eta) for k in rule.eta_checks)
    inputs = _base_inputs(facts)
    for condition in rule.conditions:
        for field_name in condition.inputs:
            inputs[field_name] = _jsonable(getattr(facts, field_name))
    if rule.eta_source is not None:
        for field_name in rule.eta_source.inputs:
            inputs[field_name] = _jsonable(getattr(facts, field_name))
        inputs["eta_source"] = rule.eta_source.name
    sell_limit = None
    if action.cap is not None:
        queued = queued_units(subject)
        sell_limit = action.cap - queued
        inputs["queued"] = queued
        inputs["cap"] = action.cap
    if shown_eta is not None:
        inputs["eta"] = shown_eta.isoformat()
    message = None
    if action.message is not None:
        message = render_message(
            action.message,
            sku=facts.sku,
            name=facts.name,
            available=subject.available,
            eta=shown_eta,
            today=facts.today,
        )
    if sellout is not None:
        reasons.append(_sellout_reason(sellout))
        inputs["on_sellout_rule"] = sellout[1]
    return Decision(
        status=action.status,
        rule=rule.name,
        eta=shown_eta,
        sell_limit=sell_limit,
        message=message,
        reasons=tuple(reasons),
        on_sellout=sellout[0] if sellout is not None else None,
        inputs=inputs,
    )


def compile_rules(
    raw_rules: Sequence[Mapping[str, object]],
    *,
    handling_days: int = 0,
    source: str = "rules",
) -> RuleSet:
    """Validate and compile the parsed `[[rules]]` tables (first match wins).

    `handling_days` is the global default added to supply-derived ETAs (a rule's
    `then.handling_days` overrides it). `source` prefixes every error location, e.g.
    "stores[1].rules" for a store's own rules. Raises RuleError listing every problem.
    """
    rules = parse_rules(raw_rules, handling_days=handling_days, source=source)
    return RuleSet(rules, handling_days, source)
