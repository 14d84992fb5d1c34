"""Typing tests for memokit.autodiff: what mypy --strict must accept, with the types it must infer.

Checked by tests/test_autodiff_typing.py; this file is type-checked, never run.
"""

from __future__ import annotations

from typing import assert_type

from memokit.autodiff import (
    Backward,
    GradcheckEntry,
    GradcheckReport,
    Value,
    backward,
    forward,
    grad,
    gradcheck,
)

x = Value(1.5, label="x")
y = Value(2)  # an int is a fine float
w = Value(-0.5)

# Every operation, with a Value or a plain number on either side, is a Value.
assert_type(x + y, Value)
assert_type(x + 1, Value)
assert_type(1 + x, Value)
assert_type(x - 2.5, Value)
assert_type(2.5 - x, Value)
assert_type(x * w, Value)
assert_type(3 * x, Value)
assert_type(x / y, Value)
assert_type(1.0 / x, Value)
assert_type(x**2, Value)
assert_type(x**0.5, Value)
assert_type(-x, Value)
assert_type(x.exp(), Value)
assert_type(x.log(), Value)
assert_type(x.tanh(), Value)
assert_type(x.sigmoid(), Value)
assert_type(x.relu(), Value)
assert_type(x.sin(), Value)
assert_type(x.cos(), Value)
assert_type(x.sqrt(), Value)
assert_type(x.data, float)
assert_type(x.inputs, tuple[Value, ...])
assert_type(x.local_grads, tuple[float, ...])
assert_type(x.is_leaf(), bool)

loss = ((x * w + y).tanh() - 1.0) ** 2

# grad: a list in the order asked, or a dict of every leaf.
assert_type(grad(loss, wrt=[x, w]), list[float])
assert_type(grad(loss, [x]), list[float])
assert_type(grad(loss, wrt=(x, w), memo=False), list[float])
assert_type(grad(loss, wrt=[x], memo=8, allow_unused=True), list[float])
assert_type(grad(loss), dict[Value, float])
assert_type(grad(loss, memo=True), dict[Value, float])
first: float = grad(loss, wrt=[x])[0]
by_leaf: dict[Value, float] = grad(loss)

# backward: the gradients and what they cost.
result = backward(loss, [x, w], memo=4)
assert_type(result, Backward)
assert_type(backward(loss), Backward)
assert_type(result[x], float)
assert_type(result.gradients, tuple[float, ...])
assert_type(result.wrt, tuple[Value, ...])
assert_type(result.memo, str)
assert_type(result.local_derivative_evaluations, int)
assert_type(result.recomputations, int)
assert_type(result.memo_size, int)

# forward and gradcheck.
assert_type(forward(loss), float)
assert_type(forward(loss, {x: 2.0, w: 1}), float)
report = gradcheck(loss, [x, w], eps=1e-5, rtol=1e-3, atol=1e-8)
assert_type(report, GradcheckReport)
assert_type(report.ok, bool)
assert_type(report.worst, GradcheckEntry | None)
assert_type(str(report), str)
