"""Benchmark: the HTTP client's CPU per request over loopback (keep-alive, a small JSON answer).

    python tests/benchmarks/client_cpu.py --requests 3000

The server runs in a process of its own; the figure is this process's CPU time per request
through `stockstatus.core.http.make_client`. It says whether `sniffio` is installed: without it
httpcore retries the failed import on every request (compare with `pip uninstall sniffio`).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import resource
import subprocess
import sys

from stockstatus.core.http import make_client

SERVER = """
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Answer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def per_request(port: int, requests: int) -> float:
    async with make_client(base_url=f"http://127.0.0.1:{port}") as client:
        for _ in range(50):  # the connection and the first imports are not what is measured
            (await client.get("/")).raise_for_status()
        started = cpu_seconds()
        for _ in range(requests):
            await client.get("/")
        return (cpu_seconds() - started) / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()
    server = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        spent = asyncio.run(per_request(port, args.requests))
    finally:
        server.terminate()
        server.wait()
    installed = importlib.util.find_spec("sniffio") is not None
    print(f"sniffio installed: {'yes' if installed else 'no'}; client CPU {spent * 1e6:.0f} µs per request")


if __name__ == "__main__":
    main()
