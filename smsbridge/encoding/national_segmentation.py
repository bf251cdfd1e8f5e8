"""Segmentation when the route applies national language tables (TS 23.038 annex A).

:func:`segment_national` is what :func:`smsbridge.segment` runs when ``national_languages``
is not empty.  It first segments the text as it would without tables (GSM-7, the
transliteration if asked for, or UCS-2), then looks at every pair of a locking shift
table (the default alphabet or an allowed language's) and a single shift table (the
default extension table or an allowed language's) that carries the whole text.  A pair
wins with strictly fewer parts; with ``transliterate`` on, also at equal parts against
UCS-2 or a transliteration, since it is 7-bit and leaves the text as written.  Among
pairs: the fewest parts, then the fewest tables, then the fewest septets, then the order
the languages were given in.  Each table costs its 3-octet IE in every part's UDH (see
:mod:`.udh`), which the part count accounts for.

Parts are filled greedily as in plain GSM-7: a character costs one septet from the
locking table or two (ESC and its code) from the single shift table, and a two-septet
character that does not fit starts the next part whole.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Set
from functools import cache, lru_cache
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


# Septets of one part, and of each part of several, by the number of shift IEs.
_CAPACITY: Final = {n: (septet_capacity(n, False), septet_capacity(n, True)) for n in (1, 2)}


def _split(
    text: str, missing: Set[str], single: int, multi: int, septets: int
) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Greedy split: each part takes as many whole characters as fit.

    ``missing`` holds the characters of ``text`` that cost two septets.  The cut is made
    on a copy with ESC before each of them, so that positions are septets; a cut that
    would separate an ESC from its character moves back by one.
    """
    if not text:
        return _NO_TEXT
    if septets <= single:
        return (text,), (septets,)
    if not missing:
        parts = tuple(text[i : i + multi] for i in range(0, len(text), multi))
        return parts, tuple(map(len, parts))
    # U+001B is in no table, so it cannot already be in a text that got this far.
    spelled = text.translate({ord(c): "\x1b" + c for c in missing})
    out: list[str] = []
    sizes: list[int] = []
    start = pos = 0
    while start < septets:
        end = start + multi
        if end >= septets:
            end = septets
        elif spelled[end - 1] == "\x1b":
            end -= 1
        length = end - start - spelled.count("\x1b", start, end)
        out.append(text[pos : pos + length])
        sizes.append(end - start)
        pos += length
        start = end
    return tuple(out), tuple(sizes)


@cache
def _candidates(
    codes: tuple[str, ...],
) -> tuple[tuple[frozenset[str], frozenset[str], tuple[Charset, ...]], ...]:
    """The pairs the languages allow, grouped by locking table: the locking table's
    characters, every character its pairs reach through ESC, and the pairs."""
    lockings: list[str | None] = [None]
    lockings += [c for c in codes if NATIONAL_LANGUAGES[c].locking is not None]
    singles: list[str | None] = [None, *codes]
    groups = []
    for locking in lockings:
        pairs = tuple(charset(locking, single) for single in singles)
        escaped = frozenset().union(*(chars.escaped_chars for chars in pairs))
        groups.append((charset(locking).direct_chars, escaped, pairs))
    return tuple(groups)


@cache
def _reachable(codes: tuple[str, ...]) -> frozenset[str]:
    """Every character some allowed pair of tables carries."""
    out: set[str] = set()
    for _, _, pairs in _candidates(codes):
        for chars in pairs:
            out |= chars.direct_chars | chars.escaped_chars
    return frozenset(out)


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
    pairs = _viable(frozenset(text), codes)
    if not pairs:
        return None
    size = len(text)
    counts = Counter(text) if pairs[-1][2] else None
    ranked: list[tuple[int, int, int, int, Charset, frozenset[str]]] = []
    for order, chars, missing in pairs:
        septets = size
        if missing:
            assert counts is not None
            septets += sum(counts[c] for c in missing)
        tables = chars.tables
        single, multi = _CAPACITY[tables]
        # A lower bound on the parts, so that only the promising pairs are split.
        bound = 1 if septets <= single else -(-septets // multi)
        ranked.append((bound, tables, septets, order, chars, missing))
    ranked.sort(key=lambda v: v[:4])
    best: tuple[tuple[int, int, int, int], TableChoice] | None = None
    for bound, tables, septets, order, chars, missing in ranked:
        if best is not None and (bound, tables, septets, order) >= best[0]:
            break  # sorted by a lower bound of the key: no later pair can do better
        parts, sizes = _split(text, missing, *_CAPACITY[tables], septets)
        key = (len(parts), tables, septets, order)
        if best is None or key < best[0]:
            best = (key, TableChoice(chars, septets, parts, sizes))
    return None if best is None else best[1]


@lru_cache(maxsize=4096)
def _viable(
    used: frozenset[str], codes: tuple[str, ...]
) -> tuple[tuple[int, Charset, frozenset[str]], ...]:
    """The pairs that carry every character of ``used``: (preference order, pair, the
    characters that cost two septets), those without such characters first.

    Cached by character set: texts from one template share it, and this is the costly
    part of the choice.
    """
    if not used <= _reachable(codes):
        return ()  # Cyrillic, CJK, emoji...: no table helps, decided in one set test
    found: list[tuple[int, Charset, frozenset[str]]] = []
    order = 0
    for direct, reach, pairs in _candidates(codes):
        missing = frozenset(used - direct)
        if not missing <= reach:
            order += len(pairs)
            continue  # no pair with this locking table carries the text
        for chars in pairs:
            order += 1
            if chars.locking is None and chars.single is None:
                continue  # plain GSM-7: the caller's baseline, not a national choice
            if missing <= chars.escaped_chars:
                found.append((order, chars, missing))
                if not missing:
                    break  # more tables cannot lower the septets of this locking table
    found.sort(key=lambda item: bool(item[2]))
    return tuple(found)


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
    # Every character costs a septet at least and a table costs its IE, so no pair can
    # need fewer parts than this; plain GSM-7 text without extension characters, the
    # common case, stops here.
    length = len(text)
    single, multi = _CAPACITY[1]
    bound = 1 if length <= single else -(-length // multi)
    if not base.parts or bound > base.part_count or (bound == base.part_count and not tie_wins):
        return base
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
