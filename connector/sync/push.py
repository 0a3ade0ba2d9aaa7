"""Pushing a pass's updates: in chunks that keep a product's variants together, with progress and stop."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, TypeVar

from stockstatus.core.model import Item, Update, WriteResult
from stockstatus.core.platform import Adapter
from stockstatus.rules.model import Decision


class Progress(Protocol):
    """Told how a long write phase advances (a terminal progress bar, for instance)."""

    def start(self, label: str, total: int) -> None: ...

    def advance(self, done: int) -> None: ...

    def finish(self) -> None: ...


class Planned(Protocol):
    """One item to write: an `Update`, or a line of a pass's plan (`run.Change`)."""

    @property
    def item(self) -> Item: ...

    @property
    def decision(self) -> Decision: ...

    @property
    def fields(self) -> Mapping[str, Any]: ...


P = TypeVar("P", bound=Planned)


def push_chunks(updates: Sequence[P], size: int) -> list[list[P]]:
    """Updates in chunks of about `size`, never splitting the variants of one product.

    Variants may share a product's stock (and its policy), which the adapter settles within
    one push: they must travel together.
    """
    groups: dict[str, list[P]] = {}
    for update in updates:
        groups.setdefault(update.item.parent_key or update.item.key, []).append(update)
    chunks: list[list[P]] = [[]]
    for group in groups.values():
        if chunks[-1] and len(chunks[-1]) + len(group) > size:
            chunks.append([])
        chunks[-1].extend(group)
    return [c for c in chunks if c]


async def push_in_chunks(
    adapter: Adapter,
    updates: Sequence[Planned],
    *,
    progress: Progress | None,
    stopping: asyncio.Event | None,
    store: str,
) -> dict[str, WriteResult]:
    """Push chunk by chunk, so progress can be shown and a stop waits for one chunk only.

    Once `stopping` is set, the chunks not yet sent are reported as not written: they keep
    their old state and are planned again by the next pass.
    """
    size = max(adapter.capabilities.max_batch * 4, 1)
    results: dict[str, WriteResult] = {}
    if progress is not None:
        progress.start(f"{store}: writing", len(updates))
    try:
        for chunk in push_chunks(updates, size):
            if stopping is not None and stopping.is_set():
                for update in chunk:
                    results[update.item.key] = WriteResult(
                        update.item.key, ok=False, error="not sent: the connector was stopping"
                    )
                continue
            # The adapter is handed `Update`s: a plan's lines become them one chunk at a time.
            sent = [u if isinstance(u, Update) else Update(u.item, u.decision, u.fields) for u in chunk]
            results.update((r.item_key, r) for r in await adapter.push(sent))
            if progress is not None:
                progress.advance(len(chunk))
    finally:
        if progress is not None:
            progress.finish()
    return results
