"""Forward re-evaluation of a recorded graph, and gradients checked by finite differences."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from memokit._dag import DagEvaluator
from memokit.autodiff._grad import backward
from memokit.autodiff._value import Value

__all__ = ["GradcheckEntry", "GradcheckReport", "forward", "gradcheck"]


def forward(node: Value, leaves: Mapping[Value, float] | None = None) -> float:
    """Evaluate ``node`` again over its inputs, with some leaves given new values.

    The forward pass is the same DP as the backward one, over *inputs*: each
    node's value is its operation applied to its inputs' values, computed
    once per node.

    >>> x = Value(2.0)
    >>> y = (x * x).exp().log() + x   # x² + x
    >>> forward(y), forward(y, {x: 3.0})
    (6.0, 12.0)
    """
    overrides = {id(leaf): float(v) for leaf, v in (leaves or {}).items()}

    def value(n: Value, input_values: list[float]) -> float:
        if n.op is None:
            return overrides.get(id(n), n.data)
        return n.op(*input_values, *n.params)[0]

    evaluator: DagEvaluator[Value, float] = DagEvaluator(inputs=lambda n: n.inputs, compute=value)
    return evaluator.evaluate(node)


@dataclass(frozen=True)
class GradcheckEntry:
    """One node's gradient, from backprop and from central differences."""

    index: int
    node: Value
    analytic: float
    numeric: float

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
        return (
            f"gradcheck {verdict}: {len(self.entries)} gradients, worst is wrt[{worst.index}] "
            f"({name}): backprop {worst.analytic:.10g}, finite differences "
            f"{worst.numeric:.10g}, abs error {worst.abs_error:.3g}, rel error "
            f"{worst.rel_error:.3g} (tolerance {self.atol:g} + {self.rtol:g}·|numeric|)"
        )


def gradcheck(
    loss: Value,
    wrt: Sequence[Value] | None = None,
    *,
    eps: float = 1e-6,
    rtol: float = 1e-4,
    atol: float = 1e-7,
) -> GradcheckReport:
    """Compare backprop's gradients with central finite differences of ``loss``.

    Each leaf in ``wrt`` (default: every leaf) is nudged by ±``eps`` and the
    loss evaluated again with :func:`forward`. The report's ``ok`` says whether
    all gradients agree; printing it names the worst entry.

    >>> a, b = Value(0.5, label="a"), Value(-1.5, label="b")
    >>> report = gradcheck((a * b).tanh() + a.sin())
    >>> report.ok
    True
    >>> print(report)  # doctest: +ELLIPSIS
    gradcheck ok: 2 gradients, worst is wrt[...] ...
    """
    result = backward(loss, wrt)
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
