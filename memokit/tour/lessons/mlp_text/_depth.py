"""The cost and memory steps: backward passes as the network deepens, and under LRU bounds."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence

from memokit.tour.lessons import mlp
from memokit.tour.lessons._format import format_seconds
from memokit.tour.lessons.mlp import (
    LRU_SIZES,
    LRU_SWEEP,
    TRADEOFF_LAYERS,
    ScalingRow,
    Skipped,
    Timed,
    growth_per_layer,
    memo_label,
)

__all__ = ["memory", "memory_lines", "scaling", "scaling_lines"]


def scaling_lines(
    rows: Iterable[ScalingRow], lru_sizes: Sequence[int] = LRU_SIZES
) -> Iterator[str]:
    """The cost table, one line per depth as it is measured."""
    lrus = [f"lru({k})" for k in lru_sizes]
    yield (
        "The same network made deeper: more hidden layers of 2 neurons, ∂L/∂(every"
        " parameter) with each memo setting. Evaluations are the terms adj(c)·∂c/∂n computed;"
        " a naive run that would take more than a second is skipped, its cost extrapolated"
        " from the growth measured on the two depths before."
    )
    yield ""
    lru_head = "".join(f" │ {f'memo={k} (LRU)':>19}" for k in lru_sizes)
    naive_head, memo_head = "memo=False (naive)", "memo=True"
    yield f"  {'hidden':>6} {'edges†':>6} │ {naive_head:>26} │ {memo_head:>15}{lru_head}"
    lru_sub = "".join(f" │ {'evals':>9} {'recomp':>9}" for _ in lru_sizes)
    yield (
        f"  {'layers':>6} {'':>6} │ {'evals':>10} {'ratio':>5} {'time':>9} │ {'evals':>6}"
        f" {'time':>8}{lru_sub}"
    )
    done: list[ScalingRow] = []
    previous_naive: float | None = None
    skipped: list[ScalingRow] = []
    for row in rows:
        naive = row.runs["none"]
        if isinstance(naive, Skipped):
            count = naive.evaluations
            skipped.append(row)
            evals, when = f"~{count:,.0f}", "skipped"
        else:
            count = naive.evaluations
            evals, when = f"{count:,}", format_seconds(naive.seconds)
        ratio = f"{count / previous_naive:.2f}" if previous_naive else ""
        previous_naive = count
        memo = row.runs["dict"]
        assert isinstance(memo, Timed)
        cells = ""
        for key in lrus:
            run = row.runs[key]
            if isinstance(run, Skipped):
                cells += f" │ {'~' + format(run.evaluations, ',.0f'):>9} {'skipped':>9}"
            else:
                cells += (
                    f" │ {run.result.local_derivative_evaluations:>9,}"
                    f" {run.result.recomputations:>9,}"
                )
        yield (
            f"  {row.layers:>6} {row.backprop_edges:>6} │ {evals:>10} {ratio:>5} {when:>9} │"
            f" {memo.result.local_derivative_evaluations:>6,}"
            f" {format_seconds(memo.seconds):>8}{cells}"
        )
        done.append(row)
    if not done:
        return
    yield ""
    last = done[-1]
    memo = last.runs["dict"]
    assert isinstance(memo, Timed)
    equal = all(r.backprop_edges == r.runs["dict"].evaluations for r in done)
    yield (
        f"† edges on the paths from the parameters to L. memo=True evaluates each exactly"
        f" once ({'as measured' if equal else 'NOT as measured'}: evaluations = edges), so its"
        f" cost grows linearly with depth; its memo ends holding {memo.result.memo_size}"
        f" adjoints at {last.layers} layers, one per node it computed. The naive column grows"
        f" by its ratio per added layer: exponential, since every layer doubles the paths."
        + _skipped_note(skipped)
    )
    sizes = ", ".join(str(k) for k in lru_sizes)
    growth = [
        growth_per_layer([(r.layers, r.runs[key].evaluations) for r in done if _measured(r, key)])
        for key in lrus
    ]
    measured = "; ".join(
        f"memo={k} grew {g:.2f}-fold per layer over the last two rows"
        for k, g in zip(lru_sizes, growth, strict=True)
        if g is not None
    )
    held = [max((_memo_size(r.runs[key]) for r in done), default=0) for key in lrus]
    yield (
        f"An LRU memo keeps only the k most recently used adjoints (k = {sizes}; at most"
        f" {', '.join(str(h) for h in held)} held, as measured) and recomputes the others when"
        f" asked again, like gradient checkpointing: memory bounded by k, paid for in"
        f" recomputations. How much depends on k against the"
        f" graph's width: {measured or 'too few rows to tell'}."
    )


def _skipped_note(rows: Sequence[ScalingRow]) -> str:
    if not rows:
        return ""
    guesses = []
    for row in rows:
        run = row.runs["none"]
        assert isinstance(run, Skipped)
        guesses.append(f"~{format_seconds(run.seconds)} at {row.layers}")
    return (
        f" Rows marked ~ are estimates, not runs: the naive pass would take"
        f" {', '.join(guesses)} layers."
    )


def _measured(row: ScalingRow, key: str) -> bool:
    return isinstance(row.runs[key], Timed)


def _memo_size(run: Timed | Skipped) -> int:
    return run.result.memo_size if isinstance(run, Timed) else 0


def scaling(quick: bool) -> Iterator[str]:
    """Tour step: naive against memoized backward passes as the network deepens."""
    yield from scaling_lines(mlp.tour_scaling(quick), LRU_SIZES)


def memory_lines(runs: Sequence[Timed], layers: int) -> Iterator[str]:
    """The LRU trade-off table: adjoints kept against adjoints recomputed, per bound."""
    full = runs[0].result
    yield (
        f"One network, {layers} hidden layers of 2 ({full.graph_size} nodes), and one backward"
        f" pass for every parameter per row, with the memo bounded to k adjoints. An LRU memo"
        f" keeps the k most recently used adjoints and recomputes a dropped one when it is"
        f" needed again, as gradient checkpointing does: memory bounded by k, paid for in"
        f" recomputation."
    )
    yield ""
    yield (
        f"  {'memo':>12} {'kept':>6} {'computed':>9} {'recomputed':>11} {'evaluations':>12}"
        f" {'/ memo=True':>12} {'time':>9}"
    )
    base = full.local_derivative_evaluations
    worst_gap = 0.0
    for run in runs:
        r = run.result
        yield (
            f"  {memo_label(r.memo):>12} {r.memo_size:>6,} {r.computations:>9,}"
            f" {r.recomputations:>11,} {r.local_derivative_evaluations:>12,}"
            f" {r.local_derivative_evaluations / base:>12.1f}"
            f" {format_seconds(run.seconds):>9}"
        )
        for mine, reference in zip(r.gradients, full.gradients, strict=True):
            scale = max(abs(mine), abs(reference))
            if scale:
                worst_gap = max(worst_gap, abs(mine - reference) / scale)
    yield ""
    bounded = [run.result for run in runs[1:-1]]
    cheap = [r for r in bounded if r.local_derivative_evaluations <= 5 * base]
    lines = []
    if cheap:
        best = min(cheap, key=lambda r: r.memo_size)
        lines.append(
            f"With {memo_label(best.memo)} the memo keeps {best.memo_size} of {full.memo_size}"
            f" adjoints ({100 * best.memo_size / full.memo_size:.0f}%) and pays"
            f" {best.local_derivative_evaluations / base:.1f} times the evaluations of a full"
            f" memo."
        )
    jumps = [
        (b.local_derivative_evaluations / a.local_derivative_evaluations, a, b)
        for a, b in itertools.pairwise(bounded)
    ]
    if jumps:
        ratio, a, b = max(jumps, key=lambda j: j[0])
        lines.append(
            f"The steepest step is from {memo_label(a.memo)} to {memo_label(b.memo)}: the work"
            f" grows {ratio:.0f}-fold. With too few slots an adjoint is dropped before its next"
            f" use, and recomputing it needs adjoints above it that were dropped too, so the"
            f" cost runs up toward the naive sum over paths."
        )
    if worst_gap == 0:
        lines.append("Every row computes exactly the same gradients; only the cost differs.")
    else:
        lines.append(
            f"The gradients of every row agree with memo=True's to a relative {worst_gap:.1e};"
            f" only the cost differs."
        )
    yield " ".join(lines)


def memory(quick: bool) -> Iterator[str]:
    """Tour step: memory kept against recomputation paid, as the LRU bound shrinks."""
    layers = TRADEOFF_LAYERS[0] if quick else TRADEOFF_LAYERS[1]
    yield from memory_lines(mlp.memory_tradeoff(layers, LRU_SWEEP), layers)
