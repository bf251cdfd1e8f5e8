"""Worker processes for the multi-process tests and the benchmark.

Each worker is a real ``python`` process running the ``smsbridge worker`` command module
(through :data:`WORKER_SCRIPT`, which registers only that command, so the tests do not
depend on the command list). Emulators run in the test process; the configuration names
them through environment variables, never with a literal credential.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from smsbridge.testing import Emulator

__all__ = ["WORKER_SCRIPT", "WorkerPool", "numbers", "wait_until", "write_config"]

WORKER_SCRIPT = """\
import argparse
import sys

from smsbridge.cli import worker

parser = argparse.ArgumentParser(prog="smsbridge")
worker.register(parser.add_subparsers(dest="command", required=True))
args = parser.parse_args(sys.argv[1:])
sys.exit(args.func(args, sys.stdout))
"""


def numbers(count: int, start: int = 0) -> list[str]:
    """``count`` distinct valid UK mobile numbers in E.164."""
    return [f"+4477{index:08d}" for index in range(start, start + count)]


def write_config(
    folder: Path, provider: str, emulator: Emulator, store: str, **options: object
) -> tuple[Path, dict[str, str]]:
    """A ``smsbridge.toml`` for one emulated provider, and the environment it reads.

    Args:
        folder: Where the file goes.
        provider: ``"bulksms"`` or ``"clickatell"``.
        emulator: The running emulator.
        store: The outbox location.
        **options: More provider options (numbers or strings).

    Returns:
        The file and the variables holding the credentials.
    """
    from smsbridge.plugins import default_plugin_manager

    cls = default_plugin_manager().registry.get(provider)
    given = cls.emulator_options(emulator)
    lines = [f"store = {store!r}".replace("'", '"'), "", f"[providers.{provider}]"]
    env: dict[str, str] = {}
    for name, value in {**given, **options}.items():
        if name == "base_url" or not isinstance(value, str):
            lines.append(f"{name} = {value!r}".replace("'", '"'))
            continue
        variable = f"SMSBRIDGE_TEST_{provider.upper()}_{name.upper()}"
        env[variable] = value
        lines.append(f'{name}_env = "{variable}"')
    path = folder / "smsbridge.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, env


def wait_until(check: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    """Poll ``check`` until it holds or ``timeout`` seconds pass; returns the last result."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


class WorkerPool:
    """``smsbridge worker`` subprocesses; every one is killed when the pool closes.

    Args:
        folder: Where the worker script and the output files go.
        config: The configuration file.
        env: Extra environment (credentials).
        args: Extra ``smsbridge worker`` arguments.
    """

    def __init__(
        self, folder: Path, config: Path, env: Mapping[str, str], args: Sequence[str] = ()
    ) -> None:
        self.folder = folder
        self.script = folder / "run_worker.py"
        self.script.write_text(WORKER_SCRIPT, encoding="utf-8")
        self.command = [sys.executable, str(self.script), "worker", "--config", str(config)]
        self.command += list(args)
        self.env = {**os.environ, **env}
        self.procs: list[subprocess.Popen[bytes]] = []
        self._outputs: list[IO[bytes]] = []

    def start(
        self, count: int, args: Callable[[int], Sequence[str]] | None = None
    ) -> list[subprocess.Popen[bytes]]:
        """Start ``count`` more workers.

        Args:
            count: How many.
            args: Extra arguments for worker ``index`` (its own health file, say).
        """
        started = []
        for _ in range(count):
            index = len(self.procs)
            out = (self.folder / f"worker-{index}.out").open("wb")
            self._outputs.append(out)
            command = [*self.command, *(args(index) if args is not None else ())]
            proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=self.env)
            self.procs.append(proc)
            started.append(proc)
        return started

    def output(self, index: int) -> str:
        """What worker ``index`` printed so far."""
        return (self.folder / f"worker-{index}.out").read_text(encoding="utf-8", errors="replace")

    def owner(self, index: int, timeout: float = 30.0) -> str:
        """Worker ``index``'s lease name, from its first line."""
        found: list[str] = []

        def started() -> bool:
            for line in self.output(index).splitlines():
                if line.startswith("worker ") and line.endswith(" started"):
                    found.append(line.split()[1])
                    return True
            return self.procs[index].poll() is not None

        wait_until(started, timeout, 0.05)
        if not found:
            raise AssertionError(f"worker {index} did not start:\n{self.output(index)}")
        return found[0]

    def kill(self, index: int) -> None:
        """``kill -9`` worker ``index`` and reap it."""
        self.procs[index].send_signal(signal.SIGKILL)
        self.procs[index].wait(10)

    def terminate(self, indexes: Iterable[int] | None = None, timeout: float = 60.0) -> list[int]:
        """SIGTERM workers (all by default), wait for them; returns their exit codes."""
        chosen = list(range(len(self.procs)) if indexes is None else indexes)
        for index in chosen:
            if self.procs[index].poll() is None:
                self.procs[index].send_signal(signal.SIGTERM)
        return [self.procs[index].wait(timeout) for index in chosen]

    def close(self) -> None:
        """Kill whatever still runs and close the output files."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)
        for out in self._outputs:
            out.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
