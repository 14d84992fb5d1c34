"""The typing tests in tests/typing/ pass mypy --strict (run as a subprocess)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TYPING_DIR = ROOT / "tests" / "typing"


def test_typing_files_pass_mypy_strict() -> None:
    """Every *_pass.py file type-checks and every wrong call in every *_fail.py is rejected."""
    pytest.importorskip("mypy")
    # pyproject excludes tests/typing/ from the default run, and mypy applies
    # that exclude when it walks a directory: name the files explicitly.
    files = sorted(str(p.relative_to(ROOT)) for p in TYPING_DIR.glob("*.py"))
    names = {Path(f).name for f in files}
    for area in ("memoize", "async", "dp", "autodiff"):
        assert {f"{area}_pass.py", f"{area}_fail.py"} <= names, names
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
