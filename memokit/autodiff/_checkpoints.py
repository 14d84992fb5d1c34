"""``Checkpoints``: a checkpoint schedule for an activation table, written as a store.

Chen et al. (2016) keep the activation of every s-th layer of an n-layer
chain and, during backward, recompute one segment at a time from the
checkpoint below it, holding that segment's activations while backward
walks down it: about n/s + s activations for about one extra forward pass,
least at s ≈ √n. As a memo policy that is two parts: a table of pinned
entries, every s-th node by creation order, never evicted; and an LRU of
the most recently used others, large enough for one segment.

It stores the entries of an :class:`~memokit.autodiff.Activations` table,
whose keys are Tensor nodes; it places each by the node's creation number
(``serial``), counted from the first node it is given.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, Literal, TypeVar

from memokit.stores._memory import MISSING, LRUStore, Missing

__all__ = ["Checkpoints"]

V = TypeVar("V")


class Checkpoints(Generic[V]):
    """Keep every ``every``-th node's activation for good, and the ``recent`` most recent others.

    A store for :class:`~memokit.autodiff.Activations` (``store=``) that
    follows Chen et al.'s checkpoint schedule: when backward needs an
    evicted activation, the table recomputes it from the nearest pinned one
    below, and the LRU part keeps what that recomputation stored while
    backward walks down the segment. ``recent`` (``every`` by default)
    should hold the values that one segment's VJPs read, at most
    ``every``: fewer, and a segment is recomputed more than once.

    >>> import numpy as np
    >>> from memokit.autodiff import Activations, Tensor, grad
    >>> x = Tensor(np.full(3, 0.5))
    >>> table = Activations(store=Checkpoints(4))
    >>> with table:
    ...     h = x
    ...     for _ in range(16):
    ...         h = h.tanh()
    ...     loss = h.sum()
    >>> grad(loss, [x])[0].round(6)
    array([0.137882, 0.137882, 0.137882])
    >>> stats = table.stats()   # 17 nodes, 5 pinned: each segment below the top recomputed once
    >>> stats.recomputations, stats.currsize
    (8, 9)
    """

    __slots__ = ("_every", "_origin", "_pinned", "_recent")

    def __init__(self, every: int, recent: int | None = None) -> None:
        for name, n in (("every", every), ("recent", recent)):
            if n is None and name == "recent":
                continue
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise ValueError(f"Checkpoints({name}=...) takes a positive int, got {n!r}")
        self._every = every
        self._pinned: dict[Hashable, V] = {}
        self._recent: LRUStore[V] = LRUStore(every if recent is None else recent)
        self._origin: int | None = None

    @property
    def maxsize(self) -> None:
        """No bound on the count: the pinned entries grow with the graph (one per ``every``)."""
        return None

    @property
    def evictions(self) -> int:
        """How many entries the LRU part dropped (pinned ones never are)."""
        return self._recent.evictions

    @property
    def pinned(self) -> int:
        """How many checkpoints (pinned entries) are held."""
        return len(self._pinned)

    def get(self, key: Hashable) -> V | Literal[Missing.MISSING]:
        """Return the entry under ``key``, pinned or recent, or :data:`~memokit.MISSING`."""
        found = self._pinned.get(key, MISSING)
        return self._recent.get(key) if found is MISSING else found

    def set(self, key: Hashable, value: V) -> None:
        """Pin the entry of every ``every``-th node by creation order; keep the others as recent."""
        serial = getattr(key, "serial", None)
        if not isinstance(serial, int):
            raise TypeError(
                f"Checkpoints places Tensor nodes by their creation number (serial); it is "
                f"a store for Activations(store=...), got a key of type {type(key).__name__}"
            )
        if self._origin is None:
            self._origin = serial
        if (serial - self._origin) % self._every == 0:
            self._pinned[key] = value
        else:
            self._recent.set(key, value)

    def delete(self, key: Hashable) -> bool:
        """Forget ``key``; return whether it was held."""
        return self._pinned.pop(key, MISSING) is not MISSING or self._recent.delete(key)

    def clear(self) -> None:
        """Forget every entry (the next node given counts from zero again)."""
        self._pinned.clear()
        self._recent.clear()
        self._origin = None

    def __len__(self) -> int:
        return len(self._pinned) + len(self._recent)

    def __repr__(self) -> str:
        return (
            f"Checkpoints(every={self._every}, recent={self._recent.maxsize}, "
            f"<{len(self._pinned)} pinned, {len(self._recent)} recent>)"
        )
