"""The kinds of node the gradient engine differentiates, and what one backward pass returns.

The engine in :mod:`memokit.autodiff._grad` needs three things of a node:
its ``inputs``, one local derivative per input (``local_grads``) and a
creation number (``serial``). Everything else that depends on the kind of
node (a scalar :class:`~memokit.autodiff.Value` or an array
:class:`~memokit.autodiff.Tensor`) is in a :class:`NodeKind`: the adjoint
of the loss itself (the number 1, or an array of ones), the checks a loss
must pass, how a target's gradient is handed back, and the type of the
result. ``Value`` is registered here; the Tensor module registers itself
when it is imported, so the engine never imports NumPy. The checks of
``grad``'s arguments (the loss, ``wrt=``, ``memo=``) are here too, since
what is valid depends on the kind.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from memokit.autodiff._value import Value
from memokit.stores._memory import Store

__all__ = [
    "Backward",
    "BackwardBase",
    "Memo",
    "NodeKind",
    "check_loss",
    "check_used",
    "check_wrt_types",
    "kind_of",
    "memo_store",
    "register_kind",
]

N = TypeVar("N")
G = TypeVar("G")


@dataclass(frozen=True)
class BackwardBase(Generic[N, G]):
    """The gradients one backward pass produced, and what they cost."""

    #: The nodes the gradients are for, in the order asked.
    wrt: tuple[N, ...]
    #: ∂loss/∂node for each node of ``wrt``.
    gradients: tuple[G, ...]
    #: How the adjoints were stored: "dict", "none", "lru(k)" or "store(TypeName)".
    memo: str
    #: The order they were computed in: "top-down" or "bottom-up" (see ``backward``).
    schedule: str
    #: Terms adj(c) · ∂c/∂n evaluated (one per consumer edge per computation).
    local_derivative_evaluations: int
    #: Adjoints computed (a node computed twice counts twice).
    computations: int
    #: Lookups of an adjoint that found it in the memo (bottom-up: every lookup).
    hits: int
    #: Computations of an adjoint that had been computed before and dropped.
    recomputations: int
    #: Adjoints the memo dropped to respect its bound.
    evictions: int
    #: Adjoints held in the memo at the end.
    memo_size: int
    #: Nodes in the graph the loss depends on (the loss included).
    graph_size: int

    def __getitem__(self, node: N) -> G:
        """Return the gradient for ``node`` (which must be in ``wrt``)."""
        for candidate, g in zip(self.wrt, self.gradients, strict=True):
            if candidate is node:
                return g
        raise KeyError(f"{node!r} is not among the nodes this backward pass was asked for")


@dataclass(frozen=True)
class Backward(BackwardBase[Value, float]):
    """The gradients of a backward pass over :class:`Value` nodes, and what they cost."""


@dataclass(frozen=True)
class NodeKind:
    """What the engine needs to know about one type of node besides its edges."""

    #: The node class (subclasses belong to the same kind).
    node_type: type
    #: adj(L) for a loss of this kind: 1 in the loss's own shape.
    seed: Callable[[Any], Any]
    #: Raises (a clear TypeError or ValueError) if this node cannot be a loss.
    check_loss: Callable[[Any], None]
    #: The gradients handed back: (targets, their adjoints, None for an unused one).
    finish: Callable[[Sequence[Any], Sequence[Any]], tuple[Any, ...]]
    #: The class of the result (a :class:`BackwardBase` subclass).
    result: type[BackwardBase[Any, Any]]


def _no_check(loss: object) -> None:
    """A scalar Value is always a valid loss."""


_KINDS: dict[type, NodeKind] = {
    Value: NodeKind(
        node_type=Value,
        seed=lambda loss: 1.0,
        check_loss=_no_check,
        finish=lambda targets, adjoints: tuple(0.0 if g is None else g for g in adjoints),
        result=Backward,
    )
}


def register_kind(kind: NodeKind) -> None:
    """Teach the engine a new type of node (the Tensor module calls this when imported)."""
    _KINDS[kind.node_type] = kind


def kind_of(node: object) -> NodeKind | None:
    """The kind ``node`` belongs to (its class's or a base class's), or None."""
    kind = _KINDS.get(type(node))
    if kind is not None:
        return kind
    for base in type(node).__mro__[1:]:
        kind = _KINDS.get(base)
        if kind is not None:
            return kind
    return None


# ---------------------------------------------------------------- checks of grad's arguments


#: What ``memo=`` takes: keep every adjoint, none, the k most recent, or a store of your own.
Memo = bool | int | Store[Any]


def memo_store(memo: object) -> tuple[str, Store[Any] | None, int | None]:
    """(label, store, maxsize) for DagEvaluator from a ``memo=`` argument."""
    if memo is True:
        return "dict", None, None
    if memo is False:
        return "none", None, 0
    if isinstance(memo, int) and not isinstance(memo, bool) and memo > 0:
        return f"lru({memo})", None, memo
    if isinstance(memo, Store):
        return f"store({type(memo).__name__})", memo, None
    raise ValueError(
        f"memo= takes True (keep every adjoint), False (keep none: the naive sum over "
        f"paths), a positive int k (keep the k most recently used) or a memokit Store "
        f"(entries keyed by node), got {memo!r}"
    )


def check_loss(loss: object) -> NodeKind:
    """The kind of node ``loss`` is, once it is known to be a valid loss."""
    kind = kind_of(loss)
    if kind is not None:
        kind.check_loss(loss)
        return kind
    if isinstance(loss, Iterable) and not isinstance(loss, str | bytes):
        items = list(loss)
        raise TypeError(
            f"the loss must be one scalar Value (or Tensor), got a {type(loss).__name__} of "
            f"{len(items)} items: combine them into one first (e.g. their sum)"
        )
    raise TypeError(
        f"the loss must be a scalar Value (or a Tensor holding one number), "
        f"got {type(loss).__name__} {loss!r}"
    )


def check_wrt_types(wrt: Sequence[Any], kind: NodeKind) -> list[Any]:
    name = kind.node_type.__name__
    if kind_of(wrt) is not None:
        raise TypeError(f"wrt= takes a sequence of {name}s: write wrt=[x] for one node")
    nodes = list(wrt)
    for i, node in enumerate(nodes):
        if not isinstance(node, kind.node_type):
            raise TypeError(
                f"wrt[{i}] is a {type(node).__name__}, not a {name} (the loss is a {name})"
            )
    return nodes


def check_used(wrt: list[Any], graph: Container[Any]) -> None:
    for i, node in enumerate(wrt):
        if node not in graph:
            raise ValueError(
                f"wrt[{i}] ({node!r}) is not part of the loss's graph: the loss does not "
                f"depend on it (was it built in another computation?). Pass "
                f"allow_unused=True to get a zero gradient for such nodes."
            )
