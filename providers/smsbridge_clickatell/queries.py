"""Questions asked of the gateway about messages and the account.

``querymsg``, ``getmsgcharge`` and ``delmsg`` (by API message id or client reference),
``getbalance``, ``routeCoverage`` and the quote built on it. The provider's methods of the
same names delegate here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from smsbridge import (
    Cost,
    DeliveryReport,
    InvalidMessageError,
    Message,
    MessageNotFoundError,
    ProviderError,
    Secret,
)
from smsbridge.sdk import Coverage

from . import protocol as p
from .codes import ERRORS, STATUSES

if TYPE_CHECKING:
    from .provider import ClickatellProvider

__all__ = ["balance", "cancel", "charge", "coverage", "query", "quote", "token_pay"]


def _target(message_id: str | None, reference: str | None) -> list[tuple[str, str]]:
    if (message_id is None) == (reference is None):
        raise InvalidMessageError(
            "give exactly one of message_id and reference", field="message_id"
        )
    if message_id is not None:
        return [("apimsgid", message_id)]
    assert reference is not None
    return [("climsgid", p.client_message_id(reference))]


def _report(
    provider: ClickatellProvider,
    message_id: str,
    status: str,
    reference: str | None,
    **extra: Any,
) -> DeliveryReport:
    outcome = STATUSES.lookup(status)
    return DeliveryReport(
        provider=provider.name,
        message_id=message_id,
        status=outcome.status,
        provider_code=status,
        provider_text=outcome.description,
        reference=reference,
        received_at=datetime.now(UTC),
        error=outcome.info(status) if outcome.is_error else None,
        **extra,
    )


# "Unknown API message ID" / "Unknown client message ID": after a lost answer, 104 for
# our own client reference means the gateway never took the message.
_NOT_FOUND = frozenset({"103", "104"})


@contextmanager
def _not_found() -> Iterator[None]:
    """Turn the gateway's "no such message" answers into MessageNotFoundError."""
    try:
        yield
    except MessageNotFoundError:
        raise
    except ProviderError as exc:
        if exc.code not in _NOT_FOUND:
            raise
        raise MessageNotFoundError(
            exc.message, code=exc.code, provider=exc.provider, scope=exc.scope, kind=exc.kind
        ) from None


def query(
    provider: ClickatellProvider, *, message_id: str | None, reference: str | None
) -> DeliveryReport:
    """The status of a message (``querymsg``); see :meth:`ClickatellProvider.query`.

    Raises:
        MessageNotFoundError: The gateway has no such message (ERR 103 / 104).
    """
    with _not_found():
        text = provider.call("/http/querymsg", _target(message_id, reference))
        api_id, status = p.parse_status(text, "querymsg")
    return _report(provider, api_id, status, reference)


def charge(
    provider: ClickatellProvider, *, message_id: str | None, reference: str | None
) -> DeliveryReport:
    """Status and charge of a message (``getmsgcharge``); the charge is ``cost``.

    Raises:
        MessageNotFoundError: The gateway has no such message (ERR 103 / 104).
    """
    with _not_found():
        text = provider.call("/http/getmsgcharge", _target(message_id, reference))
        info = p.parse_charge(text)
    return _report(
        provider,
        info.message_id or message_id or "",
        info.status,
        reference,
        cost=Cost(info.charge, "credits"),
    )


def cancel(
    provider: ClickatellProvider, *, message_id: str | None, reference: str | None
) -> DeliveryReport:
    """Stop a scheduled or queued message (``delmsg``)."""
    text = provider.call("/http/delmsg", _target(message_id, reference), effects=True)
    api_id, status = p.parse_status(text, "delmsg")
    return _report(provider, api_id, status, reference)


def balance(provider: ClickatellProvider) -> Cost:
    """The account's credit (``getbalance``)."""
    return Cost(p.parse_balance(provider.call("/http/getbalance", [])), "credits")


def token_pay(provider: ClickatellProvider, token: str | Secret) -> str:
    """Spend a voucher on the account (``token_pay``, spec 6.5).

    The voucher is as good as money, so it is handled like a credential: never shown in
    an error or a log.

    Returns:
        What the gateway answered after ``OK:`` (``605`` for a successful transaction).

    Raises:
        InvalidMessageError: ``field="token"``: not the 16 digits a voucher has.
        ProviderError: The gateway refused it.
    """
    value = token.reveal() if isinstance(token, Secret) else token
    if not isinstance(value, str) or len(value) != 16 or not value.isdigit():
        raise InvalidMessageError(
            "a Clickatell voucher is a 16-digit number",
            field="token",
            value=f"<{len(value) if isinstance(value, str) else type(value).__name__}>",
            provider=provider.name,
        )
    return p.parse_ok(
        provider.call("/http/token_pay", [("token", value)], effects=True), "token_pay"
    )


def coverage(provider: ClickatellProvider, number: str) -> Coverage:
    """Whether ``number``'s prefix is routed, and the charge per part."""
    text = provider.call("/utils/routeCoverage", [("msisdn", p.wire_number(number))])
    routable, charge, note = p.parse_coverage(text)
    cost = Cost(charge, "credits") if charge is not None else None
    return Coverage(number, routable, charge=cost, text=note)


def quote(provider: ClickatellProvider, message: Message) -> Cost:
    """The charge per part of each recipient's route times the message's parts.

    Raises:
        ProviderError: Code 114 for a recipient the gateway does not route.
    """
    parts = provider.segmentation(message.body, message.options).part_count
    total = Cost(0, "credits")
    seen: dict[str, Cost] = {}
    for number in message.to:
        if number not in seen:
            found = provider.coverage(number)
            if not found.routable or found.charge is None:
                raise ERRORS["114"].error(
                    "114", f"{number}: {found.text or 'not routable'}", provider=provider.name
                )
            seen[number] = found.charge
        total = total + seen[number] * parts
    return total
