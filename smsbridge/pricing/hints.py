"""The substitution hint: what a message would cost if a few characters were replaced.

One curly apostrophe pasted from a word processor switches a whole message to UCS-2,
which holds 70 characters a part instead of 160. When every character that forces UCS-2
has an obvious GSM-7 equivalent (see :data:`smsbridge.encoding.GSM_EQUIVALENTS`), a quote
shows which characters to change and what each provider would then charge. smsbridge
never changes the text by itself: that is the sender's call (``transliterate=True``).
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from smsbridge.encoding import GSM7, UCS2, Segmentation, segment
from smsbridge.results import Cost

__all__ = ["HintTally", "ProviderSaving", "Substitution", "SubstitutionHint", "substitution"]


@attrs.frozen(slots=True)
class Substitution:
    """What transliteration would change for one text.

    Args:
        parts: Parts the text takes as written (UCS-2).
        parts_transliterated: Parts it would take with the replacements (GSM-7).
        replaced: ``(character, replacement)`` pairs, in first-occurrence order.
    """

    parts: int
    parts_transliterated: int
    replaced: tuple[tuple[str, str], ...]


def substitution(
    text: str,
    segmentation: Segmentation | None = None,
    *,
    encoding: str | None = None,
    transliterate: bool = False,
) -> Substitution | None:
    """Whether ``text`` goes UCS-2 only because of characters with a GSM-7 equivalent.

    Args:
        text: The message text.
        segmentation: Its segmentation, if the caller already has it (saves a pass).
        encoding: The forced encoding of the message options; a forced encoding is the
            sender's explicit choice, so no hint is given.
        transliterate: The message's own transliterate option; when it is on, the text is
            already sent as GSM-7 and there is nothing to hint.

    Returns:
        The :class:`Substitution`, or ``None`` when no hint applies.
    """
    if transliterate or encoding is not None:
        return None
    seg = segmentation if segmentation is not None else segment(text)
    if seg.encoding != UCS2:
        return None
    alternative = segment(text, transliterate=True)
    if alternative.encoding != GSM7:
        return None  # some character has no equivalent: UCS-2 is needed anyway
    return Substitution(seg.part_count, alternative.part_count, alternative.replaced)


@attrs.frozen(slots=True)
class ProviderSaving:
    """One provider's total as the text stands and with the replacements.

    Args:
        provider: The provider's registered name.
        total: The quoted total (table-priced rows only).
        total_transliterated: The same recipients, priced with the transliterated parts.
    """

    provider: str
    total: Cost
    total_transliterated: Cost

    @property
    def saving(self) -> Cost:
        """How much the replacements would save."""
        return Cost(self.total.amount - self.total_transliterated.amount, self.total.unit)


@attrs.frozen(slots=True, kw_only=True)
class SubstitutionHint:
    """The quote's advice: replace these characters and pay this much less.

    Args:
        replaced: Distinct ``(character, replacement)`` pairs across all affected texts.
        recipients: How many recipients get a text the hint applies to.
        parts: Parts per message as written, summed over those recipients.
        parts_transliterated: The same with the replacements.
        savings: Per provider, the totals with and without the replacements.
    """

    replaced: tuple[tuple[str, str], ...]
    recipients: int
    parts: int
    parts_transliterated: int
    savings: tuple[ProviderSaving, ...] = ()

    def explain(self) -> str:
        """A few lines for a person: what to change and what it saves.

        Returns:
            Plain text, one line per provider saving.
        """
        chars = ", ".join(f"{a!r} (U+{ord(a):04X}) -> {b!r}" for a, b in self.replaced)
        lines = [
            f"{self.recipients} recipient(s) get UCS-2 text only because of: {chars}.",
            f"Replacing them: {self.parts} parts -> {self.parts_transliterated} parts "
            "(or send with transliterate=True).",
        ]
        lines.extend(
            f"  {s.provider}: {s.total} -> {s.total_transliterated} (saves {s.saving})"
            for s in self.savings
        )
        return "\n".join(lines)


@attrs.define
class HintTally:
    """Accumulates substitutions over a stream of recipients in constant memory.

    Only counts and the distinct replaced characters are kept; the replacement table is
    finite, so the set of pairs is bounded whatever the number of recipients.
    """

    recipients: int = 0
    parts: int = 0
    parts_transliterated: int = 0
    replaced: dict[tuple[str, str], None] = attrs.field(factory=dict)

    def add(self, found: Substitution, count: int = 1) -> None:
        """Count ``count`` recipients receiving a text with substitution ``found``."""
        self.recipients += count
        self.parts += found.parts * count
        self.parts_transliterated += found.parts_transliterated * count
        for pair in found.replaced:
            self.replaced.setdefault(pair, None)

    def hint(self, savings: Iterable[ProviderSaving] = ()) -> SubstitutionHint | None:
        """The hint for the quote, or ``None`` when no recipient was affected."""
        if not self.recipients:
            return None
        return SubstitutionHint(
            replaced=tuple(self.replaced),
            recipients=self.recipients,
            parts=self.parts,
            parts_transliterated=self.parts_transliterated,
            savings=tuple(savings),
        )
