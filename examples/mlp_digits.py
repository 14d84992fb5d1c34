"""The lecture's network trained on real data: handwritten digits, by memoized backprop on arrays.

Run it:  python examples/mlp_digits.py          (30 epochs; writes mlp_digits.png)
         python examples/mlp_digits.py --quick  (a short run, no picture)

The lecture's shape (an input layer, two hidden layers, an output layer)
at the granularity libraries use: each node of the graph is a whole array
(a layer's weights, a batch of activations), each local derivative a
vector-Jacobian product, and the gradients come from the same memoized
recurrence as for the scalar network,

    adj(L) = 1,   adj(n) = Σ_{c ∈ consumers(n)} vjp_{c,n}(adj(c)).

The data is scikit-learn's digits (8x8 images, 1,797 of them, shipped
inside scikit-learn: nothing is downloaded), split 80/20 with a fixed seed.
Needs NumPy and scikit-learn (pip install 'memokit[examples]'); the picture
needs matplotlib.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from dataclasses import dataclass, field
from typing import Any

try:
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
except ImportError as missing:
    sys.exit(
        f"mlp_digits.py needs NumPy and scikit-learn ({missing}): "
        f"pip install 'memokit[examples]'"
    )

from memokit.autodiff import Tensor, backward, grad

SEED = 0
LAYERS = (64, 64, 64, 10)  # 8x8 pixels -> two hidden layers of 64 -> 10 digits


def load(seed: int = SEED) -> tuple[Any, Any, Any, Any]:
    """Digits as float32 pixels in [0, 1], split 80/20 (stratified, seeded)."""
    images, labels = load_digits(return_X_y=True)
    pixels = (images / 16.0).astype(np.float32)
    split: list[Any] = train_test_split(
        pixels, labels, test_size=0.2, random_state=seed, stratify=labels
    )
    return split[0], split[1], split[2], split[3]


def init_params(rng: Any) -> list[Tensor]:
    """W and b for each layer: W scaled by 1/sqrt(fan-in), b zero, all float32."""
    params = []
    for i, (fan_in, fan_out) in enumerate(itertools.pairwise(LAYERS), 1):
        w = rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in)
        params.append(Tensor(w.astype(np.float32), label=f"W{i}"))
        params.append(Tensor(np.zeros(fan_out, np.float32), label=f"b{i}"))
    return params


def logits(x: Any, params: list[Tensor]) -> Tensor:
    """Forward pass: tanh(x @ W1 + b1), tanh(· @ W2 + b2), then · @ W3 + b3."""
    h: Any = x
    for i in range(0, len(params), 2):
        h = h @ params[i] + params[i + 1]
        if i + 2 < len(params):
            h = h.tanh()
    assert isinstance(h, Tensor)
    return h


def accuracy(x: Any, y: Any, params: list[Tensor]) -> float:
    """The fraction of images whose largest logit is their label."""
    return float((logits(x, params).data.argmax(axis=1) == y).mean())


@dataclass
class Adam:
    """Adam (Kingma and Ba, 2015) on the parameters' arrays, in place."""

    params: list[Tensor]
    lr: float = 0.005
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    steps: int = 0
    m: list[Any] = field(default_factory=list)
    v: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.m = [np.zeros_like(p.data) for p in self.params]
        self.v = [np.zeros_like(p.data) for p in self.params]

    def step(self, gradients: list[Any]) -> None:
        """Move each parameter against its gradient, scaled by the running moments."""
        self.steps += 1
        b1, b2 = self.betas
        correction = np.sqrt(1 - b2**self.steps) / (1 - b1**self.steps)
        for p, g, m, v in zip(self.params, gradients, self.m, self.v, strict=True):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            p.data -= (self.lr * correction) * m / (np.sqrt(v) + self.eps)


def layer_report(x: Any, y: Any, params: list[Tensor]) -> list[str]:
    """‖∂L/∂W‖ per layer on the whole training set, and the adjoint counts naive vs memoized."""
    loss = logits(x, params).cross_entropy(y)
    gradients = grad(loss, params)
    lines = [f"  loss on the training set: {loss.item():.4f}"]
    for p, g in zip(params[::2], gradients[::2], strict=True):
        lines.append(f"  ‖∂L/∂{p.label}‖ = {float(np.linalg.norm(g)):.4g}   (shape {p.shape})")
    memoized = backward(loss, params, schedule="top-down")
    naive = backward(loss, params, memo=False)
    lines.append(
        f"  adjoints for the 6 parameters, one node per layer operation "
        f"({memoized.graph_size} nodes):"
    )
    for name, r in (("naive (memo=False)", naive), ("memoized (memo=True)", memoized)):
        lines.append(
            f"    {name:21} {r.computations:3} adjoint computations, "
            f"{r.local_derivative_evaluations:3} VJPs applied"
        )
    return lines


def train(
    epochs: int, batch: int, seed: int = SEED
) -> tuple[list[Tensor], list[float], list[float], list[float], Any]:
    """Train with Adam on shuffled minibatches; return params and per-epoch curves."""
    x_train, x_test, y_train, y_test = load(seed)
    rng = np.random.default_rng(seed)
    params = init_params(rng)
    print(f"digits: {len(x_train)} training and {len(x_test)} test images, 8x8 pixels each")
    print(f"network: {' -> '.join(map(str, LAYERS))} (tanh), float32, Adam, batch {batch}")
    print("\nbefore training:")
    print("\n".join(layer_report(x_train, y_train, params)))
    optimizer = Adam(params)
    losses, train_acc, test_acc = [], [], []
    print(f"\n{'epoch':>5} {'loss':>8} {'train acc':>10} {'test acc':>9} {'seconds':>8}")
    for epoch in range(1, epochs + 1):
        started = time.perf_counter()
        order = rng.permutation(len(x_train))
        total = 0.0
        for start in range(0, len(order), batch):
            rows = order[start : start + batch]
            loss = logits(x_train[rows], params).cross_entropy(y_train[rows])
            optimizer.step(grad(loss, params))
            total += loss.item() * len(rows)
        losses.append(total / len(order))
        train_acc.append(accuracy(x_train, y_train, params))
        test_acc.append(accuracy(x_test, y_test, params))
        seconds = time.perf_counter() - started
        print(
            f"{epoch:5} {losses[-1]:8.4f} {train_acc[-1]:10.2%} {test_acc[-1]:9.2%} {seconds:8.2f}"
        )
    print("\nafter training:")
    print("\n".join(layer_report(x_train, y_train, params)))
    return params, losses, train_acc, test_acc, (x_test, y_test)


def draw(path: str, losses: list[float], train_acc: list[float], test_acc: list[float]) -> None:
    """Loss and accuracy per epoch, side by side, as a PNG."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"(no picture: matplotlib is not installed; pip install 'memokit[plot]' for {path})")
        return
    epochs = range(1, len(losses) + 1)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(epochs, losses, marker="o", color="tab:red")
    left.set(xlabel="epoch", ylabel="mean cross-entropy (training batches)", yscale="log")
    left.set_title("Training loss")
    right.plot(epochs, [100 * a for a in train_acc], marker="o", label="training set")
    right.plot(epochs, [100 * a for a in test_acc], marker="s", label="test set (360 images)")
    right.axhline(95, color="gray", linestyle="--", linewidth=1, label="95%")
    right.set(xlabel="epoch", ylabel="accuracy (%)", ylim=(80, 100.5))
    right.set_title("Accuracy")
    right.legend(loc="lower right")
    fig.suptitle(f"Digits MLP {' → '.join(map(str, LAYERS))}, gradients by memokit.autodiff")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"\nwrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description="Train the lecture's MLP on scikit-learn digits.")
    parser.add_argument("--quick", action="store_true", help="3 epochs, no picture")
    parser.add_argument("--epochs", type=int, default=None, help="epochs to train (default 30)")
    parser.add_argument("--batch", type=int, default=32, help="minibatch size (default 32)")
    parser.add_argument("--plot", default=None, help="where to write the curves (mlp_digits.png)")
    args = parser.parse_args()
    epochs = args.epochs or (3 if args.quick else 30)
    _, losses, train_acc, test_acc, _ = train(epochs, args.batch)
    print(f"\ntest accuracy: {test_acc[-1]:.2%}")
    if args.plot or not args.quick:
        draw(args.plot or "mlp_digits.png", losses, train_acc, test_acc)


if __name__ == "__main__":
    main()
