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
    """:class:`CacheInfo` plus the number of entries evicted to respect ``maxsize``."""

    hits: int
    misses: int
    maxsize: int | None
    currsize: int
    evictions: int
