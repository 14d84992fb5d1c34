"""The layers lesson as text: the tour's chapter on array nodes (``python -m memokit tour``).

The measuring module, :mod:`memokit.tour.lessons.layers`, needs NumPy and
scikit-learn; it is imported when the chapter runs, and when they are
missing the chapter says so in one line and is skipped.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator

__all__ = ["NEEDS", "chapter", "missing"]

#: What the chapter needs, by module name and by what to install.
NEEDS = {"numpy": "NumPy", "sklearn": "scikit-learn"}


def missing() -> list[str]:
    """The packages the chapter needs that are not installed."""
    return [name for module, name in NEEDS.items() if importlib.util.find_spec(module) is None]


def chapter(quick: bool) -> Iterator[str]:
    """Both granularities, training on digits, and checkpointing, measured as the tour runs."""
    absent = missing()
    if absent:
        yield (
            f"Skipped: this chapter trains a network on arrays and needs {' and '.join(absent)},"
            f" which {'is' if len(absent) == 1 else 'are'} not installed here:"
            f" pip install 'memokit[examples]', then run the tour again."
        )
        return
    from memokit.tour.lessons import layers

    both = layers.both_ways()
    yield (
        f"The lecture's network again, built from one Tensor (a NumPy array) per layer instead"
        f" of one Value per weight: {both.tensor_nodes} nodes instead of {both.value_nodes}."
        f" grad() runs the same recurrence, adj(n) = Σ_c vjp_c,n(adj(c)), where each local"
        f" derivative is now a vector-Jacobian product (for h @ W: g ↦ g @ Wᵀ and g ↦ hᵀ @ g)."
        f" ∂L/∂W¹ holds the four scalar gradients:"
    )
    yield ""
    for tensor_row, value_row in zip(both.tensor_dw1, both.value_dw1, strict=True):
        pairs = zip(tensor_row, value_row, strict=True)
        yield "  " + "  ".join(f"{t:+.10f} ({v:+.10f})" for t, v in pairs)
    yield "  (Tensor entry, then the Value graph's gradient for the same weight)"
    yield ""

    epochs = 2 if quick else 8
    run = layers.train_digits(epochs)
    shape = " -> ".join(map(str, run.layers))
    yield (
        f"The lecture's shape on real data: {shape} (tanh) on scikit-learn's handwritten"
        f" digits, {run.train_size} training and {run.test_size} test images, Adam on batches"
        f" of 32, {epochs} epochs:"
    )
    yield ""
    yield f"  {'epoch':>5}  {'loss':>7}  {'train':>7}  {'test':>7}"
    for e in run.epochs:
        yield f"  {e.number:>5}  {e.loss:7.4f}  {e.train_accuracy:7.2%}  {e.test_accuracy:7.2%}"
    yield ""
    norms = ", ".join(
        f"W{i}: {b:.3g} → {a:.3g}"
        for i, (b, a) in enumerate(zip(run.norms_before, run.norms_after, strict=True), 1)
    )
    yield f"‖∂L/∂W‖ per layer on the training set, before → after: {norms}."
    yield (
        f"Adjoints for the {2 * (len(run.layers) - 1)} parameters on this {run.graph_size}-node"
        f" graph: {run.naive_computations} computed naively (memo=False), "
        f"{run.memoized_computations} memoized. At layer granularity the graph is nearly a chain,"
        f" so the naive cost grows with the square of the depth, not exponentially."
    )
    yield ""

    depth, width, batch = (8, 32, 64) if quick else (20, 128, 256)
    bounds = (16, 8, 4) if quick else (32, 16, 8, 4)
    nodes, runs = layers.checkpointing(depth, width, batch, bounds)
    yield (
        f"Checkpointing as a bounded memo: one training step of a {depth}-layer MLP"
        f" ({nodes} nodes, width {width}, batch {batch}) with its activations in"
        f" Activations(maxsize=k); evicted ones are recomputed from their inputs when a VJP"
        f" needs them. Peak memory by tracemalloc:"
    )
    yield ""
    yield f"  {'k':>5}  {'peak MB':>8}  {'vs full':>7}  {'recomputed':>10}  same gradients"
    full = runs[0].peak_bytes
    for r in runs:
        k = "full" if r.k is None else str(r.k)
        yield (
            f"  {k:>5}  {r.peak_bytes / 1e6:8.2f}  {r.peak_bytes / full:7.0%}  "
            f"{r.recomputations:>10}  {'yes' if r.same_gradients else 'NO'}"
        )
    yield ""
    yield (
        "Memory kept against recomputation paid, the trade of the LRU memo of adjoints, now"
        " for forward values (docs/layers.md compares it with Chen et al.'s √n checkpoints)."
    )
