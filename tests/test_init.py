"""`connector init`: a starter config from the example the package ships, never over an existing file."""

from __future__ import annotations

from pathlib import Path

import pytest

from stockstatus.core import cli
from stockstatus.core.config import load
from tests.cli_shop import run_cli

ROOT = Path(__file__).resolve().parents[1]


def test_init_writes_the_shipped_example_where_asked_and_it_validates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "shop.toml"

    result = run_cli(capsys, "init", str(path))

    assert result.code == cli.EXIT_OK, result.err
    assert path.read_text("utf-8") == (ROOT / "config.example.toml").read_text("utf-8")
    assert [s.name for s in load(path).stores] == ["eu-shop", "us-shop"]
    assert f"connector --config {path} rules check" in result.out


def test_init_writes_the_default_config_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CONNECTOR_CONFIG", raising=False)

    assert run_cli(capsys, "init").code == cli.EXIT_OK
    result = run_cli(capsys, "rules", "check")

    assert (tmp_path / "connector.toml").is_file()
    assert result.code == cli.EXIT_OK, result.err


def test_init_honours_the_config_option_given_after_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "elsewhere.toml"

    assert run_cli(capsys, "init", "--config", str(path)).code == cli.EXIT_OK
    assert path.is_file()


def test_init_never_overwrites_a_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "connector.toml"
    path.write_text("# my shop, tuned for months\n", encoding="utf-8")

    result = run_cli(capsys, "init", str(path))

    assert result.code == cli.EXIT_FAILED
    assert path.read_text("utf-8") == "# my shop, tuned for months\n"
    assert f"{path} already exists" in result.err and "Traceback" not in result.err


def test_a_missing_config_points_at_init(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CONNECTOR_CONFIG", raising=False)

    result = run_cli(capsys, "resync", "--dry-run")

    assert result.code == cli.EXIT_CONFIG
    assert "`connector init` writes a starter one" in result.err
    run_cli(capsys, "init")
    assert run_cli(capsys, "rules", "check").code == cli.EXIT_OK
