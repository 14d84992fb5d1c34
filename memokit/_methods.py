"""``@memoize`` on a method: one cache per instance, none of them keeping its instance alive."""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Callable
from types import MethodType
from typing import Any

from memokit._callthrough import Recipe, build, new_store
from memokit._controls import KeyFunction, StoreArg
from memokit._info import CacheInfo, CacheStats
from memokit._keys import qualified_name

__all__ = ["MemoizedMethod", "is_method"]


def is_method(fn: Callable[..., Any]) -> bool:
    """Whether ``fn`` was defined in a class body (its qualname says ``Class.name``)."""
    parts = getattr(fn, "__qualname__", "").split(".")
    return len(parts) >= 2 and parts[-2] != "<locals>"


class MemoizedMethod:
    """A descriptor giving each instance its own cache, without keeping it alive.

    The caches live in a table keyed by ``id(instance)``; a weak reference's
    callback removes an instance's cache when the instance is collected (the
    callback runs before the id can be reused). Nothing is stored on the
    instance, so copying or pickling instances is unaffected.
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        options: dict[str, Any],
        maxsize: int | None,
        typed: bool,
        key: KeyFunction | None,
        store: StoreArg | None,
    ) -> None:
        self._fn = fn
        self._options = options
        self._maxsize = maxsize
        self._typed = typed
        self._key = key
        self._store = store
        self._recipe = Recipe(fn, typed=typed, key=key, skip_first=True)
        self._bound: dict[int, tuple[weakref.ref[Any], Any]] = {}
        self._lock = threading.Lock()
        self._owner: type[Any] | None = None
        self._plain: Any = None  # cache used when called unbound (staticmethod/classmethod)
        functools.update_wrapper(self, fn)

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self._owner = owner

    def __get__(self, instance: Any, owner: type[Any] | None = None) -> Any:
        if instance is None:
            return self
        entry = self._bound.get(id(instance))
        if entry is None:
            entry = self._bind(instance)
        # A bound method holds the instance for the duration of the call (so
        # C().m(1) works on a temporary), while the table holds it weakly.
        # Attribute access (obj.m.cache_info) falls through to the wrapper.
        return MethodType(entry[1], instance)

    def _bind(self, instance: Any) -> tuple[weakref.ref[Any], Any]:
        bound_id = id(instance)
        bound = self._bound

        def forget(_: weakref.ref[Any]) -> None:
            bound.pop(bound_id, None)

        try:
            ref = weakref.ref(instance, forget)
        except TypeError:
            raise TypeError(
                f"memoize on method {self._recipe.qualname} keeps one cache per instance "
                f"without keeping the instance alive, which needs weak references: "
                f"{type(instance).__name__} objects do not support them. Add "
                f"'__weakref__' to its __slots__."
            ) from None
        # The wrapper takes the instance as its first argument (excluded from
        # the key) and never stores it.
        store = new_store(
            self._maxsize,
            self._store,
            per_instance=True,
            name=qualified_name(self._fn),
            receiver_keyed=False,
        )
        wrapper = build(self._recipe, self._fn, store, self._options)
        with self._lock:
            return bound.setdefault(bound_id, (ref, wrapper))

    def _unbound(self) -> Any:
        if self._plain is None:
            with self._lock:
                if self._plain is None:
                    recipe = Recipe(self._fn, typed=self._typed, key=self._key, skip_first=False)
                    store = new_store(
                        self._maxsize, self._store, per_instance=True, name=qualified_name(self._fn)
                    )
                    self._plain = build(recipe, self._fn, store, self._options)
        return self._plain

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        owner = self._owner
        if owner is not None and args and isinstance(args[0], owner):
            # Class.method(instance, ...): use that instance's cache.
            return self.__get__(args[0], owner)(*args[1:], **kwargs)
        # Not bound through a class (inside staticmethod, or classmethod on
        # 3.13+): an ordinary function of all its arguments.
        return self._unbound()(*args, **kwargs)

    def _caches(self) -> list[Any]:
        caches = [wrapper for ref, wrapper in list(self._bound.values()) if ref() is not None]
        if self._plain is not None:
            caches.append(self._plain)
        return caches

    def cache_info(self) -> CacheInfo:
        """Return statistics summed over every live instance's cache."""
        infos = [c.cache_info() for c in self._caches()]
        return CacheInfo(
            sum(i.hits for i in infos),
            sum(i.misses for i in infos),
            self._maxsize,
            sum(i.currsize for i in infos),
        )

    def cache_stats(self) -> CacheStats:
        """Return :meth:`cache_info` plus evictions, summed over instances."""
        stats = [c.cache_stats() for c in self._caches()]
        info = self.cache_info()
        return CacheStats(*info, evictions=sum(s.evictions for s in stats))

    def cache_clear(self) -> None:
        """Clear every instance's cache."""
        for cache in self._caches():
            cache.cache_clear()

    def cache_invalidate(self, *args: Any, **kwargs: Any) -> bool:
        """Forget the entry ``Class.method(instance, ...)`` would hit."""
        owner = self._owner
        if owner is not None and args and isinstance(args[0], owner):
            return bool(self.__get__(args[0], owner).cache_invalidate(*args[1:], **kwargs))
        return bool(self._unbound().cache_invalidate(*args, **kwargs))

    def cache_parameters(self) -> dict[str, Any]:
        """Return the options the caches were made with."""
        return dict(self._options)

    def __repr__(self) -> str:
        return f"<memoized method {self._recipe.qualname}>"
