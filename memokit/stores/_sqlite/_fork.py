"""Forks: SQLite's state never crosses a fork, whatever the parent's other threads are doing.

A child that inherits a connection another thread was using (inside a
transaction, or inside an SQLite call) may find the file locked for ever,
or hang on a mutex that thread held. Even idle inherited connections do
harm: SQLite tracks the file locks of a process in memory, so the child
believes it holds locks that it does not (a process's locks are not
inherited), and another process may then checkpoint and delete the WAL
while the child is using it.

So before ``os.fork`` the forking thread takes every slot's lock, which
waits until no thread is inside a session (at most the lock ``timeout``
plus :data:`_GRACE` seconds), and closes every connection. The child starts
with no connection and no slot; the parent's threads, and the child's,
open new connections when next used. A database whose sessions did not end
in time refuses to work in the child, with an error that says why, rather
than risk it. Locks the child would copy held are replaced there (each
module makes its own new ones; see also :mod:`memokit.stores._persistent`
and :mod:`memokit.stores._leases`).
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from memokit.stores._sqlite._database import Database, Slot

__all__ = ["track"]

# Besides the lock timeout, how long a fork waits for other threads' sessions.
_GRACE = 5.0

_DATABASES: weakref.WeakSet[Database] = weakref.WeakSet()
# Held from before a fork to after it, so that no finalizer closes a
# connection while the process is copied. Reentrant: a collection in the
# forking thread, during the wait, may run a finalizer there.
_LOCK = threading.RLock()
# What the forking thread holds across the fork: registries and slot locks.
_HELD: list[threading.Lock] = []
# Databases whose sessions did not end in time, at the fork under way.
_BUSY: list[Database] = []
# A child keeps the parent's slots here, for good: it must never close the
# connection of a session that was in progress at the fork.
_INHERITED: list[list[Slot]] = []


def track(db: Database) -> None:
    """Close ``db``'s connections at forks, and when it is collected or the interpreter exits."""
    _DATABASES.add(db)
    weakref.finalize(db, _close_slots, db.slots)  # the list, changed in place: not the database


def _close_slots(slots: list[Slot]) -> None:
    with _LOCK:
        for slot in slots:
            # A daemon thread may still be inside a call at exit: its
            # connection is then left to the operating system.
            if slot.lock.acquire(timeout=1.0):
                try:
                    slot.close()
                finally:
                    slot.lock.release()


def _before_fork() -> None:
    _LOCK.acquire()
    me = threading.current_thread()
    databases = list(_DATABASES)
    wait = max((db.timeout for db in databases), default=0.0) + _GRACE
    deadline = time.monotonic() + wait
    for db in databases:
        if not db.registry.acquire(timeout=max(0.0, deadline - time.monotonic())):
            _BUSY.append(db)
            continue
        _HELD.append(db.registry)
        for slot in db.slots:
            # The forking thread's own slot is free unless the fork comes
            # from inside its session (a signal handler): never wait for it.
            timeout = 0.0 if slot.thread is me else max(0.0, deadline - time.monotonic())
            if slot.lock.acquire(timeout=timeout):
                _HELD.append(slot.lock)
                slot.close()
            else:
                _BUSY.append(db)


def _after_fork_in_parent() -> None:
    for lock in reversed(_HELD):
        lock.release()
    _HELD.clear()
    _BUSY.clear()
    _LOCK.release()


def _after_fork_in_child() -> None:
    global _LOCK
    _LOCK = threading.RLock()
    for db in list(_DATABASES):
        _INHERITED.append(db.slots[:])
        db.slots.clear()
        db.registry = threading.Lock()
        db.local = threading.local()
        if db in _BUSY:
            db.unusable = (
                f"SQLiteStore({db.path!r}) cannot be used in this process: it was forked while "
                f"another thread was inside an SQLite call on this file for more than "
                f"{db.timeout + _GRACE:g} seconds, so SQLite's state here may be "
                f"inconsistent. Fork when no other thread is inside a call on the store, or "
                f"start processes with multiprocessing's 'spawn' or 'forkserver' method"
            )
    _HELD.clear()
    _BUSY.clear()


os.register_at_fork(
    before=_before_fork,
    after_in_parent=_after_fork_in_parent,
    after_in_child=_after_fork_in_child,
)
