"""The Fibonacci lesson as text: turns :mod:`memokit.tour.lessons.fib`'s data into lines."""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Iterator

from memokit.tour.lessons import fib, progress
from memokit.tour.lessons._format import format_seconds
from memokit.tour.lessons.fib import PHI, DeepRun

__all__ = ["calls_and_times", "dp_engine", "recursion_limit"]


def _digits(value: int) -> str:
    text = str(value)
    if len(text) <= 24:
        return text
    return f"{text[:12]}…{text[-12:]} ({len(text):,} digits)"


def _outcome(run: DeepRun) -> str:
    if run.error is not None:
        return run.error
    assert run.value is not None
    return f"{_digits(run.value)} in {format_seconds(run.seconds)}"


def calls_and_times(quick: bool) -> Iterator[str]:
    """Naive fib(n) against @memoize fib(n): counted calls and times, row by row."""
    yield "fib(n) = fib(n-1) + fib(n-2), run as plain recursion and under @memoize."
    yield "Each version bumps a counter on every call; times are wall-clock, measured now."
    yield ""
    yield (
        f"  {'n':>3} {'fib(n)':>8} {'naive calls':>12} {'φⁿ':>9} {'calls/φⁿ':>9}"
        f" {'naive time':>11} {'memo calls':>11} {'memo time':>10}"
    )
    rows = []
    for n in fib.QUICK_NS if quick else fib.FULL_NS:
        progress.note(f"naive and memoized fib({n})")
        (row,) = fib.compare([n])
        rows.append(row)
        yield (
            f"  {row.n:>3} {row.value:>8,} {row.naive_calls:>12,} {row.phi_n:>9,.0f}"
            f" {row.calls_per_phi_n:>9.3f} {format_seconds(row.naive_seconds):>11}"
            f" {row.memo_calls:>11,} {format_seconds(row.memo_seconds):>10}"
        )
    yield ""
    yield (
        f"Naive calls grow like φⁿ (φ = {PHI:.3f}): calls/φⁿ stays near 1.447, so each"
        f" step of 5 in n costs about φ⁵ ≈ {PHI**5:.1f} times more."
    )
    yield "Memoized calls are n + 1: fib(0) … fib(n) each run once; every repeat is a hit."
    last = rows[-1]
    per_call = last.naive_seconds / last.naive_calls
    estimates = [
        f"fib({n}) ≈ {format_seconds(per_call * fib.naive_calls_estimate(n))}" for n in (38, 40)
    ]
    yield (
        f"The notes say naive fib(38) takes seconds and fib(40) minutes. At the"
        f" {per_call * 1e9:.0f} ns per call measured for fib({last.n}) here:"
        f" {' and '.join(estimates)} (estimated from 2·fib(n+1) - 1 calls, not run)."
    )


def recursion_limit(quick: bool) -> Iterator[str]:
    """The notes' dict-memoized fib(2000), then @memoize, against the recursion limit."""
    yield "The notes memoize fib with a dict, dic = {0: 1, 1: 1}, and print fib(2000):"
    yield ""
    seed = fib.make_seed_fib()
    try:
        source = textwrap.dedent(inspect.getsource(seed))
    except OSError:  # no source files (e.g. a frozen build): show the run only
        source = ""
    for line in source.splitlines():
        yield "    " + line.split("  # noqa")[0]
    yield ""
    notes = fib.attempt(seed, 2000)
    memoized, _ = fib.make_memoized_fib()
    memo = fib.attempt(memoized, 2000)
    yield f"Here, with sys.getrecursionlimit() = {notes.recursion_limit}:"
    yield f"  the notes' fib(2000):  {_outcome(notes)}"
    yield f"  @memoize fib(2000):    {_outcome(memo)}"
    if notes.error is not None or memo.error is not None:
        yield (
            "A cold fib(2000) nests about 2,000 calls before the first one returns, and Python"
            " stops at its recursion limit; a memo only helps once values exist."
        )
    else:
        yield "No RecursionError on this interpreter at this limit."
    filled = fib.fill_bottom_up(fib.make_seed_fib(), 2000)
    assert filled.value is not None
    same = (
        "the number the notes print"
        if str(filled.value) == fib.NOTES_FIB_2000
        else "NOT the number the notes print"
    )
    yield (
        "Calling the notes' fib bottom-up instead, fib(0), fib(1), …, fib(2000), keeps every"
        f" call shallow: {_outcome(filled)}, {same}."
    )


def dp_engine(quick: bool) -> Iterator[str]:
    """memokit.dp running the same recursion on its own stack, past the recursion limit."""
    yield "memokit.dp runs the recursion on its own stack, so sys.getrecursionlimit() is no wall:"
    exact = fib.run_dp(2000)
    same = "the notes' number" if str(exact.value) == fib.NOTES_FIB_2000 else "NOT the notes'"
    yield f"  fib(2000):  {_outcome(exact)}, {same}"
    n = 10**5 if quick else 10**6
    progress.note(f"fib({n:,}) on memokit.dp's own stack")
    deep = fib.run_dp(n, fib.PRIME)
    check = (
        "as a bottom-up loop gives"
        if deep.value == fib.fib_mod(n, fib.PRIME)
        else "NOT what a bottom-up loop gives"
    )
    yield f"  fib({n:,}) mod {fib.PRIME:,}:  {_outcome(deep)}, {check}"
