"""The three floors hold: import-linter's contracts (pyproject.toml) are kept, and they do catch a
planted import, absolute or relative. Plus what no contract can say: the rules never read the clock,
and every package folder is shipped."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
FOLDERS = {"stockstatus.core": "connector", "stockstatus.rules": "rules", "stockstatus.adapters": "adapters"}
"""Import name of each top-level folder (pyproject's package-dir)."""


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    """import-linter with the project's contracts over the packages importable from `cwd`."""
    script = Path(sys.executable).with_name("lint-imports")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "importlinter.cli"]
    return subprocess.run(
        [*command, str(ROOT / "pyproject.toml"), "--no-cache", "--no-logo"],
        cwd=cwd,
        # Wide, so that a long contract name stays on one line.
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(cwd), "COLUMNS": "1000"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def counts(output: str) -> tuple[int, int]:
    found = re.search(r"Contracts: (\d+) kept, (\d+) broken", output)
    assert found, output
    return int(found.group(1)), int(found.group(2))


def test_the_project_keeps_every_import_contract():
    result = lint_imports(ROOT)
    assert counts(result.stdout) == (len(PYPROJECT["tool"]["importlinter"]["contracts"]), 0), result.stdout
    assert result.returncode == 0


@pytest.fixture
def copy_of_the_tree(tmp_path: Path) -> Path:
    """The three packages under their import names, in a folder of their own."""
    (tmp_path / "stockstatus").mkdir()
    for package, folder in FOLDERS.items():
        shutil.copytree(
            ROOT / folder,
            tmp_path / "stockstatus" / package.split(".")[1],
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    return tmp_path


@pytest.mark.parametrize(
    ("module", "planted", "contract"),
    [
        ("core/planted.py", "from stockstatus.adapters import woocommerce", "Three floors"),
        ("core/planted.py", "from ..adapters import woocommerce", "Three floors"),
        ("core/planted.py", "from ..adapters.shopify import client", "Three floors"),
        ("rules/planted.py", "from ..core import model", "Three floors"),
        ("rules/planted.py", "import httpx", "The rules are pure"),
        ("adapters/shopify/planted.py", "from ...core.sync import run", "Adapters see only"),
        ("adapters/woocommerce/planted.py", "from ...core import state", "Adapters see only"),
        ("adapters/shopify/client.py", "from .fake import FakeShopify", "A platform's real adapter"),
    ],
)
def test_a_planted_import_across_the_floors_breaks_a_contract(copy_of_the_tree, module, planted, contract):
    path = copy_of_the_tree / "stockstatus" / module
    path.write_text(f'"""Planted."""\n\nfrom __future__ import annotations\n\n{planted}  # noqa: F401\n')
    planted_module = "stockstatus." + module.removesuffix(".py").replace("/", ".")

    result = lint_imports(copy_of_the_tree)

    assert result.returncode != 0
    assert counts(result.stdout)[1] == 1, result.stdout
    broken = [line for line in result.stdout.splitlines() if line.endswith("BROKEN")]
    assert [line for line in broken if line.startswith(contract)] == broken != [], result.stdout
    # It is the copy, with the planted line, that was read, not the installed project.
    assert planted_module in result.stdout


def test_rules_never_read_the_clock():
    offenders = []
    for path in (ROOT / "rules").rglob("*.py"):
        text = path.read_text()
        for needle in ("datetime.now(", "date.today(", "datetime.utcnow(", "time.time("):
            if needle in text:
                offenders.append((path.name, needle))
    assert offenders == []


def test_every_package_folder_is_shipped_under_its_import_name():
    """A new subpackage missing from pyproject's explicit list would be left out of the wheel."""
    assert PYPROJECT["tool"]["setuptools"]["package-dir"] == FOLDERS
    folders = {
        package + "".join(f".{part}" for part in init.parent.relative_to(ROOT / folder).parts)
        for package, folder in FOLDERS.items()
        for init in (ROOT / folder).rglob("__init__.py")
    }
    assert set(PYPROJECT["tool"]["setuptools"]["packages"]) == folders
