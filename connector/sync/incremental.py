"""Whether a pass may pull only what changed: the bookmark, and the basis its decisions were made under."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from stockstatus.core.config import Store
from stockstatus.core.platform import Adapter, pulls_changes
from stockstatus.core.state import StateStore
from stockstatus.core.supply import PurchaseOrders

BOOKMARK_OVERLAP = timedelta(minutes=5)
"""How far before a pull's start the next incremental pull begins: covers clock skew with the store."""

BASIS_CHANGES = {
    "settings": "the rules or settings changed",
    "supply": "the purchase orders changed",
    "day": "a new day began in the store's timezone",
}
"""Why a change of each part of the decision basis makes unchanged items decide anew."""


def decision_basis(store: Store, purchase_orders: PurchaseOrders, today: date) -> dict[str, str]:
    """What a pass decides under besides the store's data: settings, supply files, the day.

    An incremental pass decides only the items that changed in the store; that is sound only
    while everything else every decision reads is as it was at the bookmark.
    """
    return {"settings": store.decides_by, "supply": purchase_orders.digest, "day": today.isoformat()}


@dataclass(frozen=True, slots=True)
class IncrementalStart:
    """Where an incremental pull starts, or why the pass must be a full one (exactly one is set)."""

    since: datetime | None = None
    full_because: str | None = None


def incremental_start(store: Store, adapter: Adapter, state: StateStore, basis: Mapping[str, str]) -> IncrementalStart:
    """Where this store's incremental pull starts, or why it cannot be incremental."""
    since = state.bookmarks.get(store.name)
    if since is None:
        return IncrementalStart(full_because="no pass has completed yet")
    if not pulls_changes(adapter):
        return IncrementalStart(full_because=f"the {store.platform} adapter cannot pull only changes")
    before = state.bookmarks.basis(store.name)
    if before is None:
        return IncrementalStart(full_because="the last pass did not record what it decided under")
    moved = [why for part, why in BASIS_CHANGES.items() if before.get(part) != basis.get(part)]
    if moved:
        return IncrementalStart(full_because="; ".join(moved))
    return IncrementalStart(since=since)
