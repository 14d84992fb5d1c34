"""Smoke run of benchmarks/bench_tensor.py: --quick exits 0 and writes measured numbers."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from tests.helpers.bench import positive, run_quick

pytest.importorskip("numpy", reason="bench_tensor.py measures Tensors, which need NumPy")


def _installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def test_bench_tensor_quick_measures_every_section(tmp_path: Path) -> None:
    """--quick exits 0; every training row, checkpoint row and per-op row has measured numbers."""
    out = tmp_path / "tensor.json"
    proc = run_quick("bench_tensor.py", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "targets" in proc.stdout
    assert "autograd/floor" in proc.stdout and "memokit-floor" in proc.stdout
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["meta"]["quick"] is True and data["meta"]["python"] == sys.version

    configs = {(r["hidden"], r["batch"], r["threads"]) for r in data["training"]}
    assert configs == {(h, b, t) for h in (64, 256) for b in (32, 128) for t in ("1", "default")}
    peers = {"memokit", "numpy"} | {p for p in ("torch", "autograd") if _installed(p)}
    for row in data["training"]:
        seconds = row["seconds"]
        assert set(seconds) >= peers, row
        for key in (*peers, "memokit forward", "memokit backward", "backward/forward"):
            assert positive(seconds[key]), (key, row)
        # Every row's first gradients agree with memokit's (float32 tolerance).
        assert set(row["gradient_errors"]) == set(peers)
        assert max(row["gradient_errors"].values()) < 1e-3, row

    checkpoint = data["checkpoint"]
    stores = [r["store"] for r in checkpoint["rows"] if r["adjoints"] == "4"]
    assert stores[0] == "full" and len(stores) >= 4
    assert any(s.startswith("LRU(") for s in stores) and any(s.startswith("Ckpt(") for s in stores)
    for row in checkpoint["rows"]:
        for key in ("peak_bytes", "seconds", "memory_vs_full", "time_vs_full"):
            assert positive(row[key]), (key, row)
    lru = [r for r in checkpoint["rows"] if r["policy"] == "lru"]
    assert lru[-1]["recomputations"] > 0  # the smallest table recomputes
    assert lru[-1]["peak_bytes"] < lru[0]["peak_bytes"]

    per_op = data["per_op"]
    for name in ("memokit", *(["torch"] if _installed("torch") else [])):
        for collector in ("on", "off"):
            assert positive(per_op[f"{name}, gc {collector}"]["forward_us_per_op"])
            assert positive(per_op[f"{name}, gc {collector}"]["backward_us_per_op"])

    # Each training target is judged apart for one thread and for the default threads.
    names = {t["target"] for t in data["targets"]}
    for regime in ("1 thread", "default threads"):
        assert f"memokit / torch step <= 1.0, {regime} (worst row)" in names
        assert f"autograd / memokit >= 3, {regime} (worst row)" in names
        assert f"autograd / memokit >= 3, {regime} (worst row where autograd / floor >= 3)" in names
        assert f"backward / forward <= 2, {regime} (worst row)" in names
    # The sweep prints its target and the stores that meet it.
    assert "target: peak memory <= 40%" in proc.stdout and "met by:" in proc.stdout
    for target in data["targets"]:
        assert target["status"] in {"met", "not met", "n/a"}, target
        if target["status"] != "n/a":
            assert positive(target["measured"]), target
