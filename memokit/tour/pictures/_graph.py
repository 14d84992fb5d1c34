"""A loss's graph made ready to draw: nodes named and colored by kind, the paths to highlight.

Both renderers (DOT text for Graphviz, the layered matplotlib drawing)
start from the same :class:`Graph`, built by :func:`collect`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from memokit import DagEvaluator
from memokit.autodiff import Value, backward
from memokit.tour.lessons.mlp import Network
from memokit.tour.pictures._figure import PATH_COLORS

__all__ = [
    "ANY_PATH_COLOR",
    "DAG_KEY",
    "EDGE_COLOR",
    "FILL",
    "KIND_NAMES",
    "Graph",
    "collect",
    "graph_title",
    "label_number",
    "path_color",
]

#: More paths than colors: every edge on any of them gets this one color.
ANY_PATH_COLOR = "#d95f02"
#: Edges on no highlighted path.
EDGE_COLOR = "#a0a0a0"
#: A box's fill, by the kind of node.
FILL = {
    "loss": "#f9d6d5",
    "neuron": "#d8e7fa",
    "param": "#fff1bf",
    "input": "#d5f0d5",
    "const": "#ececec",
    "op": "#ffffff",
}
#: How the legend names each kind of node.
KIND_NAMES = {
    "loss": "loss L, output ŷ",
    "neuron": "hidden neuron Oₗⱼ",
    "param": "weight or bias",
    "input": "input x or target y",
    "const": "constant",
    "op": "operation",
}
_OPS = {"*": "×", "sigmoid": "σ", "neg": "-x"}  # noqa: RUF001 (symbols as printed)


@dataclass(frozen=True)
class Graph:
    """A loss's graph flattened for drawing: nodes by index, edges input → consumer."""

    nodes: tuple[Value, ...]
    #: (input index, consumer index), one per use (``x * x`` gives two).
    edges: tuple[tuple[int, int], ...]
    names: tuple[str, ...]
    kinds: tuple[str, ...]
    adjoints: tuple[float, ...]
    #: For each edge, the highlighted paths it lies on (1-based; 0 = more paths than colors).
    edge_paths: tuple[frozenset[int], ...]
    #: A short label per highlighted path ("path-1 via O₂₁").
    path_labels: tuple[str, ...]
    #: Each highlighted path's product of local derivatives (empty past the color count).
    path_values: tuple[float, ...]
    #: The highlighted node's index, or -1 when nothing is highlighted.
    source: int

    def node_paths(self, i: int) -> frozenset[int]:
        """The highlighted paths node ``i`` lies on."""
        return frozenset().union(
            *(p for (a, b), p in zip(self.edges, self.edge_paths, strict=True) if i in (a, b))
        )


def collect(graph: Value | Network, highlight: Value | str | None) -> Graph:
    """Flatten the graph below a loss (or a lesson Network's loss), naming what the lesson names.

    ``highlight`` (a node, or its label) picks the node whose paths up to the
    loss are marked; None marks nothing.
    """
    if isinstance(graph, Network):
        loss, named = graph.loss, graph.names()
        roles = {id(p): "param" for p in graph.params.values()}
        roles |= {id(x): "input" for x in graph.inputs}
        roles |= {id(n): "neuron" for n in graph.neurons.values()}
        roles |= {id(graph.output): "loss", id(graph.loss): "loss"}
        target = _target_leaf(graph)
        if target is not None:  # the label y of L = (y - ŷ)², a constant in the graph
            named[id(target)] = "y"
            roles[id(target)] = "input"
    elif isinstance(graph, Value):
        loss, named, roles = graph, {}, {id(graph): "loss"}
    else:
        raise TypeError(
            f"expected the loss Value or a memokit.tour.lessons.mlp.Network, "
            f"got {type(graph).__name__}"
        )
    nodes: list[Value] = []
    index: dict[int, int] = {}
    stack = [loss]
    while stack:  # depth first from the loss, inputs in order
        node = stack.pop()
        if id(node) in index:
            continue
        index[id(node)] = len(nodes)
        nodes.append(node)
        stack.extend(reversed(node.inputs))
    edges = tuple((index[id(i)], index[id(n)]) for n in nodes for i in n.inputs)
    names, kinds = [], []
    for n in nodes:
        label = named.get(id(n), n.label)
        if n.op is None:
            kinds.append(roles.get(id(n), "param" if label else "const"))
            names.append(label or f"{n.data:g}")
        else:
            op = _OPS.get(n.op_name, n.op_name)
            if n.op_name == "**":
                op = "(·)²" if n.params[0] == 2 else f"(·)**{n.params[0]:g}"
            kinds.append(roles.get(id(n), "neuron" if label else "op"))
            names.append(f"{label} = {op}" if label else op)
    adjoints = backward(loss, nodes).gradients
    target = _find(nodes, highlight, named) if highlight is not None else None
    edge_paths, labels, values = _paths(loss, nodes, index, edges, target, named)
    source = -1 if target is None else index[id(target)]
    return Graph(
        tuple(nodes),
        edges,
        tuple(names),
        tuple(kinds),
        adjoints,
        edge_paths,
        labels,
        values,
        source,
    )


def _target_leaf(net: Network) -> Value | None:
    """The leaf holding y in the lesson's L = (y - ŷ)², if the graph has that shape."""
    difference = net.loss.inputs[0] if net.loss.inputs else None
    if difference is None or len(difference.inputs) != 2:
        return None
    leaf = difference.inputs[0]
    return leaf if leaf.is_leaf() and not leaf.label and leaf.data == net.target else None


def _find(nodes: list[Value], wanted: Value | str, named: dict[int, str]) -> Value:
    if isinstance(wanted, Value):
        if not any(n is wanted for n in nodes):
            raise ValueError(f"highlight={wanted!r} is not in the graph of the loss")
        return wanted
    found = [n for n in nodes if named.get(id(n), n.label) == wanted]
    if len(found) != 1:
        known = sorted({named.get(id(n), n.label) for n in nodes} - {""})
        how = "no node" if not found else f"{len(found)} nodes"
        raise ValueError(
            f"highlight={wanted!r}: {how} with that label; pass the Value itself, or one of "
            f"{', '.join(known)}"
        )
    return found[0]


def _paths(
    loss: Value,
    nodes: list[Value],
    index: dict[int, int],
    edges: tuple[tuple[int, int], ...],
    target: Value | None,
    named: dict[int, str],
) -> tuple[tuple[frozenset[int], ...], tuple[str, ...], tuple[float, ...]]:
    """Which edges lie on which path from the loss down to ``target``; labels; products."""
    none: frozenset[int] = frozenset()
    if target is None:
        return tuple(none for _ in edges), (), ()
    # counts[i]: how many paths lead from node i down to the target, a DP over inputs.
    paths_below: DagEvaluator[Value, int] = DagEvaluator(
        inputs=lambda node: node.inputs,
        compute=lambda node, below: 1 if node is target else sum(below),
    )
    counts = paths_below.evaluate_many(nodes)
    # Edges are listed consumer by consumer, inputs in order: the first edge of each.
    first_edge = [0] * len(nodes)
    for i in range(1, len(nodes)):
        first_edge[i] = first_edge[i - 1] + len(nodes[i - 1].inputs)
    total = counts[index[id(loss)]]
    if total == 0:
        raise ValueError("the loss does not depend on the node to highlight")
    if total > len(PATH_COLORS):  # too many to tell apart: mark every edge on any path
        on_path = [counts[a] > 0 for a, _ in edges]
        label = f"the {total:,} paths from {named.get(id(target), target.label or 'it')}"
        return tuple(frozenset({0}) if hit else none for hit in on_path), (label,), ()
    found: list[list[int]] = []
    stack: list[tuple[int, list[int]]] = [(index[id(loss)], [])]
    while stack:  # depth first, inputs in order, so path-1 follows the first inputs
        i, path = stack.pop()
        if nodes[i] is target:
            found.append(path)
            continue
        steps = [
            (index[id(source)], [*path, first_edge[i] + position])
            for position, source in enumerate(nodes[i].inputs)
            if counts[index[id(source)]]
        ]
        stack.extend(reversed(steps))
    sets = [set(p) for p in found]
    labels = []
    for k, path in enumerate(found):
        others = set().union(*(s for j, s in enumerate(sets) if j != k))
        own = [named.get(id(nodes[edges[e][1]]), "") for e in path if e not in others]
        own = [name for name in own if name]
        labels.append(f"path-{k + 1}" + (f" via {own[-1]}" if own else ""))
    edge_paths = tuple(
        frozenset(k + 1 for k, s in enumerate(sets) if e in s) for e in range(len(edges))
    )
    values = tuple(
        math.prod(nodes[edges[e][1]].local_grads[e - first_edge[edges[e][1]]] for e in path)
        for path in found
    )
    return edge_paths, tuple(labels), values


def label_number(x: float) -> str:
    """A value as a box shows it: four significant digits, or scientific when tiny or huge."""
    return f"{x:.4g}" if x == 0 or 1e-3 <= abs(x) < 1e5 else f"{x:.2e}"


def path_color(paths: frozenset[int]) -> str:
    """An edge's color for the paths it is on: one path's color, or ``a:b`` side by side."""
    return ANY_PATH_COLOR if 0 in paths else ":".join(PATH_COLORS[k - 1] for k in sorted(paths))


#: The second line of every DAG picture's title.
DAG_KEY = "each box: name or operation, value, ∂L/∂(box)"


def graph_title(g: Graph) -> str:
    """``∂L/∂w = path-1 + path-2 = a + b = total``, or a plain title with nothing highlighted."""
    if g.source < 0:
        return "The computation graph of L"
    name = g.names[g.source].split(" = ")[0]
    total = label_number(g.adjoints[g.source])
    if not g.path_values:  # too many paths to color one by one
        return f"∂L/∂{name} = the sum over {g.path_labels[0][4:]} = {total}"
    terms = " + ".join(label.split(" ")[0] for label in g.path_labels)
    values = " + ".join(
        label_number(v) if v >= 0 else f"({label_number(v)})" for v in g.path_values
    )
    if len(g.path_values) == 1:
        return f"∂L/∂{name} = {terms} = {total}"
    return f"∂L/∂{name} = {terms} = {values} = {total}"
