"""The fake WooCommerce on a loopback port: what `connector sandbox woocommerce` serves.

A plain-http store, so clients must sign with OAuth 1.0a exactly as they would against a real
http store. `run()` seeds it with a sample catalogue and prints how to reach it; `serve()` puts
any `FakeWooCommerce` on a port, for tests.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from datetime import UTC, tzinfo
from http.server import ThreadingHTTPServer
from typing import TextIO

from stockstatus.core.catalogue import Catalogue
from stockstatus.core.loopback import serve as serve_on_loopback

from .routes import FakeWooCommerce
from .samples import seed

__all__ = ["run", "serve"]


def serve(fake: FakeWooCommerce, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """Serve `fake` over HTTP in a background thread; stop with `shutdown()` then `server_close()`.

    The fake's `base_url` is left as it is: set it to the address clients will call.
    """
    return serve_on_loopback(fake.handle, host, port, server_version="nginx")


def run(
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    catalogue: Catalogue,
    out: TextIO | None = None,
    wait: Callable[[], None] | None = None,
    timezone: tzinfo | None = None,
) -> None:
    """Serve a plain-http fake store seeded with `catalogue` until Ctrl-C, after printing how to reach it.

    `timezone` is the store's (WordPress → Settings → General; default UTC): its dates, the
    `modified_after` it reads without `dates_are_gmt`, and what `/wp-json/` reports. `wait` blocks
    until the store should stop (default: until KeyboardInterrupt); `out` is where the banner goes
    (default stdout).
    """
    out = out or sys.stdout
    fake = FakeWooCommerce(base_url=f"http://{host}:{port}", timezone=timezone or UTC)
    server = serve(fake, host, port)
    bound_port = server.server_address[1]
    fake.base_url = f"http://{host}:{bound_port}"
    seed(fake, catalogue)
    out.write(_banner(fake, len(catalogue)))
    out.flush()
    try:
        (wait or _wait_for_interrupt)()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()
        out.write("\nsandbox stopped\n")
        out.flush()


def _wait_for_interrupt() -> None:
    threading.Event().wait()


def _banner(fake: FakeWooCommerce, products: int) -> str:
    return (
        f"Fake WooCommerce 10 (REST v3) serving {products} products at {fake.base_url}\n"
        f"  timezone:        {fake.timezone_string() or 'UTC+0'}\n"
        f"  consumer key:    {fake.consumer_key}\n"
        f"  consumer secret: {fake.consumer_secret}\n"
        "Plain http, as on a real http store: requests must be signed with OAuth 1.0a.\n"
        "Point a store of your config at it:\n"
        f'  url = "{fake.base_url}"\n'
        '  key_env = "WC_KEY"\n'
        '  secret_env = "WC_SECRET"\n'
        f"  export WC_KEY={fake.consumer_key} WC_SECRET={fake.consumer_secret}\n"
        "Webhooks: `connector webhooks install` (with [listen] public_url) creates them, signed with the secret\n"
        "  in the store's webhook_secret_env; the store delivers orders and products as WooCommerce 10 does,\n"
        "  to loopback addresses only:\n"
        '  webhook_secret_env = "WC_WEBHOOK_SECRET"\n'
        "  export WC_WEBHOOK_SECRET=$(openssl rand -hex 32)\n"
        "Press Ctrl-C to stop.\n"
    )
