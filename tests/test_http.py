from __future__ import annotations

import json

import httpx
import pytest

from stockstatus.core.errors import AuthError, PlatformError, TransientError
from stockstatus.core.http import (
    HttpPolicy,
    make_client,
    parse_retry_after,
    receive,
    redact_url,
    send,
    send_json,
    waiting_with,
)

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


async def call_json(script, slept, policy=POLICY, check=None):
    async def sleep(seconds):
        slept.append(seconds)

    async with make_client(transport=httpx.MockTransport(script), base_url="https://shop.test") as client:
        return await send_json(client, "GET", "/wp-json/wc/v3/products", policy=policy, sleep=sleep, check=check)


WORDPRESS_ERROR_PAGE = (
    b"<!DOCTYPE html><html><head><title>Database Error</title></head>"
    b"<body><h1>Error establishing a database connection</h1></body></html>"
)


@pytest.mark.parametrize(
    "unreadable",
    [
        httpx.Response(200, content=WORDPRESS_ERROR_PAGE, headers={"Content-Type": "text/html"}),
        httpx.Response(200, content=b'[{"id": 1, "sku": "KT', headers={"Content-Type": "application/json"}),
        httpx.Response(200, content=b"<br />\n<b>Notice</b>: Undefined index in x.php<br />\n[]"),
        httpx.Response(200, content=b""),
    ],
    ids=["html-page", "cut-off", "php-notice", "empty"],
)
async def test_an_unreadable_success_is_retried_and_the_good_answer_decoded(slept, unreadable):
    script = Script(unreadable, httpx.Response(200, json=[{"id": 1}]))
    answer = await call_json(script, slept)
    assert answer.body == [{"id": 1}] and script.calls == 2 and len(slept) == 1


async def test_a_byte_order_mark_before_the_json_is_read_at_once(slept):
    script = Script(httpx.Response(200, content=b'\xef\xbb\xbf[{"id": 7}]'))
    assert (await call_json(script, slept)).body == [{"id": 7}] and slept == []


async def test_an_answer_that_stays_unreadable_is_reported_with_the_pages_title(slept):
    script = Script(*(httpx.Response(200, content=WORDPRESS_ERROR_PAGE) for _ in range(POLICY.attempts)))
    with pytest.raises(TransientError, match="HTML page: Database Error") as err:
        await call_json(script, slept)
    assert err.value.code == "unreadable_body" and script.calls == POLICY.attempts


async def test_server_errors_with_html_bodies_are_retried_and_named_by_title(slept):
    page = httpx.Response(502, content=b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>")
    script = Script(page, httpx.Response(200, json=[]))
    assert (await call_json(script, slept)).body == []
    assert script.calls == 2


async def test_a_body_check_sees_the_decoded_answer_and_may_ask_for_a_retry(slept):
    def throttled(body):
        if body.get("errors"):
            raise TransientError("throttled", retry_after=3.0)

    script = Script(httpx.Response(200, json={"errors": [{"message": "Throttled"}]}), httpx.Response(200, json={}))
    await call_json(script, slept, check=throttled)
    assert slept == [3.0]


async def test_waits_can_be_redirected_for_a_block_so_nothing_sleeps_for_real():
    waited = []

    async def clock(seconds):
        waited.append(seconds)

    script = Script(httpx.Response(503), httpx.Response(429, headers={"Retry-After": "9"}), httpx.Response(200))
    async with make_client(transport=httpx.MockTransport(script), base_url="https://shop.test") as client:
        with waiting_with(clock):
            await send(client, "GET", "/x", policy=POLICY)
    assert len(waited) == 2 and waited[1] == 9.0


async def test_a_described_request_never_shows_its_path(slept, caplog):
    secret_path = "/services/T0001/B0002/s3cr3tP4th"

    def refuse(request):
        raise httpx.ConnectError(f"cannot reach https://hooks.example.com{secret_path}")

    async def sleep(seconds):
        slept.append(seconds)

    url = f"https://hooks.example.com{secret_path}"
    async with make_client(transport=httpx.MockTransport(refuse)) as client:
        with pytest.raises(TransientError) as err:
            await send(client, "POST", url, policy=POLICY, sleep=sleep, describe="webhook " + redact_url(url))
    assert "s3cr3t" not in str(err.value) and "hooks.example.com" in str(err.value)
    assert "s3cr3t" not in caplog.text and "retrying" in caplog.text


def test_redacted_urls_keep_only_scheme_host_and_port():
    assert redact_url("https://user:pw@hooks.example.com:8443/a/b?token=x") == "https://hooks.example.com:8443/…"
    assert redact_url("https://hooks.example.com") == "https://hooks.example.com"


def _lines_then_reset(*lines: bytes):
    """A body that sends `lines`, then the connection drops."""

    async def body():
        for line in lines:
            yield line
        raise httpx.ReadError("connection reset")

    return body()


async def test_a_download_read_as_it_arrives_is_fetched_again_when_it_breaks_off_or_is_spoilt(slept):
    script = Script(
        httpx.Response(503),
        httpx.Response(200, content=_lines_then_reset(b'{"n": 1}\n')),
        httpx.Response(200, content=b'{"n": 1}\n{"n": 2'),  # cut off mid-line: the reader refuses it
        httpx.Response(200, content=b'{"n": 1}\n{"n": 2}\n'),
    )

    async def read(response: httpx.Response) -> list[int]:
        found = []
        async for line in response.aiter_lines():
            try:
                found.append(json.loads(line)["n"])
            except ValueError as exc:
                raise TransientError("a line is not JSON") from exc
        return found

    async def sleep(seconds):
        slept.append(seconds)

    async with make_client(transport=httpx.MockTransport(script), base_url="https://shop.test") as client:
        assert await receive(client, "GET", "/bulk.jsonl", read, policy=POLICY, sleep=sleep) == [1, 2]
    assert script.calls == 4 and len(slept) == 3


async def test_a_download_that_keeps_breaking_off_fails_after_the_policys_attempts(slept):
    script = Script(*(httpx.Response(200, content=_lines_then_reset(b"{}\n")) for _ in range(POLICY.attempts)))

    async def read(response: httpx.Response) -> int:
        return len([line async for line in response.aiter_lines()])

    async def sleep(seconds):
        slept.append(seconds)

    async with make_client(transport=httpx.MockTransport(script), base_url="https://shop.test") as client:
        with pytest.raises(TransientError, match="while reading"):
            await receive(client, "GET", "/bulk.jsonl", read, policy=POLICY, sleep=sleep)
    assert script.calls == POLICY.attempts
