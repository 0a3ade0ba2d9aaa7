"""Serving an in-process fake store over HTTP on loopback, for `connector sandbox` and tests.

A platform's fake answers `httpx.Request`s; this wraps it in a threaded stdlib HTTP server so
the connector (or curl, or a shop's own tooling) can reach it over a real socket.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

import httpx

Handle = Callable[[httpx.Request], httpx.Response]
_HOP_BY_HOP = ("content-length", "transfer-encoding", "connection")
POLL_SECONDS = 0.02
"""How often the serving loop checks whether it was asked to stop."""


def _handler_for(handle: Handle, server_version: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        sys_version = ""
        # Headers and body leave in two writes; with Nagle's algorithm the second waits for the
        # client's delayed ACK, about 40 ms on every answer.
        disable_nagle_algorithm = True

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            bound = cast(tuple[str, int], self.server.server_address)
            host = self.headers.get("Host") or f"{bound[0]}:{bound[1]}"
            request = httpx.Request(
                self.command,
                f"http://{host}{self.path}",
                headers=[(k, v) for k, v in self.headers.items() if k.lower() != "host"] + [("Host", host)],
                content=body,
            )
            response = handle(request)
            content = response.content
            self.send_response(response.status_code)
            for name, value in response.headers.multi_items():
                if name.lower() not in _HOP_BY_HOP:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            if self.command != "HEAD":
                try:
                    self.wfile.write(content)
                except (BrokenPipeError, ConnectionResetError):
                    return  # the client went away (a stopped connector): nothing to answer to

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _answer

        def log_message(self, format: str, *args: Any) -> None:
            # The default access log prints request lines, and a query string may carry
            # credentials (a consumer secret, an OAuth signature): stay silent.
            return

    Handler.server_version = server_version
    return Handler


def serve(
    handle: Handle, host: str = "127.0.0.1", port: int = 0, *, server_version: str = "nginx"
) -> ThreadingHTTPServer:
    """Answer HTTP on (host, port) with `handle`, in a background thread.

    The returned server's `server_address` has the port actually bound (useful with port 0).
    Stop it with `shutdown()` then `server_close()`.
    """
    server = ThreadingHTTPServer((host, port), _handler_for(handle, server_version))
    server.daemon_threads = True
    threading.Thread(
        # `shutdown()` returns only once the loop next looks at its flag: with the default half
        # second between looks, stopping a sandbox (and every test's store) took that long.
        target=lambda: server.serve_forever(poll_interval=POLL_SECONDS),
        name=f"sandbox-{server.server_address[1]}",
        daemon=True,
    ).start()
    return server
