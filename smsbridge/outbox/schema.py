"""The SQLite outbox schema and its versioned migrations.

The schema version lives in ``PRAGMA user_version``. Each migration is a list of
statements applied in one ``BEGIN IMMEDIATE`` transaction together with the version bump,
so two processes opening a fresh file at once cannot both migrate it, and a crash
mid-migration leaves the previous version intact. Migrations are append-only: a released
one is never edited, a change is a new entry.
"""

from __future__ import annotations

import sqlite3

from smsbridge.outbox.base import OutboxError

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "migrate"]

_V1 = (
    # seq gives insertion order (claims are fair) and a cheap key for paging.
    # message_key is message_id normalised for matching reports (see sqlite._message_key).
    """
    CREATE TABLE items (
        seq INTEGER PRIMARY KEY,
        reference TEXT NOT NULL UNIQUE,
        recipient TEXT NOT NULL,
        body TEXT NOT NULL,
        sender TEXT,
        options TEXT NOT NULL,
        batch TEXT,
        state TEXT NOT NULL,
        provider TEXT,
        status TEXT,
        message_id TEXT,
        message_key TEXT,
        parts INTEGER,
        cost TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        lease_owner TEXT,
        lease_until REAL,
        excluded_providers TEXT NOT NULL DEFAULT '[]',
        last_error TEXT
    )
    """,
    # Partial index: finished items (the vast majority over time) never slow a claim.
    "CREATE INDEX items_due ON items (next_attempt_at, seq) WHERE state != 'done'",
    "CREATE INDEX items_message ON items (provider, message_key)",
    "CREATE INDEX items_batch ON items (batch, state)",
    "CREATE INDEX items_lease ON items (lease_owner) WHERE lease_owner IS NOT NULL",
    """
    CREATE TABLE attempts (
        id INTEGER PRIMARY KEY,
        reference TEXT NOT NULL,
        provider TEXT NOT NULL,
        started_at REAL NOT NULL,
        finished_at REAL,
        outcome TEXT,
        error TEXT,
        outcome_unknown INTEGER NOT NULL DEFAULT 0
    )
    """,
    "CREATE INDEX attempts_reference ON attempts (reference, id)",
    # disposition: 'applied', 'ignored' (stored for history only) or 'pending' (waits for
    # the message id or the attempt's result; reference is NULL while the id is unknown).
    """
    CREATE TABLE reports (
        id INTEGER PRIMARY KEY,
        reference TEXT,
        provider TEXT NOT NULL,
        message_key TEXT,
        disposition TEXT NOT NULL,
        received_at REAL NOT NULL,
        report TEXT NOT NULL
    )
    """,
    "CREATE INDEX reports_reference ON reports (reference, id)",
    "CREATE INDEX reports_parked ON reports (provider, message_key) WHERE reference IS NULL",
    "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
    """
    CREATE TABLE chunks (
        key TEXT PRIMARY KEY,
        provider TEXT NOT NULL,
        payload BLOB NOT NULL,
        refs TEXT NOT NULL,
        created_at REAL NOT NULL
    )
    """,
    "CREATE TABLE chunk_members (reference TEXT PRIMARY KEY, key TEXT NOT NULL)",
    """
    CREATE TABLE breakers (
        provider TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        failures INTEGER NOT NULL,
        opened_at REAL
    )
    """,
)

_V2 = (
    # A batch carries each number once: the store finds a repeated number of a batch by
    # this index instead of every sending process keeping every number in memory.
    "CREATE INDEX items_batch_recipient ON items (batch, recipient) WHERE batch IS NOT NULL",
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (_V1, _V2)
"""Migration ``i`` takes the schema from version ``i`` to ``i + 1``."""

SCHEMA_VERSION = len(MIGRATIONS)
"""The version this code reads and writes."""


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the database up to :data:`SCHEMA_VERSION`.

    Args:
        conn: A connection in autocommit mode (``isolation_level=None``).

    Returns:
        The version the database had before.

    Raises:
        OutboxError: When the file was written by a newer smsbridge (its schema is
            unknown here, so touching it could corrupt it).
    """
    (current,) = conn.execute("PRAGMA user_version").fetchone()
    if current == SCHEMA_VERSION:
        return int(current)
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Re-read under the write lock: another process may have migrated meanwhile.
        (current,) = conn.execute("PRAGMA user_version").fetchone()
        if current > SCHEMA_VERSION:
            raise OutboxError(
                f"the outbox database has schema version {current}, newer than this "
                f"smsbridge understands ({SCHEMA_VERSION}); upgrade smsbridge"
            )
        for statements in MIGRATIONS[current:]:
            for statement in statements:
                conn.execute(statement)
        # PRAGMA cannot take a parameter; the value is our own integer.
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION:d}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return int(current)
