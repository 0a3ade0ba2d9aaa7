"""The toy shop adapter: pulls items page by page, open orders, and writes in batches of ten.

Every request goes through the core's HTTP policy (`stockstatus.core.http.send`) on the client
the core hands over; the adapter never builds a client and never retries by itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import httpx

from stockstatus.core.errors import FetchError
from stockstatus.core.http import send
from stockstatus.core.model import Decision, Item, OpenOrder, Update, WriteResult
from stockstatus.core.platform import Capabilities

from . import mapping
from .settings import ToyshopSettings

PER_PAGE = 5
"""Small on purpose: a demo catalogue spans several pages."""


class ToyshopAdapter:
    """One toy shop."""

    capabilities = Capabilities(max_batch=10, writes_stock_status=True)

    def __init__(self, settings: ToyshopSettings, client: httpx.AsyncClient, token: str) -> None:
        self.settings = settings
        self._client = client
        self._headers = {"Authorization": f"Bearer {token}"}

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await send(self._client, method, f"{self.settings.url}/{path}", headers=self._headers, **kwargs)
        try:
            return response.json()
        except ValueError as exc:
            raise FetchError(f"{method} /{path}: the shop's answer is not readable JSON") from exc

    async def check(self) -> None:
        """Read one item with the token."""
        await self._json("GET", "items", params={"page": "1", "per_page": "1"})

    async def _items(self, params: Mapping[str, str]) -> list[Item]:
        items: list[Item] = []
        page: int | None = 1
        seen: set[int] = set()
        while page is not None:
            if page in seen:
                raise FetchError(f"items: the shop sent page {page} twice; the listing cannot be trusted")
            seen.add(page)
            body = await self._json("GET", "items", params={**params, "page": str(page), "per_page": str(PER_PAGE)})
            items.extend(mapping.item(record) for record in body["items"])
            page = body["next_page"]
        return items

    async def pull_items(self) -> list[Item]:
        """Every item of the shop."""
        return await self._items({})

    async def pull_changed(self, since: datetime) -> list[Item] | None:
        """The items the shop saved after `since` (a sale saves the item too)."""
        return await self._items({"changed_after": since.isoformat()})

    async def open_orders(self) -> list[OpenOrder]:
        """Orders paid and not shipped."""
        body = await self._json("GET", "orders", params={"status": "open"})
        return [mapping.order(record) for record in body["orders"]]

    def plan(self, item: Item, decision: Decision) -> Mapping[str, Any]:
        """Status, ETA and message where they differ from what the item shows."""
        return mapping.fields_for(item.shown, decision)

    async def push(self, updates: Sequence[Update]) -> list[WriteResult]:
        """Batches of `max_batch`; the shop answers for each item."""
        results: list[WriteResult] = []
        size = self.capabilities.max_batch
        for start in range(0, len(updates), size):
            batch = updates[start : start + size]
            body = await self._json(
                "POST", "items/batch", json={"updates": [{"id": u.item.key, **u.fields} for u in batch]}
            )
            answered = {str(r["id"]): r for r in body["results"]}
            for update in batch:
                answer = answered.get(update.item.key)
                if answer is None:
                    results.append(
                        WriteResult(update.item.key, ok=False, error="the shop did not answer for this item")
                    )
                else:
                    results.append(WriteResult(update.item.key, ok=bool(answer["ok"]), error=answer.get("error")))
        return results
