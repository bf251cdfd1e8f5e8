"""Graceful shutdown and the cluster-wide BulkSMS connection rule, across processes.

Workers claim small rounds so that they contend for BulkSMS's single connection all the
time; the emulator must never see two connections open at once. One worker gets SIGTERM
mid-run: it exits cleanly, holds no lease afterwards, and the others finish the run.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from smsbridge.model import Batch
from smsbridge.outbox import ItemState
from smsbridge.outbox.factory import open_store
from smsbridge.worker import enqueue
from smsbridge_bulksms.emulator import BulkSmsEmulator

from .conftest import WORKERS
from .harness import WorkerPool, numbers, wait_until, write_config

SIZE = 20_000


@pytest.mark.slow
def test_sigterm_releases_claims_and_one_connection_holds(location: str, tmp_path: Path) -> None:
    workers = WORKERS["postgres" if "://" in location else "sqlite"]
    wanted = numbers(SIZE)
    store = open_store(location)
    try:
        with BulkSmsEmulator(credits=Decimal(10**9)) as emulator:
            config, env = write_config(tmp_path, "bulksms", emulator, location, batch_size=100)
            enqueue(store, Batch(wanted, body="graceful", reference="g"))
            # A long lease: only a graceful release can hand the stopped worker's
            # claims over before the run's deadline.
            args = ["--lease", "600", "--claim-size", "300", "--poll", "0.2"]
            with WorkerPool(tmp_path, config, env, args) as pool:
                pool.start(workers)
                stopped = pool.owner(0)
                assert wait_until(lambda: store.counts().get(ItemState.DONE, 0) >= SIZE // 4, 120)
                assert pool.terminate([0], timeout=30) == [0]
                assert "released" in pool.output(0)
                held = [
                    item.reference
                    for state in (ItemState.PENDING, ItemState.INFLIGHT, ItemState.RETRY_WAIT)
                    for item in store.iter_items(state=state)
                    if item.lease_owner == stopped
                ]
                assert held == []
                assert wait_until(
                    lambda: store.counts().get(ItemState.DONE, 0) == SIZE, 240, 0.5
                ), store.counts()
                assert pool.terminate() == [0] * workers
            assert emulator.submissions.duplicates() == {}
            assert set(emulator.submissions.accepted_recipients()) == set(wanted)
            assert emulator.server.connections_opened > workers
            assert emulator.server.max_concurrent_connections == 1
    finally:
        store.close()
