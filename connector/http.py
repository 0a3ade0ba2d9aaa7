"""The one owner of HTTP policy: timeouts, which failures are retried, backoff, Retry-After.

Adapters get an `httpx.AsyncClient` from `make_client` and send every request through `send`.
They add only what is platform-specific (for example an error hidden in a 200 body), by raising
`TransientError` from a `check` callback so that the same retry loop handles it.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt
from tenacity.stop import stop_base

from stockstatus.core.errors import AuthError, PlatformError, TransientError

log = logging.getLogger(__name__)

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


def error_text(response: httpx.Response) -> tuple[str | None, str]:
    """(code, message) from an error body, WordPress/WooCommerce or GraphQL shaped."""
    try:
        body: Any = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        snippet = response.text[:200].strip().replace("\n", " ")
        return None, snippet or response.reason_phrase
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


def classify(response: httpx.Response) -> None:
    """Raise the connector error a non-2xx response stands for; return for a success."""
    if response.is_success:
        return
    status = response.status_code
    code, message = error_text(response)
    what = f"{response.request.method} {response.request.url.path} → HTTP {status}"
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


async def send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    policy: HttpPolicy = DEFAULT_POLICY,
    check: ResponseCheck | None = None,
    sleep: Sleep = asyncio.sleep,
    **kwargs: Any,
) -> httpx.Response:
    """Send one request under the policy and return its successful response.

    Retries network failures, timeouts, 429 and 5xx with exponential backoff and jitter, always
    waiting at least what `Retry-After` asks. 401/403 raise `AuthError` and other 4xx raise
    `PlatformError` at once. `check` may raise `TransientError` for a platform's in-body
    throttling signal; it is retried like a 429.
    """

    async def attempt() -> httpx.Response:
        try:
            response = await client.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise TransientError(f"{method} {httpx.URL(url).path}: timed out ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise TransientError(f"{method} {httpx.URL(url).path}: {type(exc).__name__}: {exc}") from exc
        classify(response)
        if check is not None:
            check(response)
        return response

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


@asynccontextmanager
async def stream(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    policy: HttpPolicy = DEFAULT_POLICY,
    sleep: Sleep = asyncio.sleep,
    **kwargs: Any,
) -> AsyncIterator[httpx.Response]:
    """Like `send`, for a body too large to hold: the response is handed over unread.

    Opening it (status and headers) is retried under the policy, as `send` retries; the caller
    then reads the body piece by piece (`aiter_lines`). A failure while reading raises
    `TransientError` and is not retried here: the caller has already used part of the body.

    Example: `async with stream(client, "GET", url) as response: async for line in response.aiter_lines(): ...`
    """

    async def attempt() -> httpx.Response:
        request = client.build_request(method, url, **kwargs)
        try:
            response = await client.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise TransientError(f"{method} {httpx.URL(url).path}: timed out ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise TransientError(f"{method} {httpx.URL(url).path}: {type(exc).__name__}: {exc}") from exc
        if not response.is_success:
            try:
                await response.aread()
            finally:
                await response.aclose()
            classify(response)
        return response

    retrying = AsyncRetrying(
        retry=retry_if_exception_type(TransientError),
        stop=stop_after_attempt(policy.attempts) | _stop_on_long_retry_after(policy.retry_after_max),
        wait=_wait(policy),
        sleep=sleep,
        before_sleep=_before_sleep,
        reraise=True,
    )
    response: httpx.Response | None = None
    async for attempt_state in retrying:
        with attempt_state:
            response = await attempt()
    assert response is not None
    try:
        yield response
    except httpx.TimeoutException as exc:
        raise TransientError(f"{method} {httpx.URL(url).path}: timed out while reading ({type(exc).__name__})") from exc
    except httpx.TransportError as exc:
        raise TransientError(f"{method} {httpx.URL(url).path}: {type(exc).__name__} while reading: {exc}") from exc
    finally:
        await response.aclose()
