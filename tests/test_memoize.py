"""@memoize on plain functions: one behavioural contract, run on every store path.

As CPython's test_functools runs one mixin against the C and the Python
``lru_cache``, :class:`MemoizeContract` runs against the three ways memoize
keeps results: the default ``DictStore``, the bounded ``LRUStore`` and a
third-party store written against the ``Store`` protocol only. Hits are
proven by counting calls of the wrapped function, never by trusting the
cache's own report.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import pickle
import sys
import threading
from collections.abc import Callable, Hashable, Iterator
from typing import Any, ParamSpec, TypeVar, cast

import pytest

from memokit import (
    MISSING,
    CacheInfo,
    CacheStats,
    DictStore,
    LRUStore,
    Memoized,
    Missing,
    Store,
    memoize,
)
from tests.helpers import memo as memo_helpers

# Every cache made in a test here runs on both wrappers: the generated Python
# reference and, when the core is live, the compiled one (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("memo_impl")

P = ParamSpec("P")
R = TypeVar("R")
KeyFunction = Callable[..., Hashable]


class ProtocolStore:
    """A store written against the ``Store`` protocol alone (memoize's generic path)."""

    def __init__(self) -> None:
        self.entries: dict[Hashable, Any] = {}
        self.lock = threading.Lock()

    @property
    def maxsize(self) -> int | None:
        return None

    @property
    def evictions(self) -> int:
        return 0

    def get(self, key: Hashable) -> Any | Missing:
        return self.entries.get(key, MISSING)

    def set(self, key: Hashable, value: Any) -> None:
        with self.lock:
            self.entries[key] = value

    def delete(self, key: Hashable) -> bool:
        # dict.pop(key, default) on an empty dict accepts even an unhashable
        # key: memoize must not rely on the store to report one.
        with self.lock:
            return self.entries.pop(key, MISSING) is not MISSING

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()

    def __len__(self) -> int:
        return len(self.entries)


@pytest.fixture
def deep_stack() -> Iterator[None]:
    """Raise the recursion limit for tests that recurse hundreds of memoized levels."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 20_000))
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


# Undecorated functions of several shapes, decorated by each contract below.
def _one(a: object) -> object:
    return a


def _two(a: object, b: object) -> object:
    return (a, b)


def _star(*args: object) -> object:
    return args


def _kw(**kw: object) -> object:
    return kw


def _kwonly(a: object, *, k: object = None) -> object:
    return (a, k)


UNHASHABLE_CALLS = [
    pytest.param(_one, ([1],), {}, "'a'", "list", id="positional"),
    pytest.param(_one, (), {"a": [1]}, "'a'", "list", id="passed-by-keyword"),
    pytest.param(_one, ((1, [2]),), {}, "'a'", "tuple", id="nested-in-tuple"),
    pytest.param(_two, (1, {2}), {}, "'b'", "set", id="second-parameter"),
    pytest.param(_star, (1, [2]), {}, "'args[1]'", "list", id="var-positional"),
    pytest.param(_kw, (), {"ok": 1, "x": [1]}, "\"kw['x']\"", "list", id="var-keyword"),
    pytest.param(_kwonly, (1,), {"k": {}}, "'k'", "dict", id="keyword-only"),
]


def _fib_reference(n: int) -> int:
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


class MemoizeContract:
    """Behaviour every memoize configuration shares; subclasses choose the store."""

    #: The bound each subclass's caches report.
    maxsize: int | None = None

    def memo(
        self, fn: Callable[P, R], *, typed: bool = False, key: KeyFunction | None = None
    ) -> Memoized[P, R]:
        """Memoize ``fn`` with this contract's store and the given options."""
        raise NotImplementedError

    # ------------------------------------------------------------ hits and keys

    def test_repeated_call_is_a_hit(self) -> None:
        """A second call with the same argument returns the cached result without calling."""
        calls: list[int] = []

        def double(n: int) -> int:
            calls.append(n)
            return 2 * n

        f = self.memo(double)
        assert f(3) == 6
        assert f(3) == 6
        assert calls == [3]
        assert f.cache_info() == CacheInfo(hits=1, misses=1, maxsize=self.maxsize, currsize=1)

    def test_hit_returns_the_same_object(self) -> None:
        """A hit returns the very object the first call computed, not a copy."""

        def fresh(n: int) -> list[int]:
            return [n]

        f = self.memo(fresh)
        first = f(1)
        assert f(1) is first
        assert f(2) is not first

    def test_distinct_arguments_are_distinct_entries(self) -> None:
        """Different arguments each run the function once."""
        calls: list[int] = []

        def ident(n: int) -> int:
            calls.append(n)
            return n

        f = self.memo(ident)
        for n in [1, 2, 1, 3, 2, 1]:
            assert f(n) == n
        assert calls == [1, 2, 3]

    def test_none_result_is_cached(self) -> None:
        """A function returning None is cached like any other result."""
        calls: list[int] = []

        def nothing(n: int) -> None:
            calls.append(n)

        f = self.memo(nothing)
        assert f(1) is None
        assert f(1) is None
        assert calls == [1]

    def test_positional_keyword_and_default_share_one_entry(self) -> None:
        """f(1), f(x=1) and f(1, y=<default>) are bound to one key (unlike functools)."""
        calls: list[tuple[int, int]] = []

        def add(x: int, y: int = 10) -> int:
            calls.append((x, y))
            return x + y

        f = self.memo(add)
        results = [f(1), f(x=1), f(1, 10), f(1, y=10), f(x=1, y=10), f(y=10, x=1)]
        assert results == [11] * 6
        assert calls == [(1, 10)]
        assert f.cache_info().currsize == 1
        assert f(1, 11) == 12
        assert calls == [(1, 10), (1, 11)]

    def test_positional_only_and_keyword_only_parameters(self) -> None:
        """Positional-only and keyword-only parameters bind, with defaults, to one key."""
        calls: list[tuple[int, int, int]] = []

        def shaped(a: int, /, b: int = 2, *, c: int = 3) -> int:
            calls.append((a, b, c))
            return a * 100 + b * 10 + c

        f = self.memo(shaped)
        assert [f(1), f(1, 2), f(1, b=2), f(1, c=3), f(1, 2, c=3)] == [123] * 5
        assert f(1, c=4) == 124
        assert calls == [(1, 2, 3), (1, 2, 4)]
        with pytest.raises(TypeError):
            f(a=1)  # type: ignore[call-arg]

    def test_var_positional_and_var_keyword(self) -> None:
        """*args and **kwargs are part of the key; keyword order does not matter."""
        calls: list[tuple[tuple[int, ...], dict[str, int]]] = []

        def gather(*args: int, **kwargs: int) -> int:
            calls.append((args, kwargs))
            return sum(args) + 10 * sum(kwargs.values())

        f = self.memo(gather)
        assert f(1, 2) == 3
        assert f(1, 2) == 3
        assert f(2, 1) == 3
        assert f(1, 2, a=1, b=2) == 33
        assert f(1, 2, b=2, a=1) == 33
        assert f() == 0
        assert f(a=1) == 10
        assert len(calls) == 5
        assert f.cache_info().currsize == 5

    def test_mixed_signature(self) -> None:
        """A signature with every parameter kind keys on all of them."""
        calls: list[object] = []

        def mixed(a: int, b: int = 0, *rest: int, flag: bool = False, **opts: int) -> object:
            result = (a, b, rest, flag, sorted(opts.items()))
            calls.append(result)
            return result

        f = self.memo(mixed)
        f(1)
        f(a=1)
        f(1, 0, flag=False)
        f(1, 0, 5)
        f(1, 0, 5, flag=True)
        f(1, 0, 5, flag=True, z=1)
        f(1, 0, 5, z=1, flag=True)
        assert len(calls) == 4
        assert f.cache_info().hits == 3

    def test_untyped_shares_equal_values_of_different_types(self) -> None:
        """Without typed=, 1, 1.0 and True are one entry (they compare and hash equal)."""
        calls: list[object] = []

        def kind(x: object) -> str:
            calls.append(x)
            return type(x).__name__

        f = self.memo(kind)
        assert [f(1), f(1.0), f(True)] == ["int", "int", "int"]
        assert len(calls) == 1

    def test_typed_separates_int_and_float(self) -> None:
        """typed=True keeps 1, 1.0 and True apart, for plain, *args and **kwargs parameters."""
        calls: list[object] = []

        def kind(x: object, *more: object, **named: object) -> str:
            calls.append((x, more, named))
            types = [type(v).__name__ for v in (x, *more, *named.values())]
            return ",".join(types)

        f = self.memo(kind, typed=True)
        assert f(1) == "int"
        assert f(1.0) == "float"
        assert f(True) == "bool"
        assert f(1) == "int"
        assert f(0, 1) == "int,int"
        assert f(0, 1.0) == "int,float"
        assert f(0, n=1) == "int,int"
        assert f(0, n=1.0) == "int,float"
        assert f(0, n=1.0) == "int,float"
        assert len(calls) == 7

    def test_key_function_replaces_the_key(self) -> None:
        """key= decides which calls share an entry."""
        calls: list[str] = []

        def shout(s: str) -> str:
            calls.append(s)
            return s.upper()

        f = self.memo(shout, key=lambda s: s.casefold())
        assert f("Hello") == "HELLO"
        assert f("hello") == "HELLO"
        assert f("HELLO") == "HELLO"
        assert calls == ["Hello"]

    def test_key_function_receives_the_bound_arguments(self) -> None:
        """key= is called with the call's arguments bound to the signature, defaults filled."""
        seen: list[tuple[int, int]] = []

        def record(x: int, y: int = 2) -> tuple[int, int]:
            seen.append((x, y))
            return (x, y)

        f = self.memo(lambda x, y=2: x + y, key=record)
        assert f(1) == 3
        assert f(x=1) == 3
        assert f(1, y=2) == 3
        assert seen == [(1, 2), (1, 2), (1, 2)]
        assert f.cache_info().hits == 2

    def test_key_function_makes_unhashable_arguments_cacheable(self) -> None:
        """The remedy the unhashable-argument error suggests works."""
        calls: list[list[int]] = []

        def total(xs: list[int]) -> int:
            calls.append(xs)
            return sum(xs)

        f = self.memo(total, key=tuple)
        assert f([1, 2]) == 3
        assert f([1, 2]) == 3
        assert len(calls) == 1

    # ------------------------------------------------------------ errors

    @pytest.mark.parametrize(("fn", "args", "kwargs", "label", "type_name"), UNHASHABLE_CALLS)
    def test_unhashable_argument_names_the_parameter(
        self,
        fn: Callable[..., object],
        args: tuple[object, ...],
        kwargs: dict[str, object],
        label: str,
        type_name: str,
    ) -> None:
        """An unhashable argument raises a TypeError naming the parameter and suggesting key=."""
        f = self.memo(fn)
        with pytest.raises(TypeError) as info:
            f(*args, **kwargs)
        message = str(info.value)
        assert f"parameter {label}" in message
        assert f"({type_name})" in message
        assert fn.__name__ in message
        assert "key=" in message
        assert f.cache_info().currsize == 0

    @pytest.mark.parametrize(("fn", "args", "kwargs", "label", "type_name"), UNHASHABLE_CALLS)
    def test_unhashable_argument_to_cache_invalidate_names_the_parameter(
        self,
        fn: Callable[..., object],
        args: tuple[object, ...],
        kwargs: dict[str, object],
        label: str,
        type_name: str,
    ) -> None:
        """cache_invalidate reports an unhashable argument the same way a call does."""
        f = self.memo(fn)
        with pytest.raises(TypeError) as info:
            f.cache_invalidate(*args, **kwargs)
        message = str(info.value)
        assert f"parameter {label}" in message
        assert "key=" in message

    def test_exception_is_not_cached(self) -> None:
        """A call that raises stores nothing: the next call runs the function again."""
        calls: list[int] = []

        def flaky(n: int) -> int:
            calls.append(n)
            if len(calls) == 1:
                raise ValueError("first call fails")
            return n

        f = self.memo(flaky)
        with pytest.raises(ValueError, match="first call fails"):
            f(5)
        assert f.cache_info().currsize == 0
        assert f(5) == 5
        assert f(5) == 5
        assert calls == [5, 5]

    @pytest.mark.parametrize("error", [KeyError("inner"), TypeError("inner")])
    def test_function_errors_propagate_unchanged(self, error: Exception) -> None:
        """KeyError or TypeError raised by the function itself reach the caller untouched."""
        calls: list[int] = []

        def broken(n: int) -> int:
            calls.append(n)
            raise error

        f = self.memo(broken)
        for expected_calls in (1, 2):
            with pytest.raises(type(error)) as info:
                f(1)
            assert info.value is error
            assert len(calls) == expected_calls
        assert f.cache_info().currsize == 0

    @pytest.mark.usefixtures("deep_stack")
    def test_deep_failure_builds_no_exception_chain(self) -> None:
        """An error raised 500 memoized levels down carries no __context__ chain."""
        calls: list[int] = []

        def body(self_: Callable[[int], int], n: int) -> int:
            calls.append(n)
            if n == 0:
                raise LookupError("bottom")
            return self_(n - 1) + 1

        f = self._recursive(body)
        with pytest.raises(LookupError) as info:
            f(500)
        assert info.value.__context__ is None
        assert info.value.__cause__ is None
        assert len(calls) == 501
        assert f.cache_info().currsize == 0
        with pytest.raises(LookupError):
            f(3)
        assert calls[501:] == [3, 2, 1, 0]  # nothing was cached on the way up

    def test_cold_recursion_at_the_default_recursion_limit(self) -> None:
        """A cold recursion a quarter of the recursion limit deep needs no raised limit."""
        depth = sys.getrecursionlimit() // 4
        box: list[Callable[[int], int]] = []

        def count(n: int) -> int:
            return 0 if n == 0 else box[0](n - 1) + 1

        f = self.memo(count)
        box.append(f)
        assert f(depth) == depth
        assert f.cache_info().misses == depth + 1

    @pytest.mark.usefixtures("deep_stack")
    def test_deep_recursion_computes_each_level_once(self) -> None:
        """A 400-deep memoized recursion runs each level once, then answers from the cache."""
        calls: list[int] = []

        def body(self_: Callable[[int], int], n: int) -> int:
            calls.append(n)
            return 0 if n == 0 else self_(n - 1) + n

        f = self._recursive(body)
        assert f(400) == 400 * 401 // 2
        assert len(calls) == 401
        assert f(400) == 400 * 401 // 2
        assert f(200) == 200 * 201 // 2
        assert len(calls) == 401

    def test_recursive_fibonacci_is_linear(self) -> None:
        """Memoized fib(n) calls its body n + 1 times and agrees with a loop."""
        calls: list[int] = []

        def body(self_: Callable[[int], int], n: int) -> int:
            calls.append(n)
            return n if n < 2 else self_(n - 1) + self_(n - 2)

        fib = self._recursive(body)
        assert fib(90) == _fib_reference(90)
        assert sorted(calls) == list(range(91))

    def _recursive(self, body: Callable[[Callable[[int], int], int], int]) -> Memoized[[int], int]:
        """Memoize a one-int function whose body recurses through the memoized wrapper."""
        box: list[Callable[[int], int]] = []

        def fn(n: int) -> int:
            return body(box[0], n)

        memoized = self.memo(fn)
        box.append(memoized)
        return memoized

    # ------------------------------------------------------------ cache controls

    def test_cache_info_matches_functools_on_positional_calls(self) -> None:
        """CacheInfo has functools' fields and, for positional calls, functools' numbers."""
        sequence = [1, 2, 1, 3, 3, 3, 2, 7, 1]
        ours = self.memo(lambda n: n * n)
        theirs = functools.lru_cache(maxsize=self.maxsize)(lambda n: n * n)
        for n in sequence:
            assert ours(n) == theirs(n)
        info = ours.cache_info()
        assert isinstance(info, CacheInfo)
        assert info._fields == theirs.cache_info()._fields
        assert tuple(info) == tuple(theirs.cache_info())
        assert info.hits + info.misses == len(sequence)

    def test_cache_stats_extends_cache_info(self) -> None:
        """cache_stats() is cache_info() plus an eviction count."""
        f = self.memo(lambda n: n)
        for n in [1, 1, 2]:
            f(n)
        stats = f.cache_stats()
        assert isinstance(stats, CacheStats)
        assert stats[:4] == tuple(f.cache_info())
        assert stats.evictions == 0

    def test_cache_clear_resets_entries_and_counters(self) -> None:
        """cache_clear() forgets every entry and zeroes hits and misses."""
        calls: list[int] = []

        def ident(n: int) -> int:
            calls.append(n)
            return n

        f = self.memo(ident)
        for n in [1, 2, 1]:
            f(n)
        f.cache_clear()
        assert f.cache_info() == CacheInfo(0, 0, self.maxsize, 0)
        assert f.cache_stats().evictions == 0
        f(1)
        assert calls == [1, 2, 1]

    def test_cache_invalidate_forgets_exactly_one_entry(self) -> None:
        """cache_invalidate forgets the entry that call would hit and nothing else."""
        calls: list[tuple[int, int]] = []

        def add(x: int, y: int = 0) -> int:
            calls.append((x, y))
            return x + y

        f = self.memo(add)
        f(1)
        f(2)
        f(1, 5)
        before = f.cache_info()
        assert f.cache_invalidate(x=1, y=0) is True  # the entry f(1) made
        assert f.cache_invalidate(1) is False  # already gone
        assert f.cache_invalidate(9) is False  # never there
        after = f.cache_info()
        assert (after.hits, after.misses, after.currsize) == (before.hits, before.misses, 2)
        f(2)
        f(1, 5)
        assert len(calls) == 3
        f(1)
        assert calls[-1] == (1, 0)
        assert len(calls) == 4

    def test_cache_invalidate_respects_typed(self) -> None:
        """With typed=True, invalidating 1.0 leaves the entry for 1."""
        calls: list[object] = []

        def kind(x: object) -> str:
            calls.append(x)
            return type(x).__name__

        f = self.memo(kind, typed=True)
        f(1)
        f(1.0)
        assert f.cache_invalidate(1.0) is True
        assert f(1) == "int"
        assert len(calls) == 2
        assert f(1.0) == "float"
        assert len(calls) == 3

    def test_cache_invalidate_uses_the_key_function(self) -> None:
        """With key=, cache_invalidate forgets the entry of every call sharing that key."""
        calls: list[str] = []

        def upper(s: str) -> str:
            calls.append(s)
            return s.upper()

        f = self.memo(upper, key=str.casefold)
        f("Ab")
        assert f.cache_invalidate("aB") is True
        f("ab")
        assert calls == ["Ab", "ab"]

    def test_cache_parameters(self) -> None:
        """cache_parameters() reports the options, as a copy."""
        key = str.casefold
        f = self.memo(str.upper, typed=True, key=key)
        params = f.cache_parameters()
        assert params["maxsize"] == self.maxsize
        assert params["typed"] is True
        assert params["key"] is key
        params["typed"] = False
        assert f.cache_parameters()["typed"] is True

    def test_wrapper_metadata_and_signature(self) -> None:
        """The wrapper carries the function's name, docs, attributes and exact signature."""

        def documented(x: int, /, y: str = "a", *rest: int, z: bool = False, **kw: int) -> str:
            """Documented function."""
            return y

        documented.__dict__["marker"] = "kept"
        f = self.memo(documented)
        assert f.__wrapped__ is documented
        for attr in ("__name__", "__qualname__", "__doc__", "__module__", "__annotations__"):
            assert getattr(f, attr) == getattr(documented, attr)
        assert getattr(f, "marker", None) == "kept"
        assert inspect.signature(f) == inspect.signature(documented)
        assert f(1, "b") == "b"

    def test_lambda_is_memoized(self) -> None:
        """A lambda (whose name is not an identifier) is memoized and keeps its name."""
        counter = itertools.count()
        f = self.memo(lambda n: (next(counter), n + 1)[1])
        assert f(1) == 2
        assert f(1) == 2
        assert next(counter) == 1  # the lambda ran once
        assert getattr(f, "__name__", None) == "<lambda>"

    def test_parameter_names_used_by_generated_code(self) -> None:
        """Parameters named like the wrapper's internals (value, key, hits, self...) still work."""
        calls: list[tuple[int, ...]] = []

        def clash(
            value: int,
            key: int,
            hits: int,
            misses: int,
            data: int = 0,
            self: int = 0,
            args: int = 0,
            kwargs: int = 0,
        ) -> int:
            calls.append((value, key, hits, misses, data, self, args, kwargs))
            return value + key + hits + misses + data + self + args + kwargs

        f = self.memo(clash)
        assert f(1, 2, 3, 4) == 10
        assert f(value=1, key=2, hits=3, misses=4, data=0, self=0) == 10
        assert f(1, 2, 3, 4, kwargs=5) == 15
        assert len(calls) == 2

    def test_parameters_named_like_builtins(self) -> None:
        """Parameters that shadow builtins (len, type, hash, id, tuple, map) do not break misses."""
        calls: list[int] = []

        def shadow(
            len: int, type: int = 0, hash: int = 0, id: int = 0, tuple: int = 0, map: int = 0
        ) -> int:
            calls.append(len)
            return len + type + hash + id + tuple + map

        f = self.memo(shadow)
        assert f(1) == 1
        assert f(len=1) == 1
        assert f(2, 1, 1, 1, 1, 1) == 7
        assert calls == [1, 2]

    def test_function_named_like_a_builtin(self) -> None:
        """A function whose name shadows a builtin (len) is memoized like any other."""
        calls: list[str] = []

        def len(s: str) -> int:
            calls.append(s)
            return sum(1 for _ in s)

        f = self.memo(len)
        assert f("abc") == 3
        assert f("abc") == 3
        assert calls == ["abc"]

    def test_parameter_with_reserved_prefix_falls_back_to_flat_keys(self) -> None:
        """A parameter named with the generated code's prefix still caches correctly."""
        calls: list[int] = []

        def prefixed(_mk_key: int, other: int = 3) -> int:
            calls.append(_mk_key)
            return _mk_key + other

        f = self.memo(prefixed)
        assert f(1) == 4
        assert f(1) == 4
        assert f(1, 4) == 5
        assert calls == [1, 1]

    def test_builtin_without_signature_uses_functools_keys(self) -> None:
        """A builtin whose signature cannot be read is keyed as functools keys it."""
        with pytest.raises(ValueError):
            inspect.signature(max)  # the premise: this builtin has no readable signature
        builtin_max = cast(Callable[..., Any], max)
        ours = self.memo(builtin_max)
        theirs = functools.lru_cache(maxsize=self.maxsize)(builtin_max)
        calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
            ((1, 2), {}),
            ((1, 2), {}),
            ((2, 1), {}),
            ((3, -4), {"key": abs}),
            ((3, -4), {"key": abs}),
            ((3, -4), {}),
        ]
        for args, kwargs in calls:
            assert ours(*args, **kwargs) == theirs(*args, **kwargs)
        assert tuple(ours.cache_info()) == tuple(theirs.cache_info())
        with pytest.raises(TypeError, match=r"'argument 2' \(list\).*key="):
            ours(1, [2])

    def test_builtin_without_signature_typed(self) -> None:
        """typed=True also separates types on the flat-key path."""
        f = self.memo(cast(Callable[..., Any], max), typed=True)
        assert f(1, 2) == 2
        assert f(1.0, 2) == 2
        assert f(1, 2) == 2
        assert f.cache_info()[:2] == (1, 2)


class TestDictStorePath(MemoizeContract):
    """The default configuration: an unbounded DictStore."""

    maxsize = None

    def memo(
        self, fn: Callable[P, R], *, typed: bool = False, key: KeyFunction | None = None
    ) -> Memoized[P, R]:
        return memoize(typed=typed, key=key)(fn)


class TestLRUStorePath(MemoizeContract):
    """A bounded LRUStore, large enough that these tests never evict."""

    maxsize = 256

    def memo(
        self, fn: Callable[P, R], *, typed: bool = False, key: KeyFunction | None = None
    ) -> Memoized[P, R]:
        return memoize(maxsize=256, typed=typed, key=key)(fn)


class TestExpiringDictPath(MemoizeContract):
    """ttl= on the default dict store: entries carry deadlines (none passes in these tests)."""

    maxsize = None

    def memo(
        self, fn: Callable[P, R], *, typed: bool = False, key: KeyFunction | None = None
    ) -> Memoized[P, R]:
        return memoize(ttl=3600, typed=typed, key=key)(fn)


class TestExpiringLRUPath(MemoizeContract):
    """ttl= on a bounded store."""

    maxsize = 256

    def memo(
        self, fn: Callable[P, R], *, typed: bool = False, key: KeyFunction | None = None
    ) -> Memoized[P, R]:
        return memoize(maxsize=256, ttl=3600, typed=typed, key=key)(fn)


class TestWeightedLRUPath(MemoizeContract):
    """sizeof= on a bounded store, every result weighing 1 (so it bounds as maxsize does)."""

    maxsize = 1_000_000

    def memo(
        self, fn: Callable[P, R], *, typed: bool = False, key: KeyFunction | None = None
    ) -> Memoized[P, R]:
        return memoize(maxsize=1_000_000, sizeof=lambda value: 1, typed=typed, key=key)(fn)


class TestProtocolStorePath(MemoizeContract):
    """A store memokit knows only through the Store protocol."""

    maxsize = None

    def memo(
        self, fn: Callable[P, R], *, typed: bool = False, key: KeyFunction | None = None
    ) -> Memoized[P, R]:
        return memoize(store=ProtocolStore(), typed=typed, key=key)(fn)

    def test_results_live_in_the_given_store(self) -> None:
        """Entries are written to, and forgotten from, the store the caller passed."""
        store = ProtocolStore()
        assert isinstance(store, Store)
        f = memoize(store=store)(lambda n: n + 1)
        f(1)
        f(2)
        assert len(store) == 2
        assert sorted(store.entries.values()) == [2, 3]
        f.cache_invalidate(1)
        assert list(store.entries.values()) == [3]
        f.cache_clear()
        assert len(store) == 0


# ---------------------------------------------------------------- decorator forms and options


def test_bare_and_called_forms_are_equivalent() -> None:
    """@memoize and @memoize() both give an unbounded cache that counts hits."""
    calls: list[str] = []

    @memoize
    def bare(n: int) -> int:
        calls.append("bare")
        return n

    @memoize()
    def called(n: int) -> int:
        calls.append("called")
        return n

    for f in (bare, called):
        f(1)
        f(1)
        assert f.cache_info() == CacheInfo(hits=1, misses=1, maxsize=None, currsize=1)
        assert f.cache_parameters() == {"maxsize": None, "typed": False, "key": None}
    assert calls == ["bare", "called"]


def test_maxsize_bounds_the_cache_least_recently_used_first() -> None:
    """maxsize=N keeps the N most recently used entries and counts evictions."""
    calls: list[int] = []

    @memoize(maxsize=2)
    def ident(n: int) -> int:
        calls.append(n)
        return n

    for n in [1, 2, 1, 3]:  # 1 is refreshed by its hit, so 3 evicts 2
        ident(n)
    assert calls == [1, 2, 3]
    ident(1)
    assert calls == [1, 2, 3]
    ident(2)
    assert calls == [1, 2, 3, 2]
    info = ident.cache_info()
    assert info.maxsize == 2
    assert info.currsize == 2
    assert ident.cache_stats().evictions == 2
    ident.cache_clear()
    assert ident.cache_stats() == CacheStats(0, 0, 2, 0, 0)


def test_maxsize_bounded_cache_matches_functools() -> None:
    """A bounded memoize hits and misses exactly like lru_cache of the same size."""
    sequence = [1, 2, 3, 1, 4, 2, 5, 1, 1, 3, 6, 7, 3, 2]
    for maxsize in range(5):
        ours = memoize(maxsize=maxsize)(lambda n: -n)
        theirs = functools.lru_cache(maxsize=maxsize)(lambda n: -n)
        for n in sequence:
            assert ours(n) == theirs(n)
        assert tuple(ours.cache_info()) == tuple(theirs.cache_info()), maxsize


def test_maxsize_zero_caches_nothing() -> None:
    """maxsize=0 calls the function every time and stores nothing."""
    calls: list[int] = []

    @memoize(maxsize=0)
    def ident(n: int) -> int:
        calls.append(n)
        return n

    for _ in range(3):
        ident(1)
    assert calls == [1, 1, 1]
    assert ident.cache_info() == CacheInfo(hits=0, misses=3, maxsize=0, currsize=0)


@pytest.mark.parametrize(
    ("store", "maxsize"),
    [
        pytest.param(lambda: LRUStore(3), 3, id="factory-lru"),
        pytest.param(DictStore, None, id="class-as-factory"),
        pytest.param(LRUStore(5), 5, id="instance"),
    ],
)
def test_store_option(store: Any, maxsize: int | None) -> None:
    """store= takes a Store or a function that makes one."""
    if isinstance(store, LRUStore):
        store.clear()  # the one instance serves this test on each wrapper
    calls: list[int] = []

    @memoize(store=store)
    def ident(n: int) -> int:
        calls.append(n)
        return n

    ident(1)
    ident(1)
    assert calls == [1]
    assert ident.cache_info().maxsize == maxsize
    assert ident.cache_parameters()["store"] is store


BAD_OPTIONS = [
    pytest.param({"maxsize": "big"}, TypeError, "maxsize", id="maxsize-str"),
    pytest.param({"maxsize": 1.5}, TypeError, "maxsize", id="maxsize-float"),
    pytest.param({"maxsize": True}, TypeError, "maxsize", id="maxsize-bool"),
    pytest.param({"maxsize": -1}, ValueError, ">= 0", id="maxsize-negative"),
    pytest.param({"typed": 1}, TypeError, "typed", id="typed-int"),
    pytest.param({"key": 3}, TypeError, "key", id="key-not-callable"),
    pytest.param({"store": 3}, TypeError, "store", id="store-not-a-store"),
    pytest.param({"maxsize": 3, "store": DictStore()}, TypeError, "both", id="maxsize-and-store"),
]


@pytest.mark.parametrize(("options", "error", "words"), BAD_OPTIONS)
def test_bad_options_are_rejected_with_a_clear_message(
    options: dict[str, Any], error: type[Exception], words: str
) -> None:
    """Wrong option types or values raise at decoration time, naming the option."""
    with pytest.raises(error, match=words) as info:
        memoize(**options)
    assert "memoize" in str(info.value)


def test_store_factory_returning_a_non_store_is_rejected() -> None:
    """A store= factory that makes something else is reported when decorating."""
    with pytest.raises(TypeError, match="factory returned dict"):
        memoize(store=cast(Any, dict))(lambda n: n)


def test_decorating_a_non_callable_is_rejected() -> None:
    """memoize("three") says it needs a function."""
    with pytest.raises(TypeError, match="needs a function to decorate, got str"):
        memoize(cast(Any, "three"))


def test_callable_object_is_memoized() -> None:
    """An instance with __call__ is memoized through its call signature."""
    calls: list[int] = []

    class Adder:
        def __call__(self, x: int, y: int = 1) -> int:
            calls.append(x)
            return x + y

    f = memoize(Adder())
    assert f(1) == 2
    assert f(x=1, y=1) == 2
    assert calls == [1]


# ---------------------------------------------------------------- pickle


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_module_level_function_pickles_by_reference(protocol: int) -> None:
    """A module-level memoized function unpickles to the very same object."""
    for f in (memo_helpers.square, memo_helpers.bounded_cube):
        assert pickle.loads(pickle.dumps(f, protocol)) is f


def test_unpickled_function_shares_the_cache() -> None:
    """The unpickled function is the same cache: its entries are hits."""
    square = memo_helpers.square
    square.cache_clear()
    start = len(memo_helpers.CALLS)
    assert square(7) == 49
    clone = pickle.loads(pickle.dumps(square))
    assert clone(7) == 49
    assert memo_helpers.CALLS[start:] == [("square", 7)]
