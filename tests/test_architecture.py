"""The three floors: rules/ imports nothing of ours; connector/ never names an adapter package."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imports(package: str) -> list[tuple[str, str]]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [(str(path.relative_to(ROOT)), alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((str(path.relative_to(ROOT)), node.module))
    return found


def top(module: str) -> str:
    return module.split(".")[0]


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("rules", {"connector", "adapters", "httpx", "sqlite3", "sqlite_utils", "tenacity", "apscheduler"}),
        ("connector", {"adapters"}),
    ],
)
def test_dependencies_point_one_way(package, forbidden):
    wrong = [(path, module) for path, module in imports(package) if top(module) in forbidden]
    assert wrong == []


def test_adapters_use_only_the_cores_model_errors_http_policy_and_platform_contract():
    allowed = {
        "connector.model",
        "connector.errors",
        "connector.http",
        "connector.platform",
        "connector.pagination",
        "connector.loopback",
    }
    wrong = [
        (path, module) for path, module in imports("adapters") if top(module) == "connector" and module not in allowed
    ]
    assert wrong == []


def test_rules_never_read_the_clock():
    offenders = []
    for path in (ROOT / "rules").rglob("*.py"):
        text = path.read_text()
        for needle in ("datetime.now(", "date.today(", "datetime.utcnow(", "time.time("):
            if needle in text:
                offenders.append((path.name, needle))
    assert offenders == []
