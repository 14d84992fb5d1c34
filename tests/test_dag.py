"""Tests for memokit.DagEvaluator: values, sharing, identity keys, stores, cycles, reversal.

Expected values come from independent bottom-up evaluations (the drawn DAGs
number their nodes in topological order) or from brute-force path counts.
"""

from __future__ import annotations

import sys
import threading
from collections import Counter
from collections.abc import Iterable
from typing import Any

import pytest
from hypothesis import given, settings

from memokit import CycleError, DagEvaluator, DagStats, DictStore, LRUStore
from tests.helpers.strategies import WeightedDag, lru_sizes, weighted_dags

PROPERTY_SETTINGS = settings(max_examples=80, deadline=None)


def topological_values(dag: WeightedDag) -> list[int]:
    """Each node's value bottom-up: v + sum over edges (u, w) of w * value(u), mod a prime."""
    values = [0] * dag.size
    for v in range(dag.size - 1, -1, -1):
        values[v] = (v + sum(w * values[u] for u, w in dag.edges[v])) % 1_000_003
    return values


def paths_from_zero(dag: WeightedDag) -> list[int]:
    """The number of edge paths from node 0 to each node, pushed forward in node order."""
    counts = [0] * dag.size
    counts[0] = 1
    for v in range(dag.size):
        for u, _ in dag.edges[v]:
            counts[u] += counts[v]
    return counts


def weighted_evaluator(
    dag: WeightedDag, computed: Counter[int], **options: Any
) -> DagEvaluator[int, int]:
    """An evaluator of the same node values as :func:`topological_values`, counting computes."""

    def compute(v: int, inputs: list[int]) -> int:
        computed[v] += 1
        weights = [w for _, w in dag.edges[v]]
        return (v + sum(w * x for w, x in zip(weights, inputs, strict=True))) % 1_000_003

    return DagEvaluator(inputs=dag.successors, compute=compute, **options)


class Node:
    """A DAG node that overloads == and refuses to hash, like a numpy array.

    Two nodes with equal ``label`` compare "equal" (and truthiness of the
    comparison raises), so anything that compares or hashes nodes fails.
    """

    def __init__(self, label: int, inputs: Iterable[Node] = ()) -> None:
        self.label = label
        self.inputs = list(inputs)

    def __eq__(self, other: object) -> Any:
        return _Ambiguous()

    __hash__ = None  # type: ignore[assignment]


class _Ambiguous:
    def __bool__(self) -> bool:
        raise ValueError("the truth value of a node comparison is ambiguous")


def node_evaluator(counts: Counter[int], **options: Any) -> DagEvaluator[Node, int]:
    """An evaluator of label + sum(inputs) over :class:`Node` graphs, counting computes by id."""

    def compute(node: Node, values: list[int]) -> int:
        counts[id(node)] += 1
        return node.label + sum(values)

    return DagEvaluator(inputs=lambda node: node.inputs, compute=compute, **options)


# ---------------------------------------------------------------- values and sharing


@PROPERTY_SETTINGS
@given(weighted_dags())
def test_values_match_bottom_up(dag: WeightedDag) -> None:
    """Every node's value equals the bottom-up evaluation; each node is computed once."""
    computed: Counter[int] = Counter()
    ev = weighted_evaluator(dag, computed, key=lambda v: v)
    assert ev.evaluate_many(range(dag.size)) == topological_values(dag)
    assert set(computed.values()) == {1}
    stats = ev.stats()
    assert stats.computations == dag.size
    assert stats.recomputations == 0


@PROPERTY_SETTINGS
@given(weighted_dags(), lru_sizes)
def test_lru_store_recomputes_and_counts(dag: WeightedDag, maxsize: int) -> None:
    """Under an LRU bound values stay right and recomputations = computes - distinct nodes."""
    computed: Counter[int] = Counter()
    ev = weighted_evaluator(dag, computed, key=lambda v: v, maxsize=maxsize)
    assert ev.evaluate(0) == topological_values(dag)[0]
    stats = ev.stats()
    assert stats.computations == sum(computed.values())
    assert stats.recomputations == sum(computed.values()) - len(computed)
    assert stats.currsize <= maxsize


def test_evaluate_many_shares_sub_dags() -> None:
    """Evaluating many nodes computes their shared inputs once and counts the hits."""
    computed: Counter[int] = Counter()
    dag = WeightedDag(4, {0: [(2, 1), (3, 1)], 1: [(2, 1), (3, 1)], 2: [(3, 1)], 3: []})
    ev = weighted_evaluator(dag, computed, key=lambda v: v)
    assert ev.evaluate_many([0, 1]) == topological_values(dag)[:2]
    assert computed == Counter({0: 1, 1: 1, 2: 1, 3: 1})
    # 0 needs 2 (miss) and 3 (hit after 2 computed it); 1 needs 2 and 3 (hits)
    assert ev.stats() == DagStats(computations=4, hits=3, evictions=0, recomputations=0, currsize=4)


def test_deep_chain() -> None:
    """A chain 300,000 nodes deep evaluates without RecursionError."""
    ev = DagEvaluator(
        inputs=lambda n: [n - 1] if n else [],
        compute=lambda n, vals: (n + sum(vals)) % 1_000_003,
        key=lambda n: n,
    )
    n = 300_000
    assert ev.evaluate(n) == (n * (n + 1) // 2) % 1_000_003


# ---------------------------------------------------------------- identity keys


def test_nodes_that_overload_eq_are_never_merged_or_compared() -> None:
    """Equal-looking nodes are separate entries; == and hash are never used on them."""
    counts: Counter[int] = Counter()
    leaf_a, leaf_b = Node(1), Node(1)  # "equal" labels, distinct objects
    mid = Node(10, [leaf_a, leaf_b, leaf_a])
    top = Node(100, [mid, leaf_b])
    ev = node_evaluator(counts)
    assert ev.evaluate(top) == 100 + (10 + 1 + 1 + 1) + 1
    assert len(counts) == 4
    assert set(counts.values()) == {1}
    assert ev.evaluate(leaf_a) == 1
    assert ev.stats().computations == 4


def test_identity_entries_keep_their_nodes_alive() -> None:
    """A stored node cannot be freed, so its id cannot be reused while its entry lives."""
    counts: Counter[int] = Counter()
    ev = node_evaluator(counts)
    ids = set()
    for label in range(200):
        node = Node(label)
        ids.add(id(node))
        assert ev.evaluate(node) == label
        del node  # the evaluator's reference is now the only one
    assert len(ids) == 200  # no id was reused: every node is still held by its entry
    assert ev.stats().computations == 200


def test_id_reuse_after_eviction_gives_fresh_values() -> None:
    """With maxsize=1, freed nodes' ids get reused; every value is still the right one."""
    counts: Counter[int] = Counter()
    ev = node_evaluator(counts, maxsize=1)
    seen_ids: Counter[int] = Counter()
    for label in range(300):
        node = Node(label, [Node(1000)])
        seen_ids[id(node)] += 1
        assert ev.evaluate(node) == label + 1000
        del node
    assert ev.stats().computations == 600
    assert max(seen_ids.values()) > 1  # ids were reused, and did not fool the store


def test_key_function_merges_nodes() -> None:
    """With key=, nodes with the same key share one entry."""
    counts: Counter[int] = Counter()
    a, b = Node(5), Node(5)
    top = Node(0, [a, b])
    ev = node_evaluator(counts, key=lambda node: node.label)
    assert ev.evaluate(top) == 10
    assert len(counts) == 2  # top, and one of a/b
    assert ev.stats().hits == 1


# ---------------------------------------------------------------- reversed view


@PROPERTY_SETTINGS
@given(weighted_dags())
def test_consumers_view_counts_paths(dag: WeightedDag) -> None:
    """Evaluating over consumers (edges reversed) counts the paths from node 0 to each node."""
    consumers: dict[int, list[int]] = {v: [] for v in range(dag.size)}
    for v, edges in dag.edges.items():
        for u, _ in edges:
            consumers[u].append(v)
    ev: DagEvaluator[int, int] = DagEvaluator(
        inputs=lambda v: consumers[v],
        compute=lambda v, counts: 1 if v == 0 else sum(counts),
        key=lambda v: v,
    )
    assert ev.evaluate_many(range(dag.size)) == paths_from_zero(dag)
    assert ev.stats().computations == dag.size


def test_reverse_of_forward_graph_like_an_adjoint() -> None:
    """Over consumers with edge weights, each node gets d(out)/d(node) of a linear DAG."""
    # out = 2*a + 3*b ; a = 5*x ; b = 7*x + 11*a  => d(out)/dx = 2*5 + 3*(7 + 11*5)
    weights = {("out", "a"): 2, ("out", "b"): 3, ("a", "x"): 5, ("b", "x"): 7, ("b", "a"): 11}
    consumers: dict[str, list[str]] = {"out": [], "a": ["out", "b"], "b": ["out"], "x": ["a", "b"]}

    def adjoint(node: str, adjoints: list[int]) -> int:
        if node == "out":
            return 1
        return sum(adj * weights[c, node] for c, adj in zip(consumers[node], adjoints, strict=True))

    ev = DagEvaluator(inputs=lambda n: consumers[n], compute=adjoint, key=str)
    assert ev.evaluate("x") == 2 * 5 + 3 * (7 + 11 * 5)
    assert ev.evaluate("a") == 2 + 3 * 11
    assert ev.stats().computations == 4


# ---------------------------------------------------------------- cycles and errors


def test_cycle_reports_the_nodes() -> None:
    """A graph with a cycle raises CycleError whose path lists the nodes around it."""
    a, b, c = Node(1), Node(2), Node(3)
    a.inputs, b.inputs, c.inputs = [b], [c], [b]
    ev = node_evaluator(Counter())
    with pytest.raises(CycleError) as caught:
        ev.evaluate(a)
    path = caught.value.path
    assert len(path) == 3
    assert path[0] is b and path[1] is c and path[2] is b
    assert str(caught.value).count("Node") == 3
    assert ev.stats().currsize == 0


def test_compute_errors_propagate_and_cache_nothing_partial() -> None:
    """An error in compute propagates; nodes waiting on it are not stored, finished ones are."""
    broken = {2}
    computed: Counter[int] = Counter()

    def compute(n: int, vals: list[int]) -> int:
        computed[n] += 1
        if n in broken:
            raise ZeroDivisionError(n)
        return n + sum(vals)

    ev = DagEvaluator(inputs=lambda n: [n - 1] if n else [], compute=compute, key=lambda n: n)
    with pytest.raises(ZeroDivisionError):
        ev.evaluate(5)
    assert ev.stats().currsize == 2  # nodes 0 and 1
    broken.clear()
    computed.clear()
    assert ev.evaluate(5) == 15
    assert computed == Counter({2: 1, 3: 1, 4: 1, 5: 1})


def test_inputs_errors_propagate() -> None:
    """An error from inputs() reaches the caller with its own type."""

    def broken_inputs(n: int) -> list[int]:
        raise ZeroDivisionError(n)

    ev = DagEvaluator(inputs=broken_inputs, compute=lambda n, v: 0, key=lambda n: n)
    with pytest.raises(ZeroDivisionError):
        ev.evaluate(1)


# ---------------------------------------------------------------- stores, stats, threads


def test_invalidate_and_clear() -> None:
    """invalidate forgets one node (recomputed and counted); clear resets everything."""
    counts: Counter[int] = Counter()
    leaf = Node(1)
    top = Node(2, [leaf])
    ev = node_evaluator(counts)
    assert ev.evaluate(top) == 3
    assert ev.invalidate(leaf) is True
    assert ev.invalidate(leaf) is False
    assert ev.evaluate(leaf) == 1
    assert ev.stats().recomputations == 1
    ev.clear()
    assert ev.stats() == DagStats(0, 0, 0, 0, 0)
    assert ev.evaluate(top) == 3
    assert ev.stats().computations == 2


def test_custom_store() -> None:
    """A store passed with store= receives the entries."""
    store: LRUStore[Any] = LRUStore(2)
    ev = DagEvaluator(
        inputs=lambda n: [n - 1] if n else [],
        compute=lambda n, v: n + sum(v),
        key=lambda n: n,
        store=store,
    )
    assert ev.evaluate(10) == 55
    assert len(store) == 2
    assert ev.stats().evictions == 9


def test_bad_arguments_are_refused() -> None:
    """Missing functions, conflicting store options and unhashable keys give clear TypeErrors."""
    with pytest.raises(TypeError, match=r"DagEvaluator\(inputs=\.\.\.\) takes a function"):
        DagEvaluator(inputs=None, compute=lambda n, v: 0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"DagEvaluator\(\) got both maxsize= and store="):
        DagEvaluator(inputs=list, compute=lambda n, v: 0, maxsize=3, store=LRUStore(3))

    def listed(n: int) -> Any:
        return [n]

    ev: DagEvaluator[int, int] = DagEvaluator(
        inputs=lambda n: [], compute=lambda n, v: 0, key=listed
    )
    with pytest.raises(TypeError, match="key= function returned an unhashable list"):
        ev.evaluate(1)


def test_threads_evaluate_one_graph() -> None:
    """Threads evaluating overlapping deep chains of one evaluator all get right values."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    ev = DagEvaluator(
        inputs=lambda n: [n - 1] if n else [],
        compute=lambda n, v: (n + sum(v)) % 1_000_003,
        key=lambda n: n,
    )
    sizes = [30_000 + 5_000 * i for i in range(6)]
    results: dict[int, int] = {}

    def work(n: int) -> None:
        results[n] = ev.evaluate(n)

    try:
        threads = [threading.Thread(target=work, args=(n,)) for n in sizes]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    assert results == {n: (n * (n + 1) // 2) % 1_000_003 for n in sizes}


# ---------------------------------------------------------------- keys, cycles and counts in depth


class AllEqual:
    """A hashable node type whose instances all compare equal and share one hash."""

    def __init__(self, label: int, inputs: Iterable[AllEqual] = ()) -> None:
        self.label = label
        self.inputs = list(inputs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AllEqual)

    def __hash__(self) -> int:
        return 0


def test_hashable_nodes_that_all_compare_equal_are_still_separate() -> None:
    """Identity keys never merge nodes whose == says they are equal (they are keyed by id)."""
    computed: Counter[int] = Counter()

    def compute(node: AllEqual, values: list[int]) -> int:
        computed[node.label] += 1
        return node.label + sum(values)

    a, b = AllEqual(1), AllEqual(2)
    top = AllEqual(100, [a, b, a])
    ev = DagEvaluator(inputs=lambda n: n.inputs, compute=compute)
    assert ev.evaluate(top) == 100 + 1 + 2 + 1
    assert computed == Counter({1: 1, 2: 1, 100: 1})
    assert ev.stats().hits == 1  # the second use of a


def test_plain_nodes_are_their_own_keys_and_stay_alive_with_their_entries() -> None:
    """A node of a plain class is held by the store while its entry lives, then released."""
    import gc
    import weakref

    class Plain:
        def __init__(self, inputs: list[Plain]) -> None:
            self.inputs = inputs

    leaf = Plain([])
    top = Plain([leaf])
    watch = weakref.ref(leaf)
    ev = DagEvaluator(inputs=lambda n: n.inputs, compute=lambda n, v: 1 + sum(v))
    assert ev.evaluate(top) == 2
    del top, leaf
    gc.collect()
    assert watch() is not None  # held by its entry
    ev.clear()
    gc.collect()
    assert watch() is None


def test_a_long_cycle_deep_in_a_chain_is_reported_with_its_whole_path() -> None:
    """A 1,000-node ring reached through a 5,000-node chain raises CycleError listing the ring."""
    ring = [Node(i) for i in range(1000)]
    for i, node in enumerate(ring):
        node.inputs = [ring[(i + 1) % len(ring)]]
    chain = [Node(-i) for i in range(5000)]
    for i in range(len(chain) - 1):
        chain[i].inputs = [chain[i + 1]]
    chain[-1].inputs = [ring[0]]
    ev = node_evaluator(Counter())
    with pytest.raises(CycleError) as caught:
        ev.evaluate(chain[0])
    path = caught.value.path
    assert len(path) == len(ring) + 1
    assert path[0] is path[-1]
    assert {id(n) for n in path} == {id(n) for n in ring}
    assert ev.stats().currsize == 0


def test_a_node_that_is_its_own_input_is_a_cycle() -> None:
    """A self-loop is a cycle of one node: path (n, n)."""
    node = Node(7)
    node.inputs = [node]
    with pytest.raises(CycleError) as caught:
        node_evaluator(Counter()).evaluate(node)
    assert len(caught.value.path) == 2
    assert caught.value.path[0] is node and caught.value.path[1] is node


def test_recomputation_after_deleting_from_a_given_store_is_counted() -> None:
    """With store= given, an entry its owner deletes is recomputed and counted as such."""
    store: DictStore[Any] = DictStore()
    ev = DagEvaluator(
        inputs=lambda n: [n - 1] if n else [],
        compute=lambda n, v: n + sum(v),
        key=lambda n: n,
        store=store,
    )
    assert ev.evaluate(3) == 6
    assert store.delete(1)
    assert ev.evaluate(2) == 3  # 2 is stored: a hit, nothing recomputed
    assert ev.stats().recomputations == 0
    store.delete(2)
    assert ev.evaluate(2) == 3  # 2 again, from 1 again (0 is still stored)
    assert ev.stats() == DagStats(
        computations=6, hits=2, evictions=0, recomputations=2, currsize=4
    )


def test_invalidated_nodes_are_not_kept_alive() -> None:
    """invalidate() remembers a node for the recomputation count without holding it."""
    import gc
    import weakref

    class Plain:
        def __init__(self) -> None:
            self.inputs: list[Plain] = []

    node = Plain()
    watch = weakref.ref(node)
    ev = DagEvaluator(inputs=lambda n: n.inputs, compute=lambda n, v: 1)
    assert ev.evaluate(node) == 1
    assert ev.invalidate(node)
    del node
    gc.collect()
    assert watch() is None


def test_a_stored_root_counts_one_hit() -> None:
    """evaluate() on a stored node returns it from the store and counts a hit, no computation."""
    ev: DagEvaluator[int, int] = DagEvaluator(
        inputs=lambda n: [], compute=lambda n, v: n * 2, key=lambda n: n
    )
    assert ev.evaluate(21) == 42
    assert ev.evaluate(21) == 42
    assert ev.stats() == DagStats(computations=1, hits=1, evictions=0, recomputations=0, currsize=1)
