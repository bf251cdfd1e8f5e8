"""Moved to :mod:`smsbridge.pricing.quote_values`; these names stay importable from here."""

from __future__ import annotations

from smsbridge.pricing.quote_values import (
    PROVIDER_API,
    TABLE,
    ProviderQuote,
    Quote,
    QuoteRow,
    Unroutable,
)

__all__ = ["PROVIDER_API", "TABLE", "ProviderQuote", "Quote", "QuoteRow", "Unroutable"]
