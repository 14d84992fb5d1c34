"""The dp engine's two loops (memokit/_dp_engine.py and memokit/_core/dp_engine.c) agree.

The differential tests draw random recursions (tests/core/strategies.py) with
shared sub-problems, cycles, errors caught or not, nested computations and
misuse, run each program on both loops, and compare everything a user can
observe: results, errors (type, message, CycleError path, traceback lines),
the order in which bodies ran, the entries stored and the statistics. The
other tests pin down behaviour each loop must have, on both.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import sys
import threading
import traceback
from collections.abc import Callable, Generator, Iterator
from types import GeneratorType
from typing import Any

import pytest
from hypothesis import example, given, settings

from memokit import MISSING, CycleError, DictStore, LRUStore, Store, _dp, _dp_engine, dp
from tests.core.conftest import DP_FRONTS, DP_RUNS, PYTHON_RUN, requires_compiled
from tests.core.strategies import DPProgram, dp_programs

DIFFERENTIAL = settings(max_examples=300, deadline=None)


class Failure(Exception):
    """The error a program's "raise" action raises."""


class Runaway(Exception):
    """Stops a program that runs too many bodies or nests too deep (the same step on both loops)."""


# ---------------------------------------------------------------- running a program

Outcome = tuple[Any, ...]
#: A run's outcomes, its log of bodies run, the entries stored and the cache statistics.
Observed = tuple[list[Outcome], list[tuple[Any, ...]], Any, Any]


def outcome_of(call: Callable[[], Any]) -> Outcome:
    """("value", v) or the error: type, message, CycleError path, traceback outside the engine."""
    try:
        return ("value", call())
    except Exception as exc:
        lines = [
            (frame.name, frame.lineno)
            for frame in traceback.extract_tb(exc.__traceback__)
            # The Python loop's own frames, and the generated wrappers' (the
            # compiled front end has none, as functools' C lru_cache has none).
            if not frame.filename.endswith("_dp_engine.py")
            and not frame.filename.startswith("<memokit: dp wrapper")
        ]
        path = exc.path if isinstance(exc, CycleError) else None
        return ("error", type(exc).__name__, str(exc), path, lines)


def run_program(program: DPProgram) -> Observed:
    """Run ``program`` on the engine installed in memokit._dp; what a user could observe."""
    log: list[tuple[Any, ...]] = []
    nesting = [0]
    store: Store[Any] = DictStore() if program.maxsize is None else LRUStore(program.maxsize)
    actions = program.actions

    def plain(n: int) -> int:
        # A plain function asking for a sub-problem: a nested computation.
        log.append(("plain", n))
        if nesting[0] >= 12:
            raise Runaway("nested too deep")
        nesting[0] += 1
        try:
            result: int = f(n)
        finally:
            nesting[0] -= 1
        return result

    @dp(store=store)
    def f(n: int) -> Generator[Any, Any, Any]:
        log.append(("start", n))
        if len(log) > 3_000:
            raise Runaway("too many bodies")
        total = n
        for kind, target in actions[n]:
            if kind == "call":
                total += yield f(target)
            elif kind == "catch":
                try:
                    total += yield f(target)
                except Exception as exc:  # CycleError and misuse too
                    log.append(("caught", n, type(exc).__name__))
                    total += 7
            elif kind == "plain":
                total += plain(target)
            elif kind == "twice":
                request = f(target)
                total += yield request
                total += yield request
            elif kind == "raise":
                raise Failure(n)
            elif kind == "return_request":
                return f(target)
            else:  # "value": a plain value yielded is handed straight back
                total += yield total
        return total

    outcomes = [outcome_of(functools.partial(f, root)) for root in program.roots]
    entries = {k: store.get(k) for k in range(len(actions)) if store.get(k) is not MISSING}
    return outcomes, log, entries, f.cache_stats()


def saw_cycle(observed: Observed) -> bool:
    """Whether a CycleError was raised anywhere in a run (caught by a frame or not)."""
    outcomes, log, _, _ = observed
    return any(o[:2] == ("error", "CycleError") for o in outcomes) or any(
        entry[0] == "caught" and entry[2] == "CycleError" for entry in log
    )


def ran_away(observed: Observed) -> bool:
    """Whether a run hit the program's own limit (Runaway), raised out or caught by a frame."""
    outcomes, log, _, _ = observed
    return any(o[:2] == ("error", "Runaway") for o in outcomes) or any(
        entry[0] == "caught" and entry[2] == "Runaway" for entry in log
    )


@contextlib.contextmanager
def engine(name: str, *, trampolines: bool = True) -> Iterator[None]:
    """Run dp functions decorated inside on one loop; the Python one with a fresh thread state.

    Without trampolines the Python loop checks for cycles at the C loop's
    heights. (With trampolines pooled from earlier frames it postpones its
    cycle check until the pool is empty, so a cycle unrolls further before it
    is reported: same error, more frames run.)
    """
    state = _dp_engine._ThreadState()
    if not trampolines:
        state.spare = 0
    names = vars(_dp)  # the run() and front end that dp wrappers bind when they are made
    saved = names["run"], names["_front"], _dp_engine._state
    names["run"], names["_front"], _dp_engine._state = DP_RUNS[name], DP_FRONTS[name], state
    try:
        yield
    finally:
        names["run"], names["_front"], _dp_engine._state = saved


def on_both(program: DPProgram, *, trampolines: bool = True) -> dict[str, Observed]:
    """The observations of ``program`` on each loop."""
    observed = {}
    for name in DP_RUNS:
        with engine(name, trampolines=trampolines):
            observed[name] = run_program(program)
    return observed


@requires_compiled
@DIFFERENTIAL
@given(dp_programs())
def test_random_recursions_agree_exactly(program: DPProgram) -> None:
    """Any recursion (cycles, errors, nesting, misuse) observes the same on both loops."""
    observed = on_both(program, trampolines=False)
    assert observed["c"] == observed["python"]
    assert observed["c-loop"] == observed["python"]


@requires_compiled
@DIFFERENTIAL
@given(dp_programs())
# Found in CI: the cycle unrolls on the Python loop until the program's limit
# raises Runaway, which the frame's own `catch` step then catches.
@example(DPProgram(actions=((("plain", 1), ("catch", 0)), (), (), ()), maxsize=0, roots=(0,)))
def test_random_recursions_agree_with_trampolines(program: DPProgram) -> None:
    """With the Python loop's trampolines in use, runs without a cycle observe the same."""
    observed = on_both(program)
    if saw_cycle(observed["python"]) or saw_cycle(observed["c"]):
        # The C loop reports it; the Python loop may unroll it further first
        # (up to its trampoline budget), hitting the program's own limit.
        assert saw_cycle(observed["c"]) and saw_cycle(observed["c-loop"])
        assert saw_cycle(observed["python"]) or ran_away(observed["python"])
    else:
        assert observed["c"] == observed["python"]
        assert observed["c-loop"] == observed["python"]


def test_the_differential_programs_exercise_every_path() -> None:
    """A hand-written program hits each kind of outcome the random ones are meant to reach."""
    program = DPProgram(
        actions=(
            (),
            (("call", 0), ("value", 0)),
            (("catch", 3), ("call", 1)),
            (("call", 3),),  # a cycle 3 -> 3
            (("plain", 1), ("twice", 0), ("twice", 5)),
            (("return_request", 0),),
        ),
        maxsize=None,
        roots=(5, 2, 4, 3),
    )
    for name in DP_RUNS:
        with engine(name, trampolines=False):
            outcomes, log, entries, _ = run_program(program)
        assert outcomes[0][1] == "TypeError", name
        assert "f(5) returned the request f(0)" in outcomes[0][2], name
        assert outcomes[1] == ("value", 2 + 7 + (1 + 0 + 1)), name  # 1 yields the value 1
        assert ("caught", 2, "CycleError") in log, name
        assert outcomes[2][1] == "TypeError", name
        assert "the request f(5) was yielded a second time" in outcomes[2][2], name
        assert outcomes[3][1] == "CycleError", name
        assert outcomes[3][3] == (3, 3), name
        assert entries == {0: 0, 1: 2, 2: 11, 5: 0}, name


# ---------------------------------------------------------------- behaviour on both loops


def test_a_store_that_fails_throws_into_the_waiting_frame(dp_impl: str) -> None:
    """An error from store.set reaches the frame that asked, which may catch it; none is stored."""

    class Refusing(LRUStore[Any]):
        def set(self, key: Any, value: Any) -> None:
            if key == 1:
                raise OSError("disk full")
            super().set(key, value)

    store = Refusing(10)

    @dp(store=store)
    def f(n: int) -> Generator[int, int, int]:
        if n == 0:
            return 0
        try:
            return (yield f(n - 1)) + 1
        except OSError:
            return -100

    assert f(3) == -99  # f(1) could not be stored: f(2) caught the error
    assert store.get(1) is MISSING
    assert store.get(2) == -100
    assert f.cache_info().misses == 4


def test_a_base_exception_unwinds_every_frame(dp_impl: str) -> None:
    """KeyboardInterrupt raised deep down passes through each frame's finally, and is not caught."""
    unwound: list[int] = []

    @dp
    def f(n: int) -> Generator[int, int, int]:
        try:
            if n == 0:
                raise KeyboardInterrupt
            return (yield f(n - 1))
        finally:
            unwound.append(n)

    with pytest.raises(KeyboardInterrupt):
        f(500)
    assert unwound == list(range(501))
    assert f.cache_info().currsize == 0


def test_a_frame_may_catch_a_cycle_error_and_is_stored(dp_impl: str) -> None:
    """A frame that catches the CycleError of a sub-problem returns a value that is stored."""

    @dp
    def f(n: int) -> Generator[int, int, int]:
        if n == 0:
            try:
                return (yield f(0))
            except CycleError as exc:
                return len(exc.path)
        return (yield f(n - 1)) + 1

    assert f(3) == 5  # path (0, 0)
    assert f.cache_info().currsize == 4


@pytest.mark.parametrize("name", sorted(DP_RUNS))
def test_frames_are_released_after_success_and_failure(name: str) -> None:
    """No generator of a finished computation stays alive, whether it returned or raised.

    (The Python loop runs without trampolines here: a pooled trampoline keeps
    the last generator it drove until it is reused.)
    """

    def make(fail: bool) -> Any:
        @dp
        def f(n: int) -> Generator[int, int, int]:
            if n == 0 and fail:
                raise Failure
            return (yield f(n - 1)) + 1 if n else 0

        return f

    for fail in (False, True):
        with engine(name, trampolines=False):
            f = make(fail)
            with contextlib.suppress(Failure):
                f(200)
        code = f.__wrapped__.__code__
        gc.collect()
        # type(), not isinstance(): some objects warn when asked for __class__ (torch).
        alive = [o for o in gc.get_objects() if type(o) is GeneratorType and o.gi_code is code]
        assert alive == [], fail


def test_misses_count_past_small_ints(dp_impl: str) -> None:
    """misses counts every frame started, well past the cached small ints."""

    @dp
    def f(n: int) -> Generator[int, int, int]:
        return (yield f(n - 1)) if n else 0

    f(1_000)
    assert f.cache_info().misses == 1_001


def test_four_threads_deep_at_once(dp_impl: str) -> None:
    """Four threads each run a deep computation of one dp function and all get the right value."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)

    @dp
    def f(n: int) -> Generator[int, int, int]:
        return (yield f(n - 1)) + 1 if n else 0

    results: dict[int, int] = {}

    def work(n: int) -> None:
        results[n] = f(n)

    try:
        threads = [
            threading.Thread(target=work, args=(n,)) for n in (9_000, 10_000, 11_000, 12_000)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    assert results == {n: n for n in (9_000, 10_000, 11_000, 12_000)}


# ---------------------------------------------------------------- the C loop's own surface


def test_the_compiled_loop_keeps_the_reference(compiled: Any) -> None:
    """The engine module's run is the C loop, and it names the Python run it replaces."""
    run: Any = _dp_engine.run
    assert type(run) is compiled.DPEngine
    assert run.reference is PYTHON_RUN
    assert PYTHON_RUN.__module__ == "memokit._dp_engine"


def test_the_compiled_loop_refuses_what_is_not_a_request(compiled: Any) -> None:
    """Calling the C loop with anything but one Request is a TypeError that says so."""
    run: Any = _dp_engine.run
    with pytest.raises(TypeError, match="takes a Request, got int"):
        run(3)
    with pytest.raises(TypeError, match="exactly one argument"):
        run()
    with pytest.raises(TypeError, match="exactly one argument"):
        run(_dp_engine.Request(), root=1)


def test_the_compiled_loop_needs_slotted_classes(compiled: Any) -> None:
    """Built from classes whose fields are not __slots__, the C loop refuses at once."""

    class Loose:
        pass

    with pytest.raises(TypeError, match=r"Loose\.source to be a __slots__ member"):
        compiled.DPEngine(PYTHON_RUN, Loose, _dp_engine.Source, print, print, print)


def test_a_request_with_a_foreign_source_is_refused(compiled: Any) -> None:
    """The C loop reads a source's slots, so a hand-made request with another source is refused."""
    request = _dp_engine.Request()
    request.source = object()  # type: ignore[assignment]
    request.key = 1
    request.gen = iter(())  # type: ignore[assignment]
    request.started = False
    with pytest.raises(TypeError, match="a dp request's source must be a Source, got object"):
        _dp_engine.run(request)
