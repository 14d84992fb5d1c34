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
from collections.abc import Callable, Hashable, Iterator
from typing import Any, Generic, Literal, NamedTuple, TypeVar, cast

from memokit._expiry import Expiry, Seconds
from memokit._hashed import PLAIN_TYPES, hashed, unhashed
from memokit.stores._protocol import MISSING, Missing, Store, bind_store

__all__ = [
    "MISSING",
    "DictStore",
    "FastPath",
    "InMemory",
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


class InMemory(Generic[V]):
    """What both in-memory stores share: expiry-aware reads, listing, length."""

    __slots__ = ()
    _data: dict[Hashable, Any]
    _expiry: Expiry | None
    _lock: Any

    @property
    def expirations(self) -> int:
        """How many entries were dropped because their time had passed."""
        return 0 if self._expiry is None else self._expiry.count

    def _read(self, key: Hashable) -> Any:
        """``get`` for a canonical key, without recording a use."""
        entry = self._data.get(key, MISSING)
        if self._expiry is None or entry is MISSING:
            return entry
        if entry[1] > self._expiry.clock():
            return entry[0]
        self._expire(key, entry)
        return MISSING

    def _drop(self, key: Hashable) -> None:
        del self._data[key]

    def _expire(self, key: Hashable, entry: Any) -> None:
        """Drop the expired ``entry`` a lookup found under ``key``, and count it."""
        with self._lock:
            if self._data.get(key) is entry:
                self._drop(key)
                cast(Expiry, self._expiry).count += 1

    def keys(self) -> Iterator[Hashable]:
        """Iterate over the keys of the live entries (a snapshot)."""
        self._reclaim()
        return _iter([unhashed(k) for k in _list(self._data)])

    def _reclaim(self) -> None:
        if self._expiry is not None:
            with self._lock:
                self._expiry.reclaim(self._data, self._expiry.clock(), self._drop)

    def __len__(self) -> int:
        self._reclaim()
        return _len(self._data)


class DictStore(InMemory[V]):
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

    def _fast_path(self) -> FastPath:
        data = self._data
        if self._expiry is None:
            # get and set are exactly a dict's get and item assignment.
            return FastPath(data, None, True, data.__setitem__, self._read, self._delete)
        clock, expire = self._expiry.clock, self._expire
        return FastPath(data, None, False, self._put, self._read, self._delete, clock, expire)

    def __repr__(self) -> str:
        ttl = "" if self._expiry is None else f"ttl={self._expiry.describe()}, "
        return f"DictStore({ttl}<{_len(self)} entries>)"


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


# LRUStore builds on InMemory, above; this module re-exports it.
from memokit.stores._lru import LRUStore  # noqa: E402
