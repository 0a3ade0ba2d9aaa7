"""Cursor pagination as a small pure object: the next `after`, and refusing to loop."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stockstatus.core.errors import FetchError


class Cursors:
    """The cursors of one listing read page after page (`pageInfo { hasNextPage endCursor }`).

    A cursor the listing already handed out means the store (or a proxy) is not paging: going on
    would loop, or count items twice, so the pull stops with `FetchError`.
    """

    def __init__(self, what: str) -> None:
        self.what = what
        self.after: str | None = None
        self.done = False
        self.pages = 0
        self._seen: set[str] = set()

    def accept(self, page_info: Mapping[str, Any] | None) -> None:
        """Record one page's `pageInfo`; afterwards `done` or `after` says what comes next."""
        if self.done:
            raise FetchError(f"{self.what}: a page came after the last one")
        if not isinstance(page_info, Mapping):
            raise FetchError(f"{self.what}: the store sent a page without pageInfo")
        self.pages += 1
        if not page_info.get("hasNextPage"):
            self.done = True
            return
        cursor = page_info.get("endCursor")
        if not isinstance(cursor, str) or not cursor:
            raise FetchError(f"{self.what}: the store says more pages follow but gave no endCursor")
        if cursor in self._seen:
            raise FetchError(
                f"{self.what}: page {self.pages} repeats a cursor the store already gave (the listing is "
                "not advancing); stopped rather than loop"
            )
        self._seen.add(cursor)
        self.after = cursor
