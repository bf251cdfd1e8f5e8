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

from collections.abc import Iterable, Sequence
from typing import Any

from smsbridge.model import SendOptions
from smsbridge.outbox import codec
from smsbridge.outbox._sqlite_base import _COLUMNS, _item, default_path
from smsbridge.outbox._sqlite_outcomes import SqliteOutcomes
from smsbridge.outbox._sqlite_reads import SqliteReads
from smsbridge.outbox.base import (
    AddResult,
    Attempt,
    ItemState,
    NewItem,
    OutboxItem,
    OutboxStateError,
)

__all__ = ["SqliteStore", "default_path"]


class SqliteStore(SqliteOutcomes, SqliteReads):
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

    def add(self, items: Iterable[NewItem], *, now: float, chunk_size: int = 1000) -> AddResult:
        """Write items whose reference is not stored yet; others are left untouched.

        The input is consumed lazily and committed ``chunk_size`` rows at a time, so a
        generator of a million items never sits in memory, and an interruption keeps
        what was committed (adding the same items again skips those).

        Args:
            items: The items, e.g. a generator.
            now: The current time; also ``next_attempt_at`` for items without one.
            chunk_size: Rows per transaction.

        Returns:
            How many were added and how many already existed.

        Raises:
            OutboxError: For database errors (earlier chunks stay committed).
            CodecError: For options that cannot be stored.
        """
        added = existing = 0
        last: tuple[SendOptions | None, str] = (None, "")
        rows: list[tuple[Any, ...]] = []

        def flush() -> None:
            nonlocal added, existing
            with self._tx() as conn:
                cur = conn.executemany(
                    "INSERT INTO items (reference, recipient, body, sender, options, batch, "
                    "state, next_attempt_at, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?) "
                    "ON CONFLICT (reference) DO NOTHING",
                    rows,
                )
                added += cur.rowcount
                existing += len(rows) - cur.rowcount
            rows.clear()

        for item in items:
            if item.options is not last[0]:
                last = (item.options, codec.options_to_json(item.options))
            due = now if item.next_attempt_at is None else item.next_attempt_at
            row = (item.reference, item.recipient, item.body, item.sender, last[1], item.batch)
            rows.append((*row, due, now, now))
            if len(rows) >= chunk_size:
                flush()
        if rows:
            flush()
        return AddResult(added, existing)

    def claim(
        self, owner: str, *, limit: int, now: float, lease_seconds: float
    ) -> list[OutboxItem]:
        """Lease up to ``limit`` due items for ``owner``, atomically.

        Due means: not done, ``next_attempt_at <= now``, and no live lease. That covers
        pending and retry-waiting items, unknown outcomes awaiting reconciliation, and
        in-flight items whose worker died (lease expired). The last two come back with
        ``needs_reconciliation`` true: ask their ``provider`` before sending anything.

        Args:
            owner: The worker's name, unique among live workers.
            limit: Most items to take.
            now: The current time.
            lease_seconds: How long the lease lasts; longer than a request can take.

        Returns:
            The claimed items, earliest due first, then in insertion order.

        Raises:
            OutboxError: For database errors.
        """
        with self._tx() as conn:
            rows = conn.execute(
                f"SELECT seq, {_COLUMNS} FROM items "  # noqa: S608
                "WHERE state != 'done' AND next_attempt_at <= ? "
                "AND (lease_until IS NULL OR lease_until <= ?) "
                "ORDER BY next_attempt_at, seq LIMIT ?",
                (now, now, limit),
            ).fetchall()
            until = now + lease_seconds
            conn.executemany(
                "UPDATE items SET lease_owner = ?, lease_until = ? WHERE seq = ?",
                [(owner, until, row[0]) for row in rows],
            )
        return [
            _item((*row[1:17], owner, until, *row[19:]))  # the lease just written
            for row in rows
        ]

    def begin_attempt(
        self,
        reference: str,
        *,
        owner: str,
        provider: str,
        now: float,
        lease_seconds: float | None = None,
    ) -> Attempt:
        """Record an attempt on ``provider``, durably, before its request leaves.

        Args:
            reference: The item.
            owner: The worker, which must hold an unexpired lease on it.
            provider: Where the request is going.
            now: The current time.
            lease_seconds: Renew the lease to ``now + lease_seconds`` when given.

        Returns:
            The open attempt.

        Raises:
            LeaseError: When ``owner`` does not hold a live lease.
            OutboxStateError: When the item is done, or a report already said the
                provider took it (a resend would duplicate it).
            ItemNotFoundError: For an unknown reference.
        """
        return self.begin_attempts(
            [reference], owner=owner, provider=provider, now=now, lease_seconds=lease_seconds
        )[0]

    def begin_attempts(
        self,
        references: Sequence[str],
        *,
        owner: str,
        provider: str,
        now: float,
        lease_seconds: float | None = None,
    ) -> list[Attempt]:
        """:meth:`begin_attempt` for every recipient of one request, in one commit.

        All or nothing: if any item fails the checks, no attempt is recorded.

        Raises:
            LeaseError: When ``owner`` lacks a live lease on any of them.
            OutboxStateError: When any of them is done or known to be accepted.
            ItemNotFoundError: For an unknown reference.
        """
        with self._tx() as conn:
            for item in self._held(conn, references, owner, now):
                if item.state is ItemState.DONE or (item.status and item.status.is_success):
                    raise OutboxStateError(
                        f"item {item.reference!r} is {item.state.value} with status "
                        f"{item.status.value if item.status else None}; not sending again"
                    )
            until = None if lease_seconds is None else now + lease_seconds
            attempts = []
            for reference in references:
                # An attempt still open here was interrupted (crash, lost lease) and never
                # reconciled into a result: its outcome stays unknown for the record.
                conn.execute(
                    "UPDATE attempts SET finished_at = ?, outcome_unknown = 1 "
                    "WHERE reference = ? AND finished_at IS NULL",
                    (now, reference),
                )
                conn.execute(
                    "UPDATE items SET state = 'inflight', provider = ?, status = NULL, "
                    "message_id = NULL, message_key = NULL, parts = NULL, cost = NULL, "
                    "attempts = attempts + 1, updated_at = ?, "
                    "lease_until = COALESCE(?, lease_until) WHERE reference = ?",
                    (provider, now, until, reference),
                )
                cur = conn.execute(
                    "INSERT INTO attempts (reference, provider, started_at) VALUES (?, ?, ?)",
                    (reference, provider, now),
                )
                assert cur.lastrowid is not None
                attempts.append(
                    Attempt(
                        id=cur.lastrowid, reference=reference, provider=provider, started_at=now
                    )
                )
        return attempts

    def release(self, owner: str, *, now: float) -> int:
        """Drop every lease ``owner`` holds (graceful shutdown).

        Released in-flight items become claimable at once, flagged for reconciliation.

        Args:
            owner: The worker.
            now: The current time.

        Returns:
            How many leases were dropped.

        Raises:
            OutboxError: For database errors.
        """
        with self._tx() as conn:
            cur = conn.execute(
                "UPDATE items SET lease_owner = NULL, lease_until = NULL, updated_at = ? "
                "WHERE lease_owner = ?",
                (now, owner),
            )
            return cur.rowcount
