"""SQLiteStore across processes and faults: the file, the lease, SIGKILL, fork.

The Store contract and the persistent-store contract run on SQLiteStore in
tests/test_stores.py; this file holds what needs real processes or the file
itself. Computations are counted through the workers' O_APPEND log
(tests/_store_worker.py).
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import time
import warnings
from collections import Counter
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from _store_worker import SECRET, computations, finish, run_together, spawn, wait_for

from memokit import MISSING, SQLiteStore

# ---------------------------------------------------------------- the file


def test_file_is_in_wal_mode_and_has_the_schema(tmp_path: Path) -> None:
    """A new file is in WAL mode, with memokit's tables and schema version 1."""
    path = tmp_path / "c.db"
    SQLiteStore(path, secret=SECRET).set(1, 1)
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"memokit_entries", "memokit_values", "memokit_namespaces", "memokit_leases"} <= tables


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


def test_hits_on_the_newest_entry_do_not_write(tmp_path: Path) -> None:
    """A bounded store refreshes recency on a hit only when the entry is not already newest."""
    store = SQLiteStore(tmp_path / "c.db", secret=SECRET, maxsize=10)
    store.set("old", 1)
    store.set("new", 2)
    conn = store._db.connect()
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
    conn = store._db.connect()
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
    conn = store._db.connect()
    before = conn.total_changes
    assert [store.get(n) for n in (0, 1, 2, 0)] == [0, 1, 2, 0]
    assert conn.total_changes == before


# ---------------------------------------------------------------- across processes


def _config(path: Path, log: Path, keys: list[int], **extra: Any) -> dict[str, Any]:
    return {"action": "call", "store": "sqlite", "location": str(path), "log": str(log)} | {
        "keys": keys,
        **extra,
    }


def test_entries_persist_from_one_process_to_the_next(tmp_path: Path) -> None:
    """What one process computed, a later process (another hash seed) reads without computing."""
    path, log = tmp_path / "c.db", tmp_path / "log"
    first = finish(spawn(_config(path, log, [1, 2, 3]), hash_seed=1))
    second = finish(spawn(_config(path, log, [3, 2, 1, 4]), hash_seed=2))
    assert first == {"1": 1, "2": 4, "3": 9}
    assert second == {"3": 9, "2": 4, "1": 1, "4": 16}
    assert [n for _, n, _ in computations(log)] == [1, 2, 3, 4]


def test_four_processes_compute_each_key_once(tmp_path: Path) -> None:
    """Four processes missing the same twelve keys at once compute each key exactly once."""
    path, log = tmp_path / "c.db", tmp_path / "log"
    SQLiteStore(path, secret=SECRET)  # create the file before the race
    keys = list(range(12))
    configs = []
    for seed in range(4):
        order = keys[:]
        random.Random(seed).shuffle(order)
        configs.append(_config(path, log, order, sleep=0.05))
    outputs = run_together(configs, tmp_path)
    for output in outputs:
        assert output == {str(n): n * n for n in keys}
    counts = Counter(n for _, n, _ in computations(log))
    assert counts == Counter(keys), counts
    assert len({pid for pid, _, _ in computations(log)}) > 1  # the work was shared


def test_a_killed_computer_is_taken_over_after_lock_ttl(tmp_path: Path) -> None:
    """A process SIGKILLed while computing is taken over by a waiter once its lease lapses."""
    path, log = tmp_path / "c.db", tmp_path / "log"
    lock_ttl = 1.0
    owner = spawn(_config(path, log, [7], hang=True, lock_ttl=lock_ttl))
    wait_for(lambda: len(computations(log)) == 1)
    waiter = spawn(_config(path, log, [7], lock_ttl=lock_ttl))
    time.sleep(1.5)  # > lock_ttl: the owner's renewals keep its lease meanwhile
    assert len(computations(log)) == 1
    owner.send_signal(signal.SIGKILL)
    killed_at = time.time()
    owner.wait(10)
    assert finish(waiter) == {"7": 49}
    (pid_a, _, _), (pid_b, n, started) = computations(log)
    assert (pid_a, pid_b, n) == (owner.pid, waiter.pid, 7)
    assert killed_at < started < killed_at + lock_ttl + 10


def test_a_long_computation_keeps_its_lease(tmp_path: Path) -> None:
    """A computation lasting several lock_ttl is renewed, so a waiting process does not redo it."""
    path, log = tmp_path / "c.db", tmp_path / "log"
    owner = spawn(_config(path, log, [3], sleep=2.0, lock_ttl=0.5))
    wait_for(lambda: len(computations(log)) == 1)
    waiter = spawn(_config(path, log, [3], lock_ttl=0.5))
    assert finish(owner) == {"3": 9}
    assert finish(waiter) == {"3": 9}
    assert [pid for pid, _, _ in computations(log)] == [owner.pid]


def test_a_failed_computation_releases_its_lease_at_once(tmp_path: Path) -> None:
    """A process whose computation raises stores nothing and frees the key at once."""
    path, log = tmp_path / "c.db", tmp_path / "log"
    failing = spawn(_config(path, log, [5], sleep=1.0, fail=True))
    wait_for(lambda: len(computations(log)) == 1)
    waiter = spawn(_config(path, log, [5]))  # lock_ttl 30 s: it must not wait that long
    assert finish(failing) == {"5": "error: work(5) failed on purpose"}
    failed_at = time.time()
    assert finish(waiter) == {"5": 25}
    (pid_a, _, _), (pid_b, _, started) = computations(log)
    assert (pid_a, pid_b) == (failing.pid, waiter.pid)
    assert started < failed_at + 10


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
        store = SQLiteStore(path, secret=SECRET)
        found = {}
        for n in range(rows + 10):
            value = store.get(n)
            if value is not MISSING:
                found[n] = value
        assert set(written) <= set(found)
        assert len(found) == rows  # every row decodes and verifies
        for n, value in found.items():
            assert value == bytes([n % 256]) * (256 * 1024)
        assert store.rejected == 0


def test_a_forked_child_opens_its_own_connection(tmp_path: Path) -> None:
    """After os.fork the child reads and writes through new connections; the parent's still work."""
    store = SQLiteStore(tmp_path / "c.db", secret=SECRET).bind("m:f")
    store.set(1, "from parent")
    parent_conn = store._db.connect()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork with threads alive
        pid = os.fork()
    if pid == 0:  # the child: report by exit status only
        ok = store._db.connect() is not parent_conn and store.get(1) == "from parent"
        store.set(2, "from child")
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert store.get(2) == "from child"
    assert store._db.connect() is parent_conn
