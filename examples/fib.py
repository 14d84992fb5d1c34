"""Naive Fibonacci against memoized Fibonacci: calls counted, times measured.

It follows the notes of a deep-learning lecture on memoization in
backpropagation (as `python -m memokit tour` does), which define memoization
with Fibonacci: naive recursion, then a dict-memoized fib(2000).

Run it:  python examples/fib.py          (n up to 30)
         python examples/fib.py --quick  (n up to 25)
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

from memokit import memoize

PHI = (1 + 5**0.5) / 2  # naive fib(n) makes about 1.45 * PHI**n calls
calls = 0  # every fib below adds 1 here each time it runs


def naive_fib(n: int) -> int:
    """Plain recursion: fib(n - 1) and fib(n - 2) each recompute everything below them."""
    global calls
    calls += 1
    return n if n < 2 else naive_fib(n - 1) + naive_fib(n - 2)


def make_memo_fib() -> Callable[[int], int]:
    """The same recursion under @memoize, with a fresh, empty cache."""

    @memoize
    def memo_fib(n: int) -> int:
        global calls
        calls += 1
        return n if n < 2 else memo_fib(n - 1) + memo_fib(n - 2)

    return memo_fib


# The lecture notes' memoized fib, as written there, with its own dict.
dic = {0: 1, 1: 1}


def fib(n: int) -> int:
    if n == 0:
        return 0
    if n == 1:
        return 1
    if n not in dic.keys():  # noqa: SIM118 (as in the notes)
        dic[n] = fib(n - 1) + fib(n - 2)
        return dic[n]
    else:
        return dic[n]


def count_and_time(function: Callable[[int], int], n: int) -> tuple[int, str]:
    """Call function(n) once; return its value, and its call count and time as text."""
    global calls
    calls = 0
    start = time.perf_counter()
    value = function(n)
    ms = (time.perf_counter() - start) * 1000
    return value, f"{calls:>10,} calls {ms:>9.3f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description="Naive against memoized Fibonacci.")
    parser.add_argument("--quick", action="store_true", help="stop at n = 25")
    quick = parser.parse_args().quick

    naive_head, memo_head = "naive: calls, time", "@memoize: calls, time"
    print(f"{'n':>3} {'fib(n)':>8} {'PHI**n':>10}   {naive_head:>26}   {memo_head:>26}")
    for n in (10, 15, 20, 25) if quick else (10, 15, 20, 25, 30):
        value, naive = count_and_time(naive_fib, n)
        _, memo = count_and_time(make_memo_fib(), n)
        print(f"{n:>3} {value:>8,} {PHI**n:>10,.0f}   {naive}   {memo}")
    print("Naive calls grow like PHI**n; memoized calls are n + 1.")

    print(f"\nThe notes' fib(2000), with Python's recursion limit at {sys.getrecursionlimit()}:")
    try:
        print(f"  {fib(2000)}")
    except RecursionError as error:
        print(f"  RecursionError: {error}")
        print("  A cold fib(2000) nests 2,000 calls deep, past Python's recursion limit.")
    print("memokit.dp runs such recursion without that limit: see examples/dp_fib.py.")


if __name__ == "__main__":
    main()
