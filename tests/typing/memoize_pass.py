"""Typing tests for @memoize that mypy --strict must accept (checked by tests/test_typing.py).

This file is type-checked, never run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Any, assert_type

from memokit import CacheInfo, CacheStats, DictStore, LRUStore, Memoized, Store, memoize


@memoize
def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)


as_function: Callable[[int], int] = fib
as_memoized: Memoized[[int], int] = fib
assert_type(fib(10), int)
assert_type(fib(n=10), int)
assert_type(fib.__wrapped__(10), int)
assert_type(fib.cache_info(), CacheInfo)
assert_type(fib.cache_info().hits, int)
assert_type(fib.cache_info().maxsize, int | None)
assert_type(fib.cache_stats(), CacheStats)
assert_type(fib.cache_stats().evictions, int)
assert_type(fib.cache_clear(), None)
assert_type(fib.cache_invalidate(10), bool)
assert_type(fib.cache_invalidate(n=10), bool)


assert_type(fib.cache_stats().expirations, int)
assert_type(fib.cache_keys(), list[Hashable])
assert_type(fib.cache_store, Store[Any])


# Expiry and weight: ttl= seconds or a function of the result, clock=, sizeof=.
@memoize(ttl=60)
def quote(symbol: str) -> float:
    return 1.0


@memoize(ttl=lambda response: None if response.endswith("!") else 5.0, clock=time.monotonic)
def fetch(url: str, *, retries: int = 3) -> str:
    return url


@memoize(maxsize=2**20, sizeof=len)
def load(path: str) -> bytes:
    return b""


@memoize(maxsize=100, sizeof=lambda array: 0.5, ttl=1.5)
def frame(index: int) -> list[float]:
    return [float(index)]


assert_type(quote("AAPL"), float)
assert_type(fetch("u", retries=1), str)
assert_type(load("p"), bytes)
assert_type(frame(2), list[float])
assert_type(quote.cache_invalidate("AAPL"), bool)


class Prices:
    @memoize(ttl=30)
    def bid(self, symbol: str) -> float:
        return 1.0


assert_type(Prices().bid("X"), float)


@memoize()
def greet(name: str, punctuation: str = "!", *, loud: bool = False) -> str:
    text = f"hello {name}{punctuation}"
    return text.upper() if loud else text


assert_type(greet("ada"), str)
assert_type(greet("ada", "?"), str)
assert_type(greet(name="ada", loud=True), str)
assert_type(greet.cache_invalidate("ada", loud=True), bool)


@memoize(maxsize=128)
def pair(a: int, b: str) -> tuple[int, str]:
    return (a, b)


assert_type(pair(1, "x"), tuple[int, str])
assert_type(pair.cache_info(), CacheInfo)


@memoize(maxsize=None, typed=True, key=lambda *args: args)
def scaled(*values: float) -> list[float]:
    return [2 * v for v in values]


assert_type(scaled(1.0, 2.0), list[float])


@memoize(store=LRUStore(16))
def stored(x: bytes) -> int:
    return len(x)


@memoize(store=DictStore)
def stored_factory(x: bytes) -> int:
    return len(x)


assert_type(stored(b"x"), int)
assert_type(stored_factory(b"x"), int)


class Model:
    def __init__(self, weight: float) -> None:
        self.weight = weight

    @memoize
    def predict(self, x: float, *, bias: float = 0.0) -> float:
        return self.weight * x + bias

    @memoize(maxsize=32)
    def label(self, index: int) -> str:
        return str(index)

    @classmethod
    @memoize
    def default(cls, weight: float) -> Model:
        return cls(weight)

    # Only a parameterless staticmethod type-checks (in either order): mypy
    # applies Memoized.__get__ through staticmethod and binds away the first
    # parameter of one that takes arguments.
    @staticmethod
    @memoize
    def version() -> str:
        return "1"

    @memoize
    @staticmethod
    def name() -> str:
        return "model"


m = Model(2.0)
assert_type(m.predict(3.0), float)
assert_type(m.predict(3.0, bias=1.0), float)
assert_type(m.predict.cache_info(), CacheInfo)
assert_type(m.predict.cache_invalidate(3.0), bool)
assert_type(Model(1.0).predict(3), float)
assert_type(m.label(3), str)
assert_type(Model.predict.cache_info(), CacheInfo)
assert_type(Model.default(1.5), Model)
assert_type(m.default(1.5), Model)
assert_type(Model.default.cache_info(), CacheInfo)
assert_type(Model.version(), str)
assert_type(m.version(), str)
assert_type(Model.name(), str)
