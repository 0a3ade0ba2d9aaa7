from __future__ import annotations

import re
from pathlib import Path

import pytest

from stockstatus.core import config as config_module
from stockstatus.core.config import config_path, load
from stockstatus.core.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]

MINIMAL = """
timezone = "Europe/Berlin"
[[stores]]
name = "eu-shop"
platform = "woocommerce"
url = "https://shop.example.com"
key_env = "EU_KEY"
secret_env = "EU_SECRET"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "connector.toml"
    path.write_text(text)
    return path


def problems(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as err:
        load(write(tmp_path, text))
    message = str(err.value)
    assert str(tmp_path / "connector.toml") in message  # always names the file
    return message


def test_the_example_config_is_complete_and_valid():
    config = load(ROOT / "config.example.toml")
    woo, shopify = config.stores
    assert (woo.name, woo.platform, woo.timezone.key) == ("eu-shop", "woocommerce", "Europe/Berlin")
    assert (shopify.name, shopify.platform, shopify.timezone.key) == ("us-shop", "shopify", "America/New_York")
    assert woo.rules is shopify.rules and len(woo.rules.names) == 6  # one rules list for both platforms
    assert config.state_path == ROOT / "connector.sqlite"  # relative to the file


def test_minimal_config_gets_the_documented_defaults(tmp_path):
    config = load(write(tmp_path, MINIMAL))
    [store] = config.stores
    assert store.settings.backorders_allowed_as == "notify"
    assert store.settings.meta_keys.eta == "connector_eta"
    assert config.state_path == tmp_path / "connector.sqlite"


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda t: t + "colour = 'blue'\n", "colour: unknown key"),
        (
            lambda t: t.replace('url = "https://shop.example.com"', 'url = "shop.example.com"'),
            "stores[0] (eu-shop).url",
        ),
        (
            lambda t: t.replace('key_env = "EU_KEY"', 'key_env = "ck_1234567890abcdef"\nkey_typo = 1'),
            "key_typo: unknown key",
        ),
        (
            lambda t: t.replace('platform = "woocommerce"', 'platform = "magento"'),
            "stores[0].platform: unknown platform 'magento'",
        ),
        (
            lambda t: t.replace('timezone = "Europe/Berlin"', 'timezone = "Europe/Berln"'),
            "timezone: unknown timezone 'Europe/Berln'",
        ),
        (lambda t: t.replace('key_env = "EU_KEY"\n', ""), "stores[0] (eu-shop).key_env: required key is missing"),
        (lambda t: t.replace('name = "eu-shop"', 'name = "eu shop!"'), "stores[0].name"),
        (
            lambda t: t + '[[rules]]\nname = "x"\nwhen = { available = "<== 0" }\nthen = { status = "out_of_stock" }\n',
            'rules[0] ("x").when.available',
        ),
        (lambda t: t + '[[rules]]\nname = "x"\nthen = { status = "sold_out" }\n', "rules[0]"),
        (lambda t: t.replace("[[stores]]", "stores = 3\n[[nope]]"), "stores"),
    ],
    ids=[
        "unknown top-level key",
        "url without scheme",
        "typo in a store key",
        "platform not installed",
        "misspelt timezone",
        "missing credential variable name",
        "store name with spaces",
        "malformed comparison in a rule",
        "unknown status in a rule",
        "stores is not a list",
    ],
)
def test_every_invalid_config_names_the_key_and_what_is_wrong(tmp_path, edit, expected):
    assert expected in problems(tmp_path, edit(MINIMAL))


def test_all_problems_are_reported_at_once(tmp_path):
    text = MINIMAL.replace('url = "https://shop.example.com"', 'url = "ftp://x"') + "colour = 1\n"
    message = problems(tmp_path, text)
    assert "stores[0] (eu-shop).url" in message and "colour: unknown key" in message


def test_a_pasted_secret_is_never_echoed(tmp_path):
    secret = "ck_0123456789abcdef0123456789abcdef01234567"
    message = problems(tmp_path, MINIMAL.replace('key_env = "EU_KEY"', f'key_env = "{secret}"'))
    assert "key_env" in message and secret not in message


def test_toml_syntax_errors_name_the_line(tmp_path):
    assert "line 3" in problems(tmp_path, "timezone = 'UTC'\n\n[[stores]\n")


def test_missing_file_says_how_to_start(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"`connector init` writes a starter one"):
        load(config_module.DEFAULT_PATH)


def test_config_path_order_is_flag_then_environment_then_default():
    assert config_path("a.toml", {"CONNECTOR_CONFIG": "b.toml"}) == Path("a.toml")
    assert config_path(None, {"CONNECTOR_CONFIG": "b.toml"}) == Path("b.toml")
    assert config_path(None, {}) == Path("connector.toml")


def test_missing_secrets_are_named_by_variable_not_value(tmp_path):
    config = load(write(tmp_path, MINIMAL))
    with pytest.raises(ConfigError) as err:
        config.check_secrets(config.stores, {"EU_KEY": "ck_x"})
    assert "EU_SECRET" in str(err.value) and "ck_x" not in str(err.value)
    config.check_secrets(config.stores, {"EU_KEY": "ck_x", "EU_SECRET": "cs_y"})


def test_a_store_can_override_the_rules(tmp_path):
    text = MINIMAL + (
        '[[stores.rules]]\nname = "all out"\nthen = { status = "out_of_stock" }\n'
        '[[rules]]\nname = "sold out"\nwhen = { available = "<= 0" }\nthen = { status = "out_of_stock" }\n'
    )
    [store] = load(write(tmp_path, text)).stores
    assert store.rules.names == ("all out",)


def test_supply_and_demand_keys_have_defaults_and_are_validated(tmp_path):
    config = load(write(tmp_path, MINIMAL))
    assert config.supply.horizon_days == 120 and config.supply.purchase_orders == []
    assert config.demand.history_days == 90 and config.demand.velocity_window_days == 28
    assert round(config.demand.safety_factor, 3) == 1.645  # service level 0.95

    text = MINIMAL + (
        "[supply]\n"
        'purchase_orders = ["incoming/*.csv"]\n'
        "horizon_days = 60\n"
        'lead_time_sd_days = { default = 3, suppliers = { FarEast = 10.5 }, tags = { "air" = 1 } }\n'
        "[demand]\nz = 2.0\nreview_period_days = 14\n"
    )
    config = load(write(tmp_path, text))
    spread = config.supply.lead_time_sd_days
    assert spread.for_item(supplier="FarEast", vendor=None, tags=frozenset(), categories=frozenset()) == 10.5
    assert spread.for_item(supplier=None, vendor=None, tags=frozenset({"Air"}), categories=frozenset()) == 1
    assert spread.for_item(supplier=None, vendor=None, tags=frozenset(), categories=frozenset()) == 3
    assert config.demand.safety_factor == 2.0
    assert config.purchase_orders.patterns == ("incoming/*.csv",)
    assert config.purchase_orders.base_dir == tmp_path

    hysteresis = load(write(tmp_path, "back_in_stock_at = 3\n" + MINIMAL))
    assert hysteresis.stores[0].rules.back_in_stock_at == 3

    both = MINIMAL + "[demand]\nz = 2.0\nservice_level = 0.9\n"
    assert "demand: give service_level or z, not both" in problems(tmp_path, both)
    assert "demand.service_level" in problems(tmp_path, MINIMAL + "[demand]\nservice_level = 95\n")
    assert "supply.horizon_days" in problems(tmp_path, MINIMAL + "[supply]\nhorizon_days = 0\n")


SOLD_OUT_RULE = '[[rules]]\nname = "sold out"\nwhen = { available = "<= 0" }\nthen = { status = "out_of_stock" }\n'


def test_the_rules_may_live_in_their_own_file(tmp_path):
    (tmp_path / "rules.toml").write_text(SOLD_OUT_RULE)
    config = load(write(tmp_path, 'rules_file = "rules.toml"\n' + MINIMAL))
    [store] = config.stores
    assert store.rules.names == ("sold out",)
    assert config.files == (tmp_path / "connector.toml", tmp_path / "rules.toml")

    # The digest that decides whether a pass may be incremental follows the rules file.
    (tmp_path / "rules.toml").write_text(SOLD_OUT_RULE.replace("out_of_stock", "backorder"))
    assert load(tmp_path / "connector.toml").stores[0].decides_by != store.decides_by


@pytest.mark.parametrize(
    ("rules_text", "config_rules", "expected"),
    [
        (None, "", r"rules_file: .*rules\.toml not found"),
        ("[[rules]\n", "", r"rules\.toml is not valid TOML"),
        ('timezone = "UTC"\n' + SOLD_OUT_RULE, "", r"rules\.toml\): timezone: unknown key"),
        (SOLD_OUT_RULE.replace('"<= 0"', '"lots"'), "", r'rules\.toml\): rules\[0\] \("sold out"\)\.when\.available'),
        (SOLD_OUT_RULE, SOLD_OUT_RULE, r"rules_file: the rules are both in this file"),
    ],
)
def test_a_bad_rules_file_names_itself_and_the_key(tmp_path, rules_text, config_rules, expected):
    if rules_text is not None:
        (tmp_path / "rules.toml").write_text(rules_text)
    message = problems(tmp_path, 'rules_file = "rules.toml"\n' + MINIMAL + config_rules)
    assert re.search(expected, message), message
