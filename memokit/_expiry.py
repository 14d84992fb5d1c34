"""Expiry and weight for the in-memory stores: when an entry's time is up, what it weighs.

An expiring store keeps each value with its deadline, ``(value, deadline)``,
so that a lookup reads both with one hash of the key. :class:`Expiry` holds
what the store needs besides: the ``ttl`` (seconds, or a function of the
value), the clock, the count of expired entries dropped, and a heap of
deadlines, so that every entry whose time has passed can be dropped before
an insertion in O(log n) each, without a background thread and without
scanning the table.
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeAlias, cast

__all__ = ["Expiry", "Seconds", "check_clock", "check_ttl", "check_weight"]

#: A ``ttl=`` option: seconds, or a function of the value that returns seconds (or ``None``).
Seconds: TypeAlias = "float | Callable[[Any], float | None]"

_INF = math.inf
# Bound at import (as functools does): a store's call path must not reach a
# builtin that user code has replaced with a memoized one.
_len = len
_next = next
_callable = callable
_isinstance = isinstance
_heappush = heapq.heappush
_heappop = heapq.heappop
_isfinite = math.isfinite


def _seconds(value: object) -> float | None:
    """``value`` as a float if it is a real number (not a bool, not NaN), else ``None``."""
    if _isinstance(value, bool) or not _isinstance(value, int | float) or value != value:
        return None
    return float(cast(float, value))


def check_ttl(owner: str, ttl: object) -> Seconds | None:
    """Return a ``ttl=`` option if it is a number of seconds > 0, a function, or ``None``.

    >>> check_ttl("memoize", 0)
    Traceback (most recent call last):
    ValueError: memoize(ttl=...) takes a number of seconds > 0 (or a function of the
    result that returns seconds), got 0
    """
    if ttl is None or callable(ttl):
        return ttl
    seconds = _seconds(ttl)
    if seconds is None or not seconds > 0:
        kind = ValueError if seconds is not None else TypeError
        raise kind(
            f"{owner}(ttl=...) takes a number of seconds > 0 (or a function of the result "
            f"that returns seconds), got {ttl!r}"
        )
    return seconds


def check_clock(owner: str, clock: object, ttl: object) -> Callable[[], float] | None:
    """Return a ``clock=`` option if it is a function (given with ``ttl=``) or ``None``."""
    if clock is None:
        return None
    if not callable(clock):
        raise TypeError(
            f"{owner}(clock=...) takes a function that returns the time in seconds "
            f"(such as time.monotonic), got {type(clock).__name__}"
        )
    if ttl is None:
        raise TypeError(f"{owner}(clock=...) times expiry, so it needs ttl= too")
    return clock


def check_weight(weight: object) -> float:
    """Return what a ``sizeof=`` function returned if it is a finite number >= 0, else raise."""
    number = _seconds(weight)
    if number is None or not number >= 0 or not _isfinite(number):
        raise (ValueError if number is not None else TypeError)(
            f"the sizeof= function returned {weight!r}: it must return a finite number "
            f">= 0, the value's weight in the units of maxsize"
        )
    return cast(float, weight)  # as given: int weights keep currsize an int


class Expiry:
    """The expiry state of one store: its ttl and clock, dropped count, and deadlines."""

    __slots__ = ("_heap", "_order", "clock", "count", "seconds", "ttl")

    def __init__(self, ttl: Seconds, clock: Callable[[], float]) -> None:
        self.ttl = ttl
        #: The ttl when it is the same for every value (the usual case), else None.
        self.seconds: float | None = None if callable(ttl) else ttl
        self.clock = clock
        #: How many entries were dropped because their time had passed.
        self.count = 0
        # (deadline, sequence, key) of every entry that can expire; items of
        # entries replaced or removed since are skipped when they come up.
        self._heap: list[tuple[float, int, Hashable]] = []
        self._order = itertools.count()

    @classmethod
    def make(cls, owner: str, ttl: object, clock: object) -> Expiry | None:
        """Check a store's ``ttl=`` and ``clock=`` options; ``None`` when entries never expire."""
        checked = check_ttl(owner, ttl)
        timer = check_clock(owner, clock, ttl)
        if checked is None:
            return None
        return cls(checked, time.monotonic if timer is None else timer)

    def deadline(self, value: Any, now: float) -> float:
        """When an entry of ``value`` stored ``now`` expires (infinity: never)."""
        ttl = self.ttl
        if not _callable(ttl):
            return now + ttl
        seconds = ttl(value)
        if seconds is None:
            return _INF
        checked = _seconds(seconds)
        if checked is None:
            raise TypeError(
                f"the ttl= function returned {seconds!r}: it must return a number of "
                f"seconds, or None for a result that never expires"
            )
        return now + checked

    def dead(self, entry: tuple[Any, float], *, count: bool = False) -> bool:
        """Whether a ``(value, deadline)`` entry has expired (with ``count``: count it if so)."""
        expired = not entry[1] > self.clock()
        if expired and count:
            self.count += 1
        return expired

    def admit(
        self,
        table: dict[Hashable, Any],
        key: Hashable,
        entry: tuple[Any, float],
        now: float,
        drop: Callable[[Hashable], None],
    ) -> None:
        """Drop what has expired at ``now``, then store ``entry`` under ``key`` (the lock held)."""
        heap = self._heap
        if heap and heap[0][0] <= now:
            self.reclaim(table, now, drop)
        table[key] = entry
        deadline = entry[1]
        if deadline != _INF:
            # With one ttl for every value this is the largest deadline yet:
            # the push compares it with one parent and stops.
            _heappush(heap, (deadline, _next(self._order), key))
            if _len(heap) > 2 * _len(table) + 64:
                self._compact(table)

    def schedule(self, key: Hashable, deadline: float, table: dict[Hashable, Any]) -> None:
        """Remember that the entry under ``key`` expires at ``deadline`` (the store's lock held)."""
        if deadline == _INF:
            return
        heap = self._heap
        _heappush(heap, (deadline, _next(self._order), key))
        if _len(heap) > 2 * _len(table) + 64:
            self._compact(table)

    def _compact(self, table: dict[Hashable, Any]) -> None:
        # The heap holds mostly items of entries gone since: rebuild it from the live ones.
        heap = self._heap
        heap[:] = [(e[1], _next(self._order), k) for k, e in table.items() if e[1] != _INF]
        heapq.heapify(heap)

    def reclaim(
        self, table: dict[Hashable, Any], now: float, drop: Callable[[Hashable], None]
    ) -> None:
        """Drop (with ``drop(key)``) every entry of ``table`` expired at ``now``; count them."""
        heap = self._heap
        while heap and heap[0][0] <= now:
            deadline, _, key = _heappop(heap)
            entry = table.get(key)
            if entry is not None and entry[1] == deadline:
                drop(key)
                self.count += 1

    def forget(self) -> None:
        """Forget every deadline (the store was cleared)."""
        self._heap.clear()

    def describe(self) -> str:
        """The ttl as a store's repr shows it."""
        ttl = self.ttl
        return f"{ttl:g}" if not callable(ttl) else getattr(ttl, "__qualname__", repr(ttl))
