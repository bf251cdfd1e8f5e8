"""The SQLite file's schema and its versioned migrations: the outbox's tables, then the tasks'.

One sequence of migrations covers every versioned table in the file, whoever reads it
(the outbox, :mod:`smsbridge.tasks`). The version lives in ``PRAGMA user_version``. Each
migration is a list of statements (or a function, when it must look at the data first)
applied in one ``BEGIN IMMEDIATE`` transaction together with the version bump, so two
processes opening a fresh file at once cannot both migrate it, and a crash mid-migration
leaves the previous version intact. Migrations are append-only: a released one is never
edited, a change is a new entry.

The limits' two tables (``shared_slots``, ``shared_rates``) stay outside: they hold
nothing that outlives the workers, and :mod:`smsbridge.limits.sqlite` creates them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from smsbridge.outbox.base import NewerSchemaError

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "TASKS_ADOPTED", "Migration", "migrate"]

Migration = tuple[str, ...] | Callable[[sqlite3.Connection], None]
"""Statements to run, or a function that runs them (inside the migration's transaction)."""

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

_V4 = (
    # Only settled rows have a message id to match a report by, and only a batch's rows
    # are counted by batch: indexes over every row took entries for each new item (and
    # moved them at each step) that no query could use.
    "DROP INDEX items_message",
    "CREATE INDEX items_message ON items (provider, message_key) WHERE message_key IS NOT NULL",
    "DROP INDEX items_batch",
    "CREATE INDEX items_batch ON items (batch, state) WHERE batch IS NOT NULL",
)

# -- the task tables (smsbridge.tasks) ---------------------------------------------------

_TASK_TABLES = (
    # enqueued: 1 once every staged recipient is in the outbox; until then an executing
    # task is (re-)enqueued by whichever worker ticks, idempotently by reference.
    # IF NOT EXISTS only because this step adopts the tables older versions created
    # outside the migrations (with this same shape); later steps never use it.
    """
    CREATE TABLE IF NOT EXISTS tasks (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        body TEXT,
        template TEXT,
        template_ids TEXT NOT NULL DEFAULT '{}',
        sender TEXT,
        provider TEXT,
        options TEXT NOT NULL,
        scheduled_at REAL,
        due_at REAL NOT NULL,
        created_at REAL NOT NULL,
        state TEXT NOT NULL,
        recipients INTEGER NOT NULL DEFAULT 0,
        source TEXT,
        started_at REAL,
        finished_at REAL,
        reason TEXT,
        copied_from TEXT,
        enqueued INTEGER NOT NULL DEFAULT 0
    )
    """,
    "CREATE INDEX IF NOT EXISTS tasks_due ON tasks (state, due_at)",
    # The primary key de-duplicates numbers at import without a set in memory.
    """
    CREATE TABLE IF NOT EXISTS task_recipients (
        task_id TEXT NOT NULL,
        number TEXT NOT NULL,
        variables TEXT NOT NULL,
        line INTEGER NOT NULL,
        PRIMARY KEY (task_id, number)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX IF NOT EXISTS task_recipients_line ON task_recipients (task_id, line)",
)

_TASK_RULES = 2
"""The newest task rules the tables of older versions knew (their ``task_schema``):
1, completed = every message settled; 2, completed = every status report returned."""

TASKS_ADOPTED = "reopened by the upgrade: completed now waits for every status report"
"""The reason a task completed under the version-1 rule carries after the upgrade."""


def _adopt_tasks(conn: sqlite3.Connection) -> None:
    """Migration 3: the task tables join the file's migrations.

    Older versions created them on first use, with a version of their own in a
    ``task_schema`` table from task rules 2 on. This step creates them when missing,
    keeps them when present, and applies what ``task_schema`` says is still due: a file
    without it (or at rules 1) had "completed" mean every message settled, so its
    completed tasks move back to executing, and the next tick completes them by the
    rule of every status report returned. Then ``task_schema`` goes: the version is
    ``user_version`` from here on.
    """
    rules: int | None = None
    if _table(conn, "task_schema"):
        (found,) = conn.execute("SELECT max(version) FROM task_schema").fetchone()
        rules = None if found is None else int(found)
        if rules is not None and rules > _TASK_RULES:
            raise NewerSchemaError(store=_file(conn), found=rules, supported=_TASK_RULES)
    had_tasks = _table(conn, "tasks")
    for statement in _TASK_TABLES:
        conn.execute(statement)
    if had_tasks and (rules is None or rules < _TASK_RULES):
        conn.execute(
            "UPDATE tasks SET state = 'executing', finished_at = NULL, reason = ? "
            "WHERE state = 'completed'",
            (TASKS_ADOPTED,),
        )
    conn.execute("DROP TABLE IF EXISTS task_schema")


def _table(conn: sqlite3.Connection, name: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
    ).fetchone()
    return row is not None


def _file(conn: sqlite3.Connection) -> str:
    row = conn.execute("SELECT file FROM pragma_database_list WHERE name = 'main'").fetchone()
    return str(row[0]) if row and row[0] else ":memory:"


MIGRATIONS: tuple[Migration, ...] = (_V1, _V2, _adopt_tasks, _V4)
"""Migration ``i`` takes the schema from version ``i`` to ``i + 1``: 1 and 2 are the
outbox's, 3 adopts the task tables, 4 keeps only settled rows in the report-matching
index and only a batch's rows in the batch index."""

SCHEMA_VERSION = len(MIGRATIONS)
"""The version this code reads and writes."""


def migrate(conn: sqlite3.Connection, path: str | None = None) -> int:
    """Bring the database up to :data:`SCHEMA_VERSION`.

    Args:
        conn: A connection in autocommit mode (``isolation_level=None``).
        path: The file, as messages name it (read from the connection when ``None``).

    Returns:
        The version the database had before.

    Raises:
        NewerSchemaError: When the file was written by a newer smsbridge (its schema is
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
            raise NewerSchemaError(
                store=path or _file(conn), found=int(current), supported=SCHEMA_VERSION
            )
        for step in MIGRATIONS[current:]:
            if callable(step):
                step(conn)
            else:
                for statement in step:
                    conn.execute(statement)
        # PRAGMA cannot take a parameter; the value is our own integer.
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION:d}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return int(current)
