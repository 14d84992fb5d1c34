"""The repository passes mypy --strict and ruff check, as CI requires."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TYPED_DIRS = ("memokit", "tests", "examples", "benchmarks")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_mypy_strict() -> None:
    """mypy --strict finds no issue in memokit, tests, examples and benchmarks."""
    pytest.importorskip("mypy")
    # mypy refuses a directory without Python files: name only those with some.
    targets = [d for d in TYPED_DIRS if any((ROOT / d).rglob("*.py"))]
    result = _run("mypy", "--strict", *targets)
    command = f"mypy --strict {' '.join(targets)}"
    assert result.returncode == 0, f"{command}:\n{result.stdout}{result.stderr}"


def test_ruff_check() -> None:
    """ruff check reports nothing for the whole repository."""
    if importlib.util.find_spec("ruff") is None:
        pytest.skip("ruff is not installed")
    result = _run("ruff", "check", ".")
    assert result.returncode == 0, f"ruff check .:\n{result.stdout}{result.stderr}"
