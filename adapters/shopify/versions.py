"""Which Admin API version a shop really answers with, and what Shopify says is deprecated.

Shopify supports a stable version for about a year. A request for a version it no longer
supports is not refused: it is answered with the oldest version it still supports (it "falls
forward"), and `X-Shopify-API-Version` names the version that ran. A request that uses something
deprecated is answered with `X-Shopify-API-Deprecated-Reason`. Both are logged once per pass (one
adapter serves one pass), with what to change, so a daemon's log does not repeat them on every
request.
"""

from __future__ import annotations

import json
import logging

import httpx

log = logging.getLogger(__name__)

VERSION_HEADER = "X-Shopify-API-Version"
DEPRECATED_HEADER = "X-Shopify-API-Deprecated-Reason"


class ApiVersions:
    """Compares the version answered with the one asked for; remembers what it already logged."""

    def __init__(self, asked: str, shop: str) -> None:
        self.asked = asked
        self.shop = shop
        self.answered: str | None = None
        """The version the shop last answered with (None before any answer carried the header)."""
        self.deprecations: dict[str, str] = {}
        """Deprecation reason → the first operation it came with."""

    def read(self, response: httpx.Response) -> None:
        """Note the headers of one answer of the GraphQL endpoint."""
        answered = response.headers.get(VERSION_HEADER)
        if answered and answered != self.answered:
            self.answered = answered
            if answered != self.asked:
                log.warning(
                    "store %s: asked for Admin API version %s, Shopify answered with %s (it no longer supports %s "
                    'and falls forward to the oldest version it does): set api_version = "%s" or newer in the '
                    "store's settings, after checking the release notes",
                    self.shop,
                    self.asked,
                    answered,
                    self.asked,
                    answered,
                )
        reason = response.headers.get(DEPRECATED_HEADER)
        if reason and reason not in self.deprecations:
            operation = _operation(response.request)
            self.deprecations[reason] = operation
            log.warning(
                "store %s: Shopify says the connector's %s request uses something deprecated in %s (%s): upgrade "
                "the connector before that version stops being supported",
                self.shop,
                operation,
                answered or self.asked,
                reason,
            )

    @property
    def fell_forward(self) -> bool:
        return self.answered is not None and self.answered != self.asked


def _operation(request: httpx.Request) -> str:
    try:
        return str(json.loads(request.content or b"{}").get("operationName") or "a")
    except (ValueError, AttributeError):
        return "a"
