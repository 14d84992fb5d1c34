"""How ``@dp`` hands a function to the compiled front end (memokit/_core/dp_front*.c).

With the compiled core live, a dp function whose parameters are all
positional gets the wrapper written in C (see :mod:`memokit._dp`): the same
key, lookup, counts and errors for a call that passes exactly its parameters
by position, and a small generated Python function (:func:`compiled_source`)
for any other call, which binds it and hands it back. This module decides
which functions qualify and gathers what the C wrapper needs from the names
the generated wrapper would have used; memokit/_dp.py's generated wrappers
stay the reference for what a call does.
"""

from __future__ import annotations

import inspect
import types
from typing import Any

from memokit._codegen import Access
from memokit._keys import PREFIX, CallShape

__all__ = ["POSITIONAL", "compiled_source", "front_parts", "takes_positions"]

#: The parameter kinds a compiled wrapper takes.
POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def takes_positions(fn: types.FunctionType, shape: CallShape, user_key: object) -> bool:
    """Whether a compiled wrapper can key ``fn``'s calls: its parameters are all positional.

    (Its key is then the argument, or the tuple of the arguments, as
    :func:`memokit._keys.call_shape` makes it when ``typed`` is false.)
    """
    if user_key is not None or shape.flat or shape.hash_checks is None:
        return False
    parameters = inspect.signature(fn, follow_wrapped=False).parameters.values()
    return all(p.kind in POSITIONAL for p in parameters)


def compiled_source(name: str, shape: CallShape, in_body: str) -> str:
    """The Python part of a compiled wrapper: the calls it hands back, the key, its making.

    ``in_body`` is the expression that tells whether the caller is a dp frame
    (memokit._dp's); the generated function hands its value to ``call``.
    """
    p = PREFIX
    args = ", ".join(filter(None, [in_body, shape.call]))
    lines = [
        f"def {name}({shape.params}):",
        "    # A call the compiled wrapper does not take as it is (keywords, defaults",
        "    # left out), bound here and handed back with whether it was made in a dp frame.",
        f"    return {p}front.call({args})",
        "",
        "",
        f"def {p}key_of({shape.key_params}):",
        f"    return {p}front.key({shape.call})",
        "",
        "",
        f"def {p}make():",
        f"    global {p}front",
        f"    {p}front = {p}Front({name})",
        f"    return {p}front, {p}front.counts, {p}front.tally",
    ]
    return "\n".join(lines) + "\n"


def front_parts(shape: CallShape, access: Access, names: dict[str, Any]) -> dict[str, Any]:
    """What a compiled wrapper needs, taken from the generated wrapper's own names."""
    p = PREFIX
    checks = shape.hash_checks or ()
    canonical = access.table and checks != ()
    table = names[f"{p}table"] if access.table else None
    parts = {
        "checks": tuple(label in checks for label in shape.labels),
        "table": table,
        "read": names[f"{p}read"],
        "touch": names[f"{p}touch"] if table is not None else None,
        "clock": names[f"{p}clock"] if table is not None else None,
        "expire": names[f"{p}expire"] if table is not None else None,
        "missing": names[f"{p}MISSING"],
        "check": names[f"{p}check"],
        "plain": names[f"{p}plain"],
        "wrapped": names[f"{p}wrapped"],
        "hashed": names[f"{p}hashed"],
        "hashed_tuple": names[f"{p}hashed_tuple"],
        # Where the generated lookup catches a KeyError (an LRU entry evicted
        # before its touch; the "in" then "[]" lookup of a parameter that is
        # its own key), the compiled one takes it for a miss too.
        "swallow_keyerror": access.touch
        or (access.table and not access.expiring and not canonical and len(shape.labels) == 1),
    }
    return parts
