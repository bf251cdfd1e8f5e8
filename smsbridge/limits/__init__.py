"""Rate limits and connection caps: within one process, and across every worker.

:class:`LimitBoard` holds one provider's :class:`TokenBucket` and :class:`ConcurrencyCap`
per process (:mod:`~smsbridge.limits.local`). :class:`SharedLimitBoard` makes the same
promises hold for every worker sharing an outbox, through :class:`SharedLimits` state
kept in the outbox's database: :class:`SqliteLimits` (:mod:`~smsbridge.limits.sqlite`),
:class:`PostgresLimits` (:mod:`~smsbridge.limits.postgres`), or :class:`LocalLimits` when
no other process can share the outbox.
"""

from __future__ import annotations

from smsbridge.limits.flags import parse_limits
from smsbridge.limits.local import (
    ConcurrencyCap,
    Limit,
    LimitBoard,
    LocalLimits,
    ProviderLimits,
    TokenBucket,
)
from smsbridge.limits.postgres import PostgresLimits
from smsbridge.limits.shared import SharedLimitBoard, SharedLimits, shared_limits_for
from smsbridge.limits.sqlite import SqliteLimits

__all__ = [
    "ConcurrencyCap",
    "Limit",
    "LimitBoard",
    "LocalLimits",
    "PostgresLimits",
    "ProviderLimits",
    "SharedLimitBoard",
    "SharedLimits",
    "SqliteLimits",
    "TokenBucket",
    "parse_limits",
    "shared_limits_for",
]
