"""Pure request builders and response parsers of smsmode's HTTP API 1.6.

No I/O here. Every parser takes the answer's text and either returns data or raises an
:class:`~smsbridge.SmsBridgeError`: a :class:`~smsbridge.ProviderError` for a
``code | description`` refusal (its scope and kind from :mod:`.codes`),
:class:`~smsbridge.MessageNotFoundError` for code 61, and
:class:`~smsbridge.MalformedResponseError` for anything it cannot read. Answers are
trimmed around ``|`` (real ones pad it with spaces) and nothing unrecognised is ever
taken for a success.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

import attrs

from smsbridge import (
    GSM7,
    UCS2,
    Cost,
    DeliveryReport,
    InvalidMessageError,
    MalformedResponseError,
    MessageNotFoundError,
    Segmentation,
    SendOptions,
    segment,
)

from .codes import ACCEPTED, ERRORS, NOT_FOUND, STATUSES

__all__ = [
    "CLASS_PRO",
    "CLASS_UNICODE",
    "CREDIT_PATH",
    "DELETE_PATH",
    "GSM_CHARSET",
    "MAX_PARTS",
    "MAX_RECIPIENTS",
    "REPORT_PATH",
    "SEND_PATH",
    "STATUS_PATH",
    "Encoded",
    "ReportLine",
    "callback_report",
    "check_sender",
    "encode_form",
    "encode_text",
    "malformed",
    "parse_answer",
    "parse_cost",
    "parse_credit",
    "parse_date",
    "parse_report",
    "parse_send",
    "parse_status",
    "ref_client",
    "schedule_field",
    "wire_number",
]

PROVIDER = "smsmode"
SEND_PATH = "/http/1.6/sendSMS.do"
REPORT_PATH = "/http/1.6/compteRendu.do"
STATUS_PATH = "/http/1.6/smsStatus.do"
DELETE_PATH = "/http/1.6/deleteSMS.do"
CREDIT_PATH = "/http/1.6/credit.do"

#: Numbers per request: GET is limited to 300 and POST "allows more" without saying how
#: many, so the provider stays at the one documented figure.
MAX_RECIPIENTS = 300
#: ``nbr_msg`` defaults to 5 and Unicode documents 5 parts at most; beyond ``nbr_msg``
#: the platform silently truncates, so the provider always sends it.
MAX_PARTS = 5
MAX_REFERENCE = 40
MAX_SENDER = 11
#: ``classe_msg``: 2 is "SMS Pro", the default; 9 is Unicode (UTF-8 text).
CLASS_PRO = "2"
CLASS_UNICODE = "9"
#: Normal SMS travel in ISO-8859-15, URL-encoded; Unicode ones in UTF-8.
GSM_CHARSET = "iso-8859-15"

_MAX_EXCERPT = 120
_ID_RE = re.compile(r"^[A-Za-z0-9]{1,64}$")
_CODE_RE = re.compile(r"^\d{1,4}$")
_REPORT_RE = re.compile(r"^(\d{4,20})\s+(\d{1,4})$")
_CREDIT_RE = re.compile(r"^-?\d{1,15}(?:\.\d{1,10})?$")
_SENDER_RE = re.compile(r"^[A-Za-z0-9._-]{1,11}$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
#: ``smsStatus`` answers share one field for request errors and campaign statuses; these
#: are the request errors among them (the rest are report statuses).
_STATUS_ERRORS = frozenset({"31", "32", "35", NOT_FOUND})


@attrs.frozen(slots=True)
class Encoded:
    """A body as it will travel.

    Args:
        segmentation: The parts, as smsbridge's segmentation engine counts them.
        classe_msg: ``"2"`` (ISO-8859-15 text) or ``"9"`` (Unicode, UTF-8 text).
        charset: The charset the ``message`` field is URL-encoded in.
    """

    segmentation: Segmentation
    classe_msg: str
    charset: str


@attrs.frozen(slots=True)
class ReportLine:
    """One recipient's entry of a ``compteRendu`` answer: ``number status``."""

    number: str
    status: str


def malformed(command: str, text: str) -> MalformedResponseError:
    """The error for an answer ``command`` cannot read, with a short excerpt."""
    excerpt = text[:_MAX_EXCERPT]
    return MalformedResponseError(
        f"unreadable answer to {command}: {excerpt!r}", excerpt=excerpt, provider=PROVIDER
    )


def wire_number(number: str) -> str:
    """E.164 as smsmode writes it: international digits without ``+``."""
    return number.lstrip("+")


def ref_client(reference: str) -> str:
    """``refClient`` for a client reference: itself when it fits in 40 characters, else
    its SHA-1 in hex (exactly 40), stable across attempts."""
    if len(reference) <= MAX_REFERENCE:
        return reference
    return hashlib.sha1(reference.encode(), usedforsecurity=False).hexdigest()


def check_sender(sender: str) -> str:
    """The ``emetteur`` field, or :class:`InvalidMessageError` for what smsmode refuses.

    Raises:
        InvalidMessageError: More than 11 characters, spaces, accents, or digits only
            (the documentation says a sender is "not a phone number").
    """
    if not _SENDER_RE.match(sender) or sender.isdigit():
        raise InvalidMessageError(
            "an smsmode sender is 1-11 letters, digits, '.', '_' or '-', not all digits",
            field="sender",
            value=sender,
            provider=PROVIDER,
        )
    return sender


def encode_text(body: str, options: SendOptions) -> Encoded:
    """Choose ``classe_msg`` and the charset for ``body``, and enforce the part limit.

    The text goes as classe 2 when it is GSM-7 and every character exists in
    ISO-8859-15 (the Greek capitals of GSM-7 do not: smsmode would print ``?``);
    otherwise as Unicode, classe 9, counted in UCS-2 parts.

    Raises:
        InvalidMessageError: The forced encoding cannot carry the text, or it needs
            more parts than ``options.max_parts`` or smsmode's 5.
    """
    try:
        seg = segment(body, encoding=options.encoding, transliterate=options.transliterate)
        if seg.encoding == GSM7 and not _fits_latin9(seg.text):
            if options.encoding is not None:
                raise ValueError("GSM-7 was forced but smsmode's ISO-8859-15 lacks a character")
            seg = segment(body, encoding=UCS2)
    except ValueError as exc:
        raise InvalidMessageError(str(exc), field="encoding", provider=PROVIDER) from None
    limit = min(options.max_parts or MAX_PARTS, MAX_PARTS)
    if seg.part_count > limit:
        raise InvalidMessageError(
            f"the text needs {seg.part_count} parts, more than the {limit} allowed",
            field="max_parts",
            value=seg.part_count,
            provider=PROVIDER,
        )
    if seg.encoding == GSM7:
        return Encoded(seg, CLASS_PRO, GSM_CHARSET)
    return Encoded(seg, CLASS_UNICODE, "utf-8")


def _fits_latin9(text: str) -> bool:
    try:
        text.encode(GSM_CHARSET)
    except UnicodeEncodeError:
        return False
    return True


def schedule_field(when: datetime, zone: tzinfo) -> str:
    """``date_envoi`` (``ddMMyyyy-HH:mm``) in smsmode's zone, rounded *up* to the minute
    so that a message never leaves before the time asked for."""
    local = when.astimezone(zone)
    if local.second or local.microsecond:
        local = local.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return local.strftime("%d%m%Y-%H:%M")


def encode_form(pairs: list[tuple[str, str]], charset: str) -> bytes:
    """A form body with every value URL-encoded in ``charset`` (smsmode reads the
    ``message`` field in the charset its ``classe_msg`` implies, whatever the header)."""
    return urlencode(pairs, encoding=charset).encode("ascii")


def _fields(text: str) -> list[str]:
    return [part.strip() for part in text.strip().split("|")]


def parse_answer(text: str, command: str) -> list[str]:
    """Split a ``code | description | ...`` answer, raising for any code but 0.

    Returns:
        The fields after the code (description first).

    Raises:
        MessageNotFoundError: Code 61.
        ProviderError: Any other documented refusal (unknown codes too, as the table's
            transient provider-scope outcome).
        MalformedResponseError: The answer does not start with a code.
    """
    fields = _fields(text)
    code = fields[0]
    if not _CODE_RE.match(code) or (len(fields) == 1 and code != ACCEPTED):
        raise malformed(command, text)
    if code == ACCEPTED:
        return fields[1:]
    description = fields[1] if len(fields) > 1 else None
    if code == NOT_FOUND:
        raise MessageNotFoundError(
            description or ERRORS[code].description,
            code=code,
            provider=PROVIDER,
            provider_text=description,
        )
    raise ERRORS.error(code, description)


def parse_send(text: str) -> str:
    """The ``smsID`` of an accepted ``sendSMS``.

    Raises:
        ProviderError: A refusal (see :func:`parse_answer`).
        MalformedResponseError: Code 0 without a well-formed id.
    """
    rest = parse_answer(text, "sendSMS")
    if len(rest) < 2 or not _ID_RE.match(rest[1]):
        raise malformed("sendSMS", text)
    return rest[1]


def parse_report(text: str) -> list[ReportLine]:
    """The entries of a ``compteRendu`` answer (empty while no report has arrived).

    Raises:
        ProviderError: ``31``/``35`` refusals; ``MessageNotFoundError`` for 61.
        MalformedResponseError: Anything else.
    """
    stripped = text.strip()
    if not stripped:
        return []
    entries = _fields(stripped)
    if _CODE_RE.match(entries[0]):
        # An error answer starts with a bare code; an entry always has a number first.
        parse_answer(stripped, "compteRendu")
        raise malformed("compteRendu", text)
    lines: list[ReportLine] = []
    for entry in entries:
        found = _REPORT_RE.match(entry)
        if found is None:
            raise malformed("compteRendu", text)
        lines.append(ReportLine(found[1], found[2]))
    return lines


def parse_status(text: str) -> tuple[str, str]:
    """A campaign's ``(status, description)`` from ``smsStatus``.

    Raises:
        ProviderError: Its request errors (31, 32, 35; ``MessageNotFoundError`` for 61).
        MalformedResponseError: An unreadable answer.
    """
    fields = _fields(text)
    code = fields[0]
    if not _CODE_RE.match(code):
        raise malformed("smsStatus", text)
    if code in _STATUS_ERRORS:
        parse_answer(text, "smsStatus")
    return code, fields[1] if len(fields) > 1 else ""


def parse_credit(text: str) -> Decimal:
    """The bare decimal ``credit.do`` answers (negative on post-paid accounts).

    Raises:
        ProviderError: A ``code | description`` refusal.
        MalformedResponseError: Anything else.
    """
    stripped = text.strip()
    if "|" in stripped:
        parse_answer(stripped, "credit")
        raise malformed("credit", text)
    if not _CREDIT_RE.match(stripped):
        raise malformed("credit", text)
    try:
        return Decimal(stripped)
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        raise malformed("credit", text) from None


def parse_date(value: str, zone: tzinfo) -> datetime:
    """A callback's ``date_reception`` (``yyyy-MM-dd HH:mm:ss``, smsmode's zone).

    Raises:
        ValueError: Not in that form, or not a real date.
    """
    if not _DATE_RE.match(value):
        raise ValueError(f"not a yyyy-MM-dd HH:mm:ss date: {value[:40]!r}")
    naive = datetime.strptime(value, "%Y-%m-%d %H:%M:%S")  # the zone is set next
    return naive.replace(tzinfo=zone)


def parse_cost(value: str) -> Decimal | None:
    """A callback's ``cost`` in credits, or None when absent or unreadable."""
    if not _CREDIT_RE.match(value):
        return None
    cost = Decimal(value)
    return cost if math.isfinite(cost) else None


def callback_report(fields: Mapping[str, str], zone: tzinfo) -> DeliveryReport:
    """The report a ``notification_url`` call carries (its query or form fields).

    Args:
        fields: ``numero``, ``statut``, ``smsID`` and the optional ``date_reception``,
            ``refClient``, ``cost``, ``mcc_mnc``.
        zone: The zone ``date_reception`` is written in.

    Raises:
        MalformedResponseError: ``smsID``, ``statut`` or ``numero`` missing or invalid,
            or an unreadable date.
    """
    message_id = fields.get("smsID", "")
    status = fields.get("statut", "")
    number = fields.get("numero", "")
    if not _ID_RE.match(message_id):
        raise malformed("notification_url", "missing or invalid smsID")
    if not _CODE_RE.match(status):
        raise malformed("notification_url", "missing or invalid statut")
    if not number.isdigit() or not 4 <= len(number) <= 20:
        raise malformed("notification_url", "missing or invalid numero")
    occurred = None
    if fields.get("date_reception"):
        try:
            occurred = parse_date(fields["date_reception"], zone)
        except ValueError:
            raise malformed("notification_url", "invalid date_reception") from None
    cost = parse_cost(fields.get("cost", ""))
    outcome = STATUSES.lookup(status)
    return DeliveryReport(
        provider=PROVIDER,
        message_id=message_id,
        status=outcome.status,
        provider_code=status,
        provider_text=outcome.description,
        recipient=f"+{number}",
        reference=fields.get("refClient") or None,
        occurred_at=occurred,
        received_at=datetime.now(UTC),
        cost=None if cost is None else Cost(cost, "credits"),
        error=outcome.info(status) if outcome.is_error else None,
        raw=dict(fields),
    )
