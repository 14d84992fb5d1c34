"""Time memokit's gradient against micrograd and PyTorch on a deep chain graph.

memokit's gradient targets (docs/performance.md, "Targets") are about forward
time, backward time and their ratio, side by side in one process, with GC on
and off. The
graph is the chain

    a = x·w;  b = a + x;  x = tanh(b)        (repeated; x₀ and w are leaves)

three nodes per step, so every x has two consumers and w has one per step.
N is the number of nodes (N // 3 steps, plus the two leaves). Rows:

* ``memokit``: ``Value`` nodes; backward = ``grad(x_final, wrt=[x0, w])``
  (memo=True); N = 10⁴, 10⁵ and 10⁶;
* ``micrograd`` (PyPI 0.1.0): its ``Value``, given a ``tanh`` the way its
  lecture writes one (it has none); backward = ``x_final.backward()`` (its
  recursive topological sort included); N = 10⁴ and 10⁵;
* ``torch`` (if installed): 0-d float64 tensors, ``requires_grad`` leaves;
  backward = ``torch.autograd.grad(x_final, [x0, w])``; N = 10⁴ and 10⁵;
* ``inline-pull`` and ``inline-push`` (reference rows, no target): backward
  passes written inline over memokit's Values with no engine, to show what
  pure Python allows: the pull recurrence memokit runs, and micrograd's push
  method; N = 10⁴ and 10⁵.

Forward = building the graph, backward = the gradient call; each sample does
one of each on a fresh graph. Before every sample a full ``gc.collect()``
runs, untimed; "GC off" samples run with ``gc.disable()`` around the timed
part. One round takes one sample of every (implementation, GC state) at one
N, in a shuffled order, so the rows a ratio compares are measured moments
apart; the table shows medians over the rounds. backward/forward is the
median of each sample's own ratio; "vs micrograd" is the median over rounds
of memokit's backward / micrograd's backward in the same round.

Every sample's gradients are checked against a plain-float forward-mode
computation of the same derivatives; a mismatch is reported, not hidden.

micrograd's topological sort recurses once per node: the whole measurement
runs in a thread with a large stack (``--stack-mb``) and the recursion limit
raised. Sizes above 10⁴ are first tried once per peer in a subprocess, so a
crash there (a segfault from a too-deep C stack, a RecursionError) is
reported as such instead of killing the benchmark.

Usage::

    python benchmarks/bench_grad.py                  # full run, several minutes
    python benchmarks/bench_grad.py --quick          # N = 10³, 10⁴; seconds
    python benchmarks/bench_grad.py --json out.json --repeats 9
    python benchmarks/bench_grad.py --profile 100000 # cProfile of memokit's backward
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import gc
import importlib
import importlib.metadata
import io
import json
import math
import operator
import os
import platform
import pstats
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Measure the working tree's memokit, not an installed copy.
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from _common import dist_version, memokit_fingerprint, memokit_version  # noqa: E402

import memokit  # noqa: E402
from memokit.autodiff import Value, grad  # noqa: E402

X0, W = 0.3, 0.5  # the leaves' values
GRAPH = "a = x*w; b = a + x; x = tanh(b)"
RECURSION_LIMIT = 10**7
#: Peers at sizes above this are first tried in a subprocess.
PROBE_ABOVE = 10_000
PROBE_TIMEOUT = 600.0

#: (implementation, sizes) of the full and the quick run.
FULL_SIZES = {
    "memokit": (10**4, 10**5, 10**6),
    "micrograd": (10**4, 10**5),
    "torch": (10**4, 10**5),
    "inline-pull": (10**4, 10**5),
    "inline-push": (10**4, 10**5),
}
QUICK_SIZES = dict.fromkeys(FULL_SIZES, (10**3, 10**4))
#: Rows that never recurse, so need no trial run in a subprocess.
NO_PROBE = {"memokit", "inline-pull", "inline-push"}
#: Rounds per size by default; --repeats K sets K for every size except 10⁶ (K // 3, at least 1).
DEFAULT_REPEATS = {10**3: 2, 10**4: 9, 10**5: 5, 10**6: 2}
QUICK_REPEATS = {10**3: 2, 10**4: 1}
GC_STATES = ("on", "off")


# ---------------------------------------------------------------- implementations

Graph = tuple[Any, Any, Any]  # (x0, w, x_final), in the implementation's own types


@dataclass
class Impl:
    """One way to build the chain and take its gradient."""

    id: str
    label: str
    version: str
    #: steps -> (x0, w, x_final); None when the implementation is not installed.
    forward: Callable[[int], Graph] | None
    #: graph -> an opaque result that ``read`` turns into (∂x/∂x0, ∂x/∂w).
    backward: Callable[[Graph], Any] | None
    read: Callable[[Graph, Any], tuple[float, float]] | None
    note: str = ""


def chain_builder(make: Callable[[float], Any]) -> Callable[[int], Graph]:
    """The forward pass: the chain built from scalars that ``make`` makes, ``steps`` links long."""

    def forward(steps: int) -> Graph:
        x0, w = make(X0), make(W)
        x = x0
        for _ in range(steps):
            a = x * w
            b = a + x
            x = b.tanh()
        return x0, w, x

    return forward


#: The chain built from memokit Values.
memokit_forward = chain_builder(Value)


def memokit_impl() -> Impl:
    """memokit.autodiff: Value nodes, grad() over consumers with a dict memo."""

    def backward(graph: Graph) -> Any:
        x0, w, out = graph
        return grad(out, wrt=[x0, w])

    return Impl(
        "memokit", "memokit grad()", memokit_version(), memokit_forward, backward, read_pair
    )


def read_pair(graph: Graph, result: Any) -> tuple[float, float]:
    """Gradients returned as a pair (or list) in wrt order."""
    return float(result[0]), float(result[1])


def nodes_below(loss: Value) -> list[Value]:
    """Every node the loss depends on, consumers first (creation serials, largest first)."""
    seen = {loss: None}
    stack = [loss]
    while stack:
        for source in stack.pop().inputs:
            if source not in seen:
                seen[source] = None
                stack.append(source)
    return sorted(seen, key=lambda n: n.serial, reverse=True)


def inline_pull(graph: Graph) -> Any:
    """The adjoint recurrence written inline: memokit's sweep with no engine around it.

    Consumers first, each node's adjoint is Σ adj(c)·∂c/∂n over the
    adjoints and partials its consumers handed it when they were computed;
    then it hands its own adjoint to its inputs.
    """
    x0, w, loss = graph
    adj: dict[Value, float] = {}
    uses: dict[Value, tuple[list[float], list[float]]] = {}
    for node in nodes_below(loss):
        entry = uses.pop(node, None)
        if entry is None:
            a = 1.0  # the loss
        else:
            adjoints, partials = entry
            if len(partials) == 1:
                a = adjoints[0] * partials[0]
            elif len(partials) == 2:
                a = adjoints[0] * partials[0] + adjoints[1] * partials[1]
            else:
                a = sum(map(operator.mul, adjoints, partials))
        adj[node] = a
        for source, partial in zip(node.inputs, node.local_grads, strict=True):
            pending = uses.get(source)
            if pending is None:
                uses[source] = ([a], [partial])
            else:
                pending[0].append(a)
                pending[1].append(partial)
    return adj[x0], adj[w]


def inline_push(graph: Graph) -> Any:
    """micrograd's order of work on memokit's graph: each node adds its terms into its inputs."""
    x0, w, loss = graph
    order = nodes_below(loss)
    adj = dict.fromkeys(order, 0.0)
    adj[loss] = 1.0
    for node in order:
        a = adj[node]
        for source, partial in zip(node.inputs, node.local_grads, strict=True):
            adj[source] += a * partial
    return adj[x0], adj[w]


def inline_impls() -> list[Impl]:
    """Reference rows: backward passes written inline over memokit's Values, no engine.

    They show what pure Python allows on this graph: ``inline-pull`` is the
    pull recurrence memokit's sweep runs, ``inline-push`` is micrograd's
    method. No target applies to them.
    """
    version = memokit_version()
    return [
        Impl("inline-pull", "pull sweep, inline", version, memokit_forward, inline_pull, read_pair),
        Impl("inline-push", "push sweep, inline", version, memokit_forward, inline_push, read_pair),
    ]


def add_micrograd_tanh(value_cls: Any) -> None:
    """Give micrograd's Value a tanh, as its lecture does (0.1.0 on PyPI has none).

    The new node's value is t = tanh(x); its backward closure adds the local
    derivative 1 - t² times the output's gradient to the input's gradient.
    """
    if hasattr(value_cls, "tanh"):
        return

    def tanh(self: Any) -> Any:
        t = math.tanh(self.data)
        out = value_cls(t, (self,), "tanh")

        def _backward() -> None:
            self.grad += (1.0 - t * t) * out.grad

        out._backward = _backward
        return out

    value_cls.tanh = tanh


def micrograd_impl() -> Impl:
    """micrograd's Value, with the lecture's tanh added; backward() sorts recursively."""
    try:
        engine: Any = importlib.import_module("micrograd.engine")
    except Exception as exc:
        note = f"not installed ({type(exc).__name__}: {exc})"
        return Impl("micrograd", "micrograd backward()", "-", None, None, None, note)
    value_cls = engine.Value
    add_micrograd_tanh(value_cls)

    forward = chain_builder(value_cls)

    def backward(graph: Graph) -> Any:
        graph[2].backward()
        return None

    def read(graph: Graph, result: Any) -> tuple[float, float]:
        return float(graph[0].grad), float(graph[1].grad)

    version = dist_version("micrograd")
    return Impl("micrograd", "micrograd backward()", version, forward, backward, read)


def torch_impl() -> Impl:
    """PyTorch with 0-d float64 tensors; backward = torch.autograd.grad."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. "Failed to initialize NumPy"
            torch: Any = importlib.import_module("torch")
    except Exception as exc:
        note = f"not installed ({type(exc).__name__}: {exc})"
        return Impl("torch", "torch.autograd.grad", "-", None, None, None, note)

    def forward(steps: int) -> Graph:
        x0 = torch.tensor(X0, dtype=torch.float64, requires_grad=True)
        w = torch.tensor(W, dtype=torch.float64, requires_grad=True)
        x = x0
        for _ in range(steps):
            a = x * w
            b = a + x
            x = torch.tanh(b)
        return x0, w, x

    def backward(graph: Graph) -> Any:
        x0, w, out = graph
        return torch.autograd.grad(out, [x0, w])

    def read(graph: Graph, result: Any) -> tuple[float, float]:
        return float(result[0].item()), float(result[1].item())

    note = f"{torch.get_num_threads()} intra-op threads"
    version = str(torch.__version__)
    return Impl("torch", "torch.autograd.grad", version, forward, backward, read, note)


def build_impls(only: set[str] | None) -> list[Impl]:
    """Every implementation (unavailable ones carry a note), optionally filtered."""
    impls = [memokit_impl(), micrograd_impl(), torch_impl(), *inline_impls()]
    return [i for i in impls if only is None or i.id in only]


def reference(steps: int) -> tuple[float, float]:
    """(∂x/∂x0, ∂x/∂w) by forward-mode arithmetic on plain floats, independent of every row."""
    x, dx0, dw = X0, 1.0, 0.0
    for _ in range(steps):
        # a = x w; b = a + x = x (w + 1); x' = tanh(b)
        b = x * W + x
        db_dx0 = dx0 * (W + 1.0)
        db_dw = dw * (W + 1.0) + x
        t = math.tanh(b)
        slope = 1.0 - t * t
        x, dx0, dw = t, slope * db_dx0, slope * db_dw
    return dx0, dw


def gradients_match(got: tuple[float, float], want: tuple[float, float]) -> bool:
    """Whether two gradient pairs agree to rounding."""
    return all(
        math.isclose(g, r, rel_tol=1e-9, abs_tol=1e-12) for g, r in zip(got, want, strict=True)
    )


# ---------------------------------------------------------------- measuring


@dataclass
class Cell:
    """The samples of one (implementation, N, GC state)."""

    impl: str
    n: int
    gc: str
    forward_ms: list[float] = field(default_factory=list)
    backward_ms: list[float] = field(default_factory=list)
    status: str = "ok"  # ok, or why the cell has no samples
    wrong: int = 0  # samples whose gradients disagreed with the reference


class SampleError(Exception):
    """A sample failed; the message says how (RecursionError, MemoryError, ...)."""


def take_sample(impl: Impl, steps: int, gc_off: bool) -> tuple[float, float, tuple[float, float]]:
    """Build the chain and take its gradient once; return forward s, backward s, gradients."""
    assert impl.forward is not None and impl.backward is not None and impl.read is not None
    gc.collect()
    if gc_off:
        gc.disable()
    try:
        t0 = time.perf_counter()
        graph = impl.forward(steps)
        t1 = time.perf_counter()
        result = impl.backward(graph)
        t2 = time.perf_counter()
    except RecursionError as exc:
        raise SampleError("RecursionError") from exc
    except MemoryError as exc:
        raise SampleError("MemoryError") from exc
    finally:
        if gc_off:
            gc.enable()
    grads = impl.read(graph, result)
    del graph, result
    return t1 - t0, t2 - t1, grads


def probe(impl: Impl, n: int, stack_mb: int) -> str:
    """Run one sample of ``impl`` at ``n`` in a subprocess; return "ok" or what went wrong."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--probe",
        impl.id,
        str(n),
        "--stack-mb",
        str(stack_mb),
    ]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=PROBE_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        return f"timeout (> {PROBE_TIMEOUT:.0f} s)"
    if done.returncode < 0:
        try:
            name = signal.Signals(-done.returncode).name
        except ValueError:
            name = f"signal {-done.returncode}"
        return f"crashed ({name})"
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return f"crashed (exit {done.returncode}: {tail[:80]})"
    return lines[-1]


def run_probe(impl_id: str, n: int) -> int:
    """The subprocess side of :func:`probe`: one sample, then print its status."""
    (impl,) = build_impls({impl_id})
    if impl.forward is None:
        print(impl.note)
        return 0
    try:
        take_sample(impl, n // 3, gc_off=False)
    except SampleError as exc:
        print(str(exc))
        return 0
    print("ok")
    return 0


@dataclass
class Config:
    """What to measure."""

    quick: bool
    sizes: dict[str, tuple[int, ...]]
    repeats: dict[int, int]
    stack_mb: int
    seed: int


def measure(impls: list[Impl], config: Config, log: Callable[[str], None]) -> list[Cell]:
    """Take every sample, round by round, interleaving implementations and GC states."""
    rng = random.Random(config.seed)
    cells: dict[tuple[str, int, str], Cell] = {}
    usable = [i for i in impls if i.forward is not None]
    for impl in impls:
        for n in config.sizes.get(impl.id, ()):
            for state in GC_STATES:
                status = "ok" if impl.forward is not None else impl.note
                cells[impl.id, n, state] = Cell(impl.id, n, state, status=status)
    # Warm up each implementation on a small graph (imports, first-call costs).
    for impl in usable:
        take_sample(impl, 100, gc_off=False)
    for n in sorted({n for impl in usable for n in config.sizes.get(impl.id, ())}):
        steps = n // 3
        expected = reference(steps)
        here = [i for i in usable if n in config.sizes.get(i.id, ())]
        for impl in here:
            if impl.id not in NO_PROBE and n > PROBE_ABOVE:
                log(f"  trying {impl.id} at N = {n:,} in a subprocess first ...")
                status = probe(impl, n, config.stack_mb)
                if status != "ok":
                    log(f"    {impl.id} at N = {n:,}: {status}")
                    for state in GC_STATES:
                        cells[impl.id, n, state].status = status
        rounds = config.repeats[n]
        for r in range(rounds):
            order = [(i, s) for i in here for s in GC_STATES if cells[i.id, n, s].status == "ok"]
            rng.shuffle(order)
            for impl, state in order:
                cell = cells[impl.id, n, state]
                if cell.status != "ok":
                    continue
                try:
                    fwd, bwd, grads = take_sample(impl, steps, gc_off=state == "off")
                except SampleError as exc:
                    cell.status = str(exc)
                    log(f"    {impl.id} at N = {n:,}, GC {state}: {exc}")
                    continue
                cell.forward_ms.append(fwd * 1e3)
                cell.backward_ms.append(bwd * 1e3)
                if not gradients_match(grads, expected):
                    cell.wrong += 1
            log(f"  N = {n:,}: round {r + 1}/{rounds} done")
    return list(cells.values())


def in_big_stack(fn: Callable[[], Any], stack_mb: int) -> Any:
    """Run ``fn`` in a thread with a ``stack_mb`` MiB stack and a raised recursion limit."""
    result: list[Any] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            result.append(fn())
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(RECURSION_LIMIT)
    old_size = threading.stack_size(stack_mb * 1024 * 1024)
    try:
        thread = threading.Thread(target=target, name="bench_grad")
        thread.start()
        thread.join()
    finally:
        threading.stack_size(old_size)
        sys.setrecursionlimit(old_limit)
    if errors:
        raise errors[0]
    return result[0]


# ---------------------------------------------------------------- summaries and verdicts


@dataclass(frozen=True)
class Row:
    """One cell's medians, ratios and status."""

    impl: str
    n: int
    nodes: int
    gc: str
    status: str
    samples: int
    forward_ms: float | None
    backward_ms: float | None
    ratio: float | None  # median over samples of backward / forward
    vs_micrograd: float | None  # median over rounds of backward / micrograd's backward
    wrong: int
    spread: float | None  # interquartile range / median of the backward samples


def _spread(values: list[float]) -> float | None:
    if len(values) < 2:
        return None
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return (q3 - q1) / median if median else None


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def summarize(cells: list[Cell]) -> list[Row]:
    """Medians and ratios for every cell."""
    by_key = {(c.impl, c.n, c.gc): c for c in cells}
    rows = []
    for c in cells:
        ratio = _median([b / f for f, b in zip(c.forward_ms, c.backward_ms, strict=True) if f])
        mg = by_key.get(("micrograd", c.n, c.gc))
        vs: float | None = None
        if mg is not None and mg.backward_ms and c.backward_ms and c.impl != "micrograd":
            k = min(len(mg.backward_ms), len(c.backward_ms))
            vs = _median(
                [a / b for a, b in zip(c.backward_ms[:k], mg.backward_ms[:k], strict=True)]
            )
        nodes = 3 * (c.n // 3) + 2
        status = c.status if c.status != "ok" or c.backward_ms else "no samples"
        rows.append(
            Row(
                c.impl,
                c.n,
                nodes,
                c.gc,
                status,
                len(c.backward_ms),
                _median(c.forward_ms),
                _median(c.backward_ms),
                ratio,
                vs,
                c.wrong,
                _spread(c.backward_ms),
            )
        )
    return rows


@dataclass(frozen=True)
class Verdict:
    """One target checked against the medians."""

    target: str
    n: int
    gc: str
    status: str  # PASS, FAIL or SKIP
    measured: float | None
    limit: float | None
    note: str = ""


#: The targets (docs/performance.md): backward no slower than the forward pass
#: that built the graph, and at most half of micrograd's backward.
RATIO_LIMIT = 1.0
MICROGRAD_LIMIT = 0.5
RATIO_TARGET = f"backward/forward <= {RATIO_LIMIT:g}"
MICROGRAD_TARGET = f"backward <= {MICROGRAD_LIMIT:g}x micrograd's"


def verdicts(rows: list[Row], config: Config) -> list[Verdict]:
    """The gradient targets: ratio ≤ 1, backward ≤ half of micrograd's, 10⁶ nodes complete."""
    out: list[Verdict] = []
    find = {(r.impl, r.n, r.gc): r for r in rows}
    for n in config.sizes.get("memokit", ()):
        for state in GC_STATES:
            row = find.get(("memokit", n, state))
            if row is None or row.ratio is None:
                note = row.status if row is not None else "not measured"
                out.append(Verdict(RATIO_TARGET, n, state, "SKIP", None, RATIO_LIMIT, note))
            else:
                status = "PASS" if row.ratio <= RATIO_LIMIT else "FAIL"
                out.append(Verdict(RATIO_TARGET, n, state, status, row.ratio, RATIO_LIMIT))
    for n in config.sizes.get("micrograd", ()):
        for state in GC_STATES:
            mine, theirs = find.get(("memokit", n, state)), find.get(("micrograd", n, state))
            target = MICROGRAD_TARGET
            if mine is None or mine.backward_ms is None:
                out.append(
                    Verdict(target, n, state, "SKIP", None, MICROGRAD_LIMIT, "memokit not measured")
                )
            elif theirs is None or theirs.backward_ms is None:
                why = theirs.status if theirs is not None else "not measured"
                out.append(
                    Verdict(target, n, state, "SKIP", None, MICROGRAD_LIMIT, f"micrograd: {why}")
                )
            else:
                measured = mine.backward_ms / theirs.backward_ms
                status = "PASS" if measured <= MICROGRAD_LIMIT else "FAIL"
                note = f"paired per round: {mine.vs_micrograd:.2f}" if mine.vs_micrograd else ""
                out.append(Verdict(target, n, state, status, measured, MICROGRAD_LIMIT, note))
    big = [r for r in rows if r.impl == "memokit" and r.n >= 10**6]
    if not big:
        out.append(Verdict("10^6 nodes complete", 10**6, "-", "SKIP", None, None, "not run"))
    for r in big:
        ok = r.samples > 0 and r.status == "ok" and r.wrong == 0
        note = f"{r.samples} samples, gradients {'correct' if r.wrong == 0 else 'WRONG'}"
        out.append(
            Verdict("10^6 nodes complete", r.n, r.gc, "PASS" if ok else "FAIL", None, None, note)
        )
    return out


# ---------------------------------------------------------------- output


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if value >= 100 else f"{value:.2f}"


def _x(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def grid(rows: list[list[str]]) -> list[str]:
    """Lay out rows of text: the first column left-aligned, the others right-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  "
        + row[0].ljust(widths[0])
        + "".join("  " + t.rjust(w) for t, w in zip(row[1:], widths[1:], strict=True))
        for row in rows
    ]


def format_rows(rows: list[Row], impls: list[Impl]) -> list[str]:
    """The main table: one line per available implementation, N and GC state."""
    order = {impl.id: k for k, impl in enumerate(impls)}
    available = {impl.id for impl in impls if impl.forward is not None}
    header = [
        "implementation",
        "N",
        "GC",
        "forward ms",
        "backward ms",
        "bwd/fwd",
        "bwd vs micrograd",
        "samples",
        "bwd spread",
        "status",
    ]
    table = [header]
    for r in sorted(rows, key=lambda r: (r.n, order.get(r.impl, 99), GC_STATES.index(r.gc))):
        if r.impl not in available:
            continue  # the header says why
        status = r.status if r.status != "ok" else ""
        if r.wrong:
            status = f"{status} WRONG GRADIENTS in {r.wrong}".strip()
        table.append(
            [
                r.impl,
                f"{r.n:,}",
                r.gc,
                _ms(r.forward_ms),
                _ms(r.backward_ms),
                _x(r.ratio),
                _x(r.vs_micrograd),
                str(r.samples),
                "-" if r.spread is None else f"{100 * r.spread:.0f}%",
                status,
            ]
        )
    return grid(table)


def format_verdicts(checks: list[Verdict]) -> list[str]:
    """One line per target."""
    lines = []
    for v in checks:
        where = f"N = {v.n:,}" + (f", GC {v.gc}" if v.gc != "-" else "")
        measured = f"measured {v.measured:.2f}" if v.measured is not None else ""
        limit = f"(limit {v.limit:g})" if v.limit is not None and v.measured is not None else ""
        text = " ".join(t for t in (measured, limit, v.note) if t)
        lines.append(f"  {v.status:<4}  memokit {v.target:<24} {where:<22} {text}")
    return lines


def load_average() -> str:
    """The 1, 5 and 15 minute load averages (other work on the machine skews timings)."""
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def header_lines(impls: list[Impl], config: Config, now: str) -> list[str]:
    """Python, platform, versions, date and settings."""
    versions = ", ".join(f"{i.id} {i.version}" + (f" ({i.note})" if i.note else "") for i in impls)
    return [
        f"bench_grad  {now}",
        f"python    {sys.version.split()[0]} ({platform.python_implementation()}), {sys.version}",
        f"platform  {platform.platform()}  ({os.cpu_count()} CPUs, load average {load_average()})",
        f"versions  {versions}",
        f"memokit from {Path(memokit.__file__).resolve().parent} (source sha256"
        f" {memokit_fingerprint()})",
        f"graph     {GRAPH}, repeated; N = nodes (N // 3 steps + 2 leaves)",
        f"settings  rounds per N {dict(sorted(config.repeats.items()))}, run in a thread with a"
        f" {config.stack_mb} MiB stack, recursion limit {RECURSION_LIMIT:,}"
        f"{'  [--quick]' if config.quick else ''}",
        "GC        'on' rows: enabled while timing; 'off' rows: gc.disable() around the timed"
        " part; gc.collect() before every sample either way",
    ]


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, Config]:
    parser = argparse.ArgumentParser(
        description="memokit's gradient against micrograd and PyTorch on a deep chain graph."
    )
    parser.add_argument("--quick", action="store_true", help="N = 10^3 and 10^4, 1-2 rounds")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write samples and results")
    parser.add_argument("--repeats", type=int, metavar="K", help="rounds per N (10^6: K // 3)")
    parser.add_argument(
        "--only",
        metavar="IDS",
        help="comma-separated subset of memokit,micrograd,torch,inline-pull,inline-push",
    )
    parser.add_argument("--stack-mb", type=int, default=512, help="thread stack (default 512)")
    parser.add_argument("--seed", type=int, default=4, help="seed of the shuffled order")
    parser.add_argument(
        "--profile", type=int, metavar="N", help="only print cProfile of memokit's backward at N"
    )
    parser.add_argument("--probe", nargs=2, metavar=("IMPL", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    repeats = dict(QUICK_REPEATS if args.quick else DEFAULT_REPEATS)
    if args.repeats is not None:
        if args.repeats < 1:
            parser.error("--repeats must be at least 1")
        repeats = {n: (max(1, args.repeats // 3) if n >= 10**6 else args.repeats) for n in repeats}
    used = {n for ns in sizes.values() for n in ns}
    repeats = {n: k for n, k in repeats.items() if n in used}
    config = Config(args.quick, dict(sizes), repeats, args.stack_mb, args.seed)
    return args, config


def profile_backward(n: int) -> None:
    """Print the top lines of cProfile for memokit's backward on the chain of ``n`` nodes."""
    impl = memokit_impl()
    assert impl.forward is not None and impl.backward is not None
    graph = impl.forward(n // 3)
    gc.collect()
    profiler = cProfile.Profile()
    profiler.enable()
    impl.backward(graph)
    profiler.disable()
    print(f"cProfile of memokit grad() on the chain, N = {n:,} (sorted by own time)")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


def main(argv: list[str] | None = None) -> int:
    args, config = parse_args(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(errors="replace")
    if args.probe:
        impl_id, n = args.probe
        return int(in_big_stack(lambda: run_probe(impl_id, int(n)), config.stack_mb))
    if args.profile:
        profile_backward(args.profile)
        return 0
    only = set(args.only.split(",")) if args.only else None
    impls = build_impls(only)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    for line in header_lines(impls, config, now):
        print(line, flush=True)
    print(flush=True)
    gc_was_enabled = gc.isenabled()
    started = time.perf_counter()

    def log(text: str) -> None:
        print(text, flush=True)

    try:
        cells: list[Cell] = in_big_stack(lambda: measure(impls, config, log), config.stack_mb)
    finally:
        if gc_was_enabled:
            gc.enable()
    elapsed = time.perf_counter() - started
    rows = summarize(cells)
    checks = verdicts(rows, config)
    print()
    for line in format_rows(rows, impls):
        print(line)
    print()
    print("  forward = building the graph; backward = the gradient call (micrograd: backward(),")
    print("  its topological sort included). Medians over rounds; bwd/fwd = median of each")
    print("  sample's own ratio; bwd vs micrograd = median over rounds of backward / micrograd's")
    print("  backward at the same N and GC state (lower is faster). bwd spread = interquartile")
    print("  range / median of the backward samples: the noise of this machine while measuring.")
    print()
    print("targets (timings are reported, never enforced: the exit status is 0)")
    for line in format_verdicts(checks):
        print(line)
    print(f"\n{elapsed:.0f} s in all; load average now {load_average()}")
    if args.json:
        write_json(args.json, impls, config, cells, rows, checks, now, elapsed)
        print(f"JSON written to {args.json}")
    return 0


def write_json(
    path: Path,
    impls: list[Impl],
    config: Config,
    cells: list[Cell],
    rows: list[Row],
    checks: list[Verdict],
    now: str,
    elapsed: float,
) -> None:
    """Write the settings, every sample, the medians and the verdicts."""
    samples = {(c.impl, c.n, c.gc): c for c in cells}
    data = {
        "meta": {
            "date": now,
            "python": sys.version,
            "implementation": platform.python_implementation(),
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "load_average_end": load_average(),
            "memokit_source_sha256_12": memokit_fingerprint(),
            "graph": GRAPH,
            "quick": config.quick,
            "rounds": {str(n): k for n, k in sorted(config.repeats.items())},
            "stack_mb": config.stack_mb,
            "recursion_limit": RECURSION_LIMIT,
            "elapsed_s": elapsed,
        },
        "implementations": {
            i.id: {
                "label": i.label,
                "version": i.version,
                "available": i.forward is not None,
                "note": i.note,
            }
            for i in impls
        },
        "rows": [
            {
                "impl": r.impl,
                "n": r.n,
                "nodes": r.nodes,
                "gc": r.gc,
                "status": r.status,
                "samples": r.samples,
                "forward_ms": r.forward_ms,
                "backward_ms": r.backward_ms,
                "backward_over_forward": r.ratio,
                "backward_vs_micrograd": r.vs_micrograd,
                "wrong_gradients": r.wrong,
                "backward_iqr_over_median": r.spread,
                "forward_samples_ms": samples[r.impl, r.n, r.gc].forward_ms,
                "backward_samples_ms": samples[r.impl, r.n, r.gc].backward_ms,
            }
            for r in rows
        ],
        "targets": [
            {
                "target": v.target,
                "n": v.n,
                "gc": v.gc,
                "status": v.status,
                "measured": v.measured,
                "limit": v.limit,
                "note": v.note,
            }
            for v in checks
        ],
    }
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
