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

import itertools
from collections.abc import Generator, Sequence
from typing import Any

import psycopg

from smsbridge.outbox._pg_base import (
    DEFAULT_SCHEMA,
    Connection,
    PgBase,
    db_error,
    pin_session,
    split_url,
)
from smsbridge.outbox._sql_common import ITEM_COLUMNS
from smsbridge.outbox._sql_items import NewRow, SqlItems
from smsbridge.outbox._sql_outcomes import SqlOutcomes
from smsbridge.outbox._sql_reads import SqlReads
from smsbridge.outbox.base import Attempt, OutboxError, OutboxItem

__all__ = ["DEFAULT_SCHEMA", "PostgresStore", "db_error", "pin_session", "split_url"]

_PAGE = 500
_cursor_names = itertools.count()


class PostgresStore(
    SqlItems[Connection],
    SqlOutcomes[Connection],
    SqlReads[Connection],
    PgBase,
):
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

    # What PostgreSQL spells its own way; the rules are in the shared parts.

    def _insert_items(
        self,
        conn: Connection,
        rows: Sequence[NewRow],
        now: float,
        lease: tuple[str, float] | None = None,
        provider: str | None = None,
    ) -> int:
        # unnest turns seven arrays into rows in one round trip; ORDER BY ord keeps the
        # input order in seq. A reference repeated in the chunk conflicts with its own
        # first row and is skipped like any existing one.
        columns: list[list[Any]] = [list(column) for column in zip(*rows, strict=True)]
        state, attempts = ("pending", 0) if provider is None else ("inflight", 1)
        owner, until = lease if lease is not None else (None, None)
        cur = conn.execute(
            "INSERT INTO items (reference, recipient, body, sender, options, batch, "
            "state, next_attempt_at, created_at, updated_at, lease_owner, lease_until, "
            "provider, attempts) "
            "SELECT r, rc, b, s, o, bt, %s, d, %s, %s, %s, %s::float8, %s, %s FROM unnest("
            "%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], "
            "%s::float8[]) WITH ORDINALITY AS t (r, rc, b, s, o, bt, d, ord) "
            "ORDER BY ord ON CONFLICT (reference) DO NOTHING",
            (state, now, now, owner, until, provider, attempts, *columns),
        )
        return cur.rowcount

    def _claim(
        self, conn: Connection, owner: str, limit: int, now: float, until: float
    ) -> list[OutboxItem]:
        # A row locked by a concurrent claim (or a result being recorded) is skipped, not
        # waited for. A row another claim leased and committed after this statement's
        # snapshot is re-checked against the WHERE clause when locked, and dropped
        # because its lease is now live: no item is leased twice.
        rows = conn.execute(
            "WITH due AS (SELECT seq FROM items "  # noqa: S608
            "WHERE state <> 'done' AND next_attempt_at <= %(now)s "
            "AND (lease_until IS NULL OR lease_until <= %(now)s) "
            "ORDER BY next_attempt_at, seq LIMIT %(limit)s FOR UPDATE SKIP LOCKED) "
            "UPDATE items SET lease_owner = %(owner)s, lease_until = %(until)s "
            f"FROM due WHERE items.seq = due.seq RETURNING items.seq, {ITEM_COLUMNS}",
            {"now": float(now), "limit": limit, "owner": owner, "until": float(until)},
        ).fetchall()
        # UPDATE ... RETURNING gives no order; the claim promises one.
        rows.sort(key=lambda row: (row[14], row[0]))
        return [self._item(row[1:]) for row in rows]

    def _open_attempts(
        self,
        conn: Connection,
        references: list[str],
        provider: str,
        now: float,
        until: float | None,
        stored: list[str],
        tried: list[str],
    ) -> list[Attempt]:
        # One statement per step for the whole request, whatever its size.
        if tried:
            conn.execute(
                "UPDATE attempts SET finished_at = %s, outcome_unknown = true "
                "WHERE reference = ANY(%s::text[]) AND finished_at IS NULL",
                (float(now), tried),
            )
        if stored:
            conn.execute(
                "UPDATE items SET state = 'inflight', provider = %s, status = NULL, "
                "message_id = NULL, message_key = NULL, parts = NULL, cost = NULL, "
                "attempts = attempts + 1, updated_at = %s, "
                "lease_until = COALESCE(%s::float8, lease_until) "
                "WHERE reference = ANY(%s::text[])",
                (provider, float(now), until, stored),
            )
        rows = conn.execute(
            "INSERT INTO attempts (reference, provider, started_at) "
            "SELECT r, %s, %s FROM unnest(%s::text[]) WITH ORDINALITY AS t (r, ord) "
            "ORDER BY ord RETURNING id",
            (provider, float(now), references),
        ).fetchall()
        # Ids follow ORDER BY ord, so sorted ids line up with the references.
        ids = sorted(row[0] for row in rows)
        return [
            Attempt(id=id_, reference=reference, provider=provider, started_at=now)
            for id_, reference in zip(ids, references, strict=True)
        ]

    def _walk(
        self, clauses: Sequence[str], params: Sequence[object]
    ) -> Generator[OutboxItem, None, None]:
        # A server-side cursor on a connection of its own, opened for this walk and
        # closed when it ends (or when the generator is closed or dropped): the store's
        # connection stays free, so the caller may change items while walking and other
        # threads are not held up. Rows come _PAGE at a time, from one snapshot.
        where = " AND ".join(["true", *clauses])
        query = self._dialect.sql(
            f"SELECT {ITEM_COLUMNS} FROM items WHERE {where} ORDER BY seq"  # noqa: S608
        )
        if self._closed:  # says so before the first item is asked for
            raise OutboxError("the outbox store is closed")
        try:
            conn = self._connect()
        except psycopg.Error as exc:
            raise db_error(exc) from exc
        try:
            with (
                conn.transaction(),
                conn.cursor(f"smsbridge_items_{next(_cursor_names)}") as cursor,
            ):
                cursor.itersize = _PAGE
                cursor.execute(query, params)
                for row in cursor:
                    yield self._item(row)
        except psycopg.Error as exc:
            raise db_error(exc) from exc
        finally:
            conn.close()

    def _allocate(self, conn: Connection, name: str, low: int, high: int) -> int:
        # One INSERT ... ON CONFLICT DO UPDATE ... RETURNING: the row lock makes
        # concurrent callers take turns.
        row = conn.execute(
            "INSERT INTO counters AS c (name, value) VALUES (%(name)s, %(low)s) "
            "ON CONFLICT (name) DO UPDATE SET value = CASE "
            "WHEN c.value >= %(low)s AND c.value < %(high)s THEN c.value + 1 "
            "ELSE %(low)s END RETURNING value",
            {"name": name, "low": low, "high": high},
        ).fetchone()
        assert row is not None
        return int(row[0])

    def _save_members(self, conn: Connection, key: str, references: Sequence[str]) -> None:
        # One row per reference: ON CONFLICT DO UPDATE may not touch a row twice in one
        # statement, so a reference listed twice is written once.
        conn.execute(
            "INSERT INTO chunk_members (reference, key) "
            "SELECT r, %s FROM unnest(%s::text[]) AS t (r) "
            "ON CONFLICT (reference) DO UPDATE SET key = excluded.key",
            (key, list(dict.fromkeys(references))),
        )
