"""Consumer-key auth: Basic over https, OAuth 1.0a in the header over http.

The OAuth check below re-implements WooCommerce's server side (WC_REST_Authentication:
get_oauth_parameters, parse_header, check_oauth_signature, normalize_parameters,
join_with_equals_sign and wc_rest_urlencode_rfc3986) step by step from the PHP, without using
the adapter's helpers, so the two implementations check each other.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from urllib.parse import unquote, unquote_plus

import httpx
import pytest
import respx

from stockstatus.adapters.woocommerce.auth import WooCommerceAuth
from stockstatus.core.http import HttpPolicy, make_client, send

KEY = "ck_0123456789abcdef0123456789abcdef01234567"
SECRET = "cs_fedcba9876543210fedcba9876543210fedcba98"

UNRESERVED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~"


def php_rawurlencode(value: str) -> str:
    return "".join(chr(b) if b in UNRESERVED else f"%{b:02X}" for b in value.encode())


def php_wc_rest_urlencode_rfc3986(value: str) -> str:
    return php_rawurlencode(value).replace("+", " ").replace("%7E", "~")


def php_get(query: str) -> dict[str, str]:
    """$_GET as PHP's parse_str fills it (urldecode: '+' is a space; last duplicate wins)."""
    params: dict[str, str] = {}
    for part in query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        params[unquote_plus(name)] = unquote_plus(value)
    return params


def php_parse_header(header: str) -> dict[str, str]:
    if not header.startswith("OAuth "):
        return {}
    params = {}
    for name, _, quoted, bare in re.findall(r'(oauth_[a-z_-]*)=(:?"([^"]*)"|([^,]*))', header):
        params[name] = unquote_plus(quoted if quoted else bare)
    return params


def woocommerce_accepts(request: httpx.Request, secret: str, home: str) -> bool:
    """check_oauth_signature for `request`, with WordPress' home URL `home`."""
    params = {**php_get(request.url.query.decode()), **php_parse_header(request.headers.get("Authorization", ""))}
    path = request.url.raw_path.decode().split("?")[0]
    base_request_uri = php_rawurlencode(home + path)
    consumer_signature = unquote(params.pop("oauth_signature").replace(" ", "+"))  # rawurldecode
    ordered = dict(sorted(params.items(), key=lambda kv: kv[0].encode()))  # uksort(strcmp)
    normalized = {php_wc_rest_urlencode_rfc3986(k): php_wc_rest_urlencode_rfc3986(v) for k, v in ordered.items()}
    query_string = "%26".join(php_wc_rest_urlencode_rfc3986(f"{k}={v}") for k, v in normalized.items())
    string_to_sign = f"{request.method.upper()}&{base_request_uri}&{query_string}"
    algorithm = params["oauth_signature_method"].replace("HMAC-", "").lower()
    expected = base64.b64encode(
        hmac.new(f"{secret}&".encode(), string_to_sign.encode(), getattr(hashlib, algorithm)).digest()
    ).decode()
    return hmac.compare_digest(expected, consumer_signature)


def authorize(auth: httpx.Auth, request: httpx.Request) -> httpx.Request:
    flow = auth.sync_auth_flow(request)
    return next(flow)


def test_basic_auth_over_https():
    request = authorize(
        WooCommerceAuth(KEY, SECRET), httpx.Request("GET", "https://shop.example/wp-json/wc/v3/products")
    )
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
    assert KEY not in str(request.url)


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "http://shop.example/wp-json/wc/v3/products?per_page=100&page=2"),
        ("GET", "http://shop.example:8080/wp-json/wc/v3/orders?status=processing%2Con-hold&per_page=100&page=1"),
        ("GET", "http://shop.example/shop/wp-json/wc/v3/products?_fields=id,name,meta_data&search=blue+shirt~%2B"),
        ("POST", "http://shop.example/wp-json/wc/v3/products/14/variations/batch"),
        ("GET", "http://shop.example/wp-json/wc/v3/products?Zeta=1&alpha=2&_a=3&a%5Bb%5D=4"),
    ],
)
def test_oauth_signature_verifies_as_woocommerce_checks_it(method, url):
    request = httpx.Request(method, url, json={"update": [{"id": 1}]} if method == "POST" else None)
    signed = authorize(WooCommerceAuth(KEY, SECRET), request)
    home = f"{request.url.scheme}://{request.url.netloc.decode()}"
    assert woocommerce_accepts(signed, SECRET, home)
    assert not woocommerce_accepts(signed, "cs_wrong", home)


def test_oauth_parameters_travel_in_the_header_never_the_url():
    url = "http://shop.example/wp-json/wc/v3/products?per_page=100"
    signed = authorize(WooCommerceAuth(KEY, SECRET), httpx.Request("GET", url))
    assert str(signed.url) == url
    header = signed.headers["Authorization"]
    assert header.startswith("OAuth ")
    params = php_parse_header(header)
    assert set(params) == {
        "oauth_consumer_key",
        "oauth_nonce",
        "oauth_signature",
        "oauth_signature_method",
        "oauth_timestamp",
    }
    assert params["oauth_consumer_key"] == KEY
    assert params["oauth_signature_method"] == "HMAC-SHA256"
    assert re.fullmatch(r"[0-9a-zA-Z]{32}", params["oauth_nonce"])
    assert SECRET not in header


def test_oauth_signature_in_the_header_survives_urldecode():
    # A base64 "+" must be sent as %2B: WooCommerce urldecode()s header values.
    auth = WooCommerceAuth(KEY, SECRET, clock=lambda: 1_700_000_000.0)
    for n in range(40):
        auth._nonce = lambda n=n: f"{n:032d}"
        signed = authorize(auth, httpx.Request("GET", f"http://shop.example/wp-json/wc/v3/products?page={n}"))
        assert woocommerce_accepts(signed, SECRET, "http://shop.example")


def test_repr_hides_the_secret():
    text = repr(WooCommerceAuth(KEY, SECRET))
    assert SECRET not in text and KEY not in text


async def test_each_attempt_is_signed_with_a_fresh_nonce():
    url = "http://shop.example/wp-json/wc/v3/products"
    with respx.mock:
        route = respx.get(url).mock(side_effect=[httpx.Response(503), httpx.Response(200, json=[])])
        async with make_client() as client:

            async def no_sleep(_: float) -> None:
                return None

            await send(
                client, "GET", url, auth=WooCommerceAuth(KEY, SECRET), policy=HttpPolicy(attempts=2), sleep=no_sleep
            )
    nonces = [php_parse_header(call.request.headers["Authorization"])["oauth_nonce"] for call in route.calls]
    assert len(nonces) == 2 and nonces[0] != nonces[1]
