"""In-memory stores, the one way engines may reach past their methods, and store options.

:class:`DictStore` keeps everything; :class:`LRUStore` keeps a bounded number
of the most recently used entries. Both follow the :class:`Store` protocol
(:mod:`memokit.stores._protocol`), as every other store does.

An engine's hot path may skip a Python-level method call per lookup by
reading an in-memory store's table directly. :func:`fast_path` is the only
place that decides when it may, and how: it hands out a :class:`FastPath`
for a store whose methods it knows (the exact classes below, configured so
that a direct read means what ``get`` means), and ``None`` for every other
store, which engines then use through its methods only.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, Literal, NamedTuple, TypeVar, cast

from memokit._options import check_maxsize, check_store_or_maxsize
from memokit.stores._protocol import MISSING, Missing, Store, bind_store

__all__ = [
    "MISSING",
    "DictStore",
    "FastPath",
    "LRUStore",
    "Missing",
    "Store",
    "bind_store",
    "check_store_option",
    "fast_path",
    "is_store_factory",
    "make_store",
    "resolve_store",
]

V = TypeVar("V")


class FastPath(NamedTuple):
    """Direct access to an in-memory store's table, for an engine's hot path.

    Every operation it allows means exactly what the store's own method
    means. Reading: ``table.get(key, MISSING)``, or ``key in table`` then
    ``table[key]``, reads like ``store.get(key)``, provided ``touch(key)`` is
    called after each hit when ``touch`` is not ``None`` (an LRU store records
    the use). Writing: ``table[key] = value`` stores like ``store.set`` only
    when ``direct_writes`` is true; otherwise writes go through ``store.set``.
    Engines take a store's fast path once, when they build a cache, so it
    must hold for the store's lifetime.
    """

    #: The store's own table (a dict: reads are single C calls).
    table: dict[Hashable, Any]
    #: Called with the key after a hit, or ``None`` when a hit records nothing.
    touch: Callable[[Hashable], object] | None
    #: Whether ``table[key] = value`` is a complete ``set``.
    direct_writes: bool


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

    def _fast_path(self) -> FastPath:
        # get and set are exactly a dict's get and item assignment.
        return FastPath(cast(dict[Hashable, Any], self._data), None, True)

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
        if maxsize is None:
            raise TypeError(
                "LRUStore(maxsize=...) takes an int, got None: a DictStore is the unbounded store"
            )
        self._maxsize = cast(int, check_maxsize("LRUStore", maxsize, allow_none=False))
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
        # acquire()/release() rather than "with": the cheaper of the two, and
        # this runs on every miss of a bounded cache.
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

    def _fast_path(self) -> FastPath:
        # A read is the table's get plus move_to_end on a hit (get above);
        # a write must evict and count, so it stays set().
        data = cast(OrderedDict[Hashable, Any], self._data)
        return FastPath(data, data.move_to_end, False)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"LRUStore(maxsize={self._maxsize}, <{len(self._data)} entries>)"


def fast_path(store: object) -> FastPath | None:
    """Return how an engine may reach ``store``'s table directly, or ``None``: use its methods.

    Only the exact in-memory classes offer one (a subclass may give ``get``
    or ``set`` another meaning), and only as configured so that the access
    it allows means what their methods mean.

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


def is_store_factory(store: object) -> bool:
    """Whether a ``store=`` option is a function (or class) that makes a store, not a store."""
    # A store class passes the runtime protocol check too: it has the methods.
    return store is not None and (isinstance(store, type) or not isinstance(store, Store))


def check_store_option(owner: str, maxsize: object, store: object) -> int | None:
    """Check the ``maxsize=`` and ``store=`` options as ``owner``'s caller wrote them.

    Returns ``maxsize``. ``store`` is a store, a function that makes one, or ``None``.

    >>> check_store_option("dp", None, 3)
    Traceback (most recent call last):
    TypeError: dp(store=...) takes a Store (get/set/delete/clear/len)
    or a function that makes one, got int
    """
    checked = check_maxsize(owner, maxsize)
    check_store_or_maxsize(owner, checked, store)
    if store is not None and not (isinstance(store, Store) or callable(store)):
        raise TypeError(
            f"{owner}(store=...) takes a Store (get/set/delete/clear/len) or a function "
            f"that makes one, got {type(store).__name__}"
        )
    return checked


def resolve_store(owner: str, maxsize: int | None, store: object) -> Store[Any]:
    """Return the store a checked ``store=`` option names: new, made by a factory, or given."""
    if store is None:
        return DictStore() if maxsize is None else LRUStore(maxsize)
    if is_store_factory(store):
        made = cast(Callable[[], object], store)()
        if not isinstance(made, Store):
            raise TypeError(
                f"{owner}(store=...) factory returned {type(made).__name__}, not a Store"
            )
        return made
    return cast(Store[Any], store)


def make_store(
    maxsize: int | None, store: object = None, name: str | None = None, *, owner: str = "make_store"
) -> Store[Any]:
    """Return the store for one cache from its ``maxsize=`` and ``store=`` options.

    ``maxsize=None`` gives a :class:`DictStore`, an int an :class:`LRUStore`;
    ``store=`` gives a store, or a function that makes one; giving both is an
    error, since a store carries its own bound. With a ``name`` (the cached
    function's qualified name), a store that keeps many functions apart is
    bound to it (:func:`bind_store`). ``owner`` names the caller in errors.

    >>> make_store(None), make_store(2)
    (DictStore(<0 entries>), LRUStore(maxsize=2, <0 entries>))
    >>> make_store(2, DictStore(), owner="dp")
    Traceback (most recent call last):
    TypeError: dp() got both maxsize= and store=: give the bound to the store instead,
    e.g. store=LRUStore(2)
    """
    made = resolve_store(owner, check_store_option(owner, maxsize, store), store)
    if name is not None:
        return bind_store(made, name)
    if getattr(made, "bind", None) is not None and not getattr(made, "name", ""):
        # An engine with no function name to give (DagEvaluator) would file
        # its entries with those of every other user of this store object.
        raise TypeError(
            f"this {type(made).__name__} keeps the entries of many functions apart by name, "
            f"and this cache has none to give it: pass store=store.bind('a-unique-name')"
        )
    return made
