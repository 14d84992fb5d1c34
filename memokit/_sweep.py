"""``sweep_consumers``: a DP over consumers, tabulated bottom-up in one pass.

Some recurrences run against the edges a graph records. A graph of
expressions records each node's *inputs*; a backward pass needs each node's
*consumers*:

    value(root) = compute(root, [], [])
    value(n)    = compute(n, [value(c) for each use of n by a consumer c],
                             [the weight of that use])

:class:`memokit.DagEvaluator` answers it top-down: asked for ``n``, it
recurses into ``n``'s consumers, which must all be known first (the graph
inverted), and computes only what ``n`` needs. This module fills the whole
table instead, bottom-up, in one pass with no stack and no separate
inversion:

* nodes are taken largest ``order_key`` first, from a heap that holds the
  nodes met so far. The key must grow along every edge (a creation counter
  does: a node's inputs exist before it), so a node's consumers, which all
  have larger keys, are taken before it;
* a node is computed from the values its consumers handed it, then hands
  its own value, with the weight of the use, to each of its inputs; an
  input met for the first time joins the heap.

The heap never holds more than the graph's current "frontier", so for a
chain it stays tiny. Every node below the root is computed exactly once,
whether or not anyone asks for it: that is what filling a table bottom-up
means, against the top-down evaluator, which computes only what is asked.

If the key does not grow along some edge (a graph rewired by hand, or a
cycle), some node would be handed a value after it was computed; the sweep
stops there and returns ``None``, and the caller can run the top-down
evaluator instead, which reports a cycle with its path.

Nodes are dict keys, so they must compare and hash by identity (keep
``object``'s ``==`` and ``hash``); a :class:`TypeError` says so otherwise.

>>> class Node:
...     def __init__(self, name, serial, *inputs):
...         self.name, self.serial, self.inputs = name, serial, inputs
>>> x = Node("x", 0); y = Node("y", 1)
>>> a = Node("a", 2, x, y); out = Node("out", 3, a, a, x)   # out uses a twice
>>> # the number of paths from each node up to out
>>> sweep = sweep_consumers(
...     out,
...     inputs=lambda n: n.inputs,
...     weights=lambda n: [1] * len(n.inputs),
...     compute=lambda n, values, weights: 1 if n is out else sum(values),
...     order_key=lambda n: n.serial,
... )
>>> [sweep.values[n] for n in (x, y, a)]   # x: twice through a, once directly
[3, 2, 2]
>>> sweep.stats   # every node once; each of the 5 uses handed a value along
DagStats(computations=4, hits=5, evictions=0, recomputations=0, currsize=4)
>>> [n.name for n in sweep.leaves]  # in the order taken: largest key first
['y', 'x']
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sequence
from typing import Generic, NamedTuple, TypeVar

from memokit._dag import DagStats
from memokit._keys import is_identity_type

__all__ = ["Sweep", "sweep_consumers"]

N = TypeVar("N")
V = TypeVar("V")
W = TypeVar("W")


class Sweep(NamedTuple, Generic[N, V]):
    """The values a :func:`sweep_consumers` call computed, and what it did."""

    #: value(n) for every node below the root (the root included), keyed by the node.
    values: dict[N, V]
    #: Computations (one per node) and hits (one per use: a value handed to an input).
    stats: DagStats
    #: The leaves below the root, largest ``order_key`` first.
    leaves: list[N]


def sweep_consumers(
    root: N,
    *,
    inputs: Callable[[N], Sequence[N]],
    weights: Callable[[N], Sequence[W]],
    compute: Callable[[N, list[V], list[W]], V],
    order_key: Callable[[N], float],
) -> Sweep[N, V] | None:
    """Compute value(n) for every node below ``root``, bottom-up over consumers.

    ``inputs(n)`` and ``weights(n)`` are parallel: the weight of each use of
    an input by ``n``. ``compute(n, consumer_values, use_weights)`` gets one
    entry per use (a consumer that uses ``n`` twice appears twice); for the
    root both lists are empty. ``order_key(n)`` is a number larger than every
    input's. Returns ``None`` when it is not (see the module notes).
    """
    values: dict[N, V] = {}
    uses: dict[N, tuple[list[V], list[W]]] = {root: ([], [])}
    take = uses.pop
    find = uses.get
    pop = heapq.heappop
    push = heapq.heappush
    # (-key, tie-breaker, node): the largest key first; equal keys never compare nodes.
    met = 0  # nodes put on the heap so far: the tie-breaker
    heap: list[tuple[float, int, N]] = [(-order_key(root), met, root)]
    leaves: list[N] = []
    hits = 0
    try:
        while heap:
            node = pop(heap)[2]
            consumer_values, use_weights = take(node)
            hits += len(consumer_values)
            value = values[node] = compute(node, consumer_values, use_weights)
            node_inputs = inputs(node)
            if not node_inputs:
                leaves.append(node)
                continue
            # Parallel by contract; strict=True would cost its keyword parsing per node.
            for source, weight in zip(node_inputs, weights(node)):  # noqa: B905
                pending = find(source)
                if pending is None:
                    if source in values:  # computed already: a consumer came after it
                        return None
                    uses[source] = ([value], [weight])
                    met += 1
                    push(heap, (-order_key(source), met, source))
                else:
                    pending[0].append(value)
                    pending[1].append(weight)
    finally:
        _check_identity_types(values)
    stats = DagStats(len(values), hits, 0, 0, len(values))
    return Sweep(values, stats, leaves)


def _check_identity_types(nodes: Iterable[object]) -> None:
    """Raise TypeError if a node's type compares by value (equal nodes would have merged)."""
    for cls in set(map(type, nodes)):
        if not is_identity_type(cls):
            raise TypeError(
                f"sweep_consumers keys nodes by identity, but {cls.__name__} overrides == "
                f"or hash(): equal nodes would be merged. Use DagEvaluator, which keys such "
                f"nodes by id."
            )
