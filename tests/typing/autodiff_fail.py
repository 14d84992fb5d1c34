"""Typing tests for memokit.autodiff: calls mypy --strict must reject.

Each wrong line carries ``# type: ignore[<code>]``; under warn_unused_ignores
an ignore that suppresses nothing is itself an error, so if memokit's types
stop rejecting one of these lines, mypy fails this file (checked by
tests/test_autodiff_typing.py). This file is type-checked, never run.
"""

from __future__ import annotations

from memokit.autodiff import Value, backward, forward, grad, gradcheck

x = Value(1.5)
y = Value(2.0)
loss = x * y

# A Value holds a float.
Value("x")  # type: ignore[arg-type]
Value(None)  # type: ignore[arg-type]
x.data = "1.0"  # type: ignore[assignment]

# No Value exponent, no number base, no strings.
x**y  # type: ignore[operator]
2**x  # type: ignore[operator]
x + "s"  # type: ignore[operator]
"s" * x  # type: ignore[operator]

# wrt is a sequence of Values, the loss one Value.
grad(loss, wrt=[1.0])  # type: ignore[list-item]
grad(loss, wrt=x)  # type: ignore[call-overload]
grad([loss, x])  # type: ignore[call-overload]
grad(3.0)  # type: ignore[call-overload]
backward(loss, x)  # type: ignore[call-overload]
backward((loss,))  # type: ignore[call-overload]

# memo= is a bool or an int; allow_unused only goes with wrt.
grad(loss, wrt=[x], memo="lru")  # type: ignore[call-overload]
backward(loss, memo=None)  # type: ignore[call-overload]
grad(loss, allow_unused=True)  # type: ignore[call-overload]

# The results keep their types.
as_list: list[float] = grad(loss)  # type: ignore[assignment]
as_dict: dict[Value, float] = grad(loss, wrt=[x])  # type: ignore[assignment]
count: int = backward(loss)[x]  # type: ignore[assignment]

# forward's overrides map Values to numbers; gradcheck's tolerances are numbers.
forward(loss, {x: "2"})  # type: ignore[dict-item]
forward(loss, {1.0: 2.0})  # type: ignore[dict-item]
gradcheck(loss, eps="small")  # type: ignore[call-overload]
