"""The Worker in-process when its database fails: transient errors end a round, not the run.

The outbox is a real SQLite file behind a thin stand-in that raises chosen
:class:`OutboxError` s from chosen calls, as a lost PostgreSQL server does, before the
call reaches the store (so, as with a rolled-back transaction, nothing of it is applied).
The provider is the Clickatell emulator on a real socket. Backoff draws are zero, so the
tests never sleep on the worker's waits.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import pytest

from smsbridge.config import Config, ProviderConfig
from smsbridge.errors import Kind
from smsbridge.model import Batch
from smsbridge.outbox import ItemState, OutboxError, OutboxStore, SqliteStore
from smsbridge.worker import Worker, enqueue, unique_owner
from smsbridge.worker_health import HealthFile, HealthState, WorkerHealth
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator

NUMBERS = [f"+4477009002{i:02d}" for i in range(12)]
LEASE = 600.0
"""Far longer than a test: items come back only because the worker gives them back."""


def _lost() -> OutboxError:
    return OutboxError(
        "outbox database error: terminating connection due to administrator command",
        kind=Kind.TRANSIENT,
    )


class FlakyStore:
    """An outbox whose chosen methods fail, in order, before reaching the real store.

    Args:
        store: The real store.
        failures: Method name -> errors its next calls raise, one per call.
    """

    def __init__(self, store: SqliteStore, failures: dict[str, list[OutboxError]]) -> None:
        self.store = store
        self.failures = failures
        self.failed: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.store, name)
        pending = self.failures.get(name)
        if pending is None or not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            if pending:
                self.failed.append(name)
                raise pending.pop(0)
            return attr(*args, **kwargs)

        return call


def _worker(
    emulator: ClickatellEmulator,
    store: FlakyStore,
    on_health: Callable[[WorkerHealth], None] | None = None,
) -> Worker:
    options = ClickatellProvider.emulator_options(emulator)
    config = Config(providers=[ProviderConfig(name="clickatell", options=options)])
    bridge = config.build_bridge(
        store=cast("OutboxStore", store), owner=unique_owner(), concurrency=2
    )
    return Worker(
        bridge,
        lease_seconds=LEASE,
        poll_interval=0.01,
        share_limits=False,
        owns_bridge=True,
        rand=lambda: 0.0,
        on_health=on_health,
    )


def _held_by(store: SqliteStore, owner: str) -> list[str]:
    return [item.reference for item in store.iter_items() if item.lease_owner == owner]


def test_transient_claim_errors_end_rounds_not_the_run(tmp_path: Path) -> None:
    seen: list[WorkerHealth] = []
    with (
        SqliteStore(tmp_path / "o.sqlite3") as real,
        ClickatellEmulator(balance=Decimal(1000)) as emulator,
    ):
        enqueue(real, Batch(NUMBERS, body="x"))
        flaky = FlakyStore(real, {"claim": [_lost(), _lost(), _lost()]})
        with _worker(emulator, flaky, seen.append) as worker:
            assert worker.run(until_idle=True, timeout=60) == len(NUMBERS)
        assert flaky.failed == ["claim"] * 3
        assert real.counts()[ItemState.DONE] == len(NUMBERS)
    assert emulator.submissions.duplicates() == {}
    assert set(emulator.submissions.accepted_recipients()) == set(NUMBERS)
    states = [health.state for health in seen]
    assert states[:3] == [HealthState.DATABASE_UNAVAILABLE] * 3
    assert [h.database_errors for h in seen[:3]] == [1, 2, 3]
    assert "administrator command" in (seen[0].last_error or "")
    assert HealthState.OK in states[3:]
    assert states[-1] is HealthState.STOPPED
    assert seen[-1].claimed == len(NUMBERS) and seen[-1].sent == len(NUMBERS)


def test_unrecorded_results_are_reconciled_after_the_leases_are_given_back(
    tmp_path: Path,
) -> None:
    with (
        SqliteStore(tmp_path / "o.sqlite3") as real,
        ClickatellEmulator(balance=Decimal(1000)) as emulator,
    ):
        enqueue(real, Batch(NUMBERS, body="x"))
        # The first request's answer cannot be recorded, and the database stays away for
        # the next two calls that would give the lease back.
        flaky = FlakyStore(real, {"finish_many": [_lost()], "release": [_lost(), _lost()]})
        with _worker(emulator, flaky) as worker:
            worker.run(until_idle=True, timeout=60)
            owner = worker.owner
        assert flaky.failed == ["finish_many", "release", "release"]
        done = list(real.iter_items(state=ItemState.DONE))
        assert len(done) == len(NUMBERS)
        assert _held_by(real, owner) == []
        # The items whose outcome was lost were settled by asking Clickatell about them
        # (the status its query answers; one attempt each), not sent again.
        assert all(item.status is not None and item.status.is_success for item in done)
        assert {item.attempts for item in done} == {1}
    assert emulator.submissions.accepted_recipients() == dict.fromkeys(NUMBERS, 1)
    assert emulator.submissions.duplicates() == {}
    assert set(emulator.submissions.accepted_recipients()) == set(NUMBERS)


def test_a_permanent_error_ends_the_run_after_giving_the_leases_back(tmp_path: Path) -> None:
    broken = OutboxError("outbox database error: relation items does not exist")
    with (
        SqliteStore(tmp_path / "o.sqlite3") as real,
        ClickatellEmulator(balance=Decimal(1000)) as emulator,
    ):
        enqueue(real, Batch(NUMBERS, body="x"))
        flaky = FlakyStore(real, {"begin_attempts": [broken]})
        health = HealthFile(tmp_path / "health.json")
        with _worker(emulator, flaky, health) as worker:
            with pytest.raises(OutboxError, match="does not exist") as info:
                worker.run(timeout=60)
            assert info.value.kind is Kind.PERMANENT
            assert _held_by(real, worker.owner) == []
            assert health.read().state is HealthState.STOPPED
        # Requests the other thread had under way finished and were recorded before the
        # leases went back; nothing else was sent.
        counts = real.counts()
        assert counts.get(ItemState.INFLIGHT, 0) == 0
        assert counts.get(ItemState.DONE, 0) == len(emulator.submissions)
        assert counts.get(ItemState.PENDING, 0) == len(NUMBERS) - len(emulator.submissions)


def test_a_stop_while_the_database_is_away_ends_the_run(tmp_path: Path) -> None:
    with (
        SqliteStore(tmp_path / "o.sqlite3") as real,
        ClickatellEmulator(balance=Decimal(1000)) as emulator,
    ):
        enqueue(real, Batch(NUMBERS, body="x"))
        flaky = FlakyStore(real, {"claim": [_lost()] * 1000, "release": [_lost()] * 1000})
        worker = _worker(emulator, flaky)

        def stop_after_three(health: WorkerHealth) -> None:
            if health.database_errors >= 3:
                worker.stop()

        worker.on_health = stop_after_three
        with worker:
            assert worker.run(timeout=60) == 0
            assert worker.released == 0
        assert real.counts()[ItemState.PENDING] == len(NUMBERS)
    assert len(emulator.submissions) == 0
