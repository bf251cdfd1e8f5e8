"""Start Jasmin (an SMSC nobody here wrote) on loopback and configure it through jCli.

Used by ``nox -s interop``: Jasmin serves SMPP to smsbridge on one side and forwards to
smsbridge's own SMSC emulator, as its upstream connector, on the other; receipts come
back the same way. Jasmin needs Redis and RabbitMQ (Debian packages), started here when
they are not running, and its configuration files from its source distribution.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["JCLI_PORT", "SMPP_PORT", "jasmin"]

SMPP_PORT = 2775
JCLI_PORT = 8990
_PROMPT = b"jcli : "


def _listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
        return True
    return False


def _wait_port(port: int, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not _listening(port):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not listen on port {port} within {timeout} s")
        time.sleep(0.3)


def _tool(name: str) -> str:
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin")
    if path is None:
        raise RuntimeError(
            f"{name} is not installed (apt-get install redis-server rabbitmq-server)"
        )
    return path


Service = tuple[str, "subprocess.Popen[bytes]"]


def _services(root: Path) -> list[Service]:
    """Redis and RabbitMQ, started with throwaway state when not already listening (a
    broker kept from an earlier run would hand Jasmin that run's queued messages)."""
    started: list[Service] = []
    if not _listening(6379):
        redis = [_tool("redis-server"), "--port", "6379", "--bind", "127.0.0.1", "--save", ""]
        started.append(("redis", subprocess.Popen(redis, stdout=subprocess.DEVNULL)))
        _wait_port(6379, 30, "redis-server")
    if not _listening(5672):
        # Debian's script runs the broker as the rabbitmq user: a folder it may write.
        state = root / "rabbitmq"
        state.mkdir(mode=0o777)
        state.chmod(0o777)
        root.chmod(0o755)
        env = {
            **os.environ,
            "RABBITMQ_MNESIA_BASE": str(state / "mnesia"),
            "RABBITMQ_LOG_BASE": str(state / "log"),
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
        }
        broker = subprocess.Popen([_tool("rabbitmq-server")], env=env, stdout=subprocess.DEVNULL)
        started.append(("rabbitmq", broker))
        _wait_port(5672, 180, "rabbitmq-server")
    return started


def _stop(name: str, service: subprocess.Popen[bytes]) -> None:
    if name == "rabbitmq":
        # The script's child (the Erlang VM) outlives a signal to the script.
        subprocess.run([_tool("rabbitmqctl"), "shutdown"], capture_output=True, timeout=120)
    service.terminate()
    try:
        service.wait(60)
    except subprocess.TimeoutExpired:
        service.kill()
        service.wait(10)


def _config(root: Path, sdist: Path) -> None:
    """Jasmin's default configuration, from its source distribution."""
    with tarfile.open(sdist) as archive:
        archive.extractall(root / "src", filter="data")
    (config,) = (root / "src").glob("jasmin-*/misc/config")
    shutil.copytree(config, root / "etc" / "jasmin")
    (root / "etc" / "jasmin" / "store").mkdir(exist_ok=True)
    (root / "var" / "log" / "jasmin").mkdir(parents=True)


class JCli:
    """A jCli session (Jasmin's telnet console)."""

    def __init__(self, port: int = JCLI_PORT) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), 10)
        self._until(b"\r\n\r\r\r\n")  # the banner; the prompt follows a first line
        self._send("")
        self._until(b"Username: ")
        self._send("jcliadmin")
        self._until(b"Password: ")
        self._send("jclipwd")
        self._until(_PROMPT)

    def _send(self, line: str) -> None:
        self.sock.sendall(line.encode() + b"\r\n")

    def _until(self, *markers: bytes) -> bytes:
        data = b""
        while not any(data.endswith(marker) for marker in markers):
            chunk = self.sock.recv(4096)
            if not chunk:
                raise RuntimeError(f"jCli closed: {data[-300:]!r}")
            data += chunk
        return data

    def run(self, *lines: str) -> str:
        """Send a command and its ``key value`` lines (ending with ``ok``).

        Raises:
            RuntimeError: jCli answered with an error.
        """
        out = b""
        for line in lines:
            self._send(line)
            out += self._until(b"> ", _PROMPT)
        text = out.decode(errors="replace")
        if "error" in text.lower() or "unknown" in text.lower():
            raise RuntimeError(f"jCli refused {lines[0]!r}: {text[-400:]}")
        return text

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._send("quit")
        self.sock.close()


@contextlib.contextmanager
def jasmin(
    python: str, sdist: Path, *, upstream_port: int, upstream_login: tuple[str, str]
) -> Iterator[tuple[str, str]]:
    """Run jasmind with a user ``smsb`` routed to the SMSC at ``upstream_port``.

    Args:
        python: The interpreter of the environment Jasmin is installed in.
        sdist: Jasmin's source distribution (for its configuration files).
        upstream_port: Where Jasmin's SMPP client connector binds (the emulator).
        upstream_login: ``(system_id, password)`` of that connector.

    Yields:
        The ``(system_id, password)`` smsbridge binds to Jasmin with.
    """
    root = Path(tempfile.mkdtemp(prefix="jasmin-"))
    services: list[Service] = []
    daemon: subprocess.Popen[bytes] | None = None
    try:
        services = _services(root)
        _config(root, sdist)
        script = Path(python).with_name("jasmind.py")
        env = {**os.environ, "ROOT_PATH": str(root)}
        with (root / "jasmind.log").open("wb") as log:
            daemon = subprocess.Popen(
                [python, str(script), "--username", "jcliadmin", "--password", "jclipwd",
                 "--enable-dlr-thrower", "--enable-dlr-lookup", "--enable-deliver-thrower"],
                env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root,
            )  # fmt: skip
        _wait_port(JCLI_PORT, 60, "jasmind's jCli")
        _wait_port(SMPP_PORT, 60, "jasmind's SMPP server")
        cli = JCli()
        try:
            cli.run("group -a", "gid smsbridge", "ok")
            cli.run("user -a", "username smsb", "password smsbpw", "gid smsbridge",
                    "uid smsb", "ok")  # fmt: skip
            system_id, password = upstream_login
            cli.run("smppccm -a", "cid emulator", "host 127.0.0.1", f"port {upstream_port}",
                    f"username {system_id}", f"password {password}", "ok")  # fmt: skip
            cli.run("smppccm -1 emulator")
            cli.run("mtrouter -a", "type DefaultRoute", "connector smppc(emulator)",
                    "rate 0.00", "ok")  # fmt: skip
        finally:
            cli.close()
        yield "smsb", "smsbpw"
    finally:
        if daemon is not None:
            daemon.terminate()
            try:
                daemon.wait(30)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait(10)
        for name, service in services:
            _stop(name, service)
        shutil.rmtree(root, ignore_errors=True)
