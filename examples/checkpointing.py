"""Gradient checkpointing as a bounded memo of activations: memory against recomputation.

Run it:  python examples/checkpointing.py          (writes checkpointing.png)
         python examples/checkpointing.py --quick  (a smaller network, no picture)

A 20-layer tanh MLP's forward values are kept in ``Activations(store=...)``,
a memo table keyed by node. Backward asks it for the values each VJP reads,
and only those: a layer ``tanh(h @ W + b)`` is three nodes, and backward
reads only the tanh output (tanh's VJP, and the next product's VJP for W).
One that was evicted is recomputed from its inputs by memoized recursion,
down to the nearest value still stored; the product and the sum computed on
the way are handed on, not stored. Two stores, two policies:

* ``LRUStore(k)``: the k most recently used activations. After the forward
  pass it holds the last layers; below them, each miss recomputes the chain
  from the input, so recomputation grows like L²/2k over L layers.
* ``Checkpoints(s, r)``: every s-th node pinned, plus the r most recent
  others. A miss recomputes at most one segment, whose tanh outputs the LRU
  part then holds while backward walks down it (r = s/3 of them): less than
  one extra forward pass for about n/s + s/3 activations, Chen et al.'s
  checkpointing.

For each bound the script measures the step's peak memory (tracemalloc)
and counts the recomputations, and checks that the gradients equal those
of the full table.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import math
import sys
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

try:
    import numpy as np
except ImportError:
    sys.exit("checkpointing.py needs NumPy: pip install 'memokit[array]'")

from memokit import LRUStore, Store
from memokit.autodiff import Activations, Checkpoints, Tensor, grad


@dataclass(frozen=True)
class Run:
    """One backward pass with one activation store."""

    policy: str
    bound: int | None
    peak_mb: float
    recomputations: int
    kept: int


def network(layers: int, width: int, batch: int) -> tuple[list[Tensor], Any]:
    """Seeded parameters of ``layers`` tanh layers and one batch of inputs, float32."""
    rng = np.random.default_rng(0)
    params = []
    for _ in range(layers):
        w = rng.standard_normal((width, width)) / math.sqrt(width)
        params += [Tensor(w.astype(np.float32)), Tensor(np.zeros(width, np.float32))]
    return params, rng.standard_normal((batch, width)).astype(np.float32)


def loss_of(params: list[Tensor], x: Any) -> Tensor:
    """tanh(h @ W + b) per layer, then the mean of the squares."""
    h: Any = x
    for w, b in zip(params[::2], params[1::2], strict=True):
        h = (h @ w + b).tanh()
    loss = (h * h).mean()
    assert isinstance(loss, Tensor)
    return loss


def one_step(params: list[Tensor], x: Any, store: Store[Any] | None) -> tuple[list[Any], int, int]:
    """Forward with activations in ``store`` (None: on the nodes), then backward.

    The adjoints are kept 4 at a time and asked for last layer first, so
    none is recomputed and they take little memory: what varies is the
    activations.
    """
    table = None if store is None else Activations(store=store)
    with table if table is not None else contextlib.nullcontext():
        loss = loss_of(params, x)
    gradients = grad(loss, params[::-1], memo=4)[::-1]
    if table is None:
        return gradients, 0, 3 * len(params) // 2 + 2
    stats = table.stats()
    return gradients, stats.recomputations, stats.currsize


def measure(params: list[Tensor], x: Any, policy: str, bound: int | None) -> tuple[Run, list[Any]]:
    """Peak memory and recomputations of one step under one policy."""
    make: Callable[[], Store[Any] | None] = {
        "full": lambda: None,
        "LRU": lambda: LRUStore(bound or 1),
        "checkpoints": lambda: Checkpoints(bound or 1, recent(bound or 1)),
    }[policy]
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        gradients, recomputations, kept = one_step(params, x, make())
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return Run(policy, bound, peak / 1e6, recomputations, kept), gradients


def recent(s: int) -> int:
    """The tanh outputs in a segment of s nodes: one per layer of three."""
    return max(1, math.ceil(s / 3))


def sweep(layers: int, width: int, batch: int) -> list[Run]:
    """The full table, then LRUStore(k) and Checkpoints(s, s/3) for a range of bounds."""
    params, x = network(layers, width, batch)
    nodes = 3 * layers + 2
    full, reference = measure(params, x, "full", None)
    runs = [full]
    bounds = {
        "LRU": sorted({b for b in (2, 3, 4, 6, 8, 10, 12, 16, 24, 32, 48) if b < nodes}),
        "checkpoints": sorted({b for b in (3, 4, 6, 9, 12, 16, 24) if b < nodes}),
    }
    for policy in ("LRU", "checkpoints"):
        for bound in bounds[policy]:
            run, gradients = measure(params, x, policy, bound)
            for g, r in zip(gradients, reference, strict=True):
                assert np.array_equal(g, r), (policy, bound)
            runs.append(run)
    return runs


def draw(path: str, runs: list[Run], nodes: int) -> None:
    """Peak memory against recomputations, one point per bound, both policies."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"(no picture: matplotlib is not installed; pip install 'memokit[plot]' for {path})")
        return
    fig, ax = plt.subplots(figsize=(8, 5))
    full = runs[0]
    ax.axhline(full.peak_mb, color="gray", linestyle="--", linewidth=1)
    ax.scatter([0], [full.peak_mb], color="black", zorder=3, label="full table (plain Tensors)")
    styles = (("LRU", "o", "tab:red", (7, 3)), ("checkpoints", "s", "tab:blue", (-34, 6)))
    for policy, marker, color, offset in styles:
        mine = sorted((r for r in runs if r.policy == policy), key=lambda r: r.bound or 0)
        xs, ys = [r.recomputations for r in mine], [r.peak_mb for r in mine]
        shown: tuple[int, ...]
        if policy == "LRU":
            ax.plot(xs, ys, marker=marker, color=color, label="LRUStore(k)", linewidth=1)
            shown = (2, 4, 8, 16, 32, 48)
        else:  # points, not a curve: s does not order them by memory or by recomputation
            ax.scatter(xs, ys, marker=marker, color=color, label="Checkpoints(s, s/3)", zorder=3)
            shown = (3, 4, 6, 9)
        for r in mine:
            if r.bound in shown:
                name = "k" if policy == "LRU" else "s"
                ax.annotate(f"{name}={r.bound}", (r.recomputations, r.peak_mb), fontsize=8,
                            textcoords="offset points", xytext=offset, color=color)
    ax.axhline(full.peak_mb * 0.4, color="tab:green", linestyle=":", linewidth=1)
    ax.annotate("40% of the full table", (0.5, full.peak_mb * 0.41), fontsize=8, color="tab:green")
    ax.axvline(nodes, color="gray", linestyle=":", linewidth=1)
    ax.annotate(f"{nodes} = one more forward pass", (nodes, full.peak_mb * 0.55), rotation=90,
                ha="right", fontsize=8, color="gray")
    ax.set_xscale("symlog", linthresh=10)
    ax.set_xlim(-1, max(r.recomputations for r in runs) * 1.6)
    ax.set(xlabel="activations recomputed during backward (symlog scale)",
           ylabel="peak memory of the step (MB, tracemalloc)")
    ax.set_title(f"Checkpointing as a bounded memo: a {nodes}-node tanh MLP, one training step")
    ax.legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"\nwrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description="Checkpointing: memory against recomputation.")
    parser.add_argument("--quick", action="store_true", help="8 layers, no picture")
    parser.add_argument("--plot", default=None, help="where to draw (checkpointing.png)")
    args = parser.parse_args()
    layers, width, batch = (8, 32, 64) if args.quick else (20, 128, 256)
    nodes = 3 * layers + 2
    print(f"{layers}-layer tanh MLP, width {width}, batch {batch}, float32: {nodes} nodes")
    runs = sweep(layers, width, batch)
    full = runs[0]
    head = ("policy", "bound", "kept", "peak MB", "vs full", "recomputed")
    print("\n" + " ".join(f"{h:>10}" for h in head))
    for r in runs:
        bound = "-" if r.bound is None else str(r.bound)
        ratio = f"{r.peak_mb / full.peak_mb:.0%}"
        cells = (r.policy, bound, str(r.kept), f"{r.peak_mb:.2f}", ratio, str(r.recomputations))
        print(" ".join(f"{c:>10}" for c in cells))
    print("\nevery bound gave the full table's gradients, bit for bit")
    if args.plot or not args.quick:
        draw(args.plot or "checkpointing.png", runs, nodes)


if __name__ == "__main__":
    main()
