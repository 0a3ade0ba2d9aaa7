"""End to end, the way a new user meets the product: a fake WooCommerce on a loopback port,
seeded through its REST API as a shop owner's tooling would, a config file, and the `connector`
command run in-process. Nothing of ours is mocked; every check is something a user would see
(exit codes, what the command prints, what the store shows afterwards, the state file).

The command and the store read one pinned clock (`FIXED_NOW`), so "today" is the same date
whenever the tests run.
"""

from __future__ import annotations

import contextvars
import json
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from stockstatus.adapters.woocommerce.auth import WooCommerceAuth
from stockstatus.adapters.woocommerce.fake import FakeWooCommerce, serve
from stockstatus.core.cli import main
from stockstatus.core.http import HttpPolicy
from tests.conftest import FIXED_NOW

TIMEZONE = "Europe/Berlin"
HANDLING_DAYS = 2
STORE = "e2e-shop"
KEY_ENV, SECRET_ENV = "E2E_SHOP_WC_KEY", "E2E_SHOP_WC_SECRET"
CLI_TIMEOUT = 90.0  # seconds; far more than any command here takes, so a hang fails the test
API = "/wp-json/wc/v3"


def pinned() -> datetime:
    """The clock the store and every `connector` command of these tests read."""
    return FIXED_NOW


def store_today() -> date:
    """Today in the store's calendar, which is what the connector decides with."""
    return pinned().astimezone(ZoneInfo(TIMEZONE)).date()


def in_days(n: int) -> date:
    return store_today() + timedelta(days=n)


def long_day(d: date) -> str:
    """`{eta:%-d %B}` as the rules render it."""
    return f"{d.day} {d:%B}"


# ------------------------------------------------------------------------------------------
# The store


@dataclass
class Shop:
    fake: FakeWooCommerce
    url: str
    api: httpx.Client
    """The shop owner's own REST client (one for the whole test: each new client costs ~0.1 s of
    certificate loading, though these stores are plain http)."""
    ids: dict[str, int]
    """SKU -> product id (variations: SKU -> variation id; see `parents`)."""
    parents: dict[str, int]
    """Variation SKU -> parent product id."""

    def read(self, sku: str) -> dict[str, Any]:
        """The product or variation as the REST API shows it (GET, as a shop owner would)."""
        if sku in self.parents:
            path = f"products/{self.parents[sku]}/variations/{self.ids[sku]}"
        else:
            path = f"products/{self.ids[sku]}"
        response = self.api.get(path)
        assert response.status_code == 200, response.text
        return response.json()

    def read_all(self) -> dict[str, dict[str, Any]]:
        return {sku: self.read(sku) for sku in self.ids}


def meta(record: dict[str, Any], key: str) -> Any:
    for entry in record.get("meta_data") or ():
        if entry.get("key") == key:
            return entry.get("value")
    return None


def _created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), f"{response.request.method} {response.request.url.path}: {response.text}"
    return response.json()


def _tag_id(api: httpx.Client, name: str) -> int:
    """A product tag's id, created through POST products/tags as a shop's tooling would
    (REST assigns tags to products by id only)."""
    response = api.post("products/tags", json={"name": name})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def seed(shop_fake: FakeWooCommerce, url: str, api: httpx.Client) -> Shop:
    """The catalogue, posted through the REST API; then open orders that oversell one product."""
    shop = Shop(shop_fake, url, api, {}, {})

    def product(**fields: Any) -> dict[str, Any]:
        body = _created(api.post("products", json=fields))
        shop.ids[fields["sku"]] = int(body["id"])
        return body

    discontinued = _tag_id(api, "discontinued")
    product(
        name="Everyday Mug", sku="MUG-1", type="simple", regular_price="12.00", manage_stock=True, stock_quantity=12
    )
    product(
        name="Stagg Kettle",
        sku="KTL-1",
        type="simple",
        regular_price="169.00",
        manage_stock=True,
        stock_quantity=0,
        meta_data=[{"key": "restock_date", "value": in_days(10).isoformat()}],
    )
    product(
        name="AeroPress Go",
        sku="DISC-1",
        type="simple",
        regular_price="39.95",
        manage_stock=True,
        stock_quantity=0,
        tags=[{"id": discontinued}],
    )
    product(
        name="Niche Zero 2027",
        sku="PRE-1",
        type="simple",
        regular_price="699.00",
        manage_stock=True,
        stock_quantity=0,
        meta_data=[{"key": "release_date", "value": in_days(30).isoformat()}],
    )
    product(
        name="Acaia Scale",
        sku="UNM-1",
        type="simple",
        regular_price="165.00",
        manage_stock=False,
        stock_status="instock",
    )
    product(
        name="Origami Air",
        sku="UNM-PRE",
        type="simple",
        regular_price="32.00",
        manage_stock=False,
        stock_status="instock",
        meta_data=[{"key": "release_date", "value": in_days(14).isoformat()}],
    )
    grinder = product(
        name="Comandante C40",
        sku="GRD-C40",
        type="simple",
        regular_price="279.00",
        manage_stock=True,
        stock_quantity=2,
        meta_data=[{"key": "restock_date", "value": in_days(18).isoformat()}],
    )

    beans = _created(
        api.post(
            "products",
            json={
                "name": "Guji Whole Bean",
                "type": "variable",
                "attributes": [{"name": "Size", "variation": True, "visible": True, "options": ["250 g", "500 g"]}],
            },
        )
    )
    for sku, size, quantity in (("BEAN-250", "250 g", 40), ("BEAN-500", "500 g", 0)):
        variation = _created(
            api.post(
                f"products/{beans['id']}/variations",
                json={
                    "sku": sku,
                    "regular_price": "14.50",
                    "manage_stock": True,
                    "stock_quantity": quantity,
                    "attributes": [{"name": "Size", "option": size}],
                },
            )
        )
        shop.ids[sku] = int(variation["id"])
        shop.parents[sku] = int(beans["id"])

    # Open orders: REST orders skip the stock check, so the grinder is sold to -1.
    for lines in (
        [{"product_id": grinder["id"], "quantity": 3}],
        [{"product_id": shop.ids["MUG-1"], "quantity": 2}],
    ):
        _created(
            api.post(
                "orders",
                json={
                    "status": "processing",
                    "billing": {"first_name": "Mara", "last_name": "Jensen", "email": "mara@example.com"},
                    "line_items": lines,
                },
            )
        )

    assert shop.read("GRD-C40")["stock_quantity"] == -1
    assert shop.read("MUG-1")["stock_quantity"] == 10
    # Start the request log afresh: from here on, every write request is the connector's.
    shop_fake.requests.clear()
    return shop


@pytest.fixture
def shop() -> Iterator[Shop]:
    fake = FakeWooCommerce(base_url="http://127.0.0.1:1", now=pinned)
    server = serve(fake, host="127.0.0.1", port=0)
    try:
        port = server.server_address[1]
        url = f"http://127.0.0.1:{port}"
        fake.base_url = url  # the home URL OAuth signatures are checked against
        auth = WooCommerceAuth(fake.consumer_key, fake.consumer_secret)
        with httpx.Client(base_url=url + API, auth=auth, timeout=10.0) as api:
            yield seed(fake, url, api)
    finally:
        server.shutdown()
        server.server_close()


# ------------------------------------------------------------------------------------------
# Config and the command


CONFIG = """\
timezone = "{timezone}"
state = "state/connector.sqlite"

[[stores]]
name = "{store}"
platform = "woocommerce"
url = "{url}"
key_env = "{key_env}"
secret_env = "{secret_env}"
backorders_allowed_as = "notify"
order_statuses = ["processing", "on-hold"]

[stores.meta_keys]
status = "connector_status"
eta = "connector_eta"
message = "connector_message"
release_date = "release_date"
restock_date = "restock_date"
supplier = "supplier"

[supply]
handling_days = {handling}
lead_time_days = {{ default = 21, suppliers = {{ "Acme" = 14 }} }}

[[rules]]
name = "{first_rule}"
when = {first_when}
then = {{ status = "out_of_stock", message = "No longer available" }}

[[rules]]
name = "pre-order until release"
when = {{ release_date = "future" }}
then = {{ status = "pre_order", eta = "release_date", message = "Pre-order: ships from {{eta:%-d %B %Y}}" }}

[[rules]]
name = "backorder while a restock is due"
when = {{ available = "<= 0", eta_within_days = 30 }}
then = {{ status = "backorder", eta = "restock_date", message = "Back in stock soon: ships by {{eta:%-d %B}}" }}

[[rules]]
name = "made to order"
when = {{ available = "<= 0", tags_any = ["made-to-order"] }}
then = {{ status = "backorder", eta = "lead_time", message = "Made to order: ships by {{eta:%-d %B}}" }}

[[rules]]
name = "sold out"
when = {{ available = "<= 0" }}
then = {{ status = "out_of_stock" }}
"""


def write_config(
    tmp_path: Path, url: str, *, first_when: str = '{ tags_any = ["discontinued"] }', first_rule: str = "discontinued"
) -> Path:
    path = tmp_path / "connector.toml"
    path.write_text(
        CONFIG.format(
            timezone=TIMEZONE,
            store=STORE,
            url=url,
            key_env=KEY_ENV,
            secret_env=SECRET_ENV,
            handling=HANDLING_DAYS,
            first_when=first_when,
            first_rule=first_rule,
        ),
        encoding="utf-8",
    )
    return path


@dataclass
class Result:
    code: int
    out: str
    err: str


def cli(
    capsys: pytest.CaptureFixture[str],
    argv: Sequence[str],
    timeout: float = CLI_TIMEOUT,
    *,
    clock: Callable[[], datetime] = pinned,
) -> Result:
    """`connector ARGV` in-process on the pinned clock, bounded in time, with what it printed."""
    capsys.readouterr()  # drop anything printed before
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["code"] = main(list(argv), clock=clock)
        except SystemExit as exc:  # argparse
            outcome["code"] = exc.code
        except BaseException as exc:  # noqa: BLE001 - reported below
            outcome["error"] = exc

    # In a copy of the test's context, as a command run in the test itself would be (so that
    # fixtures like no_backoff apply to it too).
    context = contextvars.copy_context()
    thread = threading.Thread(target=context.run, args=(target,), name="connector-cli", daemon=True)
    thread.start()
    thread.join(timeout)
    captured = capsys.readouterr()
    assert not thread.is_alive(), f"connector {' '.join(argv)} did not finish within {timeout}s"
    if "error" in outcome:
        raise AssertionError(f"connector {' '.join(argv)} raised instead of reporting") from outcome["error"]
    return Result(outcome["code"], captured.out, captured.err)


@pytest.fixture
def configured(shop: Shop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Shop, Path]:
    monkeypatch.setenv(KEY_ENV, shop.fake.consumer_key)
    monkeypatch.setenv(SECRET_ENV, shop.fake.consumer_secret)
    monkeypatch.delenv("CONNECTOR_CONFIG", raising=False)
    return shop, write_config(tmp_path, shop.url)


# ------------------------------------------------------------------------------------------
# What a shop owner expects to see


def expected() -> dict[str, dict[str, Any]]:
    """Per SKU: status before → after, ETA, message, and what WooCommerce then shows."""
    restock_kettle = in_days(10) + timedelta(days=HANDLING_DAYS)
    restock_grinder = in_days(18) + timedelta(days=HANDLING_DAYS)
    release_niche, release_origami = in_days(30), in_days(14)

    def row(
        before: str, after: str, eta: date | None, message: str, stock_status: str, backorders: str | None
    ) -> dict[str, Any]:
        return {
            "from": before,
            "to": after,
            "eta": eta.isoformat() if eta else None,
            "message": message,
            "stock_status": stock_status,
            "backorders": backorders,
        }

    return {
        "MUG-1": row("in_stock", "in_stock", None, "", "instock", "no"),
        "KTL-1": row(
            "out_of_stock",
            "backorder",
            restock_kettle,
            f"Back in stock soon: ships by {long_day(restock_kettle)}",
            "onbackorder",
            "notify",
        ),
        "DISC-1": row("out_of_stock", "out_of_stock", None, "No longer available", "outofstock", "no"),
        "PRE-1": row(
            "out_of_stock",
            "pre_order",
            release_niche,
            f"Pre-order: ships from {long_day(release_niche)} {release_niche.year}",
            "onbackorder",
            "notify",
        ),
        "UNM-PRE": row(
            "in_stock",
            "pre_order",
            release_origami,
            f"Pre-order: ships from {long_day(release_origami)} {release_origami.year}",
            "onbackorder",
            None,
        ),
        "GRD-C40": row(
            "out_of_stock",
            "backorder",
            restock_grinder,
            f"Back in stock soon: ships by {long_day(restock_grinder)}",
            "onbackorder",
            "notify",
        ),
        "BEAN-250": row("in_stock", "in_stock", None, "", "instock", "no"),
        "BEAN-500": row("out_of_stock", "out_of_stock", None, "", "outofstock", "no"),
    }


def run_of(result: Result) -> dict[str, Any]:
    body = json.loads(result.out)
    assert [r["store"] for r in body["runs"]] == [STORE]
    return body["runs"][0]


# ------------------------------------------------------------------------------------------
# The happy path


def test_dry_run_apply_and_second_pass_against_a_store_over_http(
    configured: tuple[Shop, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    shop, config = configured
    fake = shop.fake
    want = expected()
    before = shop.read_all()
    assert fake.write_requests == []
    requests_before = len(fake.requests)

    # 1. the plan: every expected transition, nothing written
    planned = cli(capsys, ["--config", str(config), "resync", "--dry-run", "--json"])
    assert planned.code == 0, planned.err
    plan = run_of(planned)
    assert plan["dry_run"] is True and plan["outcome"] == "ok"
    changes = {c["sku"]: c for c in plan["changes"]}
    assert set(changes) == set(want), "the unmanaged in-stock product without dates is left as it is"
    for sku, row in want.items():
        change = changes[sku]
        assert (change["from"], change["to"], change["eta"]) == (row["from"], row["to"], row["eta"]), sku
    assert all(c["result"] == "planned" for c in plan["changes"])
    assert changes["GRD-C40"]["rule"] == "backorder while a restock is due"
    assert changes["DISC-1"]["rule"] == "discontinued"
    assert changes["PRE-1"]["rule"] == "pre-order until release"
    assert fake.write_requests == [], "a dry run must not write to the store"
    assert len(fake.requests) > requests_before, "the dry run did read the store over HTTP"
    assert shop.read_all() == before, "a dry run leaves the store exactly as it was"

    # 2. apply it
    applied = cli(capsys, ["--config", str(config), "resync", "--json"])
    assert applied.code == 0, applied.err
    run = run_of(applied)
    assert run["outcome"] == "ok" and run["failed"] == 0
    assert run["written"] == len(want)
    assert {c["sku"]: c["result"] for c in run["changes"]} == dict.fromkeys(want, "written")
    writes = fake.write_requests
    assert writes and all(path.endswith("/batch") for _, path, _ in writes), writes

    # 3. what the shop owner sees in the store now
    for sku, row in want.items():
        record = shop.read(sku)
        assert record["stock_status"] == row["stock_status"], sku
        if row["backorders"] is not None:
            assert record["backorders"] == row["backorders"], sku
        assert meta(record, "connector_status") == row["to"], sku
        assert (meta(record, "connector_eta") or None) == row["eta"], sku
        assert (meta(record, "connector_message") or "") == row["message"], sku
    untouched = shop.read("UNM-1")
    assert untouched["stock_status"] == "instock"
    assert meta(untouched, "connector_status") is None
    assert shop.read("GRD-C40")["stock_quantity"] == -1, "the connector never rewrites stock quantities"
    assert shop.read("MUG-1")["stock_quantity"] == 10
    parent = shop.api.get(f"products/{shop.parents['BEAN-250']}").json()
    assert meta(parent, "connector_status") is None, "a variable parent is never written; its variations are"

    # 4. a second pass: nothing changed, so nothing is written
    writes_before = len(fake.write_requests)
    again = cli(capsys, ["--config", str(config), "resync", "--json"])
    assert again.code == 0, again.err
    second = run_of(again)
    assert second["outcome"] == "ok"
    assert second["changes"] == [] and second["written"] == 0
    assert len(fake.write_requests) == writes_before, "a pass with nothing changed makes no write request"

    text = cli(capsys, ["--config", str(config), "resync"])
    assert text.code == 0, text.err
    assert STORE in text.out
    assert "nothing to change" in text.out
    assert len(fake.write_requests) == writes_before

    # 5. the state file, next to the config as `state` says, holds the runs and decisions
    state_file = config.parent / "state" / "connector.sqlite"
    assert state_file.is_file()
    with sqlite3.connect(state_file) as db:
        runs = db.execute("SELECT id, store, mode, outcome, changes, written, failed FROM runs ORDER BY id").fetchall()
        assert [(r[1], r[2], r[3]) for r in runs] == [
            (STORE, "dry-run", "ok"),
            (STORE, "full", "ok"),
            (STORE, "full", "ok"),
            (STORE, "full", "ok"),
        ]
        assert [r[4:] for r in runs] == [(len(want), 0, 0), (len(want), len(want), 0), (0, 0, 0), (0, 0, 0)]
        dry_id, full_id = runs[0][0], runs[1][0]
        logged = db.execute(
            "SELECT run_id, sku, previous_status, status, eta, rule, result FROM decisions ORDER BY id"
        ).fetchall()
    assert {r[0] for r in logged} == {dry_id, full_id}, "passes with nothing to change log no decisions"
    by_run = {(r[0], r[1]): r[2:] for r in logged}
    for sku, row in want.items():
        assert by_run[(dry_id, sku)][1:3] == (row["to"], row["eta"]) and by_run[(dry_id, sku)][4] == "planned"
        assert by_run[(full_id, sku)] == (row["from"], row["to"], row["eta"], changes[sku]["rule"], "written")


# ------------------------------------------------------------------------------------------
# Failures


def test_wrong_secret_is_reported_as_refused_credentials_without_leaking_it(
    configured: tuple[Shop, Path],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shop, config = configured
    wrong = "cs_" + "0123456789abcdef" * 2 + "01234567"
    monkeypatch.setenv(SECRET_ENV, wrong)
    before = shop.read_all()

    result = cli(capsys, ["--config", str(config), "resync"])

    assert result.code == 1
    output = result.out + result.err
    assert STORE in output
    everything = output + caplog.text
    for secret in (wrong, shop.fake.consumer_secret):
        assert secret not in everything
    assert shop.fake.write_requests == []
    assert shop.read_all() == before


def test_wrong_secret_says_the_credentials_were_refused(
    configured: tuple[Shop, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _shop, config = configured
    monkeypatch.setenv(SECRET_ENV, "cs_" + "f" * 40)
    result = cli(capsys, ["--config", str(config), "resync"])
    assert result.code == 1
    output = result.out + result.err
    assert re.search(r"refused|rejected|credentials", output, re.IGNORECASE), output
    assert re.search(r"key|secret|credentials", output, re.IGNORECASE), output
    assert SECRET_ENV in output, "the message names the variable to fix"


def test_store_failing_its_pages_fails_the_run_and_writes_nothing(
    configured: tuple[Shop, Path], capsys: pytest.CaptureFixture[str], no_backoff: list[float]
) -> None:
    shop, config = configured
    fake = shop.fake
    before = {
        sku: fake.get_variation(shop.parents[sku], i) if sku in shop.parents else fake.get_product(i)
        for sku, i in shop.ids.items()
    }

    fake.fail_next(500, times=10, path_contains="products")
    result = cli(capsys, ["--config", str(config), "resync"])

    assert result.code == 1
    assert STORE in result.out
    assert "FAILED" in result.out and "500" in result.out
    assert len(no_backoff) >= HttpPolicy().attempts - 1, "a page answering 500 is retried before the pass gives up"
    assert fake.write_requests == [], "a store that cannot be read is never written to"
    after = {
        sku: fake.get_variation(shop.parents[sku], i) if sku in shop.parents else fake.get_product(i)
        for sku, i in shop.ids.items()
    }
    assert after == before, "a failed read is never taken for 'out of stock'"
    with sqlite3.connect(config.parent / "state" / "connector.sqlite") as db:
        assert db.execute("SELECT outcome, written FROM runs").fetchall() == [("failed", 0)]


def test_missing_environment_variable_stops_before_any_request(
    shop: Shop, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, shop.fake.consumer_key)
    monkeypatch.delenv(SECRET_ENV, raising=False)
    config = write_config(tmp_path, shop.url)
    requests_before = len(shop.fake.requests)

    result = cli(capsys, ["--config", str(config), "resync"])

    assert result.code == 2
    assert SECRET_ENV in result.err
    assert len(shop.fake.requests) == requests_before, "no request is made without credentials"
    assert not (tmp_path / "state" / "connector.sqlite").exists(), "the state file is not touched"


def test_rules_check_names_the_broken_rule_and_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv(SECRET_ENV, raising=False)
    config = write_config(tmp_path, "http://127.0.0.1:9", first_when='{ available = "lots" }', first_rule="broken")

    result = cli(capsys, ["--config", str(config), "rules", "check"])

    assert result.code == 2
    assert "rules[0]" in result.err
    assert "available" in result.err
    assert str(config) in result.err


def test_rules_check_accepts_the_valid_config_without_credentials(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv(SECRET_ENV, raising=False)
    config = write_config(tmp_path, "http://127.0.0.1:9")

    result = cli(capsys, ["--config", str(config), "rules", "check"])

    assert result.code == 0, result.err
    assert "OK" in result.out and STORE in result.out


# ------------------------------------------------------------------------------------------
# The demo


def test_demo_shows_all_four_statuses_and_an_idle_second_pass(capsys: pytest.CaptureFixture[str]) -> None:
    result = cli(capsys, ["demo"])
    assert result.code == 0, result.err
    for status in ("in_stock", "backorder", "pre_order", "out_of_stock"):
        assert status in result.out
    second_pass = result.out.split("second pass", 1)
    assert len(second_pass) == 2, result.out
    assert "nothing to change" in second_pass[1]


def test_demo_json_second_pass_changes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    result = cli(capsys, ["demo", "--json"])
    assert result.code == 0, result.err
    body = json.loads(result.out)
    assert body["second_pass"], "the demo runs a second pass"
    for run in body["second_pass"]:
        assert run["outcome"] == "ok"
        assert run["changes"] == [] and run["written"] == 0
    assert {row["status"] for row in body["shown"]} >= {"in_stock", "backorder", "pre_order", "out_of_stock"}
    assert all(run["written"] > 0 for run in body["applied"])
