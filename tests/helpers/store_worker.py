"""A separate process that uses a persistent store, for the cross-process tests.

The helpers at the top (``spawn``, ``run_together``, ``computations``,
``fork_child`` ...) are what the tests import; the rest runs in the worker
process.

Run as ``python tests/helpers/store_worker.py '<json config>'``. The config says
which store to open (``"sqlite"`` with a path, or ``"redis"`` with a URL)
and what to do:

* ``"call"``: call the memoized ``work(n)`` for each of ``keys`` and print
  the results as JSON. ``work`` appends ``"<pid> <n>"`` to the ``log`` file
  (opened with O_APPEND, so lines from many processes never interleave)
  before it computes, which is how the tests count computations. With
  ``"hang": true`` it then sleeps for a minute (a process to SIGKILL); with
  ``"fail": true`` it raises. ``"sleep"`` slows each computation down.
  With ``"value_kib": k`` it returns :func:`pattern` ``(n, k)`` instead of
  ``n * n``, and the worker prints each result's SHA-256 (hex).
* ``"keys"``: print :func:`memokit.stores._keybytes.storage_key` of ``keys``
  (decoded from JSON, with ``["frozenset", [...]]`` and ``["tuple", [...]]``
  for those types) as hex, to compare encodings across hash seeds.
* ``"write"``: store :func:`pattern` ``(n, 300)`` under keys n = 0, 1, 2, ... for ever,
  printing each key once it is stored (a process to SIGKILL mid-write).
* ``"die"``: store :func:`pattern` ``(1, 300)`` under key 1, then
  ``pattern(2, 300)`` under key 1, and SIGKILL itself at the moment
  ``"at"`` names in the second write: ``"writing"`` (half its temporary
  file written), ``"renamed"`` (file renamed into place, row not yet
  committed) or ``"committed"`` (row committed, the replaced value's file
  not yet deleted).

``"serializer"`` and ``"file_threshold"``, if given, are passed to the
store.

If ``ready`` is given, the worker creates that file once it is set up and
waits for the ``go`` file before starting, so several workers start
together.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import memokit.stores._sqlite._files
from memokit import RedisStore, SQLiteStore, Store, memoize
from memokit.stores._keybytes import storage_key
from memokit.stores._sqlite._files import ValueFiles

SECRET = "cross-process-test-secret"
WORKER = Path(__file__).resolve()


# ---------------------------------------------------------------- used by the tests


def spawn(config: dict[str, Any], *, hash_seed: int | None = None) -> subprocess.Popen[str]:
    """Start a worker process with this config (and this PYTHONHASHSEED, if given)."""
    env = dict(os.environ)
    if hash_seed is not None:
        env["PYTHONHASHSEED"] = str(hash_seed)
    return subprocess.Popen(
        [sys.executable, str(WORKER), json.dumps(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def finish(proc: subprocess.Popen[str], timeout: float = 60) -> Any:
    """Wait for a worker, check it succeeded, and return the JSON it printed."""
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"worker failed ({proc.returncode}):\n{err}"
    return json.loads(out)


def computations(log: Path) -> list[tuple[int, int, float]]:
    """Return the (pid, n, time) of every computation logged so far."""
    if not log.exists():
        return []
    lines = log.read_text().splitlines()
    return [(int(pid), int(n), float(at)) for pid, n, at in (line.split() for line in lines)]


def connection(store: SQLiteStore) -> sqlite3.Connection:
    """This thread's connection to the store's file (opened if it has none)."""
    with store._db.session() as conn:
        return conn


def is_open(conn: sqlite3.Connection) -> bool:
    """Whether an SQLite connection still works (a closed one raises ProgrammingError)."""
    try:
        conn.execute("SELECT 1")
    except sqlite3.ProgrammingError:  # "Cannot operate on a closed database."
        return False
    return True


def wait_for(condition: Callable[[], bool], timeout: float = 30) -> None:
    """Poll ``condition`` until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for a worker"
        time.sleep(0.01)


def run_together(configs: list[dict[str, Any]], tmp: Path) -> list[Any]:
    """Start one worker per config, release them at once when all are ready, return outputs."""
    procs = []
    for i, config in enumerate(configs):
        ready = tmp / f"ready-{i}"
        procs.append(spawn({**config, "ready": str(ready), "go": str(tmp / "go")}))
    wait_for(lambda: all((tmp / f"ready-{i}").exists() for i in range(len(configs))), 60)
    (tmp / "go").touch()
    return [finish(proc) for proc in procs]


@dataclass(frozen=True)
class Child:
    """A child made by :func:`fork_child`: its pid, and the pipe it reports through."""

    pid: int
    reader: int

    def result(self, timeout: float = 60) -> Any:
        """Wait for the child and return what its work returned; fail if it failed or hung.

        A child still running after ``timeout`` seconds is killed, so a hang
        fails the test instead of hanging the suite.
        """
        deadline = time.monotonic() + timeout
        try:
            while True:
                done, status = os.waitpid(self.pid, os.WNOHANG)
                if done:
                    break
                if time.monotonic() > deadline:
                    os.kill(self.pid, signal.SIGKILL)
                    os.waitpid(self.pid, 0)
                    raise AssertionError(f"forked child hung: killed after {timeout} s")
                time.sleep(0.01)
            report = b""
            while chunk := os.read(self.reader, 65536):
                report += chunk
        finally:
            os.close(self.reader)
        code = os.waitstatus_to_exitcode(status)
        assert code == 0, f"forked child failed (exit status {code}):\n{report.decode()}"
        return json.loads(report)


def _threads() -> int:
    """The process's threads, as Python 3.12+ counts them before warning (native ones too)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except FileNotFoundError:  # not Linux
        return len(sys._current_frames())


def fork_child(work: Callable[[], Any]) -> Child:
    """Run ``work()`` in a child made by ``os.fork``; its JSON result comes from ``.result()``.

    The child reports through a pipe and always ends with ``os._exit``, so
    it never returns into the test run. Python 3.12+ warns (a
    DeprecationWarning) when a process with other threads forks: that
    warning is taken only then, and any other warning is issued again.
    """
    reader, writer = os.pipe()
    threads = _threads() > 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pid = os.fork()
    if pid == 0:  # the child
        code = 1
        try:
            os.close(reader)
            try:
                report = json.dumps(work())
                code = 0
            except BaseException:
                report = traceback.format_exc()
            data = report.encode()
            while data:
                data = data[os.write(writer, data) :]
        finally:
            os._exit(code)
    os.close(writer)
    about_fork = [
        w for w in caught if w.category is DeprecationWarning and "fork()" in str(w.message)
    ]
    # Expected only when other threads ran: one that ends while the fork waits
    # for its call (see memokit.stores._sqlite._fork) may leave none to warn about.
    assert len(about_fork) <= (1 if threads and sys.version_info >= (3, 12) else 0), caught
    for w in caught:
        if w not in about_fork:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return Child(pid, reader)


# ---------------------------------------------------------------- the worker


def pattern(n: int, kib: int) -> bytes:
    """A large value that says which key it belongs to: ``kib`` KiB of the byte ``n % 256``."""
    return bytes([n % 256]) * (kib * 1024)


def open_store(config: dict[str, Any]) -> Store[Any]:
    """Return the store the config names."""
    options = {"secret": SECRET, "lock_ttl": config.get("lock_ttl", 30.0)}
    if "serializer" in config:
        options["serializer"] = config["serializer"]
    if config["store"] == "sqlite":
        if "file_threshold" in config:
            options["file_threshold"] = config["file_threshold"]
        return SQLiteStore(config["location"], **options)
    return RedisStore(config["location"], **options)


def decode(value: Any) -> Any:
    """Turn the JSON spelling of a key back into the key."""
    if isinstance(value, list) and len(value) == 2 and value[0] in ("frozenset", "tuple"):
        items = [decode(v) for v in value[1]]
        return frozenset(items) if value[0] == "frozenset" else tuple(items)
    return value


def write_forever(store: Store[Any]) -> None:
    """Store value after value, each a 300 KiB pattern of its key (a file each)."""
    n = 0
    while True:
        store.set(n, pattern(n, 300))
        print(n, flush=True)
        n += 1


def die_while_writing(store: Store[Any], at: str) -> None:
    """Write key 1 twice; SIGKILL this process at the moment ``at`` of the second write."""
    store.set(1, pattern(1, 300))

    def die() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    files = ValueFiles
    if at == "writing":
        write_all = memokit.stores._sqlite._files.write_all

        def write_half(fd: int, head: bytes, parts: Any) -> None:
            data = b"".join(parts)
            write_all(fd, head, [data[: len(data) // 2]])
            die()

        memokit.stores._sqlite._files.write_all = write_half
    elif at == "renamed":
        place = files.place

        def place_and_die(self: Any, name: str) -> None:
            place(self, name)
            die()

        files.place = place_and_die  # type: ignore[method-assign]
    else:
        remove = files.remove

        def die_before_removing(self: Any, names: Any) -> None:
            names = list(names)
            if names:
                die()
            remove(self, names)

        files.remove = die_before_removing  # type: ignore[method-assign]
    store.set(1, pattern(2, 300))
    raise AssertionError(f"still alive after the second write (at={at!r})")


CONFIG: dict[str, Any] = {}


def work(n: int) -> Any:
    """Log this computation, act as the config says, and return ``n * n``."""
    fd = os.open(CONFIG["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        os.write(fd, f"{os.getpid()} {n} {time.time()!r}\n".encode())
    finally:
        os.close(fd)
    if CONFIG.get("hang"):
        time.sleep(60)
    time.sleep(CONFIG.get("sleep", 0))
    if CONFIG.get("fail"):
        raise RuntimeError(f"work({n}) failed on purpose")
    if "value_kib" in CONFIG:
        return pattern(n, CONFIG["value_kib"])
    return n * n


def main() -> None:
    """Run the action the JSON config in argv[1] asks for."""
    config = json.loads(sys.argv[1])
    action = config["action"]
    if action == "keys":
        print(json.dumps([storage_key(decode(k)).hex() for k in config["keys"]]))
        return
    store = open_store(config)
    if action == "write":
        write_forever(store)
        return
    if action == "die":
        die_while_writing(store, config["at"])
    CONFIG.update(config)
    # Bound here, not with a decorator at module level, because the store
    # comes from the config; the name is still the module-level "work".
    cached = memoize(store=store)(work)

    if config.get("ready"):
        Path(config["ready"]).touch()
        go = Path(config["go"])
        while not go.exists():
            time.sleep(0.005)
    results: dict[str, Any] = {}
    for n in config["keys"]:
        try:
            value = cached(n)
            if isinstance(value, bytes):
                value = hashlib.sha256(value).hexdigest()
            results[str(n)] = value
        except RuntimeError as exc:
            results[str(n)] = f"error: {exc}"
    print(json.dumps(results))


if __name__ == "__main__":
    main()
