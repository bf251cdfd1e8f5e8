"""Open the outbox a configuration names: a SQLite file or a PostgreSQL URL.

``Config.store`` (``store = "..."`` in ``smsbridge.toml``) and the command line hand their
value here, so every entry point understands the same spellings.
"""

from __future__ import annotations

import os
import re
from urllib.parse import unquote, urlsplit

from smsbridge.errors import ConfigurationError
from smsbridge.outbox.base import OutboxStore
from smsbridge.outbox.sqlite import SqliteStore

__all__ = ["open_store"]

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def open_store(url_or_path: str | os.PathLike[str] | None = None) -> OutboxStore:
    """Open the outbox at a URL or path.

    ===================================================  ==================================
    ``None``                                             :class:`SqliteStore` at
                                                         :func:`~smsbridge.outbox.default_path`
    ``outbox.sqlite3``, ``/var/lib/sms/outbox.sqlite3``  :class:`SqliteStore` at that path
    ``sqlite:///relative.sqlite3``,                      :class:`SqliteStore` (three slashes
    ``sqlite:////absolute.sqlite3``                      then the path, as in SQLAlchemy)
    ``sqlite://``, ``sqlite:///:memory:``                a private in-memory SQLite store
    ``postgresql://user:pw@host:5432/db?schema=name``,   :class:`~smsbridge.outbox.postgres.
    ``postgres://...``                                   PostgresStore` (``schema`` optional)
    ===================================================  ==================================

    Args:
        url_or_path: Where the outbox lives.

    Returns:
        The open store; close it when done.

    Raises:
        ConfigurationError: For another URL scheme, or a PostgreSQL URL without psycopg
            installed.
        OutboxError: When the store cannot be opened.
    """
    if url_or_path is None:
        return SqliteStore()
    text = os.fspath(url_or_path)
    match = _SCHEME.match(text)
    if match is None:
        return SqliteStore(text)
    scheme = match.group(1).lower()
    if scheme in ("postgresql", "postgres"):
        try:
            from smsbridge.outbox.postgres import PostgresStore  # psycopg is optional
        except ImportError as exc:
            raise ConfigurationError(
                "a PostgreSQL outbox needs psycopg 3: pip install 'smsbridge[postgres]'"
            ) from exc
        return PostgresStore(text)
    if scheme == "sqlite":
        parts = urlsplit(text)
        if parts.netloc:
            raise ConfigurationError(
                f"a sqlite URL has no host: write sqlite:///path, not {text!r}"
            )
        # sqlite:///rel -> path "/rel" -> "rel"; sqlite:////abs -> "//abs" -> "/abs".
        path = unquote(parts.path)[1:]
        return SqliteStore(path or ":memory:")
    raise ConfigurationError(
        f"unsupported outbox URL scheme {scheme!r}: use a file path, sqlite:///path or "
        "postgresql://..."
    )
