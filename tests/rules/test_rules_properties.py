"""Properties over any valid facts: decide never raises, is deterministic, and explain agrees.

How many examples each property gets is the Hypothesis profile's (tests/conftest.py): a quick
default, `HYPOTHESIS_PROFILE=ci` for ten times as many.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from rules_examples import EXAMPLE_RULES

from stockstatus.rules import DaySales, Facts, QueuedOrder, Status, SupplyEvent, compile_rules, next_arrival, timeline

EXTRA_RULES: list[dict[str, object]] = [
    {
        "name": "capped pre-order",
        "when": {"release_date": "future", "categories_any": ["Games"]},
        "then": {"status": "pre_order", "eta": "release_date", "cap": 50, "message": "{sku}: {days} days, {available}"},
    },
    {
        "name": "vendor lead",
        "when": {"vendor_in": ["Acme"], "sku_matches": ["A*"], "has_eta": True},
        "then": {"status": "backorder", "eta": "lead_time", "handling_days": 3, "message": "{eta:%d.%m.%Y}"},
    },
    {
        "name": "ships when available",
        "when": {"has_eta": False, "tags_all": ["mto"]},
        "then": {"status": "backorder", "eta": "restock_date"},
    },
    {
        "name": "fixed",
        "when": {"supplier_in": ["FarEast"], "available": "< 0"},
        "then": {"status": "backorder", "eta": "2027-01-15"},
    },
    {
        "name": "always in stock",
        "when": {"tags_none": ["physical"], "restock_date": "none"},
        "then": {"status": "in_stock"},
    },
]
SUPPLY_RULES: list[dict[str, object]] = [
    {
        "name": "slow movers",
        "when": {"velocity": {"window_days": 7, "is": "< 0.5"}, "days_of_cover": "> 60", "tags_any": ["sale"]},
        "then": {"status": "in_stock"},
    },
    {
        "name": "long queue",
        "when": {"queue_length": "> 2", "has_reliable_eta": False},
        "then": {"status": "out_of_stock"},
    },
    {
        "name": "capped pre-order",
        "when": {"release_date": "future"},
        "then": {
            "status": "pre_order",
            "eta": "release_date",
            "cap": {"max": 40, "incoming": True},
            "message": "{limit} left, {queue} waiting",
        },
    },
    {
        "name": "shipment due",
        "when": {"available": "<= 0", "eta_within_days": 60},
        "then": {"status": "backorder", "eta": "supply", "cap": "incoming", "message": "by {eta:%d.%m.}"},
    },
    {"name": "big queue", "when": {"queued_units": ">= 20"}, "then": {"status": "out_of_stock"}},
    *EXAMPLE_RULES,
]
RULESETS = [
    compile_rules(EXAMPLE_RULES, handling_days=1),
    compile_rules([*EXTRA_RULES, *EXAMPLE_RULES], handling_days=2),
    compile_rules([]),
    compile_rules(SUPPLY_RULES, handling_days=1, horizon_days=90),
    compile_rules(SUPPLY_RULES, back_in_stock_at=4),
]

words = st.sampled_from(["discontinued", "made-to-order", "MTO", "mto", "Games", "physical", "sale", "x"])
dates = st.one_of(st.none(), st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)))
facts_strategy = st.builds(
    Facts,
    sku=st.text(min_size=1, max_size=12),
    today=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
    available=st.one_of(st.none(), st.integers(-10_000, 10_000)),
    name=st.text(max_size=20),
    tags=st.frozensets(words, max_size=4),
    categories=st.frozensets(words, max_size=3),
    vendor=st.one_of(st.none(), st.sampled_from(["Acme", "acme", "Other"])),
    supplier=st.one_of(st.none(), st.sampled_from(["FarEast", "Acme"])),
    release_date=dates,
    restock_date=dates,
    lead_time_days=st.one_of(st.none(), st.integers(-5, 400)),
    backorder_queue=st.lists(
        st.builds(
            QueuedOrder,
            order_id=st.text(max_size=5),
            ordered_at=st.just(datetime(2026, 1, 1, tzinfo=UTC)),
            quantity=st.integers(1, 30),
        ),
        max_size=3,
    ).map(tuple),
    supply=st.lists(
        st.builds(
            SupplyEvent,
            expected=dates.filter(lambda d: d is not None),
            quantity=st.one_of(st.none(), st.integers(-5, 80)),
            reference=st.just("PO"),
        ),
        max_size=4,
    ).map(tuple),
    previous_status=st.one_of(st.none(), st.sampled_from(list(Status))),
    sales=st.lists(
        st.builds(
            DaySales,
            day=st.dates(min_value=date(2019, 12, 1), max_value=date(2035, 12, 31)),
            units=st.integers(0, 20),
            in_stock=st.booleans(),
        ),
        max_size=10,
    ).map(tuple),
)


@given(item=facts_strategy, which=st.integers(0, len(RULESETS) - 1))
def test_decide_is_total_deterministic_and_explained(item: Facts, which: int) -> None:
    ruleset = RULESETS[which]
    decision = ruleset.decide(item)
    again = ruleset.decide(item)
    assert decision == again
    if decision is None:
        assert item.available is None
    else:
        assert again is not None and decision.inputs == again.inputs
        json.dumps(decision.inputs)
        assert decision.rule and decision.reasons
        if decision.eta is not None:
            assert decision.status.sellable_past_zero and decision.eta >= item.today
        if decision.on_sellout is not None:
            assert decision.status is Status.IN_STOCK and item.available is not None and item.available > 0
        if decision.sell_limit is not None:
            assert decision.sell_limit > 0
    traces = ruleset.explain(item)
    deciding = [t for t in traces if t.decision is not None]
    if decision is None:
        assert deciding == []
    else:
        assert [t.decision for t in deciding] == [decision]
        assert deciding[0].name == decision.rule
        assert all(not t.matched for t in traces[: traces.index(deciding[0])])


@given(item=facts_strategy, shift=st.integers(1, 60))
def test_an_earlier_restock_never_turns_a_backorder_into_sold_out(item: Facts, shift: int) -> None:
    ruleset = RULESETS[0]
    decision = ruleset.decide(item)
    if decision is None or decision.rule != "backorder while a restock is due" or item.restock_date is None:
        return
    earlier = max(item.today, item.restock_date - timedelta(days=shift))
    sooner = ruleset.decide(Facts(**{**{f: getattr(item, f) for f in item.__slots__}, "restock_date": earlier}))
    assert sooner is not None and sooner.rule == decision.rule


near = st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31))
events = st.lists(
    st.builds(SupplyEvent, expected=near, quantity=st.one_of(st.none(), st.integers(0, 50))), max_size=5
).map(tuple)


@given(today=near, available=st.integers(-60, 10), more=st.integers(1, 40), supply=events)
def test_a_longer_queue_never_gives_an_earlier_eta(
    today: date, available: int, more: int, supply: tuple[SupplyEvent, ...]
) -> None:
    end = today + timedelta(days=120)
    now = next_arrival(available, (), supply, today, end)
    longer = next_arrival(available - more, (), supply, today, end)
    if now is None:
        assert longer is None
    elif longer is not None:
        assert longer >= now


@given(item=facts_strategy)
def test_the_incoming_cap_is_never_negative_nor_more_than_incoming_after_the_queue(item: Facts) -> None:
    ruleset = compile_rules(
        [
            {"name": "b", "then": {"status": "backorder", "eta": "supply", "cap": "incoming"}},
            {"name": "rest", "then": {"status": "out_of_stock"}},
        ],
        horizon_days=120,
    )
    decision = ruleset.decide(item)
    line = timeline(
        item.available if item.available is None else min(item.available, 0),
        item.backorder_queue,
        item.supply,
        item.today,
        horizon_days=120,
    )
    if decision is not None and decision.sell_limit is not None:
        assert 0 <= decision.sell_limit <= max(line.incoming_known - line.queued, 0)
        assert decision.sell_limit == line.room


@given(item=facts_strategy)
def test_the_fast_supply_path_agrees_with_the_printed_timeline(item: Facts) -> None:
    end = item.today + timedelta(days=120)
    fast = next_arrival(item.available, item.backorder_queue, item.supply, item.today, end)
    assert fast == timeline(item.available, item.backorder_queue, item.supply, item.today, horizon_days=120).next_unit
