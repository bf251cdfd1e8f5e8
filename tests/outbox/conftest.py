"""Fixtures that run the same store tests against every backend.

``store_factory`` is parametrized over ``sqlite`` and ``postgres``. The PostgreSQL side
uses the one server of the run (``postgres_url``, :mod:`tests.postgres`); each test gets
a PostgreSQL schema of its own, so tests never see each other's rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from smsbridge.outbox import SqliteStore
from smsbridge.outbox.factory import open_store
from smsbridge.outbox.postgres import PostgresStore
from tests.postgres import postgres_location

AnyStore = SqliteStore | PostgresStore
"""What the factory opens; both accept every call the tests make (``add(chunk_size=)``)."""

BACKENDS = ["sqlite", "postgres"]


@attrs.define
class StoreFactory:
    """Opens stores on one backend and one per-test location; closes them at teardown.

    Args:
        backend: ``"sqlite"`` or ``"postgres"``.
        location: What :func:`open_store` takes: a file path or a PostgreSQL URL with a
            ``schema`` parameter. Picklable, so worker processes open the same outbox.
    """

    backend: str
    location: str
    opened: list[AnyStore] = attrs.field(factory=list)

    def __call__(self) -> AnyStore:
        """Open another store on the same outbox (a reopened file, another worker)."""
        store = open_store(self.location)
        assert isinstance(store, SqliteStore | PostgresStore)
        self.opened.append(store)
        return store

    def close_all(self) -> None:
        """Close every store this factory opened (closing twice is harmless)."""
        for store in self.opened:
            store.close()


@pytest.fixture(params=BACKENDS)
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """Opens stores on a fresh outbox of each backend in turn."""
    if request.param == "sqlite":
        factory = StoreFactory("sqlite", str(tmp_path / "outbox.sqlite3"))
    else:
        url: str = request.getfixturevalue("postgres_url")
        schema: str = request.getfixturevalue("postgres_schema")
        factory = StoreFactory("postgres", postgres_location(url, schema))
    try:
        yield factory
    finally:
        factory.close_all()


@pytest.fixture
def store(store_factory: StoreFactory) -> AnyStore:
    """A fresh store of each backend in turn."""
    return store_factory()
