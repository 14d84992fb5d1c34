"""Coin change with @dp: the fewest coins for an amount, and the number of ways to pay it.

With a coin of 1, paying 100,000 takes a recursion 100,000 frames deep: fine
for @dp, RecursionError for plain memoized recursion.

Run it:  python examples/dp_coin_change.py          (amounts up to 100,000)
         python examples/dp_coin_change.py --quick  (amounts up to 5,000)
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Generator, Sequence

from memokit import dp


def fewest_coins(coins: Sequence[int], amount: int) -> int | None:
    """Return the fewest coins (any number of each) that sum to ``amount``, or None.

    >>> fewest_coins([1, 5, 10, 25], 63)
    6
    >>> fewest_coins([4, 6], 7) is None
    True
    """

    @dp
    def fewest(rest: int) -> Generator[int | None, int | None, int | None]:
        if rest == 0:
            return 0
        best: int | None = None
        for coin in coins:
            if coin <= rest:
                sub = yield fewest(rest - coin)
                if sub is not None and (best is None or sub + 1 < best):
                    best = sub + 1
        return best

    return fewest(amount)


def ways_to_pay(coins: Sequence[int], amount: int) -> int:
    """Return how many multisets of ``coins`` sum to ``amount`` (order does not matter).

    >>> ways_to_pay([1, 2, 5], 5)
    4
    """

    @dp
    def ways(i: int, rest: int) -> Generator[int, int, int]:
        # ways to pay ``rest`` with coins[i:]
        if rest == 0:
            return 1
        if i == len(coins):
            return 0
        skip = yield ways(i + 1, rest)
        if coins[i] > rest:
            return skip
        use = yield ways(i, rest - coins[i])
        return skip + use

    return ways(0, amount)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Coin change with @dp.")
    parser.add_argument("--quick", action="store_true", help="amounts up to 5,000")
    amount = 5_000 if parser.parse_args(argv).quick else 100_000
    coins = [1, 7, 23, 50, 119]

    start = time.perf_counter()
    fewest = fewest_coins(coins, amount)
    print(f"fewest coins from {coins} for {amount:,}: {fewest:,}")
    print(f"  ({time.perf_counter() - start:.2f} s, recursion {amount:,} frames deep)")

    small = amount // 50
    start = time.perf_counter()
    print(f"ways to pay {small:,} with {coins}: {ways_to_pay(coins, small):,}")
    print(f"  ({time.perf_counter() - start:.2f} s)")


if __name__ == "__main__":
    main()
