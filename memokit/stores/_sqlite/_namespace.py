"""What an SQLiteStore says about its namespace: its row, its keys, its size, its expired count.

A namespace is a row of ``memokit_namespaces``: a function's qualified name
and the store's ``version``. A view finds its row's id once and keeps it.
Reading what a namespace holds never makes its row: a store nobody has
written to has nothing to list, and a listing is a read.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from memokit.stores._keylist import listed_keys
from memokit.stores._sqlite._database import LIVE, Database
from memokit.stores._sqlite._sql import KEYS

__all__ = ["Namespace"]

_FIND = "SELECT id FROM memokit_namespaces WHERE name = ? AND version = ?"
_MAKE = "INSERT OR IGNORE INTO memokit_namespaces (name, version) VALUES (?, ?)"
_COUNT = f"SELECT COUNT(*) FROM memokit_entries WHERE ns = :ns AND {LIVE}"


class Namespace:
    """Finding a view's namespace, and listing and counting what it holds (SQLiteStore's part)."""

    _db: Database
    _name: str
    _version: str
    _ns: int | None

    def _namespace(self) -> int:
        """The namespace's id, its row made if missing (by a store about to write or delete)."""
        ns = self._ns
        if ns is None:
            with self._db.session() as conn:
                conn.execute(_MAKE, (self._name, self._version))
            ns = self._find_namespace()
            assert ns is not None, "made just now"
        return ns

    def _find_namespace(self) -> int | None:
        """The namespace's id, or ``None`` if it has no row yet (nothing was ever stored)."""
        if self._ns is None:
            with self._db.session() as conn:
                row = conn.execute(_FIND, (self._name, self._version)).fetchone()
            if row is not None:
                self._ns = int(row[0])
        return self._ns

    @property
    def expirations(self) -> int:
        """How many entries of this namespace were dropped, expired, through this file's store.

        Counted when they go: a lookup or ``delete`` that finds one, the
        removal of every expired entry of the file before each write of a
        store with ``ttl``, and opening or clearing a store. The views
        :meth:`bind` made share the count of their name; entries that
        another process drops are not counted here.
        """
        ns = self._find_namespace()
        return 0 if ns is None else self._db.expired.get(ns, 0)

    def keys(self) -> Iterator[Any]:
        """Iterate over the keys of this namespace's live entries, least recently used first.

        A snapshot, in the order of each entry's last write (with
        ``maxsize``: of its last use, as :class:`~memokit.LRUStore` lists
        them). Each key equals the one given to ``set``, so ``get`` finds
        it; numbers come back in the type they are filed as (``1`` for
        ``1.0`` or ``True``, which share an entry). Left out, and counted in
        one :class:`~memokit.UnlistedKeysWarning`: entries whose key cannot
        be given back, namely those with a key over 64 bytes encoded that a
        memokit older than schema 3 wrote (it kept only a digest; a new
        write of the key lists it again), keys altered outside memokit, and
        enum members or classes whose module this process has not imported.
        Calls still find them, and ``len()`` counts every entry.

        >>> import tempfile, os
        >>> from memokit import SQLiteStore
        >>> store = SQLiteStore(os.path.join(tempfile.mkdtemp(), "k.db"), serializer="json")
        >>> for key in ("b", ("a", 1), 3.5):
        ...     store.set(key, 0)
        >>> list(store.keys())
        ['b', ('a', 1), 3.5]
        """
        ns = self._find_namespace()
        if ns is None:
            return iter([])
        with self._db.session() as conn:
            rows = conn.execute(KEYS, {"ns": ns, "now": time.time()}).fetchall()
        # Decoded outside the session: nothing in decoding needs the connection.
        return iter(listed_keys(rows, f"{self._db.where} {self._name!r}"))

    def __len__(self) -> int:
        """Return the number of live (unexpired) entries in this namespace."""
        ns = self._find_namespace()
        if ns is None:
            return 0
        with self._db.session() as conn:
            row = conn.execute(_COUNT, {"ns": ns, "now": time.time()}).fetchone()
        return int(row[0])
