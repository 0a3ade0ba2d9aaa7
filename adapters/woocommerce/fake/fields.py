"""`_fields`: which parts of an answer the client asked for, as WooCommerce 10 and WordPress trim it.

Two steps, both seen on WooCommerce 10.0.2:

- WooCommerce's controllers build only the top-level fields named exactly in `_fields`
  (`get_fields_for_response`): `meta_data.key` names no top-level field, so `meta_data` is left out
  altogether. The orders controller also builds an object field a dotted name reaches into
  (`billing.email`), but still not a list (`line_items.id`);
- WordPress then trims the answer (`rest_filter_response_fields`) with the dotted names as a
  nested mask. A mask reaches into objects but not into lists, whose keys are 0, 1, …: so
  `_fields=update.id,update.error` turns a batch answer into `{"update": []}`. An item with none
  of the fields becomes `[]` (PHP's empty array).

Single items keep their `_links` whatever `_fields` says (WordPress adds them after trimming);
items in a list keep them only when `_links` is asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .params import wp_parse_list

__all__ = ["Mask", "requested", "trim", "trim_item"]

Mask = dict[str, Any]
"""Nested `{name: True | Mask}`: WordPress's `$fields_as_keyed`."""


def requested(params: Mapping[str, Any]) -> list[str] | None:
    """The `_fields` of a request, trimmed; None when absent or empty (everything is answered)."""
    if "_fields" not in params:
        return None
    names = [str(name).strip() for name in wp_parse_list(params["_fields"])]
    names = [name for name in names if name]
    return names or None


def _mask(names: list[str]) -> Mask:
    mask: Mask = {}
    for name in names:
        *parents, last = name.split(".")
        ref = mask
        for part in parents:
            if ref.get(part) is True:
                break  # the parent is already wanted whole
            ref = ref.setdefault(part, {})
        else:
            ref[last] = True
    return mask


def _intersect(value: Any, mask: Mask) -> Any:
    """_rest_array_intersect_key_recursive: a list's keys are its positions."""
    if isinstance(value, list):
        return [_intersect(item, mask[str(n)]) if isinstance(mask[str(n)], dict) else item
                for n, item in enumerate(value) if str(n) in mask]  # fmt: skip
    if not isinstance(value, dict):
        return value
    kept = {k: (_intersect(v, mask[k]) if isinstance(mask[k], dict) else v) for k, v in value.items() if k in mask}
    # PHP encodes an emptied array as [], not {}.
    return kept if kept else []


# The products controller builds the named fields in the order asked, then these two.
PRODUCT_FIELDS_LAST = ("meta_data", "stock_status")


def trim_item(
    item: Mapping[str, Any],
    names: list[str] | None,
    *,
    keep_links: bool,
    nested_objects: bool = False,
    in_asked_order: bool = False,
) -> Any:
    """One resource as WooCommerce builds it for `_fields`, then trimmed by WordPress.

    `nested_objects`: the controller builds an object field that a dotted name reaches into
    (orders). `in_asked_order`: it builds the fields in the order `_fields` names them (products;
    the variations and orders controllers keep their own order).
    """
    if names is None:
        return dict(item)
    top = set(names)
    reached = {name.split(".", 1)[0] for name in names if "." in name} if nested_objects else set()
    built = {k: v for k, v in item.items() if k in top or k == "_links" or (k in reached and isinstance(v, dict))}
    if in_asked_order:
        order = [n for n in dict.fromkeys(names) if n in built and n not in PRODUCT_FIELDS_LAST]
        order += [n for n in PRODUCT_FIELDS_LAST if n in built]
        built = {**{n: built[n] for n in order}, **{k: v for k, v in built.items() if k not in order}}
    links = built.pop("_links", None)
    trimmed = _intersect(built, _mask(names))
    if links is not None and (keep_links or "_links" in top):
        trimmed = {**(trimmed if isinstance(trimmed, dict) else {}), "_links": links}
    return trimmed


def trim(body: Any, names: list[str] | None) -> Any:
    """rest_filter_response_fields on an answer that is not one resource (a batch, an index)."""
    if names is None:
        return body
    mask = _mask(names)
    if isinstance(body, list):
        return [_intersect(item, mask) for item in body]
    return _intersect(body, mask)
