"""What the benchmark smoke tests share: run a script with --quick, check measured numbers."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = ROOT / "benchmarks"


def run_quick(script: str, json_out: Path) -> subprocess.CompletedProcess[str]:
    """Run ``benchmarks/<script> --quick --json <json_out>`` from the repository root."""
    return subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--quick", "--json", str(json_out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def positive(value: Any) -> bool:
    """Whether ``value`` is a finite number above zero (a measured time or ratio)."""
    return isinstance(value, int | float) and math.isfinite(value) and value > 0
