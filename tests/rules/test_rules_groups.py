"""Supply groups: stores sharing a warehouse are served from one FIFO queue against one supply.

Properties over any group of two or three stores (their stock levels, waiting orders interleaved
in time, purchase orders): promised units never exceed the supply, every store sees the same
dates for every order and the same next-unit ETA and cap, and the queue is first in first out.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from stockstatus.rules import (
    Facts,
    QueuedOrder,
    StoreQueue,
    SupplyEvent,
    SupplyGroup,
    compile_rules,
    group_etas,
    next_arrival,
)

TODAY = date(2026, 11, 22)
START = datetime(2026, 10, 1, tzinfo=UTC)
RULES = compile_rules(
    [
        {
            "name": "backorder while a shipment is due",
            "when": {"available": "<= 0", "eta_within_days": 90},
            "then": {"status": "backorder", "eta": "supply", "cap": "incoming"},
        },
        {"name": "sold out", "when": {"available": "<= 0"}, "then": {"status": "out_of_stock"}},
    ]
)


@st.composite
def stores(draw: st.DrawFn) -> list[tuple[str, int | None, tuple[QueuedOrder, ...]]]:
    """Two or three stores: each one's sellable count and its open orders for the SKU, oldest first.

    Orders are placed minutes apart across all stores (interleaved); a store's count is its shelf
    minus its own orders (and sometimes orders not listed), as a platform keeps it.
    """
    names = ["eu-shop", "us-shop", "uk-shop"][: draw(st.integers(2, 3))]
    placed = draw(st.lists(st.tuples(st.sampled_from(names), st.integers(1, 6)), max_size=12))
    out = []
    for name in names:
        minutes = [n for n, (where, _) in enumerate(placed) if where == name]
        queue = tuple(
            QueuedOrder(f"{name}-{n}", START + timedelta(minutes=n), placed[n][1], store=None) for n in minutes
        )
        tracked = draw(st.booleans())
        shelf = draw(st.integers(0, 8))
        unlisted = draw(st.integers(0, 3))  # sold past zero by orders the connector no longer sees
        available = shelf - sum(q.quantity for q in queue) - unlisted if tracked else None
        out.append((name, available, queue))
    return out


supplies = st.lists(
    st.builds(
        SupplyEvent,
        expected=st.integers(-5, 150).map(lambda d: TODAY + timedelta(days=d)),
        quantity=st.integers(0, 15),
        reference=st.just("PO"),
    ),
    max_size=4,
)


def _unattributed(members) -> int:
    """Units a store's count says are waiting but no listed order explains (they queue first)."""
    ahead = 0
    for _, available, queue in members:
        listed = sum(q.quantity for q in queue)
        queued = -available if available is not None and available < 0 else (0 if available is not None else listed)
        ahead += max(queued - listed, 0)
    return ahead


def group_of(members: list[tuple[str, int | None, tuple[QueuedOrder, ...]]], me: str) -> SupplyGroup:
    others = tuple(
        StoreQueue(name, available, tuple(replace(q, store=name) for q in queue))
        for name, available, queue in members
        if name != me
    )
    return SupplyGroup("wh", me, others)


def dated(members, supply, me: str):
    _, available, queue = next(m for m in members if m[0] == me)
    return group_etas(available, queue, group_of(members, me), supply, TODAY)


def facts(members, supply, me: str) -> Facts:
    _, available, queue = next(m for m in members if m[0] == me)
    return Facts(
        sku="KTL-1",
        today=TODAY,
        available=available,
        backorder_queue=queue,
        supply=tuple(supply),
        group=group_of(members, me),
    )


@given(stores(), supplies)
def test_promised_units_never_exceed_the_supply(members, supply):
    orders = dated(members, supply, members[0][0])
    coming = sum(e.quantity or 0 for e in supply if TODAY <= e.expected <= TODAY + timedelta(days=120))
    waiting = sum(o.eta.later for o in orders)  # units no store's shelf covers
    undated = sum(p.units for o in orders for p in o.eta.shipments if p.ships_by is None)
    # Each unit given a date is a unit of the one supply: never more than is coming, all of it used.
    assert waiting - undated == min(waiting, max(coming - _unattributed(members), 0))


@given(stores(), supplies)
def test_every_store_sees_the_same_dates_eta_and_cap(members, supply):
    seen = {
        name: [(g.store, g.eta.order_id, g.eta.ships_by, g.eta.shipments) for g in dated(members, supply, name)]
        for name, _, _ in members
    }
    first, *rest = seen.values()
    assert all(other == first for other in rest)
    # Stores whose shelf is empty are offered the same next unit and the same room.
    decisions = [
        RULES.decide(facts(members, supply, name))
        for name, available, _ in members
        if available is not None and available <= 0
    ]
    assert len({(d.status, d.eta, d.sell_limit) for d in decisions if d is not None}) <= 1


@given(stores(), supplies)
def test_the_queue_is_first_in_first_out_across_stores(members, supply):
    orders = dated(members, supply, members[0][0])
    assert [g.ordered_at for g in orders] == sorted(g.ordered_at for g in orders)
    # A later order's waiting units never ship before an earlier one's (no date: after every date).
    days = [g.eta.ships_by or date.max for g in orders if g.eta.later]
    assert days == sorted(days)


@given(stores(), supplies)
def test_each_store_keeps_its_own_orders_in_its_decision(members, supply):
    for name, _, queue in members:
        made = RULES.decide(facts(members, supply, name))
        if made is None or not queue:
            continue
        assert {o.order_id for o in made.order_etas} == {q.order_id for q in queue}


def test_a_store_with_units_on_its_shelf_ships_now_and_the_others_queue_for_the_shipment():
    eu = ("eu-shop", 2, ())
    us = ("us-shop", -3, (QueuedOrder("us-1", START, 3),))
    supply = [SupplyEvent(TODAY + timedelta(days=10), 4, reference="PO-1")]
    here = facts([eu, us], supply, "eu-shop")
    assert RULES.decide(here).status.value == "in_stock"
    # The shelf is eu-shop's own: us-shop's 3 units wait for the shipment, then 1 unit is left.
    assert next_arrival(-3, us[2], supply, TODAY, TODAY + timedelta(days=120)) == TODAY + timedelta(days=10)
    there = RULES.decide(facts([eu, us], supply, "us-shop"))
    assert (there.status.value, there.eta, there.sell_limit) == ("backorder", TODAY + timedelta(days=10), 1)
    # At eu-shop's sell-out the same room is what it may sell past zero.
    assert RULES.decide(here).sell_limit == 1
