"""Training the lecture's network on noisy XOR: plain gradient descent, one grad() a step."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from memokit.autodiff import Value, grad
from memokit.tour.lessons.mlp._network import (
    SEED,
    Architecture,
    forward_pass,
    init_weights,
    make_parameters,
)

__all__ = [
    "FULL_STEPS",
    "QUICK_STEPS",
    "Example",
    "TrainResult",
    "TrainStep",
    "accuracy",
    "dataset_loss",
    "make_xor",
    "predict",
    "train",
    "train_steps",
]

#: Gradient-descent steps of the tour's training run, quick and full.
QUICK_STEPS = 100
FULL_STEPS = 300


@dataclass(frozen=True)
class Example:
    """One labelled point."""

    x: tuple[float, float]
    y: float


def make_xor(per_corner: int = 4, noise: float = 0.15, seed: int = SEED) -> list[Example]:
    """Points scattered around the corners (±1, ±1), labelled 1 where x₁·x₂ < 0 (XOR).

    >>> data = make_xor(per_corner=2)
    >>> len(data), sorted({e.y for e in data})
    (8, [0.0, 1.0])
    """
    rng = random.Random(seed)
    data = []
    for cx, cy in ((-1.0, -1.0), (-1.0, 1.0), (1.0, -1.0), (1.0, 1.0)):
        for _ in range(per_corner):
            x = (cx + rng.gauss(0.0, noise), cy + rng.gauss(0.0, noise))
            data.append(Example(x, 1.0 if cx * cy < 0 else 0.0))
    rng.shuffle(data)
    return data


def dataset_loss(arch: Architecture, params: dict[str, Value], data: Sequence[Example]) -> Value:
    """The mean of (y - ŷ)² over ``data``, one graph sharing the parameter leaves."""
    total: Value | None = None
    for example in data:
        _, output = forward_pass(arch, params, example.x)
        term = (example.y - output) ** 2
        total = term if total is None else total + term
    if total is None:
        raise ValueError("the dataset is empty")
    return total / len(data)


def predict(arch: Architecture, weights: dict[str, float], x: Sequence[float]) -> float:
    """ŷ for one input."""
    _, output = forward_pass(arch, make_parameters(weights), x)
    return output.data


def accuracy(arch: Architecture, weights: dict[str, float], data: Sequence[Example]) -> float:
    """The fraction of ``data`` where ŷ > 0.5 matches y = 1."""
    right = sum((predict(arch, weights, e.x) > 0.5) == (e.y > 0.5) for e in data)
    return right / len(data)


@dataclass(frozen=True)
class TrainStep:
    """The loss before one step of gradient descent, and the weights after it."""

    step: int
    loss: float
    weights: dict[str, float]


def train_steps(
    arch: Architecture,
    data: Sequence[Example],
    steps: int,
    learning_rate: float = 0.5,
    seed: int = SEED,
) -> Iterator[TrainStep]:
    """Plain gradient descent on the mean squared error, one ``grad()`` call per step.

    Yields every step: step 0's loss is the starting loss. After the last step
    one more item (step = ``steps``) gives the final loss and weights.
    """
    weights = init_weights(arch, seed)
    names = list(weights)
    for step in range(steps + 1):
        params = make_parameters(weights)
        loss = dataset_loss(arch, params, data)
        if step < steps:
            gradients = grad(loss, wrt=[params[n] for n in names])
            weights = {
                n: weights[n] - learning_rate * g for n, g in zip(names, gradients, strict=True)
            }
        yield TrainStep(step, loss.data, dict(weights))


@dataclass(frozen=True)
class TrainResult:
    """A training run: the losses every ``every`` steps, the final accuracy and the time."""

    arch: Architecture
    log: tuple[TrainStep, ...] = field(repr=False)
    accuracy: float
    seconds: float

    @property
    def initial_loss(self) -> float:
        """The loss before the first step."""
        return self.log[0].loss

    @property
    def final_loss(self) -> float:
        """The loss after the last step."""
        return self.log[-1].loss


def train(
    data: Sequence[Example],
    steps: int,
    arch: Architecture | None = None,
    learning_rate: float = 0.5,
    seed: int = SEED,
    every: int = 50,
) -> TrainResult:
    """Train the network on ``data``; keep the loss every ``every`` steps (and the last)."""
    arch = arch or Architecture()
    start = time.perf_counter()
    kept = []
    last: TrainStep | None = None
    for item in train_steps(arch, data, steps, learning_rate, seed):
        last = item
        if item.step % every == 0 or item.step == steps:
            kept.append(item)
    assert last is not None
    seconds = time.perf_counter() - start
    return TrainResult(arch, tuple(kept), accuracy(arch, last.weights, data), seconds)
