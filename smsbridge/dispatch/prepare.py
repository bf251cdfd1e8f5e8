"""What the application hands over, turned into outbox items: one way for every path.

References are the idempotency key: :meth:`SmsBridge.send`, :meth:`SmsBridge.
iter_send_batch` and :func:`smsbridge.worker.enqueue` must give the same input the same
references, or a message written by one and resent by another goes out twice. So all of
them prepare their input here. Numbers are normalised to E.164; an invalid number or a
template error becomes that recipient's result and is never written; a number repeated
in a message is dropped here, and one repeated in a batch is dropped by the store (it
knows the batch's numbers, so no process has to hold them all).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import attrs

from smsbridge.errors import InvalidNumberError, SmsBridgeError, TemplateError
from smsbridge.model import Batch, Message, SendOptions
from smsbridge.numbers import NumberNormaliser
from smsbridge.outbox.base import NewItem
from smsbridge.outbox.codec import CodecError
from smsbridge.results import SendResult
from smsbridge.status import Status

from .items import RowOptions, references_for, stored_options

__all__ = ["PreparedMessage", "batch_entries", "prepare_message", "refused", "send_arguments"]


def refused(number: str, reference: str, exc: SmsBridgeError) -> SendResult:
    """The result of a recipient refused before anything was written."""
    status = Status.INVALID_NUMBER if isinstance(exc, InvalidNumberError) else Status.REJECTED
    return SendResult(number, status, reference=reference, error=exc.info(), attempts=0)


@attrs.frozen(kw_only=True)
class PreparedMessage:
    """A message's recipients as outbox items.

    Args:
        items: One item per distinct valid number, in ``message.to`` order.
        refused: Results of refused recipients, by their position in ``message.to``.
        duplicates: Recipients dropped because their number came earlier.
        reference: The message reference used (given or new).
    """

    items: tuple[NewItem, ...]
    refused: dict[int, SendResult]
    duplicates: int
    reference: str


def prepare_message(
    message: Message, normalise: NumberNormaliser, reference: str
) -> PreparedMessage:
    """Prepare one message (any number of recipients).

    Args:
        message: The message as the application gave it.
        normalise: The number normaliser (default region, strictness).
        reference: The message's reference (``message.reference`` or a new one).

    Returns:
        The items, the refused recipients and the count of repeated numbers.
    """
    valid: list[str] = []
    rejected: dict[int, SendResult] = {}
    seen: set[str] = set()
    duplicates = 0
    for index, number in enumerate(message.to):
        try:
            e164 = normalise(number)
        except InvalidNumberError as exc:
            rejected[index] = refused(number, reference, exc)
            continue
        if e164 in seen:
            duplicates += 1
            continue
        seen.add(e164)
        valid.append(e164)
    if not valid:
        return PreparedMessage(
            items=(), refused=rejected, duplicates=duplicates, reference=reference
        )
    references = references_for(reference, len(valid))
    options = stored_options(message.options, message.template, message.variables)
    batch = reference if len(references) > 1 else None
    items = tuple(
        NewItem(
            reference=item_reference,
            recipient=number,
            body=message.body,
            sender=message.sender,
            options=options,
            batch=batch,
        )
        for item_reference, number in zip(references, valid, strict=True)
    )
    return PreparedMessage(
        items=items, refused=rejected, duplicates=duplicates, reference=reference
    )


def batch_entries(
    batch: Batch, normalise: NumberNormaliser, prefix: str
) -> Iterator[NewItem | SendResult]:
    """Prepare a batch lazily: an item, or the refused result, per recipient.

    Recipient ``i`` (1-based) gets ``recipient.reference`` or ``"<prefix>-<i>"``. Repeated
    numbers are left for the store to drop (:attr:`~smsbridge.outbox.AddResult.
    duplicates`).

    Args:
        batch: The batch.
        normalise: The number normaliser.
        prefix: The batch reference (``batch.reference`` or a new one).

    Yields:
        One entry per recipient, in batch order.
    """
    shared = RowOptions(batch.options, batch.template)
    for index, recipient in enumerate(batch, start=1):
        reference = recipient.reference or f"{prefix}-{index}"
        try:
            e164 = normalise(recipient.number)
            body = batch.render(recipient)
            options, encoded = shared.row(recipient.variables)
        except (InvalidNumberError, TemplateError, CodecError) as exc:
            # A value the outbox cannot store fails its own row, not the batch.
            yield refused(recipient.number, reference, exc)
            continue
        yield NewItem(
            reference=reference,
            recipient=e164,
            body=body,
            sender=batch.sender,
            options=options,
            batch=prefix,
            options_json=encoded,
        )


def send_arguments(
    message: Message | str | list[str] | tuple[str, ...],
    body: str | None,
    sender: str | None,
    reference: str | None,
    options: SendOptions | None,
) -> tuple[Callable[[], Message], bool]:
    """Read ``send``'s two forms, ``send(Message)`` and ``send(to, body, ...)``, the same
    way for both bridges.

    Returns:
        What builds the message (the async bridge builds it on a worker thread), and
        whether a lone recipient's result is returned alone (not in a batch result).

    Raises:
        TypeError: For a ``Message`` given with direct-form arguments, or no body.
    """
    if isinstance(message, Message):
        if any(value is not None for value in (body, sender, reference, options)):
            raise TypeError("send(Message) takes no body, sender, reference or options")
        given = message
        return (lambda: given), len(message.to) == 1
    if body is None:
        raise TypeError("send(to, body): the body is missing")
    to, text = message, body

    def build() -> Message:
        return Message(to, text, sender, reference, options=options or SendOptions())

    return build, isinstance(message, str)
