"""sweep_consumers: the bottom-up DP over consumers agrees with DagEvaluator's top-down one."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memokit import DagEvaluator
from memokit._sweep import Sweep, sweep_consumers


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
    return Graph(nodes)


def below(root: Node) -> set[Node]:
    """Every node the root depends on, and the root."""
    seen, todo = {root}, [root]
    while todo:
        for x in todo.pop().inputs:
            if x not in seen:
                seen.add(x)
                todo.append(x)
    return seen


def run_sweep(
    root: Node, compute: Callable[[Node, list[int], list[int]], int]
) -> Sweep[Node, int] | None:
    """sweep_consumers over a hand-made graph: its inputs, weights and creation numbers."""
    return sweep_consumers(
        root,
        inputs=lambda n: n.inputs,
        weights=lambda n: n.weights,
        compute=compute,
        order_key=lambda n: n.serial,
    )


def weighted_paths(root: Node) -> tuple[dict[Node, int], Counter[Node]]:
    """value(n) = Σ over uses (c, w) of value(c) · w, value(root) = 1: sweep_consumers' answer."""
    calls: Counter[Node] = Counter()

    def compute(node: Node, values: list[int], weights: list[int]) -> int:
        calls[node] += 1
        return 1 if node is root else sum(v * w for v, w in zip(values, weights, strict=True))

    sweep = run_sweep(root, compute)
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
def test_each_use_hands_one_value_along(graph: Graph) -> None:
    """hits = the uses (edges) below the root; leaves = the nodes with no inputs, newest first."""
    root = graph.root
    sweep = run_sweep(root, lambda n, values, weights: len(values))
    assert sweep is not None
    nodes = below(root)
    assert sweep.stats.hits == sum(len(n.inputs) for n in nodes)
    assert sweep.stats.computations == sweep.stats.currsize == len(nodes)
    # compute saw one value per use of the node
    assert all(
        sweep.values[n] == sum(c.inputs.count(n) for c in nodes) for n in nodes if n is not root
    )
    assert sweep.leaves == sorted((n for n in nodes if not n.inputs), key=lambda n: -n.serial)


def test_equal_keys_never_compare_nodes() -> None:
    """Unrelated nodes may share a key: the heap breaks ties without comparing the nodes."""
    x, y = Node(0), Node(0)
    root = Node(1, (x, y), (1, 1))
    sweep = run_sweep(root, lambda n, v, w: 1 if n is root else sum(v))
    assert sweep is not None
    assert (sweep.values[x], sweep.values[y]) == (1, 1)


def test_a_long_chain_needs_no_recursion() -> None:
    """200,000 nodes deep: one pass, no stack."""
    node = first = Node(0)
    for serial in range(1, 200_000):
        node = Node(serial, (node,), (1,))
    sweep = run_sweep(node, lambda n, v, w: 0 if not v else v[0] + 1)
    assert sweep is not None
    assert sweep.values[first] == 199_999


@pytest.mark.parametrize("cyclic", [False, True])
def test_a_consumer_with_a_smaller_key_than_its_input_gives_none(cyclic: bool) -> None:
    """n is taken before its consumer c (made earlier, rewired to use n): noticed, never wrong."""
    x = Node(0)
    c = Node(1, (x,), (1,))
    n = Node(5, (x,), (1,))
    p = Node(9, (n,), (1,))
    root = Node(10, (p, c), (1, 1))
    c.inputs = (n,)  # c now consumes n, which is newer
    if cyclic:
        n.inputs = (c,)  # c -> n -> c
    calls = Counter[Node]()

    def compute(node: Node, values: list[int], weights: list[int]) -> int:
        calls[node] += 1
        return 1

    result = run_sweep(root, compute)
    assert result is None
    assert calls[n] == 1  # n was computed (from p alone), then c handed it a value


def test_an_input_with_a_larger_key_is_fine_when_its_consumers_come_first() -> None:
    """What matters is the order nodes are taken in: here every consumer still comes first."""
    x = Node(0)
    late = Node(5, (x,), (2,))
    a = Node(1, (late,), (3,))  # a is older than its input late
    root = Node(2, (a,), (1,))
    sweep = run_sweep(
        root, lambda n, v, w: 1 if n is root else sum(p * q for p, q in zip(v, w, strict=True))
    )
    assert sweep is not None
    assert sweep.values[x] == 6


def test_nodes_that_compare_by_value_are_refused() -> None:
    @dataclass(frozen=True)
    class Point:
        x: int
        inputs: tuple[Point, ...] = ()

    root = Point(2, (Point(1), Point(1)))  # two equal leaves that are two nodes
    with pytest.raises(TypeError, match=r"Point overrides == or hash\(\).*Use DagEvaluator"):
        sweep_consumers(
            root,
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
        run_sweep(root, compute)
