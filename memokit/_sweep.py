"""``sweep_consumers``: a DP over consumers, tabulated bottom-up in one pass.

Some recurrences run against the edges a graph records. A graph of
expressions records each node's *inputs*; a backward pass needs each node's
*consumers*:

    value(root) = compute(root, [], [])
    value(n)    = compute(n, [value(c) for each use of n by a consumer c],
                             [the weight of that use])

:class:`memokit.DagEvaluator` answers it top-down: asked for ``n``, it
recurses into ``n``'s consumers, which must all be known first (the graph
inverted). This module answers it bottom-up, as a table filled in an order
where every consumer comes before its inputs, so each lookup finds its value
and no stack is needed:

1. walk the graph below ``root`` once (over inputs) to find its nodes;
2. sort them by ``order_key``, largest first. The key must grow along every
   edge (a creation counter does: a node's inputs exist before it);
3. keep only the nodes some target depends on (skipped when every leaf is
   a target, since then every node is);
4. compute each node in turn from its consumers' values, then hand its
   value, with the weight of the use, to each of its inputs. Each node's
   list of consumer values is complete when its turn comes, because all its
   consumers came before it; so the graph is never inverted separately, and
   each list is dropped once its node is computed.

If the key does not grow along some edge (a graph rewired by hand, or a
cycle), the sweep returns ``None`` (step 3 checks every edge; without it,
step 4 finds a consumer recorded after its input was computed), and the
caller can run the top-down evaluator instead, which reports a cycle with
its path.

Nodes are dict keys, so they must compare and hash by identity (keep
``object``'s ``==`` and ``hash``); a :class:`TypeError` says so otherwise.

>>> class Node:
...     def __init__(self, name, serial, *inputs):
...         self.name, self.serial, self.inputs = name, serial, inputs
>>> x = Node("x", 0); y = Node("y", 1)
>>> a = Node("a", 2, x, y); out = Node("out", 3, a, a, x)   # out uses a twice
>>> # the number of paths from each node up to out
>>> sweep = sweep_consumers(
...     out, [x, y],
...     inputs=lambda n: n.inputs,
...     weights=lambda n: [1] * len(n.inputs),
...     compute=lambda n, values, weights: 1 if n is out else sum(values),
...     order_key=lambda n: n.serial,
... )
>>> [sweep.values[n] for n in (x, y, a)]   # x: twice through a, once directly
[3, 2, 2]
>>> sweep.stats   # every node once; each of the 5 uses read a value already there
DagStats(computations=4, hits=5, evictions=0, recomputations=0, currsize=4)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Generic, NamedTuple, TypeVar

from memokit._dag import DagStats
from memokit._keys import is_identity_type

__all__ = ["Sweep", "sweep_consumers"]

N = TypeVar("N")
V = TypeVar("V")
W = TypeVar("W")


class Sweep(NamedTuple, Generic[N, V]):
    """The values a :func:`sweep_consumers` call computed, and what it did."""

    #: value(n) for every node computed, keyed by the node.
    values: dict[N, V]
    #: Computations (one per node computed) and hits (one per use read).
    stats: DagStats
    #: Nodes below the root, the root included.
    graph_size: int
    #: The leaves below the root, in the order a depth-first walk from it meets them.
    leaves: list[N]


def sweep_consumers(
    root: N,
    targets: Iterable[N] | None,
    *,
    inputs: Callable[[N], Sequence[N]],
    weights: Callable[[N], Sequence[W]],
    compute: Callable[[N, list[V], list[W]], V],
    order_key: Callable[[N], Any],
) -> Sweep[N, V] | None:
    """Compute value(n) for every node some target depends on, bottom-up over consumers.

    ``inputs(n)`` and ``weights(n)`` are parallel: the weight of each use of
    an input by ``n``. ``compute(n, consumer_values, use_weights)`` gets one
    entry per use (a consumer that uses ``n`` twice appears twice).
    ``targets=None`` means every leaf. Targets that are not below ``root``
    are left out of ``values``. Returns ``None``
    when ``order_key`` does not grow along every edge (see the module notes).
    """
    # 1. The nodes below root (a cycle cannot trap this walk: each node is met once).
    nodes: dict[N, None] = {root: None}
    stack = [root]
    push = stack.append
    pop = stack.pop
    leaves: list[N] = []
    while stack:
        node = pop()
        node_inputs = inputs(node)
        if not node_inputs:
            leaves.append(node)
            continue
        for source in node_inputs:
            if source not in nodes:
                nodes[source] = None
                push(source)
    for cls in set(map(type, nodes)):
        if not is_identity_type(cls):
            raise TypeError(
                f"sweep_consumers keys nodes by identity, but {cls.__name__} overrides == "
                f"or hash(): equal nodes would be merged. Use DagEvaluator, which keys such "
                f"nodes by id."
            )

    # 2. Consumers before their inputs.
    order = sorted(nodes, key=order_key, reverse=True)

    # 3. Only what a target depends on. Every node has a leaf below it, so when
    #    every leaf is a target, every node is needed. This pass looks at every
    #    edge, so it also checks the order (step 4 notices a bad one itself).
    needed: dict[N, None] | None = None
    if targets is not None:
        wanted = [t for t in dict.fromkeys(targets) if t in nodes]
        if sum(1 for t in wanted if not inputs(t)) < len(leaves):
            needed = dict.fromkeys(wanted)
    if needed is not None:
        rank = dict(zip(order, range(len(order)), strict=True))
        for node in reversed(order):  # inputs before consumers
            here = rank[node]
            uses_wanted = node in needed
            for source in inputs(node):
                if rank[source] <= here:  # an input that does not come after its consumer
                    return None
                if not uses_wanted and source in needed:
                    uses_wanted = True
            if uses_wanted:
                needed[node] = None
        order = [node for node in order if node in needed]

    # 4. The sweep. A node's value is read from the table once, as soon as it
    #    is computed, and handed to each input it uses: uses[n] = ([the
    #    values of n's consumers so far], [the weights of those uses]).
    values: dict[N, V] = {}
    uses: dict[N, tuple[list[V], list[W]]] = {}
    take = uses.pop
    find = uses.get
    hits = 0
    for node in order:
        entry = take(node, None)
        if entry is None:  # the root (or a node whose consumers come later: see below)
            values[node] = compute(node, [], [])
        else:
            hits += len(entry[0])
            values[node] = compute(node, entry[0], entry[1])
        value = values[node]
        for source, weight in zip(inputs(node), weights(node)):  # noqa: B905 (parallel by contract)
            if needed is not None and source not in needed:
                continue
            pending = find(source)
            if pending is None:
                uses[source] = ([value], [weight])
            else:
                pending[0].append(value)
                pending[1].append(weight)
    if uses:  # a consumer was computed after its input: the order was not topological
        return None
    stats = DagStats(len(order), hits, 0, 0, len(values))
    return Sweep(values, stats, len(nodes), leaves)
