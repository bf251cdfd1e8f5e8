"""Limits that hold across every worker sharing one outbox, on one host or many.

A provider's ``capabilities.max_connections`` (BulkSMS: one connection, no parallel
requests) and an application's ``Limit.rate`` are promises about the *account*, not about
one process. :class:`SharedLimitBoard` keeps them cluster-wide through the outbox's
database:

* **Connection slots.** Each of a provider's ``max_connections`` is a slot that one worker
  holds for the length of a request. On PostgreSQL a slot is a session advisory lock
  (``pg_try_advisory_lock``): closing the handle unlocks it before it returns, and the
  server frees it by itself once it sees the holder's connection gone (a killed worker
  included; the server's side of a dead connection ends a moment after the client's,
  so other workers keep polling for the slot). On SQLite it is a leased row that expires after
  ``ttl`` seconds, so a killed holder blocks the provider for at most that long.
* **Rates.** ``Limit.rate`` / ``Limit.burst`` become one GCRA schedule (a "theoretical
  arrival time" row per provider) that every worker reserves from in one statement.

Anything that implements :class:`SharedLimits` can provide both; a store may implement
it itself, and :func:`shared_limits_for` builds one for the bundled stores on its own
connection (never the store's).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Protocol, runtime_checkable

from smsbridge.errors import ConfigurationError
from smsbridge.outbox.base import LeaseError, OutboxStore
from smsbridge.outbox.sqlite import SqliteStore
from smsbridge.provider import Provider
from smsbridge.router.limits import Limit, LimitBoard

__all__ = [
    "LocalLimits",
    "PostgresLimits",
    "SharedLimitBoard",
    "SharedLimits",
    "SqliteLimits",
    "drop_idle_connections",
    "shared_limits_for",
]

logger = logging.getLogger("smsbridge.limits")


@runtime_checkable
class SharedLimits(Protocol):
    """Cluster-wide limit state: connection slots and rate schedules.

    ``now`` is wall-clock seconds (:func:`time.time`), as for the outbox: workers on
    several hosts agree through the timestamps they pass, so keep their clocks in sync.
    """

    def try_slot(self, key: str, *, owner: str, now: float, ttl: float) -> bool:
        """Take slot ``key`` for ``owner`` unless another owner holds it; True if taken."""
        ...

    def free_slot(self, key: str, *, owner: str) -> None:
        """Give slot ``key`` back (nothing happens when ``owner`` does not hold it)."""
        ...

    def reserve(self, key: str, *, now: float, interval: float, tolerance: float) -> float:
        """Book one request on schedule ``key``; returns the seconds to wait before it.

        Args:
            key: The schedule's name (one per provider).
            now: The current time.
            interval: Seconds per request at the sustained rate (``1 / rate``).
            tolerance: How far ahead of the schedule a request may go (the burst).
        """
        ...

    def close(self) -> None:
        """Free every slot still held and close the connection."""
        ...


class LocalLimits:
    """:class:`SharedLimits` for one process (an in-memory outbox has no other)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots: dict[str, str] = {}
        self._tats: dict[str, float] = {}

    def try_slot(self, key: str, *, owner: str, now: float, ttl: float) -> bool:
        """See :meth:`SharedLimits.try_slot`."""
        with self._lock:
            if self._slots.get(key, owner) != owner:
                return False
            self._slots[key] = owner
            return True

    def free_slot(self, key: str, *, owner: str) -> None:
        """See :meth:`SharedLimits.free_slot`."""
        with self._lock:
            if self._slots.get(key) == owner:
                del self._slots[key]

    def reserve(self, key: str, *, now: float, interval: float, tolerance: float) -> float:
        """See :meth:`SharedLimits.reserve`."""
        with self._lock:
            tat = max(self._tats.get(key, now), now) + interval
            self._tats[key] = tat
        return max(0.0, tat - interval - tolerance - now)

    def close(self) -> None:
        """Nothing to close."""


_SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS shared_slots (
    key TEXT PRIMARY KEY, owner TEXT NOT NULL, until REAL NOT NULL);
CREATE TABLE IF NOT EXISTS shared_rates (key TEXT PRIMARY KEY, tat REAL NOT NULL);
"""


class SqliteLimits:
    """:class:`SharedLimits` in two small tables of the outbox's SQLite file.

    Uses a connection of its own (the store's stays the store's). The rows are not part
    of the outbox's versioned schema: they hold nothing that outlives the workers.

    Args:
        path: The outbox file.
        timeout: Seconds to wait for SQLite's write lock.
    """

    def __init__(self, path: str, *, timeout: float = 30.0) -> None:
        self._lock = threading.Lock()
        self._held: set[tuple[str, str]] = set()
        self._conn = sqlite3.connect(
            path, timeout=timeout, isolation_level=None, check_same_thread=False
        )
        try:
            # Slot rows are worthless after a crash, so a lost last commit costs nothing.
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(_SQLITE_SCHEMA)
        except BaseException:
            self._conn.close()
            raise

    def try_slot(self, key: str, *, owner: str, now: float, ttl: float) -> bool:
        """See :meth:`SharedLimits.try_slot`; an expired lease is taken over."""
        with self._lock:
            cursor = self._conn.execute(
                "INSERT INTO shared_slots (key, owner, until) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, until = excluded.until "
                "WHERE shared_slots.owner = excluded.owner OR shared_slots.until < ?",
                (key, owner, now + ttl, now),
            )
            taken = cursor.rowcount == 1
            if taken:
                self._held.add((key, owner))
            return taken

    def free_slot(self, key: str, *, owner: str) -> None:
        """See :meth:`SharedLimits.free_slot`."""
        with self._lock:
            self._conn.execute("DELETE FROM shared_slots WHERE key = ? AND owner = ?", (key, owner))
            self._held.discard((key, owner))

    def reserve(self, key: str, *, now: float, interval: float, tolerance: float) -> float:
        """See :meth:`SharedLimits.reserve`."""
        with self._lock:
            row = self._conn.execute(
                "INSERT INTO shared_rates (key, tat) VALUES (?, ?) ON CONFLICT (key) DO UPDATE "
                "SET tat = max(shared_rates.tat, ?) + ? RETURNING tat",
                (key, now + interval, now, interval),
            ).fetchone()
        tat = float(row[0])
        return max(0.0, tat - interval - tolerance - now)

    def close(self) -> None:
        """Free held slots and close the connection. Safe to call twice."""
        with self._lock:
            with contextlib.suppress(sqlite3.Error):
                for key, owner in self._held:
                    self._conn.execute(
                        "DELETE FROM shared_slots WHERE key = ? AND owner = ?", (key, owner)
                    )
            self._held.clear()
            self._conn.close()


def _lock_key(schema: str, key: str) -> int:
    # Advisory locks are database-wide: the schema name keeps two outboxes apart.
    digest = hashlib.sha256(f"smsbridge:{schema}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class PostgresLimits:
    """:class:`SharedLimits` on a PostgreSQL connection of its own.

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

        from smsbridge.outbox._pg_base import DEFAULT_SCHEMA, split_url

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
        try:
            conn.execute(
                "SELECT set_config('search_path', quote_ident(%s), false), "
                "set_config('lock_timeout', %s, false)",
                (self.schema, f"{max(1, round(self._timeout * 1000))}ms"),
            )
        except BaseException:
            conn.close()
            raise
        return conn

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """psycopg's errors as :class:`OutboxError`, transient ones marked so."""
        import psycopg

        from smsbridge.outbox._pg_base import db_error

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
        """See :meth:`SharedLimits.try_slot`.

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
        """See :meth:`SharedLimits.free_slot`. A slot whose session was lost is already
        free (the server dropped the session's locks), so that is no error.

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
        """See :meth:`SharedLimits.reserve`.

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


def shared_limits_for(store: OutboxStore, location: str | None = None) -> SharedLimits:
    """The cluster-wide limit state for the workers of ``store``.

    Args:
        store: The outbox; used as is when it implements :class:`SharedLimits`.
        location: What the store was opened from (:func:`~smsbridge.outbox.factory.
            open_store`'s argument); needed for PostgreSQL, whose store shows only a
            redacted URL.

    Returns:
        A new object the caller closes (or ``store`` itself).

    Raises:
        ConfigurationError: For a PostgreSQL store without ``location``.
    """
    if isinstance(store, SharedLimits):
        return store
    if isinstance(store, SqliteStore):
        if store.path in ("", ":memory:"):
            return LocalLimits()
        return SqliteLimits(store.path)
    if type(store).__name__ == "PostgresStore":
        if location is None or "://" not in location:
            raise ConfigurationError("cluster-wide limits on PostgreSQL need the store's URL")
        return PostgresLimits(location, schema=getattr(store, "schema", None))
    logger.warning(
        "%s shares no limit state: connection caps and rates hold per process only",
        type(store).__name__,
    )
    return LocalLimits()


def drop_idle_connections(provider: Provider, *, wait: float = 2.0) -> None:
    """Close the provider's idle pooled connections and wait until the server has closed
    its side too, so the next holder of the slot cannot overlap with them (a provider
    allowing one connection per account counts a connection until it has closed it).

    Each idle socket is half-closed (``SHUT_WR``) and read until the server's own close
    arrives, at most ``wait`` seconds. Providers built on :class:`~smsbridge.http.
    HttpClient` keep their pool in ``_http``; a provider without one is left alone.
    """
    http = getattr(provider, "_http", None)
    manager = getattr(http, "_manager", None)
    pools = getattr(manager, "pools", None)
    if manager is None or pools is None:
        return
    sockets: list[socket.socket] = []
    for key in list(pools.keys()):
        queue = getattr(pools.get(key), "pool", None)
        for conn in list(getattr(queue, "queue", ())):
            sock = getattr(conn, "sock", None)
            if isinstance(sock, socket.socket):
                sockets.append(sock)
    deadline = time.monotonic() + wait
    for sock in sockets:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_WR)
            while (left := deadline - time.monotonic()) > 0:
                sock.settimeout(left)
                if not sock.recv(4096):
                    break
    manager.clear()


class SharedLimitBoard(LimitBoard):
    """A :class:`~smsbridge.router.limits.LimitBoard` whose caps and rates hold across
    every worker, and which a stopping worker closes to further requests.

    Per request it takes, in order: this process's slot (threads), a cluster-wide
    connection slot (for providers declaring ``max_connections``), then the shared rate
    schedule. After the request it closes the provider's idle connection, and waits for
    the server to close its side, before giving the cluster slot back.

    Args:
        providers: The router's providers.
        limits: Per provider name: rate, burst and concurrency.
        shared: The cluster-wide state (:func:`shared_limits_for`).
        owner: The worker's lease name.
        ttl: How long a slot lease lasts where the backend needs one (SQLite); longer
            than any request.
        wait: Longest wait for a cluster slot; the items' leases run out after that.
        grace: Extra seconds between closing the connection and freeing the slot.
        poll: Seconds between tries for a taken slot.
        sleep: How rate and slot waits sleep.
        close_shared: Close ``shared`` in :meth:`close` (not when it is the store).

    Raises:
        ConfigurationError: For limits naming unknown providers or invalid values.
    """

    def __init__(
        self,
        providers: Sequence[Provider],
        limits: Mapping[str, Limit] | None = None,
        *,
        shared: SharedLimits,
        owner: str,
        ttl: float = 60.0,
        wait: float = 60.0,
        grace: float = 0.0,
        poll: float = 0.005,
        sleep: Callable[[float], None] = time.sleep,
        close_shared: bool = True,
    ) -> None:
        super().__init__(providers, limits)
        self._close_shared = close_shared
        self.shared = shared
        self.owner = owner
        self.ttl, self.wait, self.grace, self.poll = ttl, wait, grace, poll
        self._sleep = sleep
        self._providers = {p.name: p for p in providers}
        self._slots = {
            p.name: p.capabilities.max_connections
            for p in providers
            if p.capabilities.max_connections is not None
        }
        self._rates = {
            name: (1.0 / limit.rate, (max(limit.burst, 1.0) - 1.0) / limit.rate)
            for name, limit in (limits or {}).items()
            if limit.rate is not None
        }
        self._stopping = False

    def stop(self) -> None:
        """Refuse every later request (:class:`LeaseError`): the worker is giving its
        claims back. Only sets a flag, so a signal handler may call it."""
        self._stopping = True

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop` was called."""
        return self._stopping

    def _check(self) -> None:
        if self._stopping:
            raise LeaseError("the worker is stopping; its claims go back to the outbox")

    @contextmanager
    def request(self, provider: str) -> Iterator[None]:
        """The context to enter around one request to ``provider``.

        Raises:
            LeaseError: When the worker is stopping, or no cluster slot came free within
                ``wait`` seconds (the dispatcher then leaves the items to their leases).
        """
        self._check()
        local = self[provider]
        with local.cap.slot() if local.cap is not None else contextlib.nullcontext():
            key = self._take_slot(provider)
            try:
                self._pace(provider, local)
                yield
            finally:
                if key is not None:
                    drop_idle_connections(self._providers[provider])
                    if self.grace > 0:
                        self._sleep(self.grace)
                    self.shared.free_slot(key, owner=self.owner)

    def _take_slot(self, provider: str) -> str | None:
        count = self._slots.get(provider)
        if count is None:
            return None
        deadline = time.monotonic() + self.wait
        while True:
            self._check()
            for index in range(count):
                key = f"slot:{provider}:{index}"
                if self.shared.try_slot(key, owner=self.owner, now=time.time(), ttl=self.ttl):
                    return key
            if time.monotonic() >= deadline:
                raise LeaseError(f"no {provider} connection slot came free in {self.wait:g} s")
            self._sleep(self.poll)

    def _pace(self, provider: str, local: Any) -> None:
        rate = self._rates.get(provider)
        if rate is None:
            if local.bucket is not None:
                local.bucket.acquire()
            return
        interval, tolerance = rate
        pause = self.shared.reserve(
            f"rate:{provider}", now=time.time(), interval=interval, tolerance=tolerance
        )
        if pause > 0:
            self._sleep(pause)

    def close(self) -> None:
        """Close the shared state's connection (freeing any slot still held)."""
        if self._close_shared:
            self.shared.close()
