"""Cross-check of Tensor gradients against PyTorch autograd in float64.

Skipped where torch is not installed (CI installs torch==2.13.0 on Python
3.11; there is no wheel of it for 3.12 and 3.13 on these machines). The
random graphs' recorded steps are replayed with torch operations.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

np = pytest.importorskip("numpy", reason="the Tensor tests need NumPy (pip install numpy)")
# Imported through importorskip (typed Any), so mypy passes with or without torch.
torch: Any = pytest.importorskip(
    "torch", reason="PyTorch is not installed (CI installs torch==2.13.0 on Python 3.11)"
)

from memokit.autodiff import Tensor, grad  # noqa: E402
from tests.helpers.strategies import ArrayExpressionDag, array_expression_dags  # noqa: E402


def as_torch(x: Any) -> Any:
    """A float64 torch tensor of a constant (arrays and numbers alike)."""
    return torch.as_tensor(np.asarray(x, dtype=np.float64))


def _binary(f: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def both_tensors(a: Any, b: Any) -> Any:
        return f(a if torch.is_tensor(a) else as_torch(a), b if torch.is_tensor(b) else as_torch(b))

    return both_tensors


TORCH_OPS: dict[str, Callable[..., Any]] = {
    "+": _binary(torch.add),
    "-": _binary(torch.sub),
    "*": _binary(torch.mul),
    "/": _binary(torch.div),
    "@": _binary(torch.matmul),
    "**": lambda a, p: torch.pow(a, p),
    "neg": torch.neg,
    "exp": torch.exp,
    "log": torch.log,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "sum": lambda a, axis: a.sum(dim=axis, keepdim=True),
    "mean": lambda a, axis: a.mean(dim=axis, keepdim=True),
    "T": lambda a: a.permute(tuple(reversed(range(a.dim())))),
    "total": torch.sum,
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(array_expression_dags(max_ops=10))
def test_gradients_match_torch_autograd(dag: ArrayExpressionDag) -> None:
    """Tensor gradients (dict and LRU memo) equal torch.autograd.grad's on random DAGs."""
    leaves = [torch.tensor(x.data, dtype=torch.float64, requires_grad=True) for x in dag.leaves]
    loss = dag.replay(leaves, TORCH_OPS)
    assert np.isclose(loss.item(), dag.loss.item(), rtol=1e-12, atol=1e-12)
    expected = [g.numpy() for g in torch.autograd.grad(loss, leaves, allow_unused=False)]
    for memo in (True, 3):
        got = grad(dag.loss, wrt=list(dag.leaves), memo=memo)
        for g, e in zip(got, expected, strict=True):
            assert np.allclose(g, e, rtol=1e-9, atol=1e-12), (memo, g, e)


def test_mlp_with_cross_entropy_matches_torch() -> None:
    """The digits-shaped MLP (tanh, two hidden layers, softmax cross-entropy) matches torch."""
    rng = np.random.default_rng(0)
    sizes = [8, 6, 5, 4]
    arrays = []
    for a, b in itertools.pairwise(sizes):
        arrays += [rng.normal(size=(a, b)) / a**0.5, rng.normal(size=b) * 0.1]
    x, labels = rng.normal(size=(7, 8)), rng.integers(0, 4, size=7)

    params = [Tensor(a) for a in arrays]
    h: Any = x
    for i in range(3):
        h = h @ params[2 * i] + params[2 * i + 1]
        if i < 2:
            h = h.tanh()
    loss = h.cross_entropy(labels)
    got = grad(loss, params)

    tparams = [torch.tensor(a, requires_grad=True) for a in arrays]
    th = torch.tensor(x)
    for i in range(3):
        th = th @ tparams[2 * i] + tparams[2 * i + 1]
        if i < 2:
            th = torch.tanh(th)
    tloss = torch.nn.functional.cross_entropy(th, torch.tensor(labels))
    assert np.isclose(tloss.item(), loss.item(), rtol=1e-12)
    for g, e in zip(got, torch.autograd.grad(tloss, tparams), strict=True):
        assert np.allclose(g, e.numpy(), rtol=1e-10, atol=1e-13)
