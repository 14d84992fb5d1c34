"""Typing tests for @dp and DagEvaluator: code mypy --strict must reject.

Each wrong line carries ``# type: ignore[<code>]``. Under warn_unused_ignores
an ignore that suppresses nothing is itself an error, so if memokit's types
ever stop rejecting one of these lines, mypy fails this file.
This file is type-checked, never run.
"""

from __future__ import annotations

from collections.abc import Generator

from memokit import DagEvaluator, dp


@dp
def fib(n: int) -> Generator[int, int, int]:
    if n < 2:
        return n
    a = yield fib(n - 1)
    b = yield fib(n - 2)
    return a + b


# Arguments keep the generator function's types, names and count.
fib("10")  # type: ignore[arg-type]
fib(1.5)  # type: ignore[arg-type]
fib(m=10)  # type: ignore[call-arg]
fib()  # type: ignore[call-arg]
fib(1, 2)  # type: ignore[call-arg]
fib.cache_invalidate("10")  # type: ignore[arg-type]
fib.cache_parameters(1)  # type: ignore[call-arg]

# The result is the generator's return type, not a generator.
text: str = fib(10)  # type: ignore[assignment]
gen: Generator[int, int, int] = fib(10)  # type: ignore[assignment]


# Inside the body, the value of `yield fib(...)` has the send type.
@dp
def bad_body(n: int) -> Generator[int, int, str]:
    a = yield bad_body(n - 1)  # type: ignore[misc]
    return a  # type: ignore[return-value]


# @dp wants a generator function; the options are checked.
@dp  # type: ignore[arg-type]
def plain(n: int) -> int:
    return n


dp(maxsize="big")  # type: ignore[call-overload]
dp(ttl="60")  # type: ignore[call-overload]
dp(sizeof=64)  # type: ignore[call-overload]
dp(typed=1, store=3)  # type: ignore[call-overload]

# DagEvaluator keeps its node and value types.
ev: DagEvaluator[str, int] = DagEvaluator(inputs=lambda n: [], compute=lambda n, vs: len(n))
ev.evaluate(3)  # type: ignore[arg-type]
name: str = ev.evaluate("a")  # type: ignore[assignment]
DagEvaluator(inputs=lambda n: [], compute=lambda n, vs: 0, maxsize="big")  # type: ignore[arg-type]
