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


class FakeClock:
    """A clock for ``ttl=`` tests: it stands still until ``advance`` moves it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the time forward by ``seconds``."""
        self.now += seconds


@memoize(ttl=3600)
def expiring_double(n: int) -> int:
    """Return ``2 * n`` from a cache whose entries expire, recording the call."""
    CALLS.append(("expiring_double", n))
    return 2 * n


class Model:
    """A class whose memoized method and staticmethod are read from the class."""

    @memoize
    def predict(self, x: int) -> int:
        """Return ``x + 1``, recording the call."""
        CALLS.append(("predict", x))
        return x + 1

    @staticmethod
    @memoize
    def helper(x: int) -> int:
        """Return ``x * 10``, recording the call."""
        CALLS.append(("helper", x))
        return x * 10

    @classmethod
    @memoize
    def build(cls, x: int) -> str:
        """Return the class name and ``x``, recording the call."""
        CALLS.append(("build", x))
        return f"{cls.__name__}:{x}"
