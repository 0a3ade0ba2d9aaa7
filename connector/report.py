"""Plain-text rendering of runs for the terminal (tables without a dependency), and the reorder report."""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import textwrap
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import httpx

from stockstatus.core.config import Config
from stockstatus.core.logs import escape_controls
from stockstatus.core.model import Item
from stockstatus.core.outcomes import ChangeResult, NoticeResult, RunOutcome
from stockstatus.core.state import StateStore
from stockstatus.core.sync import Change, Clock, StoreRun, gather_stores, system_clock
from stockstatus.core.sync.restore import Fate, StoreRestore
from stockstatus.rules.model import Status

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


WIDTH = 80
"""Text output fits a terminal this wide: long values are elided ("…"); --json has them whole."""
LABEL = 14
"""Where a plan line's value starts ("  status       in_stock → backorder")."""


def _field(name: str, value: str) -> str:
    """`  name         value`: the name column, and at least one space after a longer name."""
    return f"  {name:<{LABEL - 3}} {value}"


def elide(text: str, width: int) -> str:
    """`text` cut to `width` characters, the cut marked with "…"."""
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def _shown(value: object) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, Status):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    return printable(str(value))


def _old_new(name: str, old: object, new: object, width: int) -> list[str]:
    """`  name        old → new`, or, too long for one line, the old and the new value on a line each."""
    line = _field(name, f"{_shown(old)} {ARROW} {_shown(new)}")
    if len(line) <= width:
        return [line]
    room = width - LABEL - len("was ")
    return [_field(name, f"was {elide(_shown(old), room)}"), _field("", f"now {elide(_shown(new), room)}")]


def _platform_value(item: Item, field: str) -> object:
    """What the store holds now in a platform field the plan writes (`inventoryPolicy` is read as `inventory_policy`)."""
    if field in item.platform:
        return item.platform[field]
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in field)
    return item.platform.get(snake)


@dataclass(frozen=True, slots=True)
class ChangeKinds:
    """What one change alters, as a shop owner sees it."""

    status: bool
    eta: bool
    message: bool
    policy: tuple[str, ...]
    """The platform's own selling fields written (`backorders`, `stock_status`, `inventoryPolicy`, tags)."""

    @classmethod
    def of(cls, change: Change) -> ChangeKinds:
        shown, decision = change.item.shown, change.decision
        return cls(
            status=shown.status is not decision.status,
            eta=shown.eta != decision.eta,
            message=(shown.message or "") != (decision.message or ""),
            policy=tuple(f for f in change.fields if ":" not in f or f.startswith("tags:")),
        )


def change_lines(change: Change, *, width: int = WIDTH) -> list[str]:
    """One change of the plan: the item and the rule, then each field the shop owner knows, old → new."""
    item, decision, shown = change.item, change.decision, change.item.shown
    kinds = ChangeKinds.of(change)
    rule = f"  (rule: {printable(decision.rule)})"
    label = printable(item.label)
    name = printable(item.name)
    room = width - len(label) - 2 - len(rule)
    if room >= 8:
        head = f"{label}  {elide(name, room)}{rule}"
    else:
        head = elide(f"{label}  {name}", width)
        rule_line = _field("rule", printable(decision.rule))
    out = [head]
    if kinds.status:
        out += _old_new("status", shown.status or "?", decision.status, width)
    else:
        out.append(_field("status", f"{decision.status.value} (as now)"))
    if decision.on_sellout not in (None, decision.status, Status.OUT_OF_STOCK) or (
        decision.on_sellout is not None and kinds.policy and not kinds.status
    ):
        after = decision.at_sellout
        ships = f", ships by {after.eta.isoformat()}" if after is not None and after.eta else ""
        out.append(_field("at sell-out", f"{decision.on_sellout.value}{ships} (armed now, switches at the last sale)"))
    if kinds.eta:
        out += _old_new("ETA", shown.eta, decision.eta, width)
    if kinds.message:
        out += _old_new("message", shown.message, decision.message, width)
    for field in kinds.policy:
        if field.startswith("tags:"):
            verb = "add" if field.endswith("add") else "remove"
            out.append(elide(_field("tags", f"{verb} {_shown(change.fields[field])}"), width))
        else:
            out += _old_new(field, _platform_value(item, field), change.fields[field], width)
    if not (kinds.status or kinds.eta or kinds.message or kinds.policy):
        # The store shows the decision, but the connector's own fields (read by the theme) lag.
        own = ", ".join(printable(f.split(":", 1)[-1]) for f in change.fields)
        out.append(elide(_field("writes", f"{own} (the connector's own, to match)"), width))
    if room < 8:
        out.append(elide(rule_line, width))
    if change.result is not ChangeResult.PLANNED:
        result = change.result.value + (f": {printable(change.error)}" if change.error else "")
        out.extend(_wrap(_field("result", result).lstrip(), width, indent=LABEL))
    return out


def _wrap(text: str, width: int, *, indent: int = 4) -> list[str]:
    """`text` as lines of at most `width`, the first indented by 2, the others by `indent`."""
    return textwrap.wrap(
        text,
        width=width,
        initial_indent="  ",
        subsequent_indent=" " * indent,
        break_on_hyphens=False,
        break_long_words=False,
    ) or [""]


def plan_summary(run: StoreRun) -> str:
    """The changes counted by kind: "4 to change: 3 status, 2 ETA, 3 message, 2 policy"."""
    kinds = [ChangeKinds.of(c) for c in run.changes]
    counted = [
        (sum(k.status for k in kinds), "status"),
        (sum(k.eta for k in kinds), "ETA"),
        (sum(k.message for k in kinds), "message"),
        (sum(bool(k.policy) for k in kinds), "policy"),
    ]
    counted.append((sum(not (k.status or k.eta or k.message or k.policy) for k in kinds), "own fields only"))
    parts = ", ".join(f"{n} {kind}" for n, kind in counted if n)
    total = f"{len(run.changes)} to change"
    return f"{total}: {parts}" if parts else total


def takeover_lines(run: StoreRun, *, width: int = WIDTH) -> list[str]:
    """The takeover plan: per field the first pass writes, what the merchant has now → what it sets."""
    out = _wrap(
        "takeover: no pass has written to this store yet. Per field (items): what the merchant has now "
        f"{ARROW} what the first pass sets",
        width,
        indent=2,
    )
    for one in run.takeover or ():
        out.extend(_wrap(printable(one.text()), width, indent=6))
    if not run.takeover:
        out.append("  nothing: the store already holds every value the connector would set")
    out.extend(_wrap("`connector restore` puts these fields back later. The plan:", width, indent=2))
    return out


def notice_lines(run: StoreRun, *, width: int = WIDTH) -> list[str]:
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
    # The message is the last column: cut to the width (--json has it whole).
    headers = ["order", "SKU", "notice", "ETA", "result", "message"]
    out.extend(elide("  " + line, width) for line in table(headers, rows).splitlines())
    tail = f"  {verb} {sent} buyer{'' if sent == 1 else 's'}"
    if unconfirmed:
        tail += f"; {unconfirmed} unconfirmed (the store may or may not have them: check those orders; not sent again)"
    out.append(tail)
    return out


def run_text(run: StoreRun, *, width: int = WIDTH) -> str:
    """A pass as the terminal shows it: each change with its fields old → new, then counts; `width` columns at most."""
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
    if run.takeover is not None:
        out.extend(takeover_lines(run, width=width))
    if run.changes:
        for change in run.changes:
            out.extend(change_lines(change, width=width))
    else:
        out.append("  nothing to change: the store already shows every decision")
    for one in run.skipped:
        out.extend(_wrap(f"skipped {printable(one.item.label)}: {printable(one.reason)}", width))
    for warning in run.warnings:
        # Whole: a warning names a file and line to open, searched for and copied as it is.
        out.append(f"  warning: {printable(warning)}")
    counts = ", ".join(f"{n} {status}" for status, n in sorted(run.counts.items())) or "none"
    left = f", {len(run.skipped)} skipped" if run.skipped else ""
    out.extend(_wrap(f"{run.items} items in {run.seconds:.2f}s, {run.decided} decided{left}: {counts}", width))
    done = "nothing written" if run.dry_run else f"{run.written} written, {run.failed} failed"
    out.extend(_wrap(f"{plan_summary(run)}; {done}", width))
    out.extend(notice_lines(run, width=width))
    if run.outcome is RunOutcome.PARTIAL:
        out.append(
            f"  PARTIAL: {printable(run.error or '')}; failed items keep their previous status and are retried next run"
        )
    if run.outcome is RunOutcome.HELD:
        out.append(f"  HELD: {printable(run.error or '')}")
    return "\n".join(out)


# ---- restore ----


def restore_text(run: StoreRestore, *, width: int = WIDTH) -> str:
    """`connector restore` for one store: what it restored (or would), what it left and why, then counts."""
    mode = " (dry run: nothing written)" if run.dry_run else ""
    out = [f"store {run.store} ({run.platform}): restore{mode}"]
    if run.outcome in (RunOutcome.FAILED, RunOutcome.BUSY) and run.error:
        out.append(f"  {run.outcome.value.upper()}: {printable(run.error)}")
    elif not run.fields and not run.unknown_skus:
        out.append("  nothing recorded: the connector has not changed a field of this store (or it was restored)")
    if run.fields:
        # Field names as the merchant knows them: the meta key or metafield, without its kind.
        names = [f.original.field.split(":", 1)[-1] for f in run.fields]
        skus = [f.sku or f"#{f.item_key or f.original.owner}" for f in run.fields]
        results = [f.result for f in run.fields]
        fixed = 2 + max(map(len, skus)) + max(map(len, names)) + max(map(len, results)) + 4 * 2
        value = max(10, (width - fixed) // 2)

        def shown(text: str | None, absent: str) -> str:
            return elide(_shown(text), value) if text is not None else absent

        rows = [
            [sku, name, shown(f.now, "(none)"), shown(f.original.original, "(none)"), f.result]
            for sku, name, f in zip(skus, names, run.fields, strict=True)
        ]
        headers = ["SKU", "field", "now", "before", "result"]
        out.extend(elide("  " + line, width) for line in table(headers, rows).splitlines())
        if any(f.original.original is None for f in run.fields):
            out.append("  before (none): the field did not exist before the connector wrote it; restore deletes it")
        for f in run.fields:
            if f.reason:
                label = f"{f.sku or '#' + (f.item_key or f.original.owner)} {f.original.field.split(':', 1)[-1]}"
                out.extend(_wrap(f"{printable(label)} {f.result}: {printable(f.reason)}", width, indent=4))
    for sku in run.unknown_skus:
        out.append(f"  {printable(sku)}: nothing recorded for this SKU")
    done = Fate.PLANNED if run.dry_run else Fate.RESTORED
    counts = [f"{run.count(done)} {done}", f"{run.count(Fate.LEFT)} left"]
    if run.count(Fate.ALREADY):
        counts.append(f"{run.count(Fate.ALREADY)} {Fate.ALREADY}")
    if run.count(Fate.FAILED):
        counts.append(f"{run.count(Fate.FAILED)} failed (kept: a later restore tries them again)")
    if run.fields:
        out.extend(_wrap(", ".join(counts), width))
    if run.paused:
        out.extend(
            _wrap(
                f"PAUSED: no pass writes to {run.store} until `connector resume {run.store}` (the daemon would "
                "otherwise write the connector's values again)",
                width,
            )
        )
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
    missing: dict[str, int] = dataclasses.field(default_factory=dict)
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
    as_of: date | None = None,
) -> ReorderReport:
    """Pull the stores (read-only), build each item's facts as a pass does, and keep those due for reorder.

    `as_of`: judged on that day in each store's calendar, with today's stock and orders.
    """
    from stockstatus.rules.demand import missing_for_reorder, reorder_suggestion  # the engine's (pure)

    demand = config.demand
    gathered = await gather_stores(
        config, store_name=store_name, state=state, clock=clock, environ=environ, transports=transports, as_of=as_of
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
