"""The one fast path to in-memory stores, and the engines that take it (or must not).

``memokit.stores._memory.fast_path`` decides, for every engine, when a
store's table may be read or written directly. These tests count the store
method calls each engine makes to show that memoize, dp and DagEvaluator
take the fast path where it is offered, honour what it says (touch after a
hit, writes through ``set``), and use a store's methods alone where none is
offered, which must stay correct for any store.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Generator, Hashable, Iterator
from pathlib import Path
from typing import Any

import pytest

import memokit._codegen
import memokit._dag
from memokit import MISSING, DagEvaluator, DictStore, LRUStore, Store, dp, memoize
from memokit.stores._memory import FastPath, fast_path

# Every cache made in a test here runs on both wrappers: the generated Python
# reference and, when the core is live, the compiled one (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("memo_impl")

PACKAGE = Path(memokit.__file__).resolve().parent


def test_in_memory_stores_offer_a_fast_path_that_says_what_it_allows() -> None:
    """A DictStore allows direct reads and writes; an LRUStore reads with touch, writes by set."""
    plain = fast_path(DictStore())
    assert plain is not None and plain.touch is None and plain.direct_writes
    lru: LRUStore[int] = LRUStore(2)
    bounded = fast_path(lru)
    assert bounded is not None and bounded.touch is not None and not bounded.direct_writes
    lru.set("a", 1)
    lru.set("b", 2)
    assert bounded.table.get("a") == 1
    bounded.touch("a")  # "a" is now the most recently used: "b" goes first
    lru.set("c", 3)
    assert lru.get("b") is MISSING and lru.get("a") == 1


class ExpiringStore(DictStore[Any]):
    """A DictStore whose entries can be expired: a direct read of its table would be wrong."""

    __slots__ = ("calls", "expired")

    def __init__(self) -> None:
        super().__init__()
        self.expired: set[Hashable] = set()
        self.calls: Counter[str] = Counter()

    def get(self, key: Hashable) -> Any:
        self.calls["get"] += 1
        return MISSING if key in self.expired else super().get(key)

    def set(self, key: Hashable, value: Any) -> None:
        self.calls["set"] += 1
        self.expired.discard(key)
        super().set(key, value)


def test_a_subclass_or_another_store_gets_no_fast_path() -> None:
    """Only the exact in-memory classes offer one: a subclass may change what get means."""
    assert fast_path(ExpiringStore()) is None
    assert fast_path(object()) is None


def _fib_memoize(store: Store[Any], runs: Counter[int]) -> Callable[[int], int]:
    @memoize(store=store)
    def fib(n: int) -> int:
        runs[n] += 1
        return n if n < 2 else fib(n - 1) + fib(n - 2)

    return fib


def _fib_dp(store: Store[Any], runs: Counter[int]) -> Callable[[int], int]:
    @dp(store=store)
    def fib(n: int) -> Generator[int, int, int]:
        runs[n] += 1
        return n if n < 2 else (yield fib(n - 1)) + (yield fib(n - 2))

    return fib


def _fib_dag(store: Store[Any], runs: Counter[int]) -> Callable[[int], int]:
    def compute(n: int, values: list[int]) -> int:
        runs[n] += 1
        return n if n < 2 else sum(values)

    ev = DagEvaluator(
        inputs=lambda n: [n - 1, n - 2] if n >= 2 else [],
        compute=compute,
        key=lambda n: n,
        store=store,
    )
    return ev.evaluate


ENGINES = pytest.mark.parametrize(
    "make", [_fib_memoize, _fib_dp, _fib_dag], ids=["memoize", "dp", "dag"]
)


@ENGINES
def test_a_store_without_a_fast_path_is_used_through_its_methods(
    make: Callable[[Store[Any], Counter[int]], Callable[[int], int]],
) -> None:
    """Entries a subclass hides (as expiry would) are recomputed: every read goes through get."""
    store = ExpiringStore()
    runs: Counter[int] = Counter()
    fib = make(store, runs)
    assert fib(12) == 144
    assert set(runs.values()) == {1}
    assert store.calls["set"] == 13
    store.expired.update({12, 11})
    runs.clear()
    assert fib(12) == 144
    assert runs == Counter({12: 1, 11: 1})  # the hidden entries only; 10 and 9 were hits


@ENGINES
def test_engines_read_an_in_memory_store_without_calling_its_methods(
    make: Callable[[Store[Any], Counter[int]], Callable[[int], int]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With a DictStore, hits inside a computation never call get and stores never call set."""
    calls: Counter[str] = Counter()
    real_get, real_set = DictStore.get, DictStore.set

    def counted_get(self: DictStore[Any], key: Hashable) -> Any:
        calls["get"] += 1
        return real_get(self, key)

    def counted_set(self: DictStore[Any], key: Hashable, value: Any) -> None:
        calls["set"] += 1
        real_set(self, key, value)

    monkeypatch.setattr(DictStore, "get", counted_get)
    monkeypatch.setattr(DictStore, "set", counted_set)
    runs: Counter[int] = Counter()
    fib = make(DictStore(), runs)
    assert fib(25) == 75025
    assert set(runs.values()) == {1}
    # DagEvaluator.evaluate looks its root up through the store's get, once.
    assert calls["set"] == 0 and calls["get"] <= 1


class TableStore:
    """A store with a table of its own, which the tests below offer as a fast path."""

    def __init__(self) -> None:
        self.table: dict[Hashable, Any] = {}
        self.calls: Counter[str] = Counter()
        self.touched: list[Hashable] = []

    @property
    def maxsize(self) -> int | None:
        return None

    @property
    def evictions(self) -> int:
        return 0

    def get(self, key: Hashable) -> Any:
        self.calls["get"] += 1
        return self.table.get(key, MISSING)

    def set(self, key: Hashable, value: Any) -> None:
        self.calls["set"] += 1
        self.table[key] = value

    def delete(self, key: Hashable) -> bool:
        return self.table.pop(key, MISSING) is not MISSING

    def clear(self) -> None:
        self.table.clear()

    def __len__(self) -> int:
        return len(self.table)


@pytest.fixture
def offered(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[TableStore, bool], None]]:
    """Make fast_path offer a TableStore's table, with touch and without direct writes."""
    offers: dict[int, FastPath] = {}
    real = fast_path

    def offering(store: object) -> FastPath | None:
        return offers.get(id(store)) or real(store)

    def offer(store: TableStore, touch: bool) -> None:
        touching = store.touched.append if touch else None
        offers[id(store)] = FastPath(
            store.table, touching, False, store.set, store.get, store.delete
        )

    monkeypatch.setattr(memokit._codegen, "fast_path", offering)
    monkeypatch.setattr(memokit._dag, "fast_path", offering)
    yield offer


@pytest.mark.parametrize("make", [_fib_memoize, _fib_dp], ids=["memoize", "dp"])
def test_a_fast_path_with_touch_is_honoured(
    make: Callable[[Store[Any], Counter[int]], Callable[[int], int]],
    offered: Callable[[TableStore, bool], None],
) -> None:
    """Reads go to the table with a touch per hit; writes still go through set."""
    store = TableStore()
    offered(store, True)
    runs: Counter[int] = Counter()
    fib = make(store, runs)
    assert fib(20) == 6765
    assert set(runs.values()) == {1}
    assert store.calls["set"] == 21  # each value stored through the store's own method
    assert store.touched == list(range(1, 19))  # fib(k) hits fib(k - 2), for k = 3 ... 20
    assert store.calls["get"] == 0  # no read went through get on the hot path


def test_dag_evaluator_reads_a_table_only_when_reads_and_writes_are_both_direct(
    offered: Callable[[TableStore, bool], None],
) -> None:
    """A fast path without direct writes (or with touch) leaves DagEvaluator on get and set."""
    for touch in (False, True):
        store = TableStore()
        offered(store, touch)
        runs: Counter[int] = Counter()
        assert _fib_dag(store, runs)(15) == 610
        assert store.calls["set"] == 16
        assert store.calls["get"] > 16  # the root, then every input's lookup


def test_no_module_but_the_in_memory_stores_reads_their_tables() -> None:
    """Nothing in memokit outside the in-memory stores' modules reaches into a store's _data."""
    own = {"stores/_memory.py", "stores/_lru.py"}
    readers = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if path.relative_to(PACKAGE).as_posix() not in own
        and re.search(r"\._data\b", path.read_text(encoding="utf-8"))
    ]
    assert readers == []
