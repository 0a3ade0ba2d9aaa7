from __future__ import annotations

import httpx
import pytest

from stockstatus.core.errors import AuthError, PlatformError, TransientError
from stockstatus.core.http import HttpPolicy, make_client, parse_retry_after, send

POLICY = HttpPolicy(attempts=4, backoff_base=0.01, backoff_max=0.05, retry_after_max=30)


class Script:
    """A transport that answers from a list, and remembers what it was asked."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
def slept():
    return []


async def call(script, slept, policy=POLICY, check=None):
    async def sleep(seconds):
        slept.append(seconds)

    async with make_client(transport=httpx.MockTransport(script), base_url="https://shop.test") as client:
        return await send(client, "GET", "/wp-json/wc/v3/products", policy=policy, sleep=sleep, check=check)


async def test_server_errors_are_retried_until_success(slept):
    script = Script(httpx.Response(503), httpx.Response(502), httpx.Response(200, json=[]))
    response = await call(script, slept)
    assert response.status_code == 200 and script.calls == 3 and len(slept) == 2


async def test_retry_after_is_always_honoured(slept):
    script = Script(httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, json=[]))
    await call(script, slept)
    assert slept == [7.0]


async def test_a_retry_after_longer_than_the_policy_allows_is_reported_not_waited(slept):
    script = Script(httpx.Response(429, headers={"Retry-After": "3600"}))
    with pytest.raises(TransientError) as err:
        await call(script, slept)
    assert err.value.retry_after == 3600 and slept == []


@pytest.mark.parametrize("status", [401, 403])
async def test_refused_credentials_are_never_retried(slept, status):
    body = {
        "code": "woocommerce_rest_cannot_view",
        "message": "Sorry, you cannot list resources.",
        "data": {"status": status},
    }
    script = Script(httpx.Response(status, json=body))
    with pytest.raises(AuthError, match="cannot list resources"):
        await call(script, slept)
    assert script.calls == 1


async def test_validation_errors_are_not_retried_and_keep_the_platform_code(slept):
    body = {"code": "rest_invalid_param", "message": "Invalid parameter(s): per_page", "data": {"status": 400}}
    script = Script(httpx.Response(400, json=body))
    with pytest.raises(PlatformError) as err:
        await call(script, slept)
    assert err.value.code == "rest_invalid_param" and err.value.status == 400 and script.calls == 1


async def test_timeouts_and_resets_are_retried_then_reported(slept):
    script = Script(*(httpx.ReadTimeout("slow") for _ in range(4)))
    with pytest.raises(TransientError, match="timed out"):
        await call(script, slept)
    assert script.calls == POLICY.attempts


async def test_a_platform_check_can_ask_for_a_retry(slept):
    def throttled(response: httpx.Response) -> None:
        if response.json().get("errors"):
            raise TransientError("throttled", retry_after=2.0)

    script = Script(httpx.Response(200, json={"errors": [{"message": "Throttled"}]}), httpx.Response(200, json={}))
    await call(script, slept, check=throttled)
    assert slept == [2.0]


def test_retry_after_accepts_seconds_and_http_dates():
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == pytest.approx(10.0)
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
