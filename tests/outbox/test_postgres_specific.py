"""What only the PostgreSQL store has: SKIP LOCKED claims across processes, row locks and
their timeouts, the advisory lock between reports and results, schemas and migrations,
reconnection, and the server-side cursor behind ``iter_items``."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import TupleRow

from smsbridge.errors import Kind
from smsbridge.outbox import ItemState, NewItem, OutboxError
from smsbridge.outbox.factory import open_store
from smsbridge.outbox.pg_schema import SCHEMA_VERSION
from smsbridge.outbox.postgres import PostgresStore, split_url
from smsbridge.status import Status
from tests.outbox.test_store_concurrency import claim_in_process, in_processes
from tests.outbox.test_store_items import LEASE, in_flight, new, report, result
from tests.postgres import postgres_location

WORKERS = 4
ITEMS = 2_000


@pytest.fixture
def location(postgres_url: str, postgres_schema: str) -> str:
    """The per-test outbox's URL, as ``open_store`` and worker processes take it."""
    return postgres_location(postgres_url, postgres_schema)


@pytest.fixture
def pg(location: str) -> Iterator[PostgresStore]:
    """A PostgreSQL store on a fresh schema."""
    with PostgresStore(location) as store:
        yield store


@pytest.fixture
def admin(postgres_url: str) -> Iterator[psycopg.Connection[TupleRow]]:
    """A plain connection to the test server, for looking behind the store's back."""
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        yield conn


def test_four_processes_claim_each_item_exactly_once(location: str, pg: PostgresStore) -> None:
    references = [f"r{i:05d}" for i in range(ITEMS)]
    pg.add((new(r) for r in references), now=0)
    owners = [f"p{i}" for i in range(WORKERS)]
    taken = in_processes(claim_in_process, [(location, owner) for owner in owners])
    claimed = Counter(r for part in taken for r in part)
    assert sorted(claimed) == references
    assert set(claimed.values()) == {1}
    # Each claim was recorded for the worker that reported it, and the work was shared.
    for owner, part in zip(owners, taken, strict=True):
        assert {item.lease_owner for item in map(pg.get, part) if item} <= {owner}
    assert sum(1 for part in taken if part) >= 2


def test_claim_skips_rows_locked_by_another_transaction_without_waiting(
    pg: PostgresStore, postgres_url: str, postgres_schema: str
) -> None:
    pg.add([new(f"r{i}") for i in range(10)], now=0)
    with psycopg.connect(postgres_url) as other:  # not autocommit: the lock is held
        other.execute(
            sql.SQL("SELECT seq FROM {}.items WHERE reference IN ('r0', 'r1') FOR UPDATE").format(
                sql.Identifier(postgres_schema)
            )
        )
        started = time.monotonic()
        claimed = pg.claim("w1", limit=5, now=1, lease_seconds=LEASE)
        assert time.monotonic() - started < 5
        assert [item.reference for item in claimed] == ["r2", "r3", "r4", "r5", "r6"]
        other.rollback()
    assert [i.reference for i in pg.claim("w2", limit=5, now=1, lease_seconds=LEASE)] == [
        "r0",
        "r1",
        "r7",
        "r8",
        "r9",
    ]


def test_a_row_locked_too_long_is_a_transient_error(
    location: str, postgres_url: str, postgres_schema: str
) -> None:
    with PostgresStore(location, timeout=0.2) as store:
        in_flight(store)
        with psycopg.connect(postgres_url) as other:
            other.execute(
                sql.SQL("SELECT 1 FROM {}.items FOR UPDATE").format(sql.Identifier(postgres_schema))
            )
            with pytest.raises(OutboxError, match="lock") as info:
                store.finish("r1", owner="w1", result=result(Status.ACCEPTED), now=12)
            assert info.value.kind is Kind.TRANSIENT
            other.rollback()
        # Nothing was half-written: the same call succeeds once the lock is gone.
        assert store.finish("r1", owner="w1", result=result(Status.ACCEPTED), now=12).state is (
            ItemState.DONE
        )


def test_reports_racing_their_results_are_never_lost(location: str) -> None:
    count = 300
    with PostgresStore(location) as workers, PostgresStore(location) as receiver:
        workers.add([new(f"r{i}") for i in range(count)], now=0)
        assert len(workers.claim("w1", limit=count, now=1, lease_seconds=3_600)) == count
        workers.begin_attempts([f"r{i}" for i in range(count)], owner="w1", provider="A", now=1)
        start = threading.Barrier(2)

        def finish_all() -> None:
            start.wait()
            for i in range(count):
                sent = result(Status.ACCEPTED, message_id=f"m{i}")
                workers.finish(f"r{i}", owner="w1", result=sent, now=2)

        def report_all() -> None:
            start.wait()
            for i in range(count):
                delivered = report(Status.DELIVERED, message_id=f"m{i}")
                receiver.record_report(delivered, now=2)

        threads = [threading.Thread(target=finish_all), threading.Thread(target=report_all)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # Whichever came first, every report was applied: directly, or parked then
        # picked up by the result that stored its message id.
        statuses = Counter(item.status for item in workers.iter_items())
        assert statuses == {Status.DELIVERED: count}


def test_schema_version_lives_in_the_named_schema_and_newer_is_refused(
    location: str, pg: PostgresStore, admin: psycopg.Connection[TupleRow]
) -> None:
    schema = pg.schema
    version = sql.SQL("SELECT version FROM {}.schema_version").format(sql.Identifier(schema))
    assert admin.execute(version).fetchall() == [(SCHEMA_VERSION,)]
    tables = admin.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
        "ORDER BY table_name",
        (schema,),
    ).fetchall()
    assert [name for (name,) in tables] == [
        "attempts",
        "breakers",
        "chunk_members",
        "chunks",
        "counters",
        "items",
        "reports",
        "schema_version",
        "task_recipients",
        "tasks",
    ]
    admin.execute(
        sql.SQL("UPDATE {}.schema_version SET version = 99").format(sql.Identifier(schema))
    )
    with pytest.raises(OutboxError, match="newer"):
        PostgresStore(location)


def test_workers_starting_together_migrate_once(location: str) -> None:
    stores: list[PostgresStore] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def open_one() -> None:
        start.wait()
        try:
            stores.append(PostgresStore(location))
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        assert stores[0].add([new("r1")], now=0).added == 1
        assert all(store.get("r1") is not None for store in stores)
    finally:
        for store in stores:
            store.close()


def test_schema_choice_and_the_default(postgres_url: str) -> None:
    assert split_url("postgresql://u@h/db?schema=s&sslmode=disable") == (
        "postgresql://u@h/db?sslmode=disable",
        "s",
    )
    assert split_url("postgres://u@h/db") == ("postgres://u@h/db", None)
    # A database of its own: the default schema name must not touch a shared server's.
    database = f"test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    try:
        base = urlunsplit(urlsplit(postgres_url)._replace(path=f"/{database}", query=""))
        with (
            PostgresStore(base) as default,
            PostgresStore(f"{base}?schema=from_url", schema="explicit") as explicit,
            closing(open_store(f"postgres://{base.partition('://')[2]}?schema=from_url")) as opened,
        ):
            assert (default.schema, explicit.schema) == ("smsbridge", "explicit")
            assert isinstance(opened, PostgresStore) and opened.schema == "from_url"
            default.add([new("only-in-default")], now=0)
            assert explicit.get("only-in-default") is None
            assert opened.get("only-in-default") is None
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(database)))


def test_repr_hides_the_password(location: str) -> None:
    parts = urlsplit(location)
    password = parts.password
    if password is None:  # the throwaway cluster trusts loopback and ignores a password
        password = "not-for-logs"
        netloc = parts.netloc.replace("@", f":{password}@", 1)
        location = urlunsplit(parts._replace(netloc=netloc))
    with PostgresStore(location) as store:
        assert password not in repr(store)
        assert ":***@" in repr(store) and f"schema={store.schema!r}" in repr(store)


def test_a_dropped_connection_is_transient_then_reopened(
    pg: PostgresStore, admin: psycopg.Connection[TupleRow]
) -> None:
    pg.add([new("r1")], now=0)
    # The store's connection is the only one open under the store's application name.
    pids = admin.execute(
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'smsbridge' "
        "AND datname = current_database()"
    ).fetchall()
    assert len(pids) == 1
    admin.execute("SELECT pg_terminate_backend(%s)", pids[0])
    with pytest.raises(OutboxError) as info:
        pg.get("r1")
    assert info.value.kind is Kind.TRANSIENT
    item = pg.get("r1")
    assert item is not None and item.state is ItemState.PENDING


def test_iter_items_streams_on_its_own_connection(
    pg: PostgresStore, admin: psycopg.Connection[TupleRow]
) -> None:
    pg.add((new(f"r{i:04d}") for i in range(1_200)), now=0)
    pg.claim("w1", limit=1_200, now=0, lease_seconds=LEASE)
    walk = pg.iter_items()
    first = next(walk)
    assert first.reference == "r0000"
    # The store's own connection is free while the walk is open: writes go through,
    # and the walk keeps the snapshot it started with.
    pg.begin_attempt("r1100", owner="w1", provider="A", now=1)
    rest = list(walk)
    assert len(rest) == 1_199
    assert next(i for i in rest if i.reference == "r1100").state is ItemState.PENDING
    assert pg.counts()[ItemState.INFLIGHT] == 1


def test_an_abandoned_walk_closes_its_connection(
    pg: PostgresStore, admin: psycopg.Connection[TupleRow]
) -> None:
    pg.add((new(f"r{i:04d}") for i in range(600)), now=0)

    def open_connections() -> int:
        row = admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'smsbridge'"
        ).fetchone()
        return int(str(row[0])) if row else 0

    before = open_connections()
    walk = pg.iter_items(state=ItemState.PENDING)
    assert next(walk).reference == "r0000"
    assert open_connections() == before + 1
    walk.close()
    deadline = time.monotonic() + 5
    while open_connections() != before and time.monotonic() < deadline:
        time.sleep(0.02)  # the server ends the backend just after the client hangs up
    assert open_connections() == before


def test_a_closed_store_refuses_a_walk(location: str) -> None:
    store = PostgresStore(location)
    store.close()
    with pytest.raises(OutboxError, match="closed"):
        next(store.iter_items())


def test_new_items_keep_their_options_and_times(pg: PostgresStore) -> None:
    pg.add([NewItem(reference="r1", recipient="+447700900123", body="é ✓ 😀")], now=1.5)
    item = pg.get("r1")
    assert item is not None
    assert (item.body, item.created_at, item.next_attempt_at, item.excluded_providers) == (
        "é ✓ 😀",
        1.5,
        1.5,
        (),
    )
