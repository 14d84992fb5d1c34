"""``SQLiteStore``: memoized results in one SQLite file, shared by the processes of a machine.

Layout of the file (schema version 2, in ``PRAGMA user_version``)::

    memokit_namespaces  id, name, version, entries     one row per (function, version)
    memokit_entries     id, ns, key, expires, used     one row per cached result
    memokit_values      id, value, file                its bytes, or the file holding them
    memokit_leases      ns, key, owner, expires        who is computing which key now
    memokit_garbage     file                           files to delete once this commits

and a folder beside it, ``<path>-values``, made when the first large entry
is written.

* A namespace is a function's qualified name (``module:qualname``, given by
  :meth:`SQLiteStore.bind`, which ``@memoize`` calls) and the store's
  ``version``. Bumping the version starts an empty namespace: the old
  entries are never read again (:meth:`SQLiteStore.drop_other_versions`
  deletes them).
* ``key`` is :func:`memokit.stores._serialize.storage_key` of the cache key: the
  same bytes in every process. The value is a signed entry (see
  :class:`memokit.stores._serialize.Codec`); the signature covers the namespace and
  key, so a row moved elsewhere does not verify.
* An entry of ``file_threshold`` bytes or more (256 KiB by default) is
  kept in a file of the folder, named by 32 random hex digits, and its row
  holds the name. ``benchmarks/bench_stores.py --crossover`` times both
  ways by size: below 256 KiB a row was as fast or faster to read, and
  faster to write (a file costs an open, and creating one cost 0.03 to 1 ms
  on the shared test machine); from 256 KiB a file was as fast or faster
  to read, and at 1 MiB a row was several times slower both ways (SQLite
  reads the value through its 4 KiB overflow pages into buffers of its
  own, and the WAL carries every byte twice). A file is written under
  a temporary name (``<name>.tmp``) first and renamed into place *inside*
  the transaction that commits its row, so it is whole before any row
  names it. Files are never changed once named: an overwrite writes a new
  file, and a removed value's file is deleted after the removal commits.
* ``used`` is a per-namespace logical clock for the LRU bound; a hit moves
  its entry to the front only when it is not already there (so repeated
  hits on one key never write). The value lives in its own table because
  SQLite rewrites a whole row on UPDATE: moving a large entry to the front
  then writes a few bytes, not the entry. Triggers keep ``entries`` (so
  the bound is checked without counting rows), delete a removed entry's
  value, and list a removed or replaced value's file in ``memokit_garbage``
  (whatever removed it: delete, clear, eviction, expiry, an overwrite). The
  transaction that fills ``memokit_garbage`` empties it before it commits
  and deletes the files after, so the table is empty between transactions.
* The file is in WAL mode with ``synchronous=NORMAL``: readers never wait
  for the writer, and a process killed at any point (SIGKILL included)
  leaves the last committed state, never half an entry: at worst a file
  that no row names (killed between rename and commit, or between commit
  and delete) or a stale ``.tmp`` file. Opening a store deletes those
  (:meth:`_Database.sweep`), as does ``clear()``. Each thread has its own
  connection; a forked child opens new ones. :meth:`SQLiteStore.close`
  closes them all, and none is left for the garbage collector (see
  ``_Database.open``).
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from typing import Any, Literal

from memokit.stores._leases import KEEPER, new_token, wait_delays
from memokit.stores._memory import MISSING, Missing
from memokit.stores._serialize import (
    BadEntry,
    Codec,
    Data,
    NamedViews,
    check_seconds,
    make_codec,
    namespace_context,
    storage_key,
    warn_bad_entry,
)

__all__ = ["SQLiteStore"]

# Each step takes the file from one schema version to the next: a new file
# runs them all, a file of an older version the ones it lacks.
_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE IF NOT EXISTS memokit_namespaces (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            version TEXT NOT NULL,
            entries INTEGER NOT NULL DEFAULT 0,
            UNIQUE (name, version)
        )""",
        """CREATE TABLE IF NOT EXISTS memokit_entries (
            id INTEGER PRIMARY KEY,
            ns INTEGER NOT NULL,
            key BLOB NOT NULL,
            expires REAL,
            used INTEGER NOT NULL,
            UNIQUE (ns, key)
        )""",
        """CREATE TABLE IF NOT EXISTS memokit_values (
            id INTEGER PRIMARY KEY,
            value BLOB NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS memokit_entries_by_use ON memokit_entries (ns, used)",
        """CREATE TABLE IF NOT EXISTS memokit_leases (
            ns INTEGER NOT NULL,
            key BLOB NOT NULL,
            owner TEXT NOT NULL,
            expires REAL NOT NULL,
            PRIMARY KEY (ns, key)
        ) WITHOUT ROWID""",
        """CREATE TRIGGER IF NOT EXISTS memokit_entry_added AFTER INSERT ON memokit_entries BEGIN
            UPDATE memokit_namespaces SET entries = entries + 1 WHERE id = new.ns;
        END""",
        """CREATE TRIGGER IF NOT EXISTS memokit_entry_removed AFTER DELETE ON memokit_entries BEGIN
            UPDATE memokit_namespaces SET entries = entries - 1 WHERE id = old.ns;
            DELETE FROM memokit_values WHERE id = old.id;
        END""",
    ),
    (
        # Large values in files. A file entry's row has an empty value.
        "ALTER TABLE memokit_values ADD COLUMN file TEXT",
        "CREATE INDEX memokit_values_by_file ON memokit_values (file) WHERE file IS NOT NULL",
        # Expired entries of the whole file are deleted in one index range.
        "CREATE INDEX memokit_entries_by_expiry ON memokit_entries (expires) "
        "WHERE expires IS NOT NULL",
        "CREATE TABLE memokit_garbage (file TEXT PRIMARY KEY) WITHOUT ROWID",
        """CREATE TRIGGER memokit_value_removed AFTER DELETE ON memokit_values
            WHEN old.file IS NOT NULL BEGIN
            INSERT OR IGNORE INTO memokit_garbage (file) VALUES (old.file);
        END""",
        """CREATE TRIGGER memokit_value_replaced AFTER UPDATE OF file ON memokit_values
            WHEN old.file IS NOT NULL AND new.file IS NOT old.file BEGIN
            INSERT OR IGNORE INTO memokit_garbage (file) VALUES (old.file);
        END""",
    ),
)
_SCHEMA = len(_MIGRATIONS)

# Named parameters: :ns, :key, :value, :file, :expires, :now. The newest
# "used" of a namespace, read from the end of the (ns, used) index: O(log n).
# (MAX(used) with "WHERE ns = :ns" scans the namespace's rows instead:
# measured at 9 us with 300 entries.)
_NEWEST = "(SELECT used FROM memokit_entries WHERE ns = :ns ORDER BY used DESC LIMIT 1)"
_GET = (
    "SELECT v.value, e.expires, 1, v.file FROM memokit_entries e "
    "JOIN memokit_values v ON v.id = e.id WHERE e.ns = :ns AND e.key = :key"
)
# For a bounded store, also whether the entry is already the most recently
# used one (then a hit need not write).
_GET_LRU = (
    f"SELECT v.value, e.expires, e.used = {_NEWEST}, v.file FROM memokit_entries e "
    "JOIN memokit_values v ON v.id = e.id WHERE e.ns = :ns AND e.key = :key"
)
_FILE_OF = (
    "SELECT v.file FROM memokit_entries e JOIN memokit_values v ON v.id = e.id "
    "WHERE e.ns = :ns AND e.key = :key"
)
_TOUCH = f"UPDATE memokit_entries SET used = {_NEWEST} + 1 WHERE ns = :ns AND key = :key"
# An entry and its value: run both, in one transaction. An upsert, not
# INSERT OR REPLACE: a REPLACE deletes the old row without firing the
# delete triggers, and its file would never be listed as garbage.
_PUT_ENTRY = (
    "INSERT INTO memokit_entries (ns, key, expires, used) VALUES "
    f"(:ns, :key, :expires, COALESCE({_NEWEST}, 0) + 1) "
    "ON CONFLICT (ns, key) DO UPDATE SET expires = excluded.expires, used = excluded.used"
)
_PUT_VALUE = (
    "INSERT INTO memokit_values (id, value, file) VALUES "
    "((SELECT id FROM memokit_entries WHERE ns = :ns AND key = :key), :value, :file) "
    "ON CONFLICT (id) DO UPDATE SET value = excluded.value, file = excluded.file"
)
_LIVE = "(expires IS NULL OR expires > :now)"
_PURGE_EXPIRED = "DELETE FROM memokit_entries WHERE expires IS NOT NULL AND expires <= :now"

#: Entries of this many bytes or more go to files, unless file_threshold= says otherwise.
FILE_THRESHOLD = 256 * 1024
# Value files are named by 32 random hex digits; only such names are ever
# read or deleted (a name taken from an altered database must not lead
# outside the folder).
_NAME = re.compile(r"[0-9a-f]{32}")
_TMP = ".tmp"
# A .tmp file this old (seconds since its last write) belongs to a writer
# that died: a live one renames it within its lock timeout.
_TMP_GRACE = 3600.0
# A thread keeps a read buffer for the data of signed entries up to this size.
_SCRATCH_MAX = 4 * 1024 * 1024

# Connections of threads that existed before a fork: a child must never use
# (or close: closing runs a checkpoint) the parent's connections, so it keeps
# them here, unused, for good.
_FORKED_AWAY: list[object] = []
_DATABASES: weakref.WeakSet[_Database] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for db in list(_DATABASES):
        _FORKED_AWAY.append((db.local, dict(db.open)))
        db.open.clear()  # emptied, not replaced: the database's finalizer holds this dict
        db.local = threading.local()
        db.lock = threading.Lock()


def _close_all(conns: Iterable[sqlite3.Connection]) -> None:
    """Close these connections (from any thread: they are opened with check_same_thread off)."""
    for conn in conns:
        conn.close()


os.register_at_fork(after_in_child=_after_fork_in_child)


# writev takes at most IOV_MAX (1024 on Linux) buffers per call.
_IOV_MAX = 1024


def _write_all(fd: int, head: bytes, parts: list[Data]) -> None:
    """Write ``head`` then the parts to ``fd``, with as few system calls as the kernel allows."""
    views = [memoryview(head), *(memoryview(part).cast("B") for part in parts)]
    views.reverse()  # consumed from the end
    while views:
        batch = views[-1 : -_IOV_MAX - 1 : -1]
        written = os.writev(fd, batch)
        while views and written >= len(views[-1]):
            written -= len(views.pop())
        if views and written:
            views[-1] = views[-1][written:]


def _read_all(fd: int, size: int) -> bytes:
    """Read ``size`` bytes (fewer at end of file) into one bytes object, copied once."""
    data = os.read(fd, size) if size > 0 else b""
    if 0 < len(data) < size:  # Linux returns at most about 2 GiB per read
        parts = [data]
        got = len(data)
        while got < size:
            more = os.read(fd, size - got)
            if not more:
                break
            parts.append(more)
            got += len(more)
        data = b"".join(parts)
    return data


def _names(rows: Iterable[tuple[Any, ...]]) -> list[str]:
    """The file names in ``rows`` (read as bytes: the connections' text_factory)."""
    return [row[0].decode("ascii", "replace") for row in rows]


class _Database:
    """One SQLite file and its folder: path, settings, per-thread connections (shared by views)."""

    def __init__(self, path: str, timeout: float) -> None:
        self.path = path
        self.folder = path + "-values"
        self._prefix = os.path.join(self.folder, "")
        self.timeout = timeout
        self.local = threading.local()
        # Every connection not yet closed, and the thread it belongs to. A
        # connection is closed by close(), once its thread has ended (when the
        # next one opens), or when the database is collected: never left for
        # the garbage collector (Python 3.13 warns of that, ResourceWarning).
        self.open: dict[sqlite3.Connection, threading.Thread] = {}
        self.lock = threading.Lock()
        self.warned = False
        weakref.finalize(self, _close_all, self.open)
        _DATABASES.add(self)

    def connect(self) -> sqlite3.Connection:
        """Return this thread's connection, opening it on first use."""
        try:
            return self.local.conn  # type: ignore[no-any-return]
        except AttributeError:
            pass
        try:
            # A connection is only ever used by its own thread; turning the
            # check off lets close(), and the next connect() once the thread
            # has ended, close it from another.
            conn = sqlite3.connect(
                self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
            )
            try:
                self._prepare(conn)
            except BaseException:
                conn.close()
                raise
        except sqlite3.DatabaseError as exc:
            raise sqlite3.OperationalError(
                f"SQLiteStore cannot use {self.path!r} ({exc}): give the path of a new file or "
                f"of a file an SQLiteStore wrote, in a directory that exists and is writable "
                f"(on a local disk: SQLite's WAL mode does not work over NFS)"
            ) from exc
        with self.lock:
            ended = [c for c, thread in self.open.items() if not thread.is_alive()]
            for c in ended:
                del self.open[c]
            self.open[conn] = threading.current_thread()
        _close_all(ended)
        self.local.conn = conn
        return conn

    def close(self) -> None:
        """Close every thread's connection; the next use (in any thread) opens a new one."""
        with self.lock:
            conns = list(self.open)
            self.open.clear()
            self.local = threading.local()
        _close_all(conns)

    def _prepare(self, conn: sqlite3.Connection) -> None:
        # A value altered into TEXT must reach the signature check as bytes,
        # not fail to decode as UTF-8.
        conn.text_factory = bytes
        # journal_mode is stored in the file; the others are per connection.
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        # A bigger page cache than the default 2 MB (used only as needed):
        # reading a 1 MB entry kept in a row (file_threshold=None) through a
        # smaller one was measured ~15x slower.
        conn.execute("PRAGMA cache_size = -16384")
        schema = conn.execute("PRAGMA user_version").fetchone()[0]
        if schema == _SCHEMA:
            return
        if schema > _SCHEMA:
            raise sqlite3.DatabaseError(
                f"it has schema version {schema}, and this memokit reads versions up to "
                f"{_SCHEMA}: use the memokit that wrote it, or another file"
            )
        with _transaction(conn):
            schema = conn.execute("PRAGMA user_version").fetchone()[0]
            for steps in _MIGRATIONS[schema:]:
                for statement in steps:
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {_SCHEMA}")

    # ---------------------------------------------------------------- value files

    def new_file(self, head: bytes, parts: list[Data]) -> str:
        """Write an entry to a new temporary file in the folder; return the name it will take."""
        name = os.urandom(16).hex()
        tmp = self._prefix + name + _TMP
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
        try:
            fd = os.open(tmp, flags, 0o666)
        except FileNotFoundError:
            os.makedirs(self.folder, exist_ok=True)
            fd = os.open(tmp, flags, 0o666)
        try:
            try:
                _write_all(fd, head, parts)
            finally:
                os.close(fd)
        except BaseException:
            self.remove([name + _TMP])
            raise
        return name

    def place(self, name: str) -> None:
        """Give the temporary file of ``name`` its name (call inside the transaction naming it)."""
        os.rename(self._prefix + name + _TMP, self._prefix + name)

    def read_file(
        self, name: str, head_size: int, reuse: bool
    ) -> tuple[bytes, Data, bytearray | None]:
        """Return the head (``head_size`` bytes, fewer if short) and the data of a value file.

        The data is a new bytes object; or, with ``reuse`` and at most
        ``_SCRATCH_MAX`` bytes, a view of this thread's read buffer, which is
        then returned third and must be handed back with ``give_scratch``
        once the data is decoded. Until then a nested read (an object being
        unpickled that calls a memoized function) uses a buffer of its own.
        """
        if not _NAME.fullmatch(name):
            raise BadEntry(f"its value file name {name!r} is not one memokit writes")
        fd = os.open(self._prefix + name, os.O_RDONLY)
        try:
            size = os.fstat(fd).st_size
            head = os.read(fd, head_size)
            rest = size - len(head)
            if not reuse or rest > _SCRATCH_MAX:
                return head, _read_all(fd, rest), None
            scratch: bytearray | None = self.local.__dict__.pop("scratch", None)
            if scratch is None or len(scratch) < rest:
                scratch = bytearray(rest)  # a new one: a buffer is never resized
            view = memoryview(scratch)[:rest]
            got = 0
            while got < rest:
                more = os.readv(fd, [view[got:]])
                if not more:
                    break
                got += more
            return head, view[:got], scratch
        finally:
            os.close(fd)

    def give_scratch(self, scratch: bytearray) -> None:
        """Hand back the read buffer that ``read_file`` returned."""
        self.local.scratch = scratch

    def remove(self, names: Iterable[str]) -> None:
        """Delete these files of the folder; ignore ones already gone (or not memokit's)."""
        for name in names:
            base = name[: -len(_TMP)] if name.endswith(_TMP) else name
            if not _NAME.fullmatch(base):
                continue
            try:
                os.remove(self._prefix + name)
            except OSError:
                pass  # gone already, or not removable now: the next sweep tries again

    def sweep(self, conn: sqlite3.Connection) -> None:
        """Delete expired entries of the whole file, and files of the folder that no row names.

        A writer renames a file into place inside the write transaction that
        commits its row, so once this holds the write lock, a named file
        that no committed row names is an orphan: its writer died between
        rename and commit, or its remover between commit and delete. The
        folder is listed before the lock is taken; a file named after that
        is not in the list, so it is never mistaken for one. A ``.tmp`` file
        is deleted once nobody has written it for ``_TMP_GRACE`` seconds.
        """
        try:
            listed = os.listdir(self.folder)
        except (FileNotFoundError, NotADirectoryError):
            listed = []
        named = [name for name in listed if _NAME.fullmatch(name)]
        now = time.time()
        stale = []
        for name in listed:
            if name.endswith(_TMP) and _NAME.fullmatch(name[: -len(_TMP)]):
                try:
                    age = now - os.stat(self._prefix + name).st_mtime
                except FileNotFoundError:
                    continue
                if age > max(_TMP_GRACE, 2 * self.timeout):
                    stale.append(name)
        with _transaction(conn, self):
            conn.execute(_PURGE_EXPIRED, {"now": now})
            orphans = []
            if named:
                rows = conn.execute("SELECT file FROM memokit_values WHERE file IS NOT NULL")
                used = set(_names(rows))
                orphans = [name for name in named if name not in used]
        self.remove(orphans + stale)


class _transaction:
    """``with _transaction(conn):`` runs the block in a write transaction (BEGIN IMMEDIATE).

    IMMEDIATE takes the write lock at the start (waiting up to the busy
    timeout), so a read-then-write block never fails half-way on a lock.
    Given the database, it also deletes the value files that the block
    listed in ``memokit_garbage``: it empties the table before COMMIT and
    deletes the files after (a crash in between leaves orphans, which the
    next sweep deletes; a rollback keeps both rows and files).
    """

    __slots__ = ("committed", "conn", "db")

    def __init__(self, conn: sqlite3.Connection, db: _Database | None = None) -> None:
        self.conn = conn
        self.db = db
        self.committed = False

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            self.conn.execute("ROLLBACK")
            return
        garbage: list[str] = []
        if self.db is not None:
            garbage = _names(self.conn.execute("SELECT file FROM memokit_garbage"))
            if garbage:
                self.conn.execute("DELETE FROM memokit_garbage")
        self.conn.execute("COMMIT")
        self.committed = True
        if garbage:
            assert self.db is not None
            self.db.remove(garbage)


class SQLiteStore(NamedViews):
    """A persistent store in an SQLite file: results survive restarts and are shared by processes.

    ``@memoize(store=SQLiteStore(path))`` keeps each function's results in the
    file under the function's qualified name and ``version=``: bump the
    version when the function's code changes to start afresh. Several
    functions, threads and processes can share one file (WAL mode, waiting up
    to ``timeout`` seconds for a lock); when several processes miss one key
    at once, one computes it and the others wait for its result (a process
    killed while computing is taken over after ``lock_ttl`` seconds).

    Values are pickled and signed with an HMAC ``secret`` (or the
    ``MEMOKIT_CACHE_KEY`` environment variable); ``serializer="json"`` stores
    plain data and ``serializer="bytes"`` bytes-like results as they are,
    without one. An entry that does not verify is never unpickled: it counts
    as a miss, and the first one raises a :class:`BadEntryWarning`.
    ``maxsize`` bounds each namespace (least recently used out first) and
    ``ttl`` expires entries after that many seconds. Entries of
    ``file_threshold`` bytes or more are kept in files in a folder beside the
    database, ``<path>-values``.

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
    ) -> None:
        owner = "SQLiteStore"
        if not isinstance(path, str | os.PathLike):
            raise TypeError(f"SQLiteStore(path) takes a file path, got {type(path).__name__}")
        if maxsize is not None and (isinstance(maxsize, bool) or not isinstance(maxsize, int)):
            raise TypeError(f"SQLiteStore(maxsize=...) takes an int or None, got {maxsize!r}")
        if maxsize is not None and maxsize < 0:
            raise ValueError(f"SQLiteStore(maxsize=...) must be >= 0 or None, got {maxsize}")
        if isinstance(version, bool) or not isinstance(version, str | int):
            raise TypeError(f"SQLiteStore(version=...) takes a str or an int, got {version!r}")
        if file_threshold is not None and (
            isinstance(file_threshold, bool)
            or not isinstance(file_threshold, int)
            or file_threshold < 0
        ):
            raise ValueError(
                f"SQLiteStore(file_threshold=...) takes a number of bytes >= 0 (entries that "
                f"large go to files), or None to keep every entry in the database; got "
                f"{file_threshold!r}"
            )
        self._ttl = None if ttl is None else check_seconds(owner, "ttl", ttl)
        self._lock_ttl = check_seconds(owner, "lock_ttl", lock_ttl)
        seconds = check_seconds(owner, "timeout", timeout)
        self._codec: Codec = make_codec(serializer, secret, owner)
        self._maxsize = maxsize
        self._get_sql = _GET if maxsize is None else _GET_LRU
        self._version = str(version)
        self._file_threshold = file_threshold
        self._db = _Database(os.fspath(path), seconds)
        # Fail now, not at the first call, on a bad path; and delete what
        # processes killed mid-write left behind.
        self._db.sweep(self._db.connect())
        self._name = ""
        self._init_view()

    def _init_view(self) -> None:
        self._ns: int | None = None
        self._context = namespace_context(self._name, self._version)
        self._evictions = 0
        self._rejected = 0
        self._lock = threading.Lock()

    # ---------------------------------------------------------------- properties

    @property
    def path(self) -> str:
        """The SQLite file."""
        return self._db.path

    @property
    def folder(self) -> str:
        """The folder beside the file that holds large entries (made when first needed)."""
        return self._db.folder

    def _namespace(self, conn: sqlite3.Connection) -> int:
        ns = self._ns
        if ns is None:
            args = (self._name, self._version)
            conn.execute(
                "INSERT OR IGNORE INTO memokit_namespaces (name, version) VALUES (?, ?)", args
            )
            row = conn.execute(
                "SELECT id FROM memokit_namespaces WHERE name = ? AND version = ?", args
            ).fetchone()
            self._ns = ns = int(row[0])
        return ns

    # ---------------------------------------------------------------- the Store protocol

    @property
    def maxsize(self) -> int | None:
        """The most entries this namespace keeps, or ``None`` for no bound."""
        return self._maxsize

    @property
    def evictions(self) -> int:
        """How many entries this store object has dropped to respect ``maxsize``."""
        return self._evictions

    def get(self, key: object) -> Any | Literal[Missing.MISSING]:
        """Return the value stored under ``key``, or :data:`MISSING`."""
        kb = storage_key(key)
        conn = self._db.connect()
        ns = self._ns
        return self._get(conn, self._namespace(conn) if ns is None else ns, kb)

    def _get(self, conn: sqlite3.Connection, ns: int, kb: bytes, tries: int = 3) -> Any:
        where = {"ns": ns, "key": kb}
        row = conn.execute(self._get_sql, where).fetchone()
        if row is None:
            return MISSING
        entry, expires, newest, file = row
        if expires is not None and expires <= time.time():
            with _transaction(conn, self._db):
                conn.execute(
                    f"DELETE FROM memokit_entries WHERE ns = :ns AND key = :key AND NOT {_LIVE}",
                    {"ns": ns, "key": kb, "now": time.time()},
                )
            return MISSING
        name = None if file is None else file.decode("ascii", "replace")
        try:
            if name is None:
                value = self._codec.loads(self._context + kb, entry)
            else:
                # A bytes value is the data itself: read it into a bytes object
                # of its own. Any other value is decoded from the data, which
                # is then garbage: read it into a buffer this thread reuses.
                # (A fresh 1 MiB buffer per hit was measured to cost 400 page
                # faults per call in bench_stores, 2.7 ms of a 3.5 ms hit.)
                reuse = self._codec.format != "bytes"
                try:
                    head, data, scratch = self._db.read_file(name, self._codec.head_size, reuse)
                except FileNotFoundError:
                    if _names(conn.execute(_FILE_OF, where)) != [name]:
                        # Deleted or replaced since the row was read: look again.
                        return self._get(conn, ns, kb, tries - 1) if tries > 1 else MISSING
                    path = os.path.join(self._db.folder, name)
                    raise BadEntry(f"its value file {path} is missing") from None
                try:
                    value = self._codec.decode(self._context + kb, head, data)
                finally:
                    if scratch is not None:
                        self._db.give_scratch(scratch)
        except BadEntry as bad:
            self._reject(conn, ns, kb, entry, name, str(bad))
            return MISSING
        if self._maxsize is not None and not newest:
            conn.execute(_TOUCH, where)
        return value

    def _reject(
        self,
        conn: sqlite3.Connection,
        ns: int,
        kb: bytes,
        entry: bytes,
        name: str | None,
        reason: str,
    ) -> None:
        # Delete it only if it is still the same bytes (or file): another
        # process may have replaced it with a good entry since.
        same = "value = :value" if name is None else "file = :file"
        with _transaction(conn, self._db):
            conn.execute(
                "DELETE FROM memokit_entries WHERE ns = :ns AND key = :key AND EXISTS "
                f"(SELECT 1 FROM memokit_values v WHERE v.id = memokit_entries.id AND {same})",
                {"ns": ns, "key": kb, "value": entry, "file": name},
            )
        with self._lock:
            self._rejected += 1
            first = not self._db.warned
            self._db.warned = True
        if first:
            warn_bad_entry(f"SQLiteStore({self._db.path!r})", self._name, reason)

    def set(self, key: object, value: Any) -> None:
        """Store ``value`` under ``key`` (evicting the least recently used entry if full)."""
        kb = storage_key(key)
        entry = self._codec.encode(self._context + kb, value)
        conn = self._db.connect()
        self._put(conn, self._namespace(conn), kb, entry, None)

    def _put(
        self,
        conn: sqlite3.Connection,
        ns: int,
        kb: bytes,
        entry: tuple[bytes, list[Data], int],
        lease: str | None,
    ) -> None:
        head, parts, size = entry
        maxsize = self._maxsize
        threshold = self._file_threshold
        name = None
        if maxsize != 0 and threshold is not None and size >= threshold:
            name = self._db.new_file(head, parts)  # before the lock: writing takes time
        now = time.time()
        ttl = self._ttl
        row = {"ns": ns, "key": kb, "expires": None if ttl is None else now + ttl}
        txn = _transaction(conn, self._db)
        try:
            with txn:
                if maxsize != 0:
                    if name is None:
                        row["value"], row["file"] = b"".join([head, *parts]), None
                    else:
                        self._db.place(name)
                        row["value"], row["file"] = b"", name
                    conn.execute(_PUT_ENTRY, row)
                    conn.execute(_PUT_VALUE, row)
                if lease is not None:
                    conn.execute(
                        "DELETE FROM memokit_leases WHERE ns = ? AND key = ? AND owner = ?",
                        (ns, kb, lease),
                    )
                if ttl is not None:
                    # Entries that nobody reads again still go (with their
                    # files): one index range per write, and only stores
                    # with a ttl make expiring entries.
                    conn.execute(_PURGE_EXPIRED, {"now": now})
                if maxsize:
                    self._evict(conn, ns, maxsize, now)
        except BaseException:
            if name is not None and not txn.committed:
                self._db.remove([name + _TMP, name])
            raise

    def _evict(self, conn: sqlite3.Connection, ns: int, maxsize: int, now: float) -> None:
        count = self._count(conn, ns)
        if count <= maxsize:
            return
        # Expired entries go first, and do not count as evictions.
        conn.execute(
            f"DELETE FROM memokit_entries WHERE ns = :ns AND NOT {_LIVE}", {"ns": ns, "now": now}
        )
        count = self._count(conn, ns)
        if count > maxsize:
            dropped = conn.execute(
                "DELETE FROM memokit_entries WHERE id IN (SELECT id FROM memokit_entries "
                "WHERE ns = ? ORDER BY used LIMIT ?)",
                (ns, count - maxsize),
            ).rowcount
            with self._lock:
                self._evictions += dropped

    @staticmethod
    def _count(conn: sqlite3.Connection, ns: int) -> int:
        row = conn.execute("SELECT entries FROM memokit_namespaces WHERE id = ?", (ns,)).fetchone()
        return int(row[0])

    def delete(self, key: object) -> bool:
        """Forget ``key``; return whether a live entry was present."""
        kb = storage_key(key)
        conn = self._db.connect()
        ns = self._namespace(conn)
        where = {"ns": ns, "key": kb, "now": time.time()}
        with _transaction(conn, self._db):
            live = conn.execute(
                f"DELETE FROM memokit_entries WHERE ns = :ns AND key = :key AND {_LIVE}", where
            ).rowcount
            if not live:
                conn.execute("DELETE FROM memokit_entries WHERE ns = :ns AND key = :key", where)
        return bool(live)

    def clear(self) -> None:
        """Forget every entry of this namespace (other names and versions are kept)."""
        conn = self._db.connect()
        with _transaction(conn, self._db):
            conn.execute("DELETE FROM memokit_entries WHERE ns = ?", (self._namespace(conn),))
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
        conn = self._db.connect()
        with _transaction(conn, self._db):
            dropped: int = conn.execute(
                "DELETE FROM memokit_entries WHERE ns IN (SELECT id FROM memokit_namespaces "
                "WHERE name = ? AND version != ?)",
                (self._name, self._version),
            ).rowcount
        return dropped

    def __len__(self) -> int:
        """Return the number of live (unexpired) entries in this namespace."""
        conn = self._db.connect()
        row = conn.execute(
            f"SELECT COUNT(*) FROM memokit_entries WHERE ns = :ns AND {_LIVE}",
            {"ns": self._namespace(conn), "now": time.time()},
        ).fetchone()
        return int(row[0])

    def close(self) -> None:
        """Close the file's connections, every thread's; the store stays usable.

        The next call, in any thread, opens a new connection. The views that
        :meth:`bind` made share the connections, so this closes theirs too.
        Call it when no call on the store is running in another thread. A
        store that is garbage collected, or still open at exit, is closed
        then; ``with SQLiteStore(path) as store:`` closes it at the block's
        end.
        """
        self._db.close()

    def __repr__(self) -> str:
        name = f", name={self._name!r}" if self._name else ""
        version = f", version={self._version!r}" if self._version else ""
        return f"SQLiteStore({self._db.path!r}{name}{version}, <{len(self)} entries>)"

    # ---------------------------------------------------------------- cross-process single flight

    def get_or_compute(self, key: object, compute: Callable[[], Any]) -> Any:
        """Return the value under ``key``, or compute it once across every process using the file.

        The first process to miss takes a lease on the key and runs
        ``compute()``; others poll until the value is stored, or until the
        lease is released (the computation raised: they try again) or lapses
        (its process died: one of them takes over). A value that raises is
        never stored. ``@memoize`` calls this on a miss.
        """
        # No read first: the caller (memoize) has just missed, and the claim
        # below sees a stored entry anyway ("stored"), so a read would cost
        # every miss one more query for a race that is rare.
        kb = storage_key(key)
        conn = self._db.connect()
        ns = self._namespace(conn)
        token = new_token()
        delays = wait_delays()
        while True:
            state: str = self._claim(conn, ns, kb, token)
            if state == "claimed":
                break
            if state == "busy":
                # Wait with reads only: a write transaction per poll would
                # queue the waiters behind each other and the owner's write.
                while True:
                    time.sleep(next(delays))
                    state = self._peek(conn, ns, kb, token)
                    if state != "busy":
                        break
            if state == "stored":
                value = self._get(conn, ns, kb)
                if value is not MISSING:
                    return value
                # expired or rejected since: claim again
        lock_ttl = self._lock_ttl

        def renew() -> None:
            self._db.connect().execute(
                "UPDATE memokit_leases SET expires = ? WHERE ns = ? AND key = ? AND owner = ?",
                (time.time() + lock_ttl, ns, kb, token),
            )

        handle = KEEPER.hold(renew, lock_ttl / 3)
        try:
            value = compute()
            entry = self._codec.encode(self._context + kb, value)
            KEEPER.drop(handle)
            self._put(conn, ns, kb, entry, token)  # stores and releases in one transaction
        except BaseException:
            # Nothing is stored from a failed call, and the lease goes at once
            # so that a waiting process need not wait for it to lapse.
            KEEPER.drop(handle)
            conn.execute(
                "DELETE FROM memokit_leases WHERE ns = ? AND key = ? AND owner = ?",
                (ns, kb, token),
            )
            raise
        return value

    @staticmethod
    def _peek(
        conn: sqlite3.Connection, ns: int, kb: bytes, token: str
    ) -> Literal["stored", "busy", "free"]:
        """Whether the key is stored, leased by another live process, or neither (read only)."""
        now = time.time()
        if conn.execute(
            f"SELECT 1 FROM memokit_entries WHERE ns = :ns AND key = :key AND {_LIVE}",
            {"ns": ns, "key": kb, "now": now},
        ).fetchone():
            return "stored"
        lease = conn.execute(
            "SELECT owner, expires FROM memokit_leases WHERE ns = ? AND key = ?", (ns, kb)
        ).fetchone()
        if lease is not None and lease[0] != token.encode() and lease[1] > now:
            return "busy"
        return "free"

    def _claim(
        self, conn: sqlite3.Connection, ns: int, kb: bytes, token: str
    ) -> Literal["claimed", "stored", "busy"]:
        """Take the lease on the key unless it is stored or leased (one write transaction)."""
        with _transaction(conn):
            state = self._peek(conn, ns, kb, token)
            if state != "free":
                return state
            now = time.time()
            conn.execute(
                "INSERT INTO memokit_leases (ns, key, owner, expires) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (ns, key) DO UPDATE SET owner = excluded.owner, "
                "expires = excluded.expires",
                (ns, kb, token, now + self._lock_ttl),
            )
            return "claimed"
