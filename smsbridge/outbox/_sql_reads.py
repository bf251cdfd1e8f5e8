"""Reading an SQL outbox, and its small shared records (counters, named values,
chunks, breakers).

Not public: use :class:`smsbridge.outbox.SqliteStore` or
:class:`smsbridge.outbox.postgres.PostgresStore`.
"""

from __future__ import annotations

import abc
from collections.abc import Generator, Mapping, Sequence

from smsbridge.outbox import codec
from smsbridge.outbox._sql_common import ConnT, SqlBase, decode_attempt, operation
from smsbridge.outbox.base import (
    BreakerState,
    Chunk,
    History,
    ItemNotFoundError,
    ItemOutcome,
    ItemState,
    OutboxItem,
    StorageError,
)
from smsbridge.status import Status

__all__ = ["SqlReads"]


OUTCOME_COLUMNS = (
    "reference, recipient, state, provider, status, message_id, parts, cost, attempts, "
    "next_attempt_at, updated_at, last_error"
)
"""The ``items`` columns an :class:`ItemOutcome` holds, in its order."""


class SqlReads(SqlBase[ConnT]):
    """Reads, counters, named values, chunks and breaker state."""

    @operation("read")
    def get(self, reference: str) -> OutboxItem | None:
        """The item with this reference, or ``None``.

        Raises:
            OutboxError: For database errors.
        """
        with self._read_tx() as conn:
            try:
                return self._row(conn, reference)
            except ItemNotFoundError:
                return None

    @operation("read")
    def get_many(self, references: Sequence[str]) -> dict[str, OutboxItem]:
        """The stored items among ``references``, by reference, in a few reads.

        Raises:
            OutboxError: For database errors.
        """
        with self._read_tx() as conn:
            return self._fetch_items(conn, references)

    @operation("read")
    def outcomes(self, references: Sequence[str]) -> dict[str, ItemOutcome]:
        """Where the items among ``references`` stand, without their messages.

        Raises:
            OutboxError: For database errors.
        """
        with self._read_tx() as conn:
            rows = self._fetch_rows(conn, references, OUTCOME_COLUMNS)
        return {
            reference: ItemOutcome(
                reference=row[0],
                recipient=row[1],
                state=ItemState(row[2]),
                provider=row[3],
                status=None if row[4] is None else Status(row[4]),
                message_id=row[5],
                parts=row[6],
                cost=codec.cost_from_json(row[7]),
                attempts=row[8],
                next_attempt_at=row[9],
                updated_at=row[10],
                last_error=codec.error_from_json(row[11]),
            )
            for reference, row in rows.items()
        }

    @operation("read")
    def history(self, reference: str) -> History | None:
        """The item with its attempts and reports, oldest first, from one snapshot.

        Args:
            reference: The item.

        Returns:
            The history, or ``None`` for an unknown reference.

        Raises:
            OutboxError: For database errors.
        """
        with self._read_tx(snapshot=True) as conn:
            try:
                item = self._row(conn, reference)
            except ItemNotFoundError:
                return None
            attempts = self._run(
                conn,
                "SELECT {attempt_columns} FROM attempts WHERE reference = ? ORDER BY id",
                (reference,),
            ).fetchall()
            reports = self._run(
                conn, "SELECT report FROM reports WHERE reference = ? ORDER BY id", (reference,)
            ).fetchall()
        return History(
            item=item,
            attempts=tuple(decode_attempt(row) for row in attempts),
            reports=tuple(codec.report_from_json(row[0]) for row in reports),
        )

    @operation("read")
    def counts(self, batch: str | None = None) -> Mapping[ItemState, int]:
        """How many items are in each state (every state present, zero or not).

        Args:
            batch: Only this batch's items; all items when ``None``.

        Raises:
            OutboxError: For database errors.
        """
        with self._read_tx() as conn:
            if batch is None:
                rows = self._run(conn, "SELECT state, COUNT(*) FROM items GROUP BY state")
            else:
                rows = self._run(
                    conn,
                    "SELECT state, COUNT(*) FROM items WHERE batch = ? GROUP BY state",
                    (batch,),
                )
            found = rows.fetchall()
        result = dict.fromkeys(ItemState, 0)
        result.update({ItemState(state): count for state, count in found})
        return result

    def iter_items(
        self, batch: str | None = None, state: ItemState | None = None
    ) -> Generator[OutboxItem, None, None]:
        """Stream items in insertion order, a page at a time.

        The walk never holds up the store: other threads, and the caller, may change
        items while it goes on. The SQLite store reads each page in a short transaction
        of its own, so an item changing meanwhile is seen as it is when its page is
        read; the PostgreSQL store reads through a server-side cursor on a connection
        of its own (closed when the walk ends or the generator is closed or dropped),
        and sees the outbox as it was when the walk started.

        Args:
            batch: Only this batch's items.
            state: Only items in this state.

        Raises:
            OutboxError: For database errors.
        """
        clauses: list[str] = []
        params: list[object] = []
        if batch is not None:
            clauses.append("batch = ?")
            params.append(batch)
        if state is not None:
            clauses.append("state = ?")
            params.append(state.value)
        try:
            yield from self._walk(clauses, params)
        except StorageError as exc:
            exc.locate("read")
            raise

    @abc.abstractmethod
    def _walk(
        self, clauses: Sequence[str], params: Sequence[object]
    ) -> Generator[OutboxItem, None, None]:
        """The items matching every clause (shared SQL, ``?`` placeholders, bound to
        ``params``) in insertion order, streamed as :meth:`iter_items` describes."""

    # -- counters, chunks, breakers ---------------------------------------------------

    @operation("allocate")
    def allocate(self, name: str, *, low: int = 1, high: int = 2**31 - 1) -> int:
        """The next value of a durable counter shared by every process using the outbox.

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
            return self._allocate(conn, name, low, high)

    @abc.abstractmethod
    def _allocate(self, conn: ConnT, name: str, low: int, high: int) -> int:
        """Advance the counter as :meth:`allocate` describes, without two concurrent
        callers getting the same value."""

    @operation("set_meta")
    def set_meta(self, name: str, value: int | None) -> None:
        """Store a named integer for every process using the outbox, or forget it.

        Kept in the counters table (no schema of its own): the names share one namespace
        with :meth:`allocate`'s counters, so give them a prefix of their own, such as
        ``"batch-size:"`` (:mod:`smsbridge.outbox.batch_sizes`).

        Args:
            name: The value's name.
            value: The integer (replacing any stored one), or ``None`` to delete it.

        Raises:
            OutboxError: For database errors.
        """
        with self._tx() as conn:
            if value is None:
                self._run(conn, "DELETE FROM counters WHERE name = ?", (name,))
            else:
                self._run(
                    conn,
                    "INSERT INTO counters (name, value) VALUES (?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    (name, int(value)),
                )

    @operation("get_meta")
    def get_meta(self, name: str) -> int | None:
        """The named integer :meth:`set_meta` stored, or ``None``.

        Raises:
            OutboxError: For database errors.
        """
        with self._read_tx() as conn:
            row = self._run(conn, "SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        return None if row is None else int(row[0])

    @operation("get_meta")
    def find_meta(self, prefix: str) -> dict[str, int]:
        """Every named integer whose name starts with ``prefix``, by name.

        Args:
            prefix: The start of the names, matched exactly (case and all).

        Raises:
            OutboxError: For database errors.
        """
        # LIKE narrows the scan in both databases; its wildcards are escaped, and SQLite's
        # LIKE ignores ASCII case, so the exact test is made here.
        pattern = prefix.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%"
        with self._read_tx() as conn:
            rows = self._run(
                conn, "SELECT name, value FROM counters WHERE name LIKE ? ESCAPE '!'", (pattern,)
            ).fetchall()
        return {str(name): int(value) for name, value in rows if str(name).startswith(prefix)}

    @operation("save_chunk")
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
            self._run(
                conn,
                "INSERT INTO chunks (key, provider, payload, refs, created_at) "
                "VALUES (?, ?, ?, {texts}, ?) ON CONFLICT (key) DO UPDATE SET "
                "provider = excluded.provider, payload = excluded.payload, "
                "refs = excluded.refs, created_at = excluded.created_at",
                (
                    key,
                    provider,
                    bytes(payload),
                    self._dialect.encode_texts(list(references)),
                    float(now),
                ),
            )
            self._save_members(conn, key, references)

    @abc.abstractmethod
    def _save_members(self, conn: ConnT, key: str, references: Sequence[str]) -> None:
        """Make ``key`` the latest chunk of each reference (one may be listed twice)."""

    @operation("load_chunk")
    def load_chunk(self, key: str) -> Chunk | None:
        """The stored request body, or ``None``.

        Raises:
            OutboxError: For database errors.
        """
        with self._read_tx() as conn:
            row = self._run(
                conn, "SELECT provider, payload, refs FROM chunks WHERE key = ?", (key,)
            ).fetchone()
        if row is None:
            return None
        return Chunk(row[0], bytes(row[1]), tuple(self._dialect.decode_texts(row[2])))

    @operation("load_chunk")
    def chunk_of(self, reference: str) -> str | None:
        """The key of the latest chunk that carries this item, or ``None``.

        Raises:
            OutboxError: For database errors.
        """
        with self._read_tx() as conn:
            row = self._run(
                conn, "SELECT key FROM chunk_members WHERE reference = ?", (reference,)
            ).fetchone()
        return None if row is None else str(row[0])

    @operation("get_breaker")
    def get_breaker(self, provider: str) -> BreakerState:
        """The provider's shared breaker state; closed when never stored.

        Raises:
            OutboxError: For database errors.
        """
        with self._read_tx() as conn:
            row = self._run(
                conn,
                "SELECT state, failures, opened_at FROM breakers WHERE provider = ?",
                (provider,),
            ).fetchone()
        return BreakerState() if row is None else BreakerState(row[0], row[1], row[2])

    @operation("get_breaker")
    def breakers(self) -> dict[str, BreakerState]:
        """Every stored breaker state, by provider (``smsbridge breakers`` lists them).

        Raises:
            OutboxError: For database errors.
        """
        with self._read_tx() as conn:
            rows = self._run(
                conn, "SELECT provider, state, failures, opened_at FROM breakers ORDER BY provider"
            ).fetchall()
        return {str(row[0]): BreakerState(row[1], row[2], row[3]) for row in rows}

    @operation("put_breaker")
    def put_breaker(self, provider: str, state: BreakerState) -> None:
        """Store the provider's breaker state for every worker.

        Raises:
            OutboxError: For database errors.
        """
        with self._tx() as conn:
            self._run(
                conn,
                "INSERT INTO breakers (provider, state, failures, opened_at) "
                "VALUES (?, ?, ?, {real}) ON CONFLICT (provider) DO UPDATE SET "
                "state = excluded.state, failures = excluded.failures, "
                "opened_at = excluded.opened_at",
                (provider, state.state, state.failures, state.opened_at),
            )
