"""The status page's chart and `connector rules explain` come from one explanation, so they agree: over a
table of situations, the chart's supply series is the explain's timeline rows, its crossing point is
the day explain says the next unit is covered, and its ETA marker is the ETA explain prints."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from stockstatus.core import explain
from stockstatus.core.model import Item
from stockstatus.core.web import chart
from stockstatus.rules import compile_rules
from stockstatus.rules.model import Facts, QueuedOrder, Status, SupplyEvent

BERLIN = ZoneInfo("Europe/Berlin")
TODAY = date(2026, 11, 22)
HANDLING = 2
RULES = [
    {
        "name": "pre-order until release",
        "when": {"release_date": "future"},
        "then": {"status": "pre_order", "eta": "release_date"},
    },
    {
        "name": "backorder while a shipment is due",
        "when": {"available": "<= 0", "eta_within_days": 60},
        "then": {"status": "backorder", "eta": "supply"},
    },
    {"name": "sold out", "when": {"available": "<= 0"}, "then": {"status": "out_of_stock"}},
]


def day(n: int) -> date:
    return TODAY + timedelta(days=n)


def order(n: int, quantity: int, days_ago: int) -> QueuedOrder:
    placed = datetime(2026, 11, 22, 9, 0, tzinfo=UTC) - timedelta(days=days_ago)
    return QueuedOrder(order_id=str(n), ordered_at=placed, quantity=quantity)


def po(n: int, quantity: int | None, ref: str) -> SupplyEvent:
    return SupplyEvent(expected=day(n), quantity=quantity, supplier="Acme", reference=ref)


# (situation, available, queue, supply, release date, expected status, expected crossing in days or None)
SITUATIONS = [
    (
        "late shipment: the overdue one is shown, not counted; the next one decides",
        -2,
        (order(1, 2, 4),),
        (po(-3, 10, "PO-LATE"), po(12, 5, "PO-NEXT")),
        None,
        Status.BACKORDER,
        12,
    ),
    (
        "partial arrival: the first delivery covers part of the queue, the second the rest",
        -5,
        (order(1, 2, 6), order(2, 3, 2)),
        (po(5, 3, "PO-A"), po(9, 4, "PO-B")),
        None,
        Status.BACKORDER,
        9,
    ),
    (
        "queue longer than the next shipment: it is covered only by the one after",
        -8,
        (order(1, 8, 1),),
        (po(3, 4, "PO-SMALL"), po(20, 10, "PO-BIG")),
        None,
        Status.BACKORDER,
        20,
    ),
    (
        "stock on hand serves an order partly (a partial backorder); the rest waits for the shipment",
        -3,
        (order(1, 5, 1),),
        (po(6, 6, "PO-1"),),
        None,
        Status.BACKORDER,
        6,
    ),
    (
        "pre-order release: the ETA is the release date, after supply has arrived",
        -4,
        (order(1, 4, 2),),
        (po(10, 50, "FIRST-RUN"),),
        day(30),
        Status.PRE_ORDER,
        10,
    ),
    (
        "a restock without a quantity covers the queue from its day",
        -6,
        (order(1, 6, 3),),
        (po(14, None, "restock date"),),
        None,
        Status.BACKORDER,
        14,
    ),
    (
        "no shipment inside the horizon: no crossing, no ETA",
        -1,
        (order(1, 1, 1),),
        (po(200, 10, "PO-FAR"),),
        None,
        Status.OUT_OF_STOCK,
        None,
    ),
]


def explained(available, queue, supply, release) -> explain.Explanation:
    """The explanation `connector rules explain` builds, from the same rule engine call."""
    rules = compile_rules(RULES, handling_days=HANDLING)
    facts = Facts(
        sku="SKU-1",
        today=TODAY,
        available=available,
        backorder_queue=queue,
        supply=supply,
        release_date=release,
    )
    result = rules.explain(facts)
    item = Item(key="1", sku="SKU-1", name="Kettle", managed=True, available=available, release_date=release)
    return explain.Explanation(
        store="shop",
        platform="woocommerce",
        item=item,
        facts=facts,
        traces=tuple(result),
        decision=result.decision,
        timeline=tuple(result.timeline.lines()),
        accepted=None,
        supply_timeline=result.timeline,
    )


def printed_rows(text: str) -> list[tuple[date, int | None]]:
    """The counted rows of the "supply timeline" section as the terminal shows them: (day, supply)."""
    rows = []
    for line in text.splitlines():
        found = re.match(r"^  (\d{4}-\d{2}-\d{2})\s+\S+\s+supply\s+(\S+)", line)
        if found:
            total = found.group(2)
            rows.append((date.fromisoformat(found.group(1)), None if total == "enough" else int(total)))
    return rows


def printed(pattern: str, text: str) -> date | None:
    found = re.search(pattern, text)
    return date.fromisoformat(found.group(1)) if found else None


@pytest.mark.parametrize(
    ("situation", "available", "queue", "supply", "release", "status", "crossing"),
    SITUATIONS,
    ids=[s[0].split(":")[0] for s in SITUATIONS],
)
def test_the_chart_reads_what_explain_prints(situation, available, queue, supply, release, status, crossing):
    e = explained(available, queue, supply, release)
    text = explain.text(e)
    series = chart.chart_series(e, BERLIN)
    assert series is not None
    assert e.decision is not None and e.decision.status is status, text

    # The supply line is the explain's timeline, row for row.
    assert [(p.day, p.units) for p in series.supply] == printed_rows(text)
    # The crossing point is the day explain says the next unit is covered, and where the situation says.
    assert series.crossing == printed(r"next unit covered on (\d{4}-\d{2}-\d{2})", text)
    assert series.crossing == (None if crossing is None else day(crossing))
    # The ETA marker is the ETA explain prints: the crossing plus handling days, or the release date.
    assert series.eta == printed(r"\n  ETA\s+(\d{4}-\d{2}-\d{2})", text)
    if release is not None:
        assert series.eta == release and series.release == release
    elif crossing is not None:
        assert series.eta == day(crossing + HANDLING)
    else:
        assert series.eta is None
    # The waiting line ends at the queue explain states.
    queued = re.search(r"today \S+: \d+ on hand, (\d+) queued", text)
    assert queued and series.waiting[-1].units == series.queued == int(queued.group(1))


def test_a_late_shipment_is_marked_on_the_chart_but_not_added_to_supply():
    _, available, queue, supply, release, _, _ = SITUATIONS[0]
    series = chart.chart_series(explained(available, queue, supply, release), BERLIN)
    assert series is not None
    assert [a.day for a in series.aside] == [day(-3)] and "late" in series.aside[0].why
    assert all(p.units != 10 for p in series.supply)


def test_waiting_units_are_the_newest_orders_by_their_day_in_the_stores_calendar():
    # 23:30 UTC on the 19th is already the 20th in Berlin; stock served the oldest order.
    late_evening = QueuedOrder("2", datetime(2026, 11, 19, 23, 30, tzinfo=UTC), 3)
    queue = (order(1, 2, 6), late_evening)
    series = chart.chart_series(explained(-4, queue, (po(5, 10, "PO"),), None), BERLIN)
    assert series is not None
    # The line then runs on to today at the whole queue.
    assert [(p.day, p.units) for p in series.waiting] == [(day(-6), 1), (date(2026, 11, 20), 4), (TODAY, 4)]


def test_the_drawing_marks_today_and_the_eta_in_the_stores_dates():
    _, available, queue, supply, release, _, crossing = SITUATIONS[1]
    series = chart.chart_series(explained(available, queue, supply, release), BERLIN)
    assert series is not None
    drawn = chart.svg(series)
    assert drawn.startswith("<svg") and drawn.endswith("</svg>")
    assert f'data-eta="{day(crossing + HANDLING).isoformat()}"' in drawn
    assert f">ETA {chart.short(day(crossing + HANDLING))}</text>" in drawn
    assert f">today {chart.short(TODAY)}</text>" in drawn
    assert 'class="crossing"' in drawn


def test_an_item_a_pass_skips_has_no_chart():
    e = explained(-1, (), (), None)
    skipped = explain.Explanation(
        store=e.store,
        platform=e.platform,
        item=e.item,
        facts=e.facts,
        traces=(),
        decision=None,
        timeline=(),
        accepted=None,
        skipped="stock quantity unreadable",
    )
    assert chart.chart_series(skipped, BERLIN) is None
