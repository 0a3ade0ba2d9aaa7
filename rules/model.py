"""Facts in, decision out: the immutable values the decision engine works on.

Nothing here reads the clock or touches I/O. "today" is part of the facts, as a calendar
date already expressed in the store's timezone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol


class Status(StrEnum):
    """The four availability states a buyer can see."""

    IN_STOCK = "in_stock"
    BACKORDER = "backorder"
    PRE_ORDER = "pre_order"
    OUT_OF_STOCK = "out_of_stock"

    def __str__(self) -> str:
        return self.value

    @property
    def sellable_past_zero(self) -> bool:
        """Whether buyers may order more than is on the shelf."""
        return self in (Status.BACKORDER, Status.PRE_ORDER)


@dataclass(frozen=True, slots=True)
class QueuedOrder:
    """Units of one open order that wait for supply (a backorder or pre-order)."""

    order_id: str
    ordered_at: datetime
    quantity: int
    store: str | None = None
    """The store the order was placed in, for an order of another store of a supply group (None: this
    SKU's own store)."""


@dataclass(frozen=True, slots=True)
class StoreQueue:
    """Another store of a supply group, as one SKU's group allocation sees it: its stock level and its
    orders waiting for the shared supply (oldest first)."""

    store: str
    available: int | None
    """That store's own sellable count (negative: units sold beyond its own stock; None: not tracked)."""
    queue: tuple[QueuedOrder, ...] = ()


@dataclass(frozen=True, slots=True)
class SupplyGroup:
    """Stores that share one SKU's warehouse and incoming supply (`supply_group` in the config).

    The group's waiting orders form one queue, first in first out by order time across its stores;
    incoming supply is allocated once along it. Each store's shelf stays its own (each platform
    counts its own stock and takes its own orders off it): only what is still to come is shared.
    """

    name: str
    store: str
    """The store whose facts these are."""
    others: tuple[StoreQueue, ...] = ()


@dataclass(frozen=True, slots=True)
class SupplyEvent:
    """Incoming units expected on a date (quantity None when the source does not say)."""

    expected: date
    quantity: int | None = None
    supplier: str | None = None
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class DaySales:
    """Units sold on one calendar day (store timezone), and whether the SKU could be bought that day."""

    day: date
    units: int
    in_stock: bool = True
    """False on days the SKU was out of stock: such days say nothing about demand."""


@dataclass(frozen=True, slots=True)
class OrderEta:
    """When one queued order ships: `now` units from stock, the rest (`later`) by `ships_by`."""

    order_id: str
    now: int
    later: int
    ships_by: date | None
    """None when no supply inside the horizon covers it ("no reliable timeline")."""
    shipments: tuple[Shipment, ...] = field(default=(), compare=False)
    """Each part of the order and the day it ships, soonest first (stock now, then each restock
    that covers some of it); one entry when one shipment serves the whole order. Not compared:
    what the store shows and what buyers are told hang on `ships_by`, the last unit's day."""

    @property
    def partial(self) -> bool:
        return self.now > 0 and self.later > 0

    @property
    def split(self) -> bool:
        """Served by more than one shipment: one date does not describe it."""
        return len(self.shipments) > 1


@dataclass(frozen=True, slots=True)
class Shipment:
    """`units` of one order that ship by `ships_by` (None: no supply inside the horizon covers them)."""

    units: int
    ships_by: date | None


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything the rules may look at for one SKU."""

    sku: str
    today: date
    available: int | None
    """Sellable quantity; negative = units sold beyond stock; None = stock not tracked."""
    name: str = ""
    tags: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    vendor: str | None = None
    supplier: str | None = None
    release_date: date | None = None
    restock_date: date | None = None
    lead_time_days: int | None = None
    backorder_queue: tuple[QueuedOrder, ...] = ()
    """Open orders waiting for this SKU, oldest first."""
    supply: tuple[SupplyEvent, ...] = ()
    """Incoming units by expected date (purchase orders, restocks, platform `incoming`)."""
    previous_status: Status | None = None
    """The status the store accepted last time (for hysteresis)."""
    sales: tuple[DaySales, ...] = ()
    """Daily sales, oldest first, ending yesterday."""
    lead_time_sd_days: float | None = None
    """Standard deviation of the supplier's lead time, when known."""
    group: SupplyGroup | None = None
    """The supply group this SKU's store shares supply with (None: the store is decided alone).
    `supply` is then the group's, and `backorder_queue` this store's part of the group's queue."""


@dataclass(frozen=True, slots=True)
class AtSellout:
    """What an in-stock SKU shows once its last unit is sold, decided now so the store has it before.

    The platform switches by itself at the last sale (the policy is pre-armed); these go into
    fields of their own, so a theme shows the right date and message at that instant, before
    the next pass.
    """

    status: Status
    eta: date | None
    """The date the first unit sold past zero ships (None: no date to show)."""
    message: str | None


Why = tuple[tuple[str, ...], dict[str, object]]
"""A decision's (reasons, inputs)."""


class Explains(Protocol):
    """What made a decision and can say why, from the same facts (a RuleSet)."""

    def why(self, facts: Facts) -> Why:
        """The reasons and inputs of the decision these facts get."""
        ...


def _limit(status: Status, sell_limit: int | None) -> int | None:
    return 0 if status is Status.OUT_OF_STOCK else sell_limit


@dataclass(frozen=True, slots=True, init=False, eq=False, repr=False)
class Decision:
    """What the store should show for one SKU, and why.

    Built like this: `Decision(status, rule, eta=None, sell_limit=None, message=None, reasons=(),
    on_sellout=None, order_etas=(), inputs={}, at_sellout=None)`. Equality compares everything but `inputs`.

    `reasons` and `inputs` of decisions made by a RuleSet are worked out the first time they are
    read, not when the decision is made: most decisions equal the last one the store accepted and
    nobody reads why (`RuleSet` builds those with `Decision.explained_later`, keeping only itself
    and the facts, so a pass that keeps every decision keeps no more objects than decisions).
    """

    status: Status
    rule: str
    eta: date | None
    """The date the next unit sold ships (backorder, pre-order); None otherwise."""
    sell_limit: int | None
    """Units that may still be sold beyond the shelf (None: no limit). For an in-stock item
    pre-armed to backorder/pre-order: how many may be sold past zero after the last unit.
    Always 0 for out of stock: nothing more may be sold, which "no limit" would contradict."""
    message: str | None
    on_sellout: Status | None
    """For an in-stock SKU: the status the platform should switch to at the last sale (pre-armed)."""
    order_etas: tuple[OrderEta, ...]
    """Per queued order: what ships now and by when the rest ships (FIFO against supply)."""
    at_sellout: AtSellout | None
    """For an in-stock SKU with a status decided for the last sale: that status with its ETA and
    message as they will be at sell-out (written ahead into fields of their own)."""
    _why: Why | None
    _explainer: Explains | None
    _facts: Facts | None

    def __init__(
        self,
        status: Status,
        rule: str,
        eta: date | None = None,
        sell_limit: int | None = None,
        message: str | None = None,
        reasons: Iterable[str] = (),
        on_sellout: Status | None = None,
        order_etas: Iterable[OrderEta] = (),
        inputs: Mapping[str, object] | None = None,
        at_sellout: AtSellout | None = None,
    ) -> None:
        _set(self, "status", status)
        _set(self, "rule", rule)
        _set(self, "eta", eta)
        _set(self, "sell_limit", _limit(status, sell_limit))
        _set(self, "message", message)
        _set(self, "on_sellout", on_sellout)
        _set(self, "order_etas", tuple(order_etas))
        _set(self, "at_sellout", at_sellout)
        _set(self, "_why", (tuple(reasons), dict(inputs) if inputs else {}))
        _set(self, "_explainer", None)
        _set(self, "_facts", None)

    @classmethod
    def explained_later(
        cls,
        status: Status,
        rule: str,
        eta: date | None,
        sell_limit: int | None,
        message: str | None,
        on_sellout: Status | None,
        order_etas: tuple[OrderEta, ...],
        explainer: Explains,
        facts: Facts,
        at_sellout: AtSellout | None = None,
    ) -> Decision:
        """A decision whose reasons and inputs `explainer.why(facts)` works out when first read."""
        # Every decision of a pass is made here. It is filled in as an `_Unsealed` (the same
        # slots without the frozen __setattr__: plain attribute stores) and then becomes a
        # Decision; Python allows the switch because the layout is the same. This is a third of
        # the cost of setting each slot through its descriptor, and a seventh of object.__setattr__.
        made = _new(_Unsealed)
        made.status = status
        made.rule = rule
        made.eta = eta
        made.sell_limit = 0 if status is Status.OUT_OF_STOCK else sell_limit  # as _limit
        made.message = message
        made.on_sellout = on_sellout
        made.order_etas = order_etas
        made.at_sellout = at_sellout
        made._why = None
        made._explainer = explainer
        made._facts = facts
        made.__class__ = cls  # type: ignore[assignment]
        return made  # type: ignore[return-value]

    def _worked_out(self) -> Why:
        why = self._why
        if why is None:
            assert self._explainer is not None and self._facts is not None  # set whenever _why is not
            why = self._explainer.why(self._facts)
            # Remembered: a value that does not change, worked out once (the dataclass is frozen
            # for its users, not for itself).
            _set(self, "_why", why)
            _set(self, "_explainer", None)
            _set(self, "_facts", None)
        return why

    @property
    def reasons(self) -> tuple[str, ...]:
        """What held, in words (the deciding rule's conditions, then anything added)."""
        return self._worked_out()[0]

    @property
    def inputs(self) -> dict[str, object]:
        """The facts that mattered, JSON-ready, for the decision log (not part of equality)."""
        return self._worked_out()[1]

    def _key(self) -> tuple[object, ...]:
        return (
            self.status,
            self.rule,
            self.eta,
            self.sell_limit,
            self.message,
            self.on_sellout,
            self.order_etas,
            self.at_sellout,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Decision):
            return NotImplemented
        return self._key() == other._key() and self.reasons == other.reasons

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"Decision(status={self.status!r}, rule={self.rule!r}, eta={self.eta!r},"
            f" sell_limit={self.sell_limit!r}, message={self.message!r}, reasons={self.reasons!r},"
            f" on_sellout={self.on_sellout!r}, order_etas={self.order_etas!r}, at_sellout={self.at_sellout!r})"
        )

    def __reduce__(self) -> tuple[object, ...]:
        return (
            Decision,
            (
                self.status,
                self.rule,
                self.eta,
                self.sell_limit,
                self.message,
                self.reasons,
                self.on_sellout,
                self.order_etas,
                self.inputs,
                self.at_sellout,
            ),
        )

    def with_reason(self, reason: str) -> Decision:
        """The same decision with one more reason at the end."""
        return Decision(
            self.status,
            self.rule,
            self.eta,
            self.sell_limit,
            self.message,
            (*self.reasons, reason),
            self.on_sellout,
            self.order_etas,
            self.inputs,
            self.at_sellout,
        )


class _Unsealed:
    """A Decision's slots, in its order, without its frozen __setattr__ (see `explained_later`)."""

    __slots__ = Decision.__slots__
    status: Status
    rule: str
    eta: date | None
    sell_limit: int | None
    message: str | None
    on_sellout: Status | None
    order_etas: tuple[OrderEta, ...]
    at_sellout: AtSellout | None
    _why: Why | None
    _explainer: Explains | None
    _facts: Facts | None


class _UnsealedOrderEta:
    """An OrderEta's slots without its frozen __setattr__ (see `make_order_eta`)."""

    __slots__ = OrderEta.__slots__
    order_id: str
    now: int
    later: int
    ships_by: date | None
    shipments: tuple[Shipment, ...]


def make_order_eta(
    order_id: str, now: int, later: int, ships_by: date | None, shipments: tuple[Shipment, ...]
) -> OrderEta:
    """`OrderEta(...)` for the engine, made as `Decision.explained_later` makes a decision (half
    the cost of the constructor: one for every waiting order of every decision)."""
    made = _new(_UnsealedOrderEta)
    made.order_id = order_id
    made.now = now
    made.later = later
    made.ships_by = ships_by
    made.shipments = shipments
    made.__class__ = OrderEta  # type: ignore[assignment]
    return made  # type: ignore[return-value]


class _UnsealedAtSellout:
    """An AtSellout's slots without its frozen __setattr__ (see `make_at_sellout`)."""

    __slots__ = AtSellout.__slots__
    status: Status
    eta: date | None
    message: str | None


def make_at_sellout(status: Status, eta: date | None, message: str | None) -> AtSellout:
    """`AtSellout(...)` for the engine, made as `make_order_eta` (one for most in-stock decisions)."""
    made = _new(_UnsealedAtSellout)
    made.status = status
    made.eta = eta
    made.message = message
    made.__class__ = AtSellout  # type: ignore[assignment]
    return made  # type: ignore[return-value]


_new = object.__new__
_set = object.__setattr__
