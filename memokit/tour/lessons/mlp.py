"""The lecture's network: backpropagation = chain rule + memoization, measured.

The network of the lecture notes (seeds 000 and 002): two inputs, two hidden
layers of two neurons each, one output ŷ, and the squared-error loss
``L = (y - ŷ)²``. Every function here builds it from
:class:`memokit.autodiff.Value` nodes and returns plain data; the
``mlp_text`` module turns that data into lines.

Names follow the notes, with one index convention (the notes' own:
``w¹₁₁`` connects input 1 to ``O₁₁``):

* ``x₁, x₂``: the inputs (layer 0);
* ``Oₗⱼ``: the output of neuron j of hidden layer l (``O₁₁ O₁₂ O₂₁ O₂₂``);
  the output layer's one neuron is ``ŷ``;
* ``wˡᵢⱼ``: the weight on the edge from unit i of layer l - 1 (input ``xᵢ``
  when l = 1) into neuron j of layer l. So ``w¹₁₁``: x₁ → O₁₁, ``w¹₂₁``:
  x₂ → O₁₁, ``w²₁₂``: O₁₁ → O₂₂, ``w³₂₁``: O₂₂ → ŷ;
* ``bˡⱼ``: the bias of neuron j of layer l.

A neuron computes ``z = w₁·u₁ + w₂·u₂ + … + b`` (left to right) and outputs
``act(z)``: ``tanh`` (or ``sigmoid``) in the hidden layers, ``sigmoid`` at the
output, so ŷ is a probability for a 0/1 label. With 10 or more layers the
neuron names put a comma between layer and neuron (``O₁₀,₁``).

Every count and loss comes from running the code; times come from
``time.perf_counter``; only the estimates for skipped naive runs are
extrapolated (from the measured growth ratio).
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from memokit.autodiff import Backward, GradcheckReport, Value, backward, grad, gradcheck
from memokit.autodiff._grad import invert_graph
from memokit.stores._memory import Store, make_store
from memokit.tour.lessons import progress

__all__ = [
    "SEED",
    "SEED_EXAMPLE",
    "AdjointCounts",
    "Architecture",
    "Example",
    "Factor",
    "Network",
    "PathTerm",
    "ScalingRow",
    "SharedAdjoint",
    "Skipped",
    "Timed",
    "TrainResult",
    "TrainStep",
    "TwoPaths",
    "accuracy",
    "backprop_edges",
    "bias_name",
    "build_network",
    "count_adjoints",
    "dataset_loss",
    "init_weights",
    "make_parameters",
    "make_xor",
    "memory_tradeoff",
    "neuron_name",
    "parameter_names",
    "path_factor",
    "predict",
    "scaling",
    "seed_network",
    "shared_adjoint",
    "train",
    "train_steps",
    "two_paths",
    "weight_name",
]

#: The seed every random choice here starts from (weights, data).
SEED = 34

Activation = Literal["tanh", "sigmoid"]

_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _sub(*indices: int) -> str:
    sep = "," if any(i > 9 for i in indices) else ""
    return sep.join(str(i) for i in indices).translate(_SUB)


def weight_name(layer: int, source: int, neuron: int) -> str:
    """The name ``wˡᵢⱼ`` of the weight from unit ``source`` of layer - 1 into ``neuron``.

    >>> weight_name(1, 1, 1), weight_name(1, 2, 1), weight_name(3, 2, 1)
    ('w¹₁₁', 'w¹₂₁', 'w³₂₁')
    """
    return f"w{str(layer).translate(_SUP)}{_sub(source, neuron)}"


def bias_name(layer: int, neuron: int) -> str:
    """The name ``bˡⱼ`` of the bias of ``neuron`` in ``layer``.

    >>> bias_name(1, 2)
    'b¹₂'
    """
    return f"b{str(layer).translate(_SUP)}{_sub(neuron)}"


def neuron_name(layer: int, neuron: int) -> str:
    """The name ``Oₗⱼ`` of a hidden neuron's output.

    >>> neuron_name(1, 1), neuron_name(2, 2), neuron_name(10, 1)
    ('O₁₁', 'O₂₂', 'O₁₀,₁')
    """
    return f"O{_sub(layer, neuron)}"


@dataclass(frozen=True)
class Architecture:
    """The shape of an MLP: inputs, hidden layer widths, one output neuron."""

    #: Number of inputs x₁ … xₙ.
    inputs: int = 2
    #: Width of each hidden layer; the lecture's network has two layers of two.
    hidden: tuple[int, ...] = (2, 2)
    #: The hidden layers' activation (the output neuron is always a sigmoid).
    activation: Activation = "tanh"

    @property
    def widths(self) -> tuple[int, ...]:
        """Units per layer, inputs first, the output (1) last."""
        return (self.inputs, *self.hidden, 1)


def parameter_names(arch: Architecture) -> list[str]:
    """Every weight and bias name, layer by layer, each neuron's weights then its bias.

    >>> parameter_names(Architecture(hidden=(2,)))
    ['w¹₁₁', 'w¹₂₁', 'b¹₁', 'w¹₁₂', 'w¹₂₂', 'b¹₂', 'w²₁₁', 'w²₂₁', 'b²₁']
    """
    names: list[str] = []
    widths = arch.widths
    for layer in range(1, len(widths)):
        for j in range(1, widths[layer] + 1):
            names.extend(weight_name(layer, i, j) for i in range(1, widths[layer - 1] + 1))
            names.append(bias_name(layer, j))
    return names


def init_weights(arch: Architecture, seed: int = SEED) -> dict[str, float]:
    """Random starting weights, uniform in ±2/√fan-in; biases 0."""
    rng = random.Random(seed)
    widths = arch.widths
    weights = {}
    for layer in range(1, len(widths)):
        bound = 2.0 / math.sqrt(widths[layer - 1])
        for j in range(1, widths[layer] + 1):
            for i in range(1, widths[layer - 1] + 1):
                weights[weight_name(layer, i, j)] = rng.uniform(-bound, bound)
            weights[bias_name(layer, j)] = 0.0
    return weights


def make_parameters(weights: dict[str, float]) -> dict[str, Value]:
    """One labelled leaf ``Value`` per parameter."""
    return {name: Value(v, label=name) for name, v in weights.items()}


def _activate(z: Value, activation: Activation) -> Value:
    return z.tanh() if activation == "tanh" else z.sigmoid()


def _forward(
    arch: Architecture, params: dict[str, Value], x: Sequence[Value | float]
) -> tuple[dict[str, Value], Value]:
    """Run the network on ``x``; return the hidden outputs by name, and ŷ."""
    if len(x) != arch.inputs:
        raise ValueError(f"the network takes {arch.inputs} inputs, got {len(x)}")
    widths = arch.widths
    units: list[Value | float] = list(x)
    neurons: dict[str, Value] = {}
    output: Value | None = None
    for layer in range(1, len(widths)):
        last = layer == len(widths) - 1
        outs: list[Value | float] = []
        for j in range(1, widths[layer] + 1):
            z = params[weight_name(layer, 1, j)] * units[0]
            for i in range(2, widths[layer - 1] + 1):
                z = z + params[weight_name(layer, i, j)] * units[i - 1]
            z = z + params[bias_name(layer, j)]
            if last:
                output = z.sigmoid()
                output.label = "ŷ"
                outs.append(output)
            else:
                o = _activate(z, arch.activation)
                o.label = neuron_name(layer, j)
                neurons[o.label] = o
                outs.append(o)
        units = outs
    assert output is not None
    return neurons, output


@dataclass(frozen=True)
class Network:
    """One forward pass of the MLP on one example, as a graph of ``Value`` nodes."""

    arch: Architecture
    #: The inputs x₁, x₂, … (labelled leaves).
    inputs: tuple[Value, ...]
    #: The target y.
    target: float
    #: Every weight and bias (labelled leaves), in :func:`parameter_names` order.
    params: dict[str, Value]
    #: Every hidden neuron's output (O₁₁ …), by name.
    neurons: dict[str, Value]
    #: The output ŷ.
    output: Value
    #: The loss L = (y - ŷ)².
    loss: Value

    def node(self, name: str) -> Value:
        """Return the node called ``name``: a parameter, a neuron, an input, ``ŷ`` or ``L``."""
        named = {**self.params, **self.neurons, "ŷ": self.output, "L": self.loss}
        named.update((x.label, x) for x in self.inputs)
        try:
            return named[name]
        except KeyError:
            raise KeyError(f"no node called {name!r}; try one of {', '.join(named)}") from None

    def names(self) -> dict[int, str]:
        """Every named node's name, keyed by ``id(node)``."""
        named = [*self.inputs, *self.params.values(), *self.neurons.values()]
        return {id(n): n.label for n in named} | {id(self.output): "ŷ", id(self.loss): "L"}


def build_network(
    arch: Architecture, weights: dict[str, float], x: Sequence[float], y: float
) -> Network:
    """Build the graph of ``L = (y - ŷ)²`` for one example ``(x, y)``."""
    params = make_parameters(weights)
    inputs = tuple(Value(v, label=f"x{_sub(i)}") for i, v in enumerate(x, 1))
    neurons, output = _forward(arch, params, inputs)
    loss = (y - output) ** 2
    loss.label = "L"
    return Network(arch, inputs, float(y), params, neurons, output, loss)


#: The example the lesson differentiates on: x = (x₁, x₂), y.
SEED_EXAMPLE: tuple[tuple[float, float], float] = ((0.5, -1.0), 1.0)


def seed_network(activation: Activation = "tanh", seed: int = SEED) -> Network:
    """The lecture's 2 → 2 → 2 → 1 network on one example, with seeded weights."""
    arch = Architecture(hidden=(2, 2), activation=activation)
    x, y = SEED_EXAMPLE
    return build_network(arch, init_weights(arch, seed), x, y)


# ----------------------------------------------------------------- the two paths


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


# ------------------------------------------------------- the shared adjoint, counted


class _CountingStore:
    """A memo for backward() that counts how often each node's adjoint is stored in it.

    The engine stores every adjoint it computes (a memo that keeps nothing is
    still handed each one), so the count per node is how often adj(node) was
    computed. Everything else goes to the store it wraps.
    """

    def __init__(self, inner: Store[Any]) -> None:
        self.inner = inner
        #: Adjoints stored, by ``id(node)``.
        self.stored: Counter[int] = Counter()

    @property
    def maxsize(self) -> int | None:
        """The wrapped store's bound."""
        return self.inner.maxsize

    @property
    def evictions(self) -> int:
        """The wrapped store's evictions."""
        return self.inner.evictions

    def get(self, key: Hashable) -> Any:
        """Look ``key`` up in the wrapped store."""
        return self.inner.get(key)

    def set(self, key: Hashable, value: Any) -> None:
        """Count one more adjoint for the node ``key``, then store it."""
        self.stored[id(key)] += 1
        self.inner.set(key, value)

    def delete(self, key: Hashable) -> bool:
        """Forget ``key`` in the wrapped store."""
        return self.inner.delete(key)

    def clear(self) -> None:
        """Empty the wrapped store."""
        self.inner.clear()

    def __len__(self) -> int:
        return len(self.inner)


@dataclass(frozen=True)
class AdjointCounts:
    """How often each named node's adjoint ∂L/∂node was computed in one backward pass."""

    #: "dict" (memo=True), "none" (memo=False) or "lru(k)".
    memo: str
    #: Times adj(node) was computed, for every named node (0 if never).
    per_node: dict[str, int]
    #: Adjoints computed in all (named or not).
    computations: int
    #: Terms adj(c) · ∂c/∂n evaluated.
    evaluations: int
    #: The gradients, in ``wrt`` order.
    gradients: tuple[float, ...]
    #: backward() run with the same ``memo`` on the same graph, for comparison.
    reference: Backward

    @property
    def agrees(self) -> bool:
        """Whether the counted run's totals and gradients equal a plain backward()'s."""
        r = self.reference
        return (
            self.computations == r.computations
            and self.evaluations == r.local_derivative_evaluations
            and self.gradients == r.gradients
        )


def count_adjoints(
    loss: Value, wrt: Sequence[Value], names: dict[int, str], memo: bool | int = True
) -> AdjointCounts:
    """Run backward() with a memo that counts, per node, how often its adjoint was computed.

    The memo keeps what ``memo=`` would (all, none, or the k most recent);
    backward() is also run plainly so the totals can be compared. Both run
    top-down, the memoized recursion this lesson is about (a store given as
    ``memo=`` always does; for memo=True the bottom-up sweep would find every
    adjoint in its table, so its hits would count every lookup instead).
    """
    maxsize = None if memo is True else (0 if memo is False else int(memo))
    counting = _CountingStore(make_store(maxsize))
    counted = backward(loss, wrt, memo=counting)
    reference = backward(loss, wrt, memo=memo, schedule="top-down")
    return AdjointCounts(
        memo=reference.memo,
        per_node={name: counting.stored[i] for i, name in names.items()},
        computations=counted.computations,
        evaluations=counted.local_derivative_evaluations,
        gradients=counted.gradients,
        reference=reference,
    )


@dataclass(frozen=True)
class SharedAdjoint:
    """The seed network's backward pass for every parameter, naive and memoized, counted."""

    net: Network
    naive: AdjointCounts
    memoized: AdjointCounts


def shared_adjoint(net: Network) -> SharedAdjoint:
    """Count per-node adjoint computations for ∂L/∂(every parameter), memo=False and memo=True."""
    wrt = list(net.params.values())
    names = net.names()
    return SharedAdjoint(
        net,
        count_adjoints(net.loss, wrt, names, memo=False),
        count_adjoints(net.loss, wrt, names, memo=True),
    )


# ------------------------------------------------------------- cost as depth grows


def backprop_edges(loss: Value, wrt: Iterable[Value]) -> int:
    """The number of edges a memoized backward pass for ``wrt`` evaluates.

    An edge c → n (c consumes n) is evaluated when adj(n) is needed, i.e. when
    n lies on a path from some ``wrt`` node up to ``loss``; with a memo each
    such edge is evaluated exactly once.
    """
    users, _, _ = invert_graph(loss)
    needed: set[Value] = set()
    stack = [n for n in wrt if n in users]
    while stack:
        node = stack.pop()
        if node in needed:
            continue
        needed.add(node)
        stack.extend(users[node])
    return sum(len(users[n]) for n in needed)


def _graph_size(loss: Value) -> tuple[int, int]:
    users, _, _ = invert_graph(loss)
    return len(users), sum(len(u) for u in users.values())


@dataclass(frozen=True)
class Timed:
    """One backward() run and its wall-clock seconds."""

    result: Backward
    seconds: float


@dataclass(frozen=True)
class Skipped:
    """A backward() run left out for time: its cost extrapolated from the measured growth."""

    evaluations: float
    seconds: float
    #: Measured growth of evaluations per added layer the estimate used.
    per_layer: float


@dataclass(frozen=True)
class ScalingRow:
    """Backward passes with each kind of memo on one depth of network."""

    layers: int
    width: int
    #: Nodes in the graph, and all its edges.
    nodes: int
    edges: int
    #: Edges on the paths from the parameters to L (what the memoized pass evaluates).
    backprop_edges: int
    #: One run per memo setting, keyed "none" (naive), "dict" (memoized) and "lru(k)".
    runs: dict[str, Timed | Skipped]


def _timed(loss: Value, wrt: list[Value], memo: bool | int) -> Timed:
    """One backward pass, timed. Top-down for every memo setting, so that they
    compare like for like: the same recursion, with a memo that keeps all, some
    or none (memo=True's default bottom-up sweep would also fill in adjoints no
    parameter needs, such as the inputs')."""
    start = time.perf_counter()
    result = backward(loss, wrt, memo=memo, schedule="top-down")
    return Timed(result, time.perf_counter() - start)


def _memo_key(memo: bool | int) -> str:
    return "dict" if memo is True else "none" if memo is False else f"lru({memo})"


def scaling(
    layers: Iterable[int],
    width: int = 2,
    lru_sizes: Sequence[int] = (4, 16),
    budget: float = 1.0,
    activation: Activation = "tanh",
) -> Iterator[ScalingRow]:
    """For each number of hidden layers, ∂L/∂(every parameter) naive, memoized and LRU-bounded.

    ``layers`` must increase. A naive or LRU run is skipped (for that depth
    and every deeper one) once its time, extrapolated from the growth of its last two
    measured runs, would exceed ``budget`` seconds; the row then carries a
    :class:`Skipped` estimate instead.
    """
    memos: list[bool | int] = [False, True, *lru_sizes]
    # Per memo setting: the (layers, evaluations, seconds) of the last two runs measured.
    history: dict[str, list[tuple[int, float, float]]] = {_memo_key(m): [] for m in memos}
    stopped: set[str] = set()
    x, y = SEED_EXAMPLE
    for depth in layers:
        progress.note(f"backward passes on {depth} hidden layers")
        arch = Architecture(hidden=(width,) * depth, activation=activation)
        net = build_network(arch, init_weights(arch), x, y)
        wrt = list(net.params.values())
        if not any(history.values()):
            backward(net.loss, wrt)  # warm up: the first call pays one-time costs
        runs: dict[str, Timed | Skipped] = {}
        for memo in memos:
            key = _memo_key(memo)
            past = history[key]
            if memo is not True and len(past) >= 2:  # the memoized pass always runs
                (l1, e1, _), (l2, e2, s2) = past[-2:]
                per_layer = (e2 / e1) ** (1 / (l2 - l1))
                growth = per_layer ** (depth - l2)
                if key in stopped or s2 * growth > budget:
                    stopped.add(key)
                    runs[key] = Skipped(e2 * growth, s2 * growth, per_layer)
                    continue
            run = runs[key] = _timed(net.loss, wrt, memo)
            past.append((depth, float(run.result.local_derivative_evaluations), run.seconds))
            del past[:-2]
        nodes, edges = _graph_size(net.loss)
        yield ScalingRow(depth, width, nodes, edges, backprop_edges(net.loss, wrt), runs)


def memory_tradeoff(layers: int, sizes: Sequence[int], width: int = 2) -> list[Timed]:
    """One network's ∂L/∂(every parameter) with a full memo, each LRU bound in ``sizes``, no memo.

    The runs come back in that order (a full memo first, none last): memory
    kept (``result.memo_size``) against work paid (``result.recomputations``,
    ``result.local_derivative_evaluations``) as the bound shrinks.
    """
    if any(isinstance(k, bool) or not isinstance(k, int) or k < 1 for k in sizes):
        raise ValueError(f"sizes must be positive ints (LRU bounds), got {list(sizes)!r}")
    arch = Architecture(hidden=(width,) * layers)
    x, y = SEED_EXAMPLE
    net = build_network(arch, init_weights(arch), x, y)
    wrt = list(net.params.values())
    backward(net.loss, wrt, schedule="top-down")  # warm up: the first call pays one-time costs
    memos: list[bool | int] = [True, *sizes, False]
    runs = []
    for memo in memos:
        progress.note(f"backward pass with memo={memo}")
        runs.append(_timed(net.loss, wrt, memo))
    return runs


# ------------------------------------------------------------------------ training


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
        _, output = _forward(arch, params, example.x)
        term = (example.y - output) ** 2
        total = term if total is None else total + term
    if total is None:
        raise ValueError("the dataset is empty")
    return total / len(data)


def predict(arch: Architecture, weights: dict[str, float], x: Sequence[float]) -> float:
    """ŷ for one input."""
    _, output = _forward(arch, make_parameters(weights), x)
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
