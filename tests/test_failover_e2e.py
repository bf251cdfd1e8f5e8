"""A worker killed mid-batch: a new dispatcher on the same outbox loses and repeats nothing.

The emulator runs in this process, so its records outlive the worker; the worker is a
child process sending a 2,000-recipient batch, killed with SIGKILL at a seeded moment.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from smsbridge.dispatch import Dispatcher
from smsbridge.errors import MessageNotFoundError, SmsBridgeError
from smsbridge.model import Message
from smsbridge.outbox import ItemState, SqliteStore
from smsbridge.router import Router
from smsbridge.testing import EmulatorFactory
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator

RECIPIENTS = 2000
OWNER = "batch-worker"

WORKER = """
import json
import sys

from smsbridge.dispatch import Dispatcher
from smsbridge.errors import MessageNotFoundError
from smsbridge.model import Message
from smsbridge.outbox import SqliteStore
from smsbridge.router import Router
from smsbridge_clickatell import ClickatellProvider

config = json.loads(sys.argv[1])
provider = ClickatellProvider.from_options(**config["provider"])
store = SqliteStore(config["db"], synchronous="NORMAL")
worker = Dispatcher(
    Router([provider]),
    store,
    owner=config["owner"],
    not_found=lambda e: isinstance(e, MessageNotFoundError) or e.code == "104",
)
worker.submit(Message(to=tuple(config["to"]), body="Batch news", reference="news-1"))
print("submitted", flush=True)
worker.drain(timeout=120)
print("drained", flush=True)
"""


def not_found(exc: SmsBridgeError) -> bool:
    return isinstance(exc, MessageNotFoundError) or exc.code == "104"


def recipients() -> tuple[str, ...]:
    return tuple(f"+4477009{index:05d}" for index in range(RECIPIENTS))


@pytest.fixture
def emulator(smsbridge_emulator_factory: EmulatorFactory) -> ClickatellEmulator:
    return smsbridge_emulator_factory(ClickatellEmulator, balance=Decimal(1_000_000))


@pytest.fixture
def provider(emulator: ClickatellEmulator) -> Iterator[ClickatellProvider]:
    made = ClickatellProvider.from_options(**ClickatellProvider.emulator_options(emulator))
    yield made
    made.close()


def wait_until(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


@pytest.mark.parametrize("seed", [101, 202, 303])
def test_killed_worker_loses_and_repeats_nothing(
    seed: int, tmp_path: Path, emulator: ClickatellEmulator, provider: ClickatellProvider
) -> None:
    script = tmp_path / "worker.py"
    script.write_text(WORKER, encoding="utf-8")
    db = tmp_path / "outbox.sqlite3"
    to = recipients()
    config = {
        "provider": {k: str(v) for k, v in ClickatellProvider.emulator_options(emulator).items()},
        "db": str(db),
        "owner": OWNER,
        "to": list(to),
    }
    kill_after = random.Random(seed).randint(1, RECIPIENTS - 100)
    log = tmp_path / "worker.log"
    with log.open("wb") as output:
        child = subprocess.Popen(
            [sys.executable, str(script), json.dumps(config)],
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            reached = emulator.submissions.wait_for(kill_after, timeout=30)
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(10)
    assert reached, log.read_text(encoding="utf-8")
    assert child.returncode == -signal.SIGKILL
    # Let a request the worker sent before dying finish on the emulator's side.
    wait_until(lambda: emulator.server.open_connections == 0, timeout=5)
    killed_at = len(emulator.submissions)

    with SqliteStore(db, synchronous="NORMAL") as store:
        worker = Dispatcher(Router([provider]), store, owner=OWNER, not_found=not_found)
        message = Message(to=to, body="Batch news", reference="news-1")
        worker.submit(message)  # idempotent: the child already wrote every item
        assert sum(store.counts().values()) == RECIPIENTS
        # The kill really interrupted the batch.
        assert store.counts(batch="news-1").get(ItemState.DONE, 0) < RECIPIENTS
        assert killed_at < RECIPIENTS
        interrupted = store.counts(batch="news-1").get(ItemState.INFLIGHT, 0)
        assert interrupted <= 1  # one request at a time: at most one was mid-air
        worker.resume(timeout=60)

        accepted = emulator.submissions.accepted_recipients()
        assert emulator.submissions.duplicates() == {}
        lost = []
        for item in store.iter_items(batch="news-1"):
            if item.state is ItemState.UNKNOWN:
                continue
            if item.state is not ItemState.DONE or accepted[item.recipient] != 1:
                lost.append(item)
        assert lost == []
        assert set(accepted) == set(to)
        assert store.counts(batch="news-1").get(ItemState.DONE) == RECIPIENTS
