"""How Tensor nodes join the gradient engine: the loss check, adj(L), and the gradients handed back.

The engine (:mod:`memokit.autodiff._grad`) is the same for every kind of
node; the Tensor module registers these with it (a
:class:`~memokit.autodiff._kinds.NodeKind`) when it is imported.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from memokit.autodiff._kinds import BackwardBase
from memokit.autodiff._tensor_ops import Array

if TYPE_CHECKING:
    from memokit.autodiff._tensor import Tensor

__all__ = ["TensorBackward", "check_loss", "finish", "seed"]


@dataclass(frozen=True)
class TensorBackward(BackwardBase["Tensor", NDArray[Any]]):
    """The gradients of a backward pass over :class:`Tensor` nodes, and what they cost."""


def check_loss(loss: Tensor) -> None:
    """Raise ValueError unless the loss holds one number."""
    if math.prod(loss.shape) != 1:
        raise ValueError(
            f"the loss must be a Tensor holding one number, got shape {loss.shape}: "
            f"reduce it first, e.g. loss.sum() or loss.mean()"
        )


def seed(loss: Tensor) -> Array:
    """adj(L) = 1: ones shaped like the loss."""
    return np.ones(loss.shape, dtype=loss.dtype)


def finish(targets: Sequence[Tensor], adjoints: Sequence[Any]) -> tuple[Array, ...]:
    """The gradients handed back: each a writable array of its node's shape and dtype.

    The engine's adjoints may be read-only broadcasts, or views of one buffer
    (``x + y`` hands both the same one): such a gradient is copied, so that
    each one the caller gets is its own.
    """
    handed_out: set[int] = set()  # the buffers already given to the caller
    gradients = []
    ndarray = np.ndarray
    for node, adjoint in zip(targets, adjoints, strict=True):
        shape, dtype = node.shape, node.dtype
        if adjoint is None:
            gradients.append(np.zeros(shape, dtype=dtype))
            continue
        g = adjoint if type(adjoint) is ndarray else np.asarray(adjoint)
        if g.shape != shape:
            raise ValueError(
                f"a VJP returned a gradient of shape {g.shape} for a node of shape {shape} "
                f"({node!r}): each VJP must return an array shaped like its input"
            )
        buffer = g
        while isinstance(buffer.base, ndarray):
            buffer = buffer.base
        if g.dtype != dtype or id(buffer) in handed_out or not g.flags.writeable:
            g = buffer = np.array(g, dtype=dtype)
        handed_out.add(id(buffer))
        gradients.append(g)
    return tuple(gradients)
