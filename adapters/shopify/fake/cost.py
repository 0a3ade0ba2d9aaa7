"""What a query costs the fake Shopify, and the leaky bucket per plan that pays for it.

The adapter reads the real cost from each answer (`extensions.cost`); this is the simulator's side.

From Shopify's documentation of GraphQL Admin API rate limits
(shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits): every field has a cost by what it
returns — scalar and enum 0, object 1, a connection 2 plus `first` (or `last`) times the cost of
one node with its selection, and a mutation 10. The requested cost is that maximum, computed
before the query runs; the actual cost counts the connection nodes really returned, and the
difference is refunded to the bucket. A single query may not request more than 1,000 points.

Simplifications (documented, deliberate): a plain list of objects (not a connection) costs like
one object; fragments on an abstract type are all counted (an over-estimate); `pageInfo` and
connection edges are free.

Plans (shopify.dev GraphQL Admin API rate limits: restore rate per plan; bucket 20 × that, the
ratio Shopify has always used): Standard 100 points/s and 2,000 points, Advanced 200/4,000,
Plus 1,000/20,000.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLIncludeDirective,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    is_leaf_type,
    value_from_ast_untyped,
)
from graphql.execution.values import get_directive_values

from .records import Json

__all__ = [
    "MAX_QUERY_COST",
    "PLANS",
    "FakeClock",
    "LeakyBucket",
    "Plan",
    "actual_cost",
    "requested_cost",
]

MAX_QUERY_COST = 1000
MUTATION_COST = 10
OBJECT_COST = 1
CONNECTION_COST = 2


@dataclass(frozen=True, slots=True)
class Plan:
    """A Shopify plan's cost limits: bucket size (points) and restore rate (points per second)."""

    name: str
    bucket: float
    restore_rate: float


PLANS: Mapping[str, Plan] = {
    "standard": Plan("standard", 2000.0, 100.0),
    "advanced": Plan("advanced", 4000.0, 200.0),
    "plus": Plan("plus", 20000.0, 1000.0),
}


class FakeClock:
    """A monotonic clock that moves only when told (tests drive pacing and token expiry with it)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += max(0.0, seconds)

    async def sleep(self, seconds: float) -> None:
        """An injectable `sleep` that advances this clock instead of waiting."""
        self.advance(seconds)


class LeakyBucket:
    """Shopify's cost bucket: `restore_rate` points per second flow back, up to `size`."""

    def __init__(self, plan: Plan, clock: Callable[[], float]) -> None:
        self.size = plan.bucket
        self.restore_rate = plan.restore_rate
        self._clock = clock
        self._level = plan.bucket
        self._at = clock()

    @property
    def available(self) -> float:
        now = self._clock()
        self._level = min(self.size, self._level + (now - self._at) * self.restore_rate)
        self._at = now
        return self._level

    def take(self, points: float) -> bool:
        if points > self.available:
            return False
        self._level -= points
        return True

    def refund(self, points: float) -> None:
        self._level = min(self.size, self.available + max(0.0, points))

    def status(self) -> Json:
        return {
            "maximumAvailable": self.size,
            "currentlyAvailable": int(self.available),
            "restoreRate": self.restore_rate,
        }


class _Walker:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def included(self, node: Any) -> bool:
        skip = get_directive_values(GraphQLSkipDirective, node, dict(self.variables))
        if skip and skip.get("if") is True:
            return False
        include = get_directive_values(GraphQLIncludeDirective, node, dict(self.variables))
        return not (include and include.get("if") is False)

    def fields(self, selection_set: SelectionSetNode | None, parent: Any) -> list[tuple[FieldNode, Any]]:
        """The included field nodes of a selection set with the type each is selected on."""
        found: list[tuple[FieldNode, Any]] = []
        if selection_set is None:
            return found
        for selection in selection_set.selections:
            if not self.included(selection):
                continue
            if isinstance(selection, FieldNode):
                found.append((selection, parent))
            elif isinstance(selection, InlineFragmentNode):
                on = self.schema.get_type(selection.type_condition.name.value) if selection.type_condition else parent
                found += self.fields(selection.selection_set, on)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments[selection.name.value]
                found += self.fields(fragment.selection_set, self.schema.get_type(fragment.type_condition.name.value))
        return found

    def argument(self, node: FieldNode, name: str) -> Any:
        for arg in node.arguments or ():
            if arg.name.value == name:
                return value_from_ast_untyped(arg.value, dict(self.variables))
        return None

    def field_type(self, parent: Any, node: FieldNode) -> GraphQLOutputType | None:
        if node.name.value.startswith("__"):
            return None
        field = getattr(parent, "fields", {}).get(node.name.value)
        return field.type if field is not None else None

    def node_selection(self, node: FieldNode, connection: Any) -> tuple[list[SelectionSetNode], Any]:
        """The selection sets of one node of a connection (`nodes {...}` and `edges { node {...} }`)."""
        node_type = get_named_type(connection.fields["nodes"].type)
        sets: list[SelectionSetNode] = []
        for child, _ in self.fields(node.selection_set, connection):
            if child.name.value == "nodes" and child.selection_set:
                sets.append(child.selection_set)
            elif child.name.value == "edges":
                edge_type = get_named_type(connection.fields["edges"].type)
                for grandchild, _ in self.fields(child.selection_set, edge_type):
                    if grandchild.name.value == "node" and grandchild.selection_set:
                        sets.append(grandchild.selection_set)
        return sets, node_type

    # --- requested -----------------------------------------------------------------------

    def requested(self, selection_set: SelectionSetNode | None, parent: Any) -> int:
        total = 0
        for node, on in self.fields(selection_set, parent):
            kind = self.field_type(on, node)
            if kind is None:
                continue
            named = get_named_type(kind)
            if is_leaf_type(named):
                continue
            if is_connection(named):
                size = self.argument(node, "first") or self.argument(node, "last") or 0
                sets, node_type = self.node_selection(node, named)
                per_node = OBJECT_COST + sum(self.requested(s, node_type) for s in sets)
                total += CONNECTION_COST + int(size) * per_node
            else:
                total += OBJECT_COST + self.requested(node.selection_set, named)
        return total

    # --- actual --------------------------------------------------------------------------

    def actual(self, selection_set: SelectionSetNode | None, parent: Any, value: Any) -> int:
        if not isinstance(value, Mapping):
            return 0
        total = 0
        for node, on in self.fields(selection_set, parent):
            kind = self.field_type(on, node)
            if kind is None:
                continue
            named = get_named_type(kind)
            if is_leaf_type(named):
                continue
            key = node.alias.value if node.alias else node.name.value
            child = value.get(key)
            if child is None:
                continue
            if is_connection(named):
                sets, node_type = self.node_selection(node, named)
                nodes = child.get("nodes") or [e.get("node") for e in child.get("edges") or ()]
                total += CONNECTION_COST
                for item in nodes:
                    total += OBJECT_COST + sum(self.actual(s, node_type, item) for s in sets)
            elif isinstance(child, list):
                total += OBJECT_COST + sum(self.actual(node.selection_set, named, c) for c in child)
            else:
                total += OBJECT_COST + self.actual(node.selection_set, named, child)
        return total


def is_connection(named: Any) -> bool:
    return isinstance(named, GraphQLObjectType) and named.name.endswith("Connection") and "pageInfo" in named.fields


def _root(schema: GraphQLSchema, operation: OperationDefinitionNode) -> GraphQLObjectType:
    root = schema.mutation_type if operation.operation == OperationType.MUTATION else schema.query_type
    assert root is not None
    return root


def requested_cost(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
) -> int:
    """The cost Shopify charges before running `operation` (its worst case)."""
    walker = _Walker(schema, fragments, variables)
    if operation.operation == OperationType.MUTATION:
        return MUTATION_COST * len(walker.fields(operation.selection_set, _root(schema, operation)))
    return walker.requested(operation.selection_set, _root(schema, operation))


def actual_cost(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
    data: Mapping[str, Any] | None,
) -> int:
    """The cost of what the query really returned (never above the requested cost)."""
    walker = _Walker(schema, fragments, variables)
    if operation.operation == OperationType.MUTATION:
        return requested_cost(schema, operation, fragments, variables)
    spent = walker.actual(operation.selection_set, _root(schema, operation), data or {})
    return min(spent, requested_cost(schema, operation, fragments, variables))
