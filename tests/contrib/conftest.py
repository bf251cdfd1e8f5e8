"""Fixtures for the framework integrations: a configured Django, a Redis server."""

from __future__ import annotations

import importlib
from collections.abc import Iterator

import pytest

from smsbridge.testing.redis import RedisServer


@pytest.fixture(scope="session")
def django_configured() -> Iterator[None]:
    """Django set up from ``tests/contrib/django_settings.py``, with its test environment
    (the in-memory e-mail outbox, ``ALLOWED_HOSTS`` for the test client)."""
    import django
    from django.conf import settings
    from django.test.utils import setup_test_environment, teardown_test_environment

    if not settings.configured:
        module = importlib.import_module("tests.contrib.django_settings")
        settings.configure(
            **{name: getattr(module, name) for name in dir(module) if name.isupper()}
        )
    django.setup()
    setup_test_environment()
    try:
        yield
    finally:
        teardown_test_environment()
        from smsbridge.contrib.django.conf import reset

        reset()


@pytest.fixture(scope="session")
def redis_session() -> Iterator[RedisServer]:
    """A Redis server for the whole session (``redis-server`` on a free port)."""
    with RedisServer.start() as server:
        yield server


@pytest.fixture
def redis_server(redis_session: RedisServer) -> RedisServer:
    """The session's Redis server, emptied of what earlier tests left."""
    redis_session.flush()
    return redis_session
