"""Message templates: only known fields, checked at compile time, rendered without str.format."""

from __future__ import annotations

from datetime import date

import pytest

from stockstatus.rules import parse_template, render_message
from stockstatus.rules.template import FIELDS, NOTICE_FIELDS

TODAY = date(2026, 11, 22)


@pytest.mark.parametrize(
    ("text", "eta", "available", "expected"),
    [
        pytest.param("Ships {eta:%-d %B %Y}", date(2027, 3, 5), 0, "Ships 5 March 2027", id="strftime spec"),
        pytest.param("Ships {eta}", date(2027, 3, 5), 0, "Ships 2027-03-05", id="no spec -> ISO date"),
        pytest.param("in {days} days", date(2026, 11, 29), 0, "in 7 days", id="days until ETA"),
        pytest.param("{sku} / {name}: {available}", None, -3, "TEE / Red tee: -3", id="sku name available"),
        pytest.param("{available:>4}|", None, 7, "   7|", id="int format spec"),
        pytest.param("{{literal}} {sku}", None, 0, "{literal} TEE", id="escaped braces"),
        pytest.param("Ships {eta:%d.%m.}", None, 0, "Ships ", id="absent ETA renders empty, no crash"),
        pytest.param("{available} left", None, None, " left", id="untracked stock renders empty"),
        pytest.param("100% sure", None, 0, "100% sure", id="percent sign in literal text"),
    ],
)
def test_render(text: str, eta: date | None, available: int | None, expected: str) -> None:
    template, problems = parse_template(text)
    assert problems == [] and template is not None
    assert render_message(template, sku="TEE", name="Red tee", available=available, eta=eta, today=TODAY) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param("{eta.year}", "{eta.year}: attribute or index access is not allowed", id="attribute access"),
        pytest.param("{eta[0]}", "{eta[0]}: attribute or index access is not allowed", id="index access"),
        pytest.param("{sku!r}", "{sku!r}: conversions like !r are not allowed", id="conversion"),
        pytest.param("{price}", "{price}: unknown field 'price'", id="unknown field"),
        pytest.param("{}", "{}: name the field", id="positional field"),
        pytest.param("{0}", "{0}: name the field", id="numbered field"),
        pytest.param("{eta:{sku}}", "{eta:{sku}}: nested fields in a format spec are not allowed", id="nested field"),
        pytest.param("{days:q}", "{days:q}: invalid format 'q'", id="bad int format"),
        pytest.param("Ships {eta", "expected '}' before end of string", id="unclosed brace"),
        pytest.param("Ships }", "Single '}' encountered", id="single closing brace"),
        pytest.param("{__class__}", "{__class__}: unknown field '__class__'", id="dunder is just unknown"),
    ],
)
def test_invalid_templates(text: str, problem: str) -> None:
    template, problems = parse_template(text)
    assert template is None
    assert any(p.startswith(problem) for p in problems), problems


def test_all_template_problems_are_reported() -> None:
    _, problems = parse_template("{a} {b} {eta.day}")
    assert len(problems) == 3


@pytest.mark.parametrize(
    ("text", "fields", "expected"),
    [
        pytest.param("Order {order}: {eta:%-d %B}", NOTICE_FIELDS, "Order 7: 5 March", id="a notice names the order"),
        pytest.param("{order}", FIELDS, "{order}: unknown field 'order'", id="a rule message has no order"),
        pytest.param("{limit}", NOTICE_FIELDS, "{limit}: unknown field 'limit'", id="a notice has no cap"),
    ],
)
def test_one_engine_with_each_use_its_fields(text: str, fields: tuple[str, ...], expected: str) -> None:
    template, problems = parse_template(text, fields)
    if template is None:
        assert problems[0].startswith(expected), problems
    else:
        rendered = render_message(template, sku="TEE", name="Red tee", eta=date(2027, 3, 5), today=TODAY, order="7")
        assert rendered == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Ships by {eta:%-d %B} ({limit} left)", id="eta and limit"),
        pytest.param("in {days} days, {queue} waiting, {available} here", id="days queue available"),
        pytest.param("{sku}: {name} ships {eta}", id="per-item fields"),
        pytest.param("No longer available", id="no field"),
    ],
)
def test_a_rule_message_renders_as_render_message_whatever_came_before(text: str) -> None:
    # A rule's message is remembered by the values it shows: a changed value it shows must give
    # a new text, and one it does not show must not keep an old one out.
    template, _ = parse_template(text)
    assert template is not None
    cases = [
        (sku, name, available, eta, today, queue, limit)
        for sku, name in (("TEE", "Red tee"), ("MUG", "Blue mug"))
        for available in (None, -2, 0)
        for eta in (None, date(2026, 12, 1), date(2027, 1, 9))
        for today in (TODAY, date(2026, 11, 23))
        for queue in (None, 2)
        for limit in (None, 0, 5)
    ]
    for _ in range(2):
        for sku, name, available, eta, today, queue, limit in cases:
            expected = render_message(
                template, sku=sku, name=name, available=available, eta=eta, today=today, queue=queue, limit=limit
            )
            assert template.render(sku, name, available, eta, today, queue, limit) == expected
