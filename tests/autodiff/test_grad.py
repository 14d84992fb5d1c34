"""grad and backward: one contract for every memo setting, the costs of the lesson, bad input.

The references are computed here, independently of memokit: the random
graphs come with a record of their steps (tests/helpers/strategies.py), which is
replayed with plain floats for central differences, and whose edges give the
exact costs of memoized and naive backprop through recurrences written below.
"""

from __future__ import annotations

import gc
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from memokit import CycleError, DictStore, LRUStore
from memokit.autodiff import Backward, Schedule, Value, backward, grad
from tests.helpers.strategies import FLOAT_OPS, ExpressionDag, Ref, expression_dags

# ---------------------------------------------------------------- references


def leaf_data(dag: ExpressionDag) -> list[float]:
    """The drawn leaves' values."""
    return [leaf.data for leaf in dag.leaves]


def central_differences(dag: ExpressionDag, eps: float = 1e-6) -> list[float]:
    """∂loss/∂leaf for every leaf, from the plain-float replay nudged by ±eps."""
    base = leaf_data(dag)
    result = []
    for i in range(len(base)):
        up, down = list(base), list(base)
        up[i] += eps
        down[i] -= eps
        result.append((dag.replay(up, FLOAT_OPS) - dag.replay(down, FLOAT_OPS)) / (2 * eps))
    return result


def relatively_close(a: float, b: float, rel: float = 1e-9) -> bool:
    """Equal within ``rel`` relative error (absolute near 0)."""
    return math.isclose(a, b, rel_tol=rel, abs_tol=rel * 1e-3)


@dataclass(frozen=True)
class Costs:
    """What backprop over the recorded graph must cost, counted from its steps."""

    #: Nodes the backward pass computes (leaves and steps; not constants).
    nodes: int
    #: Nodes memokit sees below the loss: those, plus one leaf per constant operand.
    graph_size: int
    #: Consumer edges between those nodes: memoized local-derivative evaluations.
    edges: int
    #: Σ over the leaves of E(leaf), E(n) = Σ_c (1 + E(c)): naive evaluations.
    naive_evaluations: int
    #: Σ over the leaves of C(leaf), C(n) = 1 + Σ_c C(c): naive adjoint computations.
    naive_computations: int


def costs(dag: ExpressionDag) -> Costs:
    """Count the edges and the naive recurrences of the recorded graph."""
    n, n_leaves = len(dag.nodes), len(dag.leaves)
    consumers: list[list[int]] = [[] for _ in range(n)]
    constants = 0
    for k, step in enumerate(dag.steps):
        for position, arg in enumerate(step.args):
            if isinstance(arg, Ref):
                consumers[arg.index].append(n_leaves + k)
            elif not (step.op == "**" and position == 1):
                constants += 1  # a plain number: a constant leaf with one edge
    evaluations, computations = [0] * n, [0] * n
    for i in reversed(range(n)):  # consumers come later in the record
        evaluations[i] = sum(1 + evaluations[c] for c in consumers[i])
        computations[i] = 1 + sum(computations[c] for c in consumers[i])
    return Costs(
        nodes=n,
        graph_size=n + constants,
        edges=sum(len(c) for c in consumers),
        naive_evaluations=sum(evaluations[:n_leaves]),
        naive_computations=sum(computations[:n_leaves]),
    )


# ------------------------------------------------- the contract, per memo setting

#: Settings of the contract's properties. Each subclass runs the mixin's
#: methods, which hypothesis sees as one test run from several classes
#: (differing_executors); their saved examples are valid DAGs for every memo
#: setting, so sharing them is harmless.
contract_settings = settings(deadline=None, suppress_health_check=[HealthCheck.differing_executors])


class GradientContract:
    """Behaviour every memo setting shares; subclasses set ``memo`` and check their costs."""

    memo: ClassVar[bool | int]
    #: The schedule asked for (None: backward's default for the memo setting).
    schedule: ClassVar[Schedule | None] = None
    #: Upper bound on the naive cost of a drawn graph (None: no bound).
    naive_budget: ClassVar[int | None] = None

    def draw(self, data: st.DataObject) -> ExpressionDag:
        """A random DAG whose cost under this memo setting stays small."""
        dag = data.draw(expression_dags(max_ops=16), label="dag")
        if self.naive_budget is not None:
            assume(costs(dag).naive_evaluations <= self.naive_budget)
        return dag

    def check_costs(self, result: Backward, expected: Costs) -> None:
        """Assert the counts this memo setting must report."""
        raise NotImplementedError

    @settings(contract_settings, max_examples=40)
    @given(data=st.data())
    def test_gradients_match_central_differences(self, data: st.DataObject) -> None:
        """∂loss/∂leaf equals the central difference of the plain-float replay, where it settled.

        A central difference is off by about f‴·eps²/6, which a drawn graph
        such as cos(x⁹) makes larger than any tolerance: a leaf counts only if
        the differences at eps and eps/4 agree, so that its reference is sound.
        """
        dag = self.draw(data)
        gradients = grad(dag.loss, wrt=list(dag.leaves), memo=self.memo, schedule=self.schedule)
        coarse, fine = central_differences(dag, 1e-6), central_differences(dag, 2.5e-7)
        checked = 0
        for g, fd, fd_fine in zip(gradients, coarse, fine, strict=True):
            if math.isclose(fd, fd_fine, rel_tol=1e-6, abs_tol=1e-6):
                assert math.isclose(g, fd, rel_tol=1e-5, abs_tol=1e-5), (g, fd)
                checked += 1
        assume(checked > 0)

    @settings(contract_settings, max_examples=40)
    @given(data=st.data())
    def test_gradients_match_every_other_memo_setting(self, data: st.DataObject) -> None:
        """The gradients agree (1e-9 relative) with the dict, naive and LRU settings."""
        dag = self.draw(data)
        assume(costs(dag).naive_evaluations <= 5_000)
        mine = grad(dag.loss, wrt=list(dag.leaves), memo=self.memo, schedule=self.schedule)
        others: list[tuple[bool | int, Schedule | None]] = [
            (True, None),
            (True, "top-down"),
            (False, None),
            (1, None),
            (3, None),
        ]
        for other, schedule in others:
            theirs = grad(dag.loss, wrt=list(dag.leaves), memo=other, schedule=schedule)
            for a, b in zip(mine, theirs, strict=True):
                assert relatively_close(a, b), (self.memo, other, a, b)

    @settings(contract_settings, max_examples=40)
    @given(data=st.data())
    def test_costs_match_the_graph(self, data: st.DataObject) -> None:
        """The reported costs match the counts derived from the graph's edges."""
        dag = self.draw(data)
        expected = costs(dag)
        result = backward(dag.loss, list(dag.leaves), memo=self.memo, schedule=self.schedule)
        assert result.graph_size == expected.graph_size
        # Adjoints computed once each: what the leaves need top-down, every node bottom-up.
        once = expected.graph_size if result.schedule == "bottom-up" else expected.nodes
        assert result.recomputations == result.computations - once
        self.check_costs(result, expected)

    @settings(contract_settings, max_examples=20)
    @given(data=st.data())
    def test_grad_twice_gives_identical_results(self, data: st.DataObject) -> None:
        """A second grad/backward call returns the same gradients and costs, never a sum."""
        dag = self.draw(data)
        wrt = list(dag.leaves)
        first = backward(dag.loss, wrt, memo=self.memo, schedule=self.schedule)
        second = backward(dag.loss, wrt, memo=self.memo, schedule=self.schedule)
        assert first == second
        for _ in range(2):
            again = grad(dag.loss, wrt=wrt, memo=self.memo, schedule=self.schedule)
            assert again == list(first.gradients)

    @settings(contract_settings, max_examples=20)
    @given(data=st.data())
    def test_default_wrt_is_every_leaf(self, data: st.DataObject) -> None:
        """grad(loss) returns a dict over every leaf below the loss, constants included."""
        dag = self.draw(data)
        gradients = grad(dag.loss, memo=self.memo, schedule=self.schedule)
        # Every leaf, found by walking the inputs here.
        leaves: dict[int, Value] = {}
        seen, stack = {id(dag.loss)}, [dag.loss]
        while stack:
            node = stack.pop()
            if not node.inputs:
                leaves[id(node)] = node
            for source in node.inputs:
                if id(source) not in seen:
                    seen.add(id(source))
                    stack.append(source)
        assert {id(k) for k in gradients} == set(leaves)
        assert all(leaf in gradients for leaf in dag.leaves)
        by_list = grad(dag.loss, wrt=list(dag.leaves), memo=self.memo, schedule=self.schedule)
        assert [gradients[leaf] for leaf in dag.leaves] == by_list

    def test_memo_setting_is_reported(self) -> None:
        """Backward.memo names the store that held the adjoints."""
        x = Value(1.0)
        label = backward(x * x, [x], memo=self.memo, schedule=self.schedule).memo
        if self.memo is True:
            assert label == "dict"
        elif self.memo is False:
            assert label == "none"
        else:
            assert label == f"lru({self.memo})"


class TestDictMemo(GradientContract):
    """memo=True, bottom-up (the default): the whole table, each adjoint once, in one sweep."""

    memo = True

    def check_costs(self, result: Backward, expected: Costs) -> None:
        """Every node below the loss once (constants too), every edge once, every lookup a hit."""
        assert result.schedule == "bottom-up"
        constants = expected.graph_size - expected.nodes  # one edge each
        assert result.local_derivative_evaluations == expected.edges + constants
        assert result.computations == expected.graph_size
        # Lookups: one per edge, one per leaf asked for; the sweep finds each in the table.
        assert result.hits == expected.edges + constants + len(result.wrt)
        assert result.recomputations == 0
        assert result.evictions == 0
        assert result.memo_size == expected.graph_size


class TestDictMemoTopDown(GradientContract):
    """memo=True, top-down: memoized recursion, every adjoint computed once."""

    memo = True
    schedule = "top-down"

    def check_costs(self, result: Backward, expected: Costs) -> None:
        """One computation per node, one evaluation per edge, a hit for every repeat request."""
        assert result.schedule == "top-down"
        assert result.local_derivative_evaluations == expected.edges
        assert result.computations == expected.nodes
        # Requests: one per edge, one per leaf asked for; every one not computed is a hit.
        assert result.hits == expected.edges + len(result.wrt) - expected.nodes
        assert result.recomputations == 0
        assert result.evictions == 0
        assert result.memo_size == expected.nodes


class TestNaive(GradientContract):
    """memo=False: the naive sum over all paths (small graphs only)."""

    memo = False
    naive_budget = 5_000

    def check_costs(self, result: Backward, expected: Costs) -> None:
        """Exactly the counts of the naive recurrences; nothing stored, nothing hit."""
        assert result.local_derivative_evaluations == expected.naive_evaluations
        assert result.computations == expected.naive_computations
        assert result.hits == 0
        assert result.evictions == 0
        assert result.memo_size == 0


class LRUContract(GradientContract):
    """memo=k: between the two, never holding more than k adjoints."""

    naive_budget: ClassVar[int | None] = 5_000

    def check_costs(self, result: Backward, expected: Costs) -> None:
        """Bounded by memoized and naive costs; holds at most k; exact when nothing is evicted."""
        assert isinstance(self.memo, int)
        assert result.memo_size <= self.memo
        assert expected.edges <= result.local_derivative_evaluations <= expected.naive_evaluations
        assert expected.nodes <= result.computations <= expected.naive_computations
        if self.memo >= expected.graph_size:
            assert result.evictions == 0
            assert result.recomputations == 0
            assert result.local_derivative_evaluations == expected.edges
            assert result.hits == expected.edges + len(result.wrt) - expected.nodes
        if result.evictions == 0:
            assert result.recomputations == 0


class TestLRU1(LRUContract):
    """memo=1: one adjoint kept."""

    memo = 1


class TestLRU2(LRUContract):
    """memo=2."""

    memo = 2


class TestLRU5(LRUContract):
    """memo=5."""

    memo = 5


class TestLRULarge(LRUContract):
    """memo=10**6: larger than any drawn graph, so it behaves as the dict."""

    memo = 10**6
    naive_budget = None


# ---------------------------------------------------------- the chain lesson


def chain(k: int, x0: float = 0.4, w0: float = 0.7) -> tuple[Value, Value, Value]:
    """``a = x·w; b = a + x; x = tanh(b)`` k times; return (x0, w, final x)."""
    x = first = Value(x0, label="x0")
    w = Value(w0, label="w")
    for _ in range(k):
        a = x * w
        b = a + x
        x = b.tanh()
    return first, w, x


def chain_gradients(k: int, x0: float = 0.4, w0: float = 0.7) -> tuple[float, float]:
    """∂x_k/∂x0 and ∂x_k/∂w of the chain, carried forward on plain floats (forward mode)."""
    x, dx0, dw = x0, 1.0, 0.0
    for _ in range(k):
        b = x * w0 + x
        db_dx0 = (w0 + 1.0) * dx0  # b = x·(w + 1)
        db_dw = x + (w0 + 1.0) * dw
        x = math.tanh(b)
        slope = 1.0 - x * x
        dx0, dw = slope * db_dx0, slope * db_dw
    return dx0, dw


@pytest.mark.parametrize("schedule", ["top-down", "bottom-up"])
@pytest.mark.parametrize("k", [1, 2, 3, 5, 8, 12])
def test_chain_memoized_cost_is_linear_in_depth(k: int, schedule: Schedule) -> None:
    """Memoized: 5 edges per link, so exactly 5k local derivatives and 3k + 2 adjoints."""
    x0, w, loss = chain(k)
    result = backward(loss, [x0, w], schedule=schedule)
    assert result.schedule == schedule
    # Per link: a has inputs x, w; b has a, x; tanh has b -> 5 edges, 3 nodes.
    assert result.local_derivative_evaluations == 5 * k
    assert result.computations == 3 * k + 2
    assert result.graph_size == 3 * k + 2
    # Requests: 5k edges + 2 starting nodes. Top-down, 3k + 2 of them were
    # misses that computed; bottom-up, every one finds its adjoint.
    assert result.hits == (2 * k if schedule == "top-down" else 5 * k + 2)
    assert result.recomputations == 0
    expected = chain_gradients(k)
    assert all(relatively_close(g, e) for g, e in zip(result.gradients, expected, strict=True))


def naive_chain_evaluations(k: int) -> int:
    """Naive cost for wrt=[x0, w]: 5(2^k - 1) for x0 plus 5(2^k - 1) - 2k for w.

    X(k) = 0 and X(i-1) = 5 + 2·X(i) give X(0) = 5(2^k - 1).

    With X(i) the naive evaluations below x_i: b_i costs 1 + X(i) (one consumer,
    x_i), a_i costs 1 + (1 + X(i)), and x_(i-1) has the two consumers a_i and
    b_i. w's consumers are a_1..a_k, so W = Σ_i (1 + 2 + X(i)).
    """
    return 10 * ((1 << k) - 1) - 2 * k


@pytest.mark.parametrize("k", range(1, 13))
def test_chain_naive_cost_is_exponential_in_depth(k: int) -> None:
    """Naive: the exact count from the recurrence, at least 2^k, doubling from k to k + 1."""
    x0, w, loss = chain(k)
    naive = backward(loss, [x0, w], memo=False)
    # The closed form checked against the recurrence itself.
    xs = [0] * (k + 1)
    for i in range(k, 0, -1):
        xs[i - 1] = 5 + 2 * xs[i]
    w_cost = sum(3 + xs[i] for i in range(1, k + 1))
    assert naive_chain_evaluations(k) == xs[0] + w_cost
    assert naive.local_derivative_evaluations == naive_chain_evaluations(k)
    assert naive.local_derivative_evaluations >= 2**k
    # Adjoint computations: C(x_k) = 1, C(x_(i-1)) = 1 + C(a) + C(b) = 4 + 2·C(x_i).
    assert naive.computations == 10 * 2**k - 8 - 2 * k
    assert naive.hits == 0 and naive.memo_size == 0
    memoized = backward(loss, [x0, w])
    assert naive.gradients == pytest.approx(memoized.gradients, rel=1e-9)
    if k >= 2:
        smaller = backward(chain(k - 1)[2], memo=False).local_derivative_evaluations
        ratio = naive.local_derivative_evaluations / smaller
        assert 2.0 <= ratio <= 2.0 + 4 * k / 2**k


def test_chain_naive_to_memoized_ratio_grows_without_bound() -> None:
    """The naive/memoized cost ratio is at least 2^k / k and keeps growing with depth."""
    ratios = []
    for k in (4, 8, 12):
        x0, w, loss = chain(k)
        naive = backward(loss, [x0, w], memo=False).local_derivative_evaluations
        memoized = backward(loss, [x0, w]).local_derivative_evaluations
        assert naive / memoized >= 2**k / k
        ratios.append(naive / memoized)
    assert ratios == sorted(ratios) and ratios[-1] > 500


@pytest.mark.parametrize("k", [2, 3, 5, 8])
@pytest.mark.parametrize("size", [1, 2, 3])
def test_chain_small_lru_recomputes(k: int, size: int) -> None:
    """An LRU memo much smaller than the graph drops adjoints and recomputes them."""
    x0, w, loss = chain(k)
    result = backward(loss, [x0, w], memo=size)
    assert result.recomputations > 0
    assert result.evictions > 0
    assert result.memo_size <= size
    assert 5 * k < result.local_derivative_evaluations <= naive_chain_evaluations(k)
    assert result.gradients == pytest.approx(chain_gradients(k), rel=1e-9)


@pytest.mark.parametrize("k", [1, 2, 5, 8])
@pytest.mark.parametrize("extra", [0, 1, 100])
def test_chain_lru_as_large_as_the_graph_never_recomputes(k: int, extra: int) -> None:
    """An LRU memo of at least graph-size (3k + 2) adjoints costs exactly what the dict does."""
    x0, w, loss = chain(k)
    size = 3 * k + 2 + extra
    result = backward(loss, [x0, w], memo=size)
    assert result.recomputations == 0
    assert result.evictions == 0
    assert result.local_derivative_evaluations == 5 * k
    assert result.computations == 3 * k + 2
    assert result.memo_size == 3 * k + 2 <= size


@pytest.mark.parametrize("size", [1, 2, 4, 7, 16, 64])
def test_chain_lru_memo_never_exceeds_its_bound(size: int) -> None:
    """memo_size <= k for every LRU size and depth, and the gradients stay exact."""
    for k in (1, 3, 6, 10):
        x0, w, loss = chain(k)
        result = backward(loss, [x0, w], memo=size)
        assert result.memo_size <= size
        assert result.memo_size == min(size, 3 * k + 2)
        assert result.gradients == pytest.approx(chain_gradients(k), rel=1e-9)


# ---------------------------------------------------------- the seed's network


def sigmoid(z: float) -> float:
    """The logistic function on plain floats."""
    return 1.0 / (1.0 + math.exp(-z))


def test_mlp_weight_gradient_is_the_sum_of_its_two_path_terms() -> None:
    """2→2→2→1 MLP: ∂L/∂w¹₁₁ = ∂L/∂ŷ·[∂ŷ/∂O₂₁·∂O₂₁/∂O₁₁ + ∂ŷ/∂O₂₂·∂O₂₂/∂O₁₁]·∂O₁₁/∂w¹₁₁."""
    x = [0.8, -0.3]
    # w1[i][j]: input i -> hidden-1 unit j; w2[i][j]: hidden-1 i -> hidden-2 j; w3[i]: -> ŷ
    w1 = [[0.5, -0.4], [0.3, 0.9]]
    b1 = [0.1, -0.2]
    w2 = [[-0.7, 0.6], [0.2, 0.4]]
    b2 = [0.05, -0.1]
    w3 = [1.3, -0.8]
    b3 = 0.2
    target = 0.5

    # The network with Values, sigmoid hidden units, linear output, squared error.
    vw1 = [
        [Value(v, label=f"w1_{i + 1}{j + 1}") for j, v in enumerate(r)] for i, r in enumerate(w1)
    ]
    vw2 = [[Value(v) for v in row] for row in w2]
    vw3 = [Value(v) for v in w3]
    o1 = [(x[0] * vw1[0][j] + x[1] * vw1[1][j] + b1[j]).sigmoid() for j in range(2)]
    o2 = [(o1[0] * vw2[0][j] + o1[1] * vw2[1][j] + b2[j]).sigmoid() for j in range(2)]
    y_hat = o2[0] * vw3[0] + o2[1] * vw3[1] + b3
    loss = (y_hat - target) ** 2

    # The same network by hand, with each local derivative of the seed.
    z1 = [x[0] * w1[0][j] + x[1] * w1[1][j] + b1[j] for j in range(2)]
    h1 = [sigmoid(z) for z in z1]
    z2 = [h1[0] * w2[0][j] + h1[1] * w2[1][j] + b2[j] for j in range(2)]
    h2 = [sigmoid(z) for z in z2]
    y = h2[0] * w3[0] + h2[1] * w3[1] + b3
    dL_dy = 2.0 * (y - target)
    dy_dO21, dy_dO22 = w3[0], w3[1]
    dO21_dO11 = h2[0] * (1 - h2[0]) * w2[0][0]
    dO22_dO11 = h2[1] * (1 - h2[1]) * w2[0][1]
    dO11_dw111 = h1[0] * (1 - h1[0]) * x[0]  # the factor both paths share
    path_1 = dL_dy * dy_dO21 * dO21_dO11 * dO11_dw111
    path_2 = dL_dy * dy_dO22 * dO22_dO11 * dO11_dw111

    assert math.isclose(loss.data, (y - target) ** 2, rel_tol=1e-12)
    assert path_1 != 0.0 and path_2 != 0.0
    for memo in (True, False, 2):
        [g] = grad(loss, wrt=[vw1[0][0]], memo=memo)
        assert math.isclose(g, path_1 + path_2, rel_tol=1e-12), (memo, g, path_1, path_2)
    # Memoized, the adjoints both paths share (∂L/∂ŷ, ∂L/∂O₁₁) are computed once;
    # naive recomputes ∂L/∂ŷ for each path.
    memoized = backward(loss, [vw1[0][0]], schedule="top-down")
    naive = backward(loss, [vw1[0][0]], memo=False)
    assert memoized.recomputations == 0
    assert naive.recomputations > 0
    assert naive.local_derivative_evaluations > memoized.local_derivative_evaluations


# ---------------------------------------------------------- API details


def test_backward_lookup_by_node() -> None:
    """Backward[node] returns that node's gradient, and KeyError for a node not asked for."""
    a, b = Value(2.0), Value(5.0)
    loss = a * b + a
    result = backward(loss, [b, a])
    assert result[a] == 6.0 and result[b] == 2.0
    assert result.wrt == (b, a) and result.gradients == (2.0, 6.0)
    with pytest.raises(KeyError, match="not among"):
        result[loss]


def test_grad_returns_gradients_in_the_order_asked() -> None:
    """wrt=[b, a] gives [∂/∂b, ∂/∂a]; a node listed twice appears twice."""
    a, b = Value(2.0), Value(5.0)
    loss = a * b + a
    assert grad(loss, wrt=[b, a]) == [2.0, 6.0]
    assert grad(loss, wrt=[a, b, a]) == [6.0, 2.0, 6.0]
    assert grad(loss, wrt=(a,)) == [6.0]
    assert grad(loss, wrt=[]) == []


def test_gradient_with_respect_to_inner_nodes_and_the_loss() -> None:
    """∂loss/∂loss = 1 and an inner node's gradient is its adjoint."""
    x = Value(3.0)
    h = x * x
    loss = h.sin()
    assert grad(loss, wrt=[loss, h]) == [1.0, math.cos(9.0)]
    assert grad(x, wrt=[x]) == [1.0]
    assert grad(x) == {x: 1.0}


def test_grad_accumulates_nothing_between_calls() -> None:
    """Interleaved grad calls on overlapping graphs each start from zero."""
    x = Value(0.5)
    y = (x * x).exp()
    z = y * 3.0
    g1 = grad(y, wrt=[x])
    g2 = grad(z, wrt=[x])
    g3 = grad(y, wrt=[x])
    expected = 2 * 0.5 * math.exp(0.25)
    assert g1 == g3
    assert math.isclose(g1[0], expected, rel_tol=1e-12)
    assert math.isclose(g2[0], 3 * expected, rel_tol=1e-12)


# ---------------------------------------------------------- bad input


def test_wrt_from_another_graph_is_a_value_error_naming_it() -> None:
    """A node the loss does not depend on raises ValueError naming wrt[i] and allow_unused."""
    x = Value(1.0)
    loss = x * 2.0
    stranger = Value(3.0, label="stranger") * 4.0
    for memo in (True, False, 3):
        with pytest.raises(ValueError, match=r"wrt\[1\] .*not part of.*allow_unused=True"):
            grad(loss, wrt=[x, stranger], memo=memo)
    with pytest.raises(ValueError, match=r"allow_unused=True"):
        backward(loss, [Value(7.0)])


def test_allow_unused_gives_zero_for_foreign_nodes() -> None:
    """allow_unused=True returns 0.0 for nodes outside the graph, the rest unchanged."""
    x = Value(1.5)
    loss = x * x
    other = Value(2.0)
    assert grad(loss, wrt=[other, x], allow_unused=True) == [0.0, 3.0]
    assert backward(loss, [other], allow_unused=True)[other] == 0.0


def test_a_single_value_as_wrt_is_a_type_error() -> None:
    """wrt=x (not [x]) raises TypeError that says to write wrt=[x]."""
    x = Value(1.0)
    with pytest.raises(TypeError, match=r"wrt=\[x\]"):
        grad(x * x, wrt=x)  # type: ignore[call-overload]


def test_a_non_value_in_wrt_is_a_type_error() -> None:
    """wrt=[1.0] raises TypeError naming the position."""
    x = Value(1.0)
    with pytest.raises(TypeError, match=r"wrt\[1\] is a float"):
        grad(x * x, wrt=[x, 1.0])  # type: ignore[list-item]


@pytest.mark.parametrize(
    "make_loss",
    [
        lambda x: [x, x * 2],
        lambda x: (x,),
        lambda x: 3.0,
        lambda x: x.data,
        lambda x: None,
        lambda x: "loss",
    ],
    ids=["list", "tuple", "number", "data", "none", "str"],
)
def test_a_non_scalar_loss_is_a_type_error(make_loss: Callable[[Value], Any]) -> None:
    """A list, tuple, number or other non-Value as the loss raises TypeError saying what it got."""
    x = Value(1.0)
    bad = make_loss(x)
    with pytest.raises(TypeError, match=r"loss must be (one|a) scalar Value"):
        grad(bad, wrt=[x])
    with pytest.raises(TypeError, match=type(bad).__name__):
        backward(bad)


# ------------------------------------------------- the two schedules


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_both_schedules_compute_the_same_adjoints_for_any_targets(data: st.DataObject) -> None:
    """Any targets (leaves, inner nodes, the loss, repeats): the same gradients.

    Top-down computes what the targets need; bottom-up the whole table, which
    includes it: every node and edge below the loss, once each.
    """
    dag = data.draw(expression_dags(max_ops=16), label="dag")
    wrt = data.draw(st.lists(st.sampled_from(dag.nodes), min_size=1, max_size=5), label="wrt")
    down = backward(dag.loss, wrt, schedule="top-down")
    up = backward(dag.loss, wrt, schedule="bottom-up")
    assert (down.schedule, up.schedule) == ("top-down", "bottom-up")
    for a, b in zip(down.gradients, up.gradients, strict=True):
        assert relatively_close(a, b), (a, b)
    assert up.graph_size == down.graph_size
    assert down.computations <= up.computations == up.memo_size == up.graph_size
    expected = costs(dag)
    edges = expected.edges + expected.graph_size - expected.nodes  # constants: one edge each
    assert down.local_derivative_evaluations <= up.local_derivative_evaluations == edges
    # Top-down, a lookup is a hit unless it started a computation; bottom-up, none does.
    lookups = down.local_derivative_evaluations + len(wrt)
    assert down.hits == lookups - down.computations
    assert up.hits == edges + len(wrt)


def test_a_graph_rewired_without_a_cycle_falls_back_to_top_down() -> None:
    """c, made before n, is rewired to consume n: the sweep would take n first, so top-down runs."""
    x = Value(0.5, label="x")
    c = x * 3.0
    n = x.sin()
    p = n * 2.0
    c.inputs, c.local_grads = (n, c.inputs[1]), (3.0, n.data)  # now c = n * 3, older than n
    c.data = n.data * 3.0
    loss = p + c  # = 5 sin x
    for schedule in (None, "top-down"):
        result = backward(loss, [x], schedule=schedule)
        assert result.schedule == "top-down"
        assert relatively_close(result.gradients[0], 5.0 * math.cos(0.5))


def test_a_rewired_graph_whose_consumers_still_come_first_is_swept() -> None:
    """a, older than its new input, is its only consumer: the sweep's order is still right."""
    x = Value(0.5, label="x")
    a = x * 3.0
    late = x.sin()
    a.inputs, a.local_grads = (late, a.inputs[1]), (3.0, late.data)  # now a = late * 3
    a.data = late.data * 3.0
    loss = a * a
    result = backward(loss, [x])
    assert result.schedule == "bottom-up"
    # loss = (3 sin x)², ∂loss/∂x = 2 · 3 sin x · 3 cos x
    assert relatively_close(result.gradients[0], 18.0 * math.sin(0.5) * math.cos(0.5))


@pytest.mark.parametrize("memo", [False, 1, 4])
def test_bottom_up_with_a_memo_that_keeps_less_than_everything_is_a_value_error(
    memo: bool | int,
) -> None:
    x = Value(2.0)
    with pytest.raises(ValueError, match=r"schedule='bottom-up'.*needs memo=True.*top-down"):
        backward(x * x, [x], memo=memo, schedule="bottom-up")
    # Top-down is what they run anyway.
    assert backward(x * x, [x], memo=memo).schedule == "top-down"


@pytest.mark.parametrize("schedule", ["topdown", "bottom_up", "", None, 1])
def test_an_unknown_schedule_is_a_value_error(schedule: Any) -> None:
    x = Value(2.0)
    if schedule is None:  # the default
        assert backward(x * x, [x]).schedule == "bottom-up"
        return
    with pytest.raises(ValueError, match=r"schedule= takes 'top-down' or 'bottom-up'"):
        backward(x * x, [x], schedule=schedule)


@pytest.mark.parametrize("memo", [0, -1, "x", 1.5, None, "True"])
def test_bad_memo_values_are_value_errors(memo: Any) -> None:
    """memo= other than True, False, a positive int or a Store raises ValueError saying so."""
    x = Value(1.0)
    with pytest.raises(ValueError, match=r"memo= takes True.*False.*positive int.*Store"):
        grad(x * x, wrt=[x], memo=memo)


@pytest.mark.parametrize(("store", "setting"), [(DictStore, True), (lambda: LRUStore(3), 3)])
def test_a_store_as_memo_costs_what_the_same_built_in_setting_costs(
    store: Callable[[], Any], setting: bool | int
) -> None:
    """memo=DictStore() / LRUStore(3) give memo=True / 3's gradients and counts, in that store."""
    x = w = Value(0.3)
    for _ in range(20):
        x = (x * w + x).tanh()
    given_store = store()
    mine = backward(x, [w], memo=given_store)
    built_in = backward(x, [w], memo=setting, schedule="top-down")
    assert mine.gradients == built_in.gradients
    fields = ("computations", "hits", "recomputations", "evictions", "memo_size")
    assert [getattr(mine, f) for f in fields] == [getattr(built_in, f) for f in fields]
    assert mine.memo == f"store({type(given_store).__name__})"
    assert len(given_store) == mine.memo_size > 0


def make_cycle() -> tuple[Value, Value, Value, Value]:
    """Build a -> b -> c by arithmetic, then rewire a to consume c: a cycle a -> b -> c -> a."""
    a = Value(1.0, label="a")
    b = a * 2.0
    c = b + 1.0
    a.inputs = (c,)
    a.local_grads = (1.0,)
    loss = c.tanh()
    return a, b, c, loss


@pytest.mark.parametrize("memo", [True, False, 1, 4])
def test_a_cycle_built_by_hand_is_a_cycle_error_with_its_path(memo: bool | int) -> None:
    """A graph rewired into a cycle raises CycleError whose path holds the cycle's nodes."""
    a, b, c, loss = make_cycle()
    with pytest.raises(CycleError) as info:
        grad(loss, memo=memo)
    path = info.value.path
    assert path[0] is path[-1]
    for node in (a, b, c):
        assert any(p is node for p in path), (node, path)
    assert not any(p is loss for p in path)
    assert "a sub-problem depends on itself" in str(info.value)


def test_a_cycle_with_wrt_given_is_a_cycle_error() -> None:
    """Asking for one node of the cycle also raises CycleError (not RecursionError)."""
    a, _, _, loss = make_cycle()
    with pytest.raises(CycleError):
        grad(loss, wrt=[a])


def test_a_long_cycle_is_reported_without_recursion_error() -> None:
    """A cycle through 5,000 nodes is found by the explicit-stack engine."""
    start = Value(0.1)
    x = start
    for _ in range(5_000):
        x = x + 1.0
    start.inputs = (x,)
    start.local_grads = (1.0,)
    with pytest.raises(CycleError) as info:
        grad(x.sin(), wrt=[start])
    assert len(info.value.path) > 5_000


@pytest.mark.parametrize(("schedule", "hits"), [("top-down", 1), ("bottom-up", 3)])
def test_a_node_feeding_one_consumer_twice_counts_both_edges(schedule: Schedule, hits: int) -> None:
    """x * x gives x the consumer twice: two local derivatives, one adjoint computation."""
    x = Value(1.5)
    sq = x * x
    assert sq.inputs == (x, x)
    result = backward(sq, [x], schedule=schedule)
    assert result.gradients == (3.0,)
    assert result.local_derivative_evaluations == 2
    assert result.computations == 2
    # Top-down: the second request for sq's adjoint. Bottom-up: both uses and the target.
    assert result.hits == hits
    naive = backward(sq, [x], memo=False)
    assert naive.local_derivative_evaluations == 2
    assert naive.computations == 3


# ---------------------------------------------------------- deep graphs


@pytest.mark.slow
def test_a_chain_of_300_thousand_nodes_with_a_shared_weight() -> None:
    """The lesson's chain, 10^5 links (3·10^5 nodes; w has 10^5 consumers), matches forward mode."""
    k = 100_000
    x0, w, loss = chain(k)
    result = backward(loss, [x0, w])
    assert result.graph_size == 3 * k + 2
    assert result.local_derivative_evaluations == 5 * k
    expected = chain_gradients(k)
    for g, e in zip(result.gradients, expected, strict=True):
        assert math.isclose(g, e, rel_tol=1e-9), (g, e)


@pytest.mark.slow
def test_a_chain_of_a_million_nodes_gets_its_gradient_without_recursion_error() -> None:
    """x ← tanh(x) 999,999 times (10^6 nodes): ∂x_n/∂x_0 = Π (1 - x_i²), no RecursionError."""
    n = 10**6 - 1
    x = start = Value(0.9)
    for _ in range(n):
        x = x.tanh()
    # The chain rule on plain floats: each link multiplies by tanh'(x_(i-1)) = 1 - x_i².
    value, expected = 0.9, 1.0
    for _ in range(n):
        value = math.tanh(value)
        expected *= 1.0 - value * value
    assert x.data == value
    result = backward(x, [start])
    assert result.graph_size == 10**6
    assert result.local_derivative_evaluations == n
    assert math.isclose(result.gradients[0], expected, rel_tol=1e-9), (result, expected)


class _GcWatchingStore(DictStore[Any]):
    """A memo that records gc.isenabled() at each store, and can hold the pass at its first."""

    def __init__(self, hold: threading.Event | None = None) -> None:
        super().__init__()
        self.seen: list[bool] = []
        self.entered = threading.Event()
        self.hold = hold

    def set(self, key: Any, value: Any) -> None:
        self.seen.append(gc.isenabled())
        if self.hold is not None and not self.entered.is_set():
            self.entered.set()
            assert self.hold.wait(timeout=60), "the test never released the pass"
        super().set(key, value)


def _deep_graph() -> tuple[Value, Value]:
    x = w = Value(0.5)
    for _ in range(200):
        x = (x * w + x).tanh()
    return x, w


def test_backward_leaves_the_collector_as_the_application_set_it() -> None:
    """No backward pass switches the collector: on stays on, off stays off, during and after."""
    loss, w = _deep_graph()
    was = gc.isenabled()
    try:
        for setting in (True, False):
            (gc.enable if setting else gc.disable)()
            store = _GcWatchingStore()
            backward(loss, [w], memo=store)
            backward(loss, [w])  # the bottom-up sweep
            assert store.seen and set(store.seen) == {setting}
            assert gc.isenabled() is setting
    finally:
        (gc.enable if was else gc.disable)()


def test_backward_in_two_threads_never_changes_a_third_threads_collector() -> None:
    """Two passes held mid-way in two threads: a third thread sees the collector as it set it.

    The third thread then switches the collector off on purpose, and it is
    still off after both passes end (a pass that paused and resumed it would
    switch it back on).
    """
    assert gc.isenabled()
    release = threading.Event()
    stores = [_GcWatchingStore(release), _GcWatchingStore(release)]
    graphs = [_deep_graph(), _deep_graph()]
    results: list[Backward] = []
    threads = [
        threading.Thread(target=lambda s=s, g=g: results.append(backward(g[0], [g[1]], memo=s)))
        for s, g in zip(stores, graphs, strict=True)
    ]
    for t in threads:
        t.start()
    try:
        for s in stores:
            assert s.entered.wait(timeout=60)
        assert gc.isenabled()  # both passes are running: the application's setting holds
        gc.disable()  # the third thread turns the collector off on purpose
    finally:
        release.set()
        for t in threads:
            t.join(timeout=60)
    try:
        assert len(results) == 2
        assert not gc.isenabled()  # still off after both passes ended
        assert all(s.seen[0] is True for s in stores)  # recorded while the collector was on
    finally:
        gc.enable()


def test_the_collector_runs_after_a_backward_pass_that_raised() -> None:
    """An error inside the pass (a foreign wrt node) leaves the collector running."""
    assert gc.isenabled()
    with pytest.raises(ValueError):
        grad(Value(1.0) * 2.0, wrt=[Value(3.0)])
    assert gc.isenabled()
