"""Test-suite configuration shared by every test module."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from memokit import _callthrough, _methods
from memokit.stores import _lru
from tests.helpers.redis_server import RedisServer, require_redis, start_server

# tests/typing/ holds files that mypy checks and nobody runs: some of their
# lines are wrong calls on purpose. Keep pytest (and --doctest-modules) from
# importing them.
collect_ignore_glob = ["typing/*.py"]

# Hypothesis explores new random examples on every run by default. CI
# (.ci/run sets MEMOKIT_HYPOTHESIS_PROFILE=ci) runs the same examples each
# time instead, so a pass or a failure there is reproducible; a failure's
# reproduction blob is printed either way.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.load_profile(os.environ.get("MEMOKIT_HYPOTHESIS_PROFILE", "default"))

#: @memoize per implementation: the generated Python wrapper and the method
#: descriptor (the reference), and the compiled Memo and method front when the
#: core is live (see tests/core/conftest.py). Values: (COMPILED, FRONT, PUT).
MEMO_IMPLS: dict[str, tuple[object, object, object]] = {"python": (None, None, None)}
if _callthrough.COMPILED is not None:
    MEMO_IMPLS["c"] = (_callthrough.COMPILED, _methods.FRONT, _lru.PUT)


def use_memo_impl(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Make caches (made from now on in the test) with one implementation of @memoize."""
    compiled, front, put = MEMO_IMPLS[name]
    monkeypatch.setattr(_callthrough, "COMPILED", compiled)
    monkeypatch.setattr(_methods, "FRONT", front)
    monkeypatch.setattr(_lru, "PUT", put)


@pytest.fixture(params=sorted(MEMO_IMPLS))
def memo_impl(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run the test with caches (made inside it) on one @memoize wrapper: "c" or "python"."""
    name: str = request.param
    use_memo_impl(monkeypatch, name)
    yield name


@pytest.fixture
def python_wrappers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make caches (made inside the test) with the generated Python wrapper, the reference."""
    use_memo_impl(monkeypatch, "python")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real redis-server on a free loopback port, shared by the session's Redis tests."""
    require_redis()
    server = start_server(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The URL of the session's redis-server, emptied for this test."""
    import redis

    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    client.close()
    return redis_server.url


@pytest.fixture
def own_redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server for this test alone, which the test may kill."""
    require_redis()
    server = start_server(tmp_path)
    yield server
    server.stop()
