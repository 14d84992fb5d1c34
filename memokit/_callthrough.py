"""One ``@memoize`` cache: a generated wrapper over one store.

A decorated function gets a :class:`Recipe` once (its call shape, its
checks, its generated code per kind of store); :func:`build` then makes a
cached callable from a recipe and a store. A function has one; a method has
one per instance (:mod:`memokit._methods`), all from one recipe.

When the compiled core is live (:mod:`memokit._core`), a cache over an
in-memory store's table is a ``Memo`` (``memokit/_core/memo.c``) instead of
the generated Python wrapper: the same key forms, the same table, the same
miss helpers and counts, with the lookup and the miss path in C. The
generated code then only binds calls the C does not key itself
(:func:`~memokit._codegen.binder_source`). Coroutine functions and stores
without a table keep the Python wrapper.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from types import CodeType
from typing import Any, NamedTuple

from memokit import _core
from memokit._codegen import (
    Access,
    binder_source,
    generated_name,
    wrapper_namespace,
    wrapper_source,
)
from memokit._compile import compile_source
from memokit._controls import KeyFunction, StoreArg, make_wrapper, option_record
from memokit._dp_engine import short_repr
from memokit._expiry import Seconds
from memokit._flight import PENDING
from memokit._hashed import PLAIN_TYPES, WRAPPED_TYPES, hashed, hashed_tuple, unhashed
from memokit._keys import PREFIX, CallShape, call_shape
from memokit._miss import Helpers, miss_lines
from memokit._storage import is_store_factory, resolve_store
from memokit.stores._memory import MISSING
from memokit.stores._protocol import Store, bind_store

__all__ = ["COMPILED", "Options", "Recipe", "build", "new_store"]

#: The compiled wrapper's type, or None: every cache is the Python reference.
COMPILED: Any = _core.Memo


class Options(NamedTuple):
    """The options of one ``@memoize``, checked."""

    maxsize: int | None
    typed: bool
    key: KeyFunction | None
    store: StoreArg | None
    ttl: Seconds | None
    clock: Callable[[], float] | None
    sizeof: Callable[[Any], float] | None

    def record(self) -> dict[str, Any]:
        """The options as ``cache_parameters()`` reports them."""
        return option_record(
            self.maxsize, self.typed, self.key, self.store,
            ttl=self.ttl, clock=self.clock, sizeof=self.sizeof,
        )  # fmt: skip

    def new_store(
        self, name: str, *, per_instance: bool = False, receiver_keyed: bool = True
    ) -> Store[Any]:
        """A store for one cache of the function named ``name`` (see :func:`new_store`)."""
        return new_store(
            self.maxsize, self.store, name=name, per_instance=per_instance,
            receiver_keyed=receiver_keyed, ttl=self.ttl, clock=self.clock, sizeof=self.sizeof,
        )  # fmt: skip


class Recipe:
    """Everything about one decorated function that does not depend on its store."""

    __slots__ = (
        "codes",
        "fn",
        "is_async",
        "name",
        "positional",
        "qualname",
        "shape",
        "skip_first",
        "user_key",
    )

    def __init__(
        self, fn: Callable[..., Any], *, typed: bool, key: KeyFunction | None, skip_first: bool
    ) -> None:
        self.fn = fn
        self.is_async = inspect.iscoroutinefunction(fn)
        self.qualname = getattr(fn, "__qualname__", None) or repr(fn)
        self.user_key = key is not None
        self.shape = call_shape(fn, skip_first=skip_first, typed=typed, user_key=key)
        self.name = generated_name(getattr(fn, "__name__", None), "memoized")
        self.skip_first = skip_first
        #: The compiled wrapper keys calls of this many positional arguments itself.
        self.positional = _positional(fn, self.shape, skip_first, typed or self.user_key)
        # Per kind of store: (access, shared) the wrapper's code, (access, None) the binder's.
        self.codes: dict[tuple[Access, bool | None], CodeType] = {}

    def code(self, access: Access, shared: bool) -> CodeType:
        """Return (compiled once per kind of store) the code that defines a wrapper."""
        found = self.codes.get((access, shared))
        if found is None:
            miss = miss_lines(self.shape.call, access, shared=shared, is_async=self.is_async)
            source = wrapper_source(
                self.name,
                self.shape,
                access,
                miss,
                user_key=self.user_key,
                is_async=self.is_async,
            )
            # Named after the function, or the type of a callable object: a
            # label with an object's address would register a new source per object.
            named = getattr(self.fn, "__qualname__", None) or f"{type(self.fn).__qualname__} object"
            found = compile_source(source, f"memoize wrapper of {named}")
            self.codes[(access, shared)] = found
        return found

    def binder(self, access: Access) -> CodeType:
        """Return (compiled once per kind of store) the code of the compiled wrapper's binder."""
        found = self.codes.get((access, None))
        if found is None:
            source = binder_source(self.shape, access, user_key=self.user_key)
            named = getattr(self.fn, "__qualname__", None) or f"{type(self.fn).__qualname__} object"
            found = compile_source(source, f"memoize binder of {named}")
            self.codes[(access, None)] = found
        return found


def _positional(
    fn: Callable[..., Any], shape: CallShape, skip_first: bool, special: bool
) -> tuple[int, tuple[bool, ...]]:
    """How many arguments the compiled wrapper keys itself, and whose type it checks.

    That is a call with exactly the function's parameters, all positional,
    when the key is those arguments in order (no ``typed=``, no ``key=``);
    the flags say whose type decides the key's form (``CallShape.hash_checks``).
    ``(-1, ())``: every call is bound by the generated binder.
    """
    none: tuple[int, tuple[bool, ...]] = (-1, ())
    checks = shape.hash_checks
    if special or shape.flat or checks is None:
        return none
    try:
        parameters = list(inspect.signature(fn, follow_wrapped=False).parameters.values())
    except (TypeError, ValueError):
        return none
    parameters = parameters[1:] if skip_first else parameters
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    names = [p.name for p in parameters]
    if len(names) > 8 or any(p.kind not in positional for p in parameters):
        return none
    in_order = names[0] if len(names) == 1 else f"({', '.join(names)})"
    if shape.key != in_order:
        return none
    return len(names), tuple(name in checks for name in names)


def build(
    recipe: Recipe, function: Callable[..., Any], store: Store[Any], options: dict[str, Any]
) -> Any:
    """Make one cached callable (a function's, or one instance's) of ``function`` over ``store``."""
    access, namespace = wrapper_namespace(recipe.shape, recipe.qualname, store)
    get_or_compute = getattr(store, "get_or_compute", None)
    shown = recipe.qualname.rpartition("<locals>.")[2]
    helpers = Helpers(
        function,
        namespace[f"{PREFIX}read"],
        namespace[f"{PREFIX}put"],
        get_or_compute if callable(get_or_compute) else None,
        lambda key: f"{shown}({short_repr(unhashed(key))})",
    )
    namespace.update(helpers.names(recipe.is_async))
    shared = namespace[f"{PREFIX}shared"] is not None
    if COMPILED is not None and access.table and not recipe.is_async and not shared:
        code = recipe.binder(access)
        namespace[f"{PREFIX}make"] = lambda: _compiled(recipe, access, namespace, helpers)
    else:
        code = recipe.code(access, shared)
    wrapper = make_wrapper(code, namespace, recipe.fn, store, options)
    helpers.tally = namespace[f"{PREFIX}tally"]
    return wrapper


def _compiled(
    recipe: Recipe, access: Access, names: dict[str, Any], helpers: Helpers
) -> tuple[Any, Any, Any]:
    """Make the compiled wrapper from a namespace the binder's code has run in.

    Returns what a generated ``_mk_make()`` returns: the wrapper, its
    ``counts(reset)`` and its ``tally(hits, misses)``.
    """
    arity, checked = recipe.positional
    binder = names[f"{PREFIX}bind"]
    # A wrong call raises the binder's TypeError, which names the wrapper.
    binder.__name__, binder.__qualname__ = recipe.name, recipe.qualname
    memo = COMPILED(
        function=helpers.function,
        binder=binder,
        check=names[f"{PREFIX}check"],
        skip=1 if recipe.skip_first else 0,
        arity=arity,
        checked=checked,
        plain=PLAIN_TYPES,
        wrapped=WRAPPED_TYPES,
        hashed=hashed,
        hashed_tuple=hashed_tuple,
        table=names[f"{PREFIX}table"],
        touch=names[f"{PREFIX}touch"],
        clock=names[f"{PREFIX}clock"],
        expire=names[f"{PREFIX}expire"],
        read=names[f"{PREFIX}read"],
        put=None if access.direct_writes else names[f"{PREFIX}put"],
        flights=helpers.table.flights,
        pending=PENDING,
        contended=helpers.contended,
        fail=helpers.fail,
        wake=helpers.table.wake,
        missing=MISSING,
    )
    return memo, memo.counts, memo.tally


def new_store(
    maxsize: int | None,
    store: StoreArg | None,
    *,
    name: str,
    per_instance: bool = False,
    receiver_keyed: bool = True,
    ttl: Any = None,
    clock: Callable[[], float] | None = None,
    sizeof: Callable[[Any], float] | None = None,
) -> Store[Any]:
    """The store for one cache: as :func:`~memokit._storage.make_store`, plus methods' rules.

    ``name`` is the function's qualified name, given to a store that keeps
    many functions apart (``bind``, as persistent stores do). A method's
    caches are one per instance (``per_instance``), so ``store=`` must make
    a store for each; and such a shared store is refused where a cache's key
    leaves the instance out (``receiver_keyed=False``).
    """
    instance = store is not None and not is_store_factory(store)
    if per_instance and instance and getattr(store, "bind", None) is None:
        raise TypeError(
            "memoize(store=...) on a method needs a function that makes a store, "
            "because each instance gets its own cache: e.g. store=lambda: LRUStore(128)"
        )
    made = resolve_store("memoize", maxsize, store, ttl=ttl, clock=clock, sizeof=sizeof)
    if not receiver_keyed and getattr(made, "bind", None) is not None:
        raise TypeError(
            f"memoize(store={type(made).__name__}(...)) on the method {name}: each "
            f"instance's cache is keyed without self (or cls), and this store is shared by "
            f"every instance and process, so their results would mix. Memoize a "
            f"module-level function of the values the result depends on instead (e.g. "
            f"def interest(rate, amount)), and call it from the method"
        )
    return bind_store(made, name)
