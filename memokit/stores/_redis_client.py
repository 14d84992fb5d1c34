"""RedisStore's connection: the client its views share, and the scripts it runs on the server.

Library code, split from :mod:`._redis` to keep each module to one job (the
throwaway redis-server the tests start is ``tests/helpers/redis_server.py``).

A script runs on the server as one step, which nothing else interleaves
with: storing a value (and the whole key beside it) and releasing the
lease on it, releasing or renewing a lease only if it is still ours. The
``redis`` package is imported by :func:`import_redis`, when a store is
made, never when memokit is imported.
"""

from __future__ import annotations

import weakref
from typing import Any

from memokit.stores._persistent import Shared

__all__ = ["SharedClient", "glob_escape", "import_redis"]

# Store the value (and, if the key is filed as a digest, its whole encoding:
# ARGV[4], under KEYS[3]) and release our lease, in one step: a waiter that
# sees the lease gone always finds the value (or an error: nothing was stored).
_PUT_AND_RELEASE = """
local function put(key, value)
    if ARGV[3] == '' then
        redis.call('SET', key, value)
    else
        redis.call('SET', key, value, 'PX', ARGV[3])
    end
end
put(KEYS[1], ARGV[1])
if ARGV[4] ~= '' then
    put(KEYS[3], ARGV[4])
end
if redis.call('GET', KEYS[2]) == ARGV[2] then
    redis.call('DEL', KEYS[2])
end
return 1
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_GLOB_SPECIAL = frozenset(b"*?[]\\")


def import_redis() -> Any:
    """Return the ``redis`` package, or raise saying how to install it."""
    try:
        import redis
    except ImportError as exc:
        raise ModuleNotFoundError(
            "RedisStore needs the redis client package: pip install 'memokit[redis]'"
        ) from exc
    return redis


def glob_escape(raw: bytes) -> bytes:
    r"""Return ``raw`` as a SCAN pattern that matches it literally.

    >>> glob_escape(b"a*b[1]")
    b'a\\*b\\[1\\]'
    """
    return b"".join(b"\\" + bytes((c,)) if c in _GLOB_SPECIAL else bytes((c,)) for c in raw)


class SharedClient(Shared):
    """One Redis client and what every view of it shares."""

    def __init__(self, client: Any, place: str, redis: Any, owned: bool) -> None:
        super().__init__("RedisStore", place)
        self.client = client
        # A client made from a URL is the store's: closed with it, or when it
        # is collected (not left to the garbage collector, which may reach the
        # sockets first and warn, ResourceWarning). A client given is the
        # caller's to close.
        self.owned = owned
        if owned:
            weakref.finalize(self, client.close)
        self.errors: tuple[type[BaseException], ...] = (redis.exceptions.RedisError, OSError)
        self.put_and_release = client.register_script(_PUT_AND_RELEASE)
        self.release = client.register_script(_RELEASE)
        self.renew = client.register_script(_RENEW)
        self.failures = 0
        self.warned_down = False
