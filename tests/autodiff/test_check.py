"""forward() against direct evaluation, and gradcheck on correct and deliberately wrong graphs."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memokit.autodiff import Value, forward, gradcheck
from tests.helpers.strategies import FLOAT_OPS, ExpressionDag, expression_dags, leaf_values

# ---------------------------------------------------------------- forward


def expression(x: Value, y: Value) -> Value:
    """A fixed expression with fan-out: x and h are each used several times."""
    h = (x * y).tanh()
    return h * h + (x - h).sin() / (y * y + 1.0) + x.exp().log() + (h + 2.0).sqrt()


def expression_plain(x: float, y: float) -> float:
    """The same expression on plain floats."""
    h = math.tanh(x * y)
    return h * h + math.sin(x - h) / (y * y + 1.0) + x + math.sqrt(h + 2.0)


def test_forward_equals_the_value_computed_while_building() -> None:
    """forward(node) with no overrides returns node.data, and the plain-float result."""
    x, y = Value(0.7), Value(-1.2)
    z = expression(x, y)
    assert forward(z) == z.data
    assert math.isclose(forward(z), expression_plain(0.7, -1.2), rel_tol=1e-12)


@settings(max_examples=40, deadline=None)
@given(leaf_values, leaf_values, leaf_values, leaf_values)
def test_forward_with_overrides_equals_building_again(
    x0: float, y0: float, x1: float, y1: float
) -> None:
    """Overriding leaves gives what building the expression from those values gives."""
    x, y = Value(x0), Value(y0)
    z = expression(x, y)
    assert forward(z, {x: x1, y: y1}) == expression(Value(x1), Value(y1)).data
    assert forward(z, {x: x1}) == expression(Value(x1), Value(y0)).data
    assert math.isclose(forward(z, {y: y1}), expression_plain(x0, y1), rel_tol=1e-12)
    # Overrides change nothing in the graph itself.
    assert z.data == expression(Value(x0), Value(y0)).data
    assert x.data == x0


@settings(max_examples=40, deadline=None)
@given(expression_dags(), st.data())
def test_forward_on_random_dags_equals_the_plain_float_replay(
    dag: ExpressionDag, data: st.DataObject
) -> None:
    """forward(loss, new leaf values) equals the recorded steps replayed on plain floats."""
    assert math.isclose(
        forward(dag.loss), dag.replay([v.data for v in dag.leaves], FLOAT_OPS), rel_tol=1e-12
    )
    new = [data.draw(leaf_values) for _ in dag.leaves]
    try:
        expected = dag.replay(new, FLOAT_OPS)
    except (ValueError, ZeroDivisionError, OverflowError):
        # New values can leave an op's domain: forward must fail too.
        with pytest.raises((ValueError, ZeroDivisionError, OverflowError)):
            forward(dag.loss, dict(zip(dag.leaves, new, strict=True)))
        return
    got = forward(dag.loss, dict(zip(dag.leaves, new, strict=True)))
    assert math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-12), (got, expected)


def test_forward_overrides_a_constant_leaf() -> None:
    """The constant of 3 * x is a leaf too, and can be given another value."""
    x = Value(2.0)
    y = 3 * x
    [constant] = [n for n in y.inputs if n is not x]
    assert forward(y, {constant: 5.0}) == 10.0
    assert forward(y, {constant: 5.0, x: -1.0}) == -5.0


def test_forward_runs_a_deep_chain_without_recursion_error() -> None:
    """A chain 100,000 nodes deep is re-evaluated without RecursionError."""
    x = start = Value(0.25)
    for _ in range(100_000):
        x = x.sin()
    expected = 0.25
    for _ in range(100_000):
        expected = math.sin(expected)
    assert math.isclose(forward(x), expected, rel_tol=1e-12)
    expected = 0.5
    for _ in range(100_000):
        expected = math.sin(expected)
    assert math.isclose(forward(x, {start: 0.5}), expected, rel_tol=1e-12)


# ---------------------------------------------------------------- gradcheck


def test_gradcheck_is_ok_on_a_correct_graph() -> None:
    """A correct graph passes, with one entry per leaf and a report that says ok."""
    x, y = Value(0.7, label="x"), Value(-1.2, label="y")
    report = gradcheck(expression(x, y), [x, y])
    assert report.ok
    assert [e.node for e in report.entries] == [x, y]
    assert [e.index for e in report.entries] == [0, 1]
    assert str(report).startswith("gradcheck ok: 2 gradients")
    assert report.worst is not None and report.worst.abs_error < 1e-7


@settings(max_examples=30, deadline=None)
@given(expression_dags())
def test_gradcheck_is_ok_on_random_dags(dag: ExpressionDag) -> None:
    """gradcheck accepts the gradients of every generated graph."""
    report = gradcheck(dag.loss, list(dag.leaves), rtol=1e-4, atol=1e-6)
    assert report.ok, str(report)


def square_wrong(a: float) -> tuple[float, tuple[float, ...]]:
    """a² with a wrong local derivative: 3a instead of 2a."""
    return a * a, (3.0 * a,)


def test_gradcheck_fails_and_names_the_corrupted_entry() -> None:
    """A node whose local derivative is wrong makes gradcheck FAIL, naming the affected leaf."""
    x, y = Value(1.5, label="x"), Value(-0.5, label="y")
    bad = Value.apply(square_wrong, x)  # value x², derivative recorded as 3x
    loss = bad + y.sin()
    report = gradcheck(loss, [y, x])
    assert not report.ok
    worst = report.worst
    assert worst is not None
    assert worst.node is x and worst.index == 1
    assert worst.analytic == 3.0 * 1.5  # what the corrupted graph says
    assert math.isclose(worst.numeric, 2.0 * 1.5, rel_tol=1e-6)  # the true derivative of x²
    text = str(report)
    assert text.startswith("gradcheck FAILED")
    assert "wrt[1] (x)" in text
    assert "4.5" in text and "3" in text
    # The uncorrupted leaf is fine.
    [y_entry] = [e for e in report.entries if e.node is y]
    assert math.isclose(y_entry.analytic, math.cos(-0.5), rel_tol=1e-12)
    assert y_entry.abs_error < 1e-7


def test_gradcheck_catches_a_corrupted_node_deep_in_a_dag() -> None:
    """A wrong local derivative feeding a shared node is caught through every path."""
    x = Value(0.3, label="x")
    bad = Value.apply(square_wrong, x)
    h = (bad * x).tanh()
    loss = h * h + h.exp()
    assert not gradcheck(loss).ok
    assert gradcheck((x * x * x).tanh() * (x * x * x).tanh()).ok


def test_gradcheck_tolerances_decide_the_verdict() -> None:
    """The same small error passes a loose tolerance and fails a tight one."""

    def almost_square(a: float) -> tuple[float, tuple[float, ...]]:
        return a * a, (2.0 * a * (1 + 1e-5),)

    x = Value(2.0, label="x")
    loss = Value.apply(almost_square, x)
    assert gradcheck(loss, rtol=1e-3).ok
    assert not gradcheck(loss, rtol=1e-7, atol=0.0).ok


def test_gradcheck_nudging_a_non_leaf_is_a_value_error() -> None:
    """gradcheck with wrt=[an inner node] raises ValueError naming wrt[i]."""
    x = Value(0.5, label="x")
    h = x * x
    with pytest.raises(ValueError, match=r"leaves only; wrt\[1\]"):
        gradcheck(h.sin(), [x, h])


def test_gradcheck_with_nothing_to_check() -> None:
    """An empty wrt gives an ok report that says there was nothing to check."""
    x = Value(0.5)
    report = gradcheck(x * x, [])
    assert report.ok and report.worst is None
    assert str(report) == "gradcheck: no nodes to check"
