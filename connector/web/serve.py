"""Serving an aiohttp application on a host:port under the running asyncio loop.

`start(app, address)` is what the daemon's listener (or a test) calls; `main` serves the status
page alone over a config and its state file:

    python -m stockstatus.core.web.serve --config connector.toml [--address 127.0.0.1:8787]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
from dataclasses import dataclass

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from stockstatus.core import config as config_module
from stockstatus.core.errors import ConfigError

log = logging.getLogger(__name__)


class PathOnlyAccessLog(AbstractAccessLogger):
    """Method, path and status: never the query string (a `?token=` must not reach a log)."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info("%s %s %s %.3fs", request.method, request.path, response.status, time)


def split_address(address: str) -> tuple[str, int]:
    """ "127.0.0.1:8787" or "[::1]:8787" -> (host, port); a clear ValueError otherwise."""
    host, sep, port = address.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"address {address!r}: give host:port, e.g. 127.0.0.1:8787")
    return host, int(port)


@dataclass
class Serving:
    """An application being served; `stop()` closes it."""

    runner: web.AppRunner
    host: str
    port: int
    """The port bound (the one the system picked, for port 0)."""

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def stop(self) -> None:
        await self.runner.cleanup()


async def start(app: web.Application, address: str) -> Serving:
    """Serve `app` on `address` (host:port; port 0 picks a free one) on the running loop."""
    host, port = split_address(address)
    runner = web.AppRunner(app, access_log_class=PathOnlyAccessLog, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = int(runner.addresses[0][1]) if runner.addresses else port
    return Serving(runner, host, bound)


def main(argv: list[str] | None = None) -> int:
    """Serve the status page over a config and its state file until SIGINT/SIGTERM."""
    from stockstatus.core.web.app import status_app

    parser = argparse.ArgumentParser(prog="python -m stockstatus.core.web.serve", description=main.__doc__)
    parser.add_argument("--config", help="the config file (default: $CONNECTOR_CONFIG, else ./connector.toml)")
    parser.add_argument("--address", help="host:port to bind (default: [listen] address, 127.0.0.1:8787)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        path = config_module.config_path(args.config)
        config = config_module.load(path)
    except ConfigError as exc:
        print(f"error: {exc}")
        return 2
    address = args.address or config.settings.listen.address

    async def serve() -> int:
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopping.set)
        serving = await start(status_app(config, environ=os.environ), address)
        print(f"status page on {serving.url}/ (times in each store's timezone); Ctrl-C stops it", flush=True)
        try:
            await stopping.wait()
        finally:
            await serving.stop()
        return 0

    return asyncio.run(serve())


if __name__ == "__main__":
    raise SystemExit(main())
