"""Bulk operations: `bulkOperationRunQuery` runs a query without paging limits, and its result is
served as JSONL on the fake's own host, one line per connection node, nested nodes on their own
lines with `__parentId`.

Bulk imports, from Shopify's guide (shopify.dev/docs/api/usage/bulk-operations/imports):
`stagedUploadsCreate` with resource BULK_MUTATION_VARIABLES, mimeType text/jsonl and httpMethod
POST answers a target: a `url` and the form `parameters` (key, Content-Type,
success_action_status, acl, policy and the x-goog-* signature fields) to send, each as it came,
with the file as the last form field; the storage answers 201 with an XML PostResponse. The
upload's `key` is the `stagedUploadPath` of `bulkOperationRunMutation`, which runs the mutation
once per line of the file, each line the variables of one execution. A file that is missing
gives NO_SUCH_FILE, a line that is not a JSON object INVALID_STAGED_UPLOAD_FILE, a document that
is not one valid mutation INVALID_MUTATION. The result file has one line per input line, in
order: `{"data": ..., "__lineNumber": n}` (n from 0), with `"errors"` when that execution failed
(its variables did not fit the mutation, or a field raised). Bulk operations are not charged to
the cost bucket beyond the request that starts them. Files above 100 MB are refused by the
storage (EntityTooLarge).

An operation answers RUNNING for `Store.bulk_polls` status polls, then COMPLETED (or the outcome
`Store.bulk_outcome` injects); with `Store.bulk_rate` set it completes when the monotonic clock has
given it one second per that many objects instead. Up to `Store.bulk_concurrency` of each type
run at once (five per app and shop from API version 2026-01; one before), more are refused with
LIMIT_REACHED (OPERATION_IN_PROGRESS for a mutation when only one may run); `bulkOperationCancel`
stops one (CANCELING, then CANCELED). The fake applies a bulk mutation's lines when it starts;
polls only reveal the result.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import json
import secrets
from collections.abc import Callable, Mapping
from typing import Any

import httpx
from graphql import GraphQLError, OperationType, execute_sync, get_operation_ast, parse, validate
from graphql.execution.values import get_variable_values

from .records import BulkOperation, Json, gid, parse_gid
from .store import Store
from .views import BulkView

__all__ = ["MAX_UPLOAD_BYTES", "advance", "cancel", "result", "run_mutation", "run_query", "stage", "upload"]

MAX_UPLOAD_BYTES = 100 * 1024 * 1024
"""The largest JSONL file a bulk mutation takes (Shopify's import guide: 100 MB)."""
STAGED_UPLOAD_PATH = "/staged-uploads/"


def _running(store: Store, kind: str) -> list[BulkOperation]:
    return [
        op
        for op in store.bulk_operations.values()
        if op.type == kind and op.status in ("CREATED", "RUNNING", "CANCELING")
    ]


def _ready_at(store: Store, objects: int, *, mutation: bool = False) -> float | None:
    clock: Callable[[], float] | None = getattr(store, "clock", None)
    rate = (store.bulk_mutation_rate or store.bulk_rate) if mutation else store.bulk_rate
    if rate is None or clock is None:
        return None
    return clock() + objects / rate


def run_query(store: Store, text: str, info: Any) -> Json:
    """bulkOperationRunQuery: the query runs at once, without paging limits, against the root and
    schema of the request that started it; status polls (`advance`) then reveal the result."""
    running = _running(store, "QUERY")
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
    operation_record.ready_at = _ready_at(store, len(operation_record.lines))
    store.bulk_operations[operation_record.id] = operation_record
    return {"bulkOperation": BulkView(store, operation_record), "userErrors": []}


def stage(store: Store, inputs: list[Json]) -> Json:
    """stagedUploadsCreate: one POST target per input, for bulk mutation variables (what the fake stores)."""
    targets: list[Json] = []
    for index, given in enumerate(inputs):
        if given["resource"] != "BULK_MUTATION_VARIABLES" or given.get("httpMethod", "PUT") != "POST":
            return {
                "stagedTargets": None,
                "userErrors": [
                    {
                        "field": ["input", str(index), "resource"],
                        "message": "The fake stages only BULK_MUTATION_VARIABLES uploads sent with POST",
                    }
                ],
            }
        key = f"tmp/{store.shop_name}/bulk/{secrets.token_hex(16)}/{given['filename']}"
        policy = base64.b64encode(json.dumps({"key": key, "expires": "in an hour"}).encode()).decode()
        parameters = {
            "Content-Type": str(given["mimeType"]),
            "success_action_status": "201",
            "acl": "private",
            "key": key,
            "x-goog-date": store.now().strftime("%Y%m%dT%H%M%SZ"),
            "x-goog-credential": "merchant-assets@shopify-tiers.iam.gserviceaccount.com/auto/storage/goog4_request",
            "x-goog-algorithm": "GOOG4-RSA-SHA256",
            "x-goog-signature": secrets.token_hex(64),
            "policy": policy,
        }
        store.staged_targets[key] = parameters
        url = f"{store.base_url}{STAGED_UPLOAD_PATH}"
        targets.append(
            {
                "url": url,
                "resourceUrl": f"{url}{key}",
                "parameters": [{"name": n, "value": v} for n, v in parameters.items()],
            }
        )
    return {"stagedTargets": targets, "userErrors": []}


def _storage_error(status: int, code: str, message: str) -> httpx.Response:
    body = f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
    return httpx.Response(status, content=body.encode(), headers={"Content-Type": "application/xml"})


def upload(store: Store, request: httpx.Request) -> httpx.Response:
    """`POST /staged-uploads/`: the storage behind a staged target (a multipart form, the file last)."""
    content_type = request.headers.get("Content-Type", "")
    if not content_type.startswith("multipart/form-data"):
        return _storage_error(400, "InvalidArgument", "POST requires multipart/form-data")
    body = request.read()
    if len(body) > MAX_UPLOAD_BYTES + 64 * 1024:
        return _storage_error(400, "EntityTooLarge", "Your proposed upload is larger than the maximum object size")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    fields: list[tuple[str, bytes]] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        fields.append((str(name), payload if isinstance(payload, bytes) else b""))
    if not fields or fields[-1][0] != "file":
        return _storage_error(400, "InvalidArgument", "the file must be the last field of the form")
    form = {name: value.decode("utf-8", "replace") for name, value in fields[:-1]}
    issued = store.staged_targets.get(form.get("key", ""))
    if issued is None or any(form.get(name) != value for name, value in issued.items()):
        return _storage_error(403, "AccessDenied", "Invalid according to Policy: Policy Condition failed")
    content = fields[-1][1]
    if len(content) > MAX_UPLOAD_BYTES:
        return _storage_error(400, "EntityTooLarge", "Your proposed upload is larger than the maximum object size")
    key = issued["key"]
    store.staged_files[key] = content
    xml = (
        "<?xml version='1.0' encoding='UTF-8'?><PostResponse><Location>"
        f"{store.base_url}{STAGED_UPLOAD_PATH}{key}</Location><Bucket>shopify-staged-uploads</Bucket>"
        f'<Key>{key}</Key><ETag>"{secrets.token_hex(16)}"</ETag></PostResponse>'
    )
    return httpx.Response(
        int(issued["success_action_status"]), content=xml.encode(), headers={"Content-Type": "application/xml"}
    )


def _mutation_error(code: str, message: str, field: list[str] | None = None) -> Json:
    return {"bulkOperation": None, "userErrors": [{"field": field, "code": code, "message": message}]}


def run_mutation(store: Store, text: str, path: str, info: Any) -> Json:
    """bulkOperationRunMutation: the mutation runs once per line of the staged file, each line its variables."""
    running = _running(store, "MUTATION")
    if len(running) >= store.bulk_concurrency:
        code = "LIMIT_REACHED" if store.bulk_concurrency > 1 else "OPERATION_IN_PROGRESS"
        return _mutation_error(
            code,
            f"A bulk mutation operation for this app and shop is already in progress: "
            f"{', '.join(gid('BulkOperation', op.id) for op in running)}.",
        )
    try:
        document = parse(text)
    except GraphQLError as exc:
        return _mutation_error("INVALID_MUTATION", exc.message, ["mutation"])
    operation = get_operation_ast(document)
    problems = validate(info.schema, document)
    if problems or operation is None or operation.operation != OperationType.MUTATION:
        message = problems[0].message if problems else "Bulk mutations take one mutation operation"
        return _mutation_error("INVALID_MUTATION", message, ["mutation"])
    content = store.staged_files.get(path)
    if content is None:
        return _mutation_error("NO_SUCH_FILE", "The JSONL file could not be found", ["stagedUploadPath"])
    variables: list[Json] = []
    for number, raw in enumerate(content.decode("utf-8", "replace").splitlines()):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except ValueError:
            line = None
        if not isinstance(line, dict):
            return _mutation_error(
                "INVALID_STAGED_UPLOAD_FILE",
                f"Failed to parse the JSONL file: line {number + 1} is not a JSON object",
                ["stagedUploadPath"],
            )
        variables.append(line)
    record = BulkOperation(
        store.next_id(), text, store.now(), polls_left=store.bulk_polls, fail_with=store.bulk_outcome
    )
    record.type = "MUTATION"
    context = {"bulk": True, "scopes": info.context["scopes"]}
    for number, given in enumerate(variables):
        coerced = get_variable_values(info.schema, operation.variable_definitions or (), given)
        if isinstance(coerced, list):
            record.lines.append({"errors": [dict(e.formatted) for e in coerced], "__lineNumber": number})
            continue
        executed = execute_sync(
            info.schema, document, root_value=info.root_value, context_value=context, variable_values=coerced
        )
        answer: Json = {"data": executed.data}
        if executed.errors:
            answer["errors"] = [dict(e.formatted) for e in executed.errors]
        answer["__lineNumber"] = number
        record.lines.append(answer)
    record.ready_at = _ready_at(store, len(record.lines), mutation=True)
    store.bulk_operations[record.id] = record
    return {"bulkOperation": BulkView(store, record), "userErrors": []}


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


def advance(operation: BulkOperation, now: float | None = None) -> None:
    """One status poll: CREATED → RUNNING (for `bulk_polls` polls, or until `ready_at` on a timed
    store) → COMPLETED (or the injected end); CANCELING → CANCELED."""
    if operation.status == "CANCELING":
        operation.status = "CANCELED"
        return
    if operation.status not in ("CREATED", "RUNNING"):
        return
    if operation.ready_at is not None and now is not None:
        if now < operation.ready_at:
            operation.status = "RUNNING"
            return
    elif operation.polls_left > 0:
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
            content = text.encode()
            if store.bulk_result_cut is not None:
                content = content[: store.bulk_result_cut]
            return httpx.Response(200, content=content, headers={"Content-Type": "application/jsonl"})
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
