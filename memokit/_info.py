"""Statistics records returned by the engines."""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["CacheInfo", "CacheStats"]


class CacheInfo(NamedTuple):
    """Hits, misses, bound and size: the same fields as ``functools`` reports."""

    hits: int
    misses: int
    maxsize: int | None
    currsize: int


class CacheStats(NamedTuple):
    """:class:`CacheInfo` plus the entries dropped: evicted for room, or expired.

    ``hits`` counts calls answered without computing (from the store, or
    from another caller's computation of the same key), ``misses`` the
    computations. ``currsize`` is in the units of ``maxsize``: entries, or
    with ``sizeof=`` their total weight.
    """

    hits: int
    misses: int
    maxsize: int | None
    currsize: int
    evictions: int
    expirations: int = 0
