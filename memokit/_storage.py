"""How an engine gets its store from the options the user wrote.

Every engine (``memoize``, ``dp``, ``DagEvaluator``) takes ``maxsize=`` and
``store=``; the call-through engines also ``ttl=``, ``clock=`` and
``sizeof=``. This module checks them together (one message per mistake,
naming the option to change) and makes the store they describe: a
:class:`~memokit.DictStore` or :class:`~memokit.LRUStore` with those
options, or the store (or the store a factory makes) given with ``store=``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from memokit._expiry import check_clock, check_ttl
from memokit._options import check_maxsize
from memokit.stores._memory import DictStore, LRUStore
from memokit.stores._protocol import Store, bind_store

__all__ = ["check_store_option", "is_store_factory", "make_store", "resolve_store"]


def is_store_factory(store: object) -> bool:
    """Whether a ``store=`` option is a function (or class) that makes a store, not a store."""
    # A store class passes the runtime protocol check too: it has the methods.
    return store is not None and (isinstance(store, type) or not isinstance(store, Store))


def check_store_option(
    owner: str,
    maxsize: object,
    store: object,
    *,
    ttl: object = None,
    clock: object = None,
    sizeof: object = None,
) -> int | None:
    """Check the options that choose a store, as ``owner``'s caller wrote them; return ``maxsize``.

    ``store`` is a store, a function that makes one, or ``None``; a store
    carries its own bound, expiry and weights, so it takes none of the others.

    >>> check_store_option("dp", None, 3)
    Traceback (most recent call last):
    TypeError: dp(store=...) takes a Store (get/set/delete/clear/len)
    or a function that makes one, got int
    >>> check_store_option("memoize", 5, DictStore())
    Traceback (most recent call last):
    TypeError: memoize() got both maxsize= and store=: give the bound to the store instead,
    e.g. store=LRUStore(5)
    """
    checked = check_maxsize(owner, maxsize)
    check_ttl(owner, ttl)
    check_clock(owner, clock, ttl)
    if sizeof is not None and not callable(sizeof):
        raise TypeError(
            f"{owner}(sizeof=...) takes a function that returns a result's weight "
            f"(e.g. lambda a: a.nbytes), got {type(sizeof).__name__}"
        )
    if store is not None:
        given = [
            f"{name}="
            for name, value in (("maxsize", maxsize), ("ttl", ttl), ("sizeof", sizeof))
            if value is not None
        ]
        if given:
            example = {
                "maxsize=": f"store=LRUStore({maxsize!r})",
                "ttl=": _with_ttl(store, ttl),
                "sizeof=": "store=LRUStore(maxsize, sizeof=...)",
            }[given[0]]
            what = {"maxsize=": "the bound", "ttl=": "the expiry", "sizeof=": "the weights"}
            raise TypeError(
                f"{owner}() got both {given[0]} and store=: give {what[given[0]]} to the "
                f"store instead, e.g. {example}"
            )
        if not (isinstance(store, Store) or callable(store)):
            raise TypeError(
                f"{owner}(store=...) takes a Store (get/set/delete/clear/len) or a function "
                f"that makes one, got {type(store).__name__}"
            )
    if sizeof is not None and checked is None:
        raise TypeError(
            f"{owner}(sizeof=...) weighs results against maxsize=, so it needs maxsize= too: "
            f"e.g. {owner}(maxsize=2**20, sizeof=lambda a: a.nbytes) keeps about 1 MiB"
        )
    return checked


def _with_ttl(store: object, ttl: object) -> str:
    """The ``store=`` that carries ``ttl``: a store of the kind given, made with it."""
    if isinstance(store, Store) and not isinstance(store, type):
        kind = type(store).__name__
        # The args a class takes before ttl=: none for DictStore, a bound for
        # LRUStore, a path or a URL for the persistent stores.
        first = {"DictStore": "", "LRUStore": "maxsize, "}.get(kind, "..., ")
        return f"store={kind}({first}ttl={ttl!r}) in place of the store given"
    return f"store=DictStore(ttl={ttl!r}); LRUStore, SQLiteStore and RedisStore take ttl= too"


def resolve_store(
    owner: str,
    maxsize: int | None,
    store: object,
    *,
    ttl: Any = None,
    clock: Callable[[], float] | None = None,
    sizeof: Callable[[Any], float] | None = None,
) -> Store[Any]:
    """Return the store checked options name: new, made by a factory, or given."""
    if store is None:
        if maxsize is None:
            return DictStore(ttl=ttl, clock=clock)
        return LRUStore(maxsize, sizeof=sizeof, ttl=ttl, clock=clock)
    if is_store_factory(store):
        made = cast(Callable[[], object], store)()
        if not isinstance(made, Store):
            raise TypeError(
                f"{owner}(store=...) factory returned {type(made).__name__}, not a Store"
            )
        return made
    return cast(Store[Any], store)


def make_store(
    maxsize: int | None,
    store: object = None,
    name: str | None = None,
    *,
    owner: str = "make_store",
    ttl: Any = None,
    clock: Callable[[], float] | None = None,
    sizeof: Callable[[Any], float] | None = None,
) -> Store[Any]:
    """Return the store for one cache from its options (see :func:`check_store_option`).

    ``maxsize=None`` gives a :class:`DictStore`, an int an :class:`LRUStore`;
    ``store=`` gives a store, or a function that makes one. With a ``name``
    (the cached function's qualified name), a store that keeps many
    functions apart is bound to it (:func:`bind_store`). ``owner`` names the
    caller in errors.

    >>> make_store(None), make_store(2)
    (DictStore(<0 entries>), LRUStore(maxsize=2, <0 entries>))
    >>> make_store(None, ttl=60)
    DictStore(ttl=60, <0 entries>)
    """
    checked = check_store_option(owner, maxsize, store, ttl=ttl, clock=clock, sizeof=sizeof)
    made = resolve_store(owner, checked, store, ttl=ttl, clock=clock, sizeof=sizeof)
    if name is not None:
        return bind_store(made, name)
    if getattr(made, "bind", None) is not None and not getattr(made, "name", ""):
        # An engine with no function name to give (DagEvaluator) would file
        # its entries with those of every other user of this store object.
        raise TypeError(
            f"this {type(made).__name__} keeps the entries of many functions apart by name, "
            f"and this cache has none to give it: pass store=store.bind('a-unique-name')"
        )
    return made
