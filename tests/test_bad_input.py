"""Broken files people write: each stops the command with exit 2 and says where and how to fix it.

Every case runs `connector resync` and `connector rules check` on a config whose store is a
server on 127.0.0.1 that records every request: a broken config, rules file or purchase-order
file must reach no store, create no state file, print no traceback, and name the file and the
key or line, with the fix.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from stockstatus.core import cli

BOM = "\ufeff"

CONFIG = """timezone = "Europe/Berlin"
state = "state.sqlite"
rules_file = "rules.toml"

[[stores]]
name = "eu-shop"
platform = "woocommerce"
url = "{url}"
key_env = "EU_SHOP_WC_KEY"
secret_env = "EU_SHOP_WC_SECRET"

[supply]
purchase_orders = ["incoming/*.csv"]
"""

RULES = """[[rules]]
name = "sold out"
when = { available = "<= 0" }
then = { status = "out_of_stock", message = "Sold out" }
"""

PO = (
    "sku,quantity,expected_date,supplier,reference\nKTL-1,24,2026-12-10,Acme,PO-1042\nMUG-1,6,2026-12-20,Acme,PO-1043\n"
)

ENVIRON = {"EU_SHOP_WC_KEY": "ck_" + "1" * 40, "EU_SHOP_WC_SECRET": "cs_" + "2" * 40}


class Recorder(BaseHTTPRequestHandler):
    """A store that refuses every request (401) and remembers it."""

    seen: ClassVar[list[str]] = []

    def _refuse(self) -> None:
        self.seen.append(f"{self.command} {self.path}")
        body = json.dumps({"code": "woocommerce_rest_authentication_error", "message": "Invalid signature"}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _refuse

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads `seen`."""


@pytest.fixture(scope="module")
def store_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass(frozen=True)
class Case:
    """One broken input: how the files differ from the good ones, and what the message must say."""

    id: str
    expect: tuple[str, ...]
    config: Callable[[str], str] = lambda text: text
    rules: Callable[[str], str] = lambda text: text
    po: Callable[[str], str] = lambda text: text
    encoding: dict[str, str] = field(default_factory=dict)
    """File (config, rules, po) → encoding it is saved in (default UTF-8)."""
    config_arg: str | None = None
    code: int = cli.EXIT_CONFIG
    checked_by_rules_check: bool = True
    """False for what only matters when a store is contacted (its credentials): `rules check` reads no environment."""


def replace(old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert old in text, f"the case edits {old!r}, which the good file lacks"
        return text.replace(old, new)

    return edit


CASES = [
    # --- the config file -------------------------------------------------------------------------
    Case(
        "config saved as Latin-1",
        ("connector.toml", "line 1, column 7", "not utf-8", "latin-1", "save it as utf-8"),
        config=lambda t: "# Bestände für München\n" + t,
        encoding={"config": "latin-1"},
    ),
    Case(
        "config value in Windows-1252",
        ("connector.toml", "line 6", "not utf-8", "save it as utf-8"),
        config=replace('name = "eu-shop"', 'name = "eu-shop" # Café “Süd”'),
        encoding={"config": "cp1252"},
    ),
    Case(
        "config with a BOM and a misspelt key",
        ("connector.toml", "timezon: unknown key", "check its spelling"),
        config=lambda t: BOM + t.replace("timezone =", "timezon ="),
    ),
    Case(
        "config value without quotes",
        ("connector.toml", "not valid toml", "line 8", "fix that line", '"quotes"'),
        config=lambda t: re.sub(r'url = "([^"]*)"', r"url = \1", t),
    ),
    Case(
        "config key given twice",
        ("connector.toml", "not valid toml", "line 11", "fix that line"),
        config=replace('secret_env = "EU_SHOP_WC_SECRET"', 'secret_env = "A"\nkey_env = "B"'),
    ),
    Case(
        "config without stores",
        ("connector.toml", "stores: required key is missing", "connector init"),
        config=lambda t: t.split("[[stores]]")[0] + '[supply]\npurchase_orders = ["incoming/*.csv"]\n',
    ),
    Case(
        "stores written as one table",
        ("connector.toml", "stores: must be a list", "[[table]] (double brackets)"),
        config=replace("[[stores]]", "[stores]"),
    ),
    Case(
        "unknown top-level key",
        ("connector.toml", "colour: unknown key", "remove it"),
        config=lambda t: 'colour = "blue"\n' + t,
    ),
    Case(
        "platform not installed",
        ("connector.toml", "stores[0].platform", "unknown platform 'magento'", "installed: "),
        config=replace('platform = "woocommerce"', 'platform = "magento"'),
    ),
    Case(
        "timezone that is not an IANA name",
        ("connector.toml", "timezone", "unknown timezone 'berlin'", "europe/berlin"),
        config=replace('timezone = "Europe/Berlin"', 'timezone = "Berlin"'),
    ),
    Case(
        "schedule nobody can read",
        ("connector.toml", "stores[0].schedule", "every fortnight"),
        config=replace(
            'secret_env = "EU_SHOP_WC_SECRET"', 'secret_env = "EU_SHOP_WC_SECRET"\nschedule = "every fortnight"'
        ),
    ),
    Case(
        "store url without scheme",
        ("connector.toml", "stores[0] (eu-shop).url", "https://"),
        config=lambda t: t.replace('url = "http://', 'url = "'),
    ),
    Case(
        "plain http to a remote shop",
        ("connector.toml", "stores[0] (eu-shop)", "plain http", "allow_insecure_http = true"),
        config=lambda t: t.replace("http://127.0.0.1", "http://shop.example.com"),
    ),
    Case(
        "key and secret in the url",
        ("connector.toml", "stores[0] (eu-shop).url", "user or password", "key_env"),
        config=lambda t: t.replace("http://127.0.0.1", "http://ck_x:cs_y@127.0.0.1"),
    ),
    Case(
        "url pasted with the REST API path",
        ("connector.toml", "stores[0] (eu-shop).url", "home url", "/wp-json/wc/v3 itself"),
        config=lambda t: re.sub(r'url = "([^"]*)"', r'url = "\1/wp-json/wc/v3"', t),
    ),
    Case(
        "order status in the database's spelling",
        ("connector.toml", "stores[0] (eu-shop).order_statuses", '"wc-processing"', 'use "processing"'),
        config=replace(
            'secret_env = "EU_SHOP_WC_SECRET"', 'secret_env = "EU_SHOP_WC_SECRET"\norder_statuses = ["wc-processing"]'
        ),
    ),
    Case(
        "key pasted where its variable's name belongs",
        ("connector.toml", "stores[0] (eu-shop).key_env", "name of an environment variable"),
        config=replace('key_env = "EU_SHOP_WC_KEY"', 'key_env = "ck_0123456789abcdef0123456789abcdef01234567"'),
    ),
    Case(
        "credential variable's name missing",
        ("connector.toml", "stores[0] (eu-shop).key_env: required key is missing", "add it"),
        config=replace('key_env = "EU_SHOP_WC_KEY"\n', ""),
    ),
    Case(
        "credential variable not set",
        ("connector.toml", "secret_env: environment variable eu_shop_secret is not set", "export name="),
        config=replace('secret_env = "EU_SHOP_WC_SECRET"', 'secret_env = "EU_SHOP_SECRET"'),
        checked_by_rules_check=False,
    ),
    Case(
        "two stores with one name",
        ("connector.toml", "stores[1].name", "names must be unique"),
        config=lambda t: t.replace("[supply]", t[t.index("[[stores]]") : t.index("[supply]")] + "[supply]"),
    ),
    Case(
        "negative handling days",
        ("connector.toml", "supply.handling_days", "greater than or equal to 0"),
        config=replace("[supply]\n", "[supply]\nhandling_days = -1\n"),
    ),
    Case(
        "lead time in words",
        ("connector.toml", "supply.lead_time_days.default", "valid integer"),
        config=replace("[supply]\n", '[supply]\nlead_time_days = { default = "three weeks" }\n'),
    ),
    Case(
        "webhook url without scheme",
        ("connector.toml", "webhook.url", "https://"),
        config=lambda t: t + '\n[webhook]\nurl = "hooks.example.com/stock"\nsecret_env = "HOOK_SECRET"\n',
    ),
    Case(
        "config file that does not exist",
        ("connector.toml", "configuration file not found", "--config", "connector init"),
        config_arg="missing/connector.toml",
    ),
    # --- the rules file --------------------------------------------------------------------------
    Case(
        "rules file misspelt",
        ("rules_file", "rulez.toml", "not found", "check the path"),
        config=replace('rules_file = "rules.toml"', 'rules_file = "rulez.toml"'),
    ),
    Case(
        "rules file saved as Latin-1",
        ("rules.toml", "line 4", "not utf-8", "save it as utf-8"),
        rules=replace('"Sold out"', '"Ausverkauft für heute"'),
        encoding={"rules": "latin-1"},
    ),
    Case(
        "rules file with a BOM and a status that does not exist",
        ("rules.toml", "rules[0]", "sold_out"),
        rules=lambda t: BOM + t.replace('"out_of_stock"', '"sold_out"'),
    ),
    Case(
        "rules file that is not TOML",
        ("rules.toml is not valid toml", "line 2", "fix that line"),
        rules=replace('name = "sold out"', "name = sold out"),
    ),
    Case(
        "rules file holding stores",
        ("rules.toml", "stores: unknown key", "only [[rules]] tables"),
        rules=lambda t: t + '\n[[stores]]\nname = "x"\n',
    ),
    Case(
        "rule condition misspelt",
        ("rules.toml", "rules[0]", "availabel"),
        rules=replace("available =", "availabel ="),
    ),
    Case(
        "rule comparison nobody can read",
        ("rules.toml", "rules[0]", "when.available", "<== 0"),
        rules=replace('"<= 0"', '"<== 0"'),
    ),
    Case(
        "rules written as one table",
        ("rules.toml", "write each rule as a [[rules]] table"),
        rules=replace("[[rules]]", "[rules]"),
    ),
    # --- purchase-order files --------------------------------------------------------------------
    Case(
        "purchase-order folder misspelt",
        ("connector.toml", "supply.purchase_orders", "incomming/*.csv", "does not exist", "check the path"),
        config=replace('"incoming/*.csv"', '"incomming/*.csv"'),
    ),
    Case(
        "purchase-order file that is not there",
        ("supply.purchase_orders", "incoming/po-1042.csv", "matches no file", "check the path"),
        config=replace('"incoming/*.csv"', '"incoming/po-1042.csv"'),
    ),
    Case(
        "purchase orders saved as Latin-1",
        ("acme.csv:3", "not utf-8", "latin-1", "csv utf-8"),
        po=replace("MUG-1,6,2026-12-20,Acme,", "MUG-1,6,2026-12-20,Müller,"),
        encoding={"po": "latin-1"},
    ),
    Case(
        "purchase orders separated by semicolons",
        ("acme.csv:1", "separated by ';'", "comma-separated csv"),
        po=lambda t: t.replace(",", ";"),
    ),
    Case(
        "purchase orders from a German Excel (BOM and semicolons)",
        ("acme.csv:1", "separated by ';'", "comma delimited"),
        po=lambda t: BOM + t.replace(",", ";"),
    ),
    Case(
        "purchase orders with a column twice",
        ("acme.csv:1", "quantity appear more than once", "keep one"),
        po=replace("sku,quantity,expected_date", "sku,quantity,expected_date,quantity"),
    ),
    Case(
        "negative quantity",
        ("acme.csv:3", "quantity -6 is negative", "0 for a cancelled line"),
        po=replace("MUG-1,6,", "MUG-1,-6,"),
    ),
    Case(
        "quantity with a decimal comma",
        ("acme.csv:2", "'2,5' is not a whole number", "write e.g. 24"),
        po=replace("KTL-1,24,", 'KTL-1,"2,5",'),
    ),
    Case(
        "date written day first",
        ("acme.csv:2", "10.12.2026", "like 2026-12-31"),
        po=replace("2026-12-10", "10.12.2026"),
    ),
    Case(
        "purchase orders without a date column",
        ("acme.csv:1", "lacks column(s) expected_date", "need sku, quantity, expected_date"),
        po=lambda t: t.replace("expected_date", "eta"),
    ),
    Case(
        "purchase-order line without a SKU",
        ("acme.csv:3", "sku is empty", "give each line the sku"),
        po=replace("MUG-1,6,", ",6,"),
    ),
    Case(
        "quantity of absurd size",
        ("acme.csv:2", "more than 1,000,000,000 units", "check the column"),
        po=replace("KTL-1,24,", "KTL-1,10000000000000000000,"),
    ),
    Case(
        "supplier name with an unquoted comma",
        ("acme.csv:3", "more values than the header has columns", "double quotes"),
        po=replace("2026-12-20,Acme,PO-1043", "2026-12-20,Acme, Inc.,PO-1043"),
    ),
]


def lay_out(tmp_path: Path, case: Case, url: str) -> Path:
    """The good files with the case's edit, saved as the case says; the config's path."""
    texts = {
        "config": (tmp_path / "connector.toml", case.config(CONFIG.format(url=url))),
        "rules": (tmp_path / "rules.toml", case.rules(RULES)),
        "po": (tmp_path / "incoming" / "acme.csv", case.po(PO)),
    }
    for name, (path, text) in texts.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode(case.encoding.get(name, "utf-8")))
    return tmp_path / (case.config_arg or "connector.toml")


def test_the_table_is_long_enough() -> None:
    assert len(CASES) >= 30 and len({c.id for c in CASES}) == len(CASES)


RUNS = [
    pytest.param(case, command, id=f"{' '.join(command)}: {case.id}")
    for command in (["resync"], ["rules", "check"])
    for case in CASES
    if command == ["resync"] or case.checked_by_rules_check
]


@pytest.mark.parametrize(("case", "command"), RUNS)
def test_a_broken_input_stops_before_any_store_is_contacted_and_says_how_to_fix_it(
    tmp_path: Path,
    store_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    case: Case,
    command: list[str],
) -> None:
    for name, value in ENVIRON.items():
        monkeypatch.setenv(name, value)
    path = lay_out(tmp_path, case, store_url)
    Recorder.seen.clear()

    code = cli.main(["--config", str(path), *command])

    captured = capsys.readouterr()
    output = (captured.out + captured.err).casefold()
    assert code == case.code, output
    for fragment in case.expect:
        assert fragment.casefold() in output, f"{fragment!r} missing from:\n{output}"
    assert "traceback" not in output
    assert Recorder.seen == [], "nothing reached the store"
    assert not (tmp_path / "state.sqlite").exists(), "no state file was created"


def test_the_good_files_do_reach_the_store(
    tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The table's files without the broken part (and saved with BOMs) pass, so the recorder would see a pass."""
    for name, value in ENVIRON.items():
        monkeypatch.setenv(name, value)
    good = Case("good", (), config=lambda t: BOM + t, rules=lambda t: BOM + t, po=lambda t: BOM + t)
    path = lay_out(tmp_path, good, store_url)
    Recorder.seen.clear()

    assert cli.main(["--config", str(path), "rules", "check"]) == cli.EXIT_OK
    assert Recorder.seen == []
    assert cli.main(["--config", str(path), "resync"]) == cli.EXIT_FAILED  # the recorder refuses the key
    assert "refused the credentials" in capsys.readouterr().out
    assert Recorder.seen, "the pass reached the store"


def test_the_example_config_copied_as_it_is_passes_rules_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The quickstart's first check on a fresh copy finds nothing to fix (no purchase-order folder yet)."""
    example = Path(__file__).resolve().parents[1] / "config.example.toml"
    path = tmp_path / "connector.toml"
    path.write_bytes(example.read_bytes())
    assert cli.main(["--config", str(path), "rules", "check"]) == cli.EXIT_OK, capsys.readouterr().err
