"""Task tables, in the same SQLite file as the outbox.

Tasks live next to the outbox items they become, so one file holds everything a worker
needs after a restart. The store shares the file's one connection with the outbox (a
:class:`~smsbridge.outbox.sqlite_file.SqliteFile`), and its two tables, ``tasks`` and
``task_recipients``, are steps of the file's versioned migrations
(:mod:`smsbridge.outbox.schema`): opening the store brings the whole file up to date.
Recipients stay staged in ``task_recipients`` until their task starts; then they are
copied into the outbox (``batch`` = the task id) and the staged rows are dropped.

Every state change is one conditional ``UPDATE ... WHERE state = ...`` in a ``BEGIN
IMMEDIATE`` transaction, so two processes can never both start, or both cancel and
start, the same task. Database failures raise the outbox's
:class:`~smsbridge.outbox.StorageError` family (full, read-only, busy, I/O).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal, Self

from smsbridge.model import Template
from smsbridge.outbox import codec
from smsbridge.outbox.sqlite_file import SqliteHandle, open_file
from smsbridge.tasks.importer import ImportCounter, RecipientRow
from smsbridge.tasks.model import (
    Task,
    TaskError,
    TaskImportError,
    TaskState,
    from_timestamp,
)

__all__ = ["SCHEMA_VERSION", "TaskStore"]

SCHEMA_VERSION = 2
"""The task rules these tables follow: 1, completed = every message settled; 2, completed =
every status report returned. (The tables' own version is the file's,
:data:`smsbridge.outbox.schema.SCHEMA_VERSION`.)"""

_COLUMNS = (
    "id, name, body, template, template_ids, sender, provider, options, scheduled_at, "
    "created_at, state, recipients, source, started_at, finished_at, reason, copied_from"
)
_PAGE = 1000


def _task(row: Sequence[Any]) -> Task:
    template = None if row[3] is None else Template(row[3], provider_ids=json.loads(row[4]))
    created = from_timestamp(row[9])
    assert created is not None
    return Task(
        id=row[0],
        name=row[1],
        body=row[2],
        template=template,
        sender=row[5],
        provider=row[6],
        options=codec.options_from_json(row[7]),
        scheduled_at=from_timestamp(row[8]),
        created_at=created,
        state=TaskState(row[10]),
        recipients=row[11],
        source=row[12],
        started_at=from_timestamp(row[13]),
        finished_at=from_timestamp(row[14]),
        reason=row[15],
        copied_from=row[16],
    )


class TaskStore:
    """The task tables of one outbox file.

    Args:
        path: The outbox's SQLite file (not ``":memory:"``: a second connection would
            see a different, empty database).
        timeout: Seconds to wait for another writer.

    Raises:
        TaskError: For an in-memory path.
        StorageError: When the file cannot be opened or migrated (a subclass says why).
        NewerSchemaError: When the file was written by a newer smsbridge.
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 30.0) -> None:
        self.path = os.fspath(path)
        if self.path == ":memory:" or not self.path:
            raise TaskError("tasks need an outbox in a file, not an in-memory one")
        self.file: SqliteHandle = open_file(
            self.path,
            timeout=timeout,
            closed_error=lambda: TaskError("the task store is closed"),
        )

    @contextmanager
    def _tx(
        self, mode: Literal["IMMEDIATE", "DEFERRED"] = "IMMEDIATE"
    ) -> Iterator[sqlite3.Connection]:
        with self.file.transaction(mode) as conn:
            yield conn

    # -- import ---------------------------------------------------------------------

    def stage(
        self,
        task_id: str,
        rows: Iterable[RecipientRow],
        counter: ImportCounter,
        *,
        max_numbers: int,
        chunk_size: int = _PAGE,
    ) -> None:
        """Stage a task's valid rows, dropping repeated numbers (counted in ``counter``).

        Args:
            task_id: The task (its row need not exist yet).
            rows: Valid rows, numbers in E.164; consumed lazily.
            counter: Receives the imported and duplicate counts.
            max_numbers: Most unique numbers allowed.
            chunk_size: Rows per transaction.

        Raises:
            TaskImportError: When the file holds more than ``max_numbers`` numbers.
            StorageError: For database errors.
        """
        batch: list[tuple[str, str, str, int]] = []

        def flush() -> None:
            with self._tx() as conn:
                cur = conn.executemany(
                    "INSERT OR IGNORE INTO task_recipients (task_id, number, variables, line) "
                    "VALUES (?, ?, ?, ?)",
                    batch,
                )
            counter.imported += cur.rowcount
            counter.duplicates += len(batch) - cur.rowcount
            batch.clear()
            if counter.imported > max_numbers:
                raise TaskImportError(
                    f"the file holds more than {max_numbers:,} numbers, the limit per task",
                    report=counter.report(),
                )

        for row in rows:
            batch.append((task_id, row.number, json.dumps(row.variables), row.line))
            if len(batch) >= chunk_size:
                flush()
        if batch:
            flush()

    def insert(self, task: Task, *, now: float) -> None:
        """Write a new task row (its recipients staged already).

        Args:
            task: The task.
            now: Unused today; kept so every write takes the time explicitly.
        """
        del now
        template = task.template
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO tasks (id, name, body, template, template_ids, sender, provider, "
                "options, scheduled_at, due_at, created_at, state, recipients, source, "
                "copied_from) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    task.id,
                    task.name,
                    task.body,
                    None if template is None else template.text,
                    json.dumps(dict(template.provider_ids) if template else {}),
                    task.sender,
                    task.provider,
                    codec.options_to_json(task.options),
                    None if task.scheduled_at is None else task.scheduled_at.timestamp(),
                    task.due_at.timestamp(),
                    task.created_at.timestamp(),
                    task.state.value,
                    task.recipients,
                    task.source,
                    task.copied_from,
                ),
            )

    def discard(self, task_id: str) -> None:
        """Drop a task's row and staged recipients (a refused import, a deletion)."""
        with self._tx() as conn:
            conn.execute("DELETE FROM task_recipients WHERE task_id = ?", (task_id,))
            conn.execute("DELETE FROM tasks WHERE id = ?", (task_id,))

    # -- reads ----------------------------------------------------------------------

    def get(self, task_id: str) -> Task | None:
        """The task, or ``None``."""
        with self._tx("DEFERRED") as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM tasks WHERE id = ?",  # noqa: S608
                (task_id,),
            ).fetchone()
        return None if row is None else _task(row)

    def select(self, state: TaskState | None = None, *, name: str | None = None) -> list[Task]:
        """Tasks in creation order, optionally in one state and named like ``name``.

        Args:
            state: Only tasks in this state.
            name: Only tasks whose name contains this text, in any case (``%`` and
                ``_`` match themselves).
        """
        clauses: list[str] = []
        params: list[str] = []
        if state is not None:
            clauses.append("state = ?")
            params.append(state.value)
        if name is not None:
            clauses.append("instr(lower(name), lower(?)) > 0")
            params.append(name)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._tx("DEFERRED") as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM tasks {where} ORDER BY seq",  # noqa: S608
                params,
            ).fetchall()
        return [_task(row) for row in rows]

    def due(self, now: float) -> list[Task]:
        """Pending tasks whose time has come, earliest first."""
        with self._tx("DEFERRED") as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM tasks "  # noqa: S608
                "WHERE state = 'pending' AND due_at <= ? ORDER BY due_at, seq",
                (now,),
            ).fetchall()
        return [_task(row) for row in rows]

    def executing(self) -> list[tuple[Task, bool]]:
        """Executing tasks, each with whether all its recipients are in the outbox."""
        with self._tx("DEFERRED") as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS}, enqueued FROM tasks "  # noqa: S608
                "WHERE state = 'executing' ORDER BY seq"
            ).fetchall()
        return [(_task(row[:-1]), bool(row[-1])) for row in rows]

    def staged(self, task_id: str, number: str | None = None) -> Iterator[RecipientRow]:
        """Stream a task's staged recipients in file order, a page at a time.

        Args:
            task_id: The task.
            number: Only this E.164 number.
        """
        last = 0
        extra, params = ("AND number = ?", (number,)) if number is not None else ("", ())
        while True:
            with self._tx("DEFERRED") as conn:
                rows = conn.execute(
                    "SELECT number, variables, line FROM task_recipients "  # noqa: S608
                    f"WHERE task_id = ? AND line > ? {extra} ORDER BY line LIMIT {_PAGE:d}",
                    (task_id, last, *params),
                ).fetchall()
            for number_, variables, line in rows:
                yield RecipientRow(line, number_, json.loads(variables))
            if len(rows) < _PAGE:
                return
            last = rows[-1][2]

    # -- state changes --------------------------------------------------------------

    def cancel(self, task_id: str, *, now: float, not_due_before: float, reason: str) -> bool:
        """Cancel a pending task whose due time is not before ``not_due_before``.

        Returns:
            True when it was cancelled by this call.
        """
        with self._tx() as conn:
            cur = conn.execute(
                "UPDATE tasks SET state = 'cancelled', finished_at = ?, reason = ? "
                "WHERE id = ? AND state = 'pending' AND due_at >= ?",
                (now, reason, task_id, not_due_before),
            )
            return cur.rowcount == 1

    def start(self, task_id: str, *, now: float) -> bool:
        """Move a pending task to executing; True when this call did it."""
        with self._tx() as conn:
            cur = conn.execute(
                "UPDATE tasks SET state = 'executing', started_at = ? "
                "WHERE id = ? AND state = 'pending'",
                (now, task_id),
            )
            return cur.rowcount == 1

    def enqueued(self, task_id: str) -> None:
        """Record that every recipient is in the outbox, and drop the staged copies."""
        with self._tx() as conn:
            conn.execute("UPDATE tasks SET enqueued = 1 WHERE id = ?", (task_id,))
            conn.execute("DELETE FROM task_recipients WHERE task_id = ?", (task_id,))

    def complete(self, task_id: str, *, now: float, reason: str | None = None) -> bool:
        """Move an executing, fully enqueued task to completed; True when done here.

        Args:
            task_id: The task.
            now: The time.
            reason: Why it completed without every report, if so.
        """
        with self._tx() as conn:
            cur = conn.execute(
                "UPDATE tasks SET state = 'completed', finished_at = ?, reason = ? "
                "WHERE id = ? AND state = 'executing' AND enqueued = 1",
                (now, reason, task_id),
            )
            return cur.rowcount == 1

    def delete_cancelled(self, task_id: str) -> bool:
        """Delete a cancelled task and its staged recipients; True when it was deleted."""
        with self._tx() as conn:
            cur = conn.execute("DELETE FROM tasks WHERE id = ? AND state = 'cancelled'", (task_id,))
            if cur.rowcount != 1:
                return False
            conn.execute("DELETE FROM task_recipients WHERE task_id = ?", (task_id,))
            return True

    # -- lifetime -------------------------------------------------------------------

    def close(self) -> None:
        """Let go of the file (the outbox keeps it open if it uses it). Idempotent."""
        self.file.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
