"""Who may read the status page: loopback always; any other address only with the token.

A request a reverse proxy forwarded (it carries `Forwarded` or `X-Forwarded-For`) counts as from
another address even when the proxy runs on this machine: the page must not be open to whoever
reaches the proxy.

The token comes from the environment variable `[listen] status_token_env` names. It is sent as
`Authorization: Bearer TOKEN`, or once as `?token=TOKEN`, which answers with a redirect to the
same page without it (so the token leaves the address bar and the history) and a cookie that
carries a digest of the token, never the token itself: HttpOnly, SameSite=Strict, and Secure
when the page is reached over https. Without the variable set, only loopback is served.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

COOKIE = "connector_status"
"""The cookie that carries the token's digest."""


class Grant(Enum):
    LOOPBACK = "loopback"
    TOKEN = "token"
    """A valid bearer token or cookie."""
    SET_COOKIE = "set-cookie"
    """A valid `?token=`: redirect without it and set the cookie."""
    REFUSED = "refused"


def is_loopback(peer: str | None) -> bool:
    """Whether a peer address is this machine (127.0.0.0/8, ::1, an IPv4-mapped loopback)."""
    if not peer:
        return False
    try:
        address = ipaddress.ip_address(peer.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


FORWARDING_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")


def forwarded(headers: Mapping[str, str]) -> bool:
    """Whether a proxy forwarded the request (for someone else, wherever the proxy runs)."""
    return any(name in headers for name in FORWARDING_HEADERS)


def cookie_value(token: str) -> str:
    """What the cookie holds: a digest of the token, so a leaked cookie jar does not leak the token."""
    return hmac.new(token.encode(), b"connector status page", hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class AccessRule:
    """The page's access rule, given the token (None: none configured or the variable is unset)."""

    token: str | None

    def grant(
        self, peer: str | None, headers: Mapping[str, str], cookies: Mapping[str, str], query: Mapping[str, str]
    ) -> Grant:
        if is_loopback(peer) and not forwarded(headers):
            return Grant.LOOPBACK
        if not self.token:
            return Grant.REFUSED
        scheme, _, given = headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), self.token.encode()):
            return Grant.TOKEN
        if hmac.compare_digest(cookies.get(COOKIE, "").encode(), cookie_value(self.token).encode()):
            return Grant.TOKEN
        if hmac.compare_digest(query.get("token", "").encode(), self.token.encode()):
            return Grant.SET_COOKIE
        return Grant.REFUSED


def token_from(environ: Mapping[str, str], name: str | None) -> str | None:
    """The token from the environment variable `name` (None when not configured or empty)."""
    if not name:
        return None
    return environ.get(name) or None
