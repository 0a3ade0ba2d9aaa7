"""Invalid rules: every problem is reported, naming the rule (position and name) and the key."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from rules_examples import EXAMPLE_RULES, days, facts

from stockstatus.rules import DaySales, Facts, QueuedOrder, RuleError, Status, SupplyEvent, compile_rules


def problems_of(raw: object, **settings: object) -> list[str]:
    with pytest.raises(RuleError) as caught:
        compile_rules(raw, **settings)  # type: ignore[arg-type]
    assert isinstance(caught.value, ValueError)
    return caught.value.problems


def rule(when: object = None, then: object = None, name: object = "r", **extra: object) -> dict[str, object]:
    raw: dict[str, object] = {"name": name, "then": {"status": "backorder"} if then is None else then}
    if when is not None:
        raw["when"] = when
    raw.update(extra)
    return raw


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(
            rule({"available": "<== 0"}),
            'rules[0] ("r").when.available: "<== 0" is not a comparison like "<= 0"',
            id="bad comparison",
        ),
        pytest.param(
            rule({"available": 0}),
            'rules[0] ("r").when.available: 0 is not a comparison; write e.g. "== 0"',
            id="bare number for available",
        ),
        pytest.param(
            rule({"tag_any": ["x"]}),
            "rules[0] (\"r\").when: unknown key 'tag_any'; did you mean 'tags_any'?",
            id="typo in when key",
        ),
        pytest.param(
            rule({"status": "backorder"}),
            "rules[0] (\"r\").when: unknown key 'status'; it belongs in then",
            id="then key in when",
        ),
        pytest.param(
            rule(then={"status": "backorder", "messge": "x"}),
            "rules[0] (\"r\").then: unknown key 'messge'; did you mean 'message'?",
            id="typo in then key",
        ),
        pytest.param(rule(wen={}), "rules[0] (\"r\"): unknown key 'wen'; did you mean 'when'?", id="typo in rule key"),
        pytest.param(
            rule(then={"status": "backordered"}),
            'rules[0] ("r").then.status: "backordered" is not one of "in_stock", "backorder", "pre_order", "out_of_stock"',
            id="unknown status lists the four",
        ),
        pytest.param(rule(then={"eta": "lead_time"}), 'rules[0] ("r").then.status: missing', id="status missing"),
        pytest.param(rule(then={}), 'rules[0] ("r").then.status: missing; use one of', id="empty then"),
        pytest.param({"when": {}, "then": {"status": "backorder"}}, "rules[0].name: missing", id="name missing"),
        pytest.param(
            rule(name="Default"),
            'rules[0] ("Default").name: "default" is the name of the built-in fallback',
            id="default is reserved",
        ),
        pytest.param(
            rule(then=None, name="x") | {"then": "backorder"},
            'rules[0] ("x").then: expected a table',
            id="then not a table",
        ),
        pytest.param({"name": "x", "when": {}}, 'rules[0] ("x").then: missing', id="then missing"),
        pytest.param(rule(["available"]), 'rules[0] ("r").when: expected a table like', id="when not a table"),
        pytest.param(rule(name=5), "rules[0].name: 5 is not a name", id="name not text"),
        pytest.param(
            rule({"available": "<= 0"}, {"status": "pre_order", "eta": date(2027, 1, 15), "handling_days": 1}),
            'rules[0] ("r").then.handling_days: only added to a restock_date, lead_time or supply ETA,'
            " not to eta = 2027-01-15",
            id="handling on a fixed TOML date",
        ),
        pytest.param(
            rule({"tags_any": "sale"}),
            'rules[0] ("r").when.tags_any: "sale" is not a list; write ["sale"]',
            id="string instead of list",
        ),
        pytest.param(rule({"tags_any": []}), 'rules[0] ("r").when.tags_any: the list is empty', id="empty list"),
        pytest.param(
            rule({"release_date": "soon"}),
            'rules[0] ("r").when.release_date: "soon" is not one of "future"',
            id="bad date condition",
        ),
        pytest.param(
            rule({"eta_within_days": 30}),
            'rules[0] ("r").when.eta_within_days: needs then.eta',
            id="eta_within_days without then.eta",
        ),
        pytest.param(
            rule({"has_eta": True}), 'rules[0] ("r").when.has_eta: needs then.eta', id="has_eta without then.eta"
        ),
        pytest.param(
            rule({"eta_within_days": -1}, {"status": "backorder", "eta": "lead_time"}),
            'rules[0] ("r").when.eta_within_days: -1 is below 0',
            id="negative window",
        ),
        pytest.param(
            rule({"eta_within_days": 7.5}, {"status": "backorder", "eta": "lead_time"}),
            'rules[0] ("r").when.eta_within_days: 7.5 is not a whole number',
            id="fractional window",
        ),
        pytest.param(
            rule({"has_eta": "yes"}, {"status": "backorder", "eta": "lead_time"}),
            'rules[0] ("r").when.has_eta: "yes" is not true or false',
            id="has_eta not bool",
        ),
        pytest.param(
            rule({"has_eta": False, "eta_within_days": 3}, {"status": "backorder", "eta": "lead_time"}),
            'rules[0] ("r").when.eta_within_days: contradicts has_eta = false',
            id="contradiction",
        ),
        pytest.param(
            rule(then={"status": "backorder", "eta": "restock"}),
            'rules[0] ("r").then.eta: "restock" is not an ETA source; use "release_date", "restock_date", "lead_time"',
            id="unknown eta source",
        ),
        pytest.param(
            rule(then={"status": "backorder", "eta": "2026-02-30"}),
            'rules[0] ("r").then.eta: "2026-02-30" is not a valid date',
            id="impossible date",
        ),
        pytest.param(
            rule(then={"status": "out_of_stock", "eta": "lead_time"}),
            'rules[0] ("r").then.eta: a out_of_stock decision has no ETA',
            id="eta on out of stock",
        ),
        pytest.param(
            rule(then={"status": "backorder", "cap": -1}), 'rules[0] ("r").then.cap: -1 is below 0', id="negative cap"
        ),
        pytest.param(
            rule(then={"status": "backorder", "cap": "incomming"}),
            'rules[0] ("r").then.cap: "incomming" is not a cap; use a whole number, "incoming" or',
            id="cap: typo in incoming",
        ),
        pytest.param(
            rule(then={"status": "in_stock", "cap": 3}),
            'rules[0] ("r").then.cap: limits backorders',
            id="cap on in stock",
        ),
        pytest.param(
            rule(then={"status": "backorder", "eta": "release_date", "handling_days": 2}),
            'rules[0] ("r").then.handling_days: only added to a restock_date, lead_time or supply ETA',
            id="handling on release date",
        ),
        pytest.param(
            rule(then={"status": "backorder", "handling_days": 2}),
            'rules[0] ("r").then.handling_days: has no effect without then.eta',
            id="handling without eta",
        ),
        pytest.param(
            rule(then={"status": "backorder", "handling_days": True, "eta": "lead_time"}),
            'rules[0] ("r").then.handling_days: true is not a whole number',
            id="bool is not a number",
        ),
        pytest.param(
            rule(then={"status": "backorder", "message": "Ships {eta}"}),
            'rules[0] ("r").then.message: uses {eta} but this rule never has an ETA (there is no then.eta)',
            id="eta in message without eta source",
        ),
        pytest.param(
            rule({"has_eta": False}, {"status": "backorder", "eta": "lead_time", "message": "{days} days"}),
            'rules[0] ("r").then.message: uses {days} but this rule never has an ETA (has_eta = false)',
            id="days in message with has_eta false",
        ),
        pytest.param(
            rule(then={"status": "backorder", "message": "Hi {customer}"}),
            "rules[0] (\"r\").then.message: {customer}: unknown field 'customer'",
            id="unknown template field",
        ),
        pytest.param("oops", "rules[0]: expected a [[rules]] table", id="entry not a table"),
        pytest.param(
            rule(then={"status": "backorder", "cap": {"max": 5, "incomming": True}}),
            "rules[0] (\"r\").then.cap: unknown key 'incomming'",
            id="cap table: unknown key",
        ),
        pytest.param(
            rule(then={"status": "backorder", "cap": {"incoming": False}}),
            'rules[0] ("r").then.cap: sets no limit',
            id="cap table without a limit",
        ),
        pytest.param(
            rule(then={"status": "backorder", "cap": {"max": -1}}),
            'rules[0] ("r").then.cap: max: -1 is below 0',
            id="cap table: negative max",
        ),
        pytest.param(
            rule(then={"status": "backorder", "cap": {"incoming": "yes"}}),
            'rules[0] ("r").then.cap: incoming: "yes" is not true or false',
            id="cap table: incoming not bool",
        ),
        pytest.param(
            rule({"queue_length": 3}),
            'rules[0] ("r").when.queue_length: 3 is not a comparison; write e.g. "> 3"',
            id="queue_length needs a comparison",
        ),
        pytest.param(
            rule({"queued_units": "> 2.5"}),
            'rules[0] ("r").when.queued_units: "> 2.5" is not a comparison like "> 0"',
            id="queued_units is whole",
        ),
        pytest.param(
            rule({"velocity": "fast"}),
            'rules[0] ("r").when.velocity: "fast" is not a comparison like "> 2"',
            id="velocity comparison",
        ),
        pytest.param(
            rule({"velocity": {"window": 7, "is": "> 1"}}),
            "rules[0] (\"r\").when.velocity: unknown key 'window'",
            id="velocity table: unknown key",
        ),
        pytest.param(
            rule({"velocity": {"window_days": 0, "is": "> 1"}}),
            'rules[0] ("r").when.velocity: window_days: 0 is below 1',
            id="velocity table: window 0",
        ),
        pytest.param(
            rule({"days_of_cover": {"window_days": 7}}),
            "rules[0] (\"r\").when.days_of_cover: missing 'is'",
            id="days_of_cover table without is",
        ),
        pytest.param(
            rule({"has_reliable_eta": "no"}),
            'rules[0] ("r").when.has_reliable_eta: "no" is not true or false',
            id="has_reliable_eta not bool",
        ),
        pytest.param(
            rule(then={"status": "backorder", "message": "{limit} left"}),
            'rules[0] ("r").then.message: uses {limit} but this rule has no then.cap',
            id="limit without cap",
        ),
    ],
)
def test_single_problem(raw: object, expected: str) -> None:
    problems = problems_of([raw])
    assert any(p.startswith(expected) for p in problems), problems


def test_problem_names_rule_by_position_and_name() -> None:
    raw = [dict(r) for r in EXAMPLE_RULES]
    raw[2] = {**raw[2], "when": {"available": "<== 0", "eta_within_days": 30}}
    assert problems_of(raw) == [
        'rules[2] ("backorder while a restock is due").when.available: "<== 0" is not a comparison like "<= 0"'
        " (operators: <, <=, ==, !=, >=, >)"
    ]


def test_all_problems_are_collected() -> None:
    raw = [
        rule({"available": "x", "tagz": []}, {"status": "maybe"}, name="a"),
        {"when": {}},
        rule(name="c", then={"status": "backorder", "eta": "soon"}),
    ]
    problems = problems_of(raw)
    assert len(problems) == 6, problems
    assert [p.split(":")[0].split(".")[0] for p in problems] == [
        'rules[0] ("a")',
        'rules[0] ("a")',
        'rules[0] ("a")',
        "rules[1]",
        "rules[1]",
        'rules[2] ("c")',
    ]
    assert str(problems_of(raw)[0]) in str(RuleError(problems))


def test_a_bad_name_does_not_hide_what_the_rule_says() -> None:
    assert problems_of([rule({"eta_within_days": 3}, name="default")]) == [
        'rules[0] ("default").name: "default" is the name of the built-in fallback; choose another',
        'rules[0] ("default").when.eta_within_days: needs then.eta (the ETA source it checks)',
    ]


def test_problems_come_in_the_order_they_are_written() -> None:
    raw = {"name": "r", "when": {"velocity": "fast", "available": "lots"}, "then": {"cap": -1, "status": "soon"}}
    assert [p.split(":")[0] for p in problems_of([raw | {"wen": {}}])] == [
        'rules[0] ("r").when.velocity',
        'rules[0] ("r").when.available',
        'rules[0] ("r").then.cap',
        'rules[0] ("r").then.status',
        'rules[0] ("r")',
    ]


def test_duplicate_names() -> None:
    raw = [rule({"available": "< 0"}, name="Sold out"), rule({"available": "<= 0"}, name="sold out")]
    assert problems_of(raw) == ['rules[1] ("sold out").name: the same name as rules[0]; rule names must be unique']


def test_rules_after_a_catch_all_are_unreachable() -> None:
    raw = [rule({"tags_any": ["a"]}, name="a"), rule({}, name="everything"), rule({"available": "<= 0"}, name="late")]
    assert problems_of(raw) == [
        'rules[2] ("late"): never reached, because rules[1] ("everything") has no conditions and matches every item'
    ]


@pytest.mark.parametrize(
    ("then", "item", "decided_by"),
    [
        pytest.param(
            {"status": "backorder", "eta": "lead_time"}, facts(lead_time_days=5), "first", id="ETA known: first"
        ),
        pytest.param(
            {"status": "backorder", "eta": "lead_time"}, facts(), "then this", id="an ETA makes a rule conditional"
        ),
        pytest.param({"status": "backorder", "cap": 5}, facts(available=-4), "first", id="cap not reached: first"),
        pytest.param(
            {"status": "backorder", "cap": 5}, facts(available=-5), "then this", id="a cap makes it conditional"
        ),
    ],
)
def test_rules_with_implicit_conditions_are_not_catch_alls(
    then: dict[str, object], item: Facts, decided_by: str
) -> None:
    rules = compile_rules([rule({}, then, name="first"), rule({}, {"status": "out_of_stock"}, name="then this")])
    decision = rules.decide(item)
    assert decision is not None and decision.rule == decided_by


def test_source_prefixes_every_location() -> None:
    problems = problems_of([rule({"available": "?"})], source="stores[1].rules")
    assert problems[0].startswith('stores[1].rules[0] ("r").when.available:')


@pytest.mark.parametrize(
    ("raw", "settings", "expected"),
    [
        pytest.param(
            {"name": "x"},
            {},
            'rules: expected a list of [[rules]] tables, got {"name": "x"}',
            id="a table instead of a list",
        ),
        pytest.param([], {"handling_days": -1}, "handling_days: -1 is not a whole number >= 0", id="negative handling"),
    ],
)
def test_settings_and_shape(raw: object, settings: dict[str, object], expected: str) -> None:
    assert problems_of(raw, **settings) == [expected]


EVERY_KEY = [
    {
        "name": "a",
        "when": {
            "available": "<= 0",
            "eta_within_days": 45,
            "queue_length": "< 10",
            "queued_units": "<= 100",
            "velocity": {"window_days": 14, "is": "> 0.5"},
            "days_of_cover": "< 30.5",
            "has_reliable_eta": True,
        },
        "then": {
            "status": "backorder",
            "eta": "supply",
            "handling_days": 2,
            "cap": {"max": 50, "incoming": True},
            "message": "Ships by {eta:%-d %B}: {limit} left, {queue} waiting",
        },
    },
    {"name": "b", "when": {"release_date": "future"}, "then": {"status": "pre_order", "cap": "incoming"}},
]
SELLING = tuple(DaySales(days(-n), 2) for n in range(1, 15))
"""Two units a day over the last 14 days."""
WAITING = (QueuedOrder("#1", datetime(2026, 11, 20, tzinfo=UTC), 3),)


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        pytest.param(
            facts(available=-3, backorder_queue=WAITING, sales=SELLING, supply=(SupplyEvent(days(10), 20),)),
            ("a", Status.BACKORDER, days(12), 17, "Ships by 4 December: 17 left, 3 waiting"),
            id="every condition holds: FIFO ETA + handling days, the smaller cap",
        ),
        pytest.param(
            facts(available=-3, backorder_queue=WAITING, sales=SELLING, supply=(SupplyEvent(days(10), 80),)),
            ("a", Status.BACKORDER, days(12), 47, "Ships by 4 December: 47 left, 3 waiting"),
            id="the fixed cap is the smaller",
        ),
        pytest.param(
            facts(available=-3, backorder_queue=WAITING, supply=(SupplyEvent(days(10), 20),)),
            ("default", Status.OUT_OF_STOCK, None, None, None),
            id="no sales history: velocity unknown, the rule does not hold",
        ),
        pytest.param(
            facts(available=-3, backorder_queue=WAITING, sales=SELLING, supply=(SupplyEvent(days(50), 20),)),
            ("default", Status.OUT_OF_STOCK, None, None, None),
            id="shipment beyond eta_within_days",
        ),
        pytest.param(
            facts(available=0, release_date=days(30), supply=(SupplyEvent(days(20), 40),)),
            ("b", Status.PRE_ORDER, None, 40, None),
            id="pre-order capped by what is coming",
        ),
    ],
)
def test_every_key_of_the_grammar_compiles_and_decides(item: Facts, expected: tuple[object, ...]) -> None:
    decision = compile_rules(EVERY_KEY).decide(item)
    assert decision is not None
    assert (decision.rule, decision.status, decision.eta, decision.sell_limit, decision.message) == expected


def test_example_rules_compile() -> None:
    assert compile_rules(EXAMPLE_RULES).names == tuple(r["name"] for r in EXAMPLE_RULES)
