"""The training step: gradient descent on noisy XOR, the loss printed as it falls."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

from memokit.tour.lessons import mlp, progress
from memokit.tour.lessons._format import format_seconds

__all__ = ["training", "training_lines"]


def training_lines(
    data: Sequence[mlp.Example],
    steps: int,
    every: int,
    learning_rate: float = 1.0,
    arch: mlp.Architecture | None = None,
) -> Iterator[str]:
    """Train by plain gradient descent, printing the loss every ``every`` steps as it goes."""
    arch = arch or mlp.Architecture()
    positives = sum(e.y > 0.5 for e in data)
    yield (
        f"Training the network on {len(data)} noisy XOR points ({positives} labelled 1, where"
        f" x₁·x₂ < 0): plain gradient descent, learning rate {learning_rate:g}, {steps} steps,"
        f" one grad() call per step on the mean of (y - ŷ)² over all points."
    )
    yield ""
    yield f"  {'step':>6}  {'loss':>10}"
    first: float | None = None
    last: mlp.TrainStep | None = None
    start = time.perf_counter()
    for item in mlp.train_steps(arch, data, steps, learning_rate):
        progress.note(f"training: step {item.step} of {steps}")
        first = item.loss if first is None else first
        if item.step % every == 0 or item.step == steps:
            yield f"  {item.step:>6}  {item.loss:>10.6f}"
        last = item
    seconds = time.perf_counter() - start
    assert last is not None and first is not None
    right = round(mlp.accuracy(arch, last.weights, data) * len(data))
    yield ""
    yield (
        f"Loss {first:.4f} → {last.loss:.4f} in {format_seconds(seconds)}"
        f" ({format_seconds(seconds / max(steps, 1))} per step); accuracy"
        f" {right}/{len(data)} ({100 * right / len(data):.0f}%)."
    )


def training(quick: bool) -> Iterator[str]:
    """Tour step: train the lecture's network on noisy XOR."""
    steps = mlp.QUICK_STEPS if quick else mlp.FULL_STEPS
    yield from training_lines(mlp.make_xor(per_corner=10), steps, 25 if quick else 50)
