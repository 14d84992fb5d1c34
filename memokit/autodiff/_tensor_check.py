"""Tensor graphs evaluated again from new leaf values, and their gradients checked entry by entry.

Finite differences need the loss as a function of one entry of one leaf.
:func:`forward_tensor` evaluates a recorded graph again (the forward DP over
inputs, each node once) with some leaves given new arrays, and
:func:`gradcheck_tensor` nudges a sample of entries by ±eps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from memokit._dag import DagEvaluator
from memokit.autodiff._check import GradcheckEntry, GradcheckReport
from memokit.autodiff._grad import backward
from memokit.autodiff._tensor import Tensor
from memokit.autodiff._tensor_ops import Array

__all__ = ["forward_tensor", "gradcheck_tensor"]


def forward_tensor(node: Tensor, leaves: Mapping[Tensor, Any] | None = None) -> Array:
    """Evaluate ``node`` again over its inputs, with some leaves given new values.

    >>> x = Tensor([1.0, 2.0])
    >>> y = (x * x).sum()
    >>> forward_tensor(y), forward_tensor(y, {x: np.array([3.0, 0.0])})
    (array(5.), array(9.))
    """
    overrides = {id(leaf): np.asarray(v) for leaf, v in (leaves or {}).items()}

    def value(n: Tensor, input_values: list[Array]) -> Array:
        if n.op is None:
            return overrides.get(id(n), n.data)
        given = iter(input_values)
        args = [next(given) if isinstance(x, Tensor) else x for x in n.operands]
        return np.asarray(n.op(*args, *n.params)[0])

    evaluator: DagEvaluator[Tensor, Array] = DagEvaluator(
        inputs=lambda n: [x for x in n.operands if isinstance(x, Tensor)], compute=value
    )
    return evaluator.evaluate(node)


def gradcheck_tensor(
    loss: Tensor,
    wrt: Sequence[Tensor] | None = None,
    *,
    eps: float = 1e-6,
    rtol: float = 1e-4,
    atol: float = 1e-7,
    samples: int = 16,
    seed: int = 0,
) -> GradcheckReport:
    """Compare backprop's gradients with central differences on up to ``samples`` entries per leaf.

    The entries are drawn at random (``seed``) when a leaf has more. Check in
    float64: float32 has too few digits for a difference at eps = 1e-6.
    """
    if samples < 1:
        raise ValueError(f"samples= must be at least 1, got {samples}")
    result = backward(loss, wrt)
    rng = np.random.default_rng(seed)
    entries = []
    for i, (node, analytic) in enumerate(zip(result.wrt, result.gradients, strict=True)):
        if not node.is_leaf():
            raise ValueError(
                f"gradcheck nudges leaves only; wrt[{i}] ({node!r}) is computed from other nodes"
            )
        size = node.data.size
        picked = np.arange(size) if size <= samples else rng.choice(size, samples, replace=False)
        for flat in sorted(int(p) for p in picked):
            position = tuple(int(p) for p in np.unravel_index(flat, node.shape))
            slopes = []
            for step in (eps, -eps):
                nudged = node.data.copy()
                nudged[position] += step
                slopes.append(float(forward_tensor(loss, {node: nudged}).sum()))
            numeric = (slopes[0] - slopes[1]) / (2 * eps)
            entries.append(GradcheckEntry(i, node, float(analytic[position]), numeric, position))
    return GradcheckReport(tuple(entries), eps, rtol, atol)
