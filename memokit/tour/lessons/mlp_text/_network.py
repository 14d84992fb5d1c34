"""The network step: each neuron's formula, with the values of one forward pass."""

from __future__ import annotations

from collections.abc import Iterator

from memokit.tour.lessons import mlp
from memokit.tour.lessons._format import format_number
from memokit.tour.lessons.mlp import (
    Network,
    bias_name,
    neuron_name,
    parameter_names,
    weight_name,
)

__all__ = ["network", "network_lines"]


def network_lines(net: Network) -> Iterator[str]:
    """Each neuron's formula under the index convention, with this forward pass's values."""
    arch = net.arch
    widths = arch.widths
    act = arch.activation
    x_text = ", ".join(f"{x.label} = {format_number(x.data)}" for x in net.inputs)
    yield (
        f"The lecture's network: {arch.inputs} inputs, hidden layers of "
        f"{' and '.join(str(w) for w in arch.hidden)} neurons ({act}), one output ŷ"
        f" (sigmoid), and the loss L = (y - ŷ)². Weight wˡᵢⱼ sits on the edge from unit i of"
        f" layer l-1 into neuron j of layer l, so w¹₁₁ connects x₁ to O₁₁ as in the notes;"
        f" bˡⱼ is neuron j's bias. Every weight is a Value leaf; each operation records its"
        f" local derivatives as it runs."
    )
    yield ""
    yield f"  one example: {x_text}, y = {format_number(net.target)}"
    prev = [x.label for x in net.inputs]
    for layer in range(1, len(widths)):
        last = layer == len(widths) - 1
        names = []
        for j in range(1, widths[layer] + 1):
            terms = " + ".join(f"{weight_name(layer, i, j)}·{u}" for i, u in enumerate(prev, 1))
            name = "ŷ" if last else neuron_name(layer, j)
            node = net.output if last else net.neurons[name]
            fn = "sigmoid" if last else act
            value = format_number(node.data)
            yield f"  {name:<4} = {fn}({terms} + {bias_name(layer, j)}) = {value}"
            names.append(name)
        prev = names
    yield f"  L    = (y - ŷ)² = {format_number(net.loss.data)}"
    yield ""
    yield "  with the weights and biases (random, seeded):"
    for layer in range(1, len(widths)):
        items = [f"{n} = {format_number(net.params[n].data)}" for n in parameter_names(arch, layer)]
        yield "    " + ",  ".join(items)
    yield ""
    nodes, edges = net.graph_size()
    yield (
        f"The graph has {nodes} nodes and {edges} edges (every +, ·, tanh is a node;"
        f" {len(net.params)} of the leaves are parameters)."
    )


def network(quick: bool) -> Iterator[str]:
    """Tour step: build the lecture's network and show its forward pass."""
    yield from network_lines(mlp.seed_network())
