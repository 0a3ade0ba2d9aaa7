"""The closed sets of words the core records and compares: run outcomes, pass modes, change
results, notice kinds and results, the daemon's job kinds.

Each is a `StrEnum`, so the state file, `--json` output and log lines carry exactly these
strings, and code compares members, never literals.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "ChangeResult",
    "DeliveryStatus",
    "JobKind",
    "NoticeKind",
    "NoticeResult",
    "NotificationStatus",
    "PassMode",
    "ReceiptOutcome",
    "RunOutcome",
]


class RunOutcome(StrEnum):
    """How a pass over one store ended (the runs table's `outcome`)."""

    RUNNING = "running"
    OK = "ok"
    PARTIAL = "partial"
    """Some writes were refused: they are listed, kept and retried by the next pass."""
    FAILED = "failed"
    """The store could not be read (or refused the credentials): nothing was written."""
    INTERRUPTED = "interrupted"
    """Cancelled mid-pass, or found still running after a crash."""
    HELD = "held"
    """A rail stopped the pass before writing (too many changes); the store waits for the operator."""
    PAUSED = "paused"
    """The store is paused (`connector pause`): no pass ran. Never recorded in the runs table."""
    BUSY = "busy"
    """Another process was running a pass over the store: this one did not start. Never recorded."""


class PassMode(StrEnum):
    """What a pass pulled and whether it wrote (the runs table's `mode`)."""

    FULL = "full"
    INCREMENTAL = "incremental"
    WEBHOOK = "webhook"
    """Targeted: the items store webhooks said were touched, with what changed since the bookmark."""
    DRY_RUN = "dry-run"


class ChangeResult(StrEnum):
    """What became of one planned change (a plan line and the decision log's `result`)."""

    PLANNED = "planned"
    """Dry run: nothing was sent."""
    WRITTEN = "written"
    FAILED = "failed"
    SKIPPED = "skipped"
    """The item's data could not be read: left as it is."""


class NoticeKind(StrEnum):
    """What a row of the notifications table records about one waiting order's item."""

    BASELINE = "baseline"
    """The ship-by date first seen: the shop's checkout told the buyer; never sent."""
    ETA_CHANGED = "eta_changed"
    BACK_IN_STOCK = "back_in_stock"


class NotificationStatus(StrEnum):
    """Where a notifications row stands (the state file's `status`)."""

    RECORDED = "recorded"
    """A baseline: nothing to send."""
    PENDING = "pending"
    """Claimed and being sent; committed before the platform is asked."""
    SENT = "sent"
    FAILED = "failed"
    """The platform refused; retried while attempts remain."""
    UNCONFIRMED = "unconfirmed"
    """Found pending by a later pass: it may or may not have reached the buyer; never re-sent."""


class NoticeResult(StrEnum):
    """What became of one notice in a pass (shown in reports and `--json`)."""

    PLANNED = "planned"
    """Dry run: not sent."""
    SENT = "sent"
    FAILED = "failed"
    UNCONFIRMED = "unconfirmed"
    SKIPPED = "skipped"
    """The platform cannot tell customers."""
    HELD = "held"
    """Already recorded by another pass."""


class JobKind(StrEnum):
    """A store's two scheduled jobs in the daemon, the prefix of their ids ("store:eu-shop")."""

    PASS = "store"
    """Incremental passes on the store's `schedule`."""
    RECONCILE = "reconcile"
    """Full passes on the store's `reconcile` schedule."""


class DeliveryStatus(StrEnum):
    """Where a webhook event in the outbox stands (the state file's `outbox.status`)."""

    PENDING = "pending"
    """Waiting for its first or next try."""
    SENT = "sent"
    FAILED = "failed"
    """Every try failed: kept to be seen, not sent again."""


class ReceiptOutcome(StrEnum):
    """What became of one webhook delivery a store sent to the listener (`deliveries.outcome`)."""

    QUEUED = "queued"
    """Verified and waiting for its targeted pass (a restart passes over it then)."""
    PASSED = "passed"
    """A pass read the store after it arrived and wrote what changed."""
    STALE = "stale"
    """Verified, but sent longer ago than delivery ids are remembered: a replay; nothing triggered."""
    REJECTED = "rejected"
    """Unsigned, wrongly signed, too large or malformed: answered 4xx, nothing triggered."""
