"""An in-process WooCommerce (REST v3, WooCommerce 10) that behaves like a real store.

The fake answers `httpx.Request`s the way WordPress + WooCommerce do, so the adapter, the demo and
the tests talk to it through an ordinary `httpx.AsyncClient` (see `FakeWooCommerce.transport`).
It was built from payloads and schemas recorded on a live WooCommerce 10.0.2 store and from
WooCommerce's own REST controllers; where the real store does something surprising the fake does
it too, and a comment says so:

- managed stock: `stock_status` is recomputed on every save from `stock_quantity` and `backorders`;
  unmanaged items forget their quantity and get `backorders: "no"` (WC_Product::validate_props);
- variations whose parent manages stock report `manage_stock: "parent"` and the parent's stock;
- a variable parent that does not manage stock takes its status from its variations;
- every write bumps `date_modified`, and writing a variation re-saves its parent;
- batches are not validated per field (a bad `stock_status` is stored as "instock"), answer 200
  with per-item errors, and refuse more than 100 items with 413;
- over plain http only OAuth 1.0a one-legged signatures authenticate; over https Basic does;
- orders created over REST skip the stock check and carry `_reduced_stock` line-item meta but no
  `Backordered` meta; every stock move and status change adds WooCommerce's own order note;
- products listed by `date` or `modified` are sorted on the second alone, by MariaDB's unstable
  filesort (`filesort`): products sharing a second appear twice or never across pages, while
  `X-WP-Total` counts them all; variations and orders tie-break on id;
- `_fields` is honoured as WooCommerce builds and WordPress trims (`fields`); `products?sku=`
  finds variations, `products/<variation id>` reads one, and variations of a missing product are
  an empty page;
- DELETE trashes or (`force`) deletes; `settings/<group>`, `system_status`, `GET /wp-json/` (with
  `timezone_string` and `gmt_offset`) and OPTIONS answer with what a real store recorded
  (`recorded`); dates are shown in the store's timezone; meta values read back as strings;
- the headers WordPress adds (`Link`, `Allow`, `Cache-Control`, `X-Robots-Tag`, ...).

The store lives in memory behind one lock, so the sandbox's HTTP threads can share it; the only
file read is the packaged `recorded.json`. The adapter never imports this package; the demo and the sandbox load it
through the platform's `demo_store` and `run_sandbox`.

By concern: `params` (PHP's parse_str, REST argument checks), `auth` (WC_REST_Authentication),
`store` (records and what saving them does), `render`, `listing`, `filesort`, `fields` and
`recorded` (what is answered), `routes`
(`FakeWooCommerce`: the request pipeline and its handlers), `samples` (a sample catalogue as
WooCommerce products and orders) and `sandbox` (serving it on a loopback port).
"""

from __future__ import annotations

from .auth import sign_oauth1
from .errors import WooError
from .routes import FakeWooCommerce, Fault
from .samples import RELEASE_DATE, RESTOCK_DATE, seed
from .sandbox import run, serve

__all__ = [
    "RELEASE_DATE",
    "RESTOCK_DATE",
    "FakeWooCommerce",
    "Fault",
    "WooError",
    "run",
    "seed",
    "serve",
    "sign_oauth1",
]
