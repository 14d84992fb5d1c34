"""Array operations, each returning its value and its vector-Jacobian products side by side.

For a scalar operation the local derivative ∂c/∂n is a number. For an array
operation it is a Jacobian, a matrix with one row per output entry and one
column per input entry, far too large to build (the product of a (128, 64)
and a (64, 64) array has a Jacobian of 8,192 rows and 4,096 columns for its
left input). Backpropagation never
needs it whole, only its product with the adjoint of the output,
``gᵀ · ∂c/∂n``: the vector-Jacobian product, which is one cheap array
expression per operation. So each operation below returns its value and,
for each input, a :class:`VJP` that computes that product:

    matmul(a, b) = a @ b,   VJPs  g ↦ g @ bᵀ   and   g ↦ aᵀ @ g

exactly as ``mul(a, b) = a * b`` returns the local derivatives ``(b, a)``
for scalars. The engine multiplies: ``g * vjp`` is the vector-Jacobian
product, so its adjoint function reads the same for both kinds of node.

Broadcasting copies an input along new or length-1 axes; the VJP undoes it
by summing the gradient over those axes (:func:`sum_to`).

A VJP needs some forward values and not others: tanh's needs its output,
a product's each the *other* input, a sum's only shapes. :data:`READS`
says which, for each operation and input, and every operation takes its
value as ``value=`` when it is already known, then only builds the VJPs.
That is what lets a bounded activation table
(:mod:`memokit.autodiff._activations`) keep and recompute only the values
backward reads, and hand an operation stand-ins, arrays of the right shape
and dtype with no data, for the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "IDENTITY",
    "OUTPUT",
    "READS",
    "VJP",
    "Array",
    "Op",
    "add",
    "cross_entropy",
    "div",
    "exp",
    "getitem",
    "log",
    "matmul",
    "mean",
    "mul",
    "neg",
    "power",
    "relu",
    "reshape",
    "sigmoid",
    "sub",
    "sum_to",
    "tanh",
    "total",
    "transpose",
]

#: The arrays a Tensor holds (any floating dtype).
Array: TypeAlias = NDArray[Any]


class VJP:
    """∂c/∂n of an array operation, held as the function that applies it.

    ``g * vjp`` is the vector-Jacobian product ``gᵀ · ∂c/∂n``: the gradient
    with respect to the input n, given the gradient ``g`` of the output c.

    >>> double = VJP(lambda g: 2.0 * g)
    >>> np.ones(3) * double
    array([2., 2., 2.])
    """

    __slots__ = ("apply",)

    # An ndarray times an unknown object would make an array of objects;
    # None tells NumPy to hand ``array * vjp`` to VJP.__rmul__ instead (NEP 13).
    __array_ufunc__ = None

    def __init__(self, apply: Callable[[Any], Any]) -> None:
        self.apply = apply

    def __rmul__(self, g: Any) -> Any:
        return self.apply(g)

    def __repr__(self) -> str:
        return f"VJP({getattr(self.apply, '__qualname__', self.apply)!r})"


def _unchanged(g: Any) -> Any:
    return g


#: The VJP of an input that reaches the output unchanged (same shape, slope 1).
IDENTITY = VJP(_unchanged)

#: An operation: input arrays (and constant parameters) -> (value, one VJP per input).
Op: TypeAlias = Callable[..., tuple[Any, tuple[VJP, ...]]]

#: In :data:`READS`, the operation's own output (other reads are input positions).
OUTPUT = -1


def sum_to(g: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``g`` over the axes broadcasting added or stretched, so that it has ``shape``.

    >>> sum_to(np.ones((2, 3)), (3,)), sum_to(np.ones((2, 3)), (2, 1))
    (array([2., 2., 2.]), array([[3.],
           [3.]]))
    """
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra:
        g = g.sum(axis=tuple(range(extra)))
    if 1 in shape:  # axes of length 1 that broadcasting stretched
        stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
        if stretched:
            g = g.sum(axis=stretched, keepdims=True)
    return g


_ndarray = np.ndarray


def _shape(x: Any) -> tuple[int, ...]:
    """The shape of an operand: an array's, or () for a number (np.shape is slow on those)."""
    if type(x) is _ndarray:
        return x.shape  # type: ignore[no-any-return]
    return () if isinstance(x, float | int) else np.shape(x)


def _passed_back(shape: tuple[int, ...], out: Array) -> VJP:
    """The VJP of an input of ``shape`` that reached ``out`` unchanged (broadcasting undone)."""
    if shape == out.shape:
        return IDENTITY
    return VJP(lambda g: sum_to(g, shape))


# ---------------------------------------------------------------- elementwise, broadcasting
# Each returns (value, (VJP for each input)); given ``value=``, it skips
# computing it. The operators (a + b, not np.add(a, b)) take NumPy's fast
# path for two operands.


def add(a: Any, b: Any, value: Any = None) -> tuple[Array, tuple[VJP, ...]]:
    out = a + b if value is None else value
    return out, (_passed_back(_shape(a), out), _passed_back(_shape(b), out))


def sub(a: Any, b: Any, value: Any = None) -> tuple[Array, tuple[VJP, ...]]:
    out = a - b if value is None else value
    shape = _shape(b)
    return out, (_passed_back(_shape(a), out), VJP(lambda g: sum_to(-g, shape)))


def mul(a: Any, b: Any, value: Any = None) -> tuple[Array, tuple[VJP, ...]]:
    out = a * b if value is None else value
    a_shape, b_shape = _shape(a), _shape(b)
    if a_shape == b_shape:  # no broadcasting to undo
        return out, (VJP(lambda g: g * b), VJP(lambda g: g * a))
    return out, (
        VJP(lambda g: sum_to(g * b, a_shape)),
        VJP(lambda g: sum_to(g * a, b_shape)),
    )


def div(a: Any, b: Any, value: Any = None) -> tuple[Array, tuple[VJP, ...]]:
    out = a / b if value is None else value
    a_shape, b_shape = _shape(a), _shape(b)
    # ∂(a/b)/∂b = -a/b² = -out/b, which stays finite where b² would underflow.
    return out, (
        VJP(lambda g: sum_to(g / b, a_shape)),
        VJP(lambda g: sum_to(-g * out / b, b_shape)),
    )


def power(a: Array, exponent: float, value: Any = None) -> tuple[Array, tuple[VJP, ...]]:
    out = a**exponent if value is None else value
    if exponent == 0.0:  # d(a ** 0)/da = 0, also where a ** -1 would be infinite
        return out, (VJP(np.zeros_like),)
    if exponent == 2.0:
        return out, (VJP(lambda g: g * (2.0 * a)),)
    return out, (VJP(lambda g: g * (exponent * np.power(a, exponent - 1.0))),)


def neg(a: Array, value: Any = None) -> tuple[Array, tuple[VJP, ...]]:
    return (-a if value is None else value), (VJP(np.negative),)


def exp(a: Array, value: Any = None) -> tuple[Array, tuple[VJP, ...]]:
    out = np.exp(a) if value is None else value
    return out, (VJP(lambda g: g * out),)


def log(a: Array, value: Any = None) -> tuple[Array, tuple[VJP, ...]]:
    if value is None:
        bad = a <= 0
        if bad.any():
            raise ValueError(
                f"log() needs positive entries, got {int(bad.sum())} of {a.size} <= 0 "
                f"(the smallest is {a.min()!r})"
            )
        value = np.log(a)
    return value, (VJP(lambda g: g / a),)


def tanh(a: Array, value: Any = None) -> tuple[Array, tuple[VJP, ...]]:
    t = np.tanh(a) if value is None else value
    return t, (VJP(lambda g: g * (1.0 - t * t)),)


def sigmoid(a: Array, value: Any = None) -> tuple[Array, tuple[VJP, ...]]:
    if value is None:
        # e = exp(-|a|) never overflows: sigmoid(a) = 1/(1+e) for a >= 0, e/(1+e) below.
        e = np.exp(-np.abs(a))
        value = np.where(a >= 0, 1.0, e) / (1.0 + e)
    s = value
    return s, (VJP(lambda g: g * (s * (1.0 - s))),)


def relu(a: Array, value: Any = None) -> tuple[Array, tuple[VJP, ...]]:
    out = np.maximum(a, 0) if value is None else value
    positive = out > 0  # where a > 0: the slope is 0 at 0, as for Value.relu
    return out, (VJP(lambda g: g * positive),)


# ---------------------------------------------------------------- linear algebra


def matmul(a: Array, b: Array, value: Any = None) -> tuple[Array, tuple[VJP, ...]]:
    out = a @ b if value is None else value
    if a.ndim == 2 and b.ndim == 2:  # the layers' case
        return out, (VJP(lambda g: g @ b.T), VJP(lambda g: a.T @ g))
    # A 1-D operand is a row (left) or a column (right) whose extra axis the
    # result drops; batched operands broadcast over their leading axes.
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b

    def as_matrix(g: Any) -> Any:
        g = np.asarray(g)
        if a.ndim == 1:
            g = np.expand_dims(g, -2 if b.ndim != 1 else 0)
        if b.ndim == 1:
            g = np.expand_dims(g, -1)
        return g

    return out, (
        VJP(lambda g: sum_to(as_matrix(g) @ np.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape)),
        VJP(lambda g: sum_to(np.swapaxes(a2, -1, -2) @ as_matrix(g), b2.shape).reshape(b.shape)),
    )


# ---------------------------------------------------------------- reductions and shapes


def _spread(shape: tuple[int, ...], axis: int | tuple[int, ...] | None, keepdims: bool) -> VJP:
    """The VJP of a sum over ``axis``: the output's gradient copied back over those axes."""
    if axis is None or keepdims:
        return VJP(lambda g: np.broadcast_to(g, shape))
    return VJP(lambda g: np.broadcast_to(np.expand_dims(g, axis), shape))


# NumPy's stubs type sum and mean per combination of axis and keepdims
# (Literal[True] and so on); these take both as variables, hence ``a: Any``.


def total(
    a: Any, axis: int | tuple[int, ...] | None, keepdims: bool, value: Any = None
) -> tuple[Array, tuple[VJP, ...]]:
    """The sum of ``a`` over ``axis`` (every entry for None)."""
    out = np.asarray(a.sum(axis=axis, keepdims=keepdims)) if value is None else value
    return out, (_spread(a.shape, axis, keepdims),)


def mean(
    a: Any, axis: int | tuple[int, ...] | None, keepdims: bool, value: Any = None
) -> tuple[Array, tuple[VJP, ...]]:
    out = np.asarray(a.mean(axis=axis, keepdims=keepdims)) if value is None else value
    count = a.size // max(out.size, 1) if a.size else 0
    spread = _spread(a.shape, axis, keepdims).apply
    return out, (VJP(lambda g: spread(g / count)),)


def reshape(a: Array, shape: tuple[int, ...], value: Any = None) -> tuple[Array, tuple[VJP, ...]]:
    original = a.shape
    return (a.reshape(shape) if value is None else value), (VJP(lambda g: np.reshape(g, original)),)


def transpose(
    a: Array, axes: tuple[int, ...] | None, value: Any = None
) -> tuple[Array, tuple[VJP, ...]]:
    if axes is None:
        return (a.T if value is None else value), (VJP(np.transpose),)
    undo = tuple(np.argsort(axes))
    return (a.transpose(axes) if value is None else value), (VJP(lambda g: np.transpose(g, undo)),)


def getitem(a: Array, index: Any, value: Any = None) -> tuple[Array, tuple[VJP, ...]]:
    out = np.asarray(a[index]) if value is None else value
    shape, dtype = a.shape, a.dtype

    def scatter(g: Any) -> Any:
        full = np.zeros(shape, dtype=np.result_type(dtype, g))
        # add.at sums into entries an integer array picks more than once.
        np.add.at(full, index, g)
        return full

    return out, (VJP(scatter),)


# ---------------------------------------------------------------- the loss


def cross_entropy(
    logits: Array, labels: NDArray[np.integer[Any]], value: Any = None
) -> tuple[Array, tuple[VJP, ...]]:
    """Mean over rows of -log softmax(row)[label], computed without overflow.

    Subtracting each row's maximum leaves softmax unchanged and keeps every
    exponent <= 0; the VJP is (softmax - one_hot(labels)) / rows.
    """
    rows = np.arange(logits.shape[0])
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    sums = e.sum(axis=1, keepdims=True)
    if value is None:
        # -log softmax(row)[label] = log(sum of e) - shifted[label]; the mean of those
        # (np.add.reduce: ndarray.mean and .sum go through Python wrappers).
        value = np.asarray(np.add.reduce(np.log(sums[:, 0]) - shifted[rows, labels]) / len(rows))

    def vjp(g: Any) -> Any:
        p = e / sums
        p[rows, labels] -= 1.0
        p *= g / len(rows)
        return p

    return value, (VJP(vjp),)


# ---------------------------------------------------------------- what each VJP reads

#: For each operation, for each of its inputs in order, the forward values
#: that input's VJP reads: other inputs by position, and OUTPUT for the
#: operation's own value. Anything else it needs is a shape or a dtype.
#: An operation missing here (one passed to ``Tensor.apply``) keeps its VJPs
#: as it made them, with whatever they hold.
READS: dict[Op, tuple[tuple[int, ...], ...]] = {
    add: ((), ()),
    sub: ((), ()),
    mul: ((1,), (0,)),
    div: ((1,), (1, OUTPUT)),
    power: ((0,),),
    neg: ((),),
    exp: ((OUTPUT,),),
    log: ((0,),),
    tanh: ((OUTPUT,),),
    sigmoid: ((OUTPUT,),),
    relu: ((OUTPUT,),),
    matmul: ((1,), (0,)),
    total: ((),),
    mean: ((),),
    reshape: ((),),
    transpose: ((),),
    getitem: ((),),
    cross_entropy: ((0,),),
}
