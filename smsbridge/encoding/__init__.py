"""Character encoding and segmentation of SMS text (GSM 03.38, national tables, UCS-2).

The entry point is :func:`segment`, which picks the cheapest encoding and splits text
into the parts that will actually travel; see ``docs/segmentation.md``.
"""

from __future__ import annotations

from .binary import OCTETS_MULTI, OCTETS_SINGLE, BinarySegmentation, segment_binary
from .gsm0338 import (
    DEFAULT_ALPHABET,
    EXTENSION_TABLE,
    GSM_CHARS,
    decode_septets,
    encode_septets,
    gsm_septets,
    is_gsm_char,
    pack_septets,
    unpack_septets,
)
from .national import NATIONAL_LANGUAGES, NationalLanguage, decode_national, encode_national
from .segmentation import (
    GSM7,
    GSM7_MULTI_LIMIT,
    GSM7_SINGLE_LIMIT,
    UCS2,
    UCS2_MULTI_LIMIT,
    UCS2_SINGLE_LIMIT,
    Encoding,
    NationalSegmentation,
    Segmentation,
    segment,
)
from .transliteration import GSM_EQUIVALENTS, transliterate

__all__ = [
    "DEFAULT_ALPHABET",
    "EXTENSION_TABLE",
    "GSM7",
    "GSM7_MULTI_LIMIT",
    "GSM7_SINGLE_LIMIT",
    "GSM_CHARS",
    "GSM_EQUIVALENTS",
    "NATIONAL_LANGUAGES",
    "OCTETS_MULTI",
    "OCTETS_SINGLE",
    "UCS2",
    "UCS2_MULTI_LIMIT",
    "UCS2_SINGLE_LIMIT",
    "BinarySegmentation",
    "Encoding",
    "NationalLanguage",
    "NationalSegmentation",
    "Segmentation",
    "decode_national",
    "decode_septets",
    "encode_national",
    "encode_septets",
    "gsm_septets",
    "is_gsm_char",
    "pack_septets",
    "segment",
    "segment_binary",
    "transliterate",
    "unpack_septets",
]
