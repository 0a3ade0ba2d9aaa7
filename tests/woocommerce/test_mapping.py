"""WooCommerce payloads → Items / OpenOrders, and decisions → fields to write (pure)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from stockstatus.adapters.woocommerce import mapping
from stockstatus.adapters.woocommerce.settings import ORDER_STATUSES, WooCommerceSettings
from stockstatus.core.model import Decision, Item, Status

SETTINGS = WooCommerceSettings(url="https://shop.example", key_env="WC_KEY", secret_env="WC_SECRET")
KEYS = SETTINGS.meta_keys
B, P, I, O = Status.BACKORDER, Status.PRE_ORDER, Status.IN_STOCK, Status.OUT_OF_STOCK


def product(**fields):
    base = {
        "id": 10,
        "name": "Mug",
        "type": "simple",
        "sku": "MUG-1",
        "manage_stock": True,
        "stock_quantity": 5,
        "stock_status": "instock",
        "backorders": "no",
        "meta_data": [],
        "tags": [],
        "categories": [],
    }
    return {**base, **fields}


def meta(**values):
    return [{"id": n, "key": k, "value": v} for n, (k, v) in enumerate(values.items(), 1)]


def decision(status, *, eta=None, message=None, on_sellout=None):
    return Decision(status=status, rule="test", eta=eta, message=message, on_sellout=on_sellout)


def in_sync_meta(d: Decision):
    return meta(
        connector_status=d.status.value,
        connector_eta=d.eta.isoformat() if d.eta else "",
        connector_message=d.message or "",
    )


# --- settings ---------------------------------------------------------------------------------


def test_settings_defaults_and_url_normalised():
    s = WooCommerceSettings(url="HTTPS://shop.example.com/", key_env="EU_SHOP_WC_KEY", secret_env="EU_SHOP_WC_SECRET")
    assert s.url == "https://shop.example.com"
    assert s.api_url == "https://shop.example.com/wp-json/wc/v3"
    assert (s.backorders_allowed_as, s.batch_size, s.page_concurrency, s.write_concurrency) == ("notify", 100, 6, 6)
    assert s.order_statuses == ("processing", "on-hold")
    assert s.meta_keys.release_date == "release_date"


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"url": "shop.example.com"}, "url"),
        ({"url": "ftp://shop.example.com"}, "url"),
        ({"url": "https://"}, "url"),
        ({"key_env": "ck_abc def"}, "key_env"),
        ({"secret_env": "1SECRET"}, "secret_env"),
        ({"key_env": "ck_0123456789abcdef0123456789abcdef01234567"}, "key_env"),
        ({"batch_size": 101}, "batch_size"),
        ({"page_concurrency": 0}, "page_concurrency"),
        ({"write_concurrency": 9}, "write_concurrency"),
        ({"backorders_allowed_as": "no"}, "backorders_allowed_as"),
        ({"order_statuses": []}, "order_statuses"),
        ({"meta_keys": {"eta": ""}}, "meta_keys"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_settings_errors_name_the_key(fields, where):
    raw = {"url": "https://shop.example", "key_env": "K", "secret_env": "S", **fields}
    with pytest.raises(ValidationError) as info:
        WooCommerceSettings.model_validate(raw)
    assert where in str(info.value)


# --- reading ----------------------------------------------------------------------------------


def test_simple_product_item(platform_schemas):
    sample = json.loads((platform_schemas / "woocommerce" / "sample_product_simple.json").read_text())
    item = mapping.product_item(sample, KEYS)
    assert (item.key, item.sku, item.name, item.managed, item.available) == ("10", "SMOKE-1", "Smoke Simple", True, 10)
    assert item.shown.status is Status.IN_STOCK
    assert item.categories == {"Uncategorized"}
    assert item.platform["backorders"] == "notify"
    assert item.problems == ()


def test_an_item_keeps_the_connectors_own_meta_for_restore_and_no_other():
    description = "long merchant text " * 500
    item = mapping.product_item(
        product(meta_data=[*meta(connector_status="backorder", connector_eta=""), *meta(_seo_text=description)]),
        KEYS,
    )
    assert description not in repr(item)
    assert mapping.held(item, "meta:connector_status") == "backorder"
    assert mapping.held(item, "meta:connector_eta") == ""  # held empty: restored as empty, not deleted
    assert mapping.held(item, "meta:connector_message") is None  # absent: deleted on restore
    with pytest.raises(LookupError, match="_seo_text"):
        mapping.held(item, "meta:_seo_text")
    assert item.platform["meta"]["status"] == "backorder" and item.platform["meta"]["eta"] is None
    with pytest.raises(AttributeError):
        item.platform.backorders = "yes"  # type: ignore[misc]


def test_a_meta_value_that_is_not_text_is_held_as_its_json():
    item = mapping.product_item(product(meta_data=meta(connector_message={"a": 1})), KEYS)
    assert mapping.held(item, "meta:connector_message") == '{"a": 1}'


def test_variation_item_from_recorded_sample(platform_schemas):
    sample = json.loads((platform_schemas / "woocommerce" / "sample_variation.json").read_text())
    parent = product(id=14, name="Tee", type="variable", variations=[15], tags=[{"id": 1, "name": "cotton"}])
    item = mapping.variation_item(parent, sample, KEYS)
    assert (item.key, item.parent_key, item.sku, item.name) == ("14/15", "14", "TEE-S", "Tee — S")
    assert item.shown.status is Status.BACKORDER
    assert item.tags == {"cotton"}
    assert item.available == 0


def test_tags_categories_brand_and_merchant_meta():
    item = mapping.product_item(
        product(
            tags=[{"id": 1, "name": "discontinued"}],
            categories=[{"id": 2, "name": "Kitchen"}],
            brands=[{"id": 3, "name": "Acme"}],
            meta_data=meta(release_date="2026-12-24", restock_date="2026-12-01", supplier="FarEast"),
        ),
        KEYS,
    )
    assert item.tags == {"discontinued"} and item.categories == {"Kitchen"} and item.vendor == "Acme"
    assert (item.release_date, item.restock_date, item.supplier) == (date(2026, 12, 24), date(2026, 12, 1), "FarEast")


@pytest.mark.parametrize("bad", ["24.12.2026", "2026-13-01", "soon", "20261224"])
def test_a_bad_date_is_a_problem_naming_key_and_value(bad):
    item = mapping.product_item(product(meta_data=meta(release_date=bad)), KEYS)
    assert item.release_date is None
    assert len(item.problems) == 1 and "release_date" in item.problems[0] and bad in item.problems[0]


def test_configured_meta_keys_are_read():
    settings = SETTINGS.model_copy(update={"meta_keys": KEYS.model_copy(update={"release_date": "_launch"})})
    item = mapping.product_item(product(meta_data=meta(_launch="2027-01-05")), settings.meta_keys)
    assert item.release_date == date(2027, 1, 5)


def test_variation_inherits_parent_meta_only_when_it_has_none():
    parent = product(
        id=20, type="variable", variations=[21], meta_data=meta(release_date="2027-01-01", supplier="Acme")
    )
    variation = {
        "id": 21,
        "sku": "V",
        "manage_stock": True,
        "stock_quantity": 1,
        "stock_status": "instock",
        "meta_data": meta(supplier="FarEast", restock_date=""),
    }
    item = mapping.variation_item(parent, variation, KEYS)
    assert item.release_date == date(2027, 1, 1)
    assert item.supplier == "FarEast"
    assert item.restock_date is None


def test_negative_stock_is_kept():
    assert mapping.product_item(product(stock_quantity=-3), KEYS).available == -3


def test_empty_quantity_on_managed_stock_is_zero_as_woocommerce_reads_it():
    item = mapping.product_item(product(stock_quantity=None), KEYS)
    assert item.available == 0 and item.problems == ()


def test_garbage_quantity_is_a_problem():
    item = mapping.product_item(product(stock_quantity="lots"), KEYS)
    assert item.problems and "stock_quantity" in item.problems[0]


def test_unmanaged_item_has_no_quantity():
    item = mapping.product_item(product(manage_stock=False, stock_quantity=None, stock_status="outofstock"), KEYS)
    assert (item.managed, item.available, item.shown.status) == (False, None, O)


def test_parent_managed_variation_sells_from_the_parents_stock():
    parent = product(id=30, type="variable", variations=[31], stock_quantity=7, backorders="notify")
    variation = {"id": 31, "sku": "V", "manage_stock": "parent", "stock_quantity": 99, "stock_status": "instock"}
    item = mapping.variation_item(parent, variation, KEYS)
    assert item.managed and item.available == 7
    assert item.platform["parent_backorders"] == "notify"
    assert isinstance(item.platform["stock_pool"], mapping.StockPool)


@pytest.mark.parametrize(
    ("stock_status", "own", "shown"),
    [
        ("instock", None, I),
        ("onbackorder", None, B),
        ("outofstock", None, O),
        ("onbackorder", "pre_order", P),
        ("onbackorder", "backorder", B),
        ("instock", "backorder", I),  # sold... then restocked since: the store shows instock
        ("outofstock", "pre_order", O),
        ("onbackorder", "nonsense", B),
        ("preorder", None, None),  # a plugin's own status
        ("preorder", "pre_order", None),
        (None, None, None),
    ],
)
def test_shown_status(stock_status, own, shown):
    fields = {"stock_status": stock_status, "meta_data": meta(connector_status=own) if own else []}
    item = mapping.product_item(product(**fields), KEYS)
    assert item.shown.status is shown
    assert item.problems == ()


def test_shown_eta_and_message_from_own_meta():
    item = mapping.product_item(
        product(meta_data=meta(connector_eta="2026-12-10", connector_message="Ships by 10 December")), KEYS
    )
    assert item.shown.eta == date(2026, 12, 10) and item.shown.message == "Ships by 10 December"


def test_which_products_are_items():
    assert mapping.is_item(product())
    assert mapping.is_item(product(type="subscription"))
    assert not mapping.is_item(product(type="variable", variations=[1]))
    assert not mapping.is_item(product(type="grouped"))
    assert not mapping.is_item(product(type="external"))


def test_open_order(platform_schemas):
    sample = json.loads((platform_schemas / "woocommerce" / "sample_order.json").read_text())
    order = mapping.open_order(sample)
    assert order.order_id == "12" and order.status == "processing" and order.number == "12"
    assert order.created_at == datetime(2026, 11, 22, 13, 9, 1, tzinfo=UTC)
    assert [(line.item_key, line.sku, line.quantity) for line in order.lines] == [("10", "SMOKE-1", 2)]


def test_order_lines_of_variations_and_deleted_products():
    order = mapping.open_order(
        {
            "id": 5,
            "number": "SHOP-2026-0005",  # a sequential-numbers plugin renumbers what buyers see
            "status": "on-hold",
            "date_created_gmt": "2026-11-20T08:00:00",
            "line_items": [
                {"product_id": 14, "variation_id": 15, "quantity": 3, "sku": "TEE-S"},
                {"product_id": 0, "variation_id": 0, "quantity": 1, "sku": ""},
            ],
        }
    )
    assert [(line.item_key, line.quantity) for line in order.lines] == [("14/15", 3)]
    assert (order.order_id, order.number) == ("5", "SHOP-2026-0005")


# --- planning ---------------------------------------------------------------------------------


def managed(backorders="no", stock=5, **fields):
    return mapping.product_item(product(backorders=backorders, stock_quantity=stock, **fields), KEYS)


def unmanaged(stock_status="instock", **fields):
    return mapping.product_item(
        product(manage_stock=False, stock_quantity=None, stock_status=stock_status, **fields), KEYS
    )


ETA = date(2026, 12, 15)


@pytest.mark.parametrize(
    ("d", "stock", "backorders"),
    [
        (decision(B, eta=ETA), 0, "notify"),
        (decision(P, eta=ETA), -2, "notify"),
        (decision(O), 0, "no"),
        (decision(I), 5, "no"),
        (decision(I, on_sellout=B), 5, "notify"),
        (decision(I, on_sellout=P), 5, "notify"),
        (decision(I, on_sellout=O), 5, "no"),
        (decision(O), 5, "no"),
    ],
)
def test_managed_stock_writes_backorders_never_stock_status(d, stock, backorders):
    for current in ("no", "notify", "yes"):
        item = managed(backorders=current, stock=stock, meta_data=in_sync_meta(d))
        fields = mapping.plan(item, d, SETTINGS)
        assert "stock_status" not in fields
        assert fields == ({} if current == backorders else {"backorders": backorders})


def test_backorders_allowed_as_yes():
    settings = SETTINGS.model_copy(update={"backorders_allowed_as": "yes"})
    d = decision(B, eta=ETA)
    assert mapping.plan(managed(stock=0, meta_data=in_sync_meta(d)), d, settings) == {"backorders": "yes"}


@pytest.mark.parametrize(
    ("status", "stock_status"),
    [(I, "instock"), (B, "onbackorder"), (P, "onbackorder"), (O, "outofstock")],
)
def test_unmanaged_stock_writes_stock_status(status, stock_status):
    d = decision(status, eta=ETA if status.sellable_past_zero else None)
    for current in ("instock", "onbackorder", "outofstock", "preorder"):
        fields = mapping.plan(unmanaged(current, meta_data=in_sync_meta(d)), d, SETTINGS)
        assert "backorders" not in fields
        assert fields == ({} if current == stock_status else {"stock_status": stock_status})


def test_meta_written_only_when_it_differs():
    d = decision(B, eta=ETA, message="Ships by 15 December")
    fields = mapping.plan(managed(backorders="notify", stock=0), d, SETTINGS)
    assert fields == {
        "meta:connector_status": "backorder",
        "meta:connector_eta": "2026-12-15",
        "meta:connector_message": "Ships by 15 December",
    }
    item = managed(backorders="notify", stock=0, meta_data=in_sync_meta(d))
    assert mapping.plan(item, d, SETTINGS) == {}


def test_meta_cleared_with_empty_strings():
    item = managed(meta_data=meta(connector_status="backorder", connector_eta="2026-12-01", connector_message="x"))
    assert mapping.plan(item, decision(I), SETTINGS) == {
        "meta:connector_status": "in_stock",
        "meta:connector_eta": "",
        "meta:connector_message": "",
    }


def test_absent_meta_is_not_written_empty():
    assert mapping.plan(managed(meta_data=meta(connector_status="in_stock")), decision(I), SETTINGS) == {}


def test_configured_meta_keys_are_written():
    settings = SETTINGS.model_copy(update={"meta_keys": KEYS.model_copy(update={"status": "_avail"})})
    assert mapping.plan(managed(), decision(I), settings) == {"meta:_avail": "in_stock"}


def test_parent_managed_variation_plans_the_parents_backorders():
    parent = product(id=30, type="variable", variations=[31], stock_quantity=0, backorders="no")
    variation = {"id": 31, "sku": "V", "manage_stock": "parent", "stock_status": "outofstock", "backorders": "no"}
    item = mapping.variation_item(parent, variation, KEYS)
    d = decision(B, eta=ETA)
    fields = mapping.plan(item, d, SETTINGS)
    assert fields["parent_backorders"] == "notify" and "backorders" not in fields
    assert item.platform["stock_pool"].wanted == {"30/31": "notify"}


def test_variable_parent_is_never_planned():
    item = Item(key="40", sku="P", name="Parent", managed=False, available=None, platform={"type": "variable"})
    with pytest.raises(ValueError, match="variable"):
        mapping.plan(item, decision(I), SETTINGS)


@pytest.mark.parametrize(
    "fields",
    [
        {"stock_status": "preorder"},
        {"backorders": "always"},
        {"meta:connector_eta": date(2026, 1, 1)},
        {"price": "9.99"},
        {"parent_backorders": "notify"},
    ],
)
def test_invalid_fields_are_refused_naming_the_sku(fields):
    with pytest.raises(ValueError, match="MUG-1"):
        mapping.validate_fields(unmanaged(), fields)


def test_stock_status_refused_for_managed_items():
    with pytest.raises(ValueError, match="MUG-1"):
        mapping.validate_fields(managed(), {"stock_status": "instock"})


def test_pool_conflict_no_wins():
    assert mapping.resolve_pool_conflicts(["notify", "no", "notify"]) == "no"
    assert mapping.resolve_pool_conflicts(["yes"]) == "yes"


def pooled(quantity: int, parent_backorders: str, **own_meta):
    parent = product(id=30, type="variable", variations=[31], stock_quantity=quantity, backorders=parent_backorders)
    variation = {
        "id": 31,
        "sku": "T-S",
        "manage_stock": "parent",
        "stock_status": "outofstock",
        "meta_data": meta(**own_meta),
    }
    return mapping.variation_item(parent, variation, KEYS)


def test_an_outvoted_pool_member_stays_quiet_while_the_conflict_holds():
    settled = pooled(0, "no", connector_status="out_of_stock", connector_pool_conflict="pre_order")
    assert mapping.plan(settled, decision(P, eta=date(2027, 1, 15), message="Soon"), SETTINGS) == {}


def test_an_outvoted_pool_member_follows_the_shared_stock_not_its_decision():
    # Restocked: the store now sells it from stock, and its status says so (still no pre-order).
    restocked = pooled(4, "no", connector_status="out_of_stock", connector_pool_conflict="pre_order")
    assert mapping.plan(restocked, decision(P, eta=date(2027, 1, 15)), SETTINGS) == {
        "meta:connector_status": "in_stock"
    }


def test_an_outvoted_pool_member_with_another_decision_is_planned_afresh():
    # Its rules now want a backorder, not the pre-order the conflict was recorded for.
    moved = pooled(0, "no", connector_status="out_of_stock", connector_pool_conflict="pre_order")
    fields = mapping.plan(moved, decision(B, eta=date(2026, 12, 20)), SETTINGS)
    assert fields["parent_backorders"] == "notify" and fields["meta:connector_status"] == "backorder"


def test_the_conflict_marker_is_cleared_once_the_pool_agrees():
    agreed = pooled(0, "notify", connector_status="out_of_stock", connector_pool_conflict="pre_order")
    fields = mapping.plan(agreed, decision(P, eta=date(2027, 1, 15)), SETTINGS)
    assert fields["meta:connector_pool_conflict"] == "" and fields["meta:connector_status"] == "pre_order"
    assert "parent_backorders" not in fields


# --- what the listings ask for (`_fields`) ------------------------------------------------------

RECORDED = Path(__file__).resolve().parents[2].parent / "shared" / "platform-schemas" / "woocommerce"


class Recorder(Mapping[str, Any]):
    """A payload that notes every key read from it, nested ones as `outer.inner` (lists see through)."""

    def __init__(self, data: Mapping[str, Any], reads: set[str], prefix: str = "") -> None:
        self._data, self._reads, self._prefix = data, reads, prefix

    def _wrap(self, key: str, value: Any) -> Any:
        if isinstance(value, Mapping):
            return Recorder(value, self._reads, f"{self._prefix}{key}.")
        if isinstance(value, list):
            return [self._wrap(key, v) for v in value]
        return value

    def __getitem__(self, key: str) -> Any:
        self._reads.add(self._prefix + key)
        return self._wrap(key, self._data[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


def recorded(name: str) -> dict[str, Any]:
    path = RECORDED / name
    if not path.is_file():
        pytest.skip(f"recorded WooCommerce payloads not found: {RECORDED}")
    return json.loads(path.read_text())


def with_meta(payload: dict[str, Any]) -> dict[str, Any]:
    entries = meta(connector_status="backorder", release_date="2027-01-01", restock_date="2026-12-20", supplier="Acme")
    return {**payload, "meta_data": entries}


def read_by_the_pull() -> tuple[set[str], set[str], set[str]]:
    """Every key the adapter's pull reads of a product, a variation and an order, over every path."""
    product_reads: set[str] = set()
    variation_reads: set[str] = set()
    order_reads: set[str] = set()
    simple = with_meta(recorded("sample_product_simple.json"))
    parent = {**simple, "type": "variable", "variations": [15]}
    variation = with_meta(recorded("sample_variation.json"))
    for shape in (simple, parent, {**simple, "type": "grouped"}):
        seen = Recorder(shape, product_reads)
        if mapping.has_variations(seen):
            for own in (variation, {**variation, "manage_stock": "parent", "name": ""}, {**variation, "name": ""}):
                mapping.variation_item(seen, Recorder(own, variation_reads), KEYS)
        elif mapping.is_item(seen):
            mapping.product_item(seen, KEYS)
    order = Recorder(recorded("sample_order.json"), order_reads)
    mapping.open_order(order)
    return product_reads, variation_reads, order_reads


def test_each_listing_asks_for_exactly_the_fields_the_pull_reads():
    product_reads, variation_reads, order_reads = read_by_the_pull()
    for asked, reads in (
        (mapping.PRODUCT_FIELDS, product_reads),
        (mapping.VARIATION_FIELDS, variation_reads),
        (mapping.ORDER_FIELDS, order_reads),
    ):
        top = {read.split(".")[0] for read in reads} | {"id"}  # the adapter pages by id
        assert top - set(asked) == set(), "read but not asked for"
        assert set(asked) - top == set(), "asked for but never read"


def test_nested_keys_read_exist_in_what_the_store_answers():
    # WooCommerce answers a field asked for whole; a nested key misspelt in the mapping would
    # read as missing on every item. The recorded answers (plus meta entries) must hold each one.
    product_reads, variation_reads, order_reads = read_by_the_pull()
    answers = {
        "meta_data": {"id", "key", "value"},
        "tags": {"id", "name", "slug"},
        "categories": {"id", "name", "slug"},
        "brands": {"id", "name", "slug"},
        "attributes": set(recorded("sample_variation.json")["attributes"][0]),
        "line_items": set(recorded("sample_order.json")["line_items"][0]),
    }
    for read in product_reads | variation_reads | order_reads:
        outer, _, inner = read.partition(".")
        if inner:
            assert inner in answers[outer], read


@pytest.mark.parametrize(
    ("pasted", "home"),
    [
        ("https://shop.example.com/wp-json/wc/v3", "https://shop.example.com"),
        ("https://shop.example.com/wp-json/", "https://shop.example.com"),
        ("https://example.com/store/wp-json/wc/v3/products", "https://example.com/store"),
        ("https://shop.example.com/wp-admin/admin.php?page=wc-settings", "https://shop.example.com"),
    ],
)
def test_a_pasted_api_address_is_refused_naming_the_home_url(pasted, home):
    with pytest.raises(ValidationError, match=f'url = "{home}"'):
        WooCommerceSettings(url=pasted, key_env="WC_KEY", secret_env="WC_SECRET")


def test_the_order_statuses_accepted_are_those_the_store_accepts():
    enum = recorded("OPTIONS_orders.json")["endpoints"][0]["args"]["status"]["items"]["enum"]
    assert set(ORDER_STATUSES) == set(enum) - {"any"}, "'any' would count shipped orders as open"


@pytest.mark.parametrize(("status", "fix"), [("any", '"processing"'), ("wc-on-hold", '"on-hold"')])
def test_an_order_status_no_store_takes_is_refused_naming_the_fix(status, fix):
    with pytest.raises(ValidationError, match=r"order_statuses[\s\S]*use " + fix) as refused:
        WooCommerceSettings(url="https://shop.example.com", key_env="K", secret_env="S", order_statuses=(status,))
    assert status in str(refused.value)
