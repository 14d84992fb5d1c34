"""What a Tensor operation accepts, and the errors that say what was wrong with the rest.

NumPy's own messages name one shape, or a gufunc signature; these name both
operands' shapes and the rule they broke.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from memokit.autodiff._tensor_ops import Array

__all__ = [
    "broadcast_error",
    "check_labels",
    "check_reshape",
    "constant",
    "float_array",
    "matmul_error",
]


def float_array(data: Any, dtype: Any) -> Array:
    """``data`` as a floating-point array (an ndarray of a float dtype is kept as it is).

    >>> float_array([1, 2], None).dtype, float_array(np.ones(2, np.float32), None).dtype
    (dtype('float64'), dtype('float32'))
    """
    if isinstance(data, np.ndarray) and dtype is None:
        array = data
    else:
        # Plain numbers and lists become float64 unless a dtype is given.
        default = None if isinstance(data, np.ndarray | np.generic) else np.float64
        array = np.asarray(data, dtype=dtype if dtype is not None else default)
    if not np.issubdtype(array.dtype, np.floating):
        raise TypeError(
            f"a Tensor holds floating-point data, whose gradient is defined; got an array of "
            f"{array.dtype}. Convert it (Tensor(x.astype(np.float32)) or dtype=np.float64), "
            f"or pass integer data such as labels and indices as a plain array"
        )
    return array


def constant(x: Any) -> Any:
    """``x`` as a constant operand: a number stays a number (so float32 stays float32)."""
    if isinstance(x, numbers.Number | np.ndarray) and not isinstance(x, complex):
        return x
    if isinstance(x, list | tuple):
        array = np.asarray(x)
        return array.astype(np.float64) if np.issubdtype(array.dtype, np.integer) else array
    raise TypeError(
        f"cannot combine a Tensor with {type(x).__name__} {x!r}: use a Tensor, a number "
        f"or a NumPy array"
    )


def broadcast_error(verb: str, a: tuple[int, ...], b: tuple[int, ...]) -> ValueError | None:
    """The error for ``a (verb) b`` when the shapes do not broadcast (None when they do)."""
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return ValueError(
            f"cannot {verb} shapes {a} and {b}: they do not broadcast (aligned from the "
            f"right, each pair of lengths must be equal or contain a 1)"
        )
    return None


def matmul_error(a: tuple[int, ...], b: tuple[int, ...]) -> ValueError:
    """The error for ``a @ b`` with shapes that do not fit."""
    if not a or not b:
        return ValueError(
            f"@ needs arrays of at least one axis, got shapes {a} and {b} "
            f"(use * to scale by a number)"
        )
    inner = b[0] if len(b) == 1 else b[-2]
    which = "only" if len(b) == 1 else "second-to-last"
    return ValueError(
        f"cannot multiply shapes {a} @ {b}: the left's last length ({a[-1]}) must equal "
        f"the right's {which} length ({inner})"
    )


def check_reshape(shape: tuple[int, ...], new: Any) -> None:
    """Raise ValueError unless an array of ``shape`` can be reshaped to ``new``."""
    try:
        np.empty(shape, dtype=np.bool_).reshape(new)
    except (ValueError, TypeError):
        raise ValueError(
            f"cannot reshape a Tensor of shape {shape} ({int(np.prod(shape))} entries) to {new}"
        ) from None


def check_labels(shape: tuple[int, ...], labels: Any) -> Array:
    """``labels`` as an integer array of one class number per row of logits of ``shape``."""
    classes = np.asarray(labels)
    if len(shape) != 2 or classes.shape != shape[:1]:
        raise ValueError(
            f"cross_entropy takes logits of shape (rows, classes) and one label per row; "
            f"got logits of shape {shape} and labels of shape {classes.shape}"
        )
    if classes.dtype.kind not in "iu":  # signed or unsigned integers
        raise TypeError(f"labels must be integers (class numbers), got {classes.dtype}")
    if classes.size and (classes.min() < 0 or classes.max() >= shape[1]):
        raise ValueError(
            f"labels must lie in 0 .. {shape[1] - 1} (one per class), "
            f"got values from {classes.min()} to {classes.max()}"
        )
    return classes
