"""Rows: one-recipient messages that share their text and settings, sent as one ``sendmsg``.

The durable dispatcher hands over rows (one-recipient messages, each with its own client
reference) grouped by :func:`request_key`; :func:`send_rows` sends a group as one
``sendmsg`` POST of up to 300 destinations (:data:`~.protocol.MAX_DESTINATIONS`).

One ``sendmsg`` carries one ``climsgid``, so the rows share one client reference on the
wire: the first row's (the provider declares ``shared_row_reference``). What follows:

* ``querymsg climsgid=<first row's id>`` answers for the request, not for a row: the
  spec does not say which destination of a multi-destination message it describes (the
  emulator answers for the last destination accepted). It tells whether the gateway took
  the request, which is what a lookup after a lost answer needs;
* status callbacks of every row carry that ``cliMsgId`` with the row's own ``apiMsgId``
  and ``to``: reports are matched by message id (or by reference and recipient);
* each row's :class:`~smsbridge.SendResult` carries the row's own reference and the API
  message id of its destination, from the ``ID: x To: n`` / ``ERR: c, t To: n`` lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

from smsbridge import InvalidMessageError, Message, SendResult
from smsbridge.sdk import extras_key

from . import protocol as p
from .features import PROVIDER

if TYPE_CHECKING:
    from .provider import ClickatellProvider

__all__ = ["RowKey", "request_key", "send_rows"]


class RowKey(NamedTuple):
    """What one ``sendmsg`` carries once for all its destinations.

    Every field is an input of :meth:`~.provider.ClickatellProvider.message_fields` or of
    the checks before it (``flash``, ``max_parts``): rows with equal keys get the same
    request parameters and the same local verdict. The provider's own defaults
    (``callback``, ``mo``, ...) are the same for every row and are left out.
    """

    body: str
    sender: str | None
    scheduled_at: datetime | None
    validity: timedelta | None
    flash: bool
    max_parts: int | None
    encoding: str | None
    transliterate: bool
    callback: bool
    extras: tuple[tuple[str, str], ...]


def request_key(message: Message) -> RowKey:
    """The request-level settings of ``message``: its text, sender and options.

    The raw option values are kept (no segmentation, no wire formatting), so the key is
    cheap to compute for every row; two rows whose parameters would differ on the wire
    never get equal keys. Only whether a ``callback_url`` is set counts: the legacy API
    posts to the URL configured on the account, so the URL itself never travels.
    """
    options = message.options
    # Every extra and raw value Clickatell reads counts, so rows that would send
    # different parameters, or be refused differently, never share.
    extras = extras_key(options, provider=PROVIDER)
    return RowKey(
        message.body,
        message.sender,
        options.scheduled_at,
        options.validity,
        options.flash,
        options.max_parts,
        options.encoding,
        options.transliterate,
        options.callback_url is not None,
        extras,
    )


def check_rows(messages: Sequence[Message], provider: str) -> None:
    """Refuse a group that :func:`send_rows` cannot send as one request.

    Raises:
        InvalidMessageError: A row with more or fewer than one recipient, more than 300
            rows, or rows whose request keys differ (a caller's mistake: nothing is sent).
    """
    if len(messages) > p.MAX_DESTINATIONS:
        raise InvalidMessageError(
            f"one sendmsg carries at most {p.MAX_DESTINATIONS} rows",
            field="messages",
            value=len(messages),
            provider=provider,
        )
    key = request_key(messages[0])
    for message in messages:
        if len(message.to) != 1:
            raise InvalidMessageError(
                "a row has exactly one recipient",
                field="to",
                value=len(message.to),
                provider=provider,
            )
        if request_key(message) != key:
            raise InvalidMessageError(
                "rows sent together need equal request keys (text, sender, options)",
                field="messages",
                value=message.reference,
                provider=provider,
            )


def send_rows(provider: ClickatellProvider, messages: Sequence[Message]) -> list[SendResult]:
    """Send rows with equal request keys as one ``sendmsg``.

    A single row goes exactly as :meth:`~.provider.ClickatellProvider.send` sends it.

    Returns:
        One result per row, in order, with the row's reference and its destination's API
        message id (UNKNOWN when the answer does not mention the destination).

    Raises:
        InvalidMessageError: See :func:`check_rows`; also too many parts, an impossible
            encoding or schedule (the rows share them, so all are refused alike).
        SmsBridgeError: The request failed as a whole, as for ``send``.
    """
    if not messages:
        return []
    check_rows(messages, provider.name)
    first = messages[0]
    if len(messages) == 1:
        return provider.send(first)
    provider.check_options(first.options, datetime.now(UTC))
    seg = provider.segmentation(first.body, first.options)
    fields = provider.message_fields(
        seg, first.options, sender=first.sender, reference=first.reference
    )
    scheduled = any(name in p.SCHEDULING for name, _ in fields)
    wire = [p.wire_number(message.to[0]) for message in messages]
    text = provider.call("/http/sendmsg", [("to", ",".join(wire)), *fields], effects=True)
    lines = p.parse_send(text, wire)
    return [
        provider.line_result(
            message.to[0],
            line,
            reference=message.reference,
            parts=seg.part_count,
            scheduled=scheduled,
        )
        for message, line in zip(messages, lines, strict=True)
    ]
