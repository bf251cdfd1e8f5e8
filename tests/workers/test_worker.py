"""The Worker in-process: unique owners, running until idle, stopping gives claims back."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from smsbridge.config import Config, ProviderConfig
from smsbridge.model import Batch
from smsbridge.outbox import ItemState
from smsbridge.worker import Worker, enqueue, unique_owner
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator


def _config(emulator: ClickatellEmulator, store: Path) -> Config:
    options = ClickatellProvider.emulator_options(emulator)
    return Config(providers=[ProviderConfig(name="clickatell", options=options)], store=str(store))


def test_owners_are_unique() -> None:
    assert unique_owner() != unique_owner()


def test_runs_until_idle(tmp_path: Path) -> None:
    with ClickatellEmulator(balance=Decimal(1000)) as emulator:
        config = _config(emulator, tmp_path / "o.sqlite3")
        with Worker.from_config(config, concurrency=2, poll_interval=0.05) as worker:
            enqueue(worker.store, Batch([f"+4477009001{i:02d}" for i in range(20)], body="x"))
            assert worker.run(until_idle=True, timeout=60) == 20
            assert worker.store.counts()[ItemState.DONE] == 20
        assert len(emulator.submissions.accepted_recipients()) == 20


def test_a_stopped_worker_sends_nothing_and_releases(tmp_path: Path) -> None:
    with ClickatellEmulator(balance=Decimal(1000)) as emulator:
        config = _config(emulator, tmp_path / "o.sqlite3")
        with Worker.from_config(config, poll_interval=0.05) as worker:
            enqueue(worker.store, Batch(["+447700900100", "+447700900101"], body="x"))
            worker.stop()
            claimed = worker.dispatcher.run_once()
            assert claimed == 2
            assert worker.release() == 2
            assert worker.store.counts()[ItemState.PENDING] == 2
            assert worker.run(timeout=5) == 0
        assert len(emulator.submissions) == 0
