"""The shared-adjoint step: per-node adjoint computations, naive against memoized."""

from __future__ import annotations

from collections.abc import Iterator

from memokit.tour.lessons import mlp
from memokit.tour.lessons.mlp import SharedAdjoint, bias_name, neuron_name, weight_name

__all__ = ["shared_adjoint", "shared_adjoint_lines"]


def shared_adjoint_lines(shared: SharedAdjoint) -> Iterator[str]:
    """Per-node adjoint computations, naive against memoized, and the totals."""
    net, naive, memo = shared.net, shared.naive, shared.memoized
    yield (
        f"One backward pass for all {len(net.params)} parameters, twice: memo=False (the naive"
        f" sum over paths) and memo=True. Counted below: how many times each node's adjoint"
        f" ∂L/∂n was computed: backward() runs adj(L) = 1, adj(n) = Σ_c adj(c)·∂c/∂n top-down,"
        f" as memoized recursion on memokit's DagEvaluator, here with a memo store that counts"
        f" each adjoint it is handed."
    )
    yield ""
    yield f"  {'adjoint':<12} {'memo=False':>10} {'memo=True':>10}"
    layers = range(len(net.arch.hidden), 0, -1)
    shown = ["L", "ŷ"]
    shown += [neuron_name(lay, j) for lay in layers for j in range(1, net.arch.hidden[lay - 1] + 1)]
    for name in shown:
        yield f"  ∂L/∂{name:<8} {naive.per_node[name]:>10,} {memo.per_node[name]:>10,}"
    yield f"  {'all nodes':<12} {naive.computations:>10,} {memo.computations:>10,}   adjoints"
    yield (
        f"  {'adj(c)·∂c/∂n':<12} {naive.evaluations:>10,} {memo.evaluations:>10,}"
        f"   local-derivative evaluations"
    )
    yield f"  {'memo hits':<12} {naive.reference.hits:>10,} {memo.reference.hits:>10,}"
    yield ""
    o11 = neuron_name(1, 1)
    users = [weight_name(1, i, 1) for i in range(1, net.arch.inputs + 1)] + [bias_name(1, 1)]
    same = "yes" if naive.agrees and memo.agrees else "NO"
    n_naive, n_memo = naive.per_node[o11], memo.per_node[o11]
    each = f", once for each of {', '.join(users)}," if n_naive == len(users) else ""
    yield (
        f"Without a memo, ∂L/∂{o11} is computed {_times(n_naive)}{each} and each time it"
        f" recomputes everything above it. With the memo it is computed {_times(n_memo)}, and"
        f" the gradients of {', '.join(users)} all reuse that value. Same totals and gradients"
        f" as backward() with the same memo setting: {same}."
    )


def _times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{n:,} times")


def shared_adjoint(quick: bool) -> Iterator[str]:
    """Tour step: each adjoint computed once with the memo, many times without."""
    yield from shared_adjoint_lines(mlp.shared_adjoint(mlp.seed_network()))
