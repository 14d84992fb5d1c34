"""Stores: one contract for every Store, LRU specifics, and stateful tests against models.

As cachetools runs one ``CacheTestMixin`` for each policy, :class:`StoreContract`
holds what every store promises and each store class plugs itself in with
``make_store``. The hypothesis state machines then drive each store with
random operation sequences next to a plain reference model.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from strategies import store_keys, store_values

from memokit import MISSING, DictStore, LRUStore, Missing, Store


class StoreContract:
    """What every store promises; subclasses set ``make_store``."""

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

    def test_value_is_returned_as_is(self) -> None:
        """get returns the very object that was set."""
        store = self.make_store()
        value = object()
        store.set(1, value)
        assert store.get(1) is value

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


class TestDictStore(StoreContract):
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


class TestLRUStore(StoreContract):
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
            pytest.param("big", TypeError, "must be an int", id="str"),
            pytest.param(1.5, TypeError, "must be an int", id="float"),
            pytest.param(True, TypeError, "must be an int", id="bool"),
            pytest.param(None, TypeError, "DictStore", id="none"),
            pytest.param(-1, ValueError, ">= 0", id="negative"),
        ],
    )
    def test_bad_maxsize(self, maxsize: Any, error: type[Exception], words: str) -> None:
        """A maxsize that is not a non-negative int is rejected with a clear message."""
        with pytest.raises(error, match=words):
            LRUStore(maxsize)


# ---------------------------------------------------------------- stateful tests against models


class DictStoreMachine(RuleBasedStateMachine):
    """DictStore next to a plain dict."""

    def __init__(self) -> None:
        super().__init__()
        self.store: DictStore[int | None] = DictStore()
        self.model: dict[Hashable, int | None] = {}

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
        self.store: LRUStore[int | None] = LRUStore(0)
        self.model: OrderedDict[Hashable, int | None] = OrderedDict()
        self.evictions = 0

    @initialize(maxsize=st.integers(0, 4))
    def make(self, maxsize: int) -> None:
        """Start from an empty store of a random bound."""
        self.maxsize = maxsize
        self.store = LRUStore(maxsize)

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
