"""Shared test configuration: hypothesis profiles chosen by HYPOTHESIS_PROFILE, and the
run's one PostgreSQL server (:mod:`tests.postgres`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# The run's one PostgreSQL server, registered here so every folder shares it.
from tests.postgres import postgres_schema, postgres_url

__all__ = ["postgres_schema", "postgres_url"]

# No profile times anything: a shared, loaded machine must not turn a slow example or a
# slow draw into a failure (timing belongs in bench/).
settings.register_profile(
    "dev", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci",
    max_examples=200,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile(
    "fast", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# CI sets CI=true; its profile is derandomized so a red run can be replayed exactly.
_default = "ci" if os.environ.get("CI") else "dev"
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", _default))


@pytest.fixture(autouse=True)
def _outbox_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep every bridge built without a store argument out of the real per-user folder.

    SmsBridge is durable by default; a test that forgets ``store=`` must not leave an
    outbox in the developer's home directory.
    """
    home: Path = tmp_path_factory.mktemp("smsbridge-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SMSBRIDGE_HOME", str(home))
        yield
