"""Exit codes with one meaning each: 0 taken, 1 refused, 5 not settled yet (wins over 1).

The verdict per result is checked directly; the commands are run in-process against a
Clickatell emulator whose account is frozen (every request fails as a whole), so
messages stay in the outbox waiting for a retry or for the breaker to close.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from smsbridge import ErrorInfo, Kind, Scope, SendResult, Status
from smsbridge.cli import EXIT_OK, EXIT_REFUSED, EXIT_UNSETTLED, main
from smsbridge.cli.outcome import Tally, exit_code, verdict
from smsbridge.testing import EmulatorFactory
from smsbridge_clickatell.emulator import ClickatellEmulator

from .helpers import emulated_config

WHY = ErrorInfo(code="x", text="why", scope=Scope.PROVIDER, kind=Kind.TRANSIENT)


@pytest.mark.parametrize(
    ("status", "error", "expected"),
    [
        (Status.ACCEPTED, None, "ok"),
        (Status.DELIVERED, None, "ok"),
        (Status.QUEUED, None, "ok"),  # the provider's own queue: taken
        (Status.QUEUED, WHY, "unsettled"),  # still waiting in the outbox
        (Status.UNKNOWN, WHY, "unsettled"),
        (Status.REJECTED, WHY, "refused"),
        (Status.INVALID_NUMBER, WHY, "refused"),
        (Status.FAILED_TEMPORARY, WHY, "refused"),  # retries exhausted: final
    ],
)
def test_verdict_of_a_result(status: Status, error: ErrorInfo | None, expected: str) -> None:
    assert verdict(SendResult("+447700900001", status, error=error)) == expected


def test_unsettled_wins_over_refused() -> None:
    assert exit_code(refused=0, unsettled=0) == EXIT_OK == 0
    assert exit_code(refused=3, unsettled=0) == EXIT_REFUSED == 1
    assert exit_code(refused=0, unsettled=1) == EXIT_UNSETTLED == 5
    assert exit_code(refused=3, unsettled=1) == EXIT_UNSETTLED
    tally = Tally()
    tally.add(SendResult("+447700900001", Status.ACCEPTED))
    tally.add(SendResult("+447700900002", Status.REJECTED, error=WHY))
    assert tally.as_dict() == {"ok": 1, "refused": 1, "unsettled": 0, "exit": EXIT_REFUSED}


@pytest.fixture
def frozen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smsbridge_emulator_factory: EmulatorFactory
) -> ClickatellEmulator:
    emulator = smsbridge_emulator_factory(ClickatellEmulator, frozen=True)
    env = emulated_config(
        tmp_path / "smsbridge.toml",
        [emulator],
        extra='store = "outbox.sqlite3"',
        tables="[routing]\nmax_wait = 0\n",
    )
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    return emulator


def cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(args), out=out), out.getvalue()


def test_a_batch_left_waiting_exits_5_even_with_a_bad_line(
    tmp_path: Path, frozen: ClickatellEmulator
) -> None:
    rows = "".join(f"+4477009004{i:02d},n{i}\n" for i in range(6))
    (tmp_path / "rows.csv").write_text("to,name\n" + rows + "12,bad\n", encoding="utf-8")
    code, text = cli("batch", "rows.csv", "--template", "Hi {name}", "--json")
    assert code == EXIT_UNSETTLED
    *results, last = (json.loads(line) for line in text.splitlines())
    assert [r["status"] for r in results].count("queued") == 6
    summary = last["summary"]
    assert (summary["ok"], summary["refused"], summary["unsettled"]) == (0, 1, 6)
    assert summary["exit"] == EXIT_UNSETTLED
    assert not frozen.submissions.accepted_recipients()


def test_a_send_queued_behind_open_breakers_exits_5(
    tmp_path: Path, frozen: ClickatellEmulator
) -> None:
    rows = "".join(f"+4477009004{i:02d},n{i}\n" for i in range(6))
    (tmp_path / "rows.csv").write_text("to,name\n" + rows, encoding="utf-8")
    cli("batch", "rows.csv", "--template", "Hi {name}", "--quiet")  # opens the breaker
    code, text = cli("send", "--to", "+447700900499", "--body", "hi", "--reference", "late-1")
    assert code == EXIT_UNSETTLED
    assert "queued" in text and "breakers open" in text
    code, _ = cli("status", "late-1")
    assert code == EXIT_UNSETTLED


def test_a_refused_number_exits_1(tmp_path: Path, frozen: ClickatellEmulator) -> None:
    frozen.frozen = False
    code, text = cli("send", "--to", "+447700900401", "--to", "12", "--body", "hi")
    assert code == EXIT_REFUSED
    assert "invalid_number" in text and "accepted" in text
    code, _ = cli(
        "enqueue", "--to", "+447700900402", "--to", "12", "--body", "hi", "--reference", "q"
    )
    assert code == EXIT_REFUSED
    code, _ = cli("enqueue", "--to", "+447700900403", "--body", "hi", "--reference", "q2")
    assert code == EXIT_OK
