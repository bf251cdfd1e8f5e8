"""What comes back: per-recipient send results, batch results, delivery reports."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import attrs

from smsbridge.errors import ErrorInfo
from smsbridge.status import Status

__all__ = ["BatchResult", "Cost", "DeliveryReport", "SendResult"]


def _decimal(value: Decimal | int | str) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


@attrs.frozen(slots=True)
class Cost:
    """An amount of money or provider credits.

    Args:
        amount: Exact decimal amount.
        unit: An ISO 4217 currency code (``"EUR"``) or ``"credits"``.
    """

    amount: Decimal = attrs.field(converter=_decimal)
    unit: str = "credits"

    def __add__(self, other: Cost) -> Cost:
        if not isinstance(other, Cost):
            return NotImplemented
        if other.unit != self.unit:
            raise ValueError(f"cannot add {other.unit} to {self.unit}")
        return Cost(self.amount + other.amount, self.unit)

    def __mul__(self, factor: int | Decimal) -> Cost:
        return Cost(self.amount * factor, self.unit)

    def __str__(self) -> str:
        return f"{self.amount} {self.unit}"


_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _readonly(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if not value:
        return _EMPTY  # shared: the proxy is the only reference to its (empty) dict
    return MappingProxyType(dict(value))


@attrs.frozen(slots=True)
class SendResult:
    """The outcome of a send for one recipient.

    Args:
        recipient: The number it was sent to (E.164 once normalised; as given when the
            number itself was refused).
        status: Where the message stands.
        provider: The provider's registered name, or ``None`` when refused before any
            provider was involved.
        message_id: The provider's id for the message, for queries and reports.
        reference: The client reference (idempotency key).
        parts: Number of SMS parts billed or expected.
        cost: What the provider charged or quoted, when it said.
        error: What went wrong, for a failed or unknown outcome.
        attempts: How many submissions were made for this recipient.
    """

    recipient: str
    status: Status
    provider: str | None = attrs.field(default=None, kw_only=True)
    message_id: str | None = attrs.field(default=None, kw_only=True)
    reference: str | None = attrs.field(default=None, kw_only=True)
    parts: int | None = attrs.field(default=None, kw_only=True)
    cost: Cost | None = attrs.field(default=None, kw_only=True)
    error: ErrorInfo | None = attrs.field(default=None, kw_only=True)
    attempts: int = attrs.field(default=1, kw_only=True)

    @property
    def ok(self) -> bool:
        """True when the provider took the message and nothing has failed."""
        return self.status.is_success

    @property
    def number_invalid(self) -> bool:
        """True when the number itself is wrong (see :attr:`Status.number_invalid`)."""
        return self.status.number_invalid

    @classmethod
    def many(
        cls,
        recipients: Iterable[str],
        status: Status,
        *,
        provider: str | None,
        message_ids: Iterable[str | None],
        references: Iterable[str | None],
        parts: Iterable[int | None],
        attempts: int = 1,
    ) -> list[SendResult]:
        """One result per recipient of a request, sharing status, provider and attempts,
        without cost or error: the results ``SendResult(...)`` gives field by field.

        For providers answering a chunk of thousands of recipients at once: the objects
        are filled slot by slot instead of through ``__init__``, which costs about half.

        Raises:
            ValueError: The iterables differ in length.
        """
        rows = zip(recipients, message_ids, references, parts, strict=True)
        if cls is not SendResult:  # a subclass may add fields or checks
            return [
                cls(
                    number,
                    status,
                    provider=provider,
                    message_id=message_id,
                    reference=reference,
                    parts=part,
                    attempts=attempts,
                )
                for number, message_id, reference, part in rows
            ]
        new = object.__new__
        out: list[SendResult] = []
        append = out.append
        for number, message_id, reference, part in rows:
            result = new(cls)
            _set_recipient(result, number)
            _set_status(result, status)
            _set_provider(result, provider)
            _set_message_id(result, message_id)
            _set_reference(result, reference)
            _set_parts(result, part)
            _set_cost(result, None)
            _set_error(result, None)
            _set_attempts(result, attempts)
            append(result)
        return out


# The slot setters behind SendResult.many; a field added to SendResult must be set there
# too, which this check enforces at import.
if tuple(a.name for a in attrs.fields(SendResult)) != (
    "recipient", "status", "provider", "message_id", "reference", "parts", "cost", "error",
    "attempts",
):  # fmt: skip
    raise RuntimeError("SendResult.many must set every field of SendResult")
_set_recipient = SendResult.__dict__["recipient"].__set__
_set_status = SendResult.__dict__["status"].__set__
_set_provider = SendResult.__dict__["provider"].__set__
_set_message_id = SendResult.__dict__["message_id"].__set__
_set_reference = SendResult.__dict__["reference"].__set__
_set_parts = SendResult.__dict__["parts"].__set__
_set_cost = SendResult.__dict__["cost"].__set__
_set_error = SendResult.__dict__["error"].__set__
_set_attempts = SendResult.__dict__["attempts"].__set__


def _results_tuple(results: Iterable[SendResult]) -> tuple[SendResult, ...]:
    return tuple(results)


@attrs.frozen(slots=True)
class BatchResult:
    """The per-recipient results of a batch, with counts for a summary.

    Args:
        results: One :class:`SendResult` per recipient, in submission order.
        duplicates: Recipients dropped because the same number appeared earlier.
    """

    results: tuple[SendResult, ...] = attrs.field(converter=_results_tuple)
    duplicates: int = attrs.field(default=0, kw_only=True)

    def __iter__(self) -> Iterator[SendResult]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def __getitem__(self, index: int) -> SendResult:
        return self.results[index]

    @property
    def ok(self) -> bool:
        """True when every recipient's message was taken."""
        return all(result.ok for result in self.results)

    @property
    def accepted(self) -> tuple[SendResult, ...]:
        """Results whose message was taken."""
        return tuple(r for r in self.results if r.ok)

    @property
    def failed(self) -> tuple[SendResult, ...]:
        """Results whose message was not taken or failed."""
        return tuple(r for r in self.results if not r.ok)

    def counts(self) -> Mapping[Status, int]:
        """How many recipients ended in each status."""
        return MappingProxyType(dict(Counter(r.status for r in self.results)))

    def total_cost(self) -> dict[str, Cost]:
        """Summed cost per unit (currency or credits)."""
        totals: dict[str, Cost] = {}
        for result in self.results:
            if result.cost is not None:
                unit = result.cost.unit
                totals[unit] = totals[unit] + result.cost if unit in totals else result.cost
        return totals


@attrs.frozen(slots=True, kw_only=True)
class DeliveryReport:
    """A provider's later word on a message, in the unified vocabulary.

    Args:
        provider: The provider's registered name.
        message_id: The provider's message id the report is about.
        status: The unified status.
        provider_code: The raw status code the provider reported.
        provider_text: The provider's description, if any.
        recipient: The destination number, when the report carries it.
        reference: The client reference, when the report carries it.
        occurred_at: When the provider says the status was reached.
        received_at: When smsbridge received or fetched the report.
        part: For per-part reports, the part number (1-based).
        parts: For per-part reports, how many parts the message has.
        cost: A charge the report carried.
        error: Details for a failure.
        raw: The report's fields as received (never credentials).
        tenant_verified: The report named the account it belongs to and the provider
            checked that name against its own (Clickatell's ``api_id``). The receiver
            parks a report for a message it does not know yet only when this is true or
            the route's authentication is specific to this deployment. Not stored.
    """

    provider: str
    message_id: str | None
    status: Status
    provider_code: str | None = None
    provider_text: str | None = None
    recipient: str | None = None
    reference: str | None = None
    occurred_at: datetime | None = None
    received_at: datetime | None = None
    part: int | None = None
    parts: int | None = None
    cost: Cost | None = None
    error: ErrorInfo | None = None
    raw: Mapping[str, Any] = attrs.field(default=_EMPTY, converter=_readonly)
    tenant_verified: bool = attrs.field(default=False, eq=False)
