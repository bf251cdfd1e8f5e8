"""Several worker processes share one large run; one is killed with SIGKILL mid-run.

Asserts what the issue promises: no recipient accepted twice by the emulator, nothing
lost, and the dead worker's leases taken over (how fast is measured in ``bench/bench_workers.py``).
The run is 20,000 messages in BulkSMS batches in the default suite, enough for the kill
to land mid-run with thousands of items leased; ``SMSBRIDGE_NIGHTLY=1`` (``nox -s
nightly``) runs the issue's 100,000, and ``SMSBRIDGE_WORKERS_SIZE`` sets any size.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest

from smsbridge.model import Batch
from smsbridge.outbox import ItemState
from smsbridge.outbox.factory import open_store
from smsbridge.status import Status
from smsbridge.worker import enqueue
from smsbridge_bulksms.emulator import BulkSmsEmulator

from .conftest import WORKERS
from .harness import WorkerPool, numbers, wait_until, write_config

NIGHTLY = os.environ.get("SMSBRIDGE_NIGHTLY") == "1"
SIZE = int(os.environ.get("SMSBRIDGE_WORKERS_SIZE", "100000" if NIGHTLY else "20000"))
LEASE = 10.0


def _backend(location: str) -> str:
    return "postgres" if "://" in location else "sqlite"


@pytest.mark.slow
def test_workers_share_a_run_and_survive_a_kill(location: str, tmp_path: Path) -> None:
    workers = WORKERS[_backend(location)]
    wanted = numbers(SIZE)
    store = open_store(location)
    try:
        with BulkSmsEmulator(credits=Decimal(10**9)) as emulator:
            config, env = write_config(tmp_path, "bulksms", emulator, location, batch_size=500)
            result = enqueue(store, Batch(wanted, body="shared run", reference="run"))
            assert result.added == SIZE
            args = ["--lease", str(LEASE), "--claim-size", "2000", "--poll", "0.2"]
            with WorkerPool(tmp_path, config, env, args) as pool:
                pool.start(workers)
                victim = pool.owner(0)
                for index in range(1, workers):
                    pool.owner(index)
                # Generous guards against a hang, not timing targets (bench/ has those).
                assert wait_until(
                    lambda: store.counts().get(ItemState.DONE, 0) >= SIZE // 5, 600
                ), "the workers made no progress"
                pool.kill(0)

                def taken_over() -> bool:
                    return not any(
                        item.lease_owner == victim
                        for state in (ItemState.PENDING, ItemState.INFLIGHT, ItemState.RETRY_WAIT)
                        for item in store.iter_items(state=state)
                    )

                assert wait_until(taken_over, 600, 0.5)

                def finished() -> bool:
                    counts = store.counts()
                    return counts.get(ItemState.DONE, 0) == SIZE

                assert wait_until(finished, 300, 0.5), store.counts()
                codes = pool.terminate(range(1, workers))
            assert codes == [0] * (workers - 1)
            accepted = emulator.submissions.accepted_recipients()
            assert emulator.submissions.duplicates() == {}
            assert set(accepted) == set(wanted)
        statuses = {item.status for item in store.iter_items(state=ItemState.DONE)}
        assert statuses == {Status.ACCEPTED}
    finally:
        store.close()
