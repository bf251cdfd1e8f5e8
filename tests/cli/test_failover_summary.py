"""Failover and breakers in the command's own words: a primary that runs out of credit.

Clickatell (the primary) has credit for two messages, BulkSMS is the backup. Every row of
the batch has its own text, so each goes out as its own request: the first two are taken
by Clickatell, the next ones are refused for lack of credit (a provider-scope failure)
and fail over to BulkSMS until Clickatell's breaker opens; from then on BulkSMS takes
them directly. The breaker stays open in the outbox for the next command, and
``smsbridge breakers reset`` closes it. Commands run in-process through
:func:`smsbridge.cli.main` against loopback emulators.
"""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from smsbridge.cli import EXIT_OK, EXIT_USAGE, main
from smsbridge.outbox import SqliteStore
from smsbridge.testing import EmulatorFactory
from smsbridge_bulksms.emulator import BulkSmsEmulator
from smsbridge_clickatell.emulator import ClickatellEmulator

from .helpers import emulated_config

ROWS = 12
THRESHOLD = 5  # the breaker's default: consecutive provider failures that open it


@pytest.fixture
def outbox_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smsbridge_emulator_factory: EmulatorFactory
) -> tuple[Path, ClickatellEmulator, BulkSmsEmulator]:
    click = smsbridge_emulator_factory(ClickatellEmulator, balance=Decimal(2))
    bulk = smsbridge_emulator_factory(BulkSmsEmulator)
    config = emulated_config(tmp_path / "smsbridge.toml", [click, bulk], 'store = "outbox.sqlite3"')
    for name, value in config.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    rows = "".join(f"+4477009003{i:02d},n{i}\n" for i in range(ROWS))
    (tmp_path / "rows.csv").write_text("to,name\n" + rows, encoding="utf-8")
    return tmp_path, click, bulk


def cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(args), out=out)
    return code, out.getvalue()


def providers_of(stdout: str) -> dict[str, Any]:
    *_, last = stdout.splitlines()
    summary = json.loads(last)["summary"]
    return {row["provider"]: row for row in summary["providers"]}


def test_batch_summary_shows_failover_and_the_open_breaker(
    outbox_dir: tuple[Path, ClickatellEmulator, BulkSmsEmulator],
) -> None:
    _, click, bulk = outbox_dir
    code, text = cli("batch", "rows.csv", "--template", "Hi {name}", "--reference", "camp")
    assert code == EXIT_OK, text
    assert len(click.submissions.accepted_recipients()) == 2
    assert len(bulk.submissions.accepted_recipients()) == ROWS - 2
    table = {
        line.split()[0]: line for line in text.splitlines() if line.startswith(("click", "bulk"))
    }
    assert f"{THRESHOLD} to bulksms" in table["clickatell"]
    assert "open since" in table["clickatell"] and f"({THRESHOLD} failures)" in table["clickatell"]
    assert f"{THRESHOLD} from clickatell" in table["bulksms"]
    assert "`smsbridge breakers reset clickatell`" in text


def test_batch_json_summary_counts_per_provider(
    outbox_dir: tuple[Path, ClickatellEmulator, BulkSmsEmulator],
) -> None:
    code, text = cli("batch", "rows.csv", "--template", "Hi {name}", "--json")
    assert code == EXIT_OK
    rows = providers_of(text)
    click, bulk = rows["clickatell"], rows["bulksms"]
    assert (click["sent"], click["failed"], click["failed_over_to"]) == (
        2,
        THRESHOLD,
        {"bulksms": THRESHOLD},
    )
    assert (bulk["sent"], bulk["failed"], bulk["failed_over_from"]) == (
        ROWS - 2,
        0,
        {"clickatell": THRESHOLD},
    )
    assert click["breaker"]["state"] == "open" and click["breaker"]["failures"] == THRESHOLD
    assert click["breaker"]["opened_at"].endswith("+00:00")
    assert bulk["breaker"] == {"state": "closed", "failures": 0, "opened_at": None}


def test_the_open_breaker_stays_for_later_commands_until_reset(
    outbox_dir: tuple[Path, ClickatellEmulator, BulkSmsEmulator],
) -> None:
    tmp_path, click, bulk = outbox_dir
    cli("batch", "rows.csv", "--template", "Hi {name}", "--quiet")
    click.balance = Decimal(100)  # credit topped up; the breaker does not know yet

    code, text = cli("send", "--to", "+447700900399", "--body", "later", "--json")
    assert code == EXIT_OK
    rows = providers_of(text)
    assert rows["bulksms"]["sent"] == 1 and rows["clickatell"]["breaker"]["state"] == "open"
    assert "+447700900399" in bulk.submissions.accepted_recipients()

    code, text = cli("breakers")
    assert code == EXIT_OK
    assert [line.split()[:2] for line in text.splitlines()[2:]] == [["clickatell", "open"]]

    code, text = cli("breakers", "reset", "clickatell")
    assert code == EXIT_OK and text.startswith("clickatell: breaker closed (was open since")
    with SqliteStore(tmp_path / "outbox.sqlite3") as store:
        assert store.get_breaker("clickatell").state == "closed"

    code, text = cli("send", "--to", "+447700900398", "--body", "again")
    assert code == EXIT_OK
    assert "+447700900398" in click.submissions.accepted_recipients()
    # Nothing went wrong this time: a send prints no provider table.
    assert "breaker" not in text and len(text.splitlines()) == 3


def test_resetting_an_unknown_breaker_suggests_the_name(
    outbox_dir: tuple[Path, ClickatellEmulator, BulkSmsEmulator], capsys: pytest.CaptureFixture[str]
) -> None:
    cli("batch", "rows.csv", "--template", "Hi {name}", "--quiet")
    capsys.readouterr()
    code, _ = cli("breakers", "reset", "clickatel")
    assert code == EXIT_USAGE
    assert capsys.readouterr().err == (
        "smsbridge breakers: no breaker state stored for 'clickatel'; did you mean 'clickatell'?\n"
    )
    code, text = cli("breakers", "--json")
    assert [row["state"] for row in json.loads(text)] == ["open"]  # untouched


def test_resume_shows_providers_in_text_and_json(
    outbox_dir: tuple[Path, ClickatellEmulator, BulkSmsEmulator],
) -> None:
    cli("batch", "rows.csv", "--template", "Hi {name}", "--quiet")
    code, text = cli("resume", "--json")
    assert code == EXIT_OK
    data = json.loads(text)
    assert data["exit"] == EXIT_OK and data["unsettled"] == 0 and data["refused"] == 0
    assert data["summary"]["settled"] == {"accepted": ROWS}
    assert [row["provider"] for row in data["providers"]] == ["clickatell", "bulksms"]
    assert data["providers"][0]["breaker"]["state"] == "open"
    code, text = cli("resume")
    assert "breaker of clickatell is open" in text
    assert text.splitlines()[-2:] == [f"settled: {ROWS}" + f" ({ROWS} accepted)", "unsettled: 0"]
