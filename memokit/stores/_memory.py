"""Stores: where memoized results live.

Every engine in memokit (``memoize``, ``dp``, ``DagEvaluator``) keeps its
results in an object that follows the small :class:`Store` protocol, so a new
store (on disk, across machines) plugs into all of them at once.

Statistics are split by who can know them: the *engine* counts hits and misses
(they describe calls), the *store* counts evictions (only it decides them).

Two optional methods let a store shared beyond one process take part without
any engine changing shape (``SQLiteStore`` and ``RedisStore`` have both):

* ``bind(name) -> Store``: the store keeps entries of many functions apart.
  An engine that knows its function's qualified name calls it once, when it
  builds the cache (:func:`bind_store`), and uses the store it returns. Such
  a store also has a ``name`` attribute, ``""`` until bound; an engine with
  no name to give (``DagEvaluator``) accepts only a bound one.
* ``get_or_compute(key, compute) -> value``: the store runs single-flight
  across processes. ``@memoize``'s miss path calls it, after its own
  single-flight between threads, instead of ``compute()`` then ``set``.
"""

from __future__ import annotations

import enum
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any, Final, Generic, Literal, Protocol, TypeVar, runtime_checkable

__all__ = ["MISSING", "DictStore", "LRUStore", "Missing", "Store", "bind_store", "make_store"]

V = TypeVar("V")


class Missing(enum.Enum):
    """Type of :data:`MISSING`, the marker a store returns for an absent key."""

    MISSING = "MISSING"

    def __repr__(self) -> str:
        return "memokit.MISSING"


#: Returned by :meth:`Store.get` when the key is absent (``None`` is a valid
#: cached value, so it cannot play that role).
MISSING: Final = Missing.MISSING


@runtime_checkable
class Store(Protocol[V]):
    """The protocol every memokit store follows.

    Keys are hashable; values are whatever the engine stores. All methods
    must be safe to call from several threads.
    """

    @property
    def maxsize(self) -> int | None:
        """The most entries the store keeps, or ``None`` for no bound."""
        ...

    @property
    def evictions(self) -> int:
        """How many entries the store has dropped to respect ``maxsize``."""
        ...

    def get(self, key: Hashable) -> V | Literal[Missing.MISSING]:
        """Return the value stored under ``key``, or :data:`MISSING`."""
        ...

    def set(self, key: Hashable, value: V) -> None:
        """Store ``value`` under ``key``, evicting if the store is full."""
        ...

    def delete(self, key: Hashable) -> bool:
        """Forget ``key``; return whether it was present."""
        ...

    def clear(self) -> None:
        """Forget every entry."""
        ...

    def __len__(self) -> int:
        """Return the number of entries held now."""
        ...


class DictStore(Generic[V]):
    """An unbounded store backed by a plain ``dict``.

    >>> store: DictStore[int] = DictStore()
    >>> store.set("a", 1)
    >>> store.get("a"), store.get("b")
    (1, memokit.MISSING)
    >>> store.delete("a"), len(store)
    (True, 0)
    """

    __slots__ = ("_data",)

    def __init__(self) -> None:
        self._data: dict[Hashable, V] = {}

    @property
    def maxsize(self) -> None:
        """Always ``None``: a dict store never evicts."""
        return None

    @property
    def evictions(self) -> int:
        """Always ``0``: a dict store never evicts."""
        return 0

    def get(self, key: Hashable) -> V | Literal[Missing.MISSING]:
        """Return the value stored under ``key``, or :data:`MISSING`."""
        return self._data.get(key, MISSING)

    def set(self, key: Hashable, value: V) -> None:
        """Store ``value`` under ``key``."""
        self._data[key] = value

    def delete(self, key: Hashable) -> bool:
        """Forget ``key``; return whether it was present."""
        try:  # not dict.pop(key, default): on an empty dict it accepts unhashable keys
            del self._data[key]
        except KeyError:
            return False
        return True

    def clear(self) -> None:
        """Forget every entry."""
        self._data.clear()

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"DictStore(<{len(self._data)} entries>)"


class LRUStore(Generic[V]):
    """A bounded store that evicts the least recently used entry.

    ``get`` marks an entry as recently used; ``set`` of a new key evicts the
    oldest entry first when the store is full, so ``len(store)`` never exceeds
    ``maxsize``, even with many threads. All operations are O(1).

    >>> store: LRUStore[str] = LRUStore(2)
    >>> store.set(1, "one"); store.set(2, "two")
    >>> store.get(1)          # 1 is now the most recently used
    'one'
    >>> store.set(3, "three")  # evicts 2, the least recently used
    >>> store.get(2), len(store), store.evictions
    (memokit.MISSING, 2, 1)
    """

    __slots__ = ("_data", "_evictions", "_lock", "_maxsize")

    def __init__(self, maxsize: int) -> None:
        if isinstance(maxsize, bool) or not isinstance(maxsize, int):
            raise TypeError(
                f"LRUStore maxsize must be an int, got {type(maxsize).__name__} "
                f"{maxsize!r}; use DictStore for an unbounded store"
            )
        if maxsize < 0:
            raise ValueError(f"LRUStore maxsize must be >= 0, got {maxsize}")
        self._maxsize = maxsize
        self._data: OrderedDict[Hashable, V] = OrderedDict()
        self._evictions = 0
        # Writers take the lock so that "check size, evict, insert" is one
        # step; readers need no lock (each OrderedDict operation is atomic).
        self._lock = threading.Lock()

    @property
    def maxsize(self) -> int:
        """The most entries the store keeps."""
        return self._maxsize

    @property
    def evictions(self) -> int:
        """How many entries were dropped because the store was full."""
        return self._evictions

    def get(self, key: Hashable) -> V | Literal[Missing.MISSING]:
        """Return the value under ``key`` (marking it recently used), or :data:`MISSING`."""
        data = self._data
        try:
            value = data[key]
        except KeyError:
            return MISSING
        try:
            data.move_to_end(key)
        except KeyError:  # evicted by another thread in between: still a valid read
            pass
        return value

    def set(self, key: Hashable, value: V) -> None:
        """Store ``value`` under ``key``, first evicting the oldest entry if full."""
        # acquire()/release() rather than "with": measured at half the cost,
        # and this runs on every miss of a bounded cache.
        self._lock.acquire()
        try:
            data = self._data
            if key in data:
                data[key] = value
                data.move_to_end(key)
            elif self._maxsize:
                if len(data) >= self._maxsize:
                    data.popitem(False)
                    self._evictions += 1
                data[key] = value
        finally:
            self._lock.release()

    def delete(self, key: Hashable) -> bool:
        """Forget ``key``; return whether it was present."""
        with self._lock:
            return self._data.pop(key, MISSING) is not MISSING

    def clear(self) -> None:
        """Forget every entry (the eviction count is kept)."""
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"LRUStore(maxsize={self._maxsize}, <{len(self._data)} entries>)"


def make_store(maxsize: int | None, store: object = None, name: str | None = None) -> Store[Any]:
    """Return ``store`` checked against the protocol, or a new one for ``maxsize``.

    ``maxsize=None`` gives a :class:`DictStore`, an int an :class:`LRUStore`;
    giving both is an error, since a store carries its own bound. With a
    ``name`` (the cached function's qualified name), a store that keeps many
    functions apart is bound to it (:func:`bind_store`).
    """
    if store is None:
        return DictStore() if maxsize is None else LRUStore(maxsize)
    if maxsize is not None:
        raise TypeError("pass either maxsize= or store=, not both (a store sets its own bound)")
    if not isinstance(store, Store):
        raise TypeError(
            f"store= must follow the memokit Store protocol "
            f"(get/set/delete/clear/__len__/maxsize/evictions), got {type(store).__name__}"
        )
    if name is not None:
        return bind_store(store, name)
    if getattr(store, "bind", None) is not None and not getattr(store, "name", ""):
        # An engine with no function name to give (DagEvaluator) would file
        # its entries with those of every other user of this store object.
        raise TypeError(
            f"this {type(store).__name__} keeps the entries of many functions apart by name, "
            f"and this cache has none to give it: pass store=store.bind('a-unique-name')"
        )
    return store


def bind_store(store: Store[V], name: str) -> Store[V]:
    """Return ``store.bind(name)`` for a store that keeps functions apart by name, else ``store``.

    >>> store: DictStore[int] = DictStore()
    >>> bind_store(store, "module:function") is store  # in-memory stores serve one cache
    True
    """
    bind = getattr(store, "bind", None)
    if bind is None:
        return store
    bound = bind(name)
    if not isinstance(bound, Store):
        raise TypeError(
            f"{type(store).__name__}.bind() returned {type(bound).__name__}, not a Store"
        )
    return bound
