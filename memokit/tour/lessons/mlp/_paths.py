"""∂L/∂w¹₁₁ as the lecture writes it: one product of factors per path, read off the graph."""

from __future__ import annotations

import math
from dataclasses import dataclass

from memokit.autodiff import GradcheckReport, Value, grad, gradcheck
from memokit.tour.lessons.mlp._network import Network, neuron_name, weight_name

__all__ = ["Factor", "PathTerm", "TwoPaths", "path_factor", "two_paths"]


@dataclass(frozen=True)
class Factor:
    """∂upper/∂lower read off the graph: the product of local derivatives along the path.

    Inside one neuron (or from L down to ŷ) there is exactly one path of
    graph edges between the two nodes, so the derivative is a single product.
    """

    upper: str
    lower: str
    #: One entry per edge, top down: (the consumer's operation, ∂consumer/∂input).
    steps: tuple[tuple[str, float], ...]

    @property
    def value(self) -> float:
        """The product of the local derivatives along the path."""
        return math.prod(d for _, d in self.steps)

    @property
    def symbol(self) -> str:
        """``∂upper/∂lower``."""
        return f"∂{self.upper}/∂{self.lower}"


def path_factor(upper: Value, lower: Value, names: dict[int, str] | None = None) -> Factor:
    """Read ∂upper/∂lower off the graph, where exactly one path of edges joins them.

    Walks down from ``upper`` through ``inputs``, multiplying the recorded
    ``local_grads``; raises ``ValueError`` if there is no path or more than one
    (then the derivative is a sum over paths, which is what :func:`two_paths`
    spells out).

    >>> a, b = Value(3.0, label="a"), Value(4.0, label="b")
    >>> c = (a * b).tanh()
    >>> f = path_factor(c, a)
    >>> [op for op, _ in f.steps], f.value == (1 - c.data**2) * 4.0
    (['tanh', '*'], True)
    """
    names = names or {}
    found: list[tuple[tuple[str, float], ...]] = []
    # Depth-first over (node, steps so far); the graphs here are small.
    stack: list[tuple[Value, tuple[tuple[str, float], ...]]] = [(upper, ())]
    while stack:
        node, steps = stack.pop()
        if node is lower:
            found.append(steps)
            if len(found) > 1:
                break
            continue
        for source, derivative in zip(node.inputs, node.local_grads, strict=True):
            stack.append((source, (*steps, (node.op_name, derivative))))
    label = names.get(id(upper), upper.label or repr(upper))
    below = names.get(id(lower), lower.label or repr(lower))
    if len(found) != 1:
        how = "no path" if not found else "more than one path"
        raise ValueError(f"{how} joins {label} to {below}: ∂{label}/∂{below} is not one product")
    return Factor(label, below, found[0])


@dataclass(frozen=True)
class PathTerm:
    """One path's term of the chain rule: a product of factors, each read off the graph."""

    #: The hidden neuron of layer 2 the path goes through.
    via: str
    factors: tuple[Factor, ...]

    @property
    def value(self) -> float:
        """The product of the factors."""
        return math.prod(f.value for f in self.factors)


@dataclass(frozen=True)
class TwoPaths:
    """∂L/∂w as the sum of its path terms, checked against grad() and finite differences."""

    weight: str
    #: The layer-1 neuron the weight feeds (O₁₁ for w¹₁₁).
    hidden: str
    paths: tuple[PathTerm, ...]
    #: ∂O₁ⱼ/∂w, the last factor of every path.
    shared: Factor
    #: grad(L, [w]) from the memoized backward pass.
    grad: float
    #: grad(L, [O₁ⱼ]): the adjoint of the hidden neuron, the sum over paths above it.
    hidden_adjoint: float
    #: Central finite differences for every parameter.
    check: GradcheckReport

    @property
    def total(self) -> float:
        """The sum of the path terms."""
        return sum(p.value for p in self.paths)

    @property
    def numeric(self) -> float:
        """The finite-difference estimate of ∂L/∂w."""
        for entry in self.check.entries:
            if entry.node.label == self.weight:
                return entry.numeric
        raise KeyError(self.weight)


def two_paths(net: Network, weight: str = "w¹₁₁") -> TwoPaths:
    """Split ∂L/∂w for a first-layer weight into one product per neuron of layer 2.

    For the seed network and w¹₁₁, path k is
    ``∂L/∂ŷ · ∂ŷ/∂O₂ₖ · ∂O₂ₖ/∂O₁₁ · ∂O₁₁/∂w¹₁₁``, every factor read off the
    graph by :func:`path_factor`.
    """
    if len(net.arch.hidden) != 2:
        raise ValueError("two_paths follows the lecture's network: exactly two hidden layers")
    first_layer = {
        weight_name(1, i, j): j
        for i in range(1, net.arch.inputs + 1)
        for j in range(1, net.arch.hidden[0] + 1)
    }
    if weight not in first_layer:
        raise ValueError(f"two_paths needs a first-layer weight such as 'w¹₁₁', got {weight!r}")
    w = net.params[weight]
    hidden = net.neurons[neuron_name(1, first_layer[weight])]
    names = net.names()
    dl_dy = path_factor(net.loss, net.output, names)
    shared = path_factor(hidden, w, names)
    paths = []
    for k in range(1, net.arch.hidden[1] + 1):
        via = net.neurons[neuron_name(2, k)]
        factors = (
            dl_dy,
            path_factor(net.output, via, names),
            path_factor(via, hidden, names),
            shared,
        )
        paths.append(PathTerm(via.label, factors))
    (g, hidden_adj) = grad(net.loss, wrt=[w, hidden])
    check = gradcheck(net.loss, list(net.params.values()))
    return TwoPaths(weight, hidden.label, tuple(paths), shared, g, hidden_adj, check)
