"""From an order placed in a sandbox to the new status, ETA and message written, through the webhook path.

Both sandboxes over loopback HTTP, the daemon with its listener, hourly schedules: only the
deliveries can bring the writes. The figures are printed (the target is p95 under 5 s;
`tests/benchmarks/webhook_latency.py` prints them over more orders), not asserted.
"""

from __future__ import annotations

from tests.conftest import MovingClock
from tests.webhooks import order_to_write_latency, p


async def test_orders_in_both_sandboxes_are_written_by_targeted_passes(tmp_path, capsys):
    lags = await order_to_write_latency(tmp_path, 3, MovingClock())
    with capsys.disabled():
        for platform, seconds in lags.items():
            print(f"\n{platform}: p50 {p(seconds, 0.5):.2f}s, p95 {p(seconds, 0.95):.2f}s")
    assert {platform: len(seconds) for platform, seconds in lags.items()} == {
        "woocommerce": 3,
        "shopify": 3,
        "answer": 6,
    }
