"""``@memoize``: a call-through cache that keeps the function's own signature.

A memoized function is a generated wrapper (:mod:`memokit._codegen`) over a
store: a hit is one lookup in the store, a miss calls the function once per
key however many threads ask (:mod:`memokit._miss`). This module holds the
decorator and its types; :mod:`memokit._callthrough` builds one cache and
:mod:`memokit._methods` gives each instance of a class its own.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from typing import (
    Any,
    Concatenate,
    ParamSpec,
    Protocol,
    Self,
    TypeVar,
    overload,
)

from memokit._callthrough import Options, Recipe, build
from memokit._controls import KeyFunction, StoreArg, check_options
from memokit._info import CacheInfo, CacheStats
from memokit._keys import qualified_name
from memokit._methods import is_method, memoized_method
from memokit._refuse import check_key_binds, refuse
from memokit.stores._protocol import Store

__all__ = ["Memoized", "memoize"]

P = ParamSpec("P")
P2 = ParamSpec("P2")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)
S = TypeVar("S")


class Memoized(Protocol[P, R_co]):
    """What ``@memoize`` returns: the function, plus its cache's controls.

    Calls keep the decorated function's parameter types. On a class, access
    through an instance binds ``self`` (each instance has its own cache) and
    ``@classmethod`` over ``@memoize`` binds ``cls``.
    """

    __name__: str
    __qualname__: str

    @property
    def __wrapped__(self) -> Callable[P, R_co]: ...

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R_co: ...

    def cache_info(self) -> CacheInfo:
        """Return hits, misses, maxsize and current size (as ``functools`` does)."""
        ...

    def cache_stats(self) -> CacheStats:
        """Return :meth:`cache_info`'s fields plus the entries evicted and expired."""
        ...

    def cache_clear(self) -> None:
        """Forget every entry and reset the statistics."""
        ...

    def cache_invalidate(self, *args: P.args, **kwargs: P.kwargs) -> bool:
        """Forget the entry this call would hit; return whether there was one."""
        ...

    def cache_parameters(self) -> dict[str, Any]:
        """Return the options the cache was made with."""
        ...

    def cache_keys(self) -> list[Hashable]:
        """Return the keys of the entries held now: what the cache holds, listed."""
        ...

    @property
    def cache_store(self) -> Store[Any]:
        """The store the results live in (``len(f.cache_store)`` counts them)."""
        ...

    @overload
    def __get__(
        self: Memoized[Concatenate[type[S], P2], R], instance: None, owner: type[S]
    ) -> Memoized[P2, R]: ...
    @overload
    def __get__(self, instance: None, owner: type[Any] | None = None) -> Self: ...
    @overload
    def __get__(
        self: Memoized[Concatenate[S, P2], R], instance: S, owner: type[Any] | None = None
    ) -> Memoized[P2, R]: ...
    @overload
    def __get__(self, instance: object, owner: type[Any] | None = None) -> Self: ...


# ---------------------------------------------------------------- the decorator


def _decorate(fn: Any, options: Options) -> Any:
    if isinstance(fn, staticmethod):
        return staticmethod(_decorate(fn.__func__, options))
    if isinstance(fn, classmethod):
        return classmethod(_decorate(fn.__func__, options))
    refuse(fn)
    if options.key is not None:
        check_key_binds(fn, options.key, method=is_method(fn))
    if is_method(fn):
        return memoized_method(fn, options)
    recipe = Recipe(fn, typed=options.typed, key=options.key, skip_first=False)
    return build(recipe, fn, options.new_store(qualified_name(fn)), options.record())


@overload
def memoize(fn: Callable[P, R], /) -> Memoized[P, R]: ...
@overload
def memoize(
    *,
    maxsize: int | None = None,
    typed: bool = False,
    key: KeyFunction | None = None,
    store: StoreArg | None = None,
    ttl: float | Callable[[Any], float | None] | None = None,
    clock: Callable[[], float] | None = None,
    sizeof: Callable[[Any], float] | None = None,
) -> Callable[[Callable[P, R]], Memoized[P, R]]: ...
def memoize(
    fn: Any = None,
    /,
    *,
    maxsize: int | None = None,
    typed: bool = False,
    key: KeyFunction | None = None,
    store: StoreArg | None = None,
    ttl: float | Callable[[Any], float | None] | None = None,
    clock: Callable[[], float] | None = None,
    sizeof: Callable[[Any], float] | None = None,
) -> Any:
    """Cache a function's results by its arguments.

    Use it bare (``@memoize``) for an unbounded cache, or with options:
    ``maxsize=128`` keeps the 128 most recently used results (with
    ``sizeof=``, results of a total weight up to ``maxsize``, such as bytes);
    ``ttl=60`` forgets a result 60 seconds after it was computed (``clock=``
    says what times it). Arguments are bound to the function's parameters
    first, so ``f(2)`` and ``f(n=2)`` share one entry. A call that raises
    caches nothing.

    >>> calls = []
    >>> @memoize
    ... def square(n: int) -> int:
    ...     calls.append(n)
    ...     return n * n
    >>> square(4), square(4), square(n=4)
    (16, 16, 16)
    >>> calls
    [4]
    >>> square.cache_info()
    CacheInfo(hits=2, misses=1, maxsize=None, currsize=1)
    >>> square.cache_invalidate(4)
    True
    """
    check_options("memoize", maxsize, typed, key, store, ttl=ttl, clock=clock, sizeof=sizeof)
    options = Options(maxsize, typed, key, store, ttl, clock, sizeof)
    if fn is None:
        return functools.partial(_decorate, options=options)
    return _decorate(fn, options)
