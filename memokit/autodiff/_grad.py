"""Reverse-mode gradients as memoized recursion over consumers.

The adjoint of a node is the derivative of the loss with respect to it:

    adj(L) = 1
    adj(n) = Σ_{c ∈ consumers(n)} adj(c) · ∂c/∂n

For a scalar node (:class:`~memokit.autodiff.Value`) ∂c/∂n is a number and
``·`` a product. For an array node (:class:`~memokit.autodiff.Tensor`) it
is the Jacobian of c's operation, never built: ``adj(c) · ∂c/∂n`` is the
vector-Jacobian product, which each operation supplies as a function (a
``VJP``), so the same line of code computes both.

That is a recursive function of the node, so it is evaluated by the same
engines as every other DP in memokit, walking *consumers* instead of inputs,
and memoized by node identity. There are two orders to evaluate it in
(``schedule=``): top-down, as memoized recursion from each target up to the
loss (:class:`memokit.DagEvaluator`), computing only what is asked; or
bottom-up, as one sweep that fills the whole table consumers first
(``memokit._sweep``), which is the default for ``memo=True`` because it is
cheaper. The store decides what kind of
backpropagation you get:

* a dict (``memo=True``): each adjoint computed once, the usual backprop;
* nothing (``memo=False``): every adjoint recomputed each time it is needed,
  which is the naive sum over all paths, exponential in depth;
* an LRU store of size k (``memo=k``): at most k adjoints kept, the rest
  recomputed when needed again, like gradient checkpointing;
* any memokit store (``memo=store``): the adjoints go where you say, keyed by
  node, for instance to watch what is stored.

All give the same numbers; :func:`backward` reports what each cost.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, cast, overload

from memokit._core import scalar_sweep
from memokit._dag import DagEvaluator, DagStats
from memokit._sweep import Sweep, sweep_consumers
from memokit.autodiff._kinds import (
    Backward,
    Memo,
    NodeKind,
    check_loss,
    check_used,
    check_wrt_types,
    memo_store,
)
from memokit.autodiff._value import Value
from memokit.stores._memory import Store

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from memokit.autodiff._tensor import Tensor
    from memokit.autodiff._tensor_grads import TensorBackward

__all__ = ["Backward", "Memo", "Schedule", "backward", "dot", "grad", "invert_graph"]


def dot(values: list[Any], weights: list[Any]) -> Any:
    """Return Σ values[i] · weights[i] (two terms, a common case, without an iterator).

    >>> dot([2.0, 3.0], [0.5, 4.0])
    13.0
    """
    if len(values) == 2:
        return values[0] * weights[0] + values[1] * weights[1]
    return sum(map(operator.mul, values, weights))


def invert_graph(loss: Any) -> tuple[dict[Any, list[Any]], dict[Any, list[Any]], list[Any]]:
    """Invert the graph below ``loss``: for each node, who consumes it and ∂consumer/∂node.

    Only nodes the loss depends on appear (the loss with no consumers). A node
    used twice by one consumer (``x * x``) has that consumer twice, once per
    use. Also returns the leaves, in the order a depth-first walk from the
    loss meets them. Nodes are dict keys by identity (``Value`` keeps
    ``object``'s ``==`` and ``hash``).
    """
    consumers: dict[Any, list[Any]] = {loss: []}
    partials: dict[Any, list[Any]] = {loss: []}
    leaves: list[Any] = []
    stack = [loss]
    push = stack.append
    pop = stack.pop
    users_of = consumers.get
    while stack:
        node = pop()
        sources = node.inputs
        if not sources:
            leaves.append(node)
            continue
        # A node keeps one local derivative per input. (No strict=True: a
        # keyword argument costs ~170 instructions of parsing per node on 3.12.)
        for source, derivative in zip(sources, node.local_grads):  # noqa: B905
            users = users_of(source)
            if users is None:
                consumers[source] = [node]
                partials[source] = [derivative]
                push(source)
            else:
                users.append(node)
                partials[source].append(derivative)
    return consumers, partials, leaves


#: How the recurrence is evaluated: from the targets up (memoized recursion) or in one sweep.
Schedule = Literal["top-down", "bottom-up"]
_SCHEDULES = ("top-down", "bottom-up")


@overload
def backward(
    loss: Value,
    wrt: Sequence[Value] | None = None,
    *,
    memo: Memo = True,
    schedule: Schedule | None = None,
    allow_unused: bool = False,
) -> Backward: ...
@overload
def backward(
    loss: Tensor,
    wrt: Sequence[Tensor] | None = None,
    *,
    memo: Memo = True,
    schedule: Schedule | None = None,
    allow_unused: bool = False,
) -> TensorBackward: ...
def backward(
    loss: Value | Tensor,
    wrt: Sequence[Value] | Sequence[Tensor] | None = None,
    *,
    memo: Memo = True,
    schedule: Schedule | None = None,
    allow_unused: bool = False,
) -> Backward | TensorBackward:
    """Compute ∂loss/∂x for each ``x`` in ``wrt`` (default: every leaf) and report the cost.

    Each call starts from an empty memo, so calling it twice gives the same
    gradients, never their sum. The loss is a :class:`Value`, or a
    :class:`~memokit.autodiff.Tensor` holding one number; for a Tensor each
    gradient is an array shaped like its node (a :class:`TensorBackward`).

    ``schedule`` says in which order the one adjoint function is evaluated:

    * ``"top-down"``: memoized recursion. Asked for adj(x), it asks for the
      adjoints of x's consumers, and theirs, up to the loss, keeping them in
      the memo; a repeated request is a hit. It computes only the adjoints
      the targets need. Any ``memo=`` works this way.
    * ``"bottom-up"``: the whole table filled in one sweep, consumers before
      their inputs, so every lookup is a hit: every adjoint below the loss,
      needed or not (``memo=True`` only: the sweep keeps them all). It is the
      default for ``memo=True`` because it is cheaper; ``memo=False`` and
      ``memo=k`` always run top-down.

    Both return the same gradients. Top-down:

    >>> x, w = Value(3.0), Value(-2.0)
    >>> h = x * w          # h = -6
    >>> loss = h * h + h   # ∂loss/∂h = 2h + 1 = -11
    >>> result = backward(loss, [x, w], schedule="top-down")
    >>> result.gradients    # (-11 * w, -11 * x)
    (22.0, -33.0)
    >>> result.computations  # x, w, h, h*h and loss: each adjoint computed once
    5
    >>> result.hits  # h*h (used twice by h), loss (by h) and h (by w) came from the memo
    3

    Bottom-up, the same 5 adjoints and 6 terms; each term and each of the
    2 targets finds its adjoint in the table:

    >>> swept = backward(loss, [x, w])
    >>> swept.schedule, swept.gradients, swept.computations, swept.hits
    ('bottom-up', (22.0, -33.0), 5, 8)
    >>> swept.local_derivative_evaluations == result.local_derivative_evaluations == 6
    True

    Asked for x alone, top-down skips w's adjoint; the table has it anyway:

    >>> [backward(loss, [x], schedule=s).computations for s in ("top-down", "bottom-up")]
    [4, 5]
    """
    kind, label, schedule, swept = _run(loss, wrt, memo, schedule, allow_unused)
    stats = swept.stats
    result = kind.result(
        wrt=swept.targets,
        gradients=kind.finish(swept.targets, swept.gradients),
        memo=label,
        schedule=schedule,
        local_derivative_evaluations=swept.terms,
        computations=stats.computations,
        hits=swept.hits,
        recomputations=stats.recomputations,
        evictions=stats.evictions,
        memo_size=stats.currsize,
        graph_size=swept.graph_size,
    )
    # The result type of the loss's kind: Backward or TensorBackward.
    return cast("Backward | TensorBackward", result)


def _run(
    loss: object,
    wrt: Sequence[Any] | None,
    memo: Memo,
    schedule: Schedule | None,
    allow_unused: bool,
) -> tuple[NodeKind, str, Schedule, _Pass]:
    """One backward pass: the checks, the memo and the schedule, then either pass.

    Returns the loss's kind, the memo's label, the schedule that ran and what it computed.
    """
    kind = check_loss(loss)
    label, store, maxsize = memo_store(memo)
    if schedule is None:
        schedule = "bottom-up" if label == "dict" else "top-down"
    elif schedule not in _SCHEDULES:
        raise ValueError(f"schedule= takes 'top-down' or 'bottom-up', got {schedule!r}")
    elif schedule == "bottom-up" and label != "dict":
        raise ValueError(
            f"schedule='bottom-up' fills a table of every adjoint, so it needs memo=True; "
            f"memo={memo!r} keeps {'none' if label == 'none' else 'only some'} of them and "
            f"runs top-down (leave schedule= out, or pass schedule='top-down')"
        )
    targets = None if wrt is None else check_wrt_types(wrt, kind)
    adjoint = _adjoint_of(loss, kind.seed(loss))
    swept = None
    if schedule == "bottom-up":
        swept = _sweep(loss, adjoint, targets, allow_unused)
    if swept is None:  # top-down, or the sweep found the graph rewired (or cyclic)
        schedule = "top-down"
        swept = _top_down(loss, adjoint, targets, store, maxsize, allow_unused)
    return kind, label, schedule, swept


#: adjoint(node, its consumers' adjoints, ∂consumer/∂node for each) -> adj(node).
Adjoint = Callable[[Any, list[Any], list[Any]], Any]


def _adjoint_of(loss: object, one: object) -> Adjoint:
    """The adjoint recurrence for ``loss``: one function for both schedules and both kinds.

    ``one`` is adj(L): the number 1, or ones shaped like an array loss. For
    an array node each ∂c/∂n is a VJP, and ``adj(c) * vjp`` applies it.
    """

    def adjoint(node: object, consumer_adjoints: list[Any], partials: list[Any]) -> Any:
        # adj(L) = 1;  adj(n) = Σ_{c ∈ consumers(n)} adj(c) · ∂c/∂n
        if node is loss:
            return one
        if len(partials) == 1:  # one consumer, the most common case: no call to dot
            return consumer_adjoints[0] * partials[0]
        return dot(consumer_adjoints, partials)

    return adjoint


class _Pass(NamedTuple):
    """What one pass computed, in either order."""

    targets: tuple[Any, ...]
    #: adj(x) for each target; None for a target the loss does not depend on.
    gradients: list[Any]
    stats: DagStats
    graph_size: int
    #: Terms adj(c) · ∂c/∂n evaluated.
    terms: int
    #: Lookups of an adjoint that found it in the memo.
    hits: int


_inputs_of = operator.attrgetter("inputs")
_partials_of = operator.attrgetter("local_grads")
_serial_of = operator.attrgetter("serial")


def _sweep(loss: Any, adjoint: Adjoint, wrt: list[Any] | None, allow_unused: bool) -> _Pass | None:
    """Bottom-up: every adjoint below the loss in one sweep (None if the graph was rewired)."""
    found = NotImplemented if scalar_sweep is None else scalar_sweep(loss, Value)
    sweep: Any
    if found is NotImplemented:  # no compiled core, or a graph it leaves to the reference
        sweep = sweep_consumers(
            loss,
            inputs=_inputs_of,
            weights=_partials_of,
            compute=adjoint,
            order_key=_serial_of,
        )
    elif found is None:  # a serial does not grow along an edge: the caller goes top-down
        sweep = None
    else:  # the same sweep over Values, compiled (memokit/_core/sweep.c)
        values, hits, leaves = found
        sweep = Sweep(values, DagStats(len(values), hits, 0, 0, len(values)), leaves)
    if sweep is None:
        return None
    adjoints = sweep.values
    if wrt is not None and not allow_unused:
        check_used(wrt, adjoints)
    targets = tuple(reversed(sweep.leaves) if wrt is None else wrt)  # leaves: oldest first
    gradients = [adjoints.get(x) for x in targets]
    # Every term read its consumer's adjoint from the table; so did each target found.
    terms = sweep.stats.hits
    asked = sum(1 for g in gradients if g is not None)
    return _Pass(targets, gradients, sweep.stats, len(adjoints), terms, terms + asked)


def _top_down(
    loss: Any,
    adjoint: Adjoint,
    wrt: list[Any] | None,
    store: Store[Any] | None,
    maxsize: int | None,
    allow_unused: bool,
) -> _Pass:
    """Top-down: each target's adjoint by memoized recursion over consumers."""
    consumers, partials, leaves = invert_graph(loss)
    targets = tuple(sorted(leaves, key=_serial_of) if wrt is None else wrt)  # oldest first
    if wrt is not None and not allow_unused:
        check_used(wrt, consumers)

    def from_consumers(node: Any, consumer_adjoints: list[Any]) -> Any:
        return adjoint(node, consumer_adjoints, partials[node])

    evaluator: DagEvaluator[Any, Any] = DagEvaluator(
        inputs=consumers.__getitem__, compute=from_consumers, maxsize=maxsize, store=store
    )
    gradients = [evaluator.evaluate(x) if x in consumers else None for x in targets]
    stats = evaluator.stats()
    # Each computation of adj(n) evaluates one term adj(c) · ∂c/∂n per consumer
    # c, and each consumer's adjoint was either a hit or a computation started
    # for it; the lookups made here (one per target in the graph) are the only
    # ones that are not such a term.
    asked = sum(1 for g in gradients if g is not None)
    terms = stats.hits + stats.computations - asked
    return _Pass(targets, gradients, stats, len(consumers), terms, stats.hits)


@overload
def grad(
    loss: Value, wrt: None = None, *, memo: Memo = True, schedule: Schedule | None = None
) -> dict[Value, float]: ...
@overload
def grad(
    loss: Value,
    wrt: Sequence[Value],
    *,
    memo: Memo = True,
    schedule: Schedule | None = None,
    allow_unused: bool = False,
) -> list[float]: ...
@overload
def grad(
    loss: Tensor, wrt: None = None, *, memo: Memo = True, schedule: Schedule | None = None
) -> dict[Tensor, NDArray[Any]]: ...
@overload
def grad(
    loss: Tensor,
    wrt: Sequence[Tensor],
    *,
    memo: Memo = True,
    schedule: Schedule | None = None,
    allow_unused: bool = False,
) -> list[NDArray[Any]]: ...
def grad(
    loss: Value | Tensor,
    wrt: Sequence[Value] | Sequence[Tensor] | None = None,
    *,
    memo: Memo = True,
    schedule: Schedule | None = None,
    allow_unused: bool = False,
) -> list[float] | dict[Value, float] | list[NDArray[Any]] | dict[Tensor, NDArray[Any]]:
    """Return ∂loss/∂x for each ``x`` in ``wrt``, in that order (a dict of every leaf by default).

    ``memo=``, ``schedule=`` and ``allow_unused=`` are those of :func:`backward`.
    For a :class:`~memokit.autodiff.Tensor` loss each gradient is an array
    shaped like its node.

    >>> a, b = Value(2.0), Value(5.0)
    >>> grad(a * b + a, wrt=[a, b])
    [6.0, 2.0]
    """
    kind, _, _, swept = _run(loss, wrt, memo, schedule, allow_unused)
    gradients = kind.finish(swept.targets, swept.gradients)
    if wrt is None:
        return dict(zip(swept.targets, gradients, strict=True))
    return list(gradients)
