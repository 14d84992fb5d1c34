"""Time persistent stores per call: SQLiteStore against joblib.Memory and diskcache, and RedisStore.

The hit and miss time per call of ``@memoize`` over ``SQLiteStore`` next to
``joblib.Memory.cache`` and diskcache's ``Cache.memoize``, for small values
and for a 1 MiB ``bytes`` payload, and of ``RedisStore`` on loopback. This
script:

* decorates two functions per row: ``small(n) -> n`` and ``large(n)`` (the
  same 1 MiB ``bytes`` object for every ``n``), each store in a fresh
  directory (or key prefix);
* times a *hit* as a loop calling one cached key (calibrated to last
  ``>= --sample-ms``), and a *miss* as calls with keys never used before
  (each miss writes a new entry: 1 MiB for ``large``);
* takes one sample of every cell per round, rows in a shuffled order within
  an operation, for ``--repeats`` rounds, all in this one process, so that
  machine noise falls on every row alike;
* reports the median and minimum in microseconds per call, and each median
  over SQLiteStore's median for the same operation;
* prints PASS/FAIL for memokit's target for this store (a hit at least as
  fast as diskcache's memoize and faster than joblib.Memory's) from the
  medians: for small values with the default serializer (pickle, signed),
  and for the 1 MiB payload with it and with ``serializer="bytes"``;
* times the pieces a 1 MiB hit can be made of, each alone (reading the
  value out of an SQLite row, reading it from a file, HMAC-SHA256, unpickling,
  CRC-32): where the time of a hit goes, and why the bytes serializer
  carries no checksum. Timing is reported, never enforced: the exit status
  is 0 whatever the verdicts.

``--crossover`` instead times hits and misses of ``SQLiteStore`` with values
kept in the database against values kept in files, over a range of sizes:
the measurement behind ``file_threshold``'s default.

``--callgrind`` instead counts, with ``valgrind --tool=callgrind``, the
instructions of one ``get`` and one ``set`` of a signed ``SQLiteStore``
(small value, 1 MiB value, and a small value under a long key, one whose
encoding the store files as a digest), with the standard library's ``hmac``
(what the store uses) and with HMAC-SHA256 written by hand over two keyed
``hashlib`` states (what it used before; ``--callgrind-hmac stdlib`` counts
the first alone, in half the time): each count is the difference of two
runs that make different numbers of calls, divided by that difference, so
the interpreter's start-up cancels out. Counts do not depend on the
machine's load.

memokit's pickle rows sign with a fixed benchmark secret; the json and bytes
rows are unsigned (``MEMOKIT_CACHE_KEY`` is removed from this process's
environment, or they would sign with it). RedisStore runs against
``--redis-url``, or else a ``redis-server`` this script starts on a free
loopback port (without persistence) and stops; without either its rows say
why they were not measured.

Usage::

    python benchmarks/bench_stores.py                 # full run, ~20 seconds
    python benchmarks/bench_stores.py --quick         # smoke run, a few seconds
    python benchmarks/bench_stores.py --crossover     # database or file, by size
    python benchmarks/bench_stores.py --callgrind     # instructions per get/set, by HMAC
    python benchmarks/bench_stores.py --redis-url redis://127.0.0.1:6379/0 --json out.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import hmac
import io
import itertools
import json
import os
import pickle
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

# Measure the working tree's memokit, not an installed copy.
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from _common import dist_version, optional_import  # noqa: E402

from memokit import RedisStore, SQLiteStore, memoize  # noqa: E402

# The tests' redis-server launcher (a free port, no persistence, retried).
from tests.helpers.redis_server import RedisServer, start_server  # noqa: E402

try:
    import resource
except ImportError:  # not on Windows
    resource = None  # type: ignore[assignment]

X = "\N{MULTIPLICATION SIGN}"
Fn = Callable[..., Any]
SECRET = "bench-stores-secret-not-for-real-use"
PAYLOAD = bytes(range(256)) * 4096  # 1 MiB, no NumPy
REFERENCE = "sqlite"
#: The HMACs --callgrind counts with: the standard library's, and one written by hand.
HMACS = ("stdlib", "by-hand")
OPS = ("hit_small", "miss_small", "hit_1mb", "miss_1mb")
OP_LABELS = {
    "hit_small": "hit, small",
    "miss_small": "miss, small",
    "hit_1mb": "hit, 1 MiB",
    "miss_1mb": "miss, 1 MiB",
}
#: Computations of the functions below, to check that each row really caches.
COMPUTED: list[int] = []


def small(n: int) -> int:
    """The small-value function."""
    COMPUTED.append(n)
    return n


def large(n: int) -> bytes:
    """The 1 MiB-payload function."""
    COMPUTED.append(n)
    return PAYLOAD


# ---------------------------------------------------------------- rows


@dataclass
class Row:
    """One implementation: how to cache a function in a directory."""

    id: str
    label: str
    decorate: Callable[[Fn, Path], Fn] | None  # None: not available (see note)
    note: str = ""
    ops: tuple[str, ...] = OPS
    family: str = "disk"


def redis_url(given: str | None, workdir: Path) -> tuple[str | None, str, RedisServer | None]:
    """Return (URL or None, why not, server started here or None)."""
    redis, why = optional_import("redis")
    if redis is None:
        return None, f"redis client {why}; pip install 'memokit[redis]'", None
    if given:
        return given, "", None
    if shutil.which("redis-server") is None:
        return None, "redis-server not installed and no --redis-url given", None
    try:
        server = start_server(workdir)
    except Exception as exc:
        return None, f"could not start redis-server ({exc})", None
    return server.url, "", server


def build_rows(redis_at: str | None, redis_why: str) -> tuple[list[Row], dict[str, str]]:
    """Every row, and the peers' versions."""

    def sqlite(fn: Fn, where: Path) -> Fn:
        return memoize(store=SQLiteStore(where / "memokit.db", secret=SECRET))(fn)

    def sqlite_json(fn: Fn, where: Path) -> Fn:
        return memoize(store=SQLiteStore(where / "memokit.db", serializer="json"))(fn)

    def sqlite_bytes(fn: Fn, where: Path) -> Fn:
        return memoize(store=SQLiteStore(where / "memokit.db", serializer="bytes"))(fn)

    def sqlite_lru(fn: Fn, where: Path) -> Fn:
        store = SQLiteStore(where / "memokit.db", secret=SECRET, maxsize=100_000)
        return memoize(store=store)(fn)

    rows = [
        Row("sqlite", "memokit SQLiteStore (pickle, HMAC-signed)", sqlite),
        Row(
            "sqlite_bytes",
            "memokit SQLiteStore (bytes, unsigned)",
            sqlite_bytes,
            ops=("hit_1mb", "miss_1mb"),
            note="the bytes serializer holds bytes only: small (int) rows not applicable",
        ),
        Row(
            "sqlite_json",
            "memokit SQLiteStore (json, unsigned)",
            sqlite_json,
            ops=("hit_small", "miss_small"),
            note="JSON has no bytes: 1 MiB rows not applicable",
        ),
        Row("sqlite_lru", "memokit SQLiteStore(maxsize=100000)", sqlite_lru),
    ]
    versions: dict[str, str] = {}

    diskcache, why = optional_import("diskcache")
    dc: Callable[[Fn, Path], Fn] | None = None
    if diskcache is not None:
        versions["diskcache"] = dist_version("diskcache")

        def dc(fn: Fn, where: Path) -> Fn:
            return cast(Fn, diskcache.Cache(str(where / "diskcache")).memoize()(fn))

    rows.append(Row("diskcache", "diskcache Cache.memoize()", dc, why))

    joblib, why = optional_import("joblib")
    jl: Callable[[Fn, Path], Fn] | None = None
    if joblib is not None:
        versions["joblib"] = dist_version("joblib")

        def jl(fn: Fn, where: Path) -> Fn:
            return cast(Fn, joblib.Memory(str(where / "joblib"), verbose=0).cache(fn))

    rows.append(Row("joblib", "joblib Memory.cache", jl, why))

    rd: Callable[[Fn, Path], Fn] | None = None
    if redis_at is not None:
        versions["redis-py"] = dist_version("redis")

        def rd(fn: Fn, where: Path) -> Fn:
            prefix = f"bench-{where.name}"
            return memoize(store=RedisStore(redis_at, secret=SECRET, prefix=prefix))(fn)

    rows.append(
        Row("redis", "memokit RedisStore (loopback)", rd, redis_why, family="redis"),
    )
    return rows, versions


def check_caches(row: Row, where: Path) -> str:
    """Return a warning if the row does not cache (a fast non-cache proves nothing)."""
    assert row.decorate is not None
    work = small if "hit_small" in row.ops else large
    expected = work(-1)
    fn = row.decorate(work, where)
    COMPUTED.clear()
    results = [fn(-1) for _ in range(3)]
    if results != [expected] * 3 or COMPUTED != [-1]:
        return f"{row.label}: 3 calls with one key computed {len(COMPUTED)} times"
    return ""


# ---------------------------------------------------------------- cells


def minor_faults() -> int:
    """This process's minor page faults so far (0 where the resource module is missing).

    A value of 1 MiB lives in memory that the allocator may hand back to the
    kernel when it is freed; getting fresh pages again costs one fault per
    4 KiB page. How often that happens depends on the allocator's state, so
    the report shows faults per call next to the times of the 1 MiB rows.
    """
    if resource is None:
        return 0
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


@dataclass
class Cell:
    """One (row, operation): a function to call and its samples in microseconds per call."""

    row: str
    op: str
    fn: Fn
    keys: Iterator[int]  # fresh keys for misses
    calls: int = 1  # per sample: loop count for hits, new keys for misses
    samples: list[float] = field(default_factory=list)
    faults: list[float] = field(default_factory=list)  # minor page faults per call

    @property
    def is_hit(self) -> bool:
        return self.op.startswith("hit")

    def run(self, calls: int) -> float:
        """Make ``calls`` calls; return the seconds they took."""
        fn = self.fn
        if self.is_hit:
            start = time.perf_counter()
            for _ in itertools.repeat(None, calls):
                fn(5)
            return time.perf_counter() - start
        keys = [next(self.keys) for _ in range(calls)]
        start = time.perf_counter()
        for key in keys:
            fn(key)
        return time.perf_counter() - start

    def sample(self) -> None:
        """Take one sample (and count the page faults it took)."""
        before = minor_faults()
        self.samples.append(self.run(self.calls) / self.calls * 1e6)
        self.faults.append((minor_faults() - before) / self.calls)

    def calibrate(self, sample_s: float) -> None:
        """Pick the hit loop count that makes one sample last about ``sample_s``."""
        calls = 1
        while True:
            elapsed = self.run(calls)
            if elapsed >= sample_s / 4 or calls >= 1_000_000:
                break
            calls *= 4
        elapsed = min(elapsed, self.run(calls))
        self.calls = max(1, round(calls * sample_s / max(elapsed, 1e-9)))


@dataclass(frozen=True)
class Config:
    """What to measure and how long."""

    repeats: int
    sample_ms: float
    small_misses: int
    large_misses: int
    quick: bool


@dataclass(frozen=True)
class Summary:
    """Median and minimum of a cell's samples (µs per call), and its median faults per call."""

    median: float
    min: float
    samples: tuple[float, ...]
    faults: float

    @classmethod
    def of(cls, cell: Cell) -> Summary:
        samples = cell.samples
        return cls(statistics.median(samples), min(samples), tuple(samples),
                   statistics.median(cell.faults))  # fmt: skip


#: The pieces a 1 MiB hit can be made of, timed alone by :func:`pieces_us`.
PIECES = {
    "sqlite_row": "read from an SQLite row (SELECT, WAL, 4 KiB pages)",
    "file_read": "read from a file (open, fstat, read, close)",
    "hmac": "HMAC-SHA256 (what a signed hit verifies)",
    "unpickle": "pickle.loads (what a pickle hit decodes)",
    "crc32": "zlib.crc32 (a checksum the bytes serializer does not pay)",
}


def pieces_us(workdir: Path, repeats: int) -> dict[str, tuple[float, float]]:
    """Median µs and page faults of each piece of :data:`PIECES` (1 MiB payload), interleaved."""
    where = workdir / "pieces"
    where.mkdir()
    conn = sqlite3.connect(where / "rows.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE v (id INTEGER PRIMARY KEY, value BLOB NOT NULL)")
    conn.execute("INSERT INTO v VALUES (1, ?)", (PAYLOAD,))
    file = where / "value"
    file.write_bytes(PAYLOAD)

    def read_file() -> bytes:
        fd = os.open(file, os.O_RDONLY)
        try:
            return os.read(fd, os.fstat(fd).st_size)
        finally:
            os.close(fd)

    pickled = pickle.dumps(PAYLOAD, pickle.HIGHEST_PROTOCOL)
    key = SECRET.encode()
    pieces: dict[str, Callable[[], object]] = {
        "sqlite_row": lambda: conn.execute("SELECT value FROM v WHERE id = 1").fetchone(),
        "file_read": read_file,
        "hmac": lambda: hmac.new(key, PAYLOAD, "sha256").digest(),
        "unpickle": lambda: pickle.loads(pickled),
        "crc32": lambda: zlib.crc32(PAYLOAD),
    }
    times: dict[str, list[float]] = {piece: [] for piece in pieces}
    faults: dict[str, list[float]] = {piece: [] for piece in pieces}
    try:
        for _ in range(max(repeats, 5) * 5):
            for piece, fn in pieces.items():
                before = minor_faults()
                start = time.perf_counter()
                fn()
                times[piece].append((time.perf_counter() - start) * 1e6)
                faults[piece].append(minor_faults() - before)
    finally:
        conn.close()
    return {
        piece: (statistics.median(times[piece]), statistics.median(faults[piece]))
        for piece in pieces
    }


# ---------------------------------------------------------------- report


def parse_args(argv: list[str] | None) -> tuple[Config, argparse.Namespace]:
    parser = argparse.ArgumentParser(
        description="Time memoize over SQLiteStore against joblib.Memory and diskcache, "
        "and RedisStore on loopback, in one process."
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="write samples and results")
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    parser.add_argument("--repeats", type=int, metavar="K", help="samples per cell (default 11)")
    parser.add_argument("--sample-ms", type=float, metavar="MS", help="hit sample length (20)")
    parser.add_argument("--redis-url", metavar="URL", help="measure RedisStore on this server")
    parser.add_argument(
        "--crossover",
        action="store_true",
        help="instead: SQLiteStore with values in the database against values in files, by size",
    )
    parser.add_argument(
        "--callgrind",
        action="store_true",
        help="instead: instructions per get and set of a signed SQLiteStore, by HMAC, "
        "counted by valgrind --tool=callgrind",
    )
    parser.add_argument(
        "--callgrind-hmac",
        choices=("both", *HMACS),
        default="both",
        help="with --callgrind: count with both HMACs (default), or with one",
    )
    parser.add_argument("--calls", metavar="OP:SIZE:HMAC:N", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    repeats = args.repeats if args.repeats is not None else (3 if args.quick else 11)
    if repeats < 1:
        parser.error("--repeats must be >= 1")
    config = Config(
        repeats=repeats,
        sample_ms=args.sample_ms or (2.0 if args.quick else 20.0),
        small_misses=10 if args.quick else 100,
        large_misses=2 if args.quick else 4,
        quick=args.quick,
    )
    return config, args


def fmt(us: float) -> str:
    return f"{us:,.1f}" if us < 1000 else f"{us:,.0f}"


def print_header(config: Config, peers: str, now: str) -> None:
    print(f"bench_stores  {now}")
    print(f"python    {sys.version}")
    print(f"platform  {platform.platform()}  ({os.cpu_count()} CPUs)")
    print(f"memokit   from {REPO / 'memokit'};  {peers};  SQLite {sqlite3.sqlite_version}")


def main(argv: list[str] | None = None) -> int:
    config, args = parse_args(argv)
    json_path, given_url = args.json, args.redis_url
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(errors="replace")
    # The unsigned rows must not pick up a secret from the environment.
    os.environ.pop("MEMOKIT_CACHE_KEY", None)
    if args.calls:
        return make_calls(args.calls)
    if args.callgrind:
        return callgrind(HMACS if args.callgrind_hmac == "both" else (args.callgrind_hmac,))
    if args.crossover:
        return crossover(config)
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="bench_stores-"))
    server: RedisServer | None = None
    try:
        url, redis_why, server = redis_url(given_url, workdir)
        rows, versions = build_rows(url, redis_why)
        results, warnings, pieces = run(rows, config, workdir)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    elapsed = time.perf_counter() - started

    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    peers = ", ".join(f"{k} {v}" for k, v in sorted(versions.items())) or "no peers installed"
    print_header(config, peers, now)
    print(
        f"{config.repeats} rounds, one sample of every cell per round, rows shuffled; "
        f"hits >= {config.sample_ms:g} ms per sample; misses: {config.small_misses} new keys "
        f"(small), {config.large_misses} (1 MiB) per sample{'  [--quick]' if config.quick else ''}"
    )
    print()
    header = ["median us/call (x SQLiteStore)", *(OP_LABELS[op] for op in OPS)]
    table = [header]
    for row in rows:
        line = [row.label]
        for op in OPS:
            s = results.get(row.id, {}).get(op)
            ref = results.get(REFERENCE, {}).get(op)
            if s is None:
                line.append("-")
            elif ref is None or row.id == REFERENCE:
                line.append(fmt(s.median))
            else:
                line.append(f"{fmt(s.median)} ({s.median / ref.median:.2f}{X})")
        table.append(line)
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for r in table:
        print(
            r[0].ljust(widths[0])
            + "".join("  " + t.rjust(w) for t, w in zip(r[1:], widths[1:], strict=False))
        )
    print()
    print("  min us/call, for the noise:")
    for row in rows:
        mins = [results.get(row.id, {}).get(op) for op in OPS]
        if any(mins):
            cells = "  ".join(
                f"{OP_LABELS[op]} {fmt(m.min)}" for op, m in zip(OPS, mins, strict=False) if m
            )
            print(f"    {row.label}: {cells}")
    print("  minor page faults per call (median), 1 MiB rows:")
    for row in rows:
        found = [(op, results.get(row.id, {}).get(op)) for op in ("hit_1mb", "miss_1mb")]
        cells = "  ".join(f"{OP_LABELS[op]} {s.faults:,.0f}" for op, s in found if s)
        if cells:
            print(f"    {row.label}: {cells}")
    for row in rows:
        if row.decorate is None or row.note:
            print(f"  {row.label}: {row.note or 'not measured'}")
    for text in warnings.values():
        print(f"  ! WARNING {text}: its numbers do not measure a cache")
    print()
    print("Pieces of a 1 MiB hit, each timed alone (median us, and page faults per call):")
    for piece, label in PIECES.items():
        us, faults = pieces[piece]
        print(f"  {fmt(us):>8}  {faults:>4,.0f}  {label}")
    print()
    print("Target: SQLiteStore hit <= diskcache memoize hit, < joblib hit.")
    checks = verdicts(results)
    for check in checks:
        print("  " + check["text"])
    judged = [c for c in checks if c["status"] != "SKIP"]
    print(
        f"Summary: {sum(c['status'] == 'PASS' for c in judged)}/{len(judged)} PASS; "
        f"run took {elapsed:.1f} s"
    )
    if json_path is not None:
        write_json(json_path, config, rows, versions, results, warnings, checks, pieces, now)
        print(f"JSON written to {json_path}")
    return 0


def run(
    rows: list[Row], config: Config, workdir: Path
) -> tuple[dict[str, dict[str, Summary]], dict[str, str], dict[str, tuple[float, float]]]:
    """Build, check, calibrate and sample every cell; return summaries, warnings, pieces."""
    cells: list[Cell] = []
    warnings: dict[str, str] = {}
    fresh = itertools.count(1000)
    for row in rows:
        if row.decorate is None:
            continue
        where = workdir / row.id
        where.mkdir()
        warning = check_caches(row, where)
        if warning:
            warnings[row.id] = warning
        fns = {"small": row.decorate(small, where), "1mb": row.decorate(large, where)}
        for op in row.ops:
            fn = fns[op.split("_")[1]]
            cell = Cell(row.id, op, fn, fresh)
            if cell.is_hit:
                fn(5)  # the miss that makes every timed call a hit
                cell.calibrate(config.sample_ms / 1000)
            else:
                cell.calls = config.small_misses if op == "miss_small" else config.large_misses
            cells.append(cell)
    sample_interleaved(cells, config.repeats)
    results: dict[str, dict[str, Summary]] = {}
    for cell in cells:
        results.setdefault(cell.row, {})[cell.op] = Summary.of(cell)
    return results, warnings, pieces_us(workdir, config.repeats)


def sample_interleaved(cells: list[Cell], repeats: int) -> None:
    """Warm every cell up, then take ``repeats`` rounds of one sample each, shuffled per op."""
    by_op: dict[str, list[Cell]] = {}
    for cell in cells:
        by_op.setdefault(cell.op, []).append(cell)
    rng = random.Random(20240606)
    for cell in cells:  # warm-up, discarded
        cell.run(1)
    gc.collect()
    for _ in range(repeats):
        for group in by_op.values():
            rng.shuffle(group)
            for cell in group:
                cell.sample()


#: (row, label) of the SQLiteStore rows judged against the target, and their ops.
JUDGED = (
    ("sqlite", "SQLiteStore pickle+HMAC", ("hit_small", "hit_1mb")),
    ("sqlite_bytes", "SQLiteStore bytes", ("hit_1mb",)),
)


def verdicts(results: dict[str, dict[str, Summary]]) -> list[dict[str, Any]]:
    """SQLiteStore's hits against diskcache (<= 1x) and joblib (< 1x), small and 1 MiB."""
    out: list[dict[str, Any]] = []
    for row, label, ops in JUDGED:
        for op in ops:
            for peer, strict in (("diskcache", False), ("joblib", True)):
                mine = results.get(row, {}).get(op)
                theirs = results.get(peer, {}).get(op)
                head = {"row": row, "op": op, "peer": peer}
                if mine is None or theirs is None:
                    missing = row if mine is None else peer
                    text = f"SKIP  {OP_LABELS[op]}: {label} / {peer}: {missing} not measured"
                    out.append(head | {"status": "SKIP", "ratio": None, "text": text})
                    continue
                ratio = mine.median / theirs.median
                ok = ratio < 1.0 if strict else ratio <= 1.0
                status = "PASS" if ok else "FAIL"
                sign = "<" if strict else "<="
                text = (
                    f"{status}  {OP_LABELS[op]}: {label} / {peer} = {ratio:.2f}{X} "
                    f"(target {sign} 1.00{X}; {fmt(mine.median)} vs {fmt(theirs.median)} us; "
                    f"from minimums {mine.min / theirs.min:.2f}{X})"
                )
                out.append(head | {"status": status, "ratio": ratio, "text": text})
    return out


def write_json(
    path: Path,
    config: Config,
    rows: list[Row],
    versions: dict[str, str],
    results: dict[str, dict[str, Summary]],
    warnings: dict[str, str],
    checks: list[dict[str, Any]],
    pieces: dict[str, tuple[float, float]],
    now: str,
) -> None:
    """Write every sample, median and ratio, the pieces and the verdicts."""
    data: dict[str, Any] = {
        "meta": {
            "date": now,
            "python": sys.version,
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "peer_versions": versions,
            "sqlite_version": sqlite3.sqlite_version,
        },
        "config": {
            "repeats": config.repeats,
            "quick": config.quick,
            "hit_sample_ms": config.sample_ms,
            "small_misses_per_sample": config.small_misses,
            "large_misses_per_sample": config.large_misses,
            "payload_bytes": len(PAYLOAD),
            "reference": REFERENCE,
        },
        "operations": OP_LABELS,
        "hmac_sha256_1mib_us": pieces["hmac"][0],
        "pieces_1mib_us": {
            piece: {"label": PIECES[piece], "median_us": us, "minor_faults": faults}
            for piece, (us, faults) in pieces.items()
        },
        "rows": {},
        "verdicts": [{k: v for k, v in c.items() if k != "text"} for c in checks],
    }
    for row in rows:
        ops = {}
        for op, s in results.get(row.id, {}).items():
            ref = results.get(REFERENCE, {}).get(op)
            ops[op] = {
                "median_us": s.median,
                "min_us": s.min,
                "samples_us": list(s.samples),
                "minor_faults_per_call": s.faults,
                "ratio_vs_sqlite": None if ref is None else s.median / ref.median,
            }
        data["rows"][row.id] = {
            "label": row.label,
            "family": row.family,
            "available": row.decorate is not None,
            "note": row.note,
            "warning": warnings.get(row.id, ""),
            "ops": ops,
        }
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


# ---------------------------------------------------------------- --crossover

CROSSOVER_KIB = (16, 32, 64, 128, 192, 256, 512, 1024)


def crossover(config: Config) -> int:
    """Time SQLiteStore (bytes, unsigned) with every value in the database, then in files."""
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="bench_stores-crossover-"))
    fresh = itertools.count(1000)
    cells: dict[tuple[int, str, str], Cell] = {}
    try:
        for kib in CROSSOVER_KIB:
            value = PAYLOAD[: kib * 1024]

            def sized(n: int, value: bytes = value) -> bytes:
                return value

            for where, threshold in (("row", None), ("file", 0)):
                folder = workdir / f"{kib}-{where}"
                folder.mkdir()
                store = SQLiteStore(
                    folder / "memokit.db", serializer="bytes", file_threshold=threshold
                )
                fn = memoize(store=store.bind(f"sized-{kib}"))(sized)
                hit = Cell(where, f"hit_{kib}", fn, fresh)
                fn(5)
                hit.calibrate(config.sample_ms / 1000)
                miss = Cell(where, f"miss_{kib}", fn, fresh, calls=config.large_misses)
                cells[kib, where, "hit"], cells[kib, where, "miss"] = hit, miss
        sample_interleaved(list(cells.values()), config.repeats)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    print_header(config, "--crossover", now)
    print(
        f"SQLiteStore(serializer='bytes'), file_threshold=None (row) or 0 (file); "
        f"{config.repeats} interleaved rounds; medians, us per @memoize call"
    )
    print()
    print(f"{'value':>8}  {'hit row':>9}  {'hit file':>9}  {'file/row':>8}    "
          f"{'miss row':>9}  {'miss file':>9}  {'file/row':>8}    "
          "faults/hit row, file")  # fmt: skip
    for kib in CROSSOVER_KIB:
        line = f"{kib:>4} KiB"
        for op in ("hit", "miss"):
            row = statistics.median(cells[kib, "row", op].samples)
            file = statistics.median(cells[kib, "file", op].samples)
            line += f"  {fmt(row):>9}  {fmt(file):>9}  {file / row:>7.2f}{X}  "
        faults = [statistics.median(cells[kib, where, "hit"].faults) for where in ("row", "file")]
        line += "  " + ", ".join(f"{f:,.0f}" for f in faults)
        print(line.rstrip())
    print(f"run took {time.perf_counter() - started:.1f} s")
    return 0


# ---------------------------------------------------------------- --callgrind

#: The calls --callgrind counts, and the two numbers of calls whose counts it subtracts.
COUNTED = {
    ("get", "small"): (200, 1200),
    ("set", "small"): (100, 400),
    ("get", "1mib"): (5, 25),
    ("set", "1mib"): (5, 25),
    ("get", "longkey"): (200, 1200),
    ("set", "longkey"): (100, 400),
}
#: The key of the "longkey" calls: its encoding is over 64 bytes, so it is filed as a digest.
LONG_KEY = ("a long key", "k" * 100)


def _hand_codec() -> Any:
    """A Codec whose tag is HMAC-SHA256 computed by hand (RFC 2104), as memokit once did."""
    import hashlib

    from memokit.stores._codec import Codec
    from memokit.stores._keybytes import encode_length

    class HandCodec(Codec):
        __slots__ = ("_inner", "_outer")

        def __init__(self, fmt: Any, secret: bytes) -> None:
            super().__init__(fmt, secret)
            key = secret.ljust(64, b"\0")  # secrets over 64 bytes not needed here
            self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key) + self._header)
            self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

        def _tag(self, context: bytes, prefix: Any, parts: list[Any]) -> bytes:
            inner = self._inner.copy()
            inner.update(encode_length(len(context)) + context)
            if prefix:
                inner.update(prefix)
            for part in parts:
                inner.update(part)
            outer = self._outer.copy()
            outer.update(inner.digest())
            return outer.digest()

    return HandCodec("pickle", SECRET.encode())


def make_calls(spec: str) -> int:
    """Make the calls ``OP:SIZE:HMAC:N`` names (what --callgrind runs under valgrind)."""
    op, size, mac, n = spec.split(":")
    workdir = Path(tempfile.mkdtemp(prefix="bench_stores-calls-"))
    try:
        store = SQLiteStore(workdir / "memokit.db", secret=SECRET).bind("bench:calls")
        if mac == "by-hand":
            store._codec = _hand_codec()
        value: Any = PAYLOAD if size == "1mib" else 12345
        key: Any = LONG_KEY if size == "longkey" else 1
        store.set(key, value)
        if op == "get":
            for _ in range(int(n)):
                store.get(key)
        else:
            for _ in range(int(n)):
                store.set(key, value)
        assert store.get(key) == value
        store.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


def _instructions(spec: str, out: Path) -> int:
    """The instructions callgrind counts in a run of ``--calls spec``."""
    command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
    command += [sys.executable, str(Path(__file__).resolve()), "--calls", spec]
    subprocess.run(command, check=True, capture_output=True)
    for line in out.read_text().splitlines():
        if line.startswith("summary:"):
            return int(line.split()[1])
    raise RuntimeError(f"no summary line in {out}")


def callgrind(macs: tuple[str, ...] = HMACS) -> int:
    """Print instructions per call of each counted call, with each HMAC (and their ratio)."""
    if shutil.which("valgrind") is None:
        print("valgrind is not installed: nothing counted")
        return 0
    workdir = Path(tempfile.mkdtemp(prefix="bench_stores-callgrind-"))
    print(f"bench_stores --callgrind  python {platform.python_version()}, "
          f"SQLite {sqlite3.sqlite_version}; instructions per call")  # fmt: skip
    titles = {"stdlib": "stdlib hmac", "by-hand": "by hand"}
    both = macs == HMACS
    print(f"{'call':<18}" + "".join(f"{titles[mac]:>14}" for mac in macs)
          + (f"{'stdlib / by hand':>18}" if both else ""))  # fmt: skip
    try:
        for (op, size), (few, many) in COUNTED.items():
            per_call = {}
            for mac in macs:
                counts = [
                    _instructions(f"{op}:{size}:{mac}:{n}", workdir / f"{op}-{size}-{mac}-{n}")
                    for n in (few, many)
                ]
                per_call[mac] = (counts[1] - counts[0]) / (many - few)
            line = f"{op + ' ' + size:<18}" + "".join(f"{per_call[mac]:>14,.0f}" for mac in macs)
            if both:
                line += f"{per_call['stdlib'] / per_call['by-hand']:>17.3f}x"
            print(line)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
