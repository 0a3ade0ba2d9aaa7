"""Plain-text rendering of runs for the terminal (tables without a dependency), and the reorder report."""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import httpx

from stockstatus.core.config import Config
from stockstatus.core.logs import escape_controls
from stockstatus.core.model import Item
from stockstatus.core.outcomes import NoticeResult, RunOutcome
from stockstatus.core.state import StateStore
from stockstatus.core.sync import Clock, StoreRun, gather_stores, system_clock

if TYPE_CHECKING:
    from stockstatus.rules.demand import ReorderSuggestion

ARROW = "→"


def printable(text: str, *, keep: str = "") -> str:
    """`text` with control characters shown as escapes (`\\n`, `\\x1b`), except those in `keep`.

    Store data (SKUs, names, messages) is printed through this: a newline in a SKU must not
    forge a line of the plan, nor a terminal escape code recolour or rewrite the screen.
    """
    return escape_controls(text, keep=keep)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    rows = [[printable(cell) for cell in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(cell.ljust(w) for cell, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def writes(fields: Mapping[str, object]) -> str:
    """Field names to write, with 'prefix:name' fields counted per prefix ("backorders, 3 meta")."""
    plain = sorted(k for k in fields if ":" not in k)
    prefixed = Counter(k.split(":", 1)[0] for k in fields if ":" in k)
    return ", ".join([*plain, *(f"{n} {prefix}" for prefix, n in sorted(prefixed.items()))])


def plan_rows(run: StoreRun) -> list[list[str]]:
    rows = []
    for change in run.changes:
        before = change.previous.value if change.previous else "?"
        rows.append(
            [
                change.item.label,
                f"{before} {ARROW} {change.decision.status.value}",
                change.decision.eta.isoformat() if change.decision.eta else "",
                change.decision.rule,
                writes(change.fields),
                change.result + (f": {change.error}" if change.error else ""),
            ]
        )
    return rows


def notice_lines(run: StoreRun) -> list[str]:
    """The buyers told (or, in a dry run, to be told), and notices left unconfirmed."""
    if not run.notices:
        return []
    verb = "would tell" if run.dry_run else "told"
    rows = [
        [
            f"#{n.order_id}",
            n.sku or f"#{n.item_key}",
            n.kind.replace("_", " "),
            n.eta.isoformat() if n.eta else "",
            n.result + (f": {n.error}" if n.error else ""),
            n.message,
        ]
        for n in run.notices
    ]
    sent = sum(1 for n in run.notices if n.result in (NoticeResult.SENT, NoticeResult.PLANNED))
    unconfirmed = sum(1 for n in run.notices if n.result is NoticeResult.UNCONFIRMED)
    out = ["  customer notices:"]
    out.extend("  " + line for line in table(["order", "SKU", "notice", "ETA", "result", "message"], rows).splitlines())
    tail = f"  {verb} {sent} buyer{'' if sent == 1 else 's'}"
    if unconfirmed:
        tail += f"; {unconfirmed} unconfirmed (the store may or may not have them: check those orders; not sent again)"
    out.append(tail)
    return out


def run_text(run: StoreRun) -> str:
    mode = " (dry run: nothing written)" if run.dry_run else ""
    out = [f"store {run.store} ({run.platform}){mode}"]
    if run.full_because:
        out.append(f"  a full pass instead of an incremental one: {run.full_because}")
    if run.outcome is RunOutcome.FAILED:
        out.append(f"  FAILED: {printable(run.error or '')}")
        out.append("  nothing was written after the failure; statuses on the store are unchanged")
        return "\n".join(out)
    if run.outcome in (RunOutcome.PAUSED, RunOutcome.BUSY):
        out.append(f"  {run.outcome.value.upper()}: {printable(run.error or '')}")
        return "\n".join(out)
    if run.changes:
        out.append(table(["SKU", "status", "ETA", "rule", "writes", "result"], plan_rows(run)))
    else:
        out.append("  nothing to change: the store already shows every decision")
    for skipped in run.skipped:
        out.append(f"  skipped {printable(skipped.item.label)}: {printable(skipped.reason)}")
    for warning in run.warnings:
        out.append(f"  warning: {printable(warning)}")
    counts = ", ".join(f"{n} {status}" for status, n in sorted(run.counts.items())) or "none"
    verb = "would write" if run.dry_run else "written"
    written = len(run.changes) if run.dry_run else run.written
    summary = (
        f"  {run.items} items, {run.decided} decided ({counts}); {len(run.changes)} to change, "
        f"{written} {verb}, {run.failed} failed, {len(run.skipped)} skipped; {run.seconds:.2f}s"
    )
    out.append(summary)
    out.extend(notice_lines(run))
    if run.outcome is RunOutcome.PARTIAL:
        out.append(
            f"  PARTIAL: {printable(run.error or '')}; failed items keep their previous status and are retried next run"
        )
    if run.outcome is RunOutcome.HELD:
        out.append(f"  HELD: {printable(run.error or '')}")
    return "\n".join(out)


# ---- reorder report -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReorderLine:
    """One SKU at or below its reorder point, with what to order."""

    store: str
    item: Item
    on_order: int
    suggestion: ReorderSuggestion


@dataclass(frozen=True, slots=True)
class ReorderReport:
    lines: list[ReorderLine]
    assessed: int
    """Items with tracked stock, a lead time and sales history to judge by."""
    not_assessed: int
    """Items left out because an input is missing (see `missing`)."""
    warnings: list[str]
    missing: dict[str, int] = field(default_factory=dict)
    """Items left out per missing input: "no sales history yet", "no lead time configured",
    "stock not tracked"."""


async def reorder_report(
    config: Config,
    *,
    store_name: str | None = None,
    state: StateStore,
    clock: Clock = system_clock,
    environ: Mapping[str, str],
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> ReorderReport:
    """Pull the stores (read-only), build each item's facts as a pass does, and keep those due for reorder."""
    from stockstatus.rules.demand import missing_for_reorder, reorder_suggestion  # the engine's (pure)

    demand = config.demand
    gathered = await gather_stores(
        config, store_name=store_name, state=state, clock=clock, environ=environ, transports=transports
    )
    lines: list[ReorderLine] = []
    assessed = not_assessed = 0
    missing: dict[str, int] = {}
    warnings: list[str] = []
    for one in gathered:
        store, seen = one.store, one.gathered
        warnings.extend(f"store {store.name}: {w}" for w in seen.warnings)
        for item_facts in seen.facts:
            item, facts = item_facts.item, item_facts.facts
            suggestion = reorder_suggestion(
                facts,
                z=demand.safety_factor,
                window_days=demand.velocity_window_days,
                review_days=demand.review_period_days,
            )
            if suggestion is None:
                not_assessed += 1
                why = missing_for_reorder(facts, window_days=demand.velocity_window_days) or "not assessed"
                missing[why] = missing.get(why, 0) + 1
                continue
            assessed += 1
            if suggestion.due and suggestion.suggested > 0:
                on_order = sum(e.quantity for e in facts.supply if e.quantity is not None and e.quantity > 0)
                lines.append(ReorderLine(store.name, item, on_order, suggestion))
    lines.sort(key=lambda x: (x.store, x.suggestion.position - x.suggestion.reorder_point, x.item.label))
    return ReorderReport(lines, assessed, not_assessed, warnings, missing)


REORDER_COLUMNS = (
    "store",
    "sku",
    "name",
    "available",
    "on_order",
    "position",
    "velocity_per_day",
    "demand_sd",
    "lead_time_days",
    "safety_stock",
    "reorder_point",
    "order_up_to",
    "days_of_cover",
    "suggested",
)


def _cover(days: float | None) -> str:
    if days is None:
        return ""
    return "inf" if math.isinf(days) else f"{days:.1f}"


def _reorder_row(line: ReorderLine) -> list[str]:
    s = line.suggestion
    return [
        line.store,
        line.item.label,
        line.item.name,
        str(line.item.available),
        str(line.on_order),
        str(s.position),
        f"{s.velocity:.2f}",
        f"{s.demand_sd:.2f}",
        str(s.lead_time_days),
        f"{s.safety_stock:.1f}",
        f"{s.reorder_point:.1f}",
        f"{s.order_up_to:.1f}",
        _cover(s.days_of_cover),
        str(s.suggested),
    ]


def reorder_table(report: ReorderReport) -> str:
    """The report as a terminal table, with a line on what was assessed."""
    from stockstatus.rules.demand import NO_HISTORY

    out = []
    if report.lines:
        headers = [
            "store",
            "SKU",
            "name",
            "avail",
            "on order",
            "position",
            "per day",
            "sd",
            "lead",
            "safety",
            "reorder at",
            "up to",
            "cover",
            "order",
        ]
        rows = [_reorder_row(line) for line in report.lines]
        for row in rows:
            row[2] = row[2][:28]
        out.append(table(headers, rows))
    else:
        out.append("nothing to reorder: every assessed SKU is above its reorder point")
    line = f"{len(report.lines)} to reorder of {report.assessed} SKUs assessed; {report.not_assessed} not assessed"
    if report.missing:
        line += " (" + ", ".join(f"{n} {why}" for why, n in sorted(report.missing.items())) + ")"
    out.append(line)
    if NO_HISTORY in report.missing:
        out.append(
            "  sales history is recorded by each pass from the open orders it sees; "
            "a SKU is assessed once a pass has seen it orderable"
        )
    out.extend(f"warning: {w}" for w in report.warnings)
    return "\n".join(out)


def reorder_csv(report: ReorderReport) -> str:
    """The report as CSV (header row, one line per SKU to reorder)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(REORDER_COLUMNS)
    writer.writerows(_reorder_row(line) for line in report.lines)
    return buffer.getvalue()
