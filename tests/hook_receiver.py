"""A webhook receiver on 127.0.0.1 for the sandboxes' deliveries: it keeps every request as it
arrived (raw body, headers) and answers with the status a test sets."""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)

    def signed_with(self, secret: str, header: str) -> bool:
        """Whether `header` holds the base64 HMAC-SHA256 of the raw body under `secret`."""
        expected = base64.b64encode(hmac.new(secret.encode(), self.body, hashlib.sha256).digest()).decode()
        return hmac.compare_digest(expected, self.header(header) or "")


@dataclass
class Receiver:
    url: str
    received: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    """Statuses for the next requests, in order; then `default`."""
    default: int = 200
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_status(self) -> int:
        with self.lock:
            return self.answers.pop(0) if self.answers else self.default

    def record(self, item: Received) -> None:
        with self.lock:
            self.received.append(item)

    def topics(self, header: str) -> list[str | None]:
        with self.lock:
            return [r.header(header) for r in self.received]


@contextmanager
def receiver(path: str = "/webhooks/shop") -> Iterator[Receiver]:
    """A receiver at http://127.0.0.1:<free port><path>, stopped afterwards."""
    holder: list[Receiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            size = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(size)
            holder[0].record(Received(self.path, dict(self.headers.items()), body))
            status = holder[0].next_status()
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    holder.append(Receiver(f"http://127.0.0.1:{server.server_address[1]}{path}"))
    try:
        yield holder[0]
    finally:
        server.shutdown()
        server.server_close()
