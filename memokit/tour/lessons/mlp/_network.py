"""The lecture's network: its names, its shape, and one forward pass as a graph of Values.

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
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from memokit.autodiff import Value
from memokit.autodiff._grad import invert_graph

__all__ = [
    "SEED",
    "SEED_EXAMPLE",
    "Activation",
    "Architecture",
    "Network",
    "bias_name",
    "build_network",
    "deep_network",
    "forward_pass",
    "init_weights",
    "make_parameters",
    "neuron_name",
    "parameter_names",
    "seed_network",
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


def parameter_names(arch: Architecture, layer: int | None = None) -> list[str]:
    """Parameter names layer by layer (or ``layer``'s only): each neuron's weights, then its bias.

    >>> parameter_names(Architecture(hidden=(2,)))
    ['w¹₁₁', 'w¹₂₁', 'b¹₁', 'w¹₁₂', 'w¹₂₂', 'b¹₂', 'w²₁₁', 'w²₂₁', 'b²₁']
    >>> parameter_names(Architecture(hidden=(2,)), layer=2)
    ['w²₁₁', 'w²₂₁', 'b²₁']
    """
    names: list[str] = []
    widths = arch.widths
    for number in range(1, len(widths)) if layer is None else (layer,):
        for j in range(1, widths[number] + 1):
            names.extend(weight_name(number, i, j) for i in range(1, widths[number - 1] + 1))
            names.append(bias_name(number, j))
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


def forward_pass(
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

    def graph_size(self) -> tuple[int, int]:
        """The nodes the loss depends on, and the edges between them (one per use of an input)."""
        consumers, _, _ = invert_graph(self.loss)
        return len(consumers), sum(len(users) for users in consumers.values())


def build_network(
    arch: Architecture, weights: dict[str, float], x: Sequence[float], y: float
) -> Network:
    """Build the graph of ``L = (y - ŷ)²`` for one example ``(x, y)``."""
    params = make_parameters(weights)
    inputs = tuple(Value(v, label=f"x{_sub(i)}") for i, v in enumerate(x, 1))
    neurons, output = forward_pass(arch, params, inputs)
    loss = (y - output) ** 2
    loss.label = "L"
    return Network(arch, inputs, float(y), params, neurons, output, loss)


#: The example the lesson differentiates on: x = (x₁, x₂), y.
SEED_EXAMPLE: tuple[tuple[float, float], float] = ((0.5, -1.0), 1.0)


def seed_network(activation: Activation = "tanh", seed: int = SEED) -> Network:
    """The lecture's 2 → 2 → 2 → 1 network on one example, with seeded weights."""
    return deep_network(2, activation=activation, seed=seed)


def deep_network(
    layers: int, width: int = 2, activation: Activation = "tanh", seed: int = SEED
) -> Network:
    """The lecture's network with ``layers`` hidden layers of ``width`` neurons, on its example."""
    arch = Architecture(hidden=(width,) * layers, activation=activation)
    x, y = SEED_EXAMPLE
    return build_network(arch, init_weights(arch, seed), x, y)
