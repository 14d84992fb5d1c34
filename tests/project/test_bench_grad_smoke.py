"""Smoke run of benchmarks/bench_grad.py: --quick exits 0 and writes complete JSON."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

from tests.helpers.bench import positive, run_quick

PEERS = ("micrograd", "torch")
QUICK_SIZES = (1_000, 10_000)


def _installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def test_bench_grad_quick_writes_every_row(tmp_path: Path) -> None:
    """bench_grad --quick exits 0; its JSON has a measured row per installed peer, N and GC."""
    out = tmp_path / "grad.json"
    proc = run_quick("bench_grad.py", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "targets" in proc.stdout
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["meta"]["quick"] is True
    assert data["meta"]["python"] == sys.version

    impls = data["implementations"]
    assert impls["memokit"]["available"]
    for peer in PEERS:
        assert impls[peer]["available"] == _installed(peer), peer

    rows = {(r["impl"], r["n"], r["gc"]): r for r in data["rows"]}
    for impl, entry in impls.items():
        for n in QUICK_SIZES:
            for state in ("on", "off"):
                row = rows[impl, n, state]
                if not entry["available"]:
                    assert row["status"] != "ok" and row["samples"] == 0, row
                    continue
                assert row["status"] == "ok", row
                assert row["wrong_gradients"] == 0, row
                assert row["samples"] == len(row["backward_samples_ms"]) >= 1
                assert len(row["forward_samples_ms"]) == row["samples"]
                for key in ("forward_ms", "backward_ms", "backward_over_forward"):
                    assert positive(row[key]), (key, row)
                if impl != "micrograd" and impls["micrograd"]["available"]:
                    assert positive(row["backward_vs_micrograd"]), row

    targets = data["targets"]
    assert {t["target"] for t in targets} >= {"backward/forward <= 1", "10^6 nodes complete"}
    for target in targets:
        assert target["status"] in {"PASS", "FAIL", "SKIP"}, target
        if target["status"] != "SKIP" and target["limit"] is not None:
            assert positive(target["measured"]), target
