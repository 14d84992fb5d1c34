"""The ``Store`` protocol: what every engine needs from the place its results live.

Every engine in memokit (``memoize``, ``dp``, ``DagEvaluator``) keeps its
results in an object that follows the small :class:`Store` protocol, so a new
store (on disk, across machines) plugs into all of them at once.

Statistics are split by who can know them: the *engine* counts hits and misses
(they describe calls), the *store* counts evictions (only it decides them).

Statistics and listing beyond the protocol are optional, read by engines with
``getattr`` so that a store written against the protocol alone still works:

* ``expirations``: how many entries were dropped because their time had
  passed (``CacheStats.expirations``; 0 when absent);
* ``currsize``: what ``maxsize`` bounds, now, when that is not the number of
  entries (an ``LRUStore`` with ``sizeof=``: the total weight);
* ``keys()``: an iterator over the keys of the live entries, equal to the
  keys the engine gave ``set`` (so ``store.get(k)`` finds each). This is how
  a user lists what a memoized function holds: ``f.cache_store.keys()``.

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
from collections.abc import Hashable
from typing import Final, Literal, Protocol, TypeVar, runtime_checkable

__all__ = ["MISSING", "Missing", "Store", "bind_store"]

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


def bind_store(store: Store[V], name: str) -> Store[V]:
    """Return ``store.bind(name)`` for a store that keeps functions apart by name, else ``store``.

    >>> from memokit import DictStore
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
