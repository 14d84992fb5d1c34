"""The bottom-up gradient sweep in C (memokit/_core/sweep.c) against the Python sweep.

The reference is the call memokit/autodiff/_grad.py makes: sweep_consumers
(memokit/_sweep.py) with the adjoint recurrence of _grad.py. Random graphs
(tests/core/strategies.py) put the two side by side: the same adjoints bit
for bit, in the same order, the same hits and the same leaves in the same
order, or None from both when a node's serial does not grow along an edge.
"""

from __future__ import annotations

import math
import struct
import sys
import weakref
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memokit._core import compiled as _compiled
from memokit._sweep import sweep_consumers
from memokit.autodiff import Value
from memokit.autodiff._grad import _adjoint_of, _inputs_of, _partials_of, _serial_of
from tests.core.conftest import requires_compiled
from tests.core.strategies import NodeRecipe, graph_recipes
from tests.helpers.strategies import ExpressionDag, expression_dags

pytestmark = requires_compiled

DIFFERENTIAL = settings(max_examples=200, deadline=None)

#: (adjoints in the order computed, as (node id, bits)), hits, leaves (by id).
Result = tuple[list[tuple[int, bytes]], int, list[int]] | None


def bits(x: float) -> bytes:
    """The float's 8 bytes (which tell -0.0 from 0.0), or b"nan" for any NaN.

    A NaN's sign and payload depend on the order in which the compiler puts
    the operands of + and *, which neither C nor Python promises.
    """
    return b"nan" if math.isnan(x) else struct.pack("<d", x)


def reference(loss: Value) -> Result:
    """The Python sweep, as _grad.py's bottom-up backward runs it."""
    sweep = sweep_consumers(
        loss,
        inputs=_inputs_of,
        weights=_partials_of,
        compute=_adjoint_of(loss, 1.0),
        order_key=_serial_of,
    )
    if sweep is None:
        return None
    adjoints = [(id(n), bits(a)) for n, a in sweep.values.items()]
    assert sweep.stats.computations == sweep.stats.currsize == len(adjoints)
    return adjoints, sweep.stats.hits, [id(n) for n in sweep.leaves]


def in_c(loss: Any, value_type: type = Value) -> Any:
    """The C sweep's answer, in the reference's form (NotImplemented passed through)."""
    assert _compiled is not None
    found = _compiled.scalar_sweep(loss, value_type)
    if found is None or found is NotImplemented:
        return found
    values, hits, leaves = found
    return [(id(n), bits(a)) for n, a in values.items()], hits, [id(n) for n in leaves]


def build(recipes: list[NodeRecipe]) -> list[Value]:
    """The graph: one Value per recipe, in creation order (so serials grow along edges)."""
    nodes: list[Value] = []
    for recipe in recipes:
        inputs = tuple(nodes[i] for i in recipe.inputs)
        nodes.append(Value(1.0, inputs, recipe.local_grads))
    return nodes


@DIFFERENTIAL
@given(graph_recipes())
def test_random_graphs_give_the_same_adjoints_bit_for_bit(recipes: list[NodeRecipe]) -> None:
    """Fans, repeated inputs, extreme and special derivatives: identical results."""
    loss = build(recipes)[-1]
    assert in_c(loss) == reference(loss)


@DIFFERENTIAL
@given(expression_dags(max_ops=30))
def test_expression_graphs_give_the_same_adjoints(dag: ExpressionDag) -> None:
    """Graphs built by Value's own arithmetic: identical results."""
    loss = dag.nodes[-1]
    assert in_c(loss) == reference(loss)


@DIFFERENTIAL
@given(graph_recipes(), st.data())
def test_rewired_graphs_agree_on_none(recipes: list[NodeRecipe], data: st.DataObject) -> None:
    """An edge to a newer node (a rewired or cyclic graph): both give None, or the same result."""
    nodes = build(recipes)
    old = data.draw(st.integers(0, len(nodes) - 1))
    new = data.draw(st.integers(old, len(nodes) - 1))
    nodes[old].inputs = (*nodes[old].inputs, nodes[new])
    nodes[old].local_grads = (*nodes[old].local_grads, 2.0)[: len(nodes[old].inputs)]
    loss = nodes[-1]
    assert in_c(loss) == reference(loss)


def test_a_hand_made_graph() -> None:
    """Adjoints, hits and leaves of a small graph, worked out by hand."""
    x, y = Value(3.0), Value(4.0)
    a = Value(12.0, (x, y), (4.0, 3.0))  # a = x * y
    loss = Value(15.0, (a, x), (1.0, 1.0))  # loss = a + x
    assert _compiled is not None
    values, hits, leaves = _compiled.scalar_sweep(loss, Value)
    assert list(values.items()) == [(loss, 1.0), (a, 1.0), (y, 3.0), (x, 5.0)]
    assert hits == 4  # the uses: a and x by loss, x and y by a
    assert leaves == [y, x]  # largest serial first


def test_three_terms_are_summed_as_sum_does_on_this_python() -> None:
    """A node with three uses sums them like sum(): compensated from Python 3.12 on."""
    x = Value(1.0)
    uses = [Value(0.0, (x,), (w,)) for w in (1e16, 1.0, -1e16)]
    loss = Value(0.0, tuple(uses), (1.0, 1.0, 1.0))
    assert _compiled is not None
    values, _, _ = _compiled.scalar_sweep(loss, Value)
    # The terms reach x newest use first: -1e16, 1.0, 1e16.
    assert values[x] == (1.0 if sys.version_info >= (3, 12) else 0.0)
    assert in_c(loss) == reference(loss)


def test_a_long_chain() -> None:
    """A 200,000-node chain sweeps without recursion and matches the reference."""
    node = Value(1.0)
    for _ in range(200_000):
        node = Value(1.0, (node,), (0.999999,))
    assert in_c(node) == reference(node)


@pytest.mark.parametrize(
    "case",
    ["int derivative", "list inputs", "subclass input", "subclass loss", "float serial"],
)
def test_unusual_graphs_are_left_to_the_reference(case: str) -> None:
    """Graphs outside the common case give NotImplemented, and the caller runs the reference."""

    class Sub(Value):
        pass

    x = Value(2.0)
    loss = Value(1.0, (x,), (3.0,))
    if case == "int derivative":
        loss = Value(1.0, (x,), (3,))
    elif case == "list inputs":
        loss = Value(1.0, [x], (3.0,))  # type: ignore[arg-type]
    elif case == "subclass input":
        loss = Value(1.0, (Sub(2.0),), (3.0,))
    elif case == "subclass loss":
        loss = Sub(1.0, (x,), (3.0,))
    else:
        loss.serial = 1.5  # type: ignore[assignment]
    assert in_c(loss) is NotImplemented
    assert reference(loss) is not None  # the reference handles it


def test_an_identity_breaking_class_is_left_to_the_reference() -> None:
    """A node class whose == or hash() is not identity is never swept in C."""

    class ByValue:
        __slots__ = ("inputs", "local_grads", "serial")
        inputs: tuple[Any, ...]
        local_grads: tuple[float, ...]
        serial: int

        def __eq__(self, other: object) -> bool:
            return True

        def __hash__(self) -> int:
            return 0

    node = ByValue()
    node.inputs, node.local_grads, node.serial = (), (), 0
    assert in_c(node, ByValue) is NotImplemented


def test_bad_arguments_are_refused() -> None:
    """scalar_sweep takes a node and its class, and a class without the slots is an error."""
    assert _compiled is not None
    with pytest.raises(TypeError, match="takes a node and its class"):
        _compiled.scalar_sweep(Value(1.0))

    class Loose:
        pass

    with pytest.raises(TypeError, match=r"Loose\.inputs to be a __slots__ member"):
        _compiled.scalar_sweep(Loose(), Loose)


def test_the_graph_and_the_result_are_released() -> None:
    """Once the caller drops the result and the graph, no node stays alive."""
    leaf = Value(1.0)
    node = leaf
    for _ in range(100):
        node = Value(1.0, (node, leaf), (0.5, 2.0))
    assert _compiled is not None
    result = _compiled.scalar_sweep(node, Value)
    watch = weakref.ref(leaf)
    assert result is not None
    assert math.isfinite(result[0][leaf])
    del result, node, leaf
    assert watch() is None
