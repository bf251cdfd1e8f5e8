"""User Data Header arithmetic: how much of an SMS part's 140 octets the text gets.

TS 23.040 section 9.2.3.24: a part with any Information Element starts with the UDH length
octet (UDHL) followed by its IEs.  A concatenated message carries the 8-bit reference
concatenation IE (IEI 0x00, length 3: reference, total, sequence; 5 octets) in every
part, and each national language shift table used carries its own IE (IEI 0x24 single
shift, 0x25 locking shift, length 1, the language id; 3 octets) in every part, a lone
part included.  GSM-7 text starts on the next septet boundary after the UDH (fill bits),
so a part holds ``floor((140 - UDH) * 8 / 7)`` septets:

============================  ===========  =======================
shift tables                  one part     each part of several
============================  ===========  =======================
none                          160 (no UDH) 153 (UDH 6)
one (single or locking)       155 (UDH 4)  149 (UDH 9)
two (single and locking)      152 (UDH 7)  146 (UDH 12)
============================  ===========  =======================
"""

from __future__ import annotations

from typing import Final

__all__ = ["CONCATENATION_IE", "SHIFT_IE", "USER_DATA_OCTETS", "septet_capacity", "udh_octets"]

#: Octets of user data in one SMS part.
USER_DATA_OCTETS: Final = 140
#: Octets of the 8-bit reference concatenation IE (IEI, length, 3 data octets).
CONCATENATION_IE: Final = 5
#: Octets of one national language shift IE (IEI, length, language id).
SHIFT_IE: Final = 3


def udh_octets(shift_tables: int, multipart: bool) -> int:
    """Octets of UDH in each part, the UDHL octet included; 0 when there is no IE.

    Args:
        shift_tables: National language shift IEs in the header (0, 1 or 2).
        multipart: Whether the message is concatenated (then every part has the
            concatenation IE).
    """
    ies = SHIFT_IE * shift_tables + (CONCATENATION_IE if multipart else 0)
    return 1 + ies if ies else 0


def septet_capacity(shift_tables: int, multipart: bool) -> int:
    """Septets of GSM-7 text one part holds after its UDH and fill bits.

    Args:
        shift_tables: National language shift IEs in the header (0, 1 or 2).
        multipart: Whether the message is concatenated.
    """
    return (USER_DATA_OCTETS - udh_octets(shift_tables, multipart)) * 8 // 7
