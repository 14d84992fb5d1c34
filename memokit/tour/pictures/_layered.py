"""The DAG drawn without Graphviz: memokit lays the graph out in layers, matplotlib draws it."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from memokit import DagEvaluator
from memokit.tour.pictures._figure import new_figure, require_matplotlib
from memokit.tour.pictures._graph import (
    DAG_KEY,
    EDGE_COLOR,
    FILL,
    KIND_NAMES,
    Graph,
    graph_title,
    label_number,
    path_color,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["draw_layered", "layout"]


def _layers(g: Graph) -> list[int]:
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


def layout(g: Graph) -> tuple[list[int], dict[object, float], int]:
    """A level and a place in it for every node, with waypoints for edges that span levels.

    Returns each node's level (inputs low, the loss on the highest), the place
    within its level of every slot (a node index, or an ``(edge, level)``
    waypoint) and the number of levels. The drawing puts levels bottom to top
    and places left to right. Places come from barycenter sweeps (fewer
    crossings), then each level is pulled toward its neighbours' places,
    keeping its slots one place apart.
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


def draw_layered(g: Graph, target: Path) -> Path:
    """Draw the graph with matplotlib from :func:`layout`, the loss on top: dot's stand-in."""
    require_matplotlib()
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch

    level, rows, levels = layout(g)
    dx, dy, box_w, box_h, inch = 1.45, 1.0, 1.3, 0.62, 0.78

    def at(s: object) -> tuple[float, float]:
        c = level[s] if isinstance(s, int) else int(s[1])  # type: ignore[index]
        return rows[s] * dx, c * dy

    xs = [at(i)[0] for i in range(len(g.nodes))]
    width = max(xs) - min(xs) + box_w + 0.2
    height = (levels - 1) * dy + box_h + 0.2
    fig = new_figure(max(7.0, width * inch), height * inch + 1.4)
    ax: Axes = fig.add_subplot()
    ax.set_axis_off()
    ax.set_aspect("equal")
    for e, ((a, b), on) in enumerate(zip(g.edges, g.edge_paths, strict=True)):
        points = [at(a), *(at((e, c)) for c in range(level[a] + 1, level[b])), at(b)]
        points[0] = (points[0][0], points[0][1] + box_h / 2)
        points[-1] = (points[-1][0], points[-1][1] - box_h / 2)
        colors = path_color(on).split(":") if on else [EDGE_COLOR]
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
            edge = path_color(on).split(":")[0] if len(on) == 1 else "#222222"
        ax.add_patch(
            FancyBboxPatch(
                (x - box_w / 2, y - box_h / 2),
                box_w,
                box_h,
                boxstyle="round,pad=0,rounding_size=0.1",
                fc=FILL[g.kinds[i]],
                ec=edge,
                lw=2.0 if on else 0.8,
                zorder=2,
            )
        )
        bold = g.kinds[i] in ("loss", "neuron", "param", "input")
        lines = (
            (g.names[i], 8.5, "#000000", "bold" if bold else "normal"),
            (label_number(node.data), 8.0, "#000000", "normal"),
            (f"∂L/∂ {label_number(g.adjoints[i])}", 7.5, "#555555", "normal"),
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
        Line2D([], [], color=path_color(frozenset({k + 1})), lw=2.5, label=label)
        for k, label in enumerate(g.path_labels)
    ]
    kinds = [k for k in FILL if k in g.kinds]
    handles += [Patch(fc=FILL[k], ec="#555555", label=KIND_NAMES[k]) for k in kinds]
    fig.legend(handles=handles, loc="outside lower center", ncols=4, frameon=False, fontsize=9)
    fig.suptitle(
        f"{graph_title(g)}\n{DAG_KEY}\n"
        "(laid out by memokit: Graphviz's dot program is not installed)",
        fontsize=11,
    )
    fig.savefig(target, dpi=110)
    return target
