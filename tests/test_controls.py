"""@memoize and @dp offer one surface: the same options, controls and errors.

Both decorators build their wrappers with one generator and attach one set
of controls (memokit._controls); these tests hold them to it by running the
same calls through both and comparing what comes back.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Generator
from typing import Any, cast

import pytest

from memokit import CacheInfo, CacheStats, DictStore, LRUStore, dp, memoize

# Every cache made in a test here runs on both wrappers: the generated Python
# reference and, when the core is live, the compiled one (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("memo_impl")

CONTROLS = {
    "cache_info",
    "cache_stats",
    "cache_clear",
    "cache_invalidate",
    "cache_parameters",
    "cache_keys",
    "cache_store",
}


def _plain(n: int, label: str = "") -> int:
    return n


def _generator(n: int, label: str = "") -> Generator[int, int, int]:
    return n
    yield


def _both(**options: Any) -> tuple[Any, Any]:
    """A memoized function and a dp function of the same signature, with the same options."""
    return memoize(**options)(_plain), dp(**options)(_generator)


def test_both_decorators_give_the_same_controls() -> None:
    """Every control memoize gives, dp gives too, and both work the same way."""
    for f in _both():
        assert set(dir(f)) >= CONTROLS
        assert f(1) == f(1) == f(n=1) == 1
        assert f.cache_info() == CacheInfo(hits=2, misses=1, maxsize=None, currsize=1)
        assert f.cache_invalidate(1, label="") is True
        assert f.cache_invalidate(1) is False
        f(2)
        f.cache_clear()
        assert f.cache_stats() == CacheStats(0, 0, None, 0, 0)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"maxsize": 8},
        {"typed": True},
        {"key": lambda n, label: n},
        {"store": DictStore},
    ],
    ids=["default", "maxsize", "typed", "key", "store-factory"],
)
def test_cache_parameters_report_the_options_given(options: dict[str, Any]) -> None:
    """cache_parameters() reports the same options for memoize and dp, as they were given."""
    expected = {"maxsize": None, "typed": False, "key": None, **options}
    for f in _both(**options):
        assert f.cache_parameters() == expected
        f.cache_parameters()["maxsize"] = "changed"  # a copy: the cache keeps its options
        assert f.cache_parameters() == expected


def test_cache_store_is_the_store_the_values_live_in() -> None:
    """cache_store is the store given (or made): the values are found there."""
    stores = [LRUStore[Any](4), LRUStore[Any](4)]
    made: list[Any] = [memoize(store=stores[0])(_plain), dp(store=stores[1])(_generator)]
    for f, store in zip(made, stores, strict=True):
        assert f.cache_store is store
        f(5)
        assert store.get((5, "")) == 5  # the key: the parameters' values, bound


def test_a_store_factory_is_called_once_per_function() -> None:
    """store= takes a function that makes a store, for dp as for memoize."""
    made: list[LRUStore[Any]] = []

    def factory() -> LRUStore[Any]:
        made.append(LRUStore(3))
        return made[-1]

    functions = _both(store=factory)
    assert len(made) == 2
    for f, store in zip(functions, made, strict=True):
        assert f.cache_store is store
        f(1)
        assert len(store) == 1
        assert f.cache_info().maxsize == 3


def test_clearing_restarts_the_eviction_count_on_a_shared_store() -> None:
    """cache_stats counts the evictions since the cache was made or cleared, for both."""
    for make in (lambda s: memoize(store=s)(_plain), lambda s: dp(store=s)(_generator)):
        store: LRUStore[Any] = LRUStore(2)
        for k in range(5):
            store.set(("before", k), k)  # three evictions before the cache exists
        f = make(store)
        for k in range(4):
            f(k)
        assert f.cache_stats().evictions == 4
        f.cache_clear()
        assert f.cache_stats().evictions == 0


BAD_OPTIONS = [
    pytest.param({"maxsize": "x"}, id="maxsize-str"),
    pytest.param({"maxsize": 2.5}, id="maxsize-float"),
    pytest.param({"maxsize": False}, id="maxsize-bool"),
    pytest.param({"maxsize": -3}, id="maxsize-negative"),
    pytest.param({"typed": "yes"}, id="typed-str"),
    pytest.param({"key": 7}, id="key-int"),
    pytest.param({"store": 7}, id="store-int"),
    pytest.param({"store": DictStore(), "maxsize": 4}, id="store-and-maxsize"),
]


def _same_words(memoize_message: str, dp_message: str) -> bool:
    """Whether two messages about _plain and _generator say the same thing."""
    return memoize_message == dp_message.replace("_generator", "_plain")


def _error(make: Callable[[], object]) -> BaseException:
    with pytest.raises((TypeError, ValueError)) as info:
        make()
    return info.value


@pytest.mark.parametrize("options", BAD_OPTIONS)
def test_a_bad_option_gets_the_same_error_from_both(options: dict[str, Any]) -> None:
    """dp refuses a bad option with memoize's error, naming dp instead of memoize."""
    from_memoize = _error(lambda: memoize(**options))
    from_dp = _error(lambda: dp(**options))
    assert type(from_dp) is type(from_memoize)
    assert str(from_memoize).startswith("memoize(")
    assert str(from_dp) == str(from_memoize).replace("memoize(", "dp(", 1)


def test_an_unhashable_argument_gets_the_same_error_from_both() -> None:
    """Both name the parameter whose value cannot be hashed, with the same words."""
    messages = [str(_error(functools.partial(f, cast(Any, [1])))) for f in _both()]
    assert _same_words(*messages)
    assert "'n'" in messages[0] and "key=" in messages[0]


def test_an_unhashable_key_from_key_function_gets_the_same_error_from_both() -> None:
    """Both say that the key= function returned an unhashable value, and how to fix it."""

    def listed(n: int, label: str = "") -> Any:
        return [n]

    messages = [str(_error(functools.partial(f, 1))) for f in _both(key=listed)]
    assert _same_words(*messages)
    assert "key= function returned an unhashable list" in messages[0]
    for f in _both(key=listed):
        with pytest.raises(TypeError, match="unhashable list"):
            f.cache_invalidate(1)


def test_a_key_function_that_raises_typeerror_is_not_blamed_on_the_key() -> None:
    """A TypeError raised inside key= itself reaches the caller as it was raised."""

    def broken(n: int, label: str = "") -> int:
        raise TypeError("broken key function")

    for f in _both(key=broken):
        with pytest.raises(TypeError, match=r"^broken key function$"):
            f(1)


# ---------------------------------------------------------------- listing what is cached


@pytest.mark.parametrize(
    "options",
    [{}, {"maxsize": 8}, {"ttl": 60}, {"maxsize": 8, "sizeof": lambda value: 1}],
    ids=["dict", "lru", "ttl", "sizeof"],
)
def test_cache_keys_lists_the_keys_held_by_either_decorator(options: dict[str, Any]) -> None:
    """cache_keys() lists one key per entry, the bound arguments as a tuple, for memoize and dp."""
    for f in _both(**options):
        f(1)
        f(2, label="x")
        f(1)
        keys = f.cache_keys()
        assert sorted(keys) == [(1, ""), (2, "x")]
        assert len(f.cache_store) == len(keys) == f.cache_info().currsize
        f.cache_invalidate(1)
        assert f.cache_keys() == [(2, "x")]


def test_cache_keys_of_a_one_parameter_function_are_its_arguments() -> None:
    """A one-parameter function's keys are its arguments; an LRU lists least recently used first."""
    f = memoize(maxsize=3)(lambda n: n)
    for n in (1, 2, 3, 1):
        f(n)
    assert f.cache_keys() == [2, 3, 1]


def test_cache_keys_of_an_expiring_cache_lists_live_entries_only() -> None:
    """Expired entries are not listed (listing drops them, and counts them)."""
    from tests.helpers.memo import FakeClock

    clock = FakeClock()
    f = memoize(ttl=10, clock=clock)(lambda n: n)
    f(1)
    clock.advance(5)
    f(2)
    clock.advance(5)
    assert f.cache_keys() == [2]
    assert f.cache_stats().expirations == 1


class _NoKeysStore:
    """A store written against the protocol alone, without the optional keys()."""

    def __init__(self) -> None:
        self.data: dict[Any, Any] = {}

    maxsize = None
    evictions = 0

    def get(self, key: Any) -> Any:
        from memokit import MISSING

        return self.data.get(key, MISSING)

    def set(self, key: Any, value: Any) -> None:
        self.data[key] = value

    def delete(self, key: Any) -> bool:
        return self.data.pop(key, None) is not None

    def clear(self) -> None:
        self.data.clear()

    def __len__(self) -> int:
        return len(self.data)


def test_a_store_that_cannot_list_its_keys_says_so() -> None:
    """cache_keys() over a store without keys() raises TypeError naming the store and the method."""
    f = memoize(store=_NoKeysStore())(lambda n: n)
    f(1)
    with pytest.raises(TypeError, match=r"_NoKeysStore cannot list its keys: .*keys\(\) method"):
        f.cache_keys()
    assert len(f.cache_store) == 1  # counting still works: len() is in the protocol
