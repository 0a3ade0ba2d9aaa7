"""The fake Shopify on a loopback port: what `connector sandbox shopify` serves.

`run()` seeds it with a sample catalogue (`samples`) and prints how to reach it; `serve()` puts
any `FakeShopify` on a port, for tests. The adapter reaches it with `shop = "127.0.0.1:PORT"`:
loopback shops are the only ones spoken to over plain http.

While the sandbox runs, stock and orders change through its GraphQL API as on a real shop, so a
daemon pointed at it can be watched following them (the token has every scope the fake knows,
`write_inventory` included):

- `inventorySetQuantities` / `inventoryAdjustQuantities` set or move `available` (with the
  `@idempotent(key:)` directive Shopify requires since 2026-04, and `changeFromQuantity` on each
  quantity — null skips the comparison);
- `orderCreate` places an order (pass `options: {inventoryBehaviour: DECREMENT_IGNORING_POLICY}`
  or `DECREMENT_OBEYING_POLICY` to take stock; Shopify's default, BYPASS, takes none), and
  `orderCancel(restock: true)` puts its stock back;
- `productCreate` then `productVariantsBulkCreate` (optionValues `{optionName: "Title", name: ...}`,
  `inventoryItem: {sku, tracked: true}`, `inventoryQuantities`) seed an `--empty` sandbox.

Products, variants and inventory levels carry `updatedAt`; listings filter by `query:` in
Shopify's search syntax: `updated_at:>'2026-11-29T10:00:00Z'`, `sku:KTL-1`, `tag:`, `vendor:`,
`title:`, `product_ids:1,2` (the fields the fake knows: `fake.search_fields`).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from typing import TextIO

from stockstatus.core.catalogue import Catalogue
from stockstatus.core.loopback import serve as serve_on_loopback

from .cost import PLANS
from .routes import FakeShopify
from .samples import WAREHOUSE, seed

__all__ = ["run", "serve"]


def serve(fake: FakeShopify, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """Serve `fake` over HTTP in a background thread; stop with `shutdown()` then `server_close()`.

    The fake's `base_url` is left as it is: set it to the address clients will call.
    """
    return serve_on_loopback(fake.handle, host, port, server_version="cloudflare")


def run(
    host: str = "127.0.0.1",
    port: int = 8081,
    catalogue: Catalogue | None = None,
    *,
    plan: str = "standard",
    out: TextIO | None = None,
    wait: Callable[[], None] | None = None,
    client_secret: str | None = None,
) -> None:
    """Serve a seeded fake Shopify until Ctrl-C, after printing how to reach it.

    `client_secret` is the sandbox app's (random when not given): its webhook deliveries are
    signed with it, so a connector that names the same secret verifies them.
    """
    if plan not in PLANS:
        raise SystemExit(f"unknown plan {plan!r}: one of {', '.join(PLANS)}")
    out = out or sys.stdout
    fake = FakeShopify("sandbox.myshopify.com", plan=plan, client_secret=client_secret)
    server = serve(fake, host, port)
    bound = server.server_address[1]
    fake.base_url = f"http://{host}:{bound}"
    fake.add_location(WAREHOUSE)
    seeded = catalogue or Catalogue(())
    seed(fake, seeded)
    limits = fake.plan
    out.write(
        f"Fake Shopify (Admin GraphQL API 2026-07, 2026-10) serving {len(seeded)} products at {fake.base_url}\n"
        f"  plan {limits.name}: bucket {limits.bucket:.0f} points, restores {limits.restore_rate:.0f} points/s\n"
        f"  access token: {fake.access_token}\n"
        f"  client id / secret (client-credentials grant): {fake.client_id} / {fake.client_secret}\n"
        "Point a store of your config at it (plain http is used for loopback shops only):\n"
        '  platform = "shopify"\n'
        f'  shop = "{host}:{bound}"\n'
        '  token_env = "SHOPIFY_TOKEN"\n'
        f"  export SHOPIFY_TOKEN={fake.access_token}\n"
        f"Change stock and orders while the daemon runs, through {fake.base_url}/admin/api/2026-10/graphql.json:\n"
        '  inventorySetQuantities / inventoryAdjustQuantities (with @idempotent(key: "<uuid>")),\n'
        "  orderCreate (options: {inventoryBehaviour: DECREMENT_IGNORING_POLICY} takes stock), orderCancel,\n"
        "  productCreate + productVariantsBulkCreate to seed an empty sandbox.\n"
        "Webhooks (`connector webhooks install` with [listen] public_url): deliveries of orders/create,\n"
        "  orders/updated, orders/cancelled, inventory_levels/update and products/update are signed with the\n"
        "  client secret, and go to loopback addresses only (plain http accepted there):\n"
        '  webhook_secret_env = "SHOPIFY_WEBHOOK_SECRET"\n'
        f"  export SHOPIFY_WEBHOOK_SECRET={fake.client_secret}\n"
        "Press Ctrl-C to stop.\n"
    )
    out.flush()
    try:
        (wait or threading.Event().wait)()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()
        out.write("\nsandbox stopped\n")
        out.flush()
