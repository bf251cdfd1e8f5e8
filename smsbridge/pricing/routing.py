"""Least-cost prices for the router: what a message costs through each provider.

:class:`TablePrices` implements :class:`smsbridge.router.policy.PriceSource`, so
``LeastCost(TablePrices(table))`` tries the cheapest provider first and fails over to the
next cheapest. Parts are counted each provider's way (:func:`.parts_for`).
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from smsbridge.encoding import UCS2, segment
from smsbridge.errors import InvalidNumberError
from smsbridge.model import Message
from smsbridge.provider import Provider

from .locate import locate
from .parts import has_own_rule, languages_for, parts_for
from .rates import CreditRates
from .table import PriceTable

__all__ = ["TablePrices"]


@attrs.frozen
class TablePrices:
    """Prices from a :class:`PriceTable`, for :class:`smsbridge.router.LeastCost`.

    The price of a message through a provider is the sum over its recipients of the
    matching row's price per part times the parts that provider bills (see
    :func:`.parts_for`). A message is unpriced
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
                message.body,
                encoding=options.encoding,
                transliterate=options.transliterate,
                national_languages=languages_for(provider, options),
            )
        except ValueError:
            return None
        caps = provider.capabilities
        if seg.encoding == UCS2 and not caps.unicode:
            return None
        limits = [n for n in (caps.max_parts, options.max_parts) if n is not None]
        own_rule = has_own_rule(provider)
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
            parts = seg.part_count
            if own_rule:
                # The provider's count may depend on the destination (a signature).
                try:
                    parts = parts_for(provider, message.body, options, country=country)
                except ValueError:
                    return None
            if limits and parts > min(limits):
                return None
            amount, unit = self.rates.convert(provider.name, entry.price, entry.unit)
            total += amount * parts
            units.add(unit)
        if len(units) > 1 or (self.currency is not None and units != {self.currency}):
            return None
        return float(total)
