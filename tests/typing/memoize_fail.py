"""Typing tests for @memoize: calls mypy --strict must reject (checked by tests/test_typing.py).

Each wrong line carries ``# type: ignore[<code>]``. Under warn_unused_ignores
an ignore that suppresses nothing is itself an error, so if memokit's types
ever stop rejecting one of these lines, mypy fails this file.
This file is type-checked, never run.
"""

from __future__ import annotations

from memokit import DictStore, memoize


@memoize
def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)


@memoize(maxsize=8)
def greet(name: str, *, loud: bool = False) -> str:
    return name.upper() if loud else name


# Arguments keep the decorated function's types.
fib("10")  # type: ignore[arg-type]
fib(1.5)  # type: ignore[arg-type]
greet(3)  # type: ignore[arg-type]
greet("ada", loud="yes")  # type: ignore[arg-type]

# Wrong names and counts of arguments.
fib(m=10)  # type: ignore[call-arg]
fib()  # type: ignore[call-arg]
fib(1, 2)  # type: ignore[call-arg]
greet("ada", True)  # type: ignore[call-arg]
greet("ada", shout=True)  # type: ignore[call-arg]

# The result keeps its type.
text: str = fib(10)  # type: ignore[assignment]

# cache_invalidate takes the function's parameters; the controls return what they say.
fib.cache_invalidate("x")  # type: ignore[arg-type]
greet.cache_invalidate(name=1)  # type: ignore[arg-type]
missing_key: str = fib.cache_invalidate(1)  # type: ignore[assignment]
evictions = fib.cache_info().evictions  # type: ignore[attr-defined]
fib.no_such_control()  # type: ignore[attr-defined]

# Options of the wrong type.
memoize(maxsize="big")  # type: ignore[call-overload]
memoize(maxsize=1.5)  # type: ignore[call-overload]
memoize(typed=1)  # type: ignore[call-overload]
memoize(key=3)  # type: ignore[call-overload]
memoize(store=3)  # type: ignore[call-overload]
memoize(store=DictStore, maxzise=3)  # type: ignore[call-overload]
memoize(ttl="60")  # type: ignore[call-overload]
memoize(ttl=lambda result: "soon")  # type: ignore[arg-type, return-value]
memoize(clock=3.0)  # type: ignore[call-overload]
memoize(clock=lambda: "now")  # type: ignore[arg-type, return-value]
memoize(sizeof=1024)  # type: ignore[call-overload]
memoize(sizeof=lambda value: "big")  # type: ignore[arg-type, return-value]
memoize(key=lambda n: [n])  # type: ignore[arg-type, return-value]

# The new controls return what they say.
count: str = fib.cache_stats().expirations  # type: ignore[assignment]
listed: set[int] = fib.cache_keys()  # type: ignore[assignment]


class Model:
    def __init__(self, weight: float) -> None:
        self.weight = weight

    @memoize
    def predict(self, x: float) -> float:
        return self.weight * x

    @classmethod
    @memoize
    def default(cls, weight: float) -> Model:
        return cls(weight)


Model(1.0).predict("3")  # type: ignore[arg-type]
Model(1.0).predict(3.0, 4.0)  # type: ignore[call-arg]
Model(1.0).predict.cache_invalidate("3")  # type: ignore[arg-type]
Model.default("heavy")  # type: ignore[arg-type]
label: str = Model(1.0).predict(3.0)  # type: ignore[assignment]
