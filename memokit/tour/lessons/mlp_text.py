"""The MLP lesson as text: turns :mod:`memokit.tour.lessons.mlp`'s data into lines.

Two kinds of function: ``*_lines(data)`` format data a caller measured, and
the tour steps (``network``, ``two_paths``, ``shared_adjoint``, ``scaling``,
``training``), which take ``quick``, measure, and yield the lines.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Iterator, Sequence

from memokit.autodiff import GradcheckReport, gradcheck
from memokit.tour.lessons import mlp, progress
from memokit.tour.lessons.fib_text import format_seconds
from memokit.tour.lessons.mlp import (
    Network,
    ScalingRow,
    SharedAdjoint,
    Skipped,
    Timed,
    TwoPaths,
    bias_name,
    neuron_name,
    weight_name,
)

__all__ = [
    "FULL_LAYERS",
    "FULL_STEPS",
    "LRU_SIZES",
    "LRU_SWEEP",
    "QUICK_LAYERS",
    "QUICK_STEPS",
    "TRADEOFF_LAYERS",
    "finite_differences",
    "finite_differences_lines",
    "memory",
    "memory_lines",
    "network",
    "network_lines",
    "scaling",
    "scaling_lines",
    "shared_adjoint",
    "shared_adjoint_lines",
    "training",
    "training_lines",
    "two_paths",
    "two_paths_lines",
]

#: Hidden layers (of width 2) the cost table measures.
QUICK_LAYERS = range(1, 7)
FULL_LAYERS = range(1, 13)
#: The LRU memo sizes the cost table tries.
LRU_SIZES = (4, 16)
#: The LRU bounds the memory step tries, largest first.
LRU_SWEEP = (128, 64, 32, 16, 8, 4, 2)
#: Hidden layers of the network the memory step measures (quick, full).
TRADEOFF_LAYERS = (8, 10)
#: Gradient-descent steps of the training run.
QUICK_STEPS = 100
FULL_STEPS = 300


def _num(x: float) -> str:
    return f"{x:.4g}" if abs(x) >= 1e-4 or x == 0 else f"{x:.3e}"


def _paren(x: float) -> str:
    return f"({_num(x)})" if x < 0 else _num(x)


# ------------------------------------------------------------------ the network


def network_lines(net: Network) -> Iterator[str]:
    """Each neuron's formula under the index convention, with this forward pass's values."""
    arch = net.arch
    widths = arch.widths
    act = arch.activation
    x_text = ", ".join(f"{x.label} = {_num(x.data)}" for x in net.inputs)
    yield (
        f"The lecture's network: {arch.inputs} inputs, hidden layers of "
        f"{' and '.join(str(w) for w in arch.hidden)} neurons ({act}), one output ŷ"
        f" (sigmoid), and the loss L = (y - ŷ)². Weight wˡᵢⱼ sits on the edge from unit i of"
        f" layer l-1 into neuron j of layer l, so w¹₁₁ connects x₁ to O₁₁ as in the notes;"
        f" bˡⱼ is neuron j's bias. Every weight is a Value leaf; each operation records its"
        f" local derivatives as it runs."
    )
    yield ""
    yield f"  one example: {x_text}, y = {_num(net.target)}"
    prev = [x.label for x in net.inputs]
    for layer in range(1, len(widths)):
        last = layer == len(widths) - 1
        names = []
        for j in range(1, widths[layer] + 1):
            terms = " + ".join(f"{weight_name(layer, i, j)}·{u}" for i, u in enumerate(prev, 1))
            name = "ŷ" if last else neuron_name(layer, j)
            node = net.output if last else net.neurons[name]
            fn = "sigmoid" if last else act
            yield f"  {name:<4} = {fn}({terms} + {bias_name(layer, j)}) = {_num(node.data)}"
            names.append(name)
        prev = names
    yield f"  L    = (y - ŷ)² = {_num(net.loss.data)}"
    yield ""
    yield "  with the weights and biases (random, seeded):"
    for layer in range(1, len(widths)):
        layer_params = [
            name
            for j in range(1, widths[layer] + 1)
            for name in (
                *(weight_name(layer, i, j) for i in range(1, widths[layer - 1] + 1)),
                bias_name(layer, j),
            )
        ]
        items = [f"{n} = {_num(net.params[n].data)}" for n in layer_params]
        yield "    " + ",  ".join(items)
    yield ""
    nodes, edges = _size(net)
    yield (
        f"The graph has {nodes} nodes and {edges} edges (every +, ·, tanh is a node;"
        f" {len(net.params)} of the leaves are parameters)."
    )


def _size(net: Network) -> tuple[int, int]:
    seen: set[int] = set()
    stack = [net.loss]
    edges = 0
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        edges += len(node.inputs)
        stack.extend(node.inputs)
    return len(seen), edges


def network(quick: bool) -> Iterator[str]:
    """Tour step: build the lecture's network and show its forward pass."""
    yield from network_lines(mlp.seed_network())


# ---------------------------------------------------------------- the two paths


def two_paths_lines(split: TwoPaths) -> Iterator[str]:
    """∂L/∂w as path-1 + path-2, each factor's local derivatives shown, then the checks."""
    via = " and ".join(p.via for p in split.paths)
    yield (
        f"{split.weight} influences L along {len(split.paths)} paths, through {via}, so"
        f" ∂L/∂{split.weight} is a sum of {len(split.paths)} path terms. Each factor below is"
        f" read off the graph: the product of the local derivatives recorded on the edges"
        f" between the two nodes, top down."
    )
    yield ""
    factors = []
    for path in split.paths:
        for f in path.factors:
            if f not in factors:
                factors.append(f)
    width = max(len(f.symbol) for f in factors)
    yield f"  {'factor':<{width}}  {'value':>11}   edges: operation local-derivative, …"
    for f in factors:
        steps = " · ".join(f"{op} {_paren(d)}" for op, d in f.steps)
        yield f"  {f.symbol:<{width}}  {f.value:>11.6f}   {steps}"
    yield ""
    for k, path in enumerate(split.paths, 1):
        symbols = " · ".join(f.symbol for f in path.factors)
        values = "".join(f"({_num(f.value)})" for f in path.factors)
        yield f"  path-{k} = {symbols}"
        yield f"         = {values} = {path.value:.12g}"
    names = " + ".join(f"path-{k}" for k in range(1, len(split.paths) + 1))
    rows = [
        (names, split.total),
        (f"grad(L, wrt=[{split.weight}])", split.grad),
        ("central finite differences", split.numeric),
    ]
    label = max(len(r[0]) for r in rows)
    yield ""
    for text, value in rows:
        yield f"  {text:<{label}} = {value:.12g}"
    yield ""
    agree = abs(split.total - split.grad)
    yield (
        f"The path sum and grad() differ by {agree:.2g}; {split.check}."
        if agree
        else f"The path sum and grad() agree exactly; {split.check}."
    )
    shared = split.shared
    bracket = sum(p.value / shared.value for p in split.paths) if shared.value else 0.0
    yield ""
    yield (
        f"Every path ends in the same factor {shared.symbol} = {_num(shared.value)}. Taking"
        f" it out, {names} = ∂L/∂{split.hidden} · {shared.symbol}, where ∂L/∂{split.hidden}"
        f" = {_num(bracket)} is the sum of the paths above {split.hidden}"
        f" (grad(L, wrt=[{split.hidden}]) gives {_num(split.hidden_adjoint)}). That sum is"
        f" needed again for every input of {split.hidden}'s neuron (its other weight and its"
        f" bias): backpropagation computes it once and stores it. Chain rule + memoization."
    )


def two_paths(quick: bool) -> Iterator[str]:
    """Tour step: ∂L/∂w¹₁₁ as path-1 + path-2, checked."""
    yield from two_paths_lines(mlp.two_paths(mlp.seed_network()))


# ----------------------------------------------------------- the shared adjoint


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


# ------------------------------------------------------- finite differences


def finite_differences_lines(net: Network, report: GradcheckReport) -> Iterator[str]:
    """Every parameter's gradient from backprop next to central finite differences."""
    yield (
        f"A check that uses no chain rule at all: gradcheck nudges each of the"
        f" {len(report.entries)} parameters by ±ε (ε = {report.eps:g}), runs the forward pass"
        f" again and takes (L(p + ε) - L(p - ε)) / 2ε. Next to it, backprop's gradient from"
        f" the memoized backward pass:"
    )
    yield ""
    width = max(len(e.node.label) for e in report.entries)
    yield (
        f"  {'param':<{width}}  {'backprop ∂L/∂p':>16}  {'finite differences':>18}"
        f"  {'abs error':>9}  {'rel error':>9}"
    )
    for e in report.entries:
        yield (
            f"  {e.node.label:<{width}}  {e.analytic:>16.10f}  {e.numeric:>18.10f}"
            f"  {e.abs_error:>9.1e}  {e.rel_error:>9.1e}"
        )
    yield ""
    worst = max(report.entries, key=lambda e: e.rel_error)
    yield (
        f"{'All' if report.ok else 'NOT all'} {len(report.entries)} gradients agree within"
        f" {report.atol:g} + {report.rtol:g}·|finite difference|; the largest relative error is"
        f" {worst.rel_error:.1e} ({worst.node.label}). Central differences carry errors of"
        f" their own, of order ε² from truncation and 1e-16/ε from rounding, so agreement this"
        f" close is all they can show."
    )


def finite_differences(quick: bool) -> Iterator[str]:
    """Tour step: every gradient of the seed network checked against finite differences."""
    net = mlp.seed_network()
    yield from finite_differences_lines(net, gradcheck(net.loss, list(net.params.values())))


# ------------------------------------------------------------- cost with depth


def scaling_lines(
    rows: Iterable[ScalingRow], lru_sizes: Sequence[int] = LRU_SIZES
) -> Iterator[str]:
    """The cost table, one line per depth as it is measured."""
    lrus = [f"lru({k})" for k in lru_sizes]
    yield (
        "The same network made deeper: more hidden layers of 2 neurons, ∂L/∂(every"
        " parameter) with each memo setting. Evaluations are the terms adj(c)·∂c/∂n computed;"
        " a naive run that would take more than a second is skipped, its cost extrapolated"
        " from the growth measured on the two depths before."
    )
    yield ""
    lru_head = "".join(f" │ {f'memo={k} (LRU)':>19}" for k in lru_sizes)
    naive_head, memo_head = "memo=False (naive)", "memo=True"
    yield f"  {'hidden':>6} {'edges†':>6} │ {naive_head:>26} │ {memo_head:>15}{lru_head}"
    lru_sub = "".join(f" │ {'evals':>9} {'recomp':>9}" for _ in lru_sizes)
    yield (
        f"  {'layers':>6} {'':>6} │ {'evals':>10} {'ratio':>5} {'time':>9} │ {'evals':>6}"
        f" {'time':>8}{lru_sub}"
    )
    done: list[ScalingRow] = []
    previous_naive: float | None = None
    skipped: list[ScalingRow] = []
    for row in rows:
        naive = row.runs["none"]
        if isinstance(naive, Skipped):
            count = naive.evaluations
            skipped.append(row)
            evals, when = f"~{count:,.0f}", "skipped"
        else:
            count = float(naive.result.local_derivative_evaluations)
            evals, when = f"{count:,.0f}", format_seconds(naive.seconds)
        ratio = f"{count / previous_naive:.2f}" if previous_naive else ""
        previous_naive = count
        memo = row.runs["dict"]
        assert isinstance(memo, Timed)
        cells = ""
        for key in lrus:
            run = row.runs[key]
            if isinstance(run, Skipped):
                cells += f" │ {'~' + format(run.evaluations, ',.0f'):>9} {'skipped':>9}"
            else:
                cells += (
                    f" │ {run.result.local_derivative_evaluations:>9,}"
                    f" {run.result.recomputations:>9,}"
                )
        yield (
            f"  {row.layers:>6} {row.backprop_edges:>6} │ {evals:>10} {ratio:>5} {when:>9} │"
            f" {memo.result.local_derivative_evaluations:>6,}"
            f" {format_seconds(memo.seconds):>8}{cells}"
        )
        done.append(row)
    if not done:
        return
    yield ""
    last = done[-1]
    memo = last.runs["dict"]
    assert isinstance(memo, Timed)
    equal = all(r.backprop_edges == _evals(r.runs["dict"]) for r in done)
    yield (
        f"† edges on the paths from the parameters to L. memo=True evaluates each exactly"
        f" once ({'as measured' if equal else 'NOT as measured'}: evaluations = edges), so its"
        f" cost grows linearly with depth; its memo ends holding {memo.result.memo_size}"
        f" adjoints at {last.layers} layers, one per node it computed. The naive column grows"
        f" by its ratio per added layer: exponential, since every layer doubles the paths."
        + _skipped_note(skipped)
    )
    sizes = ", ".join(str(k) for k in lru_sizes)
    growth = [_growth(done, key) for key in lrus]
    measured = "; ".join(
        f"memo={k} grew {g:.2f}-fold per layer over the last two rows"
        for k, g in zip(lru_sizes, growth, strict=True)
        if g is not None
    )
    held = [max((_memo_size(r.runs[key]) for r in done), default=0) for key in lrus]
    yield (
        f"An LRU memo keeps only the k most recently used adjoints (k = {sizes}; at most"
        f" {', '.join(str(h) for h in held)} held, as measured) and recomputes the others when"
        f" asked again, like gradient checkpointing: memory bounded by k, paid for in"
        f" recomputations. How much depends on k against the"
        f" graph's width: {measured or 'too few rows to tell'}."
    )


def _skipped_note(rows: Sequence[ScalingRow]) -> str:
    if not rows:
        return ""
    guesses = []
    for row in rows:
        run = row.runs["none"]
        assert isinstance(run, Skipped)
        guesses.append(f"~{format_seconds(run.seconds)} at {row.layers}")
    return (
        f" Rows marked ~ are estimates, not runs: the naive pass would take"
        f" {', '.join(guesses)} layers."
    )


def _growth(rows: Sequence[ScalingRow], key: str) -> float | None:
    """Evaluations per added layer between the last two measured rows of one column."""
    measured = [(r.layers, _evals(r.runs[key])) for r in rows if isinstance(r.runs[key], Timed)]
    if len(measured) < 2:
        return None
    (l1, e1), (l2, e2) = measured[-2:]
    return float((e2 / e1) ** (1 / (l2 - l1)))


def _memo_size(run: Timed | Skipped) -> int:
    return run.result.memo_size if isinstance(run, Timed) else 0


def _evals(run: Timed | Skipped) -> int:
    assert isinstance(run, Timed)
    return run.result.local_derivative_evaluations


def scaling(quick: bool) -> Iterator[str]:
    """Tour step: naive against memoized backward passes as the network deepens."""
    layers = QUICK_LAYERS if quick else FULL_LAYERS
    yield from scaling_lines(mlp.scaling(layers, width=2, lru_sizes=LRU_SIZES), LRU_SIZES)


# ------------------------------------------------------ memory against work


def memory_lines(runs: Sequence[Timed], layers: int) -> Iterator[str]:
    """The LRU trade-off table: adjoints kept against adjoints recomputed, per bound."""
    full = runs[0].result
    yield (
        f"One network, {layers} hidden layers of 2 ({full.graph_size} nodes), and one backward"
        f" pass for every parameter per row, with the memo bounded to k adjoints. An LRU memo"
        f" keeps the k most recently used adjoints and recomputes a dropped one when it is"
        f" needed again, as gradient checkpointing does: memory bounded by k, paid for in"
        f" recomputation."
    )
    yield ""
    yield (
        f"  {'memo':>12} {'kept':>6} {'computed':>9} {'recomputed':>11} {'evaluations':>12}"
        f" {'/ memo=True':>12} {'time':>9}"
    )
    base = full.local_derivative_evaluations
    worst_gap = 0.0
    for run in runs:
        r = run.result
        label = (
            "memo=True"
            if r.memo == "dict"
            else "memo=False"
            if r.memo == "none"
            else (f"memo={r.memo[4:-1]}")
        )
        yield (
            f"  {label:>12} {r.memo_size:>6,} {r.computations:>9,} {r.recomputations:>11,}"
            f" {r.local_derivative_evaluations:>12,} {r.local_derivative_evaluations / base:>12.1f}"
            f" {format_seconds(run.seconds):>9}"
        )
        for mine, reference in zip(r.gradients, full.gradients, strict=True):
            scale = max(abs(mine), abs(reference))
            if scale:
                worst_gap = max(worst_gap, abs(mine - reference) / scale)
    yield ""
    bounded = [run.result for run in runs[1:-1]]
    cheap = [r for r in bounded if r.local_derivative_evaluations <= 5 * base]
    lines = []
    if cheap:
        best = min(cheap, key=lambda r: r.memo_size)
        lines.append(
            f"With k = {best.memo[4:-1]} the memo keeps {best.memo_size} of {full.memo_size}"
            f" adjoints ({100 * best.memo_size / full.memo_size:.0f}%) and pays"
            f" {best.local_derivative_evaluations / base:.1f} times the evaluations of a full"
            f" memo."
        )
    jumps = [
        (b.local_derivative_evaluations / a.local_derivative_evaluations, a, b)
        for a, b in itertools.pairwise(bounded)
    ]
    if jumps:
        ratio, a, b = max(jumps, key=lambda j: j[0])
        lines.append(
            f"The steepest step is from k = {a.memo[4:-1]} to k = {b.memo[4:-1]}: the work grows"
            f" {ratio:.0f}-fold. With too few slots an adjoint is dropped before its next use,"
            f" and recomputing it needs adjoints above it that were dropped too, so the cost"
            f" runs up toward the naive sum over paths."
        )
    if worst_gap == 0:
        lines.append("Every row computes exactly the same gradients; only the cost differs.")
    else:
        lines.append(
            f"The gradients of every row agree with memo=True's to a relative {worst_gap:.1e};"
            f" only the cost differs."
        )
    yield " ".join(lines)


def memory(quick: bool) -> Iterator[str]:
    """Tour step: memory kept against recomputation paid, as the LRU bound shrinks."""
    layers = TRADEOFF_LAYERS[0] if quick else TRADEOFF_LAYERS[1]
    yield from memory_lines(mlp.memory_tradeoff(layers, LRU_SWEEP), layers)


# -------------------------------------------------------------------- training


def training_lines(
    data: Sequence[mlp.Example],
    steps: int,
    every: int,
    learning_rate: float = 1.0,
    arch: mlp.Architecture | None = None,
) -> Iterator[str]:
    """Train by plain gradient descent, printing the loss every ``every`` steps as it goes."""
    arch = arch or mlp.Architecture()
    positives = sum(e.y > 0.5 for e in data)
    yield (
        f"Training the network on {len(data)} noisy XOR points ({positives} labelled 1, where"
        f" x₁·x₂ < 0): plain gradient descent, learning rate {learning_rate:g}, {steps} steps,"
        f" one grad() call per step on the mean of (y - ŷ)² over all points."
    )
    yield ""
    yield f"  {'step':>6}  {'loss':>10}"
    first: float | None = None
    last: mlp.TrainStep | None = None
    start = time.perf_counter()
    for item in mlp.train_steps(arch, data, steps, learning_rate):
        progress.note(f"training: step {item.step} of {steps}")
        first = item.loss if first is None else first
        if item.step % every == 0 or item.step == steps:
            yield f"  {item.step:>6}  {item.loss:>10.6f}"
        last = item
    seconds = time.perf_counter() - start
    assert last is not None and first is not None
    right = round(mlp.accuracy(arch, last.weights, data) * len(data))
    yield ""
    yield (
        f"Loss {first:.4f} → {last.loss:.4f} in {format_seconds(seconds)}"
        f" ({format_seconds(seconds / max(steps, 1))} per step); accuracy"
        f" {right}/{len(data)} ({100 * right / len(data):.0f}%)."
    )


def training(quick: bool) -> Iterator[str]:
    """Tour step: train the lecture's network on noisy XOR."""
    steps = QUICK_STEPS if quick else FULL_STEPS
    yield from training_lines(mlp.make_xor(per_corner=10), steps, 25 if quick else 50)
