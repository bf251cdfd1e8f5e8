"""The SQLite store's plumbing: its dialect, transactions, row access.

Not public: use :class:`smsbridge.outbox.SqliteStore`.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from smsbridge.outbox._held import Held, HeldResults
from smsbridge.outbox._sql_common import Dialect, SqlBase
from smsbridge.outbox._sqlite_errors import storage_error
from smsbridge.outbox.base import ItemNotFoundError, OutboxError, StorageError
from smsbridge.outbox.sqlite_file import SqliteHandle, open_file

__all__ = ["SQLITE", "SqliteBase", "default_path"]

SQLITE = Dialect(
    placeholder="?",
    # No array type: a list of text is a JSON array in a text column.
    texts="?",
    real="?",
    # Every write transaction is BEGIN IMMEDIATE, which takes SQLite's one write lock
    # up front: no other writer runs until it ends, so rows need no locks of their own.
    for_update="",
    for_update_in_order="",
    encode_texts=json.dumps,
    decode_texts=json.loads,
)
"""How the shared statements are spelled for SQLite."""


def default_path() -> Path:
    """Where the outbox lives when no path is given.

    ``$SMSBRIDGE_HOME/outbox.sqlite3`` when that variable is set, else the per-user data
    directory: ``$XDG_DATA_HOME/smsbridge`` (``~/.local/share/smsbridge``) on Linux and
    other Unixes, ``~/Library/Application Support/smsbridge`` on macOS,
    ``%LOCALAPPDATA%\\smsbridge`` on Windows.

    Returns:
        The database file path (its directory may not exist yet).
    """
    home = os.environ.get("SMSBRIDGE_HOME")
    if home:
        return Path(home).expanduser() / "outbox.sqlite3"
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        base = Path(local) if local else Path.home() / "AppData" / "Local"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        xdg = os.environ.get("XDG_DATA_HOME", "")
        # The XDG spec says a relative value is invalid and must be ignored.
        base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".local" / "share"
    return base / "smsbridge" / "outbox.sqlite3"


class SqliteBase(SqlBase[sqlite3.Connection]):
    """The transaction plumbing every part of the SQLite store uses.

    The connection belongs to the file's :class:`~smsbridge.outbox.sqlite_file.SqliteFile`,
    shared with the tasks and the limits on the same file; the store holds a handle.

    Args:
        path: The database file; :func:`default_path` when ``None`` (its directory is
            created), or ``":memory:"`` for a private in-memory store.
        timeout: Seconds to wait for another writer before giving up.
        synchronous: ``"FULL"`` or ``"NORMAL"`` (see :mod:`smsbridge.outbox.sqlite`).

    Raises:
        StorageError: When the file cannot be opened (``operation`` ``"open"``); a
            subclass says why (read-only, full, locked, I/O error).
        NewerSchemaError: When the file has a newer schema.
    """

    _dialect = SQLITE

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        timeout: float = 30.0,
        synchronous: Literal["FULL", "NORMAL"] = "FULL",
    ) -> None:
        if path is None:
            path = default_path()
            path.parent.mkdir(parents=True, exist_ok=True)
        self.path = str(path)
        self.file: SqliteHandle = open_file(
            self.path,
            timeout=timeout,
            synchronous="FULL" if synchronous == "FULL" else "NORMAL",
            closed_error=lambda: OutboxError("the outbox store is closed"),
        )
        # Under NORMAL a commit is not flushed to disk anyway: a lone message's result
        # may ride with the next write (see smsbridge.outbox._held).
        self._later = HeldResults(self._write_held) if synchronous == "NORMAL" else None

    def _error(self, exc: sqlite3.Error) -> StorageError:
        """``exc`` as the :class:`StorageError` that names this store."""
        return storage_error(exc, self.path)

    # -- plumbing ---------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        # The shared connection outside a transaction: for PRAGMAs in tests only.
        return self.file.connection()

    @contextmanager
    def _tx(
        self, mode: Literal["IMMEDIATE", "DEFERRED"] = "IMMEDIATE"
    ) -> Iterator[sqlite3.Connection]:
        taken: list[Held] = []
        try:
            with self.file.transaction(mode) as conn:
                if mode == "IMMEDIATE" and self._later:
                    taken = self._write_later(conn)
                yield conn
        except BaseException:
            # Rolled back with the rest: held again for the next write.
            if taken and self._later is not None:
                self._later.give_back(taken)
            raise

    def _write_held(self) -> None:
        with self._tx():
            pass

    @contextmanager
    def _read_tx(self, *, snapshot: bool = False) -> Iterator[sqlite3.Connection]:
        # This process reads its own results: what is held is written first.
        if self._later:
            self._later.flush()
        # A deferred transaction reads from one snapshot from its first read on (WAL), so
        # snapshot reads need nothing more, and readers never wait for the write lock.
        with self._tx("DEFERRED") as conn:
            yield conn

    def _lock_rows(
        self, conn: sqlite3.Connection, references: Sequence[str], columns: str
    ) -> list[Sequence[Any]]:
        # The write transaction already excludes every other writer.
        found = self._fetch_rows(conn, references, columns)
        missing = [reference for reference in references if reference not in found]
        if missing:
            raise ItemNotFoundError(f"no outbox item has reference {missing[0]!r}")
        return [found[reference] for reference in references]

    def _run_many(
        self, conn: sqlite3.Connection, query: str, rows: Sequence[Sequence[Any]]
    ) -> None:
        conn.executemany(self._dialect.sql(query), rows)

    # -- lifetime ---------------------------------------------------------------------

    def close(self) -> None:
        """Let go of the file; further calls raise :class:`OutboxError`. Idempotent.

        The connection closes when the file's last user (tasks, limits) closes too.
        Results held for the next write are written first.
        """
        if self._later is not None and not self.file.closed:
            self._later.close()
        self.file.close()

    def __repr__(self) -> str:
        return f"SqliteStore({self.path!r})"
