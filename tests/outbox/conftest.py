"""Fixtures that run the same store tests against every backend.

``store_factory`` is parametrized over ``sqlite`` and ``postgres``. The PostgreSQL side
uses one real server for the whole run: ``$SMSBRIDGE_TEST_POSTGRES_URL`` when set (the
tests create and drop their own schemas on it), else a throwaway cluster started with
:class:`smsbridge.testing.postgres.PostgresCluster`. Each test gets a PostgreSQL schema
of its own, so tests never see each other's rows. When no server can be had the
PostgreSQL tests fail, never skip: a green run means both backends passed.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import attrs
import psycopg
import pytest
from psycopg import sql

from smsbridge.outbox import SqliteStore
from smsbridge.outbox.factory import open_store
from smsbridge.outbox.postgres import PostgresStore
from smsbridge.testing.postgres import PostgresCluster, PostgresNotFoundError

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


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server URL for the whole run; fails with instructions when none."""
    url = os.environ.get("SMSBRIDGE_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    try:
        cluster = PostgresCluster.start()
    except PostgresNotFoundError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield cluster.url
    finally:
        cluster.stop()


@pytest.fixture
def postgres_schema(postgres_url: str) -> Iterator[str]:
    """A fresh PostgreSQL schema name for one test, dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    yield name
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


def postgres_location(url: str, schema: str) -> str:
    """The URL ``open_store`` takes for ``schema`` on the server at ``url``."""
    return f"{url}{'&' if '?' in url else '?'}schema={schema}"


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
