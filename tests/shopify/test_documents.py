"""Every document the adapter sends is valid for Shopify's own schema; the fake's schema is a subset of it."""

from __future__ import annotations

from importlib.resources import files

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    build_schema,
    parse,
    validate,
)

from stockstatus.adapters.shopify.client import document, inline_variables
from stockstatus.adapters.shopify.fake import FakeShopify
from stockstatus.adapters.shopify.settings import API_VERSIONS

OPERATIONS = sorted(
    p.name
    for p in files("stockstatus.adapters.shopify").joinpath("operations").iterdir()
    if p.name.endswith(".graphql")
)


def test_the_adapter_ships_its_documents():
    assert {"Variants.graphql", "OpenOrders.graphql", "PushChanges.graphql", "BulkVariants.graphql"} <= set(OPERATIONS)


@pytest.mark.parametrize("version", API_VERSIONS)
@pytest.mark.parametrize("name", OPERATIONS)
def test_each_document_is_valid_for_the_official_schema(official_schemas, version, name):
    errors = validate(official_schemas[version], parse(document(name.removesuffix(".graphql"))))
    assert [e.message for e in errors] == []


@pytest.mark.parametrize("version", API_VERSIONS)
def test_the_bulk_query_as_sent_is_valid_and_takes_no_variables(official_schemas, version):
    values = dict.fromkeys(("namespace", "releaseNamespace", "restockNamespace", "supplierNamespace"), "connector")
    values |= dict.fromkeys(("statusKey", "etaKey", "messageKey", "releaseKey", "restockKey", "supplierKey"), "key")
    sent = inline_variables(document("BulkVariants"), values)
    assert "$" not in sent
    assert validate(official_schemas[version], parse(sent)) == []


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
