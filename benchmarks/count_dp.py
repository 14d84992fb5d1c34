"""Count the instructions per sub-problem of a cold dp computation, with callgrind.

The rows of docs/performance.md's "The dp call in C": the same recursion
(``fib`` modulo a prime, or the edit distance of two strings) under
``@dp`` and under recursive ``@memoize`` and ``functools.lru_cache``. For
each row this script runs itself twice under callgrind, once computing the
problem and once not (same imports, same set-up), and prints the difference
divided by the number of sub-problems. Recursive rows run in a thread with a
1 GiB stack and the recursion limit raised, so that they reach the depths.

Rows: ``dp`` (whatever ``@dp`` uses in this process: the compiled front end
and loop when the extension is live), ``dp-generated`` (the generated Python
wrappers on the compiled loop, which ``@dp`` used before the compiled front
end), ``memoize`` and ``lru_cache``. ``--python`` runs every row with
``MEMOKIT_NO_EXTENSIONS=1`` (the Python reference).

Usage::

    python benchmarks/count_dp.py                       # every row, fib 20,000 and edit 100x100
    python benchmarks/count_dp.py dp lru_cache --fib 100000 --edit 200
    python benchmarks/count_dp.py --python dp
    python benchmarks/count_dp.py --run dp fib 1000     # one bare run (no valgrind)
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Generator
from typing import Any

MOD = 1_000_000_007
ROWS = ("dp", "dp-generated", "memoize", "lru_cache")
A_TEXT, B_TEXT = "ACGT" * 1000, "GTCA" * 1000


def _dp_problem(problem: str) -> Callable[[int], Any]:
    """The problem under @dp."""
    from memokit import dp

    if problem == "fib":

        @dp
        def fib(k: int) -> Generator[Any, int, int]:
            if k < 2:
                return k
            a = yield fib(k - 1)
            b = yield fib(k - 2)
            return (a + b) % MOD

        return fib

    @dp
    def edit(i: int, j: int) -> Generator[Any, int, int]:
        if i == 0 or j == 0:
            return i + j
        x = yield edit(i - 1, j)
        y = yield edit(i, j - 1)
        z = yield edit(i - 1, j - 1)
        return min(x + 1, y + 1, z + (A_TEXT[i - 1] != B_TEXT[j - 1]))

    return lambda n: edit(n, n)


def _recursive_problem(row: str, problem: str) -> Callable[[int], Any]:
    """The problem as plain recursion under @memoize or lru_cache."""
    from memokit import memoize

    deco: Callable[[Callable[..., int]], Callable[..., int]]
    deco = memoize if row == "memoize" else functools.lru_cache(maxsize=None)
    if problem == "fib":

        def fib(k: int) -> int:
            return k if k < 2 else (memo_fib(k - 1) + memo_fib(k - 2)) % MOD

        memo_fib = deco(fib)
        return memo_fib

    def edit(i: int, j: int) -> int:
        if i == 0 or j == 0:
            return i + j
        x, y, z = memo_edit(i - 1, j), memo_edit(i, j - 1), memo_edit(i - 1, j - 1)
        return min(x + 1, y + 1, z + (A_TEXT[i - 1] != B_TEXT[j - 1]))

    memo_edit = deco(edit)
    return lambda n: memo_edit(n, n)


def run(row: str, problem: str, n: int) -> None:
    """Set the row up and compute the problem of size ``n`` once (0: set up only)."""
    if row == "dp-generated":
        from memokit import _dp

        _dp._front = None  # new dp functions get the generated wrapper
    compute = _dp_problem(problem) if row.startswith("dp") else _recursive_problem(row, problem)
    sys.setrecursionlimit(10**7)
    threading.stack_size(1 << 30)
    thread = threading.Thread(target=lambda: compute(n) if n else None)
    thread.start()
    thread.join()


def count(row: str, problem: str, n: int, *, python: bool) -> float:
    """Instructions per sub-problem of ``row`` on ``problem`` of size ``n``."""
    env = dict(os.environ, PYTHONHASHSEED="0")
    if python:
        env["MEMOKIT_NO_EXTENSIONS"] = "1"

    def instructions(size: int) -> int:
        command = [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            __file__,
            "--run",
            row,
            problem,
            str(size),
        ]
        proc = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        found = re.search(r"Collected : (\d+)", proc.stderr)
        if proc.returncode != 0 or found is None:
            raise SystemExit(f"callgrind run failed:\n{proc.stderr}")
        return int(found.group(1))

    subproblems = n + 1 if problem == "fib" else (n + 1) ** 2
    return (instructions(n) - instructions(0)) / subproblems


def main() -> None:
    """Parse the command line; count the rows asked for (or run one bare)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", nargs="*", help=f"some of {', '.join(ROWS)} (default: all)")
    parser.add_argument("--fib", type=int, default=20_000, help="fib's n")
    parser.add_argument("--edit", type=int, default=100, help="the edit distance's n (n x n)")
    parser.add_argument("--python", action="store_true", help="MEMOKIT_NO_EXTENSIONS=1")
    parser.add_argument("--run", nargs=3, metavar=("ROW", "PROBLEM", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        row, problem, n = args.run
        run(row, problem, int(n))
        return
    unknown = sorted(set(args.rows) - set(ROWS))
    if unknown:
        parser.error(f"unknown rows {unknown}: choose among {', '.join(ROWS)}")
    built = "python (MEMOKIT_NO_EXTENSIONS=1)" if args.python else "as built"
    print(f"instructions per sub-problem (callgrind), Python {sys.version.split()[0]}, {built}")
    for problem, n in (("fib", args.fib), ("edit", args.edit)):
        for row in args.rows or ROWS:
            per = count(row, problem, n, python=args.python)
            print(f"{problem} n={n:<8,} {row:14} {per:10,.0f}")


if __name__ == "__main__":
    main()
