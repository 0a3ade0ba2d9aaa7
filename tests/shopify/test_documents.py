"""Every document the adapter sends is valid for Shopify's own schema; the fake's schema is a subset of it."""

from __future__ import annotations

from importlib.resources import files

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    build_schema,
    get_named_type,
    parse,
    validate,
    visit,
)

from stockstatus.adapters.shopify.client import document, inline_variables
from stockstatus.adapters.shopify.fake import FakeShopify
from stockstatus.adapters.shopify.queries import at_locations
from stockstatus.adapters.shopify.settings import API_VERSIONS

OPERATIONS = sorted(
    p.name
    for p in files("stockstatus.adapters.shopify").joinpath("operations").iterdir()
    if p.name.endswith(".graphql")
)


def test_the_adapter_ships_its_documents():
    assert {"Variants.graphql", "OpenWork.graphql", "PushChanges.graphql", "BulkVariants.graphql"} <= set(OPERATIONS)


@pytest.mark.parametrize("version", API_VERSIONS)
@pytest.mark.parametrize("name", OPERATIONS)
def test_each_document_is_valid_for_the_official_schema(official_schemas, version, name):
    errors = validate(official_schemas[version], parse(document(name.removesuffix(".graphql"))))
    assert [e.message for e in errors] == []


LOCATIONS = [f"gid://shopify/Location/{n}" for n in range(1, 251)]


def bulk_query(locations: list[str]) -> str:
    values = dict.fromkeys(("namespace", "releaseNamespace", "restockNamespace", "supplierNamespace"), "connector")
    values |= dict.fromkeys(
        (
            "statusKey",
            "etaKey",
            "messageKey",
            "selloutStatusKey",
            "selloutEtaKey",
            "selloutMessageKey",
            "releaseKey",
            "restockKey",
            "supplierKey",
        ),
        "key",
    )
    values["query"] = "product_status:ACTIVE AND gift_card:false"
    return inline_variables(at_locations(document("BulkVariants"), locations), values)


@pytest.mark.parametrize("version", API_VERSIONS)
def test_the_bulk_query_as_sent_is_valid_and_takes_no_variables(official_schemas, version):
    sent = bulk_query(LOCATIONS[:3])
    assert "$" not in sent
    assert validate(official_schemas[version], parse(sent)) == []


@pytest.mark.parametrize("version", API_VERSIONS)
@pytest.mark.parametrize("counted", [1, 30, 100, 250])
def test_the_variants_query_at_any_number_of_locations_is_valid(official_schemas, version, counted):
    sent = at_locations(document("Variants"), LOCATIONS[:counted])
    assert validate(official_schemas[version], parse(sent)) == []
    assert sent.count("inventoryLevel(") == counted
    assert validate(official_schemas[version], parse(bulk_query(LOCATIONS[:counted]))) == []


def _deprecated_uses(schema, text: str) -> list[str]:
    """Fields, arguments and enum values the document uses that the schema marks deprecated."""
    found: list[str] = []
    info = TypeInfo(schema)

    class Deprecations(Visitor):
        def enter_field(self, node, *args):
            definition, parent = info.get_field_def(), info.get_parent_type()
            if definition is not None and definition.deprecation_reason:
                found.append(f"{parent}.{node.name.value}: {definition.deprecation_reason}")

        def enter_argument(self, node, *args):
            argument = info.get_argument()
            if argument is not None and argument.deprecation_reason:
                found.append(f"argument {node.name.value}: {argument.deprecation_reason}")

        def enter_enum_value(self, node, *args):
            kind = get_named_type(info.get_input_type())
            value = getattr(kind, "values", {}).get(node.value)
            if value is not None and value.deprecation_reason:
                found.append(f"{kind}.{node.value}: {value.deprecation_reason}")

    visit(parse(text), TypeInfoVisitor(info, Deprecations()))
    return found


@pytest.mark.parametrize("name", OPERATIONS)
def test_no_document_uses_what_the_newest_schema_deprecates(official_schemas, name):
    newest = official_schemas[max(API_VERSIONS)]
    text = document(name.removesuffix(".graphql"))
    if "$location" in text:
        text = at_locations(text, LOCATIONS[:2])
    assert _deprecated_uses(newest, text) == []


def test_the_deprecation_check_finds_a_deprecated_field(official_schemas):
    old = "query Old($id: ID!) { inventoryItem(id: $id) { variant { id } } }"
    assert _deprecated_uses(official_schemas[max(API_VERSIONS)], old) == [
        "InventoryItem.variant: Use `variants` instead."
    ]


@pytest.mark.parametrize("name", OPERATIONS)
def test_each_document_runs_on_the_fake_schema(name):
    schema = FakeShopify().schema
    assert [e.message for e in validate(schema, parse(document(name.removesuffix(".graphql"))))] == []


def test_the_fake_schema_is_a_subset_of_the_official_2026_10_schema(official_schemas):
    official = official_schemas["2026-10"]
    mine = build_schema(files("stockstatus.adapters.shopify.fake").joinpath("schema.graphql").read_text())
    problems = []
    for name, kind in mine.type_map.items():
        if name.startswith("__"):
            continue
        theirs = official.type_map.get(name)
        if theirs is None or type(theirs) is not type(kind):
            problems.append(f"type {name}")
            continue
        if isinstance(kind, (GraphQLObjectType, GraphQLInterfaceType)):
            problems += [
                f"{name} implements {i.name}"
                for i in kind.interfaces
                if i.name not in {j.name for j in theirs.interfaces}
            ]
            for field_name, field in kind.fields.items():
                other = theirs.fields.get(field_name)
                if other is None or str(other.type) != str(field.type):
                    problems.append(f"{name}.{field_name}: {field.type}")
                    continue
                problems += [
                    f"{name}.{field_name}({a}: {arg.type})"
                    for a, arg in field.args.items()
                    if a not in other.args or str(other.args[a].type) != str(arg.type)
                ]
        elif isinstance(kind, GraphQLInputObjectType):
            problems += [
                f"{name}.{f}: {t.type}"
                for f, t in kind.fields.items()
                if f not in theirs.fields or str(theirs.fields[f].type) != str(t.type)
            ]
        elif isinstance(kind, GraphQLEnumType):
            problems += [f"{name}.{v}" for v in kind.values if v not in theirs.values]
    assert problems == []
