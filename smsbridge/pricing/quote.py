"""Quotes: what a message or a batch would cost through each provider, before sending.

:func:`quote` streams the recipients once and keeps only counters per provider, country,
parts and price row, so a million-recipient batch is quoted in the memory of a few
hundred counters. The result types here are frozen values; :meth:`Quote.rows` flattens
them for CSV or JSON export.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import attrs

from smsbridge.encoding import UCS2, segment
from smsbridge.errors import ConfigurationError, InvalidNumberError, SmsBridgeError, TemplateError
from smsbridge.model import Batch, Message, SendOptions
from smsbridge.provider import Provider
from smsbridge.results import Cost

from .hints import HintTally, ProviderSaving, Substitution, SubstitutionHint, substitution
from .table import CREDITS, CreditRates, PriceEntry, PriceTable, locate

__all__ = ["PROVIDER_API", "TABLE", "ProviderQuote", "Quote", "QuoteRow", "Unroutable", "quote"]

#: ``source`` of a figure taken from a :class:`PriceTable`.
TABLE = "table"
#: ``source`` of a figure the provider's own quote operation returned.
PROVIDER_API = "provider-api"


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
    tallies = [_Tally(p, options, use_provider_api and p.capabilities.quote) for p in providers]
    hints = HintTally()
    if isinstance(message_or_batch, Message):
        body = message_or_batch.body
        pairs: Iterable[tuple[str, str | TemplateError]] = ((n, body) for n in message_or_batch.to)
    else:
        pairs = _rendered(message_or_batch)
    seen = _count(pairs, tallies, table, region, options, hints, progress, max(1, progress_every))
    notes: list[str] = []
    results: list[ProviderQuote] = []
    savings: list[ProviderSaving] = []
    for tally in tallies:
        rows, alternative = _table_rows(tally, rates)
        rows.extend(_api_rows(tally, rates, message_or_batch.sender, options))
        results.append(
            ProviderQuote(provider=tally.name, rows=tuple(rows), unroutable=tally.groups_failed())
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
# Distinct texts remembered for segmentation; a template that renders a new text for
# every recipient must not grow the cache without bound, so it is simply emptied.
_CACHE_LIMIT = 4096
_EXAMPLES = 5


@attrs.frozen(slots=True)
class _Text:
    parts: int
    ucs2: bool
    substitution: Substitution | None
    error: str | None = None


def _analyse(text: str, options: SendOptions) -> _Text:
    try:
        seg = segment(text, encoding=options.encoding, transliterate=options.transliterate)
    except ValueError as exc:
        return _Text(0, False, None, str(exc))
    found = substitution(text, seg, encoding=options.encoding, transliterate=options.transliterate)
    return _Text(seg.part_count, seg.encoding == UCS2, found)


class _Tally:
    """One provider's counters while recipients stream past."""

    __slots__ = ("api", "counts", "failed", "groups", "limit", "name", "provider", "unicode")

    def __init__(self, provider: Provider, options: SendOptions, api: bool) -> None:
        caps = provider.capabilities
        limits = [n for n in (caps.max_parts, options.max_parts) if n is not None]
        self.provider = provider
        self.name = provider.name
        self.limit = min(limits) if limits else None
        self.unicode = caps.unicode
        self.api = api
        # (country, parts, parts if transliterated, price row) -> recipients
        self.counts: dict[tuple[str | None, int, int, PriceEntry], int] = {}
        # (country, parts) -> [recipients, a representative number, its text]
        self.groups: dict[tuple[str | None, int], list[Any]] = {}
        # reason -> [recipients, first detail, example numbers]
        self.failed: dict[str, list[Any]] = {}

    def fail(self, reason: str, detail: str, number: str, count: int = 1) -> None:
        group = self.failed.get(reason)
        if group is None:
            self.failed[reason] = [count, detail, [number]]
            return
        group[0] += count
        if len(group[2]) < _EXAMPLES:
            group[2].append(number)

    def groups_failed(self) -> tuple[Unroutable, ...]:
        return tuple(
            Unroutable(provider=self.name, reason=r, count=c, detail=d, examples=tuple(e))
            for r, (c, d, e) in self.failed.items()
        )


def _count(
    pairs: Iterable[tuple[str, str | TemplateError]],
    tallies: list[_Tally],
    table: PriceTable | None,
    region: str | None,
    options: SendOptions,
    hints: HintTally,
    progress: Callable[[int], None] | None,
    every: int,
) -> int:
    """The streaming pass: one look at each recipient, counters only."""
    cache: dict[str, _Text] = {}
    seen = 0
    for number, text in pairs:
        seen += 1
        if progress is not None and seen % every == 0:
            progress(seen)
        if isinstance(text, TemplateError):
            for tally in tallies:
                tally.fail("template", text.message, number)
            continue
        info = cache.get(text)
        if info is None:
            if len(cache) >= _CACHE_LIMIT:
                cache.clear()
            info = cache[text] = _analyse(text, options)
        if info.error is not None:
            for tally in tallies:
                tally.fail("encoding", info.error, number)
            continue
        try:
            e164, country = locate(number, region)
        except InvalidNumberError as exc:
            for tally in tallies:
                tally.fail("invalid-number", exc.message, number)
            continue
        parts, found = info.parts, info.substitution
        alternative = parts
        if found is not None:
            hints.add(found)
            alternative = found.parts_transliterated
        for tally in tallies:
            if tally.limit is not None and parts > tally.limit:
                detail = f"{parts} parts; {tally.name} takes at most {tally.limit}"
                tally.fail("too-long", detail, number)
            elif info.ucs2 and not tally.unicode:
                tally.fail("no-unicode", f"{tally.name} cannot send UCS-2 text", number)
            elif tally.api:
                group = tally.groups.get((country, parts))
                if group is None:
                    tally.groups[(country, parts)] = [1, e164, text]
                else:
                    group[0] += 1
            else:
                entry = table.price(tally.name, e164, country=country) if table else None
                if entry is None:
                    tally.fail("no-price", f"no price for {e164} ({country or '?'})", number)
                else:
                    key = (country, parts, alternative, entry)
                    tally.counts[key] = tally.counts.get(key, 0) + 1
    if progress is not None:
        progress(seen)
    return seen


def _table_rows(tally: _Tally, rates: CreditRates) -> tuple[list[QuoteRow], Decimal]:
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
    tally: _Tally, rates: CreditRates, sender: str | None, options: SendOptions
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
