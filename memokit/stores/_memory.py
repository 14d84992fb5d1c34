"""In-memory stores, and the one way engines may reach past their methods.

:class:`DictStore` keeps everything; :class:`LRUStore` keeps the most
recently used entries, bounded in number or, with ``sizeof=``, in weight.
Either expires entries with ``ttl=``. Both follow the :class:`Store`
protocol (:mod:`memokit.stores._protocol`), as every other store does.

Keys are kept in canonical form (:func:`memokit._hashed.hashed`): a key whose
hashing could run the user's code or cost much is wrapped once with its
hash, so no operation of the store hashes it again. The public methods take
keys as the user has them; the internal ones (``_read``, ``_put``), which
engines reach through a :class:`FastPath`, take canonical keys.

An engine's hot path may skip a Python-level method call per lookup by
reading a store's table directly. :func:`fast_path` is the only place that
decides when it may, and how: it hands out a :class:`FastPath` for a store
whose methods it knows (the exact classes below), and ``None`` for every
other store, which engines then use through its methods only.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import Any, Generic, Literal, NamedTuple, TypeVar, cast

from memokit._expiry import Expiry, Seconds, check_weight
from memokit._hashed import PLAIN_TYPES, hashed, unhashed
from memokit._options import check_maxsize
from memokit.stores._protocol import MISSING, Missing, Store, bind_store

__all__ = [
    "MISSING",
    "DictStore",
    "FastPath",
    "LRUStore",
    "Missing",
    "Store",
    "bind_store",
    "fast_path",
]

V = TypeVar("V")
# Bound at import (as functools does): a user may replace these builtins with
# memoized versions, whose stores must not call them back.
_len = len
_list = list
_iter = iter
_type = type
_allocate_lock = threading.Lock


class FastPath(NamedTuple):
    """Direct access to an in-memory store's table, for an engine's hot path.

    Every key given to the table or to these functions must be canonical
    (:func:`memokit._hashed.hashed`). Reading: without ``clock``,
    ``table.get(key, MISSING)`` (or ``key in table`` then ``table[key]``) reads
    like ``store.get(key)``; with ``clock``, the table holds ``(value,
    deadline)`` entries, an entry is live while ``deadline > clock()``, and a
    lookup that finds a dead one calls ``expire(key, entry)``. After a hit,
    call ``touch(key)`` when it is not ``None`` (an LRU store records the
    use). ``read(key)`` reads like ``get`` without recording a use, and
    ``delete(key)`` deletes like ``delete``. Writing:
    ``put(key, value)`` stores like ``store.set``; ``table[key] = value`` does
    too, but only when ``direct_writes`` is true. Engines take a store's fast
    path once, when they build a cache, so it holds for the store's lifetime.
    """

    #: The store's own table (a dict: reads are single C calls).
    table: dict[Hashable, Any]
    #: Called with the key after a hit, or ``None`` when a hit records nothing.
    touch: Callable[[Hashable], object] | None
    #: Whether ``table[key] = value`` is a complete ``set``.
    direct_writes: bool
    #: ``set`` for a canonical key.
    put: Callable[[Hashable, Any], None]
    #: ``get`` for a canonical key, without recording a use.
    read: Callable[[Hashable], Any]
    #: ``delete`` for a canonical key.
    delete: Callable[[Hashable], bool]
    #: The clock entries expire by, or ``None``: entries are plain values.
    clock: Callable[[], float] | None = None
    #: Called with a key and the expired entry a lookup found under it.
    expire: Callable[[Hashable, Any], None] | None = None


class DictStore(Generic[V]):
    """An unbounded store backed by a plain ``dict``; with ``ttl=``, its entries expire.

    ``ttl`` is a number of seconds, or a function of the value that returns
    seconds (``None``: the entry never expires); ``clock`` is what times
    them (default: :func:`time.monotonic`). An expired entry reads as absent
    and is counted in ``expirations`` when it is dropped: by a lookup that
    finds it, and before each insertion and ``len()``, which drop every
    entry whose time has passed (so expired entries never pile up).

    >>> store: DictStore[int] = DictStore()
    >>> store.set("a", 1)
    >>> store.get("a"), store.get("b")
    (1, memokit.MISSING)
    >>> store.delete("a"), len(store)
    (True, 0)
    """

    __slots__ = ("_data", "_expiry", "_lock")

    def __init__(
        self, *, ttl: Seconds | None = None, clock: Callable[[], float] | None = None
    ) -> None:
        self._data: dict[Hashable, Any] = {}
        self._expiry = Expiry.make("DictStore", ttl, clock)
        self._lock = _allocate_lock()  # taken by writers of an expiring store

    @property
    def maxsize(self) -> None:
        """Always ``None``: a dict store never evicts."""
        return None

    @property
    def evictions(self) -> int:
        """Always ``0``: a dict store never evicts."""
        return 0

    @property
    def expirations(self) -> int:
        """How many entries were dropped because their time had passed."""
        return 0 if self._expiry is None else self._expiry.count

    @property
    def currsize(self) -> int:
        """The number of entries held now (as ``len``)."""
        return _len(self)

    def get(self, key: Hashable) -> V | Literal[Missing.MISSING]:
        """Return the value stored under ``key``, or :data:`MISSING`."""
        if _type(key) not in PLAIN_TYPES:
            key = hashed(key)
        if self._expiry is None:
            found: V | Literal[Missing.MISSING] = self._data.get(key, MISSING)
            return found
        value: V | Literal[Missing.MISSING] = self._read(key)
        return value

    def _read(self, key: Hashable) -> Any:
        entry = self._data.get(key, MISSING)
        if self._expiry is None or entry is MISSING:
            return entry
        if entry[1] > self._expiry.clock():
            return entry[0]
        self._expire(key, entry)
        return MISSING

    def set(self, key: Hashable, value: V) -> None:
        """Store ``value`` under ``key``."""
        if _type(key) not in PLAIN_TYPES:
            key = hashed(key)
        if self._expiry is None:
            self._data[key] = value
        else:
            self._put(key, value)

    def _put(self, key: Hashable, value: Any) -> None:
        expiry = self._expiry
        if expiry is None:
            self._data[key] = value
            return
        now = expiry.clock()
        seconds = expiry.seconds
        # A ttl function (the user's code) runs outside the lock.
        deadline = now + seconds if seconds is not None else expiry.deadline(value, now)
        lock = self._lock
        lock.acquire()
        try:
            if deadline > now:
                expiry.admit(self._data, key, (value, deadline), now, self._drop)
            else:  # already expired: "set" means the key's old value is gone too
                expiry.reclaim(self._data, now, self._drop)
                self._data.pop(key, None)
        finally:
            lock.release()

    def _drop(self, key: Hashable) -> None:
        del self._data[key]

    def _expire(self, key: Hashable, entry: Any) -> None:
        with self._lock:
            if self._data.get(key) is entry:
                del self._data[key]
                cast(Expiry, self._expiry).count += 1

    def delete(self, key: Hashable) -> bool:
        """Forget ``key``; return whether it was present (an expired entry was not)."""
        return self._delete(key if _type(key) in PLAIN_TYPES else hashed(key))

    def _delete(self, key: Hashable) -> bool:
        if self._expiry is None:
            try:
                del self._data[key]
            except KeyError:
                return False
            return True
        with self._lock:
            entry = self._data.pop(key, MISSING)
            if entry is MISSING:
                return False
            return not self._expiry.dead(entry, count=True)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._data.clear()
            if self._expiry is not None:
                self._expiry.forget()

    def keys(self) -> Iterator[Hashable]:
        """Iterate over the keys of the live entries, in the order they were stored."""
        self._reclaim()
        return _iter([unhashed(k) for k in _list(self._data)])

    def _reclaim(self) -> None:
        if self._expiry is not None:
            with self._lock:
                self._expiry.reclaim(self._data, self._expiry.clock(), self._drop)

    def _fast_path(self) -> FastPath:
        data = self._data
        if self._expiry is None:
            # get and set are exactly a dict's get and item assignment.
            return FastPath(data, None, True, data.__setitem__, self._read, self._delete)
        clock, expire = self._expiry.clock, self._expire
        return FastPath(data, None, False, self._put, self._read, self._delete, clock, expire)

    def __len__(self) -> int:
        self._reclaim()
        return _len(self._data)

    def __repr__(self) -> str:
        ttl = "" if self._expiry is None else f"ttl={self._expiry.describe()}, "
        return f"DictStore({ttl}<{_len(self)} entries>)"


class LRUStore(Generic[V]):
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
    def expirations(self) -> int:
        """How many entries were dropped because their time had passed."""
        return 0 if self._expiry is None else self._expiry.count

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

    def _read(self, key: Hashable) -> Any:
        entry = self._data.get(key, MISSING)
        if self._expiry is None or entry is MISSING:
            return entry
        if entry[1] > self._expiry.clock():
            return entry[0]
        self._expire(key, entry)
        return MISSING

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

    def _expire(self, key: Hashable, entry: Any) -> None:
        with self._lock:
            if self._data.get(key) is entry:
                self._drop(key)
                cast(Expiry, self._expiry).count += 1

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

    def keys(self) -> Iterator[Hashable]:
        """Iterate over the keys of the live entries, least recently used first."""
        self._reclaim()
        return _iter([unhashed(k) for k in _list(self._data)])

    def _reclaim(self) -> None:
        if self._expiry is not None:
            with self._lock:
                self._expiry.reclaim(self._data, self._expiry.clock(), self._drop)

    def _fast_path(self) -> FastPath:
        # A read is the table's get plus move_to_end on a hit (get above);
        # a write must evict and count, so it stays _put.
        data = self._data
        expiry = self._expiry
        clock = None if expiry is None else expiry.clock
        expire = None if expiry is None else self._expire
        touch = data.move_to_end
        return FastPath(data, touch, False, self._put, self._read, self._delete, clock, expire)

    def __len__(self) -> int:
        self._reclaim()
        return _len(self._data)

    def __repr__(self) -> str:
        options = f"maxsize={self._maxsize}"
        if self._sizeof is not None:
            options += f", sizeof={getattr(self._sizeof, '__qualname__', self._sizeof)!s}"
        if self._expiry is not None:
            options += f", ttl={self._expiry.describe()}"
        return f"LRUStore({options}, <{_len(self)} entries>)"


def fast_path(store: object) -> FastPath | None:
    """Return how an engine may reach ``store``'s table directly, or ``None``: use its methods.

    Only the exact in-memory classes offer one (a subclass may give ``get``
    or ``set`` another meaning).

    >>> fast_path(DictStore()).direct_writes, fast_path(LRUStore(8)).direct_writes
    (True, False)
    >>> class Audited(DictStore[int]):
    ...     pass
    >>> fast_path(Audited()) is None
    True
    """
    if type(store) is DictStore or type(store) is LRUStore:
        return store._fast_path()
    return None
