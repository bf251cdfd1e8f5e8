"""Cost comparison: price tables, quotes, the substitution hint, least-cost prices.

Quick start::

    from smsbridge.pricing import CreditRates, PriceTable, TablePrices, quote

    table = PriceTable.from_csv("prices.csv")
    result = quote(batch, providers, table=table, currency="EUR",
                   rates=CreditRates({"bulksms": ("0.035", "EUR")}))
    print(result.cheapest())

    router_policy = LeastCost(TablePrices(table))  # cheapest provider first when sending

See ``docs/pricing.md`` for the price-table format and the rules of a quote.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from smsbridge.encoding import UCS2, segment
from smsbridge.errors import InvalidNumberError
from smsbridge.model import Message
from smsbridge.provider import Provider

from .hints import ProviderSaving, Substitution, SubstitutionHint, substitution
from .quote import (
    PROVIDER_API,
    TABLE,
    ProviderQuote,
    Quote,
    QuoteRow,
    Unroutable,
    quote,
)
from .table import (
    COLUMNS,
    CREDITS,
    CreditRates,
    PriceEntry,
    PriceProblem,
    PriceTable,
    PriceTableError,
    locate,
)

__all__ = [
    "COLUMNS",
    "CREDITS",
    "PROVIDER_API",
    "TABLE",
    "CreditRates",
    "PriceEntry",
    "PriceProblem",
    "PriceTable",
    "PriceTableError",
    "ProviderQuote",
    "ProviderSaving",
    "Quote",
    "QuoteRow",
    "Substitution",
    "SubstitutionHint",
    "TablePrices",
    "Unroutable",
    "locate",
    "quote",
    "substitution",
]


@attrs.frozen
class TablePrices:
    """Prices from a :class:`PriceTable`, for :class:`smsbridge.router.LeastCost`.

    The price of a message through a provider is the sum over its recipients of the
    matching row's price per part times the message's parts. A message is unpriced
    (``None``, tried after the priced providers) when any recipient has no row or an
    invalid number, when it has more parts than the provider or the options allow, when
    the provider cannot send its UCS-2 text, or when its prices are in a unit other
    than ``currency``. Without ``currency`` the amounts are compared as they are, so the
    table should then price every provider in one unit.

    Args:
        table: The prices.
        rates: Credits-to-money rates, applied before comparing.
        currency: The only unit a price may end up in; ``None`` accepts any.
        region: Default region for national numbers.
    """

    table: PriceTable
    rates: CreditRates = attrs.field(factory=lambda: CreditRates({}))
    currency: str | None = None
    region: str | None = None

    def price(self, provider: Provider, message: Message) -> float | None:
        """The price of ``message`` through ``provider``, or ``None`` if unpriced.

        Returns:
            The amount as a float, which is what the router's protocol compares; the sum
            itself is exact (Decimal).
        """
        options = message.options
        try:
            seg = segment(
                message.body, encoding=options.encoding, transliterate=options.transliterate
            )
        except ValueError:
            return None
        parts = seg.part_count
        caps = provider.capabilities
        limits = [n for n in (caps.max_parts, options.max_parts) if n is not None]
        if (limits and parts > min(limits)) or (seg.encoding == UCS2 and not caps.unicode):
            return None
        total = Decimal(0)
        units: set[str] = set()
        for number in message.to:
            try:
                e164, country = locate(number, self.region)
            except InvalidNumberError:
                return None
            entry = self.table.price(provider.name, e164, country=country)
            if entry is None:
                return None
            amount, unit = self.rates.convert(provider.name, entry.price, entry.unit)
            total += amount * parts
            units.add(unit)
        if len(units) > 1 or (self.currency is not None and units != {self.currency}):
            return None
        return float(total)
