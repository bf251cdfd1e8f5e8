"""Lossless JSON for the values the outbox stores in text columns.

Datetimes are ISO 8601 (with their UTC offset when they have one), timedeltas are decimal
seconds written as strings (``"3600"``, ``"0.000001"``: a float would lose microseconds on
long durations), and Decimals are strings. Free-form mappings (``SendOptions.extra``,
``DeliveryReport.raw``) may hold JSON values plus datetimes, timedeltas, Decimals, bytes,
tuples and mappings with non-text keys; those travel as one-key tagged objects
(``{"$dt": ...}``), and a user mapping that could be mistaken for a tag is wrapped, so
every value comes back equal to what went in.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from smsbridge.errors import ErrorInfo, Kind, Scope
from smsbridge.model import SendOptions
from smsbridge.outbox.base import OutboxError
from smsbridge.results import Cost, DeliveryReport
from smsbridge.status import Status

__all__ = [
    "CodecError",
    "cost_from_json",
    "cost_to_json",
    "dumps",
    "error_from_json",
    "error_to_json",
    "loads",
    "options_from_json",
    "options_to_json",
    "report_from_json",
    "report_to_json",
]


class CodecError(OutboxError, ValueError):
    """A value cannot be stored as JSON, or stored JSON cannot be read back."""


def _td_to_str(value: timedelta) -> str:
    micros = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
    # Plain notation ("86400", not "8.64E+4") so the column stays readable in SQL.
    return format(Decimal(micros).scaleb(-6).normalize(), "f") if micros else "0"


def _td_from_str(text: str) -> timedelta:
    micros = int(Decimal(text).scaleb(6))
    return timedelta(microseconds=micros)


# A UTC offset as isoformat() writes it: +HH:MM, with :SS and .ffffff when present.
_OFFSET_RE = re.compile(r"([+-])(\d\d):(\d\d)(?::(\d\d)(?:\.(\d{6}))?)?$")


def _parse_datetime(text: str) -> datetime:
    # fromisoformat() before 3.12 drops the microseconds of an offset; parse the offset
    # here so any offset Python can represent comes back exactly.
    match = _OFFSET_RE.search(text)
    if match is None:
        return datetime.fromisoformat(text)
    sign, hours, minutes, seconds, micros = match.groups()
    offset = timedelta(
        hours=int(hours),
        minutes=int(minutes),
        seconds=int(seconds or 0),
        microseconds=int(micros or 0),
    )
    naive = datetime.fromisoformat(text[: match.start()])
    return naive.replace(tzinfo=timezone(-offset if sign == "-" else offset))


_PLAIN = frozenset({str, int, float, bool, type(None)})
"""Types JSON carries as they are (exact types: a subclass may need a tag)."""


def _encode(value: Any) -> Any:
    # bool is an int and str is a sequence: test the exact JSON scalars first.
    if type(value) in _PLAIN or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, timedelta):
        return {"$td": _td_to_str(value)}
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode("ascii")}
    if isinstance(value, tuple):
        return {"$tuple": [_encode(item) for item in value]}
    if isinstance(value, list):
        return [item if type(item) in _PLAIN else _encode(item) for item in value]
    if isinstance(value, Mapping):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            # Scalars inline: per-recipient variables are mostly strings, and a call per
            # value made encoding a template batch's options its slowest step.
            return {k: v if type(v) in _PLAIN else _encode(v) for k, v in value.items()}
        return {"$map": [[_encode(k), _encode(v)] for k, v in value.items()]}
    raise CodecError(f"cannot store a {type(value).__name__} in the outbox: {value!r}")


def _decode(value: dict[str, Any]) -> Any:
    # The json module's object hook: called for every object, innermost first, so a
    # tag's contents are decoded already. Only a one-key object whose key starts with
    # "$" can be a tag: mappings with such keys are always written as "$map".
    if len(value) != 1:
        return value
    ((tag, inner),) = value.items()
    if not tag.startswith("$"):
        return value
    if tag == "$dt":
        return _parse_datetime(inner)
    if tag == "$td":
        return _td_from_str(inner)
    if tag == "$dec":
        return Decimal(inner)
    if tag == "$bytes":
        return base64.b64decode(inner)
    if tag == "$tuple":
        return tuple(inner)
    if tag == "$map":
        return {k: v for k, v in inner}  # noqa: C416 - pairs may be lists; keys must hash
    return value


def dumps(value: Any) -> str:
    """Encode a value (JSON types plus the tagged extras) as compact JSON text.

    Args:
        value: What to encode.

    Returns:
        The JSON text.

    Raises:
        CodecError: For a value of a type the codec does not carry.
    """
    # ASCII escapes keep lone surrogates (valid in a str, not in UTF-8) storable.
    return json.dumps(_encode(value), separators=(",", ":"))


def loads(text: str) -> Any:
    """Decode text written by :func:`dumps`.

    Args:
        text: The JSON text.

    Returns:
        The value, equal to the one encoded.

    Raises:
        CodecError: For text that is not valid JSON or a malformed tag.
    """
    try:
        return json.loads(text, object_hook=_decode)
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise CodecError(f"unreadable outbox JSON: {exc}") from exc


def _dt(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _from_dt(value: str | None) -> datetime | None:
    return None if value is None else _parse_datetime(value)


def options_to_json(options: SendOptions) -> str:
    """Encode :class:`~smsbridge.SendOptions`.

    Args:
        options: The options.

    Returns:
        JSON text.

    Raises:
        CodecError: When ``extra`` holds a value the codec does not carry.
    """
    if options == _DEFAULT_OPTIONS:  # most messages: one text, not one encoding each
        return _DEFAULT_JSON
    return _options_json(options)


def _options_json(options: SendOptions) -> str:
    return dumps(
        {
            "scheduled_at": _dt(options.scheduled_at),
            "validity": None if options.validity is None else _td_to_str(options.validity),
            "flash": options.flash,
            "max_parts": options.max_parts,
            "encoding": options.encoding,
            "transliterate": options.transliterate,
            "callback_url": options.callback_url,
            "extra": dict(options.extra),
            # The newer fields only when given: options without them store as before, and
            # a batch of millions does not carry empty fields in every row.
            **(
                {"national_languages": list(options.national_languages)}
                if options.national_languages
                else {}
            ),
            **({"raw": {k: dict(v) for k, v in options.raw.items()}} if options.raw else {}),
        }
    )


_DEFAULT_OPTIONS = SendOptions()
_DEFAULT_JSON = _options_json(_DEFAULT_OPTIONS)


def options_from_json(text: str) -> SendOptions:
    """Decode :class:`~smsbridge.SendOptions` written by :func:`options_to_json`.

    Args:
        text: JSON text.

    Returns:
        Options equal to those encoded.

    Raises:
        CodecError: For unreadable text.
    """
    data = loads(text)
    try:
        return SendOptions(
            scheduled_at=_from_dt(data["scheduled_at"]),
            validity=None if data["validity"] is None else _td_from_str(data["validity"]),
            flash=data["flash"],
            max_parts=data["max_parts"],
            encoding=data["encoding"],
            transliterate=data["transliterate"],
            callback_url=data["callback_url"],
            extra=data["extra"],
            national_languages=data.get("national_languages", ()),
            raw=data.get("raw") or {},
        )
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise CodecError(f"unreadable send options: {exc}") from exc


def _error_dict(error: ErrorInfo | None) -> dict[str, Any] | None:
    if error is None:
        return None
    return {
        "code": error.code,
        "text": error.text,
        "scope": error.scope.value,
        "kind": error.kind.value,
    }


def _error_obj(data: dict[str, Any] | None) -> ErrorInfo | None:
    if data is None:
        return None
    return ErrorInfo(
        data["code"], data["text"], scope=Scope(data["scope"]), kind=Kind(data["kind"])
    )


def _cost_dict(cost: Cost | None) -> dict[str, str] | None:
    return None if cost is None else {"amount": str(cost.amount), "unit": cost.unit}


def _cost_obj(data: dict[str, str] | None) -> Cost | None:
    return None if data is None else Cost(Decimal(data["amount"]), data["unit"])


def error_to_json(error: ErrorInfo | None) -> str | None:
    """Encode an :class:`~smsbridge.errors.ErrorInfo` (``None`` stays ``None``)."""
    return None if error is None else dumps(_error_dict(error))


def error_from_json(text: str | None) -> ErrorInfo | None:
    """Decode what :func:`error_to_json` wrote.

    Raises:
        CodecError: For unreadable text.
    """
    try:
        return None if text is None else _error_obj(loads(text))
    except (KeyError, TypeError, ValueError) as exc:
        raise CodecError(f"unreadable error info: {exc}") from exc


def cost_to_json(cost: Cost | None) -> str | None:
    """Encode a :class:`~smsbridge.Cost`; the amount as a string, exactly."""
    return None if cost is None else dumps(_cost_dict(cost))


def cost_from_json(text: str | None) -> Cost | None:
    """Decode what :func:`cost_to_json` wrote.

    Raises:
        CodecError: For unreadable text.
    """
    try:
        return None if text is None else _cost_obj(loads(text))
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise CodecError(f"unreadable cost: {exc}") from exc


def report_to_json(report: DeliveryReport) -> str:
    """Encode a :class:`~smsbridge.DeliveryReport` with every field.

    Raises:
        CodecError: When ``raw`` holds a value the codec does not carry.
    """
    return dumps(
        {
            "provider": report.provider,
            "message_id": report.message_id,
            "status": report.status.value,
            "provider_code": report.provider_code,
            "provider_text": report.provider_text,
            "recipient": report.recipient,
            "reference": report.reference,
            "occurred_at": _dt(report.occurred_at),
            "received_at": _dt(report.received_at),
            "part": report.part,
            "parts": report.parts,
            "cost": _cost_dict(report.cost),
            "error": _error_dict(report.error),
            "raw": dict(report.raw),
        }
    )


def report_from_json(text: str) -> DeliveryReport:
    """Decode what :func:`report_to_json` wrote.

    Raises:
        CodecError: For unreadable text.
    """
    data = loads(text)
    try:
        return DeliveryReport(
            provider=data["provider"],
            message_id=data["message_id"],
            status=Status(data["status"]),
            provider_code=data["provider_code"],
            provider_text=data["provider_text"],
            recipient=data["recipient"],
            reference=data["reference"],
            occurred_at=_from_dt(data["occurred_at"]),
            received_at=_from_dt(data["received_at"]),
            part=data["part"],
            parts=data["parts"],
            cost=_cost_obj(data["cost"]),
            error=_error_obj(data["error"]),
            raw=data["raw"],
        )
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise CodecError(f"unreadable delivery report: {exc}") from exc
