"""forward and gradcheck on Tensor graphs: re-evaluation against a replay, a wrong VJP caught."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

np = pytest.importorskip("numpy", reason="the Tensor tests need NumPy (pip install numpy)")

from memokit.autodiff import VJP, Tensor, forward, gradcheck  # noqa: E402
from tests.helpers.strategies import (  # noqa: E402
    ArrayExpressionDag,
    array_expression_dags,
    numpy_ops,
)

NUMPY = numpy_ops()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(array_expression_dags(max_ops=8), st.integers(0, 2**32 - 1))
def test_forward_with_new_leaves_equals_the_numpy_replay(
    dag: ArrayExpressionDag, seed: int
) -> None:
    """forward(loss, new leaf arrays) equals the NumPy replay; the leaves keep their data."""
    assert np.isclose(float(forward(dag.loss)), dag.loss.item(), rtol=1e-12, atol=1e-12)
    before = [leaf.data.copy() for leaf in dag.leaves]
    rng = np.random.default_rng(seed)
    new = [leaf.data + rng.uniform(-0.01, 0.01, leaf.shape) for leaf in dag.leaves]
    got = forward(dag.loss, dict(zip(dag.leaves, new, strict=True)))
    assert np.isclose(float(got), float(dag.replay(new, NUMPY)), rtol=1e-9, atol=1e-12)
    for leaf, old in zip(dag.leaves, before, strict=True):
        assert np.array_equal(leaf.data, old)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(array_expression_dags(max_ops=8))
def test_gradcheck_accepts_every_generated_graph(dag: ArrayExpressionDag) -> None:
    """gradcheck's sampled entries agree with backprop on random DAGs."""
    report = gradcheck(dag.loss, list(dag.leaves), samples=4, rtol=1e-4, atol=1e-6)
    assert report.ok, str(report)
    assert len(report.entries) == sum(min(leaf.data.size, 4) for leaf in dag.leaves)


def square_wrong(a: Any) -> tuple[Any, tuple[VJP, ...]]:
    """a² with a wrong VJP: 3a·g instead of 2a·g."""
    return a * a, (VJP(lambda g: 3.0 * a * g),)


def test_gradcheck_fails_and_names_the_worst_entry() -> None:
    """A wrong VJP fails gradcheck; the report names the leaf and entry with the largest error."""
    w = Tensor(np.array([[0.5, -2.0], [1.0, 0.25]]), label="w")
    b = Tensor(np.array([0.1, 0.2]), label="b")
    loss = (Tensor.apply(square_wrong, w) + b).sum()
    report = gradcheck(loss, [b, w])
    assert not report.ok
    worst = report.worst
    assert worst is not None and worst.node is w and worst.index == 1
    assert worst.position == (0, 1)  # |3a - 2a| = |a| is largest at a = -2
    assert worst.analytic == pytest.approx(-6.0) and worst.numeric == pytest.approx(-4.0)
    assert str(report).startswith("gradcheck FAILED: 6 gradients, worst is wrt[1][0, 1] (w)")


def test_gradcheck_samples_entries_of_large_leaves() -> None:
    """A leaf of 100 entries is checked on `samples` distinct entries, chosen by `seed`."""
    x = Tensor(np.linspace(-1, 1, 100).reshape(10, 10))
    loss = (x.tanh() ** 2).sum()
    reports = [gradcheck(loss, [x], samples=7, seed=s) for s in (0, 0, 1)]
    positions = [[e.position for e in r.entries] for r in reports]
    assert all(r.ok for r in reports)
    assert len(set(positions[0])) == 7 and positions[0] == positions[1] != positions[2]
    with pytest.raises(ValueError, match="samples= must be at least 1"):
        gradcheck(loss, [x], samples=0)


def test_gradcheck_refuses_inner_nodes() -> None:
    """Only leaves can be nudged: an inner node in wrt is a ValueError naming it."""
    x = Tensor(np.ones(3))
    h = x.exp()
    with pytest.raises(ValueError, match=r"leaves only; wrt\[1\]"):
        gradcheck(h.sum(), [x, h])
