"""Opt-in replacement of non-GSM characters by their obvious GSM equivalents.

One curly quote pasted from a word processor is enough to switch a message to UCS-2,
which cuts the per-part capacity from 160 to 70 and can triple the cost.  The table only
holds replacements a reader would not notice or would find natural; it never touches a
character that GSM-7 can already carry (é, ñ, ü, Ç, Å, Ø, ß, Greek capitals such as Δ).

Choices worth knowing:

* ``«`` and ``»`` become ``"`` (one character, reads as a quote) rather than ``<<``.
* Bullets ``•`` and ``‣`` become ``*``.
* Small ``ç`` becomes capital ``Ç``: GSM 03.38 only has the capital, and mapping to it is
  the convention the standard's own table notes.
* Zero-width characters (U+200B-U+200D, U+2060, U+FEFF) and the soft hyphen are
  removed, so the text may get shorter; ``…`` becomes ``...`` so it may also get longer.
* Greek capitals that look like Latin letters (``Α`` -> ``A``) are replaced, which
  together with the Greek capitals GSM-7 does have lets upper-case Greek go as GSM-7.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

__all__ = ["GSM_EQUIVALENTS", "transliterate"]


def _same(chars: str, replacement: str) -> dict[str, str]:
    return dict.fromkeys(chars, replacement)


def _pairwise(sources: str, targets: str) -> dict[str, str]:
    return dict(zip(sources, targets, strict=True))


_TABLE: Final[dict[str, str]] = {
    # Quotation marks and primes.
    **_same("\u2018\u2019\u201a\u201b\u2032\u2039\u203a\u00b4`", "'"),
    **_same("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'),
    # Hyphens and dashes, including the minus sign.
    **_same("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
    "\u2026": "...",
    # Spaces: no-break, en/em and the other typographic spaces, ideographic space.
    **_same("\u00a0\u202f\u205f\u3000" + "".join(map(chr, range(0x2000, 0x200B))), " "),
    # Invisible characters: zero width space/non-joiner/joiner, word joiner, BOM,
    # soft hyphen.  They carry no visible content, so dropping them is lossless to a reader.
    **_same("\u200b\u200c\u200d\u2060\ufeff\u00ad", ""),
    **_same("\u2022\u2023", "*"),
    "ç": "Ç",
    # Latin letters with accents GSM lacks -> base letter.
    **_pairwise("áâãāăą", "aaaaaa"),
    **_pairwise("ÁÂÃÀĀĂĄ", "AAAAAAA"),
    **_pairwise("êëēėęě", "eeeeee"),
    **_pairwise("ÈÊËĒĖĘĚ", "EEEEEEE"),
    **_pairwise("íîïīįı", "iiiiii"),
    **_pairwise("ÍÎÏÌĪĮİ", "IIIIIII"),
    **_pairwise("óôõōő", "ooooo"),
    **_pairwise("ÓÔÕÒŌŐ", "OOOOOO"),
    **_pairwise("úûūůűų", "uuuuuu"),
    **_pairwise("ÚÛÙŪŮŰŲ", "UUUUUUU"),
    **_pairwise("ýÿ", "yy"),
    **_pairwise("ÝŸ", "YY"),
    **_pairwise("ćč", "cc"),
    **_pairwise("ĆČ", "CC"),
    **_pairwise("ďđ", "dd"),
    **_pairwise("ĎĐ", "DD"),
    "ğ": "g",
    "Ğ": "G",
    **_pairwise("łľĺ", "lll"),
    **_pairwise("ŁĽĹ", "LLL"),
    **_pairwise("ńň", "nn"),
    **_pairwise("ŃŇ", "NN"),
    **_pairwise("řŕ", "rr"),
    **_pairwise("ŘŔ", "RR"),
    **_pairwise("śšş", "sss"),
    **_pairwise("ŚŠŞ", "SSS"),
    **_pairwise("ťţ", "tt"),
    **_pairwise("ŤŢ", "TT"),
    **_pairwise("źżž", "zzz"),
    **_pairwise("ŹŻŽ", "ZZZ"),
    "œ": "oe",
    "Œ": "OE",
    # Greek capitals indistinguishable from Latin ones.
    **_pairwise("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "ABEZHIKMNOPTYX"),
}

#: Non-GSM character -> GSM replacement (possibly empty or several characters).
GSM_EQUIVALENTS: Final[Mapping[str, str]] = MappingProxyType(_TABLE)

_TRANSLATE: Final[dict[int, str]] = {ord(c): r for c, r in _TABLE.items()}
_KEYS_RE: Final = re.compile("[" + "".join(re.escape(c) for c in sorted(_TABLE)) + "]")


def transliterate(text: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Replace every character that has an entry in :data:`GSM_EQUIVALENTS`.

    Characters without an entry are left alone, so the result is GSM-7 only if the table
    covered every non-GSM character.

    Args:
        text: Any text.

    Returns:
        ``(new_text, replaced)`` where ``replaced`` lists the distinct
        ``(original, replacement)`` pairs applied, in first-occurrence order.
    """
    found = _KEYS_RE.findall(text)
    if not found:
        return text, ()
    pairs = tuple((c, _TABLE[c]) for c in dict.fromkeys(found))
    return text.translate(_TRANSLATE), pairs
