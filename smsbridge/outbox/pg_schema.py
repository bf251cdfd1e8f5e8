"""The PostgreSQL outbox schema and its versioned migrations.

The tables live in one PostgreSQL schema (``smsbridge`` unless the store is told
otherwise), so the outbox can share a database with an application without its table
names colliding. The version lives in that schema's ``schema_version`` table. Each
migration is applied with the version bump in one transaction (PostgreSQL's DDL is
transactional) under an advisory lock keyed by the schema's name, so two workers starting
on a fresh database cannot both migrate it, and a crash mid-migration leaves the previous
version intact. Migrations are append-only: a released one is never edited, a change is
a new entry.

The layout mirrors :mod:`smsbridge.outbox.schema` (SQLite) with PostgreSQL's own types:
times stay ``double precision`` seconds since the epoch because every time is passed in
by the caller (the store never reads the server's clock); provider lists are ``text[]``;
payloads are ``bytea``.
"""

from __future__ import annotations

import psycopg
from psycopg import sql
from psycopg.rows import TupleRow

from smsbridge.outbox.base import NewerSchemaError

__all__ = ["LOCK_NAMESPACE", "MIGRATIONS", "SCHEMA_VERSION", "migrate", "schema_version"]

LOCK_NAMESPACE = 0x5B5B
"""First key of every advisory lock the store takes (the second names what is locked),
so they cannot collide with an application's single-key advisory locks."""

_MIGRATION_LOCK = 1
"""Second-key namespace of the migration lock (combined with the schema name's hash)."""

_V1 = (
    # seq gives insertion order (claims are fair) and a cheap key for the claim index.
    # message_key is message_id normalised for matching reports (base.message_key).
    """
    CREATE TABLE items (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        reference text NOT NULL UNIQUE,
        recipient text NOT NULL,
        body text NOT NULL,
        sender text,
        options text NOT NULL,
        batch text,
        state text NOT NULL
            CHECK (state IN ('pending', 'inflight', 'retry_wait', 'unknown', 'done')),
        provider text,
        status text,
        message_id text,
        message_key text,
        parts integer,
        cost text,
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at double precision NOT NULL,
        created_at double precision NOT NULL,
        updated_at double precision NOT NULL,
        lease_owner text,
        lease_until double precision,
        excluded_providers text[] NOT NULL DEFAULT '{}',
        last_error text
    )
    """,
    # Partial index: finished items (the vast majority over time) never slow a claim.
    # The claim query repeats this predicate word for word so the planner can use it.
    "CREATE INDEX items_due ON items (next_attempt_at, seq) WHERE state <> 'done'",
    "CREATE INDEX items_message ON items (provider, message_key)",
    "CREATE INDEX items_batch ON items (batch, state, seq)",
    "CREATE INDEX items_lease ON items (lease_owner) WHERE lease_owner IS NOT NULL",
    """
    CREATE TABLE attempts (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        reference text NOT NULL,
        provider text NOT NULL,
        started_at double precision NOT NULL,
        finished_at double precision,
        outcome text,
        error text,
        outcome_unknown boolean NOT NULL DEFAULT false
    )
    """,
    "CREATE INDEX attempts_reference ON attempts (reference, id)",
    # disposition: 'applied', 'ignored' (stored for history only) or 'pending' (waits for
    # the message id or the attempt's result; reference is NULL while the id is unknown).
    """
    CREATE TABLE reports (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        reference text,
        provider text NOT NULL,
        message_key text,
        disposition text NOT NULL,
        received_at double precision NOT NULL,
        report text NOT NULL
    )
    """,
    "CREATE INDEX reports_reference ON reports (reference, id)",
    "CREATE INDEX reports_parked ON reports (provider, message_key) WHERE reference IS NULL",
    "CREATE TABLE counters (name text PRIMARY KEY, value bigint NOT NULL)",
    """
    CREATE TABLE chunks (
        key text PRIMARY KEY,
        provider text NOT NULL,
        payload bytea NOT NULL,
        refs text[] NOT NULL,
        created_at double precision NOT NULL
    )
    """,
    "CREATE TABLE chunk_members (reference text PRIMARY KEY, key text NOT NULL)",
    """
    CREATE TABLE breakers (
        provider text PRIMARY KEY,
        state text NOT NULL,
        failures integer NOT NULL,
        opened_at double precision
    )
    """,
)

_V2 = (
    # A batch carries each number once: the store finds a repeated number of a batch by
    # this index instead of every sending process keeping every number in memory.
    "CREATE INDEX items_batch_recipient ON items (batch, recipient) WHERE batch IS NOT NULL",
)

_V3 = (
    # The task tables, as in the SQLite file (smsbridge.outbox.schema), so both databases
    # follow one sequence of versions. Tasks run on SQLite only so far: these stay empty
    # until the task store learns PostgreSQL, and no older PostgreSQL outbox has task
    # tables to adopt.
    """
    CREATE TABLE tasks (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id text NOT NULL UNIQUE,
        name text NOT NULL,
        body text,
        template text,
        template_ids text NOT NULL DEFAULT '{}',
        sender text,
        provider text,
        options text NOT NULL,
        scheduled_at double precision,
        due_at double precision NOT NULL,
        created_at double precision NOT NULL,
        state text NOT NULL
            CHECK (state IN ('pending', 'executing', 'completed', 'cancelled')),
        recipients integer NOT NULL DEFAULT 0,
        source text,
        started_at double precision,
        finished_at double precision,
        reason text,
        copied_from text,
        enqueued boolean NOT NULL DEFAULT false
    )
    """,
    "CREATE INDEX tasks_due ON tasks (state, due_at)",
    """
    CREATE TABLE task_recipients (
        task_id text NOT NULL,
        number text NOT NULL,
        variables text NOT NULL,
        line integer NOT NULL,
        PRIMARY KEY (task_id, number)
    )
    """,
    "CREATE INDEX task_recipients_line ON task_recipients (task_id, line)",
)

_V4 = (
    # As in the SQLite file: only settled rows have a message id to match a report by,
    # and only a batch's rows are counted by batch.
    "DROP INDEX items_message",
    "CREATE INDEX items_message ON items (provider, message_key) WHERE message_key IS NOT NULL",
    "DROP INDEX items_batch",
    "CREATE INDEX items_batch ON items (batch, state, seq) WHERE batch IS NOT NULL",
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (_V1, _V2, _V3, _V4)
"""Migration ``i`` takes the schema from version ``i`` to ``i + 1``: 1 and 2 are the
outbox's, 3 adds the task tables, 4 keeps only settled rows in the report-matching
index and only a batch's rows in the batch index."""

SCHEMA_VERSION = len(MIGRATIONS)
"""The version this code reads and writes."""


def schema_version(conn: psycopg.Connection[TupleRow], schema: str) -> int:
    """The version of the outbox in ``schema``; 0 when it has no outbox yet.

    Args:
        conn: Any connection to the database.
        schema: The PostgreSQL schema holding the outbox.
    """
    table = conn.execute(
        "SELECT to_regclass(format('%%I.schema_version', %s::text))", (schema,)
    ).fetchone()
    if table is None or table[0] is None:
        return 0
    row = conn.execute(
        sql.SQL("SELECT max(version) FROM {}.schema_version").format(sql.Identifier(schema))
    ).fetchone()
    return 0 if row is None or row[0] is None else int(str(row[0]))


def migrate(conn: psycopg.Connection[TupleRow], schema: str) -> int:
    """Create the outbox in ``schema``, or bring it up to :data:`SCHEMA_VERSION`.

    Args:
        conn: A connection in autocommit mode whose ``search_path`` is ``schema``.
        schema: The PostgreSQL schema holding the outbox (created when missing).

    Returns:
        The version the outbox had before.

    Raises:
        NewerSchemaError: When the outbox was written by a newer smsbridge (its schema is
            unknown here, so touching it could corrupt it).
        psycopg.Error: For database errors (the store translates them).
    """
    current = schema_version(conn, schema)
    if current == SCHEMA_VERSION:
        return current
    lock = (LOCK_NAMESPACE, f"{_MIGRATION_LOCK}:{schema}")
    # A session lock taken before the transaction, not a transaction lock inside it: a
    # backend caches "no such schema" from the check above, and only refreshes its
    # catalog caches when a transaction starts (or a table is locked). Waiting for the
    # lock inside the transaction would leave it blind to the schema another worker just
    # created, and it would try to create the tables again.
    conn.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", lock)
    try:
        with conn.transaction():
            # Re-read under the lock: another worker may have migrated meanwhile.
            current = schema_version(conn, schema)
            if current > SCHEMA_VERSION:
                raise NewerSchemaError(
                    store=f"in schema {schema!r}", found=current, supported=SCHEMA_VERSION
                )
            if current < SCHEMA_VERSION:
                _apply(conn, schema, current)
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", lock)
    return current


def _apply(conn: psycopg.Connection[TupleRow], schema: str, current: int) -> None:
    name = sql.Identifier(schema)
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(name))
    conn.execute(
        sql.SQL("CREATE TABLE IF NOT EXISTS {}.schema_version (version integer NOT NULL)").format(
            name
        )
    )
    for statements in MIGRATIONS[current:]:
        for statement in statements:
            conn.execute(statement)
    conn.execute(sql.SQL("DELETE FROM {}.schema_version").format(name))
    conn.execute(
        sql.SQL("INSERT INTO {}.schema_version (version) VALUES (%s)").format(name),
        (SCHEMA_VERSION,),
    )
