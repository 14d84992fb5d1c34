"""Leases: how processes that share a store compute each missing key once.

A process that misses a key takes a *lease* on it in the shared store (a row
in SQLite, a ``SET NX PX`` key in Redis) before computing; the others see
the lease and wait for the value instead of computing it too. A lease
carries an expiry time, so a process killed while computing (SIGKILL, a
lost machine) blocks the others for at most ``lock_ttl`` seconds: then one
of them takes the lease over. While its owner is alive, a background thread
renews the lease every ``lock_ttl / 3`` seconds, so a long computation keeps
it. A computation that raises gives its lease up at once.

This module holds what the stores share: the renewing thread and the
waiting schedule. Each store supplies the few operations on its own data.
"""

from __future__ import annotations

import itertools
import os
import random
import threading
import time
from collections.abc import Callable, Iterator

__all__ = ["KEEPER", "LeaseKeeper", "new_token", "wait_delays"]

# Seconds the renewing thread waits with no lease to renew before it ends.
_IDLE_EXIT = 2.0


def new_token() -> str:
    """Return a fresh lease owner token (unique across processes and machines)."""
    return f"{os.getpid()}-{os.urandom(12).hex()}"


def wait_delays(first: float = 0.002, cap: float = 0.05) -> Iterator[float]:
    """Yield sleep times for a waiter polling a lease: doubling from ``first`` to ``cap``, jittered.

    >>> delays = wait_delays(0.01, 0.04)
    >>> all(0.005 <= next(delays) <= 0.04 for _ in range(10))
    True
    """
    delay = first
    while True:
        yield delay * random.uniform(0.5, 1.0)
        delay = min(delay * 2, cap)


class _Held:
    __slots__ = ("at", "period", "renew")

    def __init__(self, at: float, period: float, renew: Callable[[], object]) -> None:
        self.at = at
        self.period = period
        self.renew = renew


class LeaseKeeper:
    """One daemon thread that renews every lease this process holds, each on its own period.

    The thread starts with the first lease, sleeps until the next renewal is
    due, and ends after two seconds without leases. A renewal that fails
    (the store is busy or down) is retried at the next period; if the lease
    lapses meanwhile, another process may compute the same key too, which
    wastes work but returns the same result.
    """

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._held: dict[int, _Held] = {}
        self._thread: threading.Thread | None = None
        self._handles = itertools.count()

    def hold(self, renew: Callable[[], object], period: float) -> int:
        """Call ``renew()`` every ``period`` seconds until :meth:`drop`; return a handle."""
        handle = next(self._handles)
        with self._cond:
            self._held[handle] = _Held(time.monotonic() + period, period, renew)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="memokit-lease-keeper", daemon=True
                )
                self._thread.start()
            else:
                self._cond.notify()
        return handle

    def drop(self, handle: int) -> None:
        """Stop renewing the lease behind ``handle``."""
        with self._cond:
            self._held.pop(handle, None)

    def _run(self) -> None:
        idle_since: float | None = None
        while True:
            due: list[Callable[[], object]] = []
            with self._cond:
                now = time.monotonic()
                if not self._held:
                    # Linger a little (misses often come in runs), then end,
                    # so that an idle process has no extra thread to fork with.
                    idle_since = now if idle_since is None else idle_since
                    if now - idle_since >= _IDLE_EXIT:
                        self._thread = None
                        return
                    self._cond.wait(_IDLE_EXIT)
                    continue
                idle_since = None
                wake = now + 3600.0
                for held in self._held.values():
                    if held.at <= now:
                        held.at = now + held.period
                        due.append(held.renew)
                    wake = min(wake, held.at)
                if not due:
                    self._cond.wait(wake - now)
                    continue
            for renew in due:
                try:
                    renew()
                except Exception:
                    pass  # retried at the next period (see the class docstring)


#: The process's lease keeper, shared by every store.
KEEPER = LeaseKeeper()
# A forked child has no keeper thread, and the parent's lock may have been
# held at the fork: start from a clean keeper (the child holds no lease).
os.register_at_fork(after_in_child=KEEPER._reset)
