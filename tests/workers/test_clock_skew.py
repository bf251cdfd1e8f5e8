"""Leases on one clock: skewed workers and slow requests take nothing over that is live.

* Three ``smsbridge worker`` processes on one PostgreSQL outbox, one at +10 minutes and
  one at -10 minutes, with short leases and some answers held longer than a lease: every
  lease is measured on the database's clock and renewed while its request is out, so no
  recipient is accepted twice (see :func:`skewed` for how the clocks are skewed).
* Two dispatchers on one SQLite file, a request slower than the lease: the holder renews
  the lease, the other never takes the item (with a zero lookup horizon, a takeover
  would resend it).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from smsbridge import Batch, Message
from smsbridge.dispatch import Dispatcher
from smsbridge.outbox import ItemState, SqliteStore
from smsbridge.outbox.factory import open_store
from smsbridge.outbox.postgres import PostgresStore
from smsbridge.router import Router
from smsbridge.testing import Delay, on_path
from smsbridge.worker import enqueue
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator
from tests.postgres import postgres_location

from .harness import WorkerPool, numbers, wait_until, write_config

SIZE = 1500

SKEWED_WORKER = """\
import sys
import time

_shift = float(sys.argv.pop(1))
_real = time.time
time.time = lambda: _real() + _shift
exec(compile(open(sys.argv.pop(1)).read(), "run_worker.py", "exec"))
"""


def skewed(pool: WorkerPool, seconds: float) -> None:
    """Run the pool's workers with a wall clock (``time.time``) ``seconds`` off.

    ``time.time`` is the wall clock smsbridge reads. Debian's libfaketime would be the
    obvious tool, but preloaded into CPython 3.11 it breaks the interpreter's own timed
    waits (``time.sleep`` fails with EINVAL, ``Event.wait`` hangs) once the monotonic
    clock is left real, and faking that too shifts every timeout; the shim shifts the
    wall clock alone, as a host with a wrong clock has it.
    """
    shim = pool.folder / "skewed_worker.py"
    shim.write_text(SKEWED_WORKER, encoding="utf-8")
    python, script, *rest = pool.command
    pool.command = [python, str(shim), str(seconds), script, *rest]


@pytest.mark.slow
def test_workers_with_skewed_clocks_send_each_message_once(
    postgres_url: str, postgres_schema: str, tmp_path: Path
) -> None:
    location = postgres_location(postgres_url, postgres_schema)
    wanted = numbers(SIZE)
    store = open_store(location)
    assert isinstance(store, PostgresStore)
    try:
        with ClickatellEmulator(balance=Decimal(10**7), seed=7) as emulator:
            # Some answers held longer than a lease: only renewal keeps them.
            emulator.faults.add(Delay(2.0), fraction=0.02, match=on_path("/http/sendmsg"))
            config, env = write_config(tmp_path, "clickatell", emulator, location)
            assert enqueue(store, Batch(wanted, body="skew", reference="sk")).added == SIZE
            args = ["--lease", "1.5", "--claim-size", "20", "--poll", "0.1", "--concurrency", "1"]
            pools = []
            for seconds in (0.0, 600.0, -600.0):
                folder = tmp_path / f"w{seconds:+.0f}"
                folder.mkdir()
                pool = WorkerPool(folder, config, env, args)
                if seconds:
                    skewed(pool, seconds)
                pools.append(pool)
            try:
                for pool in pools:
                    pool.start(1)

                def finished() -> bool:
                    return store.counts().get(ItemState.DONE, 0) == SIZE

                # A guard against a hang, not a timing target.
                assert wait_until(finished, 600, 0.5), store.counts()
                codes = [pool.terminate()[0] for pool in pools]
                outputs = [pool.output(0) for pool in pools]
            finally:
                for pool in pools:
                    pool.close()
            assert codes == [0, 0, 0], outputs
            assert emulator.submissions.duplicates() == {}
            assert Counter(emulator.submissions.accepted_recipients()) == Counter(
                dict.fromkeys(wanted, 1)
            )
            # Every worker worked, and the skewed ones said their clock is off.
            assert "clock is" not in outputs[0]
            assert all("clock is" in out for out in outputs[1:]), outputs
    finally:
        store.close()


def test_a_request_slower_than_the_lease_keeps_its_lease(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    with ClickatellEmulator(balance=Decimal(1000)) as emulator:
        emulator.faults.add(Delay(2.0), next_n=1, match=on_path("/http/sendmsg"))
        options = {**ClickatellProvider.emulator_options(emulator), "lookup_horizon": 0.0}
        first = ClickatellProvider.from_options(**options)
        second = ClickatellProvider.from_options(**options)
        with SqliteStore(path) as store_a, SqliteStore(path) as store_b:
            holder = Dispatcher(Router([first]), store_a, lease_seconds=0.6)
            other = Dispatcher(Router([second]), store_b, lease_seconds=0.6)
            holder.submit(Message("+447700900001", "slow one", reference="slow-1"))
            sending = threading.Thread(target=holder.run_once)
            sending.start()
            assert wait_until(lambda: len(emulator.requests) >= 1 or not sending.is_alive(), 10)
            took = 0
            while sending.is_alive():
                took += other.run_once()
                time.sleep(0.05)
            sending.join()
            holder.close()
            other.close()
            item = store_a.get("slow-1")
        first.close()
        second.close()
    assert took == 0
    assert item is not None and item.state is ItemState.DONE and item.attempts == 1
    assert emulator.submissions.accepted_recipients() == {"+447700900001": 1}
