"""The database of an SQLiteStore: its schema, one connection per thread, forks, transactions.

* **Schema.** :data:`MIGRATIONS` takes a file from one schema version (in
  ``PRAGMA user_version``) to the next; a new file runs them all, a file of
  an older version the ones it lacks. The file is in WAL mode with
  ``synchronous=NORMAL``: readers never wait for the writer, and a process
  killed at any point leaves the last committed state.
* **Connections.** Each thread has its own connection, in a *slot* whose
  lock the thread holds while it uses the connection (``with
  db.session() as conn:``). No user code runs inside a session. A
  connection is closed by :meth:`Database.close`, once its thread has ended
  (when another thread opens one), or when the database is collected: never
  left for the garbage collector.
* **Forks.** A fork waits for the sessions in progress and closes every
  connection first (:mod:`._fork` says why); both processes then open new
  ones when next used.
* **Paths and files.** The path must name a file (not ``:memory:``, ``""``
  or an SQLite URI). A new database file is created with ``file_mode``
  (owner-only by default); SQLite gives its ``-wal`` and ``-shm`` files the
  same mode.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterable
from typing import Any

from memokit.stores._persistent import Shared
from memokit.stores._sqlite._files import ValueFiles
from memokit.stores._sqlite._fork import track

__all__ = [
    "LIVE",
    "MIGRATIONS",
    "Database",
    "Slot",
    "check_path",
    "names",
    "transaction",
]

MIGRATIONS: tuple[tuple[str, ...], ...] = (
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
    (
        # Keys listed (keys()): a key filed as its digest keeps its whole
        # encoding here (NULL when the key column is the encoding itself, and
        # in the rows of files written before: their digested keys are not
        # listed until rewritten).
        "ALTER TABLE memokit_entries ADD COLUMN whole_key BLOB",
    ),
)
_SCHEMA = len(MIGRATIONS)

#: The condition of an entry that has not expired (named parameter :now).
LIVE = "(expires IS NULL OR expires > :now)"
_EXPIRED = "FROM memokit_entries WHERE expires IS NOT NULL AND expires <= :now"
_COUNT_EXPIRED = f"SELECT ns, COUNT(*) {_EXPIRED} GROUP BY ns"
_PURGE_EXPIRED = f"DELETE {_EXPIRED}"


def check_path(path: object) -> str:
    """Return ``path`` as a str if it names a file SQLiteStore can share, else raise saying why."""
    text = os.fspath(path) if isinstance(path, str | os.PathLike) else None
    if not isinstance(text, str):
        raise TypeError(f"SQLiteStore(path) takes a file path, got {type(path).__name__}")
    if text in ("", ":memory:") or (text.startswith("file:") and "memory" in text):
        raise ValueError(
            f"SQLiteStore({text!r}) would give each thread a private, temporary database: "
            f"SQLiteStore keeps results in a file that threads and processes share. For a cache "
            f"in this process's memory, use @memoize without store= (or DictStore, LRUStore); "
            f"for a throwaway file, give a path in a temporary directory (tempfile.mkdtemp())"
        )
    if text.startswith("file:"):
        raise ValueError(
            f"SQLiteStore takes a file path, not an SQLite URI ({text!r}): it opens the file "
            f"itself, with a folder of value files beside it. Give the path, e.g. 'cache.db' "
            f"(write a file whose name starts with 'file:' as './file:...')"
        )
    return text


def names(rows: Iterable[tuple[Any, ...]]) -> list[str]:
    """The file names in ``rows`` (read as bytes: the connections' text_factory)."""
    return [row[0].decode("ascii", "replace") for row in rows]


class _Connector:
    """How to open a connection to one file, ready for use (the file is made if missing)."""

    __slots__ = ("file_mode", "path", "timeout")

    def __init__(self, path: str, timeout: float, file_mode: int) -> None:
        self.path = path
        self.timeout = timeout
        self.file_mode = file_mode

    def open(self) -> sqlite3.Connection:
        """Return a new connection to the file, with the schema this memokit writes."""
        self._create()
        try:
            # A connection is only used inside its slot; turning the thread
            # check off lets close() and a fork close it from another thread.
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
        return conn

    def _create(self) -> None:
        """Make the file with ``file_mode`` if it does not exist (SQLite would make it 0644)."""
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, self.file_mode)
        except OSError:
            return  # it exists; or sqlite3.connect reports why it cannot be made
        os.close(fd)

    @staticmethod
    def _prepare(conn: sqlite3.Connection) -> None:
        # A value altered into TEXT must reach the signature check as bytes,
        # not fail to decode as UTF-8.
        conn.text_factory = bytes
        # journal_mode is stored in the file; the others are per connection.
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        # A bigger page cache than the default 2 MB (used only as needed), for
        # large entries kept in rows (see docs/performance.md).
        conn.execute("PRAGMA cache_size = -16384")
        schema = conn.execute("PRAGMA user_version").fetchone()[0]
        if schema == _SCHEMA:
            return
        if schema > _SCHEMA:
            raise sqlite3.DatabaseError(
                f"it has schema version {schema}, and this memokit reads versions up to "
                f"{_SCHEMA}: use the memokit that wrote it, or another file"
            )
        with transaction(conn):
            schema = conn.execute("PRAGMA user_version").fetchone()[0]
            for steps in MIGRATIONS[schema:]:
                for statement in steps:
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {_SCHEMA}")


class Slot:
    """One thread's connection, and the lock that thread holds while it uses it (see _fork)."""

    __slots__ = ("conn", "connector", "lock", "thread")

    def __init__(self, connector: _Connector) -> None:
        self.connector = connector  # not the database: the database's finalizer holds slots
        self.conn: sqlite3.Connection | None = None  # opened on first use
        self.lock = threading.Lock()
        self.thread = threading.current_thread()

    def __enter__(self) -> sqlite3.Connection:
        self.lock.acquire()
        conn = self.conn
        if conn is None:  # first use, or closed by close() or a fork since
            try:
                conn = self.conn = self.connector.open()
            except BaseException:
                self.lock.release()
                raise
        return conn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.lock.release()

    def close(self) -> None:
        """Close the connection (call with the lock held, or when no thread can use it)."""
        conn, self.conn = self.conn, None
        if conn is not None:
            conn.close()


class Database(Shared):
    """One SQLite file and its folder of value files, shared by a store's views."""

    def __init__(self, path: str, timeout: float, file_mode: int) -> None:
        super().__init__("SQLiteStore", path)
        self.path = path
        self.timeout = timeout
        self.file_mode = file_mode
        self.files = ValueFiles(path, file_mode)
        self._connector = _Connector(path, timeout, file_mode)
        self.local = threading.local()  # each thread's slot
        self.slots: list[Slot] = []
        self.registry = threading.Lock()  # guards slots
        self.unusable = ""  # why this database cannot be used in this process, if it cannot
        # Entries found expired and dropped through this object, by namespace
        # (guarded by self.lock): what each view reports as its expirations.
        self.expired: dict[int, int] = {}
        track(self)

    def session(self) -> Slot:
        """Return this thread's slot: ``with db.session() as conn:`` uses its connection."""
        try:
            slot: Slot = self.local.slot
        except AttributeError:
            slot = self._new_slot()
        return slot

    def _new_slot(self) -> Slot:
        if self.unusable:
            raise RuntimeError(self.unusable)
        slot = Slot(self._connector)
        with self.registry:
            for ended in [s for s in self.slots if not s.thread.is_alive()]:
                self.slots.remove(ended)
                ended.close()  # its thread is gone: nobody holds its lock
            self.slots.append(slot)
        self.local.slot = slot
        return slot

    def close(self) -> None:
        """Close every thread's connection, waiting for a call in progress in another thread."""
        with self.registry:
            for slot in self.slots:
                with slot.lock:
                    slot.close()

    def sweep(self, conn: sqlite3.Connection) -> None:
        """Delete expired entries of the whole file, and files of the folder that no row names.

        A writer renames a file into place inside the write transaction that
        commits its row, so once this holds the write lock, a named file
        that no committed row names is an orphan: its writer died between
        rename and commit, or its remover between commit and delete. The
        folder is listed before the lock is taken; a file named after that
        is not in the list, so it is never mistaken for one.
        """
        named, stale = self.files.survey(self.timeout)
        with transaction(conn, self):
            purged = self.purge_expired(conn, time.time())
            orphans = []
            if named:
                rows = conn.execute("SELECT file FROM memokit_values WHERE file IS NOT NULL")
                used = set(names(rows))
                orphans = [name for name in named if name not in used]
        self.count_expired(purged)
        self.files.remove(orphans + stale)

    @staticmethod
    def purge_expired(conn: sqlite3.Connection, now: float) -> dict[int, int]:
        """Delete every expired entry of the file (in a write transaction); return how many, by ns.

        The count comes first, in the same transaction: RETURNING would
        count in one statement, but needs SQLite 3.35, newer than some
        Pythons ship. Both read one range of the expiry index.
        """
        counts = {int(ns): int(n) for ns, n in conn.execute(_COUNT_EXPIRED, {"now": now})}
        if counts:
            conn.execute(_PURGE_EXPIRED, {"now": now})
        return counts

    def count_expired(self, counts: dict[int, int]) -> None:
        """Add to each namespace's count of expired entries dropped (once they are committed)."""
        if counts:
            with self.lock:
                for ns, n in counts.items():
                    self.expired[ns] = self.expired.get(ns, 0) + n


class transaction:
    """``with transaction(conn):`` runs the block in a write transaction (BEGIN IMMEDIATE).

    IMMEDIATE takes the write lock at the start (waiting up to the busy
    timeout), so a read-then-write block never fails half-way on a lock.
    Given the database, it also deletes the value files that the block
    listed in ``memokit_garbage``: it empties the table before COMMIT and
    deletes the files after (a crash in between leaves orphans, which the
    next sweep deletes; a rollback keeps both rows and files).
    """

    __slots__ = ("committed", "conn", "db")

    def __init__(self, conn: sqlite3.Connection, db: Database | None = None) -> None:
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
            garbage = names(self.conn.execute("SELECT file FROM memokit_garbage"))
            if garbage:
                self.conn.execute("DELETE FROM memokit_garbage")
        self.conn.execute("COMMIT")
        self.committed = True
        if garbage:
            assert self.db is not None
            self.db.files.remove(garbage)
