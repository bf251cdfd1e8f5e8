"""National language shift tables (3GPP TS 23.038 annex A) and a septet codec for them.

A message may name, in its User Data Header, a *locking shift* table that replaces the
default alphabet and a *single shift* table that replaces the extension table (the one
reached through ESC).  Turkish text then travels as 7-bit instead of UCS-2, and so do the
Indian scripts.  The tables are plain data in :mod:`.national_latin` and
:mod:`.national_indic`; this module parses them once and offers one codec for every pair
of tables, the default ones included.

A pair is named by two language codes, ``locking`` and ``single``; ``None`` stands for
the default alphabet or the default extension table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from types import MappingProxyType
from typing import Final

import attrs

from . import national_indic as _indic
from . import national_latin as _latin
from .gsm0338 import DEFAULT_ALPHABET, ESC, EXTENSION_TABLE

__all__ = [
    "LOCKING_SHIFT_IEI",
    "NATIONAL_LANGUAGES",
    "SINGLE_SHIFT_IEI",
    "Charset",
    "NationalLanguage",
    "charset",
    "decode_national",
    "describe_tables",
    "encode_national",
    "resolve_languages",
    "shift_ies",
]

#: Information Element Identifiers of TS 23.040 section 9.2.3.24: each IE is the IEI, a
#: length octet (1) and the language id, three octets in every part's UDH.
SINGLE_SHIFT_IEI: Final = 0x24
LOCKING_SHIFT_IEI: Final = 0x25

_NAMED: Final = {"SP": " ", "LF": "\n", "CR": "\r", "FF": "\f"}


def _parse(rows: tuple[str, ...]) -> Mapping[int, str]:
    """Septet -> character for one table written as the data modules spell it."""
    if len(rows) != 8:
        raise ValueError(f"a table has 8 rows, got {len(rows)}")
    table: dict[int, str] = {}
    for high, row in enumerate(rows):
        entries = row.split(" ")
        if len(entries) != 16:
            raise ValueError(f"row 0x{high:X}0 has {len(entries)} entries, not 16")
        for low, entry in enumerate(entries):
            septet = high << 4 | low
            if entry == "ESC":
                if septet != ESC:
                    raise ValueError(f"ESC at 0x{septet:02X}, not 0x1B")
            elif entry != "--":
                if len(entry) == 1:
                    table[septet] = entry
                elif len(entry) == 4:
                    table[septet] = chr(int(entry, 16))
                else:
                    table[septet] = _NAMED[entry]
    return MappingProxyType(table)


@attrs.frozen
class NationalLanguage:
    """One national language of TS 23.038 annex A.

    Attributes:
        code: ISO 639-1 code (``"tr"``), the name used in options.
        name: English name.
        identifier: The National Language Identifier carried in the shift IEs.
        locking: Septet -> character of its locking shift table; ``None`` when the
            standard defines none (Spanish).
        single: Septet -> character of its single shift table (the septet after ESC).
    """

    code: str
    name: str
    identifier: int
    locking: Mapping[int, str] | None = attrs.field(repr=False)
    single: Mapping[int, str] = attrs.field(repr=False)


def _language(
    code: str, name: str, identifier: int, locking: tuple[str, ...] | None, single: tuple[str, ...]
) -> NationalLanguage:
    return NationalLanguage(
        code, name, identifier, None if locking is None else _parse(locking), _parse(single)
    )


#: Every national language of the standard, by ISO 639-1 code, in identifier order.
NATIONAL_LANGUAGES: Final[Mapping[str, NationalLanguage]] = MappingProxyType(
    {
        lang.code: lang
        for lang in (
            _language("tr", "Turkish", 1, _latin.TURKISH_LOCKING, _latin.TURKISH_SINGLE),
            _language("es", "Spanish", 2, None, _latin.SPANISH_SINGLE),
            _language("pt", "Portuguese", 3, _latin.PORTUGUESE_LOCKING, _latin.PORTUGUESE_SINGLE),
            _language("bn", "Bengali", 4, _indic.BENGALI_LOCKING, _indic.BENGALI_SINGLE),
            _language("gu", "Gujarati", 5, _indic.GUJARATI_LOCKING, _indic.GUJARATI_SINGLE),
            _language("hi", "Hindi", 6, _indic.HINDI_LOCKING, _indic.HINDI_SINGLE),
            _language("kn", "Kannada", 7, _indic.KANNADA_LOCKING, _indic.KANNADA_SINGLE),
            _language("ml", "Malayalam", 8, _indic.MALAYALAM_LOCKING, _indic.MALAYALAM_SINGLE),
            _language("or", "Oriya", 9, _indic.ORIYA_LOCKING, _indic.ORIYA_SINGLE),
            _language("pa", "Punjabi", 10, _indic.PUNJABI_LOCKING, _indic.PUNJABI_SINGLE),
            _language("ta", "Tamil", 11, _indic.TAMIL_LOCKING, _indic.TAMIL_SINGLE),
            _language("te", "Telugu", 12, _indic.TELUGU_LOCKING, _indic.TELUGU_SINGLE),
            _language("ur", "Urdu", 13, _indic.URDU_LOCKING, _indic.URDU_SINGLE),
        )
    }
)


def resolve_languages(codes: Iterable[str]) -> tuple[str, ...]:
    """Check language codes and drop repeats, keeping the order given.

    Args:
        codes: ISO 639-1 codes of :data:`NATIONAL_LANGUAGES`; a single string is one code.

    Returns:
        The distinct codes.

    Raises:
        ValueError: A code is not a national language of TS 23.038; the message names it
            and lists the known ones.
    """
    if isinstance(codes, str):
        codes = (codes,)
    if isinstance(codes, tuple):
        try:
            return _resolve_tuple(codes)
        except TypeError:  # unhashable items: checked below, one by one
            pass
    return _resolve(codes)


@cache
def _resolve_tuple(codes: tuple[str, ...]) -> tuple[str, ...]:
    return _resolve(codes)


def _resolve(codes: Iterable[str]) -> tuple[str, ...]:
    resolved: dict[str, None] = {}
    for code in codes:
        if not isinstance(code, str) or code not in NATIONAL_LANGUAGES:
            known = ", ".join(NATIONAL_LANGUAGES)
            raise ValueError(
                f"unknown national language {code!r}; TS 23.038 defines tables for {known}"
            )
        resolved[code] = None
    return tuple(resolved)


@attrs.frozen(eq=False)
class Charset:
    """The characters one pair of tables can carry, and their septets.

    Attributes:
        locking: Language code of the locking shift table, ``None`` for the default alphabet.
        single: Language code of the single shift table, ``None`` for the default
            extension table.
        direct: Character -> septet, costing one septet (the locking table).
        escaped: Character -> code after ESC, costing two septets (single shift
            characters the locking table lacks).
        decode: Septet -> character of the locking table.
        decode_escaped: Code after ESC -> character of the single shift table.
        direct_chars: The keys of ``direct``, as a set for fast coverage tests.
        escaped_chars: The keys of ``escaped``, likewise.
    """

    locking: str | None
    single: str | None
    direct: Mapping[str, int] = attrs.field(repr=False)
    escaped: Mapping[str, int] = attrs.field(repr=False)
    decode: Mapping[int, str] = attrs.field(repr=False)
    decode_escaped: Mapping[int, str] = attrs.field(repr=False)
    direct_chars: frozenset[str] = attrs.field(repr=False)
    escaped_chars: frozenset[str] = attrs.field(repr=False)

    @property
    def tables(self) -> int:
        """How many shift IEs the pair needs in the UDH (0, 1 or 2)."""
        return (self.locking is not None) + (self.single is not None)


def _first_code(table: Mapping[int, str]) -> dict[str, int]:
    """Character -> its lowest septet: a few tables list one character twice."""
    out: dict[str, int] = {}
    for septet in sorted(table):
        out.setdefault(table[septet], septet)
    return out


@cache
def charset(locking: str | None = None, single: str | None = None) -> Charset:
    """The :class:`Charset` of a pair of tables, built once per pair.

    Args:
        locking: Code of a language with a locking shift table, or ``None``.
        single: Code of a language (its single shift table), or ``None``.

    Raises:
        ValueError: A code is unknown, or ``locking`` names Spanish, which has no
            locking shift table.
    """
    if locking is None:
        decode: Mapping[int, str] = {v: c for c, v in DEFAULT_ALPHABET.items()}
    else:
        table = NATIONAL_LANGUAGES[resolve_languages((locking,))[0]].locking
        if table is None:
            raise ValueError(f"national language {locking!r} has no locking shift table")
        decode = table
    if single is None:
        decode_escaped: Mapping[int, str] = {v: c for c, v in EXTENSION_TABLE.items()}
    else:
        decode_escaped = NATIONAL_LANGUAGES[resolve_languages((single,))[0]].single
    direct = _first_code(decode)
    escaped = {c: v for c, v in _first_code(decode_escaped).items() if c not in direct}
    return Charset(
        locking,
        single,
        MappingProxyType(direct),
        MappingProxyType(escaped),
        MappingProxyType(dict(decode)),
        MappingProxyType(dict(decode_escaped)),
        frozenset(direct),
        frozenset(escaped),
    )


def encode_national(text: str, *, locking: str | None = None, single: str | None = None) -> bytes:
    """Encode text as unpacked septets with the given pair of tables.

    A character of the locking table takes one septet; one only in the single shift
    table takes two, ESC and its code.  With both tables ``None`` this is exactly
    :func:`~smsbridge.encoding.gsm0338.encode_septets`.

    Args:
        text: The text.
        locking: Locking shift language code, or ``None`` for the default alphabet.
        single: Single shift language code, or ``None`` for the default extension table.

    Returns:
        Septet values, one per byte.

    Raises:
        ValueError: A character is in neither table (the message names it and its index),
            or a code is unknown.
    """
    chars = charset(locking, single)
    direct, escaped = chars.direct, chars.escaped
    out = bytearray()
    for index, char in enumerate(text):
        septet = direct.get(char)
        if septet is not None:
            out.append(septet)
            continue
        code = escaped.get(char)
        if code is None:
            raise ValueError(
                f"character {char!r} (U+{ord(char):04X}) at index {index} is in neither "
                f"the {_label(locking, 'locking')} nor the {_label(single, 'single shift')} table"
            )
        out += bytes((ESC, code))
    return bytes(out)


def decode_national(
    septets: bytes, *, locking: str | None = None, single: str | None = None
) -> str:
    """Decode unpacked septets written with the given pair of tables.

    As TS 23.038 asks of receivers, ESC followed by a code the single shift table leaves
    undefined shows the locking table's character for that code, and ESC ESC a space.  A
    septet the locking table leaves undefined (some Indian tables have gaps) decodes to
    U+FFFD, so that decoding anything a network delivers gives text, never an error.

    Args:
        septets: Septet values, each < 0x80.
        locking: Locking shift language code, or ``None``.
        single: Single shift language code, or ``None``.

    Returns:
        The text.

    Raises:
        ValueError: A byte is not a septet, the data ends with a lone ESC, or a code is
            unknown.
    """
    chars = charset(locking, single)
    decode, decode_escaped = chars.decode, chars.decode_escaped
    out: list[str] = []
    escaped = False
    for index, septet in enumerate(septets):
        if septet > 0x7F:
            raise ValueError(f"byte 0x{septet:02X} at index {index} is not a septet")
        if escaped:
            escaped = False
            if septet == ESC:
                out.append(" ")
            else:
                out.append(decode_escaped.get(septet) or decode.get(septet, "\ufffd"))
        elif septet == ESC:
            escaped = True
        else:
            out.append(decode.get(septet, "\ufffd"))
    if escaped:
        raise ValueError("septets end with an ESC that has no following code")
    return "".join(out)


def _label(code: str | None, kind: str) -> str:
    if code is None:
        return "default alphabet" if kind == "locking" else "default extension"
    return f"{NATIONAL_LANGUAGES[code].name} {kind}"


def shift_ies(locking: str | None, single: str | None) -> bytes:
    """The UDH information elements naming a pair of tables, as every part carries them.

    Args:
        locking: Locking shift language code, or ``None``.
        single: Single shift language code, or ``None``.

    Returns:
        ``25 01 id`` for the locking shift table, then ``24 01 id`` for the single shift
        table (TS 23.040 section 9.2.3.24.15-16); empty for the default tables.
    """
    out = bytearray()
    for iei, code in ((LOCKING_SHIFT_IEI, locking), (SINGLE_SHIFT_IEI, single)):
        if code is not None:
            out += bytes((iei, 1, NATIONAL_LANGUAGES[code].identifier))
    return bytes(out)


def describe_tables(locking: str | None, single: str | None) -> str:
    """Name a pair of tables for humans: ``"Turkish single shift (tr, id 1)"``."""
    names = []
    for kind, code in (("locking shift", locking), ("single shift", single)):
        if code is not None:
            lang = NATIONAL_LANGUAGES[code]
            names.append(f"{lang.name} {kind} ({code}, id {lang.identifier})")
    return ", ".join(names) or "none"
