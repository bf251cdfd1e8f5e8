"""Pure EAPI request pieces: text encoding, ``batch_data`` CSV, form bodies; no I/O.

Everything the provider puts on the wire is built here from values, so a resend of a
stored request is byte-identical. Reading answers back is :mod:`.parsers`' job.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, tzinfo

import attrs

from smsbridge import GSM7, UCS2, segment

__all__ = [
    "CHARSET",
    "CREDITS_PATH",
    "DIALECT",
    "GREEK_TO_LATIN1",
    "OPTIONAL_COLUMNS",
    "QUOTE_PATH",
    "REPORT_PATH",
    "SEND_BATCH_PATH",
    "SEND_SMS_PATH",
    "EncodedText",
    "choose_columns",
    "decode_text",
    "encode_form",
    "encode_text",
    "form_value",
    "format_send_time",
    "write_batch_csv",
]

SEND_BATCH_PATH = "submission/send_batch/1/1.0"
SEND_SMS_PATH = "submission/send_sms/2/2.0"
QUOTE_PATH = "submission/quote_sms/2/2.0"
CREDITS_PATH = "user/get_credits/1/1.1"
REPORT_PATH = "status_reports/get_report/2/2.0"

CHARSET = "iso-8859-1"
"""EAPI parameter values are ISO-8859-1."""

# GSM-7 letters with no ISO-8859-1 code point travel as these Latin-1 stand-ins (BulkSMS's
# own sample does this mapping); the gateway maps them back to the GSM alphabet.
GREEK_TO_LATIN1: Mapping[str, str] = {
    "Δ": "\xd0",
    "Φ": "\xde",
    "Γ": "\xac",
    "Λ": "\xc2",
    "Ω": "\xdb",
    "Π": "\xba",
    "Ψ": "\xdd",
    "Σ": "\xca",
    "Θ": "\xd4",
    "Ξ": "\xb1",
}
_GREEK_TABLE = str.maketrans(dict(GREEK_TO_LATIN1))

OPTIONAL_COLUMNS = ("sender", "msg_class", "dca", "routing_group", "source_id", "repliable")
"""Per-message CSV columns, in the order they are written."""

# What the gateway assumes when a parameter is absent: a column whose every value equals
# this is left out altogether.
_DOCUMENTED_DEFAULTS: Mapping[str, str] = {"msg_class": "2", "dca": "7bit"}


@attrs.frozen(slots=True)
class EncodedText:
    """A message body as the ``message`` field carries it.

    Args:
        field: The text (ISO-8859-1 representable) for ``7bit``, hex octets for ``16bit``.
        dca: ``"7bit"`` or ``"16bit"``.
        parts: SMS parts the body needs.
    """

    field: str
    dca: str
    parts: int


def encode_text(
    text: str, *, encoding: str | None = None, transliterate: bool = False
) -> EncodedText:
    """Encode a body for the ``message`` field.

    GSM-7 text goes as ISO-8859-1 (``dca=7bit``) with the Greek stand-ins; anything else,
    and GSM-7 text with a character ISO-8859-1 cannot stand in for (the euro sign), goes
    as ``dca=16bit``: upper-case hex of its UTF-16BE octets, no BOM.

    Raises:
        ValueError: ``encoding`` is unknown, or forces GSM-7 on text that is not.
    """
    seg = segment(text, encoding=encoding, transliterate=transliterate)
    if seg.encoding == GSM7:
        wire = seg.text.translate(_GREEK_TABLE)
        try:
            wire.encode(CHARSET)
        except UnicodeEncodeError:
            if encoding is not None and encoding.upper().replace("_", "-") in ("GSM-7", "GSM7"):
                raise ValueError("the euro sign cannot be sent as EAPI 7bit text") from None
            seg = segment(text, encoding=UCS2)
        else:
            return EncodedText(wire, "7bit", seg.part_count)
    return EncodedText(seg.text.encode("utf-16-be").hex().upper(), "16bit", seg.part_count)


def decode_text(field: str, dca: str) -> str:
    """The text a ``message`` field carries (the emulator's inverse of :func:`encode_text`).

    Raises:
        ValueError: A 16bit field that is not whole UTF-16BE hex.
    """
    if dca == "16bit":
        return bytes.fromhex(field).decode("utf-16-be")
    if dca == "8bit":
        return bytes.fromhex(field).decode(CHARSET)
    return field.translate({ord(v): k for k, v in GREEK_TO_LATIN1.items()})


class _Dialect(csv.Dialect):
    # Quotes inside a field are escaped with a backslash, as the EAPI documentation says;
    # every field is quoted so commas in bodies need nothing more.
    delimiter = ","
    quotechar = '"'
    escapechar = "\\"
    doublequote = False
    quoting = csv.QUOTE_ALL
    lineterminator = "\n"
    skipinitialspace = False
    strict = False


DIALECT: type[csv.Dialect] = _Dialect
"""The CSV dialect of ``batch_data`` (the emulator reads with it too)."""


def write_batch_csv(
    columns: Sequence[str], rows: Iterable[Sequence[str]], out: io.StringIO | None = None
) -> str:
    """Write ``batch_data``: an unquoted header line, then one quoted line per message.

    A line break inside a field is escaped with a backslash, as the documentation asks,
    so a gateway reading line by line keeps the message whole.
    """
    buffer = out if out is not None else io.StringIO()
    buffer.write(",".join(columns) + "\n")
    writer = csv.writer(buffer, dialect=_Dialect)
    scratch = io.StringIO()
    side = csv.writer(scratch, dialect=_Dialect)
    for row in rows:
        if any("\n" in value or "\r" in value for value in row):
            scratch.seek(0)
            scratch.truncate()
            side.writerow(row)
            line = scratch.getvalue()[:-1]
            buffer.write(line.replace("\r", "\\\r").replace("\n", "\\\n") + "\n")
        else:
            writer.writerow(row)
    return buffer.getvalue()


def choose_columns(
    rows: Sequence[Mapping[str, str | None]],
) -> tuple[list[str], dict[str, str]]:
    """Split optional settings into request-level defaults and per-message columns.

    A setting every message shares becomes one request parameter (or nothing, when it is
    the gateway's documented default); a setting that differs becomes a CSV column, where
    a message without a value of its own gets an empty field.

    Returns:
        The optional columns to write, and the request parameters.
    """
    columns: list[str] = []
    params: dict[str, str] = {}
    for name in OPTIONAL_COLUMNS:
        values = {row.get(name) for row in rows}
        if len(values) > 1:
            columns.append(name)
            continue
        (value,) = values or {None}
        if value is not None and value != _DOCUMENTED_DEFAULTS.get(name):
            params[name] = value
    return columns, params


_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")
# ISO-8859-1 code point -> its form encoding (as urlencode/quote_plus writes it). One
# str.translate per value runs in C; urlencode quotes byte by byte in Python, which made
# encoding a 10,000-message batch cost more than sending it.
_FORM_TABLE = {
    code: "+" if code == 0x20 else chr(code) if chr(code) in _SAFE else f"%{code:02X}"
    for code in range(256)
}


def form_value(value: str) -> str:
    """One name or value form-encoded (ISO-8859-1, ``quote_plus`` style), as ASCII text.

    Each character is encoded on its own, so the encoding of a concatenation is the
    concatenation of the encodings: a body can be assembled from encoded pieces.

    Raises:
        UnicodeEncodeError: A character outside ISO-8859-1.
    """
    quoted = value.translate(_FORM_TABLE)
    if not quoted.isascii():
        # Only code points above U+00FF survive the table: not ISO-8859-1.
        quoted.encode("ascii")  # raises UnicodeEncodeError naming the character
    return quoted


def encode_form(fields: Iterable[tuple[str, str]]) -> bytes:
    """A form body in the ISO-8859-1 the gateway decodes parameters with.

    Byte-for-byte what ``urlencode(fields, encoding="iso-8859-1")`` produces.

    Raises:
        UnicodeEncodeError: A value outside ISO-8859-1.
    """
    return "&".join(f"{form_value(name)}={form_value(value)}" for name, value in fields).encode(
        "ascii"
    )


def format_send_time(when: datetime, zone: tzinfo) -> str:
    """``send_time`` in the account's time zone: ``yyyy-mm-dd hh:mm:ss``."""
    return when.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
