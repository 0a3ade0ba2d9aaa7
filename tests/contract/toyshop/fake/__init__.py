"""An in-process toy shop behind `httpx.MockTransport`: items, open orders and a batch write.

Seeded from a sample catalogue: one item per simple product and per variant (a variable
product itself is not sellable), open orders already taken off stock, so an order beyond
stock leaves a negative quantity. Every save moves the item's `updated_at` (the wall clock,
as a real shop's would), which `changed_after` filters on.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from stockstatus.core.catalogue import Catalogue

MAX_BATCH = 10
PREFIX = "/api/"
STATUSES = frozenset({"in_stock", "backorder", "pre_order", "out_of_stock"})


def _error(status: int, message: str) -> httpx.Response:
    return httpx.Response(status, json={"message": message})


class ToyStore:
    """The shop's data and its HTTP API."""

    def __init__(
        self, catalogue: Catalogue, *, token: str, now: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.token = token
        self.now = now
        self.items: dict[str, dict[str, Any]] = {}
        self.orders: list[dict[str, Any]] = []
        for product in catalogue:
            parent = self._add(product.name, product.sku, product.stock, product, parent_id=None)
            if product.variable:
                del self.items[parent]  # only its variants are sold
                for variant in product.variants:
                    self._add(f"{product.name} — {variant.option}", variant.sku, variant.stock, variant, parent)
        by_sku = {record["sku"]: record for record in self.items.values()}
        for number, sample in enumerate(catalogue.orders, start=1001):
            lines = []
            for sku, quantity in sample.lines:
                record = by_sku[sku]
                if record["tracked"]:
                    record["quantity"] -= quantity
                    record["updated_at"] = self.now()
                lines.append({"item_id": record["id"], "sku": sku, "quantity": quantity})
            self.orders.append(
                {"id": str(number), "number": f"#{number}", "created_at": self.now().isoformat(), "lines": lines}
            )

    def _add(self, name: str, sku: str | None, stock: int | None, sample: Any, parent_id: str | None) -> str:
        key = str(len(self.items) + 1)
        tracked = stock is not None
        self.items[key] = {
            "id": key,
            "sku": sku,
            "name": name,
            "tracked": tracked,
            "quantity": stock,
            "tags": list(getattr(sample, "tags", ())),
            "category": getattr(sample, "category", None),
            "restock_date": sample.restock_date.isoformat() if sample.restock_date else None,
            "release_date": sample.release_date.isoformat() if sample.release_date else None,
            "parent_id": parent_id,
            # A new shop sells what it has and nothing past zero.
            "status": "in_stock" if not tracked or (stock or 0) > 0 else "out_of_stock",
            "eta": None,
            "message": None,
            "updated_at": self.now(),
        }
        return key

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _error(401, "invalid API token")
        path = request.url.path.removeprefix(PREFIX)
        if request.method == "GET" and path == "items":
            return self._list_items(request.url.params)
        if request.method == "GET" and path == "orders":
            return httpx.Response(200, json={"orders": self.orders})
        if request.method == "POST" and path == "items/batch":
            return self._batch(json.loads(request.content))
        return _error(404, f"no route {request.method} {request.url.path}")

    def _list_items(self, params: httpx.QueryParams) -> httpx.Response:
        records = list(self.items.values())
        if "changed_after" in params:
            since = datetime.fromisoformat(params["changed_after"])
            records = [r for r in records if r["updated_at"] > since]
        page, per_page = int(params.get("page", "1")), int(params.get("per_page", "20"))
        chosen = records[(page - 1) * per_page : page * per_page]
        more = page * per_page < len(records)
        body = [{**r, "updated_at": r["updated_at"].isoformat()} for r in chosen]
        return httpx.Response(200, json={"items": body, "next_page": page + 1 if more else None})

    def _batch(self, body: dict[str, Any]) -> httpx.Response:
        updates = body.get("updates", [])
        if len(updates) > MAX_BATCH:
            return _error(413, f"at most {MAX_BATCH} updates per batch")
        results = []
        for update in updates:
            record = self.items.get(str(update.get("id")))
            if record is None:
                results.append({"id": update.get("id"), "ok": False, "error": "no such item"})
                continue
            if "status" in update and update["status"] not in STATUSES:
                results.append({"id": record["id"], "ok": False, "error": f"unknown status {update['status']!r}"})
                continue
            for key in ("status", "eta", "message"):
                if key in update:
                    record[key] = update[key]
            record["updated_at"] = self.now()
            results.append({"id": record["id"], "ok": True})
        return httpx.Response(200, json={"results": results})
