"""Hypothesis strategies for the compiled core's differential tests.

They draw *programs* rather than objects, so that each implementation can
build its own objects from the same drawing: a dp recursion as a table of
actions per sub-problem, a scalar graph as a list of node recipes, and a
memoized function's life as its options and a list of operations.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any, NamedTuple

from hypothesis import strategies as st

# ---------------------------------------------------------------- dp programs

#: What a dp frame may do, each in turn (see tests/core/test_dp_engine.py, run_program):
#: yield a sub-call, yield one inside try/except, get one through plain code (a
#: nested run), yield one request twice, raise, return a request unyielded,
#: yield a plain value (handed straight back).
ACTIONS = ("call", "catch", "plain", "twice", "raise", "return_request", "value")


class DPProgram(NamedTuple):
    """A random recursion: ``actions[n]`` is what sub-problem ``n`` does, in order."""

    actions: tuple[tuple[tuple[str, int], ...], ...]
    #: The store: None for a dict, else an LRU bound (0 stores nothing).
    maxsize: int | None
    #: The sub-problems asked for from plain code, one computation each, in order.
    roots: tuple[int, ...]


@st.composite
def dp_programs(draw: st.DrawFn, *, max_problems: int = 6) -> DPProgram:
    """Random recursions over a few sub-problems: shared calls, cycles, errors and misuse."""
    n = draw(st.integers(1, max_problems))
    # Calls mostly go to smaller sub-problems (a DAG), sometimes anywhere (cycles).
    target = st.integers(0, n - 1)
    action = st.tuples(st.sampled_from(ACTIONS[:4]) | st.sampled_from(ACTIONS), target)
    actions = tuple(tuple(draw(st.lists(action, max_size=3))) for _ in range(n))
    maxsize = draw(st.none() | st.sampled_from([0, 1, 2, 4]))
    roots = tuple(draw(st.lists(target, min_size=1, max_size=3)))
    return DPProgram(actions, maxsize, roots)


# ---------------------------------------------------------------- scalar graphs

#: Local derivatives: ordinary numbers most of the time, and the values where
#: floating-point sums go wrong (signed zeros, huge, tiny, infinite, NaN).
special_floats = st.sampled_from(
    [0.0, -0.0, 1.0, -1.0, 1e308, -1e308, 1e-308, 5e-324, math.inf, -math.inf, math.nan]
)
weights = st.floats(-4.0, 4.0) | st.floats(allow_nan=True, allow_infinity=True) | special_floats


class NodeRecipe(NamedTuple):
    """A node: indexes of its inputs among the nodes made before it, and its local derivatives."""

    inputs: tuple[int, ...]
    local_grads: tuple[float, ...]


@st.composite
def graph_recipes(draw: st.DrawFn, *, max_nodes: int = 40) -> list[NodeRecipe]:
    """Random scalar graphs in creation order: leaves first, then nodes over earlier ones.

    A node may use one input several times and many nodes may use one input
    (so adjoints sum three terms or more); inputs and local derivatives may
    differ in number (the sweep pairs them like zip). The last node is the loss.
    """
    n_leaves = draw(st.integers(1, 4))
    recipes = [NodeRecipe((), ()) for _ in range(n_leaves)]
    for _ in range(draw(st.integers(0, max_nodes))):
        made = len(recipes)
        # Recent nodes more often, so that long chains and wide fans both occur.
        index = st.integers(0, made - 1) | st.integers(max(0, made - 3), made - 1)
        inputs = tuple(draw(st.lists(index, min_size=1, max_size=4)))
        extra = draw(st.sampled_from([0, 0, 0, 0, -1, 1]))
        grads = tuple(
            draw(
                st.lists(
                    weights,
                    min_size=max(0, len(inputs) + extra),
                    max_size=max(0, len(inputs) + extra),
                )
            )
        )
        recipes.append(NodeRecipe(inputs, grads))
    return recipes


# ---------------------------------------------------------------- dp call scripts


class Counted:
    """A key type of the user's own: equal by value, counting calls of its __hash__."""

    hashes = 0

    def __init__(self, value: int) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Counted) and other.value == self.value

    def __hash__(self) -> int:
        Counted.hashes += 1
        return hash(self.value)

    def __repr__(self) -> str:
        return f"Counted({self.value})"


#: The second arguments a script passes: values that compare equal across types
#: (1, 1.0 and True share a key unless typed), plain and wrapped key types, a
#: big int, None, an unhashable list (index 9) and keys of a user's type.
SECONDS: tuple[object, ...] = (
    0,
    1,
    1.0,
    True,
    "s",
    (1, 2),
    None,
    2.5,
    10**30,
    [1],
    Counted(1),
    Counted(2),
)

#: What a step does (tests/core/test_dp_front.py, run_script): call the
#: two-parameter function by position, by keyword or with its default, call the
#: one-parameter function, invalidate an entry, clear the cache, or move the clock.
CALL_FORMS = ("pos", "pos", "kw", "default", "one", "invalidate", "clear", "tick")


class CallScript(NamedTuple):
    """Calls to two dp functions, and what they are stored in."""

    #: "dict", "lru" (maxsize 3), "ttl" (a fake clock) or "subclass" (a store
    #: without a table: its methods are called).
    store: str
    #: (form, first argument in -1..5 (-1 fails), index into SECONDS).
    steps: tuple[tuple[str, int, int], ...]


@st.composite
def dp_call_scripts(draw: st.DrawFn) -> CallScript:
    """Random call sequences: hits, misses, evictions, invalidations, expiry, errors."""
    store = draw(st.sampled_from(["dict", "lru", "ttl", "subclass"]))
    step = st.tuples(
        st.sampled_from(CALL_FORMS), st.integers(-1, 5), st.integers(0, len(SECONDS) - 1)
    )
    return CallScript(store, tuple(draw(st.lists(step, min_size=1, max_size=25))))


# ---------------------------------------------------------------- @memoize programs

#: An argument that makes the memoized function raise (see tests/core/test_memo_differential.py).
RAISE = -1


class Unhashable(list[int]):
    """An unhashable argument whose repr is the same in every run (a list's would be too)."""


#: Arguments of every key form (memokit/_hashed.py): plain scalars (1 and True and
#: 1.0 are one key), a plain tuple, one that is wrapped, a class whose hash is
#: written in Python (wrapped), the value that makes the function raise, and an
#: unhashable one.
memo_arguments = st.sampled_from(
    [0, 1, 2, 3, True, 1.0, "x", "y", (1, 2), (1, (2,)), Fraction(1, 2), RAISE, Unhashable()]
)


class MemoProgram(NamedTuple):
    """A cache's options, and the operations run on it in order."""

    #: How many parameters the memoized function has (1 or 2).
    arity: int
    maxsize: int | None
    typed: bool
    #: Seconds entries live, or None: with a ttl the cache runs on a fake clock.
    ttl: float | None
    #: ("call", args, by_keyword), ("invalidate", args, by_keyword), ("clear",) or
    #: ("advance", seconds): the fake clock moves on.
    operations: tuple[tuple[Any, ...], ...]


@st.composite
def memo_programs(draw: st.DrawFn, *, max_operations: int = 40) -> MemoProgram:
    """Random operations on one cache: hits, misses, evictions, invalidations, expiry, errors."""
    arity = draw(st.sampled_from([1, 2]))
    args = st.tuples(*[memo_arguments] * arity)
    # Calls first of all, and a few small keys, so that hits and evictions happen.
    small = st.tuples(*[st.sampled_from([0, 1, 2])] * arity)
    call = st.tuples(st.just("call"), small | args, st.booleans())
    invalidate = st.tuples(st.just("invalidate"), small | args, st.booleans())
    other = st.tuples(st.just("clear")) | st.tuples(st.just("advance"), st.sampled_from([1, 5, 20]))
    operation = st.one_of(call, call, call, invalidate, other)
    return MemoProgram(
        arity,
        draw(st.none() | st.sampled_from([0, 1, 2, 4])),
        draw(st.booleans()),
        draw(st.none() | st.sampled_from([3.0, 10.0])),
        tuple(draw(st.lists(operation, max_size=max_operations))),
    )
