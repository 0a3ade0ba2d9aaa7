"""Rails: what one pass may do without the operator, measured before anything is written.

- **Mass changes.** A pass that would change the shown status of more than
  `max_changed_share` of the store's items, or turn more than `max_out_of_stock_share` of them
  out of stock, stops before writing. Shares count status changes against what the store
  shows now (not against what the connector last wrote), so a store's first pass that agrees
  with what the store already shows is not held, and one that would flip much of it is.
- **Suspicious reads.** A full listing that is empty, or smaller than the last full pass's by
  more than `max_shrink_share`, is not believed unless the store's own count (an adapter with
  `CountsItems`) shows the same shrink: the pull fails, nothing is written.

Below `min_items` (items changed, or items in the last listing) no rail applies: in a small
shop one edit is a large share. Pure functions; the pass template (`run`) acts on them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from stockstatus.core.config import Rails
from stockstatus.rules.model import Decision, Status

FORCE_HINT = "connector resync --store {store} --force"


@dataclass(frozen=True, slots=True)
class Tally:
    """What a pass would do to the store's shown statuses."""

    store_items: int
    changed: int
    to_out_of_stock: int


def tally(planned: Iterable[tuple[Status | None, Decision]], store_items: int) -> Tally:
    """Count status changes and turns to out of stock among (shown now, decided) pairs."""
    changed = to_out = 0
    for shown, decision in planned:
        if shown is decision.status:
            continue
        changed += 1
        if decision.status is Status.OUT_OF_STOCK:
            to_out += 1
    return Tally(store_items=store_items, changed=changed, to_out_of_stock=to_out)


def _share(part: int, whole: int) -> str:
    return f"{part} of {whole} items ({part / whole:.0%})"


def over_rails(t: Tally, rails: Rails) -> str | None:
    """Why the pass goes over the rails, or None when it stays within them."""
    if t.store_items <= 0 or t.changed < max(rails.min_items, 1):
        return None
    reasons = []
    if t.changed > rails.max_changed_share * t.store_items:
        reasons.append(
            f"it would change the status of {_share(t.changed, t.store_items)}, "
            f"more than max_changed_share {rails.max_changed_share:.0%}"
        )
    if t.to_out_of_stock >= rails.min_items and t.to_out_of_stock > rails.max_out_of_stock_share * t.store_items:
        reasons.append(
            f"it would turn {_share(t.to_out_of_stock, t.store_items)} out of stock, "
            f"more than max_out_of_stock_share {rails.max_out_of_stock_share:.0%}"
        )
    return "; ".join(reasons) or None


def shrank(previous: int, now: int, rails: Rails) -> bool:
    """Whether a full listing of `now` items is suspicious after one of `previous` items."""
    if previous <= 0:
        return False
    if now == 0:
        return True
    return previous >= rails.min_items and now < (1 - rails.max_shrink_share) * previous
