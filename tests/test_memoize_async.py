"""@memoize on coroutine functions: results cached, one computation per key, clean cancellation."""

from __future__ import annotations

import asyncio
import gc
import threading
import weakref
from collections.abc import Coroutine, Hashable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memokit import MISSING, DictStore, LRUStore, Memoized, Missing, memoize


class RecordingStore:
    """A store written against the protocol only, to exercise the generic path."""

    def __init__(self) -> None:
        self.data: dict[Hashable, Any] = {}

    @property
    def maxsize(self) -> None:
        return None

    @property
    def evictions(self) -> int:
        return 0

    def get(self, key: Hashable) -> Any | Missing:
        return self.data.get(key, MISSING)

    def set(self, key: Hashable, value: Any) -> None:
        self.data[key] = value

    def delete(self, key: Hashable) -> bool:
        return self.data.pop(key, MISSING) is not MISSING

    def clear(self) -> None:
        self.data.clear()

    def __len__(self) -> int:
        return len(self.data)


def make_slow(
    calls: list[int], delay: float = 0.02, **options: Any
) -> Memoized[[int], Coroutine[Any, Any, int]]:
    """A memoized coroutine that records each real call and fails for negative input."""

    @memoize(**options)
    async def slow(x: int) -> int:
        calls.append(x)
        await asyncio.sleep(delay)
        if x < 0:
            raise ValueError(f"negative: {x}")
        return x * 2

    return slow


STORE_OPTIONS: list[dict[str, Any]] = [
    {},
    {"maxsize": 8},
    {"store": RecordingStore()},
    {"ttl": 3600},
    {"maxsize": 8, "sizeof": lambda value: 1, "ttl": 3600},
]


@pytest.fixture(
    params=range(len(STORE_OPTIONS)), ids=["dict", "lru", "generic", "dict-ttl", "lru-sizeof-ttl"]
)
def options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Each store kind the engine specializes for."""
    opts = dict(STORE_OPTIONS[request.param])
    if "store" in opts:
        opts["store"] = RecordingStore()
    return opts


def test_result_is_cached_not_the_coroutine(options: dict[str, Any]) -> None:
    """Awaiting a hit twice works: the value is cached, not a spent coroutine."""
    calls: list[int] = []
    slow = make_slow(calls, delay=0, **options)

    async def main() -> list[int]:
        return [await slow(3), await slow(3), await slow(3)]

    assert asyncio.run(main()) == [6, 6, 6]
    assert calls == [3]
    info = slow.cache_info()
    assert (info.hits, info.misses, info.currsize) == (2, 1, 1)


def test_concurrent_awaiters_share_one_computation(options: dict[str, Any]) -> None:
    """Fifty tasks missing one key run the function once and all get its value."""
    calls: list[int] = []
    slow = make_slow(calls, **options)

    async def main() -> list[int]:
        return await asyncio.gather(*(slow(5) for _ in range(50)))

    assert asyncio.run(main()) == [10] * 50
    assert calls == [5]


def test_exception_reaches_every_awaiter_and_is_not_cached(options: dict[str, Any]) -> None:
    """All concurrent awaiters get the exception; the next call computes again."""
    calls: list[int] = []
    slow = make_slow(calls, **options)

    async def main() -> list[BaseException | int]:
        return await asyncio.gather(*(slow(-1) for _ in range(10)), return_exceptions=True)

    outcomes = asyncio.run(main())
    assert all(isinstance(o, ValueError) for o in outcomes)
    assert calls == [-1]
    with pytest.raises(ValueError, match="negative"):
        asyncio.run(slow(-1))
    assert calls == [-1, -1]
    assert slow.cache_info().currsize == 0


def test_cancelling_one_waiter_keeps_the_computation_for_others(options: dict[str, Any]) -> None:
    """A cancelled waiter does not cancel the work another waiter is awaiting."""
    calls: list[int] = []
    slow = make_slow(calls, delay=0.05, **options)

    async def main() -> int:
        first = asyncio.ensure_future(slow(7))
        second = asyncio.ensure_future(slow(7))
        await asyncio.sleep(0.01)
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        return await second

    assert asyncio.run(main()) == 14
    assert calls == [7]
    assert slow.cache_info().currsize == 1


def test_cancelling_the_only_waiter_leaves_nothing_behind(options: dict[str, Any]) -> None:
    """The last waiter's cancellation cancels the work: no entry, no stale flight."""
    started: list[int] = []
    cancelled: list[int] = []

    @memoize(**options)
    async def slow(x: int) -> int:
        started.append(x)
        try:
            await asyncio.sleep(1)
        except asyncio.CancelledError:
            cancelled.append(x)
            raise
        return x

    async def main() -> None:
        task = asyncio.ensure_future(slow(1))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0.01)  # let the computation's task observe its cancellation
        assert cancelled == [1]
        assert slow.cache_info().currsize == 0
        # A new call starts a fresh computation instead of joining a dead flight.
        again = asyncio.ensure_future(slow(1))
        await asyncio.sleep(0.01)
        assert started == [1, 1]
        again.cancel()
        with pytest.raises(asyncio.CancelledError):
            await again

    asyncio.run(main())


def test_sequential_event_loops(options: dict[str, Any]) -> None:
    """Two asyncio.run calls in a row share the cache and raise no loop errors."""
    calls: list[int] = []
    slow = make_slow(calls, delay=0, **options)
    assert asyncio.run(slow(2)) == 4
    assert asyncio.run(slow(2)) == 4
    assert asyncio.run(slow(3)) == 6
    assert calls == [2, 3]


def test_loop_closed_mid_flight_does_not_poison_the_next_loop() -> None:
    """A flight abandoned by a finished loop is replaced by the next loop's call."""
    calls: list[int] = []
    slow = make_slow(calls, delay=0.5)

    pending: list[asyncio.Future[int]] = []

    async def abandon() -> None:
        pending.append(asyncio.ensure_future(slow(4)))  # still pending when asyncio.run returns
        await asyncio.sleep(0.01)

    asyncio.run(abandon())
    assert asyncio.run(asyncio.wait_for(slow(4), timeout=5)) == 8
    assert calls == [4, 4]


def test_loops_in_threads_work_independently() -> None:
    """Event loops in several threads each get the value without cross-loop errors."""
    calls: list[int] = []
    slow = make_slow(calls, delay=0.02)
    results: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            results.append(asyncio.run(slow(6)))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert not errors
    assert results == [12] * 4
    assert 1 <= len(calls) <= 4  # single-flight is per event loop


def test_invalidate_forgets_one_entry() -> None:
    """cache_invalidate on a coroutine function forgets exactly that entry."""
    calls: list[int] = []
    slow = make_slow(calls, delay=0)

    async def main() -> None:
        await slow(1)
        await slow(2)
        assert slow.cache_invalidate(1) is True
        assert slow.cache_invalidate(1) is False
        await slow(1)
        await slow(2)

    asyncio.run(main())
    assert calls == [1, 2, 1]


def test_lru_bound_holds_for_coroutines() -> None:
    """An LRU-bounded coroutine cache never holds more than maxsize entries."""
    calls: list[int] = []
    slow = make_slow(calls, delay=0, maxsize=3)

    async def main() -> None:
        for x in range(10):
            await slow(x)

    asyncio.run(main())
    stats = slow.cache_stats()
    assert stats.currsize == 3
    assert stats.evictions == 7


class Service:
    """A class with a memoized coroutine method."""

    def __init__(self, offset: int) -> None:
        self.offset = offset
        self.calls = 0

    @memoize
    async def fetch(self, x: int) -> int:
        self.calls += 1
        await asyncio.sleep(0)
        return x + self.offset


def test_async_methods_are_per_instance_and_not_kept_alive() -> None:
    """Each instance has its own cache; a collected instance leaves no cache behind."""
    a, b = Service(10), Service(100)

    async def main(first: Service, second: Service) -> tuple[int, ...]:
        return (await first.fetch(1), await first.fetch(1), await second.fetch(1))

    assert asyncio.run(main(a, b)) == (11, 11, 101)
    assert (a.calls, b.calls) == (1, 1)
    ref = weakref.ref(a)
    del a
    gc.collect()
    assert ref() is None
    assert asyncio.run(Service(5).fetch(1)) == 6  # a temporary instance works


def test_store_kinds_all_keep_only_results() -> None:
    """What lands in each store is the awaited result, never a coroutine or task."""
    for store in (DictStore[Any](), LRUStore[Any](4), RecordingStore()):
        calls: list[int] = []
        slow = make_slow(calls, delay=0, store=store)
        asyncio.run(slow(9))
        assert store.get(9) == 18


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(min_value=-5, max_value=5), max_size=20))
def test_memoized_async_equals_plain(xs: list[int]) -> None:
    """For any call sequence, the memoized coroutine returns what the plain one does."""

    async def plain(x: int) -> int:
        return x * x - 3 * x

    cached = memoize(plain)

    async def main() -> tuple[list[int], list[int]]:
        return [await plain(x) for x in xs], [await cached(x) for x in xs]

    expected, got = asyncio.run(main())
    assert got == expected


# ---------------------------------------------------------------- re-entrancy and honest counts


def test_awaiting_its_own_pending_key_raises_instead_of_hanging() -> None:
    """An async call that awaits itself with the same key gets RecursionError, naming the call."""
    entered: list[int] = []

    @memoize
    async def forever(n: int) -> int:
        entered.append(n)
        return await forever(n)

    async def main() -> int:
        return await asyncio.wait_for(forever(1), timeout=10)

    with pytest.raises(RecursionError, match=r"forever\(1\) awaits its own result"):
        asyncio.run(main())
    assert entered == [1]
    assert forever.cache_info().currsize == 0


def test_a_cycle_across_two_functions_raises_instead_of_hanging() -> None:
    """f(1) awaits g(1), which awaits f(1): RecursionError with the chain, and nothing stored."""

    @memoize
    async def f(n: int) -> int:
        return await g(n)

    @memoize
    async def g(n: int) -> int:
        await asyncio.sleep(0)
        return await f(n)

    async def main() -> int:
        return await asyncio.wait_for(f(1), timeout=10)

    with pytest.raises(RecursionError, match=r"\(f\(1\) -> g\(1\) -> f\(1\)\)"):
        asyncio.run(main())
    assert f.cache_info().currsize == g.cache_info().currsize == 0


def test_separate_callers_of_one_key_are_not_a_cycle() -> None:
    """Two tasks awaiting one computation that awaits another key: no false cycle."""

    @memoize
    async def leaf(n: int) -> int:
        await asyncio.sleep(0.01)
        return n

    @memoize
    async def top(n: int) -> int:
        return await leaf(n) + await leaf(n + 1)

    async def main() -> list[int]:
        return list(await asyncio.gather(top(1), top(1), leaf(1), leaf(2)))

    assert asyncio.run(main()) == [3, 3, 1, 2]


def test_awaiters_of_one_computation_count_as_hits(options: dict[str, Any]) -> None:
    """Fifty concurrent awaiters, one computation: hits=49, misses=1."""
    calls: list[int] = []
    slow = make_slow(calls, **options)

    async def main() -> list[int]:
        return await asyncio.gather(*(slow(5) for _ in range(50)))

    asyncio.run(main())
    assert calls == [5]
    assert slow.cache_info()[:2] == (49, 1)


def test_a_failed_async_computation_counts_one_miss() -> None:
    """The awaiters of a failed computation count nothing; the computation counts a miss."""
    calls: list[int] = []
    slow = make_slow(calls)

    async def main() -> list[BaseException | int]:
        return await asyncio.gather(*(slow(-1) for _ in range(5)), return_exceptions=True)

    asyncio.run(main())
    assert slow.cache_info()[:2] == (0, 1)
