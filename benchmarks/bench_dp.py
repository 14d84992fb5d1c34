"""Time memokit's ``dp`` engine against memoized recursion and a bottom-up loop.

Per-sub-problem times, side by side in one process, of four ways to compute
the same dynamic programme:

* ``dp``: memokit's explicit-stack engine (``x = yield f(...)``);
* ``memoize``: plain recursion under ``@memokit.memoize``;
* ``lru_cache``: plain recursion under ``functools.lru_cache(maxsize=None)``;
* ``bottom_up``: a hand-written loop over the table (no memo, no recursion).

The two recursive rows run with the recursion limit raised to 10**7, each
sample in a fresh thread whose stack is ``threading.stack_size(--stack-mb)``.
Where they still fail (since CPython 3.12 the C recursion limit stops
``lru_cache`` whatever the settings), the table says ``RecursionError``.

Every sample is cold (fresh cache). One round takes one sample of every row
of a problem, in a shuffled order, so the rows a ratio compares are measured
moments apart; the table shows medians over the rounds, in ns per
sub-problem (sub-problems = entries the recursion stored; all table cells for
bottom_up), and each median's ratio to ``lru_cache``. The edit distance is
the classic recursion (delete, insert, substitute: three sub-calls, every
cell visited), ``len(a) + len(b)`` frames deep. GC stays enabled unless
``--no-gc`` is given (a full collection runs, untimed, before each sample).
Each answer is checked against the bottom-up one.

Peak memory is measured first, once per row for the largest Fibonacci size:
``tracemalloc``'s peak (Python allocations, memo table included; the C stack
of a recursion is not counted, and recursive rows deeper than
TRACE_DEPTH_LIMIT are not traced, tracemalloc being quadratic in depth) and,
on Linux, how much the process's peak RSS grew (recursive rows in a fresh
thread, so their stack counts).

With GC on, expect the Python-level rows (dp, memoize) to slow down on the
4-million-entry edit distance: each full collection walks the memo dict
(its tuple keys keep it tracked), and the generators on dp's stack make full
collections more frequent. Compare with ``--no-gc``.

Usage::

    python benchmarks/bench_dp.py               # full run, a few minutes
    python benchmarks/bench_dp.py --quick       # smoke run, seconds
    python benchmarks/bench_dp.py --no-gc --json out.json
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import platform
import queue
import random
import statistics
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Measure the working tree's memokit, not an installed copy.
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from memokit import dp, memoize  # noqa: E402

MOD = 1_000_000_007
SEED = 20240611
REFERENCE = "lru_cache"
ROWS = ("dp", "memoize", "lru_cache", "bottom_up")
RECURSIVE = ("memoize", "lru_cache")


@dataclass(frozen=True)
class Subject:
    """One row's way to compute one problem, built once and run cold many times."""

    call: Callable[[], int]  # compute the answer
    clear: Callable[[], None]  # forget every stored sub-problem
    count: Callable[[], int]  # how many sub-problems the last call computed


# ---------------------------------------------------------------- the problems


def fib_dp(n: int) -> Subject:
    """Fibonacci mod MOD with memokit.dp."""

    @dp
    def fib(k: int) -> Generator[int, int, int]:
        if k < 2:
            return k
        a = yield fib(k - 1)
        b = yield fib(k - 2)
        return (a + b) % MOD

    return Subject(lambda: fib(n), fib.cache_clear, lambda: fib.cache_info().currsize)


def fib_recursive(decorate: Callable[[Callable[[int], int]], Any], n: int) -> Subject:
    """Fibonacci mod MOD as plain recursion under ``decorate``."""

    memo: Callable[[int], int]

    def fib(k: int) -> int:
        if k < 2:
            return k
        return (memo(k - 1) + memo(k - 2)) % MOD

    cached = memo = decorate(fib)
    return Subject(lambda: memo(n), cached.cache_clear, lambda: cached.cache_info().currsize)


def fib_bottom_up(n: int) -> Subject:
    """Fibonacci mod MOD with a loop."""

    def fib() -> int:
        a, b = 0, 1
        for _ in range(n):
            a, b = b, (a + b) % MOD
        return a

    return Subject(fib, lambda: None, lambda: n + 1)


def edit_dp(a: str, b: str) -> Subject:
    """Levenshtein distance with memokit.dp."""

    @dp
    def d(i: int, j: int) -> Generator[int, int, int]:
        if i == 0:
            return j
        if j == 0:
            return i
        x = yield d(i - 1, j)
        y = yield d(i, j - 1)
        z = yield d(i - 1, j - 1)
        return min(x + 1, y + 1, z + (a[i - 1] != b[j - 1]))

    return Subject(lambda: d(len(a), len(b)), d.cache_clear, lambda: d.cache_info().currsize)


def edit_recursive(decorate: Callable[[Callable[[int, int], int]], Any], a: str, b: str) -> Subject:
    """Levenshtein distance as plain recursion under ``decorate``."""

    memo: Callable[[int, int], int]

    def d(i: int, j: int) -> int:
        if i == 0:
            return j
        if j == 0:
            return i
        x = memo(i - 1, j)
        y = memo(i, j - 1)
        z = memo(i - 1, j - 1)
        return min(x + 1, y + 1, z + (a[i - 1] != b[j - 1]))

    cached = memo = decorate(d)
    return Subject(
        lambda: memo(len(a), len(b)), cached.cache_clear, lambda: cached.cache_info().currsize
    )


def edit_bottom_up(a: str, b: str) -> Subject:
    """Levenshtein distance with the two-row table loop."""

    def distance() -> int:
        prev = list(range(len(b) + 1))
        for i in range(1, len(a) + 1):
            cur = [i] + [0] * len(b)
            ai = a[i - 1]
            for j in range(1, len(b) + 1):
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ai != b[j - 1]))
            prev = cur
        return prev[len(b)]

    return Subject(distance, lambda: None, lambda: (len(a) + 1) * (len(b) + 1))


# ---------------------------------------------------------------- running


def _lru(fn: Callable[..., int]) -> Any:
    return functools.lru_cache(maxsize=None)(fn)


@dataclass(frozen=True)
class Problem:
    """One group of rows: a problem at one size, with a subject per row."""

    name: str
    rounds: int  # samples per row
    reps: int  # cold runs per sample (so that small problems give long samples)
    subjects: dict[str, Subject]


def build_problems(
    fib_sizes: list[int], edit_len: int, plan: dict[int, tuple[int, int]]
) -> list[Problem]:
    """The Fibonacci sizes and the edit-distance problem, with their subjects."""
    problems = []
    for n in fib_sizes:
        subjects = {
            "dp": fib_dp(n),
            "memoize": fib_recursive(memoize, n),
            "lru_cache": fib_recursive(_lru, n),
            "bottom_up": fib_bottom_up(n),
        }
        problems.append(Problem(f"fib n={n:,}", *plan[n], subjects))
    rng = random.Random(SEED)
    a = "".join(rng.choice("ACGT") for _ in range(edit_len))
    b = "".join(rng.choice("ACGT") for _ in range(edit_len))
    subjects = {
        "dp": edit_dp(a, b),
        "memoize": edit_recursive(memoize, a, b),
        "lru_cache": edit_recursive(_lru, a, b),
        "bottom_up": edit_bottom_up(a, b),
    }
    problems.append(Problem(f"edit {edit_len:,}x{edit_len:,}", *plan[-1], subjects))
    return problems


@dataclass
class Sample:
    """``reps`` cold runs: total seconds, last answer and total sub-problems, or an error."""

    seconds: float = 0.0
    answer: int = 0
    subproblems: int = 0
    error: str = ""


def timed(subject: Subject, reps: int) -> Sample:
    """Run ``subject`` cold ``reps`` times, timing only the calls."""
    out = Sample()
    for _ in range(reps):
        subject.clear()
        t0 = time.perf_counter()
        try:
            out.answer = subject.call()
        except RecursionError:
            subject.clear()
            return Sample(error="RecursionError")
        out.seconds += time.perf_counter() - t0
        out.subproblems += subject.count()
        subject.clear()
    return out


class DeepThread:
    """A worker thread with a large stack that runs the recursive rows' samples.

    One long-lived thread, so that its stack pages are touched once, not once
    per sample: the recursive rows are timed in their best conditions.
    """

    def __init__(self, stack_mb: int) -> None:
        self._jobs: queue.Queue[Callable[[], Any] | None] = queue.Queue()
        self._results: queue.Queue[tuple[bool, Any]] = queue.Queue()
        old = threading.stack_size()
        threading.stack_size(stack_mb << 20)
        try:
            self._thread = threading.Thread(target=self._serve, daemon=True)
            self._thread.start()
        finally:
            threading.stack_size(old)

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                self._results.put((True, job()))
            except BaseException as exc:
                self._results.put((False, exc))

    def call(self, job: Callable[[], Any]) -> Any:
        """Run ``job`` in the worker thread and return its result."""
        self._jobs.put(job)
        ok, value = self._results.get()
        if not ok:
            raise value
        return value

    def close(self) -> None:
        """Stop the worker thread."""
        self._jobs.put(None)
        self._thread.join()


def measure(problem: Problem, deep: DeepThread, gc_enabled: bool) -> dict[str, Result]:
    """Take ``problem.rounds`` interleaved rounds of samples; a failing row is not retried."""
    results = {row: Result() for row in problem.subjects}
    rng = random.Random(SEED)
    rows = list(results)
    gc_was_enabled = gc.isenabled()
    try:
        for _ in range(problem.rounds):
            rng.shuffle(rows)
            for row in rows:
                if results[row].error:
                    continue
                subject = problem.subjects[row]
                gc.collect()
                if not gc_enabled:
                    gc.disable()
                try:
                    if row in RECURSIVE:
                        got: Sample = deep.call(functools.partial(timed, subject, problem.reps))
                    else:
                        got = timed(subject, problem.reps)
                finally:
                    if gc_was_enabled:
                        gc.enable()
                results[row].samples.append(got)
    finally:
        if gc_was_enabled:
            gc.enable()
    return results


@dataclass
class Result:
    """All samples of one row of one problem."""

    samples: list[Sample] = field(default_factory=list)

    @property
    def error(self) -> str:
        return next((s.error for s in self.samples if s.error), "")

    def ns_per_subproblem(self) -> list[float]:
        return [s.seconds / s.subproblems * 1e9 for s in self.samples if not s.error]

    def median(self) -> float:
        return statistics.median(self.ns_per_subproblem())


def check(problem: str, results: dict[str, Result]) -> list[str]:
    """Return a line per sample whose answer differs from bottom_up's."""
    want = results["bottom_up"].samples[0].answer
    return [
        f"{problem}: {row} answered {s.answer}, bottom_up {want}"
        for row, result in results.items()
        for s in result.samples
        if not s.error and s.answer != want
    ]


#: tracemalloc walks the whole Python stack on every allocation, so a traced
#: recursion is quadratic in its depth: deeper recursive rows are not traced.
TRACE_DEPTH_LIMIT = 5_000


def _rss_kib(field_name: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


@dataclass
class Memory:
    """One cold run's peak memory: tracemalloc's peak and the growth of peak RSS."""

    traced: int | None = None  # bytes; None: not traced (see TRACE_DEPTH_LIMIT)
    rss: int | None = None  # bytes; None: not measurable here (Linux /proc only)
    error: str = ""


def peak_memory(subject: Subject, recursive: bool, depth: int, fresh_stack_mb: int) -> Memory:
    """Peak memory of one cold run, in a fresh thread for recursive rows (its stack counts)."""

    def traced() -> Memory:
        out = Memory()
        subject.clear()
        gc.collect()
        if not recursive or depth <= TRACE_DEPTH_LIMIT:
            tracemalloc.start()
            try:
                subject.call()
            except RecursionError:
                out.error = "RecursionError"
            finally:
                out.traced = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
            subject.clear()
            gc.collect()
        if out.error:
            return out
        before = _rss_kib("VmRSS")
        if before is not None and _reset_peak_rss():
            try:
                subject.call()
            except RecursionError:
                out.error = "RecursionError"
            peak = _rss_kib("VmHWM")
            if peak is not None:
                out.rss = (peak - before) * 1024
        subject.clear()
        return out

    if recursive:
        deep = DeepThread(fresh_stack_mb)
        try:
            got: Memory = deep.call(traced)
        finally:
            deep.close()
        return got
    return traced()


# ---------------------------------------------------------------- reporting


def table(all_results: dict[str, dict[str, Result]], problems: list[Problem]) -> list[str]:
    """The results table: median ns per sub-problem and its ratio to lru_cache's."""
    header = (
        f"{'problem':<18} {'row':<10} {'ns/sub-problem':>15} {'min':>9} {'x lru_cache':>12}"
        f" {'samples':>8}"
    )
    lines = [header, "-" * len(header)]
    for problem in problems:
        results = all_results[problem.name]
        reference = results.get(REFERENCE)
        ref = reference.median() if reference is not None and not reference.error else None
        for row in ROWS:
            result = results[row]
            if result.error:
                lines.append(f"{problem.name:<18} {row:<10} {result.error:>15}")
                continue
            median = result.median()
            ratio = f"{median / ref:.2f}x" if ref else "-"
            low = min(result.ns_per_subproblem())
            lines.append(
                f"{problem.name:<18} {row:<10} {median:>15,.0f} {low:>9,.0f} {ratio:>12}"
                f" {len(result.samples):>4}x{problem.reps:<3}"
            )
    return lines


def memory_lines(name: str, memory: dict[str, Memory]) -> list[str]:
    """The peak-memory lines for the largest Fibonacci problem."""

    def mib(value: int | None) -> str:
        return "-" if value is None else f"{value / 2**20:,.1f} MiB"

    lines = [
        f"peak memory, one cold run of {name} (tracemalloc peak; growth of peak RSS):",
    ]
    for row, m in memory.items():
        if m.error:
            lines.append(f"  {row:<10} {m.error}")
        else:
            traced = mib(m.traced) if m.traced is not None else "not traced (too deep)"
            lines.append(f"  {row:<10} {traced:>22}   {mib(m.rss):>12}")
    return lines


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Time memokit.dp against @memoize / lru_cache recursion and a bottom-up "
        "loop on Fibonacci and edit distance.",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="write samples and results")
    parser.add_argument("--quick", action="store_true", help="small sizes, few rounds (seconds)")
    parser.add_argument("--no-gc", action="store_true", help="disable GC while measuring")
    parser.add_argument(
        "--stack-mb", type=int, default=2048, help="thread stack for the recursive rows (MiB)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # size -> (samples per row, cold runs per sample); -1 is the edit distance
    plan: dict[int, tuple[int, int]]
    if args.quick:
        fib_sizes, edit_len = [1_000, 20_000], 150
        plan = {1_000: (3, 10), 20_000: (3, 1), -1: (3, 1)}
    else:
        fib_sizes, edit_len = [1_000, 100_000, 1_000_000], 2_000
        plan = {1_000: (21, 50), 100_000: (7, 1), 1_000_000: (3, 1), -1: (3, 1)}
    problems = build_problems(fib_sizes, edit_len, plan)
    started = time.perf_counter()
    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(10**7)
    deep = DeepThread(args.stack_mb)
    all_results: dict[str, dict[str, Result]] = {}
    wrong: list[str] = []
    memory: dict[str, Memory] = {}
    biggest = problems[len(fib_sizes) - 1]
    try:
        # Memory first, while the process has freed nothing it could reuse.
        for row in ROWS:
            subject = biggest.subjects[row]
            memory[row] = peak_memory(subject, row in RECURSIVE, fib_sizes[-1], args.stack_mb)
        for problem in problems:
            all_results[problem.name] = measure(problem, deep, not args.no_gc)
            wrong += check(problem.name, all_results[problem.name])
    finally:
        deep.close()
        sys.setrecursionlimit(old_limit)
    elapsed = time.perf_counter() - started

    print(
        f"memokit dp benchmark: Python {platform.python_version()} "
        f"({platform.python_implementation()}) on {platform.machine()}, "
        f"GC {'off' if args.no_gc else 'on'}; recursive rows in a thread with a "
        f"{args.stack_mb} MiB stack, recursion limit 10**7"
    )
    print("samples: rounds x cold runs per sample; ratios compare medians")
    print()
    for line in table(all_results, problems):
        print(line)
    print()
    for line in memory_lines(biggest.name, memory):
        print(line)
    print()
    if wrong:
        print("WRONG ANSWERS:")
        for line in wrong:
            print("  " + line)
    else:
        print("every answer agrees with bottom_up")
    print(f"({elapsed:.0f} s)")

    if args.json is not None:
        report: dict[str, Any] = {
            "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "gc": not args.no_gc,
            "stack_mb": args.stack_mb,
            "quick": args.quick,
            "problems": {
                name: {
                    row: {
                        "error": result.error,
                        "median_ns_per_subproblem": None if result.error else result.median(),
                        "ratio_to_lru_cache": (
                            None
                            if result.error or results[REFERENCE].error
                            else result.median() / results[REFERENCE].median()
                        ),
                        "samples": [vars(s) for s in result.samples],
                    }
                    for row, result in results.items()
                }
                for name, results in all_results.items()
            },
            "peak_memory": {
                "problem": biggest.name,
                **{row: vars(m) for row, m in memory.items()},
            },
            "wrong_answers": wrong,
        }
        args.json.write_text(json.dumps(report, indent=2))
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
