"""Module-level memoized functions and classes, so that pickle can find them by name."""

from __future__ import annotations

from memokit import memoize

#: Arguments each helper below was computed for, in call order.
CALLS: list[tuple[str, int]] = []


@memoize
def square(n: int) -> int:
    """Return ``n * n``, recording the call."""
    CALLS.append(("square", n))
    return n * n


@memoize(maxsize=4)
def bounded_cube(n: int) -> int:
    """Return ``n ** 3`` from a bounded cache, recording the call."""
    CALLS.append(("bounded_cube", n))
    return n**3


class Account:
    """A picklable class with a memoized method whose result depends on the instance."""

    def __init__(self, rate: int) -> None:
        self.rate = rate

    @memoize
    def interest(self, amount: int) -> int:
        """Return ``amount * rate``, recording the call."""
        CALLS.append(("interest", amount))
        return amount * self.rate
