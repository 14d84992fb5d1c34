"""The autodiff typing tests in tests/typing/ pass mypy --strict (run as a subprocess)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FILES = [
    "tests/typing/autodiff_pass.py",
    "tests/typing/autodiff_fail.py",
    "tests/typing/tensor_pass.py",
    "tests/typing/tensor_fail.py",
]
MYPY = [sys.executable, "-m", "mypy", "--strict", "--warn-unused-ignores", "--no-incremental"]


def test_autodiff_typing_files_pass_mypy_strict() -> None:
    """autodiff_pass.py type-checks and every wrong call in autodiff_fail.py is rejected."""
    pytest.importorskip("mypy")
    assert all((ROOT / f).is_file() for f in FILES), FILES
    # pyproject excludes tests/typing/ from the default run: name the files.
    result = subprocess.run(
        [*MYPY, *FILES],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"mypy failed on {FILES}:\n{output}"
    assert f"no issues found in {len(FILES)} source files" in output, output
