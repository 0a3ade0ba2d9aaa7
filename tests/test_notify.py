"""Telling waiting buyers: which notices are due (a table), and at most once against both fakes."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from stockstatus.adapters.shopify.fake import FakeShopify, gid
from stockstatus.adapters.woocommerce.fake import FakeWooCommerce
from stockstatus.core.config import from_mapping
from stockstatus.core.errors import ConfigError
from stockstatus.core.model import Item, OpenOrder, OrderLine
from stockstatus.core.notify import Decided, NotifySettings, plan_notices, tell_customers
from stockstatus.core.outcomes import NoticeKind, NotificationStatus
from stockstatus.core.report import run_text
from stockstatus.core.state import Baseline, NotificationRecord, StateStore
from stockstatus.core.sync import resync
from stockstatus.rules.model import Decision, OrderEta, Status

NOW = datetime(2026, 11, 22, 10, tzinfo=UTC)
TODAY = NOW.date()
D1, D2, D9 = date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 9)


def in_days(n: int) -> str:
    return (TODAY + timedelta(days=n)).isoformat()


# ---- which notices (pure) ----------------------------------------------------------------------


def item(available: int | None = -2) -> Item:
    return Item(key="10", sku="MUG", name="Mug", managed=available is not None, available=available)


def decision(*etas: OrderEta) -> Decision:
    return Decision(Status.BACKORDER, "backorder", eta=D9, order_etas=etas)


ORDERS = [OpenOrder("101", NOW, (OrderLine("10", "MUG", 2),))]


def row(kind: str, eta: date | None, status: str = "sent", attempts: int = 1, n: int = 1) -> NotificationRecord:
    return NotificationRecord(n, "101", "10", NoticeKind(kind), eta, NotificationStatus(status), attempts)


def plan(history, *etas, available=-2, orders=ORDERS, moved=2):
    settings = NotifySettings(enabled=True, eta_moved_days=moved)
    due = plan_notices(settings, [Decided(item(available), decision(*etas))], orders, history, today=TODAY)
    return [(b.order_id, b.eta) for b in due.baselines], [(n.kind, n.eta, n.told) for n in due.notices]


@pytest.mark.parametrize(
    ("history", "etas", "available", "expected"),
    [
        # first seen waiting: the ETA becomes the baseline, nothing is sent
        ([], [OrderEta("101", 0, 2, D1)], -2, ([("101", D1)], [])),
        # a move within the tolerance: nothing
        ([row("baseline", D1, "recorded")], [OrderEta("101", 0, 2, D2)], -2, ([], [])),
        # later by more than 2 days: told once
        ([row("baseline", D1, "recorded")], [OrderEta("101", 0, 2, D9)], -2, ([], [("eta_changed", D9, D1)])),
        # earlier by as much is told too
        ([row("baseline", D9, "recorded")], [OrderEta("101", 0, 2, D1)], -2, ([], [("eta_changed", D1, D9)])),
        # already told for that date (sent, pending or unconfirmed): never again
        ([row("baseline", D1, "recorded"), row("eta_changed", D9, n=2)], [OrderEta("101", 0, 2, D9)], -2, ([], [])),
        (
            [row("baseline", D1, "recorded"), row("eta_changed", D9, "unconfirmed", n=2)],
            [OrderEta("101", 0, 2, D9)],
            -2,
            ([], []),
        ),
        # refused by the platform: due again while attempts remain
        (
            [row("baseline", D1, "recorded"), row("eta_changed", D9, "failed", 1, n=2)],
            [OrderEta("101", 0, 2, D9)],
            -2,
            ([], [("eta_changed", D9, D1)]),
        ),
        (
            [row("baseline", D1, "recorded"), row("eta_changed", D9, "failed", 3, n=2)],
            [OrderEta("101", 0, 2, D9)],
            -2,
            ([], []),
        ),
        # the comparison is with what the buyer was told last, so small moves add up
        (
            [row("baseline", D1, "recorded"), row("eta_changed", D9, n=2)],
            [OrderEta("101", 0, 2, D9 + timedelta(days=3))],
            -2,
            ([], [("eta_changed", D9 + timedelta(days=3), D9)]),
        ),
        # no date any more: nothing to promise, nothing sent
        ([row("baseline", D1, "recorded")], [OrderEta("101", 0, 2, None)], -2, ([], [])),
        # a date appears where there was none: told
        ([row("baseline", None, "recorded")], [OrderEta("101", 0, 2, D9)], -2, ([], [("eta_changed", D9, None)])),
        # partly shipped now, the rest still waits: still waiting
        ([row("baseline", D1, "recorded")], [OrderEta("101", 1, 1, D1)], -1, ([], [])),
        # covered now (stock serves it): back in stock, once, keyed by the date last told
        ([row("baseline", D1, "recorded")], [], 3, ([], [("back_in_stock", D1, D1)])),
        ([row("baseline", D1, "recorded")], [OrderEta("101", 2, 0, TODAY)], -1, ([], [("back_in_stock", D1, D1)])),
        ([row("baseline", D1, "recorded"), row("back_in_stock", D1, n=2)], [], 3, ([], [])),
        # never seen waiting: nothing to say
        ([], [], 3, ([], [])),
        # stock no longer tracked: no queue, but not "back in stock" either
        ([row("baseline", D1, "recorded")], [], None, ([], [])),
    ],
)
def test_which_notices_are_due(history, etas, available, expected):
    assert plan(history, *etas, available=available) == expected


def test_an_order_no_longer_open_gets_nothing():
    assert plan([row("baseline", D1, "recorded")], available=3, orders=[]) == ([], [])


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{order}: {sku} {name} by {eta:%d.%m.} (in {days} days)", "101: MUG Mug by 09.12. (in 17 days)"),
        # the same placeholders and formats as a rule's message (one template engine)
        ("{eta}", "2026-12-09"),
        ("{eta:%-d %B %Y}", "9 December 2026"),
        ("[{days:>4}] [{name:.2}] [{order:0>5}]", "[  17] [Mu] [00101]"),
        ("{{order}} 100% {order}", "{order} 100% 101"),
    ],
)
def test_messages_are_rendered_from_the_templates(template, message):
    settings = NotifySettings(enabled=True, eta_changed=template)
    history = [row("baseline", D1, "recorded")]
    due = plan_notices(settings, [Decided(item(), decision(OrderEta("101", 0, 2, D9)))], ORDERS, history, today=TODAY)
    [notice] = due.notices
    assert notice.message == message


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{order.id}", "attribute or index access is not allowed"),
        ("{customer}", "unknown field 'customer'"),
        ("{limit}", "unknown field 'limit'; use one of {order}, {sku}, {name}, {eta}, {days}"),
        ("{days:q}", "invalid format 'q'"),
        ("{}", "name the field"),
        ("{eta!r}", "conversions like !r are not allowed"),
        ("{eta:{days}}", "nested fields"),
        ("ships {", "literal brace"),
        ("", "the message is empty"),
    ],
)
def test_templates_are_checked_when_the_config_loads(tmp_path, template, problem):
    with pytest.raises(ConfigError) as caught:
        woo_config(tmp_path, notify={"enabled": True, "eta_changed": template})
    assert "stores[0].notify.eta_changed" in str(caught.value) and problem in str(caught.value)


# ---- WooCommerce: customer notes ------------------------------------------------------------


ENV = {"K": "ck_" + "a" * 40, "S": "cs_" + "b" * 40, "HOOK": "hook-secret", "TOKEN": ""}
RULES = [{"name": "backorder", "when": {"available": "<= 0"}, "then": {"status": "backorder", "eta": "supply"}}]


def woo_config(tmp_path, notify=None, webhook=None):
    store = {"name": "shop", "platform": "woocommerce", "url": "https://shop.test", "key_env": "K", "secret_env": "S"}
    if notify is not None:
        store["notify"] = notify
    data = {"timezone": "Europe/Berlin", "stores": [store], "rules": RULES}
    if webhook:
        data["webhook"] = webhook
    return from_mapping(data, path=tmp_path / "c.toml", base_dir=tmp_path)


class WooShop:
    """A fake WooCommerce with one mug sold out, restocking in 10 days, and one order waiting for it."""

    def __init__(self, tmp_path, notify=None, transport=None):
        self.fake = FakeWooCommerce(base_url="https://shop.test", consumer_key=ENV["K"], consumer_secret=ENV["S"])
        self.mug = self.fake.create_product(
            name="Mug",
            sku="MUG",
            manage_stock=True,
            stock_quantity=0,
            backorders="notify",
            meta_data=[{"key": "restock_date", "value": in_days(10)}],
        )
        self.order = self.fake.create_order(
            status="processing", line_items=[{"product_id": self.mug["id"], "quantity": 2}]
        )
        self.config = woo_config(tmp_path, notify={"enabled": True} if notify is None else notify)
        self.state = StateStore(":memory:")
        self.transport = transport or self.fake.transport()

    async def run(self, **kw):
        [run] = await resync(
            self.config, state=self.state, clock=lambda: NOW, environ=ENV, transports={"shop": self.transport}, **kw
        )
        return run

    def restock_in(self, days: int) -> None:
        self.fake.update_product(self.mug["id"], meta_data=[{"key": "restock_date", "value": in_days(days)}])

    def notes(self):
        """The order's notes but the store's own (WooCommerce notes every stock move and status change)."""
        own = ("Stock levels reduced:", "Stock levels increased:", "Order status changed from ")
        return [
            (n["note"], n["customer_note"])
            for n in self.fake.order_notes(self.order["id"])
            if not n["note"].startswith(own)
        ]


async def test_an_eta_move_tells_the_buyer_once_with_a_customer_note(tmp_path):
    shop = WooShop(tmp_path)
    first = await shop.run()
    assert first.notices == [] and shop.notes() == []  # the checkout told the buyer: a baseline only

    shop.restock_in(11)  # one day later: within the tolerance
    assert (await shop.run()).notices == [] and shop.notes() == []

    shop.restock_in(20)
    moved = await shop.run()
    assert [(n.kind, n.result) for n in moved.notices] == [("eta_changed", "sent")]
    order = shop.order["id"]
    ships_by = TODAY + timedelta(days=20)
    assert shop.notes() == [(f"Update on your order {order}: Mug now ships by {ships_by:%-d %B %Y}.", True)]
    assert "customer notices" in run_text(moved) and "told 1 buyer" in run_text(moved)

    for _ in range(2):  # the same ETA on the next passes: nothing new
        assert (await shop.run()).notices == []
    assert len(shop.notes()) == 1


async def test_a_restock_tells_waiting_buyers_their_item_is_back(tmp_path):
    shop = WooShop(tmp_path)
    await shop.run()
    shop.fake.update_product(shop.mug["id"], stock_quantity=5)  # 5 arrived, 2 were owed: covered
    back = await shop.run()
    assert [(n.kind, n.result) for n in back.notices] == [("back_in_stock", "sent")]
    assert shop.notes() == [
        (f"Good news: Mug from your order {shop.order['id']} is back in stock and ships now.", True)
    ]
    await shop.run()
    assert len(shop.notes()) == 1


async def test_a_dry_run_lists_the_notices_and_sends_none(tmp_path):
    shop = WooShop(tmp_path)
    await shop.run()
    shop.restock_in(20)
    planned = await shop.run(dry_run=True)
    assert [(n.kind, n.result) for n in planned.notices] == [("eta_changed", "planned")]
    assert shop.notes() == []
    assert "would tell 1 buyer" in run_text(planned)
    assert planned.as_dict()["notices"][0]["kind"] == "eta_changed"
    # Nothing was recorded either: the real pass sends it.
    assert [n.result for n in (await shop.run()).notices] == ["sent"]
    assert len(shop.notes()) == 1


async def test_without_opt_in_nobody_is_told_and_nothing_is_recorded(tmp_path):
    shop = WooShop(tmp_path, notify={})
    await shop.run()
    shop.restock_in(20)
    assert (await shop.run()).notices == []
    assert shop.notes() == [] and shop.state.notices.rows("shop") == []


class Cut(httpx.AsyncBaseTransport):
    """The store's transport, except that a note POST arrives and then the line goes dead (or the task dies)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, failure: BaseException | None) -> None:
        self.inner, self.failure = inner, failure

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if self.failure is not None and request.method == "POST" and request.url.path.endswith("/notes"):
            raise self.failure
        return response


@pytest.mark.parametrize("failure", [httpx.ReadTimeout("no answer"), asyncio.CancelledError()])
async def test_a_pass_stopped_after_sending_never_sends_it_again(tmp_path, failure):
    shop = WooShop(tmp_path)
    cut = Cut(shop.fake.transport(), failure)
    shop.transport = cut
    await shop.run()
    shop.restock_in(20)
    if isinstance(failure, asyncio.CancelledError):
        with pytest.raises(asyncio.CancelledError):
            await shop.run()  # SIGTERM's second signal, say: the pass dies after the note arrived
    else:
        stopped = await shop.run()
        assert [n.result for n in stopped.notices] == ["unconfirmed"]
    assert len(shop.notes()) == 1  # the note did arrive

    cut.failure = None
    again = await shop.run()
    expected = ["unconfirmed"] if isinstance(failure, asyncio.CancelledError) else []
    assert [n.result for n in again.notices] == expected  # reported once, never re-sent
    assert len(shop.notes()) == 1
    assert (await shop.run()).notices == []
    assert len(shop.notes()) == 1


async def test_a_refused_notice_is_tried_again_at_most_three_times(tmp_path):
    shop = WooShop(tmp_path)
    await shop.run()
    shop.restock_in(20)
    refusing = httpx.MockTransport(
        lambda r: (
            httpx.Response(400, json={"code": "woocommerce_rest_invalid", "message": "nope", "data": {"status": 400}})
            if r.url.path.endswith("/notes")
            else None
        )  # type: ignore[arg-type]
    )

    class Refuse(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request):
            if request.method == "POST" and request.url.path.endswith("/notes"):
                return await refusing.handle_async_request(request)
            return await shop.fake.transport().handle_async_request(request)

    shop.transport = Refuse()
    results = [[n.result for n in (await shop.run()).notices] for _ in range(4)]
    assert results == [["failed"], ["failed"], ["failed"], []]
    shop.transport = shop.fake.transport()
    assert (await shop.run()).notices == [] and shop.notes() == []


async def test_an_adapter_that_cannot_tell_customers_skips_with_a_warning():
    state = StateStore(":memory:")
    settings = NotifySettings(enabled=True)
    state.notices.record_baselines("s", [Baseline("101", "10", D1)])
    told = await tell_customers(
        "s",
        settings,
        object(),
        state=state,
        decided=[Decided(item(), decision(OrderEta("101", 0, 2, D9)))],
        orders=ORDERS,
        today=TODAY,
        dry_run=False,
    )
    assert [n.result for n in told.notices] == ["skipped"] and told.warnings
    assert [r.kind for r in state.notices.rows("s")] == ["baseline"]


# ---- Shopify: an order note line and an event ------------------------------------------------


async def test_shopify_appends_to_the_order_note_and_posts_an_event(tmp_path):
    fake = FakeShopify("us-shop.myshopify.com", now=lambda: NOW)
    fake.add_location("Warehouse")
    product = fake.create_product(
        "Mug",
        variants=[
            {
                "sku": "MUG",
                "stock": 0,
                "inventory_policy": "CONTINUE",
                "metafields": {"custom.restock_date": ("date", in_days(10))},
            }
        ],
    )
    variant = product.variant_ids[0]
    order = fake.create_order([(variant, 2)])
    order.note = "Gift wrap, please"
    env = {**ENV, "TOKEN": fake.access_token}
    config = from_mapping(
        {
            "timezone": "Europe/Berlin",
            "stores": [
                {
                    "name": "us",
                    "platform": "shopify",
                    "shop": "us-shop.myshopify.com",
                    "token_env": "TOKEN",
                    "notify": {"enabled": True, "eta_changed": "{order}: {sku} now ships by {eta}."},
                }
            ],
            "webhook": {"url": "https://hooks.example/stock", "secret_env": "HOOK"},
            "rules": RULES,
        },
        path=tmp_path / "c.toml",
        base_dir=tmp_path,
    )
    received = []
    hooks = httpx.MockTransport(lambda r: received.append(json.loads(r.content)) or httpx.Response(204))
    state = StateStore(":memory:")

    async def run():
        [r] = await resync(
            config, state=state, clock=lambda: NOW, environ=env, transports={"us": fake.transport(), "webhook": hooks}
        )
        return r

    assert (await run()).notices == []
    fake.put_metafield(gid("ProductVariant", variant), "custom.restock_date", "date", in_days(25))
    moved = await run()
    assert [(n.kind, n.result) for n in moved.notices] == [("eta_changed", "sent")]
    # The buyer knows the order by its name (#1001), not by its id.
    assert order.name.startswith("#")
    assert fake.order_note(order.id) == f"Gift wrap, please\n{order.name}: MUG now ships by {in_days(25)}."
    [event] = [e for e in received if e["event"].startswith("order_")]
    assert (event["event"], event["order"], event["eta"]) == ("order_eta_changed", str(order.id), in_days(25))
    await run()
    assert fake.order_note(order.id).count("now ships by") == 1


async def test_shopify_without_write_orders_is_a_refusal_naming_the_scope(tmp_path):
    from stockstatus.adapters.shopify.fake import ALL_SCOPES

    fake = FakeShopify("us-shop.myshopify.com", now=lambda: NOW, scopes=ALL_SCOPES - {"write_orders"})
    fake.create_product("Mug", variants=[{"sku": "MUG", "stock": 0}])
    order = fake.create_order([(next(iter(fake.variants)), 1)])
    from stockstatus.adapters.shopify.client import Credentials, ShopifyAdapter
    from stockstatus.adapters.shopify.settings import ShopifySettings

    async with httpx.AsyncClient(transport=fake.transport()) as client:
        adapter = ShopifyAdapter(
            ShopifySettings(shop="us-shop.myshopify.com", token_env="T"), client, Credentials(token=fake.access_token)
        )
        result = await adapter.notify_customer(str(order.id), "hello")
    assert not result.ok and "write_orders" in (result.error or "")
    assert fake.order_note(order.id) is None
