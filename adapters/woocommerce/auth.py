"""Authentication to the WooCommerce REST API with a consumer key and secret.

Over https WooCommerce accepts HTTP Basic (key:secret). Over plain http it refuses Basic and
requires OAuth 1.0a "one-legged" signatures (RFC 5849 without a token). The oauth_* parameters
go in the `Authorization: OAuth ...` header — WC_REST_Authentication::get_oauth_parameters reads
$_GET, $_POST and that header — so keys never appear in URLs, access logs or our own logs.

The signature follows WC_REST_Authentication::check_oauth_signature exactly, quirks included:

- base URL: scheme, host (and port) and the raw path of the request, no query;
- parameters: the query parameters as PHP decoded them into $_GET ("+" is a space) merged with
  the oauth_* header parameters (header wins), `oauth_signature` removed; a JSON body is not
  signed (PHP leaves $_POST empty for it);
- sorted by their *decoded* names with a byte-wise comparison (`uksort(..., 'strcmp')`), not by
  their encoded names as RFC 5849 says;
- each name and value encoded with `rawurlencode` (RFC 3986), then each "name=value" pair
  encoded *again* and the pairs joined with "%26";
- string to sign = METHOD & rawurlencode(base URL) & that joined string;
- key = consumer secret + "&"; HMAC-SHA256, base64.

Every attempt of a request is signed anew (fresh nonce and timestamp): WooCommerce rejects a
nonce it has seen in the last 15 minutes, so a retried request must not reuse one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Generator, Iterable
from urllib.parse import parse_qsl, quote

import httpx

SIGNATURE_METHOD = "HMAC-SHA256"


def rawurlencode(value: str) -> str:
    """PHP's rawurlencode: RFC 3986, everything but unreserved characters percent-encoded."""
    return quote(value, safe="-_.~")


def php_query_params(raw_query: str) -> dict[str, str]:
    """The query string as PHP fills $_GET from it (last duplicate wins; "+" decodes to a space).

    Array-style names (`a[]=1`) and PHP's renaming of "." and " " in names are not reproduced:
    the connector never sends such names.
    """
    params: dict[str, str] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        params[name] = value
    return params


def signature_base_string(method: str, base_url: str, params: Iterable[tuple[str, str]]) -> str:
    """The string WooCommerce signs: METHOD & encoded URL & doubly encoded sorted parameters."""
    ordered = sorted(params, key=lambda kv: kv[0].encode())
    pairs = [rawurlencode(f"{rawurlencode(name)}={rawurlencode(value)}") for name, value in ordered]
    return f"{method.upper()}&{rawurlencode(base_url)}&{'%26'.join(pairs)}"


def sign(base_string: str, consumer_secret: str) -> str:
    """HMAC-SHA256 of the base string keyed with "secret&", base64-encoded."""
    digest = hmac.new(f"{consumer_secret}&".encode(), base_string.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def request_base_url(url: httpx.URL) -> str:
    """scheme://host[:port]/raw/path of a request, as WooCommerce rebuilds it (no query)."""
    path = url.raw_path.split(b"?", 1)[0].decode("ascii")
    port = f":{url.port}" if url.port is not None else ""
    return f"{url.scheme}://{url.host}{port}{path}"


class WooCommerceAuth(httpx.Auth):
    """Basic auth over https, OAuth 1.0a (HMAC-SHA256, header only) over http."""

    def __init__(
        self,
        consumer_key: str,
        consumer_secret: str,
        *,
        clock: Callable[[], float] = time.time,
        nonce: Callable[[], str] = lambda: secrets.token_hex(16),
    ) -> None:
        self._key = consumer_key
        self._secret = consumer_secret
        self._clock = clock
        self._nonce = nonce

    def __repr__(self) -> str:
        shown = self._key[:7] + "…" if len(self._key) > 7 else "…"
        return f"WooCommerceAuth(consumer_key={shown!r}, consumer_secret=<hidden>)"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if request.url.scheme == "https":
            token = base64.b64encode(f"{self._key}:{self._secret}".encode()).decode("ascii")
            request.headers["Authorization"] = f"Basic {token}"
        else:
            request.headers["Authorization"] = self.oauth_header(request)
        yield request

    def oauth_header(self, request: httpx.Request) -> str:
        """The `Authorization: OAuth ...` value for one attempt of `request`."""
        oauth = {
            "oauth_consumer_key": self._key,
            "oauth_nonce": self._nonce(),
            "oauth_signature_method": SIGNATURE_METHOD,
            "oauth_timestamp": str(int(self._clock())),
        }
        params = php_query_params(request.url.query.decode("ascii"))
        params.update(oauth)  # array_merge($_GET, $_POST, $header_params): the header wins
        params.pop("oauth_signature", None)
        base = signature_base_string(request.method, request_base_url(request.url), params.items())
        oauth["oauth_signature"] = sign(base, self._secret)
        # WooCommerce urldecode()s each header value, so percent-encode them (a "+" in the
        # base64 signature would otherwise turn into a space).
        return "OAuth " + ", ".join(f'{name}="{rawurlencode(value)}"' for name, value in sorted(oauth.items()))
