"""The lecture's MLP: backpropagation = chain rule + memoization.

The lecture is a deep-learning lecture on memoization in backpropagation
(`python -m memokit tour` follows its notes). It draws a small network and
shows that ∂L/∂w¹₁₁ flows along two paths that share their terms.

Run it:  python examples/mlp_backprop.py          (1 to 12 hidden layers, 300 steps)
         python examples/mlp_backprop.py --quick  (1 to 6 hidden layers, 100 steps)

The network of the notes (2 inputs -> 2 -> 2 -> 1 output ŷ, loss L = (y - ŷ)²)
is built from memokit.autodiff.Value nodes by memokit/tour/lessons/mlp/, which
names every node the way the notes do: Oₗⱼ is neuron j of hidden layer l, and
wˡᵢⱼ is the weight from unit i of layer l-1 into neuron j of layer l (so w¹₁₁
connects x₁ to O₁₁). Every number printed is measured as the script runs.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Iterable

from memokit.autodiff import grad
from memokit.tour.lessons import mlp, mlp_text


def show(title: str, lines: Iterable[str]) -> None:
    """Print a heading, then the lines as they are produced."""
    print(f"\n== {title} ==\n", flush=True)
    for line in lines:
        print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="Backpropagation = chain rule + memoization.")
    parser.add_argument("--quick", action="store_true", help="shallower table, fewer steps")
    quick = parser.parse_args().quick

    # 1. The network on one example: every +, ·, tanh is a Value node that
    #    records its local derivatives as it computes.
    net = mlp.seed_network()
    show("1. The lecture's network, built from Values", mlp_text.network_lines(net))

    # 2. ∂L/∂w¹₁₁ = path-1 + path-2. The core of it, in a few lines: each path
    #    is a product of four factors, each factor read off the graph.
    w, o11, y_hat = net.node("w¹₁₁"), net.node("O₁₁"), net.output
    paths = []
    for o2 in (net.node("O₂₁"), net.node("O₂₂")):
        factors = [
            mlp.path_factor(net.loss, y_hat),  # ∂L/∂ŷ
            mlp.path_factor(y_hat, o2),  # ∂ŷ/∂O₂ₖ
            mlp.path_factor(o2, o11),  # ∂O₂ₖ/∂O₁₁
            mlp.path_factor(o11, w),  # ∂O₁₁/∂w¹₁₁, the same in both paths
        ]
        paths.append(math.prod(f.value for f in factors))
    (backprop,) = grad(net.loss, wrt=[w])
    show("2. ∂L/∂w¹₁₁ = path-1 + path-2", mlp_text.two_paths_lines(mlp.two_paths(net)))
    print(f"(This script's own path-1 + path-2: {sum(paths):.12g}; grad(): {backprop:.12g}.)")

    # 3. The bracket both paths share, ∂L/∂O₁₁, is computed once with a memo.
    show(
        "3. The shared adjoint, computed once",
        mlp_text.shared_adjoint_lines(mlp.shared_adjoint(net)),
    )

    # 4. Deeper networks: the naive sum over paths against the memoized pass
    #    (the tour's own step, measured with the tour's sizes).
    show("4. Cost as the network deepens", mlp_text.scaling(quick))

    # 5. Train it: plain gradient descent, one grad() call per step.
    show("5. Training on XOR", mlp_text.training(quick))


if __name__ == "__main__":
    main()
