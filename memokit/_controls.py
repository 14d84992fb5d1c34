"""What ``@memoize`` and ``@dp`` share around their generated code: options and controls.

Both decorators take the same options, checked here with the same messages
(naming the decorator the user wrote), and give the same controls:
``cache_info``, ``cache_stats``, ``cache_clear``, ``cache_invalidate``,
``cache_parameters``, ``cache_keys`` and the ``cache_store`` attribute, written once around
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
from memokit._storage import check_store_option
from memokit.stores._protocol import Store

__all__ = [
    "KeyFunction",
    "StoreArg",
    "check_options",
    "currsize",
    "list_keys",
    "make_wrapper",
    "option_record",
]

#: A ``key=`` option: maps a call's arguments (bound to the parameters) to its key.
KeyFunction = Callable[..., Hashable]
#: A ``store=`` option: a store, or a function (or class) that makes one.
StoreArg = Store[Any] | Callable[[], Store[Any]]


def check_options(
    owner: str,
    maxsize: object,
    typed: object,
    key: object,
    store: object,
    *,
    ttl: object = None,
    clock: object = None,
    sizeof: object = None,
) -> None:
    """Check a decorator's options as the user wrote them; ``owner`` names the decorator.

    >>> check_options("dp", "x", False, None, None)
    Traceback (most recent call last):
    TypeError: dp(maxsize=...) takes an int or None, got str 'x'
    """
    check_store_option(owner, maxsize, store, ttl=ttl, clock=clock, sizeof=sizeof)
    check_bool(owner, "typed", typed)
    check_callable(owner, "key", key, "a function that maps the call's arguments to a hashable key")


def option_record(
    maxsize: object, typed: object, key: object, store: object, **more: object
) -> dict[str, Any]:
    """Return the options as ``cache_parameters()`` reports them (the others only when given)."""
    options: dict[str, Any] = {"maxsize": maxsize, "typed": typed, "key": key}
    if store is not None:
        options["store"] = store
    options.update((name, value) for name, value in more.items() if value is not None)
    return options


def currsize(store: Store[Any]) -> Any:
    """What ``maxsize`` bounds, now: ``store.currsize`` if the store has it, else its length."""
    size = getattr(store, "currsize", None)
    return _len(store) if size is None else size


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
    wrapper, counts, tally = namespace[f"{PREFIX}make"]()
    namespace[f"{PREFIX}tally"] = tally  # for the engine's helpers
    key_of: Callable[..., Hashable] = namespace[f"{PREFIX}key_of"]
    # Deletes a key as key_of makes it (canonical for a store's table).
    delete: Callable[[Hashable], bool] = namespace[f"{PREFIX}delete"]
    # Evictions and expirations are the store's to count; a shared store
    # counted some before this cache existed, and cache_clear() starts again.
    base = _dropped(store)

    def cache_info() -> CacheInfo:
        """Return hits, misses, maxsize and current size (as ``functools`` does)."""
        hits, misses = counts(False)
        return CacheInfo(hits, misses, store.maxsize, currsize(store))

    def cache_stats() -> CacheStats:
        """Return :func:`cache_info`'s fields plus evictions and expirations."""
        hits, misses = counts(False)
        evictions, expirations = _dropped(store)
        return CacheStats(
            hits,
            misses,
            store.maxsize,
            currsize(store),
            evictions - base[0],
            expirations - base[1],
        )

    def cache_clear() -> None:
        """Forget every entry and reset the statistics."""
        nonlocal base
        store.clear()
        counts(True)
        base = _dropped(store)

    def cache_invalidate(*args: Any, **kwargs: Any) -> bool:
        """Forget the entry this call would hit; return whether there was one."""
        return delete(key_of(*args, **kwargs))

    def cache_parameters() -> dict[str, Any]:
        """Return the options the cache was made with."""
        return dict(options)

    def cache_keys() -> list[Hashable]:
        """Return the keys of the entries held now (a snapshot)."""
        return list_keys(store)

    functools.update_wrapper(wrapper, fn)
    wrapper.cache_info = cache_info
    wrapper.cache_stats = cache_stats
    wrapper.cache_clear = cache_clear
    wrapper.cache_invalidate = cache_invalidate
    wrapper.cache_parameters = cache_parameters
    wrapper.cache_keys = cache_keys
    wrapper.cache_store = store
    return wrapper


def list_keys(store: Store[Any]) -> list[Hashable]:
    """Return ``list(store.keys())``; ``TypeError`` for a store that cannot list its keys."""
    keys = getattr(store, "keys", None)
    if not callable(keys):
        raise TypeError(
            f"{type(store).__name__} cannot list its keys: a store lists them with a keys() "
            f"method (see memokit.Store)"
        )
    return list(keys())


def _dropped(store: Store[Any]) -> tuple[int, int]:
    """The store's counts of entries evicted and expired (0 for a store that has no such count)."""
    return store.evictions, getattr(store, "expirations", 0)


_len = len
