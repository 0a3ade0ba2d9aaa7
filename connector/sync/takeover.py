"""The takeover plan: before the connector's first write to a store, what the merchant has now in each
field the plan writes against what the connector will set, counted per field.

A dry run over a store no pass has written to shows it ahead of the usual plan ("inventoryPolicy
(412): 380 DENY → CONTINUE, 32 unchanged; metafield:connector.eta (1,210): 1,210 new"), so a
merchant sees how much of their own setup the first pass takes over before it happens.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

from stockstatus.core.model import Item
from stockstatus.core.platform import Restores

DISTINCT_SHOWN = 4
"""More distinct old → new pairs than this in one field (dates, messages) are counted as new,
changed or removed instead of listed value by value."""


@dataclass
class FieldTakeover:
    """One field the plan writes, over the store: how many change from what to what, how many stay."""

    field: str
    shared: bool = False
    changes: Counter[tuple[str | None, str | None]] = dataclasses.field(default_factory=Counter)
    unchanged: int = 0

    @property
    def changing(self) -> int:
        return sum(self.changes.values())

    def groups(self) -> list[tuple[int, str]]:
        """(count, "old → new") per kind of change, most first; bucketed when the values are many."""
        fresh = Counter({after: n for (before, after), n in self.changes.items() if before is None})
        if len(self.changes) <= DISTINCT_SHOWN and len(fresh) > 1:
            # A field the store never had: one "new" group, with the values it gets.
            detail = ", ".join(
                f"{n:,} {after}" for after, n in sorted(fresh.items(), key=lambda kv: (-kv[1], str(kv[0])))
            )
            pairs = [(n, _pair(before, after)) for (before, after), n in self.changes.items() if before is not None]
            pairs.append((sum(fresh.values()), f"new ({detail})"))
        elif len(self.changes) <= DISTINCT_SHOWN:
            pairs = [(n, _pair(before, after)) for (before, after), n in self.changes.items()]
        else:
            buckets: Counter[str] = Counter()
            for (before, after), n in self.changes.items():
                buckets["new" if before is None else "removed" if after is None else "changed"] += n
            pairs = [(n, kind) for kind, n in buckets.items()]
        return sorted(pairs, key=lambda p: (-p[0], p[1]))

    def text(self) -> str:
        parts = [f"{n:,} {what}" for n, what in self.groups()]
        if self.unchanged:
            parts.append(f"{self.unchanged:,} unchanged")
        return f"{self.field} ({self.changing + self.unchanged:,}): {', '.join(parts)}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "changes": [
                {"from": before, "to": after, "count": n}
                for (before, after), n in sorted(self.changes.items(), key=lambda kv: (-kv[1], str(kv[0])))
            ],
            "unchanged": self.unchanged,
        }


def _pair(before: str | None, after: str | None) -> str:
    if before is None:
        return f"new ({after})" if after is not None else "none"
    return f"{before} → {after if after is not None else '(removed)'}"


def takeover(
    adapter: Restores, planned: Sequence[tuple[Item, Mapping[str, Any]]], unchanged: Sequence[Item]
) -> list[FieldTakeover]:
    """Per field the plan writes: what changes from what to what, and how many items already hold the value.

    A field shared by a product's items (tags, a stock pool's backorders) counts once per product.
    """
    fields: dict[str, FieldTakeover] = {}
    # The products whose shared field is counted, per field. An item's own field needs no such
    # record: each item comes once, so a first dry run over a large store keeps nothing per item.
    products: dict[str, set[str | None]] = {}
    for item, planned_fields in planned:
        for write in adapter.written(item, planned_fields):
            if write.shared:
                counted = products.setdefault(write.field, set())
                if item.parent_key in counted:
                    continue
            try:
                before = adapter.held(item, write.field)
            except LookupError:
                continue
            if write.shared:
                counted.add(item.parent_key)
            fields.setdefault(write.field, FieldTakeover(write.field, write.shared)).changes[(before, write.value)] += 1
    everyone: Iterable[tuple[Item, Mapping[str, Any] | None]] = chain(planned, ((item, None) for item in unchanged))
    for item, writes in everyone:
        # A field the plan writes on this item itself was counted above (or cannot be read).
        own = {w.field for w in adapter.written(item, writes) if not w.shared} if writes is not None else set()
        for name, entry in fields.items():
            if entry.shared:
                counted = products.setdefault(name, set())
                if item.parent_key in counted:
                    continue
            elif name in own:
                continue
            try:
                now = adapter.held(item, name)
            except LookupError:
                continue
            if entry.shared:
                counted.add(item.parent_key)
            if now is not None:
                entry.unchanged += 1
    return sorted(fields.values(), key=lambda f: (-(f.changing + f.unchanged), f.field))
