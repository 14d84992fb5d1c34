"""Single flight across processes for SQLiteStore: each missing key computed once, by lease.

The first process to miss a key takes a *lease* on it, a row of
``memokit_leases`` (see :mod:`memokit.stores._leases` for how leases
behave), and computes; the others poll, with reads only, until the value is
stored, the lease is released (the computation raised: they try again) or
it lapses (its process died: one of them takes over). Storing the value
and releasing the lease happen in one transaction, so a waiter that sees
the lease gone finds the value, or nothing because the call failed.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import Any, Literal

from memokit.stores._codec import Codec, Data
from memokit.stores._keybytes import filed_key
from memokit.stores._leases import KEEPER, new_token, wait_delays
from memokit.stores._protocol import MISSING
from memokit.stores._sqlite._database import LIVE, Database, transaction

__all__ = ["RELEASE", "FileFlight"]

RELEASE = "DELETE FROM memokit_leases WHERE ns = ? AND key = ? AND owner = ?"
_STORED = f"SELECT 1 FROM memokit_entries WHERE ns = :ns AND key = :key AND {LIVE}"
_LEASE = "SELECT owner, expires FROM memokit_leases WHERE ns = ? AND key = ?"
_TAKE = (
    "INSERT INTO memokit_leases (ns, key, owner, expires) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (ns, key) DO UPDATE SET owner = excluded.owner, expires = excluded.expires"
)
_RENEW = "UPDATE memokit_leases SET expires = ? WHERE ns = ? AND key = ? AND owner = ?"


class FileFlight:
    """``get_or_compute`` over the store's file; the store gives the reads and writes it uses."""

    _db: Database
    _codec: Codec
    _context: bytes
    _lock_ttl: float

    def _namespace(self) -> int:
        raise NotImplementedError

    def _get(self, ns: int, kb: bytes) -> Any:
        raise NotImplementedError

    def _put(
        self,
        ns: int,
        kb: bytes,
        whole: bytes | None,
        entry: tuple[bytes, list[Data], int],
        lease: str | None,
    ) -> None:
        raise NotImplementedError

    def get_or_compute(self, key: object, compute: Callable[[], Any]) -> Any:
        """Return the value under ``key``, or compute it once across every process using the file.

        The first process to miss takes a lease on the key and runs
        ``compute()``; others poll until the value is stored, or until the
        lease is released (the computation raised: they try again) or lapses
        (its process died: one of them takes over). A value that raises is
        never stored. ``@memoize`` calls this on a miss.
        """
        # No read first: the caller (memoize) has just missed, and the claim
        # below sees a stored entry anyway ("stored"), so a read would cost
        # every miss one more query for a race that is rare.
        kb, whole = filed_key(key)
        ns = self._namespace()
        token = new_token()
        delays = wait_delays()
        while True:
            state: str = self._claim(ns, kb, token)
            if state == "claimed":
                break
            # Wait with reads only: a write transaction per poll would queue
            # the waiters behind each other and the owner's write.
            while state == "busy":
                time.sleep(next(delays))
                with self._db.session() as conn:
                    state = self._peek(conn, ns, kb, token)
            if state == "stored":
                value = self._get(ns, kb)
                if value is not MISSING:
                    return value
                # expired or rejected since: claim again
        lock_ttl = self._lock_ttl

        def renew() -> None:
            with self._db.session() as conn:
                conn.execute(_RENEW, (time.time() + lock_ttl, ns, kb, token))

        handle = KEEPER.hold(renew, lock_ttl / 3)
        try:
            value = compute()
            entry = self._codec.encode(self._context + kb, value)
            KEEPER.drop(handle)
            self._put(ns, kb, whole, entry, token)  # stores and releases in one transaction
        except BaseException:
            # Nothing is stored from a failed call, and the lease goes at once
            # so that a waiting process need not wait for it to lapse.
            KEEPER.drop(handle)
            with self._db.session() as conn:
                conn.execute(RELEASE, (ns, kb, token))
            raise
        return value

    @staticmethod
    def _peek(
        conn: sqlite3.Connection, ns: int, kb: bytes, token: str
    ) -> Literal["stored", "busy", "free"]:
        """Whether the key is stored, leased by another live process, or neither (read only)."""
        now = time.time()
        if conn.execute(_STORED, {"ns": ns, "key": kb, "now": now}).fetchone():
            return "stored"
        lease = conn.execute(_LEASE, (ns, kb)).fetchone()
        if lease is not None and lease[0] != token.encode() and lease[1] > now:
            return "busy"
        return "free"

    def _claim(self, ns: int, kb: bytes, token: str) -> Literal["claimed", "stored", "busy"]:
        """Take the lease on the key unless it is stored or leased (one write transaction)."""
        with self._db.session() as conn, transaction(conn):
            state = self._peek(conn, ns, kb, token)
            if state != "free":
                return state
            conn.execute(_TAKE, (ns, kb, token, time.time() + self._lock_ttl))
            return "claimed"
