"""The explicit-stack engine that runs ``dp`` functions.

(``DagEvaluator`` has its own, simpler loop in :mod:`memokit._dag`: its nodes
are data, not suspended user code, so a frame there needs no generator.)

A sub-problem is a generator: it *yields* a :class:`Request` for each
sub-problem it needs and *returns* its own value. :func:`run` keeps the
waiting generators on a list instead of the C stack, so depth is limited by
memory, not by the recursion limit.

How one sub-problem runs (the hot path; why each choice was made is
measured in ``docs/performance.md``, "Why the engines look the way they do"):

* The front end (the generated ``dp`` wrapper) looks the key up first. A hit
  never reaches the engine as a request: the front end returns the value,
  the frame yields it and the engine hands it straight back. A miss creates
  the sub-problem's generator and a :class:`Request` that carries it. Once
  the frame starts, the stack keeps only what resumes it, its source and its
  key (three list slots): on a deep stack the cyclic GC, which revisits
  every live container, then has one object per frame to look at (its
  generator) instead of two.
* A frame's return value normally arrives through a *trampoline*: a small
  generator whose ``yield from`` receives the return value directly, where
  catching the ``StopIteration`` of every finished frame would cost a large
  part of what the frame itself costs. Trampolines are reused (an idle pool
  per thread), so a thread needs as many as its computations are deep, and
  keeps at most :data:`_TRAMPOLINES`. Frames deeper than that are driven
  directly and end with ``StopIteration``: a very deep computation then
  needs no extra object per frame.
* Cycles are looked for when the stack reaches a depth twice that of the last
  check and no pooled trampoline is left: each check is O(depth), O(1) per
  frame in total, and a cycle, which makes the stack grow for ever, is always
  caught.

Everything a computation keeps is local to one call of :func:`run` (plus the
per-thread pool), so threads never share engine state; stores are shared and
thread-safe.
"""

from __future__ import annotations

import reprlib
import threading
from collections.abc import Callable, Generator, Hashable
from typing import Any, NoReturn

from memokit._core import dp_run
from memokit._errors import CycleError
from memokit._hashed import unhashed

__all__ = ["Request", "Source", "run", "short_repr"]

#: Most trampolines one thread creates (each a small generator and its frame).
_TRAMPOLINES = 4096
# The first cycle check happens at this depth, later ones each time it doubles.
_FIRST_CHECK = 64
# Runs nested this deep in one thread (a dp function called from plain code
# that runs inside a dp frame, and so on) check the nesting for a cycle.
_NESTED_CHECK = 4

_short = reprlib.Repr()
_short.maxstring = 40
_short.maxother = 40
_short.maxlong = 40


def short_repr(value: object) -> str:
    """Return ``repr(value)`` shortened for error messages.

    An object with ``object``'s own repr is named by its class alone (no
    module path, which would crowd out the class name).

    >>> short_repr(list(range(100)))
    '[0, 1, 2, 3, 4, 5, ...]'
    """
    cls = type(value)
    if cls.__repr__ is object.__repr__:
        return f"<{cls.__qualname__} object at {id(value):#x}>"
    return _short.repr(value)


class Source:
    """Where requests come from: one per ``dp`` function.

    The engine stores a finished value with ``table[key] = value`` when
    ``table`` is the store's table and such a write is complete (the
    store's fast path says so), else with ``put(key, value)``.
    """

    __slots__ = ("put", "table")

    def __init__(
        self,
        put: Callable[[Hashable, Any], object],
        table: dict[Hashable, Any] | None = None,
    ) -> None:
        self.put = put
        self.table = table

    def describe(self, key: Hashable) -> str:
        """Return how a sub-problem reads in error messages (such as ``fib(3)``)."""
        return short_repr(key)


def _misuse(operation: str) -> Callable[..., NoReturn]:
    def method(self: Request, *args: object) -> NoReturn:
        raise TypeError(self._explain(operation))

    method.__name__ = operation
    return method


class Request:
    """A pending sub-call: what ``f(...)`` gives inside a running ``dp`` frame on a miss.

    The engine computes it when the frame yields it (``x = yield f(...)``).
    Using it as a value instead raises a ``TypeError`` that says so.
    """

    # Set by the front end: source, key, gen (the frame's generator, not
    # started) and started = False; the engine sets started = True.
    __slots__ = ("gen", "key", "source", "started")

    source: Source
    key: Hashable
    gen: Generator[Any, Any, Any]
    started: bool

    def describe(self) -> str:
        """Return the sub-call as it reads in messages, such as ``fib(3)``."""
        return self.source.describe(self.key)

    def _explain(self, operation: str) -> str:
        call = self.describe()
        return (
            f"{call} was used as a value ({operation}), but inside a @dp function "
            f"a sub-call that is not stored yet gives a request: write "
            f"`x = yield {call}` to get its value."
        )

    def __repr__(self) -> str:
        return f"<memokit request {self.describe()}: get its value with `yield`>"


# Every way of using a request as if it were the value fails loudly. (No
# __getattr__: it would slow down every attribute access the engine makes.)
_MISUSES = (
    "__abs__",
    "__add__",
    "__and__",
    "__bool__",
    "__call__",
    "__ceil__",
    "__complex__",
    "__contains__",
    "__divmod__",
    "__eq__",
    "__float__",
    "__floor__",
    "__floordiv__",
    "__format__",
    "__ge__",
    "__getitem__",
    "__gt__",
    "__hash__",
    "__index__",
    "__int__",
    "__invert__",
    "__iter__",
    "__le__",
    "__len__",
    "__lshift__",
    "__lt__",
    "__matmul__",
    "__mod__",
    "__mul__",
    "__ne__",
    "__neg__",
    "__or__",
    "__pos__",
    "__pow__",
    "__radd__",
    "__rand__",
    "__rdivmod__",
    "__rfloordiv__",
    "__rlshift__",
    "__rmatmul__",
    "__rmod__",
    "__rmul__",
    "__ror__",
    "__round__",
    "__rpow__",
    "__rrshift__",
    "__rshift__",
    "__rsub__",
    "__rtruediv__",
    "__rxor__",
    "__str__",
    "__sub__",
    "__truediv__",
    "__trunc__",
    "__xor__",
)
for _name in _MISUSES:
    setattr(Request, _name, _misuse(_name))
del _name


def _trampoline(gen: Generator[Any, Any, Any], box: list[Any]) -> Generator[Any, Any, None]:
    # Runs one frame's generator after another. Its yields pass through to the
    # engine; its return value arrives here without a StopIteration, goes
    # into ``box``, and ``box`` itself is yielded as the "returned" signal.
    # Then the trampoline waits for its next generator.
    while True:
        box[0] = yield from gen
        gen = yield box


def _returned_request(frame: str, value: Request) -> TypeError:
    call = value.describe()
    return TypeError(
        f"{frame} returned the request {call} instead of its value: write `return (yield {call})`."
    )


def _yielded_twice(request: Request) -> TypeError:
    call = request.describe()
    return TypeError(
        f"the request {call} was yielded a second time, but a request gives its "
        f"value once: call the function again for a new request, `yield {call}`."
    )


def _find_cycle(stack: list[Any]) -> None:
    """Raise :class:`CycleError` if a sub-problem occurs twice in a flat stack.

    The stack holds ``(resume, source, key)`` triples, bottom first.
    """
    first: dict[tuple[int, Hashable], int] = {}
    for i in range(0, len(stack), 3):
        j = first.setdefault((id(stack[i + 1]), stack[i + 2]), i)
        if j != i:
            cycle = [(stack[k + 1], stack[k + 2]) for k in range(j, i + 1, 3)]
            raise CycleError(
                [unhashed(key) for _, key in cycle],
                "a sub-problem depends on itself: "
                + " -> ".join(source.describe(key) for source, key in cycle),
            )


class _ThreadState(threading.local):
    def __init__(self) -> None:
        self.pool: list[Generator[Any, Any, None]] = []  # idle trampolines
        self.spare = _TRAMPOLINES  # trampolines this thread may still create
        self.box: list[Any] = [None]  # where a trampoline puts a return value
        self.runs: list[list[Any]] = []  # the stacks of the runs in progress


_state = _ThreadState()


def _strip_engine_frames(exc: BaseException) -> BaseException:
    # Drop the engine's own traceback entries, so that a traceback reads like
    # the recursion it replaces: the caller, then one entry per frame.
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code in _ENGINE_CODES:
        tb = tb.tb_next
    return exc.with_traceback(tb)


def run(root: Request) -> Any:
    """Compute the sub-problem ``root`` asks for, storing every value computed on the way.

    The caller has checked that ``root`` is not stored. An exception travels
    through the waiting frames as it would through a recursion (a frame may
    catch its sub-problem's exception); nothing is stored for a frame that
    raised.
    """
    state = _state
    pool = state.pool
    box = state.box
    runs = state.runs
    # The frames, bottom first, as flat (resume, source, key) triples: what
    # resumes the frame (its trampoline, or its generator when driven
    # directly), where its value goes, and its key. Only the generators are
    # objects the cyclic GC has to look at; the request is dropped once used.
    stack: list[Any] = []
    runs.append(stack)
    try:
        nesting = len(runs)
        if nesting >= _NESTED_CHECK and nesting & (nesting - 1) == 0:
            _find_cycle([x for outer in runs for x in outer] + [root.gen, root.source, root.key])
        push = stack.append
        pop = stack.pop
        tramp_code = _trampoline.__code__
        check_at = _FIRST_CHECK
        req: Any = root
        t: Any = None
        source: Source = root.source
        key: Hashable = root.key
        exc: BaseException | None = None
        returned = False  # the running frame ended with StopIteration
        while True:
            try:
                if exc is not None:
                    thrown, exc = exc, None
                    req = t.throw(thrown)
                while True:
                    if req is box:  # the running frame returned box[0]
                        value = box[0]
                        if value.__class__ is Request:
                            raise _returned_request(source.describe(key), value)
                        table = source.table
                        if table is not None:
                            table[key] = value
                        else:
                            source.put(key, value)
                        pop()
                        pop()
                        pop()
                        if returned:  # it was driven directly: t is its finished generator
                            returned = False
                        else:
                            pool.append(t)
                        if not stack:
                            return value
                        t = stack[-3]
                        source = stack[-2]
                        key = stack[-1]
                        req = t.send(value)
                    elif req.__class__ is Request:  # a sub-problem to compute first
                        if req.started:  # yielded before: its generator is used up
                            req = t.throw(_yielded_twice(req))
                            continue
                        req.started = True
                        source = req.source
                        key = req.key
                        gen = req.gen
                        if pool:
                            t = pool.pop()
                            push(t)
                            push(source)
                            push(key)
                            req = t.send(gen)
                            continue
                        t = gen  # driven directly, unless a trampoline may be made:
                        if state.spare:
                            state.spare -= 1
                            t = _trampoline(gen, box)
                        push(t)
                        push(source)
                        push(key)
                        if len(stack) >= check_at:
                            check_at = 2 * len(stack)
                            _find_cycle(stack)
                        req = t.send(None)
                    else:  # a value (a hit the front end found): hand it back
                        req = t.send(req)
            except StopIteration as stop:  # a frame without a trampoline returned
                box[0] = stop.value
                req = box
                returned = True
                continue
            except BaseException as error:
                exc = error
            # The frame on top failed with ``exc``: drop it and raise ``exc``
            # in the frame waiting for it.
            returned = False
            if t.gi_code is tramp_code:
                state.spare += 1  # its trampoline is finished or was never started
            del stack[-3:]
            exc = _strip_engine_frames(exc)
            if not stack:
                raise exc
            t = stack[-3]
            source = stack[-2]
            key = stack[-1]
    finally:
        runs.pop()
        box[0] = None


_ENGINE_CODES = frozenset({run.__code__, _trampoline.__code__, _find_cycle.__code__})

# The same loop compiled, when memokit's compiled core is built (see memokit._core).
run = dp_run(run, Request, Source, _find_cycle, _returned_request, _yielded_twice)
