"""``dp``: dynamic programming written as recursion, run on an explicit stack.

The decorated function is a generator that *yields* each sub-call and
*returns* its value::

    @dp
    def fib(n: int) -> Generator[int, int, int]:
        if n < 2:
            return n
        a = yield fib(n - 1)
        b = yield fib(n - 2)
        return a + b

Called from ordinary code, ``fib(n)`` looks ``n`` up and, on a miss, runs the
engine (:mod:`memokit._dp_engine`), which keeps the suspended frames on a list:
depth is limited by memory only. Called directly inside a running dp frame
(as ``fib(n - 1)`` above), it gives the stored value on a hit and otherwise a
request that the engine resolves when the frame yields it. To mypy, ``fib``
is simply ``(n: int) -> int``.

How a call tells the two cases apart: the wrapper checks whether its caller's
frame is a dp frame. On CPython 3.12+ this reads the caller function's
``__module__`` without creating a frame object: each dp body runs as a private
copy of the user's function whose ``__module__`` is a :class:`_BodyModule`
(a ``str`` subclass equal to the real module name). Elsewhere the caller's
code object is compared with the registered dp bodies.
"""

from __future__ import annotations

import functools
import inspect
import sys
import types
from collections.abc import Callable, Generator, Hashable
from typing import Any, Concatenate, ParamSpec, Protocol, Self, TypeVar, overload

from memokit._codegen import compile_function
from memokit._dp_engine import Request, Source, run, short_repr
from memokit._info import CacheInfo, CacheStats
from memokit._keys import (
    PREFIX,
    call_shape,
    check_hashable,
    check_hashable_flat,
    make_key,
    qualified_name,
)
from memokit.stores._memory import MISSING, DictStore, Store, make_store

__all__ = ["DPFunction", "dp"]

P = ParamSpec("P")
P2 = ParamSpec("P2")
R = TypeVar("R")
S = TypeVar("S")
R_co = TypeVar("R_co", covariant=True)


class DPFunction(Protocol[P, R_co]):
    """What ``@dp`` makes of a generator function: a memoized function returning its value.

    It takes the original parameters and returns what the generator returns,
    and has the same cache surface as ``@memoize``.
    """

    __name__: str
    __qualname__: str

    @property
    def __wrapped__(self) -> Callable[P, Generator[Any, Any, R_co]]:
        """The undecorated generator function."""
        ...

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R_co:
        """Return the value of this sub-problem, computing what it needs first."""
        ...

    def cache_info(self) -> CacheInfo:
        """Return hits, misses, maxsize and current size."""
        ...

    def cache_stats(self) -> CacheStats:
        """Return :meth:`cache_info` plus the store's eviction count."""
        ...

    def cache_clear(self) -> None:
        """Forget every stored value and reset hits and misses."""
        ...

    def cache_invalidate(self, *args: P.args, **kwargs: P.kwargs) -> bool:
        """Forget the value stored for these arguments; return whether there was one."""
        ...

    # On a class, access through an instance binds ``self`` (which is part of
    # the key: instances share one store).
    @overload
    def __get__(self, instance: None, owner: type[Any] | None = None) -> Self: ...
    @overload
    def __get__(
        self: DPFunction[Concatenate[S, P2], R], instance: S, owner: type[Any] | None = None
    ) -> DPFunction[P2, R]: ...


class _BodyModule(str):
    """The ``__module__`` of a dp body's private copy: marks dp frames (see module doc)."""

    __slots__ = ()


_frame_module: Callable[[int], object] | None = getattr(sys, "_getframemodulename", None)
# Code objects of every dp body by id, for the check used where _frame_module
# is absent (hashing a code object is slow; its id is not).
_body_codes: dict[int, types.CodeType] = {}


class _DPSource(Source):
    """The engine's view of one dp function: where its values go, how its calls read."""

    __slots__ = ("key_form", "qualname")

    def __init__(
        self,
        put: Callable[[Hashable, Any], object],
        data: dict[Hashable, Any] | None,
        qualname: str,
        key_form: str,
    ) -> None:
        super().__init__(put, data)
        self.qualname = qualname  # as shown in messages: no "<locals>." prefix
        self.key_form = key_form  # "arg", "args" (key = the arguments) or "key"

    def describe(self, key: Any, gen: Generator[Any, Any, Any] | None) -> str:
        """Return the call as it reads in messages, such as ``fib(3)``."""
        if self.key_form == "arg":
            return f"{self.qualname}({short_repr(key)})"
        if self.key_form == "args":
            return f"{self.qualname}({', '.join(map(short_repr, key))})"
        return f"{self.qualname}(<key {short_repr(key)}>)"


def _body_copy(fn: types.FunctionType) -> types.FunctionType:
    """Return a private copy of ``fn`` whose frames the wrapper recognises as dp frames."""
    body = types.FunctionType(
        fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__
    )
    body.__kwdefaults__ = fn.__kwdefaults__
    body.__qualname__ = fn.__qualname__
    body.__module__ = _BodyModule(fn.__module__)
    _body_codes[id(fn.__code__)] = fn.__code__
    return body


def _wrap(
    fn: Callable[..., Generator[Any, Any, Any]],
    maxsize: int | None,
    typed: bool,
    user_key: Callable[..., Hashable] | None,
    store_arg: Store[Any] | None,
) -> Any:
    if not inspect.isgeneratorfunction(fn):
        raise TypeError(
            f"@dp needs a generator function, one whose body yields its sub-calls "
            f"(as in `a = yield f(n - 1)`); {fn!r} is not one. For a function that "
            f"calls itself directly, use @memoize."
        )
    if not isinstance(fn, types.FunctionType):
        raise TypeError(f"@dp needs a generator function defined with def; got {fn!r}")
    if user_key is not None and not callable(user_key):
        raise TypeError(f"key= must be a function of the call's arguments, got {user_key!r}")
    # A persistent store keeps each function's entries under its qualified name.
    store = make_store(maxsize, store_arg, name=qualified_name(fn))
    body = _body_copy(fn)
    qualname = fn.__qualname__
    shown = qualname.rpartition("<locals>.")[2]  # how messages name the function
    p = PREFIX
    shape = call_shape(fn, typed=typed, user_key=user_key)
    ns: dict[str, Any]
    if shape is not None:
        ns = dict(shape.namespace)
        params, key, call = shape.params, shape.key, shape.call
        unhashable = f"{p}check({p}qualname, {p}labels, {shape.values})"
        ns[f"{p}labels"] = shape.labels
        if user_key is None and key in shape.labels:
            key_form = "arg"
        elif key == shape.values:
            key_form = "args"
        else:
            key_form = "key"
    else:  # parameters that clash with the generated names: flat keys
        ns = {f"{p}make_key": make_key, f"{p}user_key": user_key, f"{p}typed": typed}
        params = call = f"*{p}args, **{p}kwargs"
        if user_key is not None:
            key = f"{p}user_key(*{p}args, **{p}kwargs)"
        else:
            key = f"{p}make_key({p}args, {p}kwargs, {p}typed)"
        unhashable = f"{p}check_flat({p}qualname, {p}args, {p}kwargs)"
        key_form = "key"
    if type(store) is DictStore:
        # The common case skips a Python-level method call per lookup and per
        # insert: the engine uses the store's dict directly (same package,
        # same semantics).
        data: dict[Hashable, Any] | None = store._data
        ns[f"{p}get"] = store._data.get
        lookup = f"{p}get({p}key, {p}MISSING)"
    else:
        data = None
        ns[f"{p}get"] = store.get
        lookup = f"{p}get({p}key)"
    source = _DPSource(store.set, data, shown, key_form)
    if _frame_module is not None:
        in_body = f"{p}frame_module(1).__class__ is {p}BodyModule"
    else:
        in_body = (
            f"(({p}code := {p}getframe(1).f_code) is {p}own_code "
            f"or {p}id({p}code) in {p}body_codes)"
        )
    if user_key is not None:
        on_unhashable = (
            f"raise TypeError({p}qualname + '(): the key= function returned an "
            f"unhashable ' + {p}type({p}key).__name__ + '; return a hashable value "
            f"such as a tuple') from None"
        )
    else:
        on_unhashable = f"{unhashable}\n        raise"
    ns.update(
        {
            f"{p}source": source,
            f"{p}body": body,
            f"{p}MISSING": MISSING,
            f"{p}Request": Request,
            f"{p}run": run,
            f"{p}check": check_hashable,
            f"{p}check_flat": check_hashable_flat,
            f"{p}qualname": qualname,
            f"{p}frame_module": _frame_module,
            f"{p}BodyModule": _BodyModule,
            f"{p}getframe": sys._getframe,
            f"{p}body_codes": _body_codes,
            f"{p}own_code": fn.__code__,
            f"{p}id": id,
            f"{p}type": type,
        }
    )
    name = fn.__name__ if fn.__name__.isidentifier() and not fn.__name__.startswith(p) else "dp"
    # Look the key up first: a hit needs nothing else. On a miss, create the
    # frame's generator and a request; inside a dp frame the request goes
    # back to be yielded, anywhere else a new run computes it.
    source_text = f"""\
def {name}({params}):
    {p}key = {key}
    try:
        {p}value = {lookup}
    except TypeError:
        {on_unhashable}
    if {p}value is not {p}MISSING:
        {p}source.hits += 1
        return {p}value
    {p}request = {p}Request()
    {p}request.source = {p}source
    {p}request.key = {p}key
    {p}request.gen = {p}body({call})
    {p}request.started = False
    if {in_body}:
        return {p}request
    return {p}run({p}request)


def {p}key_of({params}):
    return {key}
"""
    wrapper = compile_function(source_text, name, ns, f"dp {qualname}")
    key_of = ns[f"{p}key_of"]

    def cache_info() -> CacheInfo:
        """Return hits, misses, maxsize and current size."""
        return CacheInfo(source.hits, source.misses, store.maxsize, len(store))

    def cache_stats() -> CacheStats:
        """Return :func:`cache_info` plus the store's eviction count."""
        return CacheStats(source.hits, source.misses, store.maxsize, len(store), store.evictions)

    def cache_clear() -> None:
        """Forget every stored value and reset hits and misses."""
        store.clear()
        source.hits = 0
        source.misses = 0

    def cache_invalidate(*args: Any, **kwargs: Any) -> bool:
        """Forget the value stored for these arguments; return whether there was one."""
        return store.delete(key_of(*args, **kwargs))

    functools.update_wrapper(wrapper, fn)
    wrapper.cache_info = cache_info
    wrapper.cache_stats = cache_stats
    wrapper.cache_clear = cache_clear
    wrapper.cache_invalidate = cache_invalidate
    return wrapper


@overload
def dp(fn: Callable[P, Generator[Any, Any, R]], /) -> DPFunction[P, R]: ...


@overload
def dp(
    *,
    maxsize: int | None = None,
    typed: bool = False,
    key: Callable[..., Hashable] | None = None,
    store: Store[Any] | None = None,
) -> Callable[[Callable[P, Generator[Any, Any, R]]], DPFunction[P, R]]: ...


def dp(
    fn: Callable[..., Generator[Any, Any, Any]] | None = None,
    /,
    *,
    maxsize: int | None = None,
    typed: bool = False,
    key: Callable[..., Hashable] | None = None,
    store: Store[Any] | None = None,
) -> Any:
    """Memoize a generator-style recursion and run it without a recursion limit.

    Write the function as a generator that yields each sub-call and returns
    its value; call it like the plain function. ``maxsize=None`` (default)
    keeps every value, ``maxsize=N`` keeps the N most recently used (evicted
    sub-problems are recomputed when needed again), ``store=`` takes any
    memokit store, ``typed=True`` keys ``f(1)`` and ``f(1.0)`` apart and
    ``key=`` maps the arguments to the cache key.

    >>> from collections.abc import Generator
    >>> @dp
    ... def fib(n: int) -> Generator[int, int, int]:
    ...     if n < 2:
    ...         return n
    ...     a = yield fib(n - 1)
    ...     b = yield fib(n - 2)
    ...     return (a + b) % 1_000_000_007
    >>> fib(100_000)  # 100,000 frames deep, no RecursionError
    911435502
    >>> fib.cache_info()
    CacheInfo(hits=99998, misses=100001, maxsize=None, currsize=100001)
    """
    if fn is None:
        return lambda f: _wrap(f, maxsize, typed, key, store)
    return _wrap(fn, maxsize, typed, key, store)
