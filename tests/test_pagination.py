"""Page-numbered pagination, without HTTP."""

from __future__ import annotations

import pytest

from stockstatus.core.errors import FetchError
from stockstatus.core.pagination import ListingMoved, PageNumbers


def test_remaining_pages_after_the_first():
    pages = PageNumbers.from_header("4", first_page_count=100, per_page=100)
    assert list(pages.remaining()) == [2, 3, 4]


@pytest.mark.parametrize("header", ["1", "0"])
def test_a_single_or_empty_listing_has_nothing_remaining(header):
    pages = PageNumbers.from_header(header, first_page_count=0, per_page=100)
    assert list(pages.remaining()) == []
    pages.accept(1, [])
    assert pages.complete


def test_missing_header_is_one_page_when_the_first_page_is_not_full():
    pages = PageNumbers.from_header(None, first_page_count=7, per_page=100)
    assert pages.total_pages == 1


def test_missing_header_with_a_full_first_page_is_refused():
    with pytest.raises(FetchError, match="X-WP-TotalPages"):
        PageNumbers.from_header(None, first_page_count=100, per_page=100, what="products")


@pytest.mark.parametrize("header", ["many", "-2"])
def test_unreadable_page_count_is_refused(header):
    with pytest.raises(FetchError):
        PageNumbers.from_header(header, first_page_count=100, per_page=100)


def test_pages_accepted_in_any_order():
    pages = PageNumbers(3)
    pages.accept(3, [5])
    pages.accept(1, [1, 2])
    assert not pages.complete
    pages.accept(2, [3, 4])
    assert pages.complete


def test_a_page_repeating_the_previous_one_is_a_loop():
    pages = PageNumbers(3, what="products")
    pages.accept(1, [1, 2])
    with pytest.raises(FetchError, match="page 2 repeats the items of page 1"):
        pages.accept(2, [1, 2])


def test_a_repeat_is_found_when_the_later_page_arrives_first():
    pages = PageNumbers(3)
    pages.accept(3, [7, 8])
    with pytest.raises(FetchError, match="page 3 repeats the items of page 2"):
        pages.accept(2, [7, 8])


def test_a_page_read_twice_is_refused():
    pages = PageNumbers(2)
    pages.accept(2, [3])
    with pytest.raises(FetchError, match="read twice"):
        pages.accept(2, [3])


def test_a_page_outside_the_count_is_refused():
    with pytest.raises(FetchError, match="outside"):
        PageNumbers(2).accept(3, [1])


def test_a_page_count_changing_mid_pull_is_refused():
    pages = PageNumbers.from_header("3", first_page_count=100, per_page=100, what="products")
    pages.accept(1, [1])
    with pytest.raises(FetchError, match="page count changed from 3 to 4"):
        pages.accept(2, [2], total_pages=4)


def test_an_item_count_changing_mid_pull_is_refused():
    pages = PageNumbers.from_header("2", first_page_count=100, per_page=100, total_items="150")
    pages.accept(1, [1])
    with pytest.raises(FetchError, match="number of items changed from 150 to 151"):
        pages.accept(2, [2], total_pages=2, total_items=151)


def test_finish_counts_the_distinct_ids_of_a_whole_listing():
    pages = PageNumbers.from_header("2", first_page_count=3, per_page=3, total_items="5")
    pages.accept(2, [4, 5])
    pages.accept(1, [1, 2, 3])
    assert pages.finish() == 5


def test_finish_names_the_shortfall_of_an_unstably_ordered_listing():
    # Items sharing a sort key slid across the page boundary: 3 served twice, 3 never.
    pages = PageNumbers.from_header("2", first_page_count=4, per_page=4, total_items="8", what="products at shop")
    pages.accept(1, [8, 7, 6, 5])
    pages.accept(2, [7, 6, 5, 1])
    with pytest.raises(FetchError, match=r"products at shop: .*8 items .*5 distinct .*3 never served, 3 served twice"):
        pages.finish()


def test_finish_refuses_a_listing_with_pages_left_unread():
    pages = PageNumbers.from_header("3", first_page_count=2, per_page=2, total_items="6")
    pages.accept(1, [1, 2])
    pages.accept(3, [5, 6])
    with pytest.raises(FetchError, match=r"pages \[2\] were never read"):
        pages.finish()


def test_more_distinct_ids_than_the_store_holds_means_the_listing_moved():
    pages = PageNumbers.from_header("2", first_page_count=2, per_page=2, total_items="3")
    pages.accept(1, [1, 2])
    pages.accept(2, [3, 4])  # item 4 was created after the first page's count was taken
    with pytest.raises(ListingMoved, match="1 more than it holds"):
        pages.finish()


def test_a_count_change_mid_pull_is_a_moved_listing():
    pages = PageNumbers.from_header("2", first_page_count=2, per_page=2, total_items="3")
    pages.accept(1, [1, 2])
    with pytest.raises(ListingMoved):
        pages.accept(2, [3, 4], total_items=4)
