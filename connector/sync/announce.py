"""After a pass: the events of what the store accepted, posted to the shop's webhook."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from stockstatus.core.events import StatusChange, WebhookSettings, deliver, events_for, notice_events
from stockstatus.core.http import make_client
from stockstatus.core.outcomes import ChangeResult
from stockstatus.core.sync.clock import Clock
from stockstatus.core.sync.run import Change, StoreRun


async def announce(
    run: StoreRun,
    hook: WebhookSettings,
    environ: Mapping[str, str],
    clock: Clock,
    transport: httpx.AsyncBaseTransport | None,
) -> None:
    """Post the events of the changes the store accepted in this pass, and of the notices it took."""
    accepted = [_status_change(c, run) for c in run.changes if c.result is ChangeResult.WRITTEN]
    events = events_for(run.store, accepted, slip_days=hook.eta_slip_days, wanted=hook.events, at=clock())
    events += notice_events(run.store, run.notices, wanted=hook.events, at=clock())
    if events:
        async with make_client(transport=transport) as client:
            await deliver(client, hook, environ, events)


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
