"""Which implementation runs, and how memokit._core says so (the loader of the compiled core)."""

from __future__ import annotations

import importlib
import importlib.util
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

import memokit
from memokit import _core

ROOT = Path(__file__).resolve().parents[2]


def implementation_in_subprocess(**env: str) -> str:
    """memokit.IMPLEMENTATION in a fresh interpreter with ``env`` added to the environment."""
    result = subprocess.run(
        [sys.executable, "-c", "import memokit; print(memokit.IMPLEMENTATION)"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_implementation_says_whether_the_extension_is_loaded() -> None:
    """IMPLEMENTATION is "c" exactly when the compiled module is loaded."""
    live = memokit.IMPLEMENTATION
    assert live == ("c" if _core.compiled is not None else "python")


def test_no_extensions_at_import_time_runs_the_reference() -> None:
    """MEMOKIT_NO_EXTENSIONS=1 makes a fresh interpreter run the Python reference."""
    assert implementation_in_subprocess(MEMOKIT_NO_EXTENSIONS="1") == "python"


def test_a_built_extension_is_used_unless_told_otherwise() -> None:
    """Without the variable (or with it set to 0), a built extension is what runs."""
    built = importlib.util.find_spec("memokit._core._compiled") is not None
    expected = "c" if built else "python"
    assert implementation_in_subprocess(MEMOKIT_NO_EXTENSIONS="0") == expected
    assert implementation_in_subprocess(MEMOKIT_NO_EXTENSIONS="") == expected


def test_a_broken_extension_warns_and_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """An extension that is built but fails to load gives a warning saying what to do."""

    def broken(name: str) -> object:
        raise ImportError(f"{name}: undefined symbol: PyFoo")

    monkeypatch.delenv("MEMOKIT_NO_EXTENSIONS", raising=False)
    monkeypatch.setattr(importlib, "import_module", broken)
    with pytest.warns(RuntimeWarning, match="failed to load.*undefined symbol.*Reinstall"):
        assert _core._load() is None


def test_a_missing_extension_is_quietly_the_pure_python_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No extension at all (no compiler at install time) is not worth a warning."""

    def missing(name: str) -> object:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    monkeypatch.delenv("MEMOKIT_NO_EXTENSIONS", raising=False)
    monkeypatch.setattr(importlib, "import_module", missing)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _core._load() is None


def test_an_extension_older_than_its_sources_warns(tmp_path: Path) -> None:
    """A checkout whose C sources changed after the build says how to rebuild."""
    built = tmp_path / "_compiled.so"
    source = tmp_path / "sweep.c"
    built.write_bytes(b"")
    source.write_text("/* newer */")
    now = time.time()
    os.utime(built, (now - 60, now - 60))
    with pytest.warns(RuntimeWarning, match=r"older than its C sources.*pip install -e \."):
        _core._warn_if_stale(built)
    os.utime(built, (now + 60, now + 60))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _core._warn_if_stale(built)  # rebuilt: no warning
