"""What a pull reads: the pull filter, and the bulk operation's result read as a stream."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from stockstatus.adapters.shopify.client import Credentials, ShopifyAdapter
from stockstatus.adapters.shopify.fake import FakeClock, FakeShopify
from stockstatus.adapters.shopify.fake.records import BulkOperation
from stockstatus.core.errors import FetchError, RemoteError

from .helpers import FAST, SHOP, Sleeps, settings

NOW = datetime(2026, 11, 22, 9, tzinfo=UTC)


def shop() -> tuple[FakeShopify, FakeClock]:
    """Products of every kind the pull filter tells apart."""
    clock = FakeClock()
    fake = FakeShopify(SHOP, clock=clock, now=lambda: NOW)
    fake.add_location("Warehouse")
    fake.add_location("Shop floor")
    for sku, status in (("ACT", "ACTIVE"), ("UNL", "UNLISTED"), ("DRF", "DRAFT"), ("ARC", "ARCHIVED")):
        fake.create_product(sku, status=status, variants=[{"sku": sku, "stock": {"Warehouse": 2, "Shop floor": 1}}])
    fake.create_product("Gift card", gift_card=True, variants=[{"sku": "GFT", "tracked": False}])
    fake.create_product("Bundle", variants=[{"sku": "BND", "requires_components": True, "tracked": False}])
    return fake, clock


def adapter(fake: FakeShopify, clock: FakeClock, transport=None, sleep=None, **fields) -> ShopifyAdapter:
    return ShopifyAdapter(
        settings(**fields),
        httpx.AsyncClient(transport=transport or fake.transport()),
        Credentials(token=fake.access_token),
        policy=FAST,
        sleep=sleep or Sleeps(clock),
        clock=clock,
    )


@pytest.mark.parametrize("bulk_threshold", [2000, 0])
async def test_by_default_active_unlisted_and_draft_products_are_pulled(bulk_threshold):
    fake, clock = shop()
    items = await adapter(fake, clock, bulk_threshold=bulk_threshold).pull_items()
    assert {i.sku: i.available for i in items} == {"ACT": 3, "UNL": 3, "DRF": 3}
    assert any(e["operation"] == "RunBulkQuery" for e in fake.log) is (bulk_threshold == 0)


async def test_the_pull_filter_takes_other_statuses_gift_cards_and_bundle_parents():
    fake, clock = shop()
    pull = {"statuses": ["active", "archived"], "gift_cards": True, "bundle_parents": True}
    items = await adapter(fake, clock, pull=pull).pull_items()
    assert sorted(i.sku for i in items) == ["ACT", "ARC", "BND", "GFT"]


def test_a_status_shopify_does_not_know_is_refused():
    with pytest.raises(ValueError, match="'sold'"):
        settings(pull={"statuses": ["active", "sold"]})


async def test_the_filter_is_checked_on_what_comes_back(caplog):
    """Shopify drops a search term it cannot apply: what it sends back is checked again."""
    fake, clock = shop()
    fake.search_fields["productVariants"].pop("product_status")
    with caplog.at_level("INFO"):
        items = await adapter(fake, clock).pull_items()
    assert sorted(i.sku for i in items) == ["ACT", "DRF", "UNL"]
    assert any("left out by the pull filter: 1 archived" in r.getMessage() for r in caplog.records)


# --- the bulk operation -------------------------------------------------------------------------


@pytest.mark.parametrize("breaks", [1, 99])
async def test_a_bulk_result_that_breaks_off_is_fetched_again_and_fails_the_pull_when_it_keeps_breaking(breaks):
    fake, clock = shop()
    downloads: list[int] = []

    def broken(request: httpx.Request) -> httpx.Response:
        response = fake.handle(request)
        if request.url.path.startswith("/bulk-results/"):
            downloads.append(1)
            if len(downloads) <= breaks:
                lines = response.content.splitlines(keepends=True)

                async def first_line_then_gone():
                    yield lines[0]
                    raise httpx.ReadError("connection reset", request=request)

                return httpx.Response(200, content=first_line_then_gone())
        return response

    shopify = adapter(fake, clock, httpx.MockTransport(broken), bulk_threshold=0)
    if breaks == 1:
        assert sorted(i.sku for i in await shopify.pull_items()) == ["ACT", "DRF", "UNL"]
        assert len(downloads) == 2
    else:
        with pytest.raises(RemoteError, match="while reading"):
            await shopify.pull_items()


async def test_a_bulk_operation_that_times_out_is_cancelled():
    fake, clock = shop()
    fake.bulk_polls = 10_000
    shopify = adapter(fake, clock, bulk_threshold=0, bulk_poll_seconds=5, bulk_timeout_seconds=20)

    with pytest.raises(FetchError, match="cancelled"):
        await shopify.pull_items()

    [operation] = fake.bulk_operations.values()
    assert operation.status in ("CANCELING", "CANCELED")
    fake.bulk_polls = 1
    assert len(await shopify.pull_items()) == 3  # a new operation runs


async def test_a_completed_bulk_operation_without_a_file_is_an_error_for_a_shop_with_variants():
    fake, clock = shop()
    sleeps = Sleeps(clock)

    async def lose_the_result(seconds: float) -> None:
        await sleeps(seconds)
        for operation in fake.bulk_operations.values():
            operation.lines = []  # Shopify answers COMPLETED with no url

    with pytest.raises(FetchError, match="without a result file"):
        await adapter(fake, clock, sleep=lose_the_result, bulk_threshold=0).pull_items()


async def test_when_shopify_runs_no_more_bulk_operations_the_pull_reads_pages(caplog):
    fake, clock = shop()
    for _ in range(fake.bulk_concurrency):  # other passes' or apps' operations, still running
        number = fake.next_id()
        fake.bulk_operations[number] = BulkOperation(number, "{}", NOW, status="RUNNING", polls_left=99)

    with caplog.at_level("WARNING"):
        items = await adapter(fake, clock, bulk_threshold=0).pull_items()

    assert sorted(i.sku for i in items) == ["ACT", "DRF", "UNL"]
    assert any("pulling with pages" in r.getMessage() for r in caplog.records)
