"""Which PostgreSQL errors are worth another try, and the store and the shared limits
carrying on after their connection was lost (the server ending the session, as a restart
does).

The whole-server restarts, crashes and stops are in ``tests/workers/test_database_outages.py``
(they need a cluster of their own); here the session's server ends single sessions with
``pg_terminate_backend``, which is what a fast shutdown does to each of them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import closing

import psycopg
import pytest
from psycopg import errors, sql
from psycopg.rows import TupleRow

from smsbridge.errors import Kind
from smsbridge.limits import PostgresLimits
from smsbridge.outbox import ItemState, OutboxError
from smsbridge.outbox._pg_base import db_error, is_transient
from smsbridge.outbox.postgres import PostgresStore
from smsbridge.status import Status
from tests.outbox.test_store_items import in_flight, result
from tests.postgres import postgres_location
from tests.workers.harness import wait_until

REFUSED = (
    'connection failed: connection to server at "127.0.0.1", port 5432 failed: '
    "Connection refused\n\tIs the server running on that host and accepting TCP/IP connections?"
)


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (errors.AdminShutdown("terminating connection due to administrator command"), True),
        (errors.CrashShutdown("terminating connection because of crash of another"), True),
        (errors.CannotConnectNow("the database system is shutting down"), True),
        (errors.ConnectionFailure("connection failure"), True),
        (errors.SerializationFailure("could not serialize access"), True),
        (errors.DeadlockDetected("deadlock detected"), True),
        (errors.LockNotAvailable("canceling statement due to lock timeout"), True),
        (errors.TooManyConnections("sorry, too many clients already"), True),
        (errors.DiskFull("could not extend file"), True),
        (psycopg.OperationalError(REFUSED), True),
        (psycopg.OperationalError("consuming input failed: server closed the connection"), True),
        (psycopg.OperationalError("the connection is closed"), True),
        (errors.UniqueViolation("duplicate key value"), False),
        (errors.UndefinedTable('relation "items" does not exist'), False),
        (errors.InsufficientPrivilege("permission denied for table items"), False),
        (errors.QueryCanceled("canceling statement due to user request"), False),
        (psycopg.ProgrammingError("the query has 2 placeholders but 1 parameters"), False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else str(value),
)
def test_errors_worth_another_try_are_transient(error: psycopg.Error, transient: bool) -> None:
    assert is_transient(error) is transient
    expected = Kind.TRANSIENT if transient else Kind.PERMANENT
    assert db_error(error).kind is expected


def test_any_error_that_lost_the_connection_is_transient() -> None:
    # A FATAL error ends the session whatever its SQLSTATE (an idle session timing out,
    # say): the next call reconnects, so it is worth another try.
    error = errors.IdleSessionTimeout("terminating connection due to idle-session timeout")
    assert is_transient(error, connection_lost=True)
    assert db_error(errors.UndefinedTable("gone"), connection_lost=True).kind is Kind.TRANSIENT


def test_passwords_never_reach_the_message() -> None:
    quoted = psycopg.OperationalError(
        'missing "=" after "postgresql://sms:hunter2@db/sms" in connection info string; '
        "host=db password='hunter 2' user=sms"
    )
    text = str(db_error(quoted))
    assert "hunter" not in text
    assert "postgresql://sms:***@db/sms" in text and "password=***" in text


@pytest.fixture
def admin(postgres_url: str) -> Iterator[psycopg.Connection[TupleRow]]:
    """A plain connection to the test server, for ending other sessions."""
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        yield conn


def _terminate(admin: psycopg.Connection[TupleRow], application: str) -> None:
    """End the one session of ``application`` and wait until its backend has gone."""
    mine = (
        "SELECT pid FROM pg_stat_activity WHERE application_name = %s "
        "AND datname = current_database()"
    )
    pids = admin.execute(mine, (application,)).fetchall()
    assert len(pids) == 1
    admin.execute("SELECT pg_terminate_backend(%s)", pids[0])
    assert wait_until(lambda: not admin.execute(mine, (application,)).fetchall(), 30, 0.02)


def test_a_transaction_cut_off_midway_is_not_applied_and_runs_again(
    postgres_url: str, postgres_schema: str, admin: psycopg.Connection[TupleRow]
) -> None:
    waiting = (
        "SELECT 1 FROM pg_stat_activity WHERE application_name = 'smsbridge' "
        "AND datname = current_database() AND wait_event_type = 'Lock'"
    )
    lock_rows = sql.SQL("SELECT 1 FROM {}.items FOR UPDATE").format(sql.Identifier(postgres_schema))
    failed: list[OutboxError] = []
    with PostgresStore(postgres_location(postgres_url, postgres_schema)) as store:
        in_flight(store)

        def finish() -> None:
            try:
                store.finish("r1", owner="w1", result=result(Status.ACCEPTED), now=12)
            except OutboxError as exc:
                failed.append(exc)

        with psycopg.connect(postgres_url) as other:
            other.execute(lock_rows)
            # The store's transaction has begun and waits on the row lock when its
            # session is ended, as a fast shutdown ends every session.
            thread = threading.Thread(target=finish)
            thread.start()
            assert wait_until(lambda: bool(admin.execute(waiting).fetchall()), 30, 0.02)
            _terminate(admin, "smsbridge")
            thread.join(30)
            other.rollback()
        assert [error.kind for error in failed] == [Kind.TRANSIENT]
        # Nothing of it was applied; the same call, made again, reconnects and applies it.
        item = store.get("r1")
        assert item is not None and item.state is ItemState.INFLIGHT
        done = store.finish("r1", owner="w1", result=result(Status.ACCEPTED), now=13)
        assert done.state is ItemState.DONE


def test_shared_limits_reconnect_and_a_lost_slot_is_free(
    postgres_url: str, postgres_schema: str, admin: psycopg.Connection[TupleRow]
) -> None:
    with closing(PostgresLimits(postgres_url, schema=postgres_schema)) as limits:
        assert limits.try_slot("k", owner="a", now=0.0, ttl=60)
        _terminate(admin, "smsbridge-limits")
        # Giving back a slot whose session is gone is no error: the server freed it.
        limits.free_slot("k", owner="a")
        # The next call reconnects, and the slot is there to take.
        assert limits.try_slot("k", owner="a", now=0.0, ttl=60)
        _terminate(admin, "smsbridge-limits")
        with pytest.raises(OutboxError) as info:
            limits.reserve("rate:x", now=0.0, interval=1.0, tolerance=0.0)
        assert info.value.kind is Kind.TRANSIENT
        assert limits.reserve("rate:x", now=0.0, interval=1.0, tolerance=0.0) == 0.0
        # The lost session took slot k with it, so it can be taken again.
        assert limits.try_slot("k", owner="a", now=0.0, ttl=60)
