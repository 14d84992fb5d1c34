"""Checkpoints: every s-th activation pinned, the rest in an LRU; counts derived by hand on chains.

On a chain x -> tanh -> ... -> tanh -> sum, backward reads each tanh output
once, from the last down. Node i (0 for the first tanh) is pinned when
i % s == 0; the others go to an LRU of ``recent``. A read that misses
recomputes from the pinned node below it up to the node read, and the LRU
keeps what it recomputed while backward walks down to that pinned node.
"""

from __future__ import annotations

from typing import Any

import pytest

np = pytest.importorskip("numpy", reason="the Tensor tests need NumPy (pip install numpy)")

from memokit import MISSING  # noqa: E402
from memokit.autodiff import Activations, Checkpoints, Tensor, grad  # noqa: E402
from tests.autodiff.test_activations import chain, make_params, mlp  # noqa: E402


def run_chain(n: int, store: Checkpoints[Any]) -> tuple[Any, Activations]:
    """Backward over a chain of n nodes whose activations live in ``store``."""
    x = Tensor(np.linspace(-1.0, 1.0, 4))
    table = Activations(store=store)
    with table:
        loss = chain(x, n)
    return grad(loss, [x])[0], table


@pytest.mark.parametrize(
    ("n", "every", "recent", "expected"),
    [
        # pinned 0 4 8 12 16; the LRU ends the forward with 11 13 14 15;
        # misses at 10 (9, 10 recomputed), 7 (5-7), 3 (1-3)
        (17, 4, None, 8),
        # pinned 0 3 6 9 12; LRU 8 10 11; misses at 7 (7), 5 (4, 5), 2 (1, 2)
        (13, 3, None, 5),
        # pinned 0 6 12; LRU 10 11; misses at 9 (7-9: the LRU keeps 8 and 9), 7 (7),
        # 5 (1-5: keeps 4, 5), 3 (1-3), 1 (1)
        (13, 6, 2, 3 + 1 + 5 + 3 + 1),
    ],
)
def test_recomputations_on_a_chain_are_counted_exactly(
    n: int, every: int, recent: int | None, expected: int
) -> None:
    """Each segment below the top is recomputed once when recent holds it, more when it does not."""
    x = Tensor(np.linspace(-1.0, 1.0, 4))
    full = grad(chain(x, n), [x])[0]
    gradient, table = run_chain(n, Checkpoints(every, recent))
    assert table.stats().recomputations == expected
    assert np.array_equal(gradient, full)


def test_pinned_entries_are_never_evicted() -> None:
    """After backward the store still holds every pinned node (n/s of them) and recent ones."""
    store: Checkpoints[Any] = Checkpoints(5, recent=2)
    run_chain(21, store)
    assert store.pinned == 5 and len(store) == 5 + 2
    assert store.evictions > 0


@pytest.mark.parametrize(("every", "recent"), [(1, None), (2, 1), (4, 2), (7, None), (30, 3)])
def test_an_mlp_gets_the_full_tables_gradients(every: int, recent: int | None) -> None:
    """Any schedule gives the plain graph's gradients, bit for bit."""
    params = make_params(6, 5)
    x = np.random.default_rng(1).normal(size=(4, 5))
    full = grad(mlp(x, params), params)
    with Activations(store=Checkpoints(every, recent)):
        loss = mlp(x, params)
    for a, b in zip(grad(loss, params), full, strict=True):
        assert np.array_equal(a, b)


def test_a_store_keyed_by_anything_but_nodes_is_refused() -> None:
    """Checkpoints places keys by their serial: another key is a TypeError saying so."""
    store: Checkpoints[int] = Checkpoints(2)
    with pytest.raises(TypeError, match="creation number"):
        store.set("a", 1)


@pytest.mark.parametrize("bad", [0, -2, 1.5, True, None])
def test_bad_sizes_are_refused(bad: Any) -> None:
    """every= and recent= take positive ints (recent may be left out)."""
    with pytest.raises(ValueError, match="positive int"):
        Checkpoints(bad)
    if bad is not None:
        with pytest.raises(ValueError, match="recent"):
            Checkpoints(3, bad)


def test_delete_and_clear_forget_both_parts() -> None:
    """delete() finds a pinned or a recent entry; clear() empties both and restarts the count."""
    x = Tensor(np.ones(2))
    store: Checkpoints[Any] = Checkpoints(2)
    nodes = []
    with Activations(store=store):
        h = x
        for _ in range(4):
            h = h.tanh()
            nodes.append(h)
    assert store.pinned == 2 and len(store) == 4
    assert store.delete(nodes[0]) and store.delete(nodes[1]) and not store.delete(nodes[0])
    assert store.get(nodes[0]) is MISSING and len(store) == 2
    store.clear()
    assert len(store) == 0 and store.pinned == 0
    store.set(nodes[3], "again")  # counting restarts here: this one is pinned
    assert store.pinned == 1
    assert "1 pinned" in repr(store)
