"""Plumbing shared by the SQLite store's parts: the connection, transactions, rows.

Not public: use :class:`smsbridge.outbox.SqliteStore`.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Self

from smsbridge.errors import Kind
from smsbridge.model import SendOptions
from smsbridge.outbox import codec, schema
from smsbridge.outbox.base import (
    Attempt,
    ItemNotFoundError,
    ItemState,
    LeaseError,
    OutboxError,
    OutboxItem,
)
from smsbridge.status import Status

__all__ = ["SqliteBase", "default_path"]

_COLUMNS = (
    "reference, recipient, body, sender, options, batch, state, provider, status, "
    "message_id, parts, cost, attempts, next_attempt_at, created_at, updated_at, "
    "lease_owner, lease_until, excluded_providers, last_error"
)


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
        excluded_providers=json.loads(row[18]),
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
        outcome_unknown=bool(row[7]),
    )


def _db_error(exc: sqlite3.Error) -> OutboxError:
    text = str(exc).lower()
    kind = Kind.TRANSIENT if "locked" in text or "busy" in text else Kind.PERMANENT
    return OutboxError(f"outbox database error: {exc}", kind=kind)


class SqliteBase:
    """The connection and transaction plumbing every part of the SQLite store uses.

    Args:
        path: The database file; :func:`default_path` when ``None`` (its directory is
            created), or ``":memory:"`` for a private in-memory store.
        timeout: Seconds to wait for another writer before giving up.
        synchronous: ``"FULL"`` or ``"NORMAL"`` (see :mod:`smsbridge.outbox.sqlite`).

    Raises:
        OutboxError: When the file cannot be opened or has a newer schema.
    """

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
        self._lock = threading.RLock()
        try:
            conn = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise _db_error(exc) from exc
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000):d}")
            if self.path != ":memory:":
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(f"PRAGMA synchronous = {'FULL' if synchronous == 'FULL' else 'NORMAL'}")
            schema.migrate(conn)
        except BaseException as exc:
            conn.close()
            if isinstance(exc, sqlite3.Error):
                raise _db_error(exc) from exc
            raise
        self._conn: sqlite3.Connection | None = conn

    # -- plumbing ---------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise OutboxError("the outbox store is closed")
        return self._conn

    @contextmanager
    def _tx(self, mode: str = "IMMEDIATE") -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._connection()
            try:
                conn.execute(f"BEGIN {mode}")
            except sqlite3.Error as exc:
                raise _db_error(exc) from exc
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise _db_error(exc) from exc
                raise

    def _row(self, conn: sqlite3.Connection, reference: str) -> OutboxItem:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM items WHERE reference = ?",  # noqa: S608
            (reference,),
        ).fetchone()
        if row is None:
            raise ItemNotFoundError(f"no outbox item has reference {reference!r}")
        return _item(row)

    def _held(
        self, conn: sqlite3.Connection, references: Iterable[str], owner: str, now: float | None
    ) -> list[OutboxItem]:
        # now=None: the lease only has to be ours (a result is recorded even when the
        # lease ran out, as long as nobody took the item over); otherwise also unexpired.
        items = [self._row(conn, reference) for reference in references]
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
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SqliteStore({self.path!r})"
