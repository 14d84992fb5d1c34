"""The dp call path: the compiled front end (memokit/_core/dp_front*.c) against the reference.

Random call sequences (tests/core/strategies.py) drive two dp functions on
every variant (the reference wrappers and loop, the compiled front end and
loop, the reference wrappers on the compiled loop) and compare all a user can
observe: results, errors and their messages, the bodies run, the statistics
and the keys held. The other tests pin down which functions get the compiled
front end.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest
from hypothesis import given, settings

from memokit import DictStore, _core, _dp, dp
from tests.core.conftest import DP_RUNS, requires_compiled
from tests.core.strategies import SECONDS, CallScript, Counted, dp_call_scripts
from tests.core.test_dp_engine import engine
from tests.helpers.memo import FakeClock


class Failure(Exception):
    """Raised by a body asked for a negative argument."""


class Audited(DictStore[Any]):
    """A subclass of DictStore: no table to read directly, so its methods are called."""


def options_for(kind: str, clock: FakeClock) -> dict[str, Any]:
    """The @dp options of a script's store kind (a new store per function)."""
    if kind == "lru":
        return {"maxsize": 3}
    if kind == "ttl":
        return {"ttl": 5.0, "clock": clock}
    if kind == "subclass":
        return {"store": Audited()}
    return {}


def run_script(script: CallScript) -> list[Any]:
    """Run ``script`` on the variant installed in memokit._dp; what a user could observe."""
    log: list[tuple[Any, ...]] = []
    clock = FakeClock()

    @dp(**options_for(script.store, clock))
    def g(a: int, b: object = 0) -> Generator[Any, Any, Any]:
        log.append(("g", a, repr(b)))
        if a < 0:
            raise Failure(a)
        if a == 0:
            return (repr(b),)
        x = yield g(a - 1, b)
        y = yield h(a - 1)
        return (*x, a, y)

    @dp(**options_for(script.store, clock))
    def h(a: int) -> Generator[Any, Any, Any]:
        log.append(("h", a))
        if a < 0:
            raise Failure(a)
        if a < 2:
            return a
        return (yield h(a - 1)) + (yield h(a - 2))

    outcomes: list[Any] = []
    hashes = Counted.hashes
    for form, first, index in script.steps:
        second = SECONDS[index]
        try:
            if form == "pos":
                result: Any = g(first, second)
            elif form == "kw":
                result = g(b=second, a=first)
            elif form == "default":
                result = g(first)
            elif form == "one":
                result = h(first)
            elif form == "invalidate":
                result = g.cache_invalidate(first, second)
            elif form == "clear":
                g.cache_clear()
                result = None
            else:
                clock.advance(2.0 * abs(first))
                result = None
            outcomes.append(("value", result))
        except Exception as exc:
            outcomes.append(("error", type(exc).__name__, str(exc)))
    hashes = Counted.hashes - hashes  # keys made canonical hash a user's type once
    keys = sorted(repr(_unwrapped(k)) for k in g.cache_keys())
    return [outcomes, log, g.cache_stats(), h.cache_stats(), keys, hashes]


def _unwrapped(key: Any) -> Any:
    """A key as the user passed it (a store's table may hold it wrapped)."""
    from memokit._hashed import unhashed

    return unhashed(key)


@requires_compiled
@settings(max_examples=300, deadline=None)
@given(dp_call_scripts())
def test_random_call_sequences_agree_on_every_variant(script: CallScript) -> None:
    """Hits, misses, evictions, invalidations, expiry and errors observe the same everywhere."""
    observed = {}
    for name in DP_RUNS:
        with engine(name):
            observed[name] = run_script(script)
    assert observed["c"] == observed["python"]
    assert observed["c-loop"] == observed["python"]


def test_the_call_scripts_reach_every_path() -> None:
    """A hand-written script gives the outcomes the random ones are meant to reach."""
    steps = (
        ("pos", 2, 1),  # misses: g(2, 1), g(1, 1), g(0, 1), h(1), h(0)
        ("pos", 2, 2),  # 1.0 == 1: a hit
        ("kw", 2, 3),  # True == 1, by keyword: a hit
        ("default", 1, 0),
        ("pos", 1, 9),  # unhashable
        ("pos", -1, 0),  # fails
        ("invalidate", 2, 1),
        ("pos", 2, 1),  # recomputed, its sub-problems hit
    )
    outcomes, log, g_stats, _, keys, _ = run_script(CallScript("dict", steps))
    assert outcomes[0] == ("value", ("1", 1, 0, 2, 1))
    assert outcomes[1] == outcomes[2] == outcomes[0]
    assert outcomes[4][:2] == ("error", "TypeError") and "'b'" in outcomes[4][2]
    assert outcomes[5] == ("error", "Failure", "-1")
    assert outcomes[6] == ("value", True)
    assert outcomes[7] == outcomes[0]
    assert log.count(("g", 2, "1")) == 2
    # Hits: g(2, 1.0), g(2, True), g(1, 1) in the recomputation; the
    # unhashable call counts nothing; the failed g(-1, 0) is a miss, not stored.
    assert (g_stats.hits, g_stats.misses) == (3, 7)
    assert keys == ["(0, 0)", "(0, 1)", "(1, 0)", "(1, 1)", "(2, 1)"]


@pytest.mark.skipif(_dp._front is None, reason="the compiled front end is not live here")
def test_positional_functions_get_the_compiled_front_end() -> None:
    """All-positional functions get the C wrapper; *args, keyword-only, key= and typed= do not."""

    def body(a: int, b: int = 0) -> Generator[int, int, int]:
        return a + b
        yield

    def star(*a: int) -> Generator[int, int, int]:
        return len(a)
        yield

    def kwonly(a: int, *, b: int = 0) -> Generator[int, int, int]:
        return a + b
        yield

    front = _dp._front
    assert type(dp(body)) is front
    assert type(dp(maxsize=2)(body)) is front
    assert type(dp(star)) is not front
    assert type(dp(kwonly)) is not front
    assert type(dp(key=lambda a, b=0: a)(body)) is not front
    assert type(dp(typed=True)(body)) is not front


@pytest.mark.skipif(_core.compiled is None, reason="the compiled core is not live here")
def test_the_front_end_follows_the_installed_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """With another run() installed, new dp functions get the generated wrapper, which uses it."""
    from tests.core.conftest import PYTHON_RUN

    monkeypatch.setattr(_dp, "run", PYTHON_RUN)

    @dp
    def f(n: int) -> Generator[int, int, int]:
        return n if n < 2 else (yield f(n - 1)) + (yield f(n - 2))

    assert _dp._front is None or type(f) is not _dp._front
    assert f(30) == 832040
