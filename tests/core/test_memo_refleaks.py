"""The compiled @memoize wrapper leaks nothing: live objects and traced memory return to the start.

One round runs every path of memokit/_core/memo.c and memo_miss.c, on success
and on error: hits and misses of each key form (plain, a plain tuple, wrapped),
calls bound by keyword, LRU evictions, entries expiring on a fake clock, a
function that raises, an unhashable argument, a key whose ``__hash__``
raises, invalidations, clears, and a method's per-instance cache. After a
warm-up round, many more rounds must leave the number of objects the
collector tracks, the traced memory and (on a debug build of CPython) the
total reference count where they were: a missing Py_DECREF on a path run per
round would add at least one object or reference per round.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import pytest

from memokit import _callthrough, memoize
from tests.core.conftest import requires_compiled
from tests.core.test_refleaks import total_refs
from tests.helpers.memo import FakeClock

pytestmark = requires_compiled


class Boom(Exception):
    """Raised by the memoized functions for some arguments."""


class BadHash:
    """A key whose __hash__ raises (not a TypeError: it passes through as raised)."""

    def __hash__(self) -> int:
        raise Boom("hash")


class Model:
    """A class with a memoized method: one cache per instance."""

    @memoize(maxsize=4)
    def scaled(self, x: int) -> int:
        if x == 7:
            raise Boom(x)
        return x * 3


def make_round() -> Callable[[int], int]:
    """One round of mixed operations on compiled caches; returns how many it ran."""
    clock = FakeClock()

    @memoize
    def f(n: Any) -> Any:
        if n == 13:
            raise Boom(n)
        return (n, n)

    @memoize(maxsize=4)
    def g(n: Any, s: Any = "") -> Any:
        if n == 13:
            raise Boom(n)
        return [n, s]

    @memoize(maxsize=8, ttl=5, clock=clock)
    def expiring(n: int) -> Any:
        return {"n": n}

    caches: list[Any] = [f, g, expiring]
    assert all(type(c) is _callthrough.COMPILED for c in caches)
    model = Model()
    errors = (Boom, TypeError)
    calls: list[Callable[[int], Any]] = [
        lambda i: f(i % 20),  # plain keys: hits, misses and Boom at 13
        lambda i: f((i % 5, "t")),  # a plain tuple
        lambda i: f(Fraction(i % 7, 3)),  # wrapped
        lambda i: f([i]),  # unhashable: TypeError naming n
        lambda i: f(BadHash()),
        lambda i: g(i % 9, str(i % 2)),  # LRU: evictions
        lambda i: g(i % 9, s="k"),  # bound by the binder
        lambda i: g(n=i % 15),
        lambda i: g(Fraction(i % 3), (i % 2,)),
        lambda i: expiring(i % 10),
        lambda i: clock.advance(i % 3),
        lambda i: f.cache_invalidate(i % 20),
        lambda i: g.cache_invalidate(i % 9, s="k"),
        lambda i: model.scaled(i % 9),
        lambda i: Model().scaled(i % 9),  # a new instance's cache, freed at once
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
            if i % 97 == 0:
                for c in caches:
                    c.cache_clear()
        return ran

    return one_round


@pytest.mark.slow
def test_mixed_memoize_operations_leave_no_objects_or_memory_behind() -> None:
    """300,000 calls on every path of the compiled wrapper leave objects and memory as found."""
    one_round = make_round()
    tracemalloc.start()
    try:
        one_round(200)  # warm-up: caches full, types learned, interned strings
        gc.collect()
        objects, memory = len(gc.get_objects()), tracemalloc.get_traced_memory()[0]
        refs = total_refs()
        ran = one_round(20_000)
        gc.collect()
        objects_after = len(gc.get_objects())
        memory_after = tracemalloc.get_traced_memory()[0]
        refs_after = total_refs()
    finally:
        tracemalloc.stop()
    assert ran >= 300_000
    assert objects_after - objects < 50  # a leak per round would be thousands
    assert memory_after - memory < 64 * 1024
    assert refs_after - refs < 1_000
