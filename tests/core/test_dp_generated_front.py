"""tests/test_dp.py once more: the generated Python wrappers driven by the compiled loop.

With the compiled core live, dp functions that the compiled front end does
not take (keywords, ``*args``, ``key=``, ``typed=True``) keep the generated
wrapper, whose requests the C loop runs. This module collects tests/test_dp.py
again with the compiled front end switched off in memokit._dp, so that every
test pins down that pairing too. (Module-level dp functions of tests/test_dp.py
keep the compiled front end: both kinds meet in one computation here.) With
the compiled core off, this module is skipped.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from memokit import _core, _dp
from tests.core.conftest import NOT_LIVE
from tests.test_dp import *  # noqa: F403  (collected again, with the fixture below)

if _core.compiled is None:
    pytest.skip(NOT_LIVE, allow_module_level=True)


@pytest.fixture(autouse=True)
def generated_wrappers(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every dp function decorated during the test gets the generated wrapper."""
    monkeypatch.setattr(_dp, "_front", None)
    yield
