"""Each Value operation: its value and local derivatives against independent math, and its errors.

References are the ``math`` module and derivative formulas written here by
hand, and those formulas are themselves checked against central differences
of the plain-float functions (never against memokit's own gradcheck).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memokit.autodiff import Value, grad

Fn = Callable[[float], float]


def central_difference(f: Fn, x: float, eps: float = 1e-6) -> float:
    """∂f/∂x at x by a central difference on plain floats."""
    return (f(x + eps) - f(x - eps)) / (2 * eps)


def close(a: float, b: float, rel: float = 1e-12, abs_: float = 1e-12) -> bool:
    """Whether a and b agree to a relative (or, near 0, absolute) tolerance."""
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


def plain_sigmoid(a: float) -> float:
    """1 / (1 + e^-a), written directly."""
    return 1.0 / (1.0 + math.exp(-a))


# name, how Value computes it, plain-float value, hand-written derivative, input domain
UNARY: list[tuple[str, Callable[[Value], Value], Fn, Fn, st.SearchStrategy[float]]] = [
    ("neg", lambda v: -v, lambda a: -a, lambda a: -1.0, st.floats(-5, 5)),
    ("exp", Value.exp, math.exp, math.exp, st.floats(-5, 5)),
    ("log", Value.log, math.log, lambda a: 1.0 / a, st.floats(0.01, 50)),
    ("tanh", Value.tanh, math.tanh, lambda a: 1.0 / math.cosh(a) ** 2, st.floats(-5, 5)),
    (
        "sigmoid",
        Value.sigmoid,
        plain_sigmoid,
        lambda a: math.exp(-a) / (1.0 + math.exp(-a)) ** 2,
        st.floats(-5, 5),
    ),
    ("relu", Value.relu, lambda a: max(a, 0.0), lambda a: 1.0 if a > 0 else 0.0, st.floats(-5, 5)),
    ("sin", Value.sin, math.sin, math.cos, st.floats(-5, 5)),
    ("cos", Value.cos, math.cos, lambda a: -math.sin(a), st.floats(-5, 5)),
    ("sqrt", Value.sqrt, math.sqrt, lambda a: 1.0 / (2.0 * math.sqrt(a)), st.floats(0.01, 50)),
]
UNARY_IDS = [row[0] for row in UNARY]


@pytest.mark.parametrize(("name", "method", "f", "df", "domain"), UNARY, ids=UNARY_IDS)
def test_unary_value_and_derivative_match_math(
    name: str, method: Callable[[Value], Value], f: Fn, df: Fn, domain: st.SearchStrategy[float]
) -> None:
    """Each unary op's value equals the math function and its gradient the derivative formula."""

    @settings(max_examples=40, deadline=None)
    @given(domain)
    def check(a: float) -> None:
        x = Value(a)
        y = method(x)
        assert close(y.data, f(a)), (name, a, y.data, f(a))
        [g] = grad(y, wrt=[x])
        assert close(g, df(a), rel=1e-11), (name, a, g, df(a))
        assert y.op_name == name
        assert y.inputs == (x,)

    check()


@pytest.mark.parametrize(("name", "method", "f", "df", "domain"), UNARY, ids=UNARY_IDS)
def test_derivative_formulas_agree_with_central_differences(
    name: str, method: Callable[[Value], Value], f: Fn, df: Fn, domain: st.SearchStrategy[float]
) -> None:
    """The hand-written derivative formulas above agree with central differences of f."""
    for a in (0.3, 0.9, 1.7, 2.5) if name in ("log", "sqrt") else (-1.3, -0.4, 0.6, 2.1):
        assert close(df(a), central_difference(f, a), rel=1e-7, abs_=1e-9), (name, a)


def test_relu_derivative_at_zero_and_below_is_zero() -> None:
    """relu passes nothing back at 0 and below, 1 above."""
    for a, value, slope in [(0.0, 0.0, 0.0), (-2.0, 0.0, 0.0), (1e-300, 1e-300, 1.0)]:
        x = Value(a)
        y = x.relu()
        assert y.data == value
        assert grad(y, wrt=[x]) == [slope]


def test_sigmoid_is_finite_for_large_inputs() -> None:
    """sigmoid of ±800 is 0 or 1 with derivative 0, not an OverflowError."""
    for a, expected in [(-800.0, 0.0), (800.0, 1.0)]:
        x = Value(a)
        y = x.sigmoid()
        assert close(y.data, expected, abs_=1e-300)
        [g] = grad(y, wrt=[x])
        assert 0.0 <= g < 1e-300


# name, Value expression of (x, y), its value, ∂/∂x, ∂/∂y
BINARY: list[tuple[str, Callable[[Any, Any], Any], Callable[[float, float], float], Any, Any]] = [
    ("+", lambda x, y: x + y, lambda a, b: a + b, lambda a, b: 1.0, lambda a, b: 1.0),
    ("-", lambda x, y: x - y, lambda a, b: a - b, lambda a, b: 1.0, lambda a, b: -1.0),
    ("*", lambda x, y: x * y, lambda a, b: a * b, lambda a, b: b, lambda a, b: a),
    ("/", lambda x, y: x / y, lambda a, b: a / b, lambda a, b: 1.0 / b, lambda a, b: -a / b**2),
]
BINARY_IDS = [row[0] for row in BINARY]
nonzero = st.floats(0.1, 10) | st.floats(-10, -0.1)


@pytest.mark.parametrize(("name", "op", "f", "dfa", "dfb"), BINARY, ids=BINARY_IDS)
def test_binary_ops_between_values(
    name: str,
    op: Callable[[Any, Any], Any],
    f: Callable[[float, float], float],
    dfa: Callable[[float, float], float],
    dfb: Callable[[float, float], float],
) -> None:
    """x ⊕ y for two Values: the value and both partial derivatives match the formulas."""

    @settings(max_examples=40, deadline=None)
    @given(st.floats(-10, 10), nonzero)
    def check(a: float, b: float) -> None:
        x, y = Value(a), Value(b)
        z = op(x, y)
        assert isinstance(z, Value)
        assert z.op_name == name
        assert z.inputs == (x, y)
        assert close(z.data, f(a, b))
        gx, gy = grad(z, wrt=[x, y])
        assert close(gx, dfa(a, b))
        assert close(gy, dfb(a, b))

    check()


@pytest.mark.parametrize(("name", "op", "f", "dfa", "dfb"), BINARY, ids=BINARY_IDS)
@pytest.mark.parametrize("number", [2, 2.5, -0.75, Fraction(1, 3), True])
def test_binary_ops_with_a_plain_number_on_either_side(
    name: str,
    op: Callable[[Any, Any], Any],
    f: Callable[[float, float], float],
    dfa: Callable[[float, float], float],
    dfb: Callable[[float, float], float],
    number: float,
) -> None:
    """x ⊕ c and c ⊕ x (ints, floats, Fractions, bools): value and ∂/∂x match the formulas."""
    a, c = 1.7, float(number)
    x = Value(a)
    right = op(x, number)
    left = op(number, x)
    assert isinstance(right, Value) and isinstance(left, Value)
    assert close(right.data, f(a, c))
    assert close(left.data, f(c, a))
    assert close(grad(right, wrt=[x])[0], dfa(a, c))
    assert close(grad(left, wrt=[x])[0], dfb(c, a))
    # The number became a constant leaf of the graph, with its own gradient.
    [constant] = [n for n in right.inputs if n is not x]
    assert constant.is_leaf() and constant.data == c
    assert close(grad(right)[constant], dfb(a, c))


def test_a_value_used_twice_sums_both_uses() -> None:
    """x * x and x + x count x once per use: derivatives 2x and 2."""
    x = Value(-1.25)
    assert grad(x * x, wrt=[x]) == [2 * -1.25]
    assert grad(x + x, wrt=[x]) == [2.0]
    assert grad(x - x, wrt=[x]) == [0.0]
    assert grad(x / x, wrt=[x]) == [0.0]


@pytest.mark.parametrize("exponent", [2, 3, -1, -2, 0.5, 1.5, 2.5, 1, 0, Fraction(1, 3)])
def test_power_with_a_number_exponent(exponent: float) -> None:
    """x ** p has value x^p and derivative p·x^(p-1) for integer and fractional p."""
    p = float(exponent)
    for a in (0.3, 1.0, 2.7):
        x = Value(a)
        y = x**exponent
        assert y.op_name == "**"
        assert y.params == (p,)
        assert close(y.data, math.pow(a, p))
        [g] = grad(y, wrt=[x])
        assert close(g, p * math.pow(a, p - 1))
        assert close(g, central_difference(lambda t: math.pow(t, p), a), rel=1e-7, abs_=1e-9)


@pytest.mark.parametrize("exponent", [2, 3, -1, 0, 1])
def test_power_of_a_negative_base_with_an_integer_exponent(exponent: int) -> None:
    """(-1.5) ** p for integer p is real, with derivative p·x^(p-1)."""
    x = Value(-1.5)
    y = x**exponent
    assert close(y.data, (-1.5) ** exponent)
    assert close(grad(y, wrt=[x])[0], exponent * (-1.5) ** (exponent - 1))


def test_zero_to_the_power_zero_has_derivative_zero() -> None:
    """0 ** 0 is 1 with derivative 0 (the formula p·x^(p-1) must not divide by zero)."""
    x = Value(0.0)
    y = x**0
    assert y.data == 1.0
    assert grad(y, wrt=[x]) == [0.0]


def test_power_of_a_negative_base_with_a_fractional_exponent_is_a_value_error() -> None:
    """(-2) ** 2.5 has no real value: ValueError naming the base and the exponent."""
    with pytest.raises(ValueError, match=r"2\.5.*-2\.0"):
        Value(-2.0) ** 2.5


def test_a_number_base_with_a_value_exponent_is_unsupported() -> None:
    """2 ** x is not an operation of Value: TypeError."""
    x = Value(1.5)
    with pytest.raises(TypeError):
        2**x  # type: ignore[operator]


def test_a_value_exponent_is_a_type_error_that_suggests_exp_log() -> None:
    """x ** y for two Values is a TypeError that shows how to write it with exp and log."""
    x, y = Value(2.0), Value(3.0)
    with pytest.raises(TypeError, match=r"number exponent.*log\(\).*exp\(\)"):
        x**y  # type: ignore[operator]
    with pytest.raises(TypeError, match="number exponent"):
        x ** "2"  # type: ignore[operator]


@pytest.mark.parametrize("other", ["str", None, [1.0], 1j])
def test_combining_with_a_non_number_is_a_type_error(other: Any) -> None:
    """Value ⊕ str/None/list/complex, on either side, is a TypeError naming the type."""
    x = Value(1.0)
    ops: list[Callable[[], object]] = [
        lambda: x + other,
        lambda: other + x,
        lambda: x - other,
        lambda: other - x,
        lambda: x * other,
        lambda: x / other,
        lambda: other / x,
    ]
    for op in ops:
        with pytest.raises(TypeError, match=type(other).__name__):
            op()


@pytest.mark.parametrize("a", [0.0, -1.0, -1e-300])
def test_log_of_a_non_positive_input_is_a_value_error(a: float) -> None:
    """log of x <= 0 raises ValueError saying the input must be positive and what it was."""
    with pytest.raises(ValueError, match=rf"log\(\) needs a positive input, got {a!r}"):
        Value(a).log()


@pytest.mark.parametrize("a", [-1.0, -1e-300])
def test_sqrt_of_a_negative_input_is_a_value_error(a: float) -> None:
    """sqrt of x < 0 raises ValueError saying the input must be non-negative and what it was."""
    with pytest.raises(ValueError, match=rf"sqrt\(\) needs a non-negative input, got {a!r}"):
        Value(a).sqrt()


def test_sqrt_of_zero_is_zero_with_an_infinite_slope() -> None:
    """sqrt(0) is 0 (as math.sqrt gives) with slope +inf, like 0 ** 0.5."""
    root = Value(0.0).sqrt()
    assert root.data == 0.0
    assert root.local_grads == (math.inf,)
    assert (Value(0.0) ** 0.5).local_grads == root.local_grads


def test_dividing_by_zero_raises_zero_division_error() -> None:
    """x / 0 and 1 / Value(0) raise ZeroDivisionError, as float division does."""
    with pytest.raises(ZeroDivisionError):
        Value(1.0) / 0
    with pytest.raises(ZeroDivisionError):
        1 / Value(0.0)


def test_operations_record_inputs_and_local_gradients() -> None:
    """A node keeps its inputs and the local derivatives it computed, side by side."""
    a, b = Value(3.0), Value(-2.0)
    c = a * b
    assert c.inputs == (a, b)
    assert c.local_grads == (-2.0, 3.0)
    assert not c.is_leaf() and a.is_leaf()
    d = c.tanh()
    [slope] = d.local_grads
    assert close(slope, 1 - math.tanh(-6.0) ** 2)
