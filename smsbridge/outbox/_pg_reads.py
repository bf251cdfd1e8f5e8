"""Reading the PostgreSQL outbox, and its small shared records (counters, chunks, breakers).

Not public: use :class:`smsbridge.outbox.postgres.PostgresStore`.
"""

from __future__ import annotations

import itertools
from collections.abc import Generator, Mapping, Sequence

import psycopg

from smsbridge.outbox import codec
from smsbridge.outbox._pg_base import (
    _ATTEMPT_COLUMNS,
    _COLUMNS,
    PgBase,
    _attempt,
    _db_error,
    _item,
)
from smsbridge.outbox.base import (
    BreakerState,
    Chunk,
    History,
    ItemNotFoundError,
    ItemState,
    OutboxItem,
)

__all__ = ["PgReads"]

_PAGE = 500
_cursor_names = itertools.count()


class PgReads(PgBase):
    """Reads, counters, chunks and breaker state."""

    def get(self, reference: str) -> OutboxItem | None:
        """The item with this reference, or ``None``.

        Raises:
            OutboxError: For database errors.
        """
        with self._tx() as conn:
            try:
                return self._row(conn, reference)
            except ItemNotFoundError:
                return None

    def history(self, reference: str) -> History | None:
        """The item with its attempts and reports, oldest first, from one snapshot.

        Args:
            reference: The item.

        Returns:
            The history, or ``None`` for an unknown reference.

        Raises:
            OutboxError: For database errors.
        """
        with self._tx(snapshot=True) as conn:
            try:
                item = self._row(conn, reference)
            except ItemNotFoundError:
                return None
            attempts = conn.execute(
                f"SELECT {_ATTEMPT_COLUMNS} FROM attempts "  # noqa: S608
                "WHERE reference = %s ORDER BY id",
                (reference,),
            ).fetchall()
            reports = conn.execute(
                "SELECT report FROM reports WHERE reference = %s ORDER BY id", (reference,)
            ).fetchall()
        return History(
            item=item,
            attempts=tuple(_attempt(row) for row in attempts),
            reports=tuple(codec.report_from_json(row[0]) for row in reports),
        )

    def counts(self, batch: str | None = None) -> Mapping[ItemState, int]:
        """How many items are in each state (every state present, zero or not).

        Args:
            batch: Only this batch's items; all items when ``None``.

        Raises:
            OutboxError: For database errors.
        """
        with self._tx() as conn:
            if batch is None:
                rows = conn.execute("SELECT state, count(*) FROM items GROUP BY state")
            else:
                rows = conn.execute(
                    "SELECT state, count(*) FROM items WHERE batch = %s GROUP BY state",
                    (batch,),
                )
            found = rows.fetchall()
        result = dict.fromkeys(ItemState, 0)
        result.update({ItemState(state): count for state, count in found})
        return result

    def iter_items(
        self, batch: str | None = None, state: ItemState | None = None
    ) -> Generator[OutboxItem, None, None]:
        """Stream items in insertion order through a server-side cursor.

        The cursor lives on a connection of its own, opened for this walk and closed when
        it ends (or when the generator is closed or dropped), so the store's connection
        stays free: the caller may change items while walking, and other threads are
        not held up. Rows come ``500`` at a time and the walk sees the outbox as it was
        when it started.

        Args:
            batch: Only this batch's items.
            state: Only items in this state.

        Raises:
            OutboxError: For database errors.
        """
        clauses, params = ["true"], []
        if batch is not None:
            clauses.append("batch = %s")
            params.append(batch)
        if state is not None:
            clauses.append("state = %s")
            params.append(state.value)
        query = (
            f"SELECT {_COLUMNS} FROM items WHERE {' AND '.join(clauses)} "  # noqa: S608
            "ORDER BY seq"
        )
        self._connection()  # a closed store says so before the first item is asked for
        try:
            conn = self._connect()
        except psycopg.Error as exc:
            raise _db_error(exc) from exc
        try:
            with (
                conn.transaction(),
                conn.cursor(f"smsbridge_items_{next(_cursor_names)}") as cursor,
            ):
                cursor.itersize = _PAGE
                cursor.execute(query, params)
                for row in cursor:
                    yield _item(row)
        except psycopg.Error as exc:
            raise _db_error(exc) from exc
        finally:
            conn.close()

    # -- counters, chunks, breakers ---------------------------------------------------

    def allocate(self, name: str, *, low: int = 1, high: int = 2**31 - 1) -> int:
        """The next value of a durable counter shared by every worker on the database.

        Values go up by one from ``low`` and wrap from ``high`` back to ``low``; two
        consecutive calls (from any process) never get the same value unless the range
        has one value. One ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``: the row
        lock makes concurrent callers take turns.

        Args:
            name: The counter, e.g. ``"bulksms.stop_dup_id"``.
            low: Smallest value.
            high: Largest value.

        Returns:
            The allocated value.

        Raises:
            ValueError: When ``low > high``.
            OutboxError: For database errors.
        """
        if low > high:
            raise ValueError(f"low ({low}) must not exceed high ({high})")
        with self._tx() as conn:
            row = conn.execute(
                "INSERT INTO counters AS c (name, value) VALUES (%(name)s, %(low)s) "
                "ON CONFLICT (name) DO UPDATE SET value = CASE "
                "WHEN c.value >= %(low)s AND c.value < %(high)s THEN c.value + 1 "
                "ELSE %(low)s END RETURNING value",
                {"name": name, "low": low, "high": high},
            ).fetchone()
        assert row is not None
        return int(row[0])

    def save_chunk(
        self, key: str, provider: str, payload: bytes, references: Sequence[str], *, now: float
    ) -> None:
        """Store a provider request body so a resend can be byte-identical.

        Args:
            key: The chunk's key (replaces an earlier chunk with the same key).
            provider: The provider it was built for.
            payload: The exact bytes.
            references: The items it carries, in order.
            now: The current time.

        Raises:
            OutboxError: For database errors.
        """
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO chunks (key, provider, payload, refs, created_at) "
                "VALUES (%s, %s, %s, %s::text[], %s) ON CONFLICT (key) DO UPDATE SET "
                "provider = excluded.provider, payload = excluded.payload, "
                "refs = excluded.refs, created_at = excluded.created_at",
                (key, provider, bytes(payload), list(references), float(now)),
            )
            # One row per reference: ON CONFLICT DO UPDATE may not touch a row twice in
            # one statement, so a reference listed twice is written once.
            conn.execute(
                "INSERT INTO chunk_members (reference, key) "
                "SELECT r, %s FROM unnest(%s::text[]) AS t (r) "
                "ON CONFLICT (reference) DO UPDATE SET key = excluded.key",
                (key, list(dict.fromkeys(references))),
            )

    def load_chunk(self, key: str) -> Chunk | None:
        """The stored request body, or ``None``.

        Raises:
            OutboxError: For database errors.
        """
        with self._tx() as conn:
            row = conn.execute(
                "SELECT provider, payload, refs FROM chunks WHERE key = %s", (key,)
            ).fetchone()
        return None if row is None else Chunk(row[0], bytes(row[1]), tuple(row[2]))

    def chunk_of(self, reference: str) -> str | None:
        """The key of the latest chunk that carries this item, or ``None``.

        Raises:
            OutboxError: For database errors.
        """
        with self._tx() as conn:
            row = conn.execute(
                "SELECT key FROM chunk_members WHERE reference = %s", (reference,)
            ).fetchone()
        return None if row is None else str(row[0])

    def get_breaker(self, provider: str) -> BreakerState:
        """The provider's shared breaker state; closed when never stored.

        Raises:
            OutboxError: For database errors.
        """
        with self._tx() as conn:
            row = conn.execute(
                "SELECT state, failures, opened_at FROM breakers WHERE provider = %s",
                (provider,),
            ).fetchone()
        return BreakerState() if row is None else BreakerState(row[0], row[1], row[2])

    def put_breaker(self, provider: str, state: BreakerState) -> None:
        """Store the provider's breaker state for every worker.

        Raises:
            OutboxError: For database errors.
        """
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO breakers (provider, state, failures, opened_at) "
                "VALUES (%s, %s, %s, %s::float8) ON CONFLICT (provider) DO UPDATE SET "
                "state = excluded.state, failures = excluded.failures, "
                "opened_at = excluded.opened_at",
                (provider, state.state, state.failures, state.opened_at),
            )
