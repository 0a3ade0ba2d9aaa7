"""A real WooCommerce 10 store's webhook deliveries, taken by the connector's listener.

Checks what the fakes cannot: the headers WooCommerce sends, its signature over the exact body,
the ping it sends when a webhook is saved, and the order payload's shape as the listener maps it.
The listener runs alone (no daemon: the tier's other tests share the store), with its queue
recorded. The store is told, by a must-use plugin written into its own folder, to post to a
loopback address at once: WordPress refuses "unsafe" URLs (loopback, odd ports) for webhooks,
and WooCommerce otherwise queues deliveries for its scheduler.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from stockstatus.core.config import load
from stockstatus.core.listener import Listener
from stockstatus.core.state import StateStore
from stockstatus.core.sync import Touched
from tests.conformance.conftest import real_target

pytestmark = pytest.mark.realstore

SECRET = "conformance-webhooks-" + "z" * 16
PLUGIN = """<?php
// Written by the connector's conformance tests, removed after them: webhooks to the listener on loopback, at once.
add_filter('http_request_args', function ($args) { $args['reject_unsafe_urls'] = false; return $args; });
add_filter('woocommerce_webhook_deliver_async', '__return_false');
"""


@dataclass
class Queued:
    calls: list[tuple[str, Touched]] = field(default_factory=list)

    def delivered(self, store: str, touched: Touched, receipt: int, received: float) -> None:
        self.calls.append((store, touched))


async def test_a_real_stores_order_delivery_is_verified_and_mapped(realstore, tmp_path):
    store_dir = realstore.get("REALSTORE_DIR")
    if not store_dir:
        pytest.skip("the store's folder is unknown (REALSTORE_DIR): its must-use plugin cannot be written")
    plugins = Path(store_dir) / "wordpress" / "wp-content" / "mu-plugins"
    plugins.mkdir(exist_ok=True)
    plugin = plugins / "connector-conformance-webhooks.php"
    plugin.write_text(PLUGIN)
    config_path = tmp_path / "connector.toml"
    config_path.write_text(
        'state = "state.sqlite"\n[listen]\naddress = "127.0.0.1:0"\n'
        f'[[stores]]\nname = "real"\nplatform = "woocommerce"\nurl = "{realstore["REALSTORE_URL"]}"\n'
        'key_env = "K"\nsecret_env = "S"\nwebhook_secret_env = "HOOKS"\n'
    )
    config = load(config_path)
    state = StateStore(tmp_path / "state.sqlite")
    queued = Queued()
    listener = Listener(config.listen, lambda: config, state, {"HOOKS": SECRET}, lambda: datetime.now(UTC), queued)
    await listener.start()
    created: list[str] = []
    try:
        with real_target(realstore).api() as api:

            def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
                answer = api.post(path, json=body)
                assert answer.status_code in (200, 201), answer.text
                created.append(f"{path}/{answer.json()['id']}")
                return dict(answer.json())

            # Each call in a thread: the store posts to the listener while the call waits.
            hook = await asyncio.to_thread(
                post,
                "webhooks",
                {
                    "name": "connector conformance",
                    "topic": "order.created",
                    "delivery_url": f"http://127.0.0.1:{listener.port}/webhooks/real",
                    "secret": SECRET,
                    "status": "active",
                },
            )
            sku = f"WH-{uuid.uuid4().hex[:8]}"
            mug = await asyncio.to_thread(
                post, "products", {"name": "Webhook mug", "sku": sku, "manage_stock": True, "stock_quantity": 5}
            )
            await asyncio.to_thread(
                post, "orders", {"status": "processing", "line_items": [{"product_id": mug["id"], "quantity": 1}]}
            )
            deadline = asyncio.get_running_loop().time() + 60
            while not queued.calls:
                assert asyncio.get_running_loop().time() < deadline, "no delivery arrived"
                await asyncio.sleep(0.1)
            for path in reversed(created):
                await asyncio.to_thread(api.delete, path, params={"force": "true"})
    finally:
        await listener.stop()
        plugin.unlink()

    summary = state.deliveries.summary("real", datetime.now(UTC) - timedelta(hours=1))
    assert (summary.received, summary.rejected) == (1, 0), summary.last_rejection
    assert queued.calls == [("real", Touched.of(keys=[str(mug["id"])], skus=[sku]))]
    [(delivery_id, topic)] = state.db.execute("SELECT delivery_id, topic FROM deliveries").fetchall()
    assert topic == "order.created" and delivery_id.startswith(f"{hook['id']}:")
