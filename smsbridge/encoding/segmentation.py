"""SMS segmentation: choose GSM-7 or UCS-2 and split text into the fewest parts.

Rules (3GPP TS 23.038 / 23.040):

* GSM-7 is used exactly when every character is in the GSM 03.38 default alphabet or
  its extension table; extension characters cost two septets (ESC + code).
* Otherwise UCS-2 (UTF-16 on every current network) is used; characters outside the
  Basic Multilingual Plane cost two code units (a surrogate pair).
* One part holds 160 septets / 70 units; once split, each part holds 153 / 67 because
  the concatenation header takes the rest.
* With national language tables allowed (``national_languages``), the pair of TS 23.038
  shift tables that needs the fewest parts is also considered; each table used costs a
  3-octet IE in every part's User Data Header (see :mod:`.national_segmentation`).
* An escape pair or a surrogate pair is never split across parts.  Parts are cut on
  code point boundaries only, so a grapheme cluster (flag, skin-tone emoji, letter plus
  combining accent) may straddle two parts, exactly as handsets do it.

Filling each part greedily is optimal here: every character costs 1 or 2 units, so
taking as much as fits never leaves a later part worse off.
"""

from __future__ import annotations

from codecs import utf_16_le_decode as _utf16le_decode
from codecs import utf_16_le_encode as _utf16le
from collections.abc import Callable, Iterable
from functools import cache
from typing import Final, Literal

import attrs

from .gsm0338 import DEFAULT_CHARS, EXTENSION_CHARS, NON_DEFAULT_RE, NON_GSM_RE
from .national import describe_tables, shift_ies
from .transliteration import GSM_EQUIVALENTS
from .transliteration import transliterate as _transliterate
from .udh import septet_capacity, udh_octets

__all__ = [
    "GSM7",
    "GSM7_MULTI_LIMIT",
    "GSM7_SINGLE_LIMIT",
    "UCS2",
    "UCS2_MULTI_LIMIT",
    "UCS2_SINGLE_LIMIT",
    "Encoding",
    "NationalSegmentation",
    "Segmentation",
    "segment",
]

Encoding = Literal["GSM-7", "UCS-2"]

#: The GSM 03.38 default alphabet with its extension table, seven bits a character.
GSM7: Final = "GSM-7"
#: UTF-16 code units (UCS-2 on the wire; astral characters take two units).
UCS2: Final = "UCS-2"

#: Septets in a lone GSM-7 message, and in each part of a concatenated one.
GSM7_SINGLE_LIMIT: Final = 160
GSM7_MULTI_LIMIT: Final = 153
#: UTF-16 code units in a lone UCS-2 message, and in each part of a concatenated one.
UCS2_SINGLE_LIMIT: Final = 70
UCS2_MULTI_LIMIT: Final = 67

_LIMITS: Final[dict[str, tuple[int, int]]] = {
    GSM7: (GSM7_SINGLE_LIMIT, GSM7_MULTI_LIMIT),
    UCS2: (UCS2_SINGLE_LIMIT, UCS2_MULTI_LIMIT),
}
_UNIT_NAMES: Final[dict[str, str]] = {GSM7: "septets", UCS2: "UTF-16 code units"}

_ALIASES: Final[dict[str, Encoding]] = {
    **dict.fromkeys(("gsm-7", "gsm7", "gsm_7", "gsm", "gsm0338"), GSM7),
    **dict.fromkeys(("ucs-2", "ucs2", "ucs_2", "utf-16", "utf16"), UCS2),
}

# Classification runs as bytes.translate over the Latin-1 form of the text: one C pass
# deletes the default-alphabet bytes and leaves only what still needs a look.  Every GSM
# character except € and ten Greek capitals is Latin-1; for splitting, € borrows byte
# 0x80 (U+0080 is not GSM, so GSM text never has that byte of its own).
_EURO_BYTE: Final = "\x80"
_PROBE: Final = 16
_DEFAULT_LATIN1: Final = bytes(sorted(ord(c) for c in DEFAULT_CHARS if ord(c) < 0x100))
_EXTENSION_ASCII: Final = bytes(sorted(ord(c) for c in EXTENSION_CHARS if ord(c) < 0x80))
_EXTENSION_BYTES: Final = _EXTENSION_ASCII + _EURO_BYTE.encode("latin-1")


@attrs.frozen(slots=True)
class Segmentation:
    """How a text travels as SMS: encoding, unit counts and the exact parts.

    Attributes:
        encoding: ``"GSM-7"`` or ``"UCS-2"``.
        units: Septets (GSM-7) or UTF-16 code units (UCS-2) for the whole text.
        parts: The substrings of :attr:`text`, one per SMS part.
        units_per_part: Units used by each part, aligned with :attr:`parts`.
        text: What will be sent: the input, or its transliteration.
        replaced: ``(original, replacement)`` pairs applied by transliteration.
        locking_shift: Language code of the national locking shift table used (GSM-7
            only), ``None`` for the default alphabet.
        single_shift: Language code of the national single shift table used (GSM-7
            only), ``None`` for the default extension table.

    A result that uses national tables is a :class:`NationalSegmentation`.
    """

    encoding: Encoding
    units: int
    parts: tuple[str, ...]
    units_per_part: tuple[int, ...]
    text: str
    replaced: tuple[tuple[str, str], ...] = ()

    # The two table fields live on NationalSegmentation only: filling two more slots on
    # every message would cost the plain path a noticeable share of its time.
    @property
    def locking_shift(self) -> str | None:
        """Language code of the national locking shift table used; ``None`` here."""
        return None

    @property
    def single_shift(self) -> str | None:
        """Language code of the national single shift table used; ``None`` here."""
        return None

    @property
    def shift_tables(self) -> int:
        """How many national language tables the parts name in their UDH (0, 1 or 2)."""
        return (self.locking_shift is not None) + (self.single_shift is not None)

    @property
    def shift_ies(self) -> bytes:
        """The national language shift IEs for each part's UDH (``25 01 01`` for the
        Turkish locking shift table); empty without tables."""
        return shift_ies(self.locking_shift, self.single_shift)

    @property
    def udh_octets(self) -> int:
        """Octets of User Data Header in each part: length octet, concatenation IE (5,
        multipart only) and 3 per national shift table; 0 when there is no IE at all."""
        return udh_octets(self.shift_tables, len(self.parts) > 1)

    def _limits(self) -> tuple[int, int]:
        tables = self.shift_tables
        if not tables:
            return _LIMITS[self.encoding]
        return septet_capacity(tables, False), septet_capacity(tables, True)

    @property
    def non_gsm(self) -> tuple[str, ...]:
        """Distinct characters of :attr:`text` outside the GSM charset, first-occurrence order.

        These are the characters that forced UCS-2; empty for GSM-7, and also empty when
        UCS-2 was forced on text that GSM-7 could carry.  Computed on access because most
        callers never ask and it costs a full scan of the text.
        """
        if self.encoding == GSM7:
            return ()
        return tuple(dict.fromkeys(NON_GSM_RE.findall(self.text)))

    @property
    def part_count(self) -> int:
        """Number of SMS parts (0 for empty text)."""
        return len(self.parts)

    @property
    def is_multipart(self) -> bool:
        """Whether the text needs a concatenated (multipart) SMS."""
        return len(self.parts) > 1

    @property
    def single_part_limit(self) -> int:
        """Units a lone message may hold (160 or 70; 155 or 152 with shift tables)."""
        return self._limits()[0]

    @property
    def multipart_limit(self) -> int:
        """Units each part of a concatenated message may hold (153 or 67; 149 or 146
        with shift tables)."""
        return self._limits()[1]

    @property
    def part_limit(self) -> int:
        """The per-part limit that applies to this segmentation."""
        single, multi = self._limits()
        return multi if len(self.parts) > 1 else single

    @property
    def remaining(self) -> int:
        """Units that can still be appended before another part is needed."""
        single, multi = self._limits()
        if len(self.parts) > 1:
            return multi - self.units_per_part[-1]
        return single - self.units

    def explain(self) -> str:
        """Describe the result for humans: encoding and why, units, parts, limits.

        Returns:
            A few lines of plain text, suitable for a CLI.
        """
        unit = _UNIT_NAMES[self.encoding]
        lines: list[str] = []
        if self.shift_tables:
            tables = describe_tables(self.locking_shift, self.single_shift)
            lines.append(f"Encoding: GSM-7 with national language tables: {tables}.")
            lines.append(
                f"Each part's UDH names them ({self.udh_octets} octets), so a part holds "
                f"{self.part_limit} septets."
            )
        elif self.encoding == GSM7:
            lines.append("Encoding: GSM-7 (every character is in the GSM 03.38 alphabet).")
        elif non_gsm := self.non_gsm:
            shown = ", ".join(_describe(c) for c in non_gsm[:10])
            more = f" and {len(non_gsm) - 10} more" if len(non_gsm) > 10 else ""
            lines.append(f"Encoding: UCS-2, because of non-GSM characters: {shown}{more}.")
            fixable = [c for c in non_gsm if c in GSM_EQUIVALENTS]
            if len(fixable) == len(non_gsm):
                lines.append("Hint: transliterate=True would replace all of them and use GSM-7.")
            elif fixable:
                lines.append(
                    f"Transliteration could replace {len(fixable)} of them, but the others "
                    "have no GSM equivalent, so UCS-2 is needed anyway."
                )
        else:
            lines.append("Encoding: UCS-2, as requested (the text itself would fit GSM-7).")
        if self.replaced:
            pairs = ", ".join(f"{_describe(a)} -> {b!r}" for a, b in self.replaced)
            lines.append(f"Transliterated: {pairs}.")
        single, multi = self._limits()
        if not self.parts:
            lines.append(f"Empty text: 0 {unit}, 0 parts.")
        elif len(self.parts) == 1:
            lines.append(f"{self.units} {unit} in 1 part (limit {single}; {self.remaining} left).")
        else:
            sizes = " + ".join(str(n) for n in self.units_per_part)
            lines.append(
                f"{self.units} {unit} in {len(self.parts)} parts ({sizes}); over {single}, "
                f"so each part holds at most {multi} ({self.remaining} left in the last)."
            )
        return "\n".join(lines)


@attrs.frozen(slots=True)
class NationalSegmentation(Segmentation):
    """A :class:`Segmentation` that uses national language shift tables (GSM-7 only).

    Attributes:
        locking_shift: Language code of the locking shift table, ``None`` for the
            default alphabet.
        single_shift: Language code of the single shift table, ``None`` for the default
            extension table.  At least one of the two is set.
    """

    locking_shift: str | None = None
    single_shift: str | None = None


def _describe(char: str) -> str:
    return f"{char!r} (U+{ord(char):04X})" if len(char) == 1 else repr(char)


# Segmentation has no validators or converters, so filling its slots directly is
# equivalent to calling the attrs-generated __init__, and noticeably cheaper; on short
# messages object construction is a large share of the total cost.
_SLOT_SETTERS: Final = tuple(
    Segmentation.__dict__[name].__set__
    for name in ("encoding", "units", "parts", "units_per_part", "text", "replaced")
)
_new_object: Final = object.__new__


def _make(
    encoding: Encoding,
    units: int,
    parts: tuple[str, ...],
    sizes: tuple[int, ...],
    text: str,
    replaced: tuple[tuple[str, str], ...] = (),
) -> Segmentation:
    set_encoding, set_units, set_parts, set_sizes, set_text, set_replaced = _SLOT_SETTERS
    result: Segmentation = _new_object(Segmentation)
    set_encoding(result, encoding)
    set_units(result, units)
    set_parts(result, parts)
    set_sizes(result, sizes)
    set_text(result, text)
    set_replaced(result, replaced)
    return result


def _try_gsm7(
    text: str, as_ucs2: bool = False, replaced: tuple[tuple[str, str], ...] = ()
) -> Segmentation | None:
    """Segment text as GSM-7 (or as UCS-2 if ``as_ucs2``); None if it is not GSM text."""
    n = len(text)
    if "€" in text:
        if _EURO_BYTE in text:
            return None  # U+0080 is not GSM; it must not pass for the € stand-in below
        # Give € a byte of its own so that bytes and characters line up.
        latin = text.replace("€", _EURO_BYTE).encode("latin-1", "ignore")
        extension = _EXTENSION_BYTES
    else:
        latin = text.encode("latin-1", "ignore")  # drops anything beyond Latin-1
        extension = _EXTENSION_ASCII
    if len(latin) != n:
        return _try_gsm7_wide(text, as_ucs2, replaced)
    rest = latin.translate(None, _DEFAULT_LATIN1)  # extension chars, or non-GSM ones
    if rest and rest.translate(None, extension):
        return None
    if as_ucs2:
        return _ucs2(text)
    units = n + len(rest)
    if units <= GSM7_SINGLE_LIMIT:
        return _make(GSM7, units, (text,) if n else (), (units,) if n else (), text, replaced)
    if not rest:
        return _make(GSM7, units, *_chunks(text, GSM7_MULTI_LIMIT), text, replaced)
    return _make(GSM7, units, *_split_latin(text, latin), text, replaced)


def _split_latin(text: str, latin: bytes) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Greedy GSM-7 split of ``text`` given its one-byte-per-character form ``latin``.

    Each part is the longest run of whole characters costing at most 153 septets.  A
    window of 153 characters holding ``e`` extension characters is cut back to 153 - e
    characters, which surely fits; then half the remaining slack is added at a time
    (k characters never cost more than 2k), and a last septet of slack takes one more
    character if it is not an extension one.  Costs are counted in C with translate.
    """
    step = GSM7_MULTI_LIMIT
    ext = _DEFAULT_LATIN1
    n = len(latin)
    parts: list[str] = []
    sizes: list[int] = []
    start = 0
    while start < n:
        end = start + step
        if end >= n:
            end = n
        extensions = len(latin[start:end].translate(None, ext))
        if extensions and end - start + extensions > step:
            end = start + step - extensions
            used = step - extensions + len(latin[start:end].translate(None, ext))
            while (slack := step - used) > 1 and end < n:
                more = min(slack >> 1, n - end)
                used += more + len(latin[end : end + more].translate(None, ext))
                end += more
            if slack == 1 and end < n and latin[end] in _DEFAULT_LATIN1:
                used += 1
                end += 1
        else:
            used = end - start + extensions
        parts.append(text[start:end])
        sizes.append(used)
        start = end
    return tuple(parts), tuple(sizes)


def _try_gsm7_wide(
    text: str, as_ucs2: bool, replaced: tuple[tuple[str, str], ...]
) -> Segmentation | None:
    """:func:`_try_gsm7` for text with characters beyond Latin-1 and €."""
    first = NON_DEFAULT_RE.search(text)
    if first is not None:
        if first.group() not in EXTENSION_CHARS:
            return None  # the usual UCS-2 case (Cyrillic, CJK, emoji...) ends here, cheaply
        if NON_GSM_RE.search(text, first.start()) is not None:
            return None
    if as_ucs2:
        return _ucs2(text)
    # Only GSM text with Greek capitals gets this far: rare enough to keep this simple.
    septets = text
    for char in EXTENSION_CHARS:
        if char in text:
            septets = septets.replace(char, "\x1b" + char)
    units = len(septets)
    if units <= GSM7_SINGLE_LIMIT:
        return _make(GSM7, units, (text,), (units,), text, replaced)
    return _make(GSM7, units, *_split_escaped(text, septets, "\x1b"), text, replaced)


def _split_escaped(text: str, septets: str, esc: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Greedy GSM-7 split of ``text`` given its spelling with ESC before extension chars.

    In ``septets`` one item is one septet, so cutting every 153 items gives the parts;
    when a cut would separate ESC from its character it backs off by one, leaving that
    part one septet short.  Counting ESCs in a part turns its septets into characters.
    """
    step = GSM7_MULTI_LIMIT
    total = len(septets)
    parts: list[str] = []
    sizes: list[int] = []
    start = pos = 0
    while start < total:
        end = start + step
        if end >= total:
            end = total
        elif septets[end - 1 : end] == esc:
            end -= 1
        length = end - start - septets.count(esc, start, end)
        parts.append(text[pos : pos + length])
        sizes.append(end - start)
        pos += length
        start = end
    return tuple(parts), tuple(sizes)


def _chunks(text: str, step: int) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Split text where every character costs one unit: slicing is the whole job."""
    n = len(text)
    if n <= 2 * step:  # by far the most common multipart case
        return (text[:step], text[step:]), (step, n - step)
    parts: list[str] = []
    index = 0
    while index < n:
        parts.append(text[index : index + step])
        index += step
    full = len(parts) - 1
    return tuple(parts), (step,) * full + (n - step * full,)


def _ucs2(text: str) -> Segmentation:
    try:
        data = _utf16le(text)[0]  # the codec function itself skips the lookup by name
    except UnicodeEncodeError:
        # Lone surrogate code points: rare enough to take the per-character route.
        return _ucs2_with_surrogates(text)
    units = len(data) >> 1
    n = len(text)
    if units <= UCS2_SINGLE_LIMIT:
        return _make(UCS2, units, (text,) if n else (), (units,) if n else (), text)
    step = UCS2_MULTI_LIMIT
    if units == n:
        if n <= 2 * step:
            return _make(UCS2, units, (text[:step], text[step:]), (step, n - step), text)
        return _make(UCS2, units, *_chunks(text, step), text)
    # Cut the UTF-16 bytes every 134 octets, backing off one unit when the cut would land
    # right after a high surrogate, and decode each slice back: that is the part itself.
    size = len(data)
    byte_step = 2 * step
    parts: list[str] = []
    sizes: list[int] = []
    start = 0
    while start < size:
        end = start + byte_step
        if end >= size:
            end = size
        elif 0xD8 <= data[end - 1] <= 0xDB:
            end -= 2
        parts.append(_utf16le_decode(data[start:end])[0])
        sizes.append((end - start) >> 1)
        start = end
    return _make(UCS2, units, tuple(parts), tuple(sizes), text)


def _ucs2_with_surrogates(text: str) -> Segmentation:
    """Split text holding surrogate code points, which UTF-16 cannot encode strictly.

    Astral characters count two units, anything else one.  A high surrogate code point
    followed by a low one becomes a real surrogate pair on the wire, so it is kept whole.
    """
    units = len(text.encode("utf-16-le", "surrogatepass")) >> 1
    if units <= UCS2_SINGLE_LIMIT:
        return _make(UCS2, units, (text,), (units,), text)
    parts: list[str] = []
    sizes: list[int] = []
    start = used = 0
    for index, char in enumerate(text):
        cost = 2 if char >= "\U00010000" else 1
        if used + cost > UCS2_MULTI_LIMIT:
            cut = index
            if "\udc00" <= char <= "\udfff" and "\ud800" <= text[index - 1] <= "\udbff":
                cut -= 1
            parts.append(text[start:cut])
            sizes.append(used - (index - cut))
            start, used = cut, index - cut
        used += cost
    parts.append(text[start:])
    sizes.append(used)
    return _make(UCS2, units, tuple(parts), tuple(sizes), text)


def _resolve_encoding(encoding: str) -> Encoding:
    resolved = _ALIASES.get(encoding.lower())
    if resolved is None:
        raise ValueError(
            f"unknown SMS encoding {encoding!r}; use 'GSM-7' or 'UCS-2' "
            "(aliases: gsm7, gsm-7, ucs2, ucs-2, utf-16)"
        )
    return resolved


def segment(
    text: str,
    *,
    encoding: str | None = None,
    transliterate: bool = False,
    national_languages: Iterable[str] = (),
) -> Segmentation:
    """Choose the encoding for ``text`` and split it into the fewest SMS parts.

    Args:
        text: The message body.  Empty text yields 0 parts and 0 units.
        encoding: ``None`` to pick automatically, or force ``"GSM-7"`` / ``"UCS-2"``
            (case-insensitive aliases: gsm7, gsm-7, ucs2, ucs-2, utf-16).
        transliterate: Replace non-GSM characters that have an obvious GSM equivalent
            (curly quotes, dashes, exotic spaces, some accents).  Applied only when it
            makes the whole text GSM-7; if UCS-2 is needed anyway the original text is
            sent untouched and ``replaced`` is empty.
        national_languages: ISO 639-1 codes of the TS 23.038 national language tables
            the route applies (``("tr", "es")``); empty by default, when no table is
            considered.  A pair of tables is used only when it needs fewer parts than
            GSM-7 or UCS-2 would (or GSM-7 is forced and the text needs a table); the
            result names it in ``locking_shift`` and ``single_shift``.

    Returns:
        The :class:`Segmentation`.

    Raises:
        ValueError: ``encoding`` or a national language is unknown, or GSM-7 was forced
            and a character
            (after transliteration, if requested) is not in the GSM charset; the message
            names the first such character and its index in ``text``.
    """
    forced = None if encoding is None else _resolve_encoding(encoding)
    if national_languages:
        return _national_segment()(text, national_languages, forced, transliterate)
    # Text in a non-Latin script usually shows it within a few characters; this probe
    # settles most UCS-2 messages without a full classification.
    if text.isascii() or NON_GSM_RE.search(text, 0, _PROBE) is None:
        result = _try_gsm7(text, forced == UCS2)
        if result is not None:
            return result
    if transliterate and forced != UCS2:
        converted, replaced = _transliterate(text)
        result = _try_gsm7(converted, False, replaced)
        if result is not None:
            return result
    if forced == GSM7:
        raise _not_gsm(text, transliterate)
    return _ucs2(text)


@cache
def _national_segment() -> Callable[[str, Iterable[str], Encoding | None, bool], Segmentation]:
    # Imported on first use: that module builds on this one.
    from .national_segmentation import segment_national

    return segment_national


def _not_gsm(text: str, transliterated: bool) -> ValueError:
    for match in NON_GSM_RE.finditer(text):
        char = match.group()
        if not transliterated or char not in GSM_EQUIVALENTS:
            return ValueError(
                f"cannot encode as GSM-7: character {char!r} (U+{ord(char):04X}) "
                f"at index {match.start()} is not in the GSM 03.38 alphabet"
                + (" and has no transliteration" if transliterated else "")
            )
    raise AssertionError("unreachable: the text was found not to be GSM")  # pragma: no cover
