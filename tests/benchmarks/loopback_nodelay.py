"""Benchmark: the sandboxes' HTTP server with and without TCP_NODELAY, per GET over one kept-alive connection.

`stockstatus.core.loopback` sends an answer's headers and body in two writes; with Nagle's
algorithm on, the second waits for the client's delayed ACK (about 40 ms on Linux). This serves
a small answer both ways and prints the mean time per GET and the ratio.

    python tests/benchmarks/loopback_nodelay.py --requests 200
"""

from __future__ import annotations

import argparse
import time

import httpx

from stockstatus.core import loopback


def answer(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=[{"id": n, "sku": f"SKU-{n}"} for n in range(20)])


def per_get(requests: int, nodelay: bool) -> float:
    server = loopback.serve(answer, "127.0.0.1", 0)
    server.RequestHandlerClass.disable_nagle_algorithm = nodelay  # type: ignore[attr-defined]
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        with httpx.Client() as client:
            client.get(url).raise_for_status()  # the connection, opened once
            started = time.perf_counter()
            for _ in range(requests):
                client.get(url).raise_for_status()
            return (time.perf_counter() - started) / requests
    finally:
        server.shutdown()
        server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    on = per_get(args.requests, nodelay=True)
    off = per_get(args.requests, nodelay=False)
    print(f"per GET with TCP_NODELAY {on * 1000:.1f} ms, without {off * 1000:.1f} ms: {off / on:.0f}× slower without")


if __name__ == "__main__":
    main()
