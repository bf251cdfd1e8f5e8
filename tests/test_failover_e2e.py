"""A worker killed mid-batch: a new dispatcher on the same outbox loses and repeats nothing.

The emulators run in this process, so their records outlive the worker; the worker is a
child process sending a batch, killed with SIGKILL at a seeded moment. Two scenarios: a
bare :class:`Dispatcher` sending 2,000 recipients one request at a time through
Clickatell, and :class:`SmsBridge` spreading a batch over BulkSMS and Clickatell (the
issue's test; its repetitions grow under ``SMSBRIDGE_NIGHTLY=1``).
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

from smsbridge import SmsBridge
from smsbridge.dispatch import Dispatcher
from smsbridge.errors import MessageNotFoundError, SmsBridgeError
from smsbridge.model import Message
from smsbridge.outbox import ItemState, SqliteStore
from smsbridge.router import Router
from smsbridge.testing import EmulatorFactory
from smsbridge_bulksms.emulator import BulkSmsEmulator
from smsbridge_bulksms.provider import BulkSmsProvider
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

class OneByOne(ClickatellProvider):
    # One request per recipient, as this scenario is about (no request key).
    def request_key(self, message):
        return None


config = json.loads(sys.argv[1])
provider = OneByOne.from_options(**config["provider"])
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
    # The resume runs once the emulator holds no request (checked below), so a lookup's
    # "not found" is proof at once: a lookup horizon of 0. With the default horizon, an
    # item whose request died before it arrived (a kill landing between the attempt's
    # record and the request's write, likelier on a loaded machine) would rightly wait
    # out the horizon, longer than this resume runs.
    options = {**ClickatellProvider.emulator_options(emulator), "lookup_horizon": 0}
    made = ClickatellProvider.from_options(**options)
    yield made
    made.close()


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


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
    # Let a request the worker sent before dying finish on the emulator's side; only
    # then is the lookup horizon of 0 sound.
    assert wait_until(lambda: emulator.server.open_connections == 0, timeout=30)
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


# -- a batch over two emulators, killed at a random moment, many times ----------------

NIGHTLY = os.environ.get("SMSBRIDGE_NIGHTLY") == "1"
SPREAD_RECIPIENTS = 20_000
SPREAD_SEEDS = range(40 if NIGHTLY else 10)

SPREAD_WORKER = """
import json
import random
import sys

from smsbridge import Batch, Recipient, SmsBridge, Template
from smsbridge.router import Weighted
from smsbridge_bulksms.provider import BulkSmsProvider
from smsbridge_clickatell import ClickatellProvider

with open(sys.argv[1], encoding="utf-8") as source:
    config = json.load(source)
bulksms = BulkSmsProvider.from_options(**config["bulksms"], batch_size=500)
clickatell = ClickatellProvider.from_options(**config["clickatell"])
policy = Weighted({"bulksms": 9, "clickatell": 1}, rand=random.Random(config["seed"]).random)
with SmsBridge(
    [bulksms, clickatell],
    store=config["db"],
    owner=config["owner"],
    policy=policy,
    concurrency=4,
    batch_window=len(config["to"]),
    max_wait=120,
) as bridge:
    if config["personalised"]:
        # Each recipient its own text: grouped by request key, not by body.
        people = [Recipient(n, variables={"n": str(i)}) for i, n in enumerate(config["to"])]
        batch = Batch(people, template=Template("Your number is {n}"), reference="spread")
    else:
        batch = Batch(config["to"], body="Spread news", reference="spread")
    bridge.send_batch(batch)
print("sent", flush=True)
"""


def spread_recipients() -> list[str]:
    return [f"+4477{index:08d}" for index in range(SPREAD_RECIPIENTS)]


def accepted_total(*emulators: BulkSmsEmulator | ClickatellEmulator) -> int:
    return sum(len(s.recipients) for e in emulators for s in e.submissions.snapshot())


@pytest.mark.parametrize(
    ("seed", "personalised"),
    [(seed, False) for seed in SPREAD_SEEDS] + [(seed, True) for seed in range(100, 103)],
)
@pytest.mark.slow
def test_killed_bridge_over_two_emulators_loses_and_repeats_nothing(
    seed: int, personalised: bool, tmp_path: Path, smsbridge_emulator_factory: EmulatorFactory
) -> None:
    """The issue's crash test: SIGKILL during a batch spread over BulkSMS (grouped
    chunks) and Clickatell (one request each), restart, resume; every recipient is
    accepted exactly once, by exactly one of the two.

    20,000 recipients and 10 seeds in the default suite; ``SMSBRIDGE_NIGHTLY=1`` (the
    ``nightly`` nox session) runs 40 seeds.
    """
    bulk = smsbridge_emulator_factory(BulkSmsEmulator, credits=Decimal(10**7))
    click = smsbridge_emulator_factory(ClickatellEmulator, balance=Decimal(10**7))
    options = {
        "bulksms": {k: str(v) for k, v in BulkSmsProvider.emulator_options(bulk).items()},
        "clickatell": {k: str(v) for k, v in ClickatellProvider.emulator_options(click).items()},
    }
    to = spread_recipients()
    db = tmp_path / "outbox.sqlite3"
    # The personalised runs keep the default lease names (host, pid, random): the
    # resuming process sees the dead one's leases and takes them back at once.
    owner = None if personalised else OWNER
    config = {**options, "db": str(db), "owner": owner, "to": to, "seed": seed}
    config["personalised"] = personalised
    script = tmp_path / "spread_worker.py"
    script.write_text(SPREAD_WORKER, encoding="utf-8")
    config_file = tmp_path / "worker.json"  # 20,000 numbers do not fit on a command line
    config_file.write_text(json.dumps(config), encoding="utf-8")
    kill_after = random.Random(seed).randint(1, SPREAD_RECIPIENTS * 9 // 10)
    log = tmp_path / "worker.log"
    with log.open("wb") as output:
        child = subprocess.Popen(
            [sys.executable, str(script), str(config_file)],
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            deadline = time.monotonic() + 120
            while accepted_total(bulk, click) < kill_after and time.monotonic() < deadline:
                if child.poll() is not None:
                    break
                time.sleep(0.02)
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(10)
    assert child.returncode == -signal.SIGKILL, log.read_text(encoding="utf-8")
    wait_until(
        lambda: bulk.server.open_connections == 0 and click.server.open_connections == 0,
        timeout=5,
    )
    assert accepted_total(bulk, click) < SPREAD_RECIPIENTS  # the kill interrupted it

    # Both emulators have closed every connection: no request of the dead process is
    # still in their hands, so a lookup's "not found" is proof at once (a lookup horizon
    # of 0). With the default horizon, an item whose request died before it arrived
    # would rightly wait out the horizon, longer than this resume runs.
    click_options = {**ClickatellProvider.emulator_options(click), "lookup_horizon": 0}
    with (
        BulkSmsProvider.from_options(**BulkSmsProvider.emulator_options(bulk)) as b,
        ClickatellProvider.from_options(**click_options) as c,
        SmsBridge([b, c], store=db, owner=owner, concurrency=4) as bridge,
    ):
        assert sum(bridge.store.counts(batch="spread").values()) == SPREAD_RECIPIENTS
        bridge.resume(timeout=120)
        counts = bridge.store.counts(batch="spread")
        by_provider = {
            item.recipient: item.provider for item in bridge.store.iter_items(batch="spread")
        }

    assert counts[ItemState.DONE] == SPREAD_RECIPIENTS, counts
    accepted = bulk.submissions.accepted_recipients() + click.submissions.accepted_recipients()
    assert {n: k for n, k in accepted.items() if k != 1} == {}  # zero duplicates
    assert set(accepted) == set(to)  # zero lost
    # Each recipient's record names the emulator that accepted it.
    assert {n for n, p in by_provider.items() if p == "bulksms"} == set(
        bulk.submissions.accepted_recipients()
    )
