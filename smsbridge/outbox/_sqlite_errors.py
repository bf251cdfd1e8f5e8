"""What a SQLite error means for the operator: full, read-only, I/O, busy, or other.

Not public: :class:`smsbridge.outbox.SqliteStore` raises what :func:`storage_error`
builds; callers catch the classes in :mod:`smsbridge.outbox.base`.

SQLite's result code says most of it (``SQLITE_FULL``, ``SQLITE_READONLY``,
``SQLITE_BUSY``). One case needs a look at the file itself: a write refused by the
operating system (a file system remounted read-only, a file made immutable with
``chattr +i``) may come back as a plain ``SQLITE_IOERR`` ("disk I/O error") or
``SQLITE_CANTOPEN``, because SQLite does not pass on the ``errno``. Telling an operator
"I/O error" sends them checking a healthy disk, so for those codes the files are
checked: not writable means read-only, no free blocks means full.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

from smsbridge.outbox.base import (
    StorageBusyError,
    StorageError,
    StorageFullError,
    StorageIOError,
    StorageReadOnlyError,
)

__all__ = ["storage_error"]

# Primary result codes (https://sqlite.org/rescode.html); extended codes keep them in
# their low byte.
_PERM = 3
_BUSY = 5
_LOCKED = 6
_READONLY = 8
_IOERR = 10
_FULL = 13
_CANTOPEN = 14


def storage_error(exc: sqlite3.Error, path: str) -> StorageError:
    """The :class:`StorageError` subclass that says what ``exc`` means for the store.

    Args:
        exc: What the sqlite3 module raised.
        path: The store's file (``":memory:"`` for a memory store).

    Returns:
        The error to raise (``from exc``); its operation is named later, by the store
        method it passes through.
    """
    detail = str(exc)
    text = detail.lower()
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    name = getattr(exc, "sqlite_errorname", None)
    if isinstance(code, int) and code > 0xFF and isinstance(name, str):
        # An extended code's name (SQLITE_IOERR_TRUNCATE) tells a support engineer more
        # than the generic text that goes with it.
        detail = f"{detail} [{name}]"
    if primary in (_BUSY, _LOCKED) or "locked" in text or "busy" in text:
        return StorageBusyError(detail, store=path)
    if primary == _FULL or "database or disk is full" in text:
        return StorageFullError(detail, store=path)
    if primary == _READONLY or "readonly database" in text:
        return StorageReadOnlyError(detail, store=path)
    if primary in (_IOERR, _CANTOPEN, _PERM) or "i/o error" in text or "unable to open" in text:
        cause = _file_problem(path)
        if cause == "read-only":
            return StorageReadOnlyError(detail, store=path)
        if cause == "full":
            return StorageFullError(detail, store=path)
        if primary == _IOERR or "i/o error" in text:
            return StorageIOError(detail, store=path)
    return StorageError(detail, store=path)


def _file_problem(path: str) -> str | None:
    """``"read-only"`` or ``"full"`` when the files behind ``path`` show it, else None.

    Checks the database, its WAL and shared-memory files and its folder (SQLite creates
    the latter two there): ``os.access`` reports a read-only file system (``EROFS``) and
    an immutable file even to root, whom permission bits do not stop.
    """
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    database = Path(path)
    folder = database.parent
    candidates = [database, Path(f"{path}-wal"), Path(f"{path}-shm"), folder]
    for candidate in candidates:
        if candidate.exists() and not os.access(candidate, os.W_OK):
            return "read-only"
    if sys.platform == "win32":
        return None
    try:
        stats = os.statvfs(database if database.exists() else folder)
    except OSError:
        return None
    if stats.f_flag & os.ST_RDONLY:
        return "read-only"
    if stats.f_blocks and not stats.f_bavail:
        return "full"
    return None
