"""From an order placed in a sandbox to the new status, ETA and message written, through the webhook path.

Both sandboxes over loopback HTTP, the daemon with its listener, hourly schedules: only the
deliveries can bring the writes. Either the sandboxes send the deliveries themselves, to the
subscriptions `connector webhooks install` made (the path a real store takes), or the test
builds each delivery from the order and posts it (`tests.webhooks.deliver`). The figures are
printed (the target is p95 under 5 s; `tests/benchmarks/webhook_latency.py` prints them over
more orders), not asserted.
"""

from __future__ import annotations

import pytest

from tests.conftest import MovingClock
from tests.webhooks import order_to_write_latency, p


@pytest.mark.parametrize("sandboxes_send", [True, False], ids=["sandboxes send", "test posts"])
async def test_orders_in_both_sandboxes_are_written_by_targeted_passes(tmp_path, capsys, sandboxes_send):
    lags = await order_to_write_latency(tmp_path, 3, MovingClock(), sandboxes_send=sandboxes_send)
    with capsys.disabled():
        for platform, seconds in lags.items():
            if seconds:
                print(f"\n{platform}: p50 {p(seconds, 0.5):.2f}s, p95 {p(seconds, 0.95):.2f}s")
    assert len(lags["woocommerce"]) == len(lags["shopify"]) == 3
    assert len(lags["answer"]) == (0 if sandboxes_send else 6)
