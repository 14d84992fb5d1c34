"""``RedisStore``: memoized results on a Redis server, shared by processes on many machines.

The ``redis`` client package is an optional extra, imported when a
``RedisStore`` is made (``pip install 'memokit[redis]'``); importing memokit
never imports it.

Redis keys (all bytes)::

    <prefix>:<len>:<name>:<len>:<version>:v<key>   an entry (a signed value)
    <prefix>:<len>:<name>:<len>:<version>:l<key>   a lease: who computes <key> now
    <prefix>:<len>:<name>:<len>:<version>:k<key>   the whole key, if <key> is its digest

The lengths make the namespace part unambiguous (a name may contain ``:``),
so two functions, or two versions, never share a key; ``<key>`` is
:func:`~memokit.stores._keybytes.storage_key` of the cache key, so listing
the entries (a SCAN) lists the keys, but for those filed as a digest: their
whole encoding is written beside the entry (in the same step, with the same
expiry), read only by :meth:`RedisStore.keys`. Expiry is Redis's own
(``PX``); bounding memory is Redis's job too (``maxmemory`` and an eviction
policy), so ``maxsize`` is always ``None`` here.

Failure is explicit. With ``on_error="raise"`` (the default) any failed
Redis call raises :class:`StoreUnavailableError`, even after the function
has run: the caller learns the cache is gone instead of silently paying for
every call. With ``on_error="compute"`` the store acts as if it were empty
while Redis is unreachable: lookups miss, writes are skipped, the function
runs for every call, and one :class:`StoreUnavailableWarning` says so. A
value is returned only whole and verified (Redis replies are all-or-nothing
and every entry is signed), so neither mode gives a wrong or partial result.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any, Literal

from memokit.stores._codec import BadEntry
from memokit.stores._keybytes import DIGEST, filed_key, storage_key
from memokit.stores._keylist import listed_keys
from memokit.stores._leases import KEEPER, new_token, wait_delays
from memokit.stores._persistent import NamedViews
from memokit.stores._protocol import MISSING, Missing
from memokit.stores._redis_client import SharedClient, glob_escape, import_redis

__all__ = ["RedisStore", "StoreUnavailableError", "StoreUnavailableWarning"]


class StoreUnavailableError(RuntimeError):
    """A shared store (Redis) could not be reached, so the call could not use its cache."""


class StoreUnavailableWarning(RuntimeWarning):
    """A shared store is unreachable; calls run without the cache (``on_error="compute"``)."""


class RedisStore(NamedViews):
    """A store on a Redis server: results shared by every process that can reach it.

    Give a URL (``"redis://host:6379/0"``) or a ``redis.Redis`` client made
    with ``decode_responses=False``. ``@memoize(store=RedisStore(url))``
    keeps each function's results under ``prefix``, the function's qualified
    name and ``version=`` (bump it when the code changes). When several
    processes miss one key, one computes it and the others wait for its
    result; if that process dies, another takes over after ``lock_ttl``
    seconds. ``ttl`` expires entries after that many seconds.

    Values are pickled and signed with an HMAC ``secret`` (or the
    ``MEMOKIT_CACHE_KEY`` environment variable); ``serializer="json"`` stores
    plain data and ``serializer="bytes"`` bytes-like results as they are,
    without one. An entry that does not verify is never unpickled.
    ``on_error="raise"`` (default) turns a Redis failure into
    :class:`StoreUnavailableError`; ``on_error="compute"`` computes without
    the cache while Redis is down, with one :class:`StoreUnavailableWarning`.
    A URL's client waits at most ``timeout`` seconds for the server.

    Calls block their thread while they talk to Redis, ``async def``
    functions included (the event loop waits one round trip per lookup).
    """

    def __init__(
        self,
        redis: str | Any = "redis://localhost:6379/0",
        *,
        prefix: str = "memokit",
        version: str | int = "",
        ttl: float | None = None,
        serializer: Literal["pickle", "json", "bytes"] = "pickle",
        secret: bytes | str | None = None,
        on_error: Literal["raise", "compute"] = "raise",
        timeout: float = 5.0,
        lock_ttl: float = 30.0,
    ) -> None:
        if on_error not in ("raise", "compute"):
            raise ValueError(
                f"RedisStore(on_error=...) takes 'raise' or 'compute', got {on_error!r}"
            )
        if not isinstance(prefix, str) or not prefix:
            raise TypeError(f"RedisStore(prefix=...) takes a non-empty str, got {prefix!r}")
        seconds = self._configure(
            "RedisStore",
            version=version,
            ttl=ttl,
            lock_ttl=lock_ttl,
            timeout=timeout,
            serializer=serializer,
            secret=secret,
        )
        self._on_error = on_error
        self._prefix = prefix
        module = import_redis()
        if isinstance(redis, str):
            from redis.backoff import ExponentialBackoff
            from redis.retry import Retry

            # A few quick retries, not redis-py's default of ten with up to
            # a second each: a server that is down should be reported soon.
            client = module.Redis.from_url(
                redis,
                socket_timeout=seconds,
                socket_connect_timeout=seconds,
                retry=Retry(ExponentialBackoff(cap=0.1, base=0.01), 2),
            )
        elif isinstance(redis, module.Redis):
            client = redis
        else:
            raise TypeError(
                f"RedisStore() takes a redis:// URL or a redis.Redis client, "
                f"got {type(redis).__name__}"
            )
        kwargs = client.connection_pool.connection_kwargs
        if kwargs.get("decode_responses"):
            raise ValueError(
                "RedisStore stores bytes: give it a client made with decode_responses=False"
            )
        where = f"{kwargs.get('host', kwargs.get('path', '?'))}:{kwargs.get('port', '')}"
        where += f"/{kwargs.get('db', 0)}"
        owned = isinstance(redis, str)
        self._server = self._shared = SharedClient(client, where, module, owned=owned)
        self._init_view()

    def _init_view(self) -> None:
        super()._init_view()

        def part(text: str) -> bytes:
            raw = text.encode()
            return str(len(raw)).encode() + b":" + raw + b":"

        ns = self._prefix.encode() + b":" + part(self._name) + part(self._version)
        self._values = ns + b"v"
        self._leases = ns + b"l"
        self._wholes = ns + b"k"
        # Both the entries and the whole keys beside them (not the leases).
        self._filed = glob_escape(ns) + b"[vk]*"

    # ---------------------------------------------------------------- properties

    @property
    def client(self) -> Any:
        """The ``redis.Redis`` client this store talks through."""
        return self._server.client

    @property
    def errors(self) -> int:
        """How many Redis calls failed under ``on_error="compute"`` (each then acted as a miss)."""
        return self._server.failures

    # ---------------------------------------------------------------- failures

    def _failed(self, what: str, exc: BaseException) -> None:
        """Raise (``on_error="raise"``), or count, warn once and let the caller go on without."""
        server = self._server
        if self._on_error == "raise":
            raise StoreUnavailableError(
                f"RedisStore could not {what} at {server.place} ({type(exc).__name__}: {exc}). "
                f"The call's result is not returned or cached. Check that the server is "
                f"reachable, or pass on_error='compute' to compute without the cache while "
                f"it is not."
            ) from exc
        with server.lock:
            server.failures += 1
            first = not server.warned_down
            server.warned_down = True
        if first:
            warnings.warn(
                StoreUnavailableWarning(
                    f"RedisStore could not {what} at {server.place} ({type(exc).__name__}: "
                    f"{exc}); computing without the cache while Redis is unreachable "
                    f"(on_error='compute'). Later failures are counted in store.errors "
                    f"without a warning."
                ),
                stacklevel=4,
            )

    def _decode(self, kb: bytes, entry: bytes) -> Any:
        try:
            return self._codec.loads(self._context + kb, entry)
        except BadEntry as bad:
            reason = str(bad)
        server = self._server
        try:  # delete it only if it is still those bytes
            server.release(keys=[self._values + kb], args=[entry])
        except server.errors:
            pass
        self._count_rejected(reason, stacklevel=2)
        return MISSING

    # ---------------------------------------------------------------- the Store protocol

    @property
    def maxsize(self) -> None:
        """Always ``None``: Redis bounds its memory itself (``maxmemory``)."""
        return None

    @property
    def evictions(self) -> int:
        """Always ``0``: evictions by Redis's own policy are not seen from here."""
        return 0

    def get(self, key: object) -> Any | Literal[Missing.MISSING]:
        """Return the value stored under ``key``, or :data:`MISSING`."""
        kb = storage_key(key)
        try:
            entry = self._server.client.get(self._values + kb)
        except self._server.errors as exc:
            self._failed("read an entry", exc)
            return MISSING
        if entry is None:
            return MISSING
        return self._decode(kb, entry)

    def set(self, key: object, value: Any) -> None:
        """Store ``value`` under ``key`` (for ``ttl`` seconds, if set)."""
        kb, whole = filed_key(key)
        entry = self._codec.dumps(self._context + kb, value)
        ttl = None if self._ttl is None else max(1, int(self._ttl * 1000))
        client = self._server.client
        try:
            if whole is None:
                client.set(self._values + kb, entry, px=ttl)
            else:  # and the whole key beside it, in one step (MULTI ... EXEC)
                pipe = client.pipeline(transaction=True)
                pipe.set(self._values + kb, entry, px=ttl)
                pipe.set(self._wholes + kb, whole, px=ttl)
                pipe.execute()
        except self._server.errors as exc:
            self._failed("store an entry", exc)

    def delete(self, key: object) -> bool:
        """Forget ``key``; return whether it was present."""
        kb = storage_key(key)
        client = self._server.client
        try:
            if kb[:1] != DIGEST:
                return bool(client.delete(self._values + kb))
            pipe = client.pipeline(transaction=True)
            pipe.delete(self._values + kb)
            pipe.delete(self._wholes + kb)
            return bool(pipe.execute()[0])
        except self._server.errors as exc:
            self._failed("delete an entry", exc)
            return False

    def _scan(self, pattern: bytes | None = None) -> list[bytes]:
        """The Redis keys of this namespace's entries (or those ``pattern`` matches)."""
        client = self._server.client
        if pattern is None:
            pattern = glob_escape(self._values) + b"*"
        return list(client.scan_iter(match=pattern, count=1000))

    def keys(self) -> Iterator[Any]:
        """Iterate over the keys of this namespace's live entries, in no particular order.

        A snapshot (a SCAN of the server); each key equals the one given to
        ``set`` (numbers in the type they are filed as: ``1`` for ``1.0``).
        Entries whose key cannot be given back are left out, with one
        :class:`~memokit.UnlistedKeysWarning` (see :meth:`SQLiteStore.keys`).
        """
        client, start = self._server.client, len(self._values)
        try:
            filed = [k[start:] for k in self._scan()]
            digests = [kb for kb in filed if kb[:1] == DIGEST]
            wholes: dict[bytes, bytes | None] = {}
            for i in range(0, len(digests), 1000):
                batch = digests[i : i + 1000]
                found = client.mget([self._wholes + kb for kb in batch])
                wholes.update(zip(batch, found, strict=True))
            # An entry written with its whole key loses both in one step; one
            # whose whole key is missing now may just have gone since the scan.
            lost = [kb for kb, whole in wholes.items() if whole is None]
            gone = {kb for kb in lost if not client.exists(self._values + kb)}
        except self._server.errors as exc:
            self._failed("list keys", exc)
            return iter([])
        listed = ((kb, wholes.get(kb)) for kb in filed if kb not in gone)
        return iter(listed_keys(listed, f"{self._server.where} {self._name!r}"))

    def clear(self) -> None:
        """Forget every entry of this namespace (other names, versions and prefixes are kept)."""
        try:
            keys = self._scan(self._filed)
            client = self._server.client
            for i in range(0, len(keys), 1000):
                client.unlink(*keys[i : i + 1000])
        except self._server.errors as exc:
            self._failed("clear entries", exc)

    def __len__(self) -> int:
        """Return the number of entries in this namespace (a SCAN over the server's keys)."""
        try:
            return len(self._scan())
        except self._server.errors as exc:
            self._failed("count entries", exc)
            return 0

    def close(self) -> None:
        """Close the connections of a client this store made from a URL; the store stays usable.

        The next call connects again. The views that :meth:`bind` made share
        the client. A client passed in is left open: it is the caller's to
        close. A store made from a URL that is garbage collected, or still
        open at exit, is closed then; ``with RedisStore(url) as store:``
        closes it at the block's end.
        """
        if self._server.owned:
            self._server.client.close()

    def _size(self) -> str:
        try:
            return f"{len(self._scan())} entries"
        except self._server.errors:
            return "unreachable"

    # ---------------------------------------------------------------- cross-process single flight

    def get_or_compute(self, key: object, compute: Callable[[], Any]) -> Any:
        """Return the value under ``key``, or compute it once across every process using Redis.

        The first process to miss takes a lease (``SET NX PX lock_ttl``) and
        runs ``compute()``; the others poll until the value appears, or until
        the lease is released (the computation raised) or lapses (its
        process died), and then try to take it. A value that raises is never
        stored. ``@memoize`` calls this on a miss.
        """
        kb, whole = filed_key(key)
        server = self._server
        client = server.client
        vkey, lkey = self._values + kb, self._leases + kb
        token = new_token()
        lock_ms = max(1, int(self._lock_ttl * 1000))
        delays = wait_delays()
        value: Any = MISSING
        # No GET first: the caller (memoize) has just missed, and after taking
        # the lease the entry is read anyway, so a GET would cost every miss
        # one more round trip for a race that is rare.
        entry: bytes | None = None
        try:
            while True:
                if entry is not None:
                    value = self._decode(kb, entry)
                    if value is not MISSING:
                        return value
                if client.set(lkey, token, nx=True, px=lock_ms):
                    # The owner may have stored and released between our read and the SET.
                    entry = client.get(vkey)
                    if entry is None or (value := self._decode(kb, entry)) is MISSING:
                        break
                    server.release(keys=[lkey], args=[token])
                    return value
                time.sleep(next(delays))
                entry = client.get(vkey)
        except server.errors as exc:
            self._failed("take a lease on an entry", exc)
            return compute()  # on_error="compute": without the cache

        def renew() -> None:
            server.renew(keys=[lkey], args=[token, lock_ms])

        handle = KEEPER.hold(renew, self._lock_ttl / 3)
        try:
            value = compute()
            entry = self._codec.dumps(self._context + kb, value)
        except BaseException:
            # Nothing is stored from a failed call, and the lease goes at once.
            KEEPER.drop(handle)
            try:
                server.release(keys=[lkey], args=[token])
            except server.errors:
                pass  # it lapses after lock_ttl; the call's own error matters more
            raise
        KEEPER.drop(handle)
        ttl = "" if self._ttl is None else str(max(1, int(self._ttl * 1000)))
        try:
            keys, args = [vkey, lkey, self._wholes + kb], [entry, token, ttl, whole or b""]
            server.put_and_release(keys=keys, args=args)
        except server.errors as exc:
            self._failed("store an entry", exc)
        return value
