"""Bulk imports (staged upload + bulkOperationRunMutation) and the cost estimates that choose them."""

from __future__ import annotations

import json
from datetime import date

import httpx
import pytest
from graphql import parse, validate
from graphql.execution.values import get_variable_values

from stockstatus.adapters.shopify.client import document
from stockstatus.adapters.shopify.fake import generated_catalogue
from stockstatus.core.model import Decision, Item, Status, Update

from .helpers import make_adapter, make_fake

TODAY = date(2026, 11, 22)
BULK_DOCUMENTS = ("StageUploads", "RunBulkMutation", "BulkPolicies", "BulkMetafields", "BulkOperation")


def decide(item: Item) -> Decision:
    if item.available is not None and item.available <= 0:
        return Decision(Status.BACKORDER, "restock", eta=date(2026, 12, 20), message="Ships soon")
    return Decision(Status.IN_STOCK, "default", on_sellout=Status.BACKORDER)


async def planned(adapter) -> list[Update]:
    items = await adapter.pull_items()
    return [Update(i, decide(i), f) for i in items if (f := adapter.plan(i, decide(i)))]


def operations(fake) -> list[str]:
    return [str(e["operation"]) for e in fake.log]


# --- the documents, as sent -------------------------------------------------------------------------


class Recorder:
    """A transport in front of the fake that keeps every GraphQL document and bulk line sent."""

    def __init__(self, fake) -> None:
        self.fake = fake
        self.documents: list[tuple[str, str]] = []
        self.uploads: list[bytes] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("graphql.json"):
            body = json.loads(request.content)
            self.documents.append((body["operationName"], body["query"]))
            if "mutation" in (body.get("variables") or {}):
                self.documents.append(("bulk line", body["variables"]["mutation"]))
        elif request.url.path == "/staged-uploads/":
            self.uploads.append(request.read())
        return self.fake.handle(request)


@pytest.mark.parametrize("version", ["2026-07", "2026-10"])
async def test_every_document_of_a_bulk_push_is_valid_for_the_official_schema(official_schemas, version):
    fake, clock = make_fake()
    generated_catalogue(fake, 30, today=TODAY)
    recorder = Recorder(fake)
    adapter, _, client = make_adapter(fake, clock, bulk_write_threshold=0)
    adapter._client = httpx.AsyncClient(transport=httpx.MockTransport(recorder))
    async with client, adapter._client:
        results = await adapter.push(await planned(adapter))
    assert results and all(r.ok for r in results)
    sent = {name for name, _ in recorder.documents}
    assert {"StageUploads", "RunBulkMutation", "BulkOperation", "bulk line"} <= sent
    for name, text in recorder.documents:
        assert [e.message for e in validate(official_schemas[version], parse(text))] == [], name
    assert len(recorder.uploads) == 2  # one JSONL file per kind: policies, metafields
    # Every line of every file is a valid set of variables for its mutation, by the official schema.
    schema = official_schemas[version]
    for key, content in fake.staged_files.items():
        mutation = parse(document("BulkPolicies" if key.endswith("variants.jsonl") else "BulkMetafields"))
        definitions = mutation.definitions[0].variable_definitions
        for line in content.decode().splitlines():
            coerced = get_variable_values(schema, definitions, json.loads(line))
            assert isinstance(coerced, dict), [e.message for e in coerced]


@pytest.mark.parametrize("name", BULK_DOCUMENTS)
def test_the_bulk_documents_ship_with_the_adapter(name):
    assert document(name).strip()


# --- the push --------------------------------------------------------------------------------------


async def test_a_bulk_push_writes_what_requests_would_and_a_second_plan_is_empty():
    fake, clock = make_fake()
    generated_catalogue(fake, 60, today=TODAY)
    adapter, _, client = make_adapter(fake, clock, bulk_write_threshold=0)
    async with client:
        updates = await planned(adapter)
        results = await adapter.push(updates)
        assert len(results) == len(updates) and all(r.ok for r in results)
        assert "PushChanges" not in operations(fake)
        assert operations(fake).count("RunBulkMutation") == 2
        again = await adapter.pull_items()
        assert all(adapter.plan(i, decide(i)) == {} for i in again)
        sold_out = next(i for i in again if i.available is not None and i.available <= 0)
        assert sold_out.shown.status is Status.BACKORDER
        assert fake.variant(int(sold_out.key)).inventory_policy == "CONTINUE"


async def test_a_refused_line_fails_its_own_skus_and_the_innocent_metafields_are_resent():
    fake, clock = make_fake()
    fake.create_product("Kettle", variants=[{"sku": "K", "stock": 0}, {"sku": "L", "stock": 0}])
    fake.create_product("Mug", variants=[{"sku": "M", "stock": 0}])
    adapter, _, client = make_adapter(fake, clock, bulk_write_threshold=0)
    async with client:
        updates = await planned(adapter)
        gone = next(u for u in updates if u.item.sku == "K").item.key
        fake.variants.pop(int(gone))  # deleted by the merchant between read and write
        results = {r.item_key: r for r in await adapter.push(updates)}
    assert not results[gone].ok and "does not exist" in (results[gone].error or "")
    assert all(r.ok for key, r in results.items() if key != gone)
    for sku in ("L", "M"):
        key = next(u.item.key for u in updates if u.item.sku == sku)
        assert fake.variant_metafield(int(key), "connector.status") == "backorder"
    assert "PushChanges" in operations(fake)  # the atomic metafieldsSet line's innocents, sent again


async def test_a_cut_result_file_is_never_read_as_success():
    fake, clock = make_fake()
    generated_catalogue(fake, 20, today=TODAY)
    fake.bulk_result_cut = 40  # every download of a result breaks off in its first line
    adapter, _, client = make_adapter(fake, clock, bulk_write_threshold=0)
    async with client:
        updates = await planned(adapter)
        results = await adapter.push(updates)
    assert results and not any(r.ok for r in results)
    assert all("not confirmed" in (r.error or "") for r in results)


@pytest.mark.parametrize("outcome", [("FAILED", "INTERNAL_SERVER_ERROR"), ("FAILED", "TIMEOUT")])
async def test_a_failed_import_fails_its_updates_with_shopifys_reason(outcome):
    fake, clock = make_fake()
    generated_catalogue(fake, 10, today=TODAY)
    adapter, _, client = make_adapter(fake, clock, bulk_write_threshold=0)
    async with client:
        updates = await planned(adapter)
        fake.bulk_outcome = outcome
        results = await adapter.push(updates)
    assert results and not any(r.ok for r in results)
    assert all(outcome[1] in (r.error or "") for r in results)


async def test_an_import_shopify_will_not_start_is_written_with_requests():
    fake, clock = make_fake()
    generated_catalogue(fake, 10, today=TODAY)
    fake.bulk_concurrency = 0  # every bulk mutation refused: the app runs as many as it may
    adapter, _, client = make_adapter(fake, clock, bulk_write_threshold=0)
    async with client:
        results = await adapter.push(await planned(adapter))
        assert results and all(r.ok for r in results)
        assert "PushChanges" in operations(fake)
        assert all(adapter.plan(i, decide(i)) == {} for i in await adapter.pull_items())


async def test_with_one_import_at_a_time_the_second_waits_for_the_first():
    fake, clock = make_fake()
    generated_catalogue(fake, 10, today=TODAY)
    fake.bulk_concurrency = 1  # API versions before 2026-01: one bulk mutation per shop
    adapter, _, client = make_adapter(fake, clock, bulk_write_threshold=0)
    async with client:
        results = await adapter.push(await planned(adapter))
    assert results and all(r.ok for r in results)
    assert "PushChanges" not in operations(fake)
    assert operations(fake).count("RunBulkMutation") == 3  # one refused while the first ran


# --- the fake's staged upload and bulk mutation -----------------------------------------------------


def test_the_storage_refuses_a_form_whose_fields_were_not_issued_or_whose_file_is_not_last():
    fake, _ = make_fake()
    from stockstatus.adapters.shopify.fake import bulk

    target = bulk.stage(
        fake,
        [
            {
                "resource": "BULK_MUTATION_VARIABLES",
                "filename": "v.jsonl",
                "mimeType": "text/jsonl",
                "httpMethod": "POST",
            }
        ],
    )["stagedTargets"][0]
    fields = {p["name"]: p["value"] for p in target["parameters"]}
    assert {"key", "policy", "x-goog-signature", "Content-Type", "success_action_status"} <= set(fields)

    def post(form: dict[str, str], files: dict | None) -> httpx.Response:
        request = httpx.Request("POST", target["url"], data=form, files=files)
        return fake.handle(request)

    assert post({**fields, "x-goog-signature": "forged"}, {"file": ("v.jsonl", b"{}\n")}).status_code == 403
    assert post(fields, None).status_code == 400
    accepted = post(fields, {"file": ("v.jsonl", b'{"a": 1}\n')})
    assert accepted.status_code == 201 and b"<Key>" in accepted.content
    assert fake.staged_files[fields["key"]] == b'{"a": 1}\n'


def test_a_bulk_mutation_names_a_missing_file_and_a_line_that_is_not_json():
    fake, _ = make_fake()
    from stockstatus.adapters.shopify.fake import bulk

    class Info:
        def __init__(self) -> None:
            self.schema = fake.schema
            self.root_value = None
            self.context = {"scopes": fake.scopes}

    mutation = document("BulkMetafields")
    missing = bulk.run_mutation(fake, mutation, "tmp/nowhere", Info())
    assert missing["userErrors"][0]["code"] == "NO_SUCH_FILE"
    fake.staged_files["tmp/bad"] = b'{"metafields": []}\nnot json\n'
    bad = bulk.run_mutation(fake, mutation, "tmp/bad", Info())
    assert bad["userErrors"][0]["code"] == "INVALID_STAGED_UPLOAD_FILE" and "line 2" in bad["userErrors"][0]["message"]
    fake.staged_files["tmp/ok"] = b'{"metafields": []}\n'
    invalid = bulk.run_mutation(fake, "query Q { shop { name } }", "tmp/ok", Info())
    assert invalid["userErrors"][0]["code"] == "INVALID_MUTATION"


# --- the choice ----------------------------------------------------------------------------------


async def test_a_small_push_uses_requests_and_a_large_one_on_standard_uses_bulk_imports():
    fake, clock = make_fake(plan="standard")
    generated_catalogue(fake, 40, today=TODAY)
    adapter, _, client = make_adapter(fake, clock)
    async with client:
        results = await adapter.push(await planned(adapter))
        assert results and all(r.ok for r in results)
    assert "RunBulkMutation" not in operations(fake) and "PushChanges" in operations(fake)

    fake, clock = make_fake(plan="standard")
    generated_catalogue(fake, 1500, today=TODAY)
    adapter, _, client = make_adapter(fake, clock)
    async with client:
        updates = await planned(adapter)
        from stockstatus.adapters.shopify.client import _Work

        paged, bulk = adapter.write_estimates(_Work.of([(u.item, u.fields) for u in updates], adapter.settings))
        assert bulk.seconds < paged.seconds
        results = await adapter.push(updates)
        assert results and all(r.ok for r in results)
    assert "RunBulkMutation" in operations(fake) and fake.throttled == 0


async def test_the_read_follows_the_estimate_and_bulk_threshold_still_overrides_it():
    fake, clock = make_fake(plan="standard")
    generated_catalogue(fake, 30, today=TODAY)
    adapter, _, client = make_adapter(fake, clock)
    async with client:
        await adapter.pull_items()
    assert "RunBulkQuery" not in operations(fake)  # thirty variants fit the bucket: pages, no wait

    fake, clock = make_fake(plan="standard")
    generated_catalogue(fake, 30, today=TODAY)
    adapter, _, client = make_adapter(fake, clock, bulk_threshold=0)
    async with client:
        await adapter.pull_items()
    assert "RunBulkQuery" in operations(fake)

    fake, clock = make_fake(plan="standard")
    generated_catalogue(fake, 1500, today=TODAY)
    adapter, _, client = make_adapter(fake, clock)
    async with client:
        items = await adapter.pull_items()
        paged, bulk = adapter.read_estimates(len(items))
    assert bulk.seconds < paged.seconds and "RunBulkQuery" in operations(fake)
    assert paged.points > 10 * bulk.points


async def test_a_large_push_is_split_into_files_shopify_takes(monkeypatch):
    from stockstatus.adapters.shopify import client as shopify_client

    monkeypatch.setattr(shopify_client, "UPLOAD_BYTES", 3000)  # Shopify's limit is 100 MB; the same rule, smaller
    fake, clock = make_fake()
    generated_catalogue(fake, 40, today=TODAY)
    adapter, _, client = make_adapter(fake, clock, bulk_write_threshold=0)
    async with client:
        results = await adapter.push(await planned(adapter))
        assert results and all(r.ok for r in results)
        assert all(adapter.plan(i, decide(i)) == {} for i in await adapter.pull_items())
    sizes = [len(content) for content in fake.staged_files.values()]
    assert len(sizes) > 2 and max(sizes) < 3000 + 4000  # a file closes once past the limit, after one line
    assert "PushChanges" not in operations(fake)
