"""The MLP lesson (memokit.tour.lessons.mlp): the lecture's two paths, the cost table, training."""

from __future__ import annotations

import itertools
import math

import pytest

from memokit.autodiff import Value, backward, grad, gradcheck
from memokit.tour.lessons import mlp, mlp_text
from memokit.tour.lessons.mlp import Architecture, Skipped, Timed
from tests.helpers.graphs import all_paths, every_node


def param_edges(loss: Value, params: list[Value]) -> int:
    """Edges c -> n of the graph where n is a parameter or depends on one."""
    nodes = every_node(loss)
    wanted = {id(p) for p in params}
    depends: dict[int, bool] = {}
    # Inputs before consumers: repeat until every node is settled (graphs here are small).
    while len(depends) < len(nodes):
        for node in nodes:
            if id(node) in depends or any(id(i) not in depends for i in node.inputs):
                continue
            depends[id(node)] = id(node) in wanted or any(depends[id(i)] for i in node.inputs)
    return sum(depends[id(i)] for node in nodes for i in node.inputs)


def deep_network(layers: int, width: int = 2) -> mlp.Network:
    """The seed network with ``layers`` hidden layers of ``width`` neurons."""
    arch = Architecture(hidden=(width,) * layers)
    x, y = mlp.SEED_EXAMPLE
    return mlp.build_network(arch, mlp.init_weights(arch), x, y)


def test_weight_names_follow_the_notes() -> None:
    """w¹₁₁ multiplies x₁ inside O₁₁'s neuron, w¹₂₁ multiplies x₂, and w²₁₂ feeds O₂₂ from O₁₁."""
    net = mlp.seed_network()
    inputs = {x.label: x for x in net.inputs}
    for weight, source, target in [
        ("w¹₁₁", inputs["x₁"], net.neurons["O₁₁"]),
        ("w¹₂₁", inputs["x₂"], net.neurons["O₁₁"]),
        ("w²₁₂", net.neurons["O₁₁"], net.neurons["O₂₂"]),
        ("w³₂₁", net.neurons["O₂₂"], net.output),
    ]:
        products = [
            n for n in every_node(target) if n.op_name == "*" and n.inputs[0] is net.params[weight]
        ]
        assert len(products) == 1 and products[0].inputs[1] is source, weight


def test_path_terms_sum_to_grad() -> None:
    """Each path term equals the sum of edge-products over the graph paths through its O₂ₖ."""
    net = mlp.seed_network()
    split = mlp.two_paths(net, "w¹₁₁")
    w = net.params["w¹₁₁"]
    paths = all_paths(net.loss, w)
    o21, o22 = net.neurons["O₂₁"], net.neurons["O₂₂"]
    through = {"O₂₁": 0.0, "O₂₂": 0.0}
    for nodes, product in paths:
        hits = [o for o in (o21, o22) if any(n is o for n in nodes)]
        assert len(hits) == 1, "every path from L to w¹₁₁ crosses exactly one of O₂₁, O₂₂"
        through[hits[0].label] += product
    assert [p.via for p in split.paths] == ["O₂₁", "O₂₂"]
    for term in split.paths:
        assert term.value == pytest.approx(through[term.via], rel=1e-12)
    (expected,) = grad(net.loss, wrt=[w])
    assert split.total == pytest.approx(expected, rel=1e-12)
    assert split.grad == expected
    assert math.fsum(p for _, p in paths) == pytest.approx(expected, rel=1e-12)
    assert split.check.ok
    assert split.numeric == pytest.approx(expected, rel=1e-6)


def test_every_path_shares_the_last_factor() -> None:
    """Both path terms end in ∂O₁₁/∂w¹₁₁, and dividing it out leaves grad(L, [O₁₁])."""
    net = mlp.seed_network()
    split = mlp.two_paths(net)
    assert all(p.factors[-1] is split.shared for p in split.paths)
    (adjoint,) = grad(net.loss, wrt=[net.neurons["O₁₁"]])
    assert split.total / split.shared.value == pytest.approx(adjoint, rel=1e-12)
    assert split.hidden_adjoint == adjoint


def test_path_factor_rejects_two_paths() -> None:
    """path_factor refuses node pairs joined by more than one path, and by none."""
    net = mlp.seed_network()
    with pytest.raises(ValueError, match="more than one path"):
        mlp.path_factor(net.loss, net.params["w¹₁₁"])
    with pytest.raises(ValueError, match="no path"):
        mlp.path_factor(net.neurons["O₁₂"], net.params["w¹₁₁"])


def test_shared_adjoint_is_computed_once_with_the_memo() -> None:
    """memo=True computes every adjoint once; memo=False recomputes ∂L/∂O₁₁ for each input."""
    shared = mlp.shared_adjoint(mlp.seed_network())
    assert shared.naive.agrees and shared.memoized.agrees
    assert set(shared.memoized.per_node.values()) <= {0, 1}
    assert shared.memoized.per_node["O₁₁"] == 1
    # w¹₁₁, w¹₂₁ and b¹₁ each need ∂L/∂O₁₁ once.
    assert shared.naive.per_node["O₁₁"] == 3
    assert shared.naive.per_node["ŷ"] > shared.naive.per_node["O₂₁"] > 3
    assert shared.naive.gradients == pytest.approx(shared.memoized.gradients, rel=1e-12)
    # The table's "memo hits" are the top-down ones: a request for an adjoint
    # already computed (each term's request, plus one per parameter, less the
    # requests that computed).
    memo = shared.memoized.reference
    assert memo.schedule == "top-down"
    assert memo.hits == memo.local_derivative_evaluations + len(memo.wrt) - memo.computations


def test_naive_doubles_per_layer_and_memoized_is_the_edge_count() -> None:
    """Naive evaluations at least double per added layer; memoized ones equal the edges."""
    naive, memo = [], []
    for layers in range(1, 8):
        net = deep_network(layers)
        params = list(net.params.values())
        slow = backward(net.loss, params, memo=False)
        fast = backward(net.loss, params, memo=True, schedule="top-down")
        assert slow.gradients == pytest.approx(fast.gradients, rel=1e-9)
        assert fast.local_derivative_evaluations == param_edges(net.loss, params)
        naive.append(slow.local_derivative_evaluations)
        memo.append(fast.local_derivative_evaluations)
    assert all(b >= 2 * a for a, b in itertools.pairwise(naive))
    steps = {b - a for a, b in itertools.pairwise(memo)}
    assert len(steps) == 1, f"memoized evaluations should grow by a constant per layer: {memo}"


def test_scaling_rows_measure_and_skip() -> None:
    """scaling() measures every memo setting, then skips naive runs projected past the budget."""
    rows = list(mlp.scaling(range(1, 6), lru_sizes=(16,), budget=0.0))
    assert [r.layers for r in rows] == [1, 2, 3, 4, 5]
    assert all(isinstance(r.runs["none"], Timed) for r in rows[:2])
    assert all(isinstance(r.runs["none"], Skipped) for r in rows[2:])
    for row in rows:
        memo = row.runs["dict"]
        lru = row.runs["lru(16)"]
        assert isinstance(memo, Timed)
        assert memo.result.local_derivative_evaluations == row.backprop_edges
        if isinstance(lru, Timed):
            assert lru.result.memo_size <= 16
            assert lru.result.gradients == pytest.approx(memo.result.gradients, rel=1e-9)
    skipped = rows[-1].runs["none"]
    assert isinstance(skipped, Skipped) and skipped.per_layer > 2


def test_backprop_edges_counts_the_parameter_paths() -> None:
    """backprop_edges agrees with the test's own count, and is below the graph's edge count."""
    net = deep_network(3)
    params = list(net.params.values())
    edges = sum(len(n.inputs) for n in every_node(net.loss))
    assert mlp.backprop_edges(net.loss, params) == param_edges(net.loss, params) < edges


def test_training_halves_the_loss() -> None:
    """Gradient descent with the fixed seed at least halves the loss and fits XOR."""
    data = mlp.make_xor(per_corner=2)
    result = mlp.train(data, steps=60, every=20)
    assert [s.step for s in result.log] == [0, 20, 40, 60]
    assert result.final_loss < result.initial_loss / 2
    assert result.accuracy == 1.0


def test_make_xor_is_seeded() -> None:
    """The same seed gives the same points; labels are 1 exactly where x₁·x₂ < 0."""
    assert mlp.make_xor(3) == mlp.make_xor(3)
    assert mlp.make_xor(3, seed=1) != mlp.make_xor(3, seed=2)
    assert all((e.x[0] * e.x[1] < 0) == (e.y == 1.0) for e in mlp.make_xor(5))


@pytest.mark.parametrize(
    "step",
    [
        mlp_text.network,
        mlp_text.two_paths,
        mlp_text.shared_adjoint,
        mlp_text.finite_differences,
        mlp_text.scaling,
        mlp_text.memory,
    ],
)
def test_tour_steps_yield_lines(step: object) -> None:
    """Each tour step of the lesson runs with quick=True and yields text lines."""
    assert callable(step)
    lines = list(step(True))
    assert lines and all(isinstance(line, str) for line in lines)


def test_memory_tradeoff_bounds_memory_and_counts_the_price() -> None:
    """A full memo recomputes nothing; LRU(k) keeps at most k; no memo is the naive count."""
    runs = mlp.memory_tradeoff(4, (32, 8, 2))
    assert [r.result.memo for r in runs] == ["dict", "lru(32)", "lru(8)", "lru(2)", "none"]
    full, *bounded, none = (r.result for r in runs)
    net = deep_network(4)
    params = list(net.params.values())
    assert full.recomputations == 0 and full.memo_size == full.computations
    assert full.local_derivative_evaluations == param_edges(net.loss, params)
    assert none.memo_size == 0
    assert (
        none.local_derivative_evaluations
        == backward(net.loss, params, memo=False).local_derivative_evaluations
    )
    for k, result in zip((32, 8, 2), bounded, strict=True):
        assert result.memo_size <= k
        assert result.recomputations > 0
        assert result.gradients == pytest.approx(full.gradients, rel=1e-12)


def test_memory_tradeoff_rejects_bad_bounds() -> None:
    """LRU bounds must be positive ints; True, 0 and 1.5 are refused with a clear message."""
    for bad in ((True,), (0,), (1.5,)):
        with pytest.raises(ValueError, match="positive ints"):
            mlp.memory_tradeoff(2, bad)  # type: ignore[arg-type]


def test_finite_difference_table_lists_every_parameter() -> None:
    """The gradcheck step prints one row per parameter, with backprop's gradient in it."""
    net = mlp.seed_network()
    params = list(net.params.values())
    lines = list(mlp_text.finite_differences_lines(net, gradcheck(net.loss, params)))
    gradients = grad(net.loss, wrt=params)
    for name, g in zip(net.params, gradients, strict=True):
        (row,) = [line for line in lines if line.startswith(f"  {name} ")]
        assert f"{g:.10f}" in row
    assert lines[-1].startswith("All 15 gradients agree")
