"""Typing tests for memokit.autodiff's arrays: what mypy --strict must accept, and the types.

Checked by tests/autodiff/test_typing.py; this file is type-checked, never run.
"""

from __future__ import annotations

from typing import Any, assert_type

import numpy as np
from numpy.typing import NDArray

from memokit import DagStats
from memokit.autodiff import (
    VJP,
    Activations,
    GradcheckReport,
    Tensor,
    TensorBackward,
    backward,
    forward,
    grad,
    gradcheck,
)

W = Tensor(np.ones((3, 2), np.float32), label="W")
b = Tensor([0.0, 0.0])
x = np.ones((4, 3), np.float32)

# Operations with Tensors, numbers and arrays on either side are Tensors.
h = (x @ W + b).tanh()
assert_type(h, Tensor)
assert_type(W @ np.ones((2, 2)), Tensor)
assert_type(2.0 * W - 1, Tensor)
assert_type(W / [1.0, 2.0], Tensor)
assert_type(W**2, Tensor)
assert_type(-W, Tensor)
assert_type(W[0], Tensor)
assert_type(W.T, Tensor)
assert_type(W.reshape(6), Tensor)
assert_type(W.transpose(1, 0), Tensor)
assert_type(h.sum(axis=0), Tensor)
assert_type(h.mean(), Tensor)
assert_type(h.sigmoid().relu().exp().log(), Tensor)
assert_type(h.cross_entropy(np.array([0, 1, 0, 1])), Tensor)
assert_type(W.data, NDArray[Any])
assert_type(W.shape, tuple[int, ...])
assert_type(h.item(), float)

loss = h.cross_entropy(np.array([0, 1, 0, 1]))

# grad and backward: arrays for Tensors.
assert_type(grad(loss, [W, b]), list[NDArray[Any]])
assert_type(grad(loss, [W], memo=4), list[NDArray[Any]])
assert_type(grad(loss), dict[Tensor, NDArray[Any]])
result = backward(loss, [W, b])
assert_type(result, TensorBackward)
assert_type(result.gradients, tuple[NDArray[Any], ...])
assert_type(result[W], NDArray[Any])
assert_type(result.recomputations, int)

# forward and gradcheck take Tensors too.
assert_type(forward(loss, {W: np.zeros((3, 2))}), NDArray[Any])
assert_type(gradcheck(loss, [W], samples=4, seed=1), GradcheckReport)

# Activations and VJP.
table = Activations(maxsize=8)
with table as same:
    assert_type(same, Activations)
assert_type(table.stats(), DagStats)
square = VJP(lambda g: 2.0 * g)
assert_type(Tensor.apply(lambda a: (a * a, (square,)), W), Tensor)
