"""How MariaDB 10.11 orders `ORDER BY post_date DESC LIMIT offset, count` when dates tie.

WooCommerce 10 lists products with `ORDER BY wp_posts.post_date DESC` (or `post_modified`) and no
id tie-break. MariaDB reads the matching rows in the order of the `type_status_date` index
(post type, status, date, id) and sorts them with its filesort, which is not stable:

- while `offset + count` is below a third of InnoDB's row estimate, it keeps the top rows in a
  bounded priority queue (mysys `queues.c`, largest key on top, one spare slot) whose slots are
  then sorted; a row arriving when the queue is full overwrites the slot on top;
- otherwise it sorts every row;
- either way the sort is mysys `my_qsort2` (a quicksort that swaps equal keys), or a stable radix
  sort for 1000 to 99 999 keys.

So which of several products sharing one second a page shows depends on the page's offset and
size: the same product can be on two pages and another on none. Measured on WooCommerce 10.0.2
with MariaDB 10.11.19, this module gives the same ids as the real store for every page of 40 and
300 products in tie groups (1, 5, 10, 25, 50 and 100 per page).

InnoDB estimates the rows as `2 * leaf_pages * 16384 / 92` (92 bytes: the shortest `wp_posts`
record) from its persistent statistics, which a young shop leaves at one leaf page for a long
time: then the queue is used up to `offset + count` = 118.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

__all__ = ["PAGE_SIZE", "SHORTEST_RECORD", "limit", "row_estimate"]

T = TypeVar("T")

PAGE_SIZE = 16384
"""InnoDB's page size (innodb_page_size default)."""
SHORTEST_RECORD = 92
"""dict_index_calc_min_rec_len for wp_posts' clustered index."""
_PQ_SLOWNESS = 3.0
_INSERTION_SORT_BELOW = 10
_RADIX_FROM, _RADIX_BELOW = 1000, 100_000

Compare = Callable[[Any, Any], int]


def row_estimate(leaf_pages: int) -> int:
    """ha_innobase::estimate_rows_upper_bound for a clustered index of `leaf_pages` leaf pages."""
    return 2 * leaf_pages * PAGE_SIZE // SHORTEST_RECORD


def limit(rows: Sequence[T], key: Callable[[T], Any], offset: int, count: int, *, estimate: int) -> list[T]:
    """`rows` (in index order) sorted by `key` ascending, then `LIMIT offset, count`, as MariaDB does it."""
    max_rows = offset + count

    def compare(a: T, b: T) -> int:
        ka, kb = key(a), key(b)
        return int(ka > kb) - int(ka < kb)

    # check_if_pq_applicable: a priority queue only when the limit is small against the estimate.
    use_queue = max_rows < estimate / _PQ_SLOWNESS
    kept = _bounded_queue(rows, compare, max_rows) if use_queue else list(rows)
    _sort_buffer(kept, key, compare)
    return kept[:max_rows][offset:]


def _bounded_queue(rows: Sequence[T], compare: Compare, max_rows: int) -> list[T]:
    """Bounded_queue<uchar, uchar> with max_at_top: the slots it leaves, in slot order."""
    capacity = max_rows + 1
    slots: list[T] = []
    heap: list[int] = [0]  # 1-based, as mysys keeps it; entries are slot numbers

    def cmp(i: int, j: int) -> int:
        # max_at_top multiplies every comparison by -1.
        return -compare(slots[i], slots[j])

    for row in rows:
        if len(heap) - 1 < capacity:
            slots.append(row)
            # queue_insert: sift the new slot up while it beats its parent.
            index = len(heap)
            heap.append(len(slots) - 1)
            while (parent := index >> 1) > 0 and cmp(len(slots) - 1, heap[parent]) < 0:
                heap[index] = heap[parent]
                index = parent
            heap[index] = len(slots) - 1
            continue
        # queue_replace_top: the new key overwrites the top slot, which then sifts down.
        top = heap[1]
        slots[top] = row
        index, elements = 1, len(heap) - 1
        while index <= elements >> 1:
            child = index + index
            if child < elements and cmp(heap[child], heap[child + 1]) > 0:
                child += 1
            if cmp(heap[child], top) >= 0:
                break
            heap[index] = heap[child]
            index = child
        heap[index] = top
    return slots


def _sort_buffer(keys: list[T], key: Callable[[T], Any], compare: Compare) -> None:
    """Filesort_buffer::sort_buffer: radix sort (stable) or my_qsort2, in place."""
    if _RADIX_FROM <= len(keys) < _RADIX_BELOW:
        keys.sort(key=key)
        return
    _my_qsort2(keys, compare)


def _my_qsort2(a: list[T], compare: Compare) -> None:
    """mysys mf_qsort.c: median-of-three quicksort, insertion sort below 10, explicit stack."""
    if len(a) <= 1:
        return
    low, high = 0, len(a) - 1
    stack: list[tuple[int, int]] = []

    def median(lo: int, mid: int, hi: int) -> None:
        if compare(a[hi], a[lo]) < 0:
            a[hi], a[lo] = a[lo], a[hi]
        if compare(a[mid], a[lo]) < 0:
            a[mid], a[lo] = a[lo], a[mid]
        elif compare(a[hi], a[mid]) < 0:
            a[mid], a[hi] = a[hi], a[mid]

    while True:
        count = high - low + 1
        if count < _INSERTION_SORT_BELOW:
            for start in range(low + 1, high + 1):
                at = start
                while at > low and compare(a[at - 1], a[at]) > 0:
                    a[at], a[at - 1] = a[at - 1], a[at]
                    at -= 1
            if not stack:
                return
            low, high = stack.pop()
            continue
        mid = low + (count >> 1)
        if count > 40:
            step = count // 8
            median(low, low + step, low + 2 * step)
            median(mid - step, mid, mid + step)
            median(high - 2 * step, high - step, high)
            median(low + step, mid, high - step)
            low_at, high_at = low, high
        else:
            median(low, mid, high)
            low_at, high_at = low + 1, high - 1
        pivot = a[mid]
        while True:
            while compare(a[low_at], pivot) < 0:
                low_at += 1
            while compare(pivot, a[high_at]) < 0:
                high_at -= 1
            if low_at < high_at:
                a[low_at], a[high_at] = a[high_at], a[low_at]
                low_at += 1
                high_at -= 1
                if low_at <= high_at:
                    continue
            elif low_at == high_at:
                low_at += 1
                high_at -= 1
            break
        # Sort the smaller part next and keep the larger one on the stack.
        if high_at - low <= 0:
            if high - low_at <= 0:
                if not stack:
                    return
                low, high = stack.pop()
            else:
                low = low_at
        elif high - low_at <= 0:
            high = high_at
        elif high_at - low > high - low_at:
            stack.append((low, high_at))
            low = low_at
        else:
            stack.append((low_at, high))
            high = high_at
