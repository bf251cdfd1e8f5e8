"""Quotes: what a message or a batch would cost through each provider, before sending.

:func:`quote` streams the recipients once (see :mod:`._engine`) and keeps only counters
per provider, country, billed parts and price row, so a million-recipient batch is quoted
in the memory of a few hundred counters. Parts are counted each provider's way (see
:func:`smsbridge.pricing.parts_for`); each row says whether its figure came from the
price table or from the provider's own quote operation. The result types live in
:mod:`.result`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Protocol

from smsbridge.errors import ConfigurationError, SmsBridgeError, TemplateError
from smsbridge.model import Batch, Message, SendOptions
from smsbridge.provider import Provider
from smsbridge.results import Cost

from ._engine import Tally
from ._engine import count as count_recipients
from .hints import HintTally, ProviderSaving
from .quote_values import PROVIDER_API, TABLE, ProviderQuote, Quote, QuoteRow, Unroutable
from .rates import CREDITS, CreditRates
from .table import PriceTable

__all__ = ["ProviderGroup", "bridge_quote", "quote"]


class _Normaliser(Protocol):
    @property
    def region(self) -> str | None: ...


class ProviderGroup(Protocol):
    """What :func:`bridge_quote` needs of a bridge: its providers and its default region.

    :class:`~smsbridge.SmsBridge` is one; pricing names this shape instead of importing
    the bridge, which sits a layer above it.
    """

    @property
    def providers(self) -> Sequence[Provider]:
        """The candidates, in configured order."""
        ...

    @property
    def normalise(self) -> _Normaliser:
        """The number normaliser, whose ``region`` applies to national numbers."""
        ...


def quote(
    message_or_batch: Message | Batch,
    providers: Sequence[Provider],
    *,
    table: PriceTable | None,
    rates: CreditRates | None = None,
    currency: str | None = None,
    region: str | None = None,
    use_provider_api: bool = False,
    progress: Callable[[int], None] | None = None,
    progress_every: int = 10_000,
) -> Quote:
    """Price a message or batch through each provider, without sending anything.

    Recipients are read once and only counters are kept, so a lazy batch of any size is
    quoted in bounded memory. Each text is segmented with the options' encoding and
    transliterate settings, cached by text so that repeated texts are segmented once.

    Args:
        message_or_batch: What would be sent.
        providers: The candidates, in configured order.
        table: Prices by destination; ``None`` when only provider APIs are asked.
        rates: Credits-to-money rates per provider.
        currency: Compare in this currency. Totals in another unit are reported as they
            are, with a note: nothing but credits (through ``rates``) is converted.
        region: Default region for national numbers.
        use_provider_api: Ask providers that declare ``capabilities.quote`` for their
            price, one call per destination country and part count, scaled by the
            recipients in that group; other providers use the table.
        progress: Called with the number of recipients read so far, every
            ``progress_every`` recipients and once at the end.
        progress_every: How often ``progress`` is called.

    Returns:
        The :class:`Quote`.

    Raises:
        ConfigurationError: For a currency that is not an ISO 4217 code.
    """
    if currency is not None and (currency := currency.upper()) == CREDITS.upper():
        currency = CREDITS
    if currency is not None and currency != CREDITS and not _CURRENCY.match(currency):
        raise ConfigurationError(f"{currency!r} is not an ISO 4217 currency code")
    options = message_or_batch.options
    rates = rates if rates is not None else CreditRates({})
    tallies = [
        Tally(p, options, use_provider_api and p.capabilities.quote, message_or_batch)
        for p in providers
    ]
    hints = HintTally()
    if isinstance(message_or_batch, Message):
        body = message_or_batch.body
        pairs: Iterable[tuple[str, str | TemplateError]] = ((n, body) for n in message_or_batch.to)
    else:
        pairs = _rendered(message_or_batch)
    seen = count_recipients(
        pairs, tallies, table, region, options, hints, progress, max(1, progress_every)
    )
    notes: list[str] = []
    results: list[ProviderQuote] = []
    savings: list[ProviderSaving] = []
    for tally in tallies:
        rows, alternative = _table_rows(tally, rates)
        rows.extend(_api_rows(tally, rates, message_or_batch.sender, options))
        results.append(
            ProviderQuote(provider=tally.name, rows=tuple(rows), unroutable=_unroutable(tally))
        )
        notes.extend(_unit_notes(results[-1], currency))
        if use_provider_api and not tally.api:
            notes.append(f"{tally.name}: offers no quote operation; table prices used")
        table_units = {row.unit for row in rows if row.source == TABLE}
        if hints.recipients and len(table_units) == 1:
            (unit,) = table_units
            now = sum((r.total for r in rows if r.source == TABLE), Decimal(0))
            savings.append(ProviderSaving(tally.name, Cost(now, unit), Cost(alternative, unit)))
    return Quote(
        providers=tuple(results),
        recipients=seen,
        currency=currency,
        hint=hints.hint(savings),
        notes=tuple(notes),
    )


_CURRENCY = re.compile(r"^[A-Z]{3}$")


def _table_rows(tally: Tally, rates: CreditRates) -> tuple[list[QuoteRow], Decimal]:
    """Rows from the table counters, and the total with transliterated part counts."""
    merged: dict[tuple[str | None, int, Decimal, str], int] = {}
    alternative = Decimal(0)
    for (country, parts, alt_parts, entry), count in tally.counts.items():
        price, unit = rates.convert(tally.name, entry.price, entry.unit)
        key = (country, parts, price, unit)
        merged[key] = merged.get(key, 0) + count
        alternative += price * alt_parts * count
    rows = [
        QuoteRow(
            provider=tally.name,
            country=country,
            recipients=count,
            parts=parts,
            price_per_part=price,
            total=price * parts * count,
            unit=unit,
            source=TABLE,
        )
        for (country, parts, price, unit), count in sorted(
            merged.items(), key=lambda item: (item[0][0] or "", *item[0][1:])
        )
    ]
    return rows, alternative


def _api_rows(
    tally: Tally, rates: CreditRates, sender: str | None, options: SendOptions
) -> list[QuoteRow]:
    """Rows priced by the provider: one quote call per (country, parts) group."""
    rows: list[QuoteRow] = []
    for (country, parts), (count, e164, text) in tally.groups.items():
        try:
            cost = tally.provider.quote(Message(e164, text, sender, options=options))
        except SmsBridgeError as exc:
            tally.fail("quote-failed", str(exc), e164, count)
            continue
        amount, unit = rates.convert(tally.name, cost.amount, cost.unit)
        rows.append(
            QuoteRow(
                provider=tally.name,
                country=country,
                recipients=count,
                parts=parts,
                price_per_part=amount / parts if parts else amount,
                total=amount * count,
                unit=unit,
                source=PROVIDER_API,
            )
        )
    return rows


def _unit_notes(item: ProviderQuote, currency: str | None) -> list[str]:
    notes: list[str] = []
    if len(item.totals) > 1:
        notes.append(f"{item.provider}: total spans units {', '.join(item.totals)}; not compared")
    for unit in item.totals:
        if currency is not None and unit != currency:
            how = " (give CreditRates to value its credits)" if unit == CREDITS else ""
            notes.append(f"{item.provider}: prices in {unit} are not converted to {currency}{how}")
    return notes


def _rendered(batch: Batch) -> Iterator[tuple[str, str | TemplateError]]:
    for recipient in batch:
        try:
            yield recipient.number, batch.render(recipient)
        except TemplateError as exc:
            yield recipient.number, exc


def _unroutable(tally: Tally) -> tuple[Unroutable, ...]:
    return tuple(
        Unroutable(provider=tally.name, reason=r, count=c, detail=d, examples=tuple(e))
        for r, (c, d, e) in tally.failed.items()
    )


def bridge_quote(
    bridge: ProviderGroup,
    message_or_batch: Message | Batch,
    providers: Sequence[str | Provider] | None = None,
    *,
    table: PriceTable | None,
    rates: CreditRates | None = None,
    currency: str | None = None,
    use_provider_api: bool = False,
    progress: Callable[[int], None] | None = None,
    progress_every: int = 10_000,
) -> Quote:
    """:func:`quote` through a bridge's own providers and default region.

    ``SmsBridge.quote`` delegates here.

    Args:
        bridge: The bridge whose providers compete.
        message_or_batch: What would be sent.
        providers: Names (or instances) of the bridge's providers to compare; all of
            them, in configured order, when ``None``.
        table: The price table (as for :func:`quote`).
        rates: Credit-to-money rates (as for :func:`quote`).
        currency: The unit totals are compared in (as for :func:`quote`).
        use_provider_api: Ask providers that can quote (as for :func:`quote`).
        progress: Called with the count of recipients quoted so far.
        progress_every: How many recipients between two progress calls.

    Returns:
        The :class:`Quote`.

    Raises:
        ConfigurationError: A named provider is not one of the bridge's.
    """
    chosen: list[Provider] = list(bridge.providers)
    if providers is not None:
        by_name = {p.name: p for p in bridge.providers}
        chosen = []
        for item in providers:
            name = item if isinstance(item, str) else item.name
            if name not in by_name:
                raise ConfigurationError(
                    f"{name!r} is not one of the bridge's providers ({', '.join(by_name)})"
                )
            chosen.append(by_name[name])
    return quote(
        message_or_batch,
        chosen,
        table=table,
        rates=rates,
        currency=currency,
        region=bridge.normalise.region,
        use_provider_api=use_provider_api,
        progress=progress,
        progress_every=progress_every,
    )
