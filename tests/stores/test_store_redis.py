"""RedisStore on a real redis-server: when the server goes away, and Redis's own keys.

The Store contract and the persistent-store contract run on RedisStore in
tests/stores/test_stores.py; the scenarios across processes run on it in
tests/stores/test_store_processes.py; this file holds what needs a server that dies,
or Redis's own keys. Servers come from tests/helpers/redis_server.py
(no mocks); computations are counted through the workers' O_APPEND log.
"""

from __future__ import annotations

import subprocess
import sys
import time
import warnings
from typing import Any

import pytest

from memokit import (
    MISSING,
    RedisStore,
    StoreUnavailableError,
    StoreUnavailableWarning,
    UnlistedKeysWarning,
    memoize,
)
from memokit.stores._keybytes import encode_key, storage_key
from tests.helpers.recorded import recorded
from tests.helpers.redis_server import RedisServer
from tests.helpers.store_worker import SECRET

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
    PAIRED.clear()


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
    with recorded() as caught:
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
    with recorded() as caught:
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
    from tests.helpers.redis_server import free_port

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


LONG = ("a key too long to file as it is", "x" * 60)
#: Computations of pair(), below.
PAIRED: list[tuple[str, str]] = []


def pair(key: tuple[str, str]) -> tuple[tuple[str, str], tuple[str, str]]:
    """Return ``(key, key)``, recording the call."""
    PAIRED.append(key)
    return key, key


def test_a_long_key_is_kept_whole_beside_its_entry(redis_url: str) -> None:
    """A key filed as a digest has its whole encoding beside the entry, same expiry, same fate."""
    import redis

    client = redis.Redis.from_url(redis_url)
    store = RedisStore(client, secret=SECRET, ttl=30).bind("m:f")
    store.set(LONG, 1)
    store.set("short", 2)
    kb = storage_key(LONG)
    assert set(client.keys(b"*")) == {
        store._values + kb,
        store._wholes + kb,
        store._values + storage_key("short"),
    }
    assert client.get(store._wholes + kb) == encode_key(LONG)
    assert 25_000 < client.pttl(store._wholes + kb) <= 30_000
    assert sorted(store.keys(), key=str) == sorted([LONG, "short"], key=str)
    assert store.delete(LONG) is True and store.delete(LONG) is False
    assert client.keys(b"*") == [store._values + storage_key("short")]
    store.set(LONG, 1)
    store.clear()
    assert client.keys(b"*") == []


def test_memoize_files_the_whole_key_of_a_long_argument(redis_url: str) -> None:
    """A miss stored through single flight keeps the whole key too: cache_keys() lists it."""
    cached = memoize(store=RedisStore(redis_url, secret=SECRET))(pair)
    assert cached(LONG) == (LONG, LONG)
    assert cached.cache_keys() == [LONG] and PAIRED == [LONG]


def test_an_entry_without_its_whole_key_is_reported(redis_url: str) -> None:
    """An entry an older memokit filed under a digest alone is found and counted, not listed."""
    import redis

    client = redis.Redis.from_url(redis_url)
    store = RedisStore(client, secret=SECRET).bind("m:f")
    store.set(LONG, "old")
    store.set(2, "two")
    client.delete(store._wholes + storage_key(LONG))
    with pytest.warns(UnlistedKeysWarning, match="'m:f': keys.. left out 1 entries.*digest"):
        assert list(store.keys()) == [2]
    assert store.get(LONG) == "old" and len(store) == 2
    store.set(LONG, "new")
    assert sorted(store.keys(), key=str) == sorted([2, LONG], key=str)


def test_close_leaves_a_client_it_was_given_open(redis_url: str) -> None:
    """A client passed in is the caller's: close() and a with block leave its connection open."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        store = RedisStore(client, secret=SECRET).bind("m:f")
        store.set(1, "one")
        ident = client.client_id()
        with store:
            assert store.get(1) == "one"
        store.close()
        assert client.client_id() == ident  # the same connection: never closed, so not reopened
    finally:
        client.close()


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


def test_an_entry_gone_since_the_scan_is_not_reported(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A digested entry deleted between the SCAN and the read of its whole key is just gone."""
    store = RedisStore(redis_url, secret=SECRET).bind("m:f")
    store.set(LONG, 1)
    store.set(3, 3)
    scanned = store._scan()
    store.delete(LONG)
    monkeypatch.setattr(store, "_scan", lambda: scanned)  # the scan ran before the delete
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert list(store.keys()) == [3]
