"""Both implementations of each compiled path, as fixtures (the compiled core is memokit._core).

As CPython's test_functools runs one test class against the C and the Python
``lru_cache``, and multidict's conftest parametrises its tests over its two
modules, a test here that takes ``dp_impl`` runs once per implementation of
the dp engine's loop. The C variant exists only when the compiled core is
live: with ``MEMOKIT_NO_EXTENSIONS=1`` the suite tests the Python reference
alone, and tests that compare the two (``compiled``) are skipped, saying why.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest

from memokit import _core, _dp, _dp_engine

#: The dp engine's run(): the Python reference, and the C loop when it is live.
PYTHON_RUN: Callable[[Any], Any] = getattr(_dp_engine.run, "reference", _dp_engine.run)
DP_RUNS: dict[str, Callable[[Any], Any]] = {"python": PYTHON_RUN}
if _core.compiled is not None:
    DP_RUNS["c"] = _dp_engine.run
    # The C loop under the generated Python wrappers, as functions that the
    # compiled front end does not take (keywords, *args, key=) run.
    DP_RUNS["c-loop"] = _dp_engine.run

#: The compiled wrapper class each variant's dp functions get (memokit._dp._front).
DP_FRONTS: dict[str, type | None] = {"python": None, "c": _dp._front, "c-loop": None}

NOT_LIVE = "the compiled core is not live (not built, or MEMOKIT_NO_EXTENSIONS=1)"

#: For tests that compare the two implementations (hypothesis tests cannot take fixtures).
requires_compiled = pytest.mark.skipif(_core.compiled is None, reason=NOT_LIVE)


@pytest.fixture
def compiled() -> ModuleType:
    """The compiled core's module, for tests that compare it with the reference."""
    if _core.compiled is None:
        pytest.skip(NOT_LIVE)
    return _core.compiled


@pytest.fixture(params=sorted(DP_RUNS))
def dp_impl(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run the test with dp functions (decorated inside it) on one engine.

    "python": the reference wrappers and loop; "c": the compiled front end
    and loop; "c-loop": the reference wrappers driven by the compiled loop.
    """
    name: str = request.param
    monkeypatch.setattr(_dp, "run", DP_RUNS[name])
    monkeypatch.setattr(_dp, "_front", DP_FRONTS[name])
    yield name
