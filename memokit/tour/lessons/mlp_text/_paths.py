"""The two-paths and finite-difference steps: ∂L/∂w¹₁₁ spelled out, every gradient checked."""

from __future__ import annotations

from collections.abc import Iterator

from memokit.autodiff import GradcheckReport, gradcheck
from memokit.tour.lessons import mlp
from memokit.tour.lessons._format import format_number, format_term
from memokit.tour.lessons.mlp import Network, TwoPaths

__all__ = ["finite_differences", "finite_differences_lines", "two_paths", "two_paths_lines"]


def two_paths_lines(split: TwoPaths) -> Iterator[str]:
    """∂L/∂w as path-1 + path-2, each factor's local derivatives shown, then the checks."""
    via = " and ".join(p.via for p in split.paths)
    yield (
        f"{split.weight} influences L along {len(split.paths)} paths, through {via}, so"
        f" ∂L/∂{split.weight} is a sum of {len(split.paths)} path terms. Each factor below is"
        f" read off the graph: the product of the local derivatives recorded on the edges"
        f" between the two nodes, top down."
    )
    yield ""
    factors = []
    for path in split.paths:
        for f in path.factors:
            if f not in factors:
                factors.append(f)
    width = max(len(f.symbol) for f in factors)
    yield f"  {'factor':<{width}}  {'value':>11}   edges: operation local-derivative, …"
    for f in factors:
        steps = " · ".join(f"{op} {format_term(d)}" for op, d in f.steps)
        yield f"  {f.symbol:<{width}}  {f.value:>11.6f}   {steps}"
    yield ""
    for k, path in enumerate(split.paths, 1):
        symbols = " · ".join(f.symbol for f in path.factors)
        values = "".join(f"({format_number(f.value)})" for f in path.factors)
        yield f"  path-{k} = {symbols}"
        yield f"         = {values} = {path.value:.12g}"
    names = " + ".join(f"path-{k}" for k in range(1, len(split.paths) + 1))
    rows = [
        (names, split.total),
        (f"grad(L, wrt=[{split.weight}])", split.grad),
        ("central finite differences", split.numeric),
    ]
    label = max(len(r[0]) for r in rows)
    yield ""
    for text, value in rows:
        yield f"  {text:<{label}} = {value:.12g}"
    yield ""
    agree = abs(split.total - split.grad)
    yield (
        f"The path sum and grad() differ by {agree:.2g}; {split.check}."
        if agree
        else f"The path sum and grad() agree exactly; {split.check}."
    )
    shared = split.shared
    bracket = sum(p.value / shared.value for p in split.paths) if shared.value else 0.0
    yield ""
    yield (
        f"Every path ends in the same factor {shared.symbol} = {format_number(shared.value)}."
        f" Taking it out, {names} = ∂L/∂{split.hidden} · {shared.symbol}, where ∂L/∂{split.hidden}"
        f" = {format_number(bracket)} is the sum of the paths above {split.hidden}"
        f" (grad(L, wrt=[{split.hidden}]) gives {format_number(split.hidden_adjoint)}). That sum is"
        f" needed again for every input of {split.hidden}'s neuron (its other weight and its"
        f" bias): backpropagation computes it once and stores it. Chain rule + memoization."
    )


def two_paths(quick: bool) -> Iterator[str]:
    """Tour step: ∂L/∂w¹₁₁ as path-1 + path-2, checked."""
    yield from two_paths_lines(mlp.two_paths(mlp.seed_network()))


def finite_differences_lines(net: Network, report: GradcheckReport) -> Iterator[str]:
    """Every parameter's gradient from backprop next to central finite differences."""
    yield (
        f"A check that uses no chain rule at all: gradcheck nudges each of the"
        f" {len(report.entries)} parameters by ±ε (ε = {report.eps:g}), runs the forward pass"
        f" again and takes (L(p + ε) - L(p - ε)) / 2ε. Next to it, backprop's gradient from"
        f" the memoized backward pass:"
    )
    yield ""
    width = max(len(e.node.label) for e in report.entries)
    yield (
        f"  {'param':<{width}}  {'backprop ∂L/∂p':>16}  {'finite differences':>18}"
        f"  {'abs error':>9}  {'rel error':>9}"
    )
    for e in report.entries:
        yield (
            f"  {e.node.label:<{width}}  {e.analytic:>16.10f}  {e.numeric:>18.10f}"
            f"  {e.abs_error:>9.1e}  {e.rel_error:>9.1e}"
        )
    yield ""
    worst = max(report.entries, key=lambda e: e.rel_error)
    yield (
        f"{'All' if report.ok else 'NOT all'} {len(report.entries)} gradients agree within"
        f" {report.atol:g} + {report.rtol:g}·|finite difference|; the largest relative error is"
        f" {worst.rel_error:.1e} ({worst.node.label}). Central differences carry errors of"
        f" their own, of order ε² from truncation and 1e-16/ε from rounding, so agreement this"
        f" close is all they can show."
    )


def finite_differences(quick: bool) -> Iterator[str]:
    """Tour step: every gradient of the seed network checked against finite differences."""
    net = mlp.seed_network()
    yield from finite_differences_lines(net, gradcheck(net.loss, list(net.params.values())))
