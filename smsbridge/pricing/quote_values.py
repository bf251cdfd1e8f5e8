"""What a quote is: per-provider rows, unroutable groups, totals, the cheapest choice.

Frozen values built by :func:`smsbridge.pricing.quote`; :meth:`Quote.rows` and
:meth:`Quote.as_dict` flatten them for CSV or JSON export.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Final

import attrs

from smsbridge.results import Cost

from .hints import SubstitutionHint
from .rates import CREDITS

__all__ = ["PROVIDER_API", "TABLE", "ProviderQuote", "Quote", "QuoteRow", "Unroutable"]

#: ``source`` of a figure taken from a :class:`PriceTable`.
TABLE: Final = "table"
#: ``source`` of a figure the provider's own quote operation returned.
PROVIDER_API: Final = "provider-api"


@attrs.frozen(slots=True, kw_only=True)
class QuoteRow:
    """Recipients of one provider, destination and part count, at one price.

    Args:
        provider: The provider's registered name.
        country: The destination's ISO region (``None`` for non-geographic numbers).
        recipients: How many recipients this row covers.
        parts: Parts per message.
        price_per_part: Price of one part, in :attr:`unit`.
        total: ``recipients x parts x price_per_part``.
        unit: Currency code or ``"credits"``.
        source: ``"table"`` or ``"provider-api"``.
    """

    provider: str
    country: str | None
    recipients: int
    parts: int
    price_per_part: Decimal
    total: Decimal
    unit: str
    source: str

    def as_dict(self) -> dict[str, Any]:
        """The row as plain data; money as strings so JSON keeps every digit."""
        return {
            "provider": self.provider,
            "country": self.country or "",
            "recipients": self.recipients,
            "parts": self.parts,
            "price_per_part": str(self.price_per_part),
            "total": str(self.total),
            "unit": self.unit,
            "source": self.source,
        }


@attrs.frozen(slots=True, kw_only=True)
class Unroutable:
    """Recipients a provider cannot carry, grouped by reason.

    Args:
        provider: The provider's registered name.
        reason: ``invalid-number``, ``template``, ``encoding``, ``too-long``,
            ``no-unicode``, ``no-price`` or ``quote-failed``.
        count: How many recipients.
        detail: The first occurrence's explanation.
        examples: Up to five of the numbers, as given.
    """

    provider: str
    reason: str
    count: int
    detail: str
    examples: tuple[str, ...] = ()


def _totals(rows: tuple[QuoteRow, ...]) -> Mapping[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for row in rows:
        totals[row.unit] = totals.get(row.unit, Decimal(0)) + row.total
    return MappingProxyType(totals)


@attrs.frozen(slots=True, kw_only=True)
class ProviderQuote:
    """One provider's part of a quote.

    Args:
        provider: The provider's registered name.
        rows: Breakdown by destination, parts and price.
        unroutable: Recipients it cannot carry, by reason.
    """

    provider: str
    rows: tuple[QuoteRow, ...]
    unroutable: tuple[Unroutable, ...] = ()
    totals: Mapping[str, Decimal] = attrs.field(init=False)

    @totals.default
    def _default_totals(self) -> Mapping[str, Decimal]:
        return _totals(self.rows)

    @property
    def recipients(self) -> int:
        """Recipients this provider can carry."""
        return sum(row.recipients for row in self.rows)

    @property
    def unroutable_count(self) -> int:
        """Recipients this provider cannot carry."""
        return sum(group.count for group in self.unroutable)

    @property
    def parts(self) -> int:
        """Parts this provider would bill in total."""
        return sum(row.recipients * row.parts for row in self.rows)

    @property
    def total(self) -> Cost | None:
        """The total when it is in one unit; ``None`` when units are mixed or nothing routes."""
        if len(self.totals) != 1:
            return None
        ((unit, amount),) = self.totals.items()
        return Cost(amount, unit)


@attrs.frozen(slots=True, kw_only=True)
class Quote:
    """The comparison of every provider for one message or batch.

    Args:
        providers: Per-provider quotes, in the configured order.
        recipients: Recipients read from the message or batch.
        currency: The currency asked for, if any.
        hint: The substitution hint, when characters with GSM-7 equivalents force UCS-2.
        notes: Caveats a reader must see (units that cannot be compared, fallbacks).
    """

    providers: tuple[ProviderQuote, ...]
    recipients: int
    currency: str | None = None
    hint: SubstitutionHint | None = None
    notes: tuple[str, ...] = ()

    def __getitem__(self, provider: str) -> ProviderQuote:
        for item in self.providers:
            if item.provider == provider:
                return item
        raise KeyError(provider)

    def comparison_unit(self) -> str | None:
        """The unit totals are compared in: the asked currency, else the commonest unit.

        Returns:
            A unit, or ``None`` when no provider has a single-unit total.
        """
        if self.currency is not None:
            return self.currency
        counts: dict[str, int] = {}
        for item in self.providers:
            if (total := item.total) is not None and total.unit != CREDITS:
                counts[total.unit] = counts.get(total.unit, 0) + 1
            elif total is not None:
                counts.setdefault(total.unit, 0)  # credits lose ties against money
        if not counts:
            return None
        return max(counts, key=lambda unit: counts[unit])

    def cheapest(self) -> str | None:
        """The provider to choose: most recipients covered, then lowest total.

        Only providers whose whole total is in :meth:`comparison_unit` compete: a total
        in another currency, or in credits without a :class:`CreditRates` entry, is not
        comparable and never wins. Among those, the one reaching the most recipients wins
        (a cheap provider that drops half the list is no bargain); equal coverage goes
        to the lower total, then to the configured order.

        Returns:
            The provider's name, or ``None`` when no provider can carry anyone comparably.
        """
        unit = self.comparison_unit()
        best: tuple[int, Decimal, int] | None = None
        winner: str | None = None
        for rank, item in enumerate(self.providers):
            total = item.total
            if total is None or total.unit != unit or not item.recipients:
                continue
            key = (-item.recipients, total.amount, rank)
            if best is None or key < best:
                best, winner = key, item.provider
        return winner

    def rows(self) -> Iterator[dict[str, Any]]:
        """Every breakdown row as a flat dict, ready for ``csv.DictWriter`` or JSON.

        Returns:
            Dicts with provider, country, recipients, parts, price_per_part, total, unit,
            source.
        """
        for item in self.providers:
            for row in item.rows:
                yield row.as_dict()

    def unroutable_rows(self) -> Iterator[dict[str, Any]]:
        """The unroutable groups as flat dicts (provider, reason, count, detail, examples)."""
        for item in self.providers:
            for group in item.unroutable:
                yield {
                    "provider": group.provider,
                    "reason": group.reason,
                    "count": group.count,
                    "detail": group.detail,
                    "examples": " ".join(group.examples),
                }

    def by_destination(self, unit: str | None = None) -> dict[str, dict[str, Decimal]]:
        """Totals per destination country and provider, in one unit.

        Args:
            unit: The unit to read; :meth:`comparison_unit` by default. Rows in other
                units are left out, since nothing is added across units.

        Returns:
            ``{country: {provider: total}}``, countries sorted, providers in configured
            order; non-geographic destinations under ``"?"``.
        """
        wanted = unit if unit is not None else self.comparison_unit()
        table: dict[str, dict[str, Decimal]] = {}
        for item in self.providers:
            for row in item.rows:
                if row.unit != wanted:
                    continue
                cell = table.setdefault(row.country or "?", {})
                cell[item.provider] = cell.get(item.provider, Decimal(0)) + row.total
        return {country: table[country] for country in sorted(table)}

    def as_dict(self) -> dict[str, Any]:
        """The whole quote as plain data for JSON (money as strings, every digit kept)."""
        providers = []
        for item in self.providers:
            total = item.total
            providers.append(
                {
                    "provider": item.provider,
                    "total": None if total is None else str(total.amount),
                    "unit": None if total is None else total.unit,
                    "totals": {unit: str(amount) for unit, amount in item.totals.items()},
                    "recipients": item.recipients,
                    "parts": item.parts,
                    "unroutable": item.unroutable_count,
                }
            )
        return {
            "recipients": self.recipients,
            "currency": self.currency,
            "cheapest": self.cheapest(),
            "providers": providers,
            "rows": list(self.rows()),
            "unroutable": list(self.unroutable_rows()),
            "notes": list(self.notes),
            "hint": None if self.hint is None else self.hint.explain(),
        }
