"""``@memoize`` on a method: one cache per instance, none of them keeping its instance alive.

Where an instance's cache lives decides what can free it:

* In the instance's ``__dict__`` (under ``__memokit_<qualname>``), when it
  has one. The cache then lives exactly as long as the instance, and when a
  cached result refers to the instance (``return Child(self)``) the cycle
  instance → cache → result → instance is garbage the collector frees, as
  it would be without memoization. The cache refers back to its owner (to
  tell a copied ``__dict__`` from its own) weakly when the instance
  supports weak references, and strongly otherwise (``class X(int)``): that
  is a cycle too, which the collector frees.
* In a table of the descriptor's, keyed by ``id(instance)``, for an instance
  without a ``__dict__`` (``__slots__`` with ``"__weakref__"``): a weak
  reference's callback drops the cache with the instance. A result that
  refers to its instance would keep it alive there; the advice is to add
  ``"__dict__"`` to ``__slots__``.

Copies never share a cache: ``copy.copy`` copies the ``__dict__`` entry, but
the copy sees that the cache is not its own and starts an empty one;
``copy.deepcopy`` and ``pickle`` give the copy an empty cache outright.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Callable
from types import MethodType
from typing import TYPE_CHECKING, Any

from memokit import _core
from memokit._callthrough import Recipe, build
from memokit._info import CacheInfo, CacheStats
from memokit._keys import qualified_name

if TYPE_CHECKING:
    from memokit._callthrough import Options

__all__ = ["FRONT", "MemoizedMethod", "is_method", "memoized_method"]

#: The compiled front of a memoized method (memokit/_core/memo_method.c), or
#: None: the class holds the :class:`MemoizedMethod` itself.
FRONT: Any = _core.MemoMethod


def is_method(fn: Callable[..., Any]) -> bool:
    """Whether ``fn`` was defined in a class body (its qualname says ``Class.name``)."""
    parts = getattr(fn, "__qualname__", "").split(".")
    return len(parts) >= 2 and parts[-2] != "<locals>"


def _nobody() -> None:
    return None


class _Strong:
    """A strong reference called like ``weakref.ref``: for owners without weak references."""

    __slots__ = ("target",)

    def __init__(self, target: object) -> None:
        self.target = target

    def __call__(self) -> object:
        return self.target


def memoized_method(fn: Callable[..., Any], options: Options) -> Any:
    """What a class holds for ``@memoize`` on a method: a :class:`MemoizedMethod`, or its front.

    With the compiled core, the front (a ``MemoMethod``) finds an instance's
    cache in C, as :meth:`MemoizedMethod.__get__` does, and calls it without
    making a bound method; it hands everything else (a first call, an
    instance without a ``__dict__``, the ``cache_*`` controls) to the
    :class:`MemoizedMethod` behind it, which makes and keeps the caches.
    """
    reference = MemoizedMethod(fn, options)
    if FRONT is None:
        return reference
    front = FRONT(reference, InstanceCache)
    functools.update_wrapper(front, fn)  # its own name, doc and signature
    return front


class InstanceCache:
    """One instance's cache of one memoized method: the wrapper, and who owns it."""

    __slots__ = ("__weakref__", "owner", "wrapper")

    def __init__(self, wrapper: Any, owner: Callable[[], object]) -> None:
        self.wrapper = wrapper
        #: Returns the instance this cache belongs to (``None`` once it is gone).
        self.owner = owner

    def __reduce__(self) -> tuple[Callable[[], InstanceCache], tuple[()]]:
        return (_empty_cache, ())  # a pickled instance starts with an empty cache

    def __deepcopy__(self, memo: dict[int, object]) -> InstanceCache:
        return _empty_cache()

    def __repr__(self) -> str:
        name = getattr(self.wrapper, "__qualname__", "?")
        return f"<memoize cache of {name} for one instance>"


def _empty_cache() -> InstanceCache:
    """A cache that belongs to nobody: the descriptor replaces it on first use."""
    return InstanceCache(None, _nobody)


class MemoizedMethod:
    """A descriptor giving each instance its own cache, never keeping it alive (see the module)."""

    # The attributes __get__ reads on every access are slots (the fastest
    # attribute reads); __dict__ holds what functools.update_wrapper copies.
    __slots__ = ("__dict__", "_outside", "_owner", "_slot")

    def __init__(self, fn: Callable[..., Any], options: Options) -> None:
        self._fn = fn
        self._options = options
        self._recipe = Recipe(fn, typed=options.typed, key=options.key, skip_first=True)
        self._slot = f"__memokit_{getattr(fn, '__qualname__', '?')}"
        self._caches: weakref.WeakSet[InstanceCache] = weakref.WeakSet()
        self._outside: dict[int, InstanceCache] = {}  # instances without a __dict__
        self._lock = threading.Lock()
        self._owner: type[Any] | None = None
        self._plain: Any = None  # cache used when called unbound (staticmethod/classmethod)
        functools.update_wrapper(self, fn)

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self._owner = owner

    def __get__(self, instance: Any, owner: type[Any] | None = None) -> Any:
        if instance is None:
            return self
        if self._outside:  # some instances keep their cache here: no __dict__
            found = self._outside.get(id(instance))
            if found is not None and found.owner() is instance:
                return MethodType(found.wrapper, instance)
        try:
            cache = instance.__dict__[self._slot]
        except (AttributeError, KeyError):  # no cache yet, or no __dict__ to keep one in
            cache = self._cache_of(instance)
        else:
            if cache.owner() is not instance:  # a copy of another instance's __dict__
                cache = self._cache_of(instance)
        # A bound method holds the instance for the duration of the call (so
        # C().m(1) works on a temporary). Attribute access (obj.m.cache_info)
        # falls through to the wrapper.
        return MethodType(cache.wrapper, instance)

    def _cache_of(self, instance: Any) -> InstanceCache:
        """Return ``instance``'s cache, making it on first use."""
        known = self._outside.get(id(instance))
        if known is not None and known.owner() is instance:
            return known  # an instance without a __dict__
        namespace = getattr(instance, "__dict__", None)
        with self._lock:
            if type(namespace) is dict:
                cache = namespace.get(self._slot)
                if isinstance(cache, InstanceCache) and cache.owner() is instance:
                    return cache  # made by another thread meanwhile
                try:
                    owner: Callable[[], object] = weakref.ref(instance)
                except TypeError:
                    owner = _Strong(instance)  # a cycle through __dict__: the collector frees it
                cache = self._new_cache(owner)
                namespace[self._slot] = cache
                return cache
            # No __dict__ to keep it in (or a read-only one, as a class has).
            key = id(instance)
            outside = self._outside
            found = outside.get(key)
            if found is not None and found.owner() is instance:
                return found  # made by another thread meanwhile

            def forget(_: weakref.ref[Any]) -> None:
                outside.pop(key, None)

            try:
                ref = weakref.ref(instance, forget)
            except TypeError:
                raise TypeError(self._nowhere(type(instance))) from None
            cache = outside[key] = self._new_cache(ref)
            return cache

    def _new_cache(self, owner: Callable[[], object]) -> InstanceCache:
        # The wrapper takes the instance as its first argument (left out of
        # the key) and never stores it.
        store = self._options.new_store(
            qualified_name(self._fn), per_instance=True, receiver_keyed=False
        )
        cache = InstanceCache(build(self._recipe, self._fn, store, self._options.record()), owner)
        self._caches.add(cache)
        return cache

    def _nowhere(self, cls: type[Any]) -> str:
        """The error for instances without ``__dict__`` or weak references: a fix that works."""
        name = cls.__name__
        try:
            metaclass: Any = type(cls)
            metaclass(f"{name}Probe", (cls,), {"__slots__": ("__dict__",)})
            fix = (
                f"add '__dict__' to {name}.__slots__ (memoize keeps each instance's cache "
                f"there; '__weakref__' works too, but then a result that refers to its "
                f"instance keeps it alive)"
            )
        except TypeError:  # int, tuple and other variable-size bases refuse both slots
            fix = (
                f"define {name} without __slots__ (or subclass it without): its instances "
                f"then get a __dict__, where memoize keeps each instance's cache"
            )
        return (
            f"memoize on the method {self._recipe.qualname} keeps one cache per instance, "
            f"in the instance's __dict__ or, without one, next to a weak reference to it; "
            f"{name} objects have neither. To fix it, {fix}."
        )

    def _unbound(self) -> Any:
        if self._plain is None:
            with self._lock:
                if self._plain is None:
                    options = self._options
                    recipe = Recipe(
                        self._fn, typed=options.typed, key=options.key, skip_first=False
                    )
                    store = options.new_store(qualified_name(self._fn), per_instance=True)
                    self._plain = build(recipe, self._fn, store, options.record())
        return self._plain

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        owner = self._owner
        if owner is not None and args and isinstance(args[0], owner):
            # Class.method(instance, ...): use that instance's cache.
            return self.__get__(args[0], owner)(*args[1:], **kwargs)
        # Not bound through a class (inside staticmethod, or classmethod on
        # 3.13+): an ordinary function of all its arguments.
        return self._unbound()(*args, **kwargs)

    def _wrappers(self) -> list[Any]:
        wrappers = [cache.wrapper for cache in list(self._caches) if cache.owner() is not None]
        if self._plain is not None:
            wrappers.append(self._plain)
        return wrappers

    def cache_info(self) -> CacheInfo:
        """Return statistics summed over every live instance's cache."""
        infos = [c.cache_info() for c in self._wrappers()]
        return CacheInfo(
            sum(i.hits for i in infos),
            sum(i.misses for i in infos),
            self._options.maxsize,
            sum(i.currsize for i in infos),
        )

    def cache_stats(self) -> CacheStats:
        """Return :meth:`cache_info` plus evictions and expirations, summed over instances."""
        stats = [c.cache_stats() for c in self._wrappers()]
        return CacheStats(
            *self.cache_info(),
            evictions=sum(s.evictions for s in stats),
            expirations=sum(s.expirations for s in stats),
        )

    def cache_clear(self) -> None:
        """Clear every instance's cache."""
        for wrapper in self._wrappers():
            wrapper.cache_clear()

    def cache_invalidate(self, *args: Any, **kwargs: Any) -> bool:
        """Forget the entry ``Class.method(instance, ...)`` would hit."""
        owner = self._owner
        if owner is not None and args and isinstance(args[0], owner):
            return bool(self.__get__(args[0], owner).cache_invalidate(*args[1:], **kwargs))
        return bool(self._unbound().cache_invalidate(*args, **kwargs))

    def cache_parameters(self) -> dict[str, Any]:
        """Return the options the caches were made with."""
        return self._options.record()

    def cache_keys(self) -> list[Any]:
        """Each instance has its own keys: list them as ``instance.method.cache_keys()``."""
        raise TypeError(
            f"{self._recipe.qualname} keeps one cache per instance: list an instance's keys "
            f"with instance.{getattr(self._fn, '__name__', 'method')}.cache_keys()"
        )

    @property
    def cache_store(self) -> Any:
        """Each instance has its own store: read it as ``instance.method.cache_store``."""
        raise AttributeError(
            f"{self._recipe.qualname} keeps one cache per instance: read an instance's "
            f"store as instance.{getattr(self._fn, '__name__', 'method')}.cache_store"
        )

    # A memoized method read from its class pickles, copies and deep-copies
    # as lru_cache's wrapper does: by reference, to itself.
    def __reduce__(self) -> str:
        return str(getattr(self, "__qualname__", self._recipe.qualname))

    def __copy__(self) -> MemoizedMethod:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> MemoizedMethod:
        return self

    def __repr__(self) -> str:
        return f"<memoized method {self._recipe.qualname}>"
