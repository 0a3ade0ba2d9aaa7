"""Bulk operations: `bulkOperationRunQuery` runs a query without paging limits, and its result is
served as JSONL on the fake's own host, one line per connection node, nested nodes on their own
lines with `__parentId`.

An operation answers RUNNING for `Store.bulk_polls` status polls, then COMPLETED (or the outcome
`Store.bulk_outcome` injects). Up to `Store.bulk_concurrency` run at once (five per app and shop
from API version 2026-01; one before), more are refused with LIMIT_REACHED; `bulkOperationCancel`
stops one (CANCELING, then CANCELED).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx
from graphql import GraphQLError, execute_sync, get_operation_ast, parse, validate

from .records import BulkOperation, Json, gid, parse_gid
from .store import Store
from .views import BulkView

__all__ = ["advance", "cancel", "result", "run_query"]


def run_query(store: Store, text: str, info: Any) -> Json:
    """bulkOperationRunQuery: the query runs at once, without paging limits, against the root and
    schema of the request that started it; status polls (`advance`) then reveal the result."""
    running = [op for op in store.bulk_operations.values() if op.status in ("CREATED", "RUNNING", "CANCELING")]
    if len(running) >= store.bulk_concurrency:
        return {
            "bulkOperation": None,
            "userErrors": [
                {
                    "field": None,
                    "code": "LIMIT_REACHED",
                    "message": f"Bulk operations limit reached: {len(running)} bulk query operations for this app and "
                    f"shop are in progress ({', '.join(gid('BulkOperation', op.id) for op in running)}). Please try "
                    "again later.",
                }
            ],
        }
    try:
        document = parse(text)
    except GraphQLError as exc:
        return {
            "bulkOperation": None,
            "userErrors": [{"field": ["query"], "message": exc.message, "code": "INVALID"}],
        }
    problems = validate(info.schema, document)
    operation = get_operation_ast(document)
    if problems or operation is None or operation.variable_definitions:
        message = problems[0].message if problems else "Bulk queries take no variables and one operation"
        return {"bulkOperation": None, "userErrors": [{"field": ["query"], "message": message, "code": "INVALID"}]}
    operation_record = BulkOperation(
        store.next_id(), text, store.now(), polls_left=store.bulk_polls, fail_with=store.bulk_outcome
    )
    result = execute_sync(
        info.schema,
        document,
        root_value=info.root_value,
        context_value={"bulk": True, "scopes": info.context["scopes"]},
    )
    if result.errors:
        operation_record.fail_with = (
            "FAILED",
            "ACCESS_DENIED"
            if any((e.extensions or {}).get("code") == "ACCESS_DENIED" for e in result.errors)
            else "INTERNAL_SERVER_ERROR",
        )
    else:
        operation_record.lines = _jsonl_lines(result.data or {})
    store.bulk_operations[operation_record.id] = operation_record
    return {"bulkOperation": BulkView(store, operation_record), "userErrors": []}


def cancel(store: Store, operation_id: str) -> Json:
    """bulkOperationCancel: a created or running operation goes CANCELING, then CANCELED at its next poll."""
    operation = store.bulk_operations.get(parse_gid(operation_id, "BulkOperation") or -1)
    if operation is None:
        return {"bulkOperation": None, "userErrors": [{"field": ["id"], "message": "Bulk operation does not exist"}]}
    if operation.status not in ("CREATED", "RUNNING"):
        return {
            "bulkOperation": BulkView(store, operation),
            "userErrors": [
                {"field": None, "message": f"A bulk operation cannot be canceled when it is {operation.status.lower()}"}
            ],
        }
    operation.status = "CANCELING"
    operation.lines = []
    return {"bulkOperation": BulkView(store, operation), "userErrors": []}


def advance(operation: BulkOperation) -> None:
    """One status poll: CREATED → RUNNING (for `bulk_polls` polls) → COMPLETED (or the injected end);
    CANCELING → CANCELED."""
    if operation.status == "CANCELING":
        operation.status = "CANCELED"
        return
    if operation.status not in ("CREATED", "RUNNING"):
        return
    if operation.polls_left > 0:
        operation.polls_left -= 1
        operation.status = "RUNNING"
        return
    if operation.fail_with:
        operation.status, operation.error_code = operation.fail_with
        operation.lines = []
    else:
        operation.status = "COMPLETED"


def result(store: Store, key: str) -> httpx.Response:
    """`GET /bulk-results/<key>.jsonl`: a completed operation's lines; otherwise the storage's 404."""
    for operation in store.bulk_operations.values():
        if operation.key == key and operation.status == "COMPLETED":
            text = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in operation.lines)
            return httpx.Response(200, content=text.encode(), headers={"Content-Type": "application/jsonl"})
    return httpx.Response(
        404,
        content=b"<?xml version='1.0'?><Error><Code>NoSuchKey</Code></Error>",
        headers={"Content-Type": "application/xml"},
    )


def _is_connection_value(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("edges"), list)


def _jsonl_lines(data: Mapping[str, Any]) -> list[Json]:
    """A bulk query's result as Shopify writes it: one line per connection node, nested
    connections' nodes on their own lines with `__parentId` = the enclosing line's `id`."""
    lines: list[Json] = []

    def strip(obj: Mapping[str, Any], parent_id: str | None, pending: list[tuple[str | None, Any]]) -> Json:
        out: Json = {}
        for name, value in obj.items():
            if _is_connection_value(value):
                pending.append((parent_id, value))
            elif isinstance(value, dict):
                out[name] = strip(value, parent_id, pending)
            else:
                out[name] = value
        return out

    def emit(parent_id: str | None, conn: Mapping[str, Any]) -> None:
        for edge in conn["edges"]:
            node = edge["node"]
            pending: list[tuple[str | None, Any]] = []
            own_id = node.get("id") if isinstance(node.get("id"), str) else parent_id
            line = strip(node, own_id, pending)
            if parent_id is not None:
                line["__parentId"] = parent_id
            lines.append(line)
            for child_parent, child in pending:
                emit(child_parent, child)

    for value in data.values():
        if _is_connection_value(value):
            emit(None, value)
    return lines
