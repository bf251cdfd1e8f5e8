"""``smsbridge batch`` on generated hostile files, run in-process against an emulator.

Every good row is accepted exactly once by the emulator (over a real socket), every
damaged row is reported exactly once with its ``FILE:LINE``, and nothing crashes.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from smsbridge.cli import main
from smsbridge.testing import EmulatorFactory
from smsbridge_clickatell.emulator import ClickatellEmulator
from tests.strategies import HostileCsv, hostile_csv

from .helpers import clickatell_config

_runs = itertools.count()


@pytest.fixture
def configured(
    tmp_path: Path, smsbridge_emulator_factory: EmulatorFactory, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, ClickatellEmulator]:
    emulator = smsbridge_emulator_factory(ClickatellEmulator, balance=Decimal(10**6))
    config = tmp_path / "smsbridge.toml"
    for name, value in clickatell_config(config, emulator).items():
        monkeypatch.setenv(name, value)
    return config, emulator


# One emulator and outbox serve every example: each run has its own batch reference, and
# what the emulator accepted is compared run by run.
@pytest.mark.slow
@settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], deadline=None
)
@given(case=hostile_csv())
def test_good_rows_are_sent_once_and_bad_rows_reported_once(
    tmp_path: Path, configured: tuple[Path, ClickatellEmulator], case: HostileCsv
) -> None:
    config, emulator = configured
    run = next(_runs)
    data = tmp_path / f"hostile-{run}.csv"
    data.write_bytes(case.data)
    before = emulator.submissions.accepted_recipients()
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(
            ["batch", str(data), "--template", "Hi {name}", "--json", "--quiet",
             "--reference", f"hostile-{run}", "--config", str(config)],
            out=out,
        )  # fmt: skip
    # An empty name is a bad row of the batch (nothing to fill the template with).
    sent = {line: row for line, row in case.good.items() if row[1].strip()}
    unfilled = sorted(set(case.good) - set(sent))
    assert code == (0 if not case.bad and not unfilled else 1), err.getvalue()
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert "summary" in lines[-1]  # one closing summary line, then no more
    results = lines[:-1]
    assert sorted(r["line"] for r in results) == sorted([*case.good, *case.bad])
    assert {r["line"] for r in results if r["status"] == "accepted"} == set(sent)
    reported = [line.split(": ")[0] for line in err.getvalue().splitlines()]
    assert reported == [f"{data}:{line}" for line in sorted([*case.bad, *unfilled])]
    accepted = emulator.submissions.accepted_recipients() - before
    assert accepted == Counter(number for number, _ in sent.values())


class _Terminal(io.StringIO):
    """Captured stderr that says it is a terminal, so the progress bar is drawn."""

    def isatty(self) -> bool:
        return True


def test_the_progress_bar_reaches_the_files_row_count(
    tmp_path: Path, configured: tuple[Path, ClickatellEmulator]
) -> None:
    config, _ = configured
    data = tmp_path / "rows.csv"
    data.write_bytes(
        b"to,name\n"
        b"+447700900601,Ann\n"
        b"07700 900601,Ann again\n"  # duplicate
        b"12,Bad\n"  # invalid
        b"+447700900602,B\xffb\n"  # undecodable
        b'+447700900603,"open\n'  # unterminated quote
        b"+447700900604,Di\n"
    )
    err = _Terminal()
    with contextlib.redirect_stderr(err):
        code = main(["batch", str(data), "--template", "Hi {name}", "--config", str(config)],
                    out=io.StringIO())  # fmt: skip
    assert code == 1
    final = err.getvalue().rstrip("\n").rpartition("\r")[2]
    assert "6/6" in final, final
    assert "accepted=2 bad_input=3 duplicate=1" in final
