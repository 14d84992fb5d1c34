"""What a memoized call does when its key is absent: single flight, compute, store.

The generated wrapper (:mod:`memokit._codegen`) answers hits. On a miss it
runs the lines :func:`miss_lines` writes, which call the helpers
:func:`miss_helpers` makes for one cache:

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
from memokit.stores._memory import MISSING, Store

__all__ = ["miss_helpers", "miss_lines"]

p = PREFIX
Packed = tuple[tuple[Any, ...], dict[str, Any]]


def miss_lines(
    call: str, access: Access, *, shared: bool, is_async: bool
) -> Callable[[str], list[str]]:
    """Return the function that writes a wrapper's miss lines for a key named ``key``.

    ``call`` forwards the wrapper's arguments to the function unchanged.
    """

    def lines(key: str) -> list[str]:
        start = [f"{p}misses += 1"]
        if is_async:
            return [*start, f"return await {p}amiss({key}, {p}pack({call}))"]
        start += [
            "# Single flight: the first thread to miss a key claims it and computes.",
            f"{p}flight = [{p}ident(), {p}PENDING]",
            f"if {p}claim({key}, {p}flight) is not {p}flight:",
            "    # Another thread is computing this key: wait for its outcome.",
            f"    return {p}contended({key}, {p}pack({call}))",
        ]
        if shared:
            compute = [
                "# The store looks the key up again, runs single flight between",
                "# processes and stores the value itself (get_or_compute).",
                "try:",
                f"    {p}value = {p}shared({key}, {p}pack({call}))",
            ]
        else:
            read = f"{p}table_get({key}, {p}MISSING)" if access.table else f"{p}store_get({key})"
            write = (
                f"{p}table[{key}] = {p}value"
                if access.direct_writes
                else f"{p}store_set({key}, {p}value)"
            )
            compute = [
                "# Another thread may have stored the value since our lookup.",
                f"{p}value = {read}",
                f"if {p}value is {p}MISSING:",
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
            fail = ["    " + line for line in fail]
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


def miss_helpers(
    function: Callable[..., Any], store: Store[Any], *, is_async: bool
) -> dict[str, Any]:
    """Return the names the miss lines read, for one cache of ``function`` over ``store``."""
    table = FlightTable()
    flights = table.flights
    store_get = store.get
    get_or_compute = getattr(store, "get_or_compute", None)
    shared = None
    if callable(get_or_compute):

        def shared(key: Hashable, packed: Packed) -> Any:
            args, kwargs = packed
            return get_or_compute(key, lambda: function(*args, **kwargs))

    def compute_and_store(key: Hashable, packed: Packed) -> Any:
        if shared is not None:
            return shared(key, packed)
        args, kwargs = packed
        value = function(*args, **kwargs)
        store.set(key, value)
        return value

    def contended(key: Hashable, packed: Packed) -> Any:
        # Another thread owns this key: wait for its outcome, or claim the key
        # ourselves if its flight ended before we could join it.
        args, kwargs = packed
        while True:
            outcome = table.join(key, lambda: function(*args, **kwargs))
            if outcome is not RETRY:
                return outcome
            value = store_get(key)
            if value is not MISSING:
                return value
            flight = [threading.get_ident(), PENDING]
            if flights.setdefault(key, flight) is flight:
                break
        try:
            value = compute_and_store(key, packed)
        except BaseException as exc:
            table.end(key, flight, Failure(exc))
            raise
        table.end(key, flight, value)
        return value

    def fail(key: Hashable, flight: list[Any], exc: BaseException) -> None:
        table.end(key, flight, Failure(exc))

    amiss = None
    if is_async:
        async_table = AsyncFlightTable()

        async def amiss(key: Hashable, packed: Packed) -> Any:
            args, kwargs = packed

            async def compute() -> Any:
                value = await function(*args, **kwargs)
                store.set(key, value)  # only reached on success: errors are never cached
                return value

            return await async_table.run(key, compute, store_get, MISSING)

    return {
        f"{p}function": function,
        f"{p}ident": threading.get_ident,
        f"{p}PENDING": PENDING,
        f"{p}claim": flights.setdefault,
        f"{p}retire": flights.pop,
        f"{p}wake": table.wake,
        f"{p}len": len,
        f"{p}pack": _pack,
        f"{p}contended": contended,
        f"{p}fail": fail,
        f"{p}shared": shared,
        f"{p}amiss": amiss,
    }
