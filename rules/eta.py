"""Compiled `then.eta` sources, the checks that need a rule's ETA, and `then.cap`.

Every source yields a date no earlier than today, or None: a date in the past (a late shipment,
a stale fixed date) is not a promise a shop can make. Each named source has one builder in
`SOURCES`, built with the handling days that apply to the rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from stockstatus.rules.conditions import plural
from stockstatus.rules.schema import CapSpec
from stockstatus.rules.subject import Subject, describe_arrival, queued_units
from stockstatus.rules.supply import days_after


@dataclass(frozen=True, slots=True)
class EtaSource:
    """Where a rule's ETA comes from; `resolve` gives None when there is no reliable date."""

    name: str
    resolve: Callable[[Subject], date | None]
    describe: Callable[[Subject], str]
    inputs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class EtaCheck:
    """A check that needs the rule's resolved ETA (or its cap): has_eta, eta_within_days, cap."""

    key: str
    test: Callable[[Subject, date | None], bool]
    describe: Callable[[Subject, date | None], str]


def _handling_text(handling: int) -> str:
    return f" + {plural(handling, 'handling day')}" if handling else ""


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
    # A restock date beyond the supply horizon (a placeholder 9999-12-31, a typo'd year) is no
    # reliable timeline, like supply the horizon does not reach.
    def resolve(s: Subject) -> date | None:
        d = s.facts.restock_date
        if d is None or d < s.today or d > s.horizon_end:
            return None
        return days_after(d, handling)

    def describe(s: Subject) -> str:
        d = s.facts.restock_date
        if d is None:
            return "no ETA: no restock date"
        if d < s.today:
            return f"no ETA: restock date {d.isoformat()} has passed (shipment late)"
        eta = days_after(d, handling)
        if d > s.horizon_end or eta is None:
            return (
                f"no ETA: restock date {d.isoformat()} is beyond the {plural(s.horizon_days, 'day')} "
                f"horizon (no reliable timeline)"
            )
        return f"ETA {eta.isoformat()} (restock {d.isoformat()}{_handling_text(handling)})"

    return EtaSource("restock_date", resolve, describe, ("restock_date",))


def _lead_time_source(handling: int) -> EtaSource:
    def resolve(s: Subject) -> date | None:
        n = s.facts.lead_time_days
        return days_after(s.today, n + handling) if n is not None and n >= 0 else None

    def describe(s: Subject) -> str:
        n = s.facts.lead_time_days
        if n is None or n < 0:
            return "no ETA: no supplier lead time known"
        eta = days_after(s.today, n + handling)
        if eta is None:
            return f"no ETA: a lead time of {plural(n, 'day')} has no reliable date"
        return f"ETA {eta.isoformat()} (lead time {plural(n, 'day')}{_handling_text(handling)})"

    return EtaSource("lead_time", resolve, describe, ("lead_time_days",))


def _supply_source(handling: int) -> EtaSource:
    def resolve(s: Subject) -> date | None:
        arrival = s.arrival()
        return days_after(arrival, handling) if arrival is not None else None

    def describe(s: Subject) -> str:
        arrival = s.arrival()
        eta = days_after(arrival, handling) if arrival is not None else None
        if eta is None:
            return "no ETA: " + describe_arrival(s)
        return f"ETA {eta.isoformat()} ({describe_arrival(s)}{_handling_text(handling)})"

    return EtaSource("supply", resolve, describe, ("available",))


def fixed_source(fixed: date) -> EtaSource:
    def resolve(s: Subject) -> date | None:
        return fixed if fixed >= s.today else None

    def describe(s: Subject) -> str:
        if fixed < s.today:
            return f"no ETA: fixed date {fixed.isoformat()} has passed"
        return f"ETA {fixed.isoformat()} (fixed date)"

    return EtaSource(fixed.isoformat(), resolve, describe, ())


SOURCES: dict[str, Callable[[int], EtaSource]] = {
    "release_date": _release_source,
    "restock_date": _restock_source,
    "lead_time": _lead_time_source,
    "supply": _supply_source,
}
"""Named ETA sources (`schema.ETA_SOURCE_NAMES`), each built with the rule's handling days."""


def eta_source(eta: date | str, handling: int) -> EtaSource:
    """The compiled `then.eta`: a named source or a fixed date."""
    return fixed_source(eta) if isinstance(eta, date) else SOURCES[eta](handling)


def has_eta_check(source: EtaSource, wanted: bool) -> EtaCheck:
    def test(s: Subject, eta: date | None) -> bool:
        return (eta is not None) is wanted

    def describe(s: Subject, eta: date | None) -> str:
        return source.describe(s)

    return EtaCheck("has_eta", test, describe)


def within_check(days: int) -> EtaCheck:
    def test(s: Subject, eta: date | None) -> bool:
        return eta is not None and (eta - s.today).days <= days

    def describe(s: Subject, eta: date | None) -> str:
        if eta is None:
            return f"no ETA within {plural(days, 'day')}"
        away = (eta - s.today).days
        if away <= days:
            return f"ETA {eta.isoformat()} within {plural(days, 'day')} (in {away})"
        return f"ETA {eta.isoformat()} is {plural(away, 'day')} away, more than {days}"

    return EtaCheck("eta_within_days", test, describe)


@dataclass(frozen=True, slots=True)
class Cap:
    """`then.cap`: the most units that may wait, fixed (`max`) and/or what `incoming` supply covers."""

    max: int | None
    incoming: bool

    @classmethod
    def of(cls, spec: CapSpec) -> Cap:
        return cls(spec.max, spec.incoming)

    def total(self, s: Subject) -> int:
        """Units allowed to wait in all (the smaller of the two when both are set)."""
        if not self.incoming:
            return self.max if self.max is not None else 0  # valid caps without `incoming` have a max
        room = s.incoming()
        return room if self.max is None else min(room, self.max)

    def sell_limit(self, s: Subject) -> int:
        """Units that may still be sold past the shelf; <= 0 means the cap is reached."""
        # `total` inlined: this runs once or twice for every SKU a capped rule looks at.
        if not self.incoming:
            total = self.max if self.max is not None else 0
        else:
            room = s.incoming()
            total = room if self.max is None else min(room, self.max)
        return total - queued_units(s)

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


def cap_check(cap: Cap) -> EtaCheck:
    def test(s: Subject, eta: date | None) -> bool:
        return cap.sell_limit(s) > 0

    def describe(s: Subject, eta: date | None) -> str:
        return cap.describe(s)

    return EtaCheck("cap", test, describe)
