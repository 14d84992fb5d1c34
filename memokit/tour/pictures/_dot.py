"""The graph as Graphviz DOT text, and drawn: by Graphviz's ``dot`` when installed."""

from __future__ import annotations

import html
import os
import shutil
import subprocess
from pathlib import Path
from typing import Literal

from memokit.autodiff import Value
from memokit.tour.lessons.mlp import Network
from memokit.tour.pictures._graph import (
    DAG_KEY,
    EDGE_COLOR,
    FILL,
    KIND_NAMES,
    Graph,
    collect,
    graph_title,
    label_number,
    path_color,
)
from memokit.tour.pictures._layered import draw_layered

__all__ = ["DotError", "draw_dag", "to_dot"]


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
    g = collect(graph, highlight)
    lines = [
        "digraph memokit {",
        '  graph [rankdir=BT, fontname="DejaVu Sans", fontsize=11, labelloc=t, nodesep=0.12,'
        " ranksep=0.3, pad=0.2];",
        '  node [shape=box, style="rounded,filled", fontname="DejaVu Sans", fontsize=10,'
        ' margin="0.05,0.03", penwidth=0.8];',
        f'  edge [color="{EDGE_COLOR}", arrowsize=0.6];',
    ]
    lines.append(f"  label=<{_dot_legend(g)}>;")
    for i, node in enumerate(g.nodes):
        name = html.escape(g.names[i])
        bold = f"<b>{name}</b>" if g.kinds[i] in ("loss", "neuron", "param", "input") else name
        label = (
            f"{bold}<br/>{label_number(node.data)}<br/>"
            f'<font color="#555555" point-size="9">∂L/∂ {label_number(g.adjoints[i])}</font>'
        )
        attrs = [f"label=<{label}>", f'fillcolor="{FILL[g.kinds[i]]}"']
        on = g.node_paths(i)
        if on:
            color = path_color(on).split(":")[0] if len(on) == 1 else "#333333"
            attrs += [f'color="{color}"', "penwidth=2", f'class="{_classes(on)}"']
        lines.append(f"  n{i} [{', '.join(attrs)}];")
    for (a, b), on in zip(g.edges, g.edge_paths, strict=True):
        style = f' [class="{_classes(on)}", color="{path_color(on)}", penwidth=2]' if on else ""
        lines.append(f"  n{a} -> n{b}{style};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_legend(g: Graph) -> str:
    """The graph's title and key, as a Graphviz HTML-like table."""
    rows = [f'<font point-size="16"><b>{html.escape(graph_title(g))}</b></font>']
    paths = [
        "<td>"
        + "     ".join(
            f'<font color="{path_color(frozenset({k + 1}))}"><b>■ {html.escape(label)}</b></font>'
            for k, label in enumerate(g.path_labels)
        )
        + "</td>"
    ]
    kinds = [
        f'<td bgcolor="{FILL[kind]}" border="1" color="#777777">{KIND_NAMES[kind]}</td>'
        for kind in FILL
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
    return (draw_layered(collect(graph, highlight), stem.with_suffix(".png")),)
