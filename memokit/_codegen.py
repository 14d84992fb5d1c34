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

Every source is registered with :mod:`linecache` under a file name of its
own (``<memokit: memoize wrapper of fib>``), so tracebacks and ``pdb`` show
the generated lines; an identical source is compiled once and shares its
name, so redefining a decorated function in a loop adds nothing.
"""

from __future__ import annotations

import functools
import keyword
import linecache
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import CodeType
from typing import Any

from memokit._keys import PREFIX, CallShape, check_key_hashable
from memokit.stores._memory import MISSING, Store, fast_path

__all__ = [
    "Access",
    "compile_source",
    "generated_name",
    "wrapper_namespace",
    "wrapper_source",
]

# Short, because every generated name starts with it and f-strings read better.
p = PREFIX


@dataclass(frozen=True)
class Access:
    """How generated code reaches a store: the parts of its fast path it may use.

    Without ``table``, only the store's methods (``get``, ``set``) are used;
    that is the path every :class:`~memokit.Store` takes, and the one that
    stays correct whatever the store does.
    """

    #: Reads go to the table (a dict) directly.
    table: bool = False
    #: A hit read from the table calls ``touch(key)`` (an LRU store's recency).
    touch: bool = False
    #: ``table[key] = value`` is a complete write; else ``store.set``.
    direct_writes: bool = False


def wrapper_namespace(
    shape: CallShape, qualname: str, store: Store[Any]
) -> tuple[Access, dict[str, Any]]:
    """Return how a wrapper may reach ``store``, and the names its source reads (but the miss's).

    >>> from memokit import DictStore
    >>> from memokit._keys import call_shape
    >>> access, names = wrapper_namespace(call_shape(abs), "abs", DictStore())
    >>> access
    Access(table=True, touch=False, direct_writes=True)
    """
    names = dict(shape.namespace)
    names.update(
        {
            f"{p}store_get": store.get,
            f"{p}store_set": store.set,
            f"{p}MISSING": MISSING,
            f"{p}check": shape.checker(qualname),
            f"{p}check_key": functools.partial(check_key_hashable, f"{qualname}()"),
            f"{p}hash": hash,
        }
    )
    fast = fast_path(store)
    if fast is None:
        return Access(), names
    names[f"{p}table"] = fast.table
    names[f"{p}table_get"] = fast.table.get
    names[f"{p}touch"] = fast.touch
    return Access(True, fast.touch is not None, fast.direct_writes), names


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


def _key_name(shape: CallShape) -> str:
    """The name the generated code gives the key: a parameter that is the key, or ``_mk_key``."""
    return shape.key if shape.key in shape.labels else f"{p}key"


def _unhashable(shape: CallShape, user_key: bool) -> list[str]:
    # Runs when a lookup raised TypeError: name the culprit, or return
    # quietly and let the original error through.
    if user_key:
        return [f"{p}check_key({p}key)", "raise"]
    return [f"{p}check({shape.values})", "raise"]


def _key_lines(shape: CallShape, user_key: bool) -> list[str]:
    key = _key_name(shape)
    if key == shape.key:
        return []
    if shape.key_hashes_values:
        # Building a **kwargs key hashes its values: report which one fails.
        return [
            "try:",
            f"    {key} = {shape.key}",
            "except TypeError:",
            *_indent(_unhashable(shape, user_key), 1),
        ]
    return [f"{key} = {shape.key}"]


def _lookup_lines(shape: CallShape, access: Access, user_key: bool) -> list[str]:
    key = _key_name(shape)
    hit = [f"{p}hits += 1", f"return {p}value"]
    if access.table and not access.touch and key == shape.key:
        # A parameter that is its own key: "in" then "[]" (no method call,
        # no exception on a miss) beats get() when its hash is cheap or
        # cached, as for the usual ints and strings, though it hashes twice.
        lines = [
            "try:",
            f"    if {key} in {p}table:",
            f"        {p}value = {p}table[{key}]",
            *_indent(hit, 2),
            "except KeyError:  # deleted by another thread between the two lookups: a miss",
            "    pass",
        ]
    else:
        read = f"{p}table_get({key}, {p}MISSING)" if access.table else f"{p}store_get({key})"
        touch = [f"{p}touch({key})"] if access.touch else []
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

    ``_mk_make()`` returns the wrapper, named ``name``, and ``counts(reset)``,
    which returns ``(hits, misses)`` and, with ``reset``, zeroes them. The
    wrapper computes the key, returns a hit from the store and counts it;
    on a miss it runs ``miss(key)``, the engine's lines (``key`` is the name
    the key goes by), which count the miss with ``_mk_misses += 1`` when
    they start a computation. ``_mk_key_of`` takes the key parameters and
    returns the key, hashable, as ``cache_invalidate`` needs it.
    """
    key = _key_name(shape)
    body = [
        f"nonlocal {p}hits, {p}misses",
        *_key_lines(shape, user_key),
        *_lookup_lines(shape, access, user_key),
        "# A miss. It runs here, after the try statement: in an except clause, each",
        "# pending exception would chain to the next as __context__, and a deep",
        "# recursion would go quadratic.",
        *miss(key),
    ]
    key_of = [
        "# The key of a call, for cache_invalidate: hashed here, since a store",
        "# need not hash a key to find that it is absent.",
        *_key_lines(shape, user_key),
        "try:",
        f"    {p}hash({key})",
        "except TypeError:",
        *_indent(_unhashable(shape, user_key), 1),
        f"return {key}",
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
        f"    return {name}, {p}counts",
        "",
        "",
        f"def {p}key_of({shape.key_params}):",
        *_indent(key_of, 1),
    ]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- compiling

# (label, source) -> (code, its linecache entry): each distinct source is
# compiled once, so a function decorated anew on every call of its enclosing
# function (a @dp inside a solver) reuses its code and its linecache entry.
_compiled: dict[tuple[str, str], tuple[CodeType, tuple[int, None, list[str], str]]] = {}


def compile_source(source: str, label: str) -> CodeType:
    """Compile ``source`` under a file name made from ``label``, registered with linecache.

    The file name is ``<memokit: {label}>``, with `` #2``, `` #3``... added
    when another source already holds it, so a traceback always shows the
    lines of the code that ran. Run the code with ``exec(code, namespace)``.

    >>> code = compile_source("x = 1\\n", "an example")
    >>> code.co_filename, linecache.getline(code.co_filename, 1)
    ('<memokit: an example>', 'x = 1\\n')
    """
    found = _compiled.get((label, source))
    if found is not None:
        code, entry = found
        # linecache.clearcache() empties the cache: put the lines back.
        linecache.cache.setdefault(code.co_filename, entry)
        return code
    lines = source.splitlines(keepends=True)
    count = 1
    while True:
        filename = f"<memokit: {label}>" if count == 1 else f"<memokit: {label} #{count}>"
        # mtime None: linecache.checkcache() leaves the entry alone.
        entry = (len(source), None, lines, filename)
        if linecache.cache.setdefault(filename, entry) == entry:
            break
        count += 1
    code = compile(source, filename, "exec")
    _compiled.setdefault((label, source), (code, entry))
    return code
