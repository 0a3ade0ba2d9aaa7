"""The fake WooCommerce answers the same requests as the real store does, request by request.

Part of the conformance tier (`-m realstore`, see `conftest.py`): each step sends one request to
the real WooCommerce 10.0.2 store and the same to the fake, and compares the status, the header
names and the values a client acts on, the error codes and messages, and the shape of the body
(every key, and the type of every value that is not null). A second test gives the fake the real
catalogue's creation seconds and compares the pages of a listing by date, id for id.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from stockstatus.adapters.woocommerce.auth import WooCommerceAuth
from stockstatus.adapters.woocommerce.fake import FakeWooCommerce

pytestmark = pytest.mark.realstore

# Headers that say nothing about the API (the server, the connection, the date).
TRANSPORT_HEADERS = {"date", "host", "x-powered-by", "connection", "server", "content-length", "vary"}
COMPARED_VALUES = ("allow", "x-wp-total", "x-wp-totalpages", "cache-control", "x-robots-tag")


def shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def shape_differences(theirs: Any, ours: Any, where: str = "$") -> list[str]:
    if isinstance(theirs, dict) and isinstance(ours, dict):
        found = []
        if set(theirs) != set(ours):
            found.append(
                f"{where}: only real {sorted(set(theirs) - set(ours))}, only fake {sorted(set(ours) - set(theirs))}"
            )
        for key in set(theirs) & set(ours):
            found += shape_differences(theirs[key], ours[key], f"{where}.{key}")
        return found
    if isinstance(theirs, list) and isinstance(ours, list):
        return shape_differences(theirs[0], ours[0], f"{where}[0]") if theirs and ours else []
    if theirs != ours and "NoneType" not in (theirs, ours):
        return [f"{where}: {theirs} on the real store, {ours} on the fake"]
    return []


@dataclass
class Pair:
    """The real store and a fake in its timezone, with the ids each gave to the same creations."""

    real: httpx.Client
    fake: httpx.Client
    store: FakeWooCommerce
    tag: str = field(default_factory=lambda: secrets.token_hex(3).upper())
    ids: dict[str, dict[str, int]] = field(default_factory=lambda: {"real": {}, "fake": {}})
    created: list[str] = field(default_factory=list)

    def send(self, method: str, path: str, **kwargs: Any) -> tuple[httpx.Response, httpx.Response]:
        """The same request to both (`{name}` in the path is that store's id for `name`)."""
        real = self.real.request(method, path.format(**self.ids["real"]), **kwargs)
        fake = self.fake.request(method, path.format(**self.ids["fake"]), **kwargs)
        return real, fake

    def alike(self, method: str, path: str, **kwargs: Any) -> tuple[httpx.Response, httpx.Response]:
        real, fake = self.send(method, path, **kwargs)
        problems = []
        if real.status_code != fake.status_code:
            problems.append(f"status {real.status_code} on the real store, {fake.status_code} on the fake")
        real_names = {k.lower() for k in real.headers} - TRANSPORT_HEADERS
        fake_names = {k.lower() for k in fake.headers} - TRANSPORT_HEADERS
        if real_names != fake_names:
            problems.append(
                f"headers only real {sorted(real_names - fake_names)}, only fake {sorted(fake_names - real_names)}"
            )
        for name in COMPARED_VALUES:
            if real.headers.get(name) != fake.headers.get(name):
                problems.append(f"{name}: {real.headers.get(name)!r} vs {fake.headers.get(name)!r}")
        theirs, ours = real.json(), fake.json()
        problems += shape_differences(shape(theirs), shape(ours))
        if isinstance(theirs, dict) and "code" in theirs and theirs.get("code") != ours.get("code"):
            problems.append(f"error {theirs.get('code')}: {theirs.get('message')} vs {ours}")
        assert not problems, f"{method} {path}:\n  " + "\n  ".join(problems)
        return real, fake

    def remember(self, name: str, answers: tuple[httpx.Response, httpx.Response]) -> None:
        real, fake = answers
        self.ids["real"][name], self.ids["fake"][name] = real.json()["id"], fake.json()["id"]


@pytest.fixture
def pair(realstore: dict[str, str]) -> Iterator[Pair]:
    url = realstore["REALSTORE_URL"]
    index = httpx.get(f"{url}/wp-json/", params={"_fields": "timezone_string"}, timeout=120).json()
    zone = ZoneInfo(index["timezone_string"]) if index.get("timezone_string") else UTC
    store = FakeWooCommerce(base_url="http://fake.test", timezone=zone)
    real = httpx.Client(
        base_url=f"{url}/wp-json/wc/v3/",
        auth=WooCommerceAuth(realstore["REALSTORE_KEY"], realstore["REALSTORE_SECRET"]),
        timeout=300,
    )
    fake = httpx.Client(
        base_url="http://fake.test/wp-json/wc/v3/",
        auth=WooCommerceAuth(store.consumer_key, store.consumer_secret),
        transport=store.transport(),
    )
    both = Pair(real, fake, store)
    try:
        yield both
    finally:
        # What the tests created on the real store goes (a batch deletes for good).
        products = [both.ids["real"][n] for n in both.created if not n.startswith("order")]
        for start in range(0, len(products), 100):
            real.post("products/batch", json={"delete": products[start : start + 100]})
        for name in (n for n in both.created if n.startswith("order")):
            real.delete(f"orders/{both.ids['real'][name]}", params={"force": "true"})
        real.close()
        fake.close()


def test_products_and_variations(pair: Pair):
    tag = pair.tag
    pair.remember(
        "simple",
        pair.alike(
            "POST",
            "products",
            json={
                "name": f"Same {tag}",
                "sku": f"SAME-{tag}-A",
                "regular_price": "9",
                "manage_stock": True,
                "stock_quantity": 5,
                "meta_data": [{"key": "n", "value": 5}],
            },
        ),
    )
    pair.created.append("simple")
    parent = {
        "name": f"Same var {tag}",
        "type": "variable",
        "sku": f"SAME-{tag}-V",
        "attributes": [{"name": "Size", "variation": True, "visible": True, "options": ["S", "M"]}],
    }
    pair.remember("var", pair.alike("POST", "products", json=parent))
    pair.created.append("var")
    small = {
        "sku": f"SAME-{tag}-VS",
        "regular_price": "3",
        "manage_stock": True,
        "stock_quantity": 2,
        "attributes": [{"name": "Size", "option": "S"}],
    }
    pair.remember("vs", pair.alike("POST", "products/{var}/variations", json=small))
    for path in ("products/{simple}", "products/{var}", "products/{var}/variations/{vs}", "products/{vs}"):
        pair.alike("GET", path)
    pair.alike("GET", "products/{var}/variations")
    real, fake = pair.alike(
        "GET", "products", params={"sku": f"SAME-{tag}-A,SAME-{tag}-VS", "_fields": "id,sku,type,meta_data"}
    )
    # Both come back, the variation as a product. Their order is `date DESC` with same-second ties
    # left to MariaDB, which depends on how fast the two were created: not compared.
    assert sorted(p["type"] for p in real.json()) == sorted(p["type"] for p in fake.json()) == ["simple", "variation"]
    pair.alike("GET", "products/999999/variations")
    pair.alike("GET", "products/{var}/variations", params={"_fields": "id,sku,stock_status,meta_data"})
    pair.alike(
        "PUT", "products/{var}/variations/{vs}", json={"backorders": "notify", "meta_data": [{"key": "x", "value": 2}]}
    )
    pair.alike("PUT", "products/{simple}", json={"backorders": "notify"})
    pair.alike("POST", "products/batch", params={"_fields": "update.id,update.error"}, json={"update": [{"id": 0}]})
    pair.alike("POST", "products/batch", json={"update": [{"id": 999999, "regular_price": "5"}]})
    pair.alike("POST", "products/{var}/variations/batch", json={"update": [{"id": 999999, "backorders": "notify"}]})
    pair.alike("OPTIONS", "products")
    pair.alike("OPTIONS", "products/{simple}")
    pair.alike("DELETE", "products/{simple}")
    pair.alike("DELETE", "products/{simple}")
    pair.alike("DELETE", "products/{var}", params={"force": "true"})
    pair.alike("GET", "products/{vs}")


def test_orders_and_their_notes(pair: Pair):
    tag = pair.tag
    product = {"name": f"Same {tag}", "sku": f"SAME-{tag}-O", "manage_stock": True, "stock_quantity": 5}
    pair.remember("stocked", pair.alike("POST", "products", json=product))
    pair.created.append("stocked")
    real, fake = pair.send(
        "POST",
        "orders",
        json={"status": "pending", "billing": {"email": "buyer@example.com"}},
    )
    assert real.status_code == fake.status_code == 201
    pair.remember("order", (real, fake))
    pair.created.append("order")
    paid = {"status": "processing", "line_items": [{"product_id": 0, "quantity": 2}]}
    real = pair.real.post(
        "orders", json={**paid, "line_items": [{"product_id": pair.ids["real"]["stocked"], "quantity": 2}]}
    )
    fake = pair.fake.post(
        "orders", json={**paid, "line_items": [{"product_id": pair.ids["fake"]["stocked"], "quantity": 2}]}
    )
    assert real.status_code == fake.status_code == 201
    pair.remember("order_paid", (real, fake))
    pair.created.append("order_paid")
    real_notes, fake_notes = pair.alike("GET", "orders/{order_paid}/notes")
    assert [n["note"] for n in real_notes.json()] == [n["note"] for n in fake_notes.json()]
    pair.alike("GET", "orders/{order}")
    pair.alike("GET", "orders/{order}", params={"_fields": "id,billing.email,line_items.id"})
    pair.alike("PUT", "orders/{order}", json={"status": "processing"})
    real_notes, fake_notes = pair.alike("GET", "orders/{order}/notes")
    assert [n["note"] for n in real_notes.json()] == [n["note"] for n in fake_notes.json()]
    pair.alike("DELETE", "orders/{order}")
    pair.alike("GET", "orders/{order}", params={"_fields": "id,status"})


def test_errors_settings_and_the_site(pair: Pair):
    pair.alike("POST", "products/batch", content=b"{bad json", headers={"content-type": "application/json"})
    pair.alike("GET", "products", params={"per_page": 101})
    pair.alike("GET", "nothing")
    pair.alike("GET", "products/999999")
    pair.alike("PUT", "products/999999", json={"name": "x"})
    pair.alike("POST", "products/batch", json={})
    pair.alike("GET", "settings/products")
    pair.alike("GET", "settings/nope")
    real = httpx.get(f"{pair.real.base_url.scheme}://{pair.real.base_url.netloc.decode()}/wp-json/", timeout=120)
    with httpx.Client(transport=pair.store.transport()) as anonymous:
        fake = anonymous.get("http://fake.test/wp-json/")
    keys = ("timezone_string", "gmt_offset")
    assert {k: real.json()[k] for k in keys} == {k: fake.json()[k] for k in keys}
    assert set(real.json()) == set(fake.json())


def test_a_listing_by_date_pages_the_real_catalogue_id_for_id(pair: Pair):
    """The fake given the real catalogue's creation seconds pages it as the real store does."""
    tag = pair.tag
    made = pair.real.post(
        "products/batch", json={"create": [{"name": f"Tie {tag} {n}", "sku": f"TIE-{tag}-{n}"} for n in range(40)]}
    )
    assert made.status_code == 200
    pair.created += [f"tie{n}" for n in range(40)]
    for n, item in enumerate(made.json()["create"]):
        pair.ids["real"][f"tie{n}"] = item["id"]
    catalogue = []
    page = 1
    while True:
        listed = pair.real.get(
            "products",
            params={
                "orderby": "id",
                "order": "asc",
                "per_page": 100,
                "page": page,
                "_fields": "id,status,date_created",
            },
        )
        catalogue += listed.json()
        if page >= int(listed.headers["X-WP-TotalPages"]):
            break
        page += 1
    # The fake creates the same products in the same order, each at its real creation second
    # (post_date, the store's wall-clock time, is what the listing sorts on).
    zone = pair.store.timezone
    moments = iter(datetime.fromisoformat(p["date_created"]).replace(tzinfo=zone) for p in catalogue)
    current = [datetime(2000, 1, 1, tzinfo=UTC)]
    fake = FakeWooCommerce(timezone=pair.store.timezone, now=lambda: current[0])
    to_real = {}
    for product in catalogue:
        current[0] = next(moments)
        status = product["status"] if product["status"] in ("publish", "draft", "pending", "private") else "publish"
        to_real[fake.create_product(name="P", status=status)["id"]] = product["id"]
    with httpx.Client(transport=fake.transport(), base_url=fake.base_url) as http:
        http.auth = (fake.consumer_key, fake.consumer_secret)
        for page in range(1, 6):
            params = {"per_page": 10, "page": page, "_fields": "id"}
            theirs = [p["id"] for p in pair.real.get("products", params=params).json()]
            ours = [to_real[p["id"]] for p in http.get("/wp-json/wc/v3/products", params=params).json()]
            assert ours == theirs, f"page {page}"


def test_webhooks(pair: Pair):
    """The webhooks resource `connector webhooks install | status | remove` uses: same answers, same refusals."""
    # Port 9 (discard): nothing listens, and the real store refuses the port before any request.
    hook = {
        "name": f"Same {pair.tag}",
        "topic": "order.created",
        "delivery_url": "http://127.0.0.1:9/webhooks/shop",
        "secret": "same-secret",
    }
    made = pair.alike("POST", "webhooks", json=hook)
    pair.remember("hook", made)
    try:
        real, fake = made
        assert "secret" not in real.json() and "secret" not in fake.json()
        pair.alike("GET", "webhooks/{hook}")
        pair.alike("GET", "webhooks", params={"search": f"Same {pair.tag}"})
        pair.alike("PUT", "webhooks/{hook}", json={"status": "paused"})
        pair.alike("GET", "webhooks", params={"status": "paused", "search": f"Same {pair.tag}"})
        pair.alike("POST", "webhooks", json={**hook, "topic": "order.sold"})
        pair.alike("POST", "webhooks", json={**hook, "delivery_url": "ftp://example.com/"})
        pair.alike("POST", "webhooks", json={"topic": "order.created"})
        pair.alike("GET", "webhooks/999999")
        pair.alike("PUT", "webhooks/999999", json={"status": "active"})
        pair.alike("DELETE", "webhooks/{hook}")
        pair.alike("DELETE", "webhooks/{hook}", params={"force": "true"})
        pair.alike("DELETE", "webhooks/{hook}", params={"force": "true"})
    finally:
        pair.real.delete(f"webhooks/{pair.ids['real']['hook']}", params={"force": "true"})
