"""Backpropagation as memoized recursion: scalar and array graphs and their gradients.

``Value`` records a computation on numbers as it runs, ``Tensor`` one on
NumPy arrays; :func:`grad` evaluates the adjoint recurrence
``adj(L) = 1``, ``adj(n) = Σ_c adj(c) · ∂c/∂n`` over each node's consumers
on memokit's DAG engines (top-down memoized recursion, or one bottom-up
sweep of the same table), memoized by node, for either kind of node;
:func:`backward` also reports what that cost (with ``memo=False`` it is the
naive sum over paths); :func:`gradcheck` compares against finite
differences. ``Activations`` keeps the forward values of a Tensor graph in a
bounded memo, recomputing evicted ones when backward needs them;
``Checkpoints`` is a store for it that follows a checkpoint schedule.

The array half (``Tensor``, ``Activations``, ``TensorBackward``, ``VJP``)
needs NumPy, installed with ``pip install 'memokit[array]'``; it is imported
on first use, so ``import memokit.autodiff`` never loads NumPy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from memokit.autodiff._check import GradcheckEntry, GradcheckReport, forward, gradcheck
from memokit.autodiff._checkpoints import Checkpoints
from memokit.autodiff._grad import Backward, Schedule, backward, grad
from memokit.autodiff._value import Value

if TYPE_CHECKING:
    from memokit.autodiff._activations import Activations
    from memokit.autodiff._tensor import Tensor
    from memokit.autodiff._tensor_grads import TensorBackward
    from memokit.autodiff._tensor_ops import VJP

__all__ = [
    "VJP",
    "Activations",
    "Backward",
    "Checkpoints",
    "GradcheckEntry",
    "GradcheckReport",
    "Schedule",
    "Tensor",
    "TensorBackward",
    "Value",
    "backward",
    "forward",
    "grad",
    "gradcheck",
]

#: The names that need NumPy, and the module each lives in.
_ARRAY_NAMES = {
    "Activations": "memokit.autodiff._activations",
    "Tensor": "memokit.autodiff._tensor",
    "TensorBackward": "memokit.autodiff._tensor_grads",
    "VJP": "memokit.autodiff._tensor_ops",
}

#: What to install for them.
ARRAY_EXTRA = "pip install 'memokit[array]' (or pip install numpy)"


def __getattr__(name: str) -> Any:
    """Import the array half on first use, saying what to install when NumPy is missing."""
    module = _ARRAY_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'memokit.autodiff' has no attribute {name!r}")
    try:
        found = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != "numpy":
            raise
        raise ModuleNotFoundError(
            f"memokit.autodiff.{name} works on NumPy arrays, and NumPy is not installed: "
            f"{ARRAY_EXTRA}",
            name="numpy",
        ) from exc
    return getattr(found, name)
