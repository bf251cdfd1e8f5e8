"""EAPI response parsers: pure functions from the gateway's text to typed values.

Every answer the provider reads back is parsed here into typed values, a
:class:`~smsbridge.ProviderError` for a documented failure code, or a
:class:`~smsbridge.MalformedResponseError` -- never another exception.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, tzinfo
from decimal import Decimal, InvalidOperation

import attrs

from smsbridge import DeliveryReport, MalformedResponseError, ProviderError
from smsbridge.sdk import Outcome

from .codes import REPORT_CODES, SUBMISSION_CODES

__all__ = [
    "ReportRow",
    "SubmissionReply",
    "parse_callback_query",
    "parse_credits",
    "parse_quote",
    "parse_report",
    "parse_submission",
    "refusal",
    "report_from_row",
]

PROVIDER = "bulksms"

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
    # Field names only: the values carry the recipient's number, which stays out of
    # exception texts (they end up in logs).
    shown = ",".join(sorted(query))[:200]
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
