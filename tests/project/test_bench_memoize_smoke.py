"""Smoke runs of the benchmark scripts: --quick exits 0 and writes complete JSON."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

from tests.helpers.bench import positive, run_quick

OPERATIONS = ("hit_f", "hit_g", "miss_f", "miss_g")
ALWAYS = ("plain", "memokit", "memokit_lru128", "lru_cache", "lru_cache_128")
PEERS = {
    "cachetools": ("cachetools", "cachetools_lru128"),
    "cachebox": ("cachebox", "cachebox_lru128"),
}


def _importable(name: str) -> bool:
    try:
        importlib.import_module(name)
    except Exception:
        return False
    return True


def test_bench_memoize_quick_writes_every_median(tmp_path: Path) -> None:
    """bench_memoize --quick exits 0 and reports a positive median per installed row and op."""
    out = tmp_path / "bench.json"
    proc = run_quick("bench_memoize.py", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "functools.lru_cache(maxsize=None)" in proc.stdout
    data = json.loads(out.read_text(encoding="utf-8"))
    rows = data["implementations"]

    expected = set(ALWAYS)
    for module, ids in PEERS.items():
        if _importable(module):
            expected.update(ids)
    available = {rid for rid, row in rows.items() if row["available"]}
    assert expected <= available, f"installed but not measured: {expected - available}"

    for rid in available:
        assert not rows[rid]["warning"], rows[rid]["warning"]
        for op in OPERATIONS:
            cell = rows[rid]["ops"][op]
            assert positive(cell["median_ns"]), (rid, op)
            assert positive(cell["min_ns"]), (rid, op)
            assert cell["samples_ns"], (rid, op)
            assert all(positive(x) for x in cell["samples_ns"]), (rid, op)
            assert positive(cell["ratio_vs_lru_cache"]), (rid, op)
            if rows[rid]["lru"]:
                assert positive(cell["ratio_vs_lru_cache_128"]), (rid, op)
    for rid, row in rows.items():
        if not row["available"]:
            assert row["note"] and not row["ops"], rid

    for eid, extra in data["extras"].items():
        assert positive(extra["median_ns"]), eid
    assert data["verdicts"]
    for verdict in data["verdicts"]:
        assert verdict["status"] in {"PASS", "FAIL", "SKIP", "info"}, verdict
        if verdict["status"] != "SKIP":
            assert positive(verdict["measured"]), verdict
