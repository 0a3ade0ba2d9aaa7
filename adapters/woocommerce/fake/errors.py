"""The fake's one failure: a WordPress `WP_Error`, and how it reads as JSON.

Every layer of the fake (argument checks, authentication, the store's own refusals) raises
`WooError`; the request pipeline turns it into the `{"code", "message", "data": {"status"}}` body
WordPress answers with, and a batch turns it into that item's `error` entry.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Json", "WooError"]

Json = dict[str, Any]
"""A JSON object as the REST API reads and answers it."""


class WooError(Exception):
    """A WP_Error: becomes `{"code", "message", "data": {"status", ...}}` with that HTTP status."""

    def __init__(self, code: str, message: str, status: int, **data: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.data = data

    def body(self) -> Json:
        return {"code": self.code, "message": self.message, "data": {"status": self.status, **self.data}}

    def batch_entry(self, item_id: Any) -> Json:
        return {"id": item_id, "error": self.body()}
