"""Typing tests for memokit.autodiff's arrays: calls mypy --strict must reject.

Each wrong line carries ``# type: ignore[<code>]``; under warn_unused_ignores
an ignore that suppresses nothing is itself an error, so if the types stop
rejecting one of these lines, mypy fails this file (checked by
tests/autodiff/test_typing.py). This file is type-checked, never run.
"""

from __future__ import annotations

import numpy as np

from memokit.autodiff import Activations, Tensor, Value, backward, grad

W = Tensor(np.ones((2, 2)))
v = Value(1.0)
loss = (W * W).sum()

# No Tensor exponent; no strings.
W**W  # type: ignore[operator]
W + "s"  # type: ignore[operator]

# wrt holds nodes of the loss's kind; the loss is one node.
grad(loss, wrt=[v])  # type: ignore[list-item]
grad(loss, wrt=W)  # type: ignore[call-overload]
backward(v * v, [W])  # type: ignore[list-item]
grad([loss])  # type: ignore[call-overload]

# The results keep their types.
as_floats: list[float] = grad(loss, [W])  # type: ignore[assignment]

# Activations takes an int bound or a store.
Activations(maxsize="8")  # type: ignore[arg-type]
