"""The compiled core leaks nothing: live objects and traced memory return to where they were.

One round mixes everything the C code does, on success and on every error
path: dp computations that hit, miss, evict, expire, are invalidated, are called
by keyword or with an unhashable argument, store through put(), fail at
the bottom, catch a sub-problem's error, meet a cycle on their stack or
through plain code, misuse a request, or see their store fail; and gradient
sweeps that finish, find a graph unordered, or leave it to the reference.
After a warm-up round, many more rounds must leave the number of objects the
collector tracks, the traced memory and (on a debug build of CPython) the
total reference count where they were: a missing Py_DECREF on any path run
per round would add at least one per round.
"""

from __future__ import annotations

import gc
import sys
import tracemalloc
from collections.abc import Callable, Generator
from typing import Any

import pytest

from memokit import CycleError, LRUStore, dp
from memokit.autodiff import Value
from tests.core.conftest import requires_compiled
from tests.helpers.memo import FakeClock

pytestmark = requires_compiled


class Boom(Exception):
    """Raised at the bottom of a failing computation."""


class FailingStore(LRUStore[Any]):
    """Refuses to store key 3."""

    def set(self, key: Any, value: Any) -> None:
        if key == 3:
            raise OSError("refused")
        super().set(key, value)


def make_round() -> Callable[[int], int]:
    """One round of mixed operations; returns how many it ran."""

    @dp
    def fib(n: int) -> Generator[int, int, int]:
        return n if n < 2 else (yield fib(n - 1)) + (yield fib(n - 2))

    @dp(maxsize=4)
    def bounded(n: int) -> Generator[int, int, int]:
        return n if n < 2 else (yield bounded(n - 1)) + (yield bounded(n - 2))

    @dp
    def fails(n: int) -> Generator[int, int, int]:
        if n == 0:
            raise Boom(n)
        return (yield fails(n - 1)) + 1

    @dp
    def catches(n: int) -> Generator[int, int, int]:
        if n == 0:
            raise Boom(n)
        try:
            return (yield catches(n - 1)) + 1
        except Boom:
            return -1

    @dp
    def cycles(n: int) -> Generator[int, int, int]:
        return (yield cycles((n + 1) % 30))

    @dp
    def through_plain(n: int) -> Generator[int, int, int]:
        return through_plain(n)  # a plain call: nested runs until the nesting check
        yield

    @dp
    def returns_request(n: int) -> Generator[int, int, int]:
        return returns_request(n + 1) if n == 0 else n
        yield

    @dp
    def yields_twice(n: int) -> Generator[int, int, int]:
        if n == 0:
            return 0
        request = yields_twice(n - 1)
        return (yield request) + (yield request)

    @dp(store=FailingStore(8))
    def store_fails(n: int) -> Generator[int, int, int]:
        return (yield store_fails(n - 1)) + 1 if n else 0

    clock = FakeClock()

    @dp(ttl=2.0, clock=clock)
    def pairs(a: int, b: object) -> Generator[int, int, int]:
        # Two parameters, canonical keys: the compiled front end's key and expiry paths.
        return 0 if a == 0 else (yield pairs(a - 1, b)) + 1

    def pairs_round(i: int) -> None:
        pairs(i % 10, (i % 3, 0.5))  # a wrapped key
        pairs(b=1.0, a=i % 10)  # by keyword: the generated code binds it
        clock.advance(1.0)  # entries expire every other round
        pairs.cache_invalidate(i % 10, 1.0)
        pairs(1, [i])  # unhashable: TypeError

    def sweep(size: int) -> None:
        x, y = Value(1.0), Value(2.0)
        node = x
        for _ in range(size):
            node = Value(1.0, (node, y, x), (0.5, 1.5, 2.0))
        compiled_sweep(node, Value)  # finished
        x.inputs = (node,)
        x.local_grads = (1.0,)
        compiled_sweep(node, Value)  # unordered: None
        compiled_sweep(Value(1.0, (y,), (1,)), Value)  # an int derivative: NotImplemented

    errors = (Boom, CycleError, TypeError, OSError)
    calls: list[Callable[[int], Any]] = [
        lambda i: fib(i % 40),
        lambda i: bounded(i % 25),
        lambda i: fails(i % 20),
        lambda i: catches(i % 20),
        lambda i: cycles(i % 30),
        lambda i: through_plain(i % 5),
        returns_request,
        lambda i: yields_twice(1 + i % 3),
        lambda i: store_fails(i % 6),
        pairs_round,
        lambda i: sweep(i % 20),
    ]

    def one_round(rounds: int) -> int:
        ran = 0
        for i in range(rounds):
            for call in calls:
                try:
                    call(i)
                except errors:
                    pass
                ran += 1
            if i % 50 == 0:
                for f in (fib, fails, catches, yields_twice, store_fails, returns_request, pairs):
                    f.cache_clear()
        return ran

    return one_round


def compiled_sweep(loss: Any, value_type: type) -> Any:
    """The C sweep (only called when the compiled core is live)."""
    from memokit._core import scalar_sweep

    assert scalar_sweep is not None
    return scalar_sweep(loss, value_type)


def total_refs() -> int:
    """The interpreter's total reference count on a debug build, else 0."""
    counter: Callable[[], int] | None = getattr(sys, "gettotalrefcount", None)
    return counter() if counter is not None else 0


@pytest.mark.slow
def test_mixed_operations_leave_no_objects_or_memory_behind() -> None:
    """100,000+ operations on every path leave objects, refs and memory where they started."""
    one_round = make_round()
    tracemalloc.start()
    try:
        one_round(200)  # warm-up: caches, interned strings, the thread's run list
        gc.collect()
        objects, memory, refs = len(gc.get_objects()), tracemalloc.get_traced_memory()[0], 0
        refs = total_refs()
        ran = one_round(12_000)
        gc.collect()
        objects_after = len(gc.get_objects())
        memory_after = tracemalloc.get_traced_memory()[0]
        refs_after = total_refs()
    finally:
        tracemalloc.stop()
    assert ran >= 100_000
    assert objects_after - objects < 50  # a leak per round would be thousands
    assert memory_after - memory < 64 * 1024
    assert refs_after - refs < 1_000
