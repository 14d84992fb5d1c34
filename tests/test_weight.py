"""Bounds by weight (``sizeof=``): ``maxsize`` in the user's units, such as bytes.

Each test counts calls of the memoized function and reads the store's
counts; the weights are sizes of ``bytes`` values, so the arithmetic can be
checked by hand.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from memokit import CacheStats, LRUStore, dp, memoize

# Every cache made in a test here runs on both wrappers: the generated Python
# reference and, when the core is live, the compiled one (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("memo_impl")


def blob(n: int) -> bytes:
    """A value of n bytes."""
    return b"x" * n


def test_maxsize_bounds_the_total_weight() -> None:
    """With sizeof=len, maxsize is a number of bytes: least recently used blobs go first."""
    calls: list[int] = []

    @memoize(maxsize=100, sizeof=len)
    def load(n: int) -> bytes:
        calls.append(n)
        return blob(n)

    load(40)
    load(30)
    load(20)  # 90 bytes held
    load(40)  # a hit: 40 is now the most recently used
    load(50)  # needs 50: evicts 30 then 20 (least recently used first)
    assert load.cache_keys() == [40, 50]
    assert load.cache_stats() == CacheStats(1, 4, 100, 90, 2, 0)
    load(30)
    assert calls == [40, 30, 20, 50, 30]


def test_an_entry_heavier_than_maxsize_is_not_stored() -> None:
    """A result heavier than the whole bound is returned, never stored, and evicts nothing."""
    calls: list[int] = []

    @memoize(maxsize=100, sizeof=len)
    def load(n: int) -> bytes:
        calls.append(n)
        return blob(n)

    load(10)
    assert len(load(101)) == 101
    load(101)
    assert calls == [10, 101, 101]
    assert load.cache_keys() == [10]
    assert load.cache_stats().evictions == 0


def test_a_heavier_value_replaces_a_key_or_drops_it() -> None:
    """Storing a key again replaces its weight; a value too heavy to store removes the old one."""
    store: LRUStore[bytes] = LRUStore(10, sizeof=len)
    store.set("k", blob(4))
    store.set("k", blob(6))
    assert store.currsize == 6
    store.set("k", blob(11))
    assert store.get("k") is not None and len(store) == 0
    assert store.currsize == 0


def test_a_sizeof_that_raises_caches_nothing() -> None:
    """If sizeof= raises, the call raises it, nothing is stored, and the next call retries."""
    calls: list[int] = []

    def weigh(value: bytes) -> int:
        if len(value) == 3:
            raise ValueError("cannot weigh this")
        return len(value)

    @memoize(maxsize=100, sizeof=weigh)
    def load(n: int) -> bytes:
        calls.append(n)
        return blob(n)

    with pytest.raises(ValueError, match="cannot weigh this"):
        load(3)
    assert load.cache_info().currsize == 0
    with pytest.raises(ValueError, match="cannot weigh this"):
        load(3)
    assert calls == [3, 3]
    assert load(4) == blob(4) and load(4) == blob(4)
    assert calls == [3, 3, 4]


@pytest.mark.parametrize("bad", [-1, float("inf"), float("nan"), "big", None, True])
def test_a_sizeof_returning_no_weight_fails_the_call(bad: Any) -> None:
    """A weight must be a finite number >= 0: anything else fails the call and stores nothing."""
    f = memoize(maxsize=10, sizeof=lambda value: bad)(lambda n: n)
    with pytest.raises((TypeError, ValueError), match="sizeof= function returned"):
        f(1)
    assert f.cache_info().currsize == 0


def test_waiters_get_the_sizeof_error_too() -> None:
    """Threads waiting on a computation whose result cannot be weighed all get the error."""
    started = threading.Event()
    release = threading.Event()
    calls: list[int] = []

    def weigh(value: int) -> int:
        raise RuntimeError("no scale")

    @memoize(maxsize=10, sizeof=weigh)
    def slow(n: int) -> int:
        calls.append(n)
        started.set()
        release.wait(5)
        return n

    errors: list[BaseException] = []

    def call() -> None:
        try:
            slow(1)
        except RuntimeError as exc:
            errors.append(exc)

    first = threading.Thread(target=call)
    first.start()
    started.wait(5)
    others = [threading.Thread(target=call) for _ in range(3)]
    for t in others:
        t.start()
    release.set()
    for t in [first, *others]:
        t.join(5)
    assert len(errors) == 4
    assert len(calls) in (1, 2, 3, 4)  # waiters that arrived after the failure retry
    assert slow.cache_info().currsize == 0


def test_weights_may_be_floats() -> None:
    """A weight may be a float (megabytes, say); the bound compares the sum."""
    f = memoize(maxsize=1, sizeof=lambda mb: mb)(lambda mb: mb)
    for mb in (0.25, 0.5):
        f(mb)
    assert f.cache_info().currsize == 0.75
    f(0.375)
    assert f.cache_stats().evictions == 1  # 0.25 went, so that 0.5 + 0.375 fits
    assert f.cache_info().currsize == 0.875


def test_sizeof_on_a_method_bounds_each_instance() -> None:
    """sizeof= on a method bounds each instance's cache by its own weight."""

    class Images:
        def __init__(self) -> None:
            self.loads = 0

        @memoize(maxsize=10, sizeof=len)
        def load(self, n: int) -> bytes:
            self.loads += 1
            return blob(n)

    a, b = Images(), Images()
    for n in (6, 6, 5, 6):
        a.load(n)
    b.load(6)
    assert (a.loads, b.loads) == (3, 1)
    assert a.load.cache_stats().evictions == 2


def test_sizeof_on_dp_bounds_the_table_by_weight() -> None:
    """dp(maxsize=..., sizeof=...) keeps sub-problems up to a weight, recomputing evicted ones."""
    from collections.abc import Generator

    @dp(maxsize=64, sizeof=lambda row: len(row))
    def rows(n: int) -> Generator[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        if n == 0:
            return (1,)
        above = yield rows(n - 1)
        return tuple(a + b for a, b in zip((0, *above), (*above, 0), strict=True))

    assert rows(20)[10] == 184756
    assert rows.cache_info().currsize <= 64
    assert rows.cache_stats().evictions > 0


@pytest.mark.parametrize(
    ("options", "words"),
    [
        pytest.param({"sizeof": len}, "needs maxsize= too", id="no-maxsize"),
        pytest.param({"sizeof": 3, "maxsize": 4}, r"sizeof=\.\.\.\) takes a function", id="int"),
        pytest.param(
            {"sizeof": len, "store": LRUStore(4)},
            r"store=LRUStore\(maxsize, sizeof=\.\.\.\)",
            id="with-store",
        ),
    ],
)
def test_bad_sizeof_options_are_refused_when_decorating(
    options: dict[str, Any], words: str
) -> None:
    """sizeof= without a bound, or not a function, is refused with the fix in the message."""
    with pytest.raises(TypeError, match=words):
        memoize(**options)


def test_cache_parameters_report_sizeof() -> None:
    """cache_parameters() names sizeof= when given."""
    assert memoize(maxsize=8, sizeof=len)(lambda n: n).cache_parameters()["sizeof"] is len
