"""A key's ``__hash__`` runs once per call, and the machinery never calls a memoized builtin.

A :class:`Counted` key counts its hash calls. Every in-memory configuration
(dict, LRU, ttl, sizeof, typed, key=, methods, dp, async) must show exactly
one per call, on hits and misses, for a key that is the argument and for a
key that is a tuple holding it. Keys of the built-in scalar types are used
as they are (hashing them again runs nothing of the user's); any other key
is wrapped with its hash once (``memokit._hashed``), which must never change
what equals what.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import dataclasses
import decimal
import enum
import fractions
from collections.abc import Callable, Generator, Iterator
from typing import Any

import pytest

from memokit import CycleError, LRUStore, dp, memoize
from memokit._hashed import HashedKey, hashed, is_plain, unhashed
from tests.helpers.memo import FakeClock

# Every cache made in a test here runs on both wrappers: the generated Python
# reference and, when the core is live, the compiled one (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("memo_impl")


class Counted:
    """A key that counts every call of its ``__hash__`` (class-wide) and compares by label."""

    hashes = 0

    def __init__(self, label: str) -> None:
        self.label = label

    def __hash__(self) -> int:
        Counted.hashes += 1
        return hash(self.label)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Counted) and other.label == self.label

    def __repr__(self) -> str:
        return f"Counted({self.label!r})"


def hashes_during(action: Callable[[], object]) -> int:
    """How many times a Counted key was hashed while ``action`` ran."""
    Counted.hashes = 0
    action()
    return Counted.hashes


CONFIGS: list[Any] = [
    pytest.param({}, id="dict"),
    pytest.param({"maxsize": 4}, id="lru"),
    pytest.param({"ttl": 60, "clock": FakeClock()}, id="dict-ttl"),
    pytest.param({"maxsize": 4, "ttl": 60, "clock": FakeClock()}, id="lru-ttl"),
    pytest.param({"maxsize": 100, "sizeof": lambda value: 1}, id="lru-sizeof"),
    pytest.param({"typed": True}, id="typed"),
    pytest.param({"maxsize": 4, "key": lambda x, y=0: (x, y)}, id="key-function"),
]


@pytest.mark.parametrize("options", CONFIGS)
def test_one_hash_per_call_on_hits_and_misses(options: dict[str, Any]) -> None:
    """Misses and hits each hash the key once, whichever store and options (a counting __hash__)."""
    f = memoize(**options)(lambda x, y=0: y)
    a, b = Counted("a"), Counted("b")
    assert hashes_during(lambda: f(a)) == 1  # miss
    assert hashes_during(lambda: f(b)) == 1  # miss
    assert hashes_during(lambda: f(a)) == 1  # hit (in an LRU: not the newest entry)
    assert hashes_during(lambda: f(Counted("a"))) == 1  # hit with an equal, new key object
    assert hashes_during(lambda: f(a, 1)) == 1  # a tuple key holding it
    assert hashes_during(lambda: f(a, y=1)) == 1
    assert hashes_during(lambda: f.cache_invalidate(b)) == 1
    assert f.cache_info()[:2] == (3, 3)


def test_one_hash_per_call_with_keyword_arguments() -> None:
    """A **kwargs key (a frozenset, which keeps its hash) hashes each value once."""
    f = memoize(maxsize=8)(lambda **kw: len(kw))
    a = Counted("a")
    assert hashes_during(lambda: f(x=a)) == 1
    assert hashes_during(lambda: f(x=a)) == 1


@pytest.mark.parametrize("maxsize", [None, 4], ids=["dict", "lru"])
def test_one_hash_per_call_on_a_method(maxsize: int | None) -> None:
    """A method's argument is hashed once per call too."""

    class Model:
        @memoize(maxsize=maxsize)
        def predict(self, x: Counted) -> str:
            return x.label

    m = Model()
    a = Counted("a")
    assert hashes_during(lambda: m.predict(a)) == 1
    assert hashes_during(lambda: m.predict(a)) == 1


def test_one_hash_per_call_in_dp() -> None:
    """A dp function's key is hashed once per call, and its sub-problems once each."""

    @dp(maxsize=10)
    def size(items: tuple[Counted, ...]) -> Generator[int, int, int]:
        if not items:
            return 0
        rest = yield size(items[1:])
        return rest + 1

    a, b = Counted("a"), Counted("b")
    assert hashes_during(lambda: size((a, b))) == 3  # keys (a, b) and (b,): b is in both
    assert hashes_during(lambda: size((a, b))) == 2  # a hit: the key (a, b), once


def test_one_hash_per_call_async() -> None:
    """An async miss (a task per key) and an async hit each hash the key once."""

    @memoize(maxsize=4)
    async def label(x: Counted) -> str:
        await asyncio.sleep(0)
        return x.label

    a = Counted("a")
    assert hashes_during(lambda: asyncio.run(label(a))) == 1
    assert hashes_during(lambda: asyncio.run(label(a))) == 1


def test_a_frozen_dataclass_argument_is_hashed_once() -> None:
    """A frozen dataclass's generated __hash__ (a tuple of its fields) runs once per call."""
    calls = 0

    @dataclasses.dataclass(frozen=True)
    class Point:
        x: int
        y: int

        def __hash__(self) -> int:
            nonlocal calls
            calls += 1
            return hash((self.x, self.y))

    f = memoize(maxsize=8)(lambda p: p.x + p.y)
    for _ in range(3):
        assert f(Point(1, 2)) == 3
    assert calls == 3
    assert f.cache_info()[:2] == (2, 1)


# ---------------------------------------------------------------- wrapping never changes equality


@pytest.mark.parametrize("options", [{}, {"maxsize": 4}, {"ttl": 60}], ids=["dict", "lru", "ttl"])
def test_equal_keys_share_an_entry_when_their_hashing_is_built_in(options: dict[str, Any]) -> None:
    """1, 1.0, True, IntEnum and Decimal 1 are one entry; Fraction(1), hashed in Python, another."""

    class One(enum.IntEnum):
        ONE = 1

    def recording(calls: list[object]) -> Callable[[object], str]:
        def one(x: object) -> str:
            calls.append(x)
            return "one"

        return one

    calls: list[object] = []
    f = memoize(**options)(recording(calls))
    for key in (1, 1.0, True, One.ONE, decimal.Decimal(1)):
        assert f(key) == "one"
    assert calls == [1]
    # A key whose __hash__ is written in Python is wrapped with its hash: it
    # never meets an unwrapped key, as 1 and 1.0 never meet in lru_cache.
    assert f(fractions.Fraction(1)) == "one" and f(fractions.Fraction(1)) == "one"
    assert calls == [1, fractions.Fraction(1)]
    assert f.cache_invalidate(fractions.Fraction(1)) is True
    assert f.cache_invalidate(1.0) is True


def test_typed_still_separates_equal_keys_of_different_types() -> None:
    """typed=True keeps 5 and Fraction(5) apart, as it keeps 1 and 1.0 apart."""
    f = memoize(typed=True)(lambda x: type(x).__name__)
    assert (f(5), f(fractions.Fraction(5))) == ("int", "Fraction")


def test_the_store_lists_and_reads_keys_as_the_user_gave_them() -> None:
    """cache_keys() and store.get show keys unwrapped: the wrapping never leaks."""
    f = memoize(maxsize=4)(lambda x, y=0: x)
    a = Counted("a")
    f(a)
    f((1, 2), 3)
    assert f.cache_keys() == [(a, 0), ((1, 2), 3)]  # the bound arguments, defaults filled in
    store = f.cache_store
    assert store.get((a, 0)) is a
    assert store.get(((1, 2), 3)) == (1, 2)


def test_a_cycle_error_names_its_keys_unwrapped() -> None:
    """CycleError.path holds the keys as called, even when the store wraps them."""

    @dp
    def loop(pair: tuple[int, int]) -> Generator[int, int, int]:
        return (yield loop((pair[1], pair[0])))

    with pytest.raises(CycleError) as info:
        loop((1, 2))
    assert info.value.path == ((1, 2), (2, 1), (1, 2))


def test_hashed_keys_by_type() -> None:
    """Keys hashed in C (and tuples of them) are used as they are; others are wrapped once."""

    class Plain:
        pass

    plain: tuple[object, ...] = (1, 1.5, "s", b"b", True, None, int, Plain(), (1, "a"), ())
    for key in plain:
        assert hashed(key) is key
    wrapped_keys: tuple[object, ...] = (
        (1, (2,)),
        Counted("a"),
        fractions.Fraction(1, 3),
        frozenset({1}),  # a frozenset is wrapped too: in a table, every frozenset is a wrapper
    )
    for key in wrapped_keys:
        wrapped = hashed(key)
        assert type(wrapped) is HashedKey and unhashed(wrapped) is key
        assert wrapped != key and wrapped == hashed(key)
    assert is_plain(Plain) and not is_plain(Counted) and not is_plain(tuple)
    with pytest.raises(TypeError):
        hashed([1])


def test_a_frozenset_argument_and_its_item_are_two_entries() -> None:
    """f(k) and f(frozenset({k})) never share an entry, though a wrapper is a frozenset."""
    f = memoize(lambda x: type(x).__name__)
    k = Counted("k")
    assert (f(k), f(frozenset({k})), f(k)) == ("Counted", "frozenset", "Counted")
    assert f.cache_keys() == [k, frozenset({k})]


def test_a_key_that_equals_nothing_still_finds_itself() -> None:
    """A NaN inside a wrapped key finds its entry by identity, as in a dict."""
    nan = float("nan")
    calls: list[object] = []
    def first(pair: tuple[float, int]) -> float:
        calls.append(pair)
        return pair[0]

    f = memoize(first)
    key = (nan, 1)
    f(key)
    f(key)
    assert len(calls) == 1


def test_annotated_parameters_skip_the_check_and_stay_correct() -> None:
    """A parameter annotated int is used as its own key; an equal int subclass still shares it."""

    class Loud(int):
        def __hash__(self) -> int:
            return int.__hash__(self)

    calls: list[int] = []

    @memoize
    def double(n: int) -> int:
        calls.append(n)
        return 2 * n

    assert double(Loud(3)) == 6
    assert double(3) == 6
    assert calls == [3]


# ---------------------------------------------------------------- memoized builtins


@contextlib.contextmanager
def replaced(name: str, by: Callable[..., Any]) -> Iterator[None]:
    """Replace the builtin ``name`` by ``by`` inside the block only.

    (pytest itself calls builtins such as len() between a test's body and
    its fixtures' teardown, so the original is back before the block ends.)
    """
    original = getattr(builtins, name)
    setattr(builtins, name, by)
    try:
        yield
    finally:
        setattr(builtins, name, original)


STORE_OPTIONS: list[Any] = [
    pytest.param({}, id="dict"),
    pytest.param({"maxsize": 2}, id="lru"),
    pytest.param({"ttl": 60}, id="dict-ttl"),
    pytest.param({"maxsize": 2, "ttl": 60}, id="lru-ttl"),
    pytest.param({"maxsize": 4, "sizeof": lambda value: 1}, id="lru-sizeof"),
]


@pytest.mark.parametrize("options", STORE_OPTIONS)
@pytest.mark.parametrize("name", ["len", "hash", "getattr", "next", "iter", "callable", "id"])
def test_a_memoized_builtin_does_not_break_the_store(name: str, options: dict[str, Any]) -> None:
    """builtins.<name> = memoize(...)(<name>): the cache's own machinery never calls it back."""
    original = getattr(builtins, name)
    memoized = memoize(**options)(original)
    probe = memoize(maxsize=2, ttl=60)(lambda n: n * 2)
    with replaced(name, memoized):
        assert len((1, 2, 3)) == 3  # through the memoized builtin when name == "len"
        results = [probe(n) for n in (1, 2, 3, 1, 2, 3)]
        stats = probe.cache_stats()
        keys = probe.cache_keys()
        probe.cache_invalidate(3)
    assert results == [2, 4, 6, 2, 4, 6]
    assert (stats.misses, stats.evictions, keys) == (6, 4, [2, 3])


def test_a_memoized_len_as_in_the_issue() -> None:
    """builtins.len = memoize(maxsize=4)(len) works for every later len() call."""
    with replaced("len", memoize(maxsize=4)(len)):
        results = [len((1, 2, 3)), len("ab"), len((1,)), len(""), len("abcde"), len("x")]
        bound = LRUStore(2).maxsize
    assert results == [3, 2, 1, 0, 5, 1]
    assert bound == 2
