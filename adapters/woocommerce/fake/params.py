"""What WordPress makes of a request's parameters, before any handler sees them.

PHP's `parse_str` (how `$_GET` and form bodies decode: "+" is a space, `a[x]=1` nests), the REST
schema checks of `rest_validate_value_from_schema` for the arguments the fake's routes declare
(one 400 naming every bad parameter, worded as WordPress words it), the loose boolean and list
readings WooCommerce applies afterwards, and the enums of the recorded WooCommerce 10 schema.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote_plus

from .errors import Json, WooError

MAX_PER_PAGE = 100

STOCK_STATUSES = ("instock", "outofstock", "onbackorder")
BACKORDERS = ("no", "notify", "yes")
PRODUCT_TYPES = ("simple", "grouped", "external", "variable")
PRODUCT_STATUSES = ("draft", "pending", "private", "publish", "future", "auto-draft", "trash")
VARIATION_STATUSES = ("draft", "pending", "private", "publish")
ORDER_STATUSES = (
    "auto-draft",
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "checkout-draft",
)
ORDER_LIST_STATUSES = ("any", "trash", *ORDER_STATUSES)
PRODUCT_LIST_STATUSES = ("any", "future", "trash", "draft", "pending", "private", "publish")

DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}(?::\d{2})?)?$")


# --------------------------------------------------------------------------------------------
# WordPress argument validation (rest_validate_value_from_schema), for the args we use.


@dataclass(frozen=True)
class Arg:
    type: str | tuple[str, ...]
    enum: tuple[str, ...] | None = None
    minimum: int | None = None
    maximum: int | None = None
    items_enum: tuple[str, ...] | None = None
    date: bool = False
    required: bool = False


def is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return value.is_integer()
    if isinstance(value, str):
        try:
            return float(value).is_integer()
        except ValueError:
            return False
    return False


def _is_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, str):
        return value.lower() in ("true", "false", "1", "0")
    if isinstance(value, int):
        return value in (0, 1)
    return False


def is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return not isinstance(value, bool)


def to_bool(value: Any) -> bool:
    """rest_sanitize_boolean / wc_string_to_bool."""
    if isinstance(value, str):
        return value.lower() in ("true", "1", "yes")
    return bool(value)


def wp_parse_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return list(value.values())
    return [part for part in re.split(r"[\s,]+", str(value)) if part]


def _english_list(values: Iterable[str]) -> str:
    """wp_sprintf_l: "a, b, and c"."""
    items = list(values)
    if len(items) <= 1:
        return "".join(items)
    if len(items) == 2:
        return f"{items[0]} and {items[1]}"
    return ", ".join(items[:-1]) + ", and " + items[-1]


def _check_arg(name: str, value: Any, arg: Arg) -> tuple[str, str] | None:
    """(code, message) when `value` breaks the arg's schema, like WordPress words it."""
    types = (arg.type,) if isinstance(arg.type, str) else arg.type
    if value is None and "null" in types:
        return None
    checks: dict[str, Callable[[Any], bool]] = {
        "integer": is_integer,
        "boolean": _is_boolean,
        "string": lambda v: isinstance(v, str),
        "array": lambda v: isinstance(v, (list, dict, str)),
        "object": lambda v: isinstance(v, dict),
        "null": lambda v: v is None,
    }
    if not any(checks[t](value) for t in types):
        return "rest_invalid_type", f"{name} is not of type {','.join(types)}."
    if "array" in types and arg.items_enum is not None:
        for item in wp_parse_list(value):
            if item not in arg.items_enum:
                return "rest_not_in_enum", f"{name}[0] is not one of {_english_list(arg.items_enum)}."
    if arg.enum is not None and value not in arg.enum:
        return "rest_not_in_enum", f"{name} is not one of {_english_list(arg.enum)}."
    if "integer" in types and value is not None:
        number = int(float(value))
        if arg.minimum is not None and arg.maximum is not None and not arg.minimum <= number <= arg.maximum:
            return (
                "rest_out_of_bounds",
                f"{name} must be between {arg.minimum} (inclusive) and {arg.maximum} (inclusive)",
            )
        if arg.minimum is not None and number < arg.minimum:
            return "rest_out_of_bounds", f"{name} must be greater than or equal to {arg.minimum}"
    if arg.date and not DATE_RE.match(str(value)):
        return "rest_invalid_date", "Invalid date."
    return None


def validate_args(params: Mapping[str, Any], args: Mapping[str, Arg]) -> None:
    """WP_REST_Request::has_valid_params: one 400 naming every bad parameter; nulls are skipped."""
    missing = [name for name, arg in args.items() if arg.required and params.get(name) is None]
    if missing:
        raise WooError(
            "rest_missing_callback_param",
            f"Missing parameter(s): {', '.join(missing)}",
            400,
            params=missing,
        )
    invalid: dict[str, str] = {}
    details: dict[str, Json] = {}
    for name, arg in args.items():
        value = params.get(name)
        if value is None:
            continue
        problem = _check_arg(name, value, arg)
        if problem:
            code, message = problem
            invalid[name] = message
            details[name] = {"code": code, "message": message, "data": None}
    if invalid:
        raise WooError(
            "rest_invalid_param",
            f"Invalid parameter(s): {', '.join(invalid)}",
            400,
            params=invalid,
            details=details,
        )


def _list_args(orderby: tuple[str, ...], status: Arg) -> dict[str, Arg]:
    return {
        "context": Arg("string", enum=("view", "edit")),
        "page": Arg("integer", minimum=1),
        "per_page": Arg("integer", minimum=1, maximum=MAX_PER_PAGE),
        "search": Arg("string"),
        "after": Arg("string", date=True),
        "before": Arg("string", date=True),
        "modified_after": Arg("string", date=True),
        "modified_before": Arg("string", date=True),
        "dates_are_gmt": Arg("boolean"),
        "exclude": Arg("array"),
        "include": Arg("array"),
        "offset": Arg("integer"),
        "order": Arg("string", enum=("asc", "desc")),
        "orderby": Arg("string", enum=orderby),
        "parent": Arg("array"),
        "status": status,
    }


PRODUCT_LIST_ARGS = {
    **_list_args(
        (
            "date",
            "id",
            "include",
            "title",
            "slug",
            "modified",
            "popularity",
            "rating",
            "post__in",
            "price",
            "sales",
            "menu_order",
            "random",
        ),
        Arg("string", enum=PRODUCT_LIST_STATUSES),
    ),
    "type": Arg("string", enum=PRODUCT_TYPES),
    "sku": Arg("string"),
    "stock_status": Arg("string", enum=STOCK_STATUSES),
    "category": Arg("string"),
    "tag": Arg("string"),
}
VARIATION_LIST_ARGS = {
    **_list_args(
        ("date", "id", "include", "title", "slug", "modified", "menu_order"),
        Arg("string", enum=PRODUCT_LIST_STATUSES),
    ),
    "sku": Arg("string"),
    "stock_status": Arg("string", enum=STOCK_STATUSES),
}
ORDER_LIST_ARGS = {
    **_list_args(
        ("date", "id", "include", "title", "slug", "modified"),
        Arg("array", items_enum=ORDER_LIST_STATUSES),
    ),
    "customer": Arg("integer"),
    "product": Arg("integer"),
}
_ITEM_WRITE_ARGS = {
    "sku": Arg("string"),
    "global_unique_id": Arg("string"),
    "regular_price": Arg("string"),
    "sale_price": Arg("string"),
    "virtual": Arg("boolean"),
    "downloadable": Arg("boolean"),
    "tax_status": Arg("string", enum=("taxable", "shipping", "none")),
    "tax_class": Arg("string"),
    "manage_stock": Arg("boolean"),
    "stock_quantity": Arg("integer"),
    "stock_status": Arg("string", enum=STOCK_STATUSES),
    "backorders": Arg("string", enum=BACKORDERS),
    "low_stock_amount": Arg(("integer", "null")),
    "weight": Arg("string"),
    "dimensions": Arg("object"),
    "shipping_class": Arg("string"),
    "attributes": Arg("array"),
    "menu_order": Arg("integer"),
    "meta_data": Arg("array"),
}
PRODUCT_WRITE_ARGS = {
    "name": Arg("string"),
    "slug": Arg("string"),
    "type": Arg("string", enum=PRODUCT_TYPES),
    "status": Arg("string", enum=PRODUCT_STATUSES),
    "featured": Arg("boolean"),
    "catalog_visibility": Arg("string", enum=("visible", "catalog", "search", "hidden")),
    "description": Arg("string"),
    "short_description": Arg("string"),
    **_ITEM_WRITE_ARGS,
    "sold_individually": Arg("boolean"),
    "reviews_allowed": Arg("boolean"),
    "purchase_note": Arg("string"),
    "categories": Arg("array"),
    "tags": Arg("array"),
    "images": Arg("array"),
    "default_attributes": Arg("array"),
}
VARIATION_WRITE_ARGS = {
    "description": Arg("string"),
    "status": Arg("string", enum=VARIATION_STATUSES),
    **_ITEM_WRITE_ARGS,
    "image": Arg(("object", "null")),
}
ORDER_WRITE_ARGS = {
    "parent_id": Arg("integer"),
    "status": Arg("string", enum=ORDER_STATUSES),
    "currency": Arg("string"),
    "customer_id": Arg("integer"),
    "customer_note": Arg("string"),
    "billing": Arg("object"),
    "shipping": Arg("object"),
    "payment_method": Arg("string"),
    "payment_method_title": Arg("string"),
    "transaction_id": Arg("string"),
    "meta_data": Arg("array"),
    "line_items": Arg("array"),
    "set_paid": Arg("boolean"),
}
TERM_LIST_ARGS = {
    "context": Arg("string", enum=("view", "edit")),
    "page": Arg("integer", minimum=1),
    "per_page": Arg("integer", minimum=1, maximum=MAX_PER_PAGE),
    "search": Arg("string"),
    "exclude": Arg("array"),
    "include": Arg("array"),
    "order": Arg("string", enum=("asc", "desc")),
    "orderby": Arg("string", enum=("id", "include", "name", "slug", "term_group", "description", "count")),
    "hide_empty": Arg("boolean"),
    "product": Arg("integer"),
    "slug": Arg("string"),
}
TERM_WRITE_ARGS = {
    "name": Arg("string"),
    "slug": Arg("string"),
    "description": Arg("string"),
}
WEBHOOK_STATUSES = ("active", "paused", "disabled")
WEBHOOK_LIST_ARGS = {
    "context": Arg("string", enum=("view", "edit")),
    "page": Arg("integer", minimum=1),
    "per_page": Arg("integer", minimum=1, maximum=MAX_PER_PAGE),
    "search": Arg("string"),
    "after": Arg("string", date=True),
    "before": Arg("string", date=True),
    "exclude": Arg("array"),
    "include": Arg("array"),
    "offset": Arg("integer"),
    "order": Arg("string", enum=("asc", "desc")),
    "orderby": Arg("string", enum=("date", "id", "title")),
    "status": Arg("string", enum=("all", *WEBHOOK_STATUSES)),
}
WEBHOOK_CREATE_ARGS = {
    "name": Arg("string"),
    "status": Arg("string", enum=WEBHOOK_STATUSES),
    "topic": Arg("string", required=True),
    "secret": Arg("string"),
    "delivery_url": Arg("string", required=True),
}
# The update endpoint's args come from the schema, where delivery_url is read-only; the
# controller still honours one sent.
WEBHOOK_UPDATE_ARGS = {
    "id": Arg("integer"),
    "name": Arg("string"),
    "status": Arg("string", enum=WEBHOOK_STATUSES),
    "topic": Arg("string"),
    "secret": Arg("string"),
}
NOTE_WRITE_ARGS = {
    "note": Arg("string", required=True),
    "customer_note": Arg("boolean"),
    "added_by_user": Arg("boolean"),
}


# --------------------------------------------------------------------------------------------
# PHP's view of a request: $_GET / $_POST parsing.

PhpValue = str | dict[str, "PhpValue"]


def php_parse_str(query: str) -> dict[str, PhpValue]:
    """PHP's parse_str: "+" is a space, `a[]=1&a[x]=2` nest, dots and spaces in names become "_"."""
    result: dict[str, PhpValue] = {}
    for pair in query.split("&"):
        if not pair:
            continue
        raw_name, _, raw_value = pair.partition("=")
        name, value = unquote_plus(raw_name), unquote_plus(raw_value)
        match = re.match(r"^([^\[]+)((?:\[[^\]]*\])*)$", name)
        if not match:
            continue
        base = re.sub(r"[. ]", "_", match.group(1))
        subkeys = re.findall(r"\[([^\]]*)\]", match.group(2))
        _php_assign(result, [base, *subkeys], value)
    return result


def _php_assign(target: dict[str, PhpValue], keys: list[str], value: str) -> None:
    key = keys[0]
    if key == "":
        key = str(sum(1 for k in target if k.isdigit()))
    if len(keys) == 1:
        target[key] = value
        return
    child = target.get(key)
    if not isinstance(child, dict):
        child = {}
        target[key] = child
    _php_assign(child, keys[1:], value)


def php_to_json(value: PhpValue) -> Any:
    """A PHP array as the REST API sees it: consecutive integer keys are a list."""
    if isinstance(value, dict):
        if value and list(value) == [str(i) for i in range(len(value))]:
            return [php_to_json(v) for v in value.values()]
        return {k: php_to_json(v) for k, v in value.items()}
    return value


def parse_query_date(value: str) -> datetime:
    """An after/before argument as WP_Date_Query reads it (already checked against `DATE_RE`)."""
    # WP_Date_Query formats the parsed value with 'Y-m-d H:i:s': an offset in the value is not
    # converted, only dropped. The wall-clock time is compared with the chosen column.
    return datetime.fromisoformat(value.replace("Z", "").replace("z", "").replace(" ", "T")[:19])
