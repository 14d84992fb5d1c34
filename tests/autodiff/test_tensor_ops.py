"""Each Tensor operation: its value against NumPy and its VJPs against central differences.

A VJP is checked with a random cotangent C: the gradient of sum(op(x) · C)
must equal the central differences of the same sum computed with plain
NumPy (the reference functions below, written without memokit), entry by
entry, in float64.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

np = pytest.importorskip("numpy", reason="the Tensor tests need NumPy (pip install numpy)")

from memokit.autodiff import Tensor, grad  # noqa: E402

Build = Callable[..., Any]

RNG_SEED = 20261205


def sigmoid(a: Any) -> Any:
    """1 / (1 + e^-a), written directly."""
    return 1.0 / (1.0 + np.exp(-a))


def cross_entropy(logits: Any, labels: Any) -> Any:
    """Mean of -log softmax(row)[label], written directly (logits are small here)."""
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return -np.log(p[np.arange(len(labels)), labels]).mean()


LABELS = np.array([2, 0, 1, 2])

# name, the Tensor expression, the NumPy reference, input shapes, input range
CASES: list[tuple[str, Build, Build, list[tuple[int, ...]], tuple[float, float]]] = [
    ("add", lambda a, b: a + b, np.add, [(3, 4), (3, 4)], (-2, 2)),
    ("add row", lambda a, b: a + b, np.add, [(3, 4), (4,)], (-2, 2)),
    ("add column", lambda a, b: a + b, np.add, [(3, 1), (1, 4)], (-2, 2)),
    ("add scalar array", lambda a, b: a + b, np.add, [(), (2, 3)], (-2, 2)),
    ("sub", lambda a, b: a - b, np.subtract, [(2, 3), (3,)], (-2, 2)),
    ("sub reversed broadcast", lambda a, b: a - b, np.subtract, [(1, 3), (2, 1)], (-2, 2)),
    ("mul", lambda a, b: a * b, np.multiply, [(2, 3), (2, 3)], (-2, 2)),
    ("mul broadcast", lambda a, b: a * b, np.multiply, [(2, 1, 3), (4, 1)], (-2, 2)),
    ("div", lambda a, b: a / b, np.divide, [(2, 3), (3,)], (0.5, 2)),
    ("div broadcast left", lambda a, b: a / b, np.divide, [(3,), (2, 3)], (0.5, 2)),
    ("add number", lambda a: a + 2.5, lambda a: a + 2.5, [(3,)], (-2, 2)),
    ("number minus", lambda a: 2.5 - a, lambda a: 2.5 - a, [(3,)], (-2, 2)),
    ("number times", lambda a: 3 * a, lambda a: 3 * a, [(2, 2)], (-2, 2)),
    ("number over", lambda a: 2.0 / a, lambda a: 2.0 / a, [(3,)], (0.5, 2)),
    ("array constant left", lambda a: np.array([1.0, -2.0]) * a, lambda a: [1.0, -2.0] * a,
     [(3, 2)], (-2, 2)),
    ("array constant right", lambda a: a - np.ones((2, 1)), lambda a: a - np.ones((2, 1)), [(3,)],
     (-2, 2)),
    ("list constant", lambda a: a * [1.0, 2.0, 3.0], lambda a: a * [1.0, 2.0, 3.0], [(3,)],
     (-2, 2)),
    ("neg", lambda a: -a, np.negative, [(2, 3)], (-2, 2)),
    ("square", lambda a: a**2, lambda a: a**2, [(2, 3)], (-2, 2)),
    ("cube", lambda a: a**3, lambda a: a**3, [(4,)], (-2, 2)),
    ("sqrt power", lambda a: a**0.5, np.sqrt, [(4,)], (0.5, 2)),
    ("inverse", lambda a: a**-1, lambda a: 1.0 / a, [(4,)], (0.5, 2)),
    ("power zero", lambda a: a**0, lambda a: a**0, [(4,)], (-2, 2)),
    ("exp", lambda a: a.exp(), np.exp, [(2, 3)], (-2, 2)),
    ("log", lambda a: a.log(), np.log, [(2, 3)], (0.1, 3)),
    ("tanh", lambda a: a.tanh(), np.tanh, [(2, 3)], (-2, 2)),
    ("sigmoid", lambda a: a.sigmoid(), sigmoid, [(2, 3)], (-4, 4)),
    ("relu", lambda a: a.relu(), lambda a: np.maximum(a, 0.0), [(3, 4)], (0.1, 1)),
    ("relu negative", lambda a: a.relu(), lambda a: np.maximum(a, 0.0), [(3, 4)], (-1, -0.1)),
    ("matmul", lambda a, b: a @ b, np.matmul, [(3, 4), (4, 2)], (-2, 2)),
    ("matmul vector left", lambda a, b: a @ b, np.matmul, [(4,), (4, 2)], (-2, 2)),
    ("matmul vector right", lambda a, b: a @ b, np.matmul, [(3, 4), (4,)], (-2, 2)),
    ("matmul vectors", lambda a, b: a @ b, np.matmul, [(4,), (4,)], (-2, 2)),
    ("matmul batched", lambda a, b: a @ b, np.matmul, [(2, 3, 4), (4, 2)], (-2, 2)),
    ("matmul batched both", lambda a, b: a @ b, np.matmul, [(2, 1, 3, 4), (5, 4, 2)], (-2, 2)),
    ("matmul vector batched", lambda a, b: a @ b, np.matmul, [(4,), (2, 4, 3)], (-2, 2)),
    ("constant @ tensor", lambda b: np.ones((2, 3)) @ b, lambda b: np.ones((2, 3)) @ b, [(3, 2)],
     (-2, 2)),
    ("tensor @ constant", lambda a: a @ np.arange(6.0).reshape(3, 2),
     lambda a: a @ np.arange(6.0).reshape(3, 2), [(2, 3)], (-2, 2)),
    ("sum", lambda a: a.sum(), np.sum, [(2, 3)], (-2, 2)),
    ("sum axis 0", lambda a: a.sum(axis=0), lambda a: a.sum(axis=0), [(2, 3)], (-2, 2)),
    ("sum axis -1 keepdims", lambda a: a.sum(axis=-1, keepdims=True),
     lambda a: a.sum(axis=-1, keepdims=True), [(2, 3)], (-2, 2)),
    ("sum axes", lambda a: a.sum(axis=(0, 2)), lambda a: a.sum(axis=(0, 2)), [(2, 3, 2)], (-2, 2)),
    ("mean", lambda a: a.mean(), np.mean, [(2, 3)], (-2, 2)),
    ("mean axis 1", lambda a: a.mean(axis=1), lambda a: a.mean(axis=1), [(2, 3)], (-2, 2)),
    ("mean keepdims", lambda a: a.mean(axis=0, keepdims=True),
     lambda a: a.mean(axis=0, keepdims=True), [(2, 3)], (-2, 2)),
    ("reshape", lambda a: a.reshape(3, 2), lambda a: a.reshape(3, 2), [(2, 3)], (-2, 2)),
    ("reshape tuple", lambda a: a.reshape((6,)), lambda a: a.reshape(6), [(2, 3)], (-2, 2)),
    ("T", lambda a: a.T, np.transpose, [(2, 3)], (-2, 2)),
    ("transpose axes", lambda a: a.transpose(2, 0, 1), lambda a: a.transpose(2, 0, 1),
     [(2, 3, 4)], (-2, 2)),
    ("index int", lambda a: a[1], lambda a: a[1], [(3, 2)], (-2, 2)),
    ("index slice", lambda a: a[:, 1:], lambda a: a[:, 1:], [(3, 3)], (-2, 2)),
    ("index repeated", lambda a: a[np.array([0, 2, 0])], lambda a: a[np.array([0, 2, 0])],
     [(3, 2)], (-2, 2)),
    ("index pairs", lambda a: a[np.arange(3), np.array([1, 0, 1])],
     lambda a: a[np.arange(3), np.array([1, 0, 1])], [(3, 2)], (-2, 2)),
    ("cross entropy", lambda a: a.cross_entropy(LABELS), lambda a: cross_entropy(a, LABELS),
     [(4, 3)], (-3, 3)),
]
IDS = [case[0] for case in CASES]


def draw_inputs(shapes: list[tuple[int, ...]], low: float, high: float) -> list[Any]:
    """Random float64 inputs, entries in [low, high]."""
    rng = np.random.default_rng(RNG_SEED)
    return [rng.uniform(low, high, size=shape) for shape in shapes]


@pytest.mark.parametrize(("name", "build", "reference", "shapes", "domain"), CASES, ids=IDS)
def test_value_matches_numpy(
    name: str, build: Build, reference: Build, shapes: list[tuple[int, ...]], domain: Any
) -> None:
    """The node's value is what the NumPy reference computes, as an ndarray of float64."""
    inputs = draw_inputs(shapes, *domain)
    out = build(*[Tensor(x) for x in inputs])
    assert isinstance(out, Tensor) and isinstance(out.data, np.ndarray)
    expected = np.asarray(reference(*inputs))
    assert out.shape == expected.shape and out.dtype == np.float64
    assert np.allclose(out.data, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("name", "build", "reference", "shapes", "domain"), CASES, ids=IDS)
def test_vjps_match_central_differences(
    name: str, build: Build, reference: Build, shapes: list[tuple[int, ...]], domain: Any
) -> None:
    """∂ sum(op(x) · C)/∂x equals its central differences on the NumPy reference."""
    inputs = draw_inputs(shapes, *domain)
    cotangent = np.random.default_rng(1).uniform(-1, 1, np.shape(reference(*inputs)))

    def objective(*arrays: Any) -> float:
        return float((np.asarray(reference(*arrays)) * cotangent).sum())

    leaves = [Tensor(x) for x in inputs]
    gradients = grad((build(*leaves) * cotangent).sum(), wrt=leaves)
    eps = 1e-6
    for k, (x, g) in enumerate(zip(inputs, gradients, strict=True)):
        assert g.shape == x.shape and g.dtype == np.float64
        expected = np.zeros_like(x)
        for position in np.ndindex(x.shape):
            moved = []
            for step in (eps, -eps):
                nudged = [a.copy() for a in inputs]
                nudged[k][position] += step
                moved.append(objective(*nudged))
            expected[position] = (moved[0] - moved[1]) / (2 * eps)
        assert np.allclose(g, expected, rtol=1e-6, atol=1e-7), (name, k, g, expected)


#: Cases with a float64 array constant: NumPy widens float32 to float64 there, and so do they.
WIDENING = {"array constant left", "array constant right", "list constant", "constant @ tensor",
            "tensor @ constant"}


@pytest.mark.parametrize(("name", "build", "reference", "shapes", "domain"), CASES, ids=IDS)
def test_float32_in_float32_out(
    name: str, build: Build, reference: Build, shapes: list[tuple[int, ...]], domain: Any
) -> None:
    """float32 inputs give a float32 value (numbers never widen it) and float32 gradients."""
    leaves = [Tensor(x.astype(np.float32)) for x in draw_inputs(shapes, *domain)]
    out = build(*leaves)
    assert out.dtype == (np.float64 if name in WIDENING else np.float32), name
    gradients = grad(out.sum(), wrt=leaves)
    assert all(g.dtype == np.float32 for g in gradients)


def test_fan_out_adds_the_paths() -> None:
    """x used three ways (x*x + tanh(x) @ w): its gradient is the sum over the three uses."""
    rng = np.random.default_rng(3)
    x0, w0 = rng.normal(size=(2, 3)), rng.normal(size=(3, 3))
    x, w = Tensor(x0), Tensor(w0)
    loss = ((x * x) + (x.tanh() @ w)).sum()
    gx, gw = grad(loss, [x, w])
    t = np.tanh(x0)
    assert np.allclose(gx, 2 * x0 + (np.ones((2, 3)) @ w0.T) * (1 - t * t), rtol=1e-12)
    assert np.allclose(gw, t.T @ np.ones((2, 3)), rtol=1e-12)


def test_sigmoid_is_finite_far_out() -> None:
    """sigmoid of ±800 is 0 or 1 with slope 0, without overflow warnings."""
    x = Tensor(np.array([-800.0, 0.0, 800.0]))
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = x.sigmoid()
        (g,) = grad(s.sum(), [x])
    assert s.data.tolist() == [0.0, 0.5, 1.0]
    assert g.tolist() == [0.0, 0.25, 0.0]


def test_cross_entropy_is_stable_for_huge_logits() -> None:
    """Logits of 1000 give a finite loss and gradient (the maximum is subtracted first)."""
    logits = Tensor(np.array([[1000.0, 0.0], [0.0, 1000.0]]))
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss = logits.cross_entropy(np.array([0, 0]))
        (g,) = grad(loss, [logits])
    assert np.isclose(loss.item(), 500.0)  # row 1: -log softmax = 1000, row 0: 0
    assert np.allclose(g, [[0.0, 0.0], [-0.5, 0.5]])  # (softmax - one-hot) / rows


def test_index_repeated_adds_each_pick() -> None:
    """An entry picked twice by an integer index gets both gradients."""
    x = Tensor(np.array([1.0, 2.0, 3.0]))
    (g,) = grad(x[np.array([0, 0, 2])].sum(), [x])
    assert g.tolist() == [2.0, 0.0, 1.0]
