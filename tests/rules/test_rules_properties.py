"""Properties over any valid facts: decide never raises, is deterministic, and explain agrees."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from rules import Facts, QueuedOrder, Status, compile_rules
from rules_examples import EXAMPLE_RULES

EXTRA_RULES: list[dict[str, object]] = [
    {"name": "capped pre-order", "when": {"release_date": "future", "categories_any": ["Games"]},
     "then": {"status": "pre_order", "eta": "release_date", "cap": 50, "message": "{sku}: {days} days, {available}"}},
    {"name": "vendor lead", "when": {"vendor_in": ["Acme"], "sku_matches": ["A*"], "has_eta": True},
     "then": {"status": "backorder", "eta": "lead_time", "handling_days": 3, "message": "{eta:%d.%m.%Y}"}},
    {"name": "ships when available", "when": {"has_eta": False, "tags_all": ["mto"]},
     "then": {"status": "backorder", "eta": "restock_date"}},
    {"name": "fixed", "when": {"supplier_in": ["FarEast"], "available": "< 0"},
     "then": {"status": "backorder", "eta": "2027-01-15"}},
    {"name": "always in stock", "when": {"tags_none": ["physical"], "restock_date": "none"},
     "then": {"status": "in_stock"}},
]
RULESETS = [
    compile_rules(EXAMPLE_RULES, handling_days=1),
    compile_rules([*EXTRA_RULES, *EXAMPLE_RULES], handling_days=2),
    compile_rules([]),
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
        st.builds(QueuedOrder, order_id=st.text(max_size=5),
                  ordered_at=st.just(datetime(2026, 1, 1, tzinfo=timezone.utc)),
                  quantity=st.integers(1, 30)),
        max_size=3,
    ).map(tuple),
)


@settings(max_examples=300, deadline=None)
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


@settings(max_examples=100, deadline=None)
@given(item=facts_strategy, shift=st.integers(1, 60))
def test_an_earlier_restock_never_turns_a_backorder_into_sold_out(item: Facts, shift: int) -> None:
    ruleset = RULESETS[0]
    decision = ruleset.decide(item)
    if decision is None or decision.rule != "backorder while a restock is due" or item.restock_date is None:
        return
    earlier = max(item.today, item.restock_date - timedelta(days=shift))
    sooner = ruleset.decide(Facts(**{**{f: getattr(item, f) for f in item.__slots__}, "restock_date": earlier}))
    assert sooner is not None and sooner.rule == decision.rule
