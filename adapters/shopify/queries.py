"""Shaping the documents of `operations/` before they are sent, and what they will cost. Pure: no I/O.

- `at_locations`: a document's template inventory level (`level: inventoryLevel(locationId:
  $location)`) becomes one aliased field per counted location (`level0`, `level1`, ...) with the
  location's id written in, so a shop pays only for the locations whose stock counts, however
  many it has. `levels_of` reads them back as a list of levels, each with its location.
- `estimate_cost`: the cost Shopify will request for a document, computed the way Shopify's
  documentation describes it (an object 1, a scalar 0, a connection 2 plus `first` times one
  node with its selection, `pageInfo` free), without the schema: a field with a selection is an
  object, one with a `first`/`last` argument a connection. It sizes the first page of a listing
  before Shopify has reported any cost; later pages use what Shopify reported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from graphql import (
    ArgumentNode,
    FieldNode,
    IntValueNode,
    NameNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    VariableDefinitionNode,
    VariableNode,
    Visitor,
    parse,
    print_ast,
    visit,
)
from graphql.language.visitor import REMOVE

LEVEL_ALIAS = "level"
"""The alias of the template inventory level in a document."""
LEVEL_VARIABLE = "location"


def at_locations(text: str, locations: Sequence[str]) -> str:
    """The document with its template inventory level repeated once per location gid, in order."""
    if not locations:
        raise ValueError("at least one location is needed")
    return _at_locations(text, tuple(locations))


@lru_cache(maxsize=32)
def _at_locations(text: str, locations: tuple[str, ...]) -> str:

    class Expand(Visitor):
        def enter_selection_set(self, node: SelectionSetNode, *args: Any) -> SelectionSetNode | None:
            template = [s for s in node.selections if isinstance(s, FieldNode) and _alias(s) == LEVEL_ALIAS]
            if not template:
                return None
            selections: list[Any] = []
            for selection in node.selections:
                if selection is not template[0]:
                    selections.append(selection)
                    continue
                for number, location in enumerate(locations):
                    selections.append(
                        FieldNode(
                            alias=NameNode(value=f"{LEVEL_ALIAS}{number}"),
                            name=selection.name,
                            arguments=(
                                ArgumentNode(name=NameNode(value="locationId"), value=StringValueNode(value=location)),
                            ),
                            directives=selection.directives,
                            selection_set=selection.selection_set,
                        )
                    )
            return SelectionSetNode(selections=tuple(selections))

        def enter_variable_definition(self, node: VariableDefinitionNode, *args: Any) -> Any:
            return REMOVE if node.variable.name.value == LEVEL_VARIABLE else None

    return print_ast(visit(parse(text), Expand()))


def _alias(node: FieldNode) -> str | None:
    return node.alias.value if node.alias else None


def levels_of(inventory: Mapping[str, Any], locations: Sequence[str]) -> list[dict[str, Any]]:
    """The aliased levels of one inventory item as `{"location": {"id": ...}, "quantities": [...]}`.

    A location where the item is not stocked answers null: it holds nothing there.
    """
    found = []
    for number, location in enumerate(locations):
        level = inventory.get(f"{LEVEL_ALIAS}{number}")
        if isinstance(level, Mapping):
            found.append({**level, "location": {"id": location}})
    return found


def estimate_cost(text: str, variables: Mapping[str, Any] | None = None) -> int:
    """The cost Shopify requests for the document's operation (its worst case, before it runs)."""
    values = dict(variables or {})
    document = parse(text)
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    if operation.operation.value == "mutation":
        return 10 * len(operation.selection_set.selections)
    return _selection_cost(operation.selection_set, values)


@lru_cache(maxsize=256)
def cached_cost(text: str, variables: tuple[tuple[str, Any], ...]) -> int:
    """`estimate_cost` for scalar variables given as sorted (name, value) pairs, remembered."""
    return estimate_cost(text, dict(variables))


def per_node_cost(text: str, variables: Mapping[str, Any]) -> float:
    """What one more node of the listing's `first` adds to the document's cost."""
    sizes = tuple(sorted((k, v) for k, v in variables.items() if isinstance(v, int) and k != "first"))
    return _per_node_cost(text, sizes)


@lru_cache(maxsize=64)
def _per_node_cost(text: str, sizes: tuple[tuple[str, int], ...]) -> float:
    one = estimate_cost(text, {**dict(sizes), "first": 1})
    return float(max(1, estimate_cost(text, {**dict(sizes), "first": 2}) - one))


def _selection_cost(selection_set: SelectionSetNode | None, variables: Mapping[str, Any]) -> int:
    if selection_set is None:
        return 0
    total = 0
    for selection in selection_set.selections:
        if not isinstance(selection, FieldNode):
            total += _selection_cost(getattr(selection, "selection_set", None), variables)
            continue
        if selection.selection_set is None or selection.name.value == "pageInfo":
            continue
        size = _size(selection, variables)
        if size is None:
            total += 1 + _selection_cost(selection.selection_set, variables)
            continue
        node = 0
        for child in selection.selection_set.selections:
            if not isinstance(child, FieldNode) or child.selection_set is None:
                continue
            if child.name.value == "nodes":
                node += _selection_cost(child.selection_set, variables)
            elif child.name.value == "edges":
                for grandchild in child.selection_set.selections:
                    if isinstance(grandchild, FieldNode) and grandchild.name.value == "node":
                        node += _selection_cost(grandchild.selection_set, variables)
        total += 2 + size * (1 + node)
    return total


def _size(field: FieldNode, variables: Mapping[str, Any]) -> int | None:
    """`first` or `last` of a connection field, or None for an object field."""
    for argument in field.arguments or ():
        if argument.name.value not in ("first", "last"):
            continue
        value = argument.value
        if isinstance(value, IntValueNode):
            return int(value.value)
        if isinstance(value, VariableNode):
            given = variables.get(value.name.value)
            return int(given) if isinstance(given, int) else 0
    return None
