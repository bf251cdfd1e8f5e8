"""Moved to :mod:`smsbridge.limits`; these names stay importable from here."""

from smsbridge.limits.local import ConcurrencyCap, Limit, LimitBoard, ProviderLimits, TokenBucket

__all__ = ["ConcurrencyCap", "Limit", "LimitBoard", "ProviderLimits", "TokenBucket"]
