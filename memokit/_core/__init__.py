"""The compiled core: C versions of memokit's hot loops, used when they are built.

memokit's Python modules are the reference: each explains its algorithm and
runs anywhere. The C extension ``memokit._core._compiled`` runs the same
algorithms faster, and this module is the one place that decides which
implementation a process uses:

* ``IMPLEMENTATION`` is ``"c"`` when the extension is built and loaded, and
  ``"python"`` otherwise (no C compiler at install time, another
  interpreter than CPython, or ``MEMOKIT_NO_EXTENSIONS=1`` in the
  environment when memokit is imported);
* :func:`dp_run` returns the ``dp`` engine's loop, compiled or the given
  Python one, and :func:`dp_front` the class of compiled ``dp`` wrappers
  for that loop, or ``None``; :data:`scalar_sweep` is the bottom-up
  gradient sweep, or ``None``.

The core sits below every layer: the engines import from it and hand it the
classes and error builders it needs, never the other way round.

A source checkout rebuilds the extension with ``pip install -e .`` (or
``python setup.py build_ext --inplace``); importing memokit warns when the
built extension is older than its C sources here.
"""

from __future__ import annotations

import importlib
import os
import warnings
from collections.abc import Callable, Hashable
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, TypeVar, cast

__all__ = [
    "IMPLEMENTATION",
    "LRUPut",
    "Memo",
    "MemoMethod",
    "compiled",
    "dp_front",
    "dp_run",
    "scalar_sweep",
    "wanted",
]

F = TypeVar("F", bound=Callable[..., Any])


def wanted() -> bool:
    """Whether the environment allows the compiled core (``MEMOKIT_NO_EXTENSIONS`` unset or 0).

    >>> import os
    >>> wanted() == (os.environ.get("MEMOKIT_NO_EXTENSIONS", "") in ("", "0"))
    True
    """
    return os.environ.get("MEMOKIT_NO_EXTENSIONS", "") in ("", "0")


def _load() -> ModuleType | None:
    if not wanted():
        return None
    name = f"{__name__}._compiled"
    try:
        compiled = importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name != name:
            raise
        return None  # not built: the pure-Python install
    except ImportError as error:  # built, but unusable here
        warnings.warn(
            f"memokit's compiled core failed to load ({error}); running the Python "
            f"reference instead. Reinstall memokit to rebuild it, or set "
            f"MEMOKIT_NO_EXTENSIONS=1 to silence this warning.",
            RuntimeWarning,
            stacklevel=2,
        )
        return None
    _warn_if_stale(Path(compiled.__file__ or ""))
    return compiled


def _warn_if_stale(built: Path) -> None:
    """Warn when a C source beside the built extension is newer (a checkout after edits)."""
    sources = [p for p in built.parent.iterdir() if p.suffix in (".c", ".h")]
    if sources and max(p.stat().st_mtime for p in sources) > built.stat().st_mtime:
        warnings.warn(
            f"memokit's compiled core ({built.name}) is older than its C sources in "
            f"{built.parent}: rebuild it with `pip install -e .` (or `python setup.py "
            f"build_ext --inplace`) in the repository, or set MEMOKIT_NO_EXTENSIONS=1 "
            f"to run the Python reference.",
            RuntimeWarning,
            stacklevel=3,
        )


#: The compiled module, or None when the Python reference runs.
compiled: ModuleType | None = _load()

#: Which implementation of the hot loops this process runs: "c" or "python".
IMPLEMENTATION: Literal["c", "python"] = "python" if compiled is None else "c"

#: ``scalar_sweep(loss, value_type)``: the bottom-up adjoint sweep in C, or None.
#: See the docstring of ``memokit._core._compiled.scalar_sweep``.
scalar_sweep: Callable[[Any, type], Any] | None = (
    None if compiled is None else compiled.scalar_sweep
)


# ---------------------------------------------------------------- @memoize
# The call path of @memoize (memokit/_core/memo*.c), or None. Each module that
# can use one holds it in a switch of its own: memokit._callthrough (Memo, a
# cache's wrapper), memokit._methods (MemoMethod, a method's front) and
# memokit.stores._lru (LRUPut, the LRU store's insertion).

#: ``Memo(**parts)``: a cache's wrapper over an in-memory store's table.
Memo: Any = None if compiled is None else compiled.Memo
#: ``MemoMethod(reference, InstanceCache)``: a memoized method's front.
MemoMethod: Any = None if compiled is None else compiled.MemoMethod
#: ``LRUPut(store)``: ``LRUStore._put_plain`` of one store.
LRUPut: Any = None if compiled is None else compiled.LRUPut


def dp_run(
    python_run: F,
    request_type: type,
    source_type: type,
    find_cycle: Callable[[list[Any]], None],
    returned_request: Callable[[str, Any], BaseException],
    yielded_twice: Callable[[Any], BaseException],
) -> F:
    """Return the ``dp`` engine's ``run``: compiled from these parts, or ``python_run``.

    The parts are the Python engine's own (see :mod:`memokit._dp_engine`):
    its Request and Source classes, whose slots the C loop reads, and the
    functions that build its errors, so both loops raise the same ones. The
    compiled loop keeps ``python_run`` as its ``reference`` attribute.

    >>> from memokit import _dp_engine
    >>> type(_dp_engine.run).__name__ == {"c": "DPEngine", "python": "function"}[IMPLEMENTATION]
    True
    """
    if compiled is None:
        return python_run

    def returned(source: Any, key: Hashable, gen: Any, request: Any) -> BaseException:
        return returned_request(source.describe(key), request)

    run = compiled.DPEngine(
        python_run, request_type, source_type, find_cycle, returned, yielded_twice
    )
    return cast(F, run)


def dp_front(run: Any) -> type | None:
    """Return the class of compiled ``dp`` wrappers for the loop ``run``, or ``None``.

    ``None`` unless ``run`` is the compiled loop and this build of the core
    has the compiled front end (CPython 3.11 to 3.13, not free-threaded) and
    its way of telling a call made directly in a running dp frame works here
    (checked now, once). ``memokit._dp`` then generates Python wrappers, the
    reference, which hand their requests to ``run``.

    >>> from memokit import _dp_engine
    >>> (dp_front(_dp_engine.run) is None) == (IMPLEMENTATION == "python")
    True
    """
    if compiled is None or type(run) is not compiled.DPEngine:
        return None
    front: type | None = getattr(compiled, "DPFront", None)
    if front is None or not _frame_check_passes(compiled):
        return None
    return front


def _frame_check_passes(core: ModuleType) -> bool:
    """Whether the core tells a frame the C loop runs from one it calls (dp_engine.h)."""

    def called(running_frame: Callable[[], bool]) -> bool:
        return running_frame()

    def frame(running_frame: Callable[[], bool]) -> Any:
        yield running_frame(), called(running_frame)

    found = core.frame_probe(frame(core.running_frame))
    return bool(found == (True, False) and core.running_frame() is False)
