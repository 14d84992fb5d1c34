"""Exceptions raised by memokit's engines."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["CycleError"]


class CycleError(RuntimeError):
    """A sub-problem depends on itself, so it has no value to compute.

    ``path`` holds the cycle's keys (for a ``DagEvaluator`` keyed by identity,
    its nodes) from the first occurrence of the repeated one around to the
    repeat, so ``path[0] == path[-1]``.

    >>> err = CycleError([1, 2, 1])
    >>> err.path
    (1, 2, 1)
    >>> print(err)
    a sub-problem depends on itself: 1 -> 2 -> 1
    """

    path: tuple[object, ...]

    def __init__(self, path: Iterable[object], message: str | None = None) -> None:
        self.path = tuple(path)
        if message is None:
            message = "a sub-problem depends on itself: " + " -> ".join(map(repr, self.path))
        super().__init__(message)

    def __reduce__(self) -> tuple[type[CycleError], tuple[tuple[object, ...], str]]:
        return (type(self), (self.path, str(self)))
