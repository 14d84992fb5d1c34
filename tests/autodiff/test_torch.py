"""Cross-check against PyTorch autograd (skipped when torch is not installed).

The random graphs' recorded steps are replayed with torch operations on 0-d
float64 tensors; torch's gradients must match memokit's.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings

from memokit.autodiff import Value, grad
from tests.helpers.strategies import ExpressionDag, expression_dags

# Imported through importorskip (typed Any), so mypy passes with or without torch.
torch: Any = pytest.importorskip("torch")

TORCH_OPS: dict[str, Callable[..., Any]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "**": lambda a, p: torch.pow(a, p),
    "neg": lambda a: -a,
    "exp": torch.exp,
    "log": torch.log,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "sin": torch.sin,
    "cos": torch.cos,
    "sqrt": torch.sqrt,
}


def leaf(value: float) -> Any:
    """A 0-d float64 tensor that requires its gradient."""
    return torch.tensor(value, dtype=torch.float64, requires_grad=True)


def close(a: float, b: float) -> bool:
    """Equal within 1e-9 relative (1e-12 absolute near 0)."""
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


@settings(max_examples=60, deadline=None)
@given(expression_dags(max_ops=16))
def test_gradients_match_torch_autograd(dag: ExpressionDag) -> None:
    """memokit's gradients (dict and LRU memo) equal torch.autograd's on random DAGs."""
    leaves = [leaf(v.data) for v in dag.leaves]
    loss = dag.replay(leaves, TORCH_OPS)
    assert close(loss.item(), dag.loss.data)
    expected = [g.item() for g in torch.autograd.grad(loss, leaves)]
    for memo in (True, 3):
        got = grad(dag.loss, wrt=list(dag.leaves), memo=memo)
        for g, e in zip(got, expected, strict=True):
            assert close(g, e), (memo, g, e)


def test_chain_gradients_match_torch_autograd() -> None:
    """The lesson's chain (a = x·w; b = a + x; x = tanh(b), 200 links) matches torch."""
    x0, w0 = 0.4, 0.7
    tx, tw = leaf(x0), leaf(w0)
    vx, vw = Value(x0), Value(w0)
    t, v = tx, vx
    for _ in range(200):
        t = torch.tanh(t * tw + t)
        v = (v * vw + v).tanh()
    expected = [g.item() for g in torch.autograd.grad(t, [tx, tw])]
    got = grad(v, wrt=[vx, vw])
    assert all(close(g, e) for g, e in zip(got, expected, strict=True)), (got, expected)
