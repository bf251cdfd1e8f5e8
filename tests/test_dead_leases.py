"""Leases of a process of this host that died are taken back by ``resume`` at once.

A bridge writes a batch window leased to itself and works it without a claim; if it is
killed, those leases would hold the items for a lease length. ``resume`` sees that the
process named in a lease (``host:pid:random``) is gone from this host and takes its items
over now; leases of other hosts, of live processes and hand-given names are waited out.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from smsbridge import SmsBridge
from smsbridge.dispatch.dispatcher import dead_here, unique_owner
from smsbridge.outbox import ItemState, NewItem, SqliteStore
from smsbridge.testing import EmulatorFactory
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator


@pytest.fixture
def emulator(smsbridge_emulator_factory: EmulatorFactory) -> ClickatellEmulator:
    return smsbridge_emulator_factory(ClickatellEmulator, balance=Decimal(10**6))


@pytest.fixture
def provider(emulator: ClickatellEmulator) -> Iterator[ClickatellProvider]:
    with ClickatellProvider.from_options(**ClickatellProvider.emulator_options(emulator)) as made:
        yield made


def gone_pid() -> int:
    """The pid of a child that has exited and been reaped."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_only_names_of_dead_processes_of_this_host_count_as_dead() -> None:
    host = socket.gethostname()
    assert dead_here(f"{host}:{gone_pid()}:0123456789ab")
    assert not dead_here(unique_owner())  # this very process
    assert not dead_here(f"{host}:1:0123456789ab")  # init lives
    assert not dead_here(f"elsewhere.example:{gone_pid()}:0123456789ab")
    assert not dead_here("worker-1")
    assert not dead_here(f"{host}:{gone_pid()}:short")


def test_resume_takes_back_a_dead_process_s_leases_and_waits_out_the_others(
    tmp_path: Path, provider: ClickatellProvider, emulator: ClickatellEmulator
) -> None:
    dead = f"{socket.gethostname()}:{gone_pid()}:0123456789ab"
    remote = f"elsewhere.example:{gone_pid()}:0123456789ab"
    now = time.time()
    with SqliteStore(tmp_path / "o.sqlite3") as store:
        for owner, stem in ((dead, "+4477009001"), (remote, "+4477009002")):
            written = store.add(
                [
                    NewItem(reference=f"r{stem[1:]}-{i}", recipient=f"{stem}{i:02d}", body="b")
                    for i in range(5)
                ],
                now=now,
                lease=(owner, now + 3600),
            )
            assert len(written.leased) == 5
        assert store.lease_owners(now=now) == sorted([dead, remote])
        with SmsBridge([provider], store=store) as bridge:
            summary = bridge.resume(patience=0.5)
        accepted = emulator.submissions.accepted_recipients()
        assert sorted(accepted) == [f"+4477009001{i:02d}" for i in range(5)]
        assert not summary.complete
        assert store.counts()[ItemState.PENDING] == 5
        assert store.lease_owners(now=time.time()) == [remote]
