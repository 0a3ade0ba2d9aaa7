"""The decision engine: shop owners' rules, compiled once, decide each SKU's status and ETA.

Pure: no I/O, no clock reads ("today" is in the Facts), no eval of user text.

How a rule list is read (first match wins)::

    [[rules]]
    name = "backorder while a restock is due"
    when = { available = "<= 0", eta_within_days = 30 }
    then = { status = "backorder", eta = "restock_date", message = "Back by {eta:%-d %B}" }

Decisions this engine makes on the shop owner's behalf:

- **A rule that gives an ETA matches only when it has one.** `then.eta` implies `has_eta = true`:
  with no restock date, a restock date in the past (a late shipment), no lead time, a release date
  that has passed or a fixed date that has passed, the rule does not match and the next rule
  (typically "sold out") decides. `has_eta = false` turns this round: the rule matches only when
  the source has no date, and its decision carries no ETA (e.g. "backorder, ships when available").
- **ETA sources** never yield a date before today. Handling days (global `handling_days`, or the
  rule's `then.handling_days`) are added to supply-derived ETAs (`restock_date`, `lead_time`):
  those date the goods' arrival, not the shipment. A release date or a fixed date is the ship date
  the owner means, so nothing is added to it. `eta_within_days` looks at the final ETA.
- **Release/restock "today"**: on the day itself a release date counts as past (released) and a
  restock date as future (still due today), in both conditions and ETA sources.
- **A cap** (`then.cap = N`) is the most units that may wait on backorder/pre-order. Units already
  sold beyond stock count against it; `sell_limit` is what is left. Once it is used up the rule
  does not match, so the next rule (typically "sold out") decides.
- **No rule matched**: available > 0 → in_stock; available <= 0 → out_of_stock; stock not tracked
  (available None) → `decide` returns None and the item is left as it is. The rule is "default".
  A tracked-stock condition (`available`) never matches untracked stock.
- **Pre-arming**: an in-stock decision with available > 0 also evaluates the rules with
  available = 0 and puts that status into `on_sellout`, so the platform switches at the last
  sale. The in-stock decision's `eta` stays None (the buyer gets the item now).
- **Messages** are rendered only from validated templates; a field with no value renders as "".
  `{eta}`/`{days}` in a rule that can never have an ETA is a compile-time error.
- **Matching**: tags, categories, vendor and supplier case-insensitively; `sku_matches` globs
  case-sensitively.
- **`eta = "supply"`** is first-in-first-out available-to-promise (rules/supply.py): the next
  unit's ETA is the first day on-hand + incoming supply covers every queued unit plus one, plus
  handling days. Supply dated before today (a late shipment) is not counted; neither is supply
  after `horizon_days` (default 120). A supply event without a quantity covers the whole queue.
  No covering day → no reliable timeline → the rule does not match (`has_eta`), and
  `has_reliable_eta = false` can pick that case out.
- **Caps**: `cap = N` (fixed), `cap = "incoming"` (known incoming quantities inside the horizon;
  events without a quantity count 0), `cap = { max = N, incoming = true }` (the smaller).
  `sell_limit` = cap − queued units. When it reaches 0 the rule does not hold and the next rule
  decides (usually "sold out"). An in-stock item pre-armed to backorder/pre-order carries the
  armed rule's `sell_limit` (how many may be sold past zero).
- **Per-order dates** (`Decision.order_etas`): FIFO over the queue; none later than the
  decision's ETA (the next unit's, behind them all); a pre-order's not before its release date.
- **Supply groups** (`Facts.group`: stores sharing one warehouse): the waiting orders of every
  store of the group are one FIFO queue by order time against the group's incoming supply
  (`supply.group_etas`); each store's shelf stays its own. Queued units (caps, `queued_units`,
  `{queue}`) and the next unit's ETA count the whole group's, so they are the same in every
  store; `queue_length` and `order_etas` are the store's own orders.
- **Hysteresis** (`compile_rules(..., back_in_stock_at=N)`): an item the store last showed as
  out_of_stock or backorder (`Facts.previous_status`) goes back to in_stock only once available
  reaches N. Until then it gets the decision the rules give at sell-out (available treated as 0),
  with a "held: ..." reason. Pre-order is not held (a release is not a flap).
- **Demand conditions**: `velocity` and `days_of_cover` use units per in-stock day over
  `window_days` (default 28, days out of stock left out, see rules/demand.py); with no counted
  day they are unknown and match nothing, like stock that is not tracked.

Where each job lives:

- `schema`: the shape of a rule list (pydantic models of `[[rules]]`, `when`, `then`) and the
  shop owner's error texts; `validate_rules` gives `RuleSpec`s or raises `RuleError`.
- `compiler` (with `conditions`, `eta`, `subject`): valid specs into `Rule`s of fast callables.
- `engine`: `compile_rules` (validate, then compile) and `RuleSet.decide` / `.explain`.
- `template`: the one template engine for everything a buyer reads (rule messages, notices).
- `model`, `supply`, `demand`: the values, the FIFO available-to-promise, the demand figures.

What the core may rely on, always present and typed: `compile_rules(raw, source=...,
handling_days=..., horizon_days=..., back_in_stock_at=...)`; `RuleSet.horizon_days`,
`.handling_days`, `.back_in_stock_at`, `.names`; `RuleSet.explain(facts)` returns an
`Explanation` (the list of `RuleTrace`s, also as `.traces`) with `.decision`, `.timeline`
(`.lines()`), `.held`, `.order_etas`, `.velocity`, `.days_of_cover`, `.group_orders`; `supply.timeline`,
`demand.velocity`, `demand.daily_demand`, `demand.reorder_suggestion`.
"""

from __future__ import annotations

from stockstatus.rules.demand import (
    ReorderSuggestion,
    daily_demand,
    days_of_cover,
    demand_sd,
    reorder_point,
    reorder_suggestion,
    safety_stock,
    velocity,
    z_for,
)
from stockstatus.rules.engine import CheckTrace, Explanation, RuleSet, RuleTrace, compile_rules
from stockstatus.rules.errors import RuleError
from stockstatus.rules.model import (
    DaySales,
    Decision,
    Facts,
    OrderEta,
    QueuedOrder,
    Status,
    StoreQueue,
    SupplyEvent,
    SupplyGroup,
)
from stockstatus.rules.supply import (
    DEFAULT_HORIZON_DAYS,
    GroupOrderEta,
    SupplyTimeline,
    TimelineRow,
    group_etas,
    next_arrival,
    order_etas,
    queue_etas,
    timeline,
)
from stockstatus.rules.template import MessageTemplate, parse_template, render_message

__all__ = [
    "DEFAULT_HORIZON_DAYS",
    "CheckTrace",
    "DaySales",
    "Decision",
    "Explanation",
    "Facts",
    "GroupOrderEta",
    "MessageTemplate",
    "OrderEta",
    "QueuedOrder",
    "ReorderSuggestion",
    "RuleError",
    "RuleSet",
    "RuleTrace",
    "Status",
    "StoreQueue",
    "SupplyEvent",
    "SupplyGroup",
    "SupplyTimeline",
    "TimelineRow",
    "compile_rules",
    "daily_demand",
    "days_of_cover",
    "demand_sd",
    "group_etas",
    "next_arrival",
    "order_etas",
    "parse_template",
    "queue_etas",
    "render_message",
    "reorder_point",
    "reorder_suggestion",
    "safety_stock",
    "timeline",
    "velocity",
    "z_for",
]
