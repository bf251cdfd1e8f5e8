"""One owner per SQLite file: the connection the outbox, the tasks and the limits share.

Three parts of smsbridge keep rows in the outbox's file: the outbox
(:class:`~smsbridge.outbox.SqliteStore`), the scheduled tasks
(:class:`~smsbridge.tasks.store.TaskStore`) and the cluster-wide limits
(:class:`~smsbridge.limits.SqliteLimits`). In one process they share one
:class:`SqliteFile` per file, found by the file's resolved path: one connection, one
lock, one set of PRAGMAs (WAL, busy timeout) and one run of the schema's migrations.
Each user holds a :class:`SqliteHandle` of its own, with its own timeout and
synchronous level and its own :meth:`~SqliteHandle.close`; the connection closes when
the last handle does, so closing the outbox leaves the tasks working.

Thread rules: the connection is used by one thread at a time, under the file's lock, and
only inside :meth:`SqliteHandle.transaction`: a write is ``BEGIN IMMEDIATE`` (SQLite's
one write lock taken up front), a read ``BEGIN DEFERRED`` (one WAL snapshot). A
transaction of one user therefore excludes those of the others in this process, and
SQLite's write lock excludes other processes. Transactions do not nest: the lock is
re-entrant, the transaction is not, so code inside one never calls another user.

A child process (``fork``) never uses its parent's connection: the registry is keyed by
process id, so the child opens a connection of its own. ``":memory:"`` (and ``""``) are
private to each handle: a second connection would see another, empty database.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Literal

from smsbridge.errors import SmsBridgeError
from smsbridge.outbox import schema
from smsbridge.outbox._sqlite_errors import storage_error
from smsbridge.outbox.base import OutboxError

__all__ = ["SqliteFile", "SqliteHandle", "Synchronous", "open_file"]

Synchronous = Literal["FULL", "NORMAL"]
"""``PRAGMA synchronous`` levels a handle may ask for (see :mod:`smsbridge.outbox.sqlite`)."""

# Weak: a file whose handles were all dropped unclosed goes, with its connection, as the
# connection of an unclosed store always did.
_registry: weakref.WeakValueDictionary[tuple[int, str], SqliteFile] = weakref.WeakValueDictionary()
_registry_lock = threading.Lock()


def _reset_after_fork() -> None:
    # Another thread may have held the lock at the fork; the child has no such thread.
    global _registry_lock
    _registry_lock = threading.Lock()


os.register_at_fork(after_in_child=_reset_after_fork)


def _private(path: str) -> bool:
    return path in ("", ":memory:")


def _key(path: str) -> str:
    """The file's identity: two spellings of one file (relative, a symlink) share it."""
    return os.path.realpath(path)


class SqliteFile:
    """The one connection to a SQLite file in this process, and everything about it.

    Made by :func:`open_file`; a caller holds a :class:`SqliteHandle`, never this.

    Args:
        path: The file as its first user spelled it (messages name it).
        key: Its registry key (``None`` for a private in-memory database).
        timeout: The opening user's busy timeout, in seconds.

    Raises:
        StorageError: When the file cannot be opened (``operation`` ``"open"``).
        NewerSchemaError: When the file has a newer schema.
    """

    def __init__(self, path: str, key: str | None, *, timeout: float) -> None:
        self.path = path
        self.key = key
        self.lock = threading.RLock()
        """Held for the length of every transaction of every user."""
        self.users = 0
        """Open handles (counted under the registry's lock); the connection closes when
        this falls to zero."""
        try:
            conn = sqlite3.connect(
                path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise storage_error(exc, path).locate("open") from exc
        try:
            conn.execute(f"PRAGMA busy_timeout = {_millis(timeout):d}")
            if key is not None:
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            schema.migrate(conn, path)
        except BaseException as exc:
            conn.close()
            if isinstance(exc, sqlite3.Error):
                raise storage_error(exc, path).locate("open") from exc
            raise
        self.timeout = timeout
        self.synchronous: Synchronous = "FULL"
        self._conn: sqlite3.Connection | None = conn

    @property
    def closed(self) -> bool:
        """True once the last handle has closed."""
        return self._conn is None

    def pragma(self, name: str) -> object:
        """The current value of a PRAGMA on the shared connection (for tests and checks)."""
        with self.lock:
            if self._conn is None:
                raise OutboxError(f"the SQLite file {self.path} is closed")
            row = self._conn.execute(f"PRAGMA {name}").fetchone()
        return None if row is None else row[0]

    def _connection(self, timeout: float, synchronous: Synchronous) -> sqlite3.Connection:
        # Called under the lock, outside any transaction: each user's own settings hold
        # for its transactions (a PRAGMA costs no I/O).
        conn = self._conn
        assert conn is not None
        if timeout != self.timeout:
            conn.execute(f"PRAGMA busy_timeout = {_millis(timeout):d}")
            self.timeout = timeout
        if synchronous != self.synchronous:
            conn.execute(f"PRAGMA synchronous = {'FULL' if synchronous == 'FULL' else 'NORMAL'}")
            self.synchronous = synchronous
        return conn

    def _release(self) -> None:
        with _registry_lock:
            self.users -= 1
            if self.users > 0:
                return
            if self.key is not None and _registry.get((os.getpid(), self.key)) is self:
                del _registry[(os.getpid(), self.key)]
        # Outside the registry's lock: a thread in a transaction never waits on that lock
        # while another holds it waiting for this one's.
        with self.lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


class SqliteHandle:
    """One user's hold on a :class:`SqliteFile`: its settings, its transactions, its close.

    Args:
        file: The shared owner.
        timeout: Seconds this user's transactions wait for another writer.
        synchronous: This user's ``PRAGMA synchronous`` level.
        closed_error: What to raise when this handle is used after :meth:`close`.
    """

    def __init__(
        self,
        file: SqliteFile,
        *,
        timeout: float,
        synchronous: Synchronous,
        closed_error: Callable[[], SmsBridgeError],
    ) -> None:
        self.file = file
        self.timeout = timeout
        self.synchronous: Synchronous = synchronous
        self._closed_error = closed_error
        self._closed = False

    @property
    def path(self) -> str:
        """The file, as its first user in this process spelled it."""
        return self.file.path

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._closed

    @contextmanager
    def transaction(
        self, mode: Literal["IMMEDIATE", "DEFERRED"] = "IMMEDIATE"
    ) -> Iterator[sqlite3.Connection]:
        """One transaction on the shared connection, committed when the block ends.

        Args:
            mode: ``"IMMEDIATE"`` for writes (takes SQLite's write lock up front),
                ``"DEFERRED"`` for reads (one snapshot from the first read on).

        Yields:
            The connection, for this block only.

        Raises:
            StorageError: A subclass saying why the database failed; the transaction is
                rolled back.
            SmsBridgeError: ``closed_error()`` when this handle is closed.
        """
        with self.file.lock:
            if self._closed:
                raise self._closed_error()
            conn = self.file._connection(self.timeout, self.synchronous)
            try:
                conn.execute(f"BEGIN {mode}")
            except sqlite3.Error as exc:
                raise storage_error(exc, self.path) from exc
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                # On a failing disk the rollback may fail too; the first error is the
                # one that says why, and SQLite rolls back a hot transaction itself the
                # next time the file is opened.
                with suppress(sqlite3.Error):
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise storage_error(exc, self.path) from exc
                raise

    def connection(self) -> sqlite3.Connection:
        """The shared connection with this handle's settings, outside any transaction.

        For diagnostics and tests (a PRAGMA to read or set); everything else goes
        through :meth:`transaction`, which holds the file's lock.

        Raises:
            SmsBridgeError: ``closed_error()`` when this handle is closed.
        """
        with self.file.lock:
            if self._closed:
                raise self._closed_error()
            return self.file._connection(self.timeout, self.synchronous)

    def close(self) -> None:
        """Let go of the file; the connection closes with its last handle. Idempotent."""
        with self.file.lock:
            if self._closed:
                return
            self._closed = True
        self.file._release()


def open_file(
    path: str | os.PathLike[str],
    *,
    timeout: float = 30.0,
    synchronous: Synchronous = "FULL",
    closed_error: Callable[[], SmsBridgeError] | None = None,
) -> SqliteHandle:
    """A handle on the file's shared owner, opening (and migrating) the file if needed.

    Args:
        path: The SQLite file, or ``":memory:"`` for a private in-memory database.
        timeout: Seconds this user's transactions wait for another writer.
        synchronous: ``"FULL"`` or ``"NORMAL"`` for this user's transactions.
        closed_error: What to raise when the handle is used after it is closed (an
            :class:`OutboxError` by default).

    Returns:
        The new handle; close it when done.

    Raises:
        StorageError: When the file cannot be opened (``operation`` ``"open"``); a
            subclass says why (read-only, full, locked, I/O error).
        NewerSchemaError: When the file was written by a newer smsbridge.
    """
    text = os.fspath(path)
    if closed_error is None:

        def closed_error() -> SmsBridgeError:
            return OutboxError(f"the SQLite file {text} is closed")

    if _private(text):
        file = SqliteFile(text, None, timeout=timeout)
        with _registry_lock:
            file.users = 1
    else:
        key = _key(text)
        # Opening holds the registry lock, so two threads opening one file at once get
        # one owner (the second waits for the first's migration).
        with _registry_lock:
            found = _registry.get((os.getpid(), key))
            if found is None or found.closed:
                found = SqliteFile(text, key, timeout=timeout)
                _registry[(os.getpid(), key)] = found
            file = found
            file.users += 1
    handle = SqliteHandle(file, timeout=timeout, synchronous=synchronous, closed_error=closed_error)
    # The newest user's settings hold until another user's transaction says otherwise.
    handle.connection()
    return handle


def _millis(timeout: float) -> int:
    return int(timeout * 1000)
