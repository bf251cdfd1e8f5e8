"""Fixtures for the multi-process worker tests: an outbox location per backend.

The PostgreSQL server is the run's one server (:mod:`tests.postgres`); each test gets a
schema of its own.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.postgres import postgres_location

__all__ = ["location"]

WORKERS = {"sqlite": 2, "postgres": 4}
"""Worker processes per backend, as the issue asks."""


@pytest.fixture(params=sorted(WORKERS))
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh outbox: a SQLite file, or a PostgreSQL URL naming a new schema."""
    if request.param == "sqlite":
        return str(tmp_path / "outbox.sqlite3")
    url: str = request.getfixturevalue("postgres_url")
    schema: str = request.getfixturevalue("postgres_schema")
    return postgres_location(url, schema)
