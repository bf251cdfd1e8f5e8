"""Pure EAPI request pieces and response parsers: no I/O, no clock.

Everything the provider puts on the wire is built here from values, so a resend of a
stored request is byte-identical, and everything it reads back is parsed here into typed
values or a :class:`~smsbridge.MalformedResponseError` -- never another exception.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, tzinfo
from decimal import Decimal, InvalidOperation

import attrs

from smsbridge import (
    GSM7,
    UCS2,
    DeliveryReport,
    MalformedResponseError,
    Outcome,
    ProviderError,
    segment,
)

from .codes import REPORT_CODES, SUBMISSION_CODES

__all__ = [
    "CHARSET",
    "CREDITS_PATH",
    "GREEK_TO_LATIN1",
    "OPTIONAL_COLUMNS",
    "QUOTE_PATH",
    "REPORT_PATH",
    "SEND_BATCH_PATH",
    "SEND_SMS_PATH",
    "EncodedText",
    "ReportRow",
    "SubmissionReply",
    "encode_form",
    "encode_text",
    "parse_callback_query",
    "parse_credits",
    "parse_quote",
    "parse_report",
    "parse_submission",
    "write_batch_csv",
]

SEND_BATCH_PATH = "submission/send_batch/1/1.0"
SEND_SMS_PATH = "submission/send_sms/2/2.0"
QUOTE_PATH = "submission/quote_sms/2/2.0"
CREDITS_PATH = "user/get_credits/1/1.1"
REPORT_PATH = "status_reports/get_report/2/2.0"

CHARSET = "iso-8859-1"
"""EAPI parameter values are ISO-8859-1."""

PROVIDER = "bulksms"

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


def _form_value(value: str) -> str:
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
    return "&".join(f"{_form_value(name)}={_form_value(value)}" for name, value in fields).encode(
        "ascii"
    )


def format_send_time(when: datetime, zone: tzinfo) -> str:
    """``send_time`` in the account's time zone: ``yyyy-mm-dd hh:mm:ss``."""
    return when.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


# -- responses --------------------------------------------------------------------------

_CODE = re.compile(r"^\d{1,9}$")
_POSITIVE = re.compile(r"^[1-9]\d{0,18}$")


def _malformed(what: str, text: str) -> MalformedResponseError:
    return MalformedResponseError(
        f"unreadable {what} response from BulkSMS", excerpt=text[:120], provider=PROVIDER
    )


def refusal(code: str, outcome: Outcome, description: str) -> ProviderError:
    """The request-level error for a failure code; the description is informational only."""
    return ProviderError(
        outcome.description,
        scope=outcome.scope,
        kind=outcome.kind,
        code=code,
        provider=PROVIDER,
        provider_text=description[:200] or None,
    )


@attrs.frozen(slots=True)
class SubmissionReply:
    """A successful ``send_sms``/``send_batch`` answer.

    Args:
        code: ``"0"`` (in progress) or ``"1"`` (scheduled).
        batch_id: The batch id, a positive integer.
    """

    code: str
    batch_id: str

    @property
    def outcome(self) -> Outcome:
        """The code's meaning."""
        return SUBMISSION_CODES[self.code]


def _split(text: str, what: str) -> list[str]:
    line = text.strip()
    if not line or "\n" in line:
        raise _malformed(what, text)
    fields = line.split("|")
    if not _CODE.match(fields[0].strip()):
        raise _malformed(what, text)
    fields[0] = str(int(fields[0]))
    return fields


def parse_submission(text: str) -> SubmissionReply:
    """Parse ``status_code|status_description|batch_id``.

    Raises:
        ProviderError: A documented failure code, with the table's scope and kind.
        MalformedResponseError: Anything else: not the format, a code the documentation
            does not list (it could be a success: never guessed), or a success without
            a positive batch id.
    """
    fields = _split(text, "submission")
    code = fields[0]
    if code not in SUBMISSION_CODES:
        raise _malformed("submission (undocumented code)", text)
    outcome = SUBMISSION_CODES[code]
    if outcome.is_error:
        raise refusal(code, outcome, "|".join(fields[1:2]))
    batch_id = fields[-1].strip() if len(fields) >= 3 else ""
    if not _POSITIVE.match(batch_id):
        raise _malformed("submission (no batch id)", text)
    return SubmissionReply(code, batch_id)


def _parse_amount(value: str, what: str, text: str) -> Decimal:
    try:
        amount = Decimal(value.strip())
    except (InvalidOperation, ValueError):
        raise _malformed(what, text) from None
    if not amount.is_finite():
        raise _malformed(what, text)
    return amount


def _failure(fields: list[str], what: str, text: str) -> ProviderError | MalformedResponseError:
    code = fields[0]
    if code not in SUBMISSION_CODES or not SUBMISSION_CODES[code].is_error:
        return _malformed(f"{what} (undocumented code)", text)
    return refusal(code, SUBMISSION_CODES[code], "|".join(fields[1:2]))


def parse_credits(text: str) -> Decimal:
    """Parse ``get_credits`` (``0|2101.15``) into the remaining credits.

    Raises:
        ProviderError: A documented failure code (e.g. 23).
        MalformedResponseError: Anything else.
    """
    fields = _split(text, "get_credits")
    if fields[0] != "0":
        raise _failure(fields, "get_credits", text)
    if len(fields) != 2:
        raise _malformed("get_credits", text)
    return _parse_amount(fields[1], "get_credits", text)


def parse_quote(text: str) -> Decimal:
    """Parse ``quote_sms`` (``0|Quotation issued|12.5``) into the credits it would cost.

    Raises:
        ProviderError: A documented failure code.
        MalformedResponseError: Anything else.
    """
    fields = _split(text, "quote_sms")
    if fields[0] != "0":
        raise _failure(fields, "quote_sms", text)
    if len(fields) < 3:
        raise _malformed("quote_sms", text)
    return _parse_amount(fields[-1], "quote_sms", text)


@attrs.frozen(slots=True)
class ReportRow:
    """One ``get_report`` row: a recipient and its message status code."""

    msisdn: str
    code: str
    extra: tuple[str, ...] = ()


def parse_report(text: str) -> list[ReportRow]:
    """Parse ``get_report``: a ``0|...`` header line, a blank line, ``msisdn|code`` rows.

    Raises:
        ProviderError: The header carries a failure code (22, 23, 24...).
        MalformedResponseError: Anything else, including an undocumented row code.
    """
    lines = text.replace("\r\n", "\n").split("\n")
    header = _split(lines[0], "get_report")
    if header[0] != "0":
        raise _failure(header, "get_report", text)
    rows: list[ReportRow] = []
    for line in lines[1:]:
        if not line.strip():
            continue
        fields = [f.strip() for f in line.split("|")]
        if len(fields) < 2 or not fields[0].isdigit() or not _CODE.match(fields[1]):
            raise _malformed("get_report row", text)
        code = str(int(fields[1]))
        if code not in REPORT_CODES:
            raise _malformed("get_report (undocumented status)", text)
        rows.append(ReportRow(fields[0], code, tuple(fields[2:])))
    return rows


def report_from_row(
    row: ReportRow, batch_id: str, *, raw: Mapping[str, str] | None = None
) -> DeliveryReport:
    """A :class:`~smsbridge.DeliveryReport` for one recipient of a batch."""
    outcome = REPORT_CODES[row.code]
    return DeliveryReport(
        provider=PROVIDER,
        message_id=f"{batch_id}:{row.msisdn}",
        status=outcome.status,
        provider_code=row.code,
        provider_text=outcome.description,
        recipient=f"+{row.msisdn}",
        error=outcome.info(row.code) if outcome.is_error else None,
        raw=raw if raw is not None else {"batch_id": batch_id, "msisdn": row.msisdn},
    )


def parse_callback_query(query: Mapping[str, str], *, zone: tzinfo | None = None) -> DeliveryReport:
    """Parse an HTTP-push status report (``msisdn``, ``batch_id``, ``status``...).

    Args:
        query: The GET parameters.
        zone: The account's time zone, to read ``completed_time`` (``yy-MM-dd HH:mm:ss``
            in the profile's zone); without it the time is left in ``raw`` only.

    Raises:
        MalformedResponseError: A missing or malformed field, or an undocumented status.
    """
    shown = "&".join(f"{k}={v}" for k, v in list(query.items())[:6])
    msisdn = str(query.get("msisdn", "")).strip()
    batch_id = str(query.get("batch_id", "")).strip()
    status = str(query.get("status", "")).strip()
    if not msisdn.isdigit() or not _POSITIVE.match(batch_id) or not _CODE.match(status):
        raise _malformed("status report push", shown)
    code = str(int(status))
    if code not in REPORT_CODES:
        raise _malformed("status report push (undocumented status)", shown)
    raw = {k: str(v) for k, v in query.items() if k in _PUSH_FIELDS}
    report = report_from_row(ReportRow(msisdn, code), batch_id, raw=raw)
    completed = raw.get("completed_time")
    if completed and zone is not None:
        try:
            when = datetime.strptime(completed, "%y-%m-%d %H:%M:%S").replace(tzinfo=zone)
        except ValueError:
            raise _malformed("status report push (completed_time)", shown) from None
        report = attrs.evolve(report, occurred_at=when)
    return report


_PUSH_FIELDS = frozenset(
    {"msisdn", "batch_id", "status", "completed_time", "source_id", "created_time", "credits"}
)
