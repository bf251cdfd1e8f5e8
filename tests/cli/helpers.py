"""Running the real ``smsbridge`` entry point in a subprocess, with a chosen environment."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from smsbridge.cli.emulate import config_text, describe
from smsbridge.plugins import default_plugin_manager
from smsbridge.testing import Emulator
from smsbridge_clickatell.emulator import ClickatellEmulator

TIMEOUT = 60


def environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The test process's environment without smsbridge settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMSBRIDGE_", "CLICKATELL_"))}
    # Keep the test's own outbox home, so a command that opens the default outbox never
    # writes into the real per-user folder.
    if "SMSBRIDGE_HOME" in os.environ:
        env["SMSBRIDGE_HOME"] = os.environ["SMSBRIDGE_HOME"]
    env.update(extra or {})
    return env


def run(
    *args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m smsbridge ARGS`` with a bounded wait."""
    return subprocess.run(
        [sys.executable, "-m", "smsbridge", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        env=environment(env),
        cwd=cwd,
    )


def clickatell_config(path: Path, emulator: ClickatellEmulator, extra: str = "") -> dict[str, str]:
    """Write a smsbridge.toml for ``emulator`` at ``path``; returns the credential env."""
    path.write_text(
        f"""region = "GB"

[providers.clickatell]
base_url = "{emulator.url}"
api_id_env = "CLICKATELL_API_ID"
user_env = "CLICKATELL_USER"
password_env = "CLICKATELL_PASSWORD"
auth_mode = "per_call"
{extra}""",
        encoding="utf-8",
    )
    return {
        "CLICKATELL_API_ID": emulator.api_id,
        "CLICKATELL_USER": emulator.user,
        "CLICKATELL_PASSWORD": emulator.password,
    }


class LineReader:
    """Reads a subprocess's text stream on a thread, so waits for a line can be bounded.

    (A selector on a buffered text stream misses lines already read into its buffer.)
    """

    def __init__(self, stream: IO[str]) -> None:
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self._lines.put(line)
        self._lines.put(None)

    def until(self, done: Callable[[str], bool], timeout: float = TIMEOUT) -> list[str]:
        """Lines up to and including the first for which ``done`` is true."""
        lines: list[str] = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                raise AssertionError(f"no expected line within {timeout}s; got {lines}") from None
            if line is None:
                raise AssertionError(f"the stream ended first; got {lines}")
            lines.append(line)
            if done(line):
                return lines

    def rest(self, timeout: float = TIMEOUT) -> str:
        """Everything left until the stream ends (the process must be ending)."""
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the stream did not end"
        parts: list[str] = []
        while (line := self._lines.get_nowait()) is not None:
            parts.append(line)
        return "".join(parts)


@contextmanager
def emulate_process(*args: str) -> Iterator[tuple[subprocess.Popen[str], LineReader]]:
    """``smsbridge emulate ARGS`` as a child process, with a reader of its output; killed
    (if still running) and its pipes closed on the way out."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "smsbridge", "emulate", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(),
    )
    try:
        assert proc.stdout is not None
        yield proc, LineReader(proc.stdout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=TIMEOUT)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def emulated_config(
    path: Path, emulators: list[Emulator], extra: str = "", tables: str = ""
) -> dict[str, str]:
    """Write the configuration ``smsbridge emulate`` prints for these emulators (providers
    in this order, region GB) to ``path``, with ``extra`` top-level lines first and
    ``tables`` (``[routing]``...) last; returns the credential environment it needs."""
    registry = default_plugin_manager().registry
    described = [describe(registry.get(emulator.name), emulator) for emulator in emulators]
    text = f"{extra}\n" + config_text(described, "GB") + f"\n{tables}"
    path.write_text(text, encoding="utf-8")
    return {name: value for item in described for name, value in item["env"].items()}
