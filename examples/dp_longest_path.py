"""Longest path in a weighted DAG with @dp, including a chain 100,000 edges long.

``longest(v)`` is the heaviest path starting at ``v``: the best over the
edges ``v -> u`` of ``weight + longest(u)``. The graph is a mapping from each
node to its outgoing ``(node, weight)`` edges.

Run it:  python examples/dp_longest_path.py          (10,000-node DAG, 100,000-node chain)
         python examples/dp_longest_path.py --quick  (1,000-node DAG, 10,000-node chain)
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Generator, Hashable, Mapping, Sequence
from typing import TypeVar

from memokit import dp

N = TypeVar("N", bound=Hashable)


def longest_path(graph: Mapping[N, Sequence[tuple[N, int]]], start: N) -> tuple[int, list[N]]:
    """Return the weight of the heaviest path from ``start``, and the path's nodes.

    A path may stop at any node (so the weight is at least 0, even with
    negative edges). A node missing from ``graph`` has no outgoing edges.

    >>> g = {"a": [("b", 3), ("c", 2)], "b": [("d", 4)], "c": [("d", 7)]}
    >>> longest_path(g, "a")
    (9, ['a', 'c', 'd'])
    """

    @dp
    def longest(v: N) -> Generator[int, int, int]:
        best = 0
        for u, weight in graph.get(v, ()):
            best = max(best, weight + (yield longest(u)))
        return best

    total = longest(start)
    path = [start]
    v = start
    while True:  # follow an edge that achieves each node's best; none left: stop
        best = longest(v)
        step = next((u for u, w in graph.get(v, ()) if w + longest(u) == best), None)
        if step is None:
            return total, path
        path.append(step)
        v = step


def random_dag(n: int, rng: random.Random) -> dict[int, list[tuple[int, int]]]:
    """Return a DAG on 0..n-1 whose edges go from lower to higher numbers."""
    graph: dict[int, list[tuple[int, int]]] = {}
    for v in range(n - 1):
        targets = rng.sample(range(v + 1, n), k=min(3, n - v - 1))
        graph[v] = [(u, rng.randint(1, 20)) for u in targets]
    return graph


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Longest path in a DAG with @dp.")
    parser.add_argument("--quick", action="store_true", help="smaller graphs")
    quick = parser.parse_args(argv).quick
    n, chain = (1_000, 10_000) if quick else (10_000, 100_000)
    rng = random.Random(11)

    graph = random_dag(n, rng)
    start = time.perf_counter()
    total, path = longest_path(graph, 0)
    print(f"random DAG, {n:,} nodes and {sum(map(len, graph.values())):,} edges:")
    print(f"  heaviest path from 0 weighs {total:,} over {len(path) - 1:,} edges")
    print(f"  ({time.perf_counter() - start:.2f} s)")

    line = {v: [(v + 1, 1)] for v in range(chain)}
    start = time.perf_counter()
    total, path = longest_path(line, 0)
    print(f"a chain of {chain:,} edges: weight {total:,}, {len(path):,} nodes on the path")
    print(f"  ({time.perf_counter() - start:.2f} s, recursion {chain:,} frames deep)")


if __name__ == "__main__":
    main()
