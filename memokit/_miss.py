"""What a memoized call does when its key is absent: single flight, compute, store.

The generated wrapper (:mod:`memokit._codegen`) answers hits. On a miss it
runs the lines :func:`miss_lines` writes, which call the :class:`Helpers`
of one cache:

* the first thread to miss a key *claims* it with a flight
  (:mod:`memokit._flight`) and calls the function;
* a thread that misses the key meanwhile waits for that outcome
  (``contended``) instead of calling the function again;
* the value is stored only when the call returned; an exception ends the
  flight (``fail``), reaches every waiting thread, and nothing is stored.

A store with ``get_or_compute`` (one shared beyond this process) then runs
its own single flight between processes; a coroutine function awaits one
task per key and event loop (:class:`~memokit._flight.AsyncFlightTable`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any

from memokit._codegen import Access
from memokit._flight import PENDING, RETRY, AsyncFlightTable, Failure, FlightTable
from memokit._keys import PREFIX
from memokit.stores._memory import MISSING

__all__ = ["Helpers", "miss_lines"]

p = PREFIX
Packed = tuple[tuple[Any, ...], dict[str, Any]]
# Bound at import (as functools does): a user may replace builtins with
# memoized versions, whose miss path must not call them back.
_len = len
_type = type
_getattr = getattr
_get_ident = threading.get_ident


def miss_lines(
    call: str, access: Access, *, shared: bool, is_async: bool
) -> Callable[[str], list[str]]:
    """Return the function that writes a wrapper's miss lines for a key named ``key``.

    ``call`` forwards the wrapper's arguments to the function unchanged.
    Counts are honest under single flight: ``misses`` counts computations,
    and a call answered by another's computation (or by a value stored
    since its lookup) counts as a hit. The helpers count what they do
    themselves, through the wrapper's ``tally``.
    """

    def lines(key: str) -> list[str]:
        if is_async:
            return [
                "# One task per key and event loop computes it; amiss counts a hit or a miss.",
                f"return await {p}amiss({key}, {p}pack({call}))",
            ]
        start = [
            "# Single flight: the first thread to miss a key claims it and computes.",
            f"{p}flight = [{p}ident(), {p}PENDING]",
            f"if {p}claim({key}, {p}flight) is not {p}flight:",
            "    # Another thread is computing this key: wait for its outcome (a hit).",
            f"    return {p}contended({key}, {p}pack({call}))",
        ]
        if shared:
            compute = [
                "# The store looks the key up again, runs single flight between",
                "# processes and stores the value itself (get_or_compute); shared",
                "# counts a hit or a miss.",
                "try:",
                f"    {p}value = {p}shared({key}, {p}pack({call}))",
            ]
        else:
            if access.table and not access.expiring:
                read = f"{p}table_get({key}, {p}MISSING)"
            else:
                read = f"{p}read({key})"
            write = (
                f"{p}table[{key}] = {p}value"
                if access.direct_writes
                else f"{p}put({key}, {p}value)"
            )
            compute = [
                "# Another thread may have stored the value since our lookup.",
                f"{p}value = {read}",
                f"if {p}value is {p}MISSING:",
                f"    {p}misses += 1",
                "    try:",
                f"        {p}value = {p}function({call})",
                f"        {write}",
            ]
        fail = [
            f"except BaseException as {p}error:",
            f"    {p}fail({key}, {p}flight, {p}error)",
            "    raise",
        ]
        if not shared:
            fail = ["    " + line for line in fail] + ["else:", f"    {p}hits += 1"]
        return [
            *start,
            *compute,
            *fail,
            "# Publish, retire, then wake the waiters: the order memokit._flight relies on.",
            f"{p}flight[1] = {p}value",
            f"{p}retire({key}, None)",
            f"if {p}len({p}flight) > 2:  # not len(): a parameter may be named so",
            f"    {p}wake({p}flight)",
            f"return {p}value",
        ]

    return lines


def _pack(*args: Any, **kwargs: Any) -> Packed:
    return args, kwargs


_DEEP = (
    "memoize: every memoized call is a Python frame, so a recursion deeper than the "
    "recursion limit fails; @dp (memokit.dp) runs such a recursion on its own stack"
)


def _explain_recursion(exc: BaseException) -> None:
    """Add a note pointing to @dp to a RecursionError passing through (once)."""
    if _type(exc) is RecursionError and _DEEP not in _getattr(exc, "__notes__", ()):
        exc.add_note(_DEEP)


class Helpers:
    """The miss path's helpers for one cache of ``function`` over a store.

    ``read(key)`` and ``write(key, value)`` reach the store with keys as the
    wrapper has them (canonical for a store's table); ``shared_compute`` is a
    store's ``get_or_compute``, if it has one. ``tally(hits, misses)`` is the
    wrapper's, set once the wrapper exists (:meth:`names` reads it then).
    """

    def __init__(
        self,
        function: Callable[..., Any],
        read: Callable[[Hashable], Any],
        write: Callable[[Hashable, Any], object],
        shared_compute: Callable[[Hashable, Callable[[], Any]], Any] | None,
        label: Callable[[Hashable], str],
    ) -> None:
        self.function = function
        self.read = read
        self.write = write
        self.shared_compute = shared_compute
        self.label = label
        self.table = FlightTable()
        self.async_table = AsyncFlightTable()
        self.tally: Callable[[int, int], None] = _no_tally

    def shared(self, key: Hashable, packed: Packed) -> Any:
        """Run the store's ``get_or_compute`` for ``key``; count whether it computed."""
        args, kwargs = packed
        function = self.function
        computed = False

        def compute() -> Any:
            nonlocal computed
            computed = True
            self.tally(0, 1)
            return function(*args, **kwargs)

        assert self.shared_compute is not None
        value = self.shared_compute(key, compute)
        if not computed:
            self.tally(1, 0)
        return value

    def compute_and_store(self, key: Hashable, packed: Packed) -> Any:
        """Compute the value for ``key`` (counted as a miss) and store it."""
        if self.shared_compute is not None:
            return self.shared(key, packed)
        args, kwargs = packed
        self.tally(0, 1)
        value = self.function(*args, **kwargs)
        self.write(key, value)
        return value

    def contended(self, key: Hashable, packed: Packed) -> Any:
        """Wait for the thread computing ``key``, or claim it if its flight ended first."""
        args, kwargs = packed
        table = self.table
        function = self.function

        computed = False

        def direct() -> Any:
            nonlocal computed
            computed = True
            self.tally(0, 1)  # a computation, as plain recursion would make
            return function(*args, **kwargs)

        while True:
            outcome = table.join(key, direct)
            if outcome is not RETRY:
                if not computed:
                    self.tally(1, 0)  # another thread's value
                return outcome
            value = self.read(key)
            if value is not MISSING:
                self.tally(1, 0)
                return value
            flight = [_get_ident(), PENDING]
            if table.flights.setdefault(key, flight) is flight:
                break
        try:
            value = self.compute_and_store(key, packed)
        except BaseException as exc:
            table.end(key, flight, Failure(exc))
            raise
        table.end(key, flight, value)
        return value

    def fail(self, key: Hashable, flight: list[Any], exc: BaseException) -> None:
        """End ``key``'s flight with the computation's exception."""
        _explain_recursion(exc)
        self.table.end(key, flight, Failure(exc))

    async def amiss(self, key: Hashable, packed: Packed) -> Any:
        """A coroutine function's miss: one task per key and event loop, counted honestly."""
        args, kwargs = packed
        function = self.function
        write = self.write

        async def compute() -> Any:
            value = await function(*args, **kwargs)
            write(key, value)  # only reached on success: errors are never cached
            return value

        def starting() -> None:
            self.tally(0, 1)  # counted as it starts: a computation that fails is a miss too

        value, started = await self.async_table.run(
            key, compute, self.read, MISSING, self.label, starting
        )
        if not started:
            self.tally(1, 0)
        return value

    def names(self, is_async: bool) -> dict[str, Any]:
        """The names the miss lines read."""
        flights = self.table.flights
        return {
            f"{p}function": self.function,
            f"{p}ident": _get_ident,
            f"{p}PENDING": PENDING,
            f"{p}claim": flights.setdefault,
            f"{p}retire": flights.pop,
            f"{p}wake": self.table.wake,
            f"{p}len": _len,
            f"{p}pack": _pack,
            f"{p}contended": self.contended,
            f"{p}fail": self.fail,
            f"{p}shared": self.shared if self.shared_compute is not None else None,
            f"{p}amiss": self.amiss if is_async else None,
        }


def _no_tally(hits: int, misses: int) -> None:
    raise RuntimeError("memoize: a miss helper ran before its wrapper was made")
