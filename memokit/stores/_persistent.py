"""The persistent-store base: views bound to a function's name, shared options, counts, ``with``.

``SQLiteStore`` and ``RedisStore`` keep the entries of many functions in one
file or server. A store made by its constructor is *unbound*; ``bind(name)``
(which ``@memoize`` calls with the function's qualified name) returns a
*view* that files its entries under that name and shares the file or client,
and the settings, with the store it came from. This module holds what the
two stores share: binding, the options both take (checked the same way),
the count of entries that failed their integrity check, and ``with`` blocks
that close the store.
"""

from __future__ import annotations

import os
import threading
import warnings
import weakref
from typing import Self

from memokit._options import check_seconds, check_version
from memokit.stores._codec import BadEntryWarning, Codec, make_codec
from memokit.stores._keybytes import namespace_context

__all__ = ["NamedViews", "Shared", "check_name"]


class Shared:
    """What the views of one store share: a description for messages, a lock, a warned flag.

    The lock guards the views' counters. A forked child gets a new one: a
    lock that another thread of the parent held at the fork would never be
    released in the child.
    """

    def __init__(self, owner: str, place: str) -> None:
        #: Where the entries are: a file's path, or a server's ``host:port/db``.
        self.place = place
        #: How messages name the store, e.g. ``SQLiteStore('cache.db')``.
        self.where = f"{owner}({place!r})"
        self.lock = threading.Lock()
        self.warned = False
        _ALL_SHARED.add(self)


_ALL_SHARED: weakref.WeakSet[Shared] = weakref.WeakSet()


def _new_locks_in_child() -> None:
    for shared in list(_ALL_SHARED):
        shared.lock = threading.Lock()


os.register_at_fork(after_in_child=_new_locks_in_child)


def check_name(owner: str, name: object) -> str:
    """Return ``name`` if it can name a namespace for good, else raise a TypeError saying why.

    >>> check_name("SQLiteStore", "mymodule:f")
    'mymodule:f'
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"{owner}.bind() takes a non-empty str name, got {name!r}")
    if "<" in name:
        # "make.<locals>.f" is shared by every closure that make() returns,
        # and "<lambda>" by every lambda of a module: results would be mixed up.
        raise TypeError(
            f"{owner} keeps each function's entries under its qualified name, and {name!r} "
            f"does not name one function for good (functions defined inside another "
            f"function, and lambdas, share their name with every other one made by the same "
            f"code). Define the function at module level, or choose a name yourself: "
            f"store=store.bind('a-unique-name')"
        )
    return name


class NamedViews:
    """What the persistent stores share: views bound to a name, their options and counts, ``with``.

    A store calls :meth:`_configure` from its constructor, sets ``_shared``,
    and gives ``_init_view`` (the per-view state, called for the store and
    for each view) and ``close``, which the end of a ``with`` block calls.
    """

    _name: str
    _version: str
    _ttl: float | None
    _lock_ttl: float
    _codec: Codec
    _context: bytes
    _rejected: int
    _shared: Shared

    def _configure(
        self,
        owner: str,
        *,
        version: object,
        ttl: object,
        lock_ttl: object,
        timeout: object,
        serializer: object,
        secret: bytes | str | None,
    ) -> float:
        """Check and keep the options both stores take; return ``timeout`` in seconds."""
        self._version = check_version(owner, version)
        self._ttl = None if ttl is None else check_seconds(owner, "ttl", ttl)
        self._lock_ttl = check_seconds(owner, "lock_ttl", lock_ttl)
        seconds = check_seconds(owner, "timeout", timeout)
        self._codec = make_codec(serializer, secret, owner)
        self._name = ""
        return seconds

    def _init_view(self) -> None:
        """Set the state that is this view's own (called for the store and for each view)."""
        self._context = namespace_context(self._name, self._version)
        self._rejected = 0

    def close(self) -> None:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        """Leave a ``with`` block: :meth:`close` the store."""
        self.close()

    def bind(self, name: str) -> Self:
        """Return a view of this store whose entries live under ``name`` (``@memoize`` calls this).

        A store made by the constructor is unbound (its own entries use the
        empty name); ``bind`` on it gives a view that shares its file or
        client, and its settings. A view is already bound, so binding it
        again returns it unchanged: that is how to choose a name yourself,
        ``@memoize(store=store.bind("my-name"))``.
        """
        if self._name:
            return self
        check_name(type(self).__name__, name)
        view = object.__new__(type(self))
        view.__dict__.update(self.__dict__)
        view._name = name
        view._init_view()
        return view

    @property
    def name(self) -> str:
        """The name this store's entries live under (``""`` if unbound)."""
        return self._name

    @property
    def version(self) -> str:
        """The version that, with the name (and a RedisStore's prefix), selects the entries."""
        return self._version

    @property
    def rejected(self) -> int:
        """How many entries failed their integrity check and were ignored (treated as misses)."""
        return self._rejected

    def _count_rejected(self, reason: str, stacklevel: int) -> None:
        """Count an entry ignored for ``reason``; the first one of the store warns.

        ``stacklevel`` counts the frames from the caller of this method up
        to the user's call, so that the warning points there.
        """
        shared = self._shared
        with shared.lock:
            self._rejected += 1
            first = not shared.warned
            shared.warned = True
        if first:
            warnings.warn(
                BadEntryWarning(
                    f"{shared.where}: ignored an entry of {self._name or '<unbound>'!r} because "
                    f"{reason}; it counts as a miss and will be recomputed. Later ones are "
                    f"counted in store.rejected without a warning."
                ),
                stacklevel=stacklevel + 2,
            )

    def _size(self) -> str:
        """How ``repr`` describes the entries: a count, or why there is none."""
        return f"{len(self)} entries"

    def __repr__(self) -> str:
        name = f", name={self._name!r}" if self._name else ""
        version = f", version={self._version!r}" if self._version else ""
        return f"{type(self).__name__}({self._shared.place!r}{name}{version}, <{self._size()}>)"
