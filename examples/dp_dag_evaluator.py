"""A user-defined DAG evaluated with DagEvaluator: shared sub-expressions, computed once.

``Expr`` is a tiny expression graph. Like numpy arrays or sympy symbols, it
overloads ``==`` to build a new node instead of answering True/False, so
expressions can never be dictionary keys by value: DagEvaluator keys nodes by
identity.

Values are integers mod a prime. ``e[i + 1] = e[i] * e[i] + e[i]`` makes a
graph of 2k + 1 nodes in which e[i] feeds e[i + 1] along 3 edges: walked as a
tree, e[k] has 2 * 3**k - 1 nodes. The same DagEvaluator, run over
*consumers* instead of inputs, counts the paths from each node up to the
output, which is how many times the tree walk visits it (3**k for e[0]): the
shape of backpropagation.

Run it:  python examples/dp_dag_evaluator.py          (k = 60, and a 200,000-node chain)
         python examples/dp_dag_evaluator.py --quick  (k = 20, and a 20,000-node chain)
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterable

from memokit import DagEvaluator

MOD = 1_000_000_007


class Expr:
    """A node of an expression DAG: a leaf with a value, or an operator over inputs."""

    __slots__ = ("args", "op", "value")

    def __init__(self, op: str, args: tuple[Expr, ...] = (), value: int = 0) -> None:
        self.op = op
        self.args = args
        self.value = value

    @staticmethod
    def leaf(value: int) -> Expr:
        """Return a constant node."""
        return Expr("leaf", value=value % MOD)

    def __add__(self, other: Expr) -> Expr:
        return Expr("+", (self, other))

    def __mul__(self, other: Expr) -> Expr:
        return Expr("*", (self, other))

    def __eq__(self, other: object) -> Expr:  # type: ignore[override]
        # Builds an equation node, as symbolic libraries do: == is not a test.
        assert isinstance(other, Expr)
        return Expr("==", (self, other))

    __hash__ = None  # type: ignore[assignment]  # unhashable, like a numpy array

    def __repr__(self) -> str:
        return f"Expr({self.op!r}, {len(self.args)} inputs)"


OPS: dict[str, Callable[[int, int], int]] = {
    "+": lambda x, y: (x + y) % MOD,
    "*": lambda x, y: (x * y) % MOD,
    "==": lambda x, y: int(x == y),
}


def compute(node: Expr, values: list[int]) -> int:
    """Return a node's value from its inputs' values."""
    if node.op == "leaf":
        return node.value
    return OPS[node.op](values[0], values[1])


def evaluator() -> DagEvaluator[Expr, int]:
    """Return an evaluator of ``Expr`` graphs (keyed by node identity)."""
    return DagEvaluator(inputs=lambda node: node.args, compute=compute)


def consumers_of(root: Expr) -> dict[int, list[Expr]]:
    """Return, for each node under ``root`` (by id), the nodes that use it as an input."""
    consumers: dict[int, list[Expr]] = {id(root): []}
    todo = [root]
    while todo:
        node = todo.pop()
        for arg in node.args:
            if id(arg) not in consumers:
                consumers[id(arg)] = []
                todo.append(arg)
            consumers[id(arg)].append(node)
    return consumers


def path_counter(root: Expr) -> DagEvaluator[Expr, int]:
    """Return an evaluator of the number of paths from a node up to ``root``.

    It is the same DagEvaluator, given consumers where it usually gets inputs.
    """
    consumers = consumers_of(root)
    return DagEvaluator(
        inputs=lambda node: consumers[id(node)],
        compute=lambda node, counts: 1 if node is root else sum(counts),
    )


def repeated_squaring(x: Expr, k: int) -> list[Expr]:
    """Return the nodes e[0] = x, e[i + 1] = e[i] * e[i] + e[i], for i < k."""
    nodes = [x]
    for _ in range(k):
        e = nodes[-1]
        nodes.append(e * e + e)
    return nodes


def count_nodes(roots: Iterable[Expr]) -> int:
    """Return the number of distinct nodes under ``roots``."""
    seen: set[int] = set()
    todo = list(roots)
    while todo:
        node = todo.pop()
        if id(node) not in seen:
            seen.add(id(node))
            todo.extend(node.args)
    return len(seen)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Evaluate an expression DAG with DagEvaluator.")
    parser.add_argument("--quick", action="store_true", help="smaller graphs")
    quick = parser.parse_args(argv).quick
    k, chain = (20, 20_000) if quick else (60, 200_000)

    x = Expr.leaf(3)
    nodes = repeated_squaring(x, k)
    ev = evaluator()
    start = time.perf_counter()
    value = ev.evaluate(nodes[-1])
    stats = ev.stats()
    print(f"e[0] = 3, e[i+1] = e[i]*e[i] + e[i] mod {MOD:,}: e[{k}] = {value:,}")
    size = count_nodes([nodes[-1]])
    print(f"  {size} nodes: {stats.computations} computations, {stats.hits} hits")
    print(f"  ({time.perf_counter() - start:.3f} s; as a tree e[{k}] has {2 * 3**k - 1:,} nodes)")
    check = nodes[-1] == nodes[-1]  # builds an equation node; nothing is compared here
    print(f"  the node (e[{k}] == e[{k}]) evaluates to {ev.evaluate(check)}")

    paths = path_counter(nodes[-1])
    print(f"\npaths from e[0] up to e[{k}]: {paths.evaluate(x):,} (3**{k} = {3**k:,})")

    total = Expr.leaf(0)
    one = Expr.leaf(1)
    for _ in range(chain):
        total = total + one
    start = time.perf_counter()
    print(f"\na chain of {chain:,} additions of 1: {evaluator().evaluate(total):,}")
    print(f"  ({time.perf_counter() - start:.2f} s, {chain:,} nodes deep)")


if __name__ == "__main__":
    main()
