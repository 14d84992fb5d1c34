"""A real ``redis-server`` for the tests: started on a free loopback port, stopped after.

No mocks: the Redis tests talk to the server binary from the Debian package
``redis-server`` (``.ci/run`` installs it). Without the binary or the
``redis`` client package the tests skip, saying why, unless
``MEMOKIT_REQUIRE_REDIS=1`` (set by CI), which makes that a failure.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

REQUIRE_ENV = "MEMOKIT_REQUIRE_REDIS"


def unavailable_reason() -> str | None:
    """Return why the Redis tests cannot run here, or ``None`` if they can."""
    if shutil.which("redis-server") is None:
        return "redis-server is not installed (Debian/Ubuntu: apt-get install redis-server)"
    if importlib.util.find_spec("redis") is None:
        return "the redis client package is not installed (pip install 'memokit[redis]')"
    return None


def require_redis() -> None:
    """Skip the calling test when Redis is unavailable, or fail it if CI requires Redis."""
    import pytest  # here, so that the benchmarks can use this module without pytest

    reason = unavailable_reason()
    if reason is None:
        return
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason}; {REQUIRE_ENV}=1 requires the Redis tests to run")
    pytest.skip(f"{reason}; set {REQUIRE_ENV}=1 to make this a failure")


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RedisServer:
    """One redis-server process on 127.0.0.1, without persistence."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port if port is not None else free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The ``redis://`` URL of database 0."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        """Start the server and wait until it answers PING (up to 10 s)."""
        import redis

        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.workdir),
                "--loglevel", "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 10
        try:
            while True:
                if self.process.poll() is not None:
                    err = self.process.stderr.read().decode() if self.process.stderr else ""
                    raise RuntimeError(f"redis-server exited at start: {err}")
                try:
                    if client.ping():
                        return self
                except redis.exceptions.ConnectionError:
                    if time.monotonic() > deadline:
                        raise
                time.sleep(0.02)
        finally:
            client.close()

    def kill(self) -> None:
        """SIGKILL the server and wait for it to be gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        self._close_pipe()

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 5 s)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close_pipe()

    def _close_pipe(self) -> None:
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()


def start_server(workdir: Path) -> RedisServer:
    """Start a server on a free port, trying three ports (another process may take one first)."""
    for attempt in range(3):
        server = RedisServer(workdir)
        try:
            return server.start()
        except Exception:
            server.stop()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")
