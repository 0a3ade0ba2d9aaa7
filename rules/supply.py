"""Available-to-promise: stock and incoming supply served to the backorder queue, oldest first.

Pure functions over calendar dates in the store's timezone (`date` objects: adding days to a
date never drifts across a daylight-saving change, so neither does anything here).

The model (DESIGN "ETA by first-in-first-out allocation"):

- **On hand** is `max(available, 0)`; untracked stock (available None) counts as 0 on hand.
- **Queued** units wait for supply: `-available` when available is negative (the platform's
  sellable count already has open orders taken off), or, for untracked stock, the sum of the
  queue. `backorder_queue` attributes those units to orders, oldest first. When it lists fewer
  units than are queued, the unattributed units are older (stock served the oldest orders first
  and the connector knows the newest) and queue first. When it lists more, the oldest listed
  units are covered by stock now (`OrderEta.now`): pass each order's full quantity and the
  partial backorders come out by themselves.
- **Supply** S(t) = on hand + the quantities expected by day t. Only events dated from today to
  today + `horizon_days` count:
  - an event dated **before today is late**: it is not counted (a shipment that missed its date
    is not a date a shop can promise; the next dated shipment, or "no reliable timeline",
    decides). It is listed in the timeline as late so `explain` shows it.
  - an event dated **after the horizon** is not counted either ("no reliable timeline").
  - an event **without a quantity** (a restock date someone typed in) is taken to cover the
    whole queue and the next unit: from that day on S(t) is "enough". It adds nothing to the
    incoming cap (`incoming_known`), which counts only quantities someone wrote down.
- The **next unit** arrives on the first day t with S(t) >= queued + 1; its ETA is that day plus
  the handling days. None when no such day is inside the horizon.
- **Per order**: the day S(t) covers the order's last waiting unit, plus handling days.

**Supply groups** (stores sharing one warehouse, `Facts.group`): the waiting orders of every
store of the group are one queue, first in first out by order time (ties: store name, order id),
each order keeping its store; the incoming supply is allocated once along it (`group_etas`).
Units a store's count says are waiting but no open order explains queue first, as in one store.
Each store's shelf stays its own: a platform's count already has that platform's own orders
taken off, and the connector never moves stock between platforms, so on-hand units serve only
their own store (its next unit ships now while its shelf lasts) and S(t) for the shared queue is
the incoming supply alone. The next unit of a store with an empty shelf needs the whole group's
queue covered plus one, so its ETA, and a cap's room, are the same whichever store is asked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from stockstatus.rules.model import OrderEta, QueuedOrder, Shipment, SupplyEvent, SupplyGroup, make_order_eta

DEFAULT_HORIZON_DAYS = 120
"""How far ahead supply counts; later shipments give "no reliable timeline"."""


def days_after(day: date, days: int) -> date | None:
    """`day` plus `days`, or None past the last date Python can hold (a merchant's 9999-12-31).

    A date that far out is no reliable timeline; it must not take the item's decision down.
    """
    try:
        return day + span(days)
    except OverflowError:
        return None


def span(days: int) -> timedelta:
    """`timedelta(days=days)`, remembered: making one costs four times adding it to a date, and
    a pass asks for a few values (handling days, lead times, the horizon) over and over."""
    step = _SPANS.get(days)
    if step is None:
        if len(_SPANS) > 4096:
            _SPANS.clear()
        step = _SPANS[days] = timedelta(days=days)
    return step


_SPANS: dict[int, timedelta] = {}


def on_hand(available: int | None) -> int:
    """Units on the shelf (0 when negative or not tracked)."""
    return available if available is not None and available > 0 else 0


def queued_units(available: int | None, queue: Sequence[QueuedOrder]) -> int:
    """Units sold beyond stock and waiting for supply."""
    if available is not None:
        return -available if available < 0 else 0
    return sum(q.quantity for q in queue)


def queued_elsewhere(group: SupplyGroup | None) -> int:
    """Units the other stores of a supply group have waiting for the shared supply (0: no group)."""
    if group is None:
        return 0
    return sum(queued_units(other.available, other.queue) for other in group.others)


def next_arrival(
    available: int | None,
    queue: Sequence[QueuedOrder],
    supply: Iterable[SupplyEvent],
    today: date,
    horizon_end: date,
    *,
    also_queued: int = 0,
) -> date | None:
    """The day supply first covers the queue plus one more unit (no handling days), or None.

    The fast path of `timeline(...).next_unit`; both give the same day. `also_queued`: units the
    other stores of a supply group have waiting ahead (the shelf, being this store's own, does
    not serve them: units on it ship now).
    """
    return arrival_in(available, queue, counted_supply(supply, today, horizon_end), today, also_queued)


def counted_supply(supply: Iterable[SupplyEvent], today: date, horizon_end: date) -> list[tuple[date, int | None]]:
    """The events that count, from today to the horizon, as (expected, quantity), soonest first
    (events of one day in the order given)."""
    # Few events per SKU: a sort of the counted ones is cheaper than anything cleverer.
    if not supply:
        return []
    return sorted([(e.expected, e.quantity) for e in supply if today <= e.expected <= horizon_end], key=_first)


def arrival_in(
    available: int | None,
    queue: Sequence[QueuedOrder],
    counted: Sequence[tuple[date, int | None]],
    today: date,
    also_queued: int = 0,
) -> date | None:
    """`next_arrival` over supply already counted (`counted_supply`)."""
    needed = queued_units(available, queue) + 1
    have = on_hand(available)
    if have >= needed:
        return today
    # An empty or oversold shelf (have is 0 here): incoming supply covers the whole group's queue first.
    needed += also_queued
    for day, quantity in counted:
        if quantity is None:
            return day
        if quantity > 0:
            have += quantity
        if have >= needed:
            return day
    return None


def _first(pair: tuple[date, int | None]) -> date:
    return pair[0]


def incoming_known(supply: Iterable[SupplyEvent], today: date, horizon_end: date) -> int:
    """Units with a known quantity expected from today to the horizon (late events excluded)."""
    return sum(
        e.quantity for e in supply if e.quantity is not None and e.quantity > 0 and today <= e.expected <= horizon_end
    )


@dataclass(frozen=True, slots=True)
class TimelineRow:
    """One day of the supply timeline, as `connector rules explain` prints it."""

    day: date
    incoming: int | None
    """Units arriving that day (the first row: units on hand); None = quantity not known."""
    supply: int | None
    """Cumulative S(day); None once a quantity-less restock made it "enough"."""
    covered: int
    """Queued units covered by S(day) (at most all of them)."""
    note: str = ""
    """On hand, the references/suppliers arriving that day, or why an event is not counted."""
    counted: bool = True
    """False for late events and events after the horizon (shown, not counted)."""


@dataclass(frozen=True, slots=True)
class SupplyTimeline:
    """The FIFO derivation behind a supply ETA: what is queued, what arrives when, what it covers."""

    today: date
    horizon_end: date
    on_hand: int
    queued: int
    rows: tuple[TimelineRow, ...]
    next_unit: date | None
    """The day the next unit sold is covered (no handling days); None: no reliable timeline."""
    incoming_known: int
    """Known incoming units inside the horizon (what `cap = "incoming"` counts)."""

    @property
    def room(self) -> int:
        """Units incoming supply still covers after the queue (never negative)."""
        return max(self.incoming_known - self.queued, 0)

    def eta(self, handling_days: int = 0) -> date | None:
        """The next unit's ship date: its arrival plus handling days."""
        if self.next_unit is None:
            return None
        return days_after(self.next_unit, handling_days)

    def lines(self) -> list[str]:
        """The timeline as text, one line per row (for the CLI)."""
        out = [
            (
                f"today {self.today.isoformat()}: {self.on_hand} on hand, {self.queued} queued;"
                f" counting supply up to {self.horizon_end.isoformat()}"
            )
        ]
        for row in self.rows:
            incoming = "?" if row.incoming is None else f"+{row.incoming}"
            total = "enough" if row.supply is None else str(row.supply)
            if row.counted:
                out.append(
                    f"{row.day.isoformat()}  {incoming:>6}  supply {total:>6}"
                    f"  covers {row.covered}/{self.queued} queued  {row.note}".rstrip()
                )
            else:
                out.append(f"{row.day.isoformat()}  {incoming:>6}  not counted: {row.note}")
        if self.next_unit is None:
            out.append(f"next unit: no reliable timeline (needs {self.queued + 1} units in supply)")
        else:
            out.append(f"next unit covered on {self.next_unit.isoformat()}")
        return out


_OWN_SHELF = "on hand (this store's shelf: covers none of the group's queue)"


def _label(events: Sequence[SupplyEvent]) -> str:
    parts = []
    for e in events:
        text = " ".join(p for p in (e.reference, f"({e.supplier})" if e.supplier else None) if p)
        if text:
            parts.append(text)
    return ", ".join(parts)


def timeline(
    available: int | None,
    queue: Sequence[QueuedOrder],
    supply: Iterable[SupplyEvent],
    today: date,
    *,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    also_queued: int = 0,
) -> SupplyTimeline:
    """The whole FIFO timeline (for explain and per-order ETAs).

    `also_queued`: units the other stores of a supply group have waiting; `queued` is then the
    group's, and the shelf (this store's own) is shown but covers none of the shared queue.
    """
    horizon_end = today + timedelta(days=horizon_days)
    shelf = on_hand(available)
    own = queued_units(available, queue)
    queued = own + also_queued
    needed = queued + 1
    have = shelf if not also_queued else 0
    note = "on hand" if not (also_queued and shelf) else _OWN_SHELF
    rows: list[TimelineRow] = [TimelineRow(today, shelf, have, min(have, queued), note)]
    next_unit = today if shelf >= own + 1 else None
    by_day: dict[date, list[SupplyEvent]] = {}
    for event in supply:
        by_day.setdefault(event.expected, []).append(event)
    enough = False
    for day in sorted(by_day):
        events = by_day[day]
        known = [e.quantity for e in events if e.quantity is not None]
        unknown = len(known) < len(events)
        incoming = None if unknown else sum(known)
        label = _label(events)
        if day < today:
            late = f"late (expected {day.isoformat()})" + (f": {label}" if label else "")
            rows.append(TimelineRow(day, incoming, None, 0, late, counted=False))
            continue
        if day > horizon_end:
            beyond = f"after the {horizon_days}-day horizon" + (f": {label}" if label else "")
            rows.append(TimelineRow(day, incoming, None, 0, beyond, counted=False))
            continue
        if not enough:
            if unknown:
                enough = True
            else:
                have += sum(q for q in known if q > 0)
        covered = queued if enough else min(have, queued)
        if next_unit is None and (enough or have >= needed):
            next_unit = day
        note = label + (" (quantity not known: taken to cover the queue)" if unknown else "")
        rows.append(TimelineRow(day, incoming, None if enough else have, covered, note.strip()))
    # Late rows sort first: show them in date order with the rest.
    rows.sort(key=lambda r: (r.day, r.note not in ("on hand", _OWN_SHELF)))
    return SupplyTimeline(
        today=today,
        horizon_end=horizon_end,
        on_hand=shelf,
        queued=queued,
        rows=tuple(rows),
        next_unit=next_unit,
        incoming_known=sum(
            e.quantity
            for day, events in by_day.items()
            if today <= day <= horizon_end
            for e in events
            if e.quantity is not None and e.quantity > 0
        ),
    )


def order_etas(
    line: SupplyTimeline,
    queue: Sequence[QueuedOrder],
    *,
    handling_days: int = 0,
    not_before: date | None = None,
) -> tuple[OrderEta, ...]:
    """Per queued order: units covered by stock now, units later, and the day its last unit ships.

    `not_before` holds every ship date back (a pre-order ships on its release date at the
    earliest). An order whose waiting units no supply inside the horizon covers gets
    `ships_by` None.
    """
    steps = [(r.day, r.supply) for r in line.rows if r.counted]
    return _allocate(steps, line.queued, queue, line.today, handling_days, not_before)


def queue_etas(
    available: int | None,
    queue: Sequence[QueuedOrder],
    supply: Iterable[SupplyEvent],
    today: date,
    *,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    handling_days: int = 0,
    not_before: date | None = None,
) -> tuple[OrderEta, ...]:
    """`order_etas(timeline(...), queue, ...)` without building the printable timeline."""
    if not queue:
        return ()
    counted = counted_supply(supply, today, today + timedelta(days=horizon_days))
    return etas_in(available, queue, counted, today, handling_days, not_before)


def etas_in(
    available: int | None,
    queue: Sequence[QueuedOrder],
    counted: Sequence[tuple[date, int | None]],
    today: date,
    handling_days: int,
    not_before: date | None,
) -> tuple[OrderEta, ...]:
    """`queue_etas` over supply already counted (`counted_supply`)."""
    steps = _steps(on_hand(available), counted, today)
    return _allocate(steps, queued_units(available, queue), queue, today, handling_days, not_before)


def _steps(start: int, counted: Sequence[tuple[date, int | None]], today: date) -> list[tuple[date, int | None]]:
    """S(t) at each counted event day, from `start` units today (None: enough from that day on)."""
    have = start
    steps: list[tuple[date, int | None]] = [(today, have)]
    for day, quantity in counted:
        if quantity is None:
            steps.append((day, None))
            break
        if quantity > 0:
            have += quantity
        steps.append((day, have))
    return steps


@dataclass(frozen=True, slots=True)
class GroupOrderEta:
    """One waiting order of a supply group: the store it was placed in, when, and when it ships."""

    store: str
    ordered_at: datetime
    eta: OrderEta


def group_etas(
    available: int | None,
    queue: Sequence[QueuedOrder],
    group: SupplyGroup,
    supply: Iterable[SupplyEvent],
    today: date,
    *,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    handling_days: int = 0,
    not_before: date | None = None,
) -> tuple[GroupOrderEta, ...]:
    """Every waiting order of the group's stores in the group's FIFO order, each with its ship dates.

    `available` and `queue` are the store `group.store`'s own; the others' come with the group.
    Within each store the units its own shelf covers go to its oldest orders (`now`); the rest of
    every store's orders queue together by order time against the incoming supply alone.
    """
    stores = [(group.store, available, tuple(queue))] + [(o.store, o.available, o.queue) for o in group.others]
    ahead = 0
    entries: list[tuple[QueuedOrder, str, int]] = []
    for name, count, waiting in stores:
        queued = queued_units(count, waiting)
        listed = sum(q.quantity for q in waiting)
        excess = max(listed - queued, 0)
        ahead += max(queued - listed, 0)
        for order in waiting:
            now = min(order.quantity, excess)
            excess -= now
            entries.append((order, name, now))
    if not entries:
        return ()
    entries.sort(key=lambda e: (e[0].ordered_at, e[1], e[0].order_id))
    steps = _steps(0, counted_supply(supply, today, today + timedelta(days=horizon_days)), today)
    served = _serve([(order, now) for order, _, now in entries], ahead, steps, today, handling_days, not_before)
    return tuple(
        GroupOrderEta(name, order.ordered_at, eta) for (order, name, _), eta in zip(entries, served, strict=True)
    )


def _allocate(
    steps: Sequence[tuple[date, int | None]],
    queued: int,
    queue: Sequence[QueuedOrder],
    today: date,
    handling_days: int,
    not_before: date | None,
) -> tuple[OrderEta, ...]:
    if not queue:
        return ()
    listed = sum([q.quantity for q in queue])
    excess = max(listed - queued, 0)  # the oldest listed units: covered by stock now
    position = max(queued - listed, 0)  # unattributed units queue first
    if not excess:
        # The usual case (the queue lists exactly the units sold past zero): nothing ships now.
        return _serve([(order, 0) for order in queue], position, steps, today, handling_days, not_before)
    entries: list[tuple[QueuedOrder, int]] = []
    for order in queue:
        now = min(order.quantity, excess)
        excess -= now
        entries.append((order, now))
    return _serve(entries, position, steps, today, handling_days, not_before)


def _ship_date(handling_days: int, not_before: date | None) -> Callable[[date], date | None]:
    """The day units that arrive on a day ship: handling days later, not before `not_before`."""
    try:
        handling: timedelta | None = span(handling_days)
    except OverflowError:
        handling = None

    def shipped(arrival: date) -> date | None:
        # `days_after` with the span looked up once per queue.
        if handling is None:
            return None
        try:
            ships_by = arrival + handling
        except OverflowError:
            return None
        if not_before is not None and ships_by < not_before:
            return not_before
        return ships_by

    return shipped


def _serve(
    entries: Sequence[tuple[QueuedOrder, int]],
    position: int,
    steps: Sequence[tuple[date, int | None]],
    today: date,
    handling_days: int,
    not_before: date | None,
) -> tuple[OrderEta, ...]:
    """Each order's `now` units ship today; its other units take the next places in the queue
    (after `position` units ahead) and ship the day S(t) covers them."""

    shipped = _ship_date(handling_days, not_before)
    # Each step's ship date once: every order of the queue looks them up.
    dated = [(supply, shipped(day)) for day, supply in steps]
    ships_now = shipped(today)
    out: list[OrderEta] = []
    for order, now in entries:
        later = order.quantity - now
        if not later:
            out.append(make_order_eta(order.order_id, now, 0, ships_now, one_shipment(now, ships_now) if now else ()))
            continue
        # (units, ships_by) until the end: most orders are one shipment, a shared one.
        parts: list[tuple[int, date | None]] = [(now, ships_now)] if now else []
        start = position  # units queued ahead of this order's waiting ones
        position += later
        ships_by = None
        covered = 0
        for supply, ship in dated:
            # min(max(supply - start, 0), later) without the two calls (this is the inner loop).
            if supply is None:
                reach = later
            else:
                reach = supply - start
                if reach >= later:
                    reach = later
                elif reach < 0:
                    reach = 0
            if reach > covered:
                parts.append((reach - covered, ship))
                covered = reach
            if covered >= later:
                ships_by = ship
                break
        if covered < later:
            parts.append((later - covered, None))
        shipments = one_shipment(*parts[0]) if len(parts) == 1 else merged(Shipment(units, day) for units, day in parts)
        out.append(make_order_eta(order.order_id, now, later, ships_by, shipments))
    return tuple(out)


def one_shipment(units: int, ships_by: date | None) -> tuple[Shipment, ...]:
    """`(Shipment(units, ships_by),)`, one tuple shared by every order it describes (a value: a
    pass has few distinct ones)."""
    key = (units, ships_by)
    one = _ONE_SHIPMENT.get(key)
    if one is None:
        if len(_ONE_SHIPMENT) > 4096:
            _ONE_SHIPMENT.clear()
        one = _ONE_SHIPMENT[key] = (Shipment(units, ships_by),)
    return one


_ONE_SHIPMENT: dict[tuple[int, date | None], tuple[Shipment, ...]] = {}


def merged(parts: Iterable[Shipment]) -> tuple[Shipment, ...]:
    """Shipments on the same day as one (handling days or a release date can line them up)."""
    out: list[Shipment] = []
    for part in parts:
        if out and out[-1].ships_by == part.ships_by:
            out[-1] = Shipment(out[-1].units + part.units, part.ships_by)
        else:
            out.append(part)
    return tuple(out)
