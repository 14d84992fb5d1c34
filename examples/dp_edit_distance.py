"""Edit distance and longest common subsequence on long strings, with @dp.

Both are the textbook recursions over prefixes ``a[:i]`` and ``b[:j]``. The
@dp function is defined inside the public function, so each call gets its own
table keyed by ``(i, j)`` and the strings are not part of the key. Edit
distance asks for ``d(i - 1, j)`` first, so its recursion is ``len(a) +
len(b)`` frames deep.

Run it:  python examples/dp_edit_distance.py          (1,000 x 1,000 and 20,000 x 5)
         python examples/dp_edit_distance.py --quick  (300 x 300 and 20,000 x 5)
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Generator

from memokit import dp


def edit_distance(a: str, b: str) -> int:
    """Return the Levenshtein distance: the fewest insertions, deletions and substitutions.

    >>> edit_distance("kitten", "sitting")
    3
    """

    @dp
    def d(i: int, j: int) -> Generator[int, int, int]:
        # distance between a[:i] and b[:j]
        if i == 0:
            return j
        if j == 0:
            return i
        delete = yield d(i - 1, j)
        insert = yield d(i, j - 1)
        keep_or_substitute = yield d(i - 1, j - 1)
        cost = 0 if a[i - 1] == b[j - 1] else 1
        return min(delete + 1, insert + 1, keep_or_substitute + cost)

    return d(len(a), len(b))


def lcs(a: str, b: str) -> str:
    """Return a longest common subsequence of ``a`` and ``b``.

    >>> lcs("dynamic", "programming")
    'ami'
    """

    @dp
    def length(i: int, j: int) -> Generator[int, int, int]:
        # length of an LCS of a[:i] and b[:j]
        if i == 0 or j == 0:
            return 0
        if a[i - 1] == b[j - 1]:
            return 1 + (yield length(i - 1, j - 1))
        up = yield length(i - 1, j)
        left = yield length(i, j - 1)
        return max(up, left)

    length(len(a), len(b))  # fills the table; the walk back below only reads it
    out: list[str] = []
    i, j = len(a), len(b)
    while i and j:
        if a[i - 1] == b[j - 1]:
            out.append(a[i - 1])
            i, j = i - 1, j - 1
        elif length(i - 1, j) >= length(i, j - 1):
            i -= 1
        else:
            j -= 1
    return "".join(reversed(out))


def random_dna(n: int, rng: random.Random) -> str:
    """Return ``n`` random letters from ACGT."""
    return "".join(rng.choice("ACGT") for _ in range(n))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Edit distance and LCS with @dp.")
    parser.add_argument("--quick", action="store_true", help="300 x 300 instead of 1,000 x 1,000")
    size = 300 if parser.parse_args(argv).quick else 1_000
    rng = random.Random(3)

    a, b = random_dna(size, rng), random_dna(size, rng)
    start = time.perf_counter()
    distance = edit_distance(a, b)
    common = lcs(a, b)
    seconds = time.perf_counter() - start
    print(f"two random DNA strings of {size:,} letters:")
    print(f"  edit distance {distance:,}, longest common subsequence {len(common):,} letters")
    print(f"  ({seconds:.2f} s for up to {2 * (size + 1) ** 2:,} sub-problems)")

    long, short = random_dna(20_000, rng), random_dna(5, rng)
    start = time.perf_counter()
    distance = edit_distance(long, short)
    print(f"\n20,000 letters against {short!r}: edit distance {distance:,}")
    print(f"  the recursion went 20,005 frames deep ({time.perf_counter() - start:.2f} s)")


if __name__ == "__main__":
    main()
