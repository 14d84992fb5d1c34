"""What ``@memoize`` and ``@dp`` share around their generated code: options and controls.

Both decorators take the same options, checked here with the same messages
(naming the decorator the user wrote), and give the same controls:
``cache_info``, ``cache_stats``, ``cache_clear``, ``cache_invalidate``,
``cache_parameters`` and the ``cache_store`` attribute, written once around
the two things a wrapper's generated code provides, its counters
(``counts(reset)``) and the key of a call (``key_of``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from types import CodeType
from typing import Any

from memokit._info import CacheInfo, CacheStats
from memokit._keys import PREFIX
from memokit._options import check_bool, check_callable
from memokit.stores._memory import Store, check_store_option

__all__ = ["KeyFunction", "StoreArg", "check_options", "make_wrapper", "option_record"]

#: A ``key=`` option: maps a call's arguments (bound to the parameters) to its key.
KeyFunction = Callable[..., Hashable]
#: A ``store=`` option: a store, or a function (or class) that makes one.
StoreArg = Store[Any] | Callable[[], Store[Any]]


def check_options(owner: str, maxsize: object, typed: object, key: object, store: object) -> None:
    """Check a decorator's options as the user wrote them; ``owner`` names the decorator.

    >>> check_options("dp", "x", False, None, None)
    Traceback (most recent call last):
    TypeError: dp(maxsize=...) takes an int or None, got str 'x'
    """
    check_store_option(owner, maxsize, store)
    check_bool(owner, "typed", typed)
    check_callable(owner, "key", key, "a function that maps the call's arguments to a hashable key")


def option_record(maxsize: object, typed: object, key: object, store: object) -> dict[str, Any]:
    """Return the options as ``cache_parameters()`` reports them (``store`` only when given)."""
    options: dict[str, Any] = {"maxsize": maxsize, "typed": typed, "key": key}
    if store is not None:
        options["store"] = store
    return options


def make_wrapper(
    code: CodeType,
    namespace: dict[str, Any],
    fn: Callable[..., Any],
    store: Store[Any],
    options: dict[str, Any],
) -> Any:
    """Run a wrapper's generated ``code`` in ``namespace``; return the wrapper with its controls.

    ``code`` comes from :func:`memokit._codegen.wrapper_source`; ``fn`` is the
    decorated function (its name, docstring and ``__wrapped__`` are copied);
    ``options`` are what :meth:`cache_parameters` reports.
    """
    exec(code, namespace)
    wrapper, counts = namespace[f"{PREFIX}make"]()
    key_of: Callable[..., Hashable] = namespace[f"{PREFIX}key_of"]
    # Evictions are the store's to count; a shared store counted some before
    # this cache existed, and cache_clear() starts the count again.
    eviction_base = store.evictions

    def cache_info() -> CacheInfo:
        """Return hits, misses, maxsize and current size (as ``functools`` does)."""
        hits, misses = counts(False)
        return CacheInfo(hits, misses, store.maxsize, len(store))

    def cache_stats() -> CacheStats:
        """Return :func:`cache_info`'s fields plus the number of evictions."""
        hits, misses = counts(False)
        return CacheStats(hits, misses, store.maxsize, len(store), store.evictions - eviction_base)

    def cache_clear() -> None:
        """Forget every entry and reset the statistics."""
        nonlocal eviction_base
        store.clear()
        counts(True)
        eviction_base = store.evictions

    def cache_invalidate(*args: Any, **kwargs: Any) -> bool:
        """Forget the entry this call would hit; return whether there was one."""
        return store.delete(key_of(*args, **kwargs))

    def cache_parameters() -> dict[str, Any]:
        """Return the options the cache was made with."""
        return dict(options)

    functools.update_wrapper(wrapper, fn)
    wrapper.cache_info = cache_info
    wrapper.cache_stats = cache_stats
    wrapper.cache_clear = cache_clear
    wrapper.cache_invalidate = cache_invalidate
    wrapper.cache_parameters = cache_parameters
    wrapper.cache_store = store
    return wrapper
