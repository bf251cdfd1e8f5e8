"""Cluster-wide slots and rate schedules on each backend, between two connections."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from smsbridge.limits_shared import LocalLimits, PostgresLimits, SharedLimits, SqliteLimits

Pair = tuple[SharedLimits, SharedLimits]


@pytest.fixture(params=["local", "sqlite", "postgres"])
def pair(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[SharedLimits, SharedLimits]]:
    """Two handles on the same shared state, as two workers would hold them."""
    first: SharedLimits
    second: SharedLimits
    if request.param == "local":
        first = second = LocalLimits()
    elif request.param == "sqlite":
        first = SqliteLimits(str(tmp_path / "outbox.sqlite3"))
        second = SqliteLimits(str(tmp_path / "outbox.sqlite3"))
    else:
        url: str = request.getfixturevalue("postgres_url")
        schema: str = request.getfixturevalue("postgres_schema")
        first = PostgresLimits(url, schema=schema)
        second = PostgresLimits(url, schema=schema)
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


def test_a_closed_holder_frees_its_slot(tmp_path: Path) -> None:
    first = SqliteLimits(str(tmp_path / "o.sqlite3"))
    second = SqliteLimits(str(tmp_path / "o.sqlite3"))
    try:
        assert first.try_slot("k", owner="a", now=0.0, ttl=60)
        first.close()
        assert second.try_slot("k", owner="b", now=1.0, ttl=60)
    finally:
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


def test_a_postgres_slot_dies_with_its_connection(postgres_url: str, postgres_schema: str) -> None:
    first = PostgresLimits(postgres_url, schema=postgres_schema)
    second = PostgresLimits(postgres_url, schema=postgres_schema)
    try:
        assert first.try_slot("k", owner="a", now=0.0, ttl=1)
        assert not second.try_slot("k", owner="b", now=100.0, ttl=1)
        first.close()
        assert second.try_slot("k", owner="b", now=100.0, ttl=1)
    finally:
        first.close()
        second.close()


def test_rates_are_booked_on_one_schedule(pair: Pair) -> None:
    first, second = pair
    # 10 per second, burst 2: two at once, then one every 0.1 s whoever asks.
    waits = [
        handle.reserve("rate:p", now=50.0, interval=0.1, tolerance=0.1)
        for handle in (first, second, first, second)
    ]
    assert waits == pytest.approx([0.0, 0.0, 0.1, 0.2])
    assert second.reserve("rate:p", now=60.0, interval=0.1, tolerance=0.1) == 0.0
