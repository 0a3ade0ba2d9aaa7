"""One SKU as the compiled rules read it: its facts, the stock level asked about, derived figures.

The closures that compiled rules are made of take a `Subject`; the figures they share (casefolded
names, the FIFO arrival of the next unit, known incoming supply, sales velocity) are worked out
the first time one asks and kept for the rest of the decision.
"""

from __future__ import annotations

from datetime import date

from stockstatus.rules.demand import velocity
from stockstatus.rules.model import Facts
from stockstatus.rules.supply import DEFAULT_HORIZON_DAYS, arrival_in, counted_supply, queued_elsewhere, span

_EMPTY: frozenset[str] = frozenset()
_UNSET = object()


def _folded(names: frozenset[str]) -> frozenset[str]:
    """Names casefolded; the set itself when they already are (the usual case, no copy)."""
    if not names:
        return _EMPTY
    # A catalogue repeats a few sets of tags and categories: remembered by value (a set's hash
    # is kept in it, so asking again costs a lookup, not a join and a casefold).
    folded = _FOLDED.get(names)
    if folded is None:
        joined = "\x00".join(names)
        folded = names if joined.casefold() == joined else frozenset(n.casefold() for n in names)
        if len(_FOLDED) > 4096:
            _FOLDED.clear()
        _FOLDED[names] = folded
    return folded


_FOLDED: dict[frozenset[str], frozenset[str]] = {}


class Subject:
    """One SKU's facts as the compiled closures read them; derived values worked out once, on demand.

    `available` is separate from `facts.available` so that pre-arming can ask "what if it sold
    out?" without copying the facts. Casefolded names, the supply arrival and demand figures are
    computed the first time a condition asks (most decisions never need most of them).
    """

    __slots__ = (
        "_arrival",
        "_arrival_key",
        "_categories",
        "_counted",
        "_horizon_end",
        "_incoming",
        "_tags",
        "_velocity",
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
        self._velocity: dict[int, float | None] | None = None
        self._arrival_key: object = _UNSET
        self._arrival: date | None = None
        self._tags: frozenset[str] | None = None
        self._categories: frozenset[str] | None = None
        self._horizon_end: date | None = None
        self._incoming: int | None = None
        self._counted: list[tuple[date, int | None]] | None = None

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
            end = self._horizon_end = self.today + span(self.horizon_days)
        return end

    def counted(self) -> list[tuple[date, int | None]]:
        """The supply that counts, today to the horizon, as (expected, quantity), soonest first."""
        counted = self._counted
        if counted is None:
            counted = self._counted = counted_supply(self.facts.supply, self.today, self.horizon_end)
        return counted

    def arrival(self) -> date | None:
        """The day supply covers the queue plus the next unit (FIFO, no handling); None: no timeline."""
        available = self.available
        facts = self.facts
        if not facts.supply:
            # Nothing coming: only the shelf serves (most SKUs; not worth remembering).
            return self.today if available is not None and available > 0 else None
        if self._arrival_key is not _UNSET and self._arrival_key == available:
            return self._arrival
        arrival = arrival_in(
            available, facts.backorder_queue, self.counted(), self.today, queued_elsewhere(facts.group)
        )
        self._arrival_key = available
        self._arrival = arrival
        return arrival

    def incoming(self) -> int:
        """Known incoming units inside the horizon."""
        incoming = self._incoming
        if incoming is None:
            incoming = 0
            if self.facts.supply:
                # What `supply.incoming_known` counts, from the events already counted.
                for _, quantity in self.counted():
                    if quantity is not None and quantity > 0:
                        incoming += quantity
            self._incoming = incoming
        return incoming

    def velocity(self, window_days: int) -> float | None:
        """Units per in-stock day over the window (None: no day of it counts)."""
        known = self._velocity
        if known is None:
            known = self._velocity = {}
        elif window_days in known:
            return known[window_days]
        figure = known[window_days] = velocity(self.facts.sales, self.today, window_days)
        return figure

    def queued(self) -> int:
        """Units waiting for supply, at this view's `available`."""
        return queued_units(self)


def queued_units(s: Subject) -> int:
    """Units already sold beyond stock (waiting for supply); in a supply group, the whole group's
    (a cap and the next unit's ETA count every store's waiting units against the shared supply)."""
    elsewhere = queued_elsewhere(s.facts.group) if s.facts.group is not None else 0
    if s.available is not None:
        return (-s.available if s.available < 0 else 0) + elsewhere
    return sum(q.quantity for q in s.facts.backorder_queue) + elsewhere


def describe_arrival(s: Subject) -> str:
    """The FIFO arrival of the next unit, in words."""
    queued = s.queued()
    arrival = s.arrival()
    if arrival is None:
        return f"no reliable timeline: supply up to {s.horizon_end.isoformat()} does not cover {queued} queued + 1"
    if arrival == s.today and s.available is not None and s.available > 0:
        return f"{s.available} on hand: the next unit ships now"
    return f"supply covers {queued} queued + 1 on {arrival.isoformat()}"


def supply_values(s: Subject) -> dict[str, object]:
    """The supply figures behind a FIFO ETA, JSON-ready, for Decision.inputs."""
    arrival = s.arrival()
    return {
        "queued": s.queued(),
        **({"queued_elsewhere": queued_elsewhere(s.facts.group)} if s.facts.group is not None else {}),
        "supply": [[e.expected.isoformat(), e.quantity, e.reference] for e in s.facts.supply],
        "next_arrival": arrival.isoformat() if arrival is not None else None,
        "horizon_end": s.horizon_end.isoformat(),
    }
