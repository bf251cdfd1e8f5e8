"""The PostgreSQL outbox: one database shared by any number of worker processes and hosts.

Claims use ``SELECT ... FOR UPDATE SKIP LOCKED``: a worker leases the due rows nobody
else is leasing at that moment and never waits for another worker's claim, so claims
scale with workers instead of queueing behind one write lock as they do in SQLite.
Every other change to a leased item locks its row first (``SELECT ... FOR UPDATE``), so
a result, a retry and a takeover by another worker are applied one after the other,
never interleaved. A delivery report and the result carrying its message id serialize
on an advisory lock keyed by that id, so a report that races the submit response is
either found by it or parked and picked up by it, never lost in between.

Each method is one transaction, committed before it returns: when
:meth:`PostgresStore.begin_attempt` returns, the attempt is durable (with the server's
default ``synchronous_commit = on``).

Requires psycopg 3 (``pip install 'smsbridge[postgres]'``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from smsbridge.model import SendOptions
from smsbridge.outbox import codec
from smsbridge.outbox._pg_base import _COLUMNS, DEFAULT_SCHEMA, _item, split_url
from smsbridge.outbox._pg_outcomes import PgOutcomes
from smsbridge.outbox._pg_reads import PgReads
from smsbridge.outbox.base import (
    AddResult,
    Attempt,
    ItemState,
    NewItem,
    OutboxItem,
    OutboxStateError,
)

__all__ = ["DEFAULT_SCHEMA", "PostgresStore", "split_url"]


class PostgresStore(PgOutcomes, PgReads):
    """An :class:`~smsbridge.outbox.OutboxStore` in a PostgreSQL database.

    One connection per store, guarded by a lock, so a store may be shared by threads;
    every process (or host) opens its own store on the same database. The tables live in
    their own PostgreSQL schema, created and migrated on first use.

    Args:
        url: A libpq URL, e.g. ``postgresql://app:secret@db.internal:5432/sms``; an extra
            ``schema=NAME`` query parameter names the PostgreSQL schema.
        schema: The PostgreSQL schema holding the outbox; wins over the URL's, and
            defaults to ``"smsbridge"``. Several outboxes may share a database, one per
            schema.
        timeout: Seconds to wait for a row another worker has locked (``lock_timeout``)
            and for the connection to open.

    Raises:
        OutboxError: When the server cannot be reached (``TRANSIENT``) or the outbox was
            written by a newer smsbridge.
    """

    def add(self, items: Iterable[NewItem], *, now: float, chunk_size: int = 1000) -> AddResult:
        """Write items whose reference is not stored yet; others are left untouched.

        The input is consumed lazily and committed ``chunk_size`` rows at a time (one
        statement per chunk), so a generator of a million items never sits in memory,
        and an interruption keeps what was committed (adding the same items again skips
        those).

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
        columns: tuple[list[Any], ...] = ([], [], [], [], [], [], [])

        def flush() -> None:
            nonlocal added, existing
            with self._tx() as conn:
                # unnest turns seven arrays into rows in one round trip; ORDER BY ord keeps
                # the input order in seq. A reference repeated in the chunk conflicts with
                # its own first row and is skipped like any existing one.
                cur = conn.execute(
                    "INSERT INTO items (reference, recipient, body, sender, options, batch, "
                    "state, next_attempt_at, created_at, updated_at) "
                    "SELECT r, rc, b, s, o, bt, 'pending', d, %s, %s FROM unnest("
                    "%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], "
                    "%s::float8[]) WITH ORDINALITY AS t (r, rc, b, s, o, bt, d, ord) "
                    "ORDER BY ord ON CONFLICT (reference) DO NOTHING",
                    (float(now), float(now), *columns),
                )
                count = len(columns[0])
                added += cur.rowcount
                existing += count - cur.rowcount
            for column in columns:
                column.clear()

        for item in items:
            if item.options is not last[0]:
                last = (item.options, codec.options_to_json(item.options))
            due = now if item.next_attempt_at is None else item.next_attempt_at
            values = (item.reference, item.recipient, item.body, item.sender, last[1])
            for column, value in zip(columns, (*values, item.batch, float(due)), strict=True):
                column.append(value)
            if len(columns[0]) >= chunk_size:
                flush()
        if columns[0]:
            flush()
        return AddResult(added, existing)

    def claim(
        self, owner: str, *, limit: int, now: float, lease_seconds: float
    ) -> list[OutboxItem]:
        """Lease up to ``limit`` due items for ``owner``, skipping rows others are leasing.

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
        until = now + lease_seconds
        with self._tx() as conn:
            # A row locked by a concurrent claim (or a result being recorded) is skipped,
            # not waited for. A row another claim leased and committed after this
            # statement's snapshot is re-checked against the WHERE clause when locked,
            # and dropped because its lease is now live: no item is leased twice.
            rows = conn.execute(
                "WITH due AS (SELECT seq FROM items "  # noqa: S608
                "WHERE state <> 'done' AND next_attempt_at <= %(now)s "
                "AND (lease_until IS NULL OR lease_until <= %(now)s) "
                "ORDER BY next_attempt_at, seq LIMIT %(limit)s FOR UPDATE SKIP LOCKED) "
                "UPDATE items SET lease_owner = %(owner)s, lease_until = %(until)s "
                f"FROM due WHERE items.seq = due.seq RETURNING items.seq, {_COLUMNS}",
                {"now": float(now), "limit": limit, "owner": owner, "until": float(until)},
            ).fetchall()
        # UPDATE ... RETURNING gives no order; the claim promises one.
        rows.sort(key=lambda row: (row[14], row[0]))
        return [_item(row[1:]) for row in rows]

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
        wanted = list(references)
        until = None if lease_seconds is None else float(now + lease_seconds)
        with self._tx() as conn:
            for item in self._held(conn, wanted, owner, now):
                if item.state is ItemState.DONE or (item.status and item.status.is_success):
                    raise OutboxStateError(
                        f"item {item.reference!r} is {item.state.value} with status "
                        f"{item.status.value if item.status else None}; not sending again"
                    )
            # An attempt still open here was interrupted (crash, lost lease) and never
            # reconciled into a result: its outcome stays unknown for the record.
            conn.execute(
                "UPDATE attempts SET finished_at = %s, outcome_unknown = true "
                "WHERE reference = ANY(%s::text[]) AND finished_at IS NULL",
                (float(now), wanted),
            )
            conn.execute(
                "UPDATE items SET state = 'inflight', provider = %s, status = NULL, "
                "message_id = NULL, message_key = NULL, parts = NULL, cost = NULL, "
                "attempts = attempts + 1, updated_at = %s, "
                "lease_until = COALESCE(%s::float8, lease_until) "
                "WHERE reference = ANY(%s::text[])",
                (provider, float(now), until, wanted),
            )
            rows = conn.execute(
                "INSERT INTO attempts (reference, provider, started_at) "
                "SELECT r, %s, %s FROM unnest(%s::text[]) WITH ORDINALITY AS t (r, ord) "
                "ORDER BY ord RETURNING id",
                (provider, float(now), wanted),
            ).fetchall()
        # Ids follow ORDER BY ord, so sorted ids line up with the references.
        ids = sorted(row[0] for row in rows)
        return [
            Attempt(id=id_, reference=reference, provider=provider, started_at=now)
            for id_, reference in zip(ids, wanted, strict=True)
        ]

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
                "UPDATE items SET lease_owner = NULL, lease_until = NULL, updated_at = %s "
                "WHERE lease_owner = %s",
                (float(now), owner),
            )
            return cur.rowcount
