"""Typing tests for @dp and DagEvaluator that mypy --strict must accept.

This file is type-checked, never run.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Hashable
from typing import Any, assert_type

from memokit import (
    CacheInfo,
    CacheStats,
    CycleError,
    DagEvaluator,
    DagStats,
    DictStore,
    DPFunction,
    LRUStore,
    dp,
)


@dp
def fib(n: int) -> Generator[int, int, int]:
    if n < 2:
        return n
    a = yield fib(n - 1)  # inside the body a sub-call reads as the value type
    assert_type(a, int)
    b = yield fib(n - 2)
    return a + b


# The decorated function takes the original parameters and returns what the
# generator returns.
as_function: Callable[[int], int] = fib
as_dp: DPFunction[[int], int] = fib
assert_type(fib(10), int)
assert_type(fib(n=10), int)
assert_type(fib.__wrapped__(10), Generator[Any, Any, int])
assert_type(fib.cache_info(), CacheInfo)
assert_type(fib.cache_stats(), CacheStats)
assert_type(fib.cache_stats().evictions, int)
assert_type(fib.cache_stats().expirations, int)
assert_type(fib.cache_keys(), list[Hashable])


@dp(maxsize=4096, sizeof=lambda row: 8.0, ttl=60)
def rows(n: int) -> Generator[Any, Any, tuple[int, ...]]:
    above = yield rows(n - 1)
    return (*above, n)


assert_type(rows(3), tuple[int, ...])
assert_type(fib.cache_clear(), None)
assert_type(fib.cache_invalidate(10), bool)
assert_type(fib.cache_invalidate(n=10), bool)
assert_type(fib.cache_parameters(), dict[str, Any])


@dp(maxsize=128, typed=True)
def edit(a: str, b: str, *, cost: int = 1) -> Generator[int, int, int]:
    if not a or not b:
        return cost * (len(a) + len(b))
    x = yield edit(a[1:], b, cost=cost)
    y = yield edit(a, b[1:], cost=cost)
    z = yield edit(a[1:], b[1:], cost=cost)
    return min(x + cost, y + cost, z + (a[0] != b[0]) * cost)


assert_type(edit("kitten", "sitting"), int)
assert_type(edit("a", "b", cost=2), int)


@dp(key=lambda items: len(items), store=LRUStore(10))
def count(items: tuple[str, ...]) -> Generator[int, int, int]:
    if not items:
        return 0
    return 1 + (yield count(items[1:]))


assert_type(count(("a", "b")), int)


# store= also takes a function (or class) that makes the store, as memoize's does.
@dp(store=lambda: LRUStore(10))
def made(n: int) -> Generator[int, int, int]:
    return n
    yield


@dp(store=DictStore)
def made_by_class(n: int) -> Generator[int, int, int]:
    return n
    yield


assert_type(made(1) + made_by_class(1), int)


# A generator that yields sub-calls of other types may say so with Any.
@dp
def lengths(words: tuple[str, ...]) -> Generator[object, object, list[int]]:
    return [len(w) for w in words]
    yield


assert_type(lengths(("a",)), list[int])


ev: DagEvaluator[str, int] = DagEvaluator(
    inputs=lambda node: [],
    compute=lambda node, values: len(node) + sum(values),
)
assert_type(ev.evaluate("a"), int)
assert_type(ev.evaluate_many(["a", "b"]), list[int])
assert_type(ev.stats(), DagStats)
assert_type(ev.stats().recomputations, int)
assert_type(ev.invalidate("a"), bool)
assert_type(ev.clear(), None)

keyed = DagEvaluator(inputs=lambda n: [n - 1] if n else [], compute=lambda n, vs: n, key=str)
assert_type(keyed.evaluate(3), int)

err = CycleError([1, 2, 1])
assert_type(err.path, tuple[object, ...])
