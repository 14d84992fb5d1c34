"""What ``@memoize`` refuses at decoration time, each with the fix in the message.

A cache of a generator would hand out one exhausted generator; a memoized
class would stop being a class; ``memoize(128)`` is the ``lru_cache(128)``
habit; a ``key=`` function that cannot take the call's arguments would only
fail at the first call. Each is caught when the decorator is applied.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

__all__ = ["check_key_binds", "refuse"]


def _name(fn: object) -> str:
    return str(getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn))


def refuse(fn: object) -> None:
    """Raise ``TypeError`` if ``fn`` cannot be memoized correctly, saying what to do instead.

    >>> refuse(128)
    Traceback (most recent call last):
    TypeError: memoize() got 128 where it expects a function: to bound the cache
    to 128 entries, write @memoize(maxsize=128)
    """
    if isinstance(fn, bool) or not callable(fn):
        if isinstance(fn, int) and not isinstance(fn, bool):
            raise TypeError(
                f"memoize() got {fn!r} where it expects a function: to bound the cache "
                f"to {fn!r} entries, write @memoize(maxsize={fn!r})"
            )
        raise TypeError(f"memoize() needs a function to decorate, got {type(fn).__name__}")
    name = _name(fn)
    if isinstance(fn, type):
        raise TypeError(
            f"memoize() got the class {name}: a memoized class would become a function "
            f"(isinstance(x, {name}) would then fail). Memoize a function that makes "
            f"instances (@memoize def make(...): return {name}(...)), or a method of the class"
        )
    # A callable object's __call__ decides what it returns.
    call = None if inspect.isroutine(fn) else inspect.getattr_static(type(fn), "__call__", None)
    for candidate in (fn, call):
        if candidate is None:
            continue
        if inspect.isgeneratorfunction(candidate):
            raise TypeError(
                f"memoize() cannot cache the generator function {name}: the first call's "
                f"generator would be cached, and every later call would get it exhausted. "
                f"Return a tuple or a list instead (return tuple(...)); for a recursion that "
                f"yields its sub-problems, use @dp"
            )
        if inspect.isasyncgenfunction(candidate):
            raise TypeError(
                f"memoize() cannot cache the async generator function {name}: its iterator "
                f"can be consumed once. Make it a coroutine function that returns a list "
                f"(return [x async for x in ...]) and memoize that"
            )


def _call_of(parameters: list[inspect.Parameter]) -> tuple[list[str], dict[str, str], str]:
    """How a memoized call passes ``parameters`` to ``key=``: args, kwargs, and as text."""
    kinds = inspect.Parameter
    args: list[str] = []
    kwargs: dict[str, str] = {}
    shown: list[str] = []
    for p in parameters:
        if p.kind in (kinds.POSITIONAL_ONLY, kinds.POSITIONAL_OR_KEYWORD):
            args.append(p.name)
            shown.append(p.name)
        elif p.kind is kinds.KEYWORD_ONLY:
            kwargs[p.name] = p.name
            shown.append(f"{p.name}={p.name}")
        elif p.kind is kinds.VAR_POSITIONAL:
            shown.append(f"*{p.name}")  # may be empty: nothing more to bind
        else:
            shown.append(f"**{p.name}")
    return args, kwargs, ", ".join(shown)


def check_key_binds(fn: Callable[..., Any], key: Callable[..., Any], *, method: bool) -> None:
    """Raise ``TypeError`` if ``key`` cannot take the arguments ``fn``'s calls give it.

    A memoized call passes ``key`` its arguments bound to ``fn``'s parameters
    (defaults filled in): the positional ones by position, keyword-only ones
    by name, ``*args`` and ``**kwargs`` spread. A ``method`` passes them
    without ``self`` when called on an instance, and all of them when it is
    a staticmethod: either is accepted. A signature that cannot be read is
    not checked.

    >>> def area(width, height): ...
    >>> check_key_binds(area, lambda width: width, method=False)
    Traceback (most recent call last):
    TypeError: memoize(key=...): area() calls key(width, height), but the key
    function <lambda>(width) cannot take that: too many positional arguments
    """
    try:
        signature = inspect.signature(fn, follow_wrapped=False)
        key_signature = inspect.signature(key, follow_wrapped=False)
    except (TypeError, ValueError):
        return
    parameters = list(signature.parameters.values())
    ways = [parameters[1:], parameters] if method and parameters else [parameters]
    error: TypeError | None = None
    for way in ways:
        args, kwargs, _ = _call_of(way)
        try:
            key_signature.bind(*args, **kwargs)
            return
        except TypeError as exc:
            error = error or exc
    shown = _call_of(ways[0])[2]
    raise TypeError(
        f"memoize(key=...): {_name(fn)}() calls key({shown}), but the key "
        f"function {_name(key)}{key_signature} cannot take that: {error}"
    )
