"""Smoke run of benchmarks/bench_dp.py: --quick exits 0 and writes complete JSON."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers.bench import positive, run_quick


def test_bench_dp_quick_reports_every_row(tmp_path: Path) -> None:
    """bench_dp --quick exits 0, agrees with bottom_up, and reports each row or its error."""
    out = tmp_path / "bench_dp.json"
    proc = run_quick("bench_dp.py", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "every answer agrees with bottom_up" in proc.stdout
    report = json.loads(out.read_text())
    assert report["wrong_answers"] == []
    assert len(report["problems"]) == 3
    for problem, rows in report["problems"].items():
        assert {"dp", "lru_cache", "bottom_up"} <= set(rows), problem
        for row in ("dp", "bottom_up"):  # these never hit a recursion limit
            assert rows[row]["error"] == "", (problem, row)
            assert positive(rows[row]["median_ns_per_subproblem"]), (problem, row)
        lru = rows["lru_cache"]
        assert lru["error"] in ("", "RecursionError"), problem
        if not lru["error"]:
            assert positive(lru["median_ns_per_subproblem"])
            assert rows["dp"]["ratio_to_lru_cache"] is not None
    memory = report["peak_memory"]
    assert memory["dp"]["traced"] > 0
