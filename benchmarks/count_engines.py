"""Count the instructions the engines spend per call, with ``valgrind --tool=callgrind``.

Wall-clock timings move with whatever else the machine runs; instruction
counts do not, so they are how the engines' hot paths are compared between
two versions of the code. For each case this script runs itself twice under
callgrind, once doing N operations and once doing none (same imports, same
set-up), and prints the difference divided by N: the instructions of one
operation, the loop that issues it included.

Cases:

* ``memoize-hit-f``, ``memoize-hit-g``, ``memoize-hit-lru``, ``memoize-hit-method``:
  a hit of ``f(5)``, ``g(5, "s")``, ``f(5)`` under ``maxsize=128``, and
  ``obj.m(5)`` on a memoized method;
* ``memoize-miss-f``, ``memoize-miss-lru``: a miss that inserts a new key
  (into a dict store; into a full ``maxsize=128`` store, which evicts);
* ``memoize-hit-keyword``: a hit of ``f(x=5)``, a keyword call;
* ``memoize-hit-f-unannotated``, ``memoize-hit-g-unannotated``: the hits above
  for functions whose parameters have no annotation, so that each call checks
  its key's type (``memokit._hashed``); ``memoize-hit-object``: a hit whose
  key is an object with a ``__hash__`` of its own, wrapped with its hash;
* ``memoize-hit-ttl``, ``memoize-hit-lru-ttl``, ``memoize-hit-lru-sizeof``,
  ``memoize-miss-ttl``, ``memoize-miss-lru-sizeof``: the hits and misses
  above with ``ttl=3600`` or ``sizeof=``, to show what each option adds;
* ``dp-fib``: one sub-problem of a cold ``fib(N)`` under ``@dp``;
* ``dp-hit``: a hit of ``fib(5)`` called from plain code;
* ``dag-chain``, ``dag-hit``: one node of a cold chain under
  ``DagEvaluator``; ``evaluate`` of a stored node;
* ``plain-call``: an undecorated ``f(5)`` (the loop's own cost);
* ``lru_cache-hit-f``, ``lru_cache-hit-g``, ``lru_cache-hit-lru``,
  ``lru_cache-hit-method``, ``lru_cache-hit-keyword``, ``lru_cache-miss-f``,
  ``lru_cache-miss-lru``: the anchors, ``functools.lru_cache`` doing what the
  ``memoize-`` case of the same name does.

memokit runs its compiled core when it is built; ``MEMOKIT_NO_EXTENSIONS=1``
counts the Python reference (the header line says which ran).

``--alternatives`` counts, instead, the designs the engines chose against
(``docs/performance.md``, "Why the engines look the way they do"), each next
to the case it is compared with:

* ``alt-varargs-hit``: a hit through a ``def wrapper(*args, **kwargs)`` that
  builds a functools-style key (against ``memoize-hit-f``);
* ``alt-cells-hit``: the generated wrapper written with its helpers in
  closure cells instead of globals (against ``memoize-hit-f``);
* ``lookup-in-hit``, ``lookup-get-hit``, ``lookup-try-hit`` and their
  ``-miss`` twins: ``key in d`` then ``d[key]``, ``d.get(key, MISSING)``, and
  ``d[key]`` under ``try``/``except KeyError``;
* ``alt-get-hit-f``, ``alt-get-miss-f``: memoize's generated wrapper with its
  ``in``/``[]`` lookup replaced by ``get`` (against ``memoize-hit-f`` and
  ``memoize-miss-f``);
* ``recursion-after-try-D``, ``recursion-in-except-D``: one level of a cold
  memoized recursion D levels deep, computing the miss after the ``try``
  statement or inside ``except KeyError:`` (D = 1,000 and 4,000);
* ``lru-set``, ``alt-lru-set-with``: ``LRUStore.set`` of new keys, its lock
  taken with ``acquire()``/``release()`` or with a ``with`` block;
* ``dp-fib-1000``, ``alt-dp-fib-1000-direct``: one sub-problem of cold
  ``fib(1000)`` runs, frames resumed through trampolines or driven directly
  (every frame's return then raises ``StopIteration``).

Usage::

    python benchmarks/count_engines.py                  # every case, N = 100,000
    python benchmarks/count_engines.py dp-fib -n 200000
    python benchmarks/count_engines.py --alternatives   # the rejected designs
    python benchmarks/count_engines.py --run memoize-hit-f 1000   # one bare run (no valgrind)
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Generator, Hashable
from pathlib import Path
from typing import Any

# Measure the working tree's memokit, not an installed copy.
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import memokit  # noqa: E402

MOD = 1_000_000_007


def _memoize_hit_f(n: int) -> None:
    @memokit.memoize
    def f(x: int) -> int:
        return x

    f(5)
    for _ in range(n):
        f(5)


def _memoize_hit_g(n: int) -> None:
    @memokit.memoize
    def g(x: int, s: str) -> int:
        return x

    g(5, "s")
    for _ in range(n):
        g(5, "s")


def _memoize_hit_lru(n: int) -> None:
    @memokit.memoize(maxsize=128)
    def f(x: int) -> int:
        return x

    f(5)
    for _ in range(n):
        f(5)


class _Obj:
    @memokit.memoize
    def m(self, x: int) -> int:
        return x


def _memoize_hit_method(n: int) -> None:
    obj = _Obj()
    obj.m(5)
    for _ in range(n):
        obj.m(5)


def _memoize_miss_f(n: int) -> None:
    @memokit.memoize
    def f(x: int) -> int:
        return x

    for i in range(n):
        f(i)


def _memoize_miss_lru(n: int) -> None:
    @memokit.memoize(maxsize=128)
    def f(x: int) -> int:
        return x

    for i in range(n):
        f(i)


def _memoize_hit_keyword(n: int) -> None:
    @memokit.memoize
    def f(x: int) -> int:
        return x

    f(x=5)
    for _ in range(n):
        f(x=5)


def _unannotated_f(x):  # type: ignore[no-untyped-def]
    return x


def _unannotated_g(x, s):  # type: ignore[no-untyped-def]
    return x


def _memoize_hit_f_unannotated(n: int) -> None:
    f = memokit.memoize(_unannotated_f)
    f(5)
    for _ in range(n):
        f(5)


def _memoize_hit_g_unannotated(n: int) -> None:
    g = memokit.memoize(_unannotated_g)
    g(5, "s")
    for _ in range(n):
        g(5, "s")


class _Key:
    """A key with a __hash__ of its own (as a frozen dataclass has)."""

    __slots__ = ("v",)

    def __init__(self, v: int) -> None:
        self.v = v

    def __hash__(self) -> int:
        return self.v

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Key) and other.v == self.v


def _memoize_hit_object(n: int) -> None:
    f = memokit.memoize(_unannotated_f)
    key = _Key(5)
    f(key)
    for _ in range(n):
        f(key)


def _hits(decorate: Callable[[Callable[[int], int]], Any]) -> Callable[[int], None]:
    def run(n: int) -> None:
        def f(x: int) -> int:
            return x

        cached = decorate(f)
        cached(5)
        for _ in range(n):
            cached(5)

    return run


def _misses(decorate: Callable[[Callable[[int], int]], Any]) -> Callable[[int], None]:
    def run(n: int) -> None:
        def f(x: int) -> int:
            return x

        cached = decorate(f)
        for i in range(n):
            cached(i)

    return run


_TTL = memokit.memoize(ttl=3600)
_LRU_TTL = memokit.memoize(maxsize=128, ttl=3600)
_LRU_SIZEOF = memokit.memoize(maxsize=128, sizeof=lambda value: 1)


@memokit.dp
def _fib(k: int) -> Generator[int, int, int]:
    if k < 2:
        return k
    a = yield _fib(k - 1)
    b = yield _fib(k - 2)
    return (a + b) % MOD


def _dp_fib(n: int) -> None:
    if n:
        _fib(n)


def _dp_hit(n: int) -> None:
    _fib(5)
    for _ in range(n):
        _fib(5)


class _Node:
    __slots__ = ("inputs",)

    def __init__(self, *inputs: _Node) -> None:
        self.inputs = inputs


def _chain(n: int) -> _Node:
    node = _Node()
    for _ in range(n):
        node = _Node(node)
    return node


def _dag_chain(n: int) -> None:
    top = _chain(n)
    ev: memokit.DagEvaluator[_Node, int] = memokit.DagEvaluator(
        inputs=lambda node: node.inputs, compute=lambda node, values: 1 + sum(values)
    )
    if n:
        ev.evaluate(top)


def _dag_hit(n: int) -> None:
    leaf = _Node()
    ev: memokit.DagEvaluator[_Node, int] = memokit.DagEvaluator(
        inputs=lambda node: node.inputs, compute=lambda node, values: 1
    )
    ev.evaluate(leaf)
    for _ in range(n):
        ev.evaluate(leaf)


def _plain_call(n: int) -> None:
    def f(x: int) -> int:
        return x

    f(5)
    for _ in range(n):
        f(5)



def _lru_cache(call: str, maxsize: int | None = None) -> Callable[[int], None]:
    """functools.lru_cache doing what the memoize case named like ``call`` does."""

    def run(n: int) -> None:
        @functools.lru_cache(maxsize=maxsize)
        def f(x: int) -> int:
            return x

        @functools.lru_cache(maxsize=maxsize)
        def g(x: int, s: str) -> int:
            return x

        class Obj:
            @functools.lru_cache(maxsize=maxsize)  # noqa: B019 - the anchor, as users write it
            def m(self, x: int) -> int:
                return x

        obj = Obj()
        f(5), g(5, "s"), obj.m(5), f(x=5)
        if call == "f":
            for _ in range(n):
                f(5)
        elif call == "g":
            for _ in range(n):
                g(5, "s")
        elif call == "method":
            for _ in range(n):
                obj.m(5)
        elif call == "keyword":
            for _ in range(n):
                f(x=5)
        else:
            for i in range(n):
                f(i)

    return run


CASES: dict[str, Callable[[int], None]] = {
    "plain-call": _plain_call,
    "memoize-hit-f": _memoize_hit_f,
    "memoize-hit-g": _memoize_hit_g,
    "memoize-hit-lru": _memoize_hit_lru,
    "memoize-hit-method": _memoize_hit_method,
    "memoize-miss-f": _memoize_miss_f,
    "memoize-miss-lru": _memoize_miss_lru,
    "memoize-hit-keyword": _memoize_hit_keyword,
    "memoize-hit-f-unannotated": _memoize_hit_f_unannotated,
    "memoize-hit-g-unannotated": _memoize_hit_g_unannotated,
    "memoize-hit-object": _memoize_hit_object,
    "memoize-hit-ttl": _hits(_TTL),
    "memoize-hit-lru-ttl": _hits(_LRU_TTL),
    "memoize-hit-lru-sizeof": _hits(_LRU_SIZEOF),
    "memoize-miss-ttl": _misses(_TTL),
    "memoize-miss-lru-sizeof": _misses(_LRU_SIZEOF),
    "dp-fib": _dp_fib,
    "dp-hit": _dp_hit,
    "dag-chain": _dag_chain,
    "dag-hit": _dag_hit,
    "lru_cache-hit-f": _lru_cache("f"),
    "lru_cache-hit-g": _lru_cache("g"),
    "lru_cache-hit-lru": _lru_cache("f", 128),
    "lru_cache-hit-method": _lru_cache("method"),
    "lru_cache-hit-keyword": _lru_cache("keyword"),
    "lru_cache-miss-f": _lru_cache("miss"),
    "lru_cache-miss-lru": _lru_cache("miss", 128),
}

# ---------------------------------------------------------------- rejected designs

_MISSING = object()


def _alt_varargs_hit(n: int) -> None:
    from memokit._keys import make_key

    table: dict[Any, Any] = {}
    hits = 0

    def f(*args: Any, **kwargs: Any) -> Any:
        nonlocal hits
        key = make_key(args, kwargs, False)
        value = table.get(key, _MISSING)
        if value is not _MISSING:
            hits += 1
            return value
        value = table[key] = args[0]
        return value

    f(5)
    for _ in range(n):
        f(5)


def _alt_cells_hit(n: int) -> None:
    f = _cells_wrapper()
    f(5)
    for _ in range(n):
        f(5)


def _cells_wrapper() -> Callable[[int], int]:
    # memoize's generated wrapper for f(n) over a dict store, with every
    # helper a closure variable (the miss path reads them all).
    import threading

    from memokit._flight import PENDING, FlightTable

    table: dict[Any, Any] = {}
    table_get = table.get
    flights = FlightTable()
    claim, retire, wake = flights.flights.setdefault, flights.flights.pop, flights.wake
    ident = threading.get_ident
    hits = misses = 0

    def check(values: Any) -> None:
        pass

    def contended(key: Any, packed: Any) -> Any:
        raise AssertionError

    def pack(*args: Any, **kwargs: Any) -> Any:
        return args, kwargs

    def fail(key: Any, flight: Any, error: Any) -> None:
        pass

    def function(x: int) -> int:
        return x

    length = len
    missing = _MISSING

    def f(n: int) -> int:
        nonlocal hits, misses
        try:
            if n in table:
                value: int = table[n]
                hits += 1
                return value
        except KeyError:
            pass
        except TypeError:
            check((n,))
            raise
        misses += 1
        flight = [ident(), PENDING]
        if claim(n, flight) is not flight:
            return contended(n, pack(n))  # type: ignore[no-any-return]
        value = table_get(n, missing)
        if value is missing:
            try:
                value = function(n)
                table[n] = value
            except BaseException as error:
                fail(n, flight, error)
                raise
        flight[1] = value
        retire(n, None)
        if length(flight) > 2:
            wake(flight)
        return value

    return f


_IN_LOOKUP = """\
        try:
            if x in _mk_table:
                _mk_value = _mk_table[x]
                _mk_hits += 1
                return _mk_value
        except KeyError:  # deleted by another thread between the two lookups: a miss
            pass
"""
_GET_LOOKUP = """\
        try:
            _mk_value = _mk_table_get(x, _mk_MISSING)
            if _mk_value is not _mk_MISSING:
                _mk_hits += 1
                return _mk_value
"""


def _get_wrapper() -> Callable[[int], int]:
    """memoize's generated (Python) wrapper for f(x) over a dict store, its lookup done with get."""
    import linecache

    from memokit import _callthrough

    compiled, _callthrough.COMPILED = _callthrough.COMPILED, None  # the generated source
    try:

        @memokit.memoize
        def f(x: int) -> int:
            return x

    finally:
        _callthrough.COMPILED = compiled

    code = f.__code__  # type: ignore[attr-defined]
    source = "".join(linecache.getlines(code.co_filename))
    if _IN_LOOKUP not in source:
        raise RuntimeError("the generated lookup changed: update _IN_LOOKUP")
    namespace = dict(f.__globals__)  # type: ignore[attr-defined]
    exec(compile(source.replace(_IN_LOOKUP, _GET_LOOKUP), "<get variant>", "exec"), namespace)
    wrapper: Callable[[int], int] = namespace["_mk_make"]()[0]
    return wrapper


def _alt_get_hit(n: int) -> None:
    f = _get_wrapper()
    f(5)
    for _ in range(n):
        f(5)


def _alt_get_miss(n: int) -> None:
    f = _get_wrapper()
    for i in range(n):
        f(i)


_TABLE: dict[int, int] = {5: 5}


def _lookup_in(key: int) -> Any:
    if key in _TABLE:
        return _TABLE[key]
    return _MISSING


def _lookup_get(key: int) -> Any:
    return _TABLE.get(key, _MISSING)


def _lookup_try(key: int) -> Any:
    try:
        return _TABLE[key]
    except KeyError:
        return _MISSING


def _lookups(lookup: Callable[[int], Any], key: int) -> Callable[[int], None]:
    def run(n: int) -> None:
        for _ in range(n):
            lookup(key)

    return run


def _recursion(depth: int, in_except: bool) -> Callable[[int], None]:
    table: dict[int, int] = {}

    def after_try(k: int) -> int:
        try:
            return table[k]
        except KeyError:
            pass
        value = table[k] = 0 if k == 0 else after_try(k - 1) + 1
        return value

    def inside_except(k: int) -> int:
        try:
            return table[k]
        except KeyError:
            value = table[k] = 0 if k == 0 else inside_except(k - 1) + 1
            return value

    level = inside_except if in_except else after_try

    def run(n: int) -> None:
        sys.setrecursionlimit(max(sys.getrecursionlimit(), depth + 100))
        for _ in range(n // depth):
            table.clear()
            level(depth - 1)

    return run


class _WithLockLRU(memokit.LRUStore[Any]):
    """LRUStore.set written with a with block."""

    __slots__ = ()

    def set(self, key: Hashable, value: Any) -> None:
        with self._lock:
            data = self._data
            if key in data:
                data[key] = value
                data.move_to_end(key)
            elif self._maxsize:
                if len(data) >= self._maxsize:
                    data.popitem(False)
                    self._evictions += 1
                data[key] = value


def _lru_set(store: memokit.LRUStore[Any]) -> Callable[[int], None]:
    def run(n: int) -> None:
        for i in range(n):
            store.set(i, i)

    return run


def _dp_fib_1000(direct: bool) -> Callable[[int], None]:
    def run(n: int) -> None:
        if direct:
            from memokit import _dp_engine

            _dp_engine._state.pool.clear()
            _dp_engine._state.spare = 0
        for _ in range(n // 1001):
            _fib.cache_clear()
            _fib(1000)

    return run


ALTERNATIVES: dict[str, Callable[[int], None]] = {
    "memoize-hit-f": _memoize_hit_f,
    "alt-varargs-hit": _alt_varargs_hit,
    "alt-cells-hit": _alt_cells_hit,
    "lookup-in-hit": _lookups(_lookup_in, 5),
    "lookup-get-hit": _lookups(_lookup_get, 5),
    "lookup-try-hit": _lookups(_lookup_try, 5),
    "lookup-in-miss": _lookups(_lookup_in, 6),
    "lookup-get-miss": _lookups(_lookup_get, 6),
    "lookup-try-miss": _lookups(_lookup_try, 6),
    "memoize-miss-f": _memoize_miss_f,
    "alt-get-hit-f": _alt_get_hit,
    "alt-get-miss-f": _alt_get_miss,
    "recursion-after-try-1000": _recursion(1000, in_except=False),
    "recursion-in-except-1000": _recursion(1000, in_except=True),
    "recursion-after-try-4000": _recursion(4000, in_except=False),
    "recursion-in-except-4000": _recursion(4000, in_except=True),
    "lru-set": _lru_set(memokit.LRUStore(128)),
    "alt-lru-set-with": _lru_set(_WithLockLRU(128)),
    "dp-fib-1000": _dp_fib_1000(direct=False),
    "alt-dp-fib-1000-direct": _dp_fib_1000(direct=True),
}

_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


def _instructions(case: str, n: int) -> int:
    """Instructions callgrind counts for one run of ``case`` with ``n`` operations."""
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        __file__,
        "--run",
        case,
        str(n),
    ]
    # A fixed hash seed: with a random one, dict layouts (and so the counts) vary a little.
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    result = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    found = _COLLECTED.search(result.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count in callgrind's output:\n{result.stderr}")
    return int(found.group(1))


def main(argv: list[str] | None = None) -> int:
    """Run the cases under callgrind and print instructions per operation."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cases", nargs="*", help=f"cases to count (default: all): {list(CASES)}")
    parser.add_argument("-n", type=int, default=100_000, help="operations per counted run")
    parser.add_argument(
        "--alternatives", action="store_true", help="count the rejected designs instead"
    )
    parser.add_argument("--run", nargs=2, metavar=("CASE", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    known = {**CASES, **ALTERNATIVES}
    if args.run:
        known[args.run[0]](int(args.run[1]))
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed: apt-get install valgrind", file=sys.stderr)
        return 1
    unknown = [c for c in args.cases if c not in known]
    if unknown:
        parser.error(f"unknown case(s) {unknown}; choose from {list(known)}")
    print(
        f"Python {sys.version.split()[0]}, memokit {memokit.IMPLEMENTATION}; "
        f"instructions per operation, N = {args.n:,}"
    )
    for case in args.cases or list(ALTERNATIVES if args.alternatives else CASES):
        per_call = (_instructions(case, args.n) - _instructions(case, 0)) / args.n
        print(f"  {case:<20} {per_call:10,.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
