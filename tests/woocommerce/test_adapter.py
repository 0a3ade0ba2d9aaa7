"""The WooCommerce adapter over HTTP, mocked at the httpx boundary (respx / MockTransport)."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, date, datetime

import httpx
import pytest
import respx

from stockstatus.adapters.woocommerce import platform
from stockstatus.adapters.woocommerce.auth import WooCommerceAuth
from stockstatus.adapters.woocommerce.client import WooCommerceAdapter
from stockstatus.adapters.woocommerce.settings import WooCommerceSettings
from stockstatus.core.catalogue import demo as demo_catalogue
from stockstatus.core.errors import AuthError, FetchError, PlatformError, RemoteError, TransientError
from stockstatus.core.http import HttpPolicy, make_client
from stockstatus.core.model import Decision, Status, Update
from stockstatus.core.platform import Adapter

SHOP = "https://shop.example"
API = f"{SHOP}/wp-json/wc/v3"
FAST = HttpPolicy(attempts=2)
ENV = {"WC_KEY": "ck_test", "WC_SECRET": "cs_test"}


async def no_sleep(_: float) -> None:
    return None


def settings(**fields) -> WooCommerceSettings:
    return WooCommerceSettings(url=SHOP, key_env="WC_KEY", secret_env="WC_SECRET", **fields)


def adapter(client: httpx.AsyncClient, **fields) -> WooCommerceAdapter:
    return WooCommerceAdapter(
        settings(**fields), client, WooCommerceAuth("ck_test", "cs_test"), policy=FAST, sleep=no_sleep
    )


def simple(pid: int, **fields):
    return {
        "id": pid,
        "name": f"Product {pid}",
        "type": "simple",
        "sku": f"SKU-{pid}",
        "manage_stock": True,
        "stock_quantity": 3,
        "stock_status": "instock",
        "backorders": "no",
        "meta_data": [],
        **fields,
    }


def pages(objects: list, per_page: int = 100):
    """A respx side effect serving `objects` like WooCommerce pages them."""
    total_pages = max(1, -(-len(objects) // per_page))

    def serve(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        size = int(request.url.params["per_page"])
        chunk = objects[(page - 1) * size : page * size]
        headers = {"X-WP-Total": str(len(objects)), "X-WP-TotalPages": str(total_pages)}
        return httpx.Response(200, json=chunk, headers=headers)

    return serve


def test_the_entry_point_object():
    assert platform.name == "woocommerce"
    assert platform.settings_model is WooCommerceSettings
    assert platform.missing_secrets(settings(), {"WC_KEY": "x"}) == [
        "secret_env: environment variable WC_SECRET is not set"
    ]
    assert platform.missing_secrets(settings(), ENV) == []


async def test_create_adapter_satisfies_the_protocol():
    async with make_client() as client:
        made = platform.create_adapter(settings(), client, ENV)
        assert isinstance(made, Adapter)
        assert made.capabilities.max_batch == 100 and made.capabilities.writes_stock_status
        assert "cs_test" not in repr(made)


# --- check ------------------------------------------------------------------------------------


def wp_index(home: str = SHOP, timezone: str = "Europe/Berlin", gmt_offset: object = 1):
    """Mock `GET /wp-json/` of the shop at SHOP, as WordPress answers it."""
    body = {"name": "Shop", "url": home, "home": home, "timezone_string": timezone, "gmt_offset": gmt_offset}
    return respx.get(f"{SHOP}/wp-json/").mock(return_value=httpx.Response(200, json=body))


@respx.mock
async def test_check_reads_one_product_one_order_and_sends_an_empty_batch():
    wp_index()
    route = respx.get(f"{API}/products").mock(return_value=httpx.Response(200, json=[{"id": 1}]))
    orders = respx.get(f"{API}/orders").mock(return_value=httpx.Response(200, json=[]))
    batch = respx.post(f"{API}/products/batch").mock(return_value=httpx.Response(200, json=[]))
    async with make_client() as client:
        await adapter(client).check()
    assert route.calls.last.request.url.params["per_page"] == "1"
    assert orders.calls.last.request.url.params["per_page"] == "1"
    assert json.loads(batch.calls.last.request.content) == {}


@respx.mock
async def test_check_explains_a_refused_key():
    wp_index()
    body = {
        "code": "woocommerce_rest_authentication_error",
        "message": "Consumer key is invalid.",
        "data": {"status": 401},
    }
    respx.get(f"{API}/products").mock(return_value=httpx.Response(401, json=body))
    async with make_client() as client:
        with pytest.raises(AuthError) as info:
            await adapter(client).check()
    text = str(info.value)
    assert "Consumer key is invalid" in text
    assert "check the consumer key and secret in WC_KEY and WC_SECRET" in text
    assert "cs_test" not in text


@respx.mock
async def test_a_key_without_write_permission_says_so():
    wp_index()
    body = {
        "code": "woocommerce_rest_cannot_edit",
        "message": "Sorry, you are not allowed to edit this resource.",
        "data": {"status": 403},
    }
    respx.get(f"{API}/products").mock(return_value=httpx.Response(403, json=body))
    async with make_client() as client:
        with pytest.raises(AuthError, match="give it Read/Write"):
            await adapter(client).check()


@respx.mock
async def test_check_explains_a_missing_api():
    wp_index()
    respx.get(f"{API}/products").mock(
        return_value=httpx.Response(404, json={"code": "rest_no_route", "message": "No route"})
    )
    async with make_client() as client:
        with pytest.raises(PlatformError, match="no WooCommerce REST API"):
            await adapter(client).check()


@pytest.mark.parametrize(
    ("configured", "home"),
    [
        ("http://localhost:8810", "http://127.0.0.1:8810"),
        ("http://shop.example", "https://shop.example"),  # plain http to a store behind a TLS proxy
        ("https://shop.example", "https://shop.example/store"),
    ],
)
async def test_check_names_the_url_to_use_when_url_is_not_the_stores_home(configured, home):
    seen: list[str] = []

    def store(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path == "/wp-json/":
            return httpx.Response(200, json={"home": home, "url": home, "timezone_string": "UTC", "gmt_offset": 0})
        return httpx.Response(
            401, json={"code": "woocommerce_rest_authentication_error", "message": "Invalid signature"}
        )

    async with make_client(transport=httpx.MockTransport(store)) as client:
        made = WooCommerceAdapter(
            settings().model_copy(update={"url": configured}), client, WooCommerceAuth("ck", "cs"), policy=FAST
        )
        with pytest.raises(PlatformError) as info:
            await made.check()
    assert f'set url = "{home}"' in str(info.value)
    assert "consumer key" not in str(info.value)
    assert seen == ["/wp-json/"]  # nothing signed was sent to the wrong address


async def test_check_follows_a_redirect_to_the_stores_home_and_names_it():
    def store(request: httpx.Request) -> httpx.Response:
        if request.url.scheme == "http":  # a TLS proxy sending plain http to https
            return httpx.Response(301, headers={"Location": str(request.url.copy_with(scheme="https"))})
        home = "https://shop.example"
        return httpx.Response(200, json={"home": home, "url": home, "timezone_string": "UTC", "gmt_offset": 0})

    async with make_client(transport=httpx.MockTransport(store)) as client:
        made = WooCommerceAdapter(
            settings().model_copy(update={"url": "http://shop.example"}),
            client,
            WooCommerceAuth("ck", "cs"),
            policy=FAST,
        )
        with pytest.raises(PlatformError, match=re.escape('set url = "https://shop.example"')):
            await made.check()


@respx.mock
async def test_an_invalid_signature_points_at_the_url_before_the_secret():
    respx.get(f"{SHOP}/wp-json/").mock(return_value=httpx.Response(404, json={"code": "rest_no_route"}))
    body = {
        "code": "woocommerce_rest_authentication_error",
        "message": "Invalid signature - provided signature does not match.",
        "data": {"status": 401},
    }
    respx.get(f"{API}/products").mock(return_value=httpx.Response(401, json=body))
    async with make_client() as client:
        with pytest.raises(AuthError) as info:
            await adapter(client).check()
    text = str(info.value)
    assert "must be the store's home URL" in text and "check the consumer key and secret" not in text


@pytest.mark.parametrize(
    ("timezone", "gmt_offset", "expected"),
    [("Europe/Berlin", 1, "Europe/Berlin"), ("", 2, "UTC+2"), ("", "-5.5", "UTC-5:30"), ("", "", None)],
)
@respx.mock
async def test_the_stores_timezone_is_read_from_the_wordpress_index(timezone, gmt_offset, expected):
    wp_index(timezone=timezone, gmt_offset=gmt_offset)
    respx.get(f"{API}/products").mock(return_value=httpx.Response(200, json=[]))
    respx.get(f"{API}/orders").mock(return_value=httpx.Response(200, json=[]))
    respx.post(f"{API}/products/batch").mock(return_value=httpx.Response(200, json=[]))
    async with make_client() as client:
        made = adapter(client)
        assert await made.store_timezone() is None  # not read before the check
        await made.check()
        assert await made.store_timezone() == expected


# --- pulling ----------------------------------------------------------------------------------


@respx.mock
async def test_pull_reads_every_page_and_every_variation():
    catalogue = [simple(i) for i in range(1, 251)]
    catalogue[10] = {**simple(11), "type": "variable", "variations": [901, 902], "manage_stock": False}
    catalogue[20] = {**simple(21), "type": "grouped"}
    catalogue[30] = {**simple(31), "type": "external"}
    variations = [
        {"id": 901, "sku": "V1", "name": "S", "manage_stock": True, "stock_quantity": 2, "stock_status": "instock"},
        {"id": 902, "sku": "V2", "name": "M", "manage_stock": False, "stock_status": "outofstock"},
    ]
    products = respx.get(f"{API}/products").mock(side_effect=pages(catalogue))
    respx.get(f"{API}/products/11/variations").mock(side_effect=pages(variations))
    async with make_client() as client:
        items = await adapter(client).pull_items()
    keys = [item.key for item in items]
    assert len(keys) == 250 - 3 + 2
    assert "11" not in keys and "21" not in keys and "31" not in keys
    assert {"11/901", "11/902"} <= set(keys)
    assert sorted(int(c.request.url.params["page"]) for c in products.calls) == [1, 2, 3]
    assert {c.request.url.params["per_page"] for c in products.calls} == {"100"}


@respx.mock
async def test_pull_with_many_variable_products_pages_variations_too():
    catalogue = [{**simple(i), "type": "variable", "variations": [1], "manage_stock": False} for i in (1, 2)]
    respx.get(f"{API}/products").mock(side_effect=pages(catalogue))
    many = [{"id": 1000 + n, "sku": f"V{n}", "manage_stock": True, "stock_quantity": 1} for n in range(150)]
    respx.get(f"{API}/products/1/variations").mock(side_effect=pages(many))
    respx.get(f"{API}/products/2/variations").mock(side_effect=pages(many[:3]))
    async with make_client() as client:
        items = await adapter(client).pull_items()
    assert len(items) == 153


@respx.mock
async def test_a_failed_page_fails_the_pull_never_an_empty_result():
    catalogue = [simple(i) for i in range(1, 251)]
    serve = pages(catalogue)

    def flaky(request: httpx.Request) -> httpx.Response:
        if request.url.params["page"] == "2":
            return httpx.Response(503, json={"code": "unavailable", "message": "down"})
        return serve(request)

    respx.get(f"{API}/products").mock(side_effect=flaky)
    async with make_client() as client:
        with pytest.raises(TransientError, match="503"):
            await adapter(client).pull_items()


@respx.mock
async def test_a_page_that_is_not_a_list_fails_the_pull():
    respx.get(f"{API}/products").mock(return_value=httpx.Response(200, json={"products": []}))
    async with make_client() as client:
        with pytest.raises(FetchError, match="not a list"):
            await adapter(client).pull_items()


@respx.mock
async def test_a_store_ignoring_the_page_parameter_is_refused():
    catalogue = [simple(i) for i in range(1, 201)]

    def ignores_page(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=catalogue[:100], headers={"X-WP-TotalPages": "2", "X-WP-Total": "200"})

    respx.get(f"{API}/products").mock(side_effect=ignores_page)
    async with make_client() as client:
        with pytest.raises(FetchError, match="repeats"):
            await adapter(client).pull_items()


def by_creation_second(objects: list):
    """Serve like WooCommerce 10 orders products by `date`: same-second ties in no fixed order.

    Each page request sorts the ties differently (as MySQL may), so items near a page boundary are
    served twice and others never; `X-WP-Total` stays right. Ordered by id, it pages correctly.
    """
    calls = 0

    def serve(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        page = int(request.url.params.get("page", "1"))
        size = int(request.url.params["per_page"])
        if request.url.params.get("orderby") == "id":
            ordered = sorted(objects, key=lambda o: o["id"], reverse=request.url.params.get("order") != "asc")
        else:
            ordered = objects[calls % len(objects) :] + objects[: calls % len(objects)]
        headers = {"X-WP-Total": str(len(objects)), "X-WP-TotalPages": str(-(-len(objects) // size))}
        return httpx.Response(200, json=ordered[(page - 1) * size : page * size], headers=headers)

    return serve


@respx.mock
async def test_products_are_listed_by_id_so_same_second_products_are_each_read_once():
    catalogue = [simple(i) for i in range(10, 261)]  # 251 products created in one second
    listing = respx.get(f"{API}/products").mock(side_effect=by_creation_second(catalogue))
    async with make_client() as client:
        items = await adapter(client).pull_items()
    assert sorted(int(item.key) for item in items) == list(range(10, 261))
    assert {(c.request.url.params["orderby"], c.request.url.params["order"]) for c in listing.calls} == {("id", "asc")}


@respx.mock
async def test_a_listing_whose_pages_miss_items_fails_naming_the_store_and_the_shortfall():
    catalogue = [simple(i) for i in range(10, 261)]
    serve = by_creation_second(catalogue)

    def ignores_orderby(request: httpx.Request) -> httpx.Response:
        # A plugin or cache that drops `orderby`: the store's own unstable order comes through.
        return serve(httpx.Request("GET", request.url.copy_remove_param("orderby")))

    respx.get(f"{API}/products").mock(side_effect=ignores_orderby)
    async with make_client() as client:
        with pytest.raises(
            FetchError, match=r"products at https://shop.example: the store reports 251 items .*never served"
        ):
            await adapter(client).pull_items()


@respx.mock
async def test_variations_and_orders_are_listed_by_id_too():
    respx.get(f"{API}/products").mock(
        side_effect=pages([{**simple(1), "type": "variable", "variations": [5], "manage_stock": False}])
    )
    variations = respx.get(f"{API}/products/1/variations").mock(
        side_effect=pages([{"id": 5, "sku": "V", "manage_stock": True, "stock_quantity": 1}])
    )
    orders = respx.get(f"{API}/orders").mock(side_effect=pages([]))
    async with make_client() as client:
        made = adapter(client)
        await made.pull_items()
        await made.open_orders()
    for call in (*variations.calls, *orders.calls):
        assert (call.request.url.params["orderby"], call.request.url.params["order"]) == ("id", "asc")


@respx.mock
async def test_a_product_created_during_the_pull_reads_the_listing_again_once():
    catalogue = [simple(i) for i in range(1, 201)]
    reads = 0

    def growing(request: httpx.Request) -> httpx.Response:
        nonlocal reads
        reads += 1
        if reads == 2:  # created between the first and second page of the first reading
            catalogue.append(simple(201))
        return pages(catalogue)(request)

    respx.get(f"{API}/products").mock(side_effect=growing)
    async with make_client() as client:
        items = await adapter(client, page_concurrency=1).pull_items()
    assert len(items) == 201
    assert reads == 2 + 3


@respx.mock
async def test_a_catalogue_that_keeps_moving_fails_the_pull():
    catalogue = [simple(i) for i in range(1, 201)]

    def always_growing(request: httpx.Request) -> httpx.Response:
        catalogue.append(simple(len(catalogue) + 1))
        return pages(catalogue)(request)

    respx.get(f"{API}/products").mock(side_effect=always_growing)
    async with make_client() as client:
        with pytest.raises(FetchError, match="changed"):
            await adapter(client, page_concurrency=1).pull_items()


def as_the_store_trims(objects: list, honour_fields: bool):
    """Pages like `pages`, keeping only the top-level fields named in `_fields` as WooCommerce 10 does."""
    serve = pages(objects)

    def trimmed(request: httpx.Request) -> httpx.Response:
        answer = serve(request)
        asked = request.url.params.get("_fields")
        if not honour_fields or not asked:
            return answer
        keep = set(asked.split(","))
        body = [{k: v for k, v in obj.items() if k in keep} for obj in answer.json()]
        return httpx.Response(200, json=body, headers=answer.headers)

    return trimmed


@pytest.mark.parametrize("honour_fields", [False, True])
@respx.mock
async def test_the_pull_reads_the_same_whether_or_not_the_store_trims_to_fields(honour_fields):
    extra = {"status": "publish", "price": "9.50", "date_modified_gmt": "2026-12-01T10:00:00", "parent_id": 0}
    brand = [{"id": 3, "name": "Acme", "slug": "acme"}]
    meta_entries = [{"id": 1, "key": "release_date", "value": "2027-01-01"}]
    catalogue = [
        {**simple(1), **extra, "tags": [{"id": 1, "name": "new"}], "brands": brand, "meta_data": meta_entries},
        {**simple(2), **extra, "type": "variable", "variations": [5], "manage_stock": True, "stock_quantity": 4},
    ]
    variations = [
        {
            "id": 5,
            "sku": "V",
            "name": "",
            "manage_stock": "parent",
            "stock_quantity": 4,
            "stock_status": "instock",
            "backorders": "no",
            "attributes": [{"id": 0, "name": "Size", "option": "L"}],
            "meta_data": [],
            **extra,
        },
    ]
    orders = [
        {
            "id": 7,
            "number": "1007",
            "status": "processing",
            "date_created_gmt": "2026-12-01T10:00:00",
            "line_items": [{"product_id": 2, "variation_id": 5, "sku": "V", "quantity": 2, "name": "x"}],
            **extra,
        },
    ]
    respx.get(f"{API}/products").mock(side_effect=as_the_store_trims(catalogue, honour_fields))
    respx.get(f"{API}/products/2/variations").mock(side_effect=as_the_store_trims(variations, honour_fields))
    respx.get(f"{API}/orders").mock(side_effect=as_the_store_trims(orders, honour_fields))
    async with make_client() as client:
        made = adapter(client)
        items, open_orders = await made.pull_items(), await made.open_orders()
    by_key = {item.key: item for item in items}
    assert by_key["1"].vendor == "Acme" and by_key["1"].tags == {"new"}
    assert by_key["1"].release_date == date(2027, 1, 1)
    assert by_key["2/5"].available == 4 and by_key["2/5"].name.endswith("— L")
    assert open_orders[0].lines[0].item_key == "2/5" and open_orders[0].number == "1007"


async def test_page_requests_in_flight_are_bounded():
    in_flight = peak = 0
    catalogue = [simple(i) for i in range(1, 1001)]
    serve = pages(catalogue)

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return serve(request)

    async with make_client(transport=httpx.MockTransport(handler)) as client:
        items = await adapter(client, page_concurrency=3).pull_items()
    assert len(items) == 1000
    assert peak == 3


def variable(pid: int, variation_ids: list[int]):
    return {**simple(pid), "type": "variable", "variations": variation_ids, "manage_stock": False}


def variations_of(vids: list[int]):
    return [
        {"id": v, "sku": f"V-{v}", "manage_stock": True, "stock_quantity": 1, "stock_status": "instock"} for v in vids
    ]


async def test_variation_and_product_page_requests_in_flight_are_bounded_together():
    # 300 variable products: their listings and the product pages share one bound, and the
    # pull does not start a task for each of them at once.
    catalogue = [variable(i, [10_000 + i]) for i in range(1, 301)] + [simple(i) for i in range(301, 501)]
    serve = pages(catalogue)
    in_flight = peak = tasks = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak, tasks
        in_flight += 1
        peak = max(peak, in_flight)
        tasks = max(tasks, len(asyncio.all_tasks()))
        await asyncio.sleep(0.001)
        in_flight -= 1
        if request.url.path.endswith("/variations"):
            pid = int(request.url.path.split("/")[-2])
            return pages(variations_of([10_000 + pid]))(request)
        return serve(request)

    async with make_client(transport=httpx.MockTransport(handler)) as client:
        items = await adapter(client, page_concurrency=3).pull_items()
    assert len(items) == 500
    assert peak == 3
    assert tasks < 20


async def test_variations_are_listed_while_the_product_pages_are_still_read():
    # The store is kept busy: a variable product's variations are asked for as soon as its page
    # is read, not after the listing's last page (which here waits for that request).
    catalogue = [variable(1, [901])] + [simple(i) for i in range(2, 301)]
    serve = pages(catalogue)
    asked = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/products/1/variations"):
            asked.set()
            return pages(variations_of([901]))(request)
        if request.url.params["page"] == "3":
            await asyncio.wait_for(asked.wait(), timeout=5)
        return serve(request)

    async with make_client(transport=httpx.MockTransport(handler)) as client:
        items = await adapter(client, page_concurrency=2).pull_items()
    assert [item.key for item in items][:2] == ["1/901", "2"]
    assert len(items) == 300


@respx.mock
async def test_a_listing_read_again_lists_each_variable_products_variations_once():
    catalogue = [variable(1, [901])] + [simple(i) for i in range(2, 201)]
    reads = 0

    def growing(request: httpx.Request) -> httpx.Response:
        nonlocal reads
        reads += 1
        if reads == 2:
            catalogue.append(variable(201, [902]))
        return pages(catalogue)(request)

    respx.get(f"{API}/products").mock(side_effect=growing)
    first = respx.get(f"{API}/products/1/variations").mock(side_effect=pages(variations_of([901])))
    respx.get(f"{API}/products/201/variations").mock(side_effect=pages(variations_of([902])))
    async with make_client() as client:
        items = await adapter(client, page_concurrency=1).pull_items()
    keys = [item.key for item in items]
    assert len(keys) == len(set(keys)) == 201
    assert {"1/901", "201/902"} <= set(keys)
    assert first.call_count == 1


@respx.mock
async def test_a_failed_variation_listing_fails_the_pull():
    catalogue = [variable(i, [900 + i]) for i in range(1, 40)]
    respx.get(f"{API}/products").mock(side_effect=pages(catalogue))
    respx.get(re.compile(rf"{API}/products/\d+/variations")).mock(
        side_effect=lambda request: (
            httpx.Response(404, json={"code": "woocommerce_rest_product_invalid_id", "message": "Invalid ID."})
            if "/products/17/" in request.url.path
            else pages(variations_of([900 + int(request.url.path.split("/")[-2])]))(request)
        )
    )
    async with make_client() as client:
        with pytest.raises(PlatformError, match="Invalid ID"):
            await adapter(client, page_concurrency=2).pull_items()


@respx.mock
async def test_open_orders():
    orders = [
        {
            "id": 7,
            "status": "on-hold",
            "date_created_gmt": "2026-11-21T09:30:00",
            "line_items": [{"product_id": 11, "variation_id": 901, "quantity": 2, "sku": "V1"}],
        }
    ]
    route = respx.get(f"{API}/orders").mock(side_effect=pages(orders))
    async with make_client() as client:
        found = await adapter(client, order_statuses=["processing", "on-hold", "backordered"]).open_orders()
    assert route.calls.last.request.url.params["status"] == "processing,on-hold,backordered"
    assert found[0].created_at == datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
    assert found[0].lines[0].item_key == "11/901"


# --- pushing ----------------------------------------------------------------------------------


def batch_echo(request: httpx.Request) -> httpx.Response:
    """products/batch as WooCommerce answers a successful one: each object back."""
    body = json.loads(request.content)
    return httpx.Response(200, json={"update": [{**obj, "name": "saved"} for obj in body["update"]]})


async def planned(client, items_and_decisions, **fields):
    made = adapter(client, **fields)
    updates = []
    for item, decision in items_and_decisions:
        plan = made.plan(item, decision)
        updates.append(Update(item=item, decision=decision, fields=plan))
    return made, updates


def product_item(pid, **fields):
    from stockstatus.adapters.woocommerce.mapping import product_item as build

    return build(simple(pid, **fields), settings().meta_keys)


BACKORDER = Decision(status=Status.BACKORDER, rule="r", eta=date(2026, 12, 15))
OUT = Decision(status=Status.OUT_OF_STOCK, rule="r")


@respx.mock
async def test_batches_split_at_batch_size_and_every_update_gets_a_result():
    route = respx.post(f"{API}/products/batch").mock(side_effect=batch_echo)
    async with make_client() as client:
        made, updates = await planned(client, [(product_item(i, stock_quantity=0), BACKORDER) for i in range(1, 251)])
        results = await made.push(updates)
    sizes = sorted(len(json.loads(c.request.content)["update"]) for c in route.calls)
    assert sizes == [50, 100, 100]
    assert [r.item_key for r in results] == [str(i) for i in range(1, 251)]
    assert all(r.ok for r in results)
    first = json.loads(route.calls[0].request.content)["update"][0]
    assert first["backorders"] == "notify" and "stock_status" not in first
    assert {"key": "connector_status", "value": "backorder"} in first["meta_data"]


@respx.mock
async def test_smaller_configured_batches():
    route = respx.post(f"{API}/products/batch").mock(side_effect=batch_echo)
    async with make_client() as client:
        made, updates = await planned(
            client, [(product_item(i, stock_quantity=0), OUT) for i in range(1, 8)], batch_size=3
        )
        await made.push(updates)
    assert len(route.calls) == 3


@respx.mock
async def test_variations_go_to_their_parents_batch_endpoint():
    from stockstatus.adapters.woocommerce.mapping import variation_item

    parent = {**simple(14), "type": "variable", "variations": [15]}
    variation = {"id": 15, "sku": "TEE-S", "manage_stock": False, "stock_status": "instock"}
    item = variation_item(parent, variation, settings().meta_keys)
    route = respx.post(f"{API}/products/14/variations/batch").mock(side_effect=batch_echo)
    async with make_client() as client:
        made, updates = await planned(client, [(item, OUT)])
        results = await made.push(updates)
    sent = json.loads(route.calls.last.request.content)["update"]
    assert sent[0]["id"] == 15 and sent[0]["stock_status"] == "outofstock"
    assert results[0].ok


@respx.mock
async def test_per_item_errors_and_items_missing_from_the_answer():
    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)["update"]
        return httpx.Response(
            200,
            json={
                "update": [
                    body[0],
                    {
                        "id": body[1]["id"],
                        "error": {
                            "code": "woocommerce_rest_product_invalid_id",
                            "message": "Invalid ID.",
                            "data": {"status": 400},
                        },
                    },
                ]
            },
        )

    respx.post(f"{API}/products/batch").mock(side_effect=answer)
    async with make_client() as client:
        made, updates = await planned(client, [(product_item(i, stock_quantity=0), OUT) for i in (1, 2, 3)])
        results = await made.push(updates)
    assert [r.ok for r in results] == [True, False, False]
    assert results[1].error == "woocommerce_rest_product_invalid_id: Invalid ID."
    assert "did not include #3" in results[2].error


@respx.mock
async def test_a_refused_request_fails_only_its_items():
    calls = 0

    def answer(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return httpx.Response(
                413,
                json={
                    "code": "woocommerce_rest_request_entity_too_large",
                    "message": "Unable to accept more than 100 items for this request.",
                },
            )
        return batch_echo(request)

    respx.post(f"{API}/products/batch").mock(side_effect=answer)
    async with make_client() as client:
        made, updates = await planned(
            client, [(product_item(i, stock_quantity=0), OUT) for i in range(1, 6)], batch_size=2, write_concurrency=1
        )
        results = await made.push(updates)
    assert [r.ok for r in results] == [False, False, True, True, True]
    assert "413" in results[0].error and "batch_size" in results[0].error


@respx.mock
async def test_a_server_error_after_retries_fails_the_request_not_the_push():
    respx.post(f"{API}/products/batch").mock(return_value=httpx.Response(502))
    async with make_client() as client:
        made, updates = await planned(client, [(product_item(1, stock_quantity=0), OUT)])
        results = await made.push(updates)
    assert not results[0].ok and "502" in results[0].error


async def test_write_requests_in_flight_are_bounded():
    in_flight = peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return batch_echo(request)

    async with make_client(transport=httpx.MockTransport(handler)) as client:
        made, updates = await planned(
            client, [(product_item(i, stock_quantity=0), OUT) for i in range(1, 21)], batch_size=2, write_concurrency=3
        )
        results = await made.push(updates)
    assert all(r.ok for r in results)
    assert peak == 3


async def test_push_refuses_an_invalid_enum_before_sending_anything():
    async with make_client(transport=httpx.MockTransport(lambda r: pytest.fail("sent"))) as client:
        item = product_item(1, manage_stock=False)
        bad = Update(item=item, decision=OUT, fields={"stock_status": "sold-out"})
        with pytest.raises(ValueError, match="SKU-1"):
            await adapter(client).push([bad])


# --- stock pools ------------------------------------------------------------------------------


def pool_items(parent_backorders="no"):
    from stockstatus.adapters.woocommerce.mapping import StockPool, variation_item

    parent = {**simple(50, stock_quantity=0, backorders=parent_backorders), "type": "variable", "variations": [51, 52]}
    pool = StockPool(parent_id=50, backorders=parent_backorders)
    keys = settings().meta_keys
    return [
        variation_item(
            parent,
            {"id": vid, "sku": f"POOL-{vid}", "manage_stock": "parent", "stock_status": "outofstock"},
            keys,
            pool,
        )
        for vid in (51, 52)
    ]


@respx.mock
async def test_a_shared_pool_gets_one_write_to_the_parent():
    products = respx.post(f"{API}/products/batch").mock(side_effect=batch_echo)
    variations = respx.post(f"{API}/products/50/variations/batch").mock(side_effect=batch_echo)
    a, b = pool_items()
    async with make_client() as client:
        made, updates = await planned(client, [(a, BACKORDER), (b, BACKORDER)])
        results = await made.push(updates)
    assert all(r.ok for r in results)
    assert json.loads(products.calls.last.request.content)["update"] == [{"id": 50, "backorders": "notify"}]
    sent = json.loads(variations.calls.last.request.content)["update"]
    assert all("backorders" not in v and "stock_status" not in v for v in sent)


async def test_a_pools_parent_is_saved_before_its_variations_and_each_variation_after_it():
    order: list[str] = []

    async def store(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.01 if request.url.path.endswith("/products/batch") else 0)
        order.append(request.url.path)
        saved[request.url.path] = sorted(obj["id"] for obj in json.loads(request.content)["update"])
        return batch_echo(request)

    saved: dict[str, list[int]] = {}
    a, b = pool_items(parent_backorders="no")
    async with make_client(transport=httpx.MockTransport(store)) as client:
        made = adapter(client)
        # Both want backorders; b was planned (the pass saw it) but only a is pushed: b is saved
        # after the parent all the same, so the store derives its status from the new policy.
        made.plan(b, BACKORDER)
        updates = [Update(item=a, decision=BACKORDER, fields=made.plan(a, BACKORDER))]
        results = await made.push(updates)
    assert all(r.ok for r in results)
    assert order == ["/wp-json/wc/v3/products/batch", "/wp-json/wc/v3/products/50/variations/batch"]
    assert saved["/wp-json/wc/v3/products/50/variations/batch"] == [51, 52]


async def test_only_a_pools_own_variations_wait_for_its_parent():
    from stockstatus.adapters.woocommerce.mapping import variation_item

    order: list[str] = []
    other_saved = asyncio.Event()

    async def store(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/products/60/variations/batch"):
            other_saved.set()
        elif request.url.path.endswith("/products/batch"):
            # The pool's parent is saved only once the other product's variation has been: a
            # push holding every variation back until the parents are saved never gets there.
            await asyncio.wait_for(other_saved.wait(), timeout=5)
        order.append(request.url.path.removeprefix("/wp-json/wc/v3/"))
        return batch_echo(request)

    a, b = pool_items(parent_backorders="no")
    other = {**simple(60), "type": "variable", "variations": [61]}
    own = {"id": 61, "sku": "OWN-61", "manage_stock": True, "stock_quantity": 0, "stock_status": "outofstock"}
    c = variation_item(other, own, settings().meta_keys)
    async with make_client(transport=httpx.MockTransport(store)) as client:
        made, updates = await planned(client, [(a, BACKORDER), (b, BACKORDER), (c, OUT)])
        results = await made.push(updates)
    assert all(r.ok for r in results)
    assert order == ["products/60/variations/batch", "products/batch", "products/50/variations/batch"]


@respx.mock
async def test_a_pool_conflict_keeps_the_parent_from_selling_past_zero():
    products = respx.post(f"{API}/products/batch").mock(side_effect=batch_echo)
    respx.post(f"{API}/products/50/variations/batch").mock(side_effect=batch_echo)
    a, b = pool_items(parent_backorders="no")
    async with make_client() as client:
        made = adapter(client)
        assert made.plan(b, OUT).get("parent_backorders") is None  # already "no": b's plan holds only meta
        updates = [Update(item=a, decision=BACKORDER, fields=made.plan(a, BACKORDER))]
        results = await made.push(updates)
    assert not products.calls  # the parent already holds "no"
    assert not results[0].ok and "must not sell past zero" in results[0].error


def test_failures_are_remote_errors():
    assert issubclass(TransientError, RemoteError)


# --- against the fake WooCommerce ---------------------------------------------------------------

fake_module = pytest.importorskip("stockstatus.adapters.woocommerce.fake")

RELEASE = date(2027, 1, 15)
DECISIONS = {
    "MUG": Decision(status=Status.PRE_ORDER, rule="pre-order", eta=RELEASE, message="Ships 15 January"),
    "POSTER": Decision(status=Status.OUT_OF_STOCK, rule="no timeline"),
    "LAMP": Decision(status=Status.IN_STOCK, rule="stock", on_sellout=Status.BACKORDER),
    "TEE-S": Decision(status=Status.BACKORDER, rule="restock", eta=date(2026, 12, 10)),
    "TEE-M": Decision(status=Status.BACKORDER, rule="restock", eta=date(2026, 12, 10)),
    "CAP-R": Decision(status=Status.BACKORDER, rule="restock", eta=date(2026, 12, 3), message="Back soon"),
    "CAP-B": Decision(status=Status.OUT_OF_STOCK, rule="discontinued"),
}


def seeded(base_url: str = "https://woo.test"):
    fake = fake_module.FakeWooCommerce(base_url=base_url, consumer_key="ck_fake", consumer_secret="cs_fake")
    fake.create_product(
        name="Mug",
        sku="MUG",
        manage_stock=True,
        stock_quantity=0,
        backorders="no",
        tags=["kitchen"],
        meta_data=[{"key": "release_date", "value": RELEASE.isoformat()}],
    )
    fake.create_product(name="Poster", sku="POSTER", manage_stock=False, stock_status="instock")
    fake.create_product(name="Lamp", sku="LAMP", manage_stock=True, stock_quantity=4, backorders="no")
    fake.create_product(name="Gift set", type="grouped")
    tee = fake.create_product(
        name="Tee",
        type="variable",
        manage_stock=True,
        stock_quantity=0,
        backorders="no",
        attributes=[{"name": "Size", "options": ["S", "M"], "variation": True}],
    )
    for size in ("S", "M"):
        fake.create_variation(
            tee["id"], sku=f"TEE-{size}", manage_stock=False, attributes=[{"name": "Size", "option": size}]
        )
    cap = fake.create_product(
        name="Cap",
        type="variable",
        attributes=[{"name": "Colour", "options": ["Red", "Blue"], "variation": True}],
    )
    fake.create_variation(
        cap["id"],
        sku="CAP-R",
        manage_stock=True,
        stock_quantity=-2,
        backorders="notify",
        attributes=[{"name": "Colour", "option": "Red"}],
    )
    fake.create_variation(
        cap["id"],
        sku="CAP-B",
        manage_stock=False,
        stock_status="instock",
        attributes=[{"name": "Colour", "option": "Blue"}],
    )
    return fake


def fake_settings(fake) -> tuple[WooCommerceSettings, dict[str, str]]:
    return settings().model_copy(update={"url": fake.base_url}), {"WC_KEY": "ck_fake", "WC_SECRET": "cs_fake"}


async def sync_once(made) -> tuple[list, list]:
    items = await made.pull_items()
    updates = []
    for item in items:
        fields = made.plan(item, DECISIONS[item.sku])
        if fields:
            updates.append(Update(item=item, decision=DECISIONS[item.sku], fields=fields))
    return updates, (await made.push(updates) if updates else [])


@pytest.mark.parametrize("base_url", ["https://woo.test", "http://woo.test"])
async def test_pull_push_read_back_against_the_fake(base_url):
    fake = seeded(base_url)
    store, environ = fake_settings(fake)
    async with make_client(transport=fake.transport()) as client:
        made = platform.create_adapter(store, client, environ)
        await made.check()
        items = await made.pull_items()
        by_sku = {item.sku: item for item in items}
        assert set(by_sku) == set(DECISIONS)  # no grouped product, no variable parents
        assert by_sku["MUG"].release_date == RELEASE and by_sku["MUG"].tags == {"kitchen"}
        assert by_sku["TEE-S"].platform["manage_stock"] == "parent"
        assert by_sku["CAP-R"].available == -2

        updates, results = await sync_once(made)
        assert results and all(r.ok for r in results), results
        planned = {u.item.sku: dict(u.fields) for u in updates}
        assert planned["TEE-S"]["parent_backorders"] == "notify" and "stock_status" not in planned["TEE-S"]
        assert "backorders" not in planned["CAP-R"] and planned["CAP-B"]["stock_status"] == "outofstock"
        again, _ = await sync_once(made)
        assert again == []  # what was written reads back as the decision: nothing more to push

    mug = next(p for p in fake.products.values() if p["sku"] == "MUG")
    mug = fake.get_product(mug["id"])
    assert mug["backorders"] == "notify" and mug["stock_status"] == "onbackorder"
    meta = {m["key"]: m["value"] for m in mug["meta_data"]}
    assert meta["connector_status"] == "pre_order" and meta["connector_eta"] == "2027-01-15"
    poster = fake.get_product(next(p["id"] for p in fake.products.values() if p["sku"] == "POSTER"))
    assert poster["stock_status"] == "outofstock"
    lamp = fake.get_product(next(p["id"] for p in fake.products.values() if p["sku"] == "LAMP"))
    assert lamp["backorders"] == "notify" and lamp["stock_status"] == "instock"  # pre-armed
    tee = fake.get_product(next(p["id"] for p in fake.products.values() if p["name"] == "Tee"))
    assert tee["backorders"] == "notify"  # the shared pool's policy went to the parent


async def test_shown_after_push_reads_the_decision_back():
    fake = seeded()
    store, environ = fake_settings(fake)
    async with make_client(transport=fake.transport()) as client:
        made = platform.create_adapter(store, client, environ)
        await sync_once(made)
        shown = {item.sku: item.shown for item in await made.pull_items()}
    assert shown["MUG"].status is Status.PRE_ORDER and shown["MUG"].eta == RELEASE
    assert shown["CAP-R"].message == "Back soon"
    assert shown["CAP-B"].status is Status.OUT_OF_STOCK


async def test_a_transient_page_failure_is_retried_by_the_policy():
    fake = seeded()
    store, _ = fake_settings(fake)
    fake.fail_next(503, path_contains="/variations")
    async with make_client(transport=fake.transport()) as client:
        made = WooCommerceAdapter(store, client, WooCommerceAuth("ck_fake", "cs_fake"), policy=FAST, sleep=no_sleep)
        assert len(await made.pull_items()) == len(DECISIONS)


async def test_a_page_failing_beyond_the_retries_fails_the_pull_with_the_fake():
    fake = seeded()
    store, _ = fake_settings(fake)
    fake.fail_next(500, times=5, path_contains="/variations")
    async with make_client(transport=fake.transport()) as client:
        made = WooCommerceAdapter(store, client, WooCommerceAuth("ck_fake", "cs_fake"), policy=FAST, sleep=no_sleep)
        with pytest.raises(RemoteError):
            await made.pull_items()


async def test_wrong_secret_is_an_auth_error_with_the_fake():
    fake = seeded("http://woo.test")
    store, _ = fake_settings(fake)
    async with make_client(transport=fake.transport()) as client:
        made = platform.create_adapter(store, client, {"WC_KEY": "ck_fake", "WC_SECRET": "cs_wrong"})
        with pytest.raises(AuthError, match=r"check the consumer (key and )?secret"):
            await made.check()


async def test_open_orders_from_the_fake():
    fake = seeded()
    mug = next(p for p in fake.products.values() if p["sku"] == "MUG")
    fake.create_order(status="processing", line_items=[{"product_id": mug["id"], "quantity": 2}])
    fake.create_order(status="completed", line_items=[{"product_id": mug["id"], "quantity": 1}])
    store, environ = fake_settings(fake)
    async with make_client(transport=fake.transport()) as client:
        orders = await platform.create_adapter(store, client, environ).open_orders()
    assert len(orders) == 1
    assert orders[0].lines[0].item_key == str(mug["id"]) and orders[0].lines[0].quantity == 2
    assert orders[0].created_at.tzinfo is not None


async def test_many_products_are_paged_and_batched_against_the_fake():
    fake = fake_module.FakeWooCommerce(base_url="https://woo.test", consumer_key="ck_fake", consumer_secret="cs_fake")
    for n in range(230):
        fake.create_product(name=f"P{n}", sku=f"P{n}", manage_stock=True, stock_quantity=0, backorders="no")
    store, environ = fake_settings(fake)
    decision = Decision(status=Status.BACKORDER, rule="r", eta=date(2026, 12, 1))
    async with make_client(transport=fake.transport()) as client:
        made = platform.create_adapter(store, client, environ)
        items = await made.pull_items()
        assert len(items) == 230
        updates = [Update(item=i, decision=decision, fields=made.plan(i, decision)) for i in items]
        results = await made.push(updates)
        assert all(r.ok for r in results)
        assert all(made.plan(i, decision) == {} for i in await made.pull_items())
    batches = [r for r in fake.write_requests if r[1].endswith("/products/batch")]
    assert len(batches) == 3


async def test_demo_store_serves_the_demo_catalogue():
    demo = platform.demo_store(demo_catalogue(date(2026, 11, 22)))
    store = WooCommerceSettings.model_validate(demo.settings)
    assert store.url == "https://demo-woo.example"
    assert platform.missing_secrets(store, demo.environ) == []
    async with make_client(transport=demo.transport) as client:
        made = platform.create_adapter(store, client, demo.environ)
        await made.check()
        assert await made.pull_items()


async def test_an_outvoted_pool_member_shows_what_the_store_sells_and_is_reported_once():
    """Two sizes share the parent's stock; one is on pre-order, the other discontinued."""
    fake = fake_module.FakeWooCommerce(base_url="https://woo.test", consumer_key="ck_fake", consumer_secret="cs_fake")
    tee = fake.create_product(
        name="Tee",
        type="variable",
        manage_stock=True,
        stock_quantity=0,
        backorders="notify",
        attributes=[{"name": "Size", "options": ["S", "M"], "variation": True}],
    )
    for size in ("S", "M"):
        fake.create_variation(
            tee["id"], sku=f"TEE-{size}", manage_stock=False, attributes=[{"name": "Size", "option": size}]
        )
    wanted = {
        "TEE-S": Decision(status=Status.PRE_ORDER, rule="r", eta=date(2027, 1, 15), message="Pre-order: ships 15 Jan"),
        "TEE-M": OUT,
    }
    posts: list[str] = []
    inner = fake.transport()

    async def counting(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            posts.append(request.url.path)
        return await inner.handle_async_request(request)

    store, environ = fake_settings(fake)

    async def one_pass(made):
        updates = [
            Update(item=item, decision=wanted[item.sku], fields=fields)
            for item in await made.pull_items()
            if (fields := made.plan(item, wanted[item.sku]))
        ]
        return updates, (await made.push(updates) if updates else [])

    async with make_client(transport=httpx.MockTransport(counting)) as client:
        made = platform.create_adapter(store, client, environ)
        updates, results = await one_pass(made)
        outcome = {u.item.sku: r for u, r in zip(updates, results, strict=True)}
        assert outcome["TEE-M"].ok
        assert not outcome["TEE-S"].ok and "must not sell past zero" in outcome["TEE-S"].error
        assert "connector_pool_conflict = pre_order" in outcome["TEE-S"].error

        parent = fake.get_product(tee["id"])
        assert parent["backorders"] == "no"  # the discontinued size decides the shared stock
        small = next(v for v in fake.variations.values() if v["sku"] == "TEE-S")
        shown = {m["key"]: m["value"] for m in fake.get_variation(tee["id"], small["id"])["meta_data"]}
        # No pre-order promised that the store will not take: it shows what the store sells.
        assert shown["connector_status"] == "out_of_stock" and shown["connector_pool_conflict"] == "pre_order"
        assert not shown.get("connector_message") and not shown.get("connector_eta")

        posts.clear()
        again, _ = await one_pass(made)
        assert again == [] and posts == []  # the same disagreement: nothing planned, nothing failed

        wanted["TEE-M"] = wanted["TEE-S"]  # the sizes agree again: the pre-order is written
        await one_pass(made)
        updates, results = await one_pass(made)
        assert all(r.ok for r in results)
        shown = {m["key"]: m["value"] for m in fake.get_variation(tee["id"], small["id"])["meta_data"]}
        assert shown["connector_status"] == "pre_order" and not shown.get("connector_pool_conflict")
        assert fake.get_product(tee["id"])["backorders"] == "notify"
