"""Decisions for real situations, as tables: facts in, (status, rule, eta, ...) out."""

from __future__ import annotations

import pickle
from dataclasses import FrozenInstanceError
from datetime import UTC, date, datetime

import pytest
from rules_examples import EXAMPLE_RULES, TODAY, days, facts

from stockstatus.rules import Decision, Facts, OrderEta, QueuedOrder, RuleSet, Status, compile_rules
from stockstatus.rules.model import AtSellout, Shipment

EXAMPLE = compile_rules(EXAMPLE_RULES, handling_days=1)

B, P, I, O = Status.BACKORDER, Status.PRE_ORDER, Status.IN_STOCK, Status.OUT_OF_STOCK


@pytest.mark.parametrize(
    ("item", "status", "rule", "eta"),
    [
        pytest.param(
            facts(available=0, tags=["Discontinued"]),
            O,
            "discontinued",
            None,
            id="discontinued item sold out (tag matched case-insensitively)",
        ),
        pytest.param(
            facts(available=None, tags=["discontinued"]),
            O,
            "discontinued",
            None,
            id="discontinued item with untracked stock",
        ),
        pytest.param(
            facts(available=0, release_date=days(10)),
            P,
            "pre-order until release",
            days(10),
            id="release in 10 days -> pre-order, ETA is the release date without handling",
        ),
        pytest.param(
            facts(available=40, release_date=days(10)),
            P,
            "pre-order until release",
            days(10),
            id="pre-order even when stock arrived before release",
        ),
        pytest.param(
            facts(available=3, release_date=days(-1)),
            I,
            "default",
            None,
            id="release date passed -> normal rules (in stock)",
        ),
        pytest.param(
            facts(available=0, release_date=TODAY), O, "sold out", None, id="release day itself counts as released"
        ),
        pytest.param(
            facts(available=-2, restock_date=days(20)),
            B,
            "backorder while a restock is due",
            days(21),
            id="restock in 20 days -> backorder, ETA + 1 handling day",
        ),
        pytest.param(
            facts(available=0, restock_date=TODAY),
            B,
            "backorder while a restock is due",
            days(1),
            id="restock due today still counts",
        ),
        pytest.param(
            facts(available=0, restock_date=days(29)),
            B,
            "backorder while a restock is due",
            days(30),
            id="restock 29 days away + handling = 30 -> within the window",
        ),
        pytest.param(
            facts(available=0, restock_date=days(30)),
            O,
            "sold out",
            None,
            id="restock 30 days away + handling = 31 -> outside the window",
        ),
        pytest.param(
            facts(available=0, restock_date=days(40)),
            O,
            "sold out",
            None,
            id="restock 40 days away, rule window 30 -> out of stock",
        ),
        pytest.param(
            facts(available=0, restock_date=days(-3)),
            O,
            "sold out",
            None,
            id="restock date in the past (shipment late) -> out of stock",
        ),
        pytest.param(
            facts(available=0, tags=["made-to-order"], lead_time_days=14),
            B,
            "backorder on supplier lead time",
            days(15),
            id="lead time for made-to-order",
        ),
        pytest.param(
            facts(available=0, tags=["made-to-order"]),
            O,
            "sold out",
            None,
            id="made-to-order without a known lead time -> sold out",
        ),
        pytest.param(
            facts(available=0, tags=["made-to-order"], restock_date=days(5), lead_time_days=60),
            B,
            "backorder while a restock is due",
            days(6),
            id="a due restock wins over lead time (rule order)",
        ),
        pytest.param(facts(available=-1), O, "sold out", None, id="oversold with no supply -> sold out"),
        pytest.param(facts(available=7), I, "default", None, id="plain stock -> default in stock"),
        pytest.param(
            facts(available=7, restock_date=days(3)),
            I,
            "default",
            None,
            id="in stock with a restock coming stays in stock",
        ),
    ],
)
def test_example_rules(item: Facts, status: Status, rule: str, eta: date | None) -> None:
    decision = EXAMPLE.decide(item)
    assert decision is not None
    assert (decision.status, decision.rule, decision.eta) == (status, rule, eta)
    assert decision.reasons


def test_unmanaged_stock_matches_nothing_and_gives_no_opinion() -> None:
    assert EXAMPLE.decide(facts(available=None, restock_date=days(3))) is None


@pytest.mark.parametrize(
    ("item", "message"),
    [
        pytest.param(facts(release_date=date(2027, 3, 5)), "Pre-order: ships 5 March 2027", id="pre-order message"),
        pytest.param(facts(available=-1, restock_date=days(9)), "Back in stock by 2 December", id="backorder message"),
        pytest.param(facts(available=0, tags=["discontinued"]), "No longer available", id="fixed message"),
        pytest.param(facts(available=3), None, id="default decision has no message"),
    ],
)
def test_messages(item: Facts, message: str | None) -> None:
    decision = EXAMPLE.decide(item)
    assert decision is not None and decision.message == message


@pytest.mark.parametrize(
    ("item", "on_sellout", "armed_by"),
    [
        pytest.param(
            facts(available=5, restock_date=days(10)),
            B,
            "backorder while a restock is due",
            id="pre-arm: in stock item with restock rule arms backorder",
        ),
        pytest.param(
            facts(available=5, restock_date=days(90)),
            O,
            "sold out",
            id="pre-arm: restock too far away arms out of stock",
        ),
        pytest.param(
            facts(available=5, tags=["made-to-order"], lead_time_days=7),
            B,
            "backorder on supplier lead time",
            id="pre-arm: made-to-order arms backorder",
        ),
        pytest.param(facts(available=1), O, "sold out", id="pre-arm: last unit, nothing coming"),
    ],
)
def test_pre_arming(item: Facts, on_sellout: Status, armed_by: str) -> None:
    decision = EXAMPLE.decide(item)
    assert decision is not None
    assert decision.status is I
    assert decision.on_sellout is on_sellout
    assert decision.eta is None  # the buyer gets the item now
    assert decision.inputs["on_sellout_rule"] == armed_by


@pytest.mark.parametrize(
    "item",
    [
        pytest.param(facts(available=0, restock_date=days(3)), id="backorder is not pre-armed"),
        pytest.param(facts(available=None, tags=["discontinued"]), id="untracked stock is not pre-armed"),
        pytest.param(facts(available=0), id="out of stock is not pre-armed"),
    ],
)
def test_no_pre_arming_unless_in_stock_with_stock(item: Facts) -> None:
    decision = EXAMPLE.decide(item)
    assert decision is not None and decision.on_sellout is None


def test_default_without_rules() -> None:
    empty = compile_rules([])
    assert empty.decide(facts(available=2)) == Decision(
        Status.IN_STOCK,
        "default",
        reasons=("no rule matched", "available 2 > 0", 'at sell-out: out_of_stock (rule "default")'),
        on_sellout=Status.OUT_OF_STOCK,
    )
    assert empty.decide(facts(available=0)) == Decision(
        Status.OUT_OF_STOCK, "default", reasons=("no rule matched", "available 0 <= 0")
    )
    assert empty.decide(facts(available=None)) is None


def one_rule(when: dict[str, object], then: dict[str, object] | None = None, handling_days: int = 0) -> RuleSet:
    return compile_rules(
        [{"name": "r", "when": when, "then": then or {"status": "out_of_stock"}}], handling_days=handling_days
    )


@pytest.mark.parametrize(
    ("when", "item", "matches"),
    [
        pytest.param({"available": "<= 0"}, facts(available=0), True, id="available <= 0 at zero"),
        pytest.param({"available": "< 0"}, facts(available=0), False, id="available < 0 at zero"),
        pytest.param({"available": "> 5"}, facts(available=6), True, id="available > 5"),
        pytest.param({"available": ">= 3"}, facts(available=3), True, id="available >= 3"),
        pytest.param({"available": "== 0"}, facts(available=0), True, id="available == 0"),
        pytest.param({"available": "!= 0"}, facts(available=0), False, id="available != 0 at zero"),
        pytest.param({"available": "<=-2"}, facts(available=-2), True, id="comparison without spaces, negative"),
        pytest.param({"available": "!= 0"}, facts(available=None), False, id="untracked never matches available"),
        pytest.param({"tags_all": ["A", "b"]}, facts(tags=["a", "B", "c"]), True, id="tags_all case-insensitive"),
        pytest.param({"tags_all": ["a", "b"]}, facts(tags=["a"]), False, id="tags_all missing one"),
        pytest.param({"tags_none": ["sale"]}, facts(tags=["new"]), True, id="tags_none"),
        pytest.param({"tags_none": ["sale"]}, facts(tags=["SALE"]), False, id="tags_none hit"),
        pytest.param({"categories_any": ["Shoes"]}, facts(categories=["shoes"]), True, id="categories_any"),
        pytest.param({"categories_none": ["shoes"]}, facts(categories=["Shoes"]), False, id="categories_none hit"),
        pytest.param({"categories_all": ["a", "b"]}, facts(categories=["b", "a"]), True, id="categories_all"),
        pytest.param({"vendor_in": ["Acme"]}, facts(vendor="ACME"), True, id="vendor_in case-insensitive"),
        pytest.param({"vendor_in": ["Acme"]}, facts(vendor=None), False, id="vendor_in without vendor"),
        pytest.param({"supplier_in": ["FarEast", "Acme"]}, facts(supplier="fareast"), True, id="supplier_in"),
        pytest.param({"sku_matches": ["TEE-*"]}, facts(sku="TEE-RED-M"), True, id="sku glob"),
        pytest.param({"sku_matches": ["tee-*"]}, facts(sku="TEE-RED-M"), False, id="sku glob is case-sensitive"),
        pytest.param({"sku_matches": ["X?", "TEE-???-[ML]"]}, facts(sku="TEE-RED-M"), True, id="second glob matches"),
        pytest.param({"release_date": "none"}, facts(), True, id="release none"),
        pytest.param({"release_date": "any"}, facts(release_date=days(-100)), True, id="release any"),
        pytest.param({"release_date": "past"}, facts(release_date=TODAY), True, id="release today is past"),
        pytest.param({"restock_date": "future"}, facts(restock_date=TODAY), True, id="restock today is future"),
        pytest.param({"restock_date": "past"}, facts(restock_date=days(-1)), True, id="restock yesterday is past"),
        pytest.param({}, facts(available=None), True, id="empty when matches everything, even untracked"),
        pytest.param(
            {"available": "<= 0", "tags_any": ["x"]},
            facts(available=0, tags=["y"]),
            False,
            id="all conditions must hold",
        ),
    ],
)
def test_conditions(when: dict[str, object], item: Facts, matches: bool) -> None:
    decision = one_rule(when).decide(item)
    assert (decision is not None and decision.rule == "r") is matches


@pytest.mark.parametrize(
    ("then", "item", "eta"),
    [
        pytest.param({"eta": "2026-12-24"}, facts(), date(2026, 12, 24), id="fixed ETA, no handling added"),
        pytest.param({"eta": date(2026, 12, 24)}, facts(), date(2026, 12, 24), id="unquoted TOML date"),
        pytest.param({"eta": "2026-11-01"}, facts(), None, id="fixed ETA in the past -> rule does not match"),
        pytest.param(
            {"eta": "lead_time", "handling_days": 0},
            facts(lead_time_days=5),
            days(5),
            id="rule handling_days overrides global",
        ),
        pytest.param({"eta": "lead_time"}, facts(lead_time_days=5), days(7), id="global handling_days on lead time"),
        pytest.param(
            {"eta": "restock_date", "handling_days": 4},
            facts(restock_date=days(1)),
            days(5),
            id="rule handling on restock",
        ),
        pytest.param({"eta": "release_date"}, facts(release_date=days(3)), days(3), id="no handling on release date"),
    ],
)
def test_eta_sources(then: dict[str, object], item: Facts, eta: date | None) -> None:
    ruleset = one_rule({}, {"status": "backorder", **then}, handling_days=2)
    decision = ruleset.decide(item)
    assert decision is not None
    if eta is None:
        assert decision.rule == "default"
    else:
        assert (decision.rule, decision.eta) == ("r", eta)


def test_has_eta_false_matches_only_without_eta_and_gives_none() -> None:
    ruleset = compile_rules(
        [
            {
                "name": "ships when available",
                "when": {"has_eta": False, "tags_any": ["made-to-order"]},
                "then": {"status": "backorder", "eta": "lead_time", "message": "Made for you"},
            },
        ]
    )
    without = ruleset.decide(facts(tags=["made-to-order"]))
    assert without is not None and (without.rule, without.status, without.eta) == ("ships when available", B, None)
    with_lead = ruleset.decide(facts(tags=["made-to-order"], lead_time_days=3))
    assert with_lead is not None and with_lead.rule == "default"


@pytest.mark.parametrize(
    ("item", "rule", "sell_limit"),
    [
        pytest.param(facts(available=0, release_date=days(30)), "capped pre-order", 200, id="cap untouched"),
        pytest.param(facts(available=-150, release_date=days(30)), "capped pre-order", 50, id="cap partly used"),
        pytest.param(
            facts(available=-200, release_date=days(30)),
            "sold out",
            0,
            id="cap reached -> next rule (sold out): nothing more may be sold",
        ),
        pytest.param(
            facts(
                available=None,
                release_date=days(30),
                backorder_queue=(QueuedOrder("1", datetime(2026, 11, 1, tzinfo=UTC), 199),),
            ),
            "capped pre-order",
            1,
            id="untracked stock: the queue counts against the cap",
        ),
    ],
)
def test_cap(item: Facts, rule: str, sell_limit: int | None) -> None:
    ruleset = compile_rules(
        [
            {
                "name": "capped pre-order",
                "when": {"release_date": "future"},
                "then": {"status": "pre_order", "eta": "release_date", "cap": 200},
            },
            {"name": "sold out", "when": {"available": "<= 0"}, "then": {"status": "out_of_stock"}},
        ]
    )
    decision = ruleset.decide(item)
    assert decision is not None
    assert (decision.rule, decision.sell_limit) == (rule, sell_limit)


def test_reasons_and_inputs_name_what_mattered() -> None:
    decision = EXAMPLE.decide(facts(available=-2, restock_date=date(2026, 12, 1), tags=["x"]))
    assert decision is not None
    assert decision.reasons == (
        "available -2 <= 0",
        "ETA 2026-12-02 (restock 2026-12-01 + 1 handling day)",
        "ETA 2026-12-02 within 30 days (in 10)",
    )
    assert decision.inputs == {
        "sku": "TEE-RED-M",
        "today": "2026-11-22",
        "available": -2,
        "restock_date": "2026-12-01",
        "eta_source": "restock_date",
        "eta": "2026-12-02",
    }


def test_explain_shows_every_rule_and_the_decision() -> None:
    item = facts(available=0, restock_date=days(40))
    traces = EXAMPLE.explain(item)
    assert [(t.name, t.matched) for t in traces] == [
        ("discontinued", False),
        ("pre-order until release", False),
        ("backorder while a restock is due", False),
        ("backorder on supplier lead time", False),
        ("sold out", True),
    ]
    restock = traces[2]
    assert [(c.key, c.passed, c.text) for c in restock.checks] == [
        ("when.available", True, "available 0 <= 0"),
        ("then.eta", True, "ETA 2027-01-02 (restock 2027-01-01 + 1 handling day)"),
        ("when.eta_within_days", False, "ETA 2027-01-02 is 41 days away, more than 30"),
    ]
    assert [t.decision for t in traces[:4]] == [None] * 4
    assert traces[4].decision == EXAMPLE.decide(item)


def test_explain_default_and_no_opinion() -> None:
    traces = EXAMPLE.explain(facts(available=None))
    assert traces[-1].name == "default" and traces[-1].decision is None and not traces[-1].matched
    traces = EXAMPLE.explain(facts(available=4))
    assert traces[-1].name == "default" and traces[-1].matched
    assert traces[-1].decision is not None and traces[-1].decision.on_sellout is Status.OUT_OF_STOCK


def test_store_rule_sets_are_independent() -> None:
    strict = compile_rules(
        [{"name": "never backorder", "when": {"available": "<= 0"}, "then": {"status": "out_of_stock"}}],
        source="stores[1].rules",
    )
    item = facts(available=0, restock_date=days(3))
    assert EXAMPLE.decide(item).status is B  # type: ignore[union-attr]
    assert strict.decide(item).status is O  # type: ignore[union-attr]


ALWAYS_BACKORDER = compile_rules(
    [
        {"name": "discontinued", "when": {"tags_any": ["discontinued"]}, "then": {"status": "out_of_stock"}},
        {"name": "always backorder", "then": {"status": "backorder", "message": "Ships later"}},
    ]
)


@pytest.mark.parametrize(
    ("item", "rule", "on_sellout"),
    [
        pytest.param(
            facts(available=12, tags=["discontinued"]),
            "discontinued",
            O,
            id="discontinued with stock sells what is left",
        ),
        pytest.param(facts(available=2), "always backorder", B, id="backorder rule with stock ships the shelf first"),
    ],
)
def test_units_on_the_shelf_are_in_stock_until_the_last_sale(item: Facts, rule: str, on_sellout: Status) -> None:
    """The connector never rewrites stock: what is on the shelf ships now, the rule applies at sell-out."""
    decision = ALWAYS_BACKORDER.decide(item)
    assert decision is not None
    assert (decision.status, decision.on_sellout, decision.message, decision.rule) == (I, on_sellout, None, rule)


def test_decisions_a_rule_set_makes_are_frozen_values_like_those_built_by_hand() -> None:
    # The engine makes decisions, per-order dates and sell-out answers without their constructors
    # (for speed): they must still be the frozen, comparable, picklable values users rely on.
    queue = (QueuedOrder("#1", datetime(2026, 11, 1, tzinfo=UTC), 2),)
    made = [
        EXAMPLE.decide(facts(available=-2, restock_date=days(20), backorder_queue=queue)),
        EXAMPLE.decide(facts(available=5, restock_date=days(20))),
    ]
    for decision in made:
        assert decision is not None and type(decision) is Decision
        assert decision.at_sellout is None or type(decision.at_sellout) is AtSellout
        assert all(type(o) is OrderEta for o in decision.order_etas)
        with pytest.raises(FrozenInstanceError):
            decision.status = Status.IN_STOCK  # type: ignore[misc]
        for order in decision.order_etas:
            with pytest.raises(FrozenInstanceError):
                order.ships_by = None  # type: ignore[misc]
        if decision.at_sellout is not None:
            with pytest.raises(FrozenInstanceError):
                decision.at_sellout.eta = None  # type: ignore[misc]
        by_hand = Decision(
            decision.status,
            decision.rule,
            decision.eta,
            decision.sell_limit,
            decision.message,
            decision.reasons,
            decision.on_sellout,
            decision.order_etas,
            decision.inputs,
            decision.at_sellout,
        )
        assert by_hand == decision and hash(by_hand) == hash(decision)
        assert pickle.loads(pickle.dumps(decision)) == decision
    assert made[0].order_etas == (OrderEta("#1", 0, 2, days(21), (Shipment(2, days(21)),)),)
    assert made[1].at_sellout == AtSellout(
        Status.BACKORDER, days(21), "Back in stock by " + days(21).strftime("%-d %B")
    )
