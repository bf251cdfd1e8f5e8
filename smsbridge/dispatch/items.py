"""What an outbox item stands for: its reference, its message, its stored options.

A message to several recipients becomes one item per recipient; these functions go from
the message to the items (:func:`item_references`, :func:`stored_options`) and back
(:func:`item_message`), in one place so every path agrees on the mapping.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from typing import Any

import attrs

from smsbridge.errors import InvalidMessageError
from smsbridge.model import Message, SendOptions, Template
from smsbridge.outbox import codec
from smsbridge.outbox.base import OutboxItem

__all__ = [
    "TEMPLATE_KEY",
    "VARIABLES_KEY",
    "RowOptions",
    "item_message",
    "item_references",
    "stored_options",
]

# An outbox item stores a text, not a template; for platforms that send only templates
# the template and its values ride along in these reserved keys of ``options.extra``.
TEMPLATE_KEY = "smsbridge_template"
VARIABLES_KEY = "smsbridge_variables"


def stored_options(
    options: SendOptions, template: Template | None, variables: Mapping[str, Any]
) -> SendOptions:
    """``options`` as an outbox item keeps them, with the template folded in."""
    if template is None:
        return options
    extra = dict(options.extra)
    extra[TEMPLATE_KEY] = {"text": template.text, "provider_ids": dict(template.provider_ids)}
    extra[VARIABLES_KEY] = dict(variables)
    return attrs.evolve(options, extra=extra)


class RowOptions:
    """A batch's stored options, recipient by recipient, with the shared part built and
    encoded once.

    A template batch's rows differ only in their values (``options.extra``'s
    :data:`VARIABLES_KEY`): the batch's options are encoded once with a marker where the
    values go, and each row's JSON is that text around its own values, identical to
    encoding the row's options whole.

    Args:
        options: The batch's options.
        template: The batch's template, if any.
    """

    _MARK = "\x00smsbridge-row-values\x00"

    def __init__(self, options: SendOptions, template: Template | None) -> None:
        self.template = template
        self.shared = stored_options(options, template, {})
        self._around: tuple[str, str] | None = None
        if template is not None:
            marked = attrs.evolve(
                self.shared, extra={**self.shared.extra, VARIABLES_KEY: self._MARK}
            )
            encoded = codec.options_to_json(marked)
            mark = codec.dumps(self._MARK)
            if encoded.count(mark) == 1:
                head, tail = encoded.split(mark)
                self._around = (head, tail)

    def row(self, variables: Mapping[str, Any]) -> tuple[SendOptions, str | None]:
        """A recipient's stored options, and their JSON when it was built here.

        Raises:
            CodecError: For a value the outbox cannot store.
        """
        if self.template is None:
            return self.shared, None
        values = dict(variables)
        options = attrs.evolve(self.shared, extra={**self.shared.extra, VARIABLES_KEY: values})
        if self._around is None:
            return options, None
        head, tail = self._around
        return options, head + codec.dumps(values) + tail


_MAX_REFERENCE = 64


def item_references(message: Message) -> list[str]:
    """The outbox references of a message's recipients, in ``message.to`` order.

    One recipient keeps the message reference; several get ``"<reference>-<i>"``
    (0-based), shortened through a hash when that would exceed 64 characters.

    Args:
        message: A prepared message (reference set).

    Returns:
        One reference per recipient.

    Raises:
        InvalidMessageError: When the message has no reference (it is not prepared).
    """
    reference = message.reference
    if reference is None:
        raise InvalidMessageError(
            "a dispatched message needs a client reference", field="reference", value=None
        )
    return references_for(reference, len(message.to))


def references_for(reference: str, count: int) -> list[str]:
    """:func:`item_references` of a message with ``reference`` and ``count`` recipients."""
    if count == 1:
        return [reference]
    suffix_room = len(str(count - 1)) + 1
    stem = reference
    if len(stem) + suffix_room > _MAX_REFERENCE:
        stem = hashlib.sha256(reference.encode("utf-8")).hexdigest()[:32]
    return [f"{stem}-{index}" for index in range(count)]


def item_message(item: OutboxItem) -> Message:
    """The one-recipient message an outbox item stands for.

    Args:
        item: The item.

    Returns:
        A message to ``item.recipient`` carrying the item's reference.
    """
    options = item.options
    template: Template | None = None
    variables: Mapping[str, Any] = {}
    stored = options.extra.get(TEMPLATE_KEY)
    if isinstance(stored, Mapping):
        extra = dict(options.extra)
        del extra[TEMPLATE_KEY]
        raw = extra.pop(VARIABLES_KEY, {})
        variables = raw if isinstance(raw, Mapping) else {}
        template = _template(str(stored["text"]), stored.get("provider_ids") or {})
        options = attrs.evolve(options, extra=extra)
    return Message(
        to=(item.recipient,),
        body=item.body,
        sender=item.sender,
        reference=item.reference,
        options=options,
        template=template,
        variables=variables,
    )


def _template(text: str, provider_ids: Mapping[str, Any]) -> Template:
    """The template of a stored item: one value per batch, not one per recipient (a
    template checks its text when built, and a batch of a million shares one)."""
    try:
        key = tuple(sorted(provider_ids.items()))
        return _cached_template(text, key)
    except TypeError:  # an id that cannot be a key: build it as it is
        return Template(text, provider_ids=provider_ids)


@functools.lru_cache(maxsize=256)
def _cached_template(text: str, provider_ids: tuple[tuple[str, Any], ...]) -> Template:
    return Template(text, provider_ids=dict(provider_ids))
