"""From scalars to layers, measured: the lecture's network as arrays, trained on digits.

Three measurements, each returned as plain data for
:mod:`memokit.tour.lessons.layers_text` to print:

* :func:`both_ways`: the lecture's 2-2-2-1 network built from one ``Value``
  per weight and from one ``Tensor`` per layer, with equal gradients;
* :func:`train_digits`: the lecture's shape (64 -> 32 -> 32 -> 10) trained
  on scikit-learn's digits with Adam, accuracy per epoch, ‖∂L/∂W‖ per layer
  and the adjoint counts naive against memoized;
* :func:`checkpointing`: one step of a deep MLP with its activations in
  ``Activations(maxsize=k)``: recomputations and peak memory against the
  full table.

This module needs NumPy and scikit-learn (``pip install 'memokit[examples]'``).
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import math
import tracemalloc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from memokit.autodiff import Activations, Tensor, Value, backward, grad
from memokit.tour.lessons import progress
from memokit.tour.lessons.mlp import Architecture, init_weights

__all__ = [
    "BothWays",
    "CheckpointRun",
    "Epoch",
    "Training",
    "both_ways",
    "checkpointing",
    "train_digits",
]


@dataclass(frozen=True)
class BothWays:
    """The lecture's network built per weight and per layer, and what each graph cost."""

    value_nodes: int
    tensor_nodes: int
    #: ∂L/∂W¹ from the Tensor graph, and the four scalar gradients in the same places.
    tensor_dw1: list[list[float]]
    value_dw1: list[list[float]]


def both_ways(x1: float = 0.5, x2: float = -1.0, y: float = 1.0) -> BothWays:
    """Build the lecture's network twice, from the tour's starting weights."""
    start = init_weights(Architecture())
    w = {name: Value(v) for name, v in start.items()}
    o11 = (w["w¹₁₁"] * x1 + w["w¹₂₁"] * x2 + w["b¹₁"]).tanh()
    o12 = (w["w¹₁₂"] * x1 + w["w¹₂₂"] * x2 + w["b¹₂"]).tanh()
    o21 = (w["w²₁₁"] * o11 + w["w²₂₁"] * o12 + w["b²₁"]).tanh()
    o22 = (w["w²₁₂"] * o11 + w["w²₂₂"] * o12 + w["b²₂"]).tanh()
    loss = (y - (w["w³₁₁"] * o21 + w["w³₂₁"] * o22 + w["b³₁"]).sigmoid()) ** 2
    scalar = backward(loss, list(w.values()))
    by_name = dict(zip(w, scalar.gradients, strict=True))

    def matrix(layer: str, rows: int, cols: int) -> Tensor:
        digits = "₁₂"
        return Tensor(
            [[start[f"w{layer}{digits[i]}{digits[j]}"] for j in range(cols)] for i in range(rows)]
        )

    w1, w2, w3 = matrix("¹", 2, 2), matrix("²", 2, 2), matrix("³", 2, 1)
    b1, b2, b3 = Tensor(np.zeros(2)), Tensor(np.zeros(2)), Tensor(np.zeros(1))
    h1 = (np.array([x1, x2]) @ w1 + b1).tanh()
    h2 = (h1 @ w2 + b2).tanh()
    layered = ((y - (h2 @ w3 + b3).sigmoid()) ** 2).sum()
    result = backward(layered, [w1, b1, w2, b2, w3, b3])
    digits = "₁₂"
    return BothWays(
        value_nodes=scalar.graph_size,
        tensor_nodes=result.graph_size,
        tensor_dw1=result.gradients[0].tolist(),
        value_dw1=[[by_name[f"w¹{digits[i]}{digits[j]}"] for j in (0, 1)] for i in (0, 1)],
    )


@dataclass(frozen=True)
class Epoch:
    """One epoch of training: mean loss over its batches and the two accuracies after it."""

    number: int
    loss: float
    train_accuracy: float
    test_accuracy: float


@dataclass(frozen=True)
class Training:
    """A digits run: its epochs, gradient norms per layer, and adjoint counts."""

    layers: tuple[int, ...]
    train_size: int
    test_size: int
    epochs: list[Epoch]
    #: ‖∂L/∂W‖ of each layer on the training set, before and after training.
    norms_before: list[float]
    norms_after: list[float]
    graph_size: int
    naive_computations: int
    memoized_computations: int


def _logits(x: Any, params: Sequence[Tensor]) -> Tensor:
    h: Any = x
    for i in range(0, len(params), 2):
        h = h @ params[i] + params[i + 1]
        if i + 2 < len(params):
            h = h.tanh()
    assert isinstance(h, Tensor)
    return h


def _norms(x: Any, y: Any, params: Sequence[Tensor]) -> list[float]:
    gradients = grad(_logits(x, params).cross_entropy(y), list(params))
    return [float(np.linalg.norm(g)) for g in gradients[::2]]


def train_digits(
    epochs: int, layers: tuple[int, ...] = (64, 32, 32, 10), seed: int = 0
) -> Training:
    """Train on scikit-learn's digits (80/20 split, Adam, batches of 32); needs scikit-learn."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    images, labels = load_digits(return_X_y=True)
    pixels = (images / 16.0).astype(np.float32)
    split = train_test_split(pixels, labels, test_size=0.2, random_state=seed, stratify=labels)
    x_train, x_test, y_train, y_test = split
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in itertools.pairwise(layers):
        weights = rng.standard_normal((fan_in, fan_out)) / math.sqrt(fan_in)
        params += [Tensor(weights.astype(np.float32)), Tensor(np.zeros(fan_out, np.float32))]
    before = _norms(x_train, y_train, params)
    moments = [(np.zeros_like(p.data), np.zeros_like(p.data)) for p in params]
    steps = 0
    history = []
    for epoch in range(1, epochs + 1):
        progress.note(f"training on digits: epoch {epoch} of {epochs}")
        order = rng.permutation(len(x_train))
        total = 0.0
        for start in range(0, len(order), 32):
            rows = order[start : start + 32]
            loss = _logits(x_train[rows], params).cross_entropy(y_train[rows])
            steps += 1
            scale = 0.005 * math.sqrt(1 - 0.999**steps) / (1 - 0.9**steps)
            for p, g, (m, v) in zip(params, grad(loss, params), moments, strict=True):
                m += 0.1 * (g - m)  # Adam's running moments
                v += 0.001 * (g * g - v)
                p.data -= scale * m / (np.sqrt(v) + 1e-8)
            total += loss.item() * len(rows)
        history.append(
            Epoch(
                epoch,
                total / len(order),
                float((_logits(x_train, params).data.argmax(1) == y_train).mean()),
                float((_logits(x_test, params).data.argmax(1) == y_test).mean()),
            )
        )
    loss = _logits(x_train, params).cross_entropy(y_train)
    naive = backward(loss, params, memo=False)
    memoized = backward(loss, params, schedule="top-down")
    return Training(
        layers=layers,
        train_size=len(x_train),
        test_size=len(x_test),
        epochs=history,
        norms_before=before,
        norms_after=_norms(x_train, y_train, params),
        graph_size=memoized.graph_size,
        naive_computations=naive.computations,
        memoized_computations=memoized.computations,
    )


@dataclass(frozen=True)
class CheckpointRun:
    """One step with activations bounded to ``k`` (None: the full table on the nodes)."""

    k: int | None
    peak_bytes: int
    recomputations: int
    same_gradients: bool


def checkpointing(
    layers: int, width: int, batch: int, bounds: Sequence[int]
) -> tuple[int, list[CheckpointRun]]:
    """Peak memory and recomputations of one step of a deep tanh MLP, for each bound k."""
    rng = np.random.default_rng(1)
    params = []
    for _ in range(layers):
        weights = rng.standard_normal((width, width)) / math.sqrt(width)
        params += [Tensor(weights.astype(np.float32)), Tensor(np.zeros(width, np.float32))]
    x = rng.standard_normal((batch, width)).astype(np.float32)

    def step(k: int | None) -> tuple[list[Any], int]:
        table = None if k is None else Activations(maxsize=k)
        with table if table is not None else contextlib.nullcontext():
            h: Any = x
            for i in range(0, len(params), 2):
                h = (h @ params[i] + params[i + 1]).tanh()
            loss = (h * h).mean()
        # The adjoints four at a time, last layer first: none recomputed, little memory.
        gradients = grad(loss, params[::-1], memo=4)[::-1]
        return gradients, 0 if table is None else table.stats().recomputations

    runs = []
    reference: list[Any] = []
    for k in (None, *bounds):
        progress.note(f"checkpointing: one step with k = {k}")
        gc.collect()
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            gradients, recomputed = step(k)
            peak = tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()
        reference = reference or gradients
        same = all(np.array_equal(g, r) for g, r in zip(gradients, reference, strict=True))
        runs.append(CheckpointRun(k, peak, recomputed, same))
    return 3 * layers + 2, runs
