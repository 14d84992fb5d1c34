"""The ``@memoize`` decorator: a call-through cache with the function's own signature.

Why the wrapper is generated code: a wrapper written as ``def w(*args,
**kwargs)`` pays for packing the arguments and building a key tuple on every
hit, about 3x the cost of ``functools.lru_cache``'s C hit path. A wrapper with
the function's exact parameters (``def fib(n)``) looks the key up directly
and costs about the same as that C path. So, like ``dataclasses`` and
``attrs``, we write the wrapper's source once per decorated function and
compile it.

Layout of one memoized function::

    hot path (generated)  ->  store lookup; hit: count and return
          | miss
    _make_miss (below)    ->  single-flight claim, call the function,
                              store the result (never an exception)
"""

from __future__ import annotations

import functools
import inspect
import keyword
import threading
import weakref
from collections.abc import Callable, Hashable
from types import CodeType, MethodType
from typing import (
    Any,
    Concatenate,
    ParamSpec,
    Protocol,
    Self,
    TypeVar,
    cast,
    overload,
)

from memokit._codegen import compile_function, compile_source
from memokit._flight import PENDING, RETRY, AsyncFlightTable, Failure, FlightTable
from memokit._info import CacheInfo, CacheStats
from memokit._keys import (
    PREFIX,
    CallShape,
    call_shape,
    check_hashable,
    check_hashable_flat,
    qualified_name,
)
from memokit.stores._memory import MISSING, DictStore, LRUStore, Store, bind_store, make_store

__all__ = ["Memoized", "memoize"]

P = ParamSpec("P")
P2 = ParamSpec("P2")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)
S = TypeVar("S")

KeyFunction = Callable[..., Hashable]
StoreArg = Store[Any] | Callable[[], Store[Any]]


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
        """Return :meth:`cache_info`'s fields plus the number of evictions."""
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


# ---------------------------------------------------------------- options


def _check_options(maxsize: object, typed: object, key: object, store: object) -> None:
    if maxsize is not None and (isinstance(maxsize, bool) or not isinstance(maxsize, int)):
        raise TypeError(
            f"memoize(maxsize=...) takes an int or None, got {type(maxsize).__name__} {maxsize!r}"
        )
    if isinstance(maxsize, int) and maxsize < 0:
        raise ValueError(f"memoize(maxsize=...) must be >= 0 or None, got {maxsize}")
    if not isinstance(typed, bool):
        raise TypeError(f"memoize(typed=...) takes a bool, got {type(typed).__name__}")
    if key is not None and not callable(key):
        raise TypeError(
            f"memoize(key=...) takes a function that maps the call's arguments to a "
            f"hashable key, got {type(key).__name__}"
        )
    if store is not None:
        if maxsize is not None:
            raise TypeError(
                "memoize() got both maxsize= and store=: give the bound to the store "
                "instead, e.g. store=LRUStore(128)"
            )
        if not (isinstance(store, Store) or callable(store)):
            raise TypeError(
                f"memoize(store=...) takes a Store (get/set/delete/clear/len) or a "
                f"function that makes one, got {type(store).__name__}"
            )


def _new_store(
    maxsize: int | None,
    store: StoreArg | None,
    *,
    per_instance: bool,
    name: str,
    receiver_keyed: bool = True,
) -> Store[Any]:
    """A store for one cache: as :func:`make_store`, plus store factories for methods.

    ``name`` is the function's qualified name, given to a store that keeps
    many functions apart (``bind``, as persistent stores do). Such a store
    is shared by every instance of a class, while a method's per-instance
    key leaves the instance out (``receiver_keyed=False``): refused.
    """
    factory = store is not None and (isinstance(store, type) or not isinstance(store, Store))
    made: object = store
    if factory:
        made = cast(Callable[[], object], store)()  # a factory: one store per call
        if not isinstance(made, Store):
            raise TypeError(
                f"memoize(store=...) factory returned {type(made).__name__}, not a Store"
            )
    if not receiver_keyed and getattr(made, "bind", None) is not None:
        raise TypeError(
            f"memoize(store={type(made).__name__}(...)) on the method {name}: each "
            f"instance's cache is keyed without self (or cls), and this store is shared by "
            f"every instance and process, so their results would mix. Memoize a "
            f"module-level function of the values the result depends on instead (e.g. "
            f"def interest(rate, amount)), and call it from the method"
        )
    if factory:
        return bind_store(cast(Store[Any], made), name)
    if store is not None and per_instance and getattr(store, "bind", None) is None:
        raise TypeError(
            "memoize(store=...) on a method needs a function that makes a store, "
            "because each instance gets its own cache: e.g. store=lambda: LRUStore(128)"
        )
    return make_store(maxsize, store, name=name)


# ---------------------------------------------------------------- generated hot path

# The generated wrapper reads its helpers (the store's dict, the miss-path
# functions) as globals of a namespace made for each cache, and keeps only its
# two counters in closure cells: since CPython 3.11 every call copies all of a
# closure's cells into the frame, so 15 captured helpers cost ~13 ns per hit.
_FACTORY = """
def {p}factory():
    {p}hits = 0
    {p}misses = 0

    {async_}def {name}({params}):
        nonlocal {p}hits, {p}misses
{body}

    def {p}counts(reset):
        nonlocal {p}hits, {p}misses
        counts = {p}hits, {p}misses
        if reset:
            {p}hits = {p}misses = 0
        return counts

    return {name}, {p}counts


def {p}keyfn({key_params}):
    return {key}
"""


def _indent(lines: list[str]) -> str:
    return "\n".join("        " + line for line in lines)


def _hot_path(shape: CallShape, kind: str, *, user_key: bool, is_async: bool = False) -> str:
    """The body of the generated wrapper for a store ``kind`` of dict, lru or generic.

    Hit: one lookup, count, return. Miss: claim the key (single-flight), look
    once more, call the function with its own parameters, store, publish.
    """
    p = PREFIX
    names = set(shape.call.replace("*", "").replace(" ", "").split(","))
    lines: list[str] = []
    bare = shape.key in names
    if bare:
        k = shape.key
    else:
        k = f"{p}key"
        if "frozenset" in shape.key and not user_key:
            # Building the key hashes **kwargs values: report which one fails.
            lines += [
                "try:",
                f"    {k} = {shape.key}",
                "except TypeError:",
                f"    {p}check({shape.values})",
                "    raise",
            ]
        else:
            lines.append(f"{k} = {shape.key}")

    lines.append("try:")
    if kind == "dict" and bare:
        # "key in data" then "data[key]" rather than catching KeyError: a
        # raised KeyError costs ~160 ns per miss, the extra lookup ~5 ns per
        # hit (a bare key's hash is cheap or cached; a tuple's is not, so
        # tuple keys take the single-hash get() below).
        lines += [
            f"    if {k} in {p}data:",
            f"        {p}value = {p}data[{k}]",
            f"        {p}hits += 1",
            f"        return {p}value",
        ]
    else:
        lines += [f"    {p}value = {p}get({k}, {p}MISSING)", f"    if {p}value is not {p}MISSING:"]
        if kind == "lru":
            lines.append(f"        {p}touch({k})")
        lines += [f"        {p}hits += 1", f"        return {p}value"]
    lines += [
        "except KeyError:",  # deleted by another thread between two lookups
        "    pass",
        "except TypeError:",
        f"    {p}check({shape.values})",
        "    raise",
    ]
    # The miss runs here, after the try statement, never inside an except
    # clause: there, every pending exception would chain onto the next as
    # __context__ and a deep recursion would go quadratic.
    if is_async:
        lines += [f"{p}misses += 1", f"return await {p}amiss({k}, {p}pack({shape.call}))"]
        return _indent(lines)
    lines += [
        f"{p}misses += 1",
        f"{p}flight = [{p}ident(), {p}PENDING]",
        f"if {p}claim({k}, {p}flight) is not {p}flight:",
        f"    return {p}contended({k}, {p}pack({shape.call}))",
    ]
    if kind == "shared":
        # The store looks the key up again itself, runs single-flight across
        # processes (Store.get_or_compute) and stores the value.
        guard, computed, stored = "", [f"{p}value = {p}shared({k}, {p}pack({shape.call}))"], []
    else:
        # Another thread may have stored the value between our lookup and the
        # claim: look once more before computing.
        lines.append(f"{p}value = {p}peek({k}, {p}MISSING)")
        guard, computed = f"if {p}value is {p}MISSING:", [f"{p}value = {p}call({shape.call})"]
        if kind == "generic":
            # A store of unknown kind may fail to store (a full disk, a value
            # it cannot serialize): that ends the flight like a failed call,
            # or the threads waiting on it would wait for ever.
            computed.append(f"{p}set({k}, {p}value)")
        stored = {"dict": [f"{p}data[{k}] = {p}value"], "lru": [f"{p}set({k}, {p}value)"]}.get(
            kind, []
        )
    block = [
        "try:",
        *("    " + line for line in computed),
        f"except BaseException as {p}exc:",
        f"    {p}fail({k}, {p}flight, {p}exc)",
        "    raise",
        *stored,
    ]
    if guard:
        lines += [guard, *("    " + line for line in block)]
    else:
        lines += block
    lines += [
        # Publish, retire, then wake: the order memokit._flight relies on.
        f"{p}flight[1] = {p}value",
        f"{p}retire({k}, None)",
        f"if {p}len({p}flight) > 2:",  # not len(): a parameter or the function may be named len
        f"    {p}wake({p}flight)",
        f"return {p}value",
    ]
    return _indent(lines)


class _Recipe:
    """Everything about one decorated function that does not depend on its store."""

    __slots__ = ("check", "factories", "fn", "is_async", "name", "qualname", "shape", "user_key")

    def __init__(
        self, fn: Callable[..., Any], *, typed: bool, key: KeyFunction | None, skip_first: bool
    ) -> None:
        self.fn = fn
        self.is_async = inspect.iscoroutinefunction(fn)
        self.qualname = getattr(fn, "__qualname__", None) or repr(fn)
        self.user_key = key is not None
        shape = call_shape(fn, skip_first=skip_first, typed=typed, user_key=key)
        if shape is None:
            shape = self._flat_shape(typed, key)
            qualname = self.qualname

            def check(values: tuple[Any, ...]) -> None:
                check_hashable_flat(qualname, values[0], values[1])

            self.check: Callable[[tuple[Any, ...]], None] = check
        else:
            self.check = functools.partial(check_hashable, self.qualname, shape.labels)
        self.shape = shape
        name = getattr(fn, "__name__", "")
        usable = name.isidentifier() and not keyword.iskeyword(name) and not name.startswith(PREFIX)
        self.name = name if usable else "memoized"
        self.factories: dict[str, Any] = {}

    @staticmethod
    def _flat_shape(typed: bool, key: KeyFunction | None) -> CallShape:
        from memokit._keys import make_key

        namespace: dict[str, Any] = {f"{PREFIX}make_key": make_key, f"{PREFIX}typed": typed}
        if key is not None:
            namespace[f"{PREFIX}user_key"] = key
            key_src = f"{PREFIX}user_key(*args, **kwargs)"
        else:
            key_src = f"{PREFIX}make_key(args, kwargs, {PREFIX}typed)"
        return CallShape(
            params="*args, **kwargs",
            key_params="*args, **kwargs",
            key=key_src,
            call="*args, **kwargs",
            values="(args, kwargs)",
            labels=(),
            namespace=namespace,
        )

    def factory(self, kind: str) -> CodeType:
        """Compile (once per store kind) the code that defines a wrapper."""
        made = self.factories.get(kind)
        if made is None:
            source = _FACTORY.format(
                p=PREFIX,
                name=self.name,
                params=self.shape.params,
                key_params=self.shape.key_params,
                key=self.shape.key,
                body=_hot_path(self.shape, kind, user_key=self.user_key, is_async=self.is_async),
                async_="async " if self.is_async else "",
            )
            made = compile_source(source, f"memoize wrapper of {self.qualname}")
            self.factories[kind] = made
        return made


def _store_kind(store: Store[Any]) -> str:
    if type(store) is DictStore:
        return "dict"
    if type(store) is LRUStore:
        return "lru"
    if callable(getattr(store, "get_or_compute", None)):
        return "shared"
    return "generic"


def _pack(*args: Any, **kwargs: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    return args, kwargs


def _instantiate(
    recipe: _Recipe, call: Callable[..., Any], store: Store[Any], options: dict[str, Any]
) -> Any:
    """Make one cached callable (a function's, or one instance's) over ``store``."""
    kind = _store_kind(store)
    table = FlightTable()
    flights = table.flights
    get: Callable[[Hashable, Any], Any]
    touch: Callable[[Hashable], None] | None = None
    data: dict[Hashable, Any] | None = None
    if kind in ("generic", "shared"):
        store_get = store.get
        get = lambda key, default: store_get(key)
    else:
        data = store._data  # type: ignore[attr-defined]
        get = data.get
        if kind == "lru":
            touch = store._data.move_to_end  # type: ignore[attr-defined]
    peek = get
    shared = None
    if kind == "shared":
        get_or_compute = store.get_or_compute  # type: ignore[attr-defined]

        def shared(key: Hashable, packed: tuple[tuple[Any, ...], dict[str, Any]]) -> Any:
            args, kwargs = packed
            return get_or_compute(key, lambda: call(*args, **kwargs))

    def compute_and_store(key: Hashable, packed: tuple[tuple[Any, ...], dict[str, Any]]) -> Any:
        if shared is not None:
            return shared(key, packed)
        args, kwargs = packed
        value = call(*args, **kwargs)
        store.set(key, value)
        return value

    def contended(key: Hashable, packed: tuple[tuple[Any, ...], dict[str, Any]]) -> Any:
        # Another thread owns this key: wait for its outcome, or claim the key
        # ourselves if its flight ended before we could join it.
        args, kwargs = packed
        while True:
            outcome = table.join(key, lambda: call(*args, **kwargs))
            if outcome is not RETRY:
                return outcome
            value = peek(key, MISSING)
            if value is not MISSING:
                return value
            flight = [threading.get_ident(), PENDING]
            if flights.setdefault(key, flight) is flight:
                break
        try:
            value = compute_and_store(key, packed)
        except BaseException as exc:
            table.end(key, flight, Failure(exc))
            raise
        table.end(key, flight, value)
        return value

    def fail(key: Hashable, flight: list[Any], exc: BaseException) -> None:
        table.end(key, flight, Failure(exc))

    amiss = None
    if recipe.is_async:
        async_table = AsyncFlightTable()

        async def amiss(key: Hashable, packed: tuple[tuple[Any, ...], dict[str, Any]]) -> Any:
            args, kwargs = packed

            async def compute() -> Any:
                value = await call(*args, **kwargs)
                store.set(key, value)  # only reached on success: errors are never cached
                return value

            return await async_table.run(key, compute, peek, MISSING)

    p = PREFIX
    namespace = dict(recipe.shape.namespace)
    namespace.update(
        {
            f"{p}data": data,
            f"{p}touch": touch,
            f"{p}get": get,
            f"{p}peek": peek,
            f"{p}set": store.set,
            f"{p}call": call,
            f"{p}check": recipe.check,
            f"{p}MISSING": MISSING,
            f"{p}claim": flights.setdefault,
            f"{p}retire": flights.pop,
            f"{p}ident": threading.get_ident,
            f"{p}PENDING": PENDING,
            f"{p}contended": contended,
            f"{p}fail": fail,
            f"{p}wake": table.wake,
            f"{p}len": len,
            f"{p}pack": _pack,
            f"{p}amiss": amiss,
            f"{p}shared": shared,
        }
    )
    exec(recipe.factory(kind), namespace)
    wrapper, counts = namespace[f"{p}factory"]()
    keyfn = namespace[f"{p}keyfn"]
    eviction_base = store.evictions
    check = recipe.check
    values_of = _values_function(recipe)

    def cache_info() -> CacheInfo:
        hits, misses = counts(False)
        return CacheInfo(hits, misses, store.maxsize, len(store))

    def cache_stats() -> CacheStats:
        hits, misses = counts(False)
        return CacheStats(hits, misses, store.maxsize, len(store), store.evictions - eviction_base)

    def cache_clear() -> None:
        nonlocal eviction_base
        store.clear()
        counts(True)
        eviction_base = store.evictions

    def cache_invalidate(*args: Any, **kwargs: Any) -> bool:
        try:
            # Building a **kwargs key hashes its values, and a store need not
            # hash on delete (dict.pop skips it when empty): check here.
            key = keyfn(*args, **kwargs)
            hash(key)
        except TypeError:
            check(values_of(*args, **kwargs))
            raise
        return store.delete(key)

    def cache_parameters() -> dict[str, Any]:
        return dict(options)

    functools.update_wrapper(wrapper, recipe.fn)
    wrapper.cache_info = cache_info
    wrapper.cache_stats = cache_stats
    wrapper.cache_clear = cache_clear
    wrapper.cache_invalidate = cache_invalidate
    wrapper.cache_parameters = cache_parameters
    wrapper.cache_store = store
    return wrapper


def _values_function(recipe: _Recipe) -> Callable[..., tuple[Any, ...]]:
    made = recipe.factories.get("values")
    if made is None:
        shape = recipe.shape
        source = f"def {PREFIX}values({shape.key_params}):\n    return {shape.values}\n"
        made = compile_function(
            source,
            f"{PREFIX}values",
            dict(shape.namespace),
            f"argument values of {recipe.qualname}",
        )
        recipe.factories["values"] = made
    return made  # type: ignore[no-any-return]


# ---------------------------------------------------------------- methods


def _is_method(fn: Callable[..., Any]) -> bool:
    """Whether ``fn`` was defined in a class body (its qualname says ``Class.name``)."""
    parts = getattr(fn, "__qualname__", "").split(".")
    return len(parts) >= 2 and parts[-2] != "<locals>"


class _MemoizedMethod:
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
        self._recipe = _Recipe(fn, typed=typed, key=key, skip_first=True)
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
        store = _new_store(
            self._maxsize,
            self._store,
            per_instance=True,
            name=qualified_name(self._fn),
            receiver_keyed=False,
        )
        wrapper = _instantiate(self._recipe, self._fn, store, self._options)
        with self._lock:
            return bound.setdefault(bound_id, (ref, wrapper))

    def _unbound(self) -> Any:
        if self._plain is None:
            with self._lock:
                if self._plain is None:
                    recipe = _Recipe(self._fn, typed=self._typed, key=self._key, skip_first=False)
                    store = _new_store(
                        self._maxsize, self._store, per_instance=True, name=qualified_name(self._fn)
                    )
                    self._plain = _instantiate(recipe, self._fn, store, self._options)
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


# ---------------------------------------------------------------- the decorator


def _decorate(
    fn: Any,
    maxsize: int | None,
    typed: bool,
    key: KeyFunction | None,
    store: StoreArg | None,
) -> Any:
    if isinstance(fn, staticmethod):
        return staticmethod(_decorate(fn.__func__, maxsize, typed, key, store))
    if isinstance(fn, classmethod):
        return classmethod(_decorate(fn.__func__, maxsize, typed, key, store))
    if not callable(fn):
        raise TypeError(f"memoize() needs a function to decorate, got {type(fn).__name__}")
    options: dict[str, Any] = {"maxsize": maxsize, "typed": typed, "key": key}
    if store is not None:
        options["store"] = store
    if _is_method(fn):
        return _MemoizedMethod(fn, options, maxsize, typed, key, store)
    recipe = _Recipe(fn, typed=typed, key=key, skip_first=False)
    store_ = _new_store(maxsize, store, per_instance=False, name=qualified_name(fn))
    return _instantiate(recipe, fn, store_, options)


class _Decorator(Protocol):
    def __call__(self, fn: Callable[P, R], /) -> Memoized[P, R]: ...


@overload
def memoize(fn: Callable[P, R], /) -> Memoized[P, R]: ...
@overload
def memoize(
    *,
    maxsize: int | None = None,
    typed: bool = False,
    key: KeyFunction | None = None,
    store: StoreArg | None = None,
) -> _Decorator: ...
def memoize(
    fn: Any = None,
    /,
    *,
    maxsize: int | None = None,
    typed: bool = False,
    key: KeyFunction | None = None,
    store: StoreArg | None = None,
) -> Any:
    """Cache a function's results by its arguments.

    Use it bare (``@memoize``) for an unbounded cache, or with options
    (``@memoize(maxsize=128)`` for a least-recently-used bound). Arguments
    are bound to the function's parameters first, so ``f(2)`` and ``f(n=2)``
    share one entry. A call that raises caches nothing.

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
    _check_options(maxsize, typed, key, store)
    if fn is None:
        return functools.partial(_decorate, maxsize=maxsize, typed=typed, key=key, store=store)
    return _decorate(fn, maxsize, typed, key, store)
