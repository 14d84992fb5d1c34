"""Fibonacci, three ways: naive recursion, ``@memoize``, and the lecture notes' dict.

Every call count here is counted by a counter the function itself bumps;
only :func:`naive_calls_estimate`, used for sizes too slow to run, is a
formula. Times come from ``time.perf_counter``.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass

from memokit import dp, memoize

__all__ = [
    "FULL_NS",
    "NOTES_FIB_2000",
    "PHI",
    "PRIME",
    "QUICK_NS",
    "DeepRun",
    "Row",
    "Run",
    "attempt",
    "compare",
    "fib_mod",
    "fill_bottom_up",
    "make_memoized_fib",
    "make_seed_fib",
    "naive_calls_estimate",
    "run_dp",
    "run_memoized",
    "run_naive",
]

#: The golden ratio: naive fib(n) makes about 1.45 * PHI**n calls.
PHI = (1 + math.sqrt(5)) / 2

#: The n the tour measures, quick and full: each step of 5 multiplies the naive calls by φ⁵ ≈ 11.
QUICK_NS = (10, 15, 20, 25)
FULL_NS = (10, 15, 20, 25, 30)

#: fib(2000) as printed in the lecture notes, 418 digits.
NOTES_FIB_2000 = (
    "422469633339230487870672560234148278257985284025068109801028013731430858437013070722"
    "412359963914151108844608753890960360764019471164359602927198331259873732625355580260"
    "699158591522949245390499872225679531698287448247299226390183371677806060701161549788"
    "671987985831146887087626459736908672288402365442229524334796448013951534956297208765"
    "2656069529806499841977448720155612802665404554171717881930324025204312082516817125"
)


@dataclass(frozen=True)
class Run:
    """One timed call: its argument, result, counted calls and seconds."""

    n: int
    value: int
    calls: int
    seconds: float


def run_naive(n: int) -> Run:
    """Compute fib(n) by plain recursion, counting every call."""
    calls = 0

    def fib(k: int) -> int:
        nonlocal calls
        calls += 1
        return k if k < 2 else fib(k - 1) + fib(k - 2)

    start = time.perf_counter()
    value = fib(n)
    return Run(n, value, calls, time.perf_counter() - start)


def make_memoized_fib() -> tuple[Callable[[int], int], Callable[[], int]]:
    """Return a fresh ``@memoize``-d fib and a function reading its call count."""
    calls = 0

    @memoize
    def fib(k: int) -> int:
        nonlocal calls
        calls += 1
        return k if k < 2 else fib(k - 1) + fib(k - 2)

    return fib, lambda: calls


def run_memoized(n: int) -> Run:
    """Compute fib(n) with an empty ``@memoize`` cache, counting every call."""
    fib, calls = make_memoized_fib()
    start = time.perf_counter()
    value = fib(n)
    return Run(n, value, calls(), time.perf_counter() - start)


@dataclass(frozen=True)
class Row:
    """Naive against memoized fib(n): counted calls and seconds of each."""

    n: int
    value: int
    naive_calls: int
    naive_seconds: float
    memo_calls: int
    memo_seconds: float

    @property
    def phi_n(self) -> float:
        """PHI ** n, the growth the naive count follows."""
        return PHI**self.n

    @property
    def calls_per_phi_n(self) -> float:
        """Naive calls divided by PHI ** n; settles near 2 * PHI / sqrt(5) = 1.447."""
        return self.naive_calls / self.phi_n


def compare(ns: Iterable[int]) -> list[Row]:
    """Measure naive and memoized fib(n) for each n."""
    rows = []
    for n in ns:
        naive, memo = run_naive(n), run_memoized(n)
        if naive.value != memo.value:
            raise AssertionError(f"fib({n}): naive {naive.value} != memoized {memo.value}")
        rows.append(Row(n, naive.value, naive.calls, naive.seconds, memo.calls, memo.seconds))
    return rows


def naive_calls_estimate(n: int) -> int:
    """The calls naive fib(n) would make: 2 * fib(n + 1) - 1 (for estimates, not counts)."""
    a, b = 0, 1  # fib(0), fib(1)
    for _ in range(n + 1):
        a, b = b, a + b
    return 2 * a - 1


def fib_mod(n: int, modulus: int) -> int:
    """fib(n) mod ``modulus`` by a bottom-up loop: the check for deep runs."""
    a, b = 0, 1
    for _ in range(n):
        a, b = b, (a + b) % modulus
    return a


def make_seed_fib() -> Callable[[int], int]:
    """Return the lecture notes' dict-memoized fib, as written there, with its own dict."""
    dic = {0: 1, 1: 1}

    def fib(n: int) -> int:
        if n == 0:
            return 0
        if n == 1:
            return 1
        if n not in dic.keys():  # noqa: SIM118 (kept as the notes write it)
            dic[n] = fib(n - 1) + fib(n - 2)
            return dic[n]
        else:
            return dic[n]

    return fib


@dataclass(frozen=True)
class DeepRun:
    """What one call of a recursive fib(n) did: a value, or a RecursionError."""

    n: int
    value: int | None
    error: str | None
    seconds: float
    recursion_limit: int


def attempt(fib: Callable[[int], int], n: int) -> DeepRun:
    """Call ``fib(n)`` and record its value, or the RecursionError it raised."""
    limit = sys.getrecursionlimit()
    start = time.perf_counter()
    try:
        value: int | None = fib(n)
        error = None
    except RecursionError as exc:
        value, error = None, f"RecursionError: {exc}"
    return DeepRun(n, value, error, time.perf_counter() - start, limit)


def fill_bottom_up(fib: Callable[[int], int], n: int) -> DeepRun:
    """Call ``fib(0)``, ``fib(1)``, ..., ``fib(n)`` in order, so each call recurses one level."""
    limit = sys.getrecursionlimit()
    start = time.perf_counter()
    for k in range(n):
        fib(k)
    value = fib(n)
    return DeepRun(n, value, None, time.perf_counter() - start, limit)


#: The modulus for fib(10**6): the exact number has 208,988 digits.
PRIME = 1_000_000_007


def run_dp(n: int, modulus: int | None = None) -> DeepRun:
    """Compute fib(n) (mod ``modulus``) with a fresh ``@memokit.dp`` fib, on its own stack."""

    @dp
    def fib(k: int) -> Generator[int, int, int]:
        if k < 2:
            return k
        a = yield fib(k - 1)
        b = yield fib(k - 2)
        return a + b if modulus is None else (a + b) % modulus

    return attempt(fib, n)
