"""Reading the SQLite outbox, and its small shared records (counters, chunks, breakers).

Not public: use :class:`smsbridge.outbox.SqliteStore`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence

from smsbridge.outbox import codec
from smsbridge.outbox._sqlite_base import _COLUMNS, SqliteBase, _attempt, _item
from smsbridge.outbox.base import (
    BreakerState,
    Chunk,
    History,
    ItemNotFoundError,
    ItemState,
    OutboxItem,
)

__all__ = ["SqliteReads"]

_PAGE = 500


class SqliteReads(SqliteBase):
    """Reads, counters, chunks and breaker state."""

    def get(self, reference: str) -> OutboxItem | None:
        """The item with this reference, or ``None``.

        Raises:
            OutboxError: For database errors.
        """
        with self._tx("DEFERRED") as conn:
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
        with self._tx("DEFERRED") as conn:
            try:
                item = self._row(conn, reference)
            except ItemNotFoundError:
                return None
            attempts = conn.execute(
                "SELECT id, reference, provider, started_at, finished_at, outcome, error, "
                "outcome_unknown FROM attempts WHERE reference = ? ORDER BY id",
                (reference,),
            ).fetchall()
            reports = conn.execute(
                "SELECT report FROM reports WHERE reference = ? ORDER BY id", (reference,)
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
        where, params = ("WHERE batch = ?", (batch,)) if batch is not None else ("", ())
        with self._tx("DEFERRED") as conn:
            rows = conn.execute(
                f"SELECT state, COUNT(*) FROM items {where} GROUP BY state",  # noqa: S608
                params,
            ).fetchall()
        result = dict.fromkeys(ItemState, 0)
        result.update({ItemState(state): count for state, count in rows})
        return result

    def iter_items(
        self, batch: str | None = None, state: ItemState | None = None
    ) -> Iterator[OutboxItem]:
        """Stream items in insertion order, a page at a time.

        The lock is not held between pages, so other threads keep working while a
        caller walks a large outbox; an item changing meanwhile is seen as it is when
        its page is read.

        Args:
            batch: Only this batch's items.
            state: Only items in this state.

        Raises:
            OutboxError: For database errors.
        """
        clauses, params = ["seq > ?"], []
        if batch is not None:
            clauses.append("batch = ?")
            params.append(batch)
        if state is not None:
            clauses.append("state = ?")
            params.append(state.value)
        sql = (
            f"SELECT seq, {_COLUMNS} FROM items WHERE {' AND '.join(clauses)} "  # noqa: S608
            f"ORDER BY seq LIMIT {_PAGE:d}"
        )
        last = 0
        while True:
            with self._tx("DEFERRED") as conn:
                rows = conn.execute(sql, (last, *params)).fetchall()
            for row in rows:
                yield _item(row[1:])
            if len(rows) < _PAGE:
                return
            last = rows[-1][0]

    # -- counters, chunks, breakers ---------------------------------------------------

    def allocate(self, name: str, *, low: int = 1, high: int = 2**31 - 1) -> int:
        """The next value of a durable counter shared by every process using the file.

        Values go up by one from ``low`` and wrap from ``high`` back to ``low``; two
        consecutive calls (from any process) never get the same value unless the range
        has one value.

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
            row = conn.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
            value = low if row is None or not low <= row[0] < high else row[0] + 1
            conn.execute(
                "INSERT INTO counters (name, value) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, value),
            )
        return int(value)

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
                "INSERT OR REPLACE INTO chunks (key, provider, payload, refs, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (key, provider, bytes(payload), json.dumps(list(references)), now),
            )
            conn.executemany(
                "INSERT OR REPLACE INTO chunk_members (reference, key) VALUES (?, ?)",
                [(reference, key) for reference in references],
            )

    def load_chunk(self, key: str) -> Chunk | None:
        """The stored request body, or ``None``.

        Raises:
            OutboxError: For database errors.
        """
        with self._tx("DEFERRED") as conn:
            row = conn.execute(
                "SELECT provider, payload, refs FROM chunks WHERE key = ?", (key,)
            ).fetchone()
        return None if row is None else Chunk(row[0], bytes(row[1]), tuple(json.loads(row[2])))

    def chunk_of(self, reference: str) -> str | None:
        """The key of the latest chunk that carries this item, or ``None``.

        Raises:
            OutboxError: For database errors.
        """
        with self._tx("DEFERRED") as conn:
            row = conn.execute(
                "SELECT key FROM chunk_members WHERE reference = ?", (reference,)
            ).fetchone()
        return None if row is None else str(row[0])

    def get_breaker(self, provider: str) -> BreakerState:
        """The provider's shared breaker state; closed when never stored.

        Raises:
            OutboxError: For database errors.
        """
        with self._tx("DEFERRED") as conn:
            row = conn.execute(
                "SELECT state, failures, opened_at FROM breakers WHERE provider = ?",
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
                "INSERT OR REPLACE INTO breakers (provider, state, failures, opened_at) "
                "VALUES (?, ?, ?, ?)",
                (provider, state.state, state.failures, state.opened_at),
            )
