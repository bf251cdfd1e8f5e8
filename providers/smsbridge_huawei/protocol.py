"""Huawei MSGSMS wire format: request builders and response/report parsers (no I/O).

* ``POST /sms/batchSendSms/v1``: form-encoded, one template and one parameter set for up
  to 500 numbers (``to`` comma-separated, ``templateParas`` a JSON array *as a string*).
* ``POST /sms/batchSendDiffSms/v1``: JSON, ``smsContent`` groups each with their own
  numbers (array) and ``templateParas`` (array), body at most 64 KB.
* Both answer ``{"code", "description", "result": [{originTo, smsMsgId, status, ...}]}``.
* Status reports arrive form-encoded at ``statusCallback``, one per part.

Every parser of untrusted input raises :class:`~smsbridge.MalformedResponseError` (an
:class:`~smsbridge.SmsBridgeError`) on anything unexpected, never another exception.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import attrs

from smsbridge import DeliveryReport, InvalidNumberError, MalformedResponseError, ProviderError

from .codes import SUCCESS, report_outcome
from .numbers import normalise_number

__all__ = [
    "BATCH_PATH",
    "DIFF_PATH",
    "MAX_BODY_BYTES",
    "MAX_NUMBERS",
    "ClockSkewError",
    "Group",
    "NumberResult",
    "SendResponse",
    "batch_send_fields",
    "diff_send_body",
    "extend_for",
    "group_size",
    "parse_send_response",
    "parse_status_report",
    "parse_time",
]

PROVIDER = "huawei"
BATCH_PATH = "/sms/batchSendSms/v1"
DIFF_PATH = "/sms/batchSendDiffSms/v1"
MAX_NUMBERS = 500
"""Numbers per request (and per ``smsContent`` group)."""
MAX_BODY_BYTES = 64 * 1024
"""Largest batchSendDiffSms body."""
MAX_EXTEND = 128
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_SAFE_EXTEND_RE = re.compile(r"^[^{}]{1,128}$")


class ClockSkewError(ProviderError):
    """Huawei refused the request (E000110) because the local clock is off.

    X-WSSE ``Created`` may differ from the platform's time by at most 24 hours; the header
    is regenerated on every attempt, so only fixing the clock helps.
    """


def extend_for(reference: str) -> str:
    """The ``extend`` value carrying a client reference.

    ``extend`` is 1-128 bytes without ``{`` or ``}``. A reference that fits is sent as is;
    any other is mapped deterministically to ``h-`` plus 40 hex characters of its SHA-256,
    so the same reference always maps to the same value.

    Args:
        reference: The client reference.

    Returns:
        The value to send (and to find in status reports).
    """
    if _SAFE_EXTEND_RE.match(reference) and len(reference.encode("utf-8")) <= MAX_EXTEND:
        return reference
    return "h-" + hashlib.sha256(reference.encode("utf-8")).hexdigest()[:40]


def _strings(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


@attrs.frozen
class Group:
    """One ``smsContent`` entry: numbers sharing a template and its values."""

    to: tuple[str, ...] = attrs.field(converter=_strings)
    template_id: str
    params: tuple[str, ...] = attrs.field(converter=_strings)
    signature: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The JSON object of this group."""
        entry: dict[str, Any] = {"to": list(self.to), "templateId": self.template_id}
        if self.params:
            entry["templateParas"] = list(self.params)
        if self.signature:
            entry["signature"] = self.signature
        return entry


def group_size(group_json: Mapping[str, Any]) -> int:
    """Bytes a group adds to a diff-send body (for keeping it under 64 KB)."""
    return len(json.dumps(group_json, ensure_ascii=False, separators=(",", ":")).encode()) + 1


def _common(channel: str, status_callback: str | None, extend: str | None) -> list[tuple[str, str]]:
    fields = [("from", channel)]
    if status_callback:
        fields.append(("statusCallback", status_callback))
    if extend:
        fields.append(("extend", extend))
    return fields


def batch_send_fields(
    *,
    channel: str,
    numbers: Sequence[str],
    template_id: str,
    params: Sequence[str],
    signature: str | None = None,
    status_callback: str | None = None,
    extend: str | None = None,
) -> list[tuple[str, str]]:
    """Form fields of a batchSendSms request (one parameter set for every number).

    Args:
        channel: The channel number (``from``).
        numbers: Up to 500 numbers in ``+{CC}{NDC}{SN}`` form.
        template_id: The approved template id.
        params: The values, in template order (omitted when empty).
        signature: Signature name (Chinese mainland generic templates).
        status_callback: URL status reports are posted to.
        extend: Echoed in status reports (see :func:`extend_for`).
    """
    fields = [("from", channel), ("to", ",".join(numbers)), ("templateId", template_id)]
    if params:
        fields.append(("templateParas", json.dumps(list(params), ensure_ascii=False)))
    if signature:
        fields.append(("signature", signature))
    fields.extend(_common(channel, status_callback, extend)[1:])
    return fields


def diff_send_body(
    *,
    channel: str,
    groups: Sequence[Group],
    status_callback: str | None = None,
    extend: str | None = None,
    raw: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:
    """JSON body of a batchSendDiffSms request (groups with their own values); ``raw``
    parameters become top-level keys."""
    body: dict[str, Any] = dict(_common(channel, status_callback, extend))
    body["smsContent"] = [group.as_json() for group in groups]
    body.update(raw)
    return body


@attrs.frozen
class NumberResult:
    """One ``result[]`` entry: the platform's word on one number."""

    origin_to: str
    status: str
    message_id: str | None = None
    channel: str | None = None
    created: datetime | None = None
    total: int | None = None
    country: str | None = None


@attrs.frozen
class SendResponse:
    """A parsed send response."""

    code: str
    description: str
    results: tuple[NumberResult, ...] | None

    @property
    def ok(self) -> bool:
        """True for request-level success."""
        return self.code == SUCCESS


def _bad(what: str, excerpt: str = "") -> MalformedResponseError:
    return MalformedResponseError(
        f"Huawei response is malformed: {what}", excerpt=excerpt[:200], provider=PROVIDER
    )


def parse_time(value: object) -> datetime | None:
    """A ``yyyy-MM-ddTHH:mm:ssZ`` UTC time, or None when absent or unparseable."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value.strip(), _TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def _string(entry: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    value = entry.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _bad(f"{name} is not a string")
    text = str(value).strip()
    if required and not text:
        raise _bad(f"{name} is empty")
    return text or None


def _number_result(entry: object) -> NumberResult:
    if not isinstance(entry, dict):
        raise _bad("a result entry is not an object")
    origin = _string(entry, "originTo", required=True)
    status = _string(entry, "status", required=True)
    assert origin is not None and status is not None
    total = entry.get("total")
    if isinstance(total, str) and total.isdigit():
        total = int(total)
    return NumberResult(
        origin_to=origin,
        status=status,
        message_id=_string(entry, "smsMsgId"),
        channel=_string(entry, "from"),
        created=parse_time(entry.get("createTime")),
        # total is optional and sometimes 0 in Huawei's own samples: kept only when useful.
        total=total
        if isinstance(total, int) and not isinstance(total, bool) and total > 0
        else None,
        country=_string(entry, "countryId"),
    )


def parse_send_response(body: bytes) -> SendResponse:
    """Parse a send response body (2xx or error).

    Raises:
        MalformedResponseError: Not JSON, not an object, no ``code``, or a bad ``result``.
    """
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise _bad("not JSON", body[:200].decode("utf-8", "replace")) from None
    if not isinstance(data, dict):
        raise _bad("not a JSON object")
    code = _string(data, "code", required=True)
    assert code is not None
    description = data.get("description")
    description = description if isinstance(description, str) else ""
    raw = data.get("result")
    if raw is None:
        return SendResponse(code, description, None)
    if not isinstance(raw, list):
        raise _bad("result is not a list")
    return SendResponse(code, description, tuple(_number_result(entry) for entry in raw))


def _small_int(fields: Mapping[str, str], name: str) -> int | None:
    value = fields.get(name, "").strip()
    if not value:
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 3 or int(value) < 1:
        raise _bad(f"status report {name} is not a positive number")
    return int(value)


def parse_status_report(body: bytes, *, received_at: datetime | None = None) -> DeliveryReport:
    """Parse one form-encoded status report into a :class:`~smsbridge.DeliveryReport`.

    The report is per part: ``part``/``parts`` come from ``sequence``/``total`` (1/1 when
    absent). ``reference`` is the echoed ``extend``; ``recipient`` is ``to`` (present only
    with ``extend``).

    Raises:
        MalformedResponseError: Not form data, or ``smsMsgId``/``status`` missing.
    """
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text))
    except (UnicodeDecodeError, ValueError):
        raise _bad("status report is not form-encoded", repr(body[:200])) from None
    fields = dict(pairs)
    message_id = fields.get("smsMsgId", "").strip()
    code = fields.get("status", "").strip()
    if not message_id or not code:
        raise _bad("status report lacks smsMsgId or status")
    outcome = report_outcome(code)
    total = _small_int(fields, "total") or 1
    sequence = _small_int(fields, "sequence") or 1
    if sequence > total:
        raise _bad("status report sequence exceeds total")
    description = fields.get("statusDesc") or None
    to = fields.get("to", "").strip() or None
    if to is not None and not to.startswith("+"):
        # The platform adds 86 to mainland numbers sent without it; echo as E.164.
        with contextlib.suppress(InvalidNumberError):
            to = normalise_number(to)
    return DeliveryReport(
        provider=PROVIDER,
        message_id=message_id,
        status=outcome.status,
        provider_code=code,
        provider_text=description or outcome.description,
        recipient=to,
        reference=fields.get("extend") or None,
        occurred_at=parse_time(fields.get("updateTime")),
        received_at=received_at or datetime.now(UTC),
        part=sequence,
        parts=total,
        error=outcome.info(code, description) if outcome.is_error else None,
        raw=fields,
    )
