"""The tests' own walks over a Value graph, independent of memokit's traversals."""

from __future__ import annotations

from memokit.autodiff import Value


def every_node(loss: Value) -> list[Value]:
    """Each node the loss depends on, once."""
    seen: dict[int, Value] = {}
    stack = [loss]
    while stack:
        node = stack.pop()
        if id(node) not in seen:
            seen[id(node)] = node
            stack.extend(node.inputs)
    return list(seen.values())


def all_paths(top: Value, bottom: Value) -> list[tuple[list[Value], float]]:
    """Every path of input edges from ``top`` down to ``bottom``: its nodes and product."""
    found: list[tuple[list[Value], float]] = []

    def walk(node: Value, nodes: list[Value], product: float) -> None:
        if node is bottom:
            found.append((nodes, product))
            return
        for source, local in zip(node.inputs, node.local_grads, strict=True):
            walk(source, [*nodes, source], product * local)

    walk(top, [top], 1.0)
    return found
