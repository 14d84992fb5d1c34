"""Array nodes: a computation graph whose nodes are NumPy arrays, for training real networks.

A :class:`Tensor` is to an array what :class:`~memokit.autodiff.Value` is
to a number: it records its inputs and, for each, the local derivative of
the operation that made it, here a vector-Jacobian product
(:mod:`memokit.autodiff._tensor_ops`). ``grad`` and ``backward`` take a
Tensor loss and run the same adjoint recurrence as for Values, on the same
engines; only what a node is differs.

Plain numbers and arrays mixed into an operation are constants: they are
not nodes, so no gradient is computed for them. A Tensor holds
floating-point data (its gradient is a floating-point array of its shape).

Inside ``with Activations(...)`` (:mod:`memokit.autodiff._activations`)
new nodes keep their values in that table instead of on themselves.
"""

from __future__ import annotations

import itertools
import numbers
from contextvars import ContextVar
from typing import Any, Protocol, TypeAlias

import numpy as np
from numpy.typing import NDArray

from memokit._keys import is_identity_type
from memokit.autodiff import _tensor_ops as ops
from memokit.autodiff._kinds import NodeKind, register_kind
from memokit.autodiff._tensor_checks import (
    broadcast_error,
    check_labels,
    check_reshape,
    constant,
    float_array,
    matmul_error,
)
from memokit.autodiff._tensor_grads import TensorBackward, check_loss, finish, seed
from memokit.autodiff._tensor_ops import VJP, Array, Op

__all__ = ["Operand", "Recorder", "Tensor", "TensorBackward", "next_serial", "recording"]

#: What an operation takes besides Tensors: numbers and arrays (constants).
Operand: TypeAlias = "Tensor | float | NDArray[Any] | list[Any] | tuple[Any, ...]"


class Recorder(Protocol):
    """Where the nodes built inside ``with Activations(...)`` keep their values."""

    def record(self, op: Op, operands: tuple[Any, ...], params: tuple[Any, ...]) -> Tensor:
        """Make the node ``op(*operands, *params)`` and keep its value in the table."""
        ...


#: The activation table new nodes go to in this thread or task (None: on the nodes).
recording: ContextVar[Recorder | None] = ContextVar("memokit_activations", default=None)

#: Numbers each new node in creation order (backward sorts by it: inputs come first).
_serials = itertools.count()
next_serial = _serials.__next__

_SYMBOLS = {ops.add: "+", ops.sub: "-", ops.mul: "*", ops.div: "/", ops.matmul: "@"}
_NO_PARAMS: tuple[Any, ...] = ()
_BINARY_VERBS = {ops.add: "add", ops.sub: "subtract", ops.mul: "multiply", ops.div: "divide"}
#: Constants an operation takes as they are (``constant`` returns them unchanged).
_AS_IS = frozenset({np.ndarray, float, int})


class Tensor:
    """An array in a computation graph: its value, its inputs and the VJPs to them.

    Arithmetic with Tensors, numbers or arrays (on either side) builds new
    nodes; NumPy's broadcasting applies, and the VJPs undo it:

    >>> W = Tensor([[1.0, 2.0], [3.0, 4.0]], label="W")
    >>> b = Tensor([0.5, -0.5], label="b")
    >>> h = ([1.0, 1.0] @ W + b).tanh()
    >>> h.shape, h.inputs[0].op_name
    ((2,), '+')
    """

    __slots__ = (
        "__weakref__",
        "data",
        "inputs",
        "label",
        "local_grads",
        "op",
        "operands",
        "params",
        "serial",
    )

    # ndarray (+, *, @, ...) Tensor: NumPy hands the operation to the Tensor's
    # reflected method instead of treating the Tensor as an object scalar (NEP 13).
    __array_ufunc__ = None

    data: Array
    inputs: tuple[Tensor, ...]
    local_grads: tuple[VJP, ...]

    def __init__(self, data: Any, *, dtype: Any = None, label: str = "") -> None:
        if isinstance(data, Tensor):
            raise TypeError(
                "Tensor(t) of a Tensor: use t itself, or Tensor(t.data.copy()) for a new leaf"
            )
        self.data = float_array(data, dtype)
        self.inputs = ()
        self.local_grads = ()
        #: The operation that made this node (None for a leaf), its operands
        #: (Tensors and constants, in order) and its other parameters.
        self.op: Op | None = None
        self.operands: tuple[Any, ...] = ()
        self.params: tuple[Any, ...] = _NO_PARAMS
        self.label = label
        #: Creation order: a node's inputs always have smaller serials.
        self.serial = next(_serials)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not is_identity_type(cls):
            raise TypeError(
                f"{cls.__name__} overrides == or hash(), but Tensors must compare by identity: "
                f"gradients are memoized by node. Compare .data instead."
            )

    @classmethod
    def apply(cls, op: Op, *operands: Any, params: tuple[Any, ...] = ()) -> Tensor:
        """Make the node ``op(*operands, *params)``; ``op`` returns (value, one VJP per operand).

        >>> def square(a):
        ...     return a * a, (VJP(lambda g: 2.0 * a * g),)
        >>> Tensor.apply(square, Tensor([3.0])).data
        array([9.])
        """
        return _apply(op, operands, params)

    # -------------------------------------------------- what it holds

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of the array."""
        return self.data.shape

    @property
    def dtype(self) -> np.dtype[Any]:
        """The array's dtype (a floating-point one)."""
        return self.data.dtype

    @property
    def ndim(self) -> int:
        """The number of axes."""
        return len(self.shape)

    @property
    def op_name(self) -> str:
        """A short name for the operation that made this node (``""`` for a leaf)."""
        if self.op is None:
            return ""
        return _SYMBOLS.get(self.op, self.op.__name__)

    def is_leaf(self) -> bool:
        """Whether this node has no inputs (a parameter or an input of the network)."""
        return not self.inputs

    def item(self) -> float:
        """The one number a size-1 Tensor holds, as a Python float (e.g. a loss)."""
        return float(self.data.item())

    def __repr__(self) -> str:
        name = f", label={self.label!r}" if self.label else ""
        op = f", op={self.op_name!r}" if self.op is not None else ""
        return f"Tensor(shape={self.shape}, dtype={self.dtype}{op}{name})"

    # -------------------------------------------------- arithmetic

    def __add__(self, other: Operand) -> Tensor:
        return _binary(ops.add, self, other)

    def __radd__(self, other: Operand) -> Tensor:
        return _binary(ops.add, other, self)

    def __sub__(self, other: Operand) -> Tensor:
        return _binary(ops.sub, self, other)

    def __rsub__(self, other: Operand) -> Tensor:
        return _binary(ops.sub, other, self)

    def __mul__(self, other: Operand) -> Tensor:
        return _binary(ops.mul, self, other)

    def __rmul__(self, other: Operand) -> Tensor:
        return _binary(ops.mul, other, self)

    def __truediv__(self, other: Operand) -> Tensor:
        return _binary(ops.div, self, other)

    def __rtruediv__(self, other: Operand) -> Tensor:
        return _binary(ops.div, other, self)

    def __matmul__(self, other: Operand) -> Tensor:
        return _binary(ops.matmul, self, other)

    def __rmatmul__(self, other: Operand) -> Tensor:
        return _binary(ops.matmul, other, self)

    def __pow__(self, exponent: float) -> Tensor:
        if isinstance(exponent, Tensor) or not isinstance(exponent, numbers.Real):
            raise TypeError(
                f"Tensor ** exponent needs a number exponent, got {type(exponent).__name__}; "
                f"for a Tensor exponent write (base.log() * exponent).exp()"
            )
        return _unary(ops.power, self, (float(exponent),))

    def __neg__(self) -> Tensor:
        return _unary(ops.neg, self, _NO_PARAMS)

    def __getitem__(self, index: Any) -> Tensor:
        return _unary(ops.getitem, self, (index,))

    # -------------------------------------------------- functions

    def exp(self) -> Tensor:
        """Return e ** self, entry by entry."""
        return _unary(ops.exp, self, _NO_PARAMS)

    def log(self) -> Tensor:
        """Return the natural logarithm, entry by entry (every entry must be positive)."""
        return _unary(ops.log, self, _NO_PARAMS)

    def tanh(self) -> Tensor:
        """Return the hyperbolic tangent, entry by entry."""
        return _unary(ops.tanh, self, _NO_PARAMS)

    def sigmoid(self) -> Tensor:
        """Return 1 / (1 + e ** -self), entry by entry, without overflow."""
        return _unary(ops.sigmoid, self, _NO_PARAMS)

    def relu(self) -> Tensor:
        """Return max(self, 0), entry by entry (slope 0 at 0)."""
        return _unary(ops.relu, self, _NO_PARAMS)

    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Return the sum over ``axis`` (every entry by default)."""
        return _unary(ops.total, self, (axis, keepdims))

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Return the mean over ``axis`` (every entry by default)."""
        return _unary(ops.mean, self, (axis, keepdims))

    def reshape(self, *shape: int | tuple[int, ...]) -> Tensor:
        """Return the same entries in a new shape (``t.reshape(2, 3)`` or ``t.reshape((2, 3))``)."""
        new: Any = shape[0] if len(shape) == 1 and isinstance(shape[0], tuple) else shape
        check_reshape(self.shape, new)
        return _unary(ops.reshape, self, (new,))

    def transpose(self, *axes: int) -> Tensor:
        """Return the array with its axes reversed, or in the order ``axes`` gives."""
        return _unary(ops.transpose, self, (axes or None,))

    @property
    def T(self) -> Tensor:
        """The array with its axes reversed (a matrix transposed)."""
        return _unary(ops.transpose, self, (None,))

    def cross_entropy(self, labels: Any) -> Tensor:
        """The mean softmax cross-entropy of these logits (rows) against integer ``labels``.

        Computed from the logits directly, without overflow for large ones.

        >>> logits = Tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
        >>> round(logits.cross_entropy([0, 2]).item(), 6)   # (-log 0.787 - log 1/3) / 2
        0.669079
        """
        classes = check_labels(self.shape, labels)
        return _unary(ops.cross_entropy, self, (classes,))


def _unary(op: Op, a: Tensor, params: tuple[Any, ...]) -> Tensor:
    """The node ``op(a, *params)``."""
    if type(a) is Tensor and recording.get() is None:  # the common case, without a loop
        inputs = (a,)
        value, vjps = op(a.data, *params)
        return _node(value, inputs, vjps, op, inputs, params)
    return _apply(op, (a,), params)


def _binary(op: Op, a: Any, b: Any) -> Tensor:
    """The node ``op(a, b)`` for + - * / @, with an error naming both shapes if they do not fit."""
    try:
        if recording.get() is None:  # the common cases, without _apply's loops
            if type(a) is Tensor:
                if type(b) is Tensor:
                    inputs = (a, b)
                    value, vjps = op(a.data, b.data)
                    return _node(value, inputs, vjps, op, inputs, _NO_PARAMS)
                if type(b) in _AS_IS:
                    value, vjps = op(a.data, b)
                    return _node(value, (a,), vjps[:1], op, (a, b), _NO_PARAMS)
            elif type(b) is Tensor and type(a) in _AS_IS:
                value, vjps = op(a, b.data)
                return _node(value, (b,), vjps[1:], op, (a, b), _NO_PARAMS)
        return _apply(op, (a, b), _NO_PARAMS)
    except ValueError:
        a_shape, b_shape = np.shape(_value(a)), np.shape(_value(b))
        if op is ops.matmul:
            raise matmul_error(a_shape, b_shape) from None
        error = broadcast_error(_BINARY_VERBS[op], a_shape, b_shape)
        if error is None:
            raise
        raise error from None


def _value(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else constant(x)


def _apply(op: Op, operands: tuple[Any, ...], params: tuple[Any, ...]) -> Tensor:
    """Make the node ``op(*operands, *params)``, keeping a VJP for each Tensor operand.

    Numbers and arrays among the operands are constants: the operation gets
    them as they are, and the node neither lists them as inputs nor keeps
    their VJPs. Inside ``with Activations(...)`` the table makes the node.
    """
    recorder = recording.get()
    if recorder is not None:
        return recorder.record(op, operands, params)
    args = [x.data if isinstance(x, Tensor) else constant(x) for x in operands]
    value, vjps = op(*args, *params)
    kept = [(x, v) for x, v in zip(operands, vjps, strict=True) if isinstance(x, Tensor)]
    inputs = tuple(x for x, _ in kept)
    operands = tuple(x if isinstance(x, Tensor) else a for x, a in zip(operands, args, strict=True))
    return _node(value, inputs, tuple(v for _, v in kept), op, operands, params)


_new = object.__new__


def _node(
    value: Any,
    inputs: tuple[Tensor, ...],
    vjps: tuple[VJP, ...],
    op: Op,
    operands: tuple[Any, ...],
    params: tuple[Any, ...],
) -> Tensor:
    node: Tensor = _new(Tensor)
    # A NumPy operation on 0-d arrays returns a NumPy scalar: a node holds an array.
    node.data = value if type(value) is np.ndarray else np.asarray(value)
    node.inputs = inputs
    node.local_grads = vjps
    node.op = op
    node.operands = operands
    node.params = params
    node.label = ""
    node.serial = next_serial()
    return node


# ---------------------------------------------------------------- joining the engine

register_kind(
    NodeKind(
        node_type=Tensor,
        seed=seed,
        check_loss=check_loss,
        finish=finish,
        result=TensorBackward,
    )
)
