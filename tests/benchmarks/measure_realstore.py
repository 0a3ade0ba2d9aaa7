"""Measure a real WooCommerce store's time per request and per item, by endpoint (the cost model's figures).

Seeds its own products (a random SKU prefix; deleted at the end) into the store that
`REALSTORE_URL` / `REALSTORE_KEY` / `REALSTORE_SECRET` name (`REALSTORE_DIR` names its
processes), then sends each request one at a time and counts the CPU time the store's processes
(php and MariaDB) spent on it: one warm-up, then the least of `--repeat` runs. On a machine whose
cores other work shares, wall time grows with that work; the store's CPU per request is its
service time on an idle machine (MariaDB's data stays in its buffer pool). A per-item cost is the slope between two
sizes of the same request, the per-request cost its intercept. Also prints what the store allows
for reading variations many at a time (`products?sku=` across parents, `include=` of variation
ids, `type=variation`), and what other listings of variations cost and carry (the WooCommerce
Admin stock report and variations listing, the Store API).

`--filler N` then adds N bare products and variations straight into the store's database (through
`REALSTORE_DIR/bin/wp db query`; removed at the end) and measures the reads by SKU again: a query
that walks the whole catalogue costs more as it grows, one that starts from ids does not.

    eval "$(bash ../shared/realstore/start.sh /tmp/realstore 8811)"
    python tests/benchmarks/measure_realstore.py --filler 120000
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from stockstatus.adapters.woocommerce import mapping
from stockstatus.adapters.woocommerce.auth import WooCommerceAuth

PRODUCT_FIELDS = ",".join((*mapping.PRODUCT_FIELDS, "variations"))
VARIATION_FIELDS = ",".join(mapping.VARIATION_FIELDS)
SKU_FIELDS = ",".join((*mapping.VARIATION_FIELDS, "parent_id", "type"))


def store_cpu() -> float:
    """CPU seconds used so far by the store's processes (php -S and its workers, MariaDB).

    Requests are sent one at a time, so the CPU the store spends on one is its service time on
    an idle machine: unlike wall time, it does not grow when other work shares the cores.
    """
    folder = os.environ.get("REALSTORE_DIR", "")
    ticks = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if not folder or folder not in command:
                continue
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def timed(call: Callable[[], httpx.Response], repeat: int) -> float:
    """The store's CPU seconds for one request: the fewest of `repeat` after a warm-up (WP-cron only adds)."""
    call().raise_for_status()  # warm-up: PHP's opcache, MariaDB's buffer pool
    times = []
    for _ in range(repeat):
        before = store_cpu()
        call().raise_for_status()
        times.append(store_cpu() - before)
    return min(times)


def line(name: str, small: tuple[int, float], large: tuple[int, float]) -> tuple[float, float]:
    (n1, t1), (n2, t2) = small, large
    per_item = (t2 - t1) / (n2 - n1)
    per_request = t1 - per_item * n1
    print(
        f"{name:<28}{n1:>4} items {t1 * 1000:7.1f} ms {n2:>4} items {t2 * 1000:7.1f} ms"
        f"   per request {per_request * 1000:6.1f} ms  per item {per_item * 1000:5.1f} ms"
    )
    return per_request, per_item


def wp_db(sql: str) -> str:
    """Run SQL in the store's database with its own wp-cli (`REALSTORE_DIR/bin/wp db query`)."""
    folder = os.environ["REALSTORE_DIR"]
    done = subprocess.run(
        [f"{folder}/bin/wp", "db", "query", sql, "--skip-column-names"],
        check=True,
        cwd=folder,
        capture_output=True,
        text=True,
    )
    return done.stdout


def add_filler(count: int, like: int) -> range:
    """`count` published products (40 %) and variations, each with the meta rows of post `like` and a SKU of its own.

    A WooCommerce product or variation has about 20 meta rows (`_sku`, `_price`, `_stock`, …);
    how many there are decides how MariaDB runs a query that joins them (MariaDB's seq engine
    makes the rows). Returns the filler's ids: above any the store has, so removed by range.
    """
    first = int(wp_db("SELECT MAX(ID) FROM wp_posts").strip() or 0) + 1
    wp_db(
        "INSERT INTO wp_posts (ID, post_author, post_date, post_date_gmt, post_content, post_title, post_excerpt, "
        "post_status, comment_status, ping_status, post_name, to_ping, pinged, post_modified, post_modified_gmt, "
        "post_content_filtered, post_parent, guid, menu_order, post_type) "
        f"SELECT {first - 1} + seq, 1, NOW(), UTC_TIMESTAMP(), '', CONCAT('Filler ', seq), '', 'publish', "
        "'closed', 'closed', CONCAT('filler-', seq), '', '', NOW(), UTC_TIMESTAMP(), '', 0, '', 0, "
        f"IF(seq % 10 < 4, 'product', 'product_variation') FROM seq_1_to_{count}; "
        "INSERT INTO wp_postmeta (post_id, meta_key, meta_value) "
        f"SELECT {first - 1} + seq, m.meta_key, IF(m.meta_key = '_sku', CONCAT('FILLER-', seq), m.meta_value) "
        f"FROM seq_1_to_{count} JOIN wp_postmeta m ON m.post_id = {int(like)}; "
        "ANALYZE TABLE wp_posts, wp_postmeta;"
    )
    return range(first, first + count)


def remove_filler(ids: range) -> None:
    """Delete the filler posts and their meta, and give the store its next post id back."""
    between = f"BETWEEN {ids.start} AND {ids.stop - 1}"
    wp_db(
        f"DELETE FROM wp_postmeta WHERE post_id {between}; DELETE FROM wp_posts WHERE ID {between}; "
        f"ALTER TABLE wp_posts AUTO_INCREMENT = {ids.start}; OPTIMIZE TABLE wp_posts, wp_postmeta;"
    )


def variable(api: httpx.Client, prefix: str, name: str, count: int, *, pool: bool = False) -> dict[str, Any]:
    sizes = [f"V{i}" for i in range(count)]
    fields: dict[str, Any] = {
        "name": f"{prefix} {name}",
        "type": "variable",
        "attributes": [{"name": "Size", "options": sizes, "variation": True}],
    }
    if pool:
        fields |= {"manage_stock": True, "stock_quantity": 3, "backorders": "no"}
    parent = api.post("products", json=fields).json()
    made: list[dict[str, Any]] = []
    for start in range(0, count, 100):
        create = []
        for size in sizes[start : start + 100]:
            variation: dict[str, Any] = {
                "sku": f"{prefix}-{name}-{size}",
                "regular_price": "10",
                "attributes": [{"name": "Size", "option": size}],
            }
            if not pool:
                variation |= {"manage_stock": True, "stock_quantity": 4}
            create.append(variation)
        answer = api.post(f"products/{parent['id']}/variations/batch", json={"create": create})
        answer.raise_for_status()
        made += answer.json()["create"]
    parent["made"] = made
    return parent


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="leave the seeded products in the store")
    parser.add_argument(
        "--filler", type=int, default=0, help="measure reads by SKU again with this many more products and variations"
    )
    args = parser.parse_args()
    url = os.environ["REALSTORE_URL"]
    auth = WooCommerceAuth(os.environ["REALSTORE_KEY"], os.environ["REALSTORE_SECRET"])
    prefix = f"M{secrets.token_hex(3).upper()}"
    repeat = args.repeat
    with httpx.Client(base_url=f"{url}/wp-json/wc/v3/", auth=auth, timeout=600) as api:
        print(f"seeding {prefix} ...", flush=True)
        simples = []
        for start in range(0, 150, 100):
            create = [
                {"name": f"{prefix} simple {i}", "sku": f"{prefix}-S{i}", "manage_stock": True, "stock_quantity": 5}
                for i in range(start, min(150, start + 100))
            ]
            simples += api.post("products/batch", json={"create": create}).json()["create"]
        parents = [variable(api, prefix, f"P{n}", 3) for n in range(40)]
        two, twelve, fifty = (variable(api, prefix, name, n) for name, n in (("two", 2), ("twelve", 12), ("fifty", 50)))
        pool = variable(api, prefix, "pool", 2, pool=True)
        ours = [p["id"] for p in simples] + [p["id"] for p in (*parents, two, twelve, fifty, pool)]
        try:
            first_id = min(ours)

            def page(size: int) -> Callable[[], httpx.Response]:
                params = {"per_page": str(size), "orderby": "id", "order": "asc", "_fields": PRODUCT_FIELDS}
                return lambda: api.get("products", params={**params, "include": ",".join(map(str, ours[:size]))})

            print(f"\nfirst product id {first_id}; the store's CPU ms per request, least of {repeat} after a warm-up\n")
            line("GET products (page)", (10, timed(page(10), repeat)), (100, timed(page(100), repeat)))

            def variations(parent: dict[str, Any]) -> Callable[[], httpx.Response]:
                params = {"per_page": "100", "orderby": "id", "order": "asc", "_fields": VARIATION_FIELDS}
                return lambda: api.get(f"products/{parent['id']}/variations", params=params)

            line(
                "GET variations (listing)", (2, timed(variations(two), repeat)), (12, timed(variations(twelve), repeat))
            )

            def full(size: int) -> Callable[[], httpx.Response]:
                params = {"per_page": str(size), "orderby": "id", "order": "asc"}
                return lambda: api.get("products", params={**params, "include": ",".join(map(str, ours[:size]))})

            line("GET products, all fields", (10, timed(full(10), repeat)), (100, timed(full(100), repeat)))

            def all_fields(parent: dict[str, Any]) -> Callable[[], httpx.Response]:
                return lambda: api.get(f"products/{parent['id']}/variations", params={"per_page": "100"})

            line(
                "GET variations, all fields",
                (2, timed(all_fields(two), repeat)),
                (12, timed(all_fields(twelve), repeat)),
            )
            skus = [v["sku"] for p in parents for v in p["made"]]

            def by_sku(count: int) -> Callable[[], httpx.Response]:
                params = {"per_page": "100", "orderby": "id", "order": "asc", "_fields": SKU_FIELDS}
                return lambda: api.get("products", params={**params, "sku": ",".join(skus[:count])})

            line("GET products?sku= (varns)", (10, timed(by_sku(10), repeat)), (100, timed(by_sku(100), repeat)))
            variation_ids = {v["sku"]: v["id"] for p in parents for v in p["made"]}

            def by_id(count: int) -> Callable[[], httpx.Response]:
                ids = ",".join(str(variation_ids[sku]) for sku in skus[:count])
                params = {"per_page": "100", "orderby": "id", "order": "asc", "_fields": SKU_FIELDS}
                return lambda: api.get("products", params={**params, "sku": ",".join(skus[:count]), "include": ids})

            line("GET products?sku=&include=", (10, timed(by_id(10), repeat)), (100, timed(by_id(100), repeat)))
            admin = httpx.Client(base_url=f"{url}/wp-json/", auth=auth, timeout=600)

            def elsewhere(path: str, **extra: str) -> Callable[[int], Callable[[], httpx.Response]]:
                def make(count: int) -> Callable[[], httpx.Response]:
                    ids = ",".join(str(variation_ids[sku]) for sku in skus[:count])
                    return lambda: admin.get(path, params={"per_page": "100", "include": ids, **extra})

                return make

            others = {
                "wc-analytics/reports/stock": elsewhere("wc-analytics/reports/stock"),
                "wc-analytics/variations": elsewhere("wc-analytics/variations", _fields=SKU_FIELDS),
                "wc/store/v1/products": elsewhere("wc/store/v1/products", type="variation"),
            }
            for name, make in others.items():
                line(name[:28], (10, timed(make(10), repeat)), (100, timed(make(100), repeat)))
                fields = sorted(make(1)().json()[0])
                print(f"    fields: {', '.join(fields)}")

            flip = iter(range(10**6))

            def batch(path: str, ids: list[int]) -> Callable[[], httpx.Response]:
                def send() -> httpx.Response:
                    n = next(flip)
                    update = [
                        {
                            "id": i,
                            "backorders": "notify" if n % 2 else "no",
                            "meta_data": [{"key": "stock_eta", "value": f"2031-01-{n % 28 + 1:02d}"}],
                        }
                        for i in ids
                    ]
                    return api.post(path, json={"update": update}, params={"_fields": "update.id,update.error"})

                return send

            simple_ids = [p["id"] for p in simples]
            line(
                "POST products/batch",
                (10, timed(batch("products/batch", simple_ids[:10]), repeat)),
                (50, timed(batch("products/batch", simple_ids[:50]), repeat)),
            )
            fifty_ids = [v["id"] for v in fifty["made"]]
            path = f"products/{fifty['id']}/variations/batch"
            line(
                "POST variations/batch",
                (10, timed(batch(path, fifty_ids[:10]), repeat)),
                (50, timed(batch(path, fifty_ids[:50]), repeat)),
            )

            def put(path: str) -> Callable[[], httpx.Response]:
                def send() -> httpx.Response:
                    n = next(flip)
                    body = {"backorders": "notify" if n % 2 else "no"}
                    return api.put(path, json=body, params={"_fields": "id"})

                return send

            one = timed(put(f"products/{simple_ids[0]}"), repeat)
            print(f"{'PUT products/<id>':<28}{one * 1000:7.1f} ms")
            vid = fifty_ids[0]
            one = timed(put(f"products/{fifty['id']}/variations/{vid}"), repeat)
            print(f"{'PUT variations/<id>':<28}{one * 1000:7.1f} ms")
            orders = {"per_page": "100", "status": "processing,on-hold", "_fields": ",".join(mapping.ORDER_FIELDS)}
            one = timed(lambda: api.get("orders", params=orders), repeat)
            print(f"{'GET orders (empty page)':<28}{one * 1000:7.1f} ms")

            print("\nreading variations many at a time:")
            answer = api.get("products", params={"sku": ",".join(skus[:100]), "per_page": "100", "_fields": "id,type"})
            kinds = {o["type"] for o in answer.json()}
            print(f"  products?sku= 100 variation SKUs of 34 parents: {len(answer.json())} back, types {kinds}")
            many = ",".join(skus[:120])
            answer = api.get("products", params={"sku": many, "per_page": "100", "_fields": "id"})
            print(
                f"  products?sku= 120 SKUs ({len(many)} characters): status {answer.status_code}, "
                f"X-WP-Total {answer.headers.get('X-WP-Total')}, {len(answer.json())} on page 1"
            )
            vids = [str(v["id"]) for p in parents[:5] for v in p["made"]]
            answer = api.get("products", params={"include": ",".join(vids), "per_page": "100", "_fields": "id"})
            print(
                f"  products?include=<{len(vids)} variation ids>: status {answer.status_code}, {len(answer.json())} back"
            )
            answer = api.get("products", params={"type": "variation", "per_page": "100", "_fields": "id"})
            print(f"  products?type=variation: status {answer.status_code}, {answer.text[:120]}")
            pooled = [v["sku"] for v in pool["made"]]
            answer = api.get("products", params={"sku": ",".join(pooled), "_fields": SKU_FIELDS})
            listed = api.get(f"products/{pool['id']}/variations", params={"_fields": VARIATION_FIELDS})
            print("  a variation selling from its parent's stock, by SKU and by listing:")
            for found in answer.json()[:1] + listed.json()[:1]:
                print(
                    f"    manage_stock={found['manage_stock']!r} stock_quantity={found['stock_quantity']!r} "
                    f"name={found['name']!r} attributes={found['attributes']!r}"
                )
            plain = [v["sku"] for v in two["made"]]
            answer = api.get("products", params={"sku": ",".join(plain), "_fields": SKU_FIELDS})
            listed = api.get(f"products/{two['id']}/variations", params={"_fields": VARIATION_FIELDS})
            print("  a variation with its own stock, by SKU and by listing:")
            for found in answer.json()[:1] + listed.json()[-1:]:
                shown = {k: found.get(k) for k in mapping.VARIATION_FIELDS if k != "meta_data"}
                print(f"    {shown}")
            if args.filler:
                print(f"\nwith {args.filler} more products and variations in the store:")
                filler = add_filler(args.filler, like=parents[0]["made"][0]["id"])
                try:
                    line(
                        "GET products?sku= (varns)", (10, timed(by_sku(10), repeat)), (100, timed(by_sku(100), repeat))
                    )
                    line("GET products?sku=&include=", (10, timed(by_id(10), repeat)), (100, timed(by_id(100), repeat)))
                finally:
                    remove_filler(filler)
        finally:
            if not args.keep:
                for start in range(0, len(ours), 100):
                    api.post("products/batch", json={"delete": ours[start : start + 100]}, params={"force": "true"})


if __name__ == "__main__":
    main()
