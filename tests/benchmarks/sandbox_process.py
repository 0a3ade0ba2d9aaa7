"""Sandbox stores in a process of their own, so a benchmark measures the connector alone.

`python tests/benchmarks/sandbox_process.py PLATFORM PRODUCTS [STORES]` seeds STORES generated
catalogues of PRODUCTS products each (one process, one loopback port per store), prints one JSON
line per store (its config table, credentials and item keys), then serves until its stdin closes.
`start()` runs it from a benchmark and reads those lines.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from typing import Any

STORE_TABLES = {
    "woocommerce": """
[[stores]]
name = "{name}"
platform = "woocommerce"
url = "{url}"
key_env = "{env}_KEY"
secret_env = "{env}_SECRET"
""",
    "shopify": """
[[stores]]
name = "{name}"
platform = "shopify"
shop = "{shop}"
token_env = "{env}_TOKEN"
""",
}


@dataclass
class SandboxStore:
    """One seeded store served by the sandbox process."""

    name: str
    platform: str
    table: str
    """Its `[[stores]]` table for the connector's config."""
    environ: dict[str, str]
    keys: list[str]
    """The connector's item keys for every sellable item (for seeding history)."""


@dataclass
class SandboxProcess:
    process: subprocess.Popen[str]
    stores: list[SandboxStore]

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=60)


def start(platform: str, products: int, stores: int = 1, prefix: str = "bench") -> SandboxProcess:
    """Start the sandbox process and wait until every store is seeded and served."""
    process = subprocess.Popen(
        [sys.executable, __file__, platform, str(products), str(stores), prefix],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    seeded = []
    for _ in range(stores):
        line = process.stdout.readline()
        if not line:
            process.wait()
            raise RuntimeError(f"the {platform} sandbox process stopped (exit {process.returncode})")
        seeded.append(SandboxStore(**json.loads(line)))
    return SandboxProcess(process, seeded)


def _woocommerce(name: str, env: str, products: int) -> tuple[dict[str, Any], ThreadingHTTPServer]:
    from stockstatus.adapters.woocommerce import fake as woo_fake
    from stockstatus.adapters.woocommerce.fake import FakeWooCommerce
    from stockstatus.core import catalogue

    fake = FakeWooCommerce(base_url="http://127.0.0.1")
    server = woo_fake.serve(fake, "127.0.0.1", 0)
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    woo_fake.seed(fake, catalogue.generated(products, datetime.now(UTC).date()))
    keys = [
        f"{p['id']}/{v}" if p["type"] == "variable" else str(p["id"])
        for p in fake.products.values()
        for v in (p["variations"] if p["type"] == "variable" else [0])
    ]
    return {
        "name": name,
        "platform": "woocommerce",
        "table": STORE_TABLES["woocommerce"].format(name=name, url=fake.base_url, env=env),
        "environ": {f"{env}_KEY": fake.consumer_key, f"{env}_SECRET": fake.consumer_secret},
        "keys": keys,
    }, server


def _shopify(name: str, env: str, products: int) -> tuple[dict[str, Any], ThreadingHTTPServer]:
    from stockstatus.adapters.shopify import fake as shopify_fake
    from stockstatus.adapters.shopify.fake import FakeShopify

    fake = FakeShopify(f"{name}.myshopify.com", plan="plus")
    server = shopify_fake.serve(fake, "127.0.0.1", 0)
    port = server.server_address[1]
    fake.base_url = f"http://127.0.0.1:{port}"
    fake.add_location(shopify_fake.WAREHOUSE)
    shopify_fake.generated_catalogue(fake, products)
    return {
        "name": name,
        "platform": "shopify",
        "table": STORE_TABLES["shopify"].format(name=name, shop=f"127.0.0.1:{port}", env=env),
        "environ": {f"{env}_TOKEN": fake.access_token},
        "keys": [str(v) for v in fake.variants],
    }, server


def main() -> None:
    platform, products, count, prefix = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    servers = []
    for number in range(count):
        name = f"{prefix}-{platform[:4]}-{number:03d}"
        env = name.upper().replace("-", "_")
        seeded, server = (_woocommerce if platform == "woocommerce" else _shopify)(name, env, products)
        servers.append(server)
        sys.stdout.write(json.dumps(seeded) + "\n")
        sys.stdout.flush()
    # Serve until the benchmark closes our stdin (or dies).
    done = threading.Event()

    def watch() -> None:
        sys.stdin.read()
        done.set()

    threading.Thread(target=watch, daemon=True).start()
    done.wait()
    for server in servers:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    main()
