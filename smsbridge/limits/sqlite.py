"""Cluster-wide limit state in two small tables of the outbox's SQLite file."""

from __future__ import annotations

import contextlib
import os
import threading

from smsbridge.outbox.base import OutboxError, StorageError
from smsbridge.outbox.sqlite_file import SqliteHandle, open_file

__all__ = ["SqliteLimits"]


_SQLITE_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS shared_slots "
    "(key TEXT PRIMARY KEY, owner TEXT NOT NULL, until REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS shared_rates (key TEXT PRIMARY KEY, tat REAL NOT NULL)",
)


class SqliteLimits:
    """:class:`~smsbridge.limits.SharedLimits` in two small tables of the outbox's SQLite file.

    Shares the file's one connection with the outbox and the tasks
    (:class:`~smsbridge.outbox.sqlite_file.SqliteFile`); closing the limits leaves
    them working. The rows are not part of the file's versioned schema: they hold
    nothing that outlives the workers. Their writes run with ``synchronous=NORMAL``:
    slot rows are worthless after a crash, so a lost last commit costs nothing.

    Args:
        path: The outbox file.
        timeout: Seconds to wait for SQLite's write lock.

    Raises:
        StorageError: When the file cannot be opened (a subclass says why); later
            calls raise it for database failures too.
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 30.0) -> None:
        self._lock = threading.Lock()
        self._held: set[tuple[str, str]] = set()
        self.file: SqliteHandle = open_file(
            path,
            timeout=timeout,
            synchronous="NORMAL",
            closed_error=lambda: OutboxError("the shared limits are closed"),
        )
        try:
            with self.file.transaction() as conn:
                for statement in _SQLITE_SCHEMA:
                    conn.execute(statement)
        except BaseException:
            self.file.close()
            raise

    def try_slot(self, key: str, *, owner: str, now: float, ttl: float) -> bool:
        """See :meth:`~smsbridge.limits.SharedLimits.try_slot`; an expired lease is taken over."""
        with self._lock, self.file.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO shared_slots (key, owner, until) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, until = excluded.until "
                "WHERE shared_slots.owner = excluded.owner OR shared_slots.until < ?",
                (key, owner, now + ttl, now),
            )
            taken = cursor.rowcount == 1
            if taken:
                self._held.add((key, owner))
            return taken

    def free_slot(self, key: str, *, owner: str) -> None:
        """See :meth:`~smsbridge.limits.SharedLimits.free_slot`."""
        with self._lock, self.file.transaction() as conn:
            conn.execute("DELETE FROM shared_slots WHERE key = ? AND owner = ?", (key, owner))
            self._held.discard((key, owner))

    def reserve(self, key: str, *, now: float, interval: float, tolerance: float) -> float:
        """See :meth:`~smsbridge.limits.SharedLimits.reserve`."""
        with self.file.transaction() as conn:
            row = conn.execute(
                "INSERT INTO shared_rates (key, tat) VALUES (?, ?) ON CONFLICT (key) DO UPDATE "
                "SET tat = max(shared_rates.tat, ?) + ? RETURNING tat",
                (key, now + interval, now, interval),
            ).fetchone()
        tat = float(row[0])
        return max(0.0, tat - interval - tolerance - now)

    def close(self) -> None:
        """Free held slots and let go of the file. Safe to call twice."""
        with self._lock:
            if self._held and not self.file.closed:
                with contextlib.suppress(StorageError), self.file.transaction() as conn:
                    conn.executemany(
                        "DELETE FROM shared_slots WHERE key = ? AND owner = ?", self._held
                    )
            self._held.clear()
            self.file.close()
