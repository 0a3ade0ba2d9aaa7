"""What the fake repeats verbatim from a live WooCommerce 10.0.2 store (`recorded.json`).

`recorded.json` holds, for each route the fake serves, the route's entry in `GET /wp-json/wc/v3`
(`namespace`, `methods`, `endpoints` with every argument) and the name of its resource schema,
the schemas themselves as `OPTIONS` answered them (product, product_variation, shop_order,
order_note, batch), and the `general` and `products` settings groups of a new shop. It was cut from
the recordings in the shared platform schemas (`index.json`, `OPTIONS_*.json`) and from
`GET settings/<group>` on the same store, with `_links` left out (they name the recording store).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from .errors import Json

__all__ = ["options", "route_entry", "settings_group"]


@cache
def _recorded() -> Json:
    data: Json = json.loads(resources.files(__package__).joinpath("recorded.json").read_text("utf-8"))
    return data


def route_entry(route: str) -> Json:
    """The route's entry in the namespace index (WordPress's regex form, e.g. `/wc/v3/products/(?P<id>[\\d]+)`)."""
    entry: Json = dict(_recorded()["routes"][route])
    entry.pop("schema", None)
    return entry


def options(route: str) -> Json:
    """What `OPTIONS` on the route answers: its index entry and its resource schema."""
    entry: Json = dict(_recorded()["routes"][route])
    schema_name: Any = entry.pop("schema", None)
    if schema_name is not None:
        entry["schema"] = _recorded()["schemas"][schema_name]
    return entry


def settings_group(group: str) -> list[Json] | None:
    """A settings group's options without `_links` (None for a group the fake does not keep)."""
    found: list[Json] | None = _recorded()["settings"].get(group)
    return None if found is None else [dict(option) for option in found]
