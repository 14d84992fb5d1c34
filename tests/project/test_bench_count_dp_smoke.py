"""benchmarks/count_dp.py runs each row it counts (without valgrind, as a smoke run)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "count_dp.py"


@pytest.mark.parametrize("row", ["dp", "dp-generated", "memoize", "lru_cache"])
@pytest.mark.parametrize("problem", ["fib", "edit"])
def test_each_row_runs(row: str, problem: str) -> None:
    """A bare run of the row computes its problem and exits 0."""
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--run", row, problem, "300"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_an_unknown_row_is_refused_with_the_choices() -> None:
    """Asking for a row that does not exist exits 2 and names the rows there are."""
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "dpp"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2 and "dp-generated" in proc.stderr
