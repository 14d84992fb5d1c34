"""@memoize's two wrappers (memokit/_codegen.py and memokit/_core/memo.c) agree.

The differential test draws random lives of one cache (tests/core/strategies.py):
calls of every key form, positional and by keyword, with typed= or without,
over a dict or an LRU store, with entries expiring on a fake clock, calls
that raise and arguments that cannot be hashed, invalidations and clears. It
runs each program on a cache made with the generated Python wrapper and on
one made with the compiled ``Memo``, and compares everything a user can
observe after each operation: results and errors, ``cache_info()``,
``cache_stats()``, the store's entries in order, the calls the function saw
and the clock's reads. The other tests here pin down reentrancy: a key whose
``__hash__`` or ``__eq__`` uses the same cache, a function that clears its
own cache while it runs.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any, cast

from hypothesis import given, settings

from memokit import _callthrough, _methods, memoize
from memokit.stores import _lru
from tests.core.conftest import requires_compiled
from tests.core.strategies import RAISE, MemoProgram, memo_programs
from tests.helpers.memo import FakeClock

DIFFERENTIAL = settings(max_examples=300, deadline=None)
#: The compiled wrapper's type (None when the core is not live: then every test here skips).
MEMO = _callthrough.COMPILED
#: The compiled front of a memoized method.
FRONT = _methods.FRONT
#: The LRU store's insertion in C.
PUT = _lru.PUT


class Failure(Exception):
    """What the memoized function raises for the argument RAISE."""


@contextlib.contextmanager
def wrappers(compiled: bool) -> Iterator[None]:
    """Make caches, while inside, with the compiled wrapper or the Python reference."""
    saved = _callthrough.COMPILED, _methods.FRONT, _lru.PUT
    live = (MEMO, FRONT, PUT) if compiled else (None, None, None)
    _callthrough.COMPILED, _methods.FRONT, _lru.PUT = live
    try:
        yield
    finally:
        _callthrough.COMPILED, _methods.FRONT, _lru.PUT = saved


def outcome_of(call: Callable[[], Any]) -> tuple[Any, ...]:
    """("value", v), or the error's type and message."""
    try:
        return ("value", call())
    except Exception as exc:
        return ("error", type(exc).__name__, str(exc))


def state_of(cached: Any) -> tuple[Any, ...]:
    """What a user can see of a cache: its statistics and its store's entries, in order."""
    entries = list(cached.cache_store._data.items())
    return cached.cache_info(), cached.cache_stats(), entries


# ---------------------------------------------------------------- the differential test


def make_cache(program: MemoProgram, clock: FakeClock, log: list[tuple[Any, ...]]) -> Any:
    """The program's cache over a function that logs its calls and raises for RAISE."""
    options: dict[str, Any] = {"maxsize": program.maxsize, "typed": program.typed}
    if program.ttl is not None:
        options.update(ttl=program.ttl, clock=clock)

    def one(a: Any) -> Any:
        log.append((a,))
        if a == RAISE:
            raise Failure(len(log))
        return (a, len(log))

    def two(a: Any, b: Any) -> Any:
        log.append((a, b))
        if RAISE in (a, b):
            raise Failure(len(log))
        return (a, b, len(log))

    return memoize(**options)(one if program.arity == 1 else two)


def spelled(operation: Callable[..., Any], args: tuple[Any, ...], by_keyword: bool) -> Any:
    """Call ``operation`` with ``args``, the last one by keyword (named b, or a alone)."""
    if not by_keyword:
        return operation(*args)
    *first, last = args
    return operation(*first, **{"b" if first else "a": last})


def observe(program: MemoProgram, *, compiled: bool) -> list[Any]:
    """Run the program on one wrapper; return what was seen after each operation."""
    clock = FakeClock()
    log: list[tuple[Any, ...]] = []
    with wrappers(compiled):
        cached = make_cache(program, clock, log)
    assert (type(cached) is MEMO) is compiled  # ran on the wrapper it was meant for
    seen: list[Any] = []
    for operation in program.operations:
        kind = operation[0]
        if kind in ("call", "invalidate"):
            target = cached if kind == "call" else cached.cache_invalidate
            seen.append(outcome_of(functools.partial(spelled, target, *operation[1:])))
        elif kind == "clear":
            cached.cache_clear()
        else:
            clock.advance(operation[1])
        seen.append(state_of(cached))
    return [*seen, log, clock.reads]


@requires_compiled
@DIFFERENTIAL
@given(memo_programs())
def test_both_wrappers_agree_on_random_programs(program: MemoProgram) -> None:
    """Same results, errors, statistics, store entries, calls and clock reads after every step."""
    assert observe(program, compiled=True) == observe(program, compiled=False)


# ---------------------------------------------------------------- reentrancy


def both(scenario: Callable[[], list[Any]]) -> list[Any]:
    """Run a scenario on each live wrapper; check they saw the same things; return that."""
    with wrappers(False):
        reference = scenario()
    if MEMO is not None:
        with wrappers(True):
            compiled = scenario()
        assert compiled == reference
    return reference


def test_a_key_whose_hash_calls_the_same_cache() -> None:
    """A key's __hash__ that calls the cache it is a key of: right values, each computed once."""

    def scenario() -> list[Any]:
        log: list[Any] = []

        class Key:
            def __init__(self, n: int) -> None:
                self.n = n

            def __hash__(self) -> int:
                return hash(f(self.n - 1))  # a reentrant call (an int key) while hashing

            def __eq__(self, other: object) -> bool:
                return isinstance(other, Key) and other.n == self.n

        @memoize
        def f(x: Any) -> Any:
            log.append(x if isinstance(x, int) else ("key", x.n))
            return x * 10 if isinstance(x, int) else ("key", x.n)

        results = [f(Key(3)), f(Key(3)), f(Key(4)), f(2)]
        return [results, log, f.cache_info()]

    results, log, info = both(scenario)
    assert results == [("key", 3), ("key", 3), ("key", 4), 20]
    assert log == [2, ("key", 3), 3, ("key", 4)]
    assert info.misses == 4


def test_a_key_whose_eq_uses_the_same_cache() -> None:
    """Keys that collide and whose __eq__ calls, or clears, the cache: right values, no crash."""

    def scenario() -> list[Any]:
        log: list[Any] = []
        reentrant = True

        class Collide:
            def __init__(self, n: int, clears: bool) -> None:
                self.n, self.clears = n, clears

            def __hash__(self) -> int:
                return 7

            def __eq__(self, other: object) -> bool:
                if reentrant:
                    f(100 + self.n)  # inserts into the table being searched
                    if self.clears:
                        f.cache_clear()
                return isinstance(other, Collide) and other.n == self.n

        @memoize(maxsize=8)
        def f(x: Any) -> Any:
            log.append(x if isinstance(x, int) else x.n)
            return x if isinstance(x, int) else -x.n

        results = [f(Collide(1, False)), f(Collide(2, False)), f(Collide(1, False))]
        results += [f(Collide(3, True)), f(Collide(3, True)), f(Collide(1, False))]
        reentrant = False  # reading the store looks keys up too
        data = cast(Any, f.cache_store)._data
        keys = [k if isinstance(k, int) else next(iter(k)).n for k in list(data)]
        return [results, log, f.cache_info(), keys]

    results, log, info, keys = both(scenario)
    assert results == [-1, -2, -1, -3, -3, -1]
    # Each clear (inside Collide(3)'s comparisons) drops what was computed so far.
    assert log == [1, 102, 2, 101, 103, 3, 103, 3, 101, 1]
    assert info[:2] == (4, 3)  # counted since the last clear
    assert keys == [3, 101, 1]


def test_a_function_that_clears_its_own_cache_mid_call() -> None:
    """cache_clear() inside a computation: the value is still returned and stored, counts agree."""

    def scenario() -> list[Any]:
        log: list[int] = []

        @memoize(maxsize=4)
        def f(n: int) -> int:
            log.append(n)
            if n == 10:
                f.cache_clear()
                return f(1) + f(2) + 100
            return n if n < 1 else f(n - 1) + 1

        results = [f(2), f(2), f(10), f(10), f(1)]
        return [results, log, state_of(f)]

    results, log, (info, _, entries) = both(scenario)
    assert results == [2, 2, 103, 103, 1]
    assert log == [2, 1, 0, 10, 1, 0, 2]  # f(1), f(0) and f(2) recomputed after the clear
    assert entries == [(0, 0), (2, 2), (10, 103), (1, 1)]  # f(10) stored after the clear
    assert info[:2] == (3, 3)  # counted since the clear
