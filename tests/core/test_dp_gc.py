"""The dp engine and the garbage collector, on every variant (tests/core/conftest.py).

The C loop leaves the generators on its stack untracked by the collector
while it holds them (memokit/_core/dp_engine.h, runstack_push): these tests
pin down that a collection mid-computation frees nothing the engine needs,
that every generator is tracked again once its frame is done, and that the
cycles frames made are freed.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Generator
from typing import Any

import pytest

from memokit import dp


class Failure(Exception):
    """Raised by a frame to take the error path."""


def test_a_collection_inside_a_deep_frame_keeps_the_stack_alive(dp_impl: str) -> None:
    """gc.collect() run by a frame 5,000 deep frees nothing the engine still needs."""

    @dp
    def f(n: int) -> Generator[int, int, int]:
        if n == 0:
            gc.collect()
            return 0
        below = yield f(n - 1)
        return below + n

    assert f(5_000) == 5_000 * 5_001 // 2


def test_frames_go_back_to_the_collector_and_their_cycles_are_freed(dp_impl: str) -> None:
    """A frame's generator is tracked by the collector once done; a cycle it made is freed."""

    class Node:
        """A self-referencing object each frame makes: freed only by the collector."""

        def __init__(self) -> None:
            self.me = self

    requests: list[Any] = []
    cycles: list[weakref.ref[Node]] = []

    @dp
    def f(n: int) -> Generator[int, int, int]:
        node = Node()
        cycles.append(weakref.ref(node))
        if n == 0:
            return 0
        request = f(n - 1)
        requests.append(request)
        if n == 2:
            raise Failure(n)  # the frames above fail: popped on the error path
        below = yield request
        del request  # the frame holds a cycle through node until it returns
        return below + len([node])

    with pytest.raises(Failure):
        f(4)
    assert f(1) == 1  # f(4) stored nothing: f(1) and f(0) run now
    gens = [request.gen for request in requests]
    assert gens and all(gc.is_tracked(gen) for gen in gens)
    gc.collect()
    assert [ref() for ref in cycles] == [None] * len(cycles)
