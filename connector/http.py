"""The one owner of HTTP policy: timeouts, which failures are retried, backoff, Retry-After.

Adapters get an `httpx.AsyncClient` from `make_client` and send every request through `send`,
or through `send_json` when they need the answer's JSON: an unreadable body (an HTML error page
served with 200, an answer cut off mid-way, a PHP notice before the JSON) is then retried like a
5xx instead of failing the pass. They add only what is platform-specific (for example an error
hidden in a 200 body), by raising `TransientError` from a `check` callback so that the same retry
loop handles it.

Every wait (backoff, `Retry-After`, an adapter's pacing) goes through `pause`, which a caller can
redirect for a block of code with `waiting_with` (a simulation's clock, tests that must not sleep).
Messages and log lines name a request by its method and path, or by the `describe` text its
caller gives when the path itself is a secret (a webhook's); never by a URL with credentials.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import ipaddress
import json
import logging
import random
import re
import ssl
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt
from tenacity.stop import stop_base

from stockstatus.core.errors import AuthError, PlatformError, TransientError

log = logging.getLogger(__name__)
T = TypeVar("T")

USER_AGENT = "stock-status-connector/0.1"
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524})


@dataclass(frozen=True, slots=True)
class HttpPolicy:
    """Timeouts and retry limits for one store's requests."""

    timeout: float = 60.0
    connect_timeout: float = 10.0
    attempts: int = 5
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    retry_after_max: float = 120.0
    """A server asking to wait longer than this is reported rather than waited for."""


DEFAULT_POLICY = HttpPolicy()

Sleep = Callable[[float], Awaitable[None]]
ResponseCheck = Callable[[httpx.Response], None]
BodyCheck = Callable[[Any], None]
"""A platform's look at a decoded answer: raises `TransientError` to retry it, another error to stop."""

_waiting: ContextVar[Sleep] = ContextVar("waiting", default=asyncio.sleep)


async def pause(seconds: float) -> None:
    """Wait `seconds` with the wait in force: `asyncio.sleep`, unless `waiting_with` set another."""
    await _waiting.get()(seconds)


@contextmanager
def waiting_with(sleep: Sleep) -> Iterator[None]:
    """Run the block with `sleep` doing every wait of the policy and of the adapters built on `pause`.

    For simulations and tests: a fault-injecting run retries dozens of times without waiting for
    real. The setting belongs to the current context (asyncio tasks started inside inherit it).
    """
    token = _waiting.set(sleep)
    try:
        yield
    finally:
        _waiting.reset(token)


def is_loopback(host: str) -> bool:
    """Whether `host` is this machine (127.0.0.0/8, ::1, localhost): plain http never leaves it."""
    host = host.strip("[]").lower()
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def redact_url(url: str | httpx.URL) -> str:
    """`scheme://host[:port]` and "/…" for any path: what may be shown of a URL whose path or user is a secret."""
    parsed = httpx.URL(str(url))
    port = f":{parsed.port}" if parsed.port else ""
    shown = f"{parsed.scheme}://{parsed.host}{port}"
    return shown + ("/…" if parsed.path not in ("", "/") or parsed.query else "")


class _RedactRequestLines(logging.Filter):
    """httpx logs each request's full URL (at INFO): a webhook's secret path, OAuth 1.0a's signed
    query. Its lines keep the method, host and status; the rest is cut as in `redact_url`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(redact_url(a) if isinstance(a, httpx.URL) else a for a in record.args)
        return True


logging.getLogger("httpx").addFilter(_RedactRequestLines())


@functools.cache
def _tls() -> ssl.SSLContext:
    """The TLS settings every client shares: building them loads the CA bundle (~70 ms of CPU),
    which a pass per store on every schedule tick would otherwise repeat."""
    return httpx.create_ssl_context()


def make_client(
    *,
    base_url: str = "",
    transport: httpx.AsyncBaseTransport | None = None,
    auth: httpx.Auth | None = None,
    policy: HttpPolicy = DEFAULT_POLICY,
    max_connections: int = 8,
) -> httpx.AsyncClient:
    """The configured client a store's adapter is handed."""
    return httpx.AsyncClient(
        base_url=base_url,
        transport=transport,
        auth=auth,
        verify=_tls(),
        timeout=httpx.Timeout(policy.timeout, connect=policy.connect_timeout),
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        follow_redirects=False,
    )


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


def body_snippet(response: httpx.Response, limit: int = 160) -> str:
    """A short readable excerpt of a body that is not JSON: an HTML page's title, else its text."""
    text = response.content[:4000].decode("utf-8", "replace")
    title = _TITLE.search(text)
    shown = title.group(1) if title else _TAG.sub(" ", text)
    shown = " ".join(shown.split())
    shown = "".join(c if c.isprintable() else "?" for c in shown)
    return shown[:limit] + ("…" if len(shown) > limit else "")


def error_text(response: httpx.Response) -> tuple[str | None, str]:
    """(code, message) from an error body, WordPress/WooCommerce or GraphQL shaped."""
    try:
        body: Any = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        return None, body_snippet(response) or response.reason_phrase
    if isinstance(body, dict):
        if "message" in body or "code" in body:
            return (str(body.get("code")) if body.get("code") else None), str(body.get("message", ""))
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first = errors[0]
            code = (first.get("extensions") or {}).get("code")
            return code, str(first.get("message", ""))
        if isinstance(errors, str):
            return None, errors
    return None, str(body)[:200]


def classify(response: httpx.Response, *, describe: str | None = None) -> None:
    """Raise the connector error a non-2xx response stands for; return for a success."""
    if response.is_success:
        return
    status = response.status_code
    code, message = error_text(response)
    what = f"{describe or _request_name(response.request)} → HTTP {status}"
    detail = f"{what}: {message}" + (f" ({code})" if code else "")
    if status in (401, 403):
        raise AuthError(detail, status=status, code=code)
    if status in RETRYABLE_STATUS:
        raise TransientError(
            detail, status=status, code=code, retry_after=parse_retry_after(response.headers.get("Retry-After"))
        )
    raise PlatformError(detail, status=status, code=code)


def _wait(policy: HttpPolicy) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        backoff = min(policy.backoff_max, policy.backoff_base * 2 ** (state.attempt_number - 1))
        backoff = backoff * (0.5 + random.random() / 2)  # full jitter would allow 0; keep half
        retry_after = exc.retry_after if isinstance(exc, TransientError) else None
        return float(max(backoff, retry_after) if retry_after is not None else backoff)

    return wait


class _stop_on_long_retry_after(stop_base):
    """Give up when the server asks for a longer wait than the policy allows."""

    def __init__(self, limit: float) -> None:
        self.limit = limit

    def __call__(self, state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        return retry_after is not None and retry_after > self.limit


def _before_sleep(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    delay = state.next_action.sleep if state.next_action else 0.0
    log.warning("retrying in %.1fs (attempt %d): %s", delay, state.attempt_number + 1, exc)


def _request_name(request: httpx.Request) -> str:
    return f"{request.method} {request.url.path}"


def read_json(response: httpx.Response, *, describe: str | None = None) -> Any:
    """The decoded JSON body of a successful answer; `TransientError` (retried) when it cannot be read.

    A 2xx whose body is not JSON is a proxy's or WordPress's error page, a PHP notice printed
    before the JSON, or an answer cut off mid-way: the store did answer, and the next try
    usually reads fine.
    """
    try:
        # A byte-order mark before the JSON comes from a PHP file saved with one (a plugin, a
        # theme's functions.php): it is there on every answer, so it is skipped, not retried.
        return json.loads(response.content.removeprefix(b"\xef\xbb\xbf"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        what = describe or _request_name(response.request)
        kind = "an HTML page" if response.content.lstrip()[:1] == b"<" else "not JSON (cut off or garbled)"
        raise TransientError(
            f"{what} → HTTP {response.status_code} but the body is {kind}: {body_snippet(response) or 'empty'}",
            status=response.status_code,
            code="unreadable_body",
        ) from exc


@dataclass(frozen=True, slots=True)
class JsonAnswer:
    """A successful answer and its decoded JSON body."""

    response: httpx.Response
    body: Any


async def _answer(
    client: httpx.AsyncClient, method: str, url: str, describe: str | None, kwargs: dict[str, Any]
) -> httpx.Response:
    """One try: the response when it succeeded, else the connector error it stands for."""
    try:
        response = await client.request(method, url, **kwargs)
    except httpx.TransportError as exc:
        what = describe or f"{method} {httpx.URL(url).path}"
        detail = _without_urls(str(exc), exc, url)
        if isinstance(exc, httpx.TimeoutException):
            raise TransientError(f"{what}: timed out ({type(exc).__name__})") from exc
        raise TransientError(f"{what}: {type(exc).__name__}: {detail}") from exc
    classify(response, describe=describe)
    return response


def _without_urls(text: str, exc: httpx.TransportError, url: str) -> str:
    """`text` with the request's full URL cut as in `redact_url`: httpx names it in some messages."""
    try:
        full = str(exc.request.url)
    except RuntimeError:  # raised without a request
        full = url
    for shown in {full, url}:
        if "://" in shown:
            text = text.replace(shown, redact_url(shown))
    return text


async def _under_policy(attempt: Callable[[], Awaitable[Any]], policy: HttpPolicy, sleep: Sleep) -> Any:
    retrying = AsyncRetrying(
        retry=retry_if_exception_type(TransientError),
        stop=stop_after_attempt(policy.attempts) | _stop_on_long_retry_after(policy.retry_after_max),
        wait=_wait(policy),
        sleep=sleep,
        before_sleep=_before_sleep,
        reraise=True,
    )
    async for attempt_state in retrying:
        with attempt_state:
            return await attempt()
    raise AssertionError("unreachable")  # pragma: no cover


async def send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    policy: HttpPolicy = DEFAULT_POLICY,
    check: ResponseCheck | None = None,
    sleep: Sleep = pause,
    describe: str | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """Send one request under the policy and return its successful response.

    Retries network failures, timeouts, 429 and 5xx with exponential backoff and jitter, always
    waiting at least what `Retry-After` asks. 401/403 raise `AuthError` and other 4xx raise
    `PlatformError` at once. `check` may raise `TransientError` for a platform's in-body
    throttling signal; it is retried like a 429. `describe` names the request in errors and
    log lines instead of its method and path (a webhook's path is its secret).

    A retried write may have been applied by the store before its answer was lost: callers
    send only writes that are harmless to apply twice (absolute values), or send them with
    `attempts=1`.
    """

    async def attempt() -> httpx.Response:
        response = await _answer(client, method, url, describe, kwargs)
        if check is not None:
            check(response)
        return response

    response: httpx.Response = await _under_policy(attempt, policy, sleep)
    return response


async def send_json(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    policy: HttpPolicy = DEFAULT_POLICY,
    check: BodyCheck | None = None,
    sleep: Sleep = pause,
    describe: str | None = None,
    **kwargs: Any,
) -> JsonAnswer:
    """`send`, for an answer whose JSON body is needed: an unreadable body is retried like a 5xx.

    `check` gets the decoded body (a platform's error in a 200, its throttling signal).
    """

    async def attempt() -> JsonAnswer:
        response = await _answer(client, method, url, describe, kwargs)
        body = read_json(response, describe=describe)
        if check is not None:
            check(body)
        return JsonAnswer(response, body)

    answer: JsonAnswer = await _under_policy(attempt, policy, sleep)
    return answer


async def receive(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    read: Callable[[httpx.Response], Awaitable[T]],
    *,
    policy: HttpPolicy = DEFAULT_POLICY,
    sleep: Sleep = pause,
    describe: str | None = None,
    **kwargs: Any,
) -> T:
    """`send`, for a body too large to hold whole: `read` consumes it as it arrives and returns what it made of it.

    Each attempt opens the response afresh and hands it to `read` unread (`aiter_lines`), so a
    body that breaks off, or that `read` finds spoilt (it raises `TransientError`: a line cut
    off, an error page in its place), is fetched again under the policy like a 5xx. `read` must
    start from nothing on each call.

    Example: `await receive(client, "GET", url, count_lines)` with `async def count_lines(response):
    return sum([1 async for _ in response.aiter_lines()])`.
    """
    what = describe or f"{method} {httpx.URL(url).path}"

    async def attempt() -> T:
        request = client.build_request(method, url, **kwargs)
        try:
            response = await client.send(request, stream=True)
        except httpx.TransportError as exc:
            detail = _without_urls(str(exc), exc, url)
            if isinstance(exc, httpx.TimeoutException):
                raise TransientError(f"{what}: timed out ({type(exc).__name__})") from exc
            raise TransientError(f"{what}: {type(exc).__name__}: {detail}") from exc
        try:
            if not response.is_success:
                await response.aread()
                classify(response, describe=describe)
            try:
                return await read(response)
            except httpx.TransportError as exc:
                if isinstance(exc, httpx.TimeoutException):
                    raise TransientError(f"{what}: timed out while reading ({type(exc).__name__})") from exc
                detail = _without_urls(str(exc), exc, url)
                raise TransientError(f"{what}: {type(exc).__name__} while reading: {detail}") from exc
        finally:
            await response.aclose()

    result: T = await _under_policy(attempt, policy, sleep)
    return result
