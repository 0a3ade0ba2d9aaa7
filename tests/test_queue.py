"""Which open orders wait for an oversold item: the newest ones, listed oldest first."""

from __future__ import annotations

from datetime import UTC, datetime

from stockstatus.core.model import Item, OpenOrder, OrderLine
from stockstatus.core.sync import backorder_queues


def order(order_id: str, day: int, *lines: tuple[str, int]) -> OpenOrder:
    return OpenOrder(
        order_id=order_id,
        created_at=datetime(2026, 11, day, 12, tzinfo=UTC),
        lines=tuple(OrderLine(item_key=k, sku=None, quantity=q) for k, q in lines),
    )


def item(key: str, available: int | None) -> Item:
    return Item(key=key, sku=f"SKU-{key}", name=key, managed=available is not None, available=available)


def queue_of(available, orders, key="10"):
    return [(q.order_id, q.quantity) for q in backorder_queues([item(key, available)], orders).get(key, ())]


def test_units_sold_beyond_stock_belong_to_the_newest_orders():
    orders = [order("101", 1, ("10", 2)), order("102", 2, ("10", 1)), order("103", 3, ("10", 2))]
    # 5 units ordered, stock now -3: the 2 of #101 were served from stock; #102 and #103 wait.
    assert queue_of(-3, orders) == [("102", 1), ("103", 2)]


def test_an_order_partly_served_from_stock_is_listed_whole():
    # #102 ordered 3, stock had 1 left for it: 2 wait. The engine splits it (1 now, 2 later).
    orders = [order("101", 1, ("10", 2)), order("102", 2, ("10", 3))]
    assert queue_of(-2, orders) == [("102", 3)]


def test_no_queue_while_stock_covers_the_open_orders():
    assert queue_of(0, [order("101", 1, ("10", 2))]) == []
    assert queue_of(4, [order("101", 1, ("10", 2))]) == []
    assert queue_of(None, [order("101", 1, ("10", 2))]) == []


def test_orders_for_other_items_do_not_count():
    orders = [order("101", 1, ("11", 5)), order("102", 2, ("10", 1), ("11", 1))]
    assert queue_of(-1, orders) == [("102", 1)]


def test_more_oversold_than_open_orders_queues_what_is_known():
    # Stock went negative through a manual edit: only the orders we can see are queued.
    assert queue_of(-5, [order("101", 1, ("10", 2))]) == [("101", 2)]


def test_a_partly_served_order_is_a_partial_backorder_with_its_own_date():
    from datetime import date

    from stockstatus.rules import compile_rules
    from stockstatus.rules.model import Facts, SupplyEvent

    orders = [order("101", 1, ("10", 2)), order("102", 2, ("10", 3))]
    queue = backorder_queues([item("10", -2)], orders)["10"]
    rules = compile_rules(
        [{"name": "backorder", "when": {"available": "<= 0"}, "then": {"status": "backorder", "eta": "supply"}}]
    )
    facts = Facts(
        sku="SKU-10",
        today=date(2026, 11, 22),
        available=-2,
        backorder_queue=queue,
        supply=(SupplyEvent(date(2026, 12, 4), 5),),
    )
    decision = rules.decide(facts)
    [eta] = decision.order_etas
    assert (eta.order_id, eta.now, eta.later, eta.ships_by, eta.partial) == ("102", 1, 2, date(2026, 12, 4), True)
