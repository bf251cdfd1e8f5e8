"""8-bit (binary) messages: octets, user data headers and how many parts they take.

Binary payloads (WAP push, OTA settings, logos) travel as octets, not text: one SMS
carries 140 octets of user data, header included. A payload that does not fit is split
with a concatenation header (``05 00 03 ref total seq``: 6 octets), leaving 134 octets per
part; a caller's own header shares each part with it (3GPP TS 23.040 9.2.3.24).
"""

from __future__ import annotations

import re

import attrs

__all__ = [
    "OCTETS_MULTI",
    "OCTETS_SINGLE",
    "BinarySegmentation",
    "parse_hex",
    "segment_binary",
]

OCTETS_SINGLE = 140
"""User data octets in one SMS, header included."""
_CONCAT_IE = 5  # IEI 00, length 03, reference, total, sequence
OCTETS_MULTI = OCTETS_SINGLE - 1 - _CONCAT_IE
"""Payload octets per part of a concatenated 8-bit message (one UDHL octet + 5)."""
_MAX_PARTS = 255  # the concatenation header counts parts in one octet
_HEX_RE = re.compile(r"(?:[0-9A-Fa-f]{2})*")


def parse_hex(value: str) -> bytes:
    """Octets written as hex pairs (either case, nothing else).

    Raises:
        ValueError: Odd length or a character that is not a hex digit.
    """
    if not isinstance(value, str) or not _HEX_RE.fullmatch(value):
        raise ValueError("not hex octets (pairs of 0-9, A-F)")
    return bytes.fromhex(value)


def check_udh(udh: bytes) -> None:
    """Refuse a user data header whose length octet (UDHL) disagrees with its length.

    Raises:
        ValueError: An empty header or a wrong UDHL.
    """
    if not udh or udh[0] != len(udh) - 1:
        raise ValueError(
            "a user data header starts with its own length (UDHL): "
            f"{len(udh) - 1 if udh else 0} expected, {udh[0] if udh else 'nothing'} given"
        )


@attrs.frozen(kw_only=True, slots=True)
class BinarySegmentation:
    """A binary payload as it will travel.

    Args:
        data: The payload, without any header.
        udh: The caller's own user data header (UDHL included), or empty.
        parts: The payload octets each part carries.
    """

    data: bytes
    udh: bytes
    parts: tuple[bytes, ...]

    @property
    def part_count(self) -> int:
        """Parts the message takes (and is billed for)."""
        return len(self.parts)

    @property
    def encoding(self) -> str:
        """``"8-bit"``: the name the pricing and result tables show."""
        return "8-bit"


def segment_binary(data: bytes, *, udh: bytes = b"") -> BinarySegmentation:
    """Split a binary payload into SMS parts.

    Args:
        data: The payload octets (not empty).
        udh: A user data header of the caller's (starting with its UDHL octet). When
            the payload needs several parts, the concatenation element is added to it,
            so every part carries both.

    Raises:
        ValueError: Empty data, a malformed header, a header leaving no room, or more
            than 255 parts.
    """
    if not data:
        raise ValueError("a binary message needs at least one octet of data")
    if udh:
        check_udh(udh)
    single = OCTETS_SINGLE - len(udh)
    if single <= 0:
        raise ValueError(f"a {len(udh)}-octet header leaves no room for data")
    if len(data) <= single:
        return BinarySegmentation(data=data, udh=udh, parts=(data,))
    # Several parts: one UDHL octet plus the caller's elements plus the concatenation one.
    room = OCTETS_SINGLE - 1 - max(len(udh) - 1, 0) - _CONCAT_IE
    if room <= 0:
        raise ValueError(f"a {len(udh)}-octet header leaves no room for concatenation")
    parts = tuple(data[i : i + room] for i in range(0, len(data), room))
    if len(parts) > _MAX_PARTS:
        raise ValueError(f"{len(data)} octets need {len(parts)} parts, more than 255")
    return BinarySegmentation(data=data, udh=udh, parts=parts)
