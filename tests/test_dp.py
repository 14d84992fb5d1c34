"""Tests for memokit.dp: results, depth, stores, cycles, errors, re-entrancy, threads, stats.

Every expected value comes from an independent bottom-up loop or from counting
calls; nothing is compared with output of the code under test.
"""

from __future__ import annotations

import gc
import pickle
import random
import sys
import threading
import time
import traceback
import tracemalloc
from collections import Counter
from collections.abc import Generator, Hashable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import memokit
from memokit import CacheInfo, CacheStats, CycleError, DictStore, DPFunction, LRUStore, dp
from memokit import _dp_engine as _engine
from tests.helpers.strategies import dna, lru_sizes

MOD = 1_000_000_007
PROPERTY_SETTINGS = settings(max_examples=60, deadline=None)


# ---------------------------------------------------------------- independent references


def fib_loop(n: int) -> int:
    """Fibonacci mod MOD, bottom-up."""
    a, b = 0, 1
    for _ in range(n):
        a, b = b, (a + b) % MOD
    return a


def edit_table(a: str, b: str) -> int:
    """Levenshtein distance, bottom-up over the full table."""
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1]))
        prev = cur
    return prev[len(b)]


def cells_visited(a: str, b: str) -> int:
    """Cells the top-down recursion reaches: all of them, unless it starts on a border."""
    return (len(a) + 1) * (len(b) + 1) if a and b else 1


# ---------------------------------------------------------------- dp functions under test


def make_fib(**options: Any) -> tuple[DPFunction[[int], int], Counter[int]]:
    """A fresh dp Fibonacci (mod MOD) and a counter of its body runs per n."""
    runs: Counter[int] = Counter()

    @dp(**options)
    def fib(n: int) -> Generator[int, int, int]:
        runs[n] += 1
        if n < 2:
            return n
        a = yield fib(n - 1)
        b = yield fib(n - 2)
        return (a + b) % MOD

    return fib, runs


def make_edit(
    a: str, b: str, **options: Any
) -> tuple[DPFunction[[int, int], int], Counter[tuple[int, int]], list[int]]:
    """A fresh dp edit distance over a and b, its body-run counter, and [depth, max depth]."""
    runs: Counter[tuple[int, int]] = Counter()
    depth = [0, 0]

    @dp(**options)
    def d(i: int, j: int) -> Generator[int, int, int]:
        runs[i, j] += 1
        depth[0] += 1
        depth[1] = max(depth[1], depth[0])
        try:
            if i == 0:
                return j
            if j == 0:
                return i
            x = yield d(i - 1, j)
            y = yield d(i, j - 1)
            z = yield d(i - 1, j - 1)
            return min(x + 1, y + 1, z + (a[i - 1] != b[j - 1]))
        finally:
            depth[0] -= 1

    return d, runs, depth


# ---------------------------------------------------------------- results and depth


@PROPERTY_SETTINGS
@given(st.integers(0, 400))
def test_fib_matches_loop(n: int) -> None:
    """dp Fibonacci equals the bottom-up loop, and each n's body runs once."""
    fib, runs = make_fib()
    assert fib(n) == fib_loop(n)
    assert set(runs.values()) == {1}
    assert set(runs) == ({1} if n == 1 else set(range(n + 1)))  # fib(1) needs no fib(0)


@PROPERTY_SETTINGS
@given(dna, dna)
def test_edit_distance_matches_table(a: str, b: str) -> None:
    """dp edit distance equals the bottom-up table, every cell computed exactly once."""
    d, runs, _ = make_edit(a, b)
    assert d(len(a), len(b)) == edit_table(a, b)
    assert len(runs) == cells_visited(a, b)
    assert set(runs.values()) == {1}


@pytest.mark.slow
def test_fib_a_million_deep_cold() -> None:
    """A cold fib(10**6) completes under the default recursion limit and matches the loop."""
    assert sys.getrecursionlimit() < 100_000  # nothing raised it for us
    fib, runs = make_fib()
    n = 10**6
    assert fib(n) == fib_loop(n)
    assert len(runs) == n + 1
    assert fib.cache_info().misses == n + 1


@pytest.mark.slow
def test_edit_distance_twenty_thousand_deep() -> None:
    """An edit distance whose recursion is 20,000+ frames deep completes and is right."""
    rng = random.Random(5)
    a = "".join(rng.choice("ACGT") for _ in range(20_000))
    b = "GATTACA"
    d, runs, depth = make_edit(a, b)
    assert d(len(a), len(b)) == edit_table(a, b)
    assert depth[1] >= 20_000
    assert depth[0] == 0  # every frame finished
    assert set(runs.values()) == {1}


def test_mutual_recursion_deep() -> None:
    """Two dp functions yielding each other recurse 200,000 frames deep."""

    @dp
    def even(n: int) -> Generator[bool, bool, bool]:
        return True if n == 0 else (yield odd(n - 1))

    @dp
    def odd(n: int) -> Generator[bool, bool, bool]:
        return False if n == 0 else (yield even(n - 1))

    assert even(200_000) is True
    assert odd(200_001) is True
    assert even(7) is False


def test_memory_grows_linearly() -> None:
    """Peak traced memory of a cold run grows in proportion to the number of sub-problems."""

    def peak(n: int) -> int:
        fib, _ = make_fib()
        gc.collect()
        tracemalloc.start()
        try:
            fib(n)
        finally:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        return peak

    small, large = peak(20_000), peak(80_000)
    assert large < 5 * small  # 4x the sub-problems: about 4x the memory, not 16x
    assert large / 80_000 < 2_000  # bytes per sub-problem, store included


# ---------------------------------------------------------------- stores


def test_lru_recomputes_evicted_subproblem() -> None:
    """With maxsize=1, f(0) is evicted at every level and recomputed: n runs, right result."""
    runs: Counter[int] = Counter()

    def make(**options: Any) -> Any:
        @dp(**options)
        def f(n: int) -> Generator[int, int, int]:
            runs[n] += 1
            if n == 0:
                return 1
            a = yield f(n - 1)
            b = yield f(0)
            return a + b

        return f

    n = 500
    f = make(maxsize=1)
    assert f(n) == n + 1
    assert runs[0] == n  # once for f(1), then again for each of f(2) .. f(n)
    assert all(runs[k] == 1 for k in range(1, n + 1))
    assert f.cache_stats().evictions > 0
    runs.clear()
    g = make()  # dict store: no recomputation
    assert g(n) == n + 1
    assert runs[0] == 1


#: Strings short enough for maxsize=0, where nothing is stored and the
#: recursion is exponential.
short_dna = st.text(alphabet="ACGT", max_size=5)


@PROPERTY_SETTINGS
@given(short_dna, short_dna, lru_sizes)
def test_lru_results_match_table(a: str, b: str, maxsize: int) -> None:
    """Under any LRU bound the result is right; body runs equal the misses counted."""
    d, runs, _ = make_edit(a, b, maxsize=maxsize)
    assert d(len(a), len(b)) == edit_table(a, b)
    info = d.cache_info()
    assert sum(runs.values()) == info.misses
    assert info.currsize <= maxsize
    assert len(runs) == cells_visited(a, b)  # every cell computed at least once


def test_lru_large_enough_never_recomputes() -> None:
    """An LRU store that holds every cell computes each one once, like a dict."""
    a, b = "ACGTTGCA", "TGCATT"
    d, runs, _ = make_edit(a, b, maxsize=(len(a) + 1) * (len(b) + 1))
    assert d(len(a), len(b)) == edit_table(a, b)
    assert set(runs.values()) == {1}
    assert d.cache_stats().evictions == 0


def test_maxsize_zero_stores_nothing_but_is_right() -> None:
    """maxsize=0 recomputes everything (exponentially) yet returns the right value."""
    fib, runs = make_fib(maxsize=0)
    assert fib(15) == fib_loop(15)
    assert runs[0] > 1
    assert fib.cache_info().currsize == 0


def test_custom_store_is_used() -> None:
    """A store passed with store= holds the values; maxsize= with store= is refused."""
    store: LRUStore[Any] = LRUStore(3)
    fib, _ = make_fib(store=store)
    assert fib(30) == fib_loop(30)
    assert len(store) == 3
    assert store.get(30) == fib_loop(30)
    with pytest.raises(TypeError, match=r"dp\(\) got both maxsize= and store="):
        make_fib(store=DictStore(), maxsize=3)
    with pytest.raises(TypeError, match=r"dp\(store=\.\.\.\) takes a Store"):
        make_fib(store={})


def test_none_is_a_stored_value() -> None:
    """A sub-problem whose value is None is stored and hit, not recomputed."""
    runs: Counter[int] = Counter()

    @dp
    def nothing(n: int) -> Generator[None, None, None]:
        runs[n] += 1
        if n:
            yield nothing(n - 1)
            yield nothing(n - 1)
        return None

    assert nothing(10) is None
    assert set(runs.values()) == {1}
    assert nothing.cache_info().hits == 10  # the second yield at each of n = 1 .. 10


# ---------------------------------------------------------------- cycles


def test_cycle_raises_with_path_and_message() -> None:
    """f(0) -> f(1) -> f(2) -> f(0) raises CycleError naming that path, caching nothing."""

    @dp
    def f(n: int) -> Generator[int, int, int]:
        return (yield f((n + 1) % 3))

    with pytest.raises(CycleError) as caught:
        f(0)
    assert caught.value.path == (0, 1, 2, 0)
    assert "f(0) -> f(1) -> f(2) -> f(0)" in str(caught.value)
    assert isinstance(caught.value, RuntimeError)
    assert f.cache_info().currsize == 0


def test_self_dependency_is_a_cycle() -> None:
    """A sub-problem that asks for itself gives a path of two equal keys."""

    @dp
    def f(a: int, b: str) -> Generator[int, int, int]:
        return (yield f(a, b))

    with pytest.raises(CycleError) as caught:
        f(4, "x")
    assert caught.value.path == ((4, "x"), (4, "x"))
    assert "f(4, 'x') -> f(4, 'x')" in str(caught.value)


def test_long_cycle_deep_in_the_stack() -> None:
    """A 5,001-step cycle below 2,000 other frames is found, with exactly its path."""

    @dp
    def f(n: int) -> Generator[int, int, int]:
        return (yield f(n - 1 if n else 5_000))

    with pytest.raises(CycleError) as caught:
        f(7_000)
    assert caught.value.path == (5_000, *range(4_999, -1, -1), 5_000)


def test_cycle_across_functions() -> None:
    """A cycle through two dp functions is reported with both names."""

    @dp
    def f(n: int) -> Generator[int, int, int]:
        return (yield g(n))

    @dp
    def g(n: int) -> Generator[int, int, int]:
        return (yield f(n))

    with pytest.raises(CycleError, match=r"f\(1\) -> g\(1\) -> f\(1\)") as caught:
        f(1)
    assert caught.value.path == (1, 1, 1)


def test_cycle_through_plain_code_is_found() -> None:
    """A cycle closed by plain code calling the dp function is a CycleError, not RecursionError."""

    @dp
    def base(n: int) -> Generator[int, int, int]:
        return n
        yield

    def helper(n: int) -> int:
        return f(n)  # plain code asking for the sub-problem that is running

    @dp
    def f(n: int) -> Generator[int, int, int]:
        yield base(n)
        return helper(n)

    with pytest.raises(CycleError, match=r"f\(3\) -> f\(3\)") as caught:
        f(3)
    assert caught.value.path == (3, 3)
    assert base(2) == 2


def test_engine_works_after_a_cycle() -> None:
    """After a CycleError, the same and other dp functions compute normally."""

    @dp
    def f(n: int) -> Generator[int, int, int]:
        return (yield f(n))

    with pytest.raises(CycleError):
        f(0)
    fib, _ = make_fib()
    assert fib(5_000) == fib_loop(5_000)


def test_cycle_error_pickles() -> None:
    """CycleError survives pickling with its path and message."""
    err = CycleError(["a", "b", "a"], "custom message")
    back = pickle.loads(pickle.dumps(err))
    assert back.path == ("a", "b", "a")
    assert str(back) == "custom message"
    assert str(CycleError([1, 2, 1])) == "a sub-problem depends on itself: 1 -> 2 -> 1"


# ---------------------------------------------------------------- exceptions


def test_exception_propagates_with_original_traceback() -> None:
    """The error keeps its type, and its traceback shows the raising line and every frame."""

    @dp
    def f(n: int) -> Generator[int, int, int]:
        if n == 0:
            raise ValueError("bottom reached")
        return 1 + (yield f(n - 1))

    with pytest.raises(ValueError, match="bottom reached") as caught:
        f(50)
    frames = traceback.extract_tb(caught.value.__traceback__)
    assert frames[-1].line == 'raise ValueError("bottom reached")'
    assert sum(1 for fr in frames if fr.name == "f" and fr.filename == __file__) == 51
    assert f.cache_info().currsize == 0


def test_nothing_partial_is_cached() -> None:
    """Frames that raised, and frames waiting on them, are not stored; finished ones are."""
    runs: Counter[int] = Counter()
    broken = {3}

    @dp
    def f(n: int) -> Generator[int, int, int]:
        runs[n] += 1
        below = (yield f(n - 1)) if n else 0
        if n in broken:
            raise KeyError(n)
        return below + n

    with pytest.raises(KeyError):
        f(6)
    broken.clear()
    runs.clear()
    assert f(6) == 21
    assert runs == Counter({3: 1, 4: 1, 5: 1, 6: 1})  # 0..2 had been stored


def test_frame_may_catch_a_subproblem_error() -> None:
    """A frame that catches its sub-problem's exception returns normally and is stored."""
    runs: Counter[int] = Counter()

    @dp
    def f(n: int) -> Generator[int, int, int]:
        runs[n] += 1
        if n == 0:
            raise LookupError("no base")
        try:
            return 1 + (yield f(n - 1))
        except LookupError:
            return 100

    assert f(5) == 104
    assert f(5) == 104
    assert f(1) == 100
    assert runs == Counter({0: 1, 1: 1, 2: 1, 3: 1, 4: 1, 5: 1})


def test_deep_failure_then_deep_success() -> None:
    """An error 100,000 frames down propagates; afterwards deep runs still work."""
    fail_at = [0]

    @dp
    def f(n: int) -> Generator[int, int, int]:
        if n == fail_at[0]:
            raise ArithmeticError(n)
        return 1 + (yield f(n - 1)) if n else 0

    with pytest.raises(ArithmeticError):
        f(100_000)
    fail_at[0] = -1
    assert f(100_000) == 100_000


def test_failures_do_not_leak_trampolines() -> None:
    """After many failing runs the thread's trampoline budget is whole again."""

    @dp
    def f(n: int) -> Generator[int, int, int]:
        if n == 0:
            raise RuntimeError("x")
        return (yield f(n - 1))

    for _ in range(50):
        with pytest.raises(RuntimeError):
            f(200)
        f.cache_clear()
    state = _engine._state
    assert state.spare + len(state.pool) == _engine._TRAMPOLINES


# ---------------------------------------------------------------- misuse


@dp
def never_computed(n: int) -> Generator[int, int, int]:
    """A dp function no test computes, so that a sub-call of it is always a miss."""
    return n
    yield


def test_request_used_as_a_value_says_to_yield() -> None:
    """Using a sub-call without yield raises a TypeError that shows the yield to write."""

    @dp
    def adds(n: int) -> Generator[int, int, int]:
        a = (yield adds(n - 1)) if n else 0
        return a + never_computed(n + 500)  # missing yield

    @dp
    def tests(n: int) -> Generator[int, int, int]:
        if never_computed(n + 1000):  # missing yield
            return 1
        return 0
        yield

    with pytest.raises(TypeError, match=r"never_computed\(500\).*yield never_computed\(500\)"):
        adds(3)
    with pytest.raises(TypeError, match="yield"):
        tests(1)


def test_returning_a_request_says_to_yield() -> None:
    """Returning a sub-call without yield raises a TypeError that shows the fix."""

    @dp
    def f(n: int) -> Generator[int, int, int]:
        if n == 0:
            return 0
        yield f(0)
        return f(n - 1)  # missing yield

    with pytest.raises(TypeError, match=r"return \(yield f\(1\)\)"):
        f(2)


def test_yielding_a_request_twice_is_refused() -> None:
    """A request's generator runs once: yielding the same request again raises TypeError."""

    @dp
    def f(n: int) -> Generator[int, int, int]:
        if n == 0:
            return 0
        request = f(n - 1)
        a = yield request
        b = yield request
        return a + b

    with pytest.raises(TypeError, match="second time"):
        f(2)
    assert f.cache_info().currsize == 1  # only f(0)


def test_dp_needs_a_generator_function() -> None:
    """Decorating a plain function is refused with a pointer to @memoize."""

    def plain(n: int) -> int:
        return n

    with pytest.raises(TypeError, match="memoize"):
        dp(plain)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="generator function"):
        dp()(lambda n: n)


def test_unhashable_argument_names_the_parameter() -> None:
    """An unhashable argument gives a TypeError naming the parameter and suggesting key=."""

    @dp
    def total(values: list[int], start: int = 0) -> Generator[int, int, int]:
        return sum(values) + start
        yield

    with pytest.raises(TypeError, match=r"'values'.*key="):
        total([1, 2])

    def unhashable_key(values: list[int], start: int = 0) -> Any:
        return list(values)

    @dp(key=unhashable_key)
    def bad_key(values: list[int], start: int = 0) -> Generator[int, int, int]:
        return start
        yield

    with pytest.raises(TypeError, match="key= function returned an unhashable list"):
        bad_key([1])


# ---------------------------------------------------------------- keys


def test_keys_follow_the_signature() -> None:
    """f(1), f(n=1) and f(1, 2) (2 being the default) share one entry; others do not."""
    runs: Counter[tuple[int, int]] = Counter()

    @dp
    def f(n: int, step: int = 2) -> Generator[int, int, int]:
        runs[n, step] += 1
        return n * step
        yield

    assert f(1) == f(n=1) == f(1, 2) == f(1, step=2) == 2
    assert f(1, 3) == 3
    assert runs == Counter({(1, 2): 1, (1, 3): 1})


def test_typed_and_key_options() -> None:
    """typed=True keeps 1 and 1.0 apart; key= merges the arguments it maps together."""
    runs: list[object] = []

    @dp(typed=True)
    def typed(x: float) -> Generator[str, str, str]:
        runs.append(x)
        return repr(x)
        yield

    assert typed(1) == "1"
    assert typed(1.0) == "1.0"
    assert len(runs) == 2

    @dp(key=lambda x: abs(x))
    def by_abs(x: int) -> Generator[int, int, int]:
        runs.append(x)
        return x * x
        yield

    runs.clear()
    assert by_abs(-3) == 9
    assert by_abs(3) == 9
    assert runs == [-3]


@PROPERTY_SETTINGS
@given(
    st.lists(
        st.tuples(st.integers(-2, 2) | st.sampled_from([-1.0, 0.0, 1.0, 2.5]), st.booleans()),
        max_size=25,
    ),
    st.booleans(),
)
def test_same_entries_as_memoize(calls: list[tuple[float, bool]], typed: bool) -> None:
    """For any calls (positional or keyword, typed or not), dp misses when @memoize misses."""
    dp_runs: list[object] = []
    memo_runs: list[object] = []

    @dp(typed=typed)
    def by_dp(x: float, flag: bool = False) -> Generator[int, int, int]:
        dp_runs.append((x, flag))
        return 0
        yield

    @memokit.memoize(typed=typed)
    def by_memoize(x: float, flag: bool = False) -> int:
        memo_runs.append((x, flag))
        return 0

    for x, as_keyword in calls:
        if as_keyword:
            by_dp(x=x)
            by_memoize(x=x)
        else:
            by_dp(x, False)
            by_memoize(x, False)
    assert dp_runs == memo_runs


def test_varargs_and_keyword_only_parameters() -> None:
    """A dp function with *args, keyword-only and **kwargs parameters keys and recurses."""
    runs: Counter[Hashable] = Counter()

    @dp
    def f(*parts: int, scale: int = 1, **extra: int) -> Generator[int, int, int]:
        runs[parts, scale, tuple(sorted(extra.items()))] += 1
        if not parts:
            return sum(extra.values())
        rest = yield f(*parts[1:], scale=scale, **extra)
        return parts[0] * scale + rest

    assert f(1, 2, 3, scale=10, bonus=5) == 65
    assert f(2, 3, scale=10, bonus=5) == 55  # stored on the way
    assert len(runs) == 4
    assert set(runs.values()) == {1}


def test_methods_key_on_the_instance() -> None:
    """A dp method recurses through self and keeps instances apart."""

    class Stairs:
        def __init__(self, steps: tuple[int, ...]) -> None:
            self.steps = steps

        @dp
        def ways(self, n: int) -> Generator[int, int, int]:
            if n == 0:
                return 1
            total = 0
            for s in self.steps:
                if s <= n:
                    total += yield self.ways(n - s)
            return total

    def ways_loop(steps: tuple[int, ...], n: int) -> int:
        table = [1] + [0] * n
        for k in range(1, n + 1):
            table[k] = sum(table[k - s] for s in steps if s <= k)
        return table[n]

    assert Stairs((1, 2)).ways(3_000) == ways_loop((1, 2), 3_000)
    assert Stairs((1, 3, 5)).ways(40) == ways_loop((1, 3, 5), 40)


# ---------------------------------------------------------------- nesting and re-entrancy


def test_dp_yields_another_dp() -> None:
    """A dp function yields another dp function's sub-calls; each keeps its own stats."""
    fib, fib_runs = make_fib()

    @dp
    def fib_sum(n: int) -> Generator[int, int, int]:
        if n < 0:
            return 0
        rest = yield fib_sum(n - 1)
        return (rest + (yield fib(n))) % MOD

    assert fib_sum(3_000) == sum(fib_loop(k) for k in range(3_001)) % MOD
    assert set(fib_runs.values()) == {1}
    assert fib_sum.cache_info().misses == 3_002
    assert fib.cache_info().misses == 3_001


def test_reentrant_call_from_plain_code() -> None:
    """Plain code called from a dp frame gets values from dp calls, not requests."""
    fib, _ = make_fib()

    def plain_helper(n: int) -> int:
        return fib(n) + 1  # a plain call: runs its own computation

    @dp
    def f(n: int) -> Generator[int, int, int]:
        if n == 0:
            return 0
        below = yield f(n - 1)
        return (below + plain_helper(n)) % MOD

    want = sum(fib_loop(k) + 1 for k in range(1, 301)) % MOD
    assert f(300) == want


def test_reentrant_call_of_the_same_function() -> None:
    """A dp frame's plain helper may call the same dp function on other arguments."""

    def helper(n: int) -> int:
        return g(n - 1) if n else 0

    @dp
    def g(n: int) -> Generator[int, int, int]:
        if n == 0:
            return 0
        y = yield g(n - 1)
        return y + helper(n) + 1

    values = [0]
    for n in range(1, 11):
        values.append(values[n - 1] + values[n - 1] + 1)
    assert g(10) == values[10]


def test_dp_inside_dag_compute_and_back() -> None:
    """A DagEvaluator's compute may call a dp function, which runs a nested computation."""
    fib, _ = make_fib()
    ev = memokit.DagEvaluator(
        inputs=lambda n: [n - 1] if n else [],
        compute=lambda n, vals: (fib(n) + sum(vals)) % MOD,
        key=lambda n: n,
    )
    assert ev.evaluate(2_000) == sum(fib_loop(k) for k in range(2_001)) % MOD


# ---------------------------------------------------------------- threads


def test_threads_share_the_store_and_agree() -> None:
    """Eight threads computing deep, overlapping problems on one dp get right answers."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        counter = [0]

        @dp
        def fib(n: int) -> Generator[int, int, int]:
            counter[0] += 1
            if counter[0] % 997 == 0:
                time.sleep(0)  # hand the GIL over mid-computation
            if n < 2:
                return n
            a = yield fib(n - 1)
            b = yield fib(n - 2)
            return (a + b) % MOD

        sizes = [20_000 + 3_000 * i for i in range(8)]
        results: dict[int, int] = {}
        errors: list[BaseException] = []
        start = threading.Barrier(len(sizes))

        def work(n: int) -> None:
            try:
                start.wait()
                results[n] = fib(n)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(n,)) for n in sizes]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    assert not errors
    assert results == {n: fib_loop(n) for n in sizes}
    assert fib.cache_info().currsize == max(sizes) + 1


def test_a_failing_thread_does_not_disturb_another() -> None:
    """One thread's deep failure and another thread's deep success do not interfere."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    go = threading.Event()

    @dp
    def f(n: int) -> Generator[int, int, int]:
        if n == 0:
            go.set()
            raise ValueError("thread A fails at the bottom")
        return 1 + (yield f(n - 1))

    fib, _ = make_fib()
    outcome: dict[str, object] = {}

    def a() -> None:
        try:
            f(30_000)
        except ValueError as exc:
            outcome["a"] = exc

    def b() -> None:
        go.wait(5)
        outcome["b"] = fib(30_000)

    try:
        threads = [threading.Thread(target=a), threading.Thread(target=b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    assert isinstance(outcome["a"], ValueError)
    assert outcome["b"] == fib_loop(30_000)


# ---------------------------------------------------------------- statistics and surface


def test_cache_info_counts_hits_and_misses() -> None:
    """fib(n) misses n + 1 times and hits n - 2 times (fib(k - 2) for k >= 3); clear resets."""
    fib, _ = make_fib()
    assert fib(50) == fib_loop(50)
    assert fib.cache_info() == CacheInfo(hits=48, misses=51, maxsize=None, currsize=51)
    fib(50)
    assert fib.cache_info().hits == 49
    assert fib.cache_stats() == CacheStats(49, 51, None, 51, 0)
    fib.cache_clear()
    assert fib.cache_info() == CacheInfo(0, 0, None, 0)


def test_cache_invalidate_forgets_one_entry() -> None:
    """cache_invalidate drops one entry (True), is False when absent, and forces a recompute."""
    fib, runs = make_fib()
    fib(10)
    assert fib.cache_invalidate(7) is True
    assert fib.cache_invalidate(7) is False
    runs.clear()
    fib(10)  # stored: no body runs
    assert not runs
    fib.cache_invalidate(10)
    assert fib(10) == fib_loop(10)
    assert runs == Counter({10: 1})


def test_wrapper_metadata() -> None:
    """The decorated function keeps the original's name, docstring and __wrapped__."""

    def original(n: int) -> Generator[int, int, int]:
        """Return n."""
        return n
        yield

    wrapped: Any = dp(original)  # Any: mypy does not see what update_wrapper copies
    assert wrapped.__wrapped__ is original
    assert wrapped.__name__ == "original"
    assert wrapped.__qualname__ == original.__qualname__
    assert wrapped.__doc__ == "Return n."
    assert wrapped.__module__ == __name__
    assert wrapped(4) == 4


def test_lru_cache_stats_report_evictions() -> None:
    """cache_stats reports the LRU store's evictions and its bound."""
    fib, _ = make_fib(maxsize=4)
    fib(100)
    stats = fib.cache_stats()
    assert stats.maxsize == 4
    assert stats.currsize == 4
    assert stats.evictions == 101 - 4  # every store beyond the fourth evicts one entry
