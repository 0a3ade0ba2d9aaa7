"""Telling waiting buyers: an order's ETA moved, or its item is back in stock (opt-in per store).

Which notices a pass owes (`plan_notices`, pure, table-tested), per open order and item:

- the first time an order is seen waiting for an item (some of its units ship later), its
  ship-by date is recorded as the *baseline* and nothing is sent: the shop's checkout already
  told the buyer;
- while it waits, when its ship-by date is more than `eta_moved_days` away from the date the
  buyer was last told (the baseline or the last notice), in either direction, `eta_changed` is
  sent once for the new date. Later is what buyers must hear; earlier by as much is good news
  they want too. Small moves add up: the comparison is with what the buyer was told, not with
  the last pass. A date that disappears (no supply inside the horizon) sends nothing: there is
  nothing to promise, and the rule that decides the item shows it on the product;
- when an order that was waiting is covered (the item's stock now serves all of it), and the
  item's stock is tracked, `back_in_stock` is sent once;
- an order that is no longer open (shipped, cancelled) gets nothing, and nothing is forgotten.

Only the items a pass decided count (an incremental pass: the items it pulled); an item left
unchanged because of a data problem or whose write the store refused waits for a later pass.

At most once. Every notice has a row in the state file keyed by (store, order, item, kind,
ETA; for back in stock the ETA the buyer was last told). The row is committed as "pending"
*before* the platform is asked, and marked "sent" or "failed" after. A row that a later pass
finds still pending (the process stopped between the two) is never sent again: it becomes
"unconfirmed" and is reported once, so the operator can look at the order. A notice the
platform refused ("failed": an HTTP 4xx, a throttle, a missing permission) is tried again by
the next passes while it is still due, at most `MAX_ATTEMPTS` times in all. An answer that
never came (timeout, connection lost, 5xx) leaves it pending: it may have reached the buyer.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

import httpx
from pydantic import BaseModel, ConfigDict, NonNegativeInt, field_validator

from stockstatus.core.errors import ConnectorError
from stockstatus.core.model import Item, OpenOrder
from stockstatus.core.outcomes import NoticeKind, NoticeResult, NotificationStatus
from stockstatus.core.platform import tells_customers
from stockstatus.core.state import Baseline, NotificationRecord, StateStore
from stockstatus.rules.model import Decision
from stockstatus.rules.template import NOTICE_FIELDS, MessageTemplate, parse_template, render_message

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
"""How many times a notice the platform refused is tried in all (one per pass)."""

DEFAULT_ETA_CHANGED = "Update on your order {order}: {name} now ships by {eta:%-d %B %Y}."
DEFAULT_BACK_IN_STOCK = "Good news: {name} from your order {order} is back in stock and ships now."

# ---- templates --------------------------------------------------------------------------------
# Notices render through the rules' template engine (`rules.template`): the same placeholders and
# formats as a rule's message, with the fields in NOTICE_FIELDS.


class NotifySettings(BaseModel):
    """A store's `notify` table: whether and what to tell waiting buyers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = False
    eta_moved_days: NonNegativeInt = 2
    """A ship-by date moving by more than this many days (either way) is told."""
    eta_changed: str = DEFAULT_ETA_CHANGED
    back_in_stock: str = DEFAULT_BACK_IN_STOCK

    @field_validator("eta_changed", "back_in_stock")
    @classmethod
    def _template(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the message is empty")
        template, problems = parse_template(value, NOTICE_FIELDS)
        if template is None:
            raise ValueError("; ".join(problems))
        return value

    def template(self, kind: NoticeKind) -> MessageTemplate:
        template, _ = parse_template(self.eta_changed if kind == "eta_changed" else self.back_in_stock, NOTICE_FIELDS)
        assert template is not None  # validated at load
        return template


# ---- which notices ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Notice:
    """One message to one order's buyer about one item, and what became of it."""

    order_id: str
    item_key: str
    sku: str | None
    name: str
    kind: NoticeKind
    eta: date | None
    """The new ship-by date (eta_changed) or the date the buyer was last told (back_in_stock)."""
    told: date | None
    """The date the buyer was last told (baseline or previous notice)."""
    message: str
    result: NoticeResult = NoticeResult.PLANNED
    error: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "order_id": self.order_id,
            "item": self.item_key,
            "sku": self.sku,
            "kind": self.kind.value,
            "eta": self.eta.isoformat() if self.eta else None,
            "told": self.told.isoformat() if self.told else None,
            "message": self.message,
            "result": self.result.value,
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class Decided:
    """An item a pass decided, with its decision (the orders waiting for it may be told)."""

    item: Item
    decision: Decision


@dataclass(frozen=True, slots=True)
class NoticePlan:
    """What a pass owes waiting buyers: baselines to record, notices to send."""

    baselines: list[Baseline]
    notices: list[Notice]


_TOLD = frozenset(
    {
        NotificationStatus.RECORDED,
        NotificationStatus.PENDING,
        NotificationStatus.SENT,
        NotificationStatus.UNCONFIRMED,
    }
)
"""Statuses of a row whose ETA the buyer knows (or may know)."""
_TOLD_KINDS = frozenset({NoticeKind.BASELINE, NoticeKind.ETA_CHANGED})
"""Kinds of a row that tells the buyer a ship-by date."""


def plan_notices(
    settings: NotifySettings,
    decided: Iterable[Decided],
    orders: Sequence[OpenOrder],
    history: Iterable[NotificationRecord],
    *,
    today: date,
) -> NoticePlan:
    """The baselines to record and the notices due, for the decided items' open orders.

    `history` is the state file's rows for these orders. Pure: no I/O, no clock.
    """
    rows: dict[tuple[str, str], list[NotificationRecord]] = {}
    for row in history:
        rows.setdefault((row.order_id, row.item_key), []).append(row)
    holding: dict[str, list[OpenOrder]] = {}
    for order in orders:
        for line in order.lines:
            if line.quantity > 0:
                holding.setdefault(line.item_key, []).append(order)
    baselines: list[Baseline] = []
    notices: list[Notice] = []
    for one in decided:
        item, decision = one.item, one.decision
        waiting = {o.order_id: o for o in decision.order_etas if o.later > 0}
        tracked = item.managed and item.available is not None
        for order in holding.get(item.key, ()):
            mine = rows.get((order.order_id, item.key), [])
            told_rows = [r for r in mine if r.kind in _TOLD_KINDS and r.status in _TOLD]
            told = told_rows[-1].eta if told_rows else None
            wait = waiting.get(order.order_id)
            if wait is not None:
                if not told_rows:
                    baselines.append(Baseline(order.order_id, item.key, wait.ships_by))
                    continue
                eta = wait.ships_by
                if eta is None or (told is not None and abs((eta - told).days) <= settings.eta_moved_days):
                    continue
                kind = NoticeKind.ETA_CHANGED
            elif told_rows and tracked:
                eta, kind = told, NoticeKind.BACK_IN_STOCK
            else:
                continue
            if not _due(mine, kind, eta):
                continue
            message = render_message(
                settings.template(kind),
                order=order.number or order.order_id,
                sku=item.sku or "",
                name=item.name,
                eta=eta,
                today=today,
            )
            notices.append(Notice(order.order_id, item.key, item.sku, item.name, kind, eta, told, message))
    return NoticePlan(baselines, notices)


def _due(rows: Iterable[NotificationRecord], kind: NoticeKind, eta: date | None) -> bool:
    """No row yet for this kind and ETA, or only one the platform refused, with attempts left."""
    for row in rows:
        if row.kind is kind and row.eta == eta:
            return row.status is NotificationStatus.FAILED and row.attempts < MAX_ATTEMPTS
    return True


# ---- sending -----------------------------------------------------------------------------------


@dataclass(slots=True)
class Told:
    """What the notification step of one pass did."""

    notices: list[Notice]
    unconfirmed: list[Notice]
    """Notices a previous pass left pending (reported once; never sent again)."""
    baselines: int = 0
    warnings: list[str] | None = None


async def tell_customers(
    store: str,
    settings: NotifySettings,
    adapter: object,
    *,
    state: StateStore,
    decided: Sequence[Decided],
    orders: Sequence[OpenOrder],
    today: date,
    dry_run: bool,
) -> Told:
    """Plan this pass's notices and, unless `dry_run`, send each at most once (see the module doc)."""
    stale = state.notices.rows(store, status=NotificationStatus.PENDING)
    unconfirmed = [
        Notice(
            r.order_id,
            r.item_key,
            None,
            "",
            r.kind,
            r.eta,
            None,
            r.message or "",
            result=NoticeResult.UNCONFIRMED,
            error="the pass stopped before the store answered; check the order",
        )
        for r in stale
    ]
    for notice in unconfirmed:
        log.warning(
            "store %s: the %s notice to order %s (item %s) may not have reached the buyer: the pass that sent it "
            "stopped before the store answered; it is not sent again",
            store,
            notice.kind,
            notice.order_id,
            notice.item_key,
        )
    if not dry_run and stale:
        state.notices.mark_unconfirmed(r.id for r in stale)
    history = state.notices.rows(store, [o.order_id for o in orders])
    plan = plan_notices(settings, decided, orders, history, today=today)
    planned = plan.notices
    told = Told(notices=planned, unconfirmed=unconfirmed, baselines=len(plan.baselines), warnings=[])
    if dry_run:
        return told
    state.notices.record_baselines(store, plan.baselines)
    if not planned:
        return told
    if not tells_customers(adapter):
        warning = f"the {type(adapter).__name__} cannot tell customers; {len(planned)} notices not sent"
        log.warning("store %s: %s", store, warning)
        told.warnings = [warning]
        told.notices = [
            replace(n, result=NoticeResult.SKIPPED, error="the platform cannot tell customers") for n in planned
        ]
        return told
    done: list[Notice] = []
    for notice in planned:
        row_id = state.notices.claim(
            store, notice.order_id, notice.item_key, notice.kind, notice.eta, notice.message, max_attempts=MAX_ATTEMPTS
        )
        if row_id is None:
            done.append(replace(notice, result=NoticeResult.HELD, error="already recorded by another pass"))
            continue
        try:
            result = await adapter.notify_customer(notice.order_id, notice.message)
        except (ConnectorError, httpx.HTTPError) as exc:
            # No answer: the note may exist. The row stays pending (never re-sent).
            log.warning("store %s: notice to order %s unconfirmed: %s", store, notice.order_id, exc)
            state.notices.mark_unconfirmed([row_id])
            done.append(replace(notice, result=NoticeResult.UNCONFIRMED, error=str(exc)))
            continue
        state.notices.confirm(row_id, ok=result.ok, error=result.error)
        if not result.ok:
            log.warning("store %s: the store refused the notice to order %s: %s", store, notice.order_id, result.error)
        outcome = NoticeResult.SENT if result.ok else NoticeResult.FAILED
        done.append(replace(notice, result=outcome, error=result.error))
    told.notices = done
    return told


def tally(notices: Iterable[Notice]) -> Mapping[NoticeResult, int]:
    counts: dict[NoticeResult, int] = {}
    for notice in notices:
        counts[notice.result] = counts.get(notice.result, 0) + 1
    return counts
