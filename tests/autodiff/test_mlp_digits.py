"""examples/mlp_digits.py trains the lecture's network on digits to >= 95% test accuracy."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("numpy", reason="the digits example needs NumPy (pip install numpy)")
pytest.importorskip(
    "sklearn", reason="the digits example needs scikit-learn (pip install 'memokit[examples]')"
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_full_run_reaches_95_percent_and_draws_its_curves(tmp_path: Path) -> None:
    """The default run prints a test accuracy >= 95%, both adjoint counts and writes a PNG."""
    picture = tmp_path / "curves.png"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "mlp_digits.py"), "--plot", str(picture)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    accuracy = re.search(r"^test accuracy: ([\d.]+)%$", done.stdout, re.MULTILINE)
    assert accuracy is not None, done.stdout
    assert float(accuracy.group(1)) >= 95.0
    naive = re.findall(r"naive \(memo=False\)\s+(\d+) adjoint computations", done.stdout)
    memoized = re.findall(r"memoized \(memo=True\)\s+(\d+) adjoint computations", done.stdout)
    assert naive and memoized and int(naive[0]) > int(memoized[0])
    for layer in ("W1", "W2", "W3"):
        assert f"‖∂L/∂{layer}‖ = " in done.stdout
    if "no picture" not in done.stdout:
        assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
