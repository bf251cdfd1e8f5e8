"""Cluster-wide limit state on PostgreSQL: advisory locks for slots, a rate table.

psycopg (the ``postgres`` extra) is imported when a :class:`PostgresLimits` is made, never
when this module is.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["PostgresLimits"]


def _lock_key(schema: str, key: str) -> int:
    # Advisory locks are database-wide: the schema name keeps two outboxes apart.
    digest = hashlib.sha256(f"smsbridge:{schema}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class PostgresLimits:
    """:class:`~smsbridge.limits.SharedLimits` on a PostgreSQL connection of its own.

    Slots are session advisory locks, so the server frees a dead worker's slot when its
    backend sees the connection end (soon after, not at the same instant: the backend
    exits on its own time); ``ttl`` is not needed. :meth:`close` unlocks explicitly, so
    a slot given back by closing is free by the time :meth:`close` returns. Rates live
    in ``shared_rates`` in the outbox's schema.

    A connection lost to a server restart takes its slots with it (the server ends the
    session); the call that finds it lost raises a ``TRANSIENT``
    :class:`~smsbridge.outbox.OutboxError` and the next one reconnects, as the store does.

    Args:
        url: The libpq URL (a ``schema`` parameter names the outbox's schema).
        schema: The outbox's schema when the URL does not name it.
        timeout: Seconds to connect and to wait for the rate row.

    Raises:
        OutboxError: When the server cannot be reached (``TRANSIENT``) or refuses the set-up.
    """

    def __init__(self, url: str, *, schema: str | None = None, timeout: float = 30.0) -> None:
        from psycopg import sql  # optional dependency: only a PostgreSQL outbox needs it

        from smsbridge.outbox.postgres import DEFAULT_SCHEMA, split_url

        self._conninfo, named = split_url(url)
        self.schema = schema or named or DEFAULT_SCHEMA
        self._timeout = timeout
        self._lock = threading.Lock()
        self._held: dict[str, int] = {}
        with self._translated():
            self._conn: Any = self._connect()
        try:
            # The store normally made the schema already; a bare one is made here. IF NOT
            # EXISTS is no guard against a worker starting at the same moment (both see
            # no table, one fails on the catalog's unique index), so the DDL runs under a
            # transaction lock that serializes every starting worker of this outbox.
            with self._translated(), self._conn.transaction():
                self._conn.execute(
                    "SELECT pg_advisory_xact_lock(%s)", (_lock_key(self.schema, "setup"),)
                )
                self._conn.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema))
                )
                self._conn.execute(
                    "CREATE TABLE IF NOT EXISTS shared_rates "
                    "(key text PRIMARY KEY, tat double precision NOT NULL)"
                )
        except BaseException:
            self._conn.close()
            raise

    def _connect(self) -> Any:
        import psycopg

        conn = psycopg.connect(
            self._conninfo,
            autocommit=True,
            connect_timeout=max(2, round(self._timeout)),
            application_name="smsbridge-limits",
        )
        from smsbridge.outbox.postgres import pin_session

        return pin_session(conn, self.schema, self._timeout)

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """psycopg's errors as :class:`OutboxError`, transient ones marked so."""
        import psycopg

        from smsbridge.outbox.postgres import db_error

        try:
            yield
        except psycopg.Error as exc:
            lost = getattr(self, "_conn", None) is not None and self._conn.closed
            raise db_error(exc, connection_lost=lost) from exc

    def _connection(self) -> Any:
        # Caller holds the lock.
        if self._conn.closed:
            # The server ended the session (restart, crash) and freed its locks with it.
            self._held.clear()
            self._conn = self._connect()
        return self._conn

    def try_slot(self, key: str, *, owner: str, now: float, ttl: float) -> bool:
        """See :meth:`~smsbridge.limits.SharedLimits.try_slot`.

        Raises:
            OutboxError: For database errors (``TRANSIENT`` when the server is away).
        """
        with self._lock, self._translated():
            if key in self._held:
                # Session locks nest: taking it twice would let two threads in.
                return False
            number = _lock_key(self.schema, key)
            conn = self._connection()
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (number,)).fetchone()
            if row is not None and row[0]:
                self._held[key] = number
                return True
            return False

    def free_slot(self, key: str, *, owner: str) -> None:
        """See :meth:`~smsbridge.limits.SharedLimits.free_slot`. A slot whose session was
        lost is already free (the server dropped the session's locks), so that is no error.

        Raises:
            OutboxError: For database errors other than a lost connection.
        """
        import psycopg

        with self._lock, self._translated():
            number = self._held.pop(key, None)
            if number is None or self._conn.closed:
                return
            try:
                self._conn.execute("SELECT pg_advisory_unlock(%s)", (number,))
            except psycopg.Error:
                if not self._conn.closed:
                    raise

    def reserve(self, key: str, *, now: float, interval: float, tolerance: float) -> float:
        """See :meth:`~smsbridge.limits.SharedLimits.reserve`.

        Raises:
            OutboxError: For database errors (``TRANSIENT`` when the server is away).
        """
        with self._lock, self._translated():
            row = (
                self._connection()
                .execute(
                    "INSERT INTO shared_rates AS r (key, tat) VALUES (%s, %s) ON CONFLICT (key) "
                    "DO UPDATE SET tat = greatest(r.tat, %s) + %s RETURNING tat",
                    (key, now + interval, now, interval),
                )
                .fetchone()
            )
        tat = float(row[0])
        return max(0.0, tat - interval - tolerance - now)

    def close(self) -> None:
        """Free every slot still held, then close the connection. Safe to call twice.

        The unlock is a round trip, so the slots are free when this returns; closing
        alone would only ask the server to end the session, which it does (and frees
        the locks) a moment later, in its own time.
        """
        import psycopg

        with self._lock:
            if not self._conn.closed:
                # Every session lock, even one whose try_slot answer never arrived; a
                # broken connection has none left to free (the server drops them).
                with contextlib.suppress(psycopg.Error):
                    self._conn.execute("SELECT pg_advisory_unlock_all()")
            self._held.clear()
            self._conn.close()
