"""Shared hypothesis strategies.

The GSM 03.38 character sets are spelled out here again, independently of
``smsbridge.encoding``, so that tests built on them check the package against the
standard rather than against itself.
"""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata

import attrs
from hypothesis import strategies as st

from smsbridge.encoding.national import NATIONAL_LANGUAGES, charset

__all__ = [
    "BOUNDARY_LENGTHS",
    "GSM_DEFAULT",
    "GSM_EXTENSION",
    "HostileCsv",
    "any_text",
    "astral_char",
    "boundary_text",
    "callback_request",
    "gsm_char",
    "gsm_extension_heavy_text",
    "gsm_text",
    "hostile_csv",
    "is_sendable",
    "national_case",
    "non_gsm_char",
    "refused_char",
    "sendable_text",
    "sms_text",
    "straddling_text",
    "ucs2_text",
]

#: The 127 characters of the GSM 03.38 default alphabet, in septet order without ESC.
GSM_DEFAULT = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
#: The extension table: each costs two septets (ESC + code).
GSM_EXTENSION = "\f^{}\\[~]|€"

#: Lengths around every limit: 67/70 (UCS-2), 153/160 (GSM-7) and their multiples.
BOUNDARY_LENGTHS = (
    *range(0, 3),
    *range(65, 73),
    *range(132, 137),
    *range(150, 164),
    *range(199, 203),
    *range(304, 309),
    *range(457, 462),
)

gsm_default_char = st.sampled_from(GSM_DEFAULT)
gsm_extension_char = st.sampled_from(GSM_EXTENSION)
gsm_char = st.sampled_from(GSM_DEFAULT + GSM_EXTENSION)

#: A code point outside the Basic Multilingual Plane (two UTF-16 units).
astral_char = st.one_of(
    st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF),  # emoji
    st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF, exclude_categories=["Cs"]),
)

#: Any character that GSM-7 cannot carry, astral ones included.  ESC (U+001B) and ç are
#: listed explicitly because they are the classic near misses.
non_gsm_char = st.one_of(
    st.sampled_from("\x1bç`‘’“”–—…\u00a0\u200bêÀЖжωα中😀"),
    st.characters(exclude_characters=GSM_DEFAULT + GSM_EXTENSION, exclude_categories=["Cs"]),
    astral_char,
)

#: Characters of every kind: default alphabet, extension table, other BMP, astral.
any_char = st.one_of(
    gsm_default_char,
    gsm_extension_char,
    st.characters(exclude_categories=["Cs"]),
    astral_char,
)


#: Characters :func:`smsbridge.model.check_text` refuses: lone surrogates and control
#: characters other than tab, newline, carriage return and form feed.
refused_char = st.one_of(
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
    st.sampled_from(
        [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0)) if c not in (9, 10, 12, 13)]
    ),
)


def is_sendable(text: str) -> bool:
    """True when :func:`smsbridge.model.check_text` accepts ``text`` (for filters)."""
    return not any(
        0xD800 <= ord(c) <= 0xDFFF or (unicodedata.category(c) == "Cc" and c not in "\t\n\r\f")
        for c in text
    )


def sendable_text(max_size: int = 40) -> st.SearchStrategy[str]:
    """Text :func:`smsbridge.model.check_text` accepts (no surrogates, no refused controls)."""
    return st.text(
        st.characters(exclude_categories=["Cs", "Cc"]) | st.sampled_from("\t\n\r\f"),
        max_size=max_size,
    )


def any_text(max_size: int = 480) -> st.SearchStrategy[str]:
    """Arbitrary Unicode text (no lone surrogates), rich in GSM and astral characters."""
    return st.text(any_char, max_size=max_size)


def gsm_text(max_size: int = 480) -> st.SearchStrategy[str]:
    """Text that GSM-7 can carry, drawn uniformly from default and extension chars."""
    return st.text(gsm_char, max_size=max_size)


def gsm_extension_heavy_text(max_size: int = 480) -> st.SearchStrategy[str]:
    """GSM text where about half the characters are two-septet extension chars."""
    return st.text(st.one_of(gsm_default_char, gsm_extension_char), max_size=max_size)


@st.composite
def ucs2_text(draw: st.DrawFn, max_size: int = 480) -> str:
    """Text with at least one non-GSM character, so it must go as UCS-2."""
    body = draw(st.text(st.one_of(gsm_char, astral_char, non_gsm_char), max_size=max_size))
    index = draw(st.integers(min_value=0, max_value=len(body)))
    return body[:index] + draw(non_gsm_char) + body[index:]


@st.composite
def boundary_text(draw: st.DrawFn) -> str:
    """Text whose length sits on or next to a segmentation limit."""
    length = draw(st.sampled_from(BOUNDARY_LENGTHS))
    alphabet = draw(
        st.sampled_from(
            [
                gsm_default_char,
                gsm_char,
                st.one_of(gsm_default_char, non_gsm_char),
                st.one_of(gsm_default_char, astral_char),
                any_char,
            ]
        )
    )
    return draw(st.text(alphabet, min_size=length, max_size=length))


@st.composite
def straddling_text(draw: st.DrawFn) -> str:
    """A two-unit character placed so that it may straddle a part boundary.

    A run of one-unit characters fills a part to within a unit or two of its limit,
    then comes an extension char (GSM-7) or an astral char (UCS-2), then more text.
    """
    wide = draw(st.booleans())
    filler = st.sampled_from("abcXYZ 019") if not wide else st.sampled_from("abЖж中 1")
    limits = (67, 70, 134) if wide else (153, 160, 306)
    length = draw(st.sampled_from(limits)) + draw(st.integers(min_value=-3, max_value=1))
    double = draw(astral_char if wide else gsm_extension_char)
    tail = draw(st.text(st.one_of(filler, astral_char if wide else gsm_extension_char)))
    head = draw(st.text(filler, min_size=length, max_size=length))
    return head + double + tail


def sms_text() -> st.SearchStrategy[str]:
    """Everything above, for properties that must hold on any input."""
    return st.one_of(
        any_text(),
        gsm_text(),
        gsm_extension_heavy_text(),
        ucs2_text(),
        boundary_text(),
        straddling_text(),
    )


# -- hostile recipient files ---------------------------------------------------------

#: Names hold no digits, so no line of a multi-line name can look like a recipient row;
#: quotes, commas and line breaks make csv.writer quote them and span lines.
_NAME_CHARS = st.sampled_from("abcdefghij XYZ,;'\"\n!?éЖ😀")
#: Bytes that cannot be decoded, per file encoding (a lone low surrogate in UTF-16).
_UNDECODABLE = {"utf-8": b"\xff", "utf-16-le": b"\x00\xdc"}
_DAMAGES = ("undecodable", "unterminated", "ragged", "short", "huge", "after_quote")


@attrs.frozen
class HostileCsv:
    """A recipient file (columns ``to,name``) with damaged rows, and what a reader
    must make of it.

    Args:
        data: The file's bytes.
        good: The good rows: first line -> (number, name).
        bad: The first line of each damaged row, in order.
        numbers: Every number of the file, good rows' and damaged rows' alike.
    """

    data: bytes
    good: dict[int, tuple[str, str]]
    bad: tuple[int, ...]
    numbers: tuple[str, ...]


def _damaged(kind: str, number: str, codec: str) -> bytes:
    if kind == "undecodable":
        head, tail = f"{number},ab".encode(codec), "cd\n".encode(codec)
        return head + _UNDECODABLE[codec] + tail
    text = {
        "unterminated": f'{number},"never closed\n',
        "ragged": f"{number},a,b\n",
        "short": f"{number}\n",
        "huge": f"{number},{'x' * (csv.field_size_limit() + 1)}\n",
        "after_quote": f'{number},"ab"cd\n',
    }[kind]
    return text.encode(codec)


@st.composite
def hostile_csv(draw: st.DrawFn, max_rows: int = 25, first: int = 0) -> HostileCsv:
    """A ``to,name`` file, UTF-8 (with or without BOM) or UTF-16 with a BOM, whose rows
    are good (names quoted as needed, some spanning lines) or damaged: undecodable
    bytes, an unterminated quote, too many or too few columns, a field over the CSV
    field limit, text after a closing quote. Numbers are ``+447700900000 + first + i``.
    """
    codec, bom = draw(
        st.sampled_from(
            [("utf-8", b""), ("utf-8", codecs.BOM_UTF8), ("utf-16-le", codecs.BOM_UTF16_LE)]
        )
    )
    kinds = draw(
        st.lists(
            st.one_of(st.just("good"), st.sampled_from(_DAMAGES)), min_size=1, max_size=max_rows
        )
    )
    chunks = [bom, "to,name\n".encode(codec)]
    good: dict[int, tuple[str, str]] = {}
    bad: list[int] = []
    numbers: list[str] = []
    line = 2
    for index, kind in enumerate(kinds):
        number = f"+44770090{first + index:04d}"
        numbers.append(number)
        if kind == "good":
            name = draw(st.text(_NAME_CHARS, max_size=12))
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\n").writerow([number, name])
            text = buffer.getvalue()
            chunks.append(text.encode(codec))
            good[line] = (number, name)
            line += text.count("\n")
        else:
            chunks.append(_damaged(kind, number, codec))
            bad.append(line)
            line += 1
    return HostileCsv(b"".join(chunks), good, tuple(bad), tuple(numbers))


# --- hostile delivery-report callbacks ----------------------------------------------------

#: Field names the bundled providers' callbacks use, so that garbage reaches the parsers.
CALLBACK_FIELDS = (
    "api_id", "apiMsgId", "cliMsgId", "to", "from", "timestamp", "status", "charge", "data",
    "msisdn", "batch_id", "referring_batch_id", "completed_time",
    "smsMsgId", "sequence", "total", "extend", "updateTime", "orgCode", "source",
    "numero", "statut", "smsID", "date_reception", "refClient", "cost", "mcc_mnc",
)  # fmt: skip

_field_value = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"\A[0-9]{1,25}\Z"),
    st.sampled_from(["", "004", "11", "DELIVRD", "-1", "1e9", "NaN", "0x1F", "+447700900123"]),
    st.integers(1, 70_000).map(lambda n: "x" * n),  # up to a field beyond any cap
    st.text(alphabet=st.characters(codec="utf-8"), max_size=20),
)
_fields = st.lists(
    st.tuples(st.one_of(st.sampled_from(CALLBACK_FIELDS), st.text(max_size=12)), _field_value),
    max_size=12,
)
_json_value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _form(pairs: list[tuple[str, str]]) -> bytes:
    from urllib.parse import urlencode

    return urlencode(pairs).encode("utf-8")


def _xml(pairs: list[tuple[str, str]]) -> bytes:
    from xml.sax.saxutils import escape

    inner = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in pairs if k.isidentifier())
    return f"<?xml version='1.0'?><callback>{inner}</callback>".encode()


_bodies = st.one_of(
    st.binary(max_size=300),
    _fields.map(_form),
    _fields.map(_xml),
    _fields.map(lambda pairs: _form([("data", _xml(pairs).decode())])),
    _json_value.map(lambda value: __import__("json").dumps(value).encode()),
    st.sampled_from([
        b"%", b"%zz=%", b"a=%e9%ff%fe", b"status=%00&apiMsgId=%0a", b"\xff\xfe\x00<",
        b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'aaaa'><!ENTITY b '&a;&a;&a;&a;'>]>"
        b"<callback><status>&b;</status></callback>",
        b"<callback><status>004</callback>", b'{"callback": {"apiMsgId": [1, 2]}}',
        b"data=%3Ccallback%3E%3CapiMsgId%3E%3C%2F", b"a" * 70_000,
    ]),
)  # fmt: skip


@st.composite
def callback_request(draw: st.DrawFn) -> tuple[str, str, str, bytes]:
    """A hostile callback: ``(method, query string, content type, body)``, where the
    query string and body are anything from valid-looking fields with wrong values to
    broken encodings and binary garbage."""
    method = draw(st.sampled_from(["GET", "POST", "POST", "PUT"]))
    query = draw(st.one_of(st.just(""), _fields.map(lambda p: _form(p).decode())))
    query = query[: draw(st.integers(0, 8000))]  # a URL over any sane length is refused
    ctype = draw(
        st.sampled_from([
            "application/x-www-form-urlencoded", "text/xml", "application/json",
            "application/x-www-form-urlencoded; charset=latin-1", "text/plain", "",
            "multipart/form-data; boundary=x",
        ])
    )  # fmt: skip
    body = draw(_bodies) if method != "GET" else b""
    return method, query, ctype, body


#: Lengths around the limits with national tables: 146/149/152/155 and their multiples.
NATIONAL_LENGTHS = (*range(144, 162), *range(290, 312), *range(436, 452))


@st.composite
def national_case(draw: st.DrawFn) -> tuple[tuple[str, ...], str]:
    """Allowed national languages and a text mostly written with one pair of their tables.

    The characters come from the package's tables (which ``tests/encoding/test_national.py``
    checks against the standard), so that the texts exercise the table choice; one in
    ten also carries a character no table has, which must fall back to UCS-2.
    """
    codes = tuple(
        draw(
            st.lists(
                st.sampled_from(sorted(NATIONAL_LANGUAGES)), min_size=1, max_size=2, unique=True
            )
        )
    )
    lockings = [None, *(c for c in codes if NATIONAL_LANGUAGES[c].locking is not None)]
    locking = draw(st.sampled_from(lockings))
    single = draw(st.sampled_from([None, *codes]))
    chars = charset(locking, single)
    alphabet = sorted({*chars.direct, *chars.escaped})
    size = draw(st.one_of(st.integers(0, 460), st.sampled_from(NATIONAL_LENGTHS)))
    text = draw(st.text(st.sampled_from(alphabet), min_size=size, max_size=size))
    if draw(st.integers(0, 9)) == 0:
        where = draw(st.integers(0, len(text)))
        text = text[:where] + draw(st.sampled_from("ж中😀")) + text[where:]
    return codes, text


def binary_payload(max_size: int = 1200) -> st.SearchStrategy[bytes]:
    """Octets of an 8-bit message: from one to several parts' worth."""
    return st.binary(min_size=1, max_size=max_size)


@st.composite
def user_data_header(draw: st.DrawFn) -> bytes:
    """A well-formed user data header: its length octet, then that many octets."""
    elements = draw(st.binary(min_size=1, max_size=20))
    return bytes([len(elements)]) + elements
