"""benchmarks/count_engines.py runs every case it counts (without valgrind, as a smoke run).

The lead may move this next to the other benchmark smoke tests in tests/project/.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "count_engines.py"


def _cases() -> list[str]:
    spec = importlib.util.spec_from_file_location("count_engines", SCRIPT)
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return sorted({*script.CASES, *script.ALTERNATIVES})


@pytest.mark.parametrize("case", _cases())
def test_each_case_runs(case: str) -> None:
    """A bare run of the case does its operations and exits 0 (the alternatives still build)."""
    n = "8000" if case.startswith("recursion") else "20"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--run", case, n],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
