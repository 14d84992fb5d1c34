"""Hypothesis properties: a memoized function is observably the function itself.

"memoized f == f" for every configuration, on random inputs and random call
orders; and the bounded cache's hits and misses agree with an ``OrderedDict``
model of the least-recently-used rule.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from memokit import LRUStore, Memoized, memoize
from tests.helpers.strategies import call_sequences, plain_args, plain_scalars, typed_scalars

PROPERTY_SETTINGS = settings(max_examples=150, deadline=None)

#: One call: positional arguments ``(a, b)`` and whether to pass ``b`` by keyword.
calls = st.lists(st.tuples(plain_args, plain_args, st.booleans()), max_size=25)


def describe(a: Hashable, b: Hashable = "default", *, c: int = 0) -> tuple[Any, ...]:
    """A pure function of its arguments whose result changes with each of them."""
    return (repr(a), repr(b), c, hash((a, b, c)))


def kind_of(x: object) -> tuple[str, object]:
    """A pure function that tells apart values of different types."""
    return (type(x).__name__, x)


def check_agrees(memoized: Callable[..., Any], sequence: list[tuple[Any, Any, bool]]) -> None:
    """Call ``memoized`` along ``sequence`` (twice) and compare every result with describe."""
    for _ in range(2):
        for a, b, by_keyword in sequence:
            got = memoized(a, b=b) if by_keyword else memoized(a, b)
            assert got == describe(a, b)


@PROPERTY_SETTINGS
@given(sequence=calls)
def test_default_memoize_equals_the_function(sequence: list[tuple[Any, Any, bool]]) -> None:
    """The unbounded default cache returns what the function returns, for any call order."""
    memoized = memoize(describe)
    check_agrees(memoized, sequence)
    distinct = {(a, b) for a, b, _ in sequence}
    assert memoized.cache_info().misses == len(distinct)


@PROPERTY_SETTINGS
@given(sequence=calls, maxsize=st.integers(0, 4))
def test_bounded_memoize_equals_the_function(
    sequence: list[tuple[Any, Any, bool]], maxsize: int
) -> None:
    """A small LRU cache, evicting constantly, still returns what the function returns."""
    memoized = memoize(maxsize=maxsize)(describe)
    check_agrees(memoized, sequence)
    assert memoized.cache_info().currsize <= maxsize


@PROPERTY_SETTINGS
@given(values=st.lists(typed_scalars, max_size=25))
def test_typed_memoize_equals_the_function(values: list[Any]) -> None:
    """With typed=True, a function that distinguishes 1, 1.0 and True is still exact."""
    memoized = memoize(typed=True)(kind_of)
    for x in values + values:
        assert memoized(x) == kind_of(x)
    distinct = {(type(x), x) for x in values}
    assert memoized.cache_info().misses == len(distinct)


@PROPERTY_SETTINGS
@given(pairs=st.lists(st.tuples(plain_scalars, st.integers()), max_size=25))
def test_key_function_memoize_equals_the_function(pairs: list[tuple[Any, int]]) -> None:
    """With key= ignoring an argument the result does not depend on, results are exact."""
    computed: list[Any] = []

    def first(x: Hashable, noise: int) -> str:
        computed.append(x)
        return repr(x)

    memoized = memoize(key=lambda x, noise: x)(first)
    for x, noise in pairs:
        assert memoized(x, noise) == repr(x)
    assert len(computed) == len({x for x, _ in pairs})


@PROPERTY_SETTINGS
@given(sequence=call_sequences, maxsize=st.integers(0, 5), as_store=st.booleans())
def test_lru_memoize_matches_the_lru_model(
    sequence: list[int], maxsize: int, as_store: bool
) -> None:
    """memoize with an LRU bound returns f's results and hits exactly when an LRU model hits."""
    computed: list[int] = []

    def square(n: int) -> int:
        computed.append(n)
        return n * n

    memoized: Memoized[[int], int]
    if as_store:
        memoized = memoize(store=LRUStore(maxsize))(square)
    else:
        memoized = memoize(maxsize=maxsize)(square)
    model: OrderedDict[int, None] = OrderedDict()
    hits = evictions = 0
    expected_computed: list[int] = []
    for n in sequence:
        assert memoized(n) == n * n
        if n in model:
            hits += 1
            model.move_to_end(n)
            continue
        expected_computed.append(n)
        if maxsize:
            if len(model) >= maxsize:
                model.popitem(last=False)
                evictions += 1
            model[n] = None
    assert computed == expected_computed
    info = memoized.cache_stats()
    assert (info.hits, info.misses, info.currsize) == (hits, len(sequence) - hits, len(model))
    assert info.evictions == evictions
    assert all((memoized.cache_invalidate(n) is (n in model)) for n in range(10))
