"""The generated wrappers: their exact text per kind of store, linecache, tracebacks, pdb.

The expected sources below are written out by hand: they are what a reader
of a traceback or a pdb session sees, so they are pinned as text. A change
to the generator shows up here as a diff to read. The generated wrapper is
the reference implementation, so every test here makes its caches with it
even when the compiled core is live (tests/test_memoize_compiled.py covers
what the compiled wrapper shows instead).
"""

from __future__ import annotations

import asyncio
import inspect
import io
import linecache
import pdb
import sys
import traceback
from collections.abc import Callable, Generator, Hashable
from typing import Any, cast

import pytest

import memokit._codegen
from memokit import MISSING, DictStore, LRUStore, dp, memoize
from memokit._compile import compile_source

pytestmark = pytest.mark.usefixtures("python_wrappers")

# ---------------------------------------------------------------- stores of each kind


class ProtocolStore:
    """A store written against the Store protocol alone: the generic path."""

    def __init__(self) -> None:
        self.entries: dict[Hashable, Any] = {}

    @property
    def maxsize(self) -> int | None:
        return None

    @property
    def evictions(self) -> int:
        return 0

    def get(self, key: Hashable) -> Any:
        return self.entries.get(key, MISSING)

    def set(self, key: Hashable, value: Any) -> None:
        self.entries[key] = value

    def delete(self, key: Hashable) -> bool:
        return self.entries.pop(key, MISSING) is not MISSING

    def clear(self) -> None:
        self.entries.clear()

    def __len__(self) -> int:
        return len(self.entries)


class SharedStore(ProtocolStore):
    """A store with get_or_compute, as the persistent stores have: the shared path."""

    def __init__(self) -> None:
        super().__init__()
        self.computed: list[Hashable] = []

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        value = self.get(key)
        if value is MISSING:
            self.computed.append(key)
            value = compute()
            self.set(key, value)
        return value


@pytest.fixture
def generated_dp(monkeypatch: pytest.MonkeyPatch) -> None:
    """dp functions decorated in the test get the generated wrapper (not the compiled one)."""
    monkeypatch.setattr(memokit._dp, "_front", None)


#: How dp functions decorated in a test are wrapped: the generated Python code,
#: and the compiled front end where it is live (it has no Python frame of its own).
DP_WRAPPERS = ["generated", "compiled"]


@pytest.fixture(params=DP_WRAPPERS)
def dp_wrapper(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test with dp functions wrapped one way: "generated" or "compiled"."""
    name: str = request.param
    if name == "generated":
        monkeypatch.setattr(memokit._dp, "_front", None)
    elif memokit._dp._front is None:
        pytest.skip("the compiled dp front end is not live here")
    return name


def code_of(wrapped: object) -> Any:
    """The code object of a generated wrapper (mypy does not see __code__ on the protocols)."""
    return cast(Any, wrapped).__code__


def wrapper_text(wrapped: Any) -> str:
    """The generated wrapper function's source, as linecache (and so pdb) holds it."""
    return inspect.getsource(wrapped.__code__)


# ---------------------------------------------------------------- pinned sources

DICT_SOURCE = """\
def _mk_make():
    _mk_hits = 0
    _mk_misses = 0

    def fib(n):
        nonlocal _mk_hits, _mk_misses
        try:
            if n in _mk_table:
                _mk_value = _mk_table[n]
                _mk_hits += 1
                return _mk_value
        except KeyError:  # deleted by another thread between the two lookups: a miss
            pass
        except TypeError:
            _mk_check((n,))
            raise
        # A miss. It runs here, after the try statement: in an except clause, each
        # pending exception would chain to the next as __context__, and a deep
        # recursion would go quadratic.
        # Single flight: the first thread to miss a key claims it and computes.
        _mk_flight = [_mk_ident(), _mk_PENDING]
        if _mk_claim(n, _mk_flight) is not _mk_flight:
            # Another thread is computing this key: wait for its outcome (a hit).
            return _mk_contended(n, _mk_pack(n))
        # Another thread may have stored the value since our lookup.
        _mk_value = _mk_table_get(n, _mk_MISSING)
        if _mk_value is _mk_MISSING:
            _mk_misses += 1
            try:
                _mk_value = _mk_function(n)
                _mk_table[n] = _mk_value
            except BaseException as _mk_error:
                _mk_fail(n, _mk_flight, _mk_error)
                raise
        else:
            _mk_hits += 1
        # Publish, retire, then wake the waiters: the order memokit._flight relies on.
        _mk_flight[1] = _mk_value
        _mk_retire(n, None)
        if _mk_len(_mk_flight) > 2:  # not len(): a parameter may be named so
            _mk_wake(_mk_flight)
        return _mk_value

    def _mk_counts(reset):
        nonlocal _mk_hits, _mk_misses
        counts = _mk_hits, _mk_misses
        if reset:
            _mk_hits = _mk_misses = 0
        return counts

    def _mk_tally(hits, misses):
        nonlocal _mk_hits, _mk_misses
        _mk_hits += hits
        _mk_misses += misses

    return fib, _mk_counts, _mk_tally


def _mk_key_of(n):
    # The key of a call, for cache_invalidate: hashed here, since a store
    # need not hash a key to find that it is absent.
    try:
        _mk_hash(n)
    except TypeError:
        _mk_check((n,))
        raise
    return n
"""

# Each wrapper below is the `def` inside _mk_make(); the rest is as above.
_MISS_COMMENT = """\
        # A miss. It runs here, after the try statement: in an except clause, each
        # pending exception would chain to the next as __context__, and a deep
        # recursion would go quadratic.
"""
_PUBLISH = """\
        # Publish, retire, then wake the waiters: the order memokit._flight relies on.
        _mk_flight[1] = _mk_value
        _mk_retire(_mk_key, None)
        if _mk_len(_mk_flight) > 2:  # not len(): a parameter may be named so
            _mk_wake(_mk_flight)
        return _mk_value
"""

LRU_WRAPPER = (
    """\
    def g(n, s):
        nonlocal _mk_hits, _mk_misses
        _mk_key = (n, s)
        try:
            _mk_value = _mk_table_get(_mk_key, _mk_MISSING)
            if _mk_value is not _mk_MISSING:
                _mk_touch(_mk_key)
                _mk_hits += 1
                return _mk_value
        except KeyError:  # evicted by another thread before the touch: a miss
            pass
        except TypeError:
            _mk_check((n, s))
            raise
"""
    + _MISS_COMMENT
    + """\
        # Single flight: the first thread to miss a key claims it and computes.
        _mk_flight = [_mk_ident(), _mk_PENDING]
        if _mk_claim(_mk_key, _mk_flight) is not _mk_flight:
            # Another thread is computing this key: wait for its outcome (a hit).
            return _mk_contended(_mk_key, _mk_pack(n, s))
        # Another thread may have stored the value since our lookup.
        _mk_value = _mk_table_get(_mk_key, _mk_MISSING)
        if _mk_value is _mk_MISSING:
            _mk_misses += 1
            try:
                _mk_value = _mk_function(n, s)
                _mk_put(_mk_key, _mk_value)
            except BaseException as _mk_error:
                _mk_fail(_mk_key, _mk_flight, _mk_error)
                raise
        else:
            _mk_hits += 1
"""
    + _PUBLISH
)

GENERIC_WRAPPER = (
    """\
    def fib(n):
        nonlocal _mk_hits, _mk_misses
        try:
            _mk_value = _mk_read(n)
            if _mk_value is not _mk_MISSING:
                _mk_hits += 1
                return _mk_value
        except TypeError:
            _mk_check((n,))
            raise
"""
    + _MISS_COMMENT
    + """\
        # Single flight: the first thread to miss a key claims it and computes.
        _mk_flight = [_mk_ident(), _mk_PENDING]
        if _mk_claim(n, _mk_flight) is not _mk_flight:
            # Another thread is computing this key: wait for its outcome (a hit).
            return _mk_contended(n, _mk_pack(n))
        # Another thread may have stored the value since our lookup.
        _mk_value = _mk_read(n)
        if _mk_value is _mk_MISSING:
            _mk_misses += 1
            try:
                _mk_value = _mk_function(n)
                _mk_put(n, _mk_value)
            except BaseException as _mk_error:
                _mk_fail(n, _mk_flight, _mk_error)
                raise
        else:
            _mk_hits += 1
"""
    + _PUBLISH.replace("_mk_key", "n")
)

SHARED_WRAPPER = (
    GENERIC_WRAPPER.split("        # Another thread may have stored")[0]
    + """\
        # The store looks the key up again, runs single flight between
        # processes and stores the value itself (get_or_compute); shared
        # counts a hit or a miss.
        try:
            _mk_value = _mk_shared(n, _mk_pack(n))
        except BaseException as _mk_error:
            _mk_fail(n, _mk_flight, _mk_error)
            raise
"""
    + _PUBLISH.replace("_mk_key", "n")
)

ASYNC_WRAPPER = (
    """\
    async def fib(n):
        nonlocal _mk_hits, _mk_misses
        try:
            if n in _mk_table:
                _mk_value = _mk_table[n]
                _mk_hits += 1
                return _mk_value
        except KeyError:  # deleted by another thread between the two lookups: a miss
            pass
        except TypeError:
            _mk_check((n,))
            raise
"""
    + _MISS_COMMENT
    + """\
        # One task per key and event loop computes it; amiss counts a hit or a miss.
        return await _mk_amiss(n, _mk_pack(n))
"""
)

# A parameter without a plain annotation: the key is made canonical first
# (memokit._hashed), then looked up with get (one hash, whatever its type).
CANONICAL_HEAD = """\
    def f(n):
        nonlocal _mk_hits, _mk_misses
        try:
            # As the store keeps it: wrapped with its hash unless hashing it is free.
            if _mk_type(n) in _mk_plain:
                _mk_key = n
            elif _mk_type(n) in _mk_wrapped:
                _mk_key = _mk_HashedKey((n,))
            else:  # a type not met before, or a tuple
                _mk_key = _mk_hashed(n)
        except TypeError:
            _mk_check((n,))
            raise
        try:
            _mk_value = _mk_table_get(_mk_key, _mk_MISSING)
            if _mk_value is not _mk_MISSING:
                _mk_hits += 1
                return _mk_value
        except TypeError:
            _mk_check((n,))
            raise
"""

# ttl= on an LRU store, for g(n: int, s) (only s is checked): each entry is
# (value, deadline), so a hit reads the clock once.
EXPIRING_LRU_HEAD = """\
    def g(n, s):
        nonlocal _mk_hits, _mk_misses
        _mk_key = (n, s)
        try:
            # As the store keeps it: wrapped with its hash unless hashing it is free.
            if not (_mk_type(s) in _mk_plain):
                _mk_key = _mk_hashed_tuple(_mk_key)
        except TypeError:
            _mk_check((n, s))
            raise
        try:
            _mk_entry = _mk_table_get(_mk_key, _mk_MISSING)
            if _mk_entry is not _mk_MISSING:
                # An entry is (value, deadline): live while the deadline is ahead.
                if _mk_entry[1] > _mk_clock():
                    _mk_touch(_mk_key)
                    _mk_hits += 1
                    return _mk_entry[0]
                _mk_expire(_mk_key, _mk_entry)  # dropped and counted: a miss
        except KeyError:  # evicted by another thread before the touch: a miss
            pass
        except TypeError:
            _mk_check((n, s))
            raise
"""
# ... and its miss path reads the store again through read(), which checks expiry.
EXPIRING_REREAD = """\
        # Another thread may have stored the value since our lookup.
        _mk_value = _mk_read(_mk_key)
        if _mk_value is _mk_MISSING:
            _mk_misses += 1
            try:
                _mk_value = _mk_function(n, s)
                _mk_put(_mk_key, _mk_value)
"""

METHOD_WRAPPER_HEAD = """\
    def scaled(self, x):
        nonlocal _mk_hits, _mk_misses
        try:
            if x in _mk_table:
"""

if sys.version_info >= (3, 12):
    _IN_BODY = "_mk_frame_module(1).__class__ is _mk_BodyModule"
else:
    _IN_BODY = (
        "((_mk_code := _mk_getframe(1).f_code) is _mk_own_code"
        " or _mk_id(_mk_code) in _mk_body_codes)"
    )

DP_WRAPPER = (
    """\
    def fib(n):
        nonlocal _mk_hits, _mk_misses
        try:
            if n in _mk_table:
                _mk_value = _mk_table[n]
                _mk_hits += 1
                return _mk_value
        except KeyError:  # deleted by another thread between the two lookups: a miss
            pass
        except TypeError:
            _mk_check((n,))
            raise
"""
    + _MISS_COMMENT
    + f"""\
        _mk_misses += 1
        # Not stored: a request for the sub-problem, which carries its generator.
        _mk_request = _mk_Request()
        _mk_request.source = _mk_source
        _mk_request.key = n
        _mk_request.gen = _mk_body(n)
        _mk_request.started = False
        # Called in a dp frame, the request goes back to be yielded there;
        # called from anywhere else, the engine computes it now.
        if {_IN_BODY}:
            return _mk_request
        return _mk_run(_mk_request)
"""
)


def fib(n: int) -> int:
    return n


def g(n: int, s: str) -> int:
    return n


def test_dict_store_source_is_pinned() -> None:
    """The whole generated module for f(n) over a dict store reads as written here."""
    f = memoize(fib)
    lines = linecache.getlines(code_of(f).co_filename)
    assert "".join(lines) == DICT_SOURCE


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        pytest.param(lambda: memoize(maxsize=128)(g), LRU_WRAPPER, id="lru"),
        pytest.param(lambda: memoize(store=ProtocolStore())(fib), GENERIC_WRAPPER, id="generic"),
        pytest.param(lambda: memoize(store=SharedStore())(fib), SHARED_WRAPPER, id="shared"),
    ],
)
def test_wrapper_source_per_store_kind_is_pinned(make: Callable[[], Any], expected: str) -> None:
    """LRU, generic and shared (get_or_compute) stores each get the wrapper written here."""
    assert wrapper_text(make()) == expected


def test_unannotated_key_is_made_canonical_first() -> None:
    """Without a plain annotation, the wrapper wraps a key with its hash before looking it up."""

    def f(n):  # type: ignore[no-untyped-def]
        return n

    assert wrapper_text(memoize(f)).startswith(CANONICAL_HEAD)


def test_expiring_wrapper_source_is_pinned() -> None:
    """ttl= gives the lookup a deadline check and the miss path an expiry-aware read."""

    def g(n: int, s):  # type: ignore[no-untyped-def]
        return n

    text = wrapper_text(memoize(maxsize=8, ttl=5)(g))
    assert text.startswith(EXPIRING_LRU_HEAD)
    assert EXPIRING_REREAD in text


def test_async_wrapper_source_is_pinned() -> None:
    """A coroutine function's wrapper awaits its miss path and reads as written here."""

    async def fib(n: int) -> int:
        return n

    memoized = memoize(fib)
    assert wrapper_text(memoized) == ASYNC_WRAPPER
    assert asyncio.run(memoized(3)) == 3


@pytest.mark.usefixtures("generated_dp")
def test_dp_wrapper_source_is_pinned() -> None:
    """A dp function's wrapper shares the lookup and makes a request on a miss, as written here."""

    @dp
    def fib(n: int) -> Generator[int, int, int]:
        return n if n < 2 else (yield fib(n - 1)) + (yield fib(n - 2))

    assert wrapper_text(fib) == DP_WRAPPER
    assert fib(20) == 6765


def test_method_wrapper_keys_without_the_receiver() -> None:
    """A method's wrapper takes self but keys (and looks up) the other arguments only."""

    class Model:
        @memoize
        def scaled(self, x: int) -> int:
            return x

    assert wrapper_text(Model().scaled).startswith(METHOD_WRAPPER_HEAD)


# ---------------------------------------------------------------- linecache and compiling


def test_generated_source_is_registered_with_linecache() -> None:
    """linecache.getline on a wrapper's file name returns the generated lines."""
    f = memoize(fib)
    filename = code_of(f).co_filename
    assert filename == "<memokit: memoize wrapper of fib>"
    first = code_of(f).co_firstlineno
    assert linecache.getline(filename, first) == "    def fib(n):\n"
    assert linecache.getline(filename, first + 3) == "            if n in _mk_table:\n"


def test_each_distinct_source_gets_its_own_file_name() -> None:
    """Two different sources under one label get two file names; each shows its own lines."""
    label = "test label for distinct sources"
    one = compile_source("a = 1\n", label)
    two = compile_source("b = 2\n", label)
    assert one.co_filename != two.co_filename
    assert linecache.getline(one.co_filename, 1) == "a = 1\n"
    assert linecache.getline(two.co_filename, 1) == "b = 2\n"


def test_identical_sources_compile_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Decorating a function anew on every call of its enclosing function compiles once."""
    compiled: list[str] = []
    real_compile = compile

    def counting_compile(source: str, filename: str, mode: str) -> Any:
        compiled.append(filename)
        return real_compile(source, filename, mode)

    monkeypatch.setattr(memokit._codegen, "compile", counting_compile, raising=False)

    def solve(k: int) -> int:
        @dp
        def steps(n: int) -> Generator[int, int, int]:
            return 0 if n == 0 else 1 + (yield steps(n - 1))

        return steps(k)

    entries = len(linecache.cache)
    assert [solve(k) for k in range(50)] == list(range(50))
    assert len(compiled) <= 1  # zero if an earlier test compiled this very source
    assert len(linecache.cache) <= entries + 1


def test_cleared_linecache_is_refilled_by_the_next_compile() -> None:
    """After linecache.clearcache(), compiling the same source puts its lines back."""
    code = compile_source("c = 3\n", "test label for clearcache")
    linecache.clearcache()
    assert linecache.getline(code.co_filename, 1) == ""
    assert compile_source("c = 3\n", "test label for clearcache") is code
    assert linecache.getline(code.co_filename, 1) == "c = 3\n"


# ---------------------------------------------------------------- tracebacks and pdb


def _lines(error: BaseException) -> list[traceback.FrameSummary]:
    return traceback.extract_tb(error.__traceback__)


def test_traceback_through_memoize_has_a_line_for_every_frame() -> None:
    """A failure five memoized calls deep: every frame, generated ones included, has its line."""

    @memoize
    def down(n: int) -> int:
        if n == 3:
            raise ValueError("three")
        return down(n - 1) + 1

    with pytest.raises(ValueError) as info:
        down(8)
    frames = _lines(info.value)
    generated = [f for f in frames if f.filename == code_of(down).co_filename]
    assert len(generated) == 6  # down(8) ... down(3)
    assert all(f.line for f in frames), [(f.filename, f.lineno) for f in frames]
    assert {f.line for f in generated} == {"_mk_value = _mk_function(n)"}


@pytest.mark.parametrize(
    "store",
    [DictStore, lambda: LRUStore(4), ProtocolStore, SharedStore],
    ids=["dict", "lru", "protocol", "shared"],
)
def test_traceback_of_an_unhashable_argument_has_a_line_for_every_frame(
    store: Callable[[], Any],
) -> None:
    """The TypeError for an unhashable argument, raised in generated code, shows every line."""
    f = memoize(store=store)(fib)
    with pytest.raises(TypeError, match="'n'") as info:
        f([1])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="'n'") as invalidate:
        f.cache_invalidate([1])  # type: ignore[arg-type]
    for error in (info.value, invalidate.value):
        frames = _lines(error)
        assert any(f.filename.startswith("<memokit: memoize wrapper") for f in frames)
        assert all(f.line for f in frames)


def test_traceback_through_dp_has_a_line_for_every_frame(dp_wrapper: str) -> None:
    """A dp failure several frames deep: the wrapper, the engine and each body frame show lines."""

    @dp
    def countdown(n: int) -> Generator[int, int, int]:
        if n == 3:
            raise ValueError("three")
        return (yield countdown(n - 1)) + 1

    with pytest.raises(ValueError) as info:
        countdown(9)
    frames = _lines(info.value)
    assert all(f.line for f in frames), [(f.filename, f.lineno) for f in frames]
    names = [f.name for f in frames]
    if dp_wrapper == "generated":
        assert names.count("countdown") == 1 + 7  # the wrapper, countdown(9) ... countdown(3)
        assert any(f.filename == code_of(countdown).co_filename for f in frames)
    else:
        assert names.count("countdown") == 7  # countdown(9) ... countdown(3)
    if memokit.IMPLEMENTATION == "python":  # the compiled loop adds no line of its own
        assert any(f.filename.endswith("_dp_engine.py") for f in frames)


def test_traceback_through_dp_called_from_a_frame_has_a_line_for_every_frame(
    dp_wrapper: str,
) -> None:
    """A failure in a dp function run from plain code inside another dp frame shows every line."""

    @dp
    def inner(n: int) -> Generator[int, int, int]:
        if n == 0:
            raise KeyError("bottom")
        return (yield inner(n - 1))

    def plain(n: int) -> int:
        return inner(n)

    @dp
    def outer(n: int) -> Generator[int, int, int]:
        return plain(n) if n == 5 else (yield outer(n + 1))

    with pytest.raises(KeyError) as info:
        outer(0)
    frames = _lines(info.value)
    assert all(f.line for f in frames), [(f.filename, f.lineno) for f in frames]
    names = [f.name for f in frames]
    assert names.count("plain") == 1 and names.count("inner") >= 6
    if dp_wrapper == "generated":
        wrappers = {code_of(outer).co_filename, code_of(inner).co_filename}
        assert wrappers <= {f.filename for f in frames}


def test_pdb_lists_the_generated_lines() -> None:
    """Stepping into a memoized function in pdb lists the wrapper's generated source."""
    f = memoize(fib)
    out = io.StringIO()
    debugger = pdb.Pdb(stdin=io.StringIO("list 1, 45\ncontinue\n"), stdout=out, nosigint=True)
    debugger.use_rawinput = False
    assert debugger.runcall(f, 4) == 4
    shown = out.getvalue()
    assert "if n in _mk_table:" in shown
    assert "_mk_value = _mk_function(n)" in shown
