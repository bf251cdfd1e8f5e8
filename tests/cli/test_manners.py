"""Command-line manners: help, version, suggestions, option errors, closed pipes."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from smsbridge import __version__
from smsbridge.cli import EXIT_BROKEN_PIPE, EXIT_OK, EXIT_USAGE, main

from .helpers import TIMEOUT, environment, run


def test_bare_command_prints_the_help_and_exits_0() -> None:
    proc = run()
    assert proc.returncode == EXIT_OK, proc.stderr
    assert proc.stdout.startswith("usage: smsbridge")
    assert "send" in proc.stdout and "breakers" in proc.stdout


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"smsbridge {__version__}\n"


@pytest.mark.parametrize(
    ("argv", "suggestion"),
    [(["sned"], "'send'"), (["stauts", "x"], "'status'"), (["task", "shwo", "x"], "'show'")],
)
def test_a_misspelt_command_gets_a_suggestion(
    argv: list[str], suggestion: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == EXIT_USAGE
    assert capsys.readouterr().err.rstrip().endswith(f"did you mean {suggestion}?")


def test_a_misspelt_provider_gets_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["emulate", "clickatel"]) == EXIT_USAGE
    assert capsys.readouterr().err.rstrip().endswith("did you mean 'clickatell'?")


def test_a_bad_option_value_names_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipients = tmp_path / "people.csv"
    recipients.write_text("to\n+447700900001\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exited:
        main(["task", "create", "n", str(recipients), "--body", "hi", "--at", "tomorrow 10am"])
    assert exited.value.code == EXIT_USAGE
    err = capsys.readouterr().err
    assert "argument --at: 'tomorrow 10am' is not an ISO 8601 time" in err
    assert str(recipients) not in err


def test_a_closed_pipe_ends_quietly() -> None:
    # A pipe nobody reads: the first write fails as it does after `| head` exits.
    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "smsbridge", "providers", "--json"],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=TIMEOUT,
            check=False,
            env=environment(),
        )
    finally:
        os.close(write)
    assert proc.returncode == EXIT_BROKEN_PIPE
    assert proc.stderr == ""


class _Closed(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_a_closed_pipe_in_process_returns_141() -> None:
    assert main(["providers"], out=_Closed()) == EXIT_BROKEN_PIPE
