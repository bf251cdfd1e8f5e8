"""A throwaway PostgreSQL cluster for tests: ``initdb`` + ``pg_ctl`` in a temporary folder.

The server listens on a free port of 127.0.0.1 only, keeps its unix socket inside the
temporary folder (never in ``/var/run/postgresql``, so it cannot collide with a system
cluster), trusts local connections (nothing else can reach it) and runs with ``fsync``
off: the data is thrown away with the folder, so waiting for the disk would only slow the
tests down. Durability is PostgreSQL's business; what the tests check is what each commit
makes visible. A test that crashes the server (``pg_ctl stop -m immediate``) and relies on
acknowledged commits surviving starts its cluster with ``durable_commits=True``.

PostgreSQL refuses to run as root. When this process is root, the server and ``initdb``
run as the unprivileged ``postgres`` user (created by Debian's packages) through
``runuser`` or ``su``, and the folder is handed to that user.

Binaries are looked for in this order: ``$SMSBRIDGE_PG_BIN``, ``pg_config --bindir``,
``initdb`` on ``PATH``, then the newest ``/usr/lib/postgresql/*/bin`` (Debian's layout).

Example::

    with PostgresCluster.start() as cluster:
        store = PostgresStore(cluster.url)
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import os
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Self

__all__ = ["PostgresCluster", "PostgresNotFoundError", "find_bin_dir"]

_HOW_TO_GET_ONE = (
    "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found. Install them "
    "(Debian/Ubuntu: `bash .ci/postgres.sh`, which runs `apt-get install postgresql`), "
    "point $SMSBRIDGE_PG_BIN at their folder, or set $SMSBRIDGE_TEST_POSTGRES_URL to a "
    "server the tests may create schemas on."
)

_PREFIX = "smsbridge-pg-"
_OWNER = "owner.pid"

_USER = "smsbridge"
"""The cluster's superuser (initdb ``-U``), the user in :attr:`PostgresCluster.url`."""


class PostgresNotFoundError(RuntimeError):
    """No PostgreSQL server binaries were found; the message says how to get them."""


def _is_bin_dir(path: Path) -> bool:
    return all(os.access(path / name, os.X_OK) for name in ("initdb", "pg_ctl", "postgres"))


def _version_key(path: Path) -> tuple[int, ...]:
    # /usr/lib/postgresql/15/bin -> (15,); a non-numeric folder sorts first.
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.name)) or (0,)


def find_bin_dir() -> Path | None:
    """The folder holding ``initdb``, ``pg_ctl`` and ``postgres``, or ``None``.

    Returns:
        The first usable folder from ``$SMSBRIDGE_PG_BIN``, ``pg_config --bindir``,
        ``initdb`` on ``PATH`` (symlinks resolved, as Debian links only some of the
        tools), the newest ``/usr/lib/postgresql/*/bin``, or the server bundled with the
        ``pgserver`` wheel (part of the test extra, so a machine with only Python and
        pip can run the suite).
    """
    candidates: list[Path] = []
    configured = os.environ.get("SMSBRIDGE_PG_BIN")
    if configured:
        candidates.append(Path(configured))
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run(  # noqa: S603 - a fixed argument list, no shell
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            out = ""
        if out:
            candidates.append(Path(out))
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    candidates.extend(sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key)[::-1])
    bundled = _bundled_bin_dir()
    if bundled is not None:
        candidates.append(bundled)
    return next((path for path in candidates if _is_bin_dir(path)), None)


def _bundled_bin_dir() -> Path | None:
    """The binaries shipped inside the ``pgserver`` wheel, when it is installed."""
    spec = importlib.util.find_spec("pgserver")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "pginstall" / "bin"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process, alive
    return True


def _reap_orphans(bin_dir: Path, run_as: str | None) -> None:
    """Stop clusters whose starting process died without stopping them."""
    for root in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*"):
        try:
            owner = int((root / _OWNER).read_text())
        except (OSError, ValueError):
            continue  # being created right now, or not ours
        if owner == os.getpid() or _alive(owner):
            continue
        orphan = PostgresCluster(bin_dir, root, 0, run_as)
        # Already stopped is fine: removing the folder is all that is left then.
        with contextlib.suppress(RuntimeError, OSError, subprocess.SubprocessError):
            orphan._run("pg_ctl", ["-D", str(orphan.data_dir), "-m", "immediate", "stop"])
        orphan._remove()


def _free_port() -> int:
    # Another process may take the port before the server binds it; start() retries.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresCluster:
    """A running throwaway cluster; :meth:`start` creates one, :meth:`stop` removes it.

    Args:
        bin_dir: The folder with the server binaries.
        root: The temporary folder holding the data, the socket and the log.
        port: The loopback TCP port.
        run_as: The user the server runs as when this process is root, else ``None``.
        durable_commits: Keep ``synchronous_commit`` on (see :meth:`start`).
    """

    def __init__(
        self,
        bin_dir: Path,
        root: Path,
        port: int,
        run_as: str | None,
        *,
        durable_commits: bool = False,
    ) -> None:
        self.bin_dir = bin_dir
        self.root = root
        self.port = port
        self.run_as = run_as
        self.durable_commits = durable_commits
        self._running = False
        self._halted = False

    @property
    def url(self) -> str:
        """A libpq URL for the cluster's ``postgres`` database as its superuser."""
        return f"postgresql://{_USER}@127.0.0.1:{self.port}/postgres"

    @property
    def data_dir(self) -> Path:
        """The cluster's data folder."""
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        """The server log, worth reading when a start fails."""
        return self.root / "server.log"

    @classmethod
    def start(
        cls, bin_dir: Path | None = None, *, attempts: int = 3, durable_commits: bool = False
    ) -> Self:
        """Create and start a cluster in a new temporary folder.

        Args:
            bin_dir: The server binaries' folder; found by :func:`find_bin_dir` when
                ``None``.
            attempts: Ports to try, in case another process takes the free one first.
            durable_commits: Keep ``synchronous_commit`` on, so that a commit the server
                acknowledged survives a crash of the server (``pg_ctl stop -m
                immediate``) as it does in production. Off by default: with it off, the
                last fraction of a second of acknowledged commits can vanish in a crash,
                which is faster and harmless for tests that never crash the server.

        Returns:
            The running cluster.

        Raises:
            PostgresNotFoundError: When no binaries are found.
            RuntimeError: When running as root without a ``postgres`` user, or when the
                server does not start (the message includes the end of its log).
        """
        found = bin_dir or find_bin_dir()
        if found is None:
            raise PostgresNotFoundError(_HOW_TO_GET_ONE)
        run_as = cls._unprivileged_user()
        _reap_orphans(found, run_as)
        root = Path(tempfile.mkdtemp(prefix=_PREFIX))
        cluster = cls(found, root, 0, run_as, durable_commits=durable_commits)
        try:
            # Who started it: a later start stops the cluster if this process died
            # without stopping it (killed by a CI timeout, say).
            (root / _OWNER).write_text(str(os.getpid()))
            if run_as is not None:
                shutil.chown(root, run_as, run_as)
            cluster._run(
                "initdb",
                [
                    *("-D", str(cluster.data_dir), "-U", _USER, "--auth=trust"),
                    *("-E", "UTF8", "--locale=C", "--no-sync"),
                ],
            )
            for attempt in range(attempts):
                cluster.port = _free_port()
                try:
                    cluster._pg_ctl_start()
                    break
                except RuntimeError:
                    if attempt == attempts - 1:
                        raise
        except BaseException:
            cluster._remove()
            raise
        cluster._running = True
        atexit.register(cluster.stop)
        return cluster

    @staticmethod
    def _unprivileged_user() -> str | None:
        if not hasattr(os, "geteuid") or os.geteuid() != 0:
            return None
        import pwd  # Unix only, like the root check above

        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise RuntimeError(
                "PostgreSQL refuses to run as root and there is no 'postgres' user to run "
                "it as; install Debian's postgresql package (it creates one) or run the "
                "tests as an ordinary user"
            ) from None
        return "postgres"

    def _command(self, program: str, args: Sequence[str]) -> list[str]:
        argv = [str(self.bin_dir / program), *args]
        if self.run_as is None:
            return argv
        if shutil.which("runuser"):
            return ["runuser", "-u", self.run_as, "--", *argv]
        return ["su", "-s", "/bin/sh", self.run_as, "-c", shlex.join(argv)]

    def _run(self, program: str, args: Sequence[str], *, timeout: float = 120) -> None:
        # cwd is the cluster folder: the unprivileged user may not be allowed into ours.
        done = subprocess.run(  # noqa: S603 - a fixed argument list, no shell
            self._command(program, args),
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{program} failed with exit status {done.returncode}:\n"
                f"{done.stdout}{done.stderr}{self._log_tail()}"
            )

    def _pg_ctl_start(self) -> None:
        settings = [
            "-c listen_addresses=127.0.0.1",
            f"-c port={self.port:d}",
            f"-c unix_socket_directories={shlex.quote(str(self.root))}",
            # Thrown away afterwards: skip the disk syncs that make a real server durable.
            "-c fsync=off",
            # A commit waits for its WAL to be written (fsync is off, so not synced): a
            # killed server then keeps every commit it acknowledged.
            f"-c synchronous_commit={'on' if self.durable_commits else 'off'}",
            "-c full_page_writes=off",
            "-c max_connections=200",
        ]
        self._run(
            "pg_ctl",
            [
                *("-D", str(self.data_dir), "-l", str(self.log_file), "-w", "-t", "60"),
                *("-o", " ".join(settings), "start"),
            ],
        )

    # -- operating the running server (tests of what clients do when it goes away) ---------

    def restart(self, *, mode: str = "fast") -> None:
        """Restart the server and wait until it accepts connections again.

        Args:
            mode: ``pg_ctl``'s shutdown mode: ``"smart"``, ``"fast"`` (clients are
                disconnected with ``admin_shutdown``) or ``"immediate"`` (the server is
                killed and recovers from its WAL on start, as after a crash).

        Raises:
            RuntimeError: When ``pg_ctl`` fails (the message includes the server log).
        """
        # -l again: without it the restarted server writes to pg_ctl's stdout and keeps
        # the pipe open after pg_ctl has exited.
        self._run(
            "pg_ctl",
            ["-D", str(self.data_dir), "-l", str(self.log_file), "-m", mode, "-w", "restart"],
        )

    def halt(self, *, mode: str = "fast") -> None:
        """Stop the server but keep the cluster, to be started again with :meth:`resume`.

        Args:
            mode: ``pg_ctl``'s shutdown mode, as for :meth:`restart`.

        Raises:
            RuntimeError: When ``pg_ctl`` fails.
        """
        self._run("pg_ctl", ["-D", str(self.data_dir), "-m", mode, "-w", "stop"])
        self._halted = True

    def resume(self) -> None:
        """Start the server stopped by :meth:`halt`, on the same port, and wait until it
        accepts connections.

        Raises:
            RuntimeError: When the server does not start (its port taken meanwhile, say).
        """
        self._pg_ctl_start()
        self._halted = False

    def _log_tail(self) -> str:
        try:
            lines = self.log_file.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\nserver log:\n" + "\n".join(lines[-20:]) if lines else ""

    def stop(self) -> None:
        """Stop the server and delete its folder. Idempotent."""
        if self._running:
            self._running = False
            atexit.unregister(self.stop)
            try:
                if not self._halted:
                    self._run("pg_ctl", ["-D", str(self.data_dir), "-m", "fast", "-w", "stop"])
            except (RuntimeError, subprocess.TimeoutExpired):
                # Sessions left open by a failed test must not keep the folder alive.
                self._run("pg_ctl", ["-D", str(self.data_dir), "-m", "immediate", "stop"])
        self._remove()

    def _remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self._running else "stopped"
        return f"PostgresCluster({self.url!r}, {state})"
