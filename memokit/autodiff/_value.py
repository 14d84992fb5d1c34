"""Scalar nodes that record the computation graph as they compute.

Each operation is one small function that returns its value **and its local
derivatives side by side**: for ``c = a * b`` that is ``(a * b, (b, a))``,
meaning ``∂c/∂a = b`` and ``∂c/∂b = a``. A :class:`Value` keeps its inputs,
those local derivatives, and the function that made it, so the graph can be
evaluated again from new leaf values (finite differences need that) and
differentiated by :func:`memokit.autodiff.grad`.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Callable
from typing import Any, TypeAlias

from memokit._keys import is_identity_type

__all__ = ["Op", "Value"]

#: An operation: input values (and constant parameters) -> (value, local derivatives).
Op: TypeAlias = Callable[..., tuple[float, tuple[float, ...]]]


# ---------------------------------------------------------------- operations
# Each returns (value, (∂value/∂input for each input)).


def add(a: float, b: float) -> tuple[float, tuple[float, ...]]:
    return a + b, (1.0, 1.0)


def sub(a: float, b: float) -> tuple[float, tuple[float, ...]]:
    return a - b, (1.0, -1.0)


def mul(a: float, b: float) -> tuple[float, tuple[float, ...]]:
    return a * b, (b, a)


def div(a: float, b: float) -> tuple[float, tuple[float, ...]]:
    q = a / b  # -q / b, not -a / (b * b): b * b underflows to 0 for tiny b
    return q, (1.0 / b, -q / b)


def power(a: float, exponent: float) -> tuple[float, tuple[float, ...]]:
    value = a**exponent
    if isinstance(value, complex):  # Python's float ** gives a complex number here
        raise ValueError(
            f"** needs a base >= 0 for the non-integer exponent {exponent!r}, got {a!r}"
        )
    if exponent == 0.0:  # d(a ** 0)/da = 0, also at a = 0 (where a ** -1 would raise)
        return value, (0.0,)
    try:
        slope = exponent * a ** (exponent - 1)
    except (OverflowError, ZeroDivisionError):  # the value is finite, its slope is not
        negative = a < 0 and (exponent - 1) % 2 == 1
        slope = math.copysign(math.inf, -exponent if negative else exponent)
    return value, (slope,)


def neg(a: float) -> tuple[float, tuple[float, ...]]:
    return -a, (-1.0,)


def exp(a: float) -> tuple[float, tuple[float, ...]]:
    e = math.exp(a)
    return e, (e,)


def log(a: float) -> tuple[float, tuple[float, ...]]:
    if a <= 0.0:
        raise ValueError(f"log() needs a positive input, got {a!r}")
    return math.log(a), (1.0 / a,)


def tanh(a: float) -> tuple[float, tuple[float, ...]]:
    t = math.tanh(a)
    return t, (1.0 - t * t,)


def sigmoid(a: float) -> tuple[float, tuple[float, ...]]:
    s = 1.0 / (1.0 + math.exp(-a)) if a >= 0 else math.exp(a) / (1.0 + math.exp(a))
    return s, (s * (1.0 - s),)


def relu(a: float) -> tuple[float, tuple[float, ...]]:
    return (a, (1.0,)) if a > 0.0 else (0.0, (0.0,))


def sin(a: float) -> tuple[float, tuple[float, ...]]:
    return math.sin(a), (math.cos(a),)


def cos(a: float) -> tuple[float, tuple[float, ...]]:
    return math.cos(a), (-math.sin(a),)


def sqrt(a: float) -> tuple[float, tuple[float, ...]]:
    if a < 0.0:
        raise ValueError(f"sqrt() needs a non-negative input, got {a!r}")
    r = math.sqrt(a)
    # At 0 the value is 0 and the slope is +inf, as for a ** 0.5.
    return r, (0.5 / r if r else math.inf,)


#: Numbers each new node in creation order (next() on a count is atomic under the GIL).
_serials = itertools.count()

_SYMBOLS: dict[Op, str] = {add: "+", sub: "-", mul: "*", div: "/", power: "**", neg: "neg"}
_NO_PARAMS: tuple[float, ...] = ()


class Value:
    """A scalar in a computation graph: its value, its inputs and its local derivatives.

    Arithmetic with other values or plain numbers builds new nodes:

    >>> x = Value(2.0, label="x")
    >>> y = x * x + 3 * x
    >>> y.data
    10.0
    >>> [n.data for n in y.inputs], y.local_grads
    ([4.0, 6.0], (1.0, 1.0))
    """

    __slots__ = (
        "__weakref__",
        "data",
        "inputs",
        "label",
        "local_grads",
        "op",
        "params",
        "serial",
    )

    def __init__(
        self,
        data: float,
        inputs: tuple[Value, ...] = (),
        local_grads: tuple[float, ...] = (),
        op: Op | None = None,
        params: tuple[float, ...] = (),
        label: str = "",
    ) -> None:
        self.data = float(data)
        self.inputs = inputs
        self.local_grads = local_grads
        self.op = op
        self.params = params
        self.label = label
        #: Creation order: a node's inputs existed before it, so they have smaller
        #: serials, and sorting by serial is a topological order of any graph
        #: built by arithmetic (backward uses that to skip a topological sort).
        self.serial = next(_serials)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not is_identity_type(cls):
            raise TypeError(
                f"{cls.__name__} overrides == or hash(), but Values must compare by "
                f"identity: gradients are memoized by node, and two equal-looking nodes "
                f"are still two nodes. Compare .data instead."
            )

    @classmethod
    def apply(cls, op: Op, *inputs: Value, params: tuple[float, ...] = ()) -> Value:
        """Make the node ``op(*inputs)``, recording its local derivatives."""
        value, grads = op(*[i.data for i in inputs], *params)
        return cls(value, inputs, grads, op, params)

    @property
    def op_name(self) -> str:
        """A short name for the operation that made this node (``""`` for a leaf)."""
        if self.op is None:
            return ""
        return _SYMBOLS.get(self.op, self.op.__name__)

    def is_leaf(self) -> bool:
        """Whether this node has no inputs (a parameter, an input or a constant)."""
        return not self.inputs

    def __repr__(self) -> str:
        name = f", label={self.label!r}" if self.label else ""
        op = f", op={self.op_name!r}" if self.op is not None else ""
        return f"Value({self.data!r}{op}{name})"

    # -------------------------------------------------- arithmetic

    def __add__(self, other: Value | float) -> Value:
        return Value.apply(add, self, _lift(other))

    def __radd__(self, other: float) -> Value:
        return Value.apply(add, _lift(other), self)

    def __sub__(self, other: Value | float) -> Value:
        return Value.apply(sub, self, _lift(other))

    def __rsub__(self, other: float) -> Value:
        return Value.apply(sub, _lift(other), self)

    def __mul__(self, other: Value | float) -> Value:
        return Value.apply(mul, self, _lift(other))

    def __rmul__(self, other: float) -> Value:
        return Value.apply(mul, _lift(other), self)

    def __truediv__(self, other: Value | float) -> Value:
        return Value.apply(div, self, _lift(other))

    def __rtruediv__(self, other: float) -> Value:
        return Value.apply(div, _lift(other), self)

    def __pow__(self, exponent: float) -> Value:
        if isinstance(exponent, Value) or not isinstance(exponent, numbers.Real):
            raise TypeError(
                f"Value ** exponent needs a number exponent, got {type(exponent).__name__}; "
                f"for a Value exponent write (base.log() * exponent).exp()"
            )
        return Value.apply(power, self, params=(float(exponent),))

    def __neg__(self) -> Value:
        return Value.apply(neg, self)

    # -------------------------------------------------- functions

    def exp(self) -> Value:
        """Return e ** self."""
        return Value.apply(exp, self)

    def log(self) -> Value:
        """Return the natural logarithm (the input must be positive)."""
        return Value.apply(log, self)

    def tanh(self) -> Value:
        """Return the hyperbolic tangent."""
        return Value.apply(tanh, self)

    def sigmoid(self) -> Value:
        """Return 1 / (1 + e ** -self)."""
        return Value.apply(sigmoid, self)

    def relu(self) -> Value:
        """Return max(self, 0) (derivative 0 at 0)."""
        return Value.apply(relu, self)

    def sin(self) -> Value:
        """Return the sine."""
        return Value.apply(sin, self)

    def cos(self) -> Value:
        """Return the cosine."""
        return Value.apply(cos, self)

    def sqrt(self) -> Value:
        """Return the square root (the input must be >= 0; at 0 the slope is +inf)."""
        return Value.apply(sqrt, self)


def _lift(x: Any) -> Value:
    if type(x) is Value:
        return x
    if isinstance(x, Value):
        return x
    if isinstance(x, numbers.Real):
        return Value(float(x))
    raise TypeError(
        f"cannot combine a Value with {type(x).__name__} {x!r}: use a Value or a plain number"
    )
