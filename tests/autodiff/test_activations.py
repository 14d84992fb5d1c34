"""Activations: a bounded forward memo gives the full table's gradients, and counts what it redid.

The recomputation counts on a chain are derived here by hand: with k
activations kept, backward finds the last k, then recomputes the chain from
its start up to each node it reaches after them, keeping the last k of
those, and so on down.
"""

from __future__ import annotations

import gc
import threading
import weakref
from typing import Any

import pytest

np = pytest.importorskip("numpy", reason="the Tensor tests need NumPy (pip install numpy)")

from memokit import LRUStore  # noqa: E402
from memokit.autodiff import VJP, Activations, Tensor, backward, grad  # noqa: E402
from tests.autodiff.test_tensor_ops import CASES as OP_CASES  # noqa: E402
from tests.autodiff.test_tensor_ops import IDS as OP_IDS  # noqa: E402
from tests.autodiff.test_tensor_ops import draw_inputs  # noqa: E402


def chain(x: Tensor, n: int) -> Tensor:
    """n nodes in a row: tanh applied n - 1 times, then a sum (the loss)."""
    h = x
    for _ in range(n - 1):
        h = h.tanh()
    return h.sum()


def expected_recomputations(n: int, k: int) -> int:
    """Σ_{m >= 1, n - mk >= 1} (n - mk): each miss recomputes the chain up to that node."""
    return sum(n - m * k for m in range(1, n) if n - m * k >= 1)


@pytest.mark.parametrize("n", [1, 2, 7, 20])
@pytest.mark.parametrize("k", [1, 2, 3, 6, 25])
def test_recomputations_on_a_chain_are_counted_exactly(n: int, k: int) -> None:
    """A chain of n nodes with k activations kept recomputes Σ (n - mk) nodes, and no more."""
    x = Tensor(np.linspace(-1.0, 1.0, 4))
    full = grad(chain(x, n), [x])[0]
    table = Activations(maxsize=k)
    with table:
        loss = chain(x, n)
    forward = table.stats()
    assert forward.computations == n and forward.recomputations == 0
    assert forward.currsize == min(n, k) and forward.evictions == max(n - k, 0)
    bounded = grad(loss, [x])[0]
    stats = table.stats()
    assert stats.recomputations == expected_recomputations(n, k)
    assert stats.computations == n + stats.recomputations
    assert np.array_equal(bounded, full)


def test_a_full_table_recomputes_nothing() -> None:
    """Activations() keeps every value: backward hits each one and recomputes none."""
    x = Tensor(np.ones(3))
    table = Activations()
    with table:
        loss = chain(x, 10)
    grad(loss, [x])
    stats = table.stats()
    assert stats.recomputations == 0 and stats.evictions == 0 and stats.currsize == 10


def test_any_store_can_hold_the_activations() -> None:
    """store=LRUStore(3) behaves as maxsize=3: the same counts, the entries in that store."""
    x = Tensor(np.ones(3))
    counts = []
    for table in (Activations(maxsize=3), Activations(store=LRUStore(3))):
        with table:
            loss = chain(x, 9)
        grad(loss, [x])
        counts.append(table.stats())
    assert counts[0] == counts[1]


def mlp(x: Any, params: list[Tensor]) -> Tensor:
    """Layers of tanh(h @ W + b), mean of squares at the end."""
    h: Tensor | Any = x
    for w, b in zip(params[::2], params[1::2], strict=True):
        h = (h @ w + b).tanh()
    return (h * h).mean()


def make_params(depth: int, width: int) -> list[Tensor]:
    """depth layers of width x width weights and biases, seeded."""
    rng = np.random.default_rng(7)
    params = []
    for _ in range(depth):
        weights = Tensor(rng.normal(size=(width, width)) / width**0.5)
        params += [weights, Tensor(rng.normal(size=width))]
    return params


@pytest.mark.parametrize("maxsize", [1, 2, 4, 10, 100])
@pytest.mark.parametrize("memo", [True, 3])
def test_bounded_activations_give_the_full_tables_gradients(maxsize: int, memo: bool | int) -> None:
    """An MLP built inside Activations(k) has exactly the gradients of the plain graph."""
    params = make_params(6, 5)
    x = np.random.default_rng(1).normal(size=(4, 5))
    full = grad(mlp(x, params), params, memo=memo)
    with Activations(maxsize):
        loss = mlp(x, params)
    for a, b in zip(full, grad(loss, params, memo=memo), strict=True):
        assert np.array_equal(a, b)


class TrackingLRU(LRUStore[Any]):
    """An LRU store of activations that keeps a weak reference to every value put in it."""

    def __init__(self, maxsize: int) -> None:
        super().__init__(maxsize)
        self.values: list[weakref.ref[Any]] = []

    def set(self, key: Any, value: Any) -> None:
        self.values.append(weakref.ref(value[0]))
        super().set(key, value)

    def alive(self) -> int:
        """How many of the values ever stored are still in memory."""
        gc.collect()
        return sum(1 for r in self.values if r() is not None)


def peak_alive_during_backward(k: int, n: int) -> int:
    """The most activations alive at once while backward runs over a chain of n, k kept."""
    x = Tensor(np.random.default_rng(2).normal(size=(3, 8)))
    store = TrackingLRU(k)
    with Activations(store=store):
        loss = chain(x, n)
    peak = 0

    class Watching(LRUStore[Any]):  # the adjoints' memo: counts at each adjoint stored
        def set(self, key: Any, value: Any) -> None:
            nonlocal peak
            peak = max(peak, store.alive())
            super().set(key, value)

    grad(loss, [x], memo=Watching(2))
    return peak


def test_at_most_k_activations_are_alive_during_backward() -> None:
    """With k kept, at most k + 1 activations are in memory at any time (k and the one in use).

    Each value put in the table is tracked by a weak reference and counted
    while backward stores each adjoint; a table that kept all 30 would
    have all 30 alive.
    """
    for k in (1, 3, 8):
        assert 0 < peak_alive_during_backward(k, 30) <= k + 1
    assert peak_alive_during_backward(30, 30) == 30


def test_nodes_built_after_the_block_are_plain() -> None:
    """Leaving the with block stops recording: new nodes hold their own values."""
    x = Tensor(np.ones(2))
    table = Activations(2)
    with table:
        inside = x.tanh()
    outside = inside.exp()
    assert type(outside) is Tensor and type(inside) is not Tensor
    assert table.stats().computations == 1
    (g,) = grad(outside.sum(), [x])
    assert np.allclose(g, np.exp(np.tanh(1.0)) * (1 - np.tanh(1.0) ** 2))


def test_recording_is_per_thread() -> None:
    """A table entered in one thread records nothing built in another."""
    x = Tensor(np.ones(2))
    table = Activations(4)
    started, done = threading.Event(), threading.Event()
    built: list[Tensor] = []

    def other() -> None:
        started.wait(timeout=30)
        built.append(x.tanh())
        done.set()

    thread = threading.Thread(target=other)
    thread.start()
    with table:
        started.set()
        assert done.wait(timeout=30)
        x.exp()
    thread.join()
    assert type(built[0]) is Tensor
    assert table.stats().computations == 1


def test_a_recorded_value_cannot_be_assigned() -> None:
    """t.data = ... on a node whose value lives in the table is an AttributeError saying so."""
    with Activations(2):
        t = Tensor(np.ones(2)).tanh()
    with pytest.raises(AttributeError, match="Activations table"):
        t.data = np.zeros(2)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_a_bad_bound_is_refused(bad: Any) -> None:
    """maxsize must be a positive int (or None): anything else says what it takes."""
    with pytest.raises((TypeError, ValueError), match="maxsize"):
        Activations(bad)


def test_backward_reports_the_same_costs_with_bounded_activations() -> None:
    """The adjoint side's counts do not depend on where the activations live."""
    params = make_params(3, 4)
    x = np.ones((2, 4))
    plain = backward(mlp(x, params), params)
    with Activations(2):
        loss = mlp(x, params)
    bounded = backward(loss, params)
    fields = ("computations", "hits", "local_derivative_evaluations", "graph_size")
    assert [getattr(plain, f) for f in fields] == [getattr(bounded, f) for f in fields]


# ---------------------------------------------------------------- what each VJP reads


def test_a_store_sees_each_nodes_serial_when_the_forward_stores_it() -> None:
    """Every node a table stores already has its creation number, so a store can place it by it."""
    seen: list[Any] = []

    class Watching(LRUStore[Any]):
        def set(self, key: Any, value: Any) -> None:
            seen.append(getattr(key, "serial", None))
            super().set(key, value)

    x = Tensor(np.ones(2))
    with Activations(store=Watching(3)):
        chain(x, 6)
    assert len(seen) == 6 and None not in seen and seen == sorted(seen)


@pytest.mark.parametrize(("name", "build", "reference", "shapes", "domain"), OP_CASES, ids=OP_IDS)
def test_every_operation_reads_what_its_vjps_need(
    name: str, build: Any, reference: Any, shapes: list[tuple[int, ...]], domain: Any
) -> None:
    """Each operation on recorded inputs, one value kept: the plain graph's gradients, bit for bit.

    The table hands a VJP only the values READS lists for it, and arrays of
    zeros for the rest: a VJP that reads more than it declares gets zeros
    and a wrong gradient.
    """
    inputs = draw_inputs(shapes, *domain)
    cotangent = np.random.default_rng(5).uniform(-1, 1, np.shape(reference(*inputs)))
    leaves = [Tensor(x) for x in inputs]
    plain = grad((build(*[x * 1.0 for x in leaves]) * cotangent).sum(), leaves)
    with Activations(maxsize=1):
        loss = (build(*[x * 1.0 for x in leaves]) * cotangent).sum()
    for a, b in zip(grad(loss, leaves), plain, strict=True):
        assert np.array_equal(a, b), name


def test_values_no_vjp_reads_are_not_kept_when_recomputed() -> None:
    """After the forward pass, the table stores again only values some VJP reads.

    In tanh(h @ W + b), backward reads each tanh output (tanh's VJP, and
    the next product's VJP for W), never the product's or the sum's.
    """
    stored: list[str] = []

    class Watching(LRUStore[Any]):
        def set(self, key: Any, value: Any) -> None:
            stored.append(key.op_name)
            super().set(key, value)

    params = make_params(6, 5)
    x = np.random.default_rng(1).normal(size=(4, 5))
    table = Activations(store=Watching(2))
    with table:
        loss = mlp(x, params)
    assert stored.count("@") == stored.count("+") == 6  # the forward stores every value
    del stored[:]
    full = grad(mlp(x, params), params)
    for a, b in zip(grad(loss, params), full, strict=True):
        assert np.array_equal(a, b)
    assert table.stats().recomputations > 0
    assert set(stored) == {"tanh"}


def test_a_custom_operation_keeps_its_vjps_in_the_table() -> None:
    """An operation READS does not list keeps the VJPs it made; evicted, it is recomputed."""
    calls = []

    def cube(a: Any) -> Any:
        calls.append(1)
        return a**3, (VJP(lambda g: 3.0 * a * a * g),)

    x = Tensor(np.array([0.5, -1.0, 2.0]))
    table = Activations(maxsize=2)
    with table:
        loss = Tensor.apply(cube, x.tanh()).tanh().sum()  # the sum evicts the cube's entry
    (g,) = grad(loss, [x])
    t = np.tanh(x.data)
    assert np.allclose(g, (1 - np.tanh(t**3) ** 2) * 3 * t * t * (1 - t * t), rtol=1e-12)
    assert len(calls) == 2  # the forward, then once for its evicted VJPs


def test_an_mlp_keeps_no_more_values_alive_than_its_table_holds() -> None:
    """In an MLP with k values kept, no more than k are alive whenever backward stores an adjoint.

    A VJP built when it is applied holds what it reads only while it runs;
    a product's VJPs kept in the table would hold its inputs as well.
    """
    params = make_params(8, 6)
    x = np.random.default_rng(4).normal(size=(3, 6))
    for k in (1, 2, 5, 20):
        store = TrackingLRU(k)
        with Activations(store=store):
            loss = mlp(x, params)
        peak = 0

        class Watching(LRUStore[Any]):
            def set(self, key: Any, value: Any, tracked: TrackingLRU = store) -> None:
                nonlocal peak
                peak = max(peak, tracked.alive())
                super().set(key, value)

        grad(loss, params, memo=Watching(3))
        assert 0 < peak <= k, (k, peak)
