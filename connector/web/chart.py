"""One SKU's supply and queue timeline as a chart: series from the explanation, drawn as inline SVG.

`chart_series` is the one function that turns an `Explanation` (what `connector rules explain`
prints) into what the chart shows, so the page and the terminal cannot disagree: the supply
series is the timeline's counted rows, the crossing point is the first day supply covers the
queue and the next unit, the ETA marker is the decision's ETA. `svg` draws the series on the
server; the page loads nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape
from zoneinfo import ZoneInfo

from stockstatus.core.explain import Explanation


@dataclass(frozen=True, slots=True)
class Point:
    """A step of a cumulative line: from `day` on, the line is at `units`."""

    day: date
    units: int | None
    """None: a restock without a quantity, taken to cover the whole queue ("enough")."""


@dataclass(frozen=True, slots=True)
class Aside:
    """A shipment shown but not counted: late (dated before today) or beyond the horizon."""

    day: date
    units: int | None
    why: str


@dataclass(frozen=True, slots=True)
class ChartSeries:
    """What the supply and queue chart shows, in the store's calendar."""

    today: date
    queued: int
    """Units sold beyond stock, waiting for supply."""
    supply: tuple[Point, ...]
    """Cumulative supply S(day): on hand today, then one step per counted delivery day."""
    waiting: tuple[Point, ...]
    """Cumulative units waiting, by the day each order was placed; ends at `queued`."""
    crossing: date | None
    """The first day supply covers the queue plus the next unit; None: no reliable timeline."""
    eta: date | None
    """The decision's ETA (the crossing plus handling days, or a release date)."""
    release: date | None
    horizon_end: date
    aside: tuple[Aside, ...] = ()

    @property
    def needed(self) -> int:
        """Units supply must reach for the next unit sold: the queue plus one."""
        return self.queued + 1


def chart_series(explanation: Explanation, zone: ZoneInfo) -> ChartSeries | None:
    """The chart of one explanation; None when it has no supply timeline (an item a pass skips).

    `zone` is the store's timezone: order times are instants, the chart's days are its calendar.
    """
    line = explanation.supply_timeline
    if line is None:
        return None
    facts = explanation.facts
    supply = tuple(Point(row.day, row.supply) for row in line.rows if row.counted)
    needed = line.queued + 1
    crossing = next((p.day for p in supply if p.units is None or p.units >= needed), None)
    aside = tuple(Aside(row.day, row.incoming, row.note) for row in line.rows if not row.counted)
    return ChartSeries(
        today=line.today,
        queued=line.queued,
        supply=supply,
        waiting=_waiting(explanation, zone, line.queued),
        crossing=crossing,
        eta=explanation.decision.eta if explanation.decision else None,
        release=facts.release_date,
        horizon_end=line.horizon_end,
        aside=aside,
    )


def _waiting(explanation: Explanation, zone: ZoneInfo, queued: int) -> tuple[Point, ...]:
    """Cumulative waiting units by order day: the queued units belong to the newest orders.

    Stock served the oldest orders first, so walking from the newest order back attributes the
    queued units; any left over are older than every order the store listed and come first.
    """
    today = explanation.facts.today
    waiting: list[tuple[date, int]] = []
    left = queued
    for order in reversed(explanation.facts.backorder_queue):
        units = min(order.quantity, left)
        left -= units
        if units:
            waiting.append((order.ordered_at.astimezone(zone).date(), units))
    waiting.reverse()
    points: list[Point] = []
    total = left
    if left or not waiting:
        points.append(Point(waiting[0][0] if waiting else today, left))
    for day, units in waiting:
        total += units
        if points and points[-1].day == day:
            points[-1] = Point(day, total)
        else:
            points.append(Point(day, total))
    if points[-1].day < today:
        points.append(Point(today, queued))
    return tuple(points)


# ---- drawing -------------------------------------------------------------------------------

WIDTH, HEIGHT = 720, 320
LEFT, RIGHT, TOP, BOTTOM = 44, 24, 28, 64
"""Margins inside the drawing: the units axis on the left, date labels below."""
MIN_TICK_GAP = 30
"""Date labels closer than this (in drawing units) are left out, so none overlap."""


def short(day: date) -> str:
    """A date as the chart's labels show it: "4 Dec"."""
    return f"{day.day} {day:%b}"


def svg(series: ChartSeries) -> str:
    """The chart as an inline SVG element (scales to the page's width; nothing loaded from elsewhere)."""
    days = [series.today, *(p.day for p in series.supply), *(p.day for p in series.waiting)]
    days += [d for d in (series.eta, series.release, series.crossing) if d is not None]
    days += [a.day for a in series.aside if a.day <= series.horizon_end]
    start = min(days) - timedelta(days=1)
    end = min(max(days), series.horizon_end + timedelta(days=30)) + timedelta(days=3)
    known = [p.units for p in series.supply if p.units is not None]
    top = max([series.needed, *known])
    ceiling = top * 1.15 + 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    span = max((end - start).days, 1)

    def x(day: date) -> float:
        return round(LEFT + plot_w * (min(max(day, start), end) - start).days / span, 1)

    def y(units: int | None) -> float:
        return round(TOP + plot_h * (1 - (top if units is None else units) / ceiling), 1)

    def steps(points: tuple[Point, ...]) -> str:
        path = f"M{x(points[0].day)},{y(points[0].units)}"
        for point in points[1:]:
            path += f" H{x(point.day)} V{y(point.units)}"
        return path + f" H{x(end)}"

    out = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="chart-title chart-desc"'
        f' data-today="{series.today.isoformat()}" data-eta="{_iso(series.eta)}"'
        f' data-crossing="{_iso(series.crossing)}" xmlns="http://www.w3.org/2000/svg">',
        '<title id="chart-title">Cumulative supply against units waiting</title>',
        f'<desc id="chart-desc">{escape(describe(series))}</desc>',
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" class="plot"/>',
    ]
    for units in sorted({0, series.queued, series.needed, top}):
        out.append(f'<text x="{LEFT - 6}" y="{y(units) + 4}" class="tick" text-anchor="end">{units}</text>')
        out.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(units)}" y2="{y(units)}" class="grid"/>')
    out.append(_date_ticks(series, start, end, x))
    out.append(f'<path d="{steps(series.waiting)}" class="waiting"/>')
    out.append(
        f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(series.needed)}" y2="{y(series.needed)}" class="needed"/>'
        f'<text x="{LEFT + 4}" y="{y(series.needed) - 4}" class="label">next unit ({series.needed})</text>'
    )
    out.append(f'<path d="{steps(series.supply)}" class="supply"/>')
    for aside in series.aside:
        if start <= aside.day <= end:
            out.append(
                f'<circle cx="{x(aside.day)}" cy="{y(0)}" r="4" class="aside"><title>'
                f"{escape(aside.day.isoformat())}: not counted, {escape(aside.why)}</title></circle>"
            )
    out.append(_marker(x(series.today), f"today {short(series.today)}", "today", TOP - 8))
    if series.release is not None and series.release != series.eta and start <= series.release <= end:
        out.append(_marker(x(series.release), f"release {short(series.release)}", "release", TOP + 12))
    if series.crossing is not None:
        out.append(f'<circle cx="{x(series.crossing)}" cy="{y(series.needed)}" r="5" class="crossing"/>')
    if series.eta is not None and series.eta <= end:
        out.append(_marker(x(series.eta), f"ETA {short(series.eta)}", "eta", TOP + 26))
    out.append("</svg>")
    return "".join(out)


def _iso(day: date | None) -> str:
    return day.isoformat() if day else ""


def _marker(at: float, label: str, kind: str, label_y: float) -> str:
    anchor = "end" if at > WIDTH - RIGHT - 80 else "start"
    shift = -4 if anchor == "end" else 4
    return (
        f'<line x1="{at}" x2="{at}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" class="mark {kind}"/>'
        f'<text x="{at + shift}" y="{label_y}" text-anchor="{anchor}" class="label {kind}">{escape(label)}</text>'
    )


def _date_ticks(series: ChartSeries, start: date, end: date, x: Callable[[date], float]) -> str:
    wanted = [series.today, *(d for d in (series.eta, series.crossing) if d is not None)]
    wanted += [p.day for p in series.supply] + [p.day for p in series.waiting]
    placed: list[float] = []
    out = []
    for day in dict.fromkeys(wanted):
        if not start <= day <= end:
            continue
        at = x(day)
        if any(abs(at - other) < MIN_TICK_GAP for other in placed):
            continue
        placed.append(at)
        base = HEIGHT - BOTTOM
        out.append(
            f'<line x1="{at}" x2="{at}" y1="{base}" y2="{base + 4}" class="axis"/>'
            f'<text x="{at}" y="{base + 16}" text-anchor="end" transform="rotate(-40 {at} {base + 16})"'
            f' class="tick">{short(day)}</text>'
        )
    return "".join(out)


def describe(series: ChartSeries) -> str:
    """The chart in one sentence, for screen readers and the page's caption."""
    supply = ", ".join(f"{'enough' if p.units is None else p.units} by {p.day.isoformat()}" for p in series.supply)
    crossing = (
        f"supply covers the queue and the next unit on {series.crossing.isoformat()}"
        if series.crossing
        else "no supply inside the horizon covers the next unit (no reliable timeline)"
    )
    eta = f"; ETA {series.eta.isoformat()}" if series.eta else ""
    return f"{series.queued} unit(s) waiting; cumulative supply {supply}; {crossing}{eta}."
