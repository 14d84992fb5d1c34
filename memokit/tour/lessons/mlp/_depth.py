"""Cost as the network deepens: naive, memoized and LRU-bounded backward passes, measured.

Every count comes from running backward(); times come from
``time.perf_counter``. Only the runs :func:`scaling` skips for time are
estimates, extrapolated from the growth it measured on the depths before.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from memokit.autodiff import Backward, Value, backward
from memokit.autodiff._grad import invert_graph
from memokit.tour.lessons import progress
from memokit.tour.lessons.mlp._network import Activation, deep_network

__all__ = [
    "FULL_LAYERS",
    "LRU_SIZES",
    "LRU_SWEEP",
    "QUICK_LAYERS",
    "TRADEOFF_LAYERS",
    "ScalingRow",
    "Skipped",
    "Timed",
    "backprop_edges",
    "growth_per_layer",
    "memo_label",
    "memory_tradeoff",
    "scaling",
    "tour_scaling",
]

#: Hidden layers (of width 2) the tour's cost table measures, quick and full.
QUICK_LAYERS = range(1, 7)
FULL_LAYERS = range(1, 13)
#: The LRU memo sizes the cost table tries.
LRU_SIZES = (4, 16)
#: The LRU bounds the memory step tries, largest first.
LRU_SWEEP = (128, 64, 32, 16, 8, 4, 2)
#: Hidden layers of the network the memory step measures (quick, full).
TRADEOFF_LAYERS = (8, 10)


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


@dataclass(frozen=True)
class Timed:
    """One backward() run and its wall-clock seconds."""

    result: Backward
    seconds: float

    @property
    def evaluations(self) -> int:
        """The terms adj(c)·∂c/∂n the run evaluated, as counted."""
        return self.result.local_derivative_evaluations


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

    def measured(self, key: str) -> Timed | None:
        """The run of memo setting ``key`` if it was measured, None if it was skipped."""
        run = self.runs[key]
        return run if isinstance(run, Timed) else None


def growth_per_layer(points: Sequence[tuple[int, float]]) -> float | None:
    """The factor by which evaluations grew per added layer over the last two ``points``.

    ``points`` are (hidden layers, evaluations), shallowest first; with fewer
    than two there is no growth to tell (None).

    >>> growth_per_layer([(1, 10.0), (2, 20.0), (4, 180.0)])
    3.0
    """
    if len(points) < 2:
        return None
    (l1, e1), (l2, e2) = points[-2:]
    return float((e2 / e1) ** (1 / (l2 - l1)))


def memo_label(key: str) -> str:
    """The ``memo=`` argument a run's memo key stands for.

    >>> [memo_label(key) for key in ("dict", "none", "lru(4)")]
    ['memo=True', 'memo=False', 'memo=4']
    """
    return {"dict": "memo=True", "none": "memo=False"}.get(key, f"memo={key[4:-1]}")


def _memo_key(memo: bool | int) -> str:
    """The key of a ``memo=`` argument, as :attr:`Backward.memo` names it."""
    return "dict" if memo is True else "none" if memo is False else f"lru({memo})"


def _timed(loss: Value, wrt: list[Value], memo: bool | int) -> Timed:
    """One backward pass, timed.

    Top-down for every memo setting, so that they compare like for like: the
    same recursion, with a memo that keeps all, some or none (memo=True's
    default bottom-up sweep would also fill in adjoints no parameter needs,
    such as the inputs').
    """
    start = time.perf_counter()
    result = backward(loss, wrt, memo=memo, schedule="top-down")
    return Timed(result, time.perf_counter() - start)


def scaling(
    layers: Iterable[int],
    width: int = 2,
    lru_sizes: Sequence[int] = LRU_SIZES,
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
    # Per memo setting: (layers, evaluations, seconds) of each run measured so far.
    history: dict[str, list[tuple[int, float, float]]] = {_memo_key(m): [] for m in memos}
    stopped: set[str] = set()
    for depth in layers:
        progress.note(f"backward passes on {depth} hidden layers")
        net = deep_network(depth, width, activation)
        wrt = list(net.params.values())
        if not any(history.values()):
            backward(net.loss, wrt)  # warm up: the first call pays one-time costs
        runs: dict[str, Timed | Skipped] = {}
        for memo in memos:
            key = _memo_key(memo)
            past = history[key]
            # The memoized pass always runs; the others stop once they would be too slow.
            per_layer = None if memo is True else growth_per_layer([p[:2] for p in past])
            if per_layer is not None:
                last_layers, last_evaluations, last_seconds = past[-1]
                growth = per_layer ** (depth - last_layers)
                if key in stopped or last_seconds * growth > budget:
                    stopped.add(key)
                    runs[key] = Skipped(last_evaluations * growth, last_seconds * growth, per_layer)
                    continue
            run = runs[key] = _timed(net.loss, wrt, memo)
            past.append((depth, run.evaluations, run.seconds))
        nodes, edges = net.graph_size()
        yield ScalingRow(depth, width, nodes, edges, backprop_edges(net.loss, wrt), runs)


def tour_scaling(quick: bool) -> Iterator[ScalingRow]:
    """The tour's cost table: :func:`scaling` over QUICK_LAYERS or FULL_LAYERS, with LRU_SIZES."""
    return scaling(QUICK_LAYERS if quick else FULL_LAYERS, lru_sizes=LRU_SIZES)


def memory_tradeoff(layers: int, sizes: Sequence[int], width: int = 2) -> list[Timed]:
    """One network's ∂L/∂(every parameter) with a full memo, each LRU bound in ``sizes``, no memo.

    The runs come back in that order (a full memo first, none last): memory
    kept (``result.memo_size``) against work paid (``result.recomputations``,
    ``result.local_derivative_evaluations``) as the bound shrinks.
    """
    if any(isinstance(k, bool) or not isinstance(k, int) or k < 1 for k in sizes):
        raise ValueError(f"sizes must be positive ints (LRU bounds), got {list(sizes)!r}")
    net = deep_network(layers, width)
    wrt = list(net.params.values())
    backward(net.loss, wrt, schedule="top-down")  # warm up: the first call pays one-time costs
    memos: list[bool | int] = [True, *sizes, False]
    runs = []
    for memo in memos:
        progress.note(f"backward pass with memo={memo}")
        runs.append(_timed(net.loss, wrt, memo))
    return runs
