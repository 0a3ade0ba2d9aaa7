"""Secrets stay secret and store data cannot take over the terminal.

Webhook URLs (whose path is often the secret) are redacted in every log line and error;
credentials in a URL are refused; a secret pasted where a variable's name belongs is refused
without being repeated; plain http to another machine needs an explicit yes; the state file is
owner-only; control characters in store data are escaped in the CLI's text output.
"""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from stockstatus.core import cli, logs, report
from stockstatus.core.config import load
from stockstatus.core.errors import ConfigError
from stockstatus.core.events import WebhookSettings, deliver
from stockstatus.core.http import make_client, waiting_with
from stockstatus.core.model import Decision, Item, Status
from stockstatus.core.outcomes import PassMode, RunOutcome
from stockstatus.core.platform import platforms
from stockstatus.core.state import StateStore
from stockstatus.core.sync import Change, Skipped, StoreRun

SECRET_PATH = "/services/T0A1B2C3D/B9Z8Y7X6W/qWeRtYuIoP1234567890zz"
HOOK_PASSWORD = "hunter2-Hook-Pass"
PASTED = {
    "woocommerce key": "ck_5f3c1a2b9d8e7f60112233445566778899aabbcc",
    "shopify token": "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",
    "webhook secret": "whsec_Zx81mN0pQ2rS4tU6vW8xY0zA",
    "random-looking": "q8F3kL0mZ7xV2nB5cR9tY1wE4",
}

STORE = """
timezone = "Europe/Berlin"
state = "state.sqlite"
[[stores]]
name = "eu-shop"
platform = "woocommerce"
url = "{url}"
key_env = "{key_env}"
secret_env = "EU_SECRET"
{extra}
"""


async def no_wait(seconds: float) -> None:
    """Backoff passes at once."""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "connector.toml"
    path.write_text(text, encoding="utf-8")
    return path


def store_config(
    tmp_path: Path, *, url: str = "https://shop.example.com", key_env: str = "EU_KEY", extra: str = ""
) -> Path:
    return write(tmp_path, STORE.format(url=url, key_env=key_env, extra=extra))


def rules_check(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli.main(["--config", str(path), "rules", "check"])
    out = capsys.readouterr()
    return code, out.out + out.err


# --- webhooks ----------------------------------------------------------------------------------


async def test_a_webhooks_secret_path_never_reaches_a_log_line_or_an_error(caplog: pytest.LogCaptureFixture) -> None:
    url = f"https://hooks.example.com{SECRET_PATH}"
    hook = WebhookSettings(url=url, secret_env="HOOK_SECRET")
    answers = iter(
        [httpx.Response(503, text="<html><title>Unavailable</title></html>")] * 2
        + [httpx.ConnectError(f"cannot connect to {url}")] * 10
    )

    def receiver(request: httpx.Request) -> httpx.Response:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    events = [{"event": "status_changed", "sku": "KTL-1"}, {"event": "back_in_stock", "sku": "KTL-2"}]
    caplog.set_level(logging.DEBUG)
    with waiting_with(no_wait):
        async with make_client(transport=httpx.MockTransport(receiver)) as client:
            delivered = await deliver(client, hook, {"HOOK_SECRET": "s"}, events)

    assert delivered == 0
    assert "not delivered" in caplog.text and "retrying" in caplog.text, "the failures are logged"
    assert "hooks.example.com" in caplog.text, "the log still says which webhook"
    assert "qWeRtYuIoP" not in caplog.text and "T0A1B2C3D" not in caplog.text
    assert "qWeRtYuIoP" not in repr(hook.shown_url)


@pytest.mark.parametrize(
    "url",
    [
        f"https://ops:{HOOK_PASSWORD}@hooks.example.com/stock",
        f"http://ops:{HOOK_PASSWORD}@hooks.example.com/stock",
        f"https://{HOOK_PASSWORD}@hooks.example.com/stock",
    ],
)
def test_a_webhook_url_with_a_user_or_password_is_refused_without_repeating_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    path = store_config(tmp_path, extra=f'[webhook]\nurl = "{url}"\nsecret_env = "HOOK_SECRET"\n')
    code, output = rules_check(path, capsys)
    assert code == cli.EXIT_CONFIG
    assert "webhook.url" in output and "user or password" in output
    assert HOOK_PASSWORD not in output


def test_plain_http_webhooks_to_another_machine_need_an_explicit_yes(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="allow_insecure_http"):
        WebhookSettings.model_validate({"url": "http://hooks.example.com/x", "secret_env": "S"})
    assert WebhookSettings.model_validate(
        {"url": "http://hooks.example.com/x", "secret_env": "S", "allow_insecure_http": True}
    ).allow_insecure_http
    assert WebhookSettings.model_validate({"url": "http://127.0.0.1:9000/x", "secret_env": "S"})


# --- pasted secrets ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(PASTED))
@pytest.mark.parametrize(
    "where",
    ["key_env", "secret_env", "webhook.secret_env", "shopify token_env", "shopify client_secret_env"],
)
def test_a_secret_pasted_where_a_variables_name_belongs_is_refused_and_never_echoed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, where: str
) -> None:
    secret = PASTED[kind]
    if where == "key_env":
        text = STORE.format(url="https://shop.example.com", key_env=secret, extra="")
    elif where == "secret_env":
        text = STORE.format(url="https://shop.example.com", key_env="EU_KEY", extra="").replace("EU_SECRET", secret)
    elif where == "webhook.secret_env":
        text = STORE.format(
            url="https://shop.example.com",
            key_env="EU_KEY",
            extra=f'[webhook]\nurl = "https://hooks.example.com/x"\nsecret_env = "{secret}"\n',
        )
    else:
        key = where.split()[1]
        other = 'client_id_env = "US_ID"\n' if key == "client_secret_env" else ""
        text = (
            'timezone = "UTC"\n[[stores]]\nname = "us-shop"\nplatform = "shopify"\n'
            f'shop = "us-shop.myshopify.com"\n{key} = "{secret}"\n{other}'
        )
    code, output = rules_check(write(tmp_path, text), capsys)
    assert code == cli.EXIT_CONFIG, output
    assert where.split()[-1] in output and "NAME" in output
    assert secret not in output
    assert secret[6:20] not in output, "not even a piece of it"


# --- urls with credentials, plain http ----------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://ck_live:cs_p4ssw0rdSecret@shop.example.com",
        "http://admin:cs_p4ssw0rdSecret@127.0.0.1:8080",
    ],
)
def test_a_store_url_with_credentials_is_refused_without_repeating_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    code, output = rules_check(store_config(tmp_path, url=url), capsys)
    assert code == cli.EXIT_CONFIG
    assert "stores[0] (eu-shop).url" in output and "user or password" in output
    assert "p4ssw0rd" not in output


def test_a_shopify_shop_with_credentials_is_refused_without_repeating_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        'timezone = "UTC"\n[[stores]]\nname = "us-shop"\nplatform = "shopify"\n'
        'shop = "https://app:shpss_s3cretValue@us-shop.myshopify.com"\ntoken_env = "US_TOKEN"\n'
    )
    code, output = rules_check(write(tmp_path, text), capsys)
    assert code == cli.EXIT_CONFIG and "user or password" in output
    assert "s3cretValue" not in output


def test_plain_http_to_a_remote_shop_is_refused_unless_the_store_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(ConfigError, match="allow_insecure_http = true") as refused:
        load(store_config(tmp_path, url="http://shop.example.com"))
    assert "stores[0] (eu-shop)" in str(refused.value) and "plain http" in str(refused.value)

    loopback = load(store_config(tmp_path, url="http://127.0.0.1:8080"))
    assert loopback.stores[0].settings.url == "http://127.0.0.1:8080"  # the sandbox needs no permission

    allowed = load(store_config(tmp_path, url="http://shop.example.com", extra="allow_insecure_http = true"))
    [store] = allowed.stores
    caplog.set_level(logging.WARNING)
    for _ in range(2):  # each run warns again
        platforms()["woocommerce"].create_adapter(
            store.settings, httpx.AsyncClient(), {"EU_KEY": "k", "EU_SECRET": "s"}
        )
    warnings = [r for r in caplog.records if "plain http" in r.getMessage()]
    assert len(warnings) == 2


# --- the state file ------------------------------------------------------------------------------


def test_the_state_file_is_created_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "connector.sqlite"
    store = StateStore(path)
    try:
        run = store.runs.begin("eu-shop", PassMode.FULL)
        store.runs.finish(run, outcome=RunOutcome.OK)
    finally:
        store.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# --- terminal output ------------------------------------------------------------------------------


def test_control_characters_from_store_data_are_escaped_in_text_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = store_config(tmp_path)
    state = StateStore(tmp_path / "state.sqlite")
    try:
        run = state.runs.begin("eu-shop", PassMode.FULL)
        hostile = "SKU-1\n  fake line: all good\x1b[2J\x1b]0;pwned\x07\r\u202eevil"
        state.runs.finish(run, outcome=RunOutcome.FAILED, error=f"bad item {hostile}")
    finally:
        state.close()

    assert cli.main(["--config", str(path), "status"]) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\r" not in out and "\u202e" not in out
    assert "\\x1b[2J" in out and "\\n  fake line" in out
    assert not any(line.startswith("  fake line") for line in out.splitlines()), "no forged line"


def test_a_plan_with_hostile_skus_and_reasons_prints_one_line_per_item() -> None:
    hostile = Item(
        key="7", sku="KTL-1\nMUG-9  in_stock → out_of_stock\x1b[31m", name="Kettle\r", managed=True, available=0
    )
    decision = Decision(Status.OUT_OF_STOCK, "sold out")
    run = StoreRun(store="eu-shop", platform="woocommerce", dry_run=True, mode=PassMode.DRY_RUN)
    run.changes.append(Change(hostile, decision, {"backorders": "no"}))
    run.skipped.append(Skipped(hostile, "restock_date '\x1b]0;title\x07' is not a date"))
    run.outcome = RunOutcome.OK

    text = report.run_text(run)

    assert "\x1b" not in text and "\x07" not in text and "\r" not in text
    assert not any(line.startswith("MUG-9") for line in text.splitlines()), "no forged line of the plan"
    assert "KTL-1\\nMUG-9" in text


def test_a_log_line_stays_one_line_whatever_the_store_data(capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure("INFO", "text")
    logging.getLogger("stockstatus.core.sync").warning("skipped %s: bad date", "KTL-1\nERROR all stores down\x1b[2K")
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "\x1b" not in err
    assert "KTL-1\\nERROR all stores down\\x1b[2K" in err
