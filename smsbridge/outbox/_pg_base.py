"""The PostgreSQL store's plumbing: URLs, its dialect, connections, transactions, locks.

Not public: use :class:`smsbridge.outbox.postgres.PostgresStore`.

Lock order, the same everywhere so that no two transactions wait on each other in a
circle: first the advisory locks on message keys (sorted), then item rows (sorted by
reference). A report and the result that stores its message id take the same key lock,
which is what keeps a parked report from being missed.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import TupleRow

from smsbridge.errors import Kind
from smsbridge.outbox import pg_schema
from smsbridge.outbox._sql_common import Dialect, SqlBase
from smsbridge.outbox.base import ItemNotFoundError, OutboxError
from smsbridge.outbox.pg_schema import LOCK_NAMESPACE

__all__ = [
    "DEFAULT_SCHEMA",
    "POSTGRES",
    "PgBase",
    "db_error",
    "is_transient",
    "pin_session",
    "redact",
    "scrub",
    "split_url",
]

Connection = psycopg.Connection[TupleRow]

DEFAULT_SCHEMA = "smsbridge"
"""The PostgreSQL schema holding the outbox's tables unless told otherwise."""

_REPORT_LOCK = 2
"""Second-key namespace of the message-key locks (see :mod:`pg_schema`)."""

POSTGRES = Dialect(
    placeholder="%s",
    # psycopg sends a list as an array; the cast types it when the list is empty.
    texts="?::text[]",
    real="?::float8",
    # Transactions run side by side, so a row about to change is locked first: a
    # result, a retry, a report and a takeover by another worker take turns.
    for_update=" FOR UPDATE",
    for_update_in_order=" ORDER BY reference FOR UPDATE",
    encode_texts=list,
    decode_texts=tuple,
)
"""How the shared statements are spelled for PostgreSQL."""


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


_TRANSIENT_STATES = {
    "57P01": "admin_shutdown: pg_ctl stop/restart -m fast, pg_terminate_backend",
    "57P02": "crash_shutdown: another backend crashed and the server is resetting",
    "57P03": "cannot_connect_now: the server is starting, shutting down or recovering",
    "40001": "serialization_failure: the whole transaction may simply run again",
    "40P01": "deadlock_detected: the victim's transaction was rolled back, so may run again",
    "55P03": "lock_not_available: lock_timeout ran out on a row another worker holds",
}
"""SQLSTATEs (outside classes 08 and 53) after which the same call may succeed later."""

_TRANSIENT_CLASSES = {
    "08": "connection exception: the connection failed or was lost",
    "53": "insufficient resources (disk full, out of memory, too many connections): "
    "an operator's fix, after which the worker carries on",
}
"""SQLSTATE classes after which the same call may succeed later."""

_URL_PASSWORD = re.compile(r"(://[^/:@\s]*:)[^/\s]*@")
_KEYWORD_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def scrub(text: str) -> str:
    """``text`` with every password in a URL or a ``password=`` keyword replaced by ``***``.

    libpq quotes the connection string back in some messages (a malformed parameter,
    say), and such messages end up in logs and health files.
    """
    return _KEYWORD_PASSWORD.sub(r"\1***", _URL_PASSWORD.sub(r"\1***@", text))


def is_transient(exc: psycopg.Error, *, connection_lost: bool = False) -> bool:
    """Whether the call that raised ``exc`` may succeed if made again later.

    Args:
        exc: What psycopg raised.
        connection_lost: The connection the call used is closed now (the server ended the
            session with a FATAL error, or the socket broke): the next call reconnects.

    Returns:
        True for a lost or refused connection (a server restarting, shutting down,
        crashed, unreachable), a transaction that lost a serialization conflict or a
        deadlock, a lock timeout, or a server short of resources. False for everything
        else: a bug, bad data, or a server whose schema or permissions are wrong, none of
        which waiting mends.
    """
    if connection_lost:
        return True
    state = exc.sqlstate
    if state is None:
        # libpq's own errors carry no SQLSTATE, even when they quote a FATAL message from
        # the server: connecting failed (refused, the server starting or shutting down)
        # or the connection was found closed.
        return isinstance(exc, psycopg.OperationalError)
    return state[:2] in _TRANSIENT_CLASSES or state in _TRANSIENT_STATES


def pin_session(conn: Connection, schema: str, timeout: float) -> Connection:
    """Set a new connection's session to ``schema`` alone and a lock timeout of
    ``timeout`` seconds; close it if that fails.

    Only the outbox's schema: an application's own ``items`` table elsewhere in the
    database can never be picked up by mistake.
    """
    try:
        conn.execute(
            "SELECT set_config('search_path', quote_ident(%s), false), "
            "set_config('lock_timeout', %s, false)",
            (schema, f"{max(1, round(timeout * 1000))}ms"),
        )
    except BaseException:
        conn.close()
        raise
    return conn


def db_error(exc: psycopg.Error, *, connection_lost: bool = False) -> OutboxError:
    """The :class:`OutboxError` for a psycopg error, ``TRANSIENT`` when
    :func:`is_transient`, its text free of passwords.

    Args:
        exc: What psycopg raised.
        connection_lost: See :func:`is_transient`.
    """
    kind = Kind.TRANSIENT if is_transient(exc, connection_lost=connection_lost) else Kind.PERMANENT
    return OutboxError(f"outbox database error: {scrub(str(exc))}", kind=kind)


class PgBase(SqlBase[Connection]):
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

    _dialect = POSTGRES

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
            raise db_error(exc) from exc
        try:
            pg_schema.migrate(conn, self.schema)
        except BaseException as exc:
            conn.close()
            if isinstance(exc, psycopg.Error):
                raise db_error(exc) from exc
            raise
        self._conn = conn

    # -- plumbing ---------------------------------------------------------------------

    def _connect(self) -> Connection:
        """A new autocommit connection whose ``search_path`` is the outbox's schema."""
        extra: dict[str, Any] = {"connect_timeout": max(2, math.ceil(self._timeout))}
        if "application_name" not in conninfo_to_dict(self._conninfo):
            extra["application_name"] = "smsbridge"
        conn = psycopg.connect(self._conninfo, autocommit=True, **extra)
        return pin_session(conn, self.schema, self._timeout)

    def _connection(self) -> Connection:
        if self._closed:
            raise OutboxError("the outbox store is closed")
        if self._conn is None or self._conn.closed:
            # The server restarted, crashed or ended the session, or the network dropped:
            # the call that saw it failed (TRANSIENT), this one reconnects instead of
            # failing for the rest of the worker's life. A refused connection leaves
            # _conn None, so every later call tries again.
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
            conn: Connection | None = None
            try:
                conn = self._connection()
                with conn.transaction():
                    if snapshot:
                        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    yield conn
            except psycopg.Error as exc:
                # The transaction is rolled back (by the server, when the connection is
                # gone), so nothing of it was applied, unless the connection was lost
                # while COMMIT was on its way: then it may have been. Every caller's
                # transaction is written to be safe to run again either way.
                lost = conn is not None and conn.closed
                raise db_error(exc, connection_lost=lost) from exc

    @contextmanager
    def _read_tx(self, *, snapshot: bool = False) -> Iterator[Connection]:
        with self._tx(snapshot=snapshot) as conn:
            yield conn

    def _lock_rows(
        self, conn: Connection, references: Sequence[str], columns: str
    ) -> list[Sequence[Any]]:
        # Locks the rows (in reference order, so two callers cannot deadlock) until the
        # transaction ends: a concurrent claim skips them, a concurrent report waits.
        wanted = list(references)
        rows = conn.execute(
            f"SELECT {columns} FROM items WHERE reference = ANY(%s::text[]) "  # noqa: S608
            "ORDER BY reference FOR UPDATE",
            (wanted,),
        ).fetchall()
        found = {row[0]: row for row in rows}
        missing = [reference for reference in wanted if reference not in found]
        if missing:
            raise ItemNotFoundError(f"no outbox item has reference {missing[0]!r}")
        return [found[reference] for reference in wanted]

    def _run_many(self, conn: Connection, query: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            with conn.cursor() as cur:
                cur.executemany(self._dialect.sql(query), rows)

    def _lock_keys(self, conn: Connection, keys: Iterable[str]) -> None:
        # Keyed by the message key alone, not (provider, key): a rare collision across
        # providers only makes one wait for the other, and the result does not need to read
        # its item (and so lock its row) before taking the key lock.
        for key in sorted(set(keys)):
            conn.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                (LOCK_NAMESPACE, f"{_REPORT_LOCK}:{key}"),
            )

    def server_time(self) -> float:
        """The database server's clock, in seconds since the epoch.

        Every worker's leases and due times are measured on it (see
        :class:`smsbridge.outbox.clock.StoreClock`), so hosts whose clocks disagree
        still agree on when a lease runs out.

        Raises:
            OutboxError: For database errors.
        """
        with self._tx() as conn:
            row = conn.execute("SELECT extract(epoch FROM clock_timestamp())::float8").fetchone()
        assert row is not None
        return float(row[0])

    # -- lifetime ---------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection; further calls raise :class:`OutboxError`. Idempotent."""
        with self._lock:
            self._closed = True
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __repr__(self) -> str:
        return f"PostgresStore({self.url!r}, schema={self.schema!r})"
