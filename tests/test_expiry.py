"""Expiry (``ttl=``): an expired entry is a miss, is counted, and never piles up.

Time is a :class:`~tests.helpers.memo.FakeClock` that moves only when told,
so every test says exactly when an entry expires. The stateful tests at the
end drive ``DictStore`` and ``LRUStore`` (with ``ttl=``, ``sizeof=`` or
both) next to a reference model of the rules the docs state, and a memoized
function next to the same model.
"""

from __future__ import annotations

import asyncio
import gc
from collections import OrderedDict
from collections.abc import Callable, Generator, Hashable
from typing import Any, cast

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from memokit import MISSING, CacheStats, DictStore, LRUStore, dp, memoize
from memokit._expiry import Expiry
from tests.helpers.memo import FakeClock
from tests.helpers.strategies import clock_steps, expiry_keys, store_values, ttl_choices

# Every cache made in a test function here runs on both wrappers: the generated
# Python reference and, when the core is live, the compiled one (tests/conftest.py);
# the state machines below take no fixtures, and tests/core/test_memo_differential.py
# compares the two wrappers under expiry.
both = pytest.mark.usefixtures("memo_impl")

# ---------------------------------------------------------------- memoize(ttl=...)


@both
def test_an_expired_entry_is_a_miss_and_is_counted() -> None:
    """After ttl seconds the function runs again; the dropped entry counts as an expiration."""
    clock = FakeClock()
    calls: list[int] = []

    @memoize(ttl=10, clock=clock)
    def double(n: int) -> int:
        calls.append(n)
        return 2 * n

    assert double(1) == 2
    clock.advance(9.5)
    assert double(1) == 2  # still live
    clock.advance(0.5)  # exactly ttl seconds after it was stored: expired
    assert double(1) == 2
    assert calls == [1, 1]
    assert double.cache_stats() == CacheStats(1, 2, None, 1, 0, 1)
    assert double.cache_info() == (1, 2, None, 1)  # functools' four fields, unchanged


@both
def test_a_hit_reads_the_clock_once() -> None:
    """An expiry check costs one clock read per hit."""
    clock = FakeClock()
    f = memoize(ttl=10, clock=clock)(lambda n: n)
    f(1)
    before = clock.reads
    for _ in range(5):
        f(1)
    assert clock.reads - before == 5


@both
@pytest.mark.parametrize("maxsize", [None, 4], ids=["dict", "lru"])
def test_ttl_on_every_in_memory_store_kind(maxsize: int | None) -> None:
    """Dict and LRU caches expire alike, and cache_clear resets the expiration count."""
    clock = FakeClock()
    calls: list[int] = []

    @memoize(maxsize=maxsize, ttl=5, clock=clock)
    def ident(n: int) -> int:
        calls.append(n)
        return n

    for n in (1, 2, 3):
        ident(n)
    clock.advance(5)
    ident(1)  # finds its expired entry: dropped, counted, recomputed
    assert ident.cache_stats().expirations == 3  # inserting dropped the two others too
    assert ident.cache_info().currsize == 1
    assert calls == [1, 2, 3, 1]
    ident.cache_clear()
    assert ident.cache_stats() == CacheStats(0, 0, maxsize, 0, 0, 0)


@both
def test_ttl_function_of_the_result() -> None:
    """ttl= may be a function of the result: its seconds, None for never, <= 0 for not at all."""
    clock = FakeClock()
    calls: list[str] = []
    lifetimes = {"short": 1.0, "long": 100.0, "forever": None, "never": 0.0}

    @memoize(ttl=lambda result: lifetimes[result], clock=clock)
    def kind(name: str) -> str:
        calls.append(name)
        return name

    for name in lifetimes:
        kind(name)
    assert kind.cache_info().currsize == 3  # "never" is returned but not stored
    clock.advance(50)
    for name in lifetimes:
        kind(name)
    assert calls == [*lifetimes, "short", "never"]
    clock.advance(10**9)
    kind("forever")
    assert calls.count("forever") == 1


@both
@pytest.mark.parametrize("bad", ["soon", float("nan"), True, [1]])
def test_a_ttl_function_returning_a_non_number_fails_the_call(bad: object) -> None:
    """A ttl= function that returns no number of seconds fails the call; nothing is stored."""
    f = memoize(ttl=lambda result: cast(float, bad))(lambda n: n)
    with pytest.raises(TypeError, match="ttl= function returned"):
        f(1)
    assert f.cache_info().currsize == 0


@both
def test_expired_entries_do_not_pile_up_in_an_unbounded_cache() -> None:
    """A dict cache with ttl= holds only live entries, however many keys pass through."""
    clock = FakeClock()
    f = memoize(ttl=10, clock=clock)(lambda n: n)
    for n in range(10_000):
        f(n)
        clock.advance(1)
    store = f.cache_store
    assert len(store) == 9  # stored in the last 10 seconds, the oldest of them just expired
    assert f.cache_stats().expirations == 10_000 - 9
    # The deadline heap is compacted too: it never holds much more than the table.
    heap = store._expiry._heap  # type: ignore[attr-defined]
    assert len(heap) <= 2 * 10 + 64


@both
def test_a_long_lived_entry_does_not_block_reclaiming_the_others() -> None:
    """With a ttl function, an entry that never expires does not stop the others from going."""
    clock = FakeClock()
    f = memoize(ttl=lambda n: None if n == 0 else 1.0, clock=clock)(lambda n: n)
    for n in range(1000):
        f(n)
        clock.advance(2)
    assert f.cache_keys() == [0]  # the others expired and went


@both
def test_lru_drops_expired_entries_before_evicting_live_ones() -> None:
    """A full LRU cache makes room from expired entries first: no live entry is evicted."""
    clock = FakeClock()
    f = memoize(maxsize=3, ttl=10, clock=clock)(lambda n: n)
    f(1)
    f(2)
    clock.advance(5)
    f(3)
    clock.advance(5)  # 1 and 2 have expired, 3 has not
    f(4)
    f(5)
    stats = f.cache_stats()
    assert (stats.evictions, stats.expirations, stats.currsize) == (0, 2, 3)
    assert f.cache_keys() == [3, 4, 5]


@both
def test_invalidate_and_delete_of_an_expired_entry() -> None:
    """cache_invalidate of an expired entry reports no entry, and counts the expiration."""
    clock = FakeClock()
    f = memoize(ttl=1, clock=clock)(lambda n: n)
    f(1)
    clock.advance(1)
    assert f.cache_invalidate(1) is False
    assert f.cache_stats().expirations == 1


@both
def test_ttl_on_a_method_expires_each_instance_cache() -> None:
    """ttl= on a method applies to each instance's own cache."""
    clock = FakeClock()

    class Quote:
        def __init__(self) -> None:
            self.calls = 0

        @memoize(ttl=60, clock=clock)
        def price(self, item: str) -> float:
            self.calls += 1
            return 9.5

    a, b = Quote(), Quote()
    a.price("x")
    b.price("x")
    clock.advance(30)
    a.price("x")
    clock.advance(30)
    a.price("x")
    b.price("x")
    assert (a.calls, b.calls) == (2, 2)
    assert Quote.price.cache_stats().expirations == 2


@both
def test_ttl_on_an_async_function() -> None:
    """An async memoized function's results expire too: the coroutine runs again."""
    clock = FakeClock()
    calls: list[int] = []

    @memoize(ttl=5, clock=clock)
    async def fetch(n: int) -> int:
        calls.append(n)
        await asyncio.sleep(0)
        return n * 3

    async def main() -> list[int]:
        first = [await fetch(1), await fetch(1)]
        clock.advance(5)
        return [*first, await fetch(1)]

    assert asyncio.run(main()) == [3, 3, 3]
    assert calls == [1, 1]
    assert fetch.cache_stats()[:2] == (1, 2)
    assert fetch.cache_stats().expirations == 1


@both
def test_ttl_on_dp_recomputes_expired_sub_problems() -> None:
    """dp(ttl=...) expires stored sub-problems: a later call recomputes what expired."""
    clock = FakeClock()
    runs: list[int] = []

    @dp(ttl=10, clock=clock)
    def total(n: int) -> Generator[int, int, int]:
        runs.append(n)
        return 0 if n == 0 else n + (yield total(n - 1))

    assert total(5) == 15
    assert total(5) == 15
    clock.advance(10)
    assert total(5) == 15
    assert runs == [5, 4, 3, 2, 1, 0] * 2
    assert total.cache_stats().expirations == 6


@both
def test_cache_parameters_report_ttl_and_clock() -> None:
    """cache_parameters() names ttl= and clock= when they were given, and only then."""
    clock = FakeClock()
    f = memoize(ttl=5, clock=clock)(lambda n: n)
    assert f.cache_parameters() == {
        "maxsize": None,
        "typed": False,
        "key": None,
        "ttl": 5,
        "clock": clock,
    }
    assert "ttl" not in memoize(lambda n: n).cache_parameters()


@both
def test_the_default_clock_is_monotonic() -> None:
    """Without clock=, entries are timed by time.monotonic (immune to wall-clock changes)."""
    import time

    f = memoize(ttl=5)(lambda n: n)
    assert f.cache_store._expiry.clock is time.monotonic  # type: ignore[attr-defined]


@both
@pytest.mark.parametrize(
    ("options", "error", "words"),
    [
        pytest.param({"ttl": 0}, ValueError, r"ttl=\.\.\.\) takes a number of seconds > 0", id="0"),
        pytest.param({"ttl": -1}, ValueError, "seconds > 0", id="negative"),
        pytest.param({"ttl": "60"}, TypeError, "seconds > 0", id="str"),
        pytest.param({"ttl": True}, TypeError, "seconds > 0", id="bool"),
        pytest.param({"ttl": float("nan")}, TypeError, "seconds > 0", id="nan"),
        pytest.param({"clock": lambda: 0.0}, TypeError, "needs ttl= too", id="clock-alone"),
        pytest.param({"ttl": 1, "clock": 5}, TypeError, "clock=.*function", id="clock-int"),
        pytest.param(
            {"ttl": 60, "store": DictStore()}, TypeError, r"store=DictStore\(ttl=60\)", id="store"
        ),
        pytest.param(
            {"ttl": 60, "store": LRUStore(8)},
            TypeError,
            r"store=LRUStore\(maxsize, ttl=60\) in place",
            id="lru-store",
        ),
        pytest.param(
            {"ttl": 60, "store": DictStore},
            TypeError,
            r"store=DictStore\(ttl=60\); LRUStore, SQLiteStore and RedisStore take ttl= too",
            id="store-factory",
        ),
    ],
)
def test_bad_expiry_options_are_refused_when_decorating(
    options: dict[str, Any], error: type[Exception], words: str
) -> None:
    """A ttl= or clock= that cannot work is refused with a message naming the fix."""
    with pytest.raises(error, match=words):
        memoize(**options)


@both
def test_a_store_with_ttl_passes_to_memoize() -> None:
    """store=DictStore(ttl=...) expires entries as ttl= does (the store carries the option)."""
    clock = FakeClock()
    calls: list[int] = []

    def record(n: int) -> int:
        calls.append(n)
        return n

    f = memoize(store=DictStore(ttl=5, clock=clock))(record)
    f(1)
    clock.advance(5)
    f(1)
    assert calls == [1, 1]


@both
def test_an_expired_value_is_freed() -> None:
    """An expired result is not kept alive by the cache once it has been dropped."""
    import weakref

    class Box:
        pass

    clock = FakeClock()
    f = memoize(ttl=1, clock=clock)(lambda n: Box())
    ref = weakref.ref(f(1))
    clock.advance(1)
    f(2)  # the insertion drops the expired entry
    gc.collect()
    assert ref() is None


@both
@pytest.mark.parametrize(
    ("options", "error"),
    [
        pytest.param({"ttl": 0}, ValueError, id="ttl-0"),
        pytest.param({"clock": lambda: 0.0}, TypeError, id="clock-alone"),
        pytest.param({"sizeof": 3}, TypeError, id="sizeof-int"),
    ],
)
def test_stores_check_their_options(options: dict[str, Any], error: type[Exception]) -> None:
    """LRUStore refuses a bad ttl=, clock= or sizeof= when made, naming itself."""
    with pytest.raises(error, match="LRUStore"):
        LRUStore(4, **options)


@both
def test_an_expiring_store_reports_itself() -> None:
    """repr names ttl= (and sizeof=) so that a printed store says how it behaves."""
    assert repr(DictStore(ttl=60)) == "DictStore(ttl=60, <0 entries>)"
    assert repr(LRUStore(8, ttl=0.5)) == "LRUStore(maxsize=8, ttl=0.5, <0 entries>)"
    assert repr(LRUStore(8, sizeof=len)) == "LRUStore(maxsize=8, sizeof=len, <0 entries>)"


# ---------------------------------------------------------------- stateful: stores next to a model


class Model:
    """The documented rules of the in-memory stores, written plainly.

    Entries are ``key -> (value, deadline, weight)`` in least-recently-used
    order. Before an insertion, and for ``len``/``keys``, every entry whose
    deadline is not after ``now`` is dropped and counted as expired; a
    lookup that finds an expired entry drops and counts it too. A bounded
    model evicts least recently used entries until the new one fits.
    """

    def __init__(
        self,
        maxsize: int | None,
        ttl: Callable[[Any], float | None] | None,
        sizeof: Callable[[Any], float] | None,
        lru: bool,
    ) -> None:
        self.maxsize = maxsize
        self.ttl = ttl
        self.sizeof = sizeof
        self.lru = lru
        self.entries: OrderedDict[Hashable, tuple[Any, float, float]] = OrderedDict()
        self.evictions = 0
        self.expirations = 0

    def dead(self, key: Hashable, now: float) -> bool:
        return not self.entries[key][1] > now

    def reclaim(self, now: float) -> None:
        for key in [k for k in self.entries if self.dead(k, now)]:
            del self.entries[key]
            self.expirations += 1

    def get(self, key: Hashable, now: float) -> Any:
        if key not in self.entries:
            return MISSING
        if self.dead(key, now):
            del self.entries[key]
            self.expirations += 1
            return MISSING
        if self.lru:
            self.entries.move_to_end(key)
        return self.entries[key][0]

    def set(self, key: Hashable, value: Any, now: float) -> None:
        weight = 1.0 if self.sizeof is None else float(self.sizeof(value))
        seconds = None if self.ttl is None else self.ttl(value)
        deadline = float("inf") if seconds is None else now + seconds
        self.reclaim(now)
        if key in self.entries and not self.lru:
            if deadline > now:  # a dict keeps an overwritten key in its place
                self.entries[key] = (value, deadline, weight)
            else:
                del self.entries[key]
            return
        self.entries.pop(key, None)
        if self.maxsize is not None:
            if weight > self.maxsize or not self.maxsize or not deadline > now:
                return
            while self.used() + weight > self.maxsize:
                self.entries.popitem(last=False)
                self.evictions += 1
        elif not deadline > now:
            return
        self.entries[key] = (value, deadline, weight)

    def used(self) -> float:
        return sum(weight for _, _, weight in self.entries.values())

    def delete(self, key: Hashable, now: float) -> bool:
        if key not in self.entries:
            return False
        dead = self.dead(key, now)
        del self.entries[key]
        if dead:
            self.expirations += 1
        return not dead


class StoreMachine(RuleBasedStateMachine):
    """An in-memory store with expiry and/or weights next to :class:`Model`."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.store: Any = None
        self.model = Model(None, None, None, False)

    @initialize(
        kind=st.sampled_from(["dict-ttl", "lru-ttl", "lru-sizeof", "lru-both"]),
        maxsize=st.integers(0, 6),
        ttl=ttl_choices,
    )
    def make(self, kind: str, maxsize: int, ttl: Callable[[Any], float | None] | None) -> None:
        """Start from an empty store of a random kind, bound and ttl."""
        weigh = (lambda value: abs(value) % 4) if kind in ("lru-sizeof", "lru-both") else None
        ttl = ttl if kind != "lru-sizeof" else None
        option: Any = ttl  # a constant ttl is given as a number, as users do
        if ttl is not None and getattr(ttl, "constant", None) is not None:
            option = ttl.constant  # type: ignore[attr-defined]
        if kind == "dict-ttl":
            self.store = DictStore(ttl=option, clock=self.clock)
            self.model = Model(None, ttl, None, False)
        else:
            clock = None if ttl is None else self.clock
            self.store = LRUStore(maxsize, ttl=option, sizeof=weigh, clock=clock)
            self.model = Model(maxsize, ttl, weigh, True)

    @rule(seconds=clock_steps)
    def advance(self, seconds: float) -> None:
        """Time passes."""
        self.clock.advance(seconds)

    @rule(key=expiry_keys, value=store_values.map(lambda v: 0 if v is None else v))
    def set(self, key: Hashable, value: int) -> None:
        """set agrees with the model's insertion rules."""
        self.store.set(key, value)
        self.model.set(key, value, self.clock.now)

    @rule(key=expiry_keys)
    def get(self, key: Hashable) -> None:
        """get agrees with the model (an expired entry reads as absent)."""
        assert self.store.get(key) == self.model.get(key, self.clock.now)

    @rule(key=expiry_keys)
    def delete(self, key: Hashable) -> None:
        """delete reports a live entry only."""
        assert self.store.delete(key) == self.model.delete(key, self.clock.now)

    @rule()
    def clear(self) -> None:
        """clear empties both; the counts are kept."""
        self.store.clear()
        self.model.entries.clear()

    @rule()
    def inspect(self) -> None:
        """len and keys list the live entries (dropping the expired ones, in both)."""
        self.model.reclaim(self.clock.now)
        assert len(self.store) == len(self.model.entries)
        keys = list(self.store.keys())
        if self.model.lru:
            assert keys == list(self.model.entries)
        else:
            assert sorted(map(repr, keys)) == sorted(map(repr, self.model.entries))
        if self.model.sizeof is not None:
            assert self.store.currsize == self.model.used()

    @invariant()
    def same_counts(self) -> None:
        """Evictions and expirations match the model after every step."""
        if self.store is not None:
            assert self.store.evictions == self.model.evictions
            assert self.store.expirations == self.model.expirations


TestStoreModel = StoreMachine.TestCase
TestStoreModel.settings = settings(max_examples=300, stateful_step_count=50, deadline=None)


class MemoizeMachine(RuleBasedStateMachine):
    """memoize(ttl=..., maxsize=...) next to the model: it computes when the model misses."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.computed: list[Hashable] = []
        self.f: Any = None
        self.model = Model(None, None, None, False)
        self.hits = self.misses = 0

    @initialize(maxsize=st.none() | st.integers(0, 5), ttl=ttl_choices)
    def make(self, maxsize: int | None, ttl: Callable[[Any], float | None] | None) -> None:
        """Start from a fresh memoized function with a random bound and ttl."""
        option: Any = getattr(ttl, "constant", None) or ttl
        computed = self.computed

        def square(n: int) -> int:
            computed.append(n)
            return n * n

        self.f = memoize(maxsize=maxsize, ttl=option, clock=self.clock)(square)
        self.model = Model(maxsize, ttl, None, maxsize is not None)

    @rule(seconds=clock_steps)
    def advance(self, seconds: float) -> None:
        """Time passes."""
        self.clock.advance(seconds)

    @rule(n=expiry_keys)
    def call(self, n: int) -> None:
        """A call returns f(n), computing exactly when the model has no live entry."""
        now = self.clock.now
        expected = self.model.get(n, now)
        before = len(self.computed)
        assert self.f(n) == n * n
        if expected is MISSING:
            self.misses += 1
            assert self.computed[before:] == [n]
            self.model.set(n, n * n, now)
        else:
            self.hits += 1
            assert len(self.computed) == before

    @rule(n=expiry_keys)
    def invalidate(self, n: int) -> None:
        """cache_invalidate forgets one live entry."""
        assert self.f.cache_invalidate(n) == self.model.delete(n, self.clock.now)

    @rule()
    def inspect(self) -> None:
        """cache_stats() matches the model (its size drops the expired entries, in both)."""
        self.model.reclaim(self.clock.now)
        stats = self.f.cache_stats()
        assert (stats.hits, stats.misses) == (self.hits, self.misses)
        assert stats.currsize == len(self.model.entries)

    @invariant()
    def same_drops(self) -> None:
        """Evictions and expirations match the model after every step."""
        if self.f is not None:
            store = self.f.cache_store
            assert (store.evictions, store.expirations) == (
                self.model.evictions,
                self.model.expirations,
            )


TestMemoizeModel = MemoizeMachine.TestCase
TestMemoizeModel.settings = settings(max_examples=200, stateful_step_count=50, deadline=None)


@both
def test_expiry_make_returns_none_without_ttl() -> None:
    """A store without ttl= carries no expiry state at all (its entries are plain values)."""
    assert Expiry.make("DictStore", None, None) is None
    assert DictStore()._fast_path().clock is None
