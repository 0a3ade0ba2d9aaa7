"""The command line as a user types it: global options anywhere, usage errors apart from config errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stockstatus.core import cli
from tests.cli_shop import Shop, run_cli, shop_fixture  # noqa: F401 - the fixture `shop`

pytestmark = pytest.mark.usefixtures("no_backoff")


@pytest.mark.parametrize(
    "argv",
    [
        ["--config", "{config}", "rules", "check"],
        ["rules", "check", "--config", "{config}"],
        ["rules", "--config", "{config}", "check"],
        ["status", "--config", "{config}"],
        ["--log-level", "debug", "status", "--config", "{config}", "--log-format", "json"],
    ],
)
def test_global_options_are_taken_before_or_after_the_command(
    shop: Shop, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    result = run_cli(capsys, *(a.format(config=shop.config) for a in argv))

    assert result.code == cli.EXIT_OK, result.err
    assert "eu-shop" in result.out


def test_log_options_after_the_command_shape_the_log(shop: Shop, capsys: pytest.CaptureFixture[str]) -> None:
    shop.product("MUG-1", manage_stock=True, stock_quantity=0)

    result = run_cli(
        capsys, "resync", "--dry-run", "--config", str(shop.config), "--log-format", "json", "--log-level", "info"
    )

    assert result.code == cli.EXIT_OK, result.err
    lines = [json.loads(line) for line in result.err.splitlines()]
    assert lines and all(line["level"] in ("info", "warning", "error") for line in lines)


def test_an_option_given_before_the_command_is_kept_when_the_command_names_others(
    shop: Shop, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    result = run_cli(capsys, "--config", str(shop.config), "status", "--json")

    assert result.code == cli.EXIT_OK, result.err
    assert json.loads(result.out)[0]["store"] == "eu-shop"


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["resync", "--nope"], "connector resync"),
        (["rules", "explain"], "connector rules explain"),
        (["rules", "explain", "KTL-1", "--stroe", "x"], "connector rules explain"),
        (["status", "--log-level", "loud"], "connector status"),
        (["frobnicate"], "connector"),
    ],
)
def test_a_usage_error_names_the_command_and_exits_64(
    capsys: pytest.CaptureFixture[str], argv: list[str], command: str
) -> None:
    result = run_cli(capsys, *argv)

    assert result.code == cli.EXIT_USAGE == 64
    first = result.err.splitlines()[0]
    assert first.startswith(f"{command}: usage error:")
    assert f"`{command} --help`" in result.err
    assert "Traceback" not in result.err and "configuration" not in result.err


def test_an_invalid_config_is_told_apart_from_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "connector.toml"
    broken.write_text('timezone = "Mars/Olympus"\n', encoding="utf-8")

    result = run_cli(capsys, "resync", "--config", str(broken))

    assert result.code == cli.EXIT_CONFIG == 2
    assert result.err.startswith("configuration error: ") and str(broken) in result.err
    assert "usage" not in result.err


def test_help_documents_the_exit_codes_and_where_options_go(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--help"], ["resync", "--help"], ["rules", "explain", "--help"]):
        result = run_cli(capsys, *argv)
        assert result.code == cli.EXIT_OK
        text = " ".join(result.out.split())
        assert "2 the configuration is invalid" in text
        assert "64 the command line is wrong" in text
        assert "may come before or after the command" in text


def test_rules_check_warns_of_credentials_not_set_and_strict_makes_them_errors(
    shop: Shop, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CLI_SHOP_SECRET")

    relaxed = run_cli(capsys, "rules", "check", "--config", str(shop.config))
    strict = run_cli(capsys, "rules", "check", "--strict", "--config", str(shop.config))

    assert relaxed.code == cli.EXIT_OK
    assert "warning: stores[0] (eu-shop).secret_env" in relaxed.out and "CLI_SHOP_SECRET" in relaxed.out
    assert "OK, with 1 warning" in relaxed.out
    assert strict.code == cli.EXIT_CONFIG
    assert "CLI_SHOP_SECRET" in strict.err and "OK" not in strict.out


def test_rules_check_with_every_credential_set_says_ok_without_warnings(
    shop: Shop, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(capsys, "rules", "check", "--strict", "--config", str(shop.config))

    assert result.code == cli.EXIT_OK
    assert "warning" not in result.out and result.out.rstrip().endswith(f"{shop.config}: OK")


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["sandbox", "woocommerce", "--products", "-5"], "--products must be 0 or more, not -5"),
        (["sandbox", "magento"], "unknown platform 'magento'"),
        (["sandbox", "woocommerce", "--timezone", "Mars/Olympus"], "--timezone: 'Mars/Olympus' is not a timezone"),
    ],
)
def test_bad_sandbox_arguments_are_usage_errors(capsys: pytest.CaptureFixture[str], argv: list[str], said: str) -> None:
    result = run_cli(capsys, *argv)

    assert result.code == cli.EXIT_USAGE
    assert result.err.startswith(f"connector sandbox: usage error: {said}")
    assert "Traceback" not in result.err
