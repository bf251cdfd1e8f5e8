"""Cluster-wide slots and rate schedules on each backend, between two connections."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from smsbridge.limits import LocalLimits, PostgresLimits, SharedLimits, SqliteLimits

Pair = tuple[SharedLimits, SharedLimits]


def _two_handles(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Pair:
    """Two handles on one SQLite file or one PostgreSQL schema, as two workers hold them."""
    if backend == "sqlite":
        path = str(tmp_path / "outbox.sqlite3")
        return SqliteLimits(path), SqliteLimits(path)
    url: str = request.getfixturevalue("postgres_url")
    schema: str = request.getfixturevalue("postgres_schema")
    first = PostgresLimits(url, schema=schema)
    try:
        return first, PostgresLimits(url, schema=schema)
    except BaseException:
        first.close()
        raise


@pytest.fixture(params=["local", "sqlite", "postgres"])
def pair(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[SharedLimits, SharedLimits]]:
    """Two handles on the same shared state, as two workers would hold them."""
    first: SharedLimits
    second: SharedLimits
    if request.param == "local":
        first = second = LocalLimits()
    else:
        first, second = _two_handles(request.param, request, tmp_path)
    try:
        yield first, second
    finally:
        first.close()
        second.close()


def test_a_slot_has_one_holder(pair: Pair) -> None:
    first, second = pair
    assert first.try_slot("slot:bulksms:0", owner="a", now=100.0, ttl=60)
    assert not second.try_slot("slot:bulksms:0", owner="b", now=101.0, ttl=60)
    assert second.try_slot("slot:bulksms:1", owner="b", now=101.0, ttl=60)
    first.free_slot("slot:bulksms:0", owner="a")
    assert second.try_slot("slot:bulksms:0", owner="b", now=102.0, ttl=60)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_closed_holder_frees_its_slot(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    # close() gives the slot back before it returns: no wait, on either backend.
    first, second = _two_handles(backend, request, tmp_path)
    try:
        assert first.try_slot("k", owner="a", now=0.0, ttl=60)
        first.close()
        assert second.try_slot("k", owner="b", now=1.0, ttl=60)
    finally:
        first.close()
        second.close()


def test_a_dead_holders_sqlite_slot_expires_after_its_ttl(tmp_path: Path) -> None:
    first = SqliteLimits(str(tmp_path / "o.sqlite3"))
    second = SqliteLimits(str(tmp_path / "o.sqlite3"))
    try:
        assert first.try_slot("k", owner="a", now=0.0, ttl=10)
        assert not second.try_slot("k", owner="b", now=9.0, ttl=10)
        assert second.try_slot("k", owner="b", now=10.5, ttl=10)
    finally:
        first.close()
        second.close()


HOLDER = """\
import sys

from smsbridge.limits import PostgresLimits

limits = PostgresLimits(sys.argv[1], schema=sys.argv[2])
print("held" if limits.try_slot("k", owner="a", now=0.0, ttl=1) else "taken", flush=True)
sys.stdin.read()  # hold the slot until killed
"""

SERVER_NOTICES = 30.0
"""Longest wait for the server to end a killed client's session (it takes milliseconds)."""


def test_a_postgres_slot_dies_with_its_connection(postgres_url: str, postgres_schema: str) -> None:
    # A SIGKILLed holder never unlocks: only the server, once its backend sees the
    # connection gone, frees the slot. That happens soon after the kill, not at the same
    # instant, so the other worker polls for it (as SharedLimitBoard does), bounded.
    second = PostgresLimits(postgres_url, schema=postgres_schema)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, postgres_url, postgres_schema],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        assert not second.try_slot("k", owner="b", now=100.0, ttl=1)
        holder.kill()
        holder.wait(10)
        deadline = time.monotonic() + SERVER_NOTICES
        while not second.try_slot("k", owner="b", now=100.0, ttl=1):
            assert time.monotonic() < deadline, "the dead holder's slot was never freed"
            time.sleep(0.01)
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.wait(10)
        for stream in (holder.stdin, holder.stdout):
            if stream is not None:
                stream.close()
        second.close()


def test_postgres_handles_can_start_at_the_same_moment(
    postgres_url: str, postgres_schema: str
) -> None:
    # Workers start together on a fresh outbox: every one makes the schema and the rate
    # table if missing, and none may fail because another was making them too.
    count = 8
    barrier = threading.Barrier(count)

    def start() -> PostgresLimits:
        barrier.wait(30)
        return PostgresLimits(postgres_url, schema=postgres_schema)

    with ThreadPoolExecutor(count) as pool:
        futures = [pool.submit(start) for _ in range(count)]
        errors = [error for future in futures if (error := future.exception()) is not None]
        handles = [future.result() for future in futures if future.exception() is None]
    try:
        assert errors == []
        waits = [h.reserve("rate:p", now=50.0, interval=0.1, tolerance=0.0) for h in handles]
        assert sorted(waits) == pytest.approx([0.1 * i for i in range(count)])
    finally:
        for handle in handles:
            handle.close()


def test_rates_are_booked_on_one_schedule(pair: Pair) -> None:
    first, second = pair
    # 10 per second, burst 2: two at once, then one every 0.1 s whoever asks.
    waits = [
        handle.reserve("rate:p", now=50.0, interval=0.1, tolerance=0.1)
        for handle in (first, second, first, second)
    ]
    assert waits == pytest.approx([0.0, 0.0, 0.1, 0.2])
    assert second.reserve("rate:p", now=60.0, interval=0.1, tolerance=0.1) == 0.0
