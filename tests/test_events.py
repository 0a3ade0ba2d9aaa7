from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

import httpx

from stockstatus.core.events import StatusChange, WebhookSettings, deliver, events_for
from stockstatus.core.http import make_client
from stockstatus.rules.model import Status

AT = datetime(2026, 11, 22, 10, tzinfo=UTC)
B, I, O = Status.BACKORDER, Status.IN_STOCK, Status.OUT_OF_STOCK


def kinds(changes, **kw):
    return [e["event"] for e in events_for("eu-shop", changes, slip_days=kw.pop("slip_days", 1), at=AT, **kw)]


def test_a_status_change_and_a_return_to_stock_are_events():
    assert kinds([StatusChange("1", "MUG", O, None, B, "2026-12-01")]) == ["status_changed"]
    assert kinds([StatusChange("1", "MUG", B, "2026-12-01", I, None)]) == ["status_changed", "back_in_stock"]


def test_an_eta_slip_counts_only_beyond_the_tolerance():
    assert kinds([StatusChange("1", "MUG", B, "2026-12-01", B, "2026-12-02")]) == []
    assert kinds([StatusChange("1", "MUG", B, "2026-12-01", B, "2026-12-05")]) == ["eta_slipped"]
    assert kinds([StatusChange("1", "MUG", B, "2026-12-05", B, "2026-12-01")]) == []  # earlier is good news


def test_only_chosen_events_are_sent():
    assert kinds([StatusChange("1", "MUG", B, "2026-12-01", I, None)], wanted=["back_in_stock"]) == ["back_in_stock"]


async def test_deliveries_are_signed_over_the_exact_body():
    seen = []

    def receiver(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    settings = WebhookSettings(url="https://hooks.example/stock", secret_env="HOOK_SECRET")
    events = events_for("eu-shop", [StatusChange("1", "MUG", O, None, B, "2026-12-01")], slip_days=1, at=AT)
    async with make_client(transport=httpx.MockTransport(receiver)) as client:
        assert await deliver(client, settings, {"HOOK_SECRET": "s3cret"}, events) == 1
    [request] = seen
    expected = "sha256=" + hmac.new(b"s3cret", request.content, hashlib.sha256).hexdigest()
    assert request.headers["X-Connector-Signature"] == expected
    assert json.loads(request.content)["to"] == "backorder"
    assert "s3cret" not in request.content.decode() and "s3cret" not in str(request.headers)


async def test_a_receiver_that_refuses_is_logged_not_raised(caplog):
    settings = WebhookSettings(url="https://hooks.example/stock", secret_env="HOOK_SECRET")
    events = events_for("eu-shop", [StatusChange("1", "MUG", O, None, B, "2026-12-01")], slip_days=1, at=AT)
    async with make_client(transport=httpx.MockTransport(lambda r: httpx.Response(410))) as client:
        assert await deliver(client, settings, {"HOOK_SECRET": "x"}, events) == 0
    assert "not delivered" in caplog.text


async def test_a_pass_posts_the_events_of_what_the_store_accepted(tmp_path):
    from stockstatus.adapters.woocommerce.fake import FakeWooCommerce
    from stockstatus.core.config import from_mapping
    from stockstatus.core.state import StateStore
    from stockstatus.core.sync import resync

    env = {"K": "ck_" + "a" * 40, "S": "cs_" + "b" * 40, "HOOK": "hook-secret"}
    fake = FakeWooCommerce(base_url="https://shop.test", consumer_key=env["K"], consumer_secret=env["S"])
    mug = fake.create_product(name="Mug", sku="MUG", manage_stock=True, stock_quantity=0)
    config = from_mapping(
        {
            "stores": [
                {
                    "name": "shop",
                    "platform": "woocommerce",
                    "url": "https://shop.test",
                    "key_env": "K",
                    "secret_env": "S",
                }
            ],
            "webhook": {"url": "https://hooks.example/stock", "secret_env": "HOOK"},
            "rules": [{"name": "sold out", "when": {"available": "<= 0"}, "then": {"status": "out_of_stock"}}],
        },
        path=tmp_path / "c.toml",
        base_dir=tmp_path,
    )
    received = []
    hooks = httpx.MockTransport(lambda r: received.append(json.loads(r.content)) or httpx.Response(204))
    state = StateStore(":memory:")
    transports = {"shop": fake.transport(), "webhook": hooks}
    await resync(config, state=state, clock=lambda: AT, environ=env, transports=transports, dry_run=True)
    assert received == []  # a dry run announces nothing

    fake.update_product(mug["id"], stock_quantity=5)
    await resync(config, state=state, clock=lambda: AT, environ=env, transports=transports)
    # The mug had no connector status yet; WooCommerce showed it in stock, now the decision says so too.
    await resync(config, state=state, clock=lambda: AT, environ=env, transports=transports)
    fake.create_order(status="processing", line_items=[{"product_id": mug["id"], "quantity": 5}])
    await resync(config, state=state, clock=lambda: AT, environ=env, transports=transports)
    assert [(e["event"], e["from"], e["to"]) for e in received if e["event"] == "status_changed"] == [
        ("status_changed", "in_stock", "out_of_stock")
    ]
