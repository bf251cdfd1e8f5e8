"""The task tables under the file's versioned migrations, on SQLite and PostgreSQL.

Old files are written here with the DDL older versions ran (the task tables were made by
``CREATE TABLE IF NOT EXISTS`` when the task store opened, with a ``task_schema`` marker
from task rules 2 on), so the upgrade is tested against what is really on disk.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import TupleRow

from smsbridge.limits import SqliteLimits
from smsbridge.model import SendOptions
from smsbridge.outbox import NewerSchemaError, NewItem, OutboxError, SqliteStore, pg_schema, schema
from smsbridge.outbox.codec import options_to_json
from smsbridge.outbox.postgres import PostgresStore
from smsbridge.results import DeliveryReport
from smsbridge.status import Status
from smsbridge.tasks import Tasks
from smsbridge.tasks.model import TaskState
from smsbridge.tasks.store import TaskStore
from tests.postgres import postgres_location

START = 1_767_225_600.0

# The task tables as every version before the migrations created them (both shapes had
# these; the second added the marker below).
OLD_TASK_TABLES = (
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
OLD_MARKER = "CREATE TABLE IF NOT EXISTS task_schema (version INTEGER NOT NULL)"


def old_file(path: Path, *, outbox_version: int, marker: int | None) -> None:
    """A file as an older smsbridge left it: the outbox at ``outbox_version``, task
    tables without a marker (``None``) or with ``task_schema`` at ``marker``; a completed
    task, a pending one with a staged recipient, and an outbox item."""
    with closing(sqlite3.connect(path, isolation_level=None)) as raw:
        for step in schema.MIGRATIONS[:outbox_version]:
            assert isinstance(step, tuple)  # the outbox's own steps are statements
            for statement in step:
                raw.execute(statement)
        raw.execute(f"PRAGMA user_version = {outbox_version:d}")
        for statement in OLD_TASK_TABLES:
            raw.execute(statement)
        if marker is not None:
            raw.execute(OLD_MARKER)
            raw.execute("INSERT INTO task_schema (version) VALUES (?)", (marker,))
        options = options_to_json(SendOptions())
        raw.execute(
            "INSERT INTO tasks (id, name, body, options, due_at, created_at, state, "
            "recipients, started_at, finished_at, enqueued) VALUES "
            "('task-done', 'done', 'Hi', ?, ?, ?, 'completed', 1, ?, ?, 1)",
            (options, START, START, START, START + 60),
        )
        raw.execute(
            "INSERT INTO tasks (id, name, body, options, due_at, created_at, state, "
            "recipients) VALUES ('task-later', 'later', 'Hi', ?, ?, ?, 'pending', 1)",
            (options, START + 3600, START),
        )
        raw.execute(
            "INSERT INTO task_recipients (task_id, number, variables, line) "
            "VALUES ('task-later', '+447700900001', '{}', 2)"
        )
        raw.execute(
            "INSERT INTO items (reference, recipient, body, options, batch, state, "
            "next_attempt_at, created_at, updated_at) "
            "VALUES ('task-done-2', '+447700900002', 'Hi', ?, 'task-done', 'done', 0, 0, 0)",
            (options,),
        )


def tables(path: Path) -> set[str]:
    with closing(sqlite3.connect(path)) as raw:
        return {row[0] for row in raw.execute("SELECT name FROM sqlite_master")}


def user_version(path: Path) -> int:
    with closing(sqlite3.connect(path)) as raw:
        (version,) = raw.execute("PRAGMA user_version").fetchone()
    return int(version)


def test_the_task_tables_are_steps_of_the_files_migrations() -> None:
    assert schema.SCHEMA_VERSION == 4 and pg_schema.SCHEMA_VERSION == schema.SCHEMA_VERSION


@pytest.mark.parametrize("opener", ["outbox", "tasks", "limits"])
def test_a_fresh_file_gets_every_table_from_whichever_user_opens_it(
    tmp_path: Path, opener: str
) -> None:
    path = tmp_path / "outbox.sqlite3"
    if opener == "outbox":
        SqliteStore(path).close()
    elif opener == "tasks":
        TaskStore(path).close()
    else:
        SqliteLimits(str(path)).close()
    assert user_version(path) == schema.SCHEMA_VERSION
    found = tables(path)
    assert {"items", "attempts", "tasks", "task_recipients"} <= found
    assert "task_schema" not in found


@pytest.mark.parametrize("outbox_version", [1, 2])
@pytest.mark.parametrize("marker", [None, 1])
def test_an_old_file_under_the_first_task_rules_reopens_its_completed_tasks_once(
    tmp_path: Path, outbox_version: int, marker: int | None
) -> None:
    path = tmp_path / "outbox.sqlite3"
    old_file(path, outbox_version=outbox_version, marker=marker)
    with TaskStore(path) as store:
        done = store.get("task-done")
        assert done is not None and done.state is TaskState.EXECUTING
        assert done.finished_at is None and done.reason == schema.TASKS_ADOPTED
        later = store.get("task-later")
        assert later is not None and later.state is TaskState.PENDING
        assert [row.number for row in store.staged("task-later")] == ["+447700900001"]
        assert store.complete("task-done", now=START + 120)
    assert user_version(path) == schema.SCHEMA_VERSION
    assert "task_schema" not in tables(path)
    with TaskStore(path) as store:  # the data migration ran once: completed stays so
        again = store.get("task-done")
        assert again is not None and again.state is TaskState.COMPLETED
    with SqliteStore(path) as outbox:  # the outbox's rows came through too
        assert outbox.get("task-done-2") is not None


def test_an_old_file_under_the_second_task_rules_keeps_its_completed_tasks(
    tmp_path: Path,
) -> None:
    path = tmp_path / "outbox.sqlite3"
    old_file(path, outbox_version=2, marker=2)
    with SqliteStore(path) as outbox, Tasks(outbox) as tasks:
        done = tasks.get("task-done")
        assert done.state is TaskState.COMPLETED and done.reason is None
    assert user_version(path) == schema.SCHEMA_VERSION
    assert "task_schema" not in tables(path)


def test_an_old_file_with_empty_task_tables_is_adopted(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    with closing(sqlite3.connect(path, isolation_level=None)) as raw:
        for statement in OLD_TASK_TABLES:  # a task store opened on a bare file
            raw.execute(statement)
    with TaskStore(path) as store:
        assert store.select() == []
    assert user_version(path) == schema.SCHEMA_VERSION


def test_task_tables_from_newer_task_rules_are_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    old_file(path, outbox_version=2, marker=99)
    with pytest.raises(NewerSchemaError) as info:
        TaskStore(path)
    assert (info.value.found, info.value.store) == (99, str(path))
    assert "newer than this smsbridge" in str(info.value)
    assert user_version(path) == 2 and "task_schema" in tables(path)


@pytest.mark.parametrize("opener", [SqliteStore, TaskStore, SqliteLimits])
def test_a_file_from_a_newer_version_is_refused(tmp_path: Path, opener: type) -> None:
    path = tmp_path / "outbox.sqlite3"
    SqliteStore(path).close()
    with closing(sqlite3.connect(path)) as raw:
        raw.execute("PRAGMA user_version = 99")
        raw.commit()
    with pytest.raises(NewerSchemaError) as info:
        opener(str(path))
    assert isinstance(info.value, OutboxError)
    assert (info.value.found, info.value.supported) == (99, schema.SCHEMA_VERSION)
    assert f"the outbox {path} has schema version 99, newer" in str(info.value)
    assert user_version(path) == 99


# -- PostgreSQL --------------------------------------------------------------------------


@pytest.fixture
def admin(postgres_url: str) -> Iterator[psycopg.Connection[TupleRow]]:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        yield conn


def pg_columns(conn: psycopg.Connection[TupleRow], schema_name: str, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
        (schema_name, table),
    ).fetchall()
    return [str(row[0]) for row in rows]


def sqlite_columns(path: Path, table: str) -> list[str]:
    with closing(sqlite3.connect(path)) as raw:
        return [str(row[1]) for row in raw.execute(f"PRAGMA table_info({table})")]


def test_a_fresh_postgres_outbox_has_the_task_tables_of_the_sqlite_file(
    postgres_url: str,
    postgres_schema: str,
    admin: psycopg.Connection[TupleRow],
    tmp_path: Path,
) -> None:
    PostgresStore(postgres_location(postgres_url, postgres_schema)).close()
    version = sql.SQL("SELECT version FROM {}.schema_version").format(
        sql.Identifier(postgres_schema)
    )
    assert admin.execute(version).fetchall() == [(pg_schema.SCHEMA_VERSION,)]
    path = tmp_path / "outbox.sqlite3"
    TaskStore(path).close()
    for table in ("tasks", "task_recipients"):
        assert pg_columns(admin, postgres_schema, table) == sqlite_columns(path, table)


def test_a_postgres_outbox_of_version_2_gains_the_task_tables(
    postgres_url: str, postgres_schema: str, admin: psycopg.Connection[TupleRow]
) -> None:
    name = sql.Identifier(postgres_schema)
    admin.execute(sql.SQL("CREATE SCHEMA {}").format(name))
    admin.execute(sql.SQL("SET search_path TO {}").format(name))
    with admin.transaction():
        for statements in pg_schema.MIGRATIONS[:2]:
            for statement in statements:
                admin.execute(statement)
        admin.execute("CREATE TABLE schema_version (version integer NOT NULL)")
        admin.execute("INSERT INTO schema_version (version) VALUES (2)")
        admin.execute(
            "INSERT INTO items (reference, recipient, body, options, state, provider, "
            "status, message_id, message_key, next_attempt_at, created_at, updated_at) "
            "VALUES ('sent', '+447700900002', 'hi', %s, 'done', 'A', 'accepted', 'M-1', "
            "'m-1', 0, 0, 0)",
            (options_to_json(SendOptions()),),
        )
    with PostgresStore(postgres_location(postgres_url, postgres_schema)) as store:
        store.add([NewItem(reference="r1", recipient="+447700900001", body="hi")], now=0)
        assert store.get("r1") is not None
        # An item settled before the upgrade is still found by its message id.
        delivered = DeliveryReport(provider="A", message_id="M-1", status=Status.DELIVERED)
        assert store.record_report(delivered, now=1)
        sent = store.get("sent")
        assert sent is not None and sent.status is Status.DELIVERED
    assert admin.execute("SELECT version FROM schema_version").fetchall() == [
        (pg_schema.SCHEMA_VERSION,)
    ]
    assert pg_columns(admin, postgres_schema, "tasks")[:2] == ["seq", "id"]
    definitions: dict[str, str] = dict(
        admin.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s",
            (postgres_schema,),
        ).fetchall()
    )
    assert "WHERE (message_key IS NOT NULL)" in definitions["items_message"]
    assert "WHERE (batch IS NOT NULL)" in definitions["items_batch"]


def test_a_newer_postgres_outbox_is_refused(
    postgres_url: str, postgres_schema: str, admin: psycopg.Connection[TupleRow]
) -> None:
    location = postgres_location(postgres_url, postgres_schema)
    PostgresStore(location).close()
    admin.execute(
        sql.SQL("UPDATE {}.schema_version SET version = 99").format(sql.Identifier(postgres_schema))
    )
    with pytest.raises(NewerSchemaError) as info:
        PostgresStore(location)
    assert (info.value.found, info.value.supported) == (99, pg_schema.SCHEMA_VERSION)
    assert postgres_schema in str(info.value)
