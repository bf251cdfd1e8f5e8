"""Plumbing shared by the PostgreSQL store's parts: URLs, connections, transactions, rows.

Not public: use :class:`smsbridge.outbox.postgres.PostgresStore`.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, Self
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import TupleRow

from smsbridge.errors import Kind
from smsbridge.model import SendOptions
from smsbridge.outbox import codec, pg_schema
from smsbridge.outbox.base import (
    Attempt,
    ItemNotFoundError,
    ItemState,
    LeaseError,
    OutboxError,
    OutboxItem,
)
from smsbridge.status import Status

__all__ = ["DEFAULT_SCHEMA", "PgBase", "split_url"]

Connection = psycopg.Connection[TupleRow]

DEFAULT_SCHEMA = "smsbridge"
"""The PostgreSQL schema holding the outbox's tables unless told otherwise."""

_COLUMNS = (
    "reference, recipient, body, sender, options, batch, state, provider, status, "
    "message_id, parts, cost, attempts, next_attempt_at, created_at, updated_at, "
    "lease_owner, lease_until, excluded_providers, last_error"
)

_ATTEMPT_COLUMNS = (
    "id, reference, provider, started_at, finished_at, outcome, error, outcome_unknown"
)


def split_url(url: str) -> tuple[str, str | None]:
    """Take smsbridge's own ``schema`` parameter out of a PostgreSQL URL.

    libpq rejects parameters it does not know, so ``?schema=tenant_a`` must not reach it.

    Args:
        url: A ``postgresql://`` or ``postgres://`` URL.

    Returns:
        The URL for libpq and the schema it named (``None`` when it named none).
    """
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schemas = [value for name, value in query if name == "schema"]
    if not schemas:
        return url, None
    rest = urlencode([(name, value) for name, value in query if name != "schema"])
    return urlunsplit(parts._replace(query=rest)), schemas[-1]


def redact(url: str) -> str:
    """The URL with its password replaced by ``***`` (for reprs and messages)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


@lru_cache(maxsize=256)
def _options(text: str) -> SendOptions:
    # Items of one batch share their options text; decoding it once per claim page is
    # the difference between a cheap and an expensive claim. SendOptions is frozen.
    return codec.options_from_json(text)


def _item(row: Sequence[Any]) -> OutboxItem:
    return OutboxItem(
        reference=row[0],
        recipient=row[1],
        body=row[2],
        sender=row[3],
        options=_options(row[4]),
        batch=row[5],
        state=ItemState(row[6]),
        provider=row[7],
        status=None if row[8] is None else Status(row[8]),
        message_id=row[9],
        parts=row[10],
        cost=codec.cost_from_json(row[11]),
        attempts=row[12],
        next_attempt_at=row[13],
        created_at=row[14],
        updated_at=row[15],
        lease_owner=row[16],
        lease_until=row[17],
        excluded_providers=row[18],
        last_error=codec.error_from_json(row[19]),
    )


def _attempt(row: Sequence[Any]) -> Attempt:
    return Attempt(
        id=row[0],
        reference=row[1],
        provider=row[2],
        started_at=row[3],
        finished_at=row[4],
        outcome=None if row[5] is None else Status(row[5]),
        error=codec.error_from_json(row[6]),
        outcome_unknown=row[7],
    )


def _db_error(exc: psycopg.Error) -> OutboxError:
    # OperationalError covers a lost connection, lock timeouts, deadlocks and
    # serialization failures: all worth another try. Anything else is a bug or bad data.
    kind = Kind.TRANSIENT if isinstance(exc, psycopg.OperationalError) else Kind.PERMANENT
    return OutboxError(f"outbox database error: {exc}", kind=kind)


class PgBase:
    """The connection and transaction plumbing every part of the PostgreSQL store uses.

    Args:
        url: A libpq URL (``postgresql://user:password@host:port/database``); an extra
            ``schema=NAME`` query parameter names the PostgreSQL schema.
        schema: The PostgreSQL schema holding the outbox (created when missing); wins
            over the URL's; :data:`DEFAULT_SCHEMA` when neither names one.
        timeout: Seconds to wait for a row another worker has locked, and to connect.

    Raises:
        OutboxError: When the server cannot be reached or the outbox has a newer schema.
    """

    def __init__(self, url: str, *, schema: str | None = None, timeout: float = 30.0) -> None:
        conninfo, from_url = split_url(url)
        self.url = redact(url)
        self.schema = schema or from_url or DEFAULT_SCHEMA
        self._conninfo = conninfo
        self._timeout = timeout
        self._lock = threading.RLock()
        self._conn: Connection | None = None
        self._closed = False
        try:
            conn = self._connect()
        except psycopg.Error as exc:
            raise _db_error(exc) from exc
        try:
            pg_schema.migrate(conn, self.schema)
        except BaseException as exc:
            conn.close()
            if isinstance(exc, psycopg.Error):
                raise _db_error(exc) from exc
            raise
        self._conn = conn

    # -- plumbing ---------------------------------------------------------------------

    def _connect(self) -> Connection:
        """A new autocommit connection whose ``search_path`` is the outbox's schema."""
        extra: dict[str, Any] = {"connect_timeout": max(2, math.ceil(self._timeout))}
        if "application_name" not in conninfo_to_dict(self._conninfo):
            extra["application_name"] = "smsbridge"
        conn = psycopg.connect(self._conninfo, autocommit=True, **extra)
        try:
            # Only the outbox's schema: an application's own "items" table elsewhere in
            # the database can never be picked up by mistake.
            conn.execute(
                "SELECT set_config('search_path', quote_ident(%s), false), "
                "set_config('lock_timeout', %s, false)",
                (self.schema, f"{max(1, round(self._timeout * 1000))}ms"),
            )
        except BaseException:
            conn.close()
            raise
        return conn

    def _connection(self) -> Connection:
        if self._closed:
            raise OutboxError("the outbox store is closed")
        if self._conn is None or self._conn.broken:
            # The server restarted or the network dropped: the next call reconnects
            # instead of failing for the rest of the worker's life.
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            self._conn = self._connect()
        return self._conn

    @contextmanager
    def _tx(self, *, snapshot: bool = False) -> Iterator[Connection]:
        """One transaction on the store's connection, errors translated.

        Args:
            snapshot: Read-only, and every statement sees the same snapshot (for reads
                made of several queries, such as a history).
        """
        with self._lock:
            try:
                conn = self._connection()
                with conn.transaction():
                    if snapshot:
                        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    yield conn
            except psycopg.Error as exc:
                raise _db_error(exc) from exc

    @staticmethod
    def _row(conn: Connection, reference: str) -> OutboxItem:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM items WHERE reference = %s",  # noqa: S608
            (reference,),
        ).fetchone()
        if row is None:
            raise ItemNotFoundError(f"no outbox item has reference {reference!r}")
        return _item(row)

    @staticmethod
    def _held(
        conn: Connection, references: Iterable[str], owner: str, now: float | None
    ) -> list[OutboxItem]:
        # Locks the rows (in reference order, so two callers cannot deadlock) until the
        # transaction ends: a concurrent claim skips them, a concurrent report waits.
        # now=None: the lease only has to be ours (a result is recorded even when the
        # lease ran out, as long as nobody took the item over); otherwise also unexpired.
        wanted = list(references)
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM items WHERE reference = ANY(%s::text[]) "  # noqa: S608
            "ORDER BY reference FOR UPDATE",
            (wanted,),
        ).fetchall()
        found = {row[0]: row for row in rows}
        items = []
        for reference in wanted:
            if reference not in found:
                raise ItemNotFoundError(f"no outbox item has reference {reference!r}")
            items.append(_item(found[reference]))
        lost = [
            item.reference
            for item in items
            if item.lease_owner != owner
            or (now is not None and (item.lease_until is None or item.lease_until <= now))
        ]
        if lost:
            raise LeaseError(
                f"worker {owner!r} does not hold the lease on {', '.join(lost[:5])}"
                + (f" and {len(lost) - 5} more" if len(lost) > 5 else ""),
                references=lost,
            )
        return items

    # -- lifetime ---------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection; further calls raise :class:`OutboxError`. Idempotent."""
        with self._lock:
            self._closed = True
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"PostgresStore({self.url!r}, schema={self.schema!r})"
