"""The SQLite outbox: one file, shared safely by threads and processes.

Every write is one short ``BEGIN IMMEDIATE`` transaction, which takes SQLite's single
write lock up front: two workers can never read the same due rows and both lease them,
and a busy database makes the caller wait (``busy_timeout``) instead of failing half-way
through. The file runs in WAL mode so readers (``history``, ``counts``) never block the
writers. ``synchronous=FULL`` is the default because :meth:`SqliteStore.begin_attempt`
promises the attempt is on disk before the request leaves; ``NORMAL`` survives a process
crash but may lose the last commits on power loss, trading that for throughput.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Generator, Sequence

from smsbridge.outbox._sql_common import ITEM_COLUMNS
from smsbridge.outbox._sql_items import NewRow, SqlItems
from smsbridge.outbox._sql_outcomes import SqlOutcomes
from smsbridge.outbox._sql_reads import SqlReads
from smsbridge.outbox._sqlite_base import SqliteBase, default_path
from smsbridge.outbox.base import Attempt, OutboxItem

__all__ = ["SqliteStore", "default_path"]

_PAGE = 500


class SqliteStore(
    SqlItems[sqlite3.Connection],
    SqlOutcomes[sqlite3.Connection],
    SqlReads[sqlite3.Connection],
    SqliteBase,
):
    """The default :class:`~smsbridge.outbox.OutboxStore`, in one SQLite file.

    One connection per store, guarded by a lock, so a store may be shared by threads;
    several processes may open the same file, each with its own store.

    Args:
        path: The database file; :func:`default_path` when ``None`` (its directory is
            created), or ``":memory:"`` for a private in-memory store.
        timeout: Seconds to wait for another writer before giving up.
        synchronous: ``"FULL"`` (default) or ``"NORMAL"``; see the module docstring.

    Raises:
        OutboxError: When the file cannot be opened or has a newer schema.
    """

    # What SQLite spells its own way; the rules are in the shared parts.

    def _insert_items(
        self,
        conn: sqlite3.Connection,
        rows: Sequence[NewRow],
        now: float,
        lease: tuple[str, float] | None = None,
        provider: str | None = None,
    ) -> int:
        owner, until = lease if lease is not None else (None, None)
        state, attempts = ("pending", 0) if provider is None else ("inflight", 1)
        cur = conn.executemany(
            "INSERT INTO items (reference, recipient, body, sender, options, batch, "
            "next_attempt_at, state, created_at, updated_at, lease_owner, lease_until, "
            "provider, attempts) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (reference) DO NOTHING",
            [(*row, state, now, now, owner, until, provider, attempts) for row in rows],
        )
        return cur.rowcount

    def _claim(
        self, conn: sqlite3.Connection, owner: str, limit: int, now: float, until: float
    ) -> list[OutboxItem]:
        # BEGIN IMMEDIATE holds the write lock from the SELECT on: no other claim can
        # read the same due rows before these leases are written.
        rows = conn.execute(
            f"SELECT seq, {ITEM_COLUMNS} FROM items "  # noqa: S608
            "WHERE state != 'done' AND next_attempt_at <= ? "
            "AND (lease_until IS NULL OR lease_until <= ?) "
            "ORDER BY next_attempt_at, seq LIMIT ?",
            (now, now, limit),
        ).fetchall()
        conn.executemany(
            "UPDATE items SET lease_owner = ?, lease_until = ? WHERE seq = ?",
            [(owner, until, row[0]) for row in rows],
        )
        return [
            self._item((*row[1:17], owner, until, *row[19:]))  # the lease just written
            for row in rows
        ]

    def _open_attempts(
        self,
        conn: sqlite3.Connection,
        references: list[str],
        provider: str,
        now: float,
        until: float | None,
        stored: list[str],
        tried: list[str],
    ) -> list[Attempt]:
        # One batch per step for the whole request, whatever its size.
        if tried:
            conn.executemany(
                "UPDATE attempts SET finished_at = ?, outcome_unknown = 1 "
                "WHERE reference = ? AND finished_at IS NULL",
                [(now, reference) for reference in tried],
            )
        if stored:
            conn.executemany(
                "UPDATE items SET state = 'inflight', provider = ?, status = NULL, "
                "message_id = NULL, message_key = NULL, parts = NULL, cost = NULL, "
                "attempts = attempts + 1, updated_at = ?, "
                "lease_until = COALESCE(?, lease_until) WHERE reference = ?",
                [(provider, now, until, reference) for reference in stored],
            )
        insert = "INSERT INTO attempts (reference, provider, started_at) VALUES (?, ?, ?)"
        if len(references) == 1:  # a message of its own: its cursor knows the id
            last = conn.execute(insert, (references[0], provider, now)).lastrowid
            assert last is not None  # set by every INSERT of a rowid table
        else:
            conn.executemany(insert, [(reference, provider, now) for reference in references])
            (last,) = conn.execute("SELECT last_insert_rowid()").fetchone()
        # The write lock is ours and every new rowid is the largest so far plus one, so
        # the batch's ids are the last one and those just before it.
        first = int(last) - len(references) + 1
        return [
            Attempt(id=first + index, reference=reference, provider=provider, started_at=now)
            for index, reference in enumerate(references)
        ]

    def _walk(
        self, clauses: Sequence[str], params: Sequence[object]
    ) -> Generator[OutboxItem, None, None]:
        # Keyset paging on seq, one short transaction per page: the lock is not held
        # between pages, so other threads (and the caller) keep working during the walk.
        where = " AND ".join(["seq > ?", *clauses])
        sql = (
            f"SELECT seq, {ITEM_COLUMNS} FROM items WHERE {where} "  # noqa: S608
            f"ORDER BY seq LIMIT {_PAGE:d}"
        )
        last = 0
        while True:
            with self._read_tx() as conn:
                rows = conn.execute(sql, (last, *params)).fetchall()
            for row in rows:
                yield self._item(row[1:])
            if len(rows) < _PAGE:
                return
            last = rows[-1][0]

    def _allocate(self, conn: sqlite3.Connection, name: str, low: int, high: int) -> int:
        # Read then write is safe: the write transaction excludes every other process.
        row = conn.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        value = low if row is None or not low <= row[0] < high else row[0] + 1
        conn.execute(
            "INSERT INTO counters (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )
        return int(value)

    def _save_members(self, conn: sqlite3.Connection, key: str, references: Sequence[str]) -> None:
        conn.executemany(
            "INSERT OR REPLACE INTO chunk_members (reference, key) VALUES (?, ?)",
            [(reference, key) for reference in references],
        )
