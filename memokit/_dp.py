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
is simply ``(n: int) -> int``. The wrapper comes from the generator that
``@memoize`` uses (:mod:`memokit._codegen`): the same key, lookup, errors and
controls; only what a miss does is dp's own.

How a call tells the two cases apart: the wrapper checks whether its caller's
frame is a dp frame. On CPython 3.12+ this reads the caller function's
``__module__`` without creating a frame object: each dp body runs as a private
copy of the user's function whose ``__module__`` is a :class:`_BodyModule`
(a ``str`` subclass equal to the real module name). Elsewhere the caller's
code object is compared with the registered dp bodies.

With the compiled core (:mod:`memokit._core`), a function whose parameters
are all positional gets the wrapper written in C instead
(``memokit/_core/dp_front.c``): the same key, lookup, counts and errors for a
call that passes exactly its parameters by position, and the generated
Python code (:func:`memokit._dp_compiled.compiled_source`) for any other call, which it binds and
hands back. Everything else (``*args``, ``**kwargs``, keyword-only
parameters, ``key=``, ``typed=True``) keeps the generated wrapper, whose
requests the compiled loop runs as well.
"""

from __future__ import annotations

import functools
import inspect
import sys
import types
from collections.abc import Callable, Generator, Hashable
from typing import Any, Concatenate, ParamSpec, Protocol, Self, TypeVar, overload

from memokit._codegen import generated_name, wrapper_namespace, wrapper_source
from memokit._compile import compile_source
from memokit._controls import StoreArg, check_options, make_wrapper, option_record
from memokit._core import dp_front
from memokit._dp_compiled import compiled_source, front_parts, takes_positions
from memokit._dp_engine import Request, Source, run, short_repr
from memokit._hashed import unhashed
from memokit._info import CacheInfo, CacheStats
from memokit._keys import PREFIX, call_shape, qualified_name
from memokit._storage import make_store
from memokit.stores._protocol import Store

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
        """Return :meth:`cache_info` plus the store's eviction and expiration counts."""
        ...

    def cache_clear(self) -> None:
        """Forget every stored value and reset hits and misses."""
        ...

    def cache_invalidate(self, *args: P.args, **kwargs: P.kwargs) -> bool:
        """Forget the value stored for these arguments; return whether there was one."""
        ...

    def cache_parameters(self) -> dict[str, Any]:
        """Return the options the cache was made with."""
        ...

    def cache_keys(self) -> list[Hashable]:
        """Return the keys of the entries held now: what the cache holds, listed."""
        ...

    @property
    def cache_store(self) -> Store[Any]:
        """The store the values live in (``len(f.cache_store)`` counts them)."""
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
        table: dict[Hashable, Any] | None,
        qualname: str,
        key_form: str,
    ) -> None:
        super().__init__(put, table)
        self.qualname = qualname  # as shown in messages: no "<locals>." prefix
        self.key_form = key_form  # "arg", "args" (key = the arguments) or "key"

    def describe(self, key: Any) -> str:
        """Return the call as it reads in messages, such as ``fib(3)``."""
        key = unhashed(key)  # a store's table may hold it wrapped with its hash
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


# Whether the wrapper's caller is a dp frame (see the module notes).
if _frame_module is not None:
    _IN_BODY = f"{PREFIX}frame_module(1).__class__ is {PREFIX}BodyModule"
else:
    _IN_BODY = (
        f"(({PREFIX}code := {PREFIX}getframe(1).f_code) is {PREFIX}own_code "
        f"or {PREFIX}id({PREFIX}code) in {PREFIX}body_codes)"
    )


#: The class of compiled wrappers (memokit/_core/dp_front.c) for ``run``, or None:
#: every dp function gets the generated Python wrapper. It drives only the loop
#: it was made for (``_front_run``): with another ``run`` (the tests install the
#: Python reference) dp functions get the generated wrapper.
_front: type | None = dp_front(run)
_front_run = run


def _miss_lines(call: str) -> Callable[[str], list[str]]:
    """The wrapper's lines for a miss: a request for the sub-problem, yielded or run."""
    p = PREFIX

    def lines(key: str) -> list[str]:
        return [
            f"{p}misses += 1",
            "# Not stored: a request for the sub-problem, which carries its generator.",
            f"{p}request = {p}Request()",
            f"{p}request.source = {p}source",
            f"{p}request.key = {key}",
            f"{p}request.gen = {p}body({call})",
            f"{p}request.started = False",
            "# Called in a dp frame, the request goes back to be yielded there;",
            "# called from anywhere else, the engine computes it now.",
            f"if {_IN_BODY}:",
            f"    return {p}request",
            f"return {p}run({p}request)",
        ]

    return lines


def _wrap(
    fn: Callable[..., Generator[Any, Any, Any]],
    maxsize: int | None,
    typed: bool,
    user_key: Callable[..., Hashable] | None,
    store_arg: StoreArg | None,
    expiry: dict[str, Any],
) -> Any:
    if not inspect.isgeneratorfunction(fn):
        raise TypeError(
            f"@dp needs a generator function, one whose body yields its sub-calls "
            f"(as in `a = yield f(n - 1)`); {fn!r} is not one. For a function that "
            f"calls itself directly, use @memoize."
        )
    if not isinstance(fn, types.FunctionType):
        raise TypeError(f"@dp needs a generator function defined with def; got {fn!r}")
    # A persistent store keeps each function's entries under its qualified name.
    name = qualified_name(fn)
    store = make_store(maxsize, store_arg, name=name, owner="dp", **expiry)
    qualname = fn.__qualname__
    shape = call_shape(fn, typed=typed, user_key=user_key)
    if user_key is None and shape.key in shape.labels:
        key_form = "arg"
    elif shape.key == shape.values:
        key_form = "args"
    else:
        key_form = "key"
    access, namespace = wrapper_namespace(shape, qualname, store)
    table = namespace[f"{PREFIX}table"] if access.direct_writes else None
    shown = qualname.rpartition("<locals>.")[2]  # how messages name the function
    source = _DPSource(namespace[f"{PREFIX}put"], table, shown, key_form)
    body = _body_copy(fn)
    namespace.update(
        {
            f"{PREFIX}source": source,
            f"{PREFIX}body": body,
            f"{PREFIX}Request": Request,
            f"{PREFIX}run": run,
            f"{PREFIX}frame_module": _frame_module,
            f"{PREFIX}BodyModule": _BodyModule,
            f"{PREFIX}getframe": sys._getframe,
            f"{PREFIX}body_codes": _body_codes,
            f"{PREFIX}own_code": fn.__code__,
            f"{PREFIX}id": id,
        }
    )
    name = generated_name(fn.__name__, "dp")
    front = _front if run is _front_run and not typed else None
    if front is not None and takes_positions(fn, shape, user_key):
        parts = front_parts(shape, access, namespace)
        namespace[f"{PREFIX}Front"] = functools.partial(
            front, run, source=source, body=body, **parts
        )
        text = compiled_source(name, shape, _IN_BODY)
    else:
        miss = _miss_lines(shape.call)
        text = wrapper_source(name, shape, access, miss, user_key=user_key is not None)
    code = compile_source(text, f"dp wrapper of {qualname}")
    options = option_record(maxsize, typed, user_key, store_arg, **expiry)
    return make_wrapper(code, namespace, fn, store, options)


@overload
def dp(fn: Callable[P, Generator[Any, Any, R]], /) -> DPFunction[P, R]: ...


@overload
def dp(
    *,
    maxsize: int | None = None,
    typed: bool = False,
    key: Callable[..., Hashable] | None = None,
    store: StoreArg | None = None,
    ttl: float | Callable[[Any], float | None] | None = None,
    clock: Callable[[], float] | None = None,
    sizeof: Callable[[Any], float] | None = None,
) -> Callable[[Callable[P, Generator[Any, Any, R]]], DPFunction[P, R]]: ...


def dp(
    fn: Callable[..., Generator[Any, Any, Any]] | None = None,
    /,
    *,
    maxsize: int | None = None,
    typed: bool = False,
    key: Callable[..., Hashable] | None = None,
    store: StoreArg | None = None,
    ttl: float | Callable[[Any], float | None] | None = None,
    clock: Callable[[], float] | None = None,
    sizeof: Callable[[Any], float] | None = None,
) -> Any:
    """Memoize a generator-style recursion and run it without a recursion limit.

    Write the function as a generator that yields each sub-call and returns
    its value; call it like the plain function. ``maxsize=None`` (default)
    keeps every value, ``maxsize=N`` keeps the N most recently used (evicted
    sub-problems are recomputed when needed again), ``store=`` takes any
    memokit store (or a function that makes one), ``typed=True`` keys
    ``f(1)`` and ``f(1.0)`` apart and ``key=`` maps the arguments to the
    cache key; ``sizeof=``, ``ttl=`` and ``clock=`` weigh and expire values.
    The options and the cache controls are those of ``@memoize``.

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
    check_options("dp", maxsize, typed, key, store, ttl=ttl, clock=clock, sizeof=sizeof)
    expiry: dict[str, Any] = {"ttl": ttl, "clock": clock, "sizeof": sizeof}
    if fn is None:
        return lambda f: _wrap(f, maxsize, typed, key, store, expiry)
    return _wrap(fn, maxsize, typed, key, store, expiry)
