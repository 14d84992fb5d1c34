"""The engines' wrappers: source written from the function's signature, compiled, registered.

Why generated code: a wrapper written as ``def wrapper(*args, **kwargs)``
packs the arguments and builds a key tuple on every call, which costs
several times what the lookup itself costs. A wrapper with the decorated
function's own parameters (``def fib(n)``) can use ``n`` as the key
directly. So, like ``dataclasses`` and ``attrs``, memokit writes each
wrapper's source once per decorated function and compiles it. ``@memoize``
and ``@dp`` both get theirs from :func:`wrapper_source`: the same key, the
same lookup for each kind of store, the same error for an unhashable
argument; each engine supplies only what happens on a miss. For a dict
store and ``def fib(n)``, the part before the miss reads::

    def _mk_make():
        _mk_hits = 0
        _mk_misses = 0

        def fib(n):
            nonlocal _mk_hits, _mk_misses
            try:
                if n in _mk_table:
                    _mk_value = _mk_table[n]
                    _mk_hits += 1
                    return _mk_value
            ...

The names the text refers to with the ``_mk_`` prefix (the store's table,
the engine's helpers) are globals of a namespace made for each cache; only
the two counters are closure cells, because a call copies every cell of its
closure into its frame and globals cost nothing until read. A function
whose parameters use the prefix gets the flat ``*args, **kwargs`` shape.

The engines compile each source with :func:`memokit._compile.compile_source`,
which registers it with :mod:`linecache` so tracebacks and ``pdb`` show it.
"""

from __future__ import annotations

import functools
import keyword
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from memokit._hashed import PLAIN_TYPES, WRAPPED_TYPES, HashedKey, hashed, hashed_tuple
from memokit._keys import PREFIX, CallShape, check_key_hashable
from memokit.stores._memory import MISSING, Store, fast_path

__all__ = [
    "Access",
    "binder_source",
    "generated_name",
    "wrapper_namespace",
    "wrapper_source",
]

# Short, because every generated name starts with it and f-strings read better.
p = PREFIX
# Bound at import (as functools does): user code may replace builtins.hash
# with a memoized one, whose own wrapper must not call it.
_hash = hash


@dataclass(frozen=True)
class Access:
    """How generated code reaches a store: the parts of its fast path it may use.

    Without ``table``, only the store's methods (``get``, ``set``) are used,
    with keys as the call makes them; that is the path every
    :class:`~memokit.Store` takes, and the one that stays correct whatever
    the store does. With ``table``, keys are made canonical first
    (:mod:`memokit._hashed`), as the store keeps them.
    """

    #: Reads go to the table (a dict) directly.
    table: bool = False
    #: A hit read from the table calls ``touch(key)`` (an LRU store's recency).
    touch: bool = False
    #: ``table[key] = value`` is a complete write; else ``put``.
    direct_writes: bool = False
    #: The table holds ``(value, deadline)`` entries: a hit reads the clock.
    expiring: bool = False


def wrapper_namespace(
    shape: CallShape, qualname: str, store: Store[Any]
) -> tuple[Access, dict[str, Any]]:
    """Return how a wrapper may reach ``store``, and the names its source reads (but the miss's).

    >>> from memokit import DictStore
    >>> from memokit._keys import call_shape
    >>> access, names = wrapper_namespace(call_shape(abs), "abs", DictStore())
    >>> access
    Access(table=True, touch=False, direct_writes=True, expiring=False)
    """
    names = dict(shape.namespace)
    names.update(
        {
            f"{p}MISSING": MISSING,
            f"{p}check": shape.checker(qualname),
            f"{p}check_key": functools.partial(check_key_hashable, f"{qualname}()"),
            f"{p}hash": _hash,
            f"{p}type": type,
            f"{p}plain": PLAIN_TYPES,
            f"{p}hashed": hashed,
            f"{p}hashed_tuple": hashed_tuple,
            f"{p}wrapped": WRAPPED_TYPES,
            f"{p}HashedKey": HashedKey,
        }
    )
    fast = fast_path(store)
    if fast is None:
        names[f"{p}read"] = store.get
        names[f"{p}put"] = store.set
        names[f"{p}delete"] = store.delete
        return Access(), names
    names[f"{p}table"] = fast.table
    names[f"{p}table_get"] = fast.table.get
    names[f"{p}touch"] = fast.touch
    names[f"{p}read"] = fast.read
    names[f"{p}put"] = fast.put
    names[f"{p}delete"] = fast.delete
    names[f"{p}clock"] = fast.clock
    names[f"{p}expire"] = fast.expire
    access = Access(True, fast.touch is not None, fast.direct_writes, fast.clock is not None)
    return access, names


def generated_name(name: object, default: str) -> str:
    """Return ``name`` if generated code can ``def`` a function by it, else ``default``."""
    if (
        isinstance(name, str)
        and name.isidentifier()
        and not keyword.iskeyword(name)
        and not name.startswith(p)
    ):
        return name
    return default


# ---------------------------------------------------------------- source text


def _indent(lines: Sequence[str], depth: int) -> list[str]:
    pad = "    " * depth
    return [pad + line if line else line for line in lines]


def _canonical(shape: CallShape, access: Access) -> bool:
    """Whether the wrapper makes its key canonical (the store keeps canonical keys)."""
    return access.table and shape.hash_checks != ()


def _key_name(shape: CallShape, access: Access) -> str:
    """The name the generated code gives the key: a parameter that is its key, or ``_mk_key``."""
    if shape.key in shape.labels and not _canonical(shape, access):
        return shape.key
    return f"{p}key"


def _unhashable(shape: CallShape, user_key: bool) -> list[str]:
    # Runs when a lookup raised TypeError: name the culprit, or return
    # quietly and let the original error through.
    if user_key:
        return [f"{p}check_key({p}key)", "raise"]
    return [f"{p}check({shape.values})", "raise"]


def _key_lines(shape: CallShape, access: Access, user_key: bool) -> list[str]:
    """Lines that set the key: as the call makes it, then (for a store's table) canonical."""
    key = _key_name(shape, access)
    if key == shape.key:
        return []
    make = [f"{key} = {shape.key}"]
    canonical: list[str] = []
    if _canonical(shape, access):
        checks = shape.hash_checks
        if checks is None:
            canonical = [f"{key} = {p}hashed({key})"]
        elif shape.key in checks:  # one parameter, its own key
            make = []
            arg = shape.key
            canonical = [
                f"if {p}type({arg}) in {p}plain:",
                f"    {key} = {arg}",
                f"elif {p}type({arg}) in {p}wrapped:",
                f"    {key} = {p}HashedKey(({arg},))",
                "else:  # a type not met before, or a tuple",
                f"    {key} = {p}hashed({arg})",
            ]
        else:
            plain = " and ".join(f"{p}type({name}) in {p}plain" for name in checks)
            canonical = [f"if not ({plain}):", f"    {key} = {p}hashed_tuple({key})"]
    # Building a **kwargs key hashes its values, and so does wrapping a key
    # with its hash: report which value fails. (An error of the user's key=
    # function itself passes through as it was raised.)
    if canonical:
        canonical.insert(
            0, "# As the store keeps it: wrapped with its hash unless hashing it is free."
        )
    risky = [*make, *canonical] if shape.key_hashes_values else canonical
    if not risky:
        return make
    safe = make if risky is canonical else []
    handler = _unhashable(shape, user_key)
    return [*safe, "try:", *_indent(risky, 1), "except TypeError:", *_indent(handler, 1)]


def _lookup_lines(shape: CallShape, access: Access, user_key: bool) -> list[str]:
    key = _key_name(shape, access)
    hit = [f"{p}hits += 1", f"return {p}value"]
    touch = [f"{p}touch({key})"] if access.touch else []
    if access.table and not access.touch and not access.expiring and key == shape.key:
        # A parameter that is its own (plain) key: "in" then "[]" (no method
        # call, no exception on a miss) beats get() when its hash is cheap
        # or cached, as for the usual ints and strings, though it hashes twice.
        lines = [
            "try:",
            f"    if {key} in {p}table:",
            f"        {p}value = {p}table[{key}]",
            *_indent(hit, 2),
            "except KeyError:  # deleted by another thread between the two lookups: a miss",
            "    pass",
        ]
    elif access.expiring:
        lines = [
            "try:",
            f"    {p}entry = {p}table_get({key}, {p}MISSING)",
            f"    if {p}entry is not {p}MISSING:",
            "        # An entry is (value, deadline): live while the deadline is ahead.",
            f"        if {p}entry[1] > {p}clock():",
            *_indent([*touch, f"{p}hits += 1", f"return {p}entry[0]"], 3),
            f"        {p}expire({key}, {p}entry)  # dropped and counted: a miss",
        ]
    else:
        read = f"{p}table_get({key}, {p}MISSING)" if access.table else f"{p}read({key})"
        lines = [
            "try:",
            f"    {p}value = {read}",
            f"    if {p}value is not {p}MISSING:",
            *_indent([*touch, *hit], 2),
        ]
    if access.touch:
        lines += [
            "except KeyError:  # evicted by another thread before the touch: a miss",
            "    pass",
        ]
    return [*lines, "except TypeError:", *_indent(_unhashable(shape, user_key), 1)]


def wrapper_source(
    name: str,
    shape: CallShape,
    access: Access,
    miss: Callable[[str], list[str]],
    *,
    user_key: bool,
    is_async: bool = False,
) -> str:
    """Return the source of one wrapper: ``_mk_make()`` and ``_mk_key_of(...)``.

    ``_mk_make()`` returns the wrapper, named ``name``, ``counts(reset)``,
    which returns ``(hits, misses)`` and, with ``reset``, zeroes them, and
    ``tally(hits, misses)``, which adds to them (for the engine's helpers).
    The wrapper computes the key, returns a hit from the store and counts
    it; on a miss it runs ``miss(key)``, the engine's lines (``key`` is the
    name the key goes by). ``_mk_key_of`` takes the key parameters and
    returns the key as ``cache_invalidate`` gives it to the store's
    ``delete``: hashable, and canonical when the store keeps canonical keys.
    """
    key = _key_name(shape, access)
    body = [
        f"nonlocal {p}hits, {p}misses",
        *_key_lines(shape, access, user_key),
        *_lookup_lines(shape, access, user_key),
        "# A miss. It runs here, after the try statement: in an except clause, each",
        "# pending exception would chain to the next as __context__, and a deep",
        "# recursion would go quadratic.",
        *miss(key),
    ]
    lines = [
        f"def {p}make():",
        f"    {p}hits = 0",
        f"    {p}misses = 0",
        "",
        f"    {'async ' if is_async else ''}def {name}({shape.params}):",
        *_indent(body, 2),
        "",
        f"    def {p}counts(reset):",
        f"        nonlocal {p}hits, {p}misses",
        f"        counts = {p}hits, {p}misses",
        "        if reset:",
        f"            {p}hits = {p}misses = 0",
        "        return counts",
        "",
        f"    def {p}tally(hits, misses):",
        f"        nonlocal {p}hits, {p}misses",
        f"        {p}hits += hits",
        f"        {p}misses += misses",
        "",
        f"    return {name}, {p}counts, {p}tally",
        "",
        "",
        *_key_of(shape, access, user_key),
    ]
    return "\n".join(lines) + "\n"


def _key_of(shape: CallShape, access: Access, user_key: bool) -> list[str]:
    """Lines defining ``_mk_key_of``: the key of a call, as ``cache_invalidate`` deletes it."""
    if _canonical(shape, access):
        key = _key_name(shape, access)
        body = [
            "# The key of a call, for cache_invalidate, as the store keeps it (hashed",
            "# here: a store need not hash a key to find that it is absent).",
            *_key_lines(shape, access, user_key),
            f"return {key}",
        ]
    else:
        plain = Access()  # the key as the call makes it
        raw = _key_name(shape, plain)
        body = [
            "# The key of a call, for cache_invalidate: hashed here, since a store",
            "# need not hash a key to find that it is absent.",
            *_key_lines(shape, plain, user_key),
            "try:",
            f"    {p}hash({raw})",
            "except TypeError:",
            *_indent(_unhashable(shape, user_key), 1),
            f"return {raw}",
        ]
    return [f"def {p}key_of({shape.key_params}):", *_indent(body, 1)]


def binder_source(shape: CallShape, access: Access, *, user_key: bool) -> str:
    """Return the source of ``_mk_bind`` and ``_mk_key_of``, for the compiled wrapper.

    The compiled core (``memokit/_core/memo.c``) keys a call with exactly the
    function's positional parameters itself; it hands every other call to
    ``_mk_bind``, which has the wrapper's own signature (so a wrong call gets
    the wrapper's error), binds the call and returns its key as the store
    keeps it, hashed once here so that an unhashable argument is named.
    ``_mk_key_of`` is the reference wrapper's (see :func:`wrapper_source`).
    """
    key = _key_name(shape, access)
    body = [
        *_key_lines(shape, access, user_key),
        "try:",
        f"    {p}hash({key})",
        "except TypeError:",
        *_indent(_unhashable(shape, user_key), 1),
        f"return {key}",
    ]
    lines = [
        f"def {p}bind({shape.params}):",
        *_indent(body, 1),
        "",
        "",
        *_key_of(shape, access, user_key),
    ]
    return "\n".join(lines) + "\n"
