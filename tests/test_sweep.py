"""sweep_consumers: the bottom-up DP over consumers agrees with DagEvaluator's top-down one."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memokit import DagEvaluator
from memokit._sweep import sweep_consumers


class Node:
    """A node of a hand-made DAG: its inputs, one weight per use, a creation number."""

    def __init__(self, serial: int, inputs: tuple[Node, ...] = (), weights: tuple[int, ...] = ()):
        self.serial = serial
        self.inputs = inputs
        self.weights = weights

    def __repr__(self) -> str:
        return f"Node({self.serial})"


@dataclass
class Graph:
    """Nodes in creation order; the last is the root."""

    nodes: list[Node]
    targets: list[Node] = field(default_factory=list)

    @property
    def root(self) -> Node:
        return self.nodes[-1]


@st.composite
def graphs(draw: st.DrawFn) -> Graph:
    """A random DAG: each node uses earlier ones (repeats allowed), with small integer weights."""
    size = draw(st.integers(1, 25))
    nodes: list[Node] = []
    for serial in range(size):
        inputs = draw(st.lists(st.sampled_from(nodes), max_size=3)) if nodes else []
        weights = draw(st.lists(st.integers(-3, 3), min_size=len(inputs), max_size=len(inputs)))
        nodes.append(Node(serial, tuple(inputs), tuple(weights)))
    targets = draw(st.lists(st.sampled_from(nodes), max_size=6))
    return Graph(nodes, targets)


def below(root: Node) -> set[Node]:
    """Every node the root depends on, and the root."""
    seen, todo = {root}, [root]
    while todo:
        for x in todo.pop().inputs:
            if x not in seen:
                seen.add(x)
                todo.append(x)
    return seen


def depends_on(node: Node, targets: set[Node]) -> bool:
    """Whether ``node`` is a target or has one below it (by brute force)."""
    return bool(below(node) & targets)


def weighted_paths(root: Node) -> tuple[dict[Node, int], Counter[Node]]:
    """value(n) = Σ over uses (c, w) of value(c) · w, value(root) = 1: sweep_consumers' answer."""
    calls: Counter[Node] = Counter()

    def compute(node: Node, values: list[int], weights: list[int]) -> int:
        calls[node] += 1
        return 1 if node is root else sum(v * w for v, w in zip(values, weights, strict=True))

    sweep = sweep_consumers(
        root,
        None,
        inputs=lambda n: n.inputs,
        weights=lambda n: n.weights,
        compute=compute,
        order_key=lambda n: n.serial,
    )
    assert sweep is not None
    return sweep.values, calls


def top_down(root: Node, targets: list[Node]) -> dict[Node, int]:
    """The same recurrence, top-down on DagEvaluator over an inverted graph."""
    uses: dict[Node, list[tuple[Node, int]]] = {n: [] for n in below(root)}
    for consumer in uses:
        for x, w in zip(consumer.inputs, consumer.weights, strict=True):
            uses[x].append((consumer, w))
    ev: DagEvaluator[Node, int] = DagEvaluator(
        inputs=lambda n: [c for c, _ in uses[n]],
        compute=lambda n, vals: (
            1 if n is root else sum(v * w for v, (_, w) in zip(vals, uses[n], strict=True))
        ),
    )
    return {t: ev.evaluate(t) for t in targets if t in uses}


@settings(max_examples=150, deadline=None)
@given(graph=graphs())
def test_every_node_below_the_root_is_computed_once_and_agrees_with_top_down(graph: Graph) -> None:
    values, calls = weighted_paths(graph.root)
    assert set(values) == below(graph.root)
    assert set(calls.values()) == {1}
    assert values == top_down(graph.root, list(values))


@settings(max_examples=150, deadline=None)
@given(graph=graphs())
def test_targets_limit_the_sweep_to_the_nodes_that_depend_on_them(graph: Graph) -> None:
    root, wanted = graph.root, set(graph.targets)
    calls: Counter[Node] = Counter()

    def compute(node: Node, values: list[int], weights: list[int]) -> int:
        calls[node] += 1
        return 1 if node is root else sum(v * w for v, w in zip(values, weights, strict=True))

    sweep = sweep_consumers(
        root,
        graph.targets,
        inputs=lambda n: n.inputs,
        weights=lambda n: n.weights,
        compute=compute,
        order_key=lambda n: n.serial,
    )
    assert sweep is not None
    graph_nodes = below(root)
    needed = {n for n in graph_nodes if depends_on(n, wanted)}
    assert set(calls) == needed
    assert set(calls.values()) <= {1}
    assert sweep.stats.computations == len(needed)
    # One hit per use read: every edge into a needed node from a needed consumer.
    assert sweep.stats.hits == sum(1 for c in needed for x in c.inputs if x in needed)
    assert sweep.graph_size == len(graph_nodes)
    expected = top_down(root, graph.targets)
    assert {t: sweep.values[t] for t in expected} == expected
    assert all(t in sweep.values for t in wanted & graph_nodes)
    assert not any(t in sweep.values for t in wanted - graph_nodes)


def test_leaves_are_listed_in_the_order_a_depth_first_walk_meets_them() -> None:
    a, b, c = Node(0), Node(1), Node(2)
    mid = Node(3, (c, a), (1, 1))
    root = Node(4, (b, mid), (1, 1))
    sweep = sweep_consumers(
        root,
        None,
        inputs=lambda n: n.inputs,
        weights=lambda n: n.weights,
        compute=lambda n, v, w: 0,
        order_key=lambda n: n.serial,
    )
    assert sweep is not None
    # The walk pops the last input pushed first: mid, then a (its last), then c, then b.
    assert sweep.leaves == [a, c, b]


@pytest.mark.parametrize("cyclic", [False, True])
def test_an_order_key_that_does_not_grow_along_an_edge_gives_none(cyclic: bool) -> None:
    """A graph rewired by hand (or into a cycle) is noticed, never answered wrongly."""
    x = Node(0)
    late = Node(5, (x,), (1,))  # made after the nodes that will consume it
    a = Node(1, (x,), (1,))
    root = Node(2, (a,), (1,))
    a.inputs, a.weights = (late,), (1,)  # a now consumes a node with a larger key
    if cyclic:
        late.inputs = (a,)  # a -> late -> a
    calls = Counter[Node]()

    def compute(node: Node, values: list[int], weights: list[int]) -> int:
        calls[node] += 1
        return 1

    result = sweep_consumers(
        root,
        None,
        inputs=lambda n: n.inputs,
        weights=lambda n: n.weights,
        compute=compute,
        order_key=lambda n: n.serial,
    )
    assert result is None
    assert calls  # it did sweep, and found out at the end


def test_nodes_that_compare_by_value_are_refused() -> None:
    @dataclass(frozen=True)
    class Point:
        x: int
        inputs: tuple[Point, ...] = ()

    root = Point(2, (Point(1), Point(1)))  # two equal leaves that are two nodes
    with pytest.raises(TypeError, match=r"Point overrides == or hash\(\).*Use DagEvaluator"):
        sweep_consumers(
            root,
            None,
            inputs=lambda n: n.inputs,
            weights=lambda n: [1] * len(n.inputs),
            compute=lambda n, v, w: 0,
            order_key=lambda n: n.x,
        )


def test_an_error_in_compute_propagates() -> None:
    x = Node(0)
    root = Node(1, (x,), (1,))

    def compute(node: Node, values: list[int], weights: list[int]) -> int:
        if node is x:
            raise ZeroDivisionError("boom")
        return 1

    with pytest.raises(ZeroDivisionError, match="boom"):
        sweep_consumers(
            root,
            None,
            inputs=lambda n: n.inputs,
            weights=lambda n: n.weights,
            compute=compute,
            order_key=lambda n: n.serial,
        )
