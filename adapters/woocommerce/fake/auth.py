"""Who may call the fake store, decided as WC_REST_Authentication decides it.

Over https a consumer key and secret authenticate in the query string or as HTTP Basic; over
plain http only a one-legged OAuth 1.0a signature does, checked against the store's own home URL,
with timestamps and nonces kept for 15 minutes. A key is read, write or read_write. This is the
store's side of the signature; the connector's own signing lives in the adapter (`..auth`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, unquote_plus, urlsplit

import httpx

from .errors import WooError
from .params import PhpValue, php_parse_str

__all__ = ["ApiKey", "Authentication", "sign_oauth1"]

OAUTH_WINDOW_SECONDS = 15 * 60
"""WC_REST_Authentication::check_oauth_timestamp_and_nonce: timestamps and nonces live 15 minutes."""
CREDENTIAL_PARAMS = frozenset({"consumer_key", "consumer_secret"})

Outcome = tuple[bool, WooError | None, str]
"""(authenticated, error to answer with, auth method tried last)."""


def rfc3986(value: str) -> str:
    """wc_rest_urlencode_rfc3986 (= rawurlencode)."""
    return quote(value, safe="~")


def parse_oauth_header(header: str) -> dict[str, str]:
    """WC_REST_Authentication::parse_header (the OAuth PHP library's regex, urldecode included)."""
    if not header.startswith("OAuth "):
        return {}
    found: dict[str, str] = {}
    for name, _, quoted, bare in re.findall(r'(oauth_[a-z_-]*)=(:?"([^"]*)"|([^,]*))', header):
        found[name] = unquote_plus(quoted if quoted else bare)
    return found


def _join_with_equals_sign(params: Mapping[str, PhpValue], prefix: str = "") -> list[str]:
    pairs: list[str] = []
    for key, value in params.items():
        name = f"{prefix}%5B{key}%5D" if prefix else key
        if isinstance(value, dict):
            pairs.extend(_join_with_equals_sign(value, name))
        else:
            pairs.append(rfc3986(f"{name}={value}"))
    return pairs


def _encode_values(value: PhpValue) -> PhpValue:
    if isinstance(value, dict):
        return {k: _encode_values(v) for k, v in value.items()}
    return rfc3986(value)


def oauth_string_to_sign(method: str, base_url: str, params: Mapping[str, PhpValue]) -> str:
    """check_oauth_signature's base string: sorted by raw name, each pair encoded twice, "%26"-joined.

    `params` are all request parameters as PHP decoded them, without `oauth_signature`.
    """
    ordered = {rfc3986(k): _encode_values(params[k]) for k in sorted(params, key=lambda k: k.encode())}
    return f"{method.upper()}&{rfc3986(base_url)}&{'%26'.join(_join_with_equals_sign(ordered))}"


def sign_oauth1(method: str, base_url: str, params: Mapping[str, PhpValue], secret: str, algorithm: str) -> str:
    """The signature WooCommerce expects (algorithm "HMAC-SHA1" or "HMAC-SHA256")."""
    digest = hashlib.sha1 if algorithm == "HMAC-SHA1" else hashlib.sha256
    text = oauth_string_to_sign(method, base_url, params)
    return base64.b64encode(hmac.new(f"{secret}&".encode(), text.encode(), digest).digest()).decode()


@dataclass
class ApiKey:
    consumer_key: str
    consumer_secret: str
    permissions: str = "read_write"

    def __post_init__(self) -> None:
        # WooCommerce keeps timestamp => nonce (one per second: a quirk we keep).
        self.nonces: dict[int, str] = {}

    def __repr__(self) -> str:
        return f"ApiKey(consumer_key='{self.consumer_key[:7]}…', permissions={self.permissions!r})"


def random_key(prefix: str) -> str:
    return prefix + secrets.token_hex(20)


def strip_secrets(query: Mapping[str, Any]) -> dict[str, Any]:
    """Query parameters fit to repeat (Link headers, the request log): no secrets or signatures."""
    return {k: ("[redacted]" if k == "consumer_secret" or k == "oauth_signature" else v) for k, v in query.items()}


class Authentication:
    """The store's one API key, and the checks a request's credentials go through."""

    def __init__(self, key: ApiKey, clock: Callable[[], float] = time.time) -> None:
        self.key = key
        # OAuth timestamps are compared with the wall clock even when tests pin the store's
        # clock: clients sign with their own real time.
        self._clock = clock

    def authenticate(self, request: httpx.Request, raw_path: str, form: dict[str, PhpValue], home_url: str) -> Outcome:
        """Check the request's credentials for a store at `home_url` (its scheme decides the methods)."""
        get_params = php_parse_str(request.url.query.decode())
        if urlsplit(home_url).scheme == "https":
            outcome = self._basic_auth(request, get_params)
            if outcome is not None:
                return outcome
        return self._oauth1(request, raw_path, get_params, form, home_url)

    def _basic_auth(self, request: httpx.Request, get_params: Mapping[str, PhpValue]) -> Outcome | None:
        key, secret = get_params.get("consumer_key"), get_params.get("consumer_secret")
        if not (isinstance(key, str) and key and isinstance(secret, str) and secret):
            key, secret = self._basic_credentials(request)
        if not key or not secret:
            return None
        if not hmac.compare_digest(key.encode(), self.key.consumer_key.encode()):
            return None  # an unknown key is "no credentials": the OAuth path runs next
        if not hmac.compare_digest(secret.encode(), self.key.consumer_secret.encode()):
            return (
                False,
                WooError("woocommerce_rest_authentication_error", "Consumer secret is invalid.", 401),
                "basic_auth",
            )
        return True, None, "basic_auth"

    @staticmethod
    def _basic_credentials(request: httpx.Request) -> tuple[str, str]:
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("basic "):
            return "", ""
        try:
            decoded = base64.b64decode(header[6:].strip()).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return "", ""
        user, _, password = decoded.partition(":")
        return user, password

    def _oauth1(
        self,
        request: httpx.Request,
        raw_path: str,
        get_params: dict[str, PhpValue],
        form: dict[str, PhpValue],
        home_url: str,
    ) -> Outcome:
        params: dict[str, PhpValue] = {**get_params, **form}
        params.update(parse_oauth_header(request.headers.get("authorization", "").strip()))
        required = ("oauth_consumer_key", "oauth_timestamp", "oauth_nonce", "oauth_signature", "oauth_signature_method")
        missing = [name for name in required if not params.get(name) or params.get(name) == "0"]
        if len(missing) == len(required):
            return False, None, "oauth1"
        if missing:
            noun = "parameter" if len(missing) == 1 else "parameters"
            message = f"Missing OAuth {noun} {', '.join(missing)}"
            return False, WooError("woocommerce_rest_authentication_missing_parameter", message, 401), "oauth1"
        if params["oauth_consumer_key"] != self.key.consumer_key:
            return False, WooError("woocommerce_rest_authentication_error", "Consumer key is invalid.", 401), "oauth1"
        error = self._check_oauth_signature(request.method, raw_path, params, home_url)
        if error is None:
            error = self._check_timestamp_and_nonce(str(params["oauth_timestamp"]), str(params["oauth_nonce"]))
        return error is None, error, "oauth1"

    @staticmethod
    def _signature_base_url(home_url: str, raw_path: str) -> str:
        # get_home_url( null, $request_path, is_ssl() ? 'https' : 'http' ): the store's own home
        # URL, not the Host the client used, plus the raw request path below the home path.
        home = urlsplit(home_url)
        home_path = home.path.rstrip("/") + "/"
        path = raw_path[len(home_path) :] if raw_path.startswith(home_path) else raw_path
        return f"{home_url}/{path.lstrip('/')}"

    def _check_oauth_signature(
        self, method: str, raw_path: str, params: dict[str, PhpValue], home_url: str
    ) -> WooError | None:
        provided = params.pop("oauth_signature")
        provided = unquote(str(provided).replace(" ", "+"))
        algorithm = params["oauth_signature_method"]
        if algorithm not in ("HMAC-SHA1", "HMAC-SHA256"):
            return WooError(
                "woocommerce_rest_authentication_error", "Invalid signature - signature method is invalid.", 401
            )
        expected = sign_oauth1(
            method, self._signature_base_url(home_url, raw_path), params, self.key.consumer_secret, str(algorithm)
        )
        if not hmac.compare_digest(expected.encode(), provided.encode()):
            return WooError(
                "woocommerce_rest_authentication_error", "Invalid signature - provided signature does not match.", 401
            )
        return None

    def _check_timestamp_and_nonce(self, timestamp: str, nonce: str) -> WooError | None:
        now = int(self._clock())
        try:
            stamp = int(float(timestamp))
        except ValueError:
            stamp = 0
        if stamp < now - OAUTH_WINDOW_SECONDS or stamp > now + OAUTH_WINDOW_SECONDS:
            return WooError("woocommerce_rest_authentication_error", "Invalid timestamp.", 401)
        if nonce in self.key.nonces.values():
            return WooError(
                "woocommerce_rest_authentication_error", "Invalid nonce - nonce has already been used.", 401
            )
        self.key.nonces[stamp] = nonce
        self.key.nonces = {t: n for t, n in self.key.nonces.items() if t >= now - OAUTH_WINDOW_SECONDS}
        return None

    def check_key_permissions(self, method: str) -> None:
        """WC_REST_Authentication::check_permissions (rest_pre_dispatch: before the route is matched)."""
        permissions = self.key.permissions
        if method in ("HEAD", "GET"):
            if permissions not in ("read", "read_write"):
                raise WooError(
                    "woocommerce_rest_authentication_error", "The API key provided does not have read permissions.", 401
                )
        elif method in ("POST", "PUT", "PATCH", "DELETE"):
            if permissions not in ("write", "read_write"):
                raise WooError(
                    "woocommerce_rest_authentication_error",
                    "The API key provided does not have write permissions.",
                    401,
                )
        elif method != "OPTIONS":
            raise WooError("woocommerce_rest_authentication_error", "Unknown request method.", 401)
