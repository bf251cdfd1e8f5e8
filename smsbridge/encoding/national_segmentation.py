"""Segmentation when the route applies national language tables (TS 23.038 annex A).

:func:`segment_national` is what :func:`smsbridge.segment` runs when ``national_languages``
is not empty.  It first segments the text as it would without tables (GSM-7, the
transliteration if asked for, or UCS-2), then looks at every pair of a locking shift
table (the default alphabet or an allowed language's) and a single shift table (the
default extension table or an allowed language's) that carries the whole text.  A pair
wins with strictly fewer parts; with ``transliterate`` on, also at equal parts against
UCS-2 or a transliteration, since it is 7-bit and leaves the text as written.  Among
pairs: the fewest parts, then the fewest tables, then the fewest septets, then the order
the languages were given in.  Each table
costs its 3-octet IE in every part's UDH (see :mod:`.udh`), which the part count
accounts for.

Parts are filled greedily as in plain GSM-7: a character costs one septet from the
locking table or two (ESC and its code) from the single shift table, and a two-septet
character that does not fit starts the next part whole.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Final

import attrs

from .national import NATIONAL_LANGUAGES, Charset, charset, resolve_languages
from .segmentation import GSM7, UCS2, Encoding, NationalSegmentation, Segmentation, segment
from .udh import septet_capacity

__all__ = ["TableChoice", "choose_tables", "segment_national"]

_NO_TEXT: Final[tuple[tuple[str, ...], tuple[int, ...]]] = ((), ())


@attrs.frozen
class TableChoice:
    """The cheapest pair of national tables for a text, and its parts.

    Attributes:
        charset: The pair of tables (at least one national).
        septets: Septets of the whole text with this pair.
        parts: The substrings, one per part.
        sizes: Septets of each part.
    """

    charset: Charset
    septets: int
    parts: tuple[str, ...]
    sizes: tuple[int, ...]


def _split(
    text: str, escaped: Mapping[str, int], single: int, multi: int, septets: int
) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Greedy split: each part takes as many whole characters as fit."""
    if not text:
        return _NO_TEXT
    if septets <= single:
        return (text,), (septets,)
    parts: list[str] = []
    sizes: list[int] = []
    start = used = 0
    for index, char in enumerate(text):
        cost = 2 if char in escaped else 1
        if used + cost > multi:
            parts.append(text[start:index])
            sizes.append(used)
            start, used = index, 0
        used += cost
    parts.append(text[start:])
    sizes.append(used)
    return tuple(parts), tuple(sizes)


def choose_tables(text: str, languages: Iterable[str]) -> TableChoice | None:
    """The pair of tables, at least one of them national, that needs the fewest parts.

    Args:
        text: The text.
        languages: Allowed language codes, in order of preference.

    Returns:
        The best pair with its parts, or ``None`` when no pair carries every character.

    Raises:
        ValueError: A language code is unknown.
    """
    codes = resolve_languages(languages)
    counts = Counter(text)
    lockings: list[str | None] = [None]
    lockings += [c for c in codes if NATIONAL_LANGUAGES[c].locking is not None]
    singles: list[str | None] = [None, *codes]
    best: tuple[tuple[int, int, int, int], TableChoice] | None = None
    order = 0
    for locking in lockings:
        direct = charset(locking).direct
        missing = [c for c in counts if c not in direct]
        extra = sum(counts[c] for c in missing)
        for single in singles:
            order += 1
            if locking is None and single is None:
                continue  # plain GSM-7: the caller's baseline, not a national choice
            chars = charset(locking, single)
            escaped = chars.escaped
            if any(c not in escaped for c in missing):
                continue
            septets = len(text) + extra
            tables = chars.tables
            lower = septet_capacity(tables, True)
            # A lower bound on the parts prunes most pairs before any splitting.
            bound = 1 if septets <= septet_capacity(tables, False) else -(-septets // lower)
            if best is not None and (bound, tables) > best[0][:2]:
                continue
            parts, sizes = _split(text, escaped, septet_capacity(tables, False), lower, septets)
            key = (len(parts), tables, septets, order)
            if best is None or key < best[0]:
                best = (key, TableChoice(chars, septets, parts, sizes))
    return None if best is None else best[1]


def segment_national(
    text: str, languages: Iterable[str], forced: Encoding | None, transliterate: bool
) -> Segmentation:
    """:func:`smsbridge.segment` with national language tables allowed.

    Args:
        text: The message body.
        languages: Allowed language codes (``national_languages``), in order of preference.
        forced: The forced encoding, if any.  Forcing UCS-2 leaves the tables unused;
            forcing GSM-7 uses them whenever the text needs them.
        transliterate: As for :func:`smsbridge.segment`; the tables are tried on the
            original text and win over a transliteration with as few parts or fewer.

    Returns:
        The :class:`Segmentation`, naming the tables in ``locking_shift`` and
        ``single_shift`` when it uses any.

    Raises:
        ValueError: A language code is unknown, or GSM-7 was forced and neither plain
            GSM-7 nor any pair of the allowed tables carries the text.
    """
    codes = resolve_languages(languages)
    if forced == UCS2:
        return segment(text, encoding=UCS2)
    try:
        base = segment(text, encoding=forced, transliterate=transliterate)
    except ValueError:
        # GSM-7 forced on text plain GSM-7 cannot carry: only the tables can help.
        choice = choose_tables(text, codes)
        if choice is None:
            raise
        return _national(text, choice)
    # With transliteration asked for, 7-bit is wanted over UCS-2, and tables that carry
    # the text unchanged beat replacing its characters: a tie in parts goes to them.
    tie_wins = transliterate and (base.encoding == UCS2 or bool(base.replaced))
    if not base.parts or (base.part_count == 1 and not tie_wins):
        return base  # nothing has fewer parts
    choice = choose_tables(text, codes)
    if choice is None:
        return base
    parts = len(choice.parts)
    if parts < base.part_count or (tie_wins and parts == base.part_count):
        return _national(text, choice)
    return base


def _national(text: str, choice: TableChoice) -> Segmentation:
    chars = choice.charset
    return NationalSegmentation(
        encoding=GSM7,
        units=choice.septets,
        parts=choice.parts,
        units_per_part=choice.sizes,
        text=text,
        locking_shift=chars.locking,
        single_shift=chars.single,
    )
