"""Moved to :mod:`smsbridge.config_schema`; these names stay importable from here."""

from smsbridge.config_schema import (
    POLICIES,
    LineIndex,
    Problem,
    ProviderConfig,
    Routing,
    check_text,
    resolve_store,
)

__all__ = [
    "POLICIES",
    "LineIndex",
    "Problem",
    "ProviderConfig",
    "Routing",
    "check_text",
    "resolve_store",
]
