"""The PostgreSQL server of a test run, shared by the outbox, worker and limit tests.

One server per session (per xdist worker process): ``$SMSBRIDGE_TEST_POSTGRES_URL`` when
set (the tests create and drop their own schemas on it), else a throwaway cluster
started with :class:`smsbridge.testing.postgres.PostgresCluster`. The fixtures are
registered once, in ``tests/conftest.py``, so every folder shares that one server. When
no server can be had the PostgreSQL tests fail, never skip: a green run means both
backends passed.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from smsbridge.testing.postgres import PostgresCluster, PostgresNotFoundError

__all__ = ["postgres_location", "postgres_schema", "postgres_url"]


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
