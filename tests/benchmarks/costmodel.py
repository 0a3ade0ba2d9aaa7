"""A sandbox store that costs what a real one costs: a cost model in front of the fake, on 127.0.0.1.

The fakes answer at once, so a benchmark against them measures the connector's CPU and not what
limits a pass on a real store: the store's own time per request and per item, and how many
requests it serves at once (PHP workers; requests beyond them queue). `CostModel` wraps a fake's
request handler: each request takes one of `workers` slots, is answered by the fake, and holds
its slot until the modelled time (`per_request + per_item × items`, by endpoint) has passed. It
counts requests and items by endpoint and adds up the time the store was busy; `busy / workers`
is the server's bound: no client can finish a pass sooner.

Run on its own, it serves a seeded WooCommerce sandbox behind the model in this process, so the
connector (or any other client, e.g. a merchant's script) runs in another and peak RSS is the
client's own:

    python tests/benchmarks/costmodel.py --skus 20000 --workers 1 --time-scale 0.1

It prints one JSON line (`url`, `key`, `secret`) and serves until its stdin closes. Besides the
store's own REST API it answers `GET /costmodel/stats` (requests, items and busy seconds by
endpoint since the last reset), `POST /costmodel/reset`, `POST /costmodel/workers?n=W` and `POST /costmodel/clock?shift=SECONDS`
(the store's clock that far ahead of the real one, as a daemon's schedule moves between passes). A request carrying the header
`X-Costmodel-Free: 1` is answered at no cost and not counted (a benchmark's own set-up: a
merchant's sale between passes). `Sandbox.start(...)` does all this from a benchmark script.

## WooCommerce figures, and how they were measured

Measured on the real WordPress 6.8.3 + WooCommerce 10.0.2 store of `../shared/realstore/`
(`php -S` + MariaDB 10.11 on the machine's 2 shared cores) by `measure_realstore.py`: it seeds
its own products, sends each request one at a time and counts the CPU time the store's
processes (php and MariaDB) spent on it, the least of 5 after a warm-up. CPU rather than wall
time because the cores were shared with other work (load average 10-12): wall times were 2-5
times the CPU times and varied from run to run, while a request sent alone on an idle store
takes its CPU time (MariaDB answers from its buffer pool). The clock ticks in 10 ms steps, so
each figure is ±10 ms. Per-item costs are the slope between two sizes of the same request
(products pages of 10 and 100 with the connector's `_fields` and with every field; variation
listings of parents with 2 and 12 variations; `products?sku=` with 10 and 100 variation SKUs
of 34 parents; batch updates of 10 and 50 items setting `backorders` and one meta key), the
per-request cost the intercept.

    eval "$(bash ../shared/realstore/start.sh /tmp/realstore 8811)"
    python tests/benchmarks/measure_realstore.py

| request                                   | 10 (2) items | 100 (12) items | per request | per item |
|-------------------------------------------|-------------:|---------------:|------------:|---------:|
| GET products, the connector's `_fields`   |       160 ms |         420 ms |      131 ms |   2.9 ms |
| GET products, every field (merchant)      |       140 ms |         830 ms |       63 ms |   7.7 ms |
| GET products/<id>/variations, `_fields`   |      (90 ms) |       (200 ms) |       68 ms |  11.0 ms |
| GET products/<id>/variations, every field |     (140 ms) |       (250 ms) |      118 ms |  11.0 ms |
| GET products?sku= (variations), `_fields` |       240 ms |         980 ms |      158 ms |   8.2 ms |
| GET products?sku=&include= (the same, by id) |    170 ms |         740 ms |       70 ms |   8.2 ms |
| POST products/batch (10 and 50 items)     |       480 ms |        1730 ms |      168 ms |  31.2 ms |
| POST products/<id>/variations/batch (10, 50) |    610 ms |        2070 ms |      245 ms |  36.5 ms |
| PUT products/<id>                         |              |                |      130 ms |          |
| PUT products/<id>/variations/<id>         |              |                |      260 ms |          |
| GET orders (an empty page)                |              |                |       70 ms |          |

`products?sku=` alone walks every product and variation of the store (MariaDB joins each one's
meta rows, about 20 a product, and keeps the SKUs that match), so its cost grows with the
catalogue: with 120,000 more products and variations in the store (`measure_realstore.py
--filler 120000`) a request for 100 variations cost 1.5-1.8 s instead of 0.8-1.1 s, 5-7 µs more
for each product or variation stored (`per_stored`: 5 µs; the model counts the fake's). Naming
the same variations by id as well (`include=`) starts the query from those rows: 0.7-1.0 s for
100 at either size (per request 60-107 ms over six runs, 70 ms in the model). Of the 8 ms or so
per variation, most is WordPress (6.7 and later) adding to each object's `self` link the
methods the key may use there (`targetHints`: the link's route is matched and its permission
checks run, each loading the product again), whatever `_fields` asks. No listing without it (the
WooCommerce Admin stock report, 1.3-2 ms a variation; the Store API, 5-6 ms) carries
`backorders` and `meta_data`, which a pass needs.

A variable product with 2.5 variations (the generated catalogue's mean) costs 95 ms to list
with `_fields` and 146 ms with every field; its variations read by SKU cost 20 ms plus their
share of the request, 36 ms in all. The per-order cost of an orders page (5 ms) is not
measured (the store had no orders); a pass reads few pages of orders. WooCommerce answers
`products?include=<variation ids>` with no variations and refuses `type=variation` (400), so
`products?sku=` is the way to read variations across parents; more than 100 SKUs in one
request are paged at 100.

`WOOCOMMERCE` holds these figures; `--time-scale S` multiplies every cost by S (0.5 runs twice
as fast with the same ratios, as long as the fake's own time per request stays below the scaled
cost: `busy` counts whichever is longer, and the benchmark prints the fake's own time).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

Handle = Callable[[httpx.Request], httpx.Response]
FREE = "X-Costmodel-Free"


@dataclass(frozen=True)
class Cost:
    """Server time of one request: `per_request + per_item × items + per_stored × stored`, in seconds.

    `stored` is how many products and variations the store holds: a query that walks them all
    (`products?sku=` alone) costs more the larger the catalogue, whatever it returns.
    """

    per_request: float
    per_item: float = 0.0
    per_stored: float = 0.0

    def of(self, items: int, stored: int = 0) -> float:
        return self.per_request + self.per_item * items + self.per_stored * stored


WOOCOMMERCE: dict[str, Cost] = {
    "product page": Cost(0.131, 0.0029),
    "product page (all fields)": Cost(0.063, 0.0077),
    "variation listing": Cost(0.068, 0.011),
    "variation listing (all fields)": Cost(0.118, 0.011),
    "sku read": Cost(0.158, 0.0082, per_stored=0.000005),
    "sku read by id": Cost(0.070, 0.0082),
    "product batch": Cost(0.168, 0.0312),
    "variation batch": Cost(0.245, 0.0365),
    "product write": Cost(0.130),
    "variation write": Cost(0.260),
    "order page": Cost(0.070, 0.005),
    "other": Cost(0.070),
}
"""Server time by endpoint (see the module docstring for how each was measured)."""

WRITES = frozenset({"product batch", "variation batch", "product write", "variation write"})

_API = "/wp-json/wc/v3/"
_VARIATIONS = re.compile(r"products/\d+/variations/?$")
_VARIATION_BATCH = re.compile(r"products/\d+/variations/batch/?$")
_VARIATION = re.compile(r"products/\d+/variations/\d+/?$")
_PRODUCT = re.compile(r"products/\d+/?$")


def woocommerce_kind(request: httpx.Request, response: httpx.Response) -> tuple[str, int]:
    """(endpoint, items) of one WooCommerce request: items listed, or objects in a batch."""
    path = request.url.path
    route = path[path.index(_API) + len(_API) :] if _API in path else ""
    method = request.method
    if method == "GET" and (route in ("products", "products/", "orders", "orders/") or _VARIATIONS.match(route)):
        kind = (
            "variation listing"
            if _VARIATIONS.match(route)
            else "order page"
            if route.startswith("orders")
            else "sku read by id"
            if request.url.params.get("sku") and request.url.params.get("include")
            else "sku read"
            if request.url.params.get("sku")
            else "product page"
        )
        if kind != "order page" and not request.url.params.get("_fields"):
            # Every field: WooCommerce also builds related products, images, prices, links...
            kind += " (all fields)"
        try:
            body = response.json()
        except ValueError:
            return kind, 0
        return kind, len(body) if isinstance(body, list) else 0
    if method == "POST" and (route == "products/batch" or _VARIATION_BATCH.match(route)):
        try:
            sent = json.loads(request.content or b"{}")
        except ValueError:
            sent = {}
        items = sum(len(sent.get(k) or ()) for k in ("create", "update", "delete")) if isinstance(sent, dict) else 0
        return ("product batch" if route == "products/batch" else "variation batch"), items
    if method in ("PUT", "POST", "PATCH") and _VARIATION.match(route):
        return "variation write", 1
    if method in ("PUT", "POST", "PATCH") and _PRODUCT.match(route):
        return "product write", 1
    return "other", 0


@dataclass
class Tally:
    requests: Counter[str] = field(default_factory=Counter)
    items: Counter[str] = field(default_factory=Counter)
    busy: float = 0.0
    """Seconds of server time, over all workers."""
    fake: float = 0.0
    """Seconds the fake itself took to answer (CPU of this process, not modelled)."""
    over: int = 0
    """Requests whose answer took the fake longer than the model's cost (then the fake's time counts)."""


class CostModel:
    """Gives a fake's answers a real store's cost: W workers, a cost per request and per item."""

    def __init__(
        self,
        costs: Mapping[str, Cost],
        *,
        workers: int,
        time_scale: float = 1.0,
        kind: Callable[[httpx.Request, httpx.Response], tuple[str, int]] = woocommerce_kind,
        stored: Callable[[], int] = lambda: 0,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, not {workers}")
        self.costs = dict(costs)
        self.workers = workers
        self.time_scale = time_scale
        self._kind = kind
        self._stored = stored
        self._slots = threading.BoundedSemaphore(workers)
        self._lock = threading.Lock()
        self.tally = Tally()

    def wrap(self, inner: Handle) -> Handle:
        def costly(request: httpx.Request) -> httpx.Response:
            if request.headers.get(FREE):
                return inner(request)
            with self._lock:
                slots = self._slots
            with slots:
                started = time.monotonic()
                response = inner(request)
                kind, items = self._kind(request, response)
                model = self.costs.get(kind, self.costs["other"])
                stored = self._stored() if model.per_stored else 0
                cost = model.of(items, stored) * self.time_scale
                spent = time.monotonic() - started
                if cost > spent:
                    time.sleep(cost - spent)
            with self._lock:
                self.tally.requests[kind] += 1
                self.tally.items[kind] += items
                # The fake's own time counts when it exceeds the model's (a scaled-down run).
                self.tally.busy += max(cost, spent)
                self.tally.fake += spent
                self.tally.over += spent > cost
            return response

        return costly

    def set_workers(self, workers: int) -> None:
        """Serve the requests that come from now on with `workers` workers (those in flight finish as they are)."""
        if workers < 1:
            raise ValueError(f"workers must be at least 1, not {workers}")
        with self._lock:
            self.workers = workers
            self._slots = threading.BoundedSemaphore(workers)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            tally = self.tally
            writes = sum(n for kind, n in tally.requests.items() if kind in WRITES)
            return {
                "requests": dict(tally.requests),
                "items": dict(tally.items),
                "reads": sum(tally.requests.values()) - writes,
                "writes": writes,
                "busy": tally.busy,
                "fake": tally.fake,
                "over": tally.over,
                "bound": tally.busy / self.workers,
                "workers": self.workers,
                "time_scale": self.time_scale,
            }

    def reset(self) -> None:
        with self._lock:
            self.tally = Tally()


def _control(model: CostModel, inner: Handle, shift: list[timedelta]) -> Handle:
    """The store behind the model, plus `/costmodel/stats`, `/costmodel/reset` and `/costmodel/clock`."""
    costly = model.wrap(inner)

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/costmodel/stats":
            return httpx.Response(200, json=model.stats())
        if request.url.path == "/costmodel/reset" and request.method == "POST":
            model.reset()
            return httpx.Response(204)
        if request.url.path == "/costmodel/workers" and request.method == "POST":
            model.set_workers(int(request.url.params["n"]))
            return httpx.Response(204)
        if request.url.path == "/costmodel/clock" and request.method == "POST":
            shift[0] = timedelta(seconds=float(request.url.params.get("shift", "0")))
            return httpx.Response(204)
        return costly(request)

    return handle


def serve_woocommerce(skus: int, *, workers: int, time_scale: float) -> None:
    """Seed a WooCommerce fake with about `skus` SKUs, serve it behind the model, print how to reach it."""
    from stockstatus.adapters.woocommerce.fake import FakeWooCommerce, seed
    from stockstatus.core import catalogue
    from stockstatus.core.loopback import serve

    shift = [timedelta(0)]
    fake = FakeWooCommerce(base_url="http://127.0.0.1", now=lambda: datetime.now(UTC) + shift[0])
    model = CostModel(
        WOOCOMMERCE,
        workers=workers,
        time_scale=time_scale,
        stored=lambda: len(fake.products) + len(fake.variations),
    )
    server = serve(_control(model, fake.handle, shift), "127.0.0.1", 0, server_version="nginx")
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    started = time.monotonic()
    # catalogue.generated makes about 1.45 SKUs a product (30 % variable with 2 or 3 variations).
    products = catalogue.generated(max(1, round(skus / 1.45)), datetime.now(UTC).date())
    seed(fake, products)
    print(
        json.dumps(
            {
                "url": fake.base_url,
                "key": fake.consumer_key,
                "secret": fake.consumer_secret,
                "skus": sum(len(p.variants) or 1 for p in products),
                "products": len(products),
                "seeded_seconds": round(time.monotonic() - started, 1),
            }
        ),
        flush=True,
    )
    sys.stdin.read()  # until the benchmark closes our stdin (or ends)
    server.shutdown()
    server.server_close()


@dataclass
class Sandbox:
    """A cost-modelled sandbox in a child process, as a benchmark script drives it."""

    process: subprocess.Popen[str]
    url: str
    key: str
    secret: str
    skus: int
    products: int
    seeded_seconds: float

    @classmethod
    def start(cls, skus: int, *, workers: int, time_scale: float) -> Sandbox:
        script = Path(__file__).resolve()
        process = subprocess.Popen(
            [sys.executable, str(script), "--skus", str(skus), "--workers", str(workers), "--scale", str(time_scale)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            process.wait()
            raise RuntimeError(f"the sandbox did not start (exit {process.returncode})")
        info = json.loads(line)
        return cls(
            process,
            info["url"],
            info["key"],
            info["secret"],
            info["skus"],
            info["products"],
            info["seeded_seconds"],
        )

    def stats(self) -> dict[str, Any]:
        answer = httpx.get(f"{self.url}/costmodel/stats")
        answer.raise_for_status()
        stats: dict[str, Any] = answer.json()
        return stats

    def reset(self) -> None:
        httpx.post(f"{self.url}/costmodel/reset").raise_for_status()

    def set_workers(self, workers: int) -> None:
        httpx.post(f"{self.url}/costmodel/workers", params={"n": str(workers)}).raise_for_status()

    def shift_clock(self, by: timedelta) -> None:
        """Move the store's clock (it starts at the real time) to `by` ahead of the real time."""
        httpx.post(f"{self.url}/costmodel/clock", params={"shift": str(by.total_seconds())}).raise_for_status()

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def peak_rss_mb() -> float:
    """This process's peak resident set size so far (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--skus", type=int, default=2000, help="about how many SKUs to seed (default 2000)")
    parser.add_argument("--workers", type=int, default=1, help="the store's PHP workers (default 1)")
    parser.add_argument("--time-scale", "--scale", type=float, default=1.0, help="multiply every cost (default 1)")
    args = parser.parse_args()
    os.environ.setdefault("PYTHONHASHSEED", "0")
    serve_woocommerce(args.skus, workers=args.workers, time_scale=args.time_scale)


if __name__ == "__main__":
    main()
