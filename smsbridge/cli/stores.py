"""The outbox a reading command looks at, never one it creates by looking.

``status`` and ``breakers`` only read: the outbox is ``--store``, else the
configuration's ``store`` (``--config``, ``$SMSBRIDGE_CONFIG`` or ./smsbridge.toml, as
for every command), else the per-user default. A SQLite file that does not exist is a
mistyped path or a store never used, so it is reported (exit 2) instead of being created
empty, which would answer "no such message" about every reference.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from smsbridge.cli import UsageError
from smsbridge.config import configured_store
from smsbridge.outbox import default_path
from smsbridge.outbox.base import OutboxStore
from smsbridge.outbox.factory import open_store

__all__ = ["add_store_option", "open_existing_store", "store_location"]


def add_store_option(parser: argparse.ArgumentParser, *, default: object = None) -> None:
    """Add ``--store PATH|URL``."""
    parser.add_argument(
        "--store",
        default=default,
        metavar="PATH|URL",
        help="the outbox (default: the configuration's store, else the per-user outbox)",
    )


def store_location(args: argparse.Namespace) -> tuple[str, str]:
    """Where the outbox is, and what said so: ``--store``, else the configured
    ``store``, else the default outbox path."""
    if args.store:
        return str(args.store), "--store"
    configured = configured_store(args.config)
    if configured is not None:
        return configured, "the configuration's store"
    return str(default_path()), "the default outbox"


def _sqlite_path(location: str) -> Path | None:
    """The file a SQLite location names; ``None`` for a server or in-memory store."""
    if "://" not in location:
        return Path(location)
    parts = urlsplit(location)
    if parts.scheme.lower() != "sqlite":
        return None
    path = unquote(parts.path)[1:]
    return None if path in ("", ":memory:") else Path(path)


def open_existing_store(args: argparse.Namespace) -> OutboxStore:
    """Open the outbox :func:`store_location` names, refusing a missing SQLite file.

    Raises:
        UsageError: When the file does not exist.
        ConfigurationError: For a bad configuration or URL.
        OutboxError: When the store cannot be opened.
    """
    location, source = store_location(args)
    path = _sqlite_path(location)
    if path is not None and not path.is_file():
        raise UsageError(
            f"no outbox at {os.fspath(path)} ({source}): nothing was ever sent with it, or "
            "the path is mistyped; give --store PATH or set store in the configuration"
        )
    return open_store(location)
