"""The streaming pass of a quote: one look at each recipient, counters only.

:func:`count` reads ``(number, text)`` pairs once and leaves in each provider's
:class:`Tally` counters keyed by country, billed parts and price row, plus the groups a
provider's own quote operation will be asked about and the recipients it cannot carry.
Nothing per recipient is kept, so the memory used does not grow with the batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Final

import attrs

from smsbridge.encoding import UCS2, segment
from smsbridge.errors import InvalidNumberError, TemplateError
from smsbridge.model import Batch, Message, SendOptions
from smsbridge.provider import Provider

from .hints import HintTally, Substitution, substitution
from .locate import locate
from .parts import has_own_rule, languages_for, parts_for
from .table import PriceEntry, PriceTable

__all__ = ["Tally", "count"]

# Distinct texts remembered for segmentation; a template that renders a new text for
# every recipient must not grow the cache without bound, so it is simply emptied.
CACHE_LIMIT: Final = 4096
_EXAMPLES: Final = 5


@attrs.frozen(slots=True)
class _Text:
    parts: int
    ucs2: bool
    substitution: Substitution | None
    error: str | None = None


def _analyse(text: str, options: SendOptions) -> _Text:
    try:
        seg = segment(
            text,
            encoding=options.encoding,
            transliterate=options.transliterate,
            national_languages=options.national_languages,
        )
    except ValueError as exc:
        return _Text(0, False, None, str(exc))
    found = substitution(text, seg, encoding=options.encoding, transliterate=options.transliterate)
    return _Text(seg.part_count, seg.encoding == UCS2, found)


class Tally:
    """One provider's counters while recipients stream past.

    Args:
        provider: The provider.
        options: The message's or batch's send options.
        api: Whether its own quote operation prices this quote.
        source: What is quoted, to decide once whether the provider takes it at all.
    """

    __slots__ = (
        "accepted",
        "api",
        "cache",
        "counts",
        "failed",
        "groups",
        "limit",
        "name",
        "options",
        "own_rule",
        "provider",
        "route_options",
        "source",
        "texts",
        "unicode",
    )

    def __init__(
        self, provider: Provider, options: SendOptions, api: bool, source: Message | Batch
    ) -> None:
        caps = provider.capabilities
        limits = [n for n in (caps.max_parts, options.max_parts) if n is not None]
        self.provider = provider
        self.name = provider.name
        self.options = options
        self.source = source
        self.limit = min(limits) if limits else None
        self.unicode = caps.unicode
        self.api = api
        self.own_rule = has_own_rule(provider)
        # A route with national tables of its own segments texts its own way.
        languages = languages_for(provider, options)
        self.route_options: SendOptions | None = None
        if languages != options.national_languages:
            self.route_options = attrs.evolve(options, national_languages=languages)
        self.texts: dict[str, _Text] = {}
        self.accepted: bool | None = None
        # (text, country) -> billed parts or the error, for providers with their own rule.
        self.cache: dict[tuple[str, str | None], int | str] = {}
        # (country, parts, parts if transliterated, price row) -> recipients
        self.counts: dict[tuple[str | None, int, int, PriceEntry], int] = {}
        # (country, parts) -> [recipients, a representative number, its text]
        self.groups: dict[tuple[str | None, int], list[Any]] = {}
        # reason -> [recipients, first detail, example numbers]
        self.failed: dict[str, list[Any]] = {}

    def fail(self, reason: str, detail: str, number: str, count: int = 1) -> None:
        """Count ``count`` recipients this provider cannot carry, for ``reason``."""
        group = self.failed.get(reason)
        if group is None:
            self.failed[reason] = [count, detail, [number]]
            return
        group[0] += count
        if len(group[2]) < _EXAMPLES:
            group[2].append(number)

    def accepts(self, e164: str, text: str) -> bool:
        """Whether the provider takes this message at all; decided on the first recipient.

        A template-only platform takes a template batch only when the template names
        its id for it; anything else is asked of the provider's own ``accepts``.
        """
        if self.accepted is None:
            source, caps = self.source, self.provider.capabilities
            if isinstance(source, Batch) and source.template is not None:
                scheduled = self.options.scheduled_at is not None
                self.accepted = (
                    not caps.template_only or self.name in source.template.provider_ids
                ) and (not scheduled or caps.scheduling)
            else:
                probe = Message(e164, text, source.sender, options=self.options)
                self.accepted = self.provider.accepts(probe)
        return self.accepted

    def analysed(self, text: str, shared: _Text) -> _Text:
        """The text's segmentation for this provider: the shared one, or redone with the
        national tables its route applies."""
        if self.route_options is None:
            return shared
        found = self.texts.get(text)
        if found is None:
            if len(self.texts) >= CACHE_LIMIT:
                self.texts.clear()
            found = self.texts[text] = _analyse(text, self.route_options)
        return found

    def parts(self, text: str, country: str | None, default: int) -> int | str:
        """Billed parts of ``text`` to ``country``, or the reason it cannot be sent."""
        if not self.own_rule:
            return default
        key = (text, country)
        found = self.cache.get(key)
        if found is None:
            if len(self.cache) >= CACHE_LIMIT:
                self.cache.clear()
            try:
                found = parts_for(self.provider, text, self.options, country=country)
            except (ValueError, TemplateError) as exc:
                found = str(exc)
            self.cache[key] = found
        return found


def count(
    pairs: Iterable[tuple[str, str | TemplateError]],
    tallies: list[Tally],
    table: PriceTable | None,
    region: str | None,
    options: SendOptions,
    hints: HintTally,
    progress: Callable[[int], None] | None,
    every: int,
) -> int:
    """Read every recipient once, filling the tallies; returns how many were read."""
    cache: dict[str, _Text] = {}
    # A provider whose route has tables of its own may carry a text the others cannot.
    routed = any(tally.route_options is not None for tally in tallies)
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
            if len(cache) >= CACHE_LIMIT:
                cache.clear()
            info = cache[text] = _analyse(text, options)
        if info.error is not None and not routed:
            for tally in tallies:
                tally.fail("encoding", info.error, number)
            continue
        try:
            e164, country = locate(number, region)
        except InvalidNumberError as exc:
            for tally in tallies:
                tally.fail("invalid-number", exc.message, number)
            continue
        found = info.substitution
        if found is not None:
            hints.add(found)
        for tally in tallies:
            mine = tally.analysed(text, info)
            if mine.error is not None:
                tally.fail("encoding", mine.error, number)
                continue
            alternative = mine.parts
            if mine.substitution is not None:
                alternative = mine.substitution.parts_transliterated
            _one(tally, table, number, e164, country, text, mine, alternative)
    if progress is not None:
        progress(seen)
    return seen


def _one(
    tally: Tally,
    table: PriceTable | None,
    number: str,
    e164: str,
    country: str | None,
    text: str,
    info: _Text,
    alternative: int,
) -> None:
    """Count one recipient for one provider."""
    if not tally.accepts(e164, text):
        tally.fail("not-accepted", f"{tally.name} does not take this message", number)
        return
    parts = tally.parts(text, country, info.parts)
    if isinstance(parts, str):
        tally.fail("encoding", parts, number)
        return
    if tally.own_rule:
        # The provider's own count has no transliterated alternative to offer.
        alternative = parts
    if tally.limit is not None and parts > tally.limit:
        tally.fail("too-long", f"{parts} parts; {tally.name} takes at most {tally.limit}", number)
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
