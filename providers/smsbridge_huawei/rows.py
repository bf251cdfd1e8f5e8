"""Rows: one-recipient messages through one approved template, grouped into one request.

The durable dispatcher groups rows (one-recipient messages with their own reference and
template values) by :func:`request_key` and hands each group to
:meth:`~.provider.HuaweiProvider.send_rows`, which sends it as one batchSendDiffSms
request (a group per distinct value tuple), or one batchSendSms when every row has the
same values.

What a request carries once: ``from`` (the provider's channel), ``statusCallback`` and
``extend``; each ``smsContent`` group carries its template id and ``signature``. The key
holds the template id and the status callback URL:

* the template id, although the protocol lets groups of one request use different
  templates, so that a request-level refusal that comes from one template (a generic
  Chinese mainland template sent without signature) cannot sink another template's rows;
* ``from`` and ``signature`` come from the provider's options, equal for every row;
* ``extend`` cannot be per row: a grouped request carries the first row's reference
  (``shared_row_reference``). Status reports of every row then echo it as ``extend``,
  with the row's own ``smsMsgId`` and ``to``.

Template values, the number and the reference are per row and never part of the key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from smsbridge import InvalidMessageError, Message, SendResult, Status

from . import batch as planning
from .protocol import MAX_NUMBERS

__all__ = ["RowKey", "check_rows", "prepare_rows", "request_key", "template_id_for"]

PROVIDER = "huawei"


class RowKey(NamedTuple):
    """What the rows of one request must share."""

    template_id: str
    status_callback: str | None
    raw: tuple[tuple[str, str], ...] = ()


def template_id_for(message: Message, templates: Mapping[str, str]) -> str | None:
    """The approved template id ``message`` maps onto, by the rules of
    :func:`~.batch.plan_message`, or None when it maps onto none (or a malformed one).

    Args:
        message: The row.
        templates: The provider's free text -> template id option.
    """
    template = message.template
    if template is not None:
        found = template.provider_ids.get(PROVIDER)
        if found:
            return found
    chosen = message.options.extra.get(planning.EXTRA_TEMPLATE_ID) or templates.get(message.body)
    if isinstance(chosen, str) and 1 <= len(chosen) <= 32:
        return chosen
    return None


def request_key(
    message: Message, templates: Mapping[str, str], status_callback: str | None
) -> RowKey | None:
    """The template id and status callback URL of a row, None when it maps onto no
    template (then :meth:`~.provider.HuaweiProvider.send` refuses it, naming why).

    Args:
        message: The row.
        templates: The provider's ``templates`` option.
        status_callback: The provider's ``status_callback`` option, which a message's
            ``callback_url`` overrides.
    """
    template_id = template_id_for(message, templates)
    if template_id is None:
        return None
    raw = tuple(message.options.raw.get(PROVIDER, {}).items())
    return RowKey(template_id, message.options.callback_url or status_callback, raw)


def check_rows(
    messages: Sequence[Message], templates: Mapping[str, str], status_callback: str | None
) -> RowKey:
    """The rows' common key, after checking that they can go together.

    Raises:
        InvalidMessageError: A row with other than one recipient, more than 500 rows, or
            rows whose keys differ or are None (a caller's mistake: nothing is sent).
    """
    if len(messages) > MAX_NUMBERS:
        raise InvalidMessageError(
            f"one Huawei request carries at most {MAX_NUMBERS} rows",
            field="messages",
            value=len(messages),
            provider=PROVIDER,
        )
    key = request_key(messages[0], templates, status_callback)
    for message in messages:
        if len(message.to) != 1:
            raise InvalidMessageError(
                "a row has exactly one recipient",
                field="to",
                value=len(message.to),
                provider=PROVIDER,
            )
        if key is None or request_key(message, templates, status_callback) != key:
            raise InvalidMessageError(
                "rows sent together need equal request keys (template id, status callback)",
                field="messages",
                value=message.reference,
                provider=PROVIDER,
            )
    assert key is not None
    return key


def prepare_rows(
    messages: Sequence[Message],
    *,
    templates: Mapping[str, str],
    configured: Mapping[str, Any],
    signature: str | None,
) -> list[planning.Item | SendResult]:
    """Plan and check each row on its own: an :class:`~.batch.Item` ready to send, or a
    REJECTED result naming the variable (missing, too long, forbidden) or ``max_parts``.

    Each row keeps its own reference, never the shared ``extend``.
    """
    entries: list[planning.Item | SendResult] = []
    for message in messages:
        try:
            plan = planning.plan_message(message, templates=templates, configured=configured)
        except InvalidMessageError as exc:
            exc.provider = exc.provider or PROVIDER
            entries.append(
                SendResult(
                    message.to[0],
                    Status.REJECTED,
                    provider=PROVIDER,
                    reference=message.reference,
                    error=exc.info(),
                    attempts=0,
                )
            )
            continue
        entries.append(
            planning.prepare(
                plan,
                message.to[0],
                message.reference,
                {},
                options=message.options,
                signature=signature,
            )
        )
    return entries
