"""Smoke run of benchmarks/bench_stores.py: --quick exits 0 and writes complete JSON."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

from tests.helpers.bench import positive, run_quick
from tests.helpers.redis_server import REQUIRE_ENV, unavailable_reason

OPS = ("hit_small", "miss_small", "hit_1mb", "miss_1mb")


def test_bench_stores_quick_writes_every_median(tmp_path: Path) -> None:
    """bench_stores --quick exits 0 and reports a positive median per measured row and op."""
    out = tmp_path / "bench.json"
    proc = run_quick("bench_stores.py", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SQLiteStore" in proc.stdout and "Target" in proc.stdout
    data = json.loads(out.read_text(encoding="utf-8"))
    rows = data["rows"]

    expected = {"sqlite", "sqlite_bytes", "sqlite_json", "sqlite_lru"}
    expected |= {peer for peer in ("diskcache", "joblib") if importlib.util.find_spec(peer)}
    redis_here = unavailable_reason() is None
    if redis_here or os.environ.get(REQUIRE_ENV) == "1":
        expected.add("redis")  # under MEMOKIT_REQUIRE_REDIS=1 a missing server fails here
    else:
        assert not rows["redis"]["available"] and rows["redis"]["note"]
    available = {rid for rid, row in rows.items() if row["available"]}
    assert expected <= available, f"expected but not measured: {expected - available}"

    for rid in available:
        row = rows[rid]
        assert not row["warning"], row["warning"]
        ops = {"sqlite_json": OPS[:2], "sqlite_bytes": OPS[2:]}.get(rid, OPS)
        assert set(row["ops"]) == set(ops), rid
        for op in ops:
            cell = row["ops"][op]
            assert positive(cell["median_us"]) and positive(cell["min_us"]), (rid, op)
            assert cell["samples_us"] and all(positive(x) for x in cell["samples_us"])
            assert positive(cell["ratio_vs_sqlite"]), (rid, op)
    assert positive(data["hmac_sha256_1mib_us"])
    pieces = data["pieces_1mib_us"]
    assert set(pieces) == {"sqlite_row", "file_read", "hmac", "unpickle", "crc32"}
    assert all(positive(piece["median_us"]) for piece in pieces.values())
    statuses = {(v["row"], v["op"], v["peer"]): v["status"] for v in data["verdicts"]}
    judged = [("sqlite", "hit_small"), ("sqlite", "hit_1mb"), ("sqlite_bytes", "hit_1mb")]
    assert set(statuses) == {(row, op, peer) for row, op in judged for peer in
                             ("diskcache", "joblib")}  # fmt: skip
    for (_, _, peer), status in statuses.items():
        assert status in ({"PASS", "FAIL"} if peer in available else {"SKIP"}), (peer, status)
