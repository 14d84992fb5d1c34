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

What backward needs is less than every value. Each built-in operation
says what its VJPs read (:data:`~memokit.autodiff._tensor_ops.READS`):
tanh's its output, ``h @ W``'s the two inputs, ``+`` nothing but shapes. So
the table keeps values, not VJPs; applying a node's VJP asks the table for
the values that VJP reads, and only those, then rebuilds it (the operation,
called with its value known, only builds VJPs; stand-ins of the right
shape fill the places it does not read). A value that no VJP reads, such
as the output of ``h @ W`` that ``+ b`` consumes, is needed again only to
recompute its consumers: when recursion recomputes it, it is handed on and
not stored, so the store's places go to the values backward asks for. A
custom operation (``Tensor.apply``) declares nothing: its entry keeps the
VJPs it made, with whatever they hold.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import numpy as np

from memokit._dag import DagEvaluator, DagStats
from memokit.autodiff._tensor import Tensor, next_serial, recording
from memokit.autodiff._tensor_checks import constant
from memokit.autodiff._tensor_ops import OUTPUT, READS, VJP, Array, Op
from memokit.stores._memory import DictStore, LRUStore, Store

__all__ = ["Activations"]

#: A table entry: a node's value, and its VJPs if its operation declares no READS.
Entry = tuple[Array, tuple[VJP, ...] | None]


class Activations:
    """A memo table of forward values for the Tensors built while it is active.

    ``maxsize=None`` keeps every activation (the full table); ``maxsize=k``
    keeps the k most recently used (an LRU store) and recomputes the rest
    from their inputs when a VJP needs them; ``store=`` takes any memokit
    store, for instance :class:`~memokit.autodiff.Checkpoints`, a
    checkpoint schedule. Only values some VJP reads are stored when
    recomputed (see the module notes). ``stats()`` counts computations (the
    forward pass included), hits, evictions and recomputations. Recording
    is per thread (and per asyncio task); a table, like the graph it holds,
    serves one at a time.

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
        if store is None and maxsize is not None:
            store = LRUStore(maxsize)
        #: The node being recorded: its value is stored whether or not a VJP reads it
        #: yet, since consumers that read it may follow.
        self._fresh: Tensor | None = None
        self._kept = _ReadValues(self, store)
        self._evaluator: DagEvaluator[Tensor, Entry] = DagEvaluator(
            inputs=self._recorded_inputs, compute=_run, store=self._kept
        )
        self._tokens: list[Any] = []
        # Arrays of one shape and dtype that hold no data, for values a VJP does not read.
        self._stand_ins: dict[tuple[tuple[int, ...], np.dtype[Any]], Array] = {}

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
        # Numbered before it is stored: a store may place it by its serial.
        node.serial = next_serial()
        reads = READS.get(op)
        node.read = True  # its VJPs live in its entry, so backward reads it
        if reads is not None:
            wanted = [r for x, r in zip(node.operands, reads, strict=True) if isinstance(x, Tensor)]
            node.read = any(OUTPUT in r for r in wanted)
            for position in {p for r in wanted for p in r if p != OUTPUT}:
                x = node.operands[position]
                if isinstance(x, _Recorded):
                    x.read = True
        self._fresh = node
        try:
            value = self._evaluator.evaluate(node)[0]  # the forward computation itself
        finally:
            self._fresh = None
        node.value_shape = value.shape
        node.value_dtype = value.dtype
        return node

    def entry(self, node: Tensor) -> Entry:
        """``node``'s (value, VJPs or None): from the table, or recomputed from its inputs."""
        return self._evaluator.evaluate(node)

    def vjp(self, node: _Recorded, index: int, position: int) -> VJP:
        """The VJP of ``node``'s input ``index`` (operand ``position``), from what it reads only."""
        op = node.op
        assert op is not None
        reads = READS.get(op)
        if reads is None:
            kept = self.entry(node)[1]
            assert kept is not None
            return kept[index]
        operands = node.operands
        wanted = reads[position]
        args = [
            self._read(x) if i in wanted or not isinstance(x, _Recorded) else self._stand_in(x)
            for i, x in enumerate(operands)
        ]
        out = self.entry(node)[0] if OUTPUT in wanted else self._stand_in(node)
        vjp: VJP = op(*args, *node.params, value=out)[1][position]
        return vjp

    def _read(self, x: Any) -> Any:
        """An operand's value: a recorded node's from its table, a leaf's, or a constant."""
        return x.data if isinstance(x, Tensor) else x

    def _stand_in(self, node: _Recorded) -> Array:
        key = (node.value_shape, node.value_dtype)
        found = self._stand_ins.get(key)
        if found is None:
            found = self._stand_ins[key] = np.broadcast_to(np.zeros((), node.value_dtype), key[0])
        return found

    def _recorded_inputs(self, node: Tensor) -> list[Tensor]:
        # Values of other nodes (leaves, nodes of another table) are read
        # from them: only this table's own nodes are sub-problems here.
        return [x for x in node.inputs if isinstance(x, _Recorded) and x.table is self]


def _run(node: Tensor, input_entries: list[Entry]) -> Entry:
    """Run ``node``'s operation on its operands' values: (value, VJPs if it declares no READS)."""
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
    op = node.op
    assert op is not None
    value, vjps = op(*args, *node.params)
    if type(value) is not np.ndarray:
        value = np.asarray(value)
    if op in READS:
        return value, None
    kept = tuple(v for x, v in zip(node.operands, vjps, strict=True) if isinstance(x, Tensor))
    return value, kept


class _ReadValues:
    """The table's view of its store: a recomputed value is stored only if a VJP reads it.

    A node's own value is always stored when it is recorded (consumers that
    read it may still come); after that, recursion that recomputes it on the
    way to another node hands it on and keeps it only if backward reads it.
    """

    __slots__ = ("_store", "_table", "get")

    def __init__(self, table: Activations, store: Store[Any] | None) -> None:
        self._table = table
        self._store: Store[Any] = store if store is not None else DictStore()
        #: Reads go straight to the store (the evaluator's hot path: no extra call).
        self.get: Callable[[Hashable], Any] = self._store.get

    @property
    def maxsize(self) -> int | None:
        return self._store.maxsize

    @property
    def evictions(self) -> int:
        return self._store.evictions

    def set(self, key: Hashable, value: Any) -> None:
        if getattr(key, "read", True) or key is self._table._fresh:
            self._store.set(key, value)

    def delete(self, key: Hashable) -> bool:
        return self._store.delete(key)

    def clear(self) -> None:
        self._store.clear()

    def __len__(self) -> int:
        return len(self._store)


class _Recorded(Tensor):
    """A node whose value lives in an :class:`Activations` table."""

    __slots__ = ("read", "table", "value_dtype", "value_shape")

    table: Activations
    value_shape: tuple[int, ...]
    value_dtype: np.dtype[Any]
    #: Whether a VJP (its own or a consumer's) reads its value.
    read: bool

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
        # Built when applied, not now: holding the VJPs would hold the
        # arrays they keep, and the table could not bound them.
        positions = [i for i, x in enumerate(self.operands) if isinstance(x, Tensor)]
        return tuple(_Deferred(self, i, p) for i, p in enumerate(positions))

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
    """The VJP of input ``index`` (operand ``position``) of a recorded node, built when applied."""

    __slots__ = ("index", "node", "position")

    def __init__(self, node: _Recorded, index: int, position: int) -> None:
        self.node = node
        self.index = index
        self.position = position

    def __rmul__(self, g: Any) -> Any:
        return g * self.node.table.vjp(self.node, self.index, self.position)
