"""Cluster-wide limit state in two small tables of the outbox's SQLite file."""

from __future__ import annotations

import contextlib
import sqlite3
import threading

__all__ = ["SqliteLimits"]


_SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS shared_slots (
    key TEXT PRIMARY KEY, owner TEXT NOT NULL, until REAL NOT NULL);
CREATE TABLE IF NOT EXISTS shared_rates (key TEXT PRIMARY KEY, tat REAL NOT NULL);
"""


class SqliteLimits:
    """:class:`~smsbridge.limits.SharedLimits` in two small tables of the outbox's SQLite file.

    Uses a connection of its own (the store's stays the store's). The rows are not part
    of the outbox's versioned schema: they hold nothing that outlives the workers.

    Args:
        path: The outbox file.
        timeout: Seconds to wait for SQLite's write lock.
    """

    def __init__(self, path: str, *, timeout: float = 30.0) -> None:
        self._lock = threading.Lock()
        self._held: set[tuple[str, str]] = set()
        self._conn = sqlite3.connect(
            path, timeout=timeout, isolation_level=None, check_same_thread=False
        )
        try:
            # Slot rows are worthless after a crash, so a lost last commit costs nothing.
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(_SQLITE_SCHEMA)
        except BaseException:
            self._conn.close()
            raise

    def try_slot(self, key: str, *, owner: str, now: float, ttl: float) -> bool:
        """See :meth:`~smsbridge.limits.SharedLimits.try_slot`; an expired lease is taken over."""
        with self._lock:
            cursor = self._conn.execute(
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
        with self._lock:
            self._conn.execute("DELETE FROM shared_slots WHERE key = ? AND owner = ?", (key, owner))
            self._held.discard((key, owner))

    def reserve(self, key: str, *, now: float, interval: float, tolerance: float) -> float:
        """See :meth:`~smsbridge.limits.SharedLimits.reserve`."""
        with self._lock:
            row = self._conn.execute(
                "INSERT INTO shared_rates (key, tat) VALUES (?, ?) ON CONFLICT (key) DO UPDATE "
                "SET tat = max(shared_rates.tat, ?) + ? RETURNING tat",
                (key, now + interval, now, interval),
            ).fetchone()
        tat = float(row[0])
        return max(0.0, tat - interval - tolerance - now)

    def close(self) -> None:
        """Free held slots and close the connection. Safe to call twice."""
        with self._lock:
            with contextlib.suppress(sqlite3.Error):
                for key, owner in self._held:
                    self._conn.execute(
                        "DELETE FROM shared_slots WHERE key = ? AND owner = ?", (key, owner)
                    )
            self._held.clear()
            self._conn.close()
