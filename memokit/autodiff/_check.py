"""Forward re-evaluation of a recorded graph, and gradients checked by finite differences.

For Values here; a Tensor loss is handed to :mod:`memokit.autodiff._tensor_check`,
which checks a sample of each array's entries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload

from memokit._dag import DagEvaluator
from memokit.autodiff._grad import backward
from memokit.autodiff._value import Value

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

    from memokit.autodiff._tensor import Tensor

__all__ = ["GradcheckEntry", "GradcheckReport", "forward", "gradcheck"]


@overload
def forward(node: Value, leaves: Mapping[Value, float] | None = None) -> float: ...
@overload
def forward(node: Tensor, leaves: Mapping[Tensor, ArrayLike] | None = None) -> NDArray[Any]: ...
def forward(
    node: Value | Tensor,
    leaves: Mapping[Value, float] | Mapping[Tensor, ArrayLike] | None = None,
) -> float | NDArray[Any]:
    """Evaluate ``node`` again over its inputs, with some leaves given new values.

    The forward pass is the same DP as the backward one, over *inputs*: each
    node's value is its operation applied to its inputs' values, computed
    once per node. For a Tensor the new values are arrays, and so is the result.

    >>> x = Value(2.0)
    >>> y = (x * x).exp().log() + x   # x² + x
    >>> forward(y), forward(y, {x: 3.0})
    (6.0, 12.0)
    """
    if not isinstance(node, Value):
        from memokit.autodiff._tensor_check import forward_tensor  # it needs NumPy

        return forward_tensor(node, leaves)  # type: ignore[arg-type]
    scalars: Mapping[Value, float] = leaves or {}  # type: ignore[assignment]
    overrides = {id(leaf): float(v) for leaf, v in scalars.items()}

    def value(n: Value, input_values: list[float]) -> float:
        if n.op is None:
            return overrides.get(id(n), n.data)
        return n.op(*input_values, *n.params)[0]

    evaluator: DagEvaluator[Value, float] = DagEvaluator(inputs=lambda n: n.inputs, compute=value)
    return evaluator.evaluate(node)


@dataclass(frozen=True)
class GradcheckEntry:
    """One gradient entry, from backprop and from central differences."""

    #: The node's place in ``wrt``.
    index: int
    node: Value | Tensor
    analytic: float
    numeric: float
    #: The entry's position in a Tensor's array (``()`` for a Value).
    position: tuple[int, ...] = ()

    @property
    def abs_error(self) -> float:
        """|analytic - numeric|."""
        return abs(self.analytic - self.numeric)

    @property
    def rel_error(self) -> float:
        """The absolute error relative to the larger gradient (0 when both are 0)."""
        scale = max(abs(self.analytic), abs(self.numeric))
        return self.abs_error / scale if scale else 0.0


@dataclass(frozen=True)
class GradcheckReport:
    """The result of :func:`gradcheck`: every entry, the worst one, and a verdict."""

    entries: tuple[GradcheckEntry, ...]
    eps: float
    rtol: float
    atol: float

    def _fails(self, e: GradcheckEntry) -> bool:
        return e.abs_error > self.atol + self.rtol * abs(e.numeric)

    @property
    def ok(self) -> bool:
        """Whether every gradient is within ``atol + rtol * |numeric|``."""
        return not any(self._fails(e) for e in self.entries)

    @property
    def worst(self) -> GradcheckEntry | None:
        """The entry with the largest absolute error (``None`` if nothing was checked)."""
        return max(self.entries, key=lambda e: e.abs_error, default=None)

    def __str__(self) -> str:
        worst = self.worst
        if worst is None:
            return "gradcheck: no nodes to check"
        name = worst.node.label or repr(worst.node)
        verdict = "ok" if self.ok else "FAILED"
        at = f"[{', '.join(map(str, worst.position))}]" if worst.position else ""
        return (
            f"gradcheck {verdict}: {len(self.entries)} gradients, worst is wrt[{worst.index}]{at} "
            f"({name}): backprop {worst.analytic:.10g}, finite differences "
            f"{worst.numeric:.10g}, abs error {worst.abs_error:.3g}, rel error "
            f"{worst.rel_error:.3g} (tolerance {self.atol:g} + {self.rtol:g}·|numeric|)"
        )


@overload
def gradcheck(
    loss: Value,
    wrt: Sequence[Value] | None = None,
    *,
    eps: float = 1e-6,
    rtol: float = 1e-4,
    atol: float = 1e-7,
) -> GradcheckReport: ...
@overload
def gradcheck(
    loss: Tensor,
    wrt: Sequence[Tensor] | None = None,
    *,
    eps: float = 1e-6,
    rtol: float = 1e-4,
    atol: float = 1e-7,
    samples: int = 16,
    seed: int = 0,
) -> GradcheckReport: ...
def gradcheck(
    loss: Value | Tensor,
    wrt: Sequence[Value] | Sequence[Tensor] | None = None,
    *,
    eps: float = 1e-6,
    rtol: float = 1e-4,
    atol: float = 1e-7,
    samples: int = 16,
    seed: int = 0,
) -> GradcheckReport:
    """Compare backprop's gradients with central finite differences of ``loss``.

    Each leaf in ``wrt`` (default: every leaf) is nudged by ±``eps`` and the
    loss evaluated again with :func:`forward`. The report's ``ok`` says whether
    all gradients agree; printing it names the worst entry. For a Tensor
    loss, up to ``samples`` entries of each leaf (drawn with ``seed``) are
    nudged one at a time; check in float64.

    >>> a, b = Value(0.5, label="a"), Value(-1.5, label="b")
    >>> report = gradcheck((a * b).tanh() + a.sin())
    >>> report.ok
    True
    >>> print(report)  # doctest: +ELLIPSIS
    gradcheck ok: 2 gradients, worst is wrt[...] ...
    """
    if not isinstance(loss, Value):
        from memokit.autodiff._tensor_check import gradcheck_tensor  # it needs NumPy

        tensors: Sequence[Tensor] | None = wrt  # type: ignore[assignment]
        return gradcheck_tensor(
            loss, tensors, eps=eps, rtol=rtol, atol=atol, samples=samples, seed=seed
        )
    result = backward(loss, wrt)  # type: ignore[arg-type]
    entries = []
    for i, (node, analytic) in enumerate(zip(result.wrt, result.gradients, strict=True)):
        if not node.is_leaf():
            raise ValueError(
                f"gradcheck nudges leaves only; wrt[{i}] ({node!r}) is computed from other nodes"
            )
        up = forward(loss, {node: node.data + eps})
        down = forward(loss, {node: node.data - eps})
        entries.append(GradcheckEntry(i, node, analytic, (up - down) / (2 * eps)))
    return GradcheckReport(tuple(entries), eps, rtol, atol)

