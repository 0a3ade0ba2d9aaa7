"""Page-numbered pagination as a small pure object: which pages to fetch, and refusing to loop.

The first response says how many pages there are (WooCommerce: `X-WP-TotalPages`); the rest
can then be fetched in any order, several at once. Each page's answer is handed back with
`accept`, which refuses to go on when the store is clearly not paging (a page repeating the
ids of the page before it, for example a proxy or plugin ignoring `page`) or when the page
count changes mid-pull (the catalogue moved under us, so pages may have skipped or doubled
items). Once every page is in, `finish` compares the distinct ids read with the item count the
store reported: a store whose ordering is not stable (WooCommerce 10 orders products by a
creation date without a tie-break) serves some items twice and others never, while its count
stays right. All of these raise `FetchError`: a pull that cannot be trusted is not a pull.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Sequence

from stockstatus.core.errors import FetchError


class ListingMoved(FetchError):
    """The listing's page or item count changed between its pages: read it again from the start."""


class PageNumbers:
    """The pages of one listing, numbered from 1."""

    def __init__(self, total_pages: int, *, total_items: int | None = None, what: str = "listing") -> None:
        if total_pages < 0:
            raise FetchError(f"{what}: the store reported {total_pages} pages")
        self.total_pages = total_pages
        self.total_items = total_items
        """Items the first response said the listing holds, when the store tells."""
        self.what = what
        self._ids: dict[int, tuple[Hashable, ...]] = {}

    @classmethod
    def from_header(
        cls,
        value: str | None,
        *,
        first_page_count: int,
        per_page: int,
        total_items: str | None = None,
        what: str = "listing",
    ) -> PageNumbers:
        """From the first response's total-pages header (absent: one page if that page is not full)."""
        items = parse_count(total_items, what=what, header="total")
        if value is None or not value.strip():
            if first_page_count < per_page:
                return cls(1, total_items=items, what=what)
            raise FetchError(
                f"{what}: the store sent a full first page but no page count (X-WP-TotalPages); "
                "a proxy or plugin may strip it, so the rest of the listing cannot be read safely"
            )
        total = parse_count(value, what=what, header="page count")
        return cls(max(total or 0, 1), total_items=items, what=what)

    def remaining(self) -> Iterator[int]:
        """Page numbers after the first, in order."""
        return iter(range(2, self.total_pages + 1))

    def accept(
        self,
        page: int,
        ids: Sequence[Hashable],
        *,
        total_pages: int | None = None,
        total_items: int | None = None,
    ) -> None:
        """Record one page's item ids; raise FetchError if the listing is looping or shifting."""
        if not 1 <= page <= self.total_pages:
            raise FetchError(f"{self.what}: page {page} is outside 1..{self.total_pages}")
        if page in self._ids:
            raise FetchError(f"{self.what}: page {page} was read twice")
        if total_pages is not None and total_pages != self.total_pages:
            raise ListingMoved(
                f"{self.what}: the page count changed from {self.total_pages} to {total_pages} during the pull "
                "(items were added or removed meanwhile); the next run reads it again"
            )
        if total_items is not None and self.total_items is not None and total_items != self.total_items:
            raise ListingMoved(
                f"{self.what}: the number of items changed from {self.total_items} to {total_items} during the pull "
                "(items were added or removed meanwhile, so pages may have shifted); the next run reads it again"
            )
        key = tuple(ids)
        self._ids[page] = key
        for neighbour in (page - 1, page + 1):
            other = self._ids.get(neighbour)
            if key and other == key:
                first, second = sorted((page, neighbour))
                raise FetchError(
                    f"{self.what}: page {second} repeats the items of page {first}; the store is not paging "
                    "(a cache or plugin may ignore the page parameter)"
                )

    @property
    def complete(self) -> bool:
        """Whether every page has been accepted."""
        return len(self._ids) == self.total_pages

    def finish(self) -> int:
        """Check the whole listing was read; the number of distinct ids, or FetchError naming the shortfall.

        Every page must have been accepted, and when the store reported an item count, the
        distinct ids read must be exactly that many: fewer means the store's order let items
        slip between pages (and others were read twice), more means items appeared meanwhile.
        """
        missing_pages = [page for page in range(1, self.total_pages + 1) if page not in self._ids]
        if missing_pages:
            raise FetchError(f"{self.what}: pages {missing_pages} were never read")
        read = [id_ for ids in self._ids.values() for id_ in ids]
        distinct = len(set(read))
        if self.total_items is None or distinct == self.total_items:
            return distinct
        twice = len(read) - distinct
        if distinct < self.total_items:
            raise FetchError(
                f"{self.what}: the store reports {self.total_items} items but its pages held {distinct} distinct ones "
                f"({self.total_items - distinct} never served, {twice} served twice): the store's ordering is not "
                "stable, so this pull is incomplete and nothing is written from it"
            )
        raise ListingMoved(
            f"{self.what}: the store reports {self.total_items} items but its pages held {distinct} distinct ones "
            f"({distinct - self.total_items} more than it holds): items were added meanwhile; the next run reads "
            "it again"
        )


def parse_count(value: str | None, *, what: str, header: str) -> int | None:
    """A non-negative count from a response header (None when absent)."""
    if value is None or not value.strip():
        return None
    try:
        count = int(value.strip())
    except ValueError as exc:
        raise FetchError(f"{what}: unreadable {header} {value!r} from the store") from exc
    if count < 0:
        raise FetchError(f"{what}: the store reported a {header} of {count}")
    return count
