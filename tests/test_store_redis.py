"""RedisStore on a real redis-server: across processes, and when the server goes away.

The Store contract and the persistent-store contract run on RedisStore in
tests/test_stores.py; this file holds what needs real processes, a server
that dies, or Redis's own keys. Servers come from tests/_redis_server.py
(no mocks); computations are counted through the workers' O_APPEND log.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from _redis_server import RedisServer
from _store_worker import SECRET, computations, finish, run_together, spawn, wait_for

from memokit import (
    MISSING,
    RedisStore,
    StoreUnavailableError,
    StoreUnavailableWarning,
    memoize,
)

#: Computations of the module-level functions below.
CALLS: list[int] = []
#: The server the function below kills while it computes.
DOOMED: list[RedisServer] = []


def double(n: int) -> int:
    """Return ``2 * n``, recording the call."""
    CALLS.append(n)
    return 2 * n


def double_and_kill_the_server(n: int) -> int:
    """Return ``2 * n`` after killing the Redis server: the connection drops mid-call."""
    CALLS.append(n)
    DOOMED[-1].kill()
    return 2 * n


@pytest.fixture(autouse=True)
def _clean() -> None:
    CALLS.clear()
    DOOMED.clear()


def _config(url: str, log: Path, keys: list[int], **extra: Any) -> dict[str, Any]:
    return {"action": "call", "store": "redis", "location": url, "log": str(log)} | {
        "keys": keys,
        **extra,
    }


# ---------------------------------------------------------------- across processes


def test_entries_persist_from_one_process_to_the_next(redis_url: str, tmp_path: Path) -> None:
    """What one process computed, a later process (another hash seed) reads without computing."""
    log = tmp_path / "log"
    assert finish(spawn(_config(redis_url, log, [1, 2]), hash_seed=1)) == {"1": 1, "2": 4}
    second = finish(spawn(_config(redis_url, log, [2, 1, 3]), hash_seed=2))
    assert second == {"2": 4, "1": 1, "3": 9}
    assert [n for _, n, _ in computations(log)] == [1, 2, 3]


def test_four_processes_compute_each_key_once(redis_url: str, tmp_path: Path) -> None:
    """Four processes missing the same twelve keys at once compute each key exactly once."""
    log = tmp_path / "log"
    keys = list(range(12))
    configs = []
    for seed in range(4):
        order = keys[:]
        random.Random(seed).shuffle(order)
        configs.append(_config(redis_url, log, order, sleep=0.05))
    for output in run_together(configs, tmp_path):
        assert output == {str(n): n * n for n in keys}
    assert Counter(n for _, n, _ in computations(log)) == Counter(keys)
    assert len({pid for pid, _, _ in computations(log)}) > 1


def test_a_killed_computer_is_taken_over_after_lock_ttl(redis_url: str, tmp_path: Path) -> None:
    """A process SIGKILLed while computing is taken over by a waiter once its lease lapses."""
    log = tmp_path / "log"
    lock_ttl = 1.0
    owner = spawn(_config(redis_url, log, [7], hang=True, lock_ttl=lock_ttl))
    wait_for(lambda: len(computations(log)) == 1)
    waiter = spawn(_config(redis_url, log, [7], lock_ttl=lock_ttl))
    time.sleep(1.5)  # > lock_ttl: the owner's renewals keep its lease meanwhile
    assert len(computations(log)) == 1
    owner.send_signal(signal.SIGKILL)
    killed_at = time.time()
    owner.wait(10)
    assert finish(waiter) == {"7": 49}
    (pid_a, _, _), (pid_b, _, started) = computations(log)
    assert (pid_a, pid_b) == (owner.pid, waiter.pid)
    assert killed_at < started < killed_at + lock_ttl + 10


def test_a_failed_computation_releases_its_lease_at_once(redis_url: str, tmp_path: Path) -> None:
    """A process whose computation raises stores nothing and frees the key at once."""
    log = tmp_path / "log"
    failing = spawn(_config(redis_url, log, [5], sleep=1.0, fail=True))
    wait_for(lambda: len(computations(log)) == 1)
    waiter = spawn(_config(redis_url, log, [5]))  # lock_ttl 30 s: it must not wait that long
    assert finish(failing) == {"5": "error: work(5) failed on purpose"}
    failed_at = time.time()
    assert finish(waiter) == {"5": 25}
    (pid_a, _, _), (pid_b, _, started) = computations(log)
    assert (pid_a, pid_b) == (failing.pid, waiter.pid)
    assert started < failed_at + 10


# ---------------------------------------------------------------- the server goes away


def test_server_killed_raises_by_default(own_redis_server: RedisServer) -> None:
    """With on_error='raise', calls after the server dies raise StoreUnavailableError."""
    cached = memoize(store=RedisStore(own_redis_server.url, secret=SECRET, timeout=1))(double)
    assert (cached(1), cached(1)) == (2, 2)
    own_redis_server.kill()
    for n in (1, 2):  # a stored key and a new one: neither is answered without the cache
        with pytest.raises(StoreUnavailableError, match="on_error='compute'"):
            cached(n)
    assert CALLS == [1]
    with pytest.raises(StoreUnavailableError):
        cached.cache_info()


def test_server_killed_computes_without_the_cache_if_asked(
    own_redis_server: RedisServer,
) -> None:
    """With on_error='compute', calls run uncached while Redis is down (one warning), then cache."""
    store = RedisStore(own_redis_server.url, secret=SECRET, timeout=1, on_error="compute")
    cached = memoize(store=store)(double)
    assert cached(1) == 2
    own_redis_server.kill()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert [cached(1), cached(2), cached(2)] == [2, 4, 4]
        assert cached.cache_info().currsize == 0
    assert [type(w.message) for w in caught] == [StoreUnavailableWarning]
    assert "on_error='compute'" in str(caught[0].message)
    assert CALLS == [1, 1, 2, 2]
    assert store.errors >= 3
    own_redis_server.start()  # same port, empty: the cache works again
    assert [cached(3), cached(3)] == [6, 6]
    assert CALLS == [1, 1, 2, 2, 3]


@pytest.mark.parametrize("on_error", ["raise", "compute"])
def test_server_dropped_mid_call(own_redis_server: RedisServer, on_error: Any) -> None:
    """Redis dying while the function runs gives the documented outcome, never a wrong value."""
    store = RedisStore(own_redis_server.url, secret=SECRET, timeout=1, on_error=on_error)
    cached = memoize(store=store)(double_and_kill_the_server)
    DOOMED.append(own_redis_server)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if on_error == "raise":
            with pytest.raises(StoreUnavailableError, match="not returned or cached"):
                cached(21)
        else:
            assert cached(21) == 42
    assert CALLS == [21]
    assert len(caught) == (on_error == "compute")


def test_an_unreachable_server_is_reported_soon() -> None:
    """A URL where nothing listens fails within seconds with the address in the message."""
    pytest.importorskip("redis", reason="the redis client package is not installed")
    from _redis_server import free_port

    store = RedisStore(f"redis://127.0.0.1:{free_port()}/0", secret=SECRET, timeout=1)
    start = time.monotonic()
    with pytest.raises(StoreUnavailableError, match=r"127\.0\.0\.1"):
        store.get(1)
    assert time.monotonic() - start < 10


# ---------------------------------------------------------------- Redis's own keys


def test_keys_live_under_prefix_name_and_version(redis_url: str) -> None:
    """Entries are Redis keys under prefix, name and version; clear removes only its own."""
    import redis

    client = redis.Redis.from_url(redis_url)
    odd = RedisStore(client, secret=SECRET, prefix="app").bind("m:f[*]?\\")
    plain = RedisStore(client, secret=SECRET, prefix="app").bind("m:f")
    other_prefix = RedisStore(client, secret=SECRET, prefix="other").bind("m:f[*]?\\")
    for store in (odd, plain, other_prefix):
        store.set(1, "x")
    client.set(b"app:unrelated", b"keep me")
    keys = sorted(client.keys(b"*"))
    assert b"app:8:m:f[*]?\\:0::vi\x01\x01" in keys  # name of 8 bytes, empty version
    odd.clear()
    assert (odd.get(1), plain.get(1), other_prefix.get(1)) == (MISSING, "x", "x")
    assert client.get(b"app:unrelated") == b"keep me"


def test_ttl_is_redis_expiry(redis_url: str) -> None:
    """ttl= sets a Redis expiry on each entry."""
    import redis

    client = redis.Redis.from_url(redis_url)
    store = RedisStore(client, secret=SECRET, ttl=30).bind("m:f")
    store.set(1, 1)
    (key,) = client.keys(b"memokit:*")
    assert 25_000 < client.pttl(key) <= 30_000


def test_a_client_or_url_is_required() -> None:
    """RedisStore takes a URL or a redis.Redis client that returns bytes, and says so otherwise."""
    redis = pytest.importorskip("redis", reason="the redis client package is not installed")

    with pytest.raises(TypeError, match=r"URL or a redis\.Redis client"):
        RedisStore(42, secret=SECRET)
    with pytest.raises(ValueError, match="decode_responses=False"):
        RedisStore(redis.Redis(decode_responses=True), secret=SECRET)
    with pytest.raises(ValueError, match="on_error"):
        RedisStore(secret=SECRET, on_error="ignore")  # type: ignore[arg-type]


def test_importing_memokit_does_not_import_redis() -> None:
    """The redis package is imported when a RedisStore is made, not with memokit."""
    code = "import sys, memokit; print('redis' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_without_the_redis_package_the_error_names_the_extra() -> None:
    """Making a RedisStore without redis-py raises an error saying which extra to install."""
    code = (
        "import sys; sys.modules['redis'] = None\n"
        "from memokit import RedisStore\n"
        "try:\n"
        "    RedisStore(secret='x' * 16)\n"
        "except ModuleNotFoundError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'memokit[redis]'" in out.stdout
