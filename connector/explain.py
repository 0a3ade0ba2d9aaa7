"""`connector rules explain SKU`: why a SKU gets its status, from the same facts a pass would use.

The store is pulled and every item's facts are built by `sync.gather` (the pass's own code), so
what is explained is what the next pass would decide. Nothing is written: not to the store, not
to the state file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx

from stockstatus.core.config import Config
from stockstatus.core.errors import ConnectorError
from stockstatus.core.logs import escape_controls
from stockstatus.core.model import Item
from stockstatus.core.state import Accepted, StateStore
from stockstatus.core.sync import Clock, Sources, gather_stores, system_clock, verdict
from stockstatus.core.sync.facts import Refused
from stockstatus.rules import RuleTrace
from stockstatus.rules.demand import daily_demand, velocity
from stockstatus.rules.model import Decision, Facts, OrderEta, Status
from stockstatus.rules.supply import GroupOrderEta, SupplyTimeline


class UnknownSku(ConnectorError):
    """No selected store has an item with this SKU."""


@dataclass(frozen=True, slots=True)
class Explanation:
    """One item's facts, each rule's result, the supply timeline and the decision."""

    store: str
    platform: str
    item: Item
    facts: Facts
    traces: tuple[RuleTrace, ...]
    decision: Decision | None
    timeline: tuple[str, ...]
    """The supply/queue derivation as text lines."""
    accepted: Accepted | None
    """The last decision the store confirmed, from the state file."""
    held: str | None = None
    """Why hysteresis kept the sold-out status, when it did."""
    skipped: str | None = None
    """Why a pass would leave this item as it is whatever the rules decide (data it could not read)."""
    fields: Mapping[str, Any] | None = None
    """The platform fields a pass would write (empty: the store already shows the decision)."""
    sales: str = ""
    """The sales history in words (units, velocity over the configured window)."""
    warnings: tuple[str, ...] = ()
    supply_timeline: SupplyTimeline | None = None
    """The supply/queue derivation itself (`timeline` is its text): what the status page draws."""
    group_orders: tuple[GroupOrderEta, ...] = ()
    """In a supply group (`facts.group`): every store's waiting orders for the SKU in the group's
    first-in-first-out order, each with its store and ship dates (this store's are the decision's)."""


async def explain_sku(
    config: Config,
    sku: str,
    *,
    store_name: str | None = None,
    state: StateStore,
    clock: Clock = system_clock,
    environ: Mapping[str, str],
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    sources: Sources | None = None,
    as_of: date | None = None,
) -> list[Explanation]:
    """Explain every item with this SKU (or `#key`) in the selected stores; UnknownSku if none has it.

    `as_of`: the decision for that day in each store's calendar, with today's stock, orders and supply.
    """
    sources = sources or Sources.of(config)
    gathered = await gather_stores(
        config,
        store_name=store_name,
        state=state,
        clock=clock,
        environ=environ,
        transports=transports,
        sources=sources,
        as_of=as_of,
    )
    found = []
    for one in gathered:
        store, seen = one.store, one.gathered
        refused: list[Refused] = []
        # Facts are built as they are read: only the items with this SKU are kept.
        for item_facts in seen.each():
            item = item_facts.item
            if item.sku != sku and item.label != sku:
                continue
            if isinstance(item_facts, Refused):
                refused.append(item_facts)
                continue
            facts = item_facts.facts
            explained = store.rules.explain(facts)
            judged = verdict(item, explained.decision, one.plan)
            found.append(
                Explanation(
                    store=store.name,
                    platform=store.platform,
                    item=item,
                    facts=facts,
                    traces=tuple(explained),
                    decision=explained.decision,
                    timeline=tuple(explained.timeline.lines()),
                    held=explained.held,
                    skipped=judged.skipped,
                    fields=None if judged.skipped is not None or judged.decision is None else judged.fields,
                    accepted=seen.accepted.get(item.key),
                    sales=_sales_summary(facts, sources.demand.history_days, sources.demand.velocity_window_days),
                    warnings=tuple(seen.warnings),
                    supply_timeline=explained.timeline,
                    group_orders=explained.group_orders,
                )
            )
        for item, reason in ((r.item, r.reason) for r in refused):
            # The pass could not even build this item's facts: it is skipped before any rule runs.
            found.append(
                Explanation(
                    store=store.name,
                    platform=store.platform,
                    item=item,
                    facts=Facts(sku=item.label, today=seen.today, available=item.available if item.managed else None),
                    traces=(),
                    decision=None,
                    timeline=(),
                    accepted=seen.accepted.get(item.key),
                    skipped=reason,
                    warnings=tuple(seen.warnings),
                )
            )
    if not found:
        searched = ", ".join(one.store.name for one in gathered) or "none"
        raise UnknownSku(f"no item with SKU {sku!r} in store(s) searched: {searched}")
    return found


# ---- rendering -----------------------------------------------------------------------------


def _day(value: date | None) -> str:
    return value.isoformat() if value else "-"


def _names(values: frozenset[str]) -> str:
    return ", ".join(sorted(values)) or "-"


def _sales_summary(facts: Facts, history_days: int, window_days: int) -> str:
    sold = sum(d.units for d in facts.sales)
    text = f"{sold} units in the last {history_days} days"
    per_day = velocity(facts.sales, facts.today, window_days)
    counted = len(daily_demand(facts.sales, facts.today, window_days))
    if per_day is None:
        return f"{text}; velocity unknown (no day of the last {window_days} known to be orderable)"
    return f"{text}; velocity {per_day:.2f}/day over the last {window_days} days ({counted} orderable)"


def _decision_lines(decision: Decision | None) -> list[str]:
    if decision is None:
        return ["  none: stock is not tracked and no rule decided, so the item is left as it is"]
    out = [f"  status      {decision.status.value}  (rule {decision.rule!r})"]
    if decision.eta:
        out.append(f"  ETA         {decision.eta.isoformat()}")
    if decision.status is Status.OUT_OF_STOCK:
        out.append("  sell limit  0: nothing more may be sold")
    elif decision.sell_limit is not None:
        out.append(f"  sell limit  {decision.sell_limit} more unit(s) may be sold past zero")
    after = decision.at_sellout
    if after is not None:
        # Written ahead into the store's sell-out fields, so the theme has it at the last sale.
        ahead = [after.status.value]
        if after.eta:
            ahead.append(f"ETA {after.eta.isoformat()}")
        if after.message:
            ahead.append(f"message {after.message!r}")
        out.append(f"  at sell-out {', '.join(ahead)}  (written ahead)")
    elif decision.on_sellout is not None:
        out.append(f"  at sell-out {decision.on_sellout.value}")
    if decision.message:
        out.append(f"  message     {decision.message}")
    for reason in decision.reasons:
        out.append(f"  because     {reason}")
    return out


def _order_lines(order: OrderEta, where: str = "") -> list[str]:
    when = f"by {order.ships_by.isoformat()}" if order.ships_by else "no reliable timeline"
    partial = "  (partial backorder)" if order.partial else ""
    out = [f"  order {order.order_id}{where}: {order.now} now, {order.later} later {when}{partial}"]
    if order.split:
        parts = ", ".join(
            f"{part.units} by {part.ships_by.isoformat()}"
            if part.ships_by
            else f"{part.units} with no reliable timeline"
            for part in order.shipments
        )
        out.append(f"    in {len(order.shipments)} shipments: {parts}")
    return out


def fact_rows(explanation: Explanation) -> list[tuple[str, str]]:
    """The facts as (name, value) rows, as `text` prints them (and the status page shows them)."""
    e, f = explanation, explanation.facts
    rows = [
        ("today", f.today.isoformat()),
        ("available", "not tracked" if f.available is None else str(f.available)),
        ("tags", _names(f.tags)),
        ("categories", _names(f.categories)),
        ("vendor", f.vendor or "-"),
        ("supplier", f.supplier or "-"),
        ("release date", _day(f.release_date)),
        ("restock date", _day(f.restock_date)),
        (
            "lead time",
            "-"
            if f.lead_time_days is None
            else f"{f.lead_time_days} days" + ("" if f.lead_time_sd_days is None else f" (sd {f.lead_time_sd_days:g})"),
        ),
        ("previous", f.previous_status.value if f.previous_status else "-"),
        ("sales", e.sales),
    ]
    if f.group is not None:
        others = ", ".join(o.store for o in f.group.others)
        rows.append(("supply group", f"{f.group.name}: shares stock and supply with {others}"))
    if e.item.problems:
        rows.append(("unreadable", "; ".join(e.item.problems)))
    return rows


def text(explanation: Explanation) -> str:
    """The explanation as the terminal shows it."""
    e, f = explanation, explanation.facts
    out = [
        f"{escape_controls(e.item.label)} {e.item.name!r} in store {e.store} ({e.platform}), item {e.item.key}",
        "",
        "facts",
    ]
    if e.skipped is not None:
        out[1:1] = ["", f"SKIPPED by a pass (nothing written): {e.skipped}"]
    rows = fact_rows(e)
    out.extend(f"  {name:<13}{value}" for name, value in rows)
    out.append("")
    out.append("incoming supply (soonest first)")
    if f.supply:
        for event in f.supply:
            quantity = "?" if event.quantity is None else f"+{event.quantity}"
            label = " ".join(p for p in (event.reference, f"({event.supplier})" if event.supplier else None) if p)
            out.append(f"  {event.expected.isoformat()}  {quantity:>6}  {label}".rstrip())
    else:
        out.append("  none known")
    out.append("")
    out.append("backorder queue (oldest first)")
    if f.backorder_queue:
        for queued in f.backorder_queue:
            out.append(
                f"  order {queued.order_id}  {queued.quantity} unit(s)  ordered {queued.ordered_at:%Y-%m-%d %H:%M} UTC"
            )
    else:
        out.append("  empty")
    if f.group is not None:
        out.append("")
        out.append(f"supply group {f.group.name}: every store's waiting orders, first in first out")
        if not e.group_orders:
            out.append("  none")
        for grouped in e.group_orders:
            out.extend(
                _order_lines(grouped.eta, f" ({grouped.store}, ordered {grouped.ordered_at:%Y-%m-%d %H:%M} UTC)")
            )
    if e.timeline:
        out.append("")
        out.append("supply timeline")
        out.extend(f"  {line}" for line in e.timeline)
    out.append("")
    out.append("rules (first match decides)")
    for trace in e.traces:
        position = "-" if trace.position is None else str(trace.position + 1)
        verdict = "DECIDES" if trace.decision is not None else ("matches" if trace.matched else "no match")
        out.append(f"  {position}. {trace.name}: {verdict}")
        for check in trace.checks:
            out.append(f"       {'yes' if check.passed else 'no ':<3}  {check.key}: {check.text}")
    out.append("")
    if e.skipped is not None:
        # The pass leaves the item as it is: saying what the rules would decide first would read
        # as what the store is about to show.
        out.append("what a pass does")
        out.append(f"  SKIPPED: left as it is, nothing written, because {e.skipped}")
        out.append("  fix the item's data in the store; until then the rules below are not applied")
        out.append("")
        out.append("decision the rules would make with readable data (not applied)")
    else:
        out.append("decision")
    if e.held:
        out.append(f"  {e.held}")
    out.extend(_decision_lines(e.decision))
    if (
        f.group is not None
        and e.decision is not None
        and e.decision.sell_limit
        and e.decision.status.sellable_past_zero
    ):
        out.append(f"              (the group's: every store of {f.group.name} sells from the same incoming supply)")
    if e.skipped is None and e.fields is not None:
        if e.fields:
            written = ", ".join(f"{name}={value}" for name, value in sorted(e.fields.items()))
            out.append(f"  a pass writes {written}")
        else:
            out.append("  a pass writes nothing: the store already shows this")
    if e.decision is not None and e.decision.order_etas:
        out.append("")
        out.append("per order")
        for order in e.decision.order_etas:
            out.extend(_order_lines(order))
    out.append("")
    out.append("last accepted by the store (state file)")
    if e.accepted is None:
        out.append("  nothing recorded yet")
    else:
        a = e.accepted
        eta = f", ETA {a.eta}" if a.eta else ""
        out.append(f"  {a.status.value}{eta} (rule {a.rule!r}) at {a.accepted_at}")
    for warning in e.warnings:
        out.append(f"warning: {warning}")
    return "\n".join(out)


def as_dict(explanation: Explanation) -> dict[str, Any]:
    """The explanation as JSON-ready data."""
    e, f = explanation, explanation.facts
    return {
        "store": e.store,
        "platform": e.platform,
        "item": e.item.key,
        "sku": e.item.sku,
        "name": e.item.name,
        "facts": {
            "today": f.today.isoformat(),
            "available": f.available,
            "tags": sorted(f.tags),
            "categories": sorted(f.categories),
            "vendor": f.vendor,
            "supplier": f.supplier,
            "release_date": _iso(f.release_date),
            "restock_date": _iso(f.restock_date),
            "lead_time_days": f.lead_time_days,
            "lead_time_sd_days": f.lead_time_sd_days,
            "previous_status": f.previous_status.value if f.previous_status else None,
            "supply": [
                {
                    "expected": s.expected.isoformat(),
                    "quantity": s.quantity,
                    "supplier": s.supplier,
                    "reference": s.reference,
                }
                for s in f.supply
            ],
            "backorder_queue": [
                {"order_id": q.order_id, "ordered_at": q.ordered_at.isoformat(), "quantity": q.quantity}
                for q in f.backorder_queue
            ],
            "supply_group": None if f.group is None else f.group.name,
            "sales": [{"day": d.day.isoformat(), "units": d.units, "in_stock": d.in_stock} for d in f.sales],
        },
        "group": None
        if f.group is None
        else {
            "name": f.group.name,
            "stores": [f.group.store, *(o.store for o in f.group.others)],
            "orders": [
                {"store": g.store, "ordered_at": g.ordered_at.isoformat(), **_order_dict(g.eta)} for g in e.group_orders
            ],
        },
        "timeline": list(e.timeline),
        "rules": [
            {
                "position": t.position,
                "name": t.name,
                "matched": t.matched,
                "decided": t.decision is not None,
                "checks": [{"key": c.key, "passed": c.passed, "text": c.text} for c in t.checks],
            }
            for t in e.traces
        ],
        "decision": _decision_dict(e.decision),
        "held": e.held,
        "skipped": e.skipped,
        "applied": e.skipped is None and e.decision is not None,
        "writes": None if e.fields is None else dict(sorted(e.fields.items())),
        "accepted": None
        if e.accepted is None
        else {
            "status": e.accepted.status.value,
            "eta": e.accepted.eta,
            "rule": e.accepted.rule,
            "at": e.accepted.accepted_at,
        },
        "warnings": list(e.warnings),
    }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _decision_dict(decision: Decision | None) -> dict[str, Any] | None:
    if decision is None:
        return None
    return {
        "status": decision.status.value,
        "rule": decision.rule,
        "eta": _iso(decision.eta),
        "sell_limit": decision.sell_limit,
        "message": decision.message,
        "on_sellout": decision.on_sellout.value if decision.on_sellout else None,
        "at_sellout": (
            {
                "status": decision.at_sellout.status.value,
                "eta": _iso(decision.at_sellout.eta),
                "message": decision.at_sellout.message,
            }
            if decision.at_sellout
            else None
        ),
        "reasons": list(decision.reasons),
        "order_etas": [_order_dict(o) for o in decision.order_etas],
    }


def _order_dict(o: OrderEta) -> dict[str, Any]:
    return {
        "order_id": o.order_id,
        "now": o.now,
        "later": o.later,
        "ships_by": _iso(o.ships_by),
        "partial": o.partial,
        "shipments": [{"units": p.units, "ships_by": _iso(p.ships_by)} for p in o.shipments],
    }


def dumps(explanations: Sequence[Explanation], *, as_of: date | None = None) -> str:
    planned = {"as_of": as_of.isoformat()} if as_of else {}
    return json.dumps({**planned, "items": [as_dict(e) for e in explanations]}, indent=2, default=str)
