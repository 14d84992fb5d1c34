"""tests/test_dp.py once more, on the Python reference, when the compiled core is live.

tests/test_dp.py runs on whatever memokit uses (with the compiled core: the C
front end and loop). This module loads a second copy of it while the Python
reference (generated wrappers, Python loop) is installed in memokit._dp, so
that its module-level dp functions are reference ones too, and keeps the
reference installed while its tests run: every test pins down both
implementations in a single run of the suite. With the compiled core off,
tests/test_dp.py already runs on the reference, and this module is skipped.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from memokit import _core, _dp
from tests.core.conftest import NOT_LIVE, PYTHON_RUN

if _core.compiled is None:
    pytest.skip(NOT_LIVE, allow_module_level=True)


def _load_on_reference() -> ModuleType:
    """A fresh copy of tests/test_dp.py, its dp functions decorated on the reference."""
    path = Path(__file__).parents[1] / "test_dp.py"
    spec = importlib.util.spec_from_file_location("tests._test_dp_on_reference", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    names = vars(_dp)  # the run() and front end that dp wrappers bind when they are made
    saved = names["run"], names["_front"]
    names["run"], names["_front"] = PYTHON_RUN, None
    try:
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    finally:
        names["run"], names["_front"] = saved
    return module


globals().update(
    (name, value) for name, value in vars(_load_on_reference()).items() if name.startswith("test_")
)


@pytest.fixture(autouse=True)
def python_loop(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every dp function decorated during the test gets the reference wrapper and loop."""
    monkeypatch.setattr(_dp, "run", PYTHON_RUN)
    monkeypatch.setattr(_dp, "_front", None)
    yield
