"""Threads: stores stay consistent and bounded, misses are single-flight, nothing deadlocks.

Every test lines its threads up on a ``threading.Barrier`` so that they really
start together, shortens the interpreter's switch interval so that they
interleave finely, and joins with a timeout so that a deadlock fails the test
instead of hanging the suite.
"""

from __future__ import annotations

import random
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import memokit._flight
from memokit import MISSING, DictStore, LRUStore, Store, memoize
from tests.helpers.memo import FakeClock

# Every cache made in a test here runs on both wrappers: the generated Python
# reference and, when the core is live, the compiled one (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("memo_impl")

THREADS = 8
JOIN_TIMEOUT = 30.0


@pytest.fixture(autouse=True)
def fine_interleaving() -> Iterator[None]:
    """Switch between threads every microsecond while a test runs."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def run_together(target: Callable[[int], Any], n: int = THREADS) -> list[Any]:
    """Run ``target(i)`` in ``n`` threads released at once; return results (or exceptions)."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def worker(i: int) -> None:
        barrier.wait()
        try:
            results[i] = target(i)
        except BaseException as exc:
            results[i] = exc

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + JOIN_TIMEOUT
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    stuck = [t.name for t in threads if t.is_alive()]
    assert not stuck, f"threads still running after {JOIN_TIMEOUT}s (deadlock?): {stuck}"
    return results


# ---------------------------------------------------------------- stores


@pytest.mark.parametrize(
    "make",
    [
        DictStore,
        lambda: LRUStore(16),
        lambda: DictStore(ttl=3600),
        lambda: LRUStore(16, ttl=3600),
        lambda: LRUStore(16, sizeof=lambda value: 1),
    ],
    ids=["dict", "lru", "dict-ttl", "lru-ttl", "lru-sizeof"],
)
def test_store_stays_consistent_under_mixed_operations(make: Callable[[], Store[Any]]) -> None:
    """8 threads doing random get/set/delete never see a wrong value or an oversized store."""
    store = make()
    bound = store.maxsize
    keys = range(40)

    def hammer(seed: int) -> int:
        rng = random.Random(seed)
        oversize = 0
        for _ in range(3000):
            k = rng.choice(keys)
            op = rng.random()
            if op < 0.5:
                store.set(k, ("value", k))
            elif op < 0.9:
                got = store.get(k)
                assert got is MISSING or got == ("value", k)
            else:
                store.delete(k)
            if bound is not None and len(store) > bound:
                oversize += 1
        return oversize

    results = run_together(hammer)
    assert results == [0] * THREADS
    present = [k for k in keys if store.get(k) is not MISSING]
    assert len(present) == len(store)
    assert all(store.get(k) == ("value", k) for k in present)


@pytest.mark.parametrize("maxsize", [None, 16], ids=["dict", "lru"])
def test_entries_expiring_while_threads_use_them(maxsize: int | None) -> None:
    """Entries expiring under 8 threads' reads and writes: never a wrong value, never oversized."""
    clock = FakeClock()
    store: Store[Any]
    if maxsize is None:
        store = DictStore(ttl=0.05, clock=clock)
    else:
        store = LRUStore(maxsize, ttl=0.05, clock=clock)
    bound = store.maxsize

    def hammer(seed: int) -> int:
        rng = random.Random(seed)
        wrong = 0
        for _ in range(2000):
            clock.advance(0.001)  # every thread moves time on: entries expire as they go
            k = rng.randrange(30)
            if rng.random() < 0.5:
                store.set(k, ("value", k))
            else:
                got = store.get(k)
                wrong += not (got is MISSING or got == ("value", k))
            if bound is not None and len(store) > bound:
                wrong += 1
        return wrong

    assert run_together(hammer) == [0] * THREADS
    assert store.expirations > 0


def test_weighted_store_never_exceeds_its_weight_under_threads() -> None:
    """8 threads inserting weighted values: the total weight never passes maxsize."""
    store: LRUStore[bytes] = LRUStore(100, sizeof=len)
    worst: list[float] = []

    def insert(t: int) -> None:
        rng = random.Random(t)
        for i in range(1000):
            store.set((t, i), b"x" * rng.randrange(1, 40))
            worst.append(store.currsize)

    run_together(insert)
    assert max(worst) <= 100
    held = [store.get(k) for k in list(store.keys())]
    assert store.currsize == sum(len(v) for v in held if v is not MISSING)


def test_lru_store_accounts_for_every_insert() -> None:
    """With distinct keys from 8 threads, entries held plus evictions equals inserts."""
    store: LRUStore[int] = LRUStore(50)
    per_thread = 2000
    seen_sizes: list[int] = []

    def insert(t: int) -> None:
        for i in range(per_thread):
            store.set((t, i), i)
            seen_sizes.append(len(store))

    run_together(insert)
    assert max(seen_sizes) <= 50
    assert len(store) == 50
    assert store.evictions + len(store) == THREADS * per_thread
    held = [(t, i) for t in range(THREADS) for i in range(per_thread) if store.get((t, i)) == i]
    assert len(held) == 50


@pytest.mark.parametrize("maxsize", [1, 16])
def test_bounded_memoize_under_threads(maxsize: int) -> None:
    """8 threads calling a bounded memoized function get right answers; the bound holds."""
    calls: list[int] = []

    @memoize(maxsize=maxsize)
    def square(n: int) -> int:
        calls.append(n)
        return n * n

    per_thread = 2000

    def hammer(seed: int) -> int:
        rng = random.Random(seed)
        worst = 0
        for _ in range(per_thread):
            n = rng.randrange(64)
            assert square(n) == n * n
            worst = max(worst, square.cache_info().currsize)
        return worst

    results = run_together(hammer)
    assert max(results) <= maxsize
    info = square.cache_info()
    stats = square.cache_stats()
    assert info.hits + info.misses == THREADS * per_thread
    assert len(calls) <= info.misses
    assert stats.evictions + info.currsize <= len(calls)
    assert info.currsize <= maxsize


# ---------------------------------------------------------------- single flight


def test_concurrent_misses_compute_once() -> None:
    """8 threads missing one slow key run the function once and all get the same object."""
    calls: list[int] = []

    @memoize
    def slow(n: int) -> object:
        calls.append(n)
        time.sleep(0.3)
        return object()

    results = run_together(lambda i: slow(1))
    assert calls == [1]
    assert all(r is results[0] for r in results)
    assert type(results[0]) is object
    info = slow.cache_info()
    assert info.hits + info.misses == THREADS


def test_concurrent_misses_compute_once_across_spellings() -> None:
    """Threads spelling one call differently (f(1), f(x=1), f(1, y=0)) share one computation."""
    calls: list[tuple[int, int]] = []

    @memoize(maxsize=8)
    def slow(x: int, y: int = 0) -> object:
        calls.append((x, y))
        time.sleep(0.3)
        return object()

    spellings: list[Callable[[], object]] = [
        lambda: slow(1),
        lambda: slow(x=1),
        lambda: slow(1, 0),
        lambda: slow(1, y=0),
    ]
    results = run_together(lambda i: spellings[i % 4]())
    assert calls == [(1, 0)]
    assert all(r is results[0] for r in results)


def test_concurrent_failure_reaches_every_caller_and_is_not_cached() -> None:
    """When the single computation raises, all 8 callers get the error and nothing is stored."""
    calls: list[int] = []

    @memoize
    def slow_failure(n: int) -> int:
        calls.append(n)
        time.sleep(0.3)
        raise ValueError(f"failed #{len(calls)}")

    results = run_together(lambda i: slow_failure(1))
    assert calls == [1]
    assert all(isinstance(r, ValueError) and str(r) == "failed #1" for r in results)
    assert slow_failure.cache_info().currsize == 0
    with pytest.raises(ValueError, match="failed #2"):
        slow_failure(1)
    assert calls == [1, 1]


def test_single_flight_with_a_protocol_store() -> None:
    """Single flight also holds on the generic path (a store other than memokit's)."""
    calls: list[int] = []

    @memoize(store=lambda: LRUStoreSubclass(4))
    def slow(n: int) -> object:
        calls.append(n)
        time.sleep(0.3)
        return object()

    results = run_together(lambda i: slow(1))
    assert calls == [1]
    assert all(r is results[0] for r in results)


class LRUStoreSubclass(LRUStore[Any]):
    """An LRUStore memokit does not recognise by type, so memoize uses the Store protocol."""


# ---------------------------------------------------------------- no deadlocks


def test_recursive_function_from_many_threads() -> None:
    """8 threads recursing through one memoized function, in different orders, all finish."""
    calls: list[int] = []

    @memoize
    def fib(n: int) -> int:
        calls.append(n)
        if n < 2:
            return n
        if n % 2:
            return fib(n - 1) + fib(n - 2)
        return fib(n - 2) + fib(n - 1)

    expected = [0, 1]
    for _ in range(200):
        expected.append(expected[-1] + expected[-2])
    results = run_together(lambda i: fib(120 + 10 * i))
    assert results == [expected[120 + 10 * i] for i in range(THREADS)]
    assert sorted(set(calls)) == list(range(191))
    assert len(calls) == len(set(calls))


def test_reentrant_same_key_behaves_like_plain_recursion() -> None:
    """A function that calls itself with the same arguments ends in RecursionError, not a hang."""
    entered: list[int] = []

    @memoize
    def forever(n: int) -> int:
        entered.append(n)
        return forever(n)

    results = run_together(lambda i: forever(1), n=1)
    assert isinstance(results[0], RecursionError)
    assert len(entered) > 10
    assert forever.cache_info().currsize == 0


def test_reentrant_same_key_from_many_threads() -> None:
    """8 threads entering one self-recursive call all end with RecursionError."""

    @memoize
    def forever(n: int) -> int:
        return forever(n)

    results = run_together(lambda i: forever(1))
    assert all(isinstance(r, RecursionError) for r in results), results


def test_cross_thread_cycle_does_not_deadlock() -> None:
    """Two threads that close a call cycle (f->g, g->f) get RecursionError, as plain code would."""
    both_in = threading.Barrier(2, timeout=5)

    @memoize
    def f(n: int) -> int:
        _meet(both_in)
        return g(n)

    @memoize
    def g(n: int) -> int:
        _meet(both_in)
        return f(n)

    results = run_together(lambda i: (f, g)[i](1), n=2)
    assert all(isinstance(r, RecursionError) for r in results), results


def test_cross_thread_cycle_closed_at_the_same_instant(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two threads that both decide to wait at the same moment still see their cycle."""
    # Hold each thread just after it has looked for a wait-for cycle and
    # before it blocks, until the other has looked too: the interleaving in
    # which both could miss the cycle and wait on each other forever.
    real_lock = memokit._flight._allocate_lock
    gate = threading.Barrier(2, timeout=0.5)

    def lock_after_both_checked() -> Any:
        _meet(gate)
        return real_lock()

    monkeypatch.setattr(memokit._flight, "_allocate_lock", lock_after_both_checked)
    both_in = threading.Barrier(2, timeout=5)

    @memoize
    def f(n: int) -> int:
        _meet(both_in)
        return g(n)

    @memoize
    def g(n: int) -> int:
        _meet(both_in)
        return f(n)

    results = run_together(lambda i: (f, g)[i](1), n=2)
    assert all(isinstance(r, RecursionError) for r in results), results


def _meet(barrier: threading.Barrier) -> None:
    """Wait for the other thread once; later (recursive) arrivals pass straight through."""
    if barrier.broken:
        return
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        pass
    else:
        barrier.abort()


# ---------------------------------------------------------------- honest counts


@pytest.fixture
def waiters(monkeypatch: pytest.MonkeyPatch) -> threading.Semaphore:
    """A semaphore released once by each thread that starts waiting on another's computation."""
    released = threading.Semaphore(0)
    real_lock = memokit._flight._allocate_lock

    def counted_lock() -> Any:
        released.release()
        return real_lock()

    monkeypatch.setattr(memokit._flight, "_allocate_lock", counted_lock)
    return released


@pytest.mark.parametrize(
    "options",
    [{}, {"maxsize": 4}, {"ttl": 60}, {"store": lambda: LRUStoreSubclass(16)}],
    ids=["dict", "lru", "ttl", "protocol"],
)
def test_callers_served_by_another_computation_count_as_hits(
    waiters: threading.Semaphore, options: dict[str, Any]
) -> None:
    """8 threads, one computation: hits=7, misses=1 (misses count computations)."""
    runs = 0

    @memoize(**options)
    def slow(n: int) -> int:
        nonlocal runs
        runs += 1
        for _ in range(THREADS - 1):  # every other thread is waiting for this result
            assert waiters.acquire(timeout=JOIN_TIMEOUT)
        return n * 10

    results = run_together(lambda i: slow(1))
    assert results == [10] * THREADS
    assert runs == 1
    assert slow.cache_info()[:2] == (THREADS - 1, 1)


def test_callers_that_get_the_error_count_neither(waiters: threading.Semaphore) -> None:
    """When the one computation raises, only it counts (a miss); the waiters count nothing."""

    @memoize
    def failing(n: int) -> int:
        for _ in range(THREADS - 1):
            assert waiters.acquire(timeout=JOIN_TIMEOUT)
        raise ValueError("no")

    results = run_together(lambda i: failing(1))
    assert all(isinstance(r, ValueError) for r in results)
    assert failing.cache_info()[:2] == (0, 1)
