"""grad and backward on Tensor graphs: one contract for every memo setting, bounded activations.

The references are computed here, independently of memokit: the random
graphs come with a record of their steps (tests/helpers/strategies.py),
replayed with plain NumPy for central differences, and whose edges give
the exact costs of memoized and naive backprop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

np = pytest.importorskip("numpy", reason="the Tensor tests need NumPy (pip install numpy)")

from memokit import DictStore, LRUStore  # noqa: E402
from memokit.autodiff import Activations, Tensor, TensorBackward, backward, grad  # noqa: E402
from tests.helpers.strategies import (  # noqa: E402
    ArrayExpressionDag,
    Ref,
    array_expression_dags,
    numpy_ops,
    tensor_ops,
)

NUMPY = numpy_ops()
TENSOR = tensor_ops()

# ---------------------------------------------------------------- references


def central_differences(dag: ArrayExpressionDag, eps: float) -> list[Any]:
    """∂loss/∂leaf, entry by entry, from the NumPy replay nudged by ±eps."""
    base = [leaf.data.copy() for leaf in dag.leaves]
    result = []
    for i, value in enumerate(base):
        slope = np.zeros_like(value)
        for position in np.ndindex(value.shape):
            moved = []
            for step in (eps, -eps):
                leaves = [v.copy() for v in base]
                leaves[i][position] += step
                moved.append(float(dag.replay(leaves, NUMPY)))
            slope[position] = (moved[0] - moved[1]) / (2 * eps)
        result.append(slope)
    return result


@dataclass(frozen=True)
class Costs:
    """What backprop over the recorded graph must cost, counted from its steps."""

    #: Nodes below the loss (leaves and steps: constants are not nodes).
    nodes: int
    #: Consumer edges between them: memoized local-derivative evaluations.
    edges: int
    #: Σ over the leaves of E(leaf), E(n) = Σ_c (1 + E(c)): naive evaluations.
    naive_evaluations: int


def costs(dag: ArrayExpressionDag) -> Costs:
    """Count the edges and the naive recurrence of the recorded graph."""
    n = len(dag.steps)
    consumers: list[list[int]] = [[] for _ in range(n)]
    for k, step in enumerate(dag.steps):
        for arg in step.args:
            if isinstance(arg, Ref):
                consumers[arg.index].append(k)
    evaluations = [0] * n
    for i in reversed(range(n)):
        evaluations[i] = sum(1 + evaluations[c] for c in consumers[i])
    leaves = [i for i, s in enumerate(dag.steps) if s.op == "leaf"]
    return Costs(n, sum(map(len, consumers)), sum(evaluations[i] for i in leaves))


def agree(a: Any, b: Any, rel: float = 1e-9) -> bool:
    """Equal within ``rel`` relative error (absolute near 0), entry by entry."""
    return bool(np.allclose(a, b, rtol=rel, atol=rel * 1e-3))


contract_settings = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.differing_executors, HealthCheck.too_slow],
)


def bounded_loss(dag: ArrayExpressionDag, maxsize: int) -> Any:
    """The same steps on the same leaves, built again inside Activations(maxsize)."""
    with Activations(maxsize):
        return dag.replay(list(dag.leaves), TENSOR)


# ------------------------------------------------- the contract, per memo setting


class TensorGradientContract:
    """Behaviour every memo setting shares on Tensor graphs."""

    memo: ClassVar[bool | int]
    #: Upper bound on the naive cost of a drawn graph (None: no bound).
    naive_budget: ClassVar[int | None] = None

    def draw(self, data: st.DataObject) -> ArrayExpressionDag:
        """A random DAG whose cost under this memo setting stays small."""
        dag = data.draw(array_expression_dags(max_ops=10), label="dag")
        if self.naive_budget is not None:
            assume(costs(dag).naive_evaluations <= self.naive_budget)
        return dag

    @settings(contract_settings, max_examples=30)
    @given(data=st.data())
    def test_gradients_match_central_differences(self, data: st.DataObject) -> None:
        """Each gradient entry equals the NumPy replay's central difference, where it settled."""
        dag = self.draw(data)
        gradients = grad(dag.loss, wrt=list(dag.leaves), memo=self.memo)
        coarse, fine = central_differences(dag, 1e-6), central_differences(dag, 2.5e-7)
        checked = 0
        for g, leaf, fd, fd_fine in zip(gradients, dag.leaves, coarse, fine, strict=True):
            assert g.shape == leaf.shape and g.dtype == leaf.dtype
            settled = np.isclose(fd, fd_fine, rtol=1e-6, atol=1e-6)
            assert np.allclose(g[settled], fd[settled], rtol=1e-5, atol=1e-5), (g, fd)
            checked += int(settled.sum())
        assume(checked > 0)

    @settings(contract_settings, max_examples=30)
    @given(data=st.data())
    def test_gradients_match_every_other_memo_setting_and_bounded_activations(
        self, data: st.DataObject
    ) -> None:
        """Dict, naive, LRU adjoints and LRU-bounded activations all give the same gradients."""
        dag = self.draw(data)
        assume(costs(dag).naive_evaluations <= 2_000)
        wrt = list(dag.leaves)
        mine = grad(dag.loss, wrt=wrt, memo=self.memo)
        for other in (True, False, 1, 3):
            for g, theirs in zip(mine, grad(dag.loss, wrt=wrt, memo=other), strict=True):
                assert agree(g, theirs), (self.memo, other)
        for maxsize in (1, 2, 5):
            again = bounded_loss(dag, maxsize)
            for g, theirs in zip(mine, grad(again, wrt=wrt, memo=self.memo), strict=True):
                assert agree(g, theirs), ("activations", maxsize)

    @settings(contract_settings, max_examples=30)
    @given(data=st.data())
    def test_costs_match_the_graph(self, data: st.DataObject) -> None:
        """Graph size and evaluations match the counts derived from the record's edges."""
        dag = self.draw(data)
        expected = costs(dag)
        result = backward(dag.loss, list(dag.leaves), memo=self.memo)
        assert isinstance(result, TensorBackward)
        assert result.graph_size == expected.nodes
        assert expected.edges <= result.local_derivative_evaluations
        assert result.local_derivative_evaluations <= expected.naive_evaluations
        if self.memo is True:
            assert result.local_derivative_evaluations == expected.edges
            assert result.computations == expected.nodes
            assert result.recomputations == 0
        elif self.memo is False:
            assert result.local_derivative_evaluations == expected.naive_evaluations
            assert result.memo_size == 0
        else:
            assert result.memo_size <= self.memo

    @settings(contract_settings, max_examples=15)
    @given(data=st.data())
    def test_backward_twice_gives_identical_gradients(self, data: st.DataObject) -> None:
        """A second pass returns equal gradients (never their sum), each a fresh array."""
        dag = self.draw(data)
        wrt = list(dag.leaves)
        first = grad(dag.loss, wrt=wrt, memo=self.memo)
        second = grad(dag.loss, wrt=wrt, memo=self.memo)
        for a, b in zip(first, second, strict=True):
            assert np.array_equal(a, b)
            assert a is not b and not np.shares_memory(a, b)


class TestTensorMemoized(TensorGradientContract):
    """memo=True: the bottom-up sweep, each adjoint once."""

    memo = True


class TestTensorNaive(TensorGradientContract):
    """memo=False: the naive sum over paths."""

    memo = False
    naive_budget = 2_000


class TestTensorLRU2(TensorGradientContract):
    """memo=2: two adjoints kept, the rest recomputed when needed."""

    memo = 2
    naive_budget = 2_000


# ---------------------------------------------------------- float32 and stores


@settings(deadline=None, max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(array_expression_dags(max_ops=8, dtype="float32"))
def test_float32_graphs_keep_float32_and_agree_with_float64(dag: ArrayExpressionDag) -> None:
    """A float32 graph's values and gradients stay float32 and match a float64 replay."""
    gradients = grad(dag.loss, wrt=list(dag.leaves))
    assert dag.loss.dtype == np.float32
    assert all(g.dtype == np.float32 for g in gradients)
    wide = [leaf.data.astype(np.float64) for leaf in dag.leaves]
    assert np.isclose(dag.loss.item(), float(dag.replay(wide, NUMPY)), rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize(("store", "setting"), [(DictStore, True), (lambda: LRUStore(3), 3)])
def test_a_store_as_memo_costs_what_the_same_built_in_setting_costs(
    store: Any, setting: bool | int
) -> None:
    """memo=DictStore() / LRUStore(3) cost what memo=True / 3 cost, on a Tensor chain."""
    rng = np.random.default_rng(0)
    w = Tensor(rng.standard_normal((3, 3)))
    x = Tensor(rng.standard_normal((2, 3)))
    h = x
    for _ in range(10):
        h = (h @ w + h).tanh()
    loss = h.sum()
    given_store = store()
    mine = backward(loss, [w], memo=given_store)
    built_in = backward(loss, [w], memo=setting, schedule="top-down")
    assert np.array_equal(mine.gradients[0], built_in.gradients[0])
    fields = ("computations", "hits", "recomputations", "evictions", "memo_size")
    assert [getattr(mine, f) for f in fields] == [getattr(built_in, f) for f in fields]
    assert len(given_store) == mine.memo_size > 0
