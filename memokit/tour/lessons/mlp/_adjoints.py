"""The shared adjoint, counted: how often backward() computes each node's ∂L/∂node."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from memokit import DictStore, LRUStore, Store
from memokit.autodiff import Backward, Value, backward
from memokit.tour.lessons.mlp._network import Network

__all__ = ["AdjointCounts", "SharedAdjoint", "count_adjoints", "shared_adjoint"]


class _CountingStore:
    """A memo for backward() that counts how often each node's adjoint is stored in it.

    The engine stores every adjoint it computes (a memo that keeps nothing is
    still handed each one), so the count per node is how often adj(node) was
    computed. Everything else goes to the store it wraps.
    """

    def __init__(self, inner: Store[Any]) -> None:
        self.inner = inner
        #: Adjoints stored, by ``id(node)``.
        self.stored: Counter[int] = Counter()

    @property
    def maxsize(self) -> int | None:
        """The wrapped store's bound."""
        return self.inner.maxsize

    @property
    def evictions(self) -> int:
        """The wrapped store's evictions."""
        return self.inner.evictions

    def get(self, key: Hashable) -> Any:
        """Look ``key`` up in the wrapped store."""
        return self.inner.get(key)

    def set(self, key: Hashable, value: Any) -> None:
        """Count one more adjoint for the node ``key``, then store it."""
        self.stored[id(key)] += 1
        self.inner.set(key, value)

    def delete(self, key: Hashable) -> bool:
        """Forget ``key`` in the wrapped store."""
        return self.inner.delete(key)

    def clear(self) -> None:
        """Empty the wrapped store."""
        self.inner.clear()

    def __len__(self) -> int:
        return len(self.inner)


@dataclass(frozen=True)
class AdjointCounts:
    """How often each named node's adjoint ∂L/∂node was computed in one backward pass."""

    #: "dict" (memo=True), "none" (memo=False) or "lru(k)".
    memo: str
    #: Times adj(node) was computed, for every named node (0 if never).
    per_node: dict[str, int]
    #: Adjoints computed in all (named or not).
    computations: int
    #: Terms adj(c) · ∂c/∂n evaluated.
    evaluations: int
    #: The gradients, in ``wrt`` order.
    gradients: tuple[float, ...]
    #: backward() run with the same ``memo`` on the same graph, for comparison.
    reference: Backward

    @property
    def agrees(self) -> bool:
        """Whether the counted run's totals and gradients equal a plain backward()'s."""
        r = self.reference
        return (
            self.computations == r.computations
            and self.evaluations == r.local_derivative_evaluations
            and self.gradients == r.gradients
        )


def count_adjoints(
    loss: Value, wrt: Sequence[Value], names: dict[int, str], memo: bool | int = True
) -> AdjointCounts:
    """Run backward() with a memo that counts, per node, how often its adjoint was computed.

    The memo keeps what ``memo=`` would (all, none, or the k most recent);
    backward() is also run plainly so the totals can be compared. Both run
    top-down, the memoized recursion this lesson is about (a store given as
    ``memo=`` always does; for memo=True the bottom-up sweep would find every
    adjoint in its table, so its hits would count every lookup instead).
    """
    maxsize = None if memo is True else (0 if memo is False else int(memo))
    counting = _CountingStore(DictStore() if maxsize is None else LRUStore(maxsize))
    counted = backward(loss, wrt, memo=counting)
    reference = backward(loss, wrt, memo=memo, schedule="top-down")
    return AdjointCounts(
        memo=reference.memo,
        per_node={name: counting.stored[i] for i, name in names.items()},
        computations=counted.computations,
        evaluations=counted.local_derivative_evaluations,
        gradients=counted.gradients,
        reference=reference,
    )


@dataclass(frozen=True)
class SharedAdjoint:
    """The seed network's backward pass for every parameter, naive and memoized, counted."""

    net: Network
    naive: AdjointCounts
    memoized: AdjointCounts


def shared_adjoint(net: Network) -> SharedAdjoint:
    """Count per-node adjoint computations for ∂L/∂(every parameter), memo=False and memo=True."""
    wrt = list(net.params.values())
    names = net.names()
    return SharedAdjoint(
        net,
        count_adjoints(net.loss, wrt, names, memo=False),
        count_adjoints(net.loss, wrt, names, memo=True),
    )
