# Regenerate docs/img: python -m memokit pictures --out docs/img --no-index
"""Pictures of the lessons, drawn from counts measured when they are drawn.

Three pictures tell the tour's story (``python -m memokit tour`` writes them
all, with an ``index.html`` to open them in one go):

* :func:`plot_calls_vs_n`: calls made by naive and by memoized fib(n);
* :func:`draw_dag`: the lecture's MLP as a computation graph, each node with
  its value and ∂L/∂node, the two paths from w¹₁₁ to the loss highlighted;
* :func:`plot_evaluations_vs_depth`: local-derivative evaluations of the
  naive, memoized and LRU-bounded backward passes as the network deepens.

:func:`to_dot` writes a graph as Graphviz DOT text and needs nothing
installed. Drawing needs matplotlib (``pip install 'memokit[plot]'``), imported
only when a picture is drawn; :func:`draw_dag` uses Graphviz's ``dot`` program
instead when it is on the ``PATH``, and otherwise lays the graph out in layers
itself and draws it with matplotlib.
"""

from __future__ import annotations

import html
import itertools
import math
import os
import platform
import shutil
import subprocess
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from memokit._dag import DagEvaluator
from memokit.autodiff import Value, backward
from memokit.tour.lessons import fib, mlp, progress
from memokit.tour.lessons.mlp import Network, ScalingRow, Skipped, Timed

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "PLOT_EXTRA",
    "DotError",
    "Gallery",
    "MissingExtraError",
    "Picture",
    "draw_dag",
    "plot_calls_vs_n",
    "plot_evaluations_vs_depth",
    "to_dot",
    "write_index",
    "write_pictures",
]

#: What to install for the pictures that need matplotlib.
PLOT_EXTRA = "pip install 'memokit[plot]'"

#: File names the pictures are written under (the docs link these).
CALLS_VS_N = "calls_vs_n.png"
MLP_DAG = "mlp_dag"
EVALUATIONS_VS_DEPTH = "evaluations_vs_depth.png"

#: One color per highlighted path (colorblind-safe), then one for "on some path".
PATH_COLORS = ("#d95f02", "#1f6fc5", "#1b9e77", "#c2187a", "#66a61e", "#8c6d1f")
#: More paths than colors: every edge on any of them gets this one color.
ANY_PATH_COLOR = "#d95f02"
_EDGE = "#a0a0a0"
_FILL = {
    "loss": "#f9d6d5",
    "neuron": "#d8e7fa",
    "param": "#fff1bf",
    "input": "#d5f0d5",
    "const": "#ececec",
    "op": "#ffffff",
}
_KIND_NAMES = {
    "loss": "loss L, output ŷ",
    "neuron": "hidden neuron Oₗⱼ",
    "param": "weight or bias",
    "input": "input x or target y",
    "const": "constant",
    "op": "operation",
}
_OPS = {"*": "×", "sigmoid": "σ", "neg": "-x"}  # noqa: RUF001 (symbols as printed)


class MissingExtraError(ImportError):
    """A picture needs an optional dependency that is not installed; the message says which."""


def _matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise MissingExtraError(
            f"drawing this picture needs matplotlib, which is not installed: {PLOT_EXTRA}"
        ) from exc


def _figure(width: float, height: float) -> Figure:
    """A matplotlib Figure that is not attached to pyplot (no GUI, no global state)."""
    _matplotlib()
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _as_path(path: str | os.PathLike[str], suffix: str) -> Path:
    result = Path(path)
    if result.suffix.lower() != suffix:
        raise ValueError(f"{os.fspath(path)!r} should end in {suffix}: this picture is a {suffix}")
    result.parent.mkdir(parents=True, exist_ok=True)
    return result


# ------------------------------------------------------------- calls against n


def plot_calls_vs_n(
    path: str | os.PathLike[str], rows: Sequence[fib.Row] | None = None, *, quick: bool = False
) -> Path:
    """Plot the counted calls of naive and memoized fib(n) against n, log scale, to a PNG.

    ``rows`` are :func:`memokit.tour.lessons.fib.compare`'s measurements; by default
    they are measured now for n = 1 … 30 (1 … 25 with ``quick``).
    """
    target = _as_path(path, ".png")
    _matplotlib()
    if rows is None:
        progress.note(f"counting calls for {CALLS_VS_N}")
        rows = fib.compare(range(1, 26 if quick else 31))
    if not rows:
        raise ValueError("plot_calls_vs_n needs at least one measured row")
    ns = [r.n for r in rows]
    fig = _figure(8, 5)
    ax = fig.add_subplot()
    ax.set_yscale("log")
    ax.plot(
        ns,
        [r.naive_calls for r in rows],
        "o-",
        color=PATH_COLORS[0],
        ms=4,
        label="naive recursion (counted)",
    )
    ax.plot(
        ns,
        [r.memo_calls for r in rows],
        "s-",
        color=PATH_COLORS[1],
        ms=4,
        label="@memoize (counted): n + 1",
    )
    ax.plot(
        ns,
        [2 * fib.PHI / math.sqrt(5) * fib.PHI**n for n in ns],
        "--",
        color="#777777",
        lw=1,
        label="1.447·φⁿ (φ = 1.618…)",
    )
    last = rows[-1]
    ax.annotate(
        f"{last.naive_calls:,} calls",
        (last.n, last.naive_calls),
        xytext=(-8, 0),
        textcoords="offset points",
        ha="right",
        va="center",
        fontsize=10,
    )
    ax.annotate(
        f"{last.memo_calls} calls",
        (last.n, last.memo_calls),
        xytext=(0, 8),
        textcoords="offset points",
        ha="right",
        va="bottom",
        fontsize=10,
    )
    ax.set_xlabel("n")
    ax.set_ylabel("calls to fib (log scale)")
    ax.set_title("Calls made to compute fib(n): naive recursion against @memoize")
    ax.grid(True, which="major", alpha=0.35)
    ax.legend(loc="upper left", frameon=False)
    fig.savefig(target, dpi=110)
    return target


# --------------------------------------------------- evaluations against depth


def plot_evaluations_vs_depth(
    path: str | os.PathLike[str],
    rows: Sequence[ScalingRow] | None = None,
    *,
    quick: bool = False,
) -> Path:
    """Plot local-derivative evaluations against hidden layers, naive, memoized and LRU, to a PNG.

    ``rows`` are :func:`memokit.tour.lessons.mlp.scaling`'s measurements; by default
    they are measured now, as the tour's cost table does. Runs the scaling
    skipped for time are drawn hollow, joined by a dotted line: estimates.
    """
    target = _as_path(path, ".png")
    _matplotlib()
    if rows is None:
        rows = list(mlp.tour_scaling(quick))
    if not rows:
        raise ValueError("plot_evaluations_vs_depth needs at least one measured row")
    keys = list(rows[0].runs)
    order = ["none", *(k for k in keys if k.startswith("lru")), "dict"]
    colors = {"none": PATH_COLORS[0], "dict": PATH_COLORS[1]}
    colors |= dict(zip(order[1:-1], ("#1b9e77", "#7a4fb0", "#8c6d1f", "#c2187a"), strict=False))
    kinds = {"none": "naive sum over paths", "dict": "every adjoint kept"}
    fig = _figure(8, 5.2)
    ax = fig.add_subplot()
    ax.set_yscale("log")
    for key in order:
        name = f"{mlp.memo_label(key)}: {kinds.get(key, 'LRU-bounded')}"
        marker = {"none": "o", "dict": "s"}.get(key, "^")
        color = colors.get(key, "#444444")
        measured = [(r.layers, r.runs[key].evaluations) for r in rows if _ran(r, key)]
        guessed = [(r.layers, r.runs[key].evaluations) for r in rows if not _ran(r, key)]
        if measured:
            label = name + _growth_note(measured, linear=key == "dict")
            ax.plot(*zip(*measured, strict=True), marker=marker, color=color, ms=5, label=label)
        if guessed:
            bridge = measured[-1:] + guessed
            ax.plot(*zip(*bridge, strict=True), ":", color=color)
            ax.plot(
                *zip(*guessed, strict=True),
                marker=marker,
                ls="none",
                color=color,
                ms=6,
                mfc="white",
                label=f"{name.split(':')[0]}: estimated from that growth, not run",
            )
    ax.set_xlabel("hidden layers (2 neurons each)")
    ax.set_ylabel("local-derivative evaluations adj(c)·∂c/∂n (log scale)")
    ax.set_title("Backward passes for every parameter's gradient, as the network deepens")
    ax.set_xticks([r.layers for r in rows])
    ax.grid(True, which="major", alpha=0.35)
    ax.legend(loc="upper left", frameon=False, fontsize=9)
    fig.savefig(target, dpi=110)
    return target


def _ran(row: ScalingRow, key: str) -> bool:
    return isinstance(row.runs[key], Timed)


def _growth_note(points: Sequence[tuple[int, float]], *, linear: bool) -> str:
    """How the last two measured points grow per layer (added or multiplied), for the legend."""
    if len(points) < 2:
        return ""
    if linear:
        (l1, e1), (l2, e2) = points[-2:]
        return f" (+{(e2 - e1) / (l2 - l1):.0f} per layer)"
    return f" (× {mlp.growth_per_layer(points):.2f} per layer)"  # noqa: RUF001 (times)


# ------------------------------------------------------------------ the graph


@dataclass(frozen=True)
class _Graph:
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


def _collect(graph: Value | Network, highlight: Value | str | None) -> _Graph:
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
    return _Graph(
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


def _num(x: float) -> str:
    return f"{x:.4g}" if x == 0 or 1e-3 <= abs(x) < 1e5 else f"{x:.2e}"


def _path_color(paths: frozenset[int]) -> str:
    return ANY_PATH_COLOR if 0 in paths else ":".join(PATH_COLORS[k - 1] for k in sorted(paths))


#: The second line of every DAG picture's title.
DAG_KEY = "each box: name or operation, value, ∂L/∂(box)"


def _title(g: _Graph) -> str:
    """``∂L/∂w = path-1 + path-2 = a + b = total``, or a plain title with nothing highlighted."""
    if g.source < 0:
        return "The computation graph of L"
    name = g.names[g.source].split(" = ")[0]
    total = _num(g.adjoints[g.source])
    if not g.path_values:  # too many paths to color one by one
        return f"∂L/∂{name} = the sum over {g.path_labels[0][4:]} = {total}"
    terms = " + ".join(label.split(" ")[0] for label in g.path_labels)
    values = " + ".join(_num(v) if v >= 0 else f"({_num(v)})" for v in g.path_values)
    if len(g.path_values) == 1:
        return f"∂L/∂{name} = {terms} = {total}"
    return f"∂L/∂{name} = {terms} = {values} = {total}"


# ------------------------------------------------------------------------ DOT


def _dot_id(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(graph: Value | Network, *, highlight: Value | str | None = None) -> str:
    """Return Graphviz DOT text for a loss's graph: each node's value and ∂L/∂node.

    ``graph`` is a loss :class:`~memokit.autodiff.Value` or a lesson
    :class:`~memokit.tour.lessons.mlp.Network` (whose nodes are then named as in the
    lecture). ``highlight`` names a node (or is the node) whose paths up to the
    loss are drawn in color, one color per path; edges on several paths get
    every color of theirs (drawn side by side), and all carry ``class="path
    path-k …"``. Needs nothing installed; render the text with ``dot -Tsvg``.

    >>> a, b = Value(2.0, label="a"), Value(3.0, label="b")
    >>> text = to_dot((a * b + a).tanh(), highlight="a")  # a reaches L twice
    >>> edges = [line for line in text.splitlines() if " -> " in line]
    >>> len(edges), sum('class="path' in edge for edge in edges)  # the edge from b is on no path
    (5, 4)
    """
    g = _collect(graph, highlight)
    lines = [
        "digraph memokit {",
        '  graph [rankdir=BT, fontname="DejaVu Sans", fontsize=11, labelloc=t, nodesep=0.12,'
        " ranksep=0.3, pad=0.2];",
        '  node [shape=box, style="rounded,filled", fontname="DejaVu Sans", fontsize=10,'
        ' margin="0.05,0.03", penwidth=0.8];',
        f'  edge [color="{_EDGE}", arrowsize=0.6];',
    ]
    lines.append(f"  label=<{_dot_legend(g)}>;")
    for i, node in enumerate(g.nodes):
        name = html.escape(g.names[i])
        bold = f"<b>{name}</b>" if g.kinds[i] in ("loss", "neuron", "param", "input") else name
        label = (
            f"{bold}<br/>{_num(node.data)}<br/>"
            f'<font color="#555555" point-size="9">∂L/∂ {_num(g.adjoints[i])}</font>'
        )
        attrs = [f"label=<{label}>", f'fillcolor="{_FILL[g.kinds[i]]}"']
        on = g.node_paths(i)
        if on:
            color = _path_color(on).split(":")[0] if len(on) == 1 else "#333333"
            attrs += [f'color="{color}"', "penwidth=2", f'class="{_classes(on)}"']
        lines.append(f"  n{i} [{', '.join(attrs)}];")
    for (a, b), on in zip(g.edges, g.edge_paths, strict=True):
        style = f' [class="{_classes(on)}", color="{_path_color(on)}", penwidth=2]' if on else ""
        lines.append(f"  n{a} -> n{b}{style};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_legend(g: _Graph) -> str:
    """The graph's title and key, as a Graphviz HTML-like table."""
    rows = [f'<font point-size="16"><b>{html.escape(_title(g))}</b></font>']
    paths = [
        "<td>"
        + "     ".join(
            f'<font color="{_path_color(frozenset({k + 1}))}"><b>■ {html.escape(label)}</b></font>'
            for k, label in enumerate(g.path_labels)
        )
        + "</td>"
    ]
    kinds = [
        f'<td bgcolor="{_FILL[kind]}" border="1" color="#777777">{_KIND_NAMES[kind]}</td>'
        for kind in _FILL
        if kind in g.kinds
    ]
    for cells in (paths if g.path_labels else [], kinds):
        if cells:
            rows.append(
                f'<table border="0" cellspacing="4" cellpadding="2"><tr>{"".join(cells)}</tr>'
                f"</table>"
            )
    rows.append(html.escape(DAG_KEY))
    body = "".join(f"<tr><td>{row}</td></tr>" for row in rows)
    return f'<table border="0" cellborder="0" cellpadding="1">{body}</table>'


def _classes(paths: frozenset[int]) -> str:
    return " ".join(["path", *(f"path-{k}" for k in sorted(paths) if k)])


class DotError(RuntimeError):
    """Graphviz's ``dot`` program failed; the message holds what it said."""


def _run_dot(dot: str, text: str, fmt: str, target: Path) -> Path:
    done = subprocess.run(
        [dot, f"-T{fmt}", *(["-Gdpi=110"] if fmt == "png" else []), "-o", str(target)],
        input=text.encode(),
        capture_output=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise DotError(f"dot -T{fmt} failed ({done.returncode}): {done.stderr.decode().strip()}")
    return target


def draw_dag(
    graph: Value | Network,
    path: str | os.PathLike[str],
    *,
    highlight: Value | str | None = None,
    renderer: Literal["auto", "dot", "matplotlib"] = "auto",
) -> tuple[Path, ...]:
    """Draw a loss's graph (see :func:`to_dot`) and return the files written.

    ``path`` is the file name without its suffix (``out/mlp_dag``). With
    Graphviz's ``dot`` on the PATH (``renderer="auto"`` or ``"dot"``) this
    writes an SVG and a PNG; otherwise matplotlib draws a PNG from a layered
    layout computed here. For a :class:`~memokit.tour.lessons.mlp.Network`,
    ``highlight`` defaults to ``"w¹₁₁"``, the lecture's two paths.
    """
    stem = Path(path)
    if stem.suffix in (".png", ".svg", ".dot"):
        stem = stem.with_suffix("")
    stem.parent.mkdir(parents=True, exist_ok=True)
    if highlight is None and isinstance(graph, Network) and "w¹₁₁" in graph.params:
        highlight = "w¹₁₁"
    dot = shutil.which("dot") if renderer in ("auto", "dot") else None
    if renderer == "dot" and dot is None:
        raise FileNotFoundError(
            "renderer='dot' needs Graphviz's dot program on the PATH (e.g. apt-get install "
            "graphviz); renderer='auto' falls back to matplotlib without it"
        )
    if dot is not None:
        text = to_dot(graph, highlight=highlight)
        try:
            return (
                _run_dot(dot, text, "svg", stem.with_suffix(".svg")),
                _run_dot(dot, text, "png", stem.with_suffix(".png")),
            )
        except DotError:
            if renderer == "dot":
                raise
    return (_draw_layered(_collect(graph, highlight), stem.with_suffix(".png")),)


# --------------------------------------------- the fallback: a layered drawing


def _layers(g: _Graph) -> list[int]:
    """Each node's layer: the longest distance from the loss (layer 0), along consumer edges."""
    consumers: list[list[int]] = [[] for _ in g.nodes]
    for a, b in g.edges:
        consumers[a].append(b)
    # depth(n) = 0 for the loss, else 1 + the deepest of n's consumers: a DP over consumers.
    depth: DagEvaluator[int, int] = DagEvaluator(
        inputs=consumers.__getitem__,
        compute=lambda i, above: 1 + max(above) if above else 0,
        key=int,
    )
    return depth.evaluate_many(range(len(g.nodes)))


def _layout(g: _Graph) -> tuple[list[int], dict[object, float], int]:
    """Columns and rows for every node, with waypoints for edges that span several columns.

    Returns each node's column (the loss rightmost), the row of every slot (a
    node index, or an ``(edge, column)`` waypoint) and the number of columns.
    Rows come from barycenter sweeps (fewer crossings), then each column is
    pulled toward its neighbours' rows, keeping its slots one row apart.
    """
    depth = _layers(g)
    top = max(depth)
    column = [top - d for d in depth]
    slots: list[list[object]] = [[] for _ in range(top + 1)]
    for i in range(len(g.nodes)):  # discovery order: depth first from the loss
        slots[column[i]].append(i)
    links: list[tuple[object, object]] = []
    for e, (a, b) in enumerate(g.edges):
        chain: list[object] = [a, *((e, c) for c in range(column[a] + 1, column[b])), b]
        for c, point in enumerate(chain[1:-1], column[a] + 1):
            slots[c].append(point)
        links.extend(itertools.pairwise(chain))
    left: dict[object, list[object]] = {}
    right: dict[object, list[object]] = {}
    for u, v in links:
        right.setdefault(u, []).append(v)
        left.setdefault(v, []).append(u)
    row: dict[object, float] = {}

    def place() -> None:
        for col in slots:
            for k, s in enumerate(col):
                row[s] = k - (len(col) - 1) / 2

    place()
    for sweep in range(8):  # barycenter ordering, alternating direction
        columns = range(1, top + 1) if sweep % 2 == 0 else range(top - 1, -1, -1)
        side = left if sweep % 2 == 0 else right
        for c in columns:
            slots[c].sort(key=lambda s: _mean([row[t] for t in side.get(s, [])], row[s]))
            for k, s in enumerate(slots[c]):
                row[s] = k - (len(slots[c]) - 1) / 2
    for _ in range(12):  # pull toward neighbours, one row apart, order kept
        for col in slots:
            wish = [
                _mean([row[t] for t in left.get(s, []) + right.get(s, [])], row[s]) for s in col
            ]
            placed: list[float] = []
            for w in wish:
                placed.append(w if not placed else max(w, placed[-1] + 1.0))
            shift = sum(wish) / len(wish) - sum(placed) / len(placed)
            for s, y in zip(col, placed, strict=True):
                row[s] = y + shift
    return column, row, len(slots)


def _mean(values: Iterable[float], default: float) -> float:
    items = list(values)
    return sum(items) / len(items) if items else default


def _draw_layered(g: _Graph, target: Path) -> Path:
    """Draw the graph with matplotlib from :func:`_layout`, the loss on top: dot's stand-in."""
    _matplotlib()
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch

    level, rows, levels = _layout(g)
    dx, dy, box_w, box_h, inch = 1.45, 1.0, 1.3, 0.62, 0.78

    def at(s: object) -> tuple[float, float]:
        c = level[s] if isinstance(s, int) else int(s[1])  # type: ignore[index]
        return rows[s] * dx, c * dy

    xs = [at(i)[0] for i in range(len(g.nodes))]
    width = max(xs) - min(xs) + box_w + 0.2
    height = (levels - 1) * dy + box_h + 0.2
    fig = _figure(max(7.0, width * inch), height * inch + 1.4)
    ax: Axes = fig.add_subplot()
    ax.set_axis_off()
    ax.set_aspect("equal")
    for e, ((a, b), on) in enumerate(zip(g.edges, g.edge_paths, strict=True)):
        points = [at(a), *(at((e, c)) for c in range(level[a] + 1, level[b])), at(b)]
        points[0] = (points[0][0], points[0][1] + box_h / 2)
        points[-1] = (points[-1][0], points[-1][1] - box_h / 2)
        colors = _path_color(on).split(":") if on else [_EDGE]
        for k, color in enumerate(colors):
            shift = (k - (len(colors) - 1) / 2) * 0.05  # side by side, across each segment
            for n, (p, q) in enumerate(itertools.pairwise(points)):
                length = math.dist(p, q) or 1.0
                nx, ny = (q[1] - p[1]) / length * shift, (p[0] - q[0]) / length * shift
                ends = ((p[0] + nx, p[1] + ny), (q[0] + nx, q[1] + ny))
                last = n == len(points) - 2
                ax.add_patch(
                    FancyArrowPatch(
                        *ends,
                        arrowstyle="-|>" if last else "-",
                        mutation_scale=9,
                        color=color,
                        lw=2.0 if on else 0.9,
                        shrinkA=0,
                        shrinkB=0,
                        zorder=1,
                    )
                )
    for i, node in enumerate(g.nodes):
        x, y = at(i)
        on = g.node_paths(i)
        edge = "#555555"
        if on:
            edge = _path_color(on).split(":")[0] if len(on) == 1 else "#222222"
        ax.add_patch(
            FancyBboxPatch(
                (x - box_w / 2, y - box_h / 2),
                box_w,
                box_h,
                boxstyle="round,pad=0,rounding_size=0.1",
                fc=_FILL[g.kinds[i]],
                ec=edge,
                lw=2.0 if on else 0.8,
                zorder=2,
            )
        )
        bold = g.kinds[i] in ("loss", "neuron", "param", "input")
        lines = (
            (g.names[i], 8.5, "#000000", "bold" if bold else "normal"),
            (_num(node.data), 8.0, "#000000", "normal"),
            (f"∂L/∂ {_num(g.adjoints[i])}", 7.5, "#555555", "normal"),
        )
        for k, (text, size, color, weight) in enumerate(lines):
            ax.text(
                x,
                y + (1 - k) * 0.18,
                text,
                ha="center",
                va="center",
                fontsize=size,
                color=color,
                fontweight=weight,
                zorder=3,
            )
    ax.set_xlim(min(xs) - box_w / 2 - 0.1, max(xs) + box_w / 2 + 0.1)
    ax.set_ylim(-box_h / 2 - 0.1, (levels - 1) * dy + box_h / 2 + 0.1)
    handles: list[Line2D | Patch] = [
        Line2D([], [], color=_path_color(frozenset({k + 1})), lw=2.5, label=label)
        for k, label in enumerate(g.path_labels)
    ]
    kinds = [k for k in _FILL if k in g.kinds]
    handles += [Patch(fc=_FILL[k], ec="#555555", label=_KIND_NAMES[k]) for k in kinds]
    fig.legend(handles=handles, loc="outside lower center", ncols=4, frameon=False, fontsize=9)
    fig.suptitle(
        f"{_title(g)}\n{DAG_KEY}\n(laid out by memokit: Graphviz's dot program is not installed)",
        fontsize=11,
    )
    fig.savefig(target, dpi=110)
    return target


# ------------------------------------------------------------ the whole set


@dataclass(frozen=True)
class Picture:
    """One picture on disk: its files (the one to show first) and a one-line caption."""

    title: str
    caption: str
    files: tuple[Path, ...]


@dataclass(frozen=True)
class Gallery:
    """What :func:`write_pictures` wrote, and what it could not draw and why."""

    directory: Path
    pictures: tuple[Picture, ...]
    #: The index page, when one was written.
    index: Path | None
    #: One line per picture not drawn (e.g. matplotlib is not installed).
    missing: tuple[str, ...]

    @property
    def files(self) -> tuple[Path, ...]:
        """Every file written, pictures first, the index last."""
        found = tuple(f for p in self.pictures for f in p.files)
        return found + ((self.index,) if self.index is not None else ())


def write_pictures(
    directory: str | os.PathLike[str],
    *,
    quick: bool = False,
    index: bool = True,
    renderer: Literal["auto", "dot", "matplotlib"] = "auto",
) -> Gallery:
    """Measure the lessons and write every picture (and ``index.html``) into ``directory``.

    Without matplotlib the pictures that need it are skipped and listed in
    ``missing``; the DAG's DOT text is always written, and drawn by ``dot``
    when that program is installed.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    pictures: list[Picture] = []
    missing: list[str] = []
    try:
        _matplotlib()
        has_plot = True
    except MissingExtraError:
        has_plot = False

    if has_plot:
        progress.note(f"counting calls for {CALLS_VS_N}")
        rows = fib.compare(range(1, 26 if quick else 31))
        last = rows[-1]
        progress.note(f"drawing {CALLS_VS_N}")
        pictures.append(
            Picture(
                "Calls against n",
                f"Calls to fib(n), counted: fib({last.n}) takes {last.naive_calls:,} calls by naive"
                f" recursion and {last.memo_calls} with @memoize (log scale).",
                (plot_calls_vs_n(out / CALLS_VS_N, rows),),
            )
        )
    else:
        missing.append(f"{CALLS_VS_N} needs matplotlib")

    net = mlp.seed_network()
    dot_file = out / f"{MLP_DAG}.dot"
    dot_file.write_text(to_dot(net, highlight="w¹₁₁"), encoding="utf-8")
    split = mlp.two_paths(net)
    nodes = len({id(n) for n in _collect(net, None).nodes})
    dag_caption = (
        f"The lecture's MLP as a graph of {nodes} nodes, each with its value and ∂L/∂node;"
        f" the two paths from w¹₁₁ to L are highlighted: path-1 ({split.paths[0].value:.4g})"
        f" + path-2 ({split.paths[1].value:.4g}) = ∂L/∂w¹₁₁ = {split.grad:.4g}."
    )
    drawn: tuple[Path, ...] = ()
    if renderer != "matplotlib" and shutil.which("dot") is not None:
        progress.note(f"drawing {MLP_DAG} with Graphviz")
        drawn = draw_dag(net, out / MLP_DAG, renderer=renderer)
    elif has_plot:
        progress.note(f"drawing {MLP_DAG}.png with matplotlib")
        drawn = draw_dag(net, out / MLP_DAG, renderer="matplotlib")
    else:
        missing.append(f"{MLP_DAG}.png needs matplotlib (or Graphviz's dot program)")
    pictures.append(Picture("The two paths of ∂L/∂w¹₁₁", dag_caption, (*drawn, dot_file)))

    if has_plot:
        progress.note(f"measuring backward passes for {EVALUATIONS_VS_DEPTH}")
        depth_rows = list(mlp.tour_scaling(quick))
        progress.note(f"drawing {EVALUATIONS_VS_DEPTH}")
        deepest = depth_rows[-1]
        naive = deepest.runs["none"]
        how = "estimated" if isinstance(naive, Skipped) else "counted"
        pictures.append(
            Picture(
                "Evaluations against depth",
                f"Local-derivative evaluations for every parameter's gradient at 1 to"
                f" {deepest.layers} hidden layers: at {deepest.layers}, naive"
                f" {naive.evaluations:,.0f} ({how}), memoized"
                f" {deepest.runs['dict'].evaluations:,.0f}, LRU memos in between (log scale).",
                (plot_evaluations_vs_depth(out / EVALUATIONS_VS_DEPTH, depth_rows),),
            )
        )
    else:
        missing.append(f"{EVALUATIONS_VS_DEPTH} needs matplotlib")
    page = write_index(out, pictures) if index else None
    return Gallery(out, tuple(pictures), page, tuple(missing))


def write_index(
    directory: str | os.PathLike[str],
    pictures: Sequence[Picture],
    *,
    title: str = "memokit tour: the pictures",
) -> Path:
    """Write ``index.html`` in ``directory``: every picture with its caption, links relative.

    The page is standalone (no scripts, fonts or styles from the network) and
    also well-formed XML. Each picture shows its first file, and links the rest
    (another format, the DOT source).
    """
    out = Path(directory)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8"/>',
        f"<title>{_text(title)}</title>",
        "<style>",
        "body { font-family: sans-serif; max-width: 72em; margin: 2em auto; padding: 0 1em;"
        " color: #222; }",
        "figure { margin: 2.5em 0; } img { max-width: 100%; height: auto;"
        " border: 1px solid #ddd; }",
        "figcaption { margin-top: 0.5em; } .files { color: #555; font-size: 0.9em; }",
        "</style>",
        "</head>",
        "<body>",
        f"<h1>{_text(title)}</h1>",
        f"<p>Drawn by memokit {_text(_version())} on {_text(platform.python_implementation())}"
        f" {platform.python_version()}, from counts measured when the pictures were made"
        f" ({time.strftime('%Y-%m-%d %H:%M')}).</p>",
    ]
    for picture in pictures:
        files = [_relative(f, out) for f in picture.files]
        images = [f for f in files if f.rsplit(".", 1)[-1] in ("png", "svg")]
        parts.append("<figure>")
        parts.append(f"<h2>{_text(picture.title)}</h2>")
        if images:
            shown = images[0]
            parts.append(
                f'<a href="{html.escape(shown)}"><img src="{html.escape(shown)}"'
                f' alt="{html.escape(picture.title)}"/></a>'
            )
        links = " · ".join(
            f'<a href="{html.escape(f)}">{html.escape(f)}</a>' for f in files[1 if images else 0 :]
        )
        extra = f' <span class="files">Also: {links}.</span>' if links else ""
        parts.append(f"<figcaption>{_text(picture.caption)}{extra}</figcaption>")
        parts.append("</figure>")
    parts += ["</body>", "</html>", ""]
    page = out / "index.html"
    page.write_text("\n".join(parts), encoding="utf-8")
    return page


def _text(text: str) -> str:
    return html.escape(text, quote=False)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("memokit")
    except PackageNotFoundError:  # run from a source tree that is not installed
        return "(not installed)"


def _relative(file: Path, directory: Path) -> str:
    try:
        return file.resolve().relative_to(directory.resolve()).as_posix()
    except ValueError:
        raise ValueError(
            f"{file} is not inside {directory}: index.html links only the files beside it"
        ) from None
