"""Compiling generated source so that tracebacks and ``pdb`` can show it.

Every source is registered with :mod:`linecache` under a file name of its
own (``<memokit: memoize wrapper of fib>``), so tracebacks and ``pdb`` show
the generated lines; an identical source is compiled once and shares its
name, so redefining a decorated function in a loop adds nothing.
"""

from __future__ import annotations

import linecache
from types import CodeType

__all__ = ["compile_source"]

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
