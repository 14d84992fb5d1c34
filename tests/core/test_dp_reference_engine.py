"""tests/test_dp.py once more, on the Python loop, when the C loop is the one memokit uses.

tests/test_dp.py runs on whichever loop is live; this module collects the
same tests again with the Python reference installed in memokit._dp, so
every one of them pins down both loops in a single run of the suite. With
the compiled core off, tests/test_dp.py already runs on the reference, and
this module is skipped.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from memokit import _core, _dp
from tests.core.conftest import NOT_LIVE, PYTHON_RUN
from tests.test_dp import *  # noqa: F403  (collected again, with the fixture below)

if _core.compiled is None:
    pytest.skip(NOT_LIVE, allow_module_level=True)


@pytest.fixture(autouse=True)
def python_loop(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every dp function decorated during the test runs on the Python loop."""
    monkeypatch.setattr(_dp, "run", PYTHON_RUN)
    yield
