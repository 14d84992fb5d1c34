"""The typing tests in tests/typing/ pass mypy --strict (run as a subprocess)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TYPING_DIR = ROOT / "tests" / "typing"


def test_typing_files_pass_mypy_strict() -> None:
    """memoize_pass.py type-checks and every wrong call in memoize_fail.py is rejected."""
    pytest.importorskip("mypy")
    # pyproject excludes tests/typing/ from the default run, and mypy applies
    # that exclude when it walks a directory: name the files explicitly.
    files = sorted(str(p.relative_to(ROOT)) for p in TYPING_DIR.glob("memoize_*.py"))
    assert len(files) >= 2, files
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--warn-unused-ignores",
            "--no-incremental",
            *files,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"mypy failed on {files}:\n{output}"
    assert f"no issues found in {len(files)} source files" in output, output
