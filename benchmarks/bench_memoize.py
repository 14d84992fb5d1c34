"""Time memokit's ``@memoize`` against functools.lru_cache, cachetools and cachebox.

memokit's speed targets (docs/performance.md, "Targets") are ratios measured
side by side in one process, because absolute times are noise on shared
machines. This script:

* builds one *cell* per (implementation, operation): a hit on a cached key,
  or a miss+insert of N distinct keys into a fresh cache;
* times each cell with a loop compiled as source, the call written inline as
  in ``timeit`` (``for _ in it: _fn(5)``), the callable read from the loop's
  globals; hit samples run enough loops to last >= 20 ms;
* takes one sample of every cell per round (``--repeats`` rounds); within a
  round the cells of one column run back to back in a shuffled order, so the
  rows a ratio compares are measured moments apart and machine noise lands on
  every implementation alike;
* reports the median (and the minimum) of the samples in ns per call, each
  median's ratio to ``functools.lru_cache(maxsize=None)`` in the same column,
  and for LRU rows also the ratio to ``lru_cache(maxsize=128)``;
* prints PASS/FAIL for each target from the medians, with two cross-checks
  (the median of per-round paired ratios, and the ratio of minimums). Timing
  is reported, never enforced: the exit status is 0 whatever the verdicts.

Nothing is subtracted: the "plain call" row runs the same loops on the
undecorated function, so the loop floor is visible. GC stays enabled while
measuring unless ``--no-gc`` is given (a full collection runs, untimed,
before each miss sample either way).

Usage::

    python benchmarks/bench_memoize.py                 # full run, ~1 minute
    python benchmarks/bench_memoize.py --quick         # smoke run, a few seconds
    python benchmarks/bench_memoize.py --repeats 41 --no-gc --json out.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import gc
import io
import itertools
import json
import math
import os
import platform
import random
import statistics
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

# Measure the working tree's memokit (the one being optimized), not an installed copy.
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from _common import dist_version, memokit_fingerprint, memokit_version, optional_import  # noqa: E402

import memokit  # noqa: E402
from memokit import memoize  # noqa: E402

X = "\N{MULTIPLICATION SIGN}"
LE = "\N{LESS-THAN OR EQUAL TO}"
GE = "\N{GREATER-THAN OR EQUAL TO}"

Fn = Callable[..., Any]
Decorator = Callable[[Fn], Fn]
LoopFn = Callable[[Iterator[None], Callable[[], int]], int]

REFERENCE = "lru_cache"  # every ratio column is relative to this row
LRU_REFERENCE = "lru_cache_128"  # the like-for-like peer of bounded (LRU) rows
LRU_SIZE = 128
HIT_INT = 5
HIT_STR = "abc"
SEED = 20240611
# Short row names for the verdict lines.
SHORT = {
    "plain": "plain call",
    "memokit": "memoize",
    "memokit_lru128": f"memoize(maxsize={LRU_SIZE})",
    "lru_cache": "lru_cache(None)",
    "lru_cache_128": f"lru_cache({LRU_SIZE})",
    "cachetools": "cachetools({})",
    "cachetools_lru128": f"cachetools(LRU {LRU_SIZE})",
    "cachebox": "cachebox(Cache(0))",
    "cachebox_lru128": f"cachebox(LRU {LRU_SIZE})",
}


# ---------------------------------------------------------------- functions under test


def f(n: int) -> int:
    """The one-int-argument shape."""
    return n


def g(n: int, s: str) -> int:
    """The (int, str) shape."""
    return n


# ---------------------------------------------------------------- implementations


@dataclass(frozen=True)
class Impl:
    """One row of the table: how to put a fresh cache on a function."""

    id: str
    label: str
    decorate: Decorator | None  # None: not available here (see note)
    note: str = ""
    lru: bool = False  # bounded LRU: also compared with lru_cache(maxsize=128)


def build_impls() -> tuple[list[Impl], dict[str, str]]:
    """Every implementation row, and the peers' versions."""

    def plain(fn: Fn) -> Fn:
        return fn

    def memokit_dict(fn: Fn) -> Fn:
        return memoize(fn)

    def memokit_lru(fn: Fn) -> Fn:
        return memoize(maxsize=LRU_SIZE)(fn)

    impls = [
        Impl("plain", "plain call (no cache: loop floor)", plain),
        Impl("memokit", "memokit memoize", memokit_dict),
        Impl("memokit_lru128", f"memokit memoize(maxsize={LRU_SIZE})", memokit_lru, lru=True),
        Impl("lru_cache", "functools.lru_cache(maxsize=None)", functools.lru_cache(maxsize=None)),
        Impl(
            "lru_cache_128",
            f"functools.lru_cache(maxsize={LRU_SIZE})",
            functools.lru_cache(maxsize=LRU_SIZE),
            lru=True,
        ),
    ]
    versions: dict[str, str] = {}

    cachetools, why = optional_import("cachetools")
    ct_dict: Decorator | None = None
    ct_lru: Decorator | None = None
    if cachetools is not None:
        versions["cachetools"] = dist_version("cachetools", cachetools)

        def ct_dict(fn: Fn) -> Fn:
            return cast(Fn, cachetools.cached({})(fn))

        def ct_lru(fn: Fn) -> Fn:
            return cast(Fn, cachetools.cached(cachetools.LRUCache(LRU_SIZE))(fn))

    impls += [
        Impl("cachetools", "cachetools.cached({})", ct_dict, why),
        Impl(
            "cachetools_lru128",
            f"cachetools.cached(LRUCache({LRU_SIZE}))",
            ct_lru,
            why,
            lru=True,
        ),
    ]

    cachebox, why = optional_import("cachebox")
    cb_dict: Decorator | None = None
    cb_lru: Decorator | None = None
    if cachebox is not None:
        versions["cachebox"] = dist_version("cachebox", cachebox)
        missing = [n for n in ("cached", "Cache", "LRUCache") if not hasattr(cachebox, n)]
        if missing:
            why = f"cachebox {versions['cachebox']} lacks {', '.join(missing)}"
        else:
            # cachebox 6: Cache(0) is unbounded (maxsize 0 means no bound); the
            # decorator's defaults (lock=True, postprocess=copy of mutables) are kept.
            def cb_dict(fn: Fn) -> Fn:
                return cast(Fn, cachebox.cached(cachebox.Cache(0))(fn))

            def cb_lru(fn: Fn) -> Fn:
                return cast(Fn, cachebox.cached(cachebox.LRUCache(LRU_SIZE))(fn))

    impls += [
        Impl("cachebox", "cachebox.cached(Cache(0))", cb_dict, why),
        Impl("cachebox_lru128", f"cachebox.cached(LRUCache({LRU_SIZE}))", cb_lru, why, lru=True),
    ]
    return impls, versions


def check_caches(impl: Impl) -> str:
    """Return a warning if ``impl`` does not actually cache (a fast non-cache proves nothing)."""
    if impl.decorate is None or impl.id == "plain":
        return ""
    calls: list[int] = []

    def counted(n: int, s: str) -> int:
        calls.append(n)
        return n

    fn = impl.decorate(counted)
    results = [fn(HIT_INT, HIT_STR) for _ in range(3)]
    if results != [HIT_INT] * 3 or len(calls) != 1:
        return f"{impl.label}: 3 calls with one key ran the function {len(calls)} times"
    return ""


# ---------------------------------------------------------------- cells and timing

OPS = ("hit_f", "hit_g", "miss_f", "miss_g")
OP_LABELS = {
    "hit_f": "hit f(n)",
    "hit_g": "hit g(n,s)",
    "miss_f": "miss+insert f(n)",
    "miss_g": "miss+insert g(n,s)",
}

_LOOP_SOURCE = """\
def _bench_loop(_it, _clock):
    _t0 = _clock()
    for _ in _it:
{body}
    return _clock() - _t0
"""


def compile_loop(stmt: str, namespace: dict[str, Any]) -> LoopFn:
    """Compile ``stmt`` inside a timing loop whose globals are ``namespace`` (as timeit does)."""
    source = _LOOP_SOURCE.format(body=textwrap.indent(stmt, " " * 8))
    exec(compile(source, f"<bench loop: {stmt.splitlines()[0]}>", "exec"), namespace)
    return cast(LoopFn, namespace["_bench_loop"])


@dataclass
class Cell:
    """One (row, operation) measurement and its samples."""

    row: str
    op: str
    stmt: str
    namespace: dict[str, Any]
    calls_per_loop: int
    fresh: Callable[[], Fn] | None = None  # miss cells: a new, empty cache per sample
    loops: int = 1
    samples: list[float] = field(default_factory=list)
    loop: LoopFn = field(init=False)

    def __post_init__(self) -> None:
        self.loop = compile_loop(self.stmt, self.namespace)

    def run(self, loops: int) -> int:
        """Run the loop ``loops`` times; return the elapsed ns."""
        return self.loop(itertools.repeat(None, loops), time.perf_counter_ns)

    def sample(self) -> float:
        """Take one sample, in ns per call."""
        if self.fresh is not None:
            self.namespace["_fn"] = None  # drop the last sample's cache before collecting
            gc.collect()
            self.namespace["_fn"] = self.fresh()
        return self.run(self.loops) / (self.loops * self.calls_per_loop)

    def calibrate(self, target_ns: int) -> None:
        """Pick the loop count that makes one hit sample last about ``target_ns``."""
        loops = 1000
        while True:
            elapsed = self.run(loops)
            if elapsed >= target_ns // 5:
                break
            loops *= 5
        # Use the fastest of three runs: a burst of load from another job while
        # calibrating must not make every later sample shorter than the target.
        elapsed = min(elapsed, self.run(loops), self.run(loops))
        self.loops = max(1, math.ceil(loops * target_ns / max(elapsed, 1)))


def hit_cell(row: str, op: str, fn: Fn) -> Cell:
    """A cell that calls ``fn`` with one key over and over (primed: every timed call hits)."""
    stmt = f"_fn({HIT_INT})" if op == "hit_f" else f"_fn({HIT_INT}, {HIT_STR!r})"
    cell = Cell(row, op, stmt, {"_fn": fn}, calls_per_loop=1)
    cell.run(1)  # the first call is the miss
    return cell


def miss_cell(row: str, op: str, decorate: Decorator, n_keys: int) -> Cell:
    """A cell that calls a freshly decorated function with ``n_keys`` distinct keys."""
    if op == "miss_f":
        keys: list[Any] = list(range(n_keys))
        raw: Fn
        raw, stmt = f, "for _n in _keys:\n    _fn(_n)"
    else:
        words = [f"s{j}" for j in range(97)]
        keys = [(i, words[i % 97]) for i in range(n_keys)]
        raw, stmt = g, "for _n, _s in _keys:\n    _fn(_n, _s)"
    return Cell(
        row,
        op,
        stmt,
        {"_fn": None, "_keys": keys},
        calls_per_loop=n_keys,
        fresh=functools.partial(decorate, raw),
    )


# ---------------------------------------------------------------- informational extras


@dataclass(frozen=True)
class Extra:
    """An informational hit row: a statement and what it is compared with."""

    id: str
    label: str
    stmt: str
    namespace: dict[str, Any]
    peer: str | None  # another extra row (like-for-like), or None


def f_untyped(n):  # type: ignore[no-untyped-def]
    """The one-argument shape without an annotation: its key's type is checked per call."""
    return n


def build_extras() -> list[Extra]:
    """Method, typed=True, key= and keyword-call hits beside lru_cache's; what options add."""

    class MemokitHolder:
        @memoize
        def m(self, n: int) -> int:
            return n

    class LruHolder:
        @functools.lru_cache(maxsize=None)  # noqa: B019, UP033 - the comparison
        def m(self, n: int) -> int:
            return n

    lru_typed = functools.lru_cache(maxsize=None, typed=True)(f)
    lru_plain = functools.lru_cache(maxsize=None)(f)
    return [
        Extra(
            "memokit_method",
            "memokit memoize, method: obj.m(5)",
            "_obj.m(5)",
            {"_obj": MemokitHolder()},
            "lru_cache_method",
        ),
        Extra(
            "lru_cache_method",
            "lru_cache(maxsize=None), method: obj.m(5)",
            "_obj.m(5)",
            {"_obj": LruHolder()},
            None,
        ),
        Extra(
            "memokit_typed",
            "memokit memoize(typed=True): f(5)",
            "_fn(5)",
            {"_fn": memoize(typed=True)(f)},
            "lru_cache_typed",
        ),
        Extra(
            "lru_cache_typed",
            "lru_cache(maxsize=None, typed=True): f(5)",
            "_fn(5)",
            {"_fn": lru_typed},
            None,
        ),
        Extra(
            "memokit_key",
            "memokit memoize(key=lambda n: n): f(5)",
            "_fn(5)",
            {"_fn": memoize(key=lambda n: n)(f)},
            None,
        ),
        Extra(
            "memokit_keyword",
            "memokit memoize, keyword call: f(n=5)",
            "_fn(n=5)",
            {"_fn": memoize(f)},
            "lru_cache_keyword",
        ),
        Extra(
            "lru_cache_keyword",
            "lru_cache(maxsize=None), keyword call: f(n=5)",
            "_fn(n=5)",
            {"_fn": lru_plain},
            None,
        ),
        # What each option adds to a hit: b compares with the same cache without it.
        Extra("memokit_plain", "memokit memoize: f(5)", "_fn(5)", {"_fn": memoize(f)}, None),
        Extra(
            "memokit_untyped",
            "memokit memoize, unannotated: f(5)",
            "_fn(5)",
            {"_fn": memoize(f_untyped)},
            "memokit_plain",
        ),
        Extra(
            "memokit_ttl",
            "memokit memoize(ttl=3600): f(5)",
            "_fn(5)",
            {"_fn": memoize(ttl=3600)(f)},
            "memokit_plain",
        ),
        Extra(
            "memokit_lru",
            f"memokit memoize(maxsize={LRU_SIZE}): f(5)",
            "_fn(5)",
            {"_fn": memoize(maxsize=LRU_SIZE)(f)},
            None,
        ),
        Extra(
            "memokit_lru_ttl",
            f"memokit memoize(maxsize={LRU_SIZE}, ttl=3600): f(5)",
            "_fn(5)",
            {"_fn": memoize(maxsize=LRU_SIZE, ttl=3600)(f)},
            "memokit_lru",
        ),
        Extra(
            "memokit_lru_sizeof",
            f"memokit memoize(maxsize={LRU_SIZE}, sizeof=...): f(5)",
            "_fn(5)",
            {"_fn": memoize(maxsize=LRU_SIZE, sizeof=lambda value: 1)(f)},
            "memokit_lru",
        ),
    ]


# ---------------------------------------------------------------- statistics and verdicts


@dataclass(frozen=True)
class Summary:
    """Median, minimum and spread of one cell's samples (ns per call)."""

    median: float
    min: float
    spread: float  # interquartile range / median
    samples: tuple[float, ...]  # in round order: samples[r] of two cells come from one round

    @classmethod
    def of(cls, samples: list[float]) -> Summary:
        median = statistics.median(samples)
        spread = 0.0
        if len(samples) >= 2 and median > 0:
            q1, _, q3 = statistics.quantiles(samples, n=4, method="inclusive")
            spread = (q3 - q1) / median
        return cls(median, min(samples), spread, tuple(samples))


def paired_ratio(mine: Summary, theirs: Summary) -> float:
    """The median over rounds of mine / theirs, each pair taken moments apart in one round.

    Noise that comes and goes between rounds (another job on the machine)
    cancels in each pair, so this is a steadier estimate than a ratio of medians.
    """
    return statistics.median(a / b for a, b in zip(mine.samples, theirs.samples, strict=True))


@dataclass(frozen=True)
class Verdict:
    """One target checked against the medians."""

    op: str
    row: str
    baseline: str
    kind: str  # "ratio": row / baseline <= limit; "speedup": baseline / row >= limit
    limit: float
    measured: float | None  # from medians; None when a row is unavailable
    measured_min: float | None  # the same computed from minimums, to show the noise
    measured_paired: float | None  # the median of per-round ratios (see paired_ratio)
    status: str  # PASS, FAIL or SKIP (informational lines: info)
    informational: bool
    note: str = ""


def judge(
    results: dict[str, dict[str, Summary]],
    op: str,
    row: str,
    baseline: str,
    kind: str,
    limit: float,
    *,
    informational: bool = False,
    note: str = "",
) -> Verdict:
    """Compute one verdict from the medians (and, for reference, from the minimums)."""
    mine, theirs = results.get(row, {}).get(op), results.get(baseline, {}).get(op)
    if mine is None or theirs is None:
        return Verdict(
            op, row, baseline, kind, limit, None, None, None, "SKIP", informational, note
        )
    if kind == "ratio":
        measured, measured_min = mine.median / theirs.median, mine.min / theirs.min
        paired = paired_ratio(mine, theirs)
        ok = measured <= limit
    else:
        measured, measured_min = theirs.median / mine.median, theirs.min / mine.min
        paired = paired_ratio(theirs, mine)
        ok = measured >= limit
    status = "info" if informational else ("PASS" if ok else "FAIL")
    return Verdict(
        op, row, baseline, kind, limit, measured, measured_min, paired, status, informational, note
    )


#: How much faster than cachetools and cachebox every configuration should be.
PEER_SPEEDUP = 5.0


def verdicts(results: dict[str, dict[str, Summary]]) -> list[Verdict]:
    """The speed targets (docs/performance.md), then informational comparisons."""
    # The compiled core's targets (issue 14): one argument 0.6x, two 1.0x; bounded
    # rows against lru_cache(maxsize=128), like for like; misses 1.5x.
    out: list[Verdict] = [
        judge(results, "hit_f", "memokit", REFERENCE, "ratio", 0.6),
        judge(results, "hit_g", "memokit", REFERENCE, "ratio", 1.0),
    ]
    for op, limit in (("hit_f", 0.8), ("hit_g", 1.0)):
        note = "like-for-like"
        out.append(judge(results, op, "memokit_lru128", LRU_REFERENCE, "ratio", limit, note=note))
    # Against the cache libraries: any configuration at least 5x faster (DESIGN.md).
    peers = (
        ("memokit", "cachetools"),
        ("memokit_lru128", "cachetools_lru128"),
        ("memokit", "cachebox"),
        ("memokit_lru128", "cachebox_lru128"),
    )
    for row, peer in peers:
        for op in ("hit_f", "hit_g", "miss_f", "miss_g"):
            out.append(judge(results, op, row, peer, "speedup", PEER_SPEEDUP))
    for op in ("miss_f", "miss_g"):
        out.append(judge(results, op, "memokit", REFERENCE, "ratio", 1.5))
        out.append(judge(results, op, "memokit_lru128", LRU_REFERENCE, "ratio", 1.5))
    # Informational: reported, not targets.
    for op in ("hit_f", "hit_g", "miss_f", "miss_g"):
        out.append(
            judge(results, op, "memokit_lru128", REFERENCE, "ratio", 1.5, informational=True)
        )
    return out


# ---------------------------------------------------------------- output


def ratio_text(value: float) -> str:
    return f"{value:.2f}{X}"


def grid(rows: list[list[str]]) -> list[str]:
    """Lay out rows of text: the first column left-aligned, the others right-aligned."""
    widths = [max(len(row[i]) if i < len(row) else 0 for row in rows) for i in range(len(rows[0]))]
    return [
        row[0].ljust(widths[0])
        + "".join("  " + t.rjust(w) for t, w in zip(row[1:], widths[1:], strict=False))
        for row in rows
    ]


def format_table(
    impls: list[Impl], results: dict[str, dict[str, Summary]], warnings: dict[str, str]
) -> list[str]:
    """The main table: median ns per call and ratios, one row per implementation."""
    ref = results[REFERENCE]
    lru_ref = results[LRU_REFERENCE]
    rows = [["median ns per call (ratio)"] + [OP_LABELS[op] for op in OPS]]
    for impl in impls:
        row = results.get(impl.id)
        if row is None:
            rows.append([impl.label, "not installed"])
            continue
        texts = [impl.label + (" !" if impl.id in warnings else "")]
        for op in OPS:
            med = row[op].median
            ratio = ratio_text(med / ref[op].median)
            if impl.lru:
                ratio += f" | {ratio_text(med / lru_ref[op].median)}"
            texts.append(f"{med:.1f} ({ratio})")
        rows.append(texts)
    return grid(rows)


def format_noise_table(impls: list[Impl], results: dict[str, dict[str, Summary]]) -> list[str]:
    """The minimums and the spread of the samples, to show how noisy the medians are."""
    rows = [["min ns per call (IQR/median)"] + [OP_LABELS[op] for op in OPS]]
    for impl in impls:
        row = results.get(impl.id)
        if row is not None:
            rows.append([impl.label] + [f"{row[op].min:.1f} ({row[op].spread:.0%})" for op in OPS])
    return grid(rows)


def describe_verdict(v: Verdict, short: dict[str, str]) -> str:
    """One line: status, what was compared, the measured figure and the target."""
    head = f"{v.status:<4}  {OP_LABELS[v.op]:<18}  {short[v.row]:<20}"
    if v.measured is None or v.measured_min is None or v.measured_paired is None:
        return f"{head}  not measured: {short[v.baseline]} is not installed"
    if v.kind == "ratio":
        got = f"{v.measured:.2f}{X} {short[v.baseline]}"
        goal = f"target {LE} {v.limit:.2f}{X}"
        others = f"paired {v.measured_paired:.2f}{X}, mins {v.measured_min:.2f}{X}"
    else:
        got = f"{v.measured:.1f}{X} faster than {short[v.baseline]}"
        goal = f"target {GE} {v.limit:.0f}{X}"
        others = f"paired {v.measured_paired:.1f}{X}, mins {v.measured_min:.1f}{X}"
    if v.note:
        goal += f", {v.note}"
    if v.informational:
        met = v.measured <= v.limit if v.kind == "ratio" else v.measured >= v.limit
        goal = f"{'meets' if met else 'misses'} the bar {goal[len('target ') :]}"
    return f"{head}  {got:<38} ({goal})  [{others}]"


# ---------------------------------------------------------------- main


@dataclass
class Config:
    repeats: int
    hit_sample_ms: float
    n_keys: int
    gc_enabled: bool
    quick: bool


# ---------------------------------------------------------------- async hits


def measure_async(config: Config) -> dict[str, Any] | None:
    """Median ns per awaited hit: memokit on an async def against async_lru.alru_cache.

    Both run in one event loop; samples alternate between the two so noise
    falls on both. Returns None when async-lru is not installed.
    """
    alru, _ = optional_import("async_lru")
    if alru is None:
        return None
    import asyncio

    async def work(n: int) -> int:
        return n

    contenders: dict[str, Any] = {
        "memokit memoize (async def)": memoize(work),
        "async_lru.alru_cache(maxsize=None)": alru.alru_cache(maxsize=None)(work),
    }
    loops = 2_000 if config.quick else 50_000

    async def sample(fn: Any) -> float:
        start = time.perf_counter_ns()
        for _ in range(loops):
            await fn(5)
        return (time.perf_counter_ns() - start) / loops

    async def run() -> dict[str, list[float]]:
        samples: dict[str, list[float]] = {name: [] for name in contenders}
        for fn in contenders.values():
            await fn(5)  # warm: the key is stored
        for _ in range(config.repeats):
            for name, fn in contenders.items():
                samples[name].append(await sample(fn))
        return samples

    samples = asyncio.run(run())
    medians = {name: statistics.median(v) for name, v in samples.items()}
    mine, peer = medians.values()
    return {"samples": samples, "medians": medians, "ratio": mine / peer, "loops": loops}


#: The async target (docs/performance.md): a hit at most a fifth of async-lru's.
ASYNC_LIMIT = 0.2


def print_async(result: dict[str, Any] | None) -> None:
    """Print the async section and its target (a fifth of async-lru's time, or less)."""
    print()
    if result is None:
        print("Async hits: async-lru not installed (pip install async-lru); not measured.")
        return
    print("Async hits (await f(5) on a stored key; one event loop; median ns per call):")
    for name, median in result["medians"].items():
        print(f"  {name:<38}{median:8.1f} ns")
    ratio = result["ratio"]
    verdict = "PASS" if ratio <= ASYNC_LIMIT else "FAIL"
    print(f"  {verdict}  memokit async hit {ratio:.2f}x async_lru's (target <= {ASYNC_LIMIT:.2f}x)")


def parse_args(argv: list[str] | None) -> tuple[Config, Path | None]:
    parser = argparse.ArgumentParser(
        description="Time memokit.memoize hits and misses against lru_cache, cachetools "
        "and cachebox in one process.",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="write raw samples and results")
    parser.add_argument(
        "--quick", action="store_true", help="few repeats, short samples (a smoke run, < 10 s)"
    )
    parser.add_argument("--repeats", type=int, metavar="K", help="samples per cell (default 21)")
    parser.add_argument(
        "--keys", type=int, metavar="N", help="distinct keys per miss sample (default 50000)"
    )
    parser.add_argument("--no-gc", action="store_true", help="disable GC while measuring")
    args = parser.parse_args(argv)
    repeats = args.repeats if args.repeats is not None else (3 if args.quick else 21)
    n_keys = args.keys if args.keys is not None else (1000 if args.quick else 50_000)
    if repeats < 1:
        parser.error("--repeats must be >= 1")
    if n_keys <= LRU_SIZE:
        parser.error(f"--keys must exceed {LRU_SIZE} so that LRU misses evict")
    config = Config(
        repeats=repeats,
        hit_sample_ms=2.0 if args.quick else 20.0,
        n_keys=n_keys,
        gc_enabled=not args.no_gc,
        quick=args.quick,
    )
    return config, args.json


def measure(cells: list[Cell], config: Config) -> None:
    """Calibrate, warm up, then take ``repeats`` interleaved rounds of samples."""
    target_ns = int(config.hit_sample_ms * 1e6)
    for cell in cells:
        if cell.fresh is None:
            cell.calibrate(target_ns)
    for cell in cells:  # warm-up round, discarded
        cell.sample()
    # One round = one sample of every cell. The cells of one column (operation)
    # run back to back, in a shuffled order, so the rows they compare are
    # measured moments apart; the columns' order is shuffled too.
    groups: dict[str, list[Cell]] = {}
    for cell in cells:
        groups.setdefault(cell.op, []).append(cell)
    blocks = list(groups.values())
    rng = random.Random(SEED)
    for _ in range(config.repeats):
        rng.shuffle(blocks)
        for block in blocks:
            rng.shuffle(block)
            for cell in block:
                cell.samples.append(cell.sample())


def main(argv: list[str] | None = None) -> int:
    config, json_path = parse_args(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):
        # The table's signs must not crash a run on a terminal that is not UTF-8.
        sys.stdout.reconfigure(errors="replace")
    started = time.perf_counter()
    impls, versions = build_impls()
    warnings = {i.id: w for i in impls if (w := check_caches(i))}

    cells: list[Cell] = []
    for impl in impls:
        if impl.decorate is None:
            continue
        cells.append(hit_cell(impl.id, "hit_f", impl.decorate(f)))
        cells.append(hit_cell(impl.id, "hit_g", impl.decorate(g)))
        cells.append(miss_cell(impl.id, "miss_f", impl.decorate, config.n_keys))
        cells.append(miss_cell(impl.id, "miss_g", impl.decorate, config.n_keys))
    extras = build_extras()
    extra_cells: dict[str, Cell] = {}
    for extra in extras:
        cell = Cell(extra.id, "hit", extra.stmt, dict(extra.namespace), calls_per_loop=1)
        cell.run(1)  # prime
        extra_cells[extra.id] = cell

    gc_was_enabled = gc.isenabled()
    gc.collect()
    if not config.gc_enabled:
        gc.disable()
    try:
        measure(cells + list(extra_cells.values()), config)
    finally:
        if gc_was_enabled:
            gc.enable()
    elapsed = time.perf_counter() - started

    results: dict[str, dict[str, Summary]] = {}
    for cell in cells:
        results.setdefault(cell.row, {})[cell.op] = Summary.of(cell.samples)
    extra_results = {eid: Summary.of(c.samples) for eid, c in extra_cells.items()}
    checks = verdicts(results)

    # ---- report
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    memokit_from = str(Path(memokit.__file__).resolve().parent)
    peers = ", ".join(f"{k} {v}" for k, v in sorted(versions.items())) or "no peers installed"
    hit_loops = sorted({c.loops for c in cells if c.fresh is None})
    print(f"bench_memoize  {now}")
    print(f"python    {sys.version}")
    print(f"platform  {platform.platform()}  ({os.cpu_count()} CPUs)")
    print(
        f"memokit   {memokit_version()} from {memokit_from} (source sha256 "
        f"{memokit_fingerprint()});  peers: {peers}"
    )
    print(
        f"GC {'enabled' if config.gc_enabled else 'DISABLED (--no-gc)'} during measurement;  "
        f"{config.repeats} repeats per cell, interleaved in shuffled order"
        f"{'  [--quick]' if config.quick else ''}"
    )
    print()
    for line in format_table(impls, results, warnings):
        print(line)
    print()
    print(
        f"  (a{X}) = median / median of functools.lru_cache(maxsize=None) in the same column "
        f"(lower is faster)."
    )
    print(
        f"  (a{X} | b{X}) on LRU-bounded rows: b{X} = median / median of "
        f"functools.lru_cache(maxsize={LRU_SIZE}), the like-for-like bounded peer."
    )
    print(
        f"  hit: one key, called over and over ({min(hit_loops)}-{max(hit_loops)} calls per "
        f"sample, >= {config.hit_sample_ms:g} ms each)."
    )
    print(
        f"  miss+insert: a fresh cache per sample, {config.n_keys} distinct keys "
        f"(LRU rows evict {config.n_keys - LRU_SIZE} of them); nothing subtracted: the plain "
        f"row is the loop floor."
    )
    if versions:
        print(
            "  peers use their decorators' defaults: cachetools.cached (hashkey, no lock), "
            "cachebox.cached (lock=True, postprocess=copy of mutables)."
        )
    for impl in impls:
        if impl.decorate is None:
            print(f"  {impl.label}: {impl.note}")
    for text in warnings.values():
        print(f"  ! WARNING {text}: its numbers do not measure a cache")
    print()
    for line in format_noise_table(impls, results):
        print(line)
    print()
    ref_hit = results[REFERENCE]["hit_f"].median
    print(
        "Extras, informational (hits; ratio a = vs lru_cache(maxsize=None) hit f(n); "
        "b = vs the lru_cache row named):"
    )
    extra_w = max(len(e.label) for e in extras) + 2
    for extra in extras:
        s = extra_results[extra.id]
        text = f"  {extra.label:<{extra_w}}{s.median:8.1f} ns  min {s.min:7.1f}  "
        text += f"a {ratio_text(s.median / ref_hit)}"
        if extra.peer is not None:
            text += f"  b {ratio_text(s.median / extra_results[extra.peer].median)}"
        print(text)
    # Issue 14's targets for these two shapes, judged on the b ratio of medians.
    for mine, peer, limit in (
        ("memokit_method", "lru_cache_method", 1.2),
        ("memokit_keyword", "lru_cache_keyword", 1.0),
    ):
        ratio = extra_results[mine].median / extra_results[peer].median
        verdict = "PASS" if ratio <= limit else "FAIL"
        print(f"  {verdict}  {mine} {ratio:.2f}x {peer} (target <= {limit:.2f}x)")
    print()
    print(
        "Targets (docs/performance.md). PASS/FAIL is judged on the ratio of "
        "medians;\n  [paired = median over rounds of the ratio of two samples taken moments "
        "apart; mins = ratio of minimums] show how firm it is."
    )
    for v in checks:
        if not v.informational:
            print("  " + describe_verdict(v, SHORT))
    print("Also reported, not targets:")
    for v in checks:
        if v.informational:
            print("  " + describe_verdict(v, SHORT))
    async_result = measure_async(config)
    print_async(async_result)
    judged = [v for v in checks if not v.informational and v.status != "SKIP"]
    passed = sum(v.status == "PASS" for v in judged)
    skipped = sum(v.status == "SKIP" for v in checks if not v.informational)
    print(
        f"Summary: {passed}/{len(judged)} targets PASS"
        + (f", {skipped} not measured (peer missing)" if skipped else "")
        + f";  run took {elapsed:.1f} s"
    )

    if json_path is not None:
        write_json(
            json_path,
            config,
            impls,
            versions,
            cells,
            extra_cells,
            extras,
            results,
            extra_results,
            checks,
            warnings,
            now,
            elapsed,
        )
        document = json.loads(json_path.read_text())
        document["async"] = async_result
        json_path.write_text(json.dumps(document, indent=1))
        print(f"JSON written to {json_path}")
    return 0


def write_json(
    path: Path,
    config: Config,
    impls: list[Impl],
    versions: dict[str, str],
    cells: list[Cell],
    extra_cells: dict[str, Cell],
    extras: list[Extra],
    results: dict[str, dict[str, Summary]],
    extra_results: dict[str, Summary],
    checks: list[Verdict],
    warnings: dict[str, str],
    now: str,
    elapsed: float,
) -> None:
    """Write every raw sample, the summaries, the ratios and the verdicts."""
    by_key = {(c.row, c.op): c for c in cells}
    rows: dict[str, Any] = {}
    for impl in impls:
        entry: dict[str, Any] = {
            "label": impl.label,
            "available": impl.decorate is not None,
            "note": impl.note,
            "lru": impl.lru,
            "warning": warnings.get(impl.id, ""),
            "ops": {},
        }
        for op in OPS if impl.id in results else ():
            cell, s = by_key[impl.id, op], results[impl.id][op]
            entry["ops"][op] = {
                "samples_ns": cell.samples,
                "median_ns": s.median,
                "min_ns": s.min,
                "iqr_over_median": s.spread,
                "calls_per_sample": cell.loops * cell.calls_per_loop,
                "ratio_vs_lru_cache": s.median / results[REFERENCE][op].median,
                "ratio_vs_lru_cache_128": (
                    s.median / results[LRU_REFERENCE][op].median if impl.lru else None
                ),
            }
        rows[impl.id] = entry
    data = {
        "meta": {
            "date": now,
            "python": sys.version,
            "implementation": platform.python_implementation(),
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "memokit_version": memokit_version(),
            "memokit_path": str(Path(memokit.__file__).resolve().parent),
            "memokit_source_sha256_12": memokit_fingerprint(),
            "peer_versions": versions,
            "gc_enabled": config.gc_enabled,
            "elapsed_s": elapsed,
        },
        "config": {
            "repeats": config.repeats,
            "quick": config.quick,
            "hit_sample_ms": config.hit_sample_ms,
            "miss_keys": config.n_keys,
            "lru_maxsize": LRU_SIZE,
            "reference": REFERENCE,
            "lru_reference": LRU_REFERENCE,
        },
        "operations": OP_LABELS,
        "implementations": rows,
        "extras": {
            e.id: {
                "label": e.label,
                "peer": e.peer,
                "samples_ns": extra_cells[e.id].samples,
                "median_ns": extra_results[e.id].median,
                "min_ns": extra_results[e.id].min,
                "ratio_vs_lru_cache_hit_f": (
                    extra_results[e.id].median / results[REFERENCE]["hit_f"].median
                ),
            }
            for e in extras
        },
        "verdicts": [
            {
                "operation": v.op,
                "row": v.row,
                "baseline": v.baseline,
                "kind": v.kind,
                "limit": v.limit,
                "measured": v.measured,
                "measured_from_mins": v.measured_min,
                "measured_paired": v.measured_paired,
                "status": v.status,
                "informational": v.informational,
                "note": v.note,
            }
            for v in checks
        ],
    }
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
