"""Plain-text rendering of runs for the terminal (tables without a dependency)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from connector.sync import StoreRun

ARROW = "→"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
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


def run_text(run: StoreRun) -> str:
    mode = " (dry run: nothing written)" if run.dry_run else ""
    out = [f"store {run.store} ({run.platform}){mode}"]
    if run.outcome == "failed":
        out.append(f"  FAILED: {run.error}")
        out.append("  nothing was written after the failure; statuses on the store are unchanged")
        return "\n".join(out)
    if run.changes:
        out.append(table(["SKU", "status", "ETA", "rule", "writes", "result"], plan_rows(run)))
    else:
        out.append("  nothing to change: the store already shows every decision")
    for item, reason in run.skipped:
        out.append(f"  skipped {item.label}: {reason}")
    counts = ", ".join(f"{n} {status}" for status, n in sorted(run.counts.items())) or "none"
    verb = "would write" if run.dry_run else "written"
    written = len(run.changes) if run.dry_run else run.written
    summary = (
        f"  {run.items} items, {run.decided} decided ({counts}); {len(run.changes)} to change, "
        f"{written} {verb}, {run.failed} failed, {len(run.skipped)} skipped; {run.seconds:.2f}s"
    )
    out.append(summary)
    if run.outcome == "partial":
        out.append(f"  PARTIAL: {run.error}; failed items keep their previous status and are retried next run")
    return "\n".join(out)
