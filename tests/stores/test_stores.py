"""Stores: one contract for every Store, LRU specifics, and stateful tests against models.

As cachetools runs one ``CacheTestMixin`` for each policy, :class:`StoreContract`
holds what every store promises and each store class plugs itself in with
``make_store``; :class:`InMemoryContract` adds what only in-memory stores keep
(the very object), :class:`PersistentContract` what stores that outlive the
process add (names, versions, integrity, single flight, the engines on top).
The hypothesis state machines then drive each store with random operation
sequences next to a plain reference model. The Redis classes use a real
redis-server (tests/helpers/redis_server.py); cross-process behaviour is in
tests/stores/test_store_sqlite.py and tests/stores/test_store_redis.py.
"""

from __future__ import annotations

import array
import asyncio
import enum
import gc
import hmac
import math
import os
import pickle
import shutil
import sqlite3
import struct
import tempfile
import threading
import time
import uuid
from collections import Counter, OrderedDict
from collections.abc import Callable, Generator, Hashable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from memokit import (
    MISSING,
    BadEntryWarning,
    DagEvaluator,
    DictStore,
    LRUStore,
    Missing,
    RedisStore,
    SQLiteStore,
    Store,
    dp,
    memoize,
)
from memokit.stores._codec import Codec
from memokit.stores._keybytes import storage_key
from tests.helpers.recorded import recorded
from tests.helpers.store_worker import connection, decode, finish, is_open, spawn, wait_for
from tests.helpers.strategies import persistent_keys, store_keys, store_values


class StoreContract:
    """What every store promises; subclasses set ``make_store``."""

    #: Whether keys() lists entries in the order they were written (absent any reads).
    lists_in_order = True

    def make_store(self) -> Store[Any]:
        """Return a new, empty store of the class under test (large enough not to evict)."""
        raise NotImplementedError

    def test_follows_the_protocol(self) -> None:
        """The store is a runtime instance of the Store protocol."""
        assert isinstance(self.make_store(), Store)

    def test_starts_empty(self) -> None:
        """A new store holds nothing and has evicted nothing."""
        store = self.make_store()
        assert len(store) == 0
        assert store.get("k") is MISSING
        assert store.evictions == 0

    def test_set_then_get(self) -> None:
        """A value set under a key is returned by get, and len counts it."""
        store = self.make_store()
        store.set("a", 1)
        store.set(("b", 2), [2])
        assert store.get("a") == 1
        assert store.get(("b", 2)) == [2]
        assert store.get("c") is MISSING
        assert len(store) == 2

    def test_none_is_a_value(self) -> None:
        """None is stored and returned as a value, distinct from MISSING."""
        store = self.make_store()
        store.set("n", None)
        assert store.get("n") is None
        assert len(store) == 1

    def test_set_overwrites(self) -> None:
        """Setting an existing key replaces its value without adding an entry."""
        store = self.make_store()
        store.set("a", 1)
        store.set("a", 2)
        assert store.get("a") == 2
        assert len(store) == 1

    def test_equal_keys_are_one_entry(self) -> None:
        """Keys that compare and hash equal (1, 1.0, True) address one entry."""
        store = self.make_store()
        store.set(1, "one")
        assert store.get(1.0) == "one"
        store.set(True, "true")
        assert store.get(1) == "true"
        assert len(store) == 1

    def test_delete(self) -> None:
        """delete forgets one key and says whether it was present."""
        store = self.make_store()
        store.set("a", 1)
        store.set("b", 2)
        assert store.delete("a") is True
        assert store.delete("a") is False
        assert store.delete("never") is False
        assert store.get("a") is MISSING
        assert store.get("b") == 2
        assert len(store) == 1

    def test_clear(self) -> None:
        """clear forgets every entry; the store is usable afterwards."""
        store = self.make_store()
        for k in range(5):
            store.set(k, k)
        store.clear()
        assert len(store) == 0
        assert all(store.get(k) is MISSING for k in range(5))
        store.set(1, 1)
        assert store.get(1) == 1

    @pytest.mark.parametrize("filled", [False, True], ids=["empty", "filled"])
    def test_unhashable_key_is_a_type_error(self, filled: bool) -> None:
        """get, set and delete reject an unhashable key with TypeError, empty or not."""
        store = self.make_store()
        if filled:
            store.set("a", 1)
        bad: Any = ["unhashable"]
        with pytest.raises(TypeError):
            store.get(bad)
        with pytest.raises(TypeError):
            store.set(bad, 1)
        with pytest.raises(TypeError):
            store.delete(bad)
        assert len(store) == int(filled)

    def test_maxsize_and_evictions_types(self) -> None:
        """maxsize is None or a non-negative int; evictions is an int."""
        store = self.make_store()
        assert store.maxsize is None or (type(store.maxsize) is int and store.maxsize >= 0)
        assert type(store.evictions) is int

    def test_repr_mentions_the_class_and_size(self) -> None:
        """repr names the store class and how many entries it holds."""
        store = self.make_store()
        store.set(1, 1)
        text = repr(store)
        assert type(store).__name__ in text
        assert "1 entries" in text

    # ---- listing: keys() (what f.cache_keys() returns)

    def test_keys_lists_each_entry_once_as_set(self) -> None:
        """keys() gives back every key set, each once and equal to it, and get finds each."""
        store = self.make_store()
        keys = listed_forms()
        for i, key in enumerate(keys):
            store.set(key, i)
        listed = list(cast(Any, store).keys())
        assert Counter(listed) == Counter(keys)
        assert [store.get(k) for k in listed] == [keys.index(k) for k in listed]
        if self.lists_in_order:
            assert listed == keys

    def test_keys_follow_overwrites_deletes_and_clear(self) -> None:
        """Equal keys list once, a deleted key goes, clear() empties the listing."""
        store = self.make_store()
        store.set("gone", 0)
        store.set(1, "one")
        store.set(1.0, "uno")
        store.set(True, "yes")
        store.set(("t", 2), "t")
        store.set(("t", 2.0), "t2")
        assert store.delete("gone") is True
        listed = list(cast(Any, store).keys())
        assert Counter(listed) == Counter([1, ("t", 2)])
        assert len(listed) == len(store) == 2
        store.clear()
        assert list(cast(Any, store).keys()) == []

    def test_keys_is_a_snapshot(self) -> None:
        """keys() lists the entries held when it was called, whatever changes while it is read."""
        store = self.make_store()
        store.set("a", 1)
        store.set("b", 2)
        listing = iter(cast(Any, store).keys())
        store.set("c", 3)
        store.delete("a")
        assert Counter(listing) == Counter(["a", "b"])

    def test_cache_keys_of_memoize_match_an_in_memory_cache(self) -> None:
        """memoize over this store lists the same keys, in the same forms, as with no store=."""
        cached = memoize(store=self.make_store())(tagged)
        reference = memoize(tagged)
        for f in (cached, reference):
            f(1)
            f(2, 3)
            f(1, scale=2)
            f(1, colour="red")
            f((1, (2,)), frozenset({3}))
            f(("long", "x" * 100))
        assert Counter(cached.cache_keys()) == Counter(reference.cache_keys())
        assert len(cached.cache_keys()) == len(cached.cache_store) == 6


class InMemoryContract(StoreContract):
    """What in-memory stores add: values are kept as the very objects given."""

    def test_value_is_returned_as_is(self) -> None:
        """get returns the very object that was set."""
        store = self.make_store()
        value = object()
        store.set(1, value)
        assert store.get(1) is value


class TestDictStore(InMemoryContract):
    """DictStore under the shared contract."""

    def make_store(self) -> Store[Any]:
        return DictStore()

    def test_never_evicts(self) -> None:
        """A DictStore keeps everything and reports no bound."""
        store: DictStore[int] = DictStore()
        for k in range(1000):
            store.set(k, k)
        assert len(store) == 1000
        assert store.maxsize is None
        assert store.evictions == 0


class TestLRUStore(InMemoryContract):
    """LRUStore under the shared contract, plus its eviction rules."""

    def make_store(self) -> Store[Any]:
        return LRUStore(100)

    def test_evicts_least_recently_set(self) -> None:
        """When full, setting a new key evicts the oldest entry first."""
        store: LRUStore[str] = LRUStore(3)
        for k in "abcd":
            store.set(k, k)
        assert store.get("a") is MISSING
        assert [store.get(k) for k in "bcd"] == ["b", "c", "d"]
        assert len(store) == 3
        assert store.evictions == 1

    def test_get_refreshes_recency(self) -> None:
        """A get makes its key the most recently used, so it is evicted last."""
        store: LRUStore[str] = LRUStore(3)
        for k in "abc":
            store.set(k, k)
        assert store.get("a") == "a"
        store.set("d", "d")
        assert store.get("b") is MISSING
        assert store.get("a") == "a"

    def test_missed_get_does_not_change_order(self) -> None:
        """A get of an absent key leaves the eviction order alone."""
        store: LRUStore[str] = LRUStore(2)
        store.set("a", "a")
        store.set("b", "b")
        assert store.get("zzz") is MISSING
        store.set("c", "c")
        assert store.get("a") is MISSING
        assert store.get("b") == "b"

    def test_overwrite_refreshes_without_evicting(self) -> None:
        """Setting an existing key refreshes it and evicts nothing."""
        store: LRUStore[int] = LRUStore(2)
        store.set("a", 1)
        store.set("b", 2)
        store.set("a", 3)
        assert store.evictions == 0
        store.set("c", 4)
        assert store.get("b") is MISSING
        assert store.get("a") == 3
        assert store.evictions == 1

    def test_eviction_count_accumulates(self) -> None:
        """evictions counts every entry dropped for room, and survives clear()."""
        store: LRUStore[int] = LRUStore(4)
        for k in range(10):
            store.set(k, k)
        assert store.evictions == 6
        assert [k for k in range(10) if store.get(k) is not MISSING] == [6, 7, 8, 9]
        store.clear()
        assert store.evictions == 6
        assert len(store) == 0

    def test_delete_makes_room(self) -> None:
        """A deleted entry frees its slot: the next insert evicts nothing."""
        store: LRUStore[int] = LRUStore(2)
        store.set(1, 1)
        store.set(2, 2)
        store.delete(1)
        store.set(3, 3)
        assert store.evictions == 0
        assert store.get(2) == 2

    def test_maxsize_one(self) -> None:
        """An LRUStore of size 1 holds only the latest key."""
        store: LRUStore[int] = LRUStore(1)
        store.set(1, 1)
        store.set(2, 2)
        assert store.get(1) is MISSING
        assert store.get(2) == 2
        assert store.evictions == 1

    def test_maxsize_zero_stores_nothing(self) -> None:
        """An LRUStore of size 0 accepts sets and keeps nothing."""
        store: LRUStore[int] = LRUStore(0)
        store.set(1, 1)
        store.set(2, 2)
        assert len(store) == 0
        assert store.get(1) is MISSING
        assert store.delete(1) is False
        assert store.maxsize == 0

    @pytest.mark.parametrize(
        ("maxsize", "error", "words"),
        [
            pytest.param("big", TypeError, r"LRUStore\(maxsize=\.\.\.\) takes an int", id="str"),
            pytest.param(1.5, TypeError, r"LRUStore\(maxsize=\.\.\.\) takes an int", id="float"),
            pytest.param(True, TypeError, r"LRUStore\(maxsize=\.\.\.\) takes an int", id="bool"),
            pytest.param(None, TypeError, "DictStore", id="none"),
            pytest.param(-1, ValueError, ">= 0", id="negative"),
        ],
    )
    def test_bad_maxsize(self, maxsize: Any, error: type[Exception], words: str) -> None:
        """A maxsize that is not a non-negative int is rejected with a clear message."""
        with pytest.raises(error, match=words):
            LRUStore(maxsize)


class TestExpiringDictStore(InMemoryContract):
    """DictStore(ttl=...) keeps every promise of a store while nothing has expired."""

    def make_store(self) -> Store[Any]:
        return DictStore(ttl=3600)


class TestExpiringLRUStore(InMemoryContract):
    """LRUStore(ttl=...) under the shared contract."""

    def make_store(self) -> Store[Any]:
        return LRUStore(100, ttl=3600)


class TestWeightedLRUStore(InMemoryContract):
    """LRUStore(sizeof=...) under the shared contract."""

    def make_store(self) -> Store[Any]:
        return LRUStore(10_000, sizeof=lambda value: 1)


class TestWeightedExpiringLRUStore(InMemoryContract):
    """LRUStore(sizeof=..., ttl=...) under the shared contract."""

    def make_store(self) -> Store[Any]:
        return LRUStore(10_000, sizeof=lambda value: 2, ttl=3600)


# ---------------------------------------------------------------- stateful tests against models


class DictStoreMachine(RuleBasedStateMachine):
    """DictStore next to a plain dict."""

    def __init__(self) -> None:
        super().__init__()
        self.store = self.new_store()
        self.model: dict[Hashable, int | None] = {}

    def new_store(self) -> Store[Any]:
        """Return the empty store under test."""
        return DictStore()

    @rule(key=store_keys, value=store_values)
    def set(self, key: Hashable, value: int | None) -> None:
        """Set a key in both."""
        self.store.set(key, value)
        self.model[key] = value

    @rule(key=store_keys)
    def get(self, key: Hashable) -> None:
        """get agrees with the model (MISSING for an absent key)."""
        expected: int | Missing | None = self.model.get(key, MISSING)
        assert self.store.get(key) == expected

    @rule(key=store_keys)
    def delete(self, key: Hashable) -> None:
        """delete agrees with the model on whether the key was present."""
        assert self.store.delete(key) == (key in self.model)
        self.model.pop(key, None)

    @rule()
    def clear(self) -> None:
        """clear empties both."""
        self.store.clear()
        self.model.clear()

    @invariant()
    def same_size(self) -> None:
        """len matches the model and nothing is ever evicted."""
        assert len(self.store) == len(self.model)
        assert self.store.evictions == 0


class LRUStoreMachine(RuleBasedStateMachine):
    """LRUStore next to an OrderedDict that applies the least-recently-used rule."""

    def __init__(self) -> None:
        super().__init__()
        self.maxsize = 0
        self.store: Store[Any] = DictStore()  # replaced by make()
        self.model: OrderedDict[Hashable, int | None] = OrderedDict()
        self.evictions = 0

    def new_store(self, maxsize: int) -> Store[Any]:
        """Return an empty store of the class under test with this bound."""
        return LRUStore(maxsize)

    @initialize(maxsize=st.integers(0, 4))
    def make(self, maxsize: int) -> None:
        """Start from an empty store of a random bound."""
        self.maxsize = maxsize
        self.store = self.new_store(maxsize)

    @rule(key=store_keys, value=store_values)
    def set(self, key: Hashable, value: int | None) -> None:
        """Set: refresh an existing key, or evict the oldest when full, then insert."""
        self.store.set(key, value)
        if key in self.model:
            self.model[key] = value
            self.model.move_to_end(key)
        elif self.maxsize > 0:
            if len(self.model) >= self.maxsize:
                self.model.popitem(last=False)
                self.evictions += 1
            self.model[key] = value

    @rule(key=store_keys)
    def get(self, key: Hashable) -> None:
        """get agrees with the model and refreshes the key's recency in both."""
        expected: int | Missing | None = self.model.get(key, MISSING)
        assert self.store.get(key) == expected
        if key in self.model:
            self.model.move_to_end(key)

    @rule(key=store_keys)
    def delete(self, key: Hashable) -> None:
        """delete agrees with the model on whether the key was present."""
        assert self.store.delete(key) == (key in self.model)
        self.model.pop(key, None)

    @rule()
    def clear(self) -> None:
        """clear empties both and keeps the eviction count."""
        self.store.clear()
        self.model.clear()

    @invariant()
    def same_state(self) -> None:
        """Size, bound and eviction count match the model."""
        assert len(self.store) == len(self.model) <= self.maxsize
        assert self.store.evictions == self.evictions
        assert self.store.maxsize == self.maxsize


TestDictStoreModel = DictStoreMachine.TestCase
TestDictStoreModel.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestLRUStoreModel = LRUStoreMachine.TestCase
TestLRUStoreModel.settings = settings(max_examples=200, stateful_step_count=40, deadline=None)


# ---------------------------------------------------------------- stores that outlive the process

SECRET = "store-contract-test-secret"
OTHER_SECRET = "another-secret-of-enough-length"
#: Computations of the module-level functions below, in call order.
COMPUTED: list[tuple[str, Any]] = []
#: Calls of Evil's unpickling hook: must stay empty.
UNPICKLED: list[str] = []


def _evil_hook(tag: str) -> str:
    UNPICKLED.append(tag)
    return tag


class Evil:
    """An object whose unpickling records that it happened (stands for arbitrary code)."""

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return _evil_hook, ("unpickled",)


@dataclass(frozen=True)
class Point:
    """Hashable, but without an encoding that is stable across processes."""

    x: int


class Colour(enum.Enum):
    """Enum members are keyed by their class's qualified name and their own name."""

    RED = 1
    GREEN = 2


def square(n: int) -> int:
    """Return ``n * n``, recording the computation."""
    COMPUTED.append(("square", n))
    return n * n


def cube(n: int) -> int:
    """Return ``n ** 3``, recording the computation."""
    COMPUTED.append(("cube", n))
    return n**3


def flaky(n: int) -> int:
    """Raise on negative ``n``, recording every computation."""
    COMPUTED.append(("flaky", n))
    if n < 0:
        raise ValueError("negative")
    return n


async def asquare(n: int) -> int:
    """The async twin of :func:`square`."""
    COMPUTED.append(("asquare", n))
    await asyncio.sleep(0)
    return n * n


def slow_square(n: int) -> int:
    """:func:`square` that takes 50 ms, so that threads pile up on one miss."""
    COMPUTED.append(("slow_square", n))
    time.sleep(0.05)
    return n * n


#: The dp function made of :func:`triangle` by the running test (its recursion calls it).
TRIANGLE: list[Any] = []


def triangle(n: int) -> Generator[int, int, int]:
    """A dp function: the n-th triangular number."""
    COMPUTED.append(("triangle", n))
    if n == 0:
        return 0
    below = yield TRIANGLE[-1](n - 1)
    return below + n


class BytesSubclass(bytes):
    """A bytes subclass: it would come back from the bytes serializer as plain bytes."""


class Account:
    """A class whose memoized method depends on the instance."""

    def __init__(self, number: int, rate: int) -> None:
        self.number = number
        self.rate = rate


def _computed(name: str) -> list[Any]:
    return [arg for fn, arg in COMPUTED if fn == name]


def tagged(n: Any, *rest: Any, scale: int = 1, **options: Any) -> Any:
    """A function whose keys take every form memoize makes: tuples, ``*args``, ``**kwargs``."""
    return n


def listed_forms() -> list[Hashable]:
    """Keys of every form a store lists, in the order a test sets them.

    Scalars and tuples of them (kept as they are in memory), a nested tuple
    and a frozenset (wrapped in memory), an enum member, and a key too long
    to be filed as it is (a persistent store files its digest).
    """
    return [
        7,
        "seven",
        None,
        2.5,
        b"raw",
        ("b", 2),
        ("nested", (1, 2)),
        frozenset({"x", "y"}),
        Colour.RED,
        ("long", "x" * 100),
    ]


class PersistentContract(StoreContract):
    """What stores that outlive the process promise besides the Store contract.

    Subclasses give ``open_store`` (a store over one location, the same for
    the whole test) and raw access to an entry's bytes for tampering.
    """

    def open_store(self, **options: Any) -> Any:
        """Return a store over this test's location (file or server) with these options."""
        raise NotImplementedError

    def make_store(self) -> Store[Any]:
        return cast(Store[Any], self.open_store(secret=SECRET))

    def raw_entry(self, store: Any, key: Any) -> bytes | None:
        """Return the bytes stored for ``key`` in ``store``'s namespace, or None."""
        raise NotImplementedError

    def write_raw(self, store: Any, key: Any, entry: bytes, placeholder: Any = None) -> None:
        """Store ``entry`` as the bytes of ``key`` in ``store``'s namespace, bypassing the codec.

        A store that must create the entry first sets it to ``placeholder``.
        """
        raise NotImplementedError

    def probe_connection(self, store: Any) -> Callable[[], bool]:
        """Return a check of whether the connection ``store`` uses now is still open."""
        raise NotImplementedError

    @pytest.fixture(autouse=True)
    def _clean_records(self) -> None:
        COMPUTED.clear()
        UNPICKLED.clear()

    # ---- connections

    def test_close_ends_the_connection_and_the_store_stays_usable(self) -> None:
        """close() closes what the store opened; the next call opens anew and finds the entries."""
        store = self.open_store(secret=SECRET).bind("contract:close")
        store.set(1, "one")
        still_open = self.probe_connection(store)
        assert still_open()
        store.close()
        wait_for(lambda: not still_open(), timeout=10)
        store.close()  # again: nothing left to close, no error
        assert store.get(1) == "one"
        with store as same:
            assert same is store
            still_open = self.probe_connection(store)
            store.set(2, "two")
        wait_for(lambda: not still_open(), timeout=10)
        assert store.get(2) == "two"

    def test_closing_a_view_closes_what_the_views_share(self) -> None:
        """Views made by bind share the connection, so closing one closes it for all."""
        store = self.open_store(secret=SECRET)
        view = store.bind("contract:view")
        view.set(1, "one")
        still_open = self.probe_connection(view)
        store.close()
        wait_for(lambda: not still_open(), timeout=10)
        assert view.get(1) == "one"

    def test_a_store_nobody_holds_closes_its_connection(self) -> None:
        """A store that is collected closes its connection rather than leave it to the collector."""
        store = self.open_store(secret=SECRET).bind("contract:dropped")
        store.set(1, "one")
        still_open = self.probe_connection(store)
        del store
        gc.collect()  # a ResourceWarning here (a connection freed unclosed) fails the suite
        wait_for(lambda: not still_open(), timeout=10)

    # ---- values, names, versions

    def test_values_come_back_as_equal_copies(self) -> None:
        """get returns a value equal to (and of the same type as) the one set, not the object."""
        store = self.make_store()
        values: list[Any] = [None, 0, -(2**80), 1.5, "text", b"\x00bytes", (1, "a"), [1, [2]]]
        values += [{"k": (1, 2)}, frozenset({1, 2}), Point(3), {1.5: None}]
        for i, value in enumerate(values):
            store.set(i, value)
        for i, value in enumerate(values):
            got = store.get(i)
            assert got == value and type(got) is type(value), (got, value)
        mutable = [1]
        store.set("m", mutable)
        assert store.get("m") is not mutable

    def test_another_store_object_sees_the_entries(self) -> None:
        """A second store over the same location (as in a restarted process) reads the entries."""
        self.open_store(secret=SECRET).bind("contract:f").set(("a", 1), "one")
        again = self.open_store(secret=SECRET).bind("contract:f")
        assert again.get(("a", 1)) == "one"
        assert len(again) == 1

    def test_names_keep_functions_apart(self) -> None:
        """Views bound to two names hold separate entries; the unbound store is a third space."""
        store = self.open_store(secret=SECRET)
        f, g = store.bind("mod:f"), store.bind("mod:g")
        f.set(1, "f1")
        g.set(1, "g1")
        assert (f.get(1), g.get(1), store.get(1)) == ("f1", "g1", MISSING)
        f.clear()
        assert (f.get(1), g.get(1), len(f), len(g)) == (MISSING, "g1", 0, 1)

    def test_binding_a_view_keeps_its_name(self) -> None:
        """bind on a bound view returns it unchanged: a name chosen by hand survives @memoize."""
        view = self.open_store(secret=SECRET).bind("chosen")
        assert view.bind("other") is view
        assert view.name == "chosen"

    def test_names_that_are_not_stable_are_rejected(self) -> None:
        """bind refuses empty names and names of local functions or lambdas."""
        store = self.open_store(secret=SECRET)
        for name in ("", "m:f.<locals>.g", "m:<lambda>"):
            with pytest.raises(TypeError, match="bind"):
                store.bind(name)

    def test_version_keeps_entries_apart(self) -> None:
        """Bumping version= starts an empty namespace; the old version's entries stay readable."""
        v1 = self.open_store(secret=SECRET, version=1).bind("m:f")
        v1.set(5, "old")
        v2 = self.open_store(secret=SECRET, version=2).bind("m:f")
        assert v2.get(5) is MISSING and len(v2) == 0
        assert self.open_store(secret=SECRET, version="1").bind("m:f").get(5) == "old"

    def test_keys_without_a_stable_encoding_are_rejected(self) -> None:
        """A hashable key whose bytes could differ between processes is a TypeError naming key=."""

        class Local:
            pass

        store = self.make_store()
        for key in (object(), Point(1), (1, object()), Local, Colour.RED.__class__.__call__):
            with pytest.raises(TypeError, match="key="):
                store.set(key, 1)
        assert len(store) == 0

    def test_enum_members_and_classes_are_keys(self) -> None:
        """Enum members and module-level classes key entries, each distinct from the others."""
        store = self.make_store()
        store.set(Colour.RED, "red")
        store.set(Colour.GREEN, "green")
        store.set(int, "int")
        store.set(Point, "point")
        assert [store.get(k) for k in (Colour.RED, Colour.GREEN, int, Point)] == [
            "red",
            "green",
            "int",
            "point",
        ]
        assert store.get(1) is MISSING and store.get("int") is MISSING

    # ---- integrity

    def test_tampered_entries_are_never_unpickled(self) -> None:
        """A pickle with a bad tag, no tag or another key's tag is a miss, warned about once."""
        store = self.make_store()
        evil = pickle.dumps(Evil())
        store.set("good", 1)
        good = self.raw_entry(store, "good")
        assert good is not None
        with recorded() as caught:
            self.write_raw(store, "forged", good[:2] + bytes(32) + evil)
            assert store.get("forged") is MISSING
            self.write_raw(store, "unsigned", b"\x00p" + evil)
            assert store.get("unsigned") is MISSING
            self.write_raw(store, "moved", good)  # a valid entry, filed under another key
            assert store.get("moved") is MISSING
        assert UNPICKLED == []
        assert [type(w.message) for w in caught] == [BadEntryWarning]
        assert "does not verify" in str(caught[0].message)
        assert store.rejected == 3  # type: ignore[attr-defined]
        assert store.get("good") == 1
        assert self.raw_entry(store, "forged") is None  # removed, so it is recomputed

    def test_entries_of_another_secret_do_not_verify(self) -> None:
        """An entry signed with another secret is a miss, and is overwritten by a good one."""
        self.open_store(secret=OTHER_SECRET).bind("m:f").set(1, "theirs")
        mine = self.open_store(secret=SECRET).bind("m:f")
        with pytest.warns(BadEntryWarning):
            assert mine.get(1) is MISSING
        mine.set(1, "mine")
        assert mine.get(1) == "mine"

    def test_pickle_needs_a_secret(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without secret= or MEMOKIT_CACHE_KEY, pickle is refused with how to set one."""
        monkeypatch.delenv("MEMOKIT_CACHE_KEY", raising=False)
        with pytest.raises(ValueError, match="MEMOKIT_CACHE_KEY"):
            self.open_store()
        with pytest.raises(ValueError, match="at least 16"):
            self.open_store(secret="short")
        monkeypatch.setenv("MEMOKIT_CACHE_KEY", SECRET)
        from_env = self.open_store().bind("m:f")
        from_env.set(1, (1,))
        assert self.open_store(secret=SECRET).bind("m:f").get(1) == (1,)

    def test_json_stores_plain_data_only(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """serializer='json' needs no secret, keeps plain data, rejects what JSON would alter."""
        monkeypatch.delenv("MEMOKIT_CACHE_KEY", raising=False)
        store = self.open_store(serializer="json")
        store.set("doc", {"a": [1, 2.5, None, True, "x"]})
        assert store.get("doc") == {"a": [1, 2.5, None, True, "x"]}
        for bad, words in (((1, 2), "tuple"), ({1: "a"}, "str keys"), (b"x", "bytes")):
            with pytest.raises(TypeError, match=words):
                store.set("bad", bad)
        assert store.get("bad") is MISSING and len(store) == 1

    def test_bytes_keeps_bytes_like_values_as_they_are(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """serializer='bytes' needs no secret; bytes, bytearray, memoryview come back as given."""
        monkeypatch.delenv("MEMOKIT_CACHE_KEY", raising=False)
        store = self.open_store(serializer="bytes")
        values: dict[str, Any] = {
            "raw": b"\x00raw\xff",
            "empty": b"",
            "array": bytearray(b"mutable"),
            "view": memoryview(b"view"),
        }
        for key, value in values.items():
            store.set(key, value)
        for key, value in values.items():
            got = store.get(key)
            assert got == value and type(got) is type(value), (key, got)
        # Stored as they are: the data is the value's bytes, after an 11-byte head.
        assert self.raw_entry(store, "raw") == b"\x00bb" + (5).to_bytes(8, "big") + b"\x00raw\xff"
        bad_values: list[tuple[Any, str]] = [
            (1, "type int"),
            ("text", "type str"),
            (BytesSubclass(b"x"), "type BytesSubclass"),
            (memoryview(array.array("i", [1])), "format 'i'"),
        ]
        for bad, words in bad_values:
            with pytest.raises(TypeError, match=words):
                store.set("bad", bad)
        assert store.get("bad") is MISSING and len(store) == len(values)

    def test_unsigned_bytes_cut_short_are_a_miss(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """An unsigned bytes entry that lost its end is refused: its head records the length."""
        monkeypatch.delenv("MEMOKIT_CACHE_KEY", raising=False)
        store = self.open_store(serializer="bytes")
        store.set("k", b"0123456789")
        good = self.raw_entry(store, "k")
        assert good is not None
        self.write_raw(store, "cut", good[:-1], placeholder=b"")
        with pytest.warns(BadEntryWarning, match="9 bytes of data where its head says 10"):
            assert store.get("cut") is MISSING
        assert store.rejected == 1

    def test_unsigned_bytes_altered_in_place_come_back_altered(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Without a secret, bytes changed (same length) or moved to another key are returned."""
        monkeypatch.delenv("MEMOKIT_CACHE_KEY", raising=False)
        store = self.open_store(serializer="bytes")
        store.set("k", b"genuine")
        good = self.raw_entry(store, "k")
        assert good is not None
        self.write_raw(store, "other", good[:-7] + b"forged!", placeholder=b"")
        assert store.get("other") == b"forged!"  # what the guide says: no checksum, no tag
        assert store.rejected == 0

    def test_bytes_are_signed_when_there_is_a_secret(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """With MEMOKIT_CACHE_KEY set, bytes entries carry a tag: altered or moved ones miss."""
        monkeypatch.setenv("MEMOKIT_CACHE_KEY", SECRET)
        store = self.open_store(serializer="bytes")
        store.set("k", b"genuine")
        good = self.raw_entry(store, "k")
        assert good is not None and len(good) == 2 + 32 + 9 + len(b"genuine")
        with recorded() as caught:
            self.write_raw(store, "moved", good, placeholder=b"")
            assert store.get("moved") is MISSING
            self.write_raw(store, "k", good[:-7] + b"forged!", placeholder=b"")
            assert store.get("k") is MISSING
        assert [type(w.message) for w in caught] == [BadEntryWarning]
        assert store.rejected == 2

    def test_bad_options_are_rejected(self) -> None:
        """Options of the wrong type or range raise errors naming the store and the option."""
        owner = type(self.make_store()).__name__
        for options in (
            {"ttl": 0},
            {"ttl": "1"},
            {"lock_ttl": -1},
            {"timeout": 0},
            {"serializer": "yaml"},
            {"version": 1.5},
            {"version": True},
        ):
            (option,) = options
            with pytest.raises((TypeError, ValueError), match=rf"^{owner}\({option}=\.\.\.\)"):
                self.open_store(secret=SECRET, **options)

    # ---- expiry and single flight

    def test_ttl_expires_entries(self) -> None:
        """An entry older than ttl seconds is a miss, no longer counted and no longer listed."""
        store = self.open_store(secret=SECRET, ttl=0.3)
        store.set(1, "soon gone")
        store.set(("long", "x" * 100), "soon gone too")
        assert store.get(1) == "soon gone"
        assert Counter(store.keys()) == Counter([1, ("long", "x" * 100)])
        time.sleep(0.45)
        assert list(store.keys()) == []
        assert store.get(1) is MISSING
        assert len(store) == 0
        assert store.delete(1) is False

    def test_memoize_ttl_with_this_store_is_refused(self) -> None:
        """memoize(ttl=..., store=<persistent store>) is refused: the ttl goes to the store."""
        store = self.make_store()
        with pytest.raises(TypeError) as refused:
            memoize(ttl=60, store=store)
        expected = (
            f"memoize() got both ttl= and store=: give the expiry to the store instead, "
            f"e.g. store={type(store).__name__}(..., ttl=60) in place of the store given"
        )
        assert str(refused.value) == expected

    def test_get_or_compute_runs_once_and_never_stores_a_failure(self) -> None:
        """get_or_compute computes a new key once, then reads it; a failure stores nothing."""
        store = self.make_store()
        calls: list[int] = []

        def compute() -> int:
            calls.append(1)
            return 42

        def fail() -> int:
            calls.append(0)
            raise KeyError("nope")

        assert store.get_or_compute("k", compute) == 42  # type: ignore[attr-defined]
        assert store.get_or_compute("k", compute) == 42  # type: ignore[attr-defined]
        assert calls == [1]
        start = time.monotonic()
        for _ in range(2):  # the failed call's lease is gone at once: no wait for lock_ttl
            with pytest.raises(KeyError):
                store.get_or_compute("bad", fail)  # type: ignore[attr-defined]
        assert time.monotonic() - start < 5
        assert calls == [1, 0, 0]
        assert store.get("bad") is MISSING

    # ---- through the engines

    def test_memoize_files_each_function_under_its_name(self) -> None:
        """Two memoized functions on one store never share entries, and both persist."""
        store = self.open_store(secret=SECRET)
        sq, cu = memoize(store=store)(square), memoize(store=store)(cube)
        assert (sq(2), cu(2), sq(2), cu(2)) == (4, 8, 4, 8)
        assert COMPUTED == [("square", 2), ("cube", 2)]
        assert sq.cache_store.name == f"{__name__}:square"  # type: ignore[attr-defined]
        again = memoize(store=self.open_store(secret=SECRET))(square)
        assert again(2) == 4 and again.cache_info().hits == 1
        assert again.cache_info().currsize == 1
        assert again.cache_invalidate(2) is True
        assert sq(2) == 4 and _computed("square") == [2, 2]
        sq.cache_clear()
        assert sq.cache_info().currsize == 0 and cu.cache_info().currsize == 1

    def test_memoize_never_stores_an_exception(self) -> None:
        """A call that raises is computed again next time."""
        cached = memoize(store=self.make_store())(flaky)
        for _ in range(2):
            with pytest.raises(ValueError):
                cached(-1)
        assert cached(3) == 3 and cached(3) == 3
        assert _computed("flaky") == [-1, -1, 3]

    def test_memoize_refuses_functions_without_a_stable_name(self) -> None:
        """Local functions and lambdas are refused with the way out (bind a name yourself)."""
        store = self.make_store()

        def local(n: int) -> int:
            return n

        for fn in (local, lambda n: n):
            with pytest.raises(TypeError, match=r"store\.bind"):
                memoize(store=store)(fn)
        named = memoize(store=store.bind("my-local"))(local)  # type: ignore[attr-defined]
        assert named(3) == 3 and named.cache_info().currsize == 1

    def test_memoize_on_a_method_is_refused(self) -> None:
        """A method's per-instance key leaves self out: a store shared by instances is refused."""
        store = self.make_store()
        for shared in (store, store.bind("accounts:interest")):  # type: ignore[attr-defined]

            class Unkeyed(Account):
                @memoize(store=shared, key=lambda amount: amount)
                def interest(self, amount: int) -> int:
                    return amount * self.rate

            with pytest.raises(TypeError, match="module-level function"):
                Unkeyed(1, 2).interest(10)
        assert len(store) == 0

    def test_memoize_on_a_staticmethod_works(self) -> None:
        """A staticmethod's key is all its arguments, so it may use a persistent store."""
        store = self.make_store().bind("rates:apply")  # type: ignore[attr-defined]

        class Rates:
            @memoize(store=store)
            @staticmethod
            def apply(rate: int, amount: int) -> int:
                COMPUTED.append(("apply", amount))
                return rate * amount

        apply = cast(Any, Rates).apply  # (mypy reads memoize over staticmethod as a method)
        assert (apply(2, 10), apply(2, 10), cast(Any, Rates()).apply(3, 10)) == (20, 20, 30)
        assert _computed("apply") == [10, 10]

    def test_dp_persists_each_subproblem(self) -> None:
        """A dp function over a persistent store stores every sub-problem under its own name."""
        TRIANGLE.append(dp(store=self.open_store(secret=SECRET))(triangle))
        assert TRIANGLE[-1](30) == 465
        assert len(_computed("triangle")) == 31
        TRIANGLE.append(dp(store=self.open_store(secret=SECRET))(triangle))
        assert TRIANGLE[-1](30) == 465 and TRIANGLE[-1](31) == 496
        assert _computed("triangle")[31:] == [31]
        assert TRIANGLE[-1].cache_info().currsize == 32
        assert sorted(TRIANGLE[-1].cache_keys()) == list(range(32))  # every sub-problem, listed

    def test_dag_evaluator_needs_a_bound_store(self) -> None:
        """DagEvaluator has no function name to give: it takes a bound view, refuses the rest."""
        store = self.make_store()
        inputs = {"a": [], "b": ["a"], "c": ["a", "b"]}
        options: dict[str, Any] = {
            "inputs": lambda n: inputs[n],
            "compute": lambda n, vals: 1 + sum(vals),
            "key": str,
        }
        with pytest.raises(TypeError, match="bind"):
            DagEvaluator(store=store, **options)
        ev = DagEvaluator(store=store.bind("dag:count"), **options)  # type: ignore[attr-defined]
        assert ev.evaluate("c") == 4
        again = DagEvaluator(store=self.open_store(secret=SECRET).bind("dag:count"), **options)
        assert again.evaluate("c") == 4 and again.stats().computations == 0

    def test_async_functions_use_the_store(self) -> None:
        """An async memoized function reads and writes the store (its I/O blocks the loop)."""
        cached = memoize(store=self.make_store())(asquare)

        async def main() -> list[int]:
            return [await cached(3), await cached(3), await cached(4)]

        assert asyncio.run(main()) == [9, 9, 16]
        assert _computed("asquare") == [3, 4]
        again = memoize(store=self.open_store(secret=SECRET))(asquare)
        assert asyncio.run(again(3)) == 9 and _computed("asquare") == [3, 4]

    def test_threads_missing_one_key_compute_it_once(self) -> None:
        """Eight threads calling one new key at once run the function once."""
        cached = memoize(store=self.make_store())(slow_square)
        barrier = threading.Barrier(8)

        def call() -> int:
            barrier.wait()
            return cached(7)

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda _: call(), range(8)))
        assert results == [49] * 8
        assert _computed("slow_square") == [7]


class TestSQLiteStore(PersistentContract):
    """SQLiteStore under the shared and the persistent contracts."""

    @pytest.fixture(autouse=True)
    def _location(self, tmp_path: Path) -> None:
        self.path = tmp_path / "store.db"

    def open_store(self, **options: Any) -> SQLiteStore:
        return SQLiteStore(self.path, **options)

    def probe_connection(self, store: Any) -> Callable[[], bool]:
        conn = connection(store)  # this thread's connection
        return lambda: is_open(conn)

    def raw_entry(self, store: Any, key: Any) -> bytes | None:
        with closing(sqlite3.connect(self.path)) as conn:
            row = conn.execute(
                "SELECT v.value FROM memokit_entries e JOIN memokit_namespaces n ON e.ns = n.id "
                "JOIN memokit_values v ON v.id = e.id "
                "WHERE n.name = ? AND n.version = ? AND e.key = ?",
                (store.name, store.version, storage_key(key)),
            ).fetchone()
        return None if row is None else bytes(row[0])

    def write_raw(self, store: Any, key: Any, entry: bytes, placeholder: Any = None) -> None:
        store.set(key, placeholder)  # creates the row (and the namespace), then overwrite its bytes
        with closing(sqlite3.connect(self.path)) as conn, conn:
            conn.execute(
                "UPDATE memokit_values SET value = ? WHERE id = "
                "(SELECT e.id FROM memokit_entries e JOIN memokit_namespaces n ON e.ns = n.id "
                "WHERE e.key = ? AND n.name = ? AND n.version = ?)",
                (entry, storage_key(key), store.name, store.version),
            )


class TestSQLiteStoreFiles(TestSQLiteStore):
    """SQLiteStore with every entry in a file (file_threshold=0), under the same contracts."""

    def open_store(self, **options: Any) -> SQLiteStore:
        return SQLiteStore(self.path, **({"file_threshold": 0} | options))

    def _file(self, store: Any, key: Any) -> Path | None:
        with closing(sqlite3.connect(self.path)) as conn:
            row = conn.execute(
                "SELECT v.file FROM memokit_entries e JOIN memokit_namespaces n ON e.ns = n.id "
                "JOIN memokit_values v ON v.id = e.id "
                "WHERE n.name = ? AND n.version = ? AND e.key = ?",
                (store.name, store.version, storage_key(key)),
            ).fetchone()
        if row is None:
            return None
        assert row[0] is not None, "a row, not a file"
        return Path(f"{self.path}-values") / str(row[0])

    def raw_entry(self, store: Any, key: Any) -> bytes | None:
        file = self._file(store, key)
        return None if file is None else file.read_bytes()

    def write_raw(self, store: Any, key: Any, entry: bytes, placeholder: Any = None) -> None:
        store.set(key, placeholder)  # creates the file, then overwrite its bytes
        file = self._file(store, key)
        assert file is not None
        file.write_bytes(entry)


class TestRedisStore(PersistentContract):
    """RedisStore on a real redis-server under the shared and the persistent contracts."""

    lists_in_order = False  # a SCAN of the server: no order

    @pytest.fixture(autouse=True)
    def _location(self, redis_url: str) -> None:
        self.url = redis_url

    def open_store(self, **options: Any) -> RedisStore:
        return RedisStore(self.url, **options)

    def probe_connection(self, store: Any) -> Callable[[], bool]:
        # The server's id for the store's connection (one thread: its one
        # connection), looked for among the server's clients by another client.
        import redis

        ident = str(store.client.client_id())
        admin = redis.Redis.from_url(self.url)

        def still_open() -> bool:
            return any(str(c["id"]) == ident for c in admin.client_list())

        self._admins.append(admin)
        return still_open

    @pytest.fixture(autouse=True)
    def _close_admins(self) -> Iterator[None]:
        self._admins: list[Any] = []
        yield
        for admin in self._admins:
            admin.close()

    def _redis_key(self, store: Any, key: Any) -> bytes:
        return cast(bytes, store._values) + storage_key(key)

    def raw_entry(self, store: Any, key: Any) -> bytes | None:
        return cast(bytes | None, store.client.get(self._redis_key(store, key)))

    def write_raw(self, store: Any, key: Any, entry: bytes, placeholder: Any = None) -> None:
        store.client.set(self._redis_key(store, key), entry)


# ---- a store that fails to write


class RefusingStore(LRUStore[Any]):
    """A store memoize reaches through the protocol alone, whose set raises (a full disk)."""

    def set(self, key: Hashable, value: Any) -> None:
        raise OSError("disk full")


def test_a_failed_store_write_ends_the_flight_for_waiting_threads() -> None:
    """When store.set raises, the owner and the threads waiting on the same miss all get it."""
    computed: list[int] = []

    @memoize(store=RefusingStore(8))
    def slow(n: int) -> int:
        computed.append(n)
        time.sleep(0.2)
        return n

    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def call() -> None:
        barrier.wait()
        try:
            slow(1)
        except OSError as exc:
            outcomes.append(str(exc))

    # Daemon threads: a waiter left hanging fails the assertion below, not the run.
    threads = [threading.Thread(target=call, daemon=True) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert outcomes == ["disk full"] * 4
    assert computed == [1]  # one computation, its failure shared, nothing stored
    assert slow.cache_info().currsize == 0


# ---- stable keys (memokit.stores._keybytes): what every persistent store files entries under


def _twin(key: Any) -> Any:
    """Return a key equal to ``key`` built from other types (1 -> 1.0, True -> 1, ...)."""
    if type(key) is bool:
        return int(key)
    if type(key) is int and abs(key) < 2**53:
        return float(key)
    if type(key) is float and key.is_integer():
        return int(key)
    if type(key) is tuple:
        return tuple(_twin(item) for item in key)
    if type(key) is frozenset:
        return frozenset(_twin(item) for item in key)
    return key


@given(a=persistent_keys, b=persistent_keys)
def test_key_bytes_differ_for_keys_that_differ(a: Hashable, b: Hashable) -> None:
    """Two keys get the same stored bytes exactly when they compare equal."""
    assert (storage_key(a) == storage_key(b)) == (a == b)


@given(key=persistent_keys)
def test_equal_keys_of_other_types_share_their_bytes(key: Hashable) -> None:
    """A key rebuilt from equal values of other types (1.0 for 1, 1 for True) has the same bytes."""
    twin = _twin(key)
    assert twin == key
    assert storage_key(twin) == storage_key(key)


@given(
    secret=st.binary(min_size=16, max_size=100),
    context=st.binary(max_size=100),
    value=st.binary(max_size=300),
)
def test_entry_tags_are_hmac_sha256(secret: bytes, context: bytes, value: bytes) -> None:
    """A signed entry's tag is HMAC-SHA256 (as hmac.new computes it) of header, context, payload."""
    entry = Codec("pickle", secret).dumps(context, value)
    header, tag, payload = entry[:2], entry[2:34], entry[34:]
    message = header + bytes((len(context),)) + context + payload
    assert tag == hmac.new(secret, message, "sha256").digest()
    assert Codec("pickle", secret).loads(context, entry) == value


@given(
    secret=st.binary(min_size=16, max_size=100),
    context=st.binary(max_size=100),
    value=st.binary(max_size=300),
)
def test_bytes_entry_tags_are_hmac_sha256(secret: bytes, context: bytes, value: bytes) -> None:
    """A signed bytes entry: the value as is after its type and length, tagged with HMAC-SHA256."""
    entry = Codec("bytes", secret).dumps(context, value)
    header, tag, rest = entry[:2], entry[2:34], entry[34:]
    assert header == b"\x01b" and rest == b"b" + len(value).to_bytes(8, "big") + value
    message = header + bytes((len(context),)) + context + rest
    assert tag == hmac.new(secret, message, "sha256").digest()
    assert Codec("bytes", secret).loads(context, entry) == value


def test_nan_has_one_encoding_and_long_keys_a_digest() -> None:
    """Every NaN encodes alike (apart from other floats); keys over 64 bytes become a digest."""
    nan_bits = struct.unpack(">d", bytes.fromhex("7ff8000000000001"))[0]
    assert storage_key(math.nan) == storage_key(nan_bits) != storage_key(math.inf)
    long_a, long_b = "a" * 100, "a" * 99 + "b"
    assert len(storage_key(long_a)) == 33 and storage_key(long_a).startswith(b"#")
    assert storage_key(long_a) != storage_key(long_b)


def test_key_bytes_are_the_same_in_every_process() -> None:
    """Processes with different hash seeds encode str and frozenset keys to the same bytes."""
    keys: list[Any] = [
        "text",
        ["frozenset", ["b", "a", "c", 3, 2.5]],
        ["tuple", [1, ["frozenset", [["tuple", ["x", 1]], ["tuple", ["y", 2]]]]]],
    ]
    config = {"action": "keys", "keys": keys}
    seen = [finish(spawn(config, hash_seed=seed)) for seed in (1, 2, 3)]
    here = [storage_key(decode(k)).hex() for k in keys]
    assert seen == [here, here, here]


# ---- the reference-model machines, run on the persistent stores


class SQLiteDictMachine(DictStoreMachine):
    """An unbounded SQLiteStore next to a plain dict (a new file per example)."""

    def new_store(self) -> Store[Any]:
        self.tmp = tempfile.mkdtemp()
        return SQLiteStore(os.path.join(self.tmp, "m.db"), secret=SECRET)

    def teardown(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


class SQLiteLRUMachine(LRUStoreMachine):
    """SQLiteStore(maxsize=N) next to the least-recently-used model (a new file per example)."""

    def new_store(self, maxsize: int) -> Store[Any]:
        self.tmp = tempfile.mkdtemp()
        return SQLiteStore(os.path.join(self.tmp, "m.db"), secret=SECRET, maxsize=maxsize)

    def teardown(self) -> None:
        if hasattr(self, "tmp"):
            shutil.rmtree(self.tmp, ignore_errors=True)


class SQLiteFilesLRUMachine(SQLiteLRUMachine):
    """SQLiteStore(maxsize=N) with every entry in a file: the LRU model, and no file leaked."""

    def new_store(self, maxsize: int) -> Store[Any]:
        self.tmp = tempfile.mkdtemp()
        self.folder = os.path.join(self.tmp, "m.db-values")
        path = os.path.join(self.tmp, "m.db")
        return SQLiteStore(path, secret=SECRET, maxsize=maxsize, file_threshold=0)

    @invariant()
    def one_file_per_entry(self) -> None:
        """The folder holds one file per entry: overwrites, deletes and evictions leave none."""
        files = os.listdir(self.folder) if os.path.isdir(self.folder) else []
        assert len(files) == len(self.model)


class RedisDictMachine(DictStoreMachine):
    """A RedisStore next to a plain dict (a new key prefix per example)."""

    url = ""  # set by TestRedisStoreModel's fixture

    def new_store(self) -> Store[Any]:
        return RedisStore(self.url, secret=SECRET, prefix=f"model-{uuid.uuid4().hex}")


TestSQLiteStoreModel = SQLiteDictMachine.TestCase
TestSQLiteStoreModel.settings = settings(max_examples=40, stateful_step_count=30, deadline=None)
TestSQLiteLRUStoreModel = SQLiteLRUMachine.TestCase
TestSQLiteLRUStoreModel.settings = settings(max_examples=50, stateful_step_count=30, deadline=None)
TestSQLiteFilesLRUStoreModel = SQLiteFilesLRUMachine.TestCase
TestSQLiteFilesLRUStoreModel.settings = settings(
    max_examples=25, stateful_step_count=30, deadline=None
)


class TestRedisStoreModel(RedisDictMachine.TestCase):  # type: ignore[misc,valid-type]
    """The RedisStore machine, pointed at the session's redis-server."""

    settings = settings(max_examples=30, stateful_step_count=30, deadline=None)

    @pytest.fixture(autouse=True)
    def _server(self, redis_url: str) -> None:
        RedisDictMachine.url = redis_url
