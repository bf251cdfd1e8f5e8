"""Credit rates: what one credit of a provider is worth in money, as the user says.

The only conversion smsbridge makes; there are no exchange rates between currencies.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any, Final

import attrs

from smsbridge.errors import ConfigurationError
from smsbridge.results import Cost

__all__ = ["CREDITS", "CreditRates"]

#: The unit of providers that bill in their own credits rather than a currency.
CREDITS: Final = "credits"

_CURRENCY_RE: Final = re.compile(r"^[A-Z]{3}$")


def _rate(value: Cost | tuple[Any, str]) -> Cost:
    amount, unit = (value.amount, value.unit) if isinstance(value, Cost) else value
    try:
        cost = Cost(Decimal(str(amount)), unit.strip().upper())
    except InvalidOperation:
        raise ConfigurationError(
            f"a credit rate must be a decimal number, not {amount!r}"
        ) from None
    if not cost.amount.is_finite() or cost.amount <= 0:
        raise ConfigurationError(f"a credit rate must be positive, not {amount!r}")
    if not _CURRENCY_RE.match(cost.unit):
        raise ConfigurationError(f"a credit rate is in an ISO 4217 currency, not {unit!r}")
    return cost


def _rates(value: Mapping[str, Cost | tuple[Any, str]]) -> Mapping[str, Cost]:
    return MappingProxyType({name: _rate(rate) for name, rate in value.items()})


@attrs.frozen(slots=True)
class CreditRates:
    """What one credit of a provider is worth in money, as the user says.

    ``CreditRates({"bulksms": ("0.035", "EUR")})`` values one BulkSMS credit at 0.035 EUR.
    No other conversion exists in smsbridge: prices in two currencies stay apart.

    Args:
        rates: Provider name -> ``(amount, currency)`` or :class:`~smsbridge.Cost`.

    Raises:
        ConfigurationError: For a rate that is not a positive decimal in a currency.
    """

    rates: Mapping[str, Cost] = attrs.field(converter=_rates)

    def rate(self, provider: str) -> Cost | None:
        """The money value of one credit of ``provider``, if the user gave one."""
        return self.rates.get(provider)

    def convert(self, provider: str, amount: Decimal, unit: str) -> tuple[Decimal, str]:
        """Turn an amount of ``provider`` credits into money; other units pass through.

        Returns:
            ``(amount, unit)`` after conversion.
        """
        if unit == CREDITS and (rate := self.rates.get(provider)) is not None:
            return amount * rate.amount, rate.unit
        return amount, unit
