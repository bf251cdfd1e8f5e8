"""Worker progress lines: at intervals of a clock given to them, with counts and rates;
and ``smsbridge worker --progress-interval`` end to end."""

from __future__ import annotations

import contextlib
import io
import logging
from decimal import Decimal
from pathlib import Path

import pytest

from smsbridge.cli import EXIT_OK, EXIT_USAGE, main
from smsbridge.cli.worker import _log_to_stderr
from smsbridge.config import Config, ProviderConfig
from smsbridge.model import Batch
from smsbridge.observe.progress import ProgressLog
from smsbridge.outbox.base import ItemState
from smsbridge.results import SendResult
from smsbridge.status import Status
from smsbridge.testing import EmulatorFactory
from smsbridge.worker import Worker, enqueue
from smsbridge.worker_health import HealthMonitor
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator
from tests.cli.helpers import clickatell_config


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _progress(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "smsbridge.worker.progress"]


def test_a_line_per_interval_with_counts_and_rates(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="smsbridge")
    clock = _Clock()
    health = HealthMonitor("w-1")
    counts = {ItemState.PENDING: 7, ItemState.DONE: 40, ItemState.UNKNOWN: 0}
    log = ProgressLog(30, health, lambda: counts, clock=clock)
    health.progress(50)
    health.results(
        [SendResult(f"+4477009000{i:02d}", Status.ACCEPTED) for i in range(40)]
        + [SendResult("+447700900099", Status.REJECTED)]
    )
    clock.now += 29.9
    assert not log.tick()
    clock.now += 0.1
    assert log.tick()
    (line,) = _progress(caplog)
    fields = line.__dict__
    assert (fields["claimed"], fields["sent"]) == (50, 40)
    assert fields["statuses"] == {"accepted": 40, "rejected": 1}
    assert fields["outbox"] == {"pending": 7, "done": 40}
    assert fields["rate_per_s"] == pytest.approx(40 / 30, abs=0.05)
    assert fields["owner"] == "w-1"
    assert not fields["final"]
    # Rates are per interval: nothing more sent, so the next line says 0.
    clock.now += 60
    assert log.tick(final=True)
    assert _progress(caplog)[-1].__dict__["rate_per_s"] == 0
    assert _progress(caplog)[-1].__dict__["final"]


def test_no_line_and_no_count_while_the_logger_is_off(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="smsbridge")
    clock = _Clock()

    def counts() -> dict[ItemState, int]:
        raise AssertionError("the outbox must not be counted for nobody")

    log = ProgressLog(1, HealthMonitor("w-2"), counts, clock=clock)
    clock.now += 5
    assert not log.tick()
    assert _progress(caplog) == []


def test_a_worker_logs_its_last_progress_when_it_stops(
    caplog: pytest.LogCaptureFixture, tmp_path: Path, smsbridge_emulator_factory: EmulatorFactory
) -> None:
    caplog.set_level(logging.INFO, logger="smsbridge")
    emulator = smsbridge_emulator_factory(ClickatellEmulator, balance=Decimal(1000))
    options = ClickatellProvider.emulator_options(emulator)
    config = Config(
        providers=[ProviderConfig(name="clickatell", options=options)],
        store=str(tmp_path / "o.sqlite3"),
    )
    with Worker.from_config(config, poll_interval=0.05, progress_interval=3600) as worker:
        enqueue(worker.store, Batch([f"+4477009002{i:02d}" for i in range(12)], body="x"))
        assert worker.run(until_idle=True, timeout=60) == 12
    (last,) = _progress(caplog)
    assert last.__dict__["final"]
    assert last.__dict__["sent"] == 12
    assert last.__dict__["outbox"] == {"done": 12}


def test_the_worker_command_prints_progress_to_stderr(
    tmp_path: Path, smsbridge_emulator_factory: EmulatorFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator = smsbridge_emulator_factory(ClickatellEmulator, balance=Decimal(1000))
    config = tmp_path / "smsbridge.toml"
    for name, value in clickatell_config(config, emulator).items():
        monkeypatch.setenv(name, value)
    store = tmp_path / "o.sqlite3"
    args = ["worker", "--config", str(config), "--store", str(store), "--until-idle"]
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main([*args, "--progress-interval", "600", "--poll", "0.05"], out=io.StringIO())
    assert code == EXIT_OK
    lines = [line for line in err.getvalue().splitlines() if "smsbridge.worker.progress" in line]
    assert len(lines) == 1
    assert lines[0].startswith("smsbridge worker: smsbridge.worker.progress ")
    assert "final=True" in lines[0]

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert main([*args, "--progress-interval", "0"], out=io.StringIO()) == EXIT_OK
    assert "smsbridge.worker.progress" not in err.getvalue()

    out = io.StringIO()
    assert main([*args, "--progress-interval", "-1"], out=out) == EXIT_USAGE
    assert "--progress-interval" in out.getvalue()


def test_the_worker_command_shows_breaker_changes_and_the_events_of_its_level() -> None:
    breaker = logging.getLogger("smsbridge.breaker")
    retry = logging.getLogger("smsbridge.retry")
    before = (breaker.level, logging.getLogger("smsbridge").level)
    for level, shown in (("warning", ["breaker"]), ("info", ["breaker", "retry"])):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), _log_to_stderr(level):
            breaker.info("breaker")
            retry.info("retry")
            retry.debug("retry in detail")
        lines = err.getvalue().splitlines()
        assert lines == [f"smsbridge worker: {name}" for name in shown]
    # The command's settings last as long as the command.
    assert (breaker.level, logging.getLogger("smsbridge").level) == before
