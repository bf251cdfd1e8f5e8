"""GSM 03.38 (3GPP TS 23.038) default alphabet, extension table and septet codec.

The tables are plain data so that every other module (segmentation, transliteration,
PDU builders) derives its character sets from one source of truth.  The codec works on
*unpacked* septets (one septet value per byte) and, separately, on the 7-bit packed form
used on the air interface, because PDU builders need the two steps apart: the septet
count goes into the UDL field while the packed octets may need fill bits after a UDH.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final

__all__ = [
    "DEFAULT_ALPHABET",
    "DEFAULT_CHARS",
    "ESC",
    "EXTENSION_CHARS",
    "EXTENSION_TABLE",
    "GSM_CHARS",
    "NON_DEFAULT_RE",
    "NON_GSM_RE",
    "decode_septets",
    "encode_septets",
    "gsm_septets",
    "is_gsm_char",
    "pack_septets",
    "unpack_septets",
]

#: Septet value that escapes into the extension table.  It is not a character itself.
ESC: Final = 0x1B

# Indexed by septet value.  Position 0x1B holds a placeholder that is never exposed as a
# character: it only exists so that the string index equals the septet value.
_DEFAULT_TABLE: Final = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)

#: Character -> septet value for the 127 characters of the default alphabet.
DEFAULT_ALPHABET: Final[Mapping[str, int]] = MappingProxyType(
    {char: value for value, char in enumerate(_DEFAULT_TABLE) if value != ESC}
)

#: Character -> septet value that follows ESC, for the extension table.
EXTENSION_TABLE: Final[Mapping[str, int]] = MappingProxyType(
    {
        "\f": 0x0A,  # form feed (page break)
        "^": 0x14,
        "{": 0x28,
        "}": 0x29,
        "\\": 0x2F,
        "[": 0x3C,
        "~": 0x3D,
        "]": 0x3E,
        "|": 0x40,
        "€": 0x65,
    }
)

DEFAULT_CHARS: Final[frozenset[str]] = frozenset(DEFAULT_ALPHABET)
EXTENSION_CHARS: Final[frozenset[str]] = frozenset(EXTENSION_TABLE)
GSM_CHARS: Final[frozenset[str]] = DEFAULT_CHARS | EXTENSION_CHARS


def _char_class(chars: Iterable[str], *, negate: bool = False) -> re.Pattern[str]:
    body = "".join(re.escape(c) for c in sorted(chars))
    return re.compile(f"[{'^' if negate else ''}{body}]")


# Compiled character classes run the per-character test in C, which is what makes the
# segmentation fast path cheap; the segmentation module imports them directly.
NON_DEFAULT_RE: Final = _char_class(DEFAULT_CHARS, negate=True)
"""Matches a character outside the default alphabet (extension or not GSM at all)."""
NON_GSM_RE: Final = _char_class(GSM_CHARS, negate=True)
"""Matches a character GSM-7 cannot carry, even through the extension table."""
_EXTENSION_RE: Final = _char_class(EXTENSION_CHARS)

_ENCODE_TABLE: Final[dict[int, str]] = {
    **{ord(c): chr(v) for c, v in DEFAULT_ALPHABET.items()},
    **{ord(c): chr(ESC) + chr(v) for c, v in EXTENSION_TABLE.items()},
}
_DECODE_TABLE: Final[dict[int, str]] = {v: c for c, v in DEFAULT_ALPHABET.items()}
_DECODE_EXTENSION: Final[dict[str, str]] = {chr(v): c for c, v in EXTENSION_TABLE.items()}
_ESCAPED_PAIR_RE: Final = re.compile("\x1b(.)", re.DOTALL)
_CR: Final = DEFAULT_ALPHABET["\r"]


def _unencodable(match: re.Match[str]) -> ValueError:
    char = match.group()
    return ValueError(
        f"character {char!r} (U+{ord(char):04X}) at index {match.start()} "
        "is not in the GSM 03.38 alphabet"
    )


def is_gsm_char(char: str) -> bool:
    """Tell whether a single character can be sent in GSM-7.

    Args:
        char: One character.  Longer strings are never GSM characters.

    Returns:
        True for the default alphabet and the extension table.  ESC (U+001B) is False:
        septet 0x1B is an escape code, not a character.
    """
    return char in GSM_CHARS


def gsm_septets(text: str) -> int:
    """Count the septets ``text`` occupies in GSM-7, extension characters counting two.

    Args:
        text: Text made only of GSM characters.

    Returns:
        The number of septets, ignoring any segmentation.

    Raises:
        ValueError: A character is not in the GSM 03.38 alphabet; the message names it
            and its index.
    """
    first = NON_DEFAULT_RE.search(text)
    if first is None:
        return len(text)
    bad = NON_GSM_RE.search(text, first.start())
    if bad is not None:
        raise _unencodable(bad)
    return len(text) + len(_EXTENSION_RE.findall(text, first.start()))


def encode_septets(text: str) -> bytes:
    """Encode text as unpacked septets, one per byte, with ESC before extension chars.

    Args:
        text: Text made only of GSM characters.

    Returns:
        Septet values (each < 0x80); ``len(result) == gsm_septets(text)``.

    Raises:
        ValueError: A character is not in the GSM 03.38 alphabet.
    """
    bad = NON_GSM_RE.search(text)
    if bad is not None:
        raise _unencodable(bad)
    # Each mapped value is chr(septet) < U+0080, so latin-1 turns it into bytes 1:1.
    return text.translate(_ENCODE_TABLE).encode("latin-1")


def decode_septets(septets: bytes) -> str:
    """Decode unpacked septets (one per byte) back to text.

    ESC followed by a code the extension table does not define decodes to the default
    alphabet character for that code, and ESC ESC to a space, as TS 23.038 asks receivers
    to do; that keeps decoding total for anything a real network may deliver.

    Args:
        septets: Septet values, each < 0x80.

    Returns:
        The decoded text.

    Raises:
        ValueError: A byte is not a septet (>= 0x80), or the data ends with a lone ESC.
    """
    if not septets.isascii():
        index = next(i for i, b in enumerate(septets) if b > 0x7F)
        raise ValueError(f"byte 0x{septets[index]:02X} at index {index} is not a septet")
    raw = septets.decode("latin-1")
    if "\x1b" not in raw:
        return raw.translate(_DECODE_TABLE)
    pieces: list[str] = []
    pos = 0
    for match in _ESCAPED_PAIR_RE.finditer(raw):
        pieces.append(raw[pos : match.start()].translate(_DECODE_TABLE))
        code = match.group(1)
        if code == "\x1b":
            pieces.append(" ")
        else:
            pieces.append(_DECODE_EXTENSION.get(code) or code.translate(_DECODE_TABLE))
        pos = match.end()
    tail = raw[pos:]
    if "\x1b" in tail:
        raise ValueError("septets end with an ESC that has no following code")
    pieces.append(tail.translate(_DECODE_TABLE))
    return "".join(pieces)


def pack_septets(septets: bytes, *, fill_bits: int = 0) -> bytes:
    """Pack septets into octets, least significant bit first (TS 23.038 section 6.1.2.1).

    When the last octet would carry exactly seven spare bits they are filled with CR
    rather than zeros, so a receiver that derives the length from the octet count does not
    show a stray ``@`` (TS 23.038 section 6.1.2.3.1).

    Args:
        septets: Septet values, each < 0x80 (as produced by :func:`encode_septets`).
        fill_bits: Zero bits to insert before the first septet (0-6), used to align the
            text to a septet boundary after a User Data Header.

    Returns:
        The packed octets.

    Raises:
        ValueError: A value is >= 0x80 or ``fill_bits`` is outside 0-6.
    """
    if not 0 <= fill_bits <= 6:
        raise ValueError(f"fill_bits must be between 0 and 6, got {fill_bits}")
    if not septets.isascii():
        raise ValueError("septet values must be below 0x80")
    out = bytearray()
    acc = 0
    nbits = fill_bits
    for septet in septets:
        acc |= septet << nbits
        nbits += 7
        while nbits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8
    if nbits:
        if nbits == 1:
            acc |= _CR << 1
        out.append(acc & 0xFF)
    return bytes(out)


def unpack_septets(data: bytes, count: int, *, fill_bits: int = 0) -> bytes:
    """Unpack ``count`` septets from 7-bit packed octets.

    The count is required because the octet length alone is ambiguous: seven spare bits
    at the end may or may not be a septet.  In an SMS it is the UDL field.

    Args:
        data: Packed octets.
        count: Number of septets to extract.
        fill_bits: Bits to skip before the first septet (0-6).

    Returns:
        Septet values, one per byte.

    Raises:
        ValueError: ``count`` needs more bits than ``data`` holds, or ``fill_bits`` is
            outside 0-6.
    """
    if not 0 <= fill_bits <= 6:
        raise ValueError(f"fill_bits must be between 0 and 6, got {fill_bits}")
    available = (len(data) * 8 - fill_bits) // 7
    if not 0 <= count <= available:
        raise ValueError(f"cannot unpack {count} septets from {len(data)} octets")
    value = int.from_bytes(data, "little") >> fill_bits
    return bytes((value >> (7 * i)) & 0x7F for i in range(count))
