"""Facts in, decision out: the immutable values the decision engine works on.

Nothing here reads the clock or touches I/O. "today" is part of the facts, as a calendar
date already expressed in the store's timezone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum


class Status(str, Enum):
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


@dataclass(frozen=True, slots=True)
class Decision:
    """What the store should show for one SKU, and why."""

    status: Status
    rule: str
    eta: date | None = None
    sell_limit: int | None = None
    message: str | None = None
    reasons: tuple[str, ...] = ()
    on_sellout: Status | None = None
    """For an in-stock SKU: the status the platform should switch to at the last sale (pre-armed)."""
    order_etas: tuple[OrderEta, ...] = ()
    """Per queued order: what ships now and by when the rest ships (FIFO against supply)."""
    inputs: dict[str, object] = field(default_factory=dict, compare=False, hash=False)
    """The facts that mattered, for the decision log (not part of equality)."""
