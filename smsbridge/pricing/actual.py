"""Spend after the fact: what was estimated against what providers said they charged.

The outbox keeps, per recipient, the provider that carried the message, its status and
the charge the provider reported (in the send result, a delivery callback, or an answer
to a charge query such as Clickatell's ``getmsgcharge``). :func:`compare_spend` streams
those items once, prices each one from the table exactly as a quote would (same billed
parts, same rows), and sums estimate and actual per provider and unit. Messages that
were billed although they failed are listed, since that is money to claim back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Final

import attrs

from smsbridge.encoding import segment
from smsbridge.errors import InvalidNumberError, SmsBridgeError
from smsbridge.outbox.base import OutboxItem
from smsbridge.provider import Provider
from smsbridge.results import Cost, DeliveryReport
from smsbridge.status import Status

from .locate import locate
from .parts import parts_for
from .rates import CreditRates
from .table import PriceTable

__all__ = ["BilledFailure", "ProviderSpend", "SpendReport", "charge_reports", "compare_spend"]

_MAX_LISTED: Final = 1000


def _frozen_sums(value: Mapping[str, Decimal]) -> Mapping[str, Decimal]:
    return MappingProxyType(dict(value))


@attrs.frozen(slots=True, kw_only=True)
class BilledFailure:
    """A message the provider charged for although it failed.

    Args:
        reference: The outbox reference.
        recipient: The E.164 number.
        provider: Who charged.
        status: The failed final status.
        cost: What was charged.
        message_id: The provider's id, to quote when claiming the charge back.
    """

    reference: str
    recipient: str
    provider: str
    status: Status
    cost: Cost
    message_id: str | None = None


@attrs.frozen(slots=True, kw_only=True)
class ProviderSpend:
    """One provider's estimated and actual spend.

    Args:
        provider: The provider's registered name.
        items: Messages it carried (or was last asked to carry).
        estimated: Estimated spend per unit, from the price table.
        actual: Reported charges per unit (credits converted where a rate is given).
        reported: Messages with a reported charge.
        unpriced: Messages the table has no price for (left out of ``estimated``).
        billed_failures: Messages charged although they failed.
    """

    provider: str
    items: int
    estimated: Mapping[str, Decimal] = attrs.field(converter=_frozen_sums)
    actual: Mapping[str, Decimal] = attrs.field(converter=_frozen_sums)
    reported: int
    unpriced: int
    billed_failures: int

    def difference(self) -> dict[str, Decimal]:
        """Actual minus estimated, per unit (positive: billed more than expected)."""
        units = dict.fromkeys([*self.estimated, *self.actual])
        return {
            unit: self.actual.get(unit, Decimal(0)) - self.estimated.get(unit, Decimal(0))
            for unit in units
        }


@attrs.frozen(slots=True, kw_only=True)
class SpendReport:
    """Estimated against actual spend for every provider.

    Args:
        providers: Per provider, in order of first appearance.
        billed_failures: Failed but billed messages (the first 1,000; each provider's
            ``billed_failures`` has the full count).
    """

    providers: tuple[ProviderSpend, ...]
    billed_failures: tuple[BilledFailure, ...] = ()

    def __getitem__(self, provider: str) -> ProviderSpend:
        for item in self.providers:
            if item.provider == provider:
                return item
        raise KeyError(provider)

    def rows(self) -> Iterator[dict[str, Any]]:
        """One flat dict per provider and unit, for CSV or JSON (money as strings)."""
        for item in self.providers:
            for unit, diff in item.difference().items():
                yield {
                    "provider": item.provider,
                    "unit": unit,
                    "estimated": str(item.estimated.get(unit, Decimal(0))),
                    "actual": str(item.actual.get(unit, Decimal(0))),
                    "difference": str(diff),
                    "items": item.items,
                    "reported": item.reported,
                    "unpriced": item.unpriced,
                    "billed_failures": item.billed_failures,
                }


@attrs.define
class _Sums:
    items: int = 0
    reported: int = 0
    unpriced: int = 0
    failures: int = 0
    estimated: dict[str, Decimal] = attrs.field(factory=dict)
    actual: dict[str, Decimal] = attrs.field(factory=dict)


def _add(sums: dict[str, Decimal], unit: str, amount: Decimal) -> None:
    sums[unit] = sums.get(unit, Decimal(0)) + amount


def compare_spend(
    items: Iterable[OutboxItem],
    *,
    table: PriceTable,
    providers: Iterable[Provider] = (),
    rates: CreditRates | None = None,
    region: str | None = None,
) -> SpendReport:
    """Compare the table's estimate with the reported charges, per provider.

    Args:
        items: Outbox items, e.g. ``store.iter_items(batch=...)``; read once.
        table: The prices the estimate uses.
        providers: Provider instances whose own part-counting rules apply (see
            :func:`~smsbridge.pricing.parts_for`); others are counted by segmentation.
        rates: Credits-to-money rates, applied to estimate and actual alike.
        region: Default region for national numbers.

    Returns:
        The :class:`SpendReport`. Items never handed to a provider are skipped.
    """
    rates = rates if rates is not None else CreditRates({})
    known = {p.name: p for p in providers}
    sums: dict[str, _Sums] = {}
    flagged: list[BilledFailure] = []
    for item in items:
        if item.provider is None:
            continue
        tally = sums.setdefault(item.provider, _Sums())
        tally.items += 1
        estimate = _estimate(item, table, known.get(item.provider), rates, region)
        if estimate is None:
            tally.unpriced += 1
        else:
            _add(tally.estimated, estimate.unit, estimate.amount)
        cost = item.cost
        if cost is None:
            continue
        tally.reported += 1
        amount, unit = rates.convert(item.provider, cost.amount, cost.unit)
        _add(tally.actual, unit, amount)
        # A failed message that cost something is worth a claim; zero charges are not.
        if cost.amount > 0 and item.status is not None and item.status.is_failure:
            tally.failures += 1
            if len(flagged) < _MAX_LISTED:
                flagged.append(
                    BilledFailure(
                        reference=item.reference,
                        recipient=item.recipient,
                        provider=item.provider,
                        status=item.status,
                        cost=cost,
                        message_id=item.message_id,
                    )
                )
    return SpendReport(
        providers=tuple(
            ProviderSpend(
                provider=name,
                items=s.items,
                estimated=s.estimated,
                actual=s.actual,
                reported=s.reported,
                unpriced=s.unpriced,
                billed_failures=s.failures,
            )
            for name, s in sums.items()
        ),
        billed_failures=tuple(flagged),
    )


def _estimate(
    item: OutboxItem,
    table: PriceTable,
    provider: Provider | None,
    rates: CreditRates,
    region: str | None,
) -> Cost | None:
    """The table's price for one item, or ``None`` when the table cannot price it."""
    assert item.provider is not None
    try:
        e164, country = locate(item.recipient, region)
    except InvalidNumberError:
        return None
    entry = table.price(item.provider, e164, country=country)
    if entry is None:
        return None
    try:
        if provider is not None:
            parts = parts_for(provider, item.body, item.options, country=country)
        else:
            parts = _default_parts(item)
    except ValueError:
        return None
    amount, unit = rates.convert(item.provider, entry.price * parts, entry.unit)
    return Cost(amount, unit)


def _default_parts(item: OutboxItem) -> int:
    options = item.options
    return segment(
        item.body,
        encoding=options.encoding,
        transliterate=options.transliterate,
        national_languages=options.national_languages,
    ).part_count


def charge_reports(provider: Provider, items: Iterable[OutboxItem]) -> Iterator[DeliveryReport]:
    """Ask ``provider`` what it charged for each of its items that has no charge yet.

    For providers with a per-message charge query (Clickatell's ``charge`` method, which
    calls ``getmsgcharge``). Feed the reports to ``store.record_report`` so the outbox
    keeps the charge; a provider without such a query yields nothing.

    Args:
        provider: The provider to ask.
        items: Outbox items; only this provider's, with a message id and no cost, are
            asked about.

    Yields:
        One :class:`~smsbridge.DeliveryReport` per answered query (its ``cost`` set).
        A query that fails is skipped: the charge stays unknown, as before.
    """
    query = getattr(provider, "charge", None)
    if not callable(query):
        return
    for item in items:
        if item.provider != provider.name or item.message_id is None or item.cost is not None:
            continue
        try:
            report = query(message_id=item.message_id)
        except SmsBridgeError:
            continue
        if isinstance(report, DeliveryReport):
            yield attrs.evolve(report, reference=report.reference or item.reference)
