"""The fake WooCommerce behaves like the recorded WooCommerce 10 store."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import re
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx
import pytest

from stockstatus.adapters.woocommerce.fake import FakeWooCommerce, sandbox, seed, serve
from stockstatus.core import catalogue

SCHEMAS = Path(__file__).resolve().parents[2].parent / "shared" / "platform-schemas"
API = "/wp-json/wc/v3"
START = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


class Ticking:
    """A clock that moves one second per reading, so every save gets a later date."""

    def __init__(self, start: datetime = START) -> None:
        self.moment = start

    def __call__(self) -> datetime:
        self.moment += timedelta(seconds=1)
        return self.moment


@pytest.fixture
def fake() -> FakeWooCommerce:
    return FakeWooCommerce(now=Ticking())


@pytest.fixture
def client(fake: FakeWooCommerce) -> Iterator[httpx.Client]:
    with httpx.Client(
        transport=fake.transport(), base_url=fake.base_url, auth=(fake.consumer_key, fake.consumer_secret)
    ) as http:
        yield http


def managed(fake: FakeWooCommerce, sku: str, quantity: int | None, **fields: object) -> dict:
    return fake.create_product(
        name=sku.title(), sku=sku, regular_price="10", manage_stock=True, stock_quantity=quantity, **fields
    )


# --- credentials ------------------------------------------------------------------------------


def test_generated_credentials_look_like_real_ones():
    fake = FakeWooCommerce()
    assert fake.consumer_key.startswith("ck_") and len(fake.consumer_key) == 43
    assert fake.consumer_secret.startswith("cs_") and len(fake.consumer_secret) == 43
    int(fake.consumer_key[3:], 16), int(fake.consumer_secret[3:], 16)
    assert fake.consumer_secret not in repr(fake)


# --- pagination --------------------------------------------------------------------------------


def test_pages_carry_totals_and_links(fake, client):
    for n in range(25):
        managed(fake, f"SKU-{n:02d}", 5)
    first = client.get(f"{API}/products", params={"per_page": 10})
    assert first.status_code == 200
    assert len(first.json()) == 10
    assert first.headers["X-WP-Total"] == "25" and first.headers["X-WP-TotalPages"] == "3"
    assert first.links["next"]["url"] == f"{fake.base_url}{API}/products?per_page=10&page=2"
    assert "prev" not in first.links

    last = client.get(f"{API}/products", params={"per_page": 10, "page": 3})
    assert len(last.json()) == 5
    assert "next" not in last.links and last.links["prev"]["url"].endswith("page=2")

    everything = [p["id"] for page in (1, 2, 3) for p in client.get(f"{API}/products", params={"page": page}).json()]
    assert len(set(everything)) == 25
    assert everything == sorted(everything, reverse=True)  # newest first by default


def test_a_page_past_the_last_is_empty_with_the_real_totals(fake, client):
    for n in range(3):
        managed(fake, f"SKU-{n}", 1)
    beyond = client.get(f"{API}/products", params={"page": 5})
    assert beyond.status_code == 200
    assert beyond.json() == []
    assert beyond.headers["X-WP-Total"] == "3" and beyond.headers["X-WP-TotalPages"] == "1"
    assert beyond.links["prev"]["url"].endswith("page=1")


def test_per_page_above_100_is_refused_like_wordpress(client):
    assert client.get(f"{API}/products", params={"per_page": 100}).status_code == 200
    refused = client.get(f"{API}/products", params={"per_page": 101})
    assert refused.status_code == 400
    message = "per_page must be between 1 (inclusive) and 100 (inclusive)"
    assert refused.json() == {
        "code": "rest_invalid_param",
        "message": "Invalid parameter(s): per_page",
        "data": {
            "status": 400,
            "params": {"per_page": message},
            "details": {"per_page": {"code": "rest_out_of_bounds", "message": message, "data": None}},
        },
    }


def test_list_filters(fake, client):
    kept = managed(fake, "KEEP", 3)
    managed(fake, "OTHER", 3)
    variable = fake.create_product(name="Beans", type="variable")
    assert [p["id"] for p in client.get(f"{API}/products", params={"sku": "KEEP"}).json()] == [kept["id"]]
    assert [p["id"] for p in client.get(f"{API}/products", params={"type": "variable"}).json()] == [variable["id"]]
    assert [p["id"] for p in client.get(f"{API}/products", params={"include": f"{kept['id']}"}).json()] == [kept["id"]]
    ordered = client.get(f"{API}/products", params={"orderby": "id", "order": "asc"}).json()
    assert [p["id"] for p in ordered] == sorted(p["id"] for p in ordered)


def test_modified_after_sees_only_later_writes(fake, client):
    old = managed(fake, "OLD", 3)
    touched = managed(fake, "TOUCHED", 3)
    cutoff = client.get(f"{API}/products/{old['id']}").json()["date_modified_gmt"]
    fake.create_product(name="New", sku="NEW")
    client.put(f"{API}/products/{touched['id']}", json={})  # a no-op write still counts
    seen = client.get(f"{API}/products", params={"modified_after": cutoff, "dates_are_gmt": "true"}).json()
    assert sorted(p["sku"] for p in seen) == ["NEW", "TOUCHED"]


# --- routes and errors ----------------------------------------------------------------------------


def test_unknown_route_and_wrong_method_answer_like_wordpress(client):
    for response in (client.get(f"{API}/nope"), client.delete(f"{API}/products")):
        assert response.status_code == 404
        assert response.json() == {
            "code": "rest_no_route",
            "message": "No route was found matching the URL and request method.",
            "data": {"status": 404},
        }


def test_unknown_ids(client):
    missing = client.get(f"{API}/products/999")
    assert missing.status_code == 404
    assert missing.json() == {
        "code": "woocommerce_rest_product_invalid_id",
        "message": "Invalid ID.",
        "data": {"status": 404},
    }
    # WC_REST_CRUD_Controller::update_item says 400 for the same thing.
    assert client.put(f"{API}/products/999", json={"backorders": "yes"}).status_code == 400


def test_single_write_with_a_bad_enum_is_refused(fake, client):
    product = managed(fake, "A", 1)
    refused = client.put(f"{API}/products/{product['id']}", json={"stock_status": "soon", "backorders": "maybe"})
    assert refused.status_code == 400
    body = refused.json()
    assert body["code"] == "rest_invalid_param"
    assert body["message"] == "Invalid parameter(s): stock_status, backorders"
    assert body["data"]["params"]["stock_status"] == "stock_status is not one of instock, outofstock, and onbackorder."
    assert body["data"]["details"]["backorders"]["code"] == "rest_not_in_enum"


def test_injected_failures_and_the_request_log(fake, client):
    fake.fail_next(503, times=2, path_contains="/products")
    fake.fail_next(429, headers={"Retry-After": "7"})
    assert client.get(f"{API}/products").status_code == 503
    assert client.get(f"{API}/orders").status_code == 429  # the 503s only match /products
    throttled_again = client.get(f"{API}/products")
    assert throttled_again.status_code == 503
    assert client.get(f"{API}/orders").status_code == 200
    assert client.get(f"{API}/products").status_code == 200
    assert [r[:2] for r in fake.requests] == [("GET", f"{API}/products"), ("GET", f"{API}/orders")] * 2 + [
        ("GET", f"{API}/products")
    ]
    assert fake.write_requests == []
    fake.fail_next(429, headers={"Retry-After": "3"})
    response = client.get(f"{API}/products")
    assert response.headers["Retry-After"] == "3"


async def test_async_clients_work_through_the_transport(fake):
    managed(fake, "ASYNC", 4)
    async with httpx.AsyncClient(
        transport=fake.transport(), base_url=fake.base_url, auth=(fake.consumer_key, fake.consumer_secret)
    ) as http:
        response = await http.get(f"{API}/products")
    assert [p["sku"] for p in response.json()] == ["ASYNC"]


# --- batches -----------------------------------------------------------------------------------------


def test_batch_of_100_is_accepted_and_101_refused_whole(fake, client):
    ids = [managed(fake, f"B{n:03d}", 1)["id"] for n in range(101)]
    accepted = client.post(
        f"{API}/products/batch", json={"update": [{"id": i, "backorders": "notify"} for i in ids[:100]]}
    )
    assert accepted.status_code == 200
    assert set(accepted.json()) == {"update"}
    assert len(accepted.json()["update"]) == 100

    refused = client.post(
        f"{API}/products/batch",
        json={
            "update": [{"id": i, "backorders": "yes"} for i in ids[:60]],
            "create": [{"name": f"x{n}"} for n in range(41)],
        },
    )
    assert refused.status_code == 413
    assert refused.json() == {
        "code": "woocommerce_rest_request_entity_too_large",
        "message": "Unable to accept more than 100 items for this request.",
        "data": {"status": 413},
    }
    assert fake.get_product(ids[0])["backorders"] == "notify"  # nothing applied
    assert len(fake.products) == 101


def test_batch_reports_unknown_ids_per_item_and_applies_the_rest(fake, client):
    product = managed(fake, "REAL", 0)
    response = client.post(
        f"{API}/products/batch",
        json={"update": [{"id": 424242, "backorders": "yes"}, {"id": product["id"], "backorders": "yes"}]},
    )
    assert response.status_code == 200
    missing, updated = response.json()["update"]
    assert missing == {
        "id": 424242,
        "error": {"code": "woocommerce_rest_product_invalid_id", "message": "Invalid ID.", "data": {"status": 400}},
    }
    assert updated["stock_status"] == "onbackorder"


def test_batch_stores_an_unknown_stock_status_as_instock(fake, client):
    product = fake.create_product(name="Loose", sku="LOOSE", manage_stock=False, stock_status="outofstock")
    response = client.post(
        f"{API}/products/batch", json={"update": [{"id": product["id"], "stock_status": "preorder"}]}
    )
    assert response.status_code == 200
    assert response.json()["update"][0]["stock_status"] == "instock"
    assert fake.get_product(product["id"])["stock_status"] == "instock"


def test_variation_batch(fake, client):
    parent = fake.create_product(name="Tee", type="variable")
    small = fake.create_variation(
        parent["id"], sku="TEE-S", manage_stock=True, stock_quantity=0, attributes=[{"name": "Size", "option": "S"}]
    )
    response = client.post(
        f"{API}/products/{parent['id']}/variations/batch",
        json={"update": [{"id": small["id"], "backorders": "notify"}, {"id": 31337, "backorders": "yes"}]},
    )
    updated, missing = response.json()["update"]
    assert (updated["stock_status"], updated["backorders_allowed"], updated["backordered"]) == (
        "onbackorder",
        True,
        True,
    )
    assert missing["error"]["code"] == "woocommerce_rest_product_variation_invalid_id"
    assert fake.get_product(parent["id"])["stock_status"] == "onbackorder"


# --- stock status derivation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "backorders", "status", "allowed"),
    [
        (5, "no", "instock", False),
        (0, "no", "outofstock", False),
        (0, "notify", "onbackorder", True),
        (-3, "yes", "onbackorder", True),
        (-3, "no", "outofstock", False),
        (None, "no", "outofstock", False),
    ],
)
def test_managed_stock_status_is_derived_on_save(fake, client, quantity, backorders, status, allowed):
    product = managed(fake, "DERIVED", quantity, backorders=backorders)
    assert (product["stock_status"], product["backorders_allowed"]) == (status, allowed)
    # A status sent with managed stock is recomputed, not stored.
    again = client.put(
        f"{API}/products/{product['id']}", json={"stock_status": "instock" if status != "instock" else "outofstock"}
    ).json()
    assert again["stock_status"] == status


def test_unmanaged_stock_keeps_the_written_status_and_forgets_quantity(fake, client):
    product = fake.create_product(name="Loose", manage_stock=False, stock_status="onbackorder")
    assert (product["stock_status"], product["stock_quantity"], product["backorders"]) == ("onbackorder", None, "no")
    written = client.put(
        f"{API}/products/{product['id']}", json={"stock_status": "outofstock", "backorders": "yes"}
    ).json()
    assert (written["stock_status"], written["backorders"]) == ("outofstock", "no")


def test_variations_inherit_a_stock_managing_parent(fake):
    parent = fake.create_product(
        name="Beans", type="variable", manage_stock=True, stock_quantity=0, backorders="notify"
    )
    variation = fake.create_variation(
        parent["id"], sku="BEAN-250", manage_stock=False, attributes=[{"name": "Size", "option": "250 g"}]
    )
    assert variation["manage_stock"] == "parent"
    # The answer to the create shows the new variation's own "instock", as WooCommerce 10 does;
    # a re-read shows the parent's.
    assert variation["stock_status"] == "instock"
    read = fake.get_variation(parent["id"], variation["id"])
    assert (read["stock_quantity"], read["backorders"], read["stock_status"]) == (0, "notify", "onbackorder")


def test_variable_parent_takes_status_from_its_variations(fake, client):
    parent = fake.create_product(name="Beans", type="variable")
    assert fake.get_product(parent["id"])["stock_status"] == "outofstock"
    one = fake.create_variation(parent["id"], sku="V1", manage_stock=True, stock_quantity=0, backorders="yes")
    assert fake.get_product(parent["id"])["stock_status"] == "onbackorder"
    fake.create_variation(parent["id"], sku="V2", manage_stock=True, stock_quantity=0)
    assert fake.get_product(parent["id"])["stock_status"] == "onbackorder"
    client.put(f"{API}/products/{parent['id']}/variations/{one['id']}", json={"stock_quantity": 4})
    assert fake.get_product(parent["id"])["stock_status"] == "instock"


def test_every_write_bumps_date_modified_and_variations_resave_the_parent(fake, client):
    parent = fake.create_product(name="Tee", type="variable")
    variation = fake.create_variation(parent["id"], sku="TEE-M", manage_stock=True, stock_quantity=3)
    before_parent = fake.get_product(parent["id"])["date_modified_gmt"]
    before_variation = fake.get_variation(parent["id"], variation["id"])["date_modified_gmt"]
    client.put(f"{API}/products/{parent['id']}/variations/{variation['id']}", json={})
    assert fake.get_variation(parent["id"], variation["id"])["date_modified_gmt"] > before_variation
    assert fake.get_product(parent["id"])["date_modified_gmt"] > before_parent
    previous = fake.get_product(parent["id"])["date_modified_gmt"]
    client.post(f"{API}/products/batch", json={"update": [{"id": parent["id"]}]})
    assert fake.get_product(parent["id"])["date_modified_gmt"] > previous


def test_meta_data_updates_by_id_or_by_key(fake, client):
    # update_meta_data without an id rewrites the row with that key: the second "eta" wins.
    product = fake.create_product(
        name="Meta",
        meta_data=[{"key": "eta", "value": "a"}, {"key": "eta", "value": "b"}, {"key": "note", "value": "x"}],
    )
    rows = product["meta_data"]
    assert [(r["key"], r["value"]) for r in rows] == [("eta", "b"), ("note", "x")]
    assert all(isinstance(r["id"], int) for r in rows)
    by_id = client.put(
        f"{API}/products/{product['id']}", json={"meta_data": [{"id": rows[1]["id"], "key": "note", "value": "y"}]}
    ).json()
    assert [(r["id"], r["value"]) for r in by_id["meta_data"]] == [(rows[0]["id"], "b"), (rows[1]["id"], "y")]
    by_key = client.put(
        f"{API}/products/{product['id']}",
        json={"meta_data": [{"key": "eta", "value": "c"}, {"key": "new", "value": "n"}]},
    ).json()
    assert [(r["key"], r["value"]) for r in by_key["meta_data"]] == [("eta", "c"), ("note", "y"), ("new", "n")]
    assert by_key["meta_data"][0]["id"] == rows[0]["id"]
    removed = client.put(f"{API}/products/{product['id']}", json={"meta_data": [{"key": "new", "value": None}]}).json()
    assert [r["key"] for r in removed["meta_data"]] == ["eta", "note"]


# --- orders ---------------------------------------------------------------------------------------------


def test_orders_reduce_stock_once_without_a_stock_check_and_restore_on_cancel(fake, client):
    product = managed(fake, "GRINDER", 2)
    created = client.post(
        f"{API}/orders",
        json={
            "status": "processing",
            "date_created": "2020-01-01T00:00:00",
            "line_items": [{"product_id": product["id"], "quantity": 3}],
        },
    )
    assert created.status_code == 201
    order = created.json()
    assert order["date_created"] != "2020-01-01T00:00:00"  # read-only over REST
    line = order["line_items"][0]
    assert (line["sku"], line["name"], line["price"], line["total"]) == ("GRINDER", "Grinder", 10, "30.00")
    assert [(m["key"], m["value"]) for m in line["meta_data"]] == [("_reduced_stock", "3")]
    assert fake.get_product(product["id"])["stock_quantity"] == -1
    assert fake.get_product(product["id"])["stock_status"] == "outofstock"

    client.put(f"{API}/orders/{order['id']}", json={"status": "completed"})  # no second reduction
    assert fake.get_product(product["id"])["stock_quantity"] == -1
    client.put(f"{API}/orders/{order['id']}", json={"status": "cancelled"})
    assert fake.get_product(product["id"])["stock_quantity"] == 2
    assert fake.get_order(order["id"])["line_items"][0]["meta_data"] == []


def test_pending_orders_keep_stock_until_processing(fake, client):
    parent = fake.create_product(name="Beans", type="variable", manage_stock=True, stock_quantity=5)
    variation = fake.create_variation(parent["id"], sku="BEAN-1KG", attributes=[{"name": "Size", "option": "1 kg"}])
    order = fake.create_order(line_items=[{"product_id": parent["id"], "variation_id": variation["id"], "quantity": 2}])
    assert order["status"] == "pending" and fake.get_product(parent["id"])["stock_quantity"] == 5
    client.put(f"{API}/orders/{order['id']}", json={"status": "on-hold"})
    assert fake.get_product(parent["id"])["stock_quantity"] == 3  # the parent holds the stock
    meta_keys = [m["key"] for m in fake.get_order(order["id"])["line_items"][0]["meta_data"]]
    assert meta_keys == ["_reduced_stock"]  # and no "Backordered" on REST orders


def test_order_list_status_filter_and_back_dating(fake, client):
    product = managed(fake, "X", 10)
    ids = {
        s: fake.create_order(status=s, line_items=[{"product_id": product["id"], "quantity": 1}])["id"]
        for s in ("processing", "on-hold", "completed", "pending")
    }
    open_orders = client.get(f"{API}/orders", params={"status": "processing,on-hold"}).json()
    assert sorted(o["id"] for o in open_orders) == sorted([ids["processing"], ids["on-hold"]])
    fake.set_order_date(ids["processing"], datetime(2026, 1, 5, 9, 30, tzinfo=UTC))
    oldest_first = client.get(f"{API}/orders", params={"order": "asc", "orderby": "date"}).json()
    assert oldest_first[0]["id"] == ids["processing"]
    assert oldest_first[0]["date_created_gmt"] == "2026-01-05T09:30:00"


def test_order_notes_are_stored(fake, client):
    product = managed(fake, "X", 10)
    order = fake.create_order(line_items=[{"product_id": product["id"], "quantity": 1}])
    answer = client.post(f"{API}/orders/{order['id']}/notes", json={"note": "Ships 3 March", "customer_note": True})
    assert answer.status_code == 201
    assert (answer.json()["note"], answer.json()["customer_note"]) == ("Ships 3 March", True)
    assert [n["note"] for n in fake.order_notes(order["id"])] == ["Ships 3 March"]
    assert client.post(f"{API}/orders/{order['id']}/notes", json={}).json()["code"] == "rest_missing_callback_param"


# --- authentication ---------------------------------------------------------------------------------------


def wc_docs_signature(
    method: str, url: str, params: dict[str, str], secret: str, algorithm: str = "HMAC-SHA256"
) -> str:
    """Sign as WooCommerce's REST docs describe: encode, sort, join with &, encode the whole."""
    encoded = sorted((quote(k, safe="~"), quote(v, safe="~")) for k, v in params.items())
    parameter_string = "&".join(f"{k}={v}" for k, v in encoded)
    base = "&".join([method.upper(), quote(url, safe="~"), quote(parameter_string, safe="~")])
    digest = hashlib.sha256 if algorithm == "HMAC-SHA256" else hashlib.sha1
    return base64.b64encode(hmac.new(f"{secret}&".encode(), base.encode(), digest).digest()).decode()


def oauth_params(
    fake: FakeWooCommerce,
    method: str,
    path: str,
    query: dict[str, str],
    *,
    algorithm: str = "HMAC-SHA256",
    nonce: str | None = None,
) -> dict[str, str]:
    params = {
        **query,
        "oauth_consumer_key": fake.consumer_key,
        "oauth_timestamp": str(int(time.time())),
        "oauth_nonce": nonce or secrets.token_hex(16),
        "oauth_signature_method": algorithm,
    }
    params["oauth_signature"] = wc_docs_signature(
        method, f"{fake.base_url}{path}", params, fake.consumer_secret, algorithm
    )
    return params


@pytest.fixture
def http_store() -> FakeWooCommerce:
    store = FakeWooCommerce(base_url="http://shop.example.test", now=Ticking())
    store.create_product(name="Kettle", sku="KETTLE", manage_stock=True, stock_quantity=1)
    return store


@pytest.mark.parametrize("algorithm", ["HMAC-SHA1", "HMAC-SHA256"])
def test_oauth1_in_the_query_string_over_http(http_store, algorithm):
    with httpx.Client(transport=http_store.transport(), base_url=http_store.base_url) as http:
        params = oauth_params(
            http_store, "GET", f"{API}/products", {"per_page": "5", "status": "publish"}, algorithm=algorithm
        )
        response = http.get(f"{API}/products", params=params)
    assert response.status_code == 200, response.text
    assert [p["sku"] for p in response.json()] == ["KETTLE"]
    assert all("signature" not in link["url"] for link in response.links.values())


def test_oauth1_in_the_authorization_header_with_a_json_body(http_store):
    product_id = next(iter(http_store.products))
    path = f"{API}/products/{product_id}"
    params = oauth_params(http_store, "PUT", path, {})
    header = "OAuth " + ", ".join(f'{k}="{quote(v, safe="")}"' for k, v in params.items())
    with httpx.Client(transport=http_store.transport(), base_url=http_store.base_url) as http:
        response = http.put(path, json={"backorders": "notify"}, headers={"Authorization": header})
    assert response.status_code == 200, response.text
    assert response.json()["stock_status"] == "instock"


def test_oauth1_refuses_a_wrong_signature_a_replayed_nonce_an_old_timestamp_and_a_wrong_key(http_store):
    with httpx.Client(transport=http_store.transport(), base_url=http_store.base_url) as http:
        tampered = oauth_params(http_store, "GET", f"{API}/products", {"per_page": "5"})
        tampered["per_page"] = "6"
        wrong = http.get(f"{API}/products", params=tampered)
        assert wrong.status_code == 401
        assert wrong.json() == {
            "code": "woocommerce_rest_authentication_error",
            "message": "Invalid signature - provided signature does not match.",
            "data": {"status": 401},
        }

        first = oauth_params(http_store, "GET", f"{API}/products", {}, nonce="same-nonce")
        assert http.get(f"{API}/products", params=first).status_code == 200
        replay = http.get(
            f"{API}/products", params=oauth_params(http_store, "GET", f"{API}/products", {}, nonce="same-nonce")
        )
        assert replay.status_code == 401
        assert replay.json()["message"] == "Invalid nonce - nonce has already been used."

        stale = oauth_params(http_store, "GET", f"{API}/products", {})
        stale["oauth_timestamp"] = str(int(time.time()) - 16 * 60)
        stale["oauth_signature"] = wc_docs_signature(
            "GET",
            f"{http_store.base_url}{API}/products",
            {k: v for k, v in stale.items() if k != "oauth_signature"},
            http_store.consumer_secret,
        )
        assert http.get(f"{API}/products", params=stale).json()["message"] == "Invalid timestamp."

        stranger = oauth_params(http_store, "GET", f"{API}/products", {})
        stranger["oauth_consumer_key"] = "ck_" + "0" * 40
        assert http.get(f"{API}/products", params=stranger).json()["message"] == "Consumer key is invalid."


def test_basic_auth_is_refused_over_http(http_store):
    with httpx.Client(
        transport=http_store.transport(),
        base_url=http_store.base_url,
        auth=(http_store.consumer_key, http_store.consumer_secret),
    ) as http:
        response = http.get(f"{API}/products")
        write = http.post(f"{API}/products/batch", json={"update": []})
    assert response.status_code == 401
    assert response.json()["code"] == "woocommerce_rest_cannot_view"
    assert write.status_code == 401
    assert http_store.consumer_secret not in response.text


def test_basic_auth_and_query_keys_over_https(fake):
    with httpx.Client(transport=fake.transport(), base_url=fake.base_url) as http:
        assert http.get(f"{API}/products", auth=(fake.consumer_key, fake.consumer_secret)).status_code == 200
        in_query = http.get(
            f"{API}/products", params={"consumer_key": fake.consumer_key, "consumer_secret": fake.consumer_secret}
        )
        assert in_query.status_code == 200
        bad_secret = http.get(f"{API}/products", auth=(fake.consumer_key, "cs_wrong"))
        assert bad_secret.status_code == 401
        assert bad_secret.json()["message"] == "Consumer secret is invalid."
        assert "WWW-Authenticate" in bad_secret.headers
        assert http.get(f"{API}/products").status_code == 401
    assert all(fake.consumer_secret not in json.dumps(r) for r in fake.requests)


# --- shapes as recorded on the real store -------------------------------------------------------------------


def recorded(name: str) -> dict:
    path = SCHEMAS / "woocommerce" / name
    if not path.is_file():
        pytest.skip(f"../shared/platform-schemas not present: {path} is needed to compare shapes")
    return json.loads(path.read_text())


def assert_same_shape(ours: object, theirs: object, where: str = "$") -> None:
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), where
        assert list(ours) == list(theirs), f"{where}: keys differ: {set(ours) ^ set(theirs)}"
        for key in theirs:
            assert_same_shape(ours[key], theirs[key], f"{where}.{key}")
    elif isinstance(theirs, list):
        assert isinstance(ours, list), where
        for n, (a, b) in enumerate(zip(ours, theirs, strict=False)):
            assert_same_shape(a, b, f"{where}[{n}]")
    elif theirs is not None and ours is not None:
        assert type(ours) is type(theirs), f"{where}: {type(ours).__name__} vs {type(theirs).__name__}"


def test_product_variation_and_order_match_the_recorded_samples(fake):
    sample_product, sample_variation, sample_order = (
        recorded("sample_product_simple.json"),
        recorded("sample_variation.json"),
        recorded("sample_order.json"),
    )
    product = fake.create_product(
        name="Smoke Simple",
        sku="SMOKE-1",
        regular_price="10",
        manage_stock=True,
        stock_quantity=12,
        backorders="notify",
    )
    parent = fake.create_product(
        name="Tee", type="variable", attributes=[{"name": "Size", "variation": True, "options": ["S"]}]
    )
    variation = fake.create_variation(
        parent["id"],
        sku="TEE-S",
        regular_price="9",
        manage_stock=True,
        stock_quantity=0,
        backorders="notify",
        attributes=[{"id": 0, "name": "Size", "option": "S"}],
    )
    order = fake.create_order(status="processing", line_items=[{"product_id": product["id"], "quantity": 2}])

    assert_same_shape(fake.get_product(product["id"]), sample_product)
    assert_same_shape(variation, sample_variation)
    assert_same_shape(fake.get_order(order["id"]), sample_order)
    assert variation["name"] == sample_variation["name"] == "S"
    assert (variation["stock_status"], variation["backordered"]) == (
        sample_variation["stock_status"],
        sample_variation["backordered"],
    )
    assert fake.get_product(product["id"])["categories"] == sample_product["categories"]
    ours_line, their_line = fake.get_order(order["id"])["line_items"][0], sample_order["line_items"][0]
    assert (ours_line["meta_data"][0]["key"], ours_line["meta_data"][0]["value"]) == ("_reduced_stock", "2")
    assert (ours_line["price"], ours_line["total"], ours_line["sku"]) == (
        their_line["price"],
        their_line["total"],
        their_line["sku"],
    )


def test_enums_match_the_recorded_schema():
    options = recorded("OPTIONS_products_10.json")
    from stockstatus.adapters.woocommerce.fake import params as module

    args = next(e["args"] for e in options["endpoints"] if "PUT" in e["methods"])
    assert tuple(args["stock_status"]["enum"]) == module.STOCK_STATUSES
    assert tuple(args["backorders"]["enum"]) == module.BACKORDERS
    assert tuple(args["type"]["enum"]) == module.PRODUCT_TYPES
    assert tuple(args["status"]["enum"]) == module.PRODUCT_STATUSES
    orders = recorded("OPTIONS_orders.json")
    order_args = next(e["args"] for e in orders["endpoints"] if "POST" in e["methods"])
    assert tuple(order_args["status"]["enum"]) == module.ORDER_STATUSES


# --- catalogues and the sandbox -------------------------------------------------------------------------------


def test_the_demo_catalogue_starts_from_woocommerce_defaults(fake):
    today = date(2026, 11, 22)
    seed(fake, catalogue.demo(today))
    items = [*fake.products.values(), *fake.variations.values()]
    skus = {fake.get_product(p["id"])["sku"]: fake.get_product(p["id"]) for p in fake.products.values()}
    assert 10 <= sum(1 for i in items if i["sku"]) <= 14
    assert all(fake.get_product(p)["backorders"] == "no" for p in fake.products)
    assert skus["GRD-C40-MK4"]["stock_quantity"] < 0
    assert any(t["name"] == "discontinued" for t in skus["BRW-AEROPRESS-GO"]["tags"])
    release = {m["key"]: m["value"] for m in skus["GRD-NICHE-27"]["meta_data"]}["release_date"]
    assert date.fromisoformat(release) > today
    restock = {m["key"]: m["value"] for m in skus["KTL-STAGG-EKG"]["meta_data"]}["restock_date"]
    assert today < date.fromisoformat(restock) <= today + timedelta(days=21)
    # A sample item without stock is one whose stock WooCommerce does not manage.
    assert (skus["SCL-PEARL"]["manage_stock"], skus["SCL-PEARL"]["stock_status"]) == (False, "instock")
    assert [c["name"] for c in skus["SCL-PEARL"]["categories"]] == ["Scales"]
    open_orders = [o for o in fake.orders.values() if o["status"] == "processing"]
    assert len(open_orders) == 2


def test_seeding_turns_a_variable_sample_into_a_parent_with_one_variation_per_option(fake):
    today = date(2026, 11, 22)
    seed(fake, catalogue.demo(today))
    parent = next(fake.get_product(p) for p in fake.products if fake.products[p]["type"] == "variable")
    assert parent["name"] == "Ethiopia Guji Natural Whole Bean"
    assert [(a["name"], a["variation"], a["options"]) for a in parent["attributes"]] == [
        ("Size", True, ["250 g", "500 g", "1 kg"])
    ]
    variations = [fake.get_variation(parent["id"], v) for v in parent["variations"]]
    assert [(v["sku"], v["name"], v["stock_quantity"], v["regular_price"]) for v in variations] == [
        ("BEAN-GUJI-250", "250 g", 38, "14.50"),  # 40, less the 2 of Tomás's open order
        ("BEAN-GUJI-500", "500 g", 0, "26.00"),
        ("BEAN-GUJI-1000", "1 kg", 0, "48.00"),
    ]
    restock = {m["key"]: m["value"] for m in variations[2]["meta_data"]}
    assert restock == {"restock_date": (today + timedelta(days=7)).isoformat()}
    tomas = next(o for o in fake.orders.values() if o["billing"]["first_name"] == "Tomás")
    assert (tomas["billing"]["last_name"], tomas["billing"]["email"]) == ("Ruiz", "tomas@example.com")
    assert [(li["sku"], li["product_id"], li["variation_id"], li["quantity"]) for li in tomas["line_items"]] == [
        ("FLT-WAVE-185", skus_to_ids(fake)["FLT-WAVE-185"], 0, 1),
        ("BEAN-GUJI-250", parent["id"], variations[0]["id"], 2),
    ]


def skus_to_ids(fake: FakeWooCommerce) -> dict[str, int]:
    return {p["sku"]: p["id"] for p in fake.products.values() if p["sku"]}


def test_a_generated_catalogue_is_seeded_whole():
    fake = FakeWooCommerce(now=Ticking())
    sample = catalogue.generated(120, date(2026, 11, 22))
    seed(fake, sample)
    products = [fake.get_product(p) for p in fake.products]
    assert len(products) == 120
    assert {p["type"] for p in products} == {"simple", "variable"}
    sample_skus = {v.sku for p in sample for v in p.variants} | {p.sku for p in sample if p.sku}
    assert {r["sku"] for r in [*fake.products.values(), *fake.variations.values()] if r["sku"]} == sample_skus
    quantities = [
        v["stock_quantity"]
        for v in [*fake.products.values(), *fake.variations.values()]
        if v["stock_quantity"] is not None
    ]
    assert any(q < 0 for q in quantities)
    keys = {m["key"] for p in [*fake.products.values(), *fake.variations.values()] for m in p["meta_data"]}
    assert keys == {"release_date", "restock_date"}
    assert any(t["name"] == "discontinued" for p in products for t in p["tags"])


def test_the_sandbox_banner_names_the_url_the_credentials_and_the_catalogue():
    out = io.StringIO()
    stop = threading.Event()
    stop.set()
    sandbox.run(host="127.0.0.1", port=0, catalogue=catalogue.demo(date(2026, 11, 22)), out=out, wait=stop.wait)
    text = out.getvalue()
    url = re.search(r"serving 11 products at (http://127\.0\.0\.1:\d+)\n", text)
    assert url is not None and not url.group(1).endswith(":0"), text
    assert re.search(r"consumer key: +ck_[0-9a-f]{40}\n", text)
    assert re.search(r"consumer secret: +cs_[0-9a-f]{40}\n", text)
    assert f'url = "{url.group(1)}"' in text and text.endswith("sandbox stopped\n")


def test_syncing_a_store_never_loads_the_simulator():
    script = (
        "import sys, httpx\n"
        "from stockstatus.adapters.woocommerce import WooCommerceSettings, platform\n"
        "settings = WooCommerceSettings(url='https://shop.example', key_env='K', secret_env='S')\n"
        "platform.create_adapter(settings, httpx.AsyncClient(), {'K': 'ck', 'S': 'cs'})\n"
        "print(sorted(m for m in sys.modules if m.startswith('stockstatus.adapters.woocommerce.fake')))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_serve_answers_real_http_on_loopback():
    fake = FakeWooCommerce()
    server = serve(fake, "127.0.0.1", 0)
    try:
        port = server.server_address[1]
        fake.base_url = f"http://127.0.0.1:{port}"
        fake.create_product(name="Kettle", sku="KETTLE")
        params = oauth_params(fake, "GET", f"{API}/products", {"per_page": "1"})
        response = httpx.get(f"{fake.base_url}{API}/products?{urlencode(params)}", timeout=5)
        assert response.status_code == 200, response.text
        assert response.headers["X-WP-Total"] == "1"
        assert [p["sku"] for p in response.json()] == ["KETTLE"]
        assert httpx.get(f"{fake.base_url}{API}/products", timeout=5).status_code == 401
    finally:
        server.shutdown()
        server.server_close()


def test_tags_and_categories_are_created_over_rest_and_assigned_by_id():
    fake = FakeWooCommerce()
    client = httpx.Client(
        transport=fake.transport(),
        base_url=fake.base_url + "/wp-json/wc/v3",
        auth=(fake.consumer_key, fake.consumer_secret),
    )
    created = client.post("/products/tags", json={"name": "Discontinued"})
    assert created.status_code == 201 and created.json()["slug"] == "discontinued"
    again = client.post("/products/tags", json={"name": "Discontinued"})
    assert again.status_code == 400 and again.json()["code"] == "term_exists"
    assert again.json()["data"]["resource_id"] == created.json()["id"]
    category = client.post("/products/categories", json={"name": "Grinders"}).json()
    product = client.post(
        "/products",
        json={
            "name": "Old grinder",
            "tags": [{"id": created.json()["id"]}, {"name": "ignored-by-name"}],
            "categories": [{"id": category["id"]}],
        },
    ).json()
    assert [t["name"] for t in product["tags"]] == ["Discontinued"]  # REST assigns terms by id only
    assert [c["name"] for c in product["categories"]] == ["Grinders"]
    listed = client.get("/products/tags", params={"per_page": 100})
    assert [t["name"] for t in listed.json()] == ["Discontinued"] and listed.headers["X-WP-Total"] == "1"
    assert listed.json()[0]["count"] == 1
    assert client.get("/products/tags", params={"per_page": 101}).status_code == 400


@pytest.mark.parametrize(
    ("permissions", "get", "post", "refusal"),
    [
        ("read", 200, 401, "does not have write permissions"),
        ("write", 401, 200, "does not have read permissions"),
        ("read_write", 200, 200, None),
    ],
)
def test_a_keys_permissions_are_checked_before_the_route(permissions, get, post, refusal):
    fake = FakeWooCommerce(key_permissions=permissions)
    with httpx.Client(
        transport=fake.transport(), base_url=fake.base_url, auth=(fake.consumer_key, fake.consumer_secret)
    ) as http:
        read = http.get("/wp-json/wc/v3/products")
        write = http.post("/wp-json/wc/v3/products/batch", json={})
        unknown_route = http.post("/wp-json/wc/v3/nowhere", json={})
    assert (read.status_code, write.status_code) == (get, post)
    if refusal:
        refused = read if get == 401 else write
        assert refused.json()["code"] == "woocommerce_rest_authentication_error"
        assert refusal in refused.json()["message"]
    assert write.status_code != 200 or write.json() == []  # an empty batch saves nothing and says so
    assert unknown_route.status_code == (401 if post == 401 else 404)  # checked before the route is matched
