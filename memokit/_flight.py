"""Single-flight: concurrent misses of one key run the function once.

The first thread to miss a key becomes its *owner* and computes; threads that
miss the same key meanwhile wait for the owner's outcome (its value, or its
exception) instead of computing again. Nothing here takes a lock on the
owner's path when nobody waits, so an uncontended miss stays cheap.

A flight is a list ``[owner_thread_id, outcome, *waiter_locks]``. The owner
publishes the outcome *before* reading the waiter locks, and a waiter appends
its lock *before* reading the outcome; under the GIL each step is atomic, so
either the owner sees the waiter's lock and releases it, or the waiter sees
the outcome and does not block.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable, Coroutine, Hashable
from typing import Any

__all__ = ["PENDING", "RETRY", "AsyncFlightTable", "Failure", "FlightTable"]


class _Pending:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<pending>"


PENDING: Any = _Pending()
#: Returned by :meth:`FlightTable.join` when the flight ended before we could
#: join it: look in the store again and, if still absent, claim the key.
RETRY: Any = object()


class Failure:
    """The outcome of a flight whose computation raised."""

    __slots__ = ("exc",)

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


# thread id -> the flight that thread is blocked on. Shared by every table so
# that a wait-for cycle across functions is seen (it can only come from a
# recursion that would never end on one thread; we then compute instead of
# deadlocking, which gives the same behaviour as plain recursion).
_WAITING: dict[int, list[Any]] = {}
_get_ident = threading.get_ident
_allocate_lock = threading.Lock


def _waits_on_me(owner: int, me: int) -> bool:
    seen: set[int] = set()
    thread = owner
    while thread not in seen:
        if thread == me:
            return True
        seen.add(thread)
        flight = _WAITING.get(thread)
        if flight is None:
            return False
        thread = flight[0]
    return False


class FlightTable:
    """The in-progress computations of one cache, keyed like the cache."""

    __slots__ = ("flights",)

    def __init__(self) -> None:
        #: key -> flight; an owner claims a key with ``flights.setdefault``.
        self.flights: dict[Hashable, list[Any]] = {}

    def end(self, key: Hashable, flight: list[Any], outcome: Any) -> None:
        """Publish the owner's outcome, retire the flight and wake its waiters."""
        flight[1] = outcome
        if self.flights.get(key) is flight:
            del self.flights[key]
        self.wake(flight)

    @staticmethod
    def wake(flight: list[Any]) -> None:
        """Release every thread waiting on ``flight`` (its outcome is already set)."""
        for lock in flight[2:]:
            lock.release()

    def join(self, key: Hashable, direct: Callable[[], Any]) -> Any:
        """Wait for the flight on ``key`` and return its value (or raise its exception).

        Returns :data:`RETRY` if the flight has already ended. If waiting
        could never end (the owner is this thread, or waits on it, as in a
        recursion that calls itself with the same arguments), ``direct()`` is
        returned instead, just as plain recursion would have computed it.
        """
        flight = self.flights.get(key)
        if flight is None:
            return RETRY
        me = _get_ident()
        # Register as waiting *before* looking for a cycle: of two threads
        # closing one at the same moment, the later then sees it (checking
        # first let both miss it and wait on each other forever).
        _WAITING[me] = flight
        try:
            cycle = _waits_on_me(flight[0], me)
            if not cycle:
                lock = _allocate_lock()
                lock.acquire()
                flight.append(lock)
                if flight[1] is PENDING:
                    lock.acquire()
        finally:
            del _WAITING[me]
        if cycle:
            return direct()
        outcome = flight[1]
        if type(outcome) is Failure:
            raise outcome.exc
        return outcome


class _AsyncFlight:
    __slots__ = ("label", "loop", "task", "waiters")

    def __init__(
        self, loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any], label: str
    ) -> None:
        self.loop = loop
        self.task = task
        self.label = label
        self.waiters = 0


# task -> the flight it is awaiting, across every table: a chain of tasks each
# awaiting a flight whose task awaits the next is how a cycle (f awaits g
# awaits f, or f awaits itself) is seen before it would hang.
_AWAITING: dict[asyncio.Task[Any], _AsyncFlight] = {}


def _cycle(flight: _AsyncFlight, me: asyncio.Task[Any] | None) -> list[str] | None:
    """The labels around the cycle awaiting ``flight`` from task ``me`` would close, if any."""
    labels = [flight.label]
    task: asyncio.Task[Any] | None = flight.task
    seen: set[int] = set()
    while task is not None and id(task) not in seen:
        if task is me:
            return labels
        seen.add(id(task))
        waited = _AWAITING.get(task)
        if waited is None:
            return None
        labels.append(waited.label)
        task = waited.task
    return None


class AsyncFlightTable:
    """Single-flight for coroutine functions: one task per key and event loop.

    The computation runs as its own task; every caller awaits it through
    :func:`asyncio.shield`, so cancelling one caller never cancels the work
    the others wait for. When the last caller is cancelled the task is
    cancelled too, and its entry removed: nothing is left behind. A flight
    belongs to the loop that started it; a call from another loop (a later
    ``asyncio.run``, another thread) starts its own. A computation that would
    await its own result (directly, or through other memoized coroutines)
    gets a ``RecursionError`` instead of waiting for ever.
    """

    __slots__ = ("flights",)

    def __init__(self) -> None:
        self.flights: dict[Hashable, _AsyncFlight] = {}

    async def run(
        self,
        key: Hashable,
        compute: Callable[[], Coroutine[Any, Any, Any]],
        peek: Callable[[Hashable], Any],
        missing: Any,
        label: Callable[[Hashable], str],
        starting: Callable[[], None],
    ) -> tuple[Any, bool]:
        """Await the flight for ``key``, starting it with ``compute()`` if none is running.

        Returns the value and whether this call started the computation
        (``starting()`` is called as it does). ``peek(key)`` looks the key up
        in the store, ``missing`` if absent; ``label(key)`` names the call in
        messages (such as ``f(1)``).
        """
        loop = asyncio.get_running_loop()
        flights = self.flights
        flight = flights.get(key)
        started = False
        if flight is None or flight.loop is not loop or flight.task.done():
            # A flight may have finished between the caller's lookup and now.
            value = peek(key)
            if value is not missing:
                return value, False
            flight = _AsyncFlight(loop, loop.create_task(compute()), label(key))
            flights[key] = flight
            flight.task.add_done_callback(functools.partial(_retire, flights, key, flight))
            started = True
            starting()
        me = asyncio.current_task()
        cycle = _cycle(flight, me)
        if cycle is not None:
            chain = " -> ".join([*cycle, cycle[0]])
            raise RecursionError(
                f"{flight.label} awaits its own result ({chain}): the computation would wait "
                f"for itself for ever. Without @memoize these calls would recurse without end."
            )
        flight.waiters += 1
        if me is not None:
            _AWAITING[me] = flight
        try:
            return await asyncio.shield(flight.task), started
        except asyncio.CancelledError:
            if not flight.task.done() and flight.waiters == 1:
                flight.task.cancel()  # the last caller gave up: so does the work
            raise
        finally:
            flight.waiters -= 1
            if me is not None:
                _AWAITING.pop(me, None)


def _retire(
    flights: dict[Hashable, _AsyncFlight], key: Hashable, flight: _AsyncFlight, task: Any
) -> None:
    if flights.get(key) is flight:
        del flights[key]
    if not task.cancelled():
        task.exception()  # mark it retrieved: callers got it; don't log it as lost
