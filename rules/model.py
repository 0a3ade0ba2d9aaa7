"""Facts in, decision out: the immutable values the decision engine works on.

Nothing here reads the clock or touches I/O. "today" is part of the facts, as a calendar
date already expressed in the store's timezone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from operator import itemgetter


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

    @property
    def partial(self) -> bool:
        return self.now > 0 and self.later > 0


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


_NO_INPUTS: dict[str, object] = {}


class Decision(tuple):  # type: ignore[type-arg]
    """What the store should show for one SKU, and why.

    Immutable, built like a frozen dataclass: `Decision(status, rule, eta=None, sell_limit=None,
    message=None, reasons=(), on_sellout=None, order_etas=(), inputs={})`. Equality compares
    everything but `inputs`.

    `reasons` and `inputs` of decisions made by a RuleSet are worked out when they are read, not
    when the decision is made: most decisions equal the last one the store accepted and nobody
    reads why. (A tuple underneath, because building one is several times cheaper than a frozen
    dataclass, and a million SKUs are decided per pass.)
    """

    __slots__ = ()

    def __new__(
        cls,
        status: Status,
        rule: str,
        eta: date | None = None,
        sell_limit: int | None = None,
        message: str | None = None,
        reasons: Iterable[str] = (),
        on_sellout: Status | None = None,
        order_etas: Iterable[OrderEta] = (),
        inputs: Mapping[str, object] | None = None,
    ) -> Decision:
        return tuple.__new__(
            cls,
            (
                status,
                rule,
                eta,
                sell_limit,
                message,
                on_sellout,
                tuple(order_etas),
                tuple(reasons),
                dict(inputs) if inputs else {},
                None,
            ),
        )

    status: Status = property(itemgetter(0))  # type: ignore[assignment]
    rule: str = property(itemgetter(1))  # type: ignore[assignment]
    eta: date | None = property(itemgetter(2))  # type: ignore[assignment]
    """The date the next unit sold ships (backorder, pre-order); None otherwise."""
    sell_limit: int | None = property(itemgetter(3))  # type: ignore[assignment]
    """Units that may still be sold beyond the shelf (None: no limit). For an in-stock item
    pre-armed to backorder/pre-order: how many may be sold past zero after the last unit."""
    message: str | None = property(itemgetter(4))  # type: ignore[assignment]
    on_sellout: Status | None = property(itemgetter(5))  # type: ignore[assignment]
    """For an in-stock SKU: the status the platform should switch to at the last sale (pre-armed)."""
    order_etas: tuple[OrderEta, ...] = property(itemgetter(6))  # type: ignore[assignment]
    """Per queued order: what ships now and by when the rest ships (FIFO against supply)."""

    @property
    def reasons(self) -> tuple[str, ...]:
        """What held, in words (the deciding rule's conditions, then anything added)."""
        reasons: tuple[str, ...] | None = tuple.__getitem__(self, 7)
        if reasons is None:
            reasons = self._why()[0]
        return reasons

    @property
    def inputs(self) -> dict[str, object]:
        """The facts that mattered, JSON-ready, for the decision log (not part of equality)."""
        inputs: dict[str, object] | None = tuple.__getitem__(self, 8)
        if inputs is None:
            inputs = self._why()[1]
        return inputs

    def _why(self) -> tuple[tuple[str, ...], dict[str, object]]:
        # A RuleSet's decision carries, after the fields, a function and its arguments that
        # work out (reasons, inputs); flat in the one tuple so that a decision is one object.
        fn: Callable[..., tuple[tuple[str, ...], dict[str, object]]] = tuple.__getitem__(self, 9)
        return fn(*tuple.__getitem__(self, slice(10, None)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Decision):
            return NotImplemented
        if tuple.__getitem__(self, slice(0, 7)) != tuple.__getitem__(other, slice(0, 7)):
            return False
        return self.reasons == other.reasons

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return hash(tuple.__getitem__(self, slice(0, 7)))

    def __repr__(self) -> str:
        return (
            f"Decision(status={self.status!r}, rule={self.rule!r}, eta={self.eta!r},"
            f" sell_limit={self.sell_limit!r}, message={self.message!r}, reasons={self.reasons!r},"
            f" on_sellout={self.on_sellout!r}, order_etas={self.order_etas!r})"
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
            ),
        )

    def __copy__(self) -> Decision:
        return self

    def __deepcopy__(self, memo: object) -> Decision:
        return self

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
        )

    # A Decision is a value, not a sequence: hide the tuple protocol's surprises.
    __iter__ = None  # type: ignore[assignment]
    __len__ = None  # type: ignore[assignment]
    __contains__ = None  # type: ignore[assignment]
    count = index = None  # type: ignore[assignment]

    def __bool__(self) -> bool:
        return True

    __lt__ = __le__ = __gt__ = __ge__ = None  # type: ignore[assignment]
    __add__ = __mul__ = __rmul__ = None  # type: ignore[assignment]
