"""Billed parts: how many SMS parts a provider charges for one text to one destination.

Most providers bill the parts of the text as :func:`smsbridge.segment` splits it, with
the national language tables of the message and of the provider's route
(:func:`languages_for`). Some
count more than the text: Huawei bills the filled template, plus the signature in 【】
for the Chinese mainland, where every character counts one. A provider with its own rule
says so by defining ``billable_parts`` (see :class:`BillableParts`); quotes, least-cost
prices and the spend comparison all ask through :func:`parts_for`, so an estimate counts
parts exactly as the provider's bill does.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from smsbridge.encoding import segment
from smsbridge.model import SendOptions
from smsbridge.provider import Provider

__all__ = ["BillableParts", "has_own_rule", "languages_for", "parts_for"]


@runtime_checkable
class BillableParts(Protocol):
    """A provider whose billed parts are not simply the segmented text's parts."""

    def billable_parts(self, text: str, options: SendOptions, *, country: str | None) -> int:
        """The parts the provider bills for ``text`` sent with ``options`` to ``country``.

        Args:
            text: The text as the recipient would read it (a template already filled).
            options: The message's send options (forced encoding, transliteration).
            country: The destination's ISO region, ``None`` for non-geographic numbers;
                a rule may depend on it (Huawei counts the signature for ``CN``).

        Returns:
            The number of parts billed, at least 1.

        Raises:
            ValueError: The text cannot be sent in the forced encoding.
        """
        ...


def has_own_rule(provider: Provider) -> bool:
    """Whether ``provider`` counts its billed parts itself (defines ``billable_parts``)."""
    return callable(getattr(provider, "billable_parts", None))


def languages_for(provider: Provider, options: SendOptions) -> tuple[str, ...]:
    """The national language tables a message's parts are counted with through ``provider``.

    The message's own ``national_languages`` come first, then the ones the provider's
    route applies (its ``national_languages`` option or capability), without repeats.
    """
    route = provider.national_languages
    if not route:
        return options.national_languages
    return tuple(dict.fromkeys((*options.national_languages, *route)))


def parts_for(
    provider: Provider, text: str, options: SendOptions, *, country: str | None = None
) -> int:
    """The parts ``provider`` bills for ``text`` to a destination in ``country``.

    Args:
        provider: The provider; its ``billable_parts`` is used when it has one.
        text: The text (a template already filled for the recipient).
        options: The message's send options.
        country: The destination's ISO region, for rules that depend on it.

    Returns:
        The billed parts.

    Raises:
        ValueError: The text cannot be sent in the forced encoding.
    """
    if isinstance(provider, BillableParts):
        return int(provider.billable_parts(text, options, country=country))
    seg = segment(
        text,
        encoding=options.encoding,
        transliterate=options.transliterate,
        national_languages=languages_for(provider, options),
    )
    return seg.part_count
