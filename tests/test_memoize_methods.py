"""@memoize on methods: per-instance caches that never keep an instance alive."""

from __future__ import annotations

import copy
import gc
import inspect
import pickle
import weakref
from dataclasses import dataclass
from typing import Any

import pytest

from memokit import CacheInfo, LRUStore, memoize
from tests.helpers import memo as memo_helpers

# Every cache made in a test here runs on both wrappers: the generated Python
# reference and, when the core is live, the compiled one (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("memo_impl")


class Result:
    """A cached value that can be weakly referenced (to see when a cache drops it)."""

    def __init__(self, value: int) -> None:
        self.value = value


class Scaler:
    """A class with a memoized method whose result depends on the instance."""

    def __init__(self, factor: int) -> None:
        self.factor = factor
        self.calls: list[int] = []

    @memoize
    def scale(self, x: int, offset: int = 0) -> int:
        """Return ``x * factor + offset``."""
        self.calls.append(x)
        return x * self.factor + offset

    @memoize
    def boxed(self, x: int) -> Result:
        """Return a fresh object, so its lifetime shows the cache's."""
        self.calls.append(x)
        return Result(x * self.factor)


def _collect() -> None:
    for _ in range(3):
        gc.collect()


def test_each_instance_has_its_own_cache() -> None:
    """Two instances never share entries, even for equal arguments."""
    a, b = Scaler(2), Scaler(3)
    assert a.scale(5) == 10
    assert b.scale(5) == 15
    assert a.scale(5) == 10
    assert b.scale(x=5) == 15
    assert a.calls == [5]
    assert b.calls == [5]
    assert a.scale.cache_info() == CacheInfo(hits=1, misses=1, maxsize=None, currsize=1)


def test_method_keys_bind_arguments_like_functions() -> None:
    """Positional, keyword and default forms of a method call share one entry."""
    s = Scaler(1)
    assert [s.scale(1), s.scale(x=1), s.scale(1, 0), s.scale(1, offset=0)] == [1] * 4
    assert s.calls == [1]


def test_temporary_instance() -> None:
    """A method called on a temporary, or through a saved bound method, works."""
    assert Scaler(4).scale(2) == 8
    bound = Scaler(5).scale
    assert bound(2) == 10
    assert bound(2) == 10
    assert bound.cache_info().hits == 1
    assert list(map(Scaler(6).scale, [1, 2])) == [6, 12]


def test_instance_is_not_kept_alive() -> None:
    """After del and gc, a weak reference to an instance with a warm cache is dead."""
    s = Scaler(2)
    s.scale(1)
    s.boxed(1)
    ref = weakref.ref(s)
    del s
    _collect()
    assert ref() is None


def test_cache_is_dropped_with_its_instance() -> None:
    """When an instance dies its cache goes too: the cached result object is freed."""
    s = Scaler(2)
    result = s.boxed(21)
    assert s.boxed(21) is result
    result_ref = weakref.ref(result)
    del s, result
    _collect()
    assert result_ref() is None


def test_class_level_cache_info_sums_live_instances() -> None:
    """Class.method.cache_info() adds up the caches of the instances still alive."""

    class Counter:
        @memoize
        def get(self, x: int) -> int:
            return x

    a, b = Counter(), Counter()
    a.get(1)
    a.get(1)
    a.get(2)
    b.get(1)
    assert Counter.get.cache_info() == CacheInfo(hits=1, misses=3, maxsize=None, currsize=3)
    del b
    _collect()
    assert Counter.get.cache_info() == CacheInfo(hits=1, misses=2, maxsize=None, currsize=2)
    Counter.get.cache_clear()
    assert Counter.get.cache_info() == CacheInfo(hits=0, misses=0, maxsize=None, currsize=0)
    assert a.get.cache_info().currsize == 0


# mypy types a memoized method read from the class as if bound (it drops the
# first parameter), so calls that pass the instance go through Any.
SCALE_VIA_CLASS: Any = Scaler.scale


def test_calling_through_the_class_uses_the_instance_cache() -> None:
    """Class.method(instance, x) reads and fills that instance's cache."""
    s = Scaler(3)
    s.scale(1)
    assert SCALE_VIA_CLASS(s, 1) == 3
    assert s.calls == [1]
    assert SCALE_VIA_CLASS(s, 2) == 6
    assert s.scale(2) == 6
    assert s.calls == [1, 2]
    assert s.scale.cache_info().hits == 2


def test_cache_invalidate_on_an_instance_and_through_the_class() -> None:
    """instance.m.cache_invalidate(x) and Class.m.cache_invalidate(instance, x) forget one entry."""
    a, b = Scaler(1), Scaler(1)
    for s in (a, b):
        s.scale(1)
        s.scale(2)
    assert a.scale.cache_invalidate(1) is True
    assert SCALE_VIA_CLASS.cache_invalidate(b, x=2) is True
    assert SCALE_VIA_CLASS.cache_invalidate(b, 2) is False
    for s in (a, b):
        s.scale(1)
        s.scale(2)
    assert a.calls == [1, 2, 1]
    assert b.calls == [1, 2, 2]


def test_unhashable_method_argument_names_the_parameter() -> None:
    """The unhashable-argument error names the method's parameter, not self."""
    with pytest.raises(TypeError, match=r"Scaler\.scale\(\) .*parameter 'x' \(list\).*key="):
        Scaler(1).scale([1])  # type: ignore[arg-type]


def test_bound_signature_drops_self() -> None:
    """inspect.signature of a bound memoized method matches the plain bound method."""

    class Plain:
        def scale(self, x: int, offset: int = 0) -> int:
            return x

    assert inspect.signature(Scaler(1).scale) == inspect.signature(Plain().scale)
    assert Scaler.scale.__doc__ == "Return ``x * factor + offset``."
    assert getattr(Scaler(1).scale, "__name__", None) == "scale"


@dataclass
class Point:
    """A dataclass with eq=True, so its instances are unhashable."""

    x: int
    y: int

    @memoize
    def shifted(self, dx: int) -> tuple[int, int]:
        """Return the point moved by ``dx``."""
        return (self.x + dx, self.y)


def test_unhashable_instances_work() -> None:
    """Instances that define __eq__ (and so are unhashable) get caches all the same."""
    p = Point(1, 2)
    with pytest.raises(TypeError):
        hash(p)
    assert p.shifted(1) == (2, 2)
    assert p.shifted(1) == (2, 2)
    assert p.shifted.cache_info().hits == 1


def test_equal_instances_do_not_share_a_cache() -> None:
    """Two equal instances are still two caches: identity, not equality, selects one."""
    p, q = Point(1, 2), Point(1, 2)
    assert p == q
    p.shifted(1)
    q.shifted(1)
    assert p.shifted.cache_info().misses == 1
    assert q.shifted.cache_info().misses == 1
    q.x = 10  # q's cache is q's own: p's entry is not what q sees
    q.shifted.cache_clear()
    assert q.shifted(1) == (11, 2)
    assert p.shifted(1) == (2, 2)


def test_slots_without_weakref_is_a_clear_error() -> None:
    """A __slots__ class with neither __dict__ nor __weakref__ is told to add '__dict__'."""

    class Slotted:
        __slots__ = ("v",)

        def __init__(self) -> None:
            self.v = 1

        @memoize
        def get(self) -> int:
            return self.v

    with pytest.raises(TypeError, match=r"add '__dict__' to Slotted\.__slots__"):
        Slotted().get()


def test_slots_with_weakref_work() -> None:
    """A __slots__ class that lists __weakref__ is memoized per instance."""

    class Slotted:
        __slots__ = ("__weakref__", "calls")

        def __init__(self) -> None:
            self.calls = 0

        @memoize
        def get(self, x: int) -> int:
            self.calls += 1
            return x

    s = Slotted()
    assert s.get(1) == 1
    assert s.get(1) == 1
    assert s.calls == 1


def test_dead_instance_cache_is_never_reused() -> None:
    """A new instance (which may reuse a dead one's id) never sees the dead one's entries."""

    class Box:
        def __init__(self, v: int) -> None:
            self.v = v

        @memoize
        def value(self) -> int:
            return self.v

    for v in range(300):
        box = Box(v)
        assert box.value() == v
        del box


def test_method_named_like_a_builtin() -> None:
    """A method named len is called once, with its own instance as self."""

    class Vector:
        def __init__(self, *items: int) -> None:
            self.items = items
            self.selves: list[object] = []

        @memoize
        def len(self) -> str:
            self.selves.append(self)
            return f"{sum(1 for _ in self.items)} items"

    v = Vector(1, 2, 3)
    assert v.len() == "3 items"
    assert v.len() == "3 items"
    assert v.selves == [v]


def test_recursive_method() -> None:
    """A memoized method that calls itself computes each sub-problem once."""

    class Fib:
        def __init__(self) -> None:
            self.calls = 0

        @memoize
        def fib(self, n: int) -> int:
            self.calls += 1
            return n if n < 2 else self.fib(n - 1) + self.fib(n - 2)

    f = Fib()
    assert f.fib(60) == 1548008755920
    assert f.calls == 61


def test_method_with_bounded_cache() -> None:
    """maxsize= on a method bounds each instance's cache separately."""

    class Bounded:
        def __init__(self) -> None:
            self.calls: list[int] = []

        @memoize(maxsize=2)
        def get(self, x: int) -> int:
            self.calls.append(x)
            return x

    a, b = Bounded(), Bounded()
    for x in [1, 2, 3, 1]:
        a.get(x)
    b.get(1)
    assert a.calls == [1, 2, 3, 1]
    assert b.calls == [1]
    assert a.get.cache_stats().evictions == 2
    assert a.get.cache_info().currsize == 2


def test_method_store_factory_makes_one_store_per_instance() -> None:
    """store= on a method takes a factory and calls it for each instance."""
    made: list[LRUStore[Any]] = []

    def make() -> LRUStore[Any]:
        made.append(LRUStore(3))
        return made[-1]

    class Stored:
        @memoize(store=make)
        def get(self, x: int) -> int:
            return x

    a, b = Stored(), Stored()
    a.get(1)
    b.get(1)
    b.get(2)
    assert sorted(len(s) for s in made) == [1, 2]
    assert a.get.cache_info().maxsize == 3


def test_method_store_instance_is_rejected() -> None:
    """A single store instance cannot serve every instance: the error asks for a factory."""

    class Shared:
        @memoize(store=LRUStore(3))
        def get(self, x: int) -> int:
            return x

    with pytest.raises(TypeError, match="function that makes a store"):
        Shared().get(1)


# ---------------------------------------------------------------- classmethod and staticmethod


def make_family() -> tuple[type[Any], type[Any]]:
    """A new class and subclass, so that each test (per wrapper) starts with empty caches."""

    class Family:
        """Every way of stacking memoize with classmethod and staticmethod."""

        calls: list[tuple[str, object]] = []  # noqa: RUF012 - a deliberate shared log

        @classmethod
        @memoize
        def class_over(cls, x: int) -> str:
            Family.calls.append(("class_over", (cls.__name__, x)))
            return f"{cls.__name__}:{x}"

        @memoize
        @classmethod
        def class_under(cls, x: int) -> str:
            Family.calls.append(("class_under", (cls.__name__, x)))
            return f"{cls.__name__}:{x}"

        @staticmethod
        @memoize
        def static_over(x: int) -> int:
            Family.calls.append(("static_over", x))
            return x * 10

        @memoize
        @staticmethod
        def static_under(x: int) -> int:
            Family.calls.append(("static_under", x))
            return x * 10


    class Child(Family):
        """A subclass, so that cls differs."""

    return Family, Child


@pytest.mark.parametrize("name", ["class_over", "class_under"])
def test_classmethod_binds_cls_and_caches(name: str) -> None:
    """classmethod over or under memoize binds cls, caches per class, and works via instances."""
    Family, Child = make_family()
    method = getattr(Family, name)
    assert method(1) == "Family:1"
    assert method(1) == "Family:1"
    assert getattr(Family(), name)(1) == "Family:1"
    assert getattr(Child, name)(1) == "Child:1"
    assert getattr(Child(), name)(1) == "Child:1"
    assert Family.calls == [(name, ("Family", 1)), (name, ("Child", 1))]
    assert method.cache_info().hits >= 2


@pytest.mark.parametrize("name", ["static_over", "static_under"])
def test_staticmethod_caches(name: str) -> None:
    """staticmethod over or under memoize caches one table for the class and its instances."""
    Family, Child = make_family()
    assert getattr(Family, name)(2) == 20
    assert getattr(Family(), name)(2) == 20
    assert getattr(Child, name)(x=2) == 20
    assert Family.calls == [(name, 2)]
    assert getattr(Family, name).cache_info().hits == 2


def test_staticmethod_whose_argument_is_an_instance() -> None:
    """A memoized staticmethod given an instance of its class still computes fn(instance)."""

    class Node:
        def __init__(self, v: int) -> None:
            self.v = v

        @staticmethod
        @memoize
        def value_of(node: Node, extra: int = 0) -> int:
            calls.append(node.v)
            return node.v + extra

    calls: list[int] = []
    value_of: Any = Node.value_of  # mypy binds away a staticmethod's first parameter
    n = Node(7)
    assert value_of(n) == 7
    assert value_of(n, 0) == 7
    assert value_of(Node(8), extra=1) == 9
    assert calls == [7, 8]


# ---------------------------------------------------------------- copy and pickle


def test_copy_does_not_share_the_cache() -> None:
    """copy.copy and deepcopy of an instance start with empty caches of their own."""
    original = Scaler(2)
    original.scale(1)
    for clone in (copy.copy(original), copy.deepcopy(original)):
        clone.factor = 100
        clone.calls = []
        assert clone.scale(1) == 100
        assert clone.calls == [1]
        assert clone.scale.cache_info().currsize == 1
    assert original.scale(1) == 2
    assert original.calls == [1]
    assert original.scale.cache_info() == CacheInfo(hits=1, misses=1, maxsize=None, currsize=1)


def test_pickling_an_instance_with_memoized_methods() -> None:
    """An instance of a class with memoized methods pickles; the copy gets its own cache."""
    account = memo_helpers.Account(3)
    assert account.interest(10) == 30
    start = len(memo_helpers.CALLS)
    clone = pickle.loads(pickle.dumps(account))
    assert clone.rate == 3
    assert clone.interest(10) == 30
    assert clone.interest(10) == 30
    assert account.interest(10) == 30
    assert memo_helpers.CALLS[start:] == [("interest", 10)]


# ---------------------------------------------------------------- lifetimes


class Offspring:
    """A result that refers back to the instance that made it."""

    def __init__(self, parent: object) -> None:
        self.parent = parent


class Node:
    """A class whose memoized method returns an object holding self."""

    @memoize
    def child(self) -> Offspring:
        return Offspring(self)


def test_a_result_that_refers_to_self_does_not_keep_the_instance_alive() -> None:
    """1000 instances whose cached results refer to them are all freed by the collector."""
    refs = []
    for _ in range(1000):
        node = Node()
        assert node.child() is node.child()
        refs.append(weakref.ref(node))
        del node
    _collect()
    assert sum(ref() is not None for ref in refs) == 0


class Number(int):
    """An int subclass: it has a __dict__, but no weak references."""

    @memoize
    def double(self) -> int:
        return self * 2

    @memoize
    def me(self) -> Offspring:
        return Offspring(self)


class Pair(tuple[int, int]):
    """A tuple subclass without __slots__ (it gets a __dict__, but no weak references)."""

    @memoize
    def total(self) -> int:
        return self[0] + self[1]


def test_instances_without_weak_references_work_through_their_dict() -> None:
    """int and tuple subclasses, which refuse weak references, get a cache as lru_cache does."""
    n = Number(3)
    assert n.double() == 6 and n.double() == 6
    assert n.double.cache_info()[:2] == (1, 1)
    p = Pair((1, 2))
    assert p.total() == 3 and p.total() == 3
    assert Pair((1, 2)).total.cache_info().currsize == 0  # equal instances: separate caches


def test_an_instance_without_weak_references_is_still_freed() -> None:
    """Its cache refers to it strongly (a cycle through __dict__), which the collector frees."""
    n = Number(5)
    n.me()
    child = weakref.ref(n.me())
    del n
    _collect()
    assert child() is None


def test_the_advice_for_slots_fits_the_type() -> None:
    """An int subclass with empty __slots__ cannot add slots: the error says to drop __slots__."""

    class Tight(int):
        __slots__ = ()

        @memoize
        def double(self) -> int:
            return self * 2

    with pytest.raises(TypeError, match="define Tight without __slots__") as info:
        Tight(2).double()
    assert "__weakref__" not in str(info.value).split("To fix it")[1]


def test_the_cache_lives_in_the_instance_dict() -> None:
    """vars(obj) shows one entry per memoized method used, named after the method."""
    s = Scaler(2)
    s.scale(1)
    entries = [name for name in vars(s) if name.startswith("__memokit_")]
    assert entries == ["__memokit_Scaler.scale"]


def test_threads_racing_on_a_new_instance_make_one_cache() -> None:
    """Eight threads calling a method of a fresh instance at once share one cache."""
    import threading

    s = Scaler(2)
    barrier = threading.Barrier(8)
    wrappers: list[object] = []

    def first_use() -> None:
        barrier.wait()
        wrappers.append(s.scale.__func__)  # type: ignore[attr-defined]
        s.scale(1)

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(w) for w in wrappers}) == 1
    assert s.calls == [1]


# ---------------------------------------------------------------- copies of instances


def test_a_copy_made_before_first_use_never_reuses_a_dead_instance_cache() -> None:
    """copy of a copy, after the original died: each object computes with its own state."""
    original = Scaler(2)
    original.scale(1)
    first = copy.copy(original)
    del original
    _collect()
    second = copy.copy(first)  # may reuse the original's address
    second.factor = 7
    second.calls = []
    assert second.scale(1) == 7
    assert second.calls == [1]
    first.calls = []
    assert first.scale(1) == 2
    assert first.calls == [1]


def test_copying_an_instance_without_weak_references() -> None:
    """copy.copy of an int subclass instance gets its own cache, the original keeps its own."""
    n = Number(4)
    n.double()
    clone = copy.copy(n)
    assert clone.double() == 8
    assert clone.double.cache_info()[:2] == (0, 1)
    assert n.double.cache_info()[:2] == (0, 1)


def test_pickled_and_deep_copied_instances_start_empty() -> None:
    """The cache entry of a pickled or deep-copied instance is empty; the original keeps its own."""
    account = memo_helpers.Account(2)
    account.interest(5)
    for clone in (pickle.loads(pickle.dumps(account)), copy.deepcopy(account)):
        assert clone.interest.cache_info().currsize == 0
        assert clone.interest(5) == 10
    assert account.interest.cache_info() == CacheInfo(0, 1, None, 1)


# ---------------------------------------------------------------- the memoized objects themselves


MODEL_ATTRIBUTES = ["predict", "helper"]


@pytest.mark.parametrize("name", MODEL_ATTRIBUTES)
@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_methods_read_from_the_class_pickle_by_reference(name: str, protocol: int) -> None:
    """Model.predict and a memoized staticmethod pickle to the same object, as lru_cache's do."""
    obj = getattr(memo_helpers.Model, name)
    assert pickle.loads(pickle.dumps(obj, protocol)) is obj


@pytest.mark.parametrize("name", MODEL_ATTRIBUTES)
def test_methods_read_from_the_class_copy_to_themselves(name: str) -> None:
    """copy.copy and copy.deepcopy of Model.predict or a memoized staticmethod return it."""
    obj = getattr(memo_helpers.Model, name)
    assert copy.copy(obj) is obj
    assert copy.deepcopy(obj) is obj


def test_a_memoized_classmethod_pickles_like_a_bound_method() -> None:
    """Model.build (a classmethod over memoize) pickles and calls as the same cache."""
    build = memo_helpers.Model.build
    clone = pickle.loads(pickle.dumps(build))
    assert clone(3) == build(3) == "Model:3"


def test_memoized_functions_copy_to_themselves() -> None:
    """copy.copy and deepcopy of a memoized function return the function (as for lru_cache)."""
    for f in (memo_helpers.square, memo_helpers.bounded_cube, memo_helpers.expiring_double):
        assert copy.copy(f) is f
        assert copy.deepcopy(f) is f
        assert pickle.loads(pickle.dumps(f)) is f


def test_the_class_level_method_points_to_instance_caches() -> None:
    """Model.predict has no one store or key list: the errors say to ask an instance."""
    with pytest.raises(AttributeError, match=r"instance\.predict\.cache_store"):
        memo_helpers.Model.predict.cache_store  # noqa: B018
    with pytest.raises(TypeError, match=r"instance\.predict\.cache_keys\(\)"):
        memo_helpers.Model.predict.cache_keys()
    model = memo_helpers.Model()
    model.predict(1)
    assert model.predict.cache_keys() == [1]
    assert len(model.predict.cache_store) == 1
