"""The emulated gateway's validation rules, from the spec's parameter table (5.1, 5.2)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

import attrs

from smsbridge import parse_hex, segment, segment_binary

from .codes import ERRORS
from .features import MAX_CREDITS, RequiredFeature
from .protocol import decode_unicode

__all__ = [
    "CALLBACK_STATUSES",
    "FINAL",
    "Checked",
    "Refusal",
    "check_message_params",
    "check_number",
    "err",
    "parts_of",
    "price_for",
]

#: Statuses after which a message never changes.
FINAL = frozenset({"004", "005", "006", "007", "009", "010", "012", "014"})
_INTERMEDIATE = frozenset({"003"})
_FINALS = frozenset({"004", "005", "007", "009", "010", "012"})
_ERRORS = frozenset({"005", "007", "009", "010", "012"})
#: Which statuses each ``callback`` value (0-7) reports (spec 5.2.5's table).
CALLBACK_STATUSES: Mapping[int, frozenset[str]] = {
    0: frozenset(),
    1: _INTERMEDIATE,
    2: _FINALS,
    3: _INTERMEDIATE | _FINALS,
    4: _ERRORS,
    5: _INTERMEDIATE | _ERRORS,
    6: _FINALS | _ERRORS,
    7: _INTERMEDIATE | _FINALS | _ERRORS,
}
_MSG_TYPES = frozenset({"SMS_TEXT"})
_CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9]{1,32}$")
_NUMERIC_SENDER_RE = re.compile(r"^\d{1,16}$")
_ALPHA_SENDER_RE = re.compile(r"^[A-Za-z0-9 ]{1,11}$")
_UTC_RE = re.compile(r"^(\d{2}|\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$")
_SEVEN_DAYS = 7 * 86400
_FEATURE_BITS = sum(feature.value for feature in RequiredFeature)


class Refusal(Exception):
    """An ``ERR: code, text`` answer."""

    def __init__(self, code: str, text: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.text = text or ERRORS[code].description

    def line(self) -> str:
        """The answer line."""
        return f"ERR: {self.code}, {self.text}"


def err(code: str, text: str | None = None) -> Refusal:
    """The refusal with ``code`` (its spec description unless ``text``)."""
    return Refusal(code, text)


@attrs.frozen
class Checked:
    """A message's parameters once validated."""

    text: str
    parts: int
    client_id: str | None
    sender: str | None
    send_at: float | None
    callback: int
    max_credits: Decimal | None
    req_feat: int = 0


def parts_of(text: str, *, unicode: bool) -> int:
    """Parts the gateway bills: UCS-2 rules for Unicode, GSM-7 rules otherwise.

    A non-Unicode text with characters outside GSM 03.38 is counted as if each were one
    septet (the gateway would substitute them).
    """
    if unicode:
        return segment(text, encoding="UCS-2").part_count
    seg = segment(text)
    if seg.encoding == "GSM-7":
        return seg.part_count
    return 1 if len(text) <= 160 else math.ceil(len(text) / 153)


def _int(
    params: Mapping[str, str], name: str, low: int, high: int, code: str = "101"
) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if not value.isdigit() or not low <= int(value) <= high:
        raise err(code)
    return int(value)


def _scheduled(params: Mapping[str, str], now: float) -> float | None:
    delay = _int(params, "deliv_time", 0, 10080, code="120")
    if delay:
        return now + delay * 60
    value = params.get("scheduled_time")
    if not value:
        return None
    if value.isdigit():
        when = float(value)
    else:
        match = _UTC_RE.match(value)
        if not match:
            raise err("120")
        year = int(match.group(1))
        year += 2000 if year < 100 else 0
        try:
            month, day, hour, minute, second = (int(g) for g in match.groups()[1:])
            when = datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp()
        except ValueError:
            raise err("120") from None
    # Spec 5.2.16: beyond 7 days, or in the past, the message goes out at once.
    return when if now < when <= now + _SEVEN_DAYS else None


def check_message_params(
    params: Mapping[str, str], text: str, now: float, senders: set[str] | None
) -> Checked:
    """Validate the message parameters of ``sendmsg``/``startbatch``.

    Raises:
        Refusal: 101, 102, 106, 107, 112, 113, 116, 120 or 123, as the spec assigns them.
    """
    unicode = _int(params, "unicode", 0, 1) == 1
    binary = _int(params, "binary", 0, 1) == 1
    udh_hex = params.get("udh")
    if udh_hex is not None:
        text = params.get("data") or text
    if not text:
        raise err("107")
    if unicode:
        try:
            text = decode_unicode(text)
        except ValueError:
            raise err("116") from None
        if not text:
            raise err("107")
    binary_parts = _binary_parts(text, udh_hex) if binary or udh_hex is not None else None
    if params.get("msg_type", "SMS_TEXT") not in _MSG_TYPES:
        raise err("112")
    sender = params.get("from") or None
    if sender is not None:
        if not (_NUMERIC_SENDER_RE.match(sender) or _ALPHA_SENDER_RE.match(sender)):
            raise err("106")
        if senders is not None and sender not in senders:
            raise err("123")
    client_id = params.get("climsgid") or None
    if client_id is not None and not _CLIENT_ID_RE.match(client_id):
        raise err("101")
    concat = _int(params, "concat", 1, 35) or 1
    parts = binary_parts if binary_parts is not None else parts_of(text, unicode=unicode)
    if parts > concat:
        raise err("113")
    _int(params, "validity", 1, 1440)
    _int(params, "queue", 1, 3)
    _int(params, "mo", 0, 1)
    _int(params, "escalate", 0, 1)
    _int(params, "bypass_dnc_check", 0, 1)
    _int(params, "deliv_ack", 0, 1)
    features = _int(params, "req_feat", 1, 65535)
    if features is not None and features & ~_FEATURE_BITS:
        raise err("101")  # a bit spec 5.2.9 does not define
    callback = _int(params, "callback", 0, 7) or 0
    max_credits = None
    if params.get("max_credits"):
        try:
            max_credits = Decimal(params["max_credits"])
        except InvalidOperation:
            raise err("101") from None
        # Spec 5.1: a profile must exist for the value; the profiles are these.
        if not max_credits.is_finite() or max_credits not in MAX_CREDITS:
            raise err("101")
    return Checked(
        text=text,
        parts=parts,
        client_id=client_id,
        sender=sender,
        send_at=_scheduled(params, now),
        callback=callback,
        max_credits=max_credits,
        req_feat=features or 0,
    )


def _binary_parts(data: str, udh_hex: str | None) -> int:
    """8-bit parts of hex ``data`` behind an optional manual header (spec 5.1, 5.2.7).

    Raises:
        Refusal: 102 for a header that is not hex or whose length octet is wrong, 101 for
            data that is not hex, 113 for a manual-header message over 140 octets.
    """
    try:
        udh = b"" if udh_hex is None else parse_hex(udh_hex)
    except ValueError:
        raise err("102") from None
    if udh_hex is not None and (not udh or udh[0] != len(udh) - 1):
        raise err("102")
    try:
        payload = parse_hex(data)
    except ValueError:
        raise err("101") from None
    if udh:
        if len(udh) + len(payload) > 140:
            raise err("113")  # the header is the client's: no room to concatenate
        return 1
    try:
        return segment_binary(payload).part_count
    except ValueError:
        raise err("113") from None


def check_number(number: str, number_errors: Mapping[str, str]) -> None:
    """International digits without ``+`` or ``00`` (spec 5.2.1), 7-15 of them.

    Raises:
        Refusal: 105 for a malformed number, or the code configured for it.
    """
    if not number.isdigit() or number.startswith("0") or not 7 <= len(number) <= 15:
        raise err("105")
    if number in number_errors:
        raise err(number_errors[number])


def price_for(number: str, routes: Mapping[str, Decimal | None]) -> Decimal:
    """The charge per part on the longest matching route.

    Raises:
        Refusal: 114 when the prefix is not routed.
    """
    best = max((p for p in routes if number.startswith(p)), key=len, default=None)
    price = routes.get(best) if best is not None else None
    if price is None:
        raise err("114")
    return price
