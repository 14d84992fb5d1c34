"""``SQLiteStore``: memoized results in one SQLite file, shared by the processes of a machine.

Layout of the file (schema version 1, in ``PRAGMA user_version``)::

    memokit_namespaces  id, name, version, entries     one row per (function, version)
    memokit_entries     id, ns, key, expires, used     one row per cached result
    memokit_values      id, value                      its bytes (same id)
    memokit_leases      ns, key, owner, expires        who is computing which key now

* A namespace is a function's qualified name (``module:qualname``, given by
  :meth:`SQLiteStore.bind`, which ``@memoize`` calls) and the store's
  ``version``. Bumping the version starts an empty namespace: the old
  entries are never read again.
* ``key`` is :func:`memokit._serialize.storage_key` of the cache key: the
  same bytes in every process. ``value`` is a signed entry (see
  :class:`memokit._serialize.Codec`); the signature covers the namespace and
  key, so a row moved elsewhere does not verify.
* ``used`` is a per-namespace logical clock for the LRU bound; a hit moves
  its entry to the front only when it is not already there (so repeated
  hits on one key never write). The value lives in its own table because
  SQLite rewrites a whole row on UPDATE: moving a 1 MB entry to the front
  then writes a few bytes, not a megabyte. Triggers keep ``entries`` (so
  the bound is checked without counting rows) and delete a removed entry's
  value; an entry and its value are always written in one transaction.
* The file is in WAL mode with ``synchronous=NORMAL``: readers never wait
  for the writer, and a process killed at any point (SIGKILL included)
  leaves the last committed state, never half an entry. Each thread has its
  own connection; a forked child opens new ones.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import warnings
import weakref
from collections.abc import Callable
from typing import Any, Literal

from memokit._leases import KEEPER, new_token, wait_delays
from memokit._serialize import (
    BadEntry,
    BadEntryWarning,
    Codec,
    check_name,
    check_seconds,
    make_codec,
    namespace_context,
    storage_key,
)
from memokit._stores import MISSING, Missing

__all__ = ["SQLiteStore"]

_SCHEMA = 1
_SCHEMA_SQL = (
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
)

# Named parameters: :ns, :key, :value, :expires, :now. The newest "used" of a
# namespace, read from the end of the (ns, used) index: O(log n). (MAX(used)
# with "WHERE ns = :ns" scans the
# namespace's rows instead: measured at 9 us with 300 entries.)
_NEWEST = "(SELECT used FROM memokit_entries WHERE ns = :ns ORDER BY used DESC LIMIT 1)"
_GET = (
    "SELECT v.value, e.expires, 1 FROM memokit_entries e JOIN memokit_values v ON v.id = e.id "
    "WHERE e.ns = :ns AND e.key = :key"
)
# For a bounded store, also whether the entry is already the most recently
# used one (then a hit need not write).
_GET_LRU = (
    f"SELECT v.value, e.expires, e.used = {_NEWEST} FROM memokit_entries e "
    "JOIN memokit_values v ON v.id = e.id WHERE e.ns = :ns AND e.key = :key"
)
_TOUCH = f"UPDATE memokit_entries SET used = {_NEWEST} + 1 WHERE ns = :ns AND key = :key"
# An entry and its value: run both, in one transaction.
_PUT_ENTRY = (
    "INSERT INTO memokit_entries (ns, key, expires, used) VALUES "
    f"(:ns, :key, :expires, COALESCE({_NEWEST}, 0) + 1) "
    "ON CONFLICT (ns, key) DO UPDATE SET expires = excluded.expires, used = excluded.used"
)
_PUT_VALUE = (
    "INSERT OR REPLACE INTO memokit_values (id, value) VALUES "
    "((SELECT id FROM memokit_entries WHERE ns = :ns AND key = :key), :value)"
)
_LIVE = "(expires IS NULL OR expires > :now)"

# Connections of threads that existed before a fork: a child must never use
# (or close: closing runs a checkpoint) the parent's connections, so it keeps
# them here, unused, for good.
_FORKED_AWAY: list[object] = []
_DATABASES: weakref.WeakSet[_Database] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for db in list(_DATABASES):
        _FORKED_AWAY.append(db.local)
        db.local = threading.local()


os.register_at_fork(after_in_child=_after_fork_in_child)


class _Database:
    """One SQLite file: its path, settings and per-thread connections (shared by bound views)."""

    def __init__(self, path: str, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self.local = threading.local()
        self.warned = False
        _DATABASES.add(self)

    def connect(self) -> sqlite3.Connection:
        """Return this thread's connection, opening it on first use."""
        try:
            return self.local.conn  # type: ignore[no-any-return]
        except AttributeError:
            pass
        try:
            conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
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
        self.local.conn = conn
        return conn

    def _prepare(self, conn: sqlite3.Connection) -> None:
        # A value altered into TEXT must reach the signature check as bytes,
        # not fail to decode as UTF-8.
        conn.text_factory = bytes
        # journal_mode is stored in the file; the others are per connection.
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        # A bigger page cache than the default 2 MB: reading a 1 MB entry
        # through a smaller one was measured ~15x slower.
        conn.execute("PRAGMA cache_size = -16384")
        schema = conn.execute("PRAGMA user_version").fetchone()[0]
        if schema == _SCHEMA:
            return
        if schema != 0:
            raise sqlite3.DatabaseError(
                f"it has schema version {schema}, and this memokit reads version {_SCHEMA}"
            )
        with _transaction(conn):
            if conn.execute("PRAGMA user_version").fetchone()[0] == 0:
                for statement in _SCHEMA_SQL:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {_SCHEMA}")


class _transaction:
    """``with _transaction(conn):`` runs the block in a write transaction (BEGIN IMMEDIATE).

    IMMEDIATE takes the write lock at the start (waiting up to the busy
    timeout), so a read-then-write block never fails half-way on a lock.
    """

    __slots__ = ("conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.conn.execute("COMMIT")
        else:
            self.conn.execute("ROLLBACK")


class SQLiteStore:
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
    plain data without one. An entry that does not verify is never unpickled:
    it counts as a miss, and the first one raises a :class:`BadEntryWarning`.
    ``maxsize`` bounds each namespace (least recently used out first) and
    ``ttl`` expires entries after that many seconds.

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
        serializer: Literal["pickle", "json"] = "pickle",
        secret: bytes | str | None = None,
        timeout: float = 10.0,
        lock_ttl: float = 30.0,
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
        self._ttl = None if ttl is None else check_seconds(owner, "ttl", ttl)
        self._lock_ttl = check_seconds(owner, "lock_ttl", lock_ttl)
        seconds = check_seconds(owner, "timeout", timeout)
        self._codec: Codec = make_codec(serializer, secret, owner)
        self._maxsize = maxsize
        self._get_sql = _GET if maxsize is None else _GET_LRU
        self._version = str(version)
        self._db = _Database(os.fspath(path), seconds)
        self._db.connect()  # fail now, not at the first call, on a bad path
        self._name = ""
        self._init_view()

    def _init_view(self) -> None:
        self._ns: int | None = None
        self._context = namespace_context(self._name, self._version)
        self._evictions = 0
        self._rejected = 0
        self._lock = threading.Lock()

    # ---------------------------------------------------------------- naming

    def bind(self, name: str) -> SQLiteStore:
        """Return a view of this store whose entries live under ``name`` (``@memoize`` calls this).

        A store made by the constructor is unbound (its own entries use the
        empty name); ``bind`` on it gives a view that shares its file,
        settings and connections. A view is already bound, so binding it
        again returns it unchanged: that is how to choose a name yourself,
        ``@memoize(store=store.bind("my-name"))``.
        """
        if self._name:
            return self
        check_name("SQLiteStore", name)
        view = object.__new__(SQLiteStore)
        view._ttl = self._ttl
        view._lock_ttl = self._lock_ttl
        view._codec = self._codec
        view._maxsize = self._maxsize
        view._get_sql = self._get_sql
        view._version = self._version
        view._db = self._db
        view._name = name
        view._init_view()
        return view

    @property
    def name(self) -> str:
        """The name this store's entries live under (``""`` if unbound)."""
        return self._name

    @property
    def version(self) -> str:
        """The version that, with the name, selects the entries."""
        return self._version

    @property
    def path(self) -> str:
        """The SQLite file."""
        return self._db.path

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

    @property
    def rejected(self) -> int:
        """How many entries failed their integrity check and were ignored (treated as misses)."""
        return self._rejected

    def get(self, key: object) -> Any | Literal[Missing.MISSING]:
        """Return the value stored under ``key``, or :data:`MISSING`."""
        kb = storage_key(key)
        conn = self._db.connect()
        ns = self._ns
        return self._get(conn, self._namespace(conn) if ns is None else ns, kb)

    def _get(self, conn: sqlite3.Connection, ns: int, kb: bytes) -> Any:
        where = {"ns": ns, "key": kb}
        row = conn.execute(self._get_sql, where).fetchone()
        if row is None:
            return MISSING
        entry, expires, newest = row
        if expires is not None and expires <= time.time():
            conn.execute(
                f"DELETE FROM memokit_entries WHERE ns = :ns AND key = :key AND NOT {_LIVE}",
                {"ns": ns, "key": kb, "now": time.time()},
            )
            return MISSING
        try:
            value = self._codec.loads(self._context + kb, entry)
        except BadEntry as bad:
            self._reject(conn, ns, kb, entry, str(bad))
            return MISSING
        if self._maxsize is not None and not newest:
            conn.execute(_TOUCH, where)
        return value

    def _reject(
        self, conn: sqlite3.Connection, ns: int, kb: bytes, entry: bytes, reason: str
    ) -> None:
        # Delete it only if it is still the same bytes: another process may
        # have replaced it with a good entry since.
        conn.execute(
            "DELETE FROM memokit_entries WHERE ns = :ns AND key = :key AND "
            "(SELECT value FROM memokit_values v WHERE v.id = memokit_entries.id) = :value",
            {"ns": ns, "key": kb, "value": entry},
        )
        with self._lock:
            self._rejected += 1
            first = not self._db.warned
            self._db.warned = True
        if first:
            warnings.warn(
                BadEntryWarning(
                    f"SQLiteStore({self._db.path!r}): ignored an entry of "
                    f"{self._name or '<unbound>'!r} because {reason}; it counts as a miss and "
                    f"will be recomputed. Later ones are counted in store.rejected without a "
                    f"warning."
                ),
                stacklevel=4,
            )

    def set(self, key: object, value: Any) -> None:
        """Store ``value`` under ``key`` (evicting the least recently used entry if full)."""
        kb = storage_key(key)
        entry = self._codec.dumps(self._context + kb, value)
        conn = self._db.connect()
        self._put(conn, self._namespace(conn), kb, entry, None)

    def _put(
        self, conn: sqlite3.Connection, ns: int, kb: bytes, entry: bytes, lease: str | None
    ) -> None:
        maxsize = self._maxsize
        now = time.time()
        expires = None if self._ttl is None else now + self._ttl
        with _transaction(conn):
            if maxsize != 0:
                row = {"ns": ns, "key": kb, "value": entry, "expires": expires}
                conn.execute(_PUT_ENTRY, row)
                conn.execute(_PUT_VALUE, row)
            if lease is not None:
                conn.execute(
                    "DELETE FROM memokit_leases WHERE ns = ? AND key = ? AND owner = ?",
                    (ns, kb, lease),
                )
            if maxsize:
                self._evict(conn, ns, maxsize, now)

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
        now = time.time()
        live = conn.execute(
            f"DELETE FROM memokit_entries WHERE ns = :ns AND key = :key AND {_LIVE}",
            {"ns": ns, "key": kb, "now": now},
        ).rowcount
        if not live:
            conn.execute("DELETE FROM memokit_entries WHERE ns = ? AND key = ?", (ns, kb))
        return bool(live)

    def clear(self) -> None:
        """Forget every entry of this namespace (other names and versions are kept)."""
        conn = self._db.connect()
        conn.execute("DELETE FROM memokit_entries WHERE ns = ?", (self._namespace(conn),))

    def __len__(self) -> int:
        """Return the number of live (unexpired) entries in this namespace."""
        conn = self._db.connect()
        row = conn.execute(
            f"SELECT COUNT(*) FROM memokit_entries WHERE ns = :ns AND {_LIVE}",
            {"ns": self._namespace(conn), "now": time.time()},
        ).fetchone()
        return int(row[0])

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
        kb = storage_key(key)
        conn = self._db.connect()
        ns = self._namespace(conn)
        value = self._get(conn, ns, kb)
        if value is not MISSING:
            return value
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
            entry = self._codec.dumps(self._context + kb, value)
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
