"""The two plots: calls against n for fib, evaluations against depth for backward passes."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

from memokit.tour.lessons import fib, mlp, progress
from memokit.tour.lessons.mlp import ScalingRow, Timed
from memokit.tour.pictures._figure import (
    PATH_COLORS,
    new_figure,
    output_path,
    require_matplotlib,
)

__all__ = ["count_calls", "plot_calls_vs_n", "plot_evaluations_vs_depth"]


def count_calls(quick: bool) -> list[fib.Row]:
    """Naive and memoized fib(n), counted for every n from 1 to 30 (to 25 with ``quick``)."""
    return fib.compare(range(1, 26 if quick else 31))


def plot_calls_vs_n(
    path: str | os.PathLike[str], rows: Sequence[fib.Row] | None = None, *, quick: bool = False
) -> Path:
    """Plot the counted calls of naive and memoized fib(n) against n, log scale, to a PNG.

    ``rows`` are :func:`memokit.tour.lessons.fib.compare`'s measurements; by default
    they are measured now for n = 1 … 30 (1 … 25 with ``quick``).
    """
    target = output_path(path, ".png")
    require_matplotlib()
    if rows is None:
        progress.note(f"counting calls for {target.name}")
        rows = count_calls(quick)
    if not rows:
        raise ValueError("plot_calls_vs_n needs at least one measured row")
    ns = [r.n for r in rows]
    fig = new_figure(8, 5)
    ax = fig.add_subplot()
    ax.set_yscale("log")
    ax.plot(
        ns,
        [r.naive_calls for r in rows],
        "o-",
        color=PATH_COLORS[0],
        ms=4,
        label="naive recursion (counted)",
    )
    ax.plot(
        ns,
        [r.memo_calls for r in rows],
        "s-",
        color=PATH_COLORS[1],
        ms=4,
        label="@memoize (counted): n + 1",
    )
    ax.plot(
        ns,
        [2 * fib.PHI / math.sqrt(5) * fib.PHI**n for n in ns],
        "--",
        color="#777777",
        lw=1,
        label="1.447·φⁿ (φ = 1.618…)",
    )
    last = rows[-1]
    ax.annotate(
        f"{last.naive_calls:,} calls",
        (last.n, last.naive_calls),
        xytext=(-8, 0),
        textcoords="offset points",
        ha="right",
        va="center",
        fontsize=10,
    )
    ax.annotate(
        f"{last.memo_calls} calls",
        (last.n, last.memo_calls),
        xytext=(0, 8),
        textcoords="offset points",
        ha="right",
        va="bottom",
        fontsize=10,
    )
    ax.set_xlabel("n")
    ax.set_ylabel("calls to fib (log scale)")
    ax.set_title("Calls made to compute fib(n): naive recursion against @memoize")
    ax.grid(True, which="major", alpha=0.35)
    ax.legend(loc="upper left", frameon=False)
    fig.savefig(target, dpi=110)
    return target


# --------------------------------------------------- evaluations against depth


def plot_evaluations_vs_depth(
    path: str | os.PathLike[str],
    rows: Sequence[ScalingRow] | None = None,
    *,
    quick: bool = False,
) -> Path:
    """Plot local-derivative evaluations against hidden layers, naive, memoized and LRU, to a PNG.

    ``rows`` are :func:`memokit.tour.lessons.mlp.scaling`'s measurements; by default
    they are measured now, as the tour's cost table does. Runs that scaling
    skipped for time are estimates: drawn hollow, joined by a dotted line.
    """
    target = output_path(path, ".png")
    require_matplotlib()
    if rows is None:
        rows = list(mlp.tour_scaling(quick))
    if not rows:
        raise ValueError("plot_evaluations_vs_depth needs at least one measured row")
    keys = list(rows[0].runs)
    order = ["none", *(k for k in keys if k.startswith("lru")), "dict"]
    colors = {"none": PATH_COLORS[0], "dict": PATH_COLORS[1]}
    colors |= dict(zip(order[1:-1], ("#1b9e77", "#7a4fb0", "#8c6d1f", "#c2187a"), strict=False))
    kinds = {"none": "naive sum over paths", "dict": "every adjoint kept"}
    fig = new_figure(8, 5.2)
    ax = fig.add_subplot()
    ax.set_yscale("log")
    for key in order:
        name = f"{mlp.memo_label(key)}: {kinds.get(key, 'LRU-bounded')}"
        marker = {"none": "o", "dict": "s"}.get(key, "^")
        color = colors.get(key, "#444444")
        measured = [(r.layers, r.runs[key].evaluations) for r in rows if _ran(r, key)]
        guessed = [(r.layers, r.runs[key].evaluations) for r in rows if not _ran(r, key)]
        if measured:
            label = name + _growth_note(measured, linear=key == "dict")
            ax.plot(*zip(*measured, strict=True), marker=marker, color=color, ms=5, label=label)
        if guessed:
            bridge = measured[-1:] + guessed
            ax.plot(*zip(*bridge, strict=True), ":", color=color)
            ax.plot(
                *zip(*guessed, strict=True),
                marker=marker,
                ls="none",
                color=color,
                ms=6,
                mfc="white",
                label=f"{name.split(':')[0]}: estimated from that growth, not run",
            )
    ax.set_xlabel("hidden layers (2 neurons each)")
    ax.set_ylabel("local-derivative evaluations adj(c)·∂c/∂n (log scale)")
    ax.set_title("Backward passes for every parameter's gradient, as the network deepens")
    ax.set_xticks([r.layers for r in rows])
    ax.grid(True, which="major", alpha=0.35)
    ax.legend(loc="upper left", frameon=False, fontsize=9)
    fig.savefig(target, dpi=110)
    return target


def _ran(row: ScalingRow, key: str) -> bool:
    return isinstance(row.runs[key], Timed)


def _growth_note(points: Sequence[tuple[int, float]], *, linear: bool) -> str:
    """How the last two measured points grow per layer (added or multiplied), for the legend."""
    if len(points) < 2:
        return ""
    if linear:
        (l1, e1), (l2, e2) = points[-2:]
        return f" (+{(e2 - e1) / (l2 - l1):.0f} per layer)"
    return f" (× {mlp.growth_per_layer(points):.2f} per layer)"  # noqa: RUF001 (times)
