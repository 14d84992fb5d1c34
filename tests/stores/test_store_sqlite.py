"""SQLiteStore's own file and faults: the schema, large values, SIGKILL, paths, permissions.

The Store contract and the persistent-store contract run on SQLiteStore in
tests/stores/test_stores.py; the scenarios both stores share across processes are in
tests/stores/test_store_processes.py, forks in tests/stores/test_store_fork.py; this
file holds what needs the file itself.
Computations are counted through the workers' O_APPEND log
(tests/helpers/store_worker.py).
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import sqlite3
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memokit import MISSING, BadEntryWarning, SQLiteStore, UnlistedKeysWarning, memoize
from memokit.stores._keybytes import encode_key
from memokit.stores._sqlite import _database, _namespace, _store
from memokit.stores._sqlite._files import directory_mode, write_all
from tests.helpers.recorded import recorded
from tests.helpers.store_worker import (
    SECRET,
    computations,
    connection,
    is_open,
    pattern,
    run_together,
    spawn,
)

# ---------------------------------------------------------------- the file


def test_file_is_in_wal_mode_and_has_the_schema(tmp_path: Path) -> None:
    """A new file is in WAL mode, with memokit's tables and schema version 3."""
    path = tmp_path / "c.db"
    SQLiteStore(path, secret=SECRET).set(1, 1)
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 3
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        columns = [r[1] for r in conn.execute("PRAGMA table_info(memokit_values)")]
        entry_columns = [r[1] for r in conn.execute("PRAGMA table_info(memokit_entries)")]
    assert tables == {
        "memokit_entries",
        "memokit_values",
        "memokit_namespaces",
        "memokit_leases",
        "memokit_garbage",
    }
    assert columns == ["id", "value", "file"]
    assert entry_columns == ["id", "ns", "key", "expires", "used", "whole_key"]


# The schema-1 layout as memokit 0.1 wrote it (before values could live in files).
_SCHEMA_1 = """
CREATE TABLE memokit_namespaces (id INTEGER PRIMARY KEY, name TEXT NOT NULL,
    version TEXT NOT NULL, entries INTEGER NOT NULL DEFAULT 0, UNIQUE (name, version));
CREATE TABLE memokit_entries (id INTEGER PRIMARY KEY, ns INTEGER NOT NULL, key BLOB NOT NULL,
    expires REAL, used INTEGER NOT NULL, UNIQUE (ns, key));
CREATE TABLE memokit_values (id INTEGER PRIMARY KEY, value BLOB NOT NULL);
CREATE INDEX memokit_entries_by_use ON memokit_entries (ns, used);
CREATE TABLE memokit_leases (ns INTEGER NOT NULL, key BLOB NOT NULL, owner TEXT NOT NULL,
    expires REAL NOT NULL, PRIMARY KEY (ns, key)) WITHOUT ROWID;
CREATE TRIGGER memokit_entry_added AFTER INSERT ON memokit_entries BEGIN
    UPDATE memokit_namespaces SET entries = entries + 1 WHERE id = new.ns;
END;
CREATE TRIGGER memokit_entry_removed AFTER DELETE ON memokit_entries BEGIN
    UPDATE memokit_namespaces SET entries = entries - 1 WHERE id = old.ns;
    DELETE FROM memokit_values WHERE id = old.id;
END;
PRAGMA user_version = 1;
"""


def test_a_schema_1_file_is_upgraded_and_keeps_its_entries(tmp_path: Path) -> None:
    """A file of schema version 1 is upgraded in place; its entries are still read."""
    path = tmp_path / "c.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(_SCHEMA_1)
    # An entry as schema 1 stored it: the whole (unsigned JSON) entry in the value column.
    entry = b'\x00j{"kept":true}'
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("INSERT INTO memokit_namespaces (id, name, version) VALUES (1, 'm:f', '')")
        conn.execute(
            "INSERT INTO memokit_entries (id, ns, key, used) VALUES (1, 1, ?, 1)", (b"s\x01k",)
        )
        conn.execute("INSERT INTO memokit_values (id, value) VALUES (1, ?)", (entry,))
    store = SQLiteStore(path, serializer="json", file_threshold=0).bind("m:f")
    assert store.get("k") == {"kept": True}
    store.set("big", ["x"])  # schema 2: a file
    assert store.get("big") == ["x"] and len(os.listdir(store.folder)) == 1
    assert list(store.keys()) == ["k", "big"]  # schema 3: listed
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 3


LONG = ("a key too long to file as it is", "x" * 60)


def test_a_schema_2_file_lists_its_keys_but_digested_ones(tmp_path: Path) -> None:
    """A schema-2 file is upgraded: its long keys (digests) go unlisted until written again."""
    path = tmp_path / "c.db"
    old = SQLiteStore(path, serializer="json").bind("m:f")
    for key in ("short", LONG, ("b", 2)):
        old.set(key, [key[0]])
    old.close()
    # The file as schema 2 left it: the same rows, without the whole keys.
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("ALTER TABLE memokit_entries DROP COLUMN whole_key")
        conn.execute("PRAGMA user_version = 2")
    store = SQLiteStore(path, serializer="json").bind("m:f")
    with pytest.warns(UnlistedKeysWarning, match=r"'m:f': keys\(\) left out 1 entries.*digest"):
        assert list(store.keys()) == ["short", ("b", 2)]
    assert len(store) == 3 and store.get(LONG) == ["a key too long to file as it is"]
    store.set(LONG, ["again"])
    assert list(store.keys()) == ["short", ("b", 2), LONG]
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 3


def test_keys_report_rows_whose_key_does_not_decode(tmp_path: Path) -> None:
    """Key rows altered by hand (bad bytes, another whole key) are reported, not listed or fatal."""
    path = tmp_path / "c.db"
    store = SQLiteStore(path, serializer="json").bind("m:f")
    for key in ("kept", "altered", LONG):
        store.set(key, 1)
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("UPDATE memokit_entries SET key = ? WHERE key = ?", (b"Z", b"s\x07altered"))
        conn.execute(
            "UPDATE memokit_entries SET whole_key = ? WHERE whole_key IS NOT NULL",
            (encode_key(("another key, as long", "y" * 60)),),
        )
    with pytest.warns(UnlistedKeysWarning, match="left out 2 entries") as caught:
        assert list(store.keys()) == ["kept"]
    assert len(caught) == 1 and str(path) in str(caught[0].message)
    assert "1 because its type tag" in str(caught[0].message)
    assert "1 because the key kept beside it is not the one" in str(caught[0].message)
    assert len(store) == 3


def test_keys_are_listed_in_order_of_write_or_with_maxsize_of_use(tmp_path: Path) -> None:
    """Unbounded: oldest write first (a read changes nothing); bounded: least recent use first."""
    unbounded = SQLiteStore(tmp_path / "u.db", serializer="json").bind("m:f")
    bounded = SQLiteStore(tmp_path / "b.db", serializer="json", maxsize=10).bind("m:f")
    for store in (unbounded, bounded):
        for key in "abc":
            store.set(key, key)
        store.get("a")
        store.set("b", "b2")
    assert list(unbounded.keys()) == ["a", "c", "b"]
    assert list(bounded.keys()) == ["c", "a", "b"]


def test_listing_and_counting_write_nothing(tmp_path: Path) -> None:
    """keys(), len() and expirations of a name never written to leave the file as it was."""
    path = tmp_path / "c.db"
    store = SQLiteStore(path, serializer="json").bind("m:never")
    assert (list(store.keys()), len(store), store.expirations) == ([], 0, 0)
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("SELECT COUNT(*) FROM memokit_namespaces").fetchone()[0] == 0


class FakeNow:
    """Stands for the time module in the store's modules: ``time()`` is what the test says."""

    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


@pytest.fixture
def fake_now(monkeypatch: pytest.MonkeyPatch) -> FakeNow:
    """The wall clock SQLiteStore reads expiry by, frozen until the test moves it."""
    now = FakeNow(1000.0)
    for module in (_store, _namespace, _database):
        monkeypatch.setattr(module, "time", now)
    return now


#: Computations of double(), below.
DOUBLED: list[int] = []


def double(n: int) -> int:
    """Return ``2 * n``, recording the call."""
    DOUBLED.append(n)
    return 2 * n


def test_expired_entries_are_counted_however_they_go(tmp_path: Path, fake_now: FakeNow) -> None:
    """Expirations count a lookup, a delete, a write's purge and an eviction pass, per name."""
    root = SQLiteStore(tmp_path / "c.db", serializer="json", ttl=10)
    store, sibling = root.bind("m:f"), root.bind("m:g")
    for key in "abc":
        store.set(key, key)
    assert list(store.keys()) == ["a", "b", "c"]
    fake_now.now += 10
    assert list(store.keys()) == [] and len(store) == 0
    assert store.get("a") is MISSING and store.expirations == 1  # a lookup found it
    assert store.delete("b") is False and store.expirations == 2  # so did a delete
    sibling.set("x", 0)  # a write drops every expired entry of the file: "c" of m:f
    assert (store.expirations, sibling.expirations) == (3, 0)
    assert root.bind("m:f").expirations == 3  # a name's count, whichever view asks

    no_ttl = SQLiteStore(tmp_path / "c.db", serializer="json", maxsize=1).bind("m:h")
    root.bind("m:h").set("old", 0)
    fake_now.now += 10
    no_ttl.set("new", 1)  # no ttl, so no purge: the bound drops the expired entry first
    assert (no_ttl.expirations, no_ttl.evictions) == (1, 0)

    DOUBLED.clear()
    cached = memoize(store=root)(double)
    assert (cached(4), cached(4)) == (8, 8)
    fake_now.now += 10
    assert cached(4) == 8 and DOUBLED == [4, 4]
    stats = cached.cache_stats()
    assert (stats.hits, stats.misses, stats.expirations) == (1, 2, 1)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        pytest.param(b"not a database, just text" * 100, "cannot use", id="not-sqlite"),
        pytest.param(None, "schema version 99", id="newer-schema"),
    ],
)
def test_a_file_it_cannot_read_is_a_clear_error(
    tmp_path: Path, content: bytes | None, words: str
) -> None:
    """A path that is not an SQLiteStore file is refused when the store is made."""
    path = tmp_path / "c.db"
    if content is None:
        with closing(sqlite3.connect(path)) as conn:
            conn.execute("PRAGMA user_version = 99")
    else:
        path.write_bytes(content)
    with pytest.raises(sqlite3.DatabaseError, match=words):
        SQLiteStore(path, secret=SECRET)


def test_a_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    """A path in a directory that does not exist is refused, saying what to check."""
    with pytest.raises(sqlite3.OperationalError, match="directory that exists"):
        SQLiteStore(tmp_path / "no" / "such" / "c.db", secret=SECRET)


def test_a_path_that_is_not_a_path_is_a_type_error() -> None:
    """SQLiteStore(path) takes a str or a path object."""
    with pytest.raises(TypeError, match="file path"):
        SQLiteStore(3, secret=SECRET)  # type: ignore[arg-type]


# ---------------------------------------------------------------- the LRU bound


def test_maxsize_bounds_each_name_on_its_own(tmp_path: Path) -> None:
    """Two functions on one bounded store each keep maxsize entries."""
    store = SQLiteStore(tmp_path / "c.db", secret=SECRET, maxsize=2)
    f, g = store.bind("m:f"), store.bind("m:g")
    for n in range(5):
        f.set(n, n)
        g.set(n, -n)
    assert (len(f), len(g), f.evictions, g.evictions) == (2, 2, 3, 3)
    assert [f.get(n) for n in range(5)] == [MISSING, MISSING, MISSING, 3, 4]


@pytest.mark.parametrize(
    ("maxsize", "error", "message"),
    [
        pytest.param("x", TypeError, "takes an int or None, got str 'x'", id="str"),
        pytest.param(2.0, TypeError, "takes an int or None, got float 2.0", id="float"),
        pytest.param(-1, ValueError, "must be >= 0, got -1", id="negative"),
    ],
)
def test_a_bad_maxsize_is_refused_as_every_engine_refuses_it(
    tmp_path: Path, maxsize: Any, error: type[Exception], message: str
) -> None:
    """maxsize= gets the same check and wording as every engine and store, naming SQLiteStore."""
    with pytest.raises(error) as caught:
        SQLiteStore(tmp_path / "c.db", secret=SECRET, maxsize=maxsize)
    assert str(caught.value) == f"SQLiteStore(maxsize=...) {message}"


def test_hits_on_the_newest_entry_do_not_write(tmp_path: Path) -> None:
    """A bounded store refreshes recency on a hit only when the entry is not already newest."""
    store = SQLiteStore(tmp_path / "c.db", secret=SECRET, maxsize=10)
    store.set("old", 1)
    store.set("new", 2)
    conn = connection(store)
    before = conn.total_changes
    for _ in range(5):
        assert store.get("new") == 2
    assert conn.total_changes == before
    assert store.get("old") == 1  # not the newest: moved to the front, one write
    assert conn.total_changes == before + 1
    assert store.get("old") == 1
    assert conn.total_changes == before + 1


def test_refreshing_a_large_entry_does_not_rewrite_it(tmp_path: Path) -> None:
    """Moving a 1 MiB entry to the front of the LRU order writes kilobytes, not the megabyte."""
    path = tmp_path / "c.db"
    store = SQLiteStore(path, secret=SECRET, maxsize=10)
    store.set("big", b"x" * 2**20)
    store.set("small", 1)
    conn = connection(store)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    wal = Path(f"{path}-wal")
    assert wal.stat().st_size == 0
    assert store.get("big") == b"x" * 2**20  # not the newest: refreshed
    assert 0 < wal.stat().st_size < 64 * 1024


def test_unbounded_hits_never_write(tmp_path: Path) -> None:
    """Without maxsize a hit is a read only, whatever entry it reads."""
    store = SQLiteStore(tmp_path / "c.db", secret=SECRET)
    for n in range(3):
        store.set(n, n)
    conn = connection(store)
    before = conn.total_changes
    assert [store.get(n) for n in (0, 1, 2, 0)] == [0, 1, 2, 0]
    assert conn.total_changes == before


# ---------------------------------------------------------------- across processes: faults


def _config(path: Path, log: Path, keys: list[int], **extra: Any) -> dict[str, Any]:
    return {"action": "call", "store": "sqlite", "location": str(path), "log": str(log)} | {
        "keys": keys,
        **extra,
    }


def test_sigkill_while_writing_leaves_no_half_entry(tmp_path: Path) -> None:
    """A writer killed mid-write leaves a file that passes integrity_check, every entry whole."""
    path = tmp_path / "c.db"
    for delay in (0.0, 0.013, 0.029):
        writer = spawn({"action": "write", "store": "sqlite", "location": str(path)})
        assert writer.stdout is not None
        written = [int(writer.stdout.readline()) for _ in range(3)]
        time.sleep(delay)
        writer.send_signal(signal.SIGKILL)
        writer.wait(10)
        writer.stdout.close()
        assert writer.stderr is not None
        writer.stderr.close()
        with closing(sqlite3.connect(path)) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            rows = conn.execute("SELECT COUNT(*) FROM memokit_entries").fetchone()[0]
            values = conn.execute("SELECT COUNT(*) FROM memokit_values").fetchone()[0]
        assert values == rows  # no entry without its value, no value left behind
        store = SQLiteStore(path, secret=SECRET)  # opening deletes files no row names
        on_disk = {name for name in os.listdir(store.folder) if not name.endswith(".tmp")}
        assert on_disk == _named_files(path) and len(on_disk) == rows  # each value is a file
        found = {}
        for n in range(rows + 10):
            value = store.get(n)
            if value is not MISSING:
                found[n] = value
        assert set(written) <= set(found)
        assert len(found) == rows  # every row decodes and verifies
        for n, value in found.items():
            assert value == pattern(n, 300)
        assert store.rejected == 0


# ---------------------------------------------------------------- connections


def test_close_closes_every_threads_connection(tmp_path: Path) -> None:
    """close() in one thread closes another's connection; that thread then opens a new one."""
    store = SQLiteStore(tmp_path / "c.db", secret=SECRET).bind("m:f")
    store.set(1, "one")
    opened, closed = threading.Event(), threading.Event()
    seen: dict[str, Any] = {}

    def worker() -> None:
        conn = connection(store)
        seen["before"] = store.get(1)
        opened.set()
        closed.wait(10)
        seen["was open"] = is_open(conn)
        seen["after"] = store.get(1)
        seen["new"] = connection(store) is not conn

    thread = threading.Thread(target=worker)
    thread.start()
    assert opened.wait(10)
    store.close()
    closed.set()
    thread.join(10)
    assert seen == {"before": "one", "was open": False, "after": "one", "new": True}


def test_an_ended_threads_connection_is_closed_when_another_opens(tmp_path: Path) -> None:
    """Threads that come and go leave no connections behind: at most the last one's stays."""
    store = SQLiteStore(tmp_path / "c.db", secret=SECRET).bind("m:f")
    conns: list[sqlite3.Connection] = []

    def use(n: int) -> None:
        conns.append(connection(store))
        store.set(n, n)

    for n in range(20):
        thread = threading.Thread(target=use, args=(n,))
        thread.start()
        thread.join(10)
    assert [is_open(conn) for conn in conns] == [False] * 19 + [True]
    assert len(store._db.slots) == 2  # this thread's (the constructor's) and the last one's
    assert [store.get(n) for n in range(20)] == list(range(20))


# ---------------------------------------------------------------- large values in files

# The head of an unsigned bytes entry: flags, format, type code, 8-byte length.
BYTES_HEAD = 11


def _files(store: SQLiteStore) -> set[str]:
    """The names in the store's folder (empty if it was never made)."""
    try:
        return set(os.listdir(store.folder))
    except FileNotFoundError:
        return set()


def _named_files(path: Path) -> set[str]:
    """The file names the rows of the database at ``path`` point to."""
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute("SELECT file FROM memokit_values WHERE file IS NOT NULL")
        return {row[0] for row in rows}


def test_entries_from_the_threshold_up_go_to_files(tmp_path: Path) -> None:
    """An entry of file_threshold bytes or more is a file beside the database; smaller, a row."""
    path = tmp_path / "c.db"
    store = SQLiteStore(path, serializer="bytes", file_threshold=1000)
    assert store.folder == f"{path}-values"
    store.set("small", b"s" * (999 - BYTES_HEAD))
    assert _files(store) == set()
    store.set("large", b"L" * (1000 - BYTES_HEAD))
    (name,) = _files(store)
    assert len(name) == 32 and _named_files(path) == {name}
    with open(os.path.join(store.folder, name), "rb") as f:
        assert f.read()[BYTES_HEAD:] == b"L" * (1000 - BYTES_HEAD)
    again = SQLiteStore(path, serializer="bytes", file_threshold=1000)
    assert again.get("large") == b"L" * (1000 - BYTES_HEAD)
    assert again.get("small") == b"s" * (999 - BYTES_HEAD)


def test_file_threshold_none_keeps_everything_in_the_database(tmp_path: Path) -> None:
    """file_threshold=None stores even a 1 MiB entry in its row, and makes no folder."""
    store = SQLiteStore(tmp_path / "c.db", serializer="bytes", file_threshold=None)
    store.set("big", b"b" * 2**20)
    assert store.get("big") == b"b" * 2**20
    assert not os.path.exists(store.folder)


@pytest.mark.parametrize("bad", [-1, 1.5, "64k", True])
def test_a_bad_file_threshold_is_refused(tmp_path: Path, bad: Any) -> None:
    """file_threshold takes a non-negative int or None; anything else names the option."""
    with pytest.raises(ValueError, match="file_threshold"):
        SQLiteStore(tmp_path / "c.db", secret=SECRET, file_threshold=bad)


def test_every_way_an_entry_goes_removes_its_file(tmp_path: Path) -> None:
    """Overwrite, delete, eviction, expiry, clear and drop_other_versions each delete the file."""
    path = tmp_path / "c.db"
    store = SQLiteStore(path, secret=SECRET, file_threshold=0, maxsize=2, ttl=60).bind("m:f")
    store.set("a", "a1")
    first = _files(store)
    store.set("a", "a2")  # overwrite: a new file, the old one gone
    assert len(_files(store)) == 1 and _files(store) != first
    assert store.delete("a") is True and _files(store) == set()
    for key in "bcd":  # the bound is 2: "b" is evicted
        store.set(key, key)
    assert store.evictions == 1 and len(_files(store)) == 2 == len(_named_files(path))
    store.clear()
    assert _files(store) == set()

    short = SQLiteStore(path, secret=SECRET, file_threshold=0, ttl=0.2).bind("m:short")
    short.set("read", 1)
    short.set("unread", 2)
    time.sleep(0.3)
    assert short.get("read") is MISSING  # expired on read
    assert len(_files(store)) == 1
    short.set("new", 3)  # a write of a store with a ttl drops every expired entry
    assert len(_files(store)) == 1 and _named_files(path) == _files(store)
    short.clear()
    assert _files(store) == set()

    v1 = SQLiteStore(path, secret=SECRET, file_threshold=0, version=1).bind("m:g")
    v1.set("k", "old")
    v2 = SQLiteStore(path, secret=SECRET, file_threshold=0, version=2).bind("m:g")
    v2.set("k", "new")
    assert len(_files(store)) == 2
    assert v2.drop_other_versions() == 1
    assert len(_files(store)) == 1 and v2.get("k") == "new"


def test_opening_deletes_orphans_and_stale_temporary_files(tmp_path: Path) -> None:
    """Opening a store deletes unnamed value files and old .tmp files, and nothing else."""
    path = tmp_path / "c.db"
    store = SQLiteStore(path, secret=SECRET, file_threshold=0)
    store.set("kept", "value")
    folder = Path(store.folder)
    (kept,) = _files(store)
    orphan, fresh_tmp, old_tmp = "a" * 32, "b" * 32 + ".tmp", "c" * 32 + ".tmp"
    foreign = ["notes.txt", "d" * 31, "E" * 32]  # not names memokit writes
    for name in [orphan, fresh_tmp, old_tmp, *foreign]:
        (folder / name).write_bytes(b"x")
    two_hours_ago = time.time() - 7200
    os.utime(folder / old_tmp, (two_hours_ago, two_hours_ago))
    again = SQLiteStore(path, secret=SECRET, file_threshold=0)
    assert _files(again) == {kept, fresh_tmp, *foreign}
    assert again.get("kept") == "value"


def test_a_missing_value_file_is_a_miss_that_is_recomputed(tmp_path: Path) -> None:
    """A file deleted behind the store's back is reported once, and the key is computed again."""
    store = SQLiteStore(tmp_path / "c.db", secret=SECRET, file_threshold=0).bind("m:f")
    calls: list[int] = []

    def compute() -> str:
        calls.append(1)
        return "value"

    assert store.get_or_compute("k", compute) == "value"
    (name,) = _files(store)
    os.remove(os.path.join(store.folder, name))
    with pytest.warns(BadEntryWarning, match="missing"):
        assert store.get_or_compute("k", compute) == "value"
    assert calls == [1, 1] and store.rejected == 1
    assert store.get("k") == "value"


def test_a_tampered_value_file_is_never_unpickled(tmp_path: Path) -> None:
    """A pickle file whose bytes were changed, or cut short, is a miss and is not loaded."""
    store = SQLiteStore(tmp_path / "c.db", secret=SECRET, file_threshold=0).bind("m:f")
    files = {}
    for key in ("changed", "cut"):
        before = _files(store)
        store.set(key, key * 500)
        (files[key],) = _files(store) - before
    changed = Path(store.folder) / files["changed"]
    data = bytearray(changed.read_bytes())
    data[-1] ^= 1
    changed.write_bytes(bytes(data))
    cut = Path(store.folder) / files["cut"]
    cut.write_bytes(cut.read_bytes()[:100])
    with recorded() as caught:
        assert store.get("changed") is MISSING
        assert store.get("cut") is MISSING
    assert [type(w.message) for w in caught] == [BadEntryWarning]
    assert "does not verify" in str(caught[0].message)
    assert store.rejected == 2 and len(store) == 0 and _files(store) == set()


def test_an_altered_file_name_never_leads_outside_the_folder(tmp_path: Path) -> None:
    """A row naming a path outside the folder is refused: that file is neither read nor deleted."""
    path = tmp_path / "c.db"
    store = SQLiteStore(path, serializer="bytes", file_threshold=0).bind("m:f")
    store.set("k", b"value")
    victim = tmp_path / "victim"
    victim.write_bytes(b"\x00b" + b"b" + (6).to_bytes(8, "big") + b"secret")
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("UPDATE memokit_values SET file = '../victim'")
    with pytest.warns(BadEntryWarning, match="not one memokit writes"):
        assert store.get("k") is MISSING
    store.clear()
    assert victim.read_bytes().endswith(b"secret")


def test_reads_racing_overwrites_see_whole_values(tmp_path: Path) -> None:
    """While one thread overwrites a large entry, another reads only whole values or a miss."""
    store = SQLiteStore(tmp_path / "c.db", serializer="bytes", file_threshold=0).bind("m:f")
    valid = {bytes([n]) * 50_000 for n in range(41)}
    store.set("k", bytes([0]) * 50_000)
    seen: list[Any] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            seen.append(store.get("k"))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for n in range(1, 41):  # ends with a set (40 % 3 != 0)
            store.set("k", bytes([n]) * 50_000)
            if n % 3 == 0:
                store.delete("k")
    finally:
        done.set()
        reader.join(30)
    assert seen and all(value is MISSING or value in valid for value in seen)
    assert store.rejected == 0
    assert len(_files(store)) == 1


def test_an_unpickled_value_that_reads_the_store_gets_its_own_buffer(tmp_path: Path) -> None:
    """Loading an entry whose unpickling reads another file entry leaves both values whole."""
    store = SQLiteStore(tmp_path / "c.db", secret=SECRET, file_threshold=0).bind("m:f")
    NESTED.append(store)
    store.set("inner", "i" * 100_000)
    store.set("outer", [Rebuilt("inner"), "o" * 300_000])
    for _ in range(2):  # the second read reuses the buffer the first one made
        outer = store.get("outer")
        assert outer is not MISSING
        inner, tail = outer
        assert inner.value == "i" * 100_000 and tail == "o" * 300_000


#: The store Rebuilt objects read from when unpickled.
NESTED: list[SQLiteStore] = []


class Rebuilt:
    """An object whose unpickling reads another entry of the store (a nested read)."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.value = NESTED[-1].get(key) if NESTED else None

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return Rebuilt, (self.key,)


@pytest.mark.parametrize("at", ["writing", "renamed", "committed"])
def test_sigkill_at_the_worst_moments_of_a_large_write(tmp_path: Path, at: str) -> None:
    """A writer killed mid-file, between rename and commit, or before deleting leaves no damage."""
    path = tmp_path / "c.db"
    writer = spawn({"action": "die", "store": "sqlite", "location": str(path), "at": at})
    writer.communicate(timeout=60)
    assert writer.returncode == -signal.SIGKILL
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    folder = Path(f"{path}-values")
    named = _named_files(path)
    assert len(named) == 1 and named <= set(os.listdir(folder))  # every row's file is there
    leftovers = set(os.listdir(folder)) - named
    assert len(leftovers) == 1  # the dead writer's temporary file, or a file no row names
    (leftover,) = leftovers
    assert leftover.endswith(".tmp") == (at == "writing")
    if at == "writing":  # a fresh .tmp may be a live writer's: kept until it is old
        old = time.time() - 7200
        os.utime(folder / leftover, (old, old))
    store = SQLiteStore(path, secret=SECRET)  # opening sweeps
    assert set(os.listdir(folder)) == named
    expected = pattern(2 if at == "committed" else 1, 300)
    assert store.get(1) == expected and store.rejected == 0


def test_four_processes_share_large_values(tmp_path: Path) -> None:
    """Four processes missing the same large-valued keys compute each once and read them whole."""
    path, log = tmp_path / "c.db", tmp_path / "log"
    SQLiteStore(path, secret=SECRET)
    keys = list(range(6))
    configs = []
    for seed in range(4):
        order = keys[:]
        random.Random(seed).shuffle(order)
        configs.append(_config(path, log, order, sleep=0.05, value_kib=300))
    outputs = run_together(configs, tmp_path)
    digests = {str(n): hashlib.sha256(bytes([n]) * 300 * 1024).hexdigest() for n in keys}
    assert outputs == [digests] * 4
    assert Counter(n for _, n, _ in computations(log)) == Counter(keys)
    assert _named_files(path) == set(os.listdir(f"{path}-values"))
    assert len(_named_files(path)) == len(keys)


def test_a_file_of_more_parts_than_one_writev_takes_is_written_whole(tmp_path: Path) -> None:
    """Writing an entry of 3000 parts (writev takes 1024 at most) keeps every byte in order."""
    parts: list[Any] = [bytes([n % 256]) * (n % 7) for n in range(3000)]
    parts[5] = memoryview(b"view")
    path = tmp_path / "f"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    try:
        write_all(fd, b"head", parts)
    finally:
        os.close(fd)
    assert path.read_bytes() == b"head" + b"".join(bytes(part) for part in parts)


# ---------------------------------------------------------------- paths it refuses


@pytest.mark.parametrize(
    "path", ["", ":memory:", "file::memory:", "file::memory:?cache=shared", "file:c?mode=memory"]
)
def test_paths_of_private_databases_are_refused(
    path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """'', ':memory:' and in-memory URIs are refused, naming what to use; no file is made."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="private, temporary database") as caught:
        SQLiteStore(path, secret=SECRET)
    assert "@memoize without store=" in str(caught.value)
    assert os.listdir(tmp_path) == []


def test_an_sqlite_uri_is_refused_and_a_file_named_like_one_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 'file:' URI is refused (no file made); './file:...' names a file, which works."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="not an SQLite URI"):
        SQLiteStore("file:c.db?mode=rwc", secret=SECRET)
    assert os.listdir(tmp_path) == []
    store = SQLiteStore("./file:c.db", serializer="json", file_threshold=0)
    store.set("k", "v")
    assert store.get("k") == "v"
    assert {"file:c.db", "file:c.db-values"} <= set(os.listdir(tmp_path))


# ---------------------------------------------------------------- file permissions


def _mode(path: str | Path) -> int:
    return os.stat(path).st_mode & 0o777


def _every_file(store: SQLiteStore) -> list[str]:
    """The database, its -wal and -shm, and the value files (after a write that makes each)."""
    store.set("small", "s")
    store.set("large", "L" * 2000)
    values = [os.path.join(store.folder, name) for name in os.listdir(store.folder)]
    return [store.path, f"{store.path}-wal", f"{store.path}-shm", *values]


@pytest.fixture
def umask() -> Iterator[Callable[[int], int]]:
    """Set the process's umask for the test; the old one comes back after it."""
    old = os.umask(0o022)
    os.umask(old)
    yield os.umask
    os.umask(old)


@pytest.mark.parametrize("mask", [0o000, 0o022, 0o077])
def test_new_files_are_the_owners_only(
    tmp_path: Path, umask: Callable[[int], int], mask: int
) -> None:
    """Database, WAL, shm and value files are 0600 and the folder 0700, whatever the umask."""
    umask(mask)
    store = SQLiteStore(tmp_path / "c.db", secret=SECRET, file_threshold=1000)
    files = _every_file(store)
    assert len(files) == 4  # one value file
    assert {path: _mode(path) for path in files} == {path: 0o600 for path in files}
    assert _mode(store.folder) == 0o700


@settings(max_examples=25, deadline=None)
@given(mode=st.integers(0, 0o777), mask=st.integers(0, 0o177))
def test_file_mode_sets_new_files_less_the_umask(mode: int, mask: int) -> None:
    """file_mode=m gives files m less the umask, and the folder m plus search where readable."""
    mode |= 0o600
    old = os.umask(mask)
    folder = tempfile.mkdtemp()
    try:
        store = SQLiteStore(os.path.join(folder, "c.db"), secret=SECRET, file_threshold=1000,
                            file_mode=mode)  # fmt: skip
        modes = {_mode(path) for path in _every_file(store)}
        store.close()
        assert modes == {mode & ~mask}
        assert _mode(store.folder) == directory_mode(mode) & ~mask
    finally:
        os.umask(old)
        shutil.rmtree(folder)


def test_an_existing_files_mode_is_kept_and_new_files_get_file_mode(tmp_path: Path) -> None:
    """A database file that exists keeps the mode its owner gave it; files made later are 0600."""
    path = tmp_path / "c.db"
    SQLiteStore(path, secret=SECRET).set(1, 1)
    os.chmod(path, 0o640)
    store = SQLiteStore(path, secret=SECRET, file_threshold=0)
    store.set(2, 2)
    (value,) = os.listdir(store.folder)
    assert (_mode(path), _mode(store.folder), _mode(Path(store.folder) / value)) == (
        0o640,
        0o700,
        0o600,
    )


@pytest.mark.parametrize(
    ("bad", "error", "words"),
    [
        pytest.param(0o400, ValueError, "owner read and write", id="read-only"),
        pytest.param(0o1600, TypeError, "permission bits", id="sticky"),
        pytest.param("600", TypeError, "permission bits", id="str"),
        pytest.param(True, TypeError, "permission bits", id="bool"),
    ],
)
def test_a_bad_file_mode_is_refused(
    tmp_path: Path, bad: Any, error: type[Exception], words: str
) -> None:
    """file_mode takes permission bits that let the owner read and write; the error names it."""
    with pytest.raises(error, match=words):
        SQLiteStore(tmp_path / "c.db", secret=SECRET, file_mode=bad)
    assert os.listdir(tmp_path) == []
