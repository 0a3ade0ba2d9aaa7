"""The toy platform is found as a third-party one would be, and a configured store of it syncs."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

from stockstatus.core import catalogue as samples
from stockstatus.core import config as config_module
from stockstatus.core.model import Status
from stockstatus.core.platform import ENTRY_POINT_GROUP, platforms
from stockstatus.core.state import StateStore
from stockstatus.core.sync import open_adapter, resync

from . import toyshop
from .conftest import TOY, today

CONFIG = """\
timezone = "Europe/Berlin"

[[stores]]
name = "toys"
platform = "toyshop"
url = "https://toyshop.example/api"
token_env = "TOYS_TOKEN"

[[rules]]
name = "pre-order until release"
when = { release_date = "future" }
then = { status = "pre_order", eta = "release_date", message = "Pre-order: ships from {eta:%-d %B %Y}" }

[[rules]]
name = "sold out"
when = { available = "<= 0" }
then = { status = "out_of_stock" }
"""


def test_the_toy_platform_is_found_through_its_entry_point() -> None:
    [entry] = [e for e in entry_points(group=ENTRY_POINT_GROUP) if e.name == TOY]
    assert entry.dist is not None and entry.dist.name == "toyshop-contract"
    assert platforms()[TOY] is toyshop.platform


async def test_resync_over_a_config_naming_the_toy_platform(tmp_path: Path, state: StateStore) -> None:
    path = tmp_path / "connector.toml"
    path.write_text(CONFIG, "utf-8")
    config = config_module.load(path)
    demo = toyshop.platform.demo_store(samples.demo(today()))
    environ = {"TOYS_TOKEN": demo.environ[toyshop.DEMO_TOKEN_ENV]}
    transports = {"toys": demo.transport}

    [first] = await resync(config, state=state, environ=environ, transports=transports)
    [again] = await resync(config, state=state, environ=environ, transports=transports)

    async with open_adapter(config.stores[0], environ, transports) as adapter:
        shown = {i.sku: i.shown.status for i in await adapter.pull_items()}

    assert (first.outcome, first.platform) == ("ok", TOY)
    assert first.written == len(first.changes) > 0
    assert {c.item.sku for c in first.changes} >= {"GRD-NICHE-27"}
    assert "BRW-CHEMEX-6" not in {c.item.sku for c in first.changes}, "it already showed out of stock"
    assert (shown["GRD-NICHE-27"], shown["BRW-CHEMEX-6"]) == (Status.PRE_ORDER, Status.OUT_OF_STOCK)
    assert (again.outcome, again.changes) == ("ok", [])
