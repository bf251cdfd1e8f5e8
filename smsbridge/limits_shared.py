"""Moved to :mod:`smsbridge.limits`; these names stay importable from here."""

from __future__ import annotations

from smsbridge.limits import (
    LocalLimits,
    PostgresLimits,
    SharedLimitBoard,
    SharedLimits,
    SqliteLimits,
    shared_limits_for,
)
from smsbridge.provider import Provider

__all__ = [
    "LocalLimits",
    "PostgresLimits",
    "SharedLimitBoard",
    "SharedLimits",
    "SqliteLimits",
    "drop_idle_connections",
    "shared_limits_for",
]


def drop_idle_connections(provider: Provider, *, wait: float = 2.0) -> None:
    """Same as :meth:`provider.drain_idle(wait=wait) <smsbridge.provider.Provider.drain_idle>`."""
    provider.drain_idle(wait=wait)
