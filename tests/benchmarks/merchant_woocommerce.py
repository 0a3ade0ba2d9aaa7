"""The merchant's script: what a shop runs today to set stock statuses, with the official `woocommerce` client.

It lists every product (100 a page, every field: the client's plain `get`), then each variable
product's variations, and sends one PUT per item to change, one request at a time. The items to
change come from a JSON file (a list of `{"path": "products/12" or "products/12/variations/34",
"data": {...}}`), so it writes exactly what the connector wrote in the same run. Credentials come
from `WC_URL`, `WC_KEY` and `WC_SECRET` in the environment. Prints one JSON line: seconds,
requests, products, variations, puts and its own peak RSS.

    WC_URL=http://127.0.0.1:8811 WC_KEY=ck_… WC_SECRET=cs_… python tests/benchmarks/merchant_woocommerce.py changes.json
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from woocommerce import API


def listing(api: API, endpoint: str, counter: list[int]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    page = 1
    while True:
        answer = api.get(endpoint, params={"per_page": 100, "page": page})
        counter[0] += 1
        answer.raise_for_status()
        found += answer.json()
        if page >= int(answer.headers.get("X-WP-TotalPages") or 1):
            return found
        page += 1


def main() -> None:
    changes = json.loads(Path(sys.argv[1]).read_text()) if len(sys.argv) > 1 else []
    api = API(
        url=os.environ["WC_URL"],
        consumer_key=os.environ["WC_KEY"],
        consumer_secret=os.environ["WC_SECRET"],
        version="wc/v3",
        timeout=600,
    )
    requests = [0]
    started = time.perf_counter()
    products = listing(api, "products", requests)
    variations = 0
    for product in products:
        if product.get("type") == "variable":
            variations += len(listing(api, f"products/{product['id']}/variations", requests))
    for change in changes:
        api.put(change["path"], change["data"]).raise_for_status()
        requests[0] += 1
    seconds = time.perf_counter() - started
    rss = 0.0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            rss = int(line.split()[1]) / 1024
    print(
        json.dumps(
            {
                "seconds": seconds,
                "requests": requests[0],
                "products": len(products),
                "variations": variations,
                "puts": len(changes),
                "rss_mb": rss,
            }
        )
    )


if __name__ == "__main__":
    main()
