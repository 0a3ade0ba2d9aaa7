"""The conformance tier: the same requests to a real WooCommerce 10 store and to the fake.

Off in the default run (`-m "not realstore"` in pyproject's addopts); run it with
`python -m pytest -m realstore tests/conformance`. The real store comes from
`REALSTORE_URL` / `REALSTORE_KEY` / `REALSTORE_SECRET` when they are set (a store already
running, e.g. `eval "$(bash ../shared/realstore/start.sh DIR PORT)"`), else the fixture starts one
from the kit in `../shared/realstore/` (or `REALSTORE_KIT`) in a temporary directory on a free
loopback port, and stops it afterwards. It skips, saying why, when the kit is absent or its
packages cannot be had (`start.sh` exit code 3, e.g. `SKIP_APT=1` without PHP installed).
"""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from stockstatus.adapters.woocommerce.auth import WooCommerceAuth

REPO = Path(__file__).resolve().parents[2]
KIT = Path(os.environ.get("REALSTORE_KIT", REPO.parent / "shared" / "realstore"))


def _free_port_pair() -> int:
    """A loopback port P with P+1 free too (the kit's MariaDB listens on P+1)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port >= 65535:
            continue
        with socket.socket() as other:
            try:
                other.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no two adjacent free loopback ports")


class StoreInfo(dict[str, str]):
    """The store's export lines; shown without the keys' values (a failing test prints its fixtures)."""

    def __repr__(self) -> str:
        return f"StoreInfo(url={self.get('REALSTORE_URL')!r}, dir={self.get('REALSTORE_DIR')!r})"


def _exports(text: str) -> StoreInfo:
    found = StoreInfo()
    for line in text.splitlines():
        if line.startswith("export "):
            name, _, value = shlex.split(line)[1].partition("=")
            found[name] = value
    return found


@pytest.fixture(scope="session")
def realstore() -> Iterator[dict[str, str]]:
    """REALSTORE_URL, REALSTORE_KEY, REALSTORE_SECRET, ... of a real WooCommerce 10.0.2 store on loopback."""
    if os.environ.get("REALSTORE_URL") and os.environ.get("REALSTORE_KEY") and os.environ.get("REALSTORE_SECRET"):
        yield StoreInfo({name: value for name, value in os.environ.items() if name.startswith("REALSTORE_")})
        return
    if not (KIT / "start.sh").is_file():
        pytest.skip(f"real WooCommerce store kit not found: {KIT}")
    port = _free_port_pair()
    home = Path(tempfile.mkdtemp(prefix="realstore-"))
    store_dir = home / "store"
    started = subprocess.run(
        ["bash", str(KIT / "start.sh"), str(store_dir), str(port)],
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    if started.returncode != 0:
        shutil.rmtree(home, ignore_errors=True)
    if started.returncode == 3:
        reason = (started.stderr.strip().splitlines() or ["prerequisites missing"])[-1]
        pytest.skip(f"real WooCommerce store unavailable: {reason}")
    if started.returncode != 0:
        pytest.fail(f"start.sh exited {started.returncode}:\n{started.stderr[-4000:]}", pytrace=False)
    try:
        yield _exports(started.stdout)
    finally:
        subprocess.run(["bash", str(KIT / "stop.sh"), str(store_dir)], capture_output=True, timeout=120, check=False)
        shutil.rmtree(home, ignore_errors=True)  # about 280 MB: code, database, logs


@dataclass
class Exchange:
    """One request the connector sent and what it got back, as the connector reads it."""

    method: str
    path: str
    params: dict[str, str]
    status: int
    headers: dict[str, str]
    body: Any


@dataclass
class Recorder(httpx.AsyncBaseTransport):
    """Passes requests on and keeps each exchange (OAuth parameters left out)."""

    inner: httpx.AsyncBaseTransport
    exchanges: list[Exchange] = field(default_factory=list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        content = await response.aread()
        try:
            body: Any = httpx.Response(response.status_code, content=content).json()
        except ValueError:
            body = None
        params = {k: v for k, v in request.url.params.items() if not k.startswith("oauth_")}
        kept = {k.lower(): v for k, v in response.headers.items() if k.lower() in ("x-wp-total", "x-wp-totalpages")}
        self.exchanges.append(Exchange(request.method, request.url.path, params, response.status_code, kept, body))
        return httpx.Response(
            response.status_code, headers=response.headers, content=content, extensions=response.extensions
        )

    def writes(self) -> list[Exchange]:
        return [e for e in self.exchanges if e.method in ("POST", "PUT", "PATCH", "DELETE")]

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass
class Target:
    """One store the tier drives: the real one or the fake, reached the same way (OAuth 1.0a over http)."""

    name: str
    url: str
    key: str = field(repr=False)
    secret: str = field(repr=False)
    inner: httpx.AsyncBaseTransport = field(repr=False)
    sync_transport: httpx.BaseTransport | None = field(default=None, repr=False)

    def api(self) -> httpx.Client:
        """A plain REST client for seeding and reading back, as a merchant's tool would."""
        return httpx.Client(
            base_url=f"{self.url}/wp-json/wc/v3/",
            auth=WooCommerceAuth(self.key, self.secret),
            transport=self.sync_transport,
            timeout=300,
        )


def real_target(info: dict[str, str]) -> Target:
    return Target(
        "real",
        info["REALSTORE_URL"],
        info["REALSTORE_KEY"],
        info["REALSTORE_SECRET"],
        httpx.AsyncHTTPTransport(),
    )


def fake_target() -> Target:
    from stockstatus.adapters.woocommerce.fake import FakeWooCommerce

    key, secret = "ck_" + "1" * 40, "cs_" + "2" * 40
    fake = FakeWooCommerce(base_url="http://fake.test", consumer_key=key, consumer_secret=secret)
    transport = fake.transport()
    return Target("fake", "http://fake.test", key, secret, transport, transport)
