"""After a pass: the events of what the store accepted, queued in the outbox for the shop's webhook.

Queuing is all a pass does (no network under the store's lock); `connector.events.send_outbox`
delivers them apart.
"""

from __future__ import annotations

from stockstatus.core.events import StatusChange, WebhookSettings, events_for, notice_events
from stockstatus.core.outcomes import ChangeResult
from stockstatus.core.state import StateStore
from stockstatus.core.sync.clock import Clock
from stockstatus.core.sync.run import Change, StoreRun


def announce(run: StoreRun, hook: WebhookSettings, state: StateStore, clock: Clock) -> int:
    """Queue the events of the changes the store accepted in this pass, and of the notices it took."""
    accepted = [_status_change(c, run) for c in run.changes if c.result is ChangeResult.WRITTEN]
    at = clock()
    events = events_for(run.store, accepted, slip_days=hook.eta_slip_days, wanted=hook.events, at=at)
    events += notice_events(run.store, run.notices, wanted=hook.events, at=at)
    return state.outbox.add(run.store, events, at=at)


def _status_change(change: Change, run: StoreRun) -> StatusChange:
    """ "From" is the decision the store accepted before (what buyers were told), not the status
    read back: a pre-armed store switches by itself at the last sale."""
    before = run.accepted_before.get(change.item.key)
    shown_eta = change.item.shown.eta
    return StatusChange(
        item_key=change.item.key,
        sku=change.item.sku,
        before=before.status if before is not None else change.previous,
        old_eta=before.eta if before is not None else (shown_eta.isoformat() if shown_eta else None),
        after=change.decision.status,
        new_eta=change.decision.eta.isoformat() if change.decision.eta else None,
    )
