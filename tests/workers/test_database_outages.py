"""Two worker processes ride out their PostgreSQL server going away, three ways.

A throwaway cluster of this test's own (the session's shared one must not be restarted
under other tests) with ``synchronous_commit`` on, so that an acknowledged commit
survives the crash of ``-m immediate`` as it does in production. Mid-run the server is
restarted with ``pg_ctl restart -m fast``, later with ``-m immediate``, and later stopped
until both workers report the database unavailable, then started again. Each time one
BulkSMS request is held at the emulator while the server goes, so a result arrives that
cannot be recorded: its items must be reconciled (the chunk replayed with its
``stop_dup_id``), never sent afresh.

Asserted: both workers are still the same running processes at the end, and exit 0 on
a SIGTERM that comes while the server is stopped once more; every recipient was
accepted by the emulator exactly once; every item is DONE and ACCEPTED; no worker
printed the database password; the health files said so. The leases are 600 s, so the run
finishing at all shows that workers gave back their leases once the database answered.
``SMSBRIDGE_NIGHTLY=1`` runs 20,000 recipients instead of 3,000.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from smsbridge.model import Batch
from smsbridge.outbox import ItemState, OutboxError, OutboxStore
from smsbridge.outbox.factory import open_store
from smsbridge.status import Status
from smsbridge.testing.faults import Delay
from smsbridge.testing.postgres import PostgresCluster
from smsbridge.worker import enqueue
from smsbridge.worker_health import HealthFile, HealthState
from smsbridge_bulksms.emulator import BulkSmsEmulator
from tests.postgres import postgres_location

from .harness import WorkerPool, numbers, wait_until, write_config

NIGHTLY = os.environ.get("SMSBRIDGE_NIGHTLY") == "1"
SIZE = 20_000 if NIGHTLY else 3_000
BATCH = 50 if NIGHTLY else 10
SECRET = "not-for-logs"
WORKERS = 2


def _with_password(url: str) -> str:
    # The cluster trusts loopback and ignores a password: one in the URL only tests that
    # nothing prints it.
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.replace("@", f":{SECRET}@", 1)))


@pytest.mark.slow
def test_workers_ride_out_restarts_crashes_and_a_stop(tmp_path: Path) -> None:
    cluster = PostgresCluster.start(durable_commits=True)
    try:
        location = postgres_location(_with_password(cluster.url), "outbox")
        wanted = numbers(SIZE)
        store = open_store(location)
        try:
            enqueue(store, Batch(wanted, body="outage", reference="o"))
            _run(cluster, location, store, wanted, tmp_path)
        finally:
            store.close()
    finally:
        cluster.stop()


def _run(
    cluster: PostgresCluster, location: str, store: OutboxStore, wanted: list[str], tmp_path: Path
) -> None:
    health = [HealthFile(tmp_path / f"health-{index}.json") for index in range(WORKERS)]
    with BulkSmsEmulator(credits=Decimal(10**9)) as emulator:
        # Requests take a moment, so one is usually in flight whenever the server goes.
        emulator.faults.add(Delay(0.02))
        config, env = write_config(tmp_path, "bulksms", emulator, location, batch_size=BATCH)
        args = ["--lease", "600", "--claim-size", str(BATCH * 10), "--poll", "0.2"]
        with WorkerPool(tmp_path, config, env, args) as pool:
            pool.start(WORKERS, lambda index: ["--health-file", str(health[index].path)])
            for index in range(WORKERS):
                pool.owner(index)
            pids = [proc.pid for proc in pool.procs]

            def accepted() -> int:
                return len(emulator.submissions.accepted_recipients())

            def outage_at(fraction: float, act: Callable[[], None]) -> None:
                assert wait_until(lambda: accepted() >= fraction * len(wanted), 120), accepted()
                # The first rule that applies wins: the held request's goes first.
                emulator.faults.clear()
                held = emulator.faults.add(Delay(1.0), next_n=1)
                emulator.faults.add(Delay(0.02))
                assert wait_until(lambda: held.fired == 1, 60)
                act()

            outage_at(0.2, lambda: cluster.restart(mode="fast"))
            outage_at(0.45, lambda: cluster.restart(mode="immediate"))

            def noticed() -> bool:
                return all(_state(h) is HealthState.DATABASE_UNAVAILABLE for h in health)

            def stop_until_noticed() -> None:
                cluster.halt(mode="fast")
                try:
                    assert wait_until(noticed, 60, 0.05), [_state(h) for h in health]
                finally:
                    cluster.resume()

            outage_at(0.7, stop_until_noticed)

            def finished() -> bool:
                try:
                    return store.counts().get(ItemState.DONE, 0) == len(wanted)
                except OutboxError:
                    return False  # the test's own connection was lost too; it reconnects

            assert wait_until(finished, 180, 0.5), store.counts()
            alive = [proc.poll() is None for proc in pool.procs]
            assert alive == [True] * WORKERS, [pool.output(i) for i in range(WORKERS)]
            assert [proc.pid for proc in pool.procs] == pids
            assert all(_state(h) is HealthState.OK for h in health)
            # Told to stop while the database is away, they still stop cleanly.
            cluster.halt(mode="fast")
            try:
                assert wait_until(noticed, 60, 0.05), [_state(h) for h in health]
                codes = pool.terminate()
            finally:
                cluster.resume()
            outputs = [pool.output(i) for i in range(WORKERS)]
        assert codes == [0] * WORKERS, outputs
        assert emulator.submissions.duplicates() == {}
        assert set(emulator.submissions.accepted_recipients()) == set(wanted)
    with contextlib.suppress(OutboxError):
        store.counts()  # finds the test's own connection lost to the last stop
    done = list(store.iter_items(state=ItemState.DONE))
    assert {item.status for item in done} == {Status.ACCEPTED}
    # The held requests' results could not be recorded: their items were settled by a
    # second attempt, the replay the emulator answered from its stop_dup_id memory.
    assert [item for item in done if item.attempts > 1]
    for output in outputs:
        assert "outbox database unavailable" in output, output
        assert "counts unavailable" in output, output
    texts = [*outputs, *(h.path.read_text() for h in health)]
    assert not [text for text in texts if SECRET in text]
    final = [h.read() for h in health]
    assert [f.state for f in final] == [HealthState.STOPPED] * WORKERS
    assert sum(f.sent for f in final) >= len(wanted)


def _state(health: HealthFile) -> HealthState | None:
    try:
        return health.read().state
    except (OSError, ValueError):
        return None
