"""Fibonacci to n = 1,000,000 with @dp: the recursion as written, no RecursionError.

The lecture notes memoize fib with a dict and call fib(2000); on a plain
CPython that dies with RecursionError (the limit is 1,000 frames). Writing
each sub-call as ``yield fib(n - 1)`` lets memokit's engine keep the frames
on its own stack, so the same recursion runs a million frames deep.

Run it:  python examples/dp_fib.py          (n = 1,000,000, a few seconds)
         python examples/dp_fib.py --quick  (n = 20,000)
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Generator

from memokit import dp

MOD = 1_000_000_007  # fib(10**6) has 208,988 digits: keep it mod a prime


@dp
def fib(n: int) -> Generator[int, int, int]:
    """Return the n-th Fibonacci number mod 1,000,000,007, recursively."""
    if n < 2:
        return n
    a = yield fib(n - 1)
    b = yield fib(n - 2)
    return (a + b) % MOD


# The lecture notes' memoized fib, with its own dict, for comparison.
notes_memo = {0: 0, 1: 1}


def notes_fib(n: int) -> int:
    """Return fib(n) the way the notes memoize it: plain recursion and a dict."""
    if n not in notes_memo:
        notes_memo[n] = notes_fib(n - 1) + notes_fib(n - 2)
    return notes_memo[n]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fibonacci a million frames deep with @dp.")
    parser.add_argument("--quick", action="store_true", help="n = 20,000 instead of 1,000,000")
    n = 20_000 if parser.parse_args(argv).quick else 1_000_000

    print(f"The notes' dict-memoized fib(2000), recursion limit {sys.getrecursionlimit()}:")
    try:
        notes_fib(2000)
        print("  it worked (this interpreter's limit is high enough)")
    except RecursionError as exc:
        print(f"  RecursionError: {exc}")

    start = time.perf_counter()
    value = fib(n)
    seconds = time.perf_counter() - start
    info = fib.cache_info()
    print(f"\n@dp fib({n:,}) mod {MOD:,} = {value:,}")
    print(f"  {seconds:.2f} s, {info.misses:,} sub-problems computed, {info.hits:,} hits")
    print(f"  the recursion was {n:,} frames deep, on memokit's stack")


if __name__ == "__main__":
    main()
