"""Supply-driven ETAs (FIFO available-to-promise), caps, per-order dates and hysteresis, as tables."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from rules_examples import EXAMPLE_RULES, TODAY, days, facts

from stockstatus.rules import (
    Decision,
    Facts,
    OrderEta,
    QueuedOrder,
    RuleSet,
    Status,
    SupplyEvent,
    compile_rules,
    next_arrival,
    queue_etas,
    timeline,
)

B, P, I, O = Status.BACKORDER, Status.PRE_ORDER, Status.IN_STOCK, Status.OUT_OF_STOCK
AT = datetime(2026, 11, 1, 9, tzinfo=UTC)


def po(day: int, quantity: int | None, ref: str = "PO") -> SupplyEvent:
    return SupplyEvent(days(day), quantity, "Acme", ref)


def order(order_id: str, quantity: int, hour: int = 0) -> QueuedOrder:
    return QueuedOrder(order_id, AT + timedelta(hours=hour), quantity)


SUPPLY_RULES: list[dict[str, object]] = [
    EXAMPLE_RULES[0],  # discontinued
    EXAMPLE_RULES[1],  # pre-order until release
    {
        "name": "backorder while a shipment is due",
        "when": {"available": "<= 0", "eta_within_days": 45},
        "then": {
            "status": "backorder",
            "eta": "supply",
            "cap": "incoming",
            "message": "Ships by {eta:%-d %B}, {limit} left, {queue} waiting",
        },
    },
    EXAMPLE_RULES[3],  # backorder on supplier lead time (made-to-order)
    EXAMPLE_RULES[4],  # sold out
]
SUPPLY = compile_rules(SUPPLY_RULES, handling_days=1)


# --- the FIFO arithmetic -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("available", "queue", "supply", "arrival"),
    [
        pytest.param(5, (), (), TODAY, id="on hand: the next unit is covered today"),
        pytest.param(0, (), (po(10, 20),), days(10), id="sold out, one PO"),
        pytest.param(
            -20, (), (po(10, 20), po(30, 50)), days(30), id="queue as long as the next shipment: ETA from the second"
        ),
        pytest.param(-19, (), (po(10, 20), po(30, 50)), days(10), id="one unit left in the first shipment"),
        pytest.param(-3, (), (po(5, 1), po(8, 1), po(12, 2)), days(12), id="partial arrivals add up"),
        pytest.param(0, (), (po(-2, 40),), None, id="late PO (date passed) is not counted: no timeline"),
        pytest.param(0, (), (po(-2, 40), po(20, 5)), days(20), id="late PO skipped, the next dated one counts"),
        pytest.param(-50, (), (po(7, None),), days(7), id="restock without quantity covers the whole queue"),
        pytest.param(-5, (), (po(3, 2), po(7, None), po(9, 100)), days(7), id="unknown quantity after a short PO"),
        pytest.param(0, (), (po(120, 5),), days(120), id="on the horizon's last day: counted"),
        pytest.param(0, (), (po(121, 5),), None, id="beyond the horizon: no reliable timeline"),
        pytest.param(0, (), (po(0, 5),), TODAY, id="PO due today counts"),
        pytest.param(None, (order("1", 4),), (po(5, 4), po(9, 1)), days(9), id="untracked stock: the queue counts"),
        pytest.param(0, (), (po(5, 0), po(6, -3)), None, id="zero and negative quantities add nothing"),
    ],
)
def test_next_arrival(
    available: int | None, queue: tuple[QueuedOrder, ...], supply: tuple[SupplyEvent, ...], arrival: date | None
) -> None:
    assert next_arrival(available, queue, supply, TODAY, days(120)) == arrival
    assert timeline(available, queue, supply, TODAY, horizon_days=120).next_unit == arrival


def test_timeline_rows_show_the_derivation() -> None:
    line = timeline(
        -6,
        (),
        (po(-1, 10, "PO-LATE"), po(4, 4, "PO-1"), po(9, 5, "PO-2"), po(200, 9, "PO-FAR")),
        TODAY,
        horizon_days=120,
    )
    assert [(r.day, r.incoming, r.supply, r.covered, r.counted) for r in line.rows] == [
        (days(-1), 10, None, 0, False),
        (TODAY, 0, 0, 0, True),
        (days(4), 4, 4, 4, True),
        (days(9), 5, 9, 6, True),
        (days(200), 9, None, 0, False),
    ]
    assert line.next_unit == days(9) and line.eta(2) == days(11)
    assert (line.queued, line.incoming_known, line.room) == (6, 9, 3)
    text = "\n".join(line.lines())
    assert "late (expected 2026-11-21): PO-LATE (Acme)" in text
    assert "after the 120-day horizon" in text
    assert "next unit covered on 2026-12-01" in text


@pytest.mark.parametrize(
    ("available", "queue", "supply", "expected"),
    [
        pytest.param(
            -5,
            (order("A", 2), order("B", 3, 1)),
            (po(4, 2), po(9, 10)),
            (OrderEta("A", 0, 2, days(5)), OrderEta("B", 0, 3, days(10))),
            id="oldest order served by the first shipment",
        ),
        pytest.param(
            -3,
            (order("A", 5), order("B", 1, 1)),
            (po(6, 10),),
            (OrderEta("A", 3, 2, days(7)), OrderEta("B", 0, 1, days(7))),
            id="full quantities given: stock covered the oldest units now (partial backorder)",
        ),
        pytest.param(
            -4,
            (order("B", 1),),
            (po(2, 3), po(8, 3)),
            (OrderEta("B", 0, 1, days(9)),),
            id="unattributed older units queue first",
        ),
        pytest.param(
            -4,
            (order("A", 4),),
            (po(2, 3),),
            (OrderEta("A", 0, 4, None),),
            id="not covered inside the horizon: no date",
        ),
        pytest.param(3, (order("A", 2),), (), (OrderEta("A", 2, 0, days(1)),), id="all from stock"),
    ],
)
def test_order_etas(
    available: int, queue: tuple[QueuedOrder, ...], supply: tuple[SupplyEvent, ...], expected: tuple[OrderEta, ...]
) -> None:
    got = queue_etas(available, queue, supply, TODAY, handling_days=1)
    assert got == expected
    assert got[0].partial is (expected[0].now > 0 and expected[0].later > 0)


# --- rules with eta = "supply" -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "status", "rule", "eta", "sell_limit"),
    [
        pytest.param(
            facts(available=0, supply=(po(10, 30),)),
            B,
            "backorder while a shipment is due",
            days(11),
            30,
            id="shipment due in 10 days: backorder, ETA + 1 handling day, cap = the shipment",
        ),
        pytest.param(
            facts(available=-30, supply=(po(10, 30), po(30, 20))),
            B,
            "backorder while a shipment is due",
            days(31),
            20,
            id="queue longer than the next shipment: ETA from the second",
        ),
        pytest.param(
            facts(available=-30, supply=(po(10, 30),)),
            O,
            "sold out",
            None,
            None,
            id="queue takes the whole shipment: cap reached, sold out",
        ),
        pytest.param(
            facts(available=-2, supply=(po(-3, 50),)),
            O,
            "sold out",
            None,
            None,
            id="shipment late (date passed): no reliable timeline, sold out",
        ),
        pytest.param(
            facts(available=-2, supply=(po(-3, 50), po(20, 10))),
            B,
            "backorder while a shipment is due",
            days(21),
            8,
            id="shipment late, a later one is dated: ETA from it",
        ),
        pytest.param(
            facts(available=0, supply=(po(50, 30),)),
            O,
            "sold out",
            None,
            None,
            id="shipment beyond the 45-day window: sold out",
        ),
        pytest.param(
            facts(available=0, supply=(po(44, 30),)),
            B,
            "backorder while a shipment is due",
            days(45),
            30,
            id="44 days + 1 handling = 45: inside the window",
        ),
        pytest.param(
            facts(available=-4, supply=(po(5, 3), po(12, 3))),
            B,
            "backorder while a shipment is due",
            days(13),
            2,
            id="partial arrival: 3 then 3 cover 4 queued + 1 on the second",
        ),
        pytest.param(
            facts(available=0, supply=(po(5, None),)),
            O,
            "sold out",
            None,
            None,
            id="restock date without quantity: dated, but cap incoming counts nothing",
        ),
        pytest.param(
            facts(available=0, release_date=days(-1), supply=(po(5, 10),)),
            B,
            "backorder while a shipment is due",
            days(6),
            10,
            id="release date passed: normal rules",
        ),
        pytest.param(
            facts(available=0, tags=["made-to-order"], lead_time_days=14),
            B,
            "backorder on supplier lead time",
            days(15),
            None,
            id="no supplier date: lead time",
        ),
        pytest.param(facts(available=0), O, "sold out", None, None, id="no supplier date, no lead time: sold out"),
        pytest.param(
            facts(available=4, supply=(po(5, 10),)),
            I,
            "default",
            None,
            10,
            id="in stock: pre-armed backorder, sell limit past zero is the incoming",
        ),
    ],
)
def test_supply_rules(item: Facts, status: Status, rule: str, eta: date | None, sell_limit: int | None) -> None:
    decision = SUPPLY.decide(item)
    assert decision is not None
    assert (decision.status, decision.rule, decision.eta, decision.sell_limit) == (status, rule, eta, sell_limit)
    assert decision.reasons


def test_supply_decision_message_inputs_and_order_dates() -> None:
    item = facts(
        available=-3, backorder_queue=(order("A", 1), order("B", 2, 1)), supply=(po(3, 2, "PO-1"), po(8, 10, "PO-2"))
    )
    decision = SUPPLY.decide(item)
    assert decision is not None
    assert decision.message == "Ships by 1 December, 9 left, 3 waiting"
    assert decision.order_etas == (OrderEta("A", 0, 1, days(4)), OrderEta("B", 0, 2, days(9)))
    assert decision.reasons == (
        "available -3 <= 0",
        "ETA 2026-12-01 (supply covers 3 queued + 1 on 2026-11-30 + 1 handling day)",
        "ETA 2026-12-01 within 45 days (in 9)",
        "incoming 12 up to 2027-03-22: 9 more can be ordered (3 waiting)",
    )
    assert decision.inputs["eta_source"] == "supply"
    assert decision.inputs["next_arrival"] == "2026-11-30"
    assert decision.inputs["cap"] == {"max": None, "incoming": 12}


@pytest.mark.parametrize(
    ("cap", "available", "supply", "rule", "sell_limit"),
    [
        pytest.param(50, -10, (), "capped", 40, id="fixed cap"),
        pytest.param("incoming", -10, (po(5, 25),), "capped", 15, id="incoming cap"),
        pytest.param({"max": 50, "incoming": True}, -10, (po(5, 100),), "capped", 40, id="both: fixed is smaller"),
        pytest.param({"max": 50, "incoming": True}, -10, (po(5, 25),), "capped", 15, id="both: incoming is smaller"),
        pytest.param({"max": 10}, -10, (), "sold out", None, id="fixed cap reached: next rule"),
        pytest.param(
            "incoming",
            -10,
            (po(5, 10), po(-1, 99)),
            "sold out",
            None,
            id="incoming cap reached (late PO not counted): next rule",
        ),
        pytest.param("incoming", 0, (po(5, 7), po(130, 99)), "capped", 7, id="incoming beyond the horizon not counted"),
    ],
)
def test_caps(cap: object, available: int, supply: tuple[SupplyEvent, ...], rule: str, sell_limit: int | None) -> None:
    ruleset = compile_rules(
        [
            {"name": "capped", "when": {"available": "<= 0"}, "then": {"status": "backorder", "cap": cap}},
            {"name": "sold out", "when": {"available": "<= 0"}, "then": {"status": "out_of_stock"}},
        ]
    )
    decision = ruleset.decide(facts(available=available, supply=supply))
    assert decision is not None and (decision.rule, decision.sell_limit) == (rule, sell_limit)


@pytest.mark.parametrize(
    ("item", "on_sellout", "sell_limit"),
    [
        pytest.param(facts(available=3, supply=(po(5, 20),)), B, 20, id="pre-arm backorder up to the incoming"),
        pytest.param(facts(available=3), O, None, id="pre-arm: nothing incoming, the cap is 0: sold out at zero"),
        pytest.param(facts(available=3, supply=(po(5, None),)), O, None, id="quantity unknown: cap 0 at zero"),
    ],
)
def test_pre_arming_considers_the_cap(item: Facts, on_sellout: Status, sell_limit: int | None) -> None:
    decision = SUPPLY.decide(item)
    assert decision is not None and decision.status is I
    assert (decision.on_sellout, decision.sell_limit, decision.eta) == (on_sellout, sell_limit, None)


def test_pre_order_orders_ship_on_release_at_the_earliest() -> None:
    item = facts(available=-2, release_date=days(20), backorder_queue=(order("A", 2),), supply=(po(5, 50),))
    decision = SUPPLY.decide(item)
    assert decision is not None and decision.status is P
    assert decision.order_etas == (OrderEta("A", 0, 2, days(20)),)


def test_dst_week_dates_do_not_shift() -> None:
    """Europe/Berlin leaves summer time on 2026-10-25: dates count calendar days regardless."""
    berlin = ZoneInfo("Europe/Berlin")
    # 22:30 UTC on 24 October is already 25 October in Berlin (UTC+2): the core's "today".
    today = datetime(2026, 10, 24, 22, 30, tzinfo=UTC).astimezone(berlin).date()
    assert today == date(2026, 10, 25)
    item = Facts(
        sku="X",
        today=today,
        available=-1,
        supply=(SupplyEvent(date(2026, 10, 26), 1), SupplyEvent(date(2026, 10, 28), 5)),
    )
    ruleset = compile_rules(SUPPLY_RULES, handling_days=1, horizon_days=3)
    decision = ruleset.decide(item)
    assert decision is not None
    assert (decision.rule, decision.eta, decision.sell_limit) == (
        "backorder while a shipment is due",
        date(2026, 10, 29),
        5,
    )
    assert "up to 2026-10-28" in decision.reasons[-1]  # the 3-day horizon ends on the 28th, not a day off
    spring = Facts(sku="X", today=date(2026, 3, 28), available=0, supply=(SupplyEvent(date(2026, 3, 30), 4),))
    decision = ruleset.decide(spring)  # summer time starts 2026-03-29
    assert decision is not None and decision.eta == date(2026, 3, 31) and decision.message is not None
    assert decision.message.startswith("Ships by 31 March")


# --- new conditions ------------------------------------------------------------------------------


def sales(*units: int | None) -> tuple[object, ...]:
    from stockstatus.rules import DaySales

    n = len(units)
    return tuple(DaySales(days(i - n), u or 0, u is not None) for i, u in enumerate(units))


@pytest.mark.parametrize(
    ("when", "item", "matches"),
    [
        pytest.param(
            {"queue_length": ">= 2"}, facts(backorder_queue=(order("A", 1), order("B", 1))), True, id="queue_length"
        ),
        pytest.param({"queue_length": "== 0"}, facts(), True, id="empty queue"),
        pytest.param({"queued_units": "> 5"}, facts(available=-6), True, id="queued_units from available"),
        pytest.param({"queued_units": "> 5"}, facts(available=-5), False, id="queued_units not over"),
        pytest.param({"velocity": "> 2"}, facts(sales=sales(*[3] * 28)), True, id="velocity default window"),
        pytest.param({"velocity": "> 2.5"}, facts(sales=sales(*[2] * 28)), False, id="decimal comparison"),
        pytest.param(
            {"velocity": {"window_days": 7, "is": ">= 4"}},
            facts(sales=sales(*[0] * 21, *[4] * 7)),
            True,
            id="velocity over a 7-day window",
        ),
        pytest.param(
            {"velocity": {"window_days": 7, "is": ">= 4"}},
            facts(sales=sales(4, 4, None, None, None, None, None)),
            True,
            id="out-of-stock days are left out",
        ),
        pytest.param(
            {"velocity": "< 1"}, facts(sales=sales(*[None] * 28)), False, id="no day in stock: unknown, no match"
        ),
        pytest.param(
            {"days_of_cover": "< 14"}, facts(available=20, sales=sales(*[2] * 28)), True, id="10 days of cover"
        ),
        pytest.param(
            {"days_of_cover": "< 14"}, facts(available=40, sales=sales(*[2] * 28)), False, id="20 days of cover"
        ),
        pytest.param(
            {"days_of_cover": "> 1000"}, facts(available=5, sales=sales(*[0] * 28)), True, id="no demand: infinite"
        ),
        pytest.param(
            {"days_of_cover": "< 5"}, facts(available=None, sales=sales(1)), False, id="untracked never matches"
        ),
        pytest.param({"has_reliable_eta": True}, facts(available=0, supply=(po(5, 1),)), True, id="has_reliable_eta"),
        pytest.param(
            {"has_reliable_eta": False}, facts(available=0, supply=(po(-5, 1),)), True, id="late: no reliable eta"
        ),
    ],
)
def test_new_conditions(when: dict[str, object], item: Facts, matches: bool) -> None:
    ruleset = compile_rules([{"name": "r", "when": when, "then": {"status": "out_of_stock"}}])
    decision = ruleset.decide(item)
    assert (decision is not None and decision.rule == "r") is matches
    if decision is not None and decision.rule == "r":
        assert decision.reasons and decision.inputs


# --- hysteresis ----------------------------------------------------------------------------------

HYSTERESIS = compile_rules(SUPPLY_RULES, handling_days=1, back_in_stock_at=5)


@pytest.mark.parametrize(
    ("previous", "available", "supply", "status", "rule"),
    [
        pytest.param(O, 2, (), O, "sold out", id="was sold out, 2 came back: stays sold out"),
        pytest.param(O, 5, (), I, "default", id="reaches 5: back in stock"),
        pytest.param(B, 1, (po(5, 10),), B, "backorder while a shipment is due", id="was backorder: stays backorder"),
        pytest.param(I, 2, (), I, "default", id="was in stock: no hold"),
        pytest.param(None, 2, (), I, "default", id="no previous status: no hold"),
        pytest.param(P, 2, (), I, "default", id="was pre-order: released, no hold"),
        pytest.param(O, 0, (), O, "sold out", id="still sold out"),
    ],
)
def test_back_in_stock_at(
    previous: Status | None, available: int, supply: tuple[SupplyEvent, ...], status: Status, rule: str
) -> None:
    item = facts(available=available, previous_status=previous, supply=supply)
    decision = HYSTERESIS.decide(item)
    assert decision is not None and (decision.status, decision.rule) == (status, rule)
    if status is not I and available > 0:
        assert decision.reasons[-1].startswith("held: last shown")
        assert decision.inputs["held_until_available"] == 5
        explained = HYSTERESIS.explain(item)
        assert explained.held == decision.reasons[-1]
        assert explained.decision == decision


def test_no_hysteresis_without_the_option() -> None:
    decision = SUPPLY.decide(facts(available=2, previous_status=O))
    assert decision is not None and decision.status is I


# --- explain -------------------------------------------------------------------------------------


def test_explain_carries_the_timeline() -> None:
    item = facts(available=-3, backorder_queue=(order("A", 3),), supply=(po(5, 2), po(9, 4)))
    explained = SUPPLY.explain(item)
    assert explained.decision == SUPPLY.decide(item)
    assert next(t.name for t in explained if t.matched) == "backorder while a shipment is due"
    assert explained.timeline.next_unit == days(9)
    assert [(r.day, r.supply, r.covered) for r in explained.timeline.rows] == [
        (TODAY, 0, 0),
        (days(5), 2, 2),
        (days(9), 6, 3),
    ]
    assert explained.order_etas == (OrderEta("A", 0, 3, days(10)),)


def test_decision_stays_a_value() -> None:
    made = SUPPLY.decide(facts(available=0, supply=(po(10, 30),)))
    assert made is not None
    built = Decision(
        made.status,
        made.rule,
        made.eta,
        made.sell_limit,
        made.message,
        made.reasons,
        made.on_sellout,
        made.order_etas,
        made.inputs,
    )
    assert built == made and hash(built) == hash(made) and built.inputs == made.inputs
    with pytest.raises(AttributeError):
        made.status = I  # type: ignore[misc]
    assert "Decision(status=" in repr(made)


def test_ruleset_options_are_validated() -> None:
    from stockstatus.rules import RuleError

    with pytest.raises(RuleError) as caught:
        compile_rules([], horizon_days=0, back_in_stock_at=-1)
    assert caught.value.problems == [
        "horizon_days: 0 is not a whole number >= 1",
        "back_in_stock_at: -1 is not a whole number >= 1",
    ]


def test_store_rule_sets_keep_their_own_options() -> None:
    eager: RuleSet = compile_rules(SUPPLY_RULES, horizon_days=200)
    item = facts(available=0, supply=(po(150, 10),))
    assert SUPPLY.explain(item).timeline.next_unit is None
    assert eager.explain(item).timeline.next_unit == days(150)


def test_an_explanation_carries_what_the_core_shows() -> None:
    item = facts(available=-1, backorder_queue=(order("A", 1),), supply=(po(10, 30),))
    explained = SUPPLY.explain(item)
    assert explained.traces == tuple(explained)
    assert next(t.name for t in explained.traces if t.matched) == "backorder while a shipment is due"
    assert explained.decision == SUPPLY.decide(item) and explained.decision is not None
    assert explained.decision.eta == days(11) and explained.held is None
    assert explained.order_etas == (OrderEta("A", 0, 1, days(11)),)
    assert any(days(10).isoformat() in line for line in explained.timeline.lines())
    assert SUPPLY.horizon_days == 120 and SUPPLY.handling_days == 1 and SUPPLY.back_in_stock_at is None
