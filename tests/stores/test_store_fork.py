"""SQLiteStore across os.fork: a child forked at any moment works, and so does its parent.

Children are made by tests/helpers/store_worker.py's ``fork_child``: each
reports through a pipe, is killed if it has not finished within its
timeout (so a hang fails the test instead of hanging the suite), and
Python 3.12+'s warning about forking a process with threads is expected
exactly when other threads run.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from memokit import SQLiteStore
from memokit.stores._sqlite import _fork
from tests.helpers.store_worker import SECRET, connection, fork_child, is_open


class BusyWriter:
    """A thread that writes through the store as fast as it can until stopped."""

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store
        self.writes = 0
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            n = self.writes
            try:
                # Every fourth value is large enough for a file of its own.
                self.store.set(("parent", n % 40), b"p" * (2000 if n % 4 == 0 else 10))
            except BaseException as exc:  # reported by stop()
                self.errors.append(exc)
                return
            self.writes += 1

    def __enter__(self) -> BusyWriter:
        self._thread.start()
        while self.writes < 5 and not self.errors:  # writing for real before the first fork
            time.sleep(0.001)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(30)
        assert not self._thread.is_alive(), "the parent's writer hung"
        assert self.errors == []


def test_children_forked_while_a_parent_thread_writes_all_succeed(tmp_path: Path) -> None:
    """Eight children forked at random moments of a busy writer each store and read five entries."""
    path = tmp_path / "c.db"
    store = SQLiteStore(path, serializer="bytes", file_threshold=1000, timeout=5).bind("m:f")

    def child(i: int) -> list[bool]:
        for j in range(5):
            store.set(("child", i, j), f"{i}-{j}".encode() * (300 if j % 2 else 1))
        return [store.get(("child", i, j)) is not None for j in range(5)]

    with BusyWriter(store) as writer:
        children = []
        for i in range(8):
            time.sleep(0.005 * (i % 3))
            children.append(fork_child(lambda i=i: child(i)))  # type: ignore[misc]
        reports = [c.result(timeout=60) for c in children]
    assert reports == [[True] * 5] * 8
    assert writer.writes > 5
    for i in range(8):
        for j in range(5):
            assert store.get(("child", i, j)) == f"{i}-{j}".encode() * (300 if j % 2 else 1)
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_a_fork_closes_the_parents_connections_and_each_side_opens_its_own(
    tmp_path: Path,
) -> None:
    """At a fork the parent's connections close; parent and child then each open a new one."""
    store = SQLiteStore(tmp_path / "c.db", secret=SECRET).bind("m:f")
    store.set(1, "from parent")
    before = connection(store)

    def child() -> dict[str, Any]:
        store.set(2, "from child")
        return {
            "inherited open": is_open(before),
            "new": connection(store) is not before,
            "reads": store.get(1),
        }

    report = fork_child(child).result()
    assert report == {"inherited open": False, "new": True, "reads": "from parent"}
    assert not is_open(before)
    assert store.get(2) == "from child"
    assert connection(store) is not before


def test_a_childs_writes_survive_the_parent_closing_the_store(tmp_path: Path) -> None:
    """A child keeps writing to the file while its parent closes its last connection."""
    path = tmp_path / "c.db"
    store = SQLiteStore(path, serializer="json").bind("m:f")
    store.set("parent", 1)
    wrote, closed = os.pipe(), os.pipe()

    def child() -> None:
        store.set("before", 2)
        os.write(wrote[1], b"x")
        os.read(closed[0], 1)  # the parent has closed its connection meanwhile
        store.set("after", 3)

    forked = fork_child(child)
    assert os.read(wrote[0], 1) == b"x"
    store.close()
    os.write(closed[1], b"x")
    forked.result()
    for fd in (*wrote, *closed):
        os.close(fd)
    again = SQLiteStore(path, serializer="json").bind("m:f")
    assert [again.get(k) for k in ("parent", "before", "after")] == [1, 2, 3]


def test_a_lock_held_by_another_parent_thread_does_not_block_the_child(tmp_path: Path) -> None:
    """A child counts evictions though another parent thread held the counts' lock at the fork."""
    store = SQLiteStore(tmp_path / "c.db", secret=SECRET, maxsize=1).bind("m:f")
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with store._shared.lock:
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(10)
    try:

        def child() -> int:
            store.set(1, "one")
            store.set(2, "two")  # evicts 1, counted under the lock
            return store.evictions

        assert fork_child(child).result(timeout=30) == 1
    finally:
        release.set()
        holder.join(10)


def test_a_fork_waits_for_a_call_in_progress_in_another_thread(tmp_path: Path) -> None:
    """A fork during another thread's call waits for it to end, then the child works."""
    store = SQLiteStore(tmp_path / "c.db", secret=SECRET).bind("m:f")
    store.set(1, "one")
    inside, ended = threading.Event(), threading.Event()

    def call() -> None:
        with store._db.session() as conn:  # as a call does, from its first statement to its last
            inside.set()
            time.sleep(0.3)
            conn.execute("SELECT 1")
        ended.set()

    caller = threading.Thread(target=call)
    caller.start()
    assert inside.wait(10)
    forked = fork_child(lambda: store.get(1))
    assert ended.is_set()  # the fork began only once the call was over
    assert forked.result(timeout=30) == "one"
    caller.join(10)


def test_a_child_forked_while_a_call_outlasts_the_wait_refuses_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A call still running after the fork's wait leaves the child an error, not a hang."""
    monkeypatch.setattr(_fork, "_GRACE", 0.2)
    store = SQLiteStore(tmp_path / "c.db", secret=SECRET, timeout=0.1).bind("m:f")
    store.set(1, "one")
    inside, release = threading.Event(), threading.Event()

    def stuck() -> None:
        with store._db.session():
            inside.set()
            release.wait(30)

    caller = threading.Thread(target=stuck)
    caller.start()
    assert inside.wait(10)
    try:

        def child() -> str:
            try:
                store.get(1)
            except RuntimeError as exc:
                return str(exc)
            return "no error"

        message = fork_child(child).result(timeout=30)
    finally:
        release.set()
        caller.join(10)
    assert "forked while another thread was inside an SQLite call" in message
    assert "'spawn'" in message
    assert store.get(1) == "one"  # the parent is unaffected
