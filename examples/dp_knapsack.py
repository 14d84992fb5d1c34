"""0/1 knapsack with @dp: the best value, and which items give it.

``best(i, room)`` is the most value the first ``i`` items can add within
``room``: either item ``i - 1`` stays out, or it goes in (if it fits).

Run it:  python examples/dp_knapsack.py          (200 items, capacity 5,000)
         python examples/dp_knapsack.py --quick  (60 items, capacity 1,000)
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Generator, Sequence

from memokit import dp


def knapsack(items: Sequence[tuple[int, int]], capacity: int) -> tuple[int, list[int]]:
    """Return the best total value of ``(weight, value)`` items within ``capacity``, and which.

    The second result lists the indices of the chosen items.

    >>> knapsack([(5, 10), (4, 40), (6, 30), (3, 50)], 10)
    (90, [1, 3])
    """

    @dp
    def best(i: int, room: int) -> Generator[int, int, int]:
        if i == 0:
            return 0
        weight, value = items[i - 1]
        without = yield best(i - 1, room)
        if weight > room:
            return without
        with_it = value + (yield best(i - 1, room - weight))
        return max(without, with_it)

    total = best(len(items), capacity)
    chosen: list[int] = []
    room = capacity
    for i in range(len(items), 0, -1):  # walk back through the filled table
        if best(i, room) != best(i - 1, room):
            chosen.append(i - 1)
            room -= items[i - 1][0]
    return total, sorted(chosen)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="0/1 knapsack with @dp.")
    parser.add_argument("--quick", action="store_true", help="60 items instead of 200")
    quick = parser.parse_args(argv).quick
    count, capacity = (60, 1_000) if quick else (200, 5_000)
    rng = random.Random(7)
    items = [(rng.randint(1, 100), rng.randint(1, 100)) for _ in range(count)]

    start = time.perf_counter()
    total, chosen = knapsack(items, capacity)
    seconds = time.perf_counter() - start
    weight = sum(items[i][0] for i in chosen)
    print(f"{count} random items, capacity {capacity:,}:")
    print(f"  best value {total:,} with {len(chosen)} items weighing {weight:,}")
    print(f"  ({seconds:.2f} s)")


if __name__ == "__main__":
    main()
