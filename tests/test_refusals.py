"""What ``@memoize`` refuses when decorating, the signature it binds by, and its hints.

Each refusal is checked by its message (it must name the fix), and each
accepted case by counting calls.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, cast

import pytest

from memokit import memoize


def gen(n: int) -> Iterator[int]:
    yield from range(n)


async def agen(n: int) -> AsyncIterator[int]:
    for i in range(n):
        yield i


class Point:
    def __init__(self, x: int) -> None:
        self.x = x


class Counter:
    """A callable object whose __call__ is a generator."""

    def __call__(self, n: int) -> Iterator[int]:
        yield n


@pytest.mark.parametrize(
    ("target", "words"),
    [
        pytest.param(gen, r"generator function gen.*tuple or a list.*@dp", id="generator"),
        pytest.param(
            functools.partial(gen, 3), r"generator function.*@dp", id="partial-of-generator"
        ),
        pytest.param(Counter(), r"generator function.*@dp", id="callable-generator"),
        pytest.param(agen, r"async generator function agen.*returns a list", id="async-generator"),
        pytest.param(Point, r"class Point.*isinstance.*@memoize def make", id="class"),
        pytest.param(128, r"got 128.*@memoize\(maxsize=128\)", id="int"),
        pytest.param("f", r"needs a function to decorate, got str", id="str"),
    ],
)
def test_what_cannot_be_memoized_is_refused_with_the_fix(target: Any, words: str) -> None:
    """Generators, classes and memoize(<int>) fail at decoration, saying what to write instead."""
    with pytest.raises(TypeError, match=words):
        memoize(target)


def test_refusals_apply_inside_staticmethod_and_in_the_called_form() -> None:
    """@staticmethod over a generator and memoize(maxsize=4)(generator) are refused too."""
    with pytest.raises(TypeError, match="generator function"):
        memoize(cast(Any, staticmethod(gen)))
    with pytest.raises(TypeError, match="generator function"):
        memoize(maxsize=4)(gen)


def test_a_generator_method_is_refused_when_the_class_is_defined() -> None:
    """A memoized generator method fails when the class body runs, not at the first call."""
    with pytest.raises(TypeError, match=r"generator function .*Tree\.walk"):

        class Tree:
            @memoize
            def walk(self) -> Iterator[int]:
                yield 1


# ---------------------------------------------------------------- key= takes the call's arguments


def area(width: int, height: int, *, unit: str = "m") -> str:
    return f"{width * height}{unit}"


@pytest.mark.parametrize(
    ("key", "words"),
    [
        pytest.param(lambda width: width, "too many positional arguments", id="too-few"),
        pytest.param(lambda width, height, depth: 0, "missing a required argument", id="too-many"),
        pytest.param(lambda width, height: 0, "unexpected keyword argument 'unit'", id="no-kwonly"),
    ],
)
def test_a_key_function_that_cannot_bind_is_refused(key: Callable[..., Any], words: str) -> None:
    """key= is checked against the call it will get, and the message shows that call."""
    with pytest.raises(TypeError, match=r"area\(\) calls key\(width, height, unit=unit\)") as info:
        memoize(key=key)(area)
    assert words in str(info.value)


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(lambda width, height, unit: (width, height), id="same-names"),
        pytest.param(lambda *args, **kwargs: args, id="catch-all"),
        pytest.param(lambda w, h, unit="m": (w, h), id="other-names"),
    ],
)
def test_a_key_function_that_binds_is_accepted(key: Callable[..., Any]) -> None:
    """Any key= that can take the call's arguments is accepted and used."""
    calls: list[int] = []

    def measured(width: int, height: int, *, unit: str = "m") -> str:
        calls.append(width)
        return area(width, height, unit=unit)

    f = memoize(key=key)(measured)
    assert f(2, 3) == f(2, 3, unit="m") == "6m"
    assert calls == [2]


def test_a_method_key_may_take_self_or_not() -> None:
    """On a method, key= gets the arguments without self (bound) or with it (a staticmethod)."""

    class Shop:
        @memoize(key=lambda item: item.lower())
        def price(self, item: str) -> int:
            return len(item)

        @staticmethod
        @memoize(key=lambda item: item.lower())
        def code(item: str) -> str:
            return item.upper()

    assert Shop().price("Tea") == 3
    code: Any = Shop.code  # mypy binds away a memoized staticmethod's first parameter
    assert code("tea") == code("TEA") == "TEA"
    with pytest.raises(TypeError, match="cannot take that"):

        class Broken:
            @memoize(key=lambda a, b, c: a)
            def m(self, x: int) -> int:
                return x


# ---------------------------------------------------------------- the signature callers call


def add(x: int, y: int = 1) -> int:
    return x + y


def test_a_wraps_wrapper_is_bound_by_its_own_signature() -> None:
    """memoize binds w(x, y=5) by w's own signature, not by the add(x, y=1) it wraps."""

    @functools.wraps(add)
    def w(x: int, y: int = 5) -> int:
        return add(x, y)

    calls: list[tuple[int, int]] = []

    @functools.wraps(add)
    def counted(x: int, y: int = 5) -> int:
        calls.append((x, y))
        return add(x, y)

    assert memoize(w)(1) == w(1) == functools.lru_cache(w)(1) == 6
    memoized = memoize(counted)
    assert memoized(1) == memoized(1, 5) == memoized(x=1, y=5) == 6
    assert calls == [(1, 5)]


def test_a_wrapper_that_supplies_an_argument_is_called_as_written() -> None:
    """A wrapper that passes the first argument itself takes one argument fewer; so does memoize."""

    def scaled(factor: int, x: int) -> int:
        return factor * x

    @functools.wraps(scaled)
    def triple(x: int) -> int:
        return scaled(3, x)

    memoized = memoize(triple)
    assert memoized(2) == memoized(x=2) == 6
    assert memoized.cache_info()[:2] == (1, 1)


# ---------------------------------------------------------------- hints in errors


def test_a_recursion_error_through_memoize_points_to_dp() -> None:
    """A RecursionError passing through a memoized call carries a note that names @dp, once."""

    @memoize
    def depth(n: int) -> int:
        return 0 if n == 0 else depth(n - 1) + 1

    with pytest.raises(RecursionError) as info:
        depth(sys.getrecursionlimit() * 2)
    notes = getattr(info.value, "__notes__", [])
    assert len(notes) == 1 and "@dp" in notes[0]


def test_an_unhashable_key_from_key_function_names_key_and_type() -> None:
    """A key= that returns a list is blamed by name, with the type it returned."""
    f = memoize(key=cast(Any, lambda x: [x]))(lambda x: x)
    with pytest.raises(TypeError, match=r"key= function returned an unhashable list"):
        f(1)
