"""What both persistent stores promise across processes, run on each of them.

SQLiteStore (a file) and RedisStore (a real redis-server from
tests/helpers/redis_server.py) plug into the same scenarios: persistence, four
processes sharing keys, a SIGKILLed owner taken over, a lease kept by a long
computation, a lease released by a failed one. Computations are counted
through the workers' O_APPEND log (tests/helpers/store_worker.py).
"""

from __future__ import annotations

import random
import signal
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from memokit import SQLiteStore
from tests.helpers.store_worker import SECRET, computations, finish, run_together, spawn, wait_for


@dataclass(frozen=True)
class SharedStore:
    """Where the worker processes find one store: its kind and its file or URL."""

    kind: str
    location: str

    def config(self, log: Path, keys: list[int], **extra: Any) -> dict[str, Any]:
        """A worker's instructions: call the memoized function on ``keys`` through this store."""
        return {
            "action": "call",
            "store": self.kind,
            "location": self.location,
            "log": str(log),
        } | {
            "keys": keys,
            **extra,
        }


@pytest.fixture(params=["sqlite", "redis"])
def shared(request: pytest.FixtureRequest, tmp_path: Path) -> SharedStore:
    """An empty store of each kind, ready before any process races to it."""
    if request.param == "redis":
        return SharedStore("redis", request.getfixturevalue("redis_url"))
    path = tmp_path / "c.db"
    SQLiteStore(path, secret=SECRET)  # create the file before the race
    return SharedStore("sqlite", str(path))


def test_entries_persist_from_one_process_to_the_next(shared: SharedStore, tmp_path: Path) -> None:
    """What one process computed, a later process (another hash seed) reads without computing."""
    log = tmp_path / "log"
    first = finish(spawn(shared.config(log, [1, 2, 3]), hash_seed=1))
    second = finish(spawn(shared.config(log, [3, 2, 1, 4]), hash_seed=2))
    assert first == {"1": 1, "2": 4, "3": 9}
    assert second == {"3": 9, "2": 4, "1": 1, "4": 16}
    assert [n for _, n, _ in computations(log)] == [1, 2, 3, 4]


def test_four_processes_compute_each_key_once(shared: SharedStore, tmp_path: Path) -> None:
    """Four processes missing the same twelve keys at once compute each key exactly once."""
    log = tmp_path / "log"
    keys = list(range(12))
    configs = []
    for seed in range(4):
        order = keys[:]
        random.Random(seed).shuffle(order)
        configs.append(shared.config(log, order, sleep=0.05))
    for output in run_together(configs, tmp_path):
        assert output == {str(n): n * n for n in keys}
    counts = Counter(n for _, n, _ in computations(log))
    assert counts == Counter(keys), counts
    assert len({pid for pid, _, _ in computations(log)}) > 1  # the work was shared


def test_a_killed_computer_is_taken_over_after_lock_ttl(
    shared: SharedStore, tmp_path: Path
) -> None:
    """A process SIGKILLed while computing is taken over by a waiter once its lease lapses."""
    log = tmp_path / "log"
    lock_ttl = 1.0
    owner = spawn(shared.config(log, [7], hang=True, lock_ttl=lock_ttl))
    wait_for(lambda: len(computations(log)) == 1)
    waiter = spawn(shared.config(log, [7], lock_ttl=lock_ttl))
    time.sleep(1.5)  # > lock_ttl: the owner's renewals keep its lease meanwhile
    assert len(computations(log)) == 1
    owner.send_signal(signal.SIGKILL)
    killed_at = time.time()
    owner.communicate(timeout=10)  # reaps it and closes its pipes
    assert finish(waiter) == {"7": 49}
    (pid_a, _, _), (pid_b, n, started) = computations(log)
    assert (pid_a, pid_b, n) == (owner.pid, waiter.pid, 7)
    assert killed_at < started < killed_at + lock_ttl + 10


def test_a_long_computation_keeps_its_lease(shared: SharedStore, tmp_path: Path) -> None:
    """A computation lasting several lock_ttl is renewed, so a waiting process does not redo it."""
    log = tmp_path / "log"
    owner = spawn(shared.config(log, [3], sleep=2.0, lock_ttl=0.5))
    wait_for(lambda: len(computations(log)) == 1)
    waiter = spawn(shared.config(log, [3], lock_ttl=0.5))
    assert finish(owner) == {"3": 9}
    assert finish(waiter) == {"3": 9}
    assert [pid for pid, _, _ in computations(log)] == [owner.pid]


def test_a_failed_computation_releases_its_lease_at_once(
    shared: SharedStore, tmp_path: Path
) -> None:
    """A process whose computation raises stores nothing and frees the key at once."""
    log = tmp_path / "log"
    failing = spawn(shared.config(log, [5], sleep=1.0, fail=True))
    wait_for(lambda: len(computations(log)) == 1)
    waiter = spawn(shared.config(log, [5]))  # lock_ttl 30 s: it must not wait that long
    assert finish(failing) == {"5": "error: work(5) failed on purpose"}
    failed_at = time.time()
    assert finish(waiter) == {"5": 25}
    (pid_a, _, _), (pid_b, _, started) = computations(log)
    assert (pid_a, pid_b) == (failing.pid, waiter.pid)
    assert started < failed_at + 10
