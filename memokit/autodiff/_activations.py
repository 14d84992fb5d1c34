"""Checkpointing as a bounded forward memo: activations kept in a store, recomputed when evicted.

A backward pass needs forward values: tanh's VJP needs its output, a
product's VJP its inputs. Ordinarily every node keeps its value (and its
VJPs keep what they need) until the graph is dropped: the full table of
activations, so memory grows with depth. But the forward values are
themselves a DP over the graph's *inputs*,

    value(n) = op(n)(value(x) for x in inputs(n)),

so they can live in a memo table keyed by node, like the adjoints. Give
that table a bound and it forgets some activations; when backward needs
one again, it is recomputed from its inputs by memoized recursion (a
:class:`memokit.DagEvaluator`), down to the nearest one still stored or to
the leaves, which always keep their values. That is gradient checkpointing:
memory for recomputation, with the recomputations counted.

The Tensors built inside ``with Activations(...)`` keep their values (and
their VJPs, with the arrays those hold) in the table instead of on
themselves. An entry is one node's ``(value, VJPs)``: what its operation
returns.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from memokit._dag import DagEvaluator, DagStats
from memokit.autodiff._tensor import Tensor, next_serial, recording
from memokit.autodiff._tensor_checks import constant
from memokit.autodiff._tensor_ops import VJP, Array, Op
from memokit.stores._memory import Store

__all__ = ["Activations"]


class Activations:
    """A memo table of forward values for the Tensors built while it is active.

    ``maxsize=None`` keeps every activation (the full table); ``maxsize=k``
    keeps the k most recently used (an LRU store) and recomputes the rest
    from their inputs when a VJP needs them; ``store=`` takes any memokit
    store. ``stats()`` counts computations (the forward pass included),
    hits, evictions and recomputations. Recording is per thread (and per
    asyncio task); a table, like the graph it holds, serves one at a time.

    >>> import numpy as np
    >>> from memokit.autodiff import Tensor, grad
    >>> x = Tensor(np.full(3, 0.5))
    >>> table = Activations(maxsize=2)
    >>> with table:
    ...     h = x
    ...     for _ in range(6):
    ...         h = h.tanh()
    ...     loss = h.sum()
    >>> grad(loss, [x])[0].round(6)   # Π (1 - tanh²) along the chain
    array([0.344311, 0.344311, 0.344311])
    >>> table.stats().recomputations  # 7 nodes, 2 kept: the chain recomputed up to 5, 3, 1
    9
    """

    def __init__(self, maxsize: int | None = None, *, store: Store[Any] | None = None) -> None:
        if maxsize is not None and (isinstance(maxsize, bool) or not isinstance(maxsize, int)):
            raise TypeError(f"maxsize= takes a positive int or None, got {maxsize!r}")
        if maxsize is not None and maxsize < 1:
            raise ValueError(
                f"maxsize= must be at least 1 (an activation is needed to compute the next), "
                f"got {maxsize}"
            )
        self._evaluator: DagEvaluator[Tensor, tuple[Array, tuple[VJP, ...]]] = DagEvaluator(
            inputs=self._recorded_inputs, compute=_run, maxsize=maxsize, store=store
        )
        self._tokens: list[Any] = []

    def __enter__(self) -> Activations:
        self._tokens.append(recording.set(self))
        return self

    def __exit__(self, *exc_info: object) -> None:
        recording.reset(self._tokens.pop())

    def __repr__(self) -> str:
        return f"Activations({self._evaluator.stats()})"

    def stats(self) -> DagStats:
        """Computations (forward and recomputed), hits, evictions, recomputations, entries held."""
        return self._evaluator.stats()

    # -------------------------------------------------- what Tensor and backward call

    def record(self, op: Op, operands: tuple[Any, ...], params: tuple[Any, ...]) -> Tensor:
        """Make the node ``op(*operands, *params)``, its value kept in this table."""
        node = _Recorded.__new__(_Recorded)
        node.table = self
        node.op = op
        node.operands = tuple(x if isinstance(x, Tensor) else constant(x) for x in operands)
        node.inputs = tuple(x for x in node.operands if isinstance(x, Tensor))
        node.params = params
        node.label = ""
        value = self._evaluator.evaluate(node)[0]  # the forward computation itself
        node.value_shape = value.shape
        node.value_dtype = value.dtype
        node.serial = next_serial()
        return node

    def entry(self, node: Tensor) -> tuple[Array, tuple[VJP, ...]]:
        """``node``'s (value, VJPs): from the table, or recomputed from its inputs."""
        return self._evaluator.evaluate(node)

    def _recorded_inputs(self, node: Tensor) -> list[Tensor]:
        # Values of other nodes (leaves, nodes of another table) are read
        # from them: only this table's own nodes are sub-problems here.
        return [x for x in node.inputs if isinstance(x, _Recorded) and x.table is self]


def _run(node: Tensor, input_entries: list[tuple[Array, tuple[VJP, ...]]]) -> Any:
    """Run ``node``'s operation on its operands' values: (value, VJPs of its Tensor operands)."""
    entries = iter(input_entries)
    table = getattr(node, "table", None)
    args = []
    for x in node.operands:
        if isinstance(x, _Recorded) and x.table is table:
            args.append(next(entries)[0])
        elif isinstance(x, Tensor):
            args.append(x.data)
        else:
            args.append(x)
    assert node.op is not None
    value, vjps = node.op(*args, *node.params)
    if type(value) is not np.ndarray:
        value = np.asarray(value)
    kept = tuple(v for x, v in zip(node.operands, vjps, strict=True) if isinstance(x, Tensor))
    return value, kept


class _Recorded(Tensor):
    """A node whose value and VJPs live in an :class:`Activations` table."""

    __slots__ = ("table", "value_dtype", "value_shape")

    table: Activations
    value_shape: tuple[int, ...]
    value_dtype: np.dtype[Any]

    @property
    def data(self) -> Array:
        return self.table.entry(self)[0]

    @data.setter
    def data(self, value: Array) -> None:
        raise AttributeError(
            "this Tensor's value lives in its Activations table (recomputed when evicted): "
            "it cannot be assigned"
        )

    @property
    def local_grads(self) -> tuple[VJP, ...]:
        # Fetched when applied, not now: holding the VJPs would hold the
        # arrays they keep, and the table could not bound them.
        return tuple(_Deferred(self, i) for i in range(len(self.inputs)))

    @local_grads.setter
    def local_grads(self, value: tuple[VJP, ...]) -> None:
        raise AttributeError("this Tensor's VJPs live in its Activations table")

    @property
    def shape(self) -> tuple[int, ...]:
        return self.value_shape

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.value_dtype


class _Deferred(VJP):
    """The VJP of input ``i`` of a recorded node, looked up in its table when applied."""

    __slots__ = ("index", "node")

    def __init__(self, node: _Recorded, index: int) -> None:
        self.node = node
        self.index = index

    def __rmul__(self, g: Any) -> Any:
        return g * self.node.table.entry(self.node)[1][self.index]

