"""``SQLiteStore``: the Store protocol and cross-process single flight over one SQLite file.

A namespace (a row of ``memokit_namespaces``) is a function's qualified name
and the store's ``version``; each cached result is a row of
``memokit_entries`` keyed by :func:`~memokit.stores._keybytes.storage_key`,
and its bytes (a signed entry, see :class:`~memokit.stores._codec.Codec`)
are a row of ``memokit_values``, or a value file named there. The value has
a table of its own because SQLite rewrites a whole row on UPDATE: moving a
large entry to the front of the LRU order then writes a few bytes, not the
entry. ``used`` is a per-namespace logical clock for that order; a hit
moves its entry to the front only when it is not already there, so repeated
hits on one key never write. Triggers keep each namespace's entry count
(the bound is checked without counting rows), delete a removed entry's
value, and list a removed or replaced value's file in ``memokit_garbage``,
whatever removed it: delete, clear, eviction, expiry or an overwrite.

A key whose encoding is long is filed as its digest; its row keeps the whole
encoding too (``whole_key``), read only to list keys: a lookup never reads
it, so hits cost the same for every key.
"""

from __future__ import annotations

import os
import sqlite3
import time
from typing import Any, Literal, NamedTuple

from memokit._options import check_maxsize
from memokit.stores._codec import BadEntry, Data
from memokit.stores._keybytes import filed_key, storage_key
from memokit.stores._persistent import NamedViews
from memokit.stores._protocol import MISSING, Missing
from memokit.stores._sqlite._database import (
    LIVE,
    Database,
    check_path,
    names,
    transaction,
)
from memokit.stores._sqlite._files import (
    FILE_MODE,
    FILE_THRESHOLD,
    TMP,
    check_file_mode,
    check_file_threshold,
)
from memokit.stores._sqlite._flight import RELEASE, FileFlight
from memokit.stores._sqlite._namespace import Namespace
from memokit.stores._sqlite._sql import (
    DELETE,
    FILE_OF,
    GET,
    GET_LRU,
    PUT_ENTRY,
    PUT_VALUE,
    TOUCH,
)

__all__ = ["SQLiteStore"]


class _Read(NamedTuple):
    """An entry as read from the database: its row's value, and its file's head and data."""

    entry: bytes
    newest: bool
    name: str | None = None  # the value file, if the entry is in one
    head: bytes = b""
    data: Data = b""
    scratch: bytearray | None = None  # the read buffer to hand back once decoded
    bad: str = ""  # why the entry cannot be used, if it cannot


class SQLiteStore(Namespace, FileFlight, NamedViews):
    """A persistent store in an SQLite file: results survive restarts and are shared by processes.

    ``@memoize(store=SQLiteStore(path))`` keeps each function's results in the
    file under the function's qualified name and ``version=``: bump the
    version when the function's code changes to start afresh. Several
    functions, threads and processes can share one file (WAL mode, waiting up
    to ``timeout`` seconds for a lock), and so can a child forked at any
    moment; when several processes miss one key at once, one computes it and
    the others wait for its result (a process killed while computing is
    taken over after ``lock_ttl`` seconds).

    Values are pickled and signed with an HMAC ``secret`` (or the
    ``MEMOKIT_CACHE_KEY`` environment variable); ``serializer="json"`` stores
    plain data and ``serializer="bytes"`` bytes-like results as they are,
    without one. An entry that does not verify is never unpickled: it counts
    as a miss, and the first one raises a :class:`BadEntryWarning`.
    ``maxsize`` bounds each namespace (least recently used out first) and
    ``ttl`` expires entries after that many seconds. Entries of
    ``file_threshold`` bytes or more are kept in files in a folder beside the
    database, ``<path>-values``. New files are made with ``file_mode``
    (``0o600``, the owner's only; the folder ``0o700``), less the umask.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "cache.db")
    >>> store = SQLiteStore(path, serializer="json").bind("example:squares")
    >>> store.set(3, 9)
    >>> store.get(3), store.get(4), len(store)
    (9, memokit.MISSING, 1)
    >>> SQLiteStore(path, serializer="json").bind("example:squares").get(3)  # another "process"
    9
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        maxsize: int | None = None,
        ttl: float | None = None,
        version: str | int = "",
        serializer: Literal["pickle", "json", "bytes"] = "pickle",
        secret: bytes | str | None = None,
        timeout: float = 10.0,
        lock_ttl: float = 30.0,
        file_threshold: int | None = FILE_THRESHOLD,
        file_mode: int = FILE_MODE,
    ) -> None:
        owner = "SQLiteStore"
        where = check_path(path)
        self._maxsize = check_maxsize(owner, maxsize)
        self._file_threshold = check_file_threshold(file_threshold)
        mode = check_file_mode(file_mode)
        seconds = self._configure(
            owner,
            version=version,
            ttl=ttl,
            lock_ttl=lock_ttl,
            timeout=timeout,
            serializer=serializer,
            secret=secret,
        )
        self._get_sql = GET if maxsize is None else GET_LRU
        self._db = self._shared = Database(where, seconds, mode)
        # Fail now, not at the first call, on a bad path; and delete what
        # processes killed mid-write left behind.
        with self._db.session() as conn:
            self._db.sweep(conn)
        self._init_view()

    def _init_view(self) -> None:
        super()._init_view()
        self._ns: int | None = None
        self._evictions = 0

    # ---------------------------------------------------------------- properties

    @property
    def path(self) -> str:
        """The SQLite file."""
        return self._db.path

    @property
    def folder(self) -> str:
        """The folder beside the file that holds large entries (made when first needed)."""
        return self._db.files.folder

    @property
    def maxsize(self) -> int | None:
        """The most entries this namespace keeps, or ``None`` for no bound."""
        return self._maxsize

    @property
    def evictions(self) -> int:
        """How many entries this store object has dropped to respect ``maxsize``."""
        return self._evictions

    # ---------------------------------------------------------------- the Store protocol

    def get(self, key: object) -> Any | Literal[Missing.MISSING]:
        """Return the value stored under ``key``, or :data:`MISSING`."""
        kb = storage_key(key)
        ns = self._ns
        return self._get(self._namespace() if ns is None else ns, kb)

    def _get(self, ns: int, kb: bytes) -> Any:
        where = {"ns": ns, "key": kb}
        with self._db.session() as conn:
            read = self._read(conn, where)
        if read is None:
            return MISSING
        # Decoded outside the session: unpickling may run code that uses the store.
        try:
            if read.bad:
                raise BadEntry(read.bad)
            if read.name is None:
                value = self._codec.loads(self._context + kb, read.entry)
            else:
                try:
                    value = self._codec.decode(self._context + kb, read.head, read.data)
                finally:
                    if read.scratch is not None:
                        self._db.files.give_scratch(read.scratch)
        except BadEntry as bad:
            self._reject(where, read, str(bad))
            return MISSING
        if self._maxsize is not None and not read.newest:
            with self._db.session() as conn:
                conn.execute(TOUCH, where)
        return value

    def _read(self, conn: sqlite3.Connection, where: dict[str, Any]) -> _Read | None:
        """Read an entry's row, and its file if it has one; ``None`` if it is absent or expired."""
        for _ in range(3):  # a file replaced between reading its row and opening it: look again
            row = conn.execute(self._get_sql, where).fetchone()
            if row is None:
                return None
            entry, expires, newest, file = row
            if expires is not None and expires <= time.time():
                with transaction(conn, self._db):
                    dropped = conn.execute(
                        f"{DELETE} AND NOT {LIVE}", where | {"now": time.time()}
                    ).rowcount
                self._db.count_expired({where["ns"]: dropped} if dropped else {})
                return None
            if file is None:
                return _Read(entry, newest)
            name = file.decode("ascii", "replace")
            # A bytes value is the data itself: read it into a bytes object
            # of its own. Any other value is decoded from the data, which is
            # then garbage: read it into a buffer this thread reuses.
            reuse = self._codec.format != "bytes"
            try:
                head, data, scratch = self._db.files.read(name, self._codec.head_size, reuse)
            except BadEntry as bad:
                return _Read(entry, newest, name, bad=str(bad))
            except FileNotFoundError:
                if names(conn.execute(FILE_OF, where)) == [name]:
                    missing = f"its value file {self._db.files.path(name)} is missing"
                    return _Read(entry, newest, name, bad=missing)
                continue  # deleted or replaced since the row was read
            return _Read(entry, newest, name, head, data, scratch)
        return None

    def _reject(self, where: dict[str, Any], read: _Read, reason: str) -> None:
        # Delete it only if it is still the same bytes (or file): another
        # process may have replaced it with a good entry since.
        same = "value = :value" if read.name is None else "file = :file"
        with self._db.session() as conn, transaction(conn, self._db):
            conn.execute(
                f"{DELETE} AND EXISTS (SELECT 1 FROM memokit_values v "
                f"WHERE v.id = memokit_entries.id AND {same})",
                where | {"value": read.entry, "file": read.name},
            )
        self._count_rejected(reason, stacklevel=3)

    def set(self, key: object, value: Any) -> None:
        """Store ``value`` under ``key`` (evicting the least recently used entry if full)."""
        kb, whole = filed_key(key)
        entry = self._codec.encode(self._context + kb, value)
        self._put(self._namespace(), kb, whole, entry, None)

    def _put(
        self,
        ns: int,
        kb: bytes,
        whole: bytes | None,
        entry: tuple[bytes, list[Data], int],
        lease: str | None,
    ) -> None:
        head, parts, size = entry
        maxsize = self._maxsize
        threshold = self._file_threshold
        files = self._db.files
        name = None
        if maxsize != 0 and threshold is not None and size >= threshold:
            name = files.new_file(head, parts)  # before the lock: writing takes time
        now = time.time()
        ttl = self._ttl
        row = {"ns": ns, "key": kb, "whole": whole, "expires": None if ttl is None else now + ttl}
        expired: dict[int, int] = {}
        with self._db.session() as conn:
            txn = transaction(conn, self._db)
            try:
                with txn:
                    if maxsize != 0:
                        if name is None:
                            row["value"], row["file"] = b"".join([head, *parts]), None
                        else:
                            files.place(name)
                            row["value"], row["file"] = b"", name
                        conn.execute(PUT_ENTRY, row)
                        conn.execute(PUT_VALUE, row)
                    if lease is not None:
                        conn.execute(RELEASE, (ns, kb, lease))
                    if ttl is not None:
                        # Entries that nobody reads again still go (with their
                        # files): one index range per write, and only stores
                        # with a ttl make expiring entries.
                        expired = self._db.purge_expired(conn, now)
                    if maxsize:
                        self._evict(conn, ns, maxsize, now, expired)
            except BaseException:
                if name is not None and not txn.committed:
                    files.remove([name + TMP, name])
                raise
        self._db.count_expired(expired)

    def _evict(
        self, conn: sqlite3.Connection, ns: int, maxsize: int, now: float, expired: dict[int, int]
    ) -> None:
        count = self._count(conn, ns)
        if count <= maxsize:
            return
        # Expired entries go first, and count as expirations, not evictions.
        dropped = conn.execute(
            f"DELETE FROM memokit_entries WHERE ns = :ns AND NOT {LIVE}", {"ns": ns, "now": now}
        ).rowcount
        if dropped:
            expired[ns] = expired.get(ns, 0) + dropped
        count = self._count(conn, ns)
        if count > maxsize:
            dropped = conn.execute(
                "DELETE FROM memokit_entries WHERE id IN (SELECT id FROM memokit_entries "
                "WHERE ns = ? ORDER BY used LIMIT ?)",
                (ns, count - maxsize),
            ).rowcount
            with self._shared.lock:
                self._evictions += dropped

    @staticmethod
    def _count(conn: sqlite3.Connection, ns: int) -> int:
        row = conn.execute("SELECT entries FROM memokit_namespaces WHERE id = ?", (ns,)).fetchone()
        return int(row[0])

    def delete(self, key: object) -> bool:
        """Forget ``key``; return whether a live entry was present."""
        ns = self._namespace()
        where = {"ns": ns, "key": storage_key(key), "now": time.time()}
        dropped = 0
        with self._db.session() as conn, transaction(conn, self._db):
            live = conn.execute(f"{DELETE} AND {LIVE}", where).rowcount
            if not live:
                dropped = conn.execute(DELETE, where).rowcount  # an expired one
        self._db.count_expired({ns: dropped} if dropped else {})
        return bool(live)

    def clear(self) -> None:
        """Forget every entry of this namespace (other names and versions are kept)."""
        ns = self._namespace()
        with self._db.session() as conn:
            with transaction(conn, self._db):
                conn.execute("DELETE FROM memokit_entries WHERE ns = ?", (ns,))
            self._db.sweep(conn)

    def drop_other_versions(self) -> int:
        """Delete the entries of every other version of this store's name; return how many.

        Bumping ``version=`` leaves the old version's entries in the file,
        unread (a rollback finds them again). This frees their space, files
        included; entries of other names are kept.

        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "cache.db")
        >>> SQLiteStore(path, serializer="json", version=1).bind("m:f").set("k", "old")
        >>> v2 = SQLiteStore(path, serializer="json", version=2).bind("m:f")
        >>> v2.set("k", "new")
        >>> v2.drop_other_versions()
        1
        >>> SQLiteStore(path, serializer="json", version=1).bind("m:f").get("k")
        memokit.MISSING
        """
        with self._db.session() as conn, transaction(conn, self._db):
            dropped: int = conn.execute(
                "DELETE FROM memokit_entries WHERE ns IN (SELECT id FROM memokit_namespaces "
                "WHERE name = ? AND version != ?)",
                (self._name, self._version),
            ).rowcount
        return dropped

    def close(self) -> None:
        """Close the file's connections, every thread's; the store stays usable.

        The next call, in any thread, opens a new connection. The views that
        :meth:`bind` made share the connections, so this closes theirs too.
        A call in progress in another thread finishes first. A store that
        is garbage collected, or still open at exit, is closed then;
        ``with SQLiteStore(path) as store:`` closes it at the block's end.
        """
        self._db.close()
