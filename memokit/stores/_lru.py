"""``LRUStore``: an in-memory store bounded in entries or weight, least recently used out first.

It shares its reads, expiry and listing with :class:`DictStore`
(:class:`memokit.stores._memory.InMemory`); what is its own is the order of
use, kept by an ``OrderedDict``, and the bound: counted in entries, or with
``sizeof=`` in weight.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Literal, TypeVar, cast

from memokit import _core
from memokit._expiry import Expiry, Seconds, check_weight
from memokit._hashed import PLAIN_TYPES, hashed
from memokit._options import check_maxsize
from memokit.stores._memory import MISSING, FastPath, InMemory, Missing

__all__ = ["LRUStore"]

V = TypeVar("V")
# Bound at import (as functools does): a user may replace these builtins with
# memoized versions, whose stores must not call them back.
_len = len
_type = type
_allocate_lock = threading.Lock
#: LRUPut (memokit/_core/memo_miss.c): ``_put_plain`` of one store in C, or
#: None when the compiled core is not live.
PUT: Any = _core.LRUPut


class LRUStore(InMemory[V]):
    """A bounded store that evicts the least recently used entry.

    ``maxsize`` bounds the number of entries, or, with ``sizeof=``, their
    total weight: ``sizeof(value)`` is each entry's weight (a number >= 0,
    such as its size in bytes), and an entry heavier than ``maxsize`` is not
    stored at all. ``get`` marks an entry as recently used; ``set`` evicts
    the oldest entries first when the new one would not fit, so the bound
    holds even with many threads. ``ttl=`` and ``clock=`` expire entries as
    in :class:`DictStore` (expired entries are dropped before anything is
    evicted). Lookups and insertions are O(1); with ``ttl=``, an insertion
    is O(log n).

    >>> store: LRUStore[str] = LRUStore(2)
    >>> store.set(1, "one"); store.set(2, "two")
    >>> store.get(1)          # 1 is now the most recently used
    'one'
    >>> store.set(3, "three")  # evicts 2, the least recently used
    >>> store.get(2), len(store), store.evictions
    (memokit.MISSING, 2, 1)
    """

    __slots__ = (
        "_data",
        "_evictions",
        "_expiry",
        "_lock",
        "_maxsize",
        "_put",
        "_sizeof",
        "_total",
        "_weights",
    )

    def __init__(
        self,
        maxsize: int,
        *,
        sizeof: Callable[[Any], float] | None = None,
        ttl: Seconds | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if maxsize is None:
            raise TypeError(
                "LRUStore(maxsize=...) takes an int, got None: a DictStore is the unbounded store"
            )
        self._maxsize = cast(int, check_maxsize("LRUStore", maxsize, allow_none=False))
        if sizeof is not None and not callable(sizeof):
            raise TypeError(
                f"LRUStore(sizeof=...) takes a function that returns a value's weight "
                f"(e.g. its size in bytes), got {type(sizeof).__name__}"
            )
        self._sizeof = sizeof
        self._expiry = Expiry.make("LRUStore", ttl, clock)
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._weights: dict[Hashable, float] = {}
        self._total: float = 0
        self._evictions = 0
        # Writers take the lock so that "check size, evict, insert" is one
        # step; readers need no lock (each OrderedDict operation is atomic).
        self._lock = _allocate_lock()
        plain = sizeof is None and self._expiry is None
        self._put = self._put_plain if plain else self._put_general

    @property
    def maxsize(self) -> int:
        """The most entries the store keeps (with ``sizeof=``: the most total weight)."""
        return self._maxsize

    @property
    def evictions(self) -> int:
        """How many entries were dropped to make room."""
        return self._evictions

    @property
    def currsize(self) -> float:
        """What ``maxsize`` bounds, now: the number of entries, or with ``sizeof=`` their weight."""
        n = _len(self)
        return n if self._sizeof is None else self._total

    def get(self, key: Hashable) -> V | Literal[Missing.MISSING]:
        """Return the value under ``key`` (marking it recently used), or :data:`MISSING`."""
        if _type(key) not in PLAIN_TYPES:
            key = hashed(key)
        value = self._read(key)
        if value is not MISSING:
            try:
                self._data.move_to_end(key)
            except KeyError:  # evicted by another thread in between: still a valid read
                pass
        found: V | Literal[Missing.MISSING] = value
        return found

    def set(self, key: Hashable, value: V) -> None:
        """Store ``value`` under ``key``, first evicting the oldest entries if it would not fit."""
        if _type(key) not in PLAIN_TYPES:
            key = hashed(key)
        self._put(key, value)

    def _put_plain(self, key: Hashable, value: Any) -> None:
        # acquire()/release() rather than "with": the cheaper of the two, and
        # this runs on every miss of a bounded cache.
        self._lock.acquire()
        try:
            data = self._data
            if key in data:
                data[key] = value
                data.move_to_end(key)
            elif self._maxsize:
                if _len(data) >= self._maxsize:
                    data.popitem(False)
                    self._evictions += 1
                data[key] = value
        finally:
            self._lock.release()

    def _put_general(self, key: Hashable, value: Any) -> None:
        # The user's functions (sizeof, a ttl function) run before the lock.
        sizeof = self._sizeof
        weight = 1 if sizeof is None else check_weight(sizeof(value))
        expiry = self._expiry
        now = deadline = 0.0
        if expiry is not None:
            now = expiry.clock()
            seconds = expiry.seconds
            deadline = now + seconds if seconds is not None else expiry.deadline(value, now)
        lock = self._lock
        lock.acquire()
        try:
            data = self._data
            if expiry is not None:
                expiry.reclaim(data, now, self._drop)
            if key in data:
                self._drop(key)  # replaced: its weight goes, and it rejoins at the newest end
            bound = self._maxsize
            if weight > bound or not bound or (expiry is not None and deadline <= now):
                return  # too heavy, no room at all, or expired already: not stored
            if sizeof is None:
                while _len(data) >= bound:
                    data.popitem(False)
                    self._evictions += 1
            else:
                weights = self._weights
                while self._total + weight > bound:
                    self._total -= weights.pop(data.popitem(False)[0])
                    self._evictions += 1
                weights[key] = weight
                self._total += weight
            if expiry is None:
                data[key] = value
            else:
                expiry.admit(data, key, (value, deadline), now, self._drop)
        finally:
            lock.release()

    def _drop(self, key: Hashable) -> None:
        del self._data[key]
        if self._sizeof is not None:
            self._total -= self._weights.pop(key)
            if not self._data:
                self._total = 0  # no drift from float weights added and taken away

    def delete(self, key: Hashable) -> bool:
        """Forget ``key``; return whether it was present (an expired entry was not)."""
        return self._delete(key if _type(key) in PLAIN_TYPES else hashed(key))

    def _delete(self, key: Hashable) -> bool:
        with self._lock:
            entry = self._data.get(key, MISSING)
            if entry is MISSING:
                return False
            self._drop(key)
            return self._expiry is None or not self._expiry.dead(entry, count=True)

    def clear(self) -> None:
        """Forget every entry (the eviction and expiration counts are kept)."""
        with self._lock:
            self._data.clear()
            self._weights.clear()
            self._total = 0
            if self._expiry is not None:
                self._expiry.forget()

    def _fast_path(self) -> FastPath:
        # A read is the table's get plus move_to_end on a hit (get above);
        # a write must evict and count, so it stays _put.
        data = self._data
        expiry = self._expiry
        clock = None if expiry is None else expiry.clock
        expire = None if expiry is None else self._expire
        touch = data.move_to_end
        put = self._put
        if PUT is not None and put == self._put_plain:
            # _put_plain in C, for the compiled @memoize wrapper, which calls
            # it without a Python frame. The cache holds it, the store does
            # not: a store that held it would be in a reference cycle.
            put = PUT(self)
        return FastPath(data, touch, False, put, self._read, self._delete, clock, expire)

    def __repr__(self) -> str:
        options = f"maxsize={self._maxsize}"
        if self._sizeof is not None:
            options += f", sizeof={getattr(self._sizeof, '__qualname__', self._sizeof)!s}"
        if self._expiry is not None:
            options += f", ttl={self._expiry.describe()}"
        return f"LRUStore({options}, <{_len(self)} entries>)"
