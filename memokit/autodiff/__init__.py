"""Backpropagation as memoized recursion: scalar graphs and their gradients.

``Value`` records a computation as it runs; :func:`grad` evaluates the
adjoint recurrence ``adj(L) = 1``, ``adj(n) = Σ_c adj(c) · ∂c/∂n`` over each
node's consumers on memokit's DAG engines (top-down memoized recursion, or
one bottom-up sweep of the same table), memoized by node; :func:`backward`
also reports what that cost (with ``memo=False`` it is the naive sum over
paths); :func:`gradcheck` compares against finite differences.
"""

from memokit.autodiff._check import GradcheckEntry, GradcheckReport, forward, gradcheck
from memokit.autodiff._grad import Backward, Schedule, backward, grad
from memokit.autodiff._value import Value

__all__ = [
    "Backward",
    "GradcheckEntry",
    "GradcheckReport",
    "Schedule",
    "Value",
    "backward",
    "forward",
    "grad",
    "gradcheck",
]
