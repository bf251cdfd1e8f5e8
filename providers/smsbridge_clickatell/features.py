"""The ``sendmsg`` options a caller may set, checked against the spec (5.1, 5.2).

The gateway takes most of these silently and gets them wrong later (a ``max_credits``
without a profile routes nothing, a ``deliv_time`` past 7 days sends at once), so every
value is checked here, before anything is sent, and refused with an error naming it.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Mapping
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from smsbridge import (
    BinarySegmentation,
    InvalidMessageError,
    SendOptions,
    parse_hex,
    segment_binary,
)
from smsbridge.sdk import provider_extras

__all__ = [
    "BINARY_EXTRAS",
    "KNOWN_EXTRAS",
    "MAX_CREDITS",
    "MAX_DELIV_TIME",
    "MESSAGE_EXTRAS",
    "RequiredFeature",
    "binary_payload",
    "check_value",
    "wire_extras",
]

PROVIDER = "clickatell"


class RequiredFeature(enum.IntFlag):
    """``req_feat`` bits (spec 5.2.9): features the route must support, or the message
    fails. Combine with ``|``: ``RequiredFeature.FEAT_ALPHA | RequiredFeature.FEAT_DELIVACK``.
    """

    FEAT_TEXT = 0x0001
    """Text (set by default)."""
    FEAT_8BIT = 0x0002
    """8-bit messaging (set by default for binary messages)."""
    FEAT_UDH = 0x0004
    """A user data header (set by default for binary messages)."""
    FEAT_UCS2 = 0x0008
    """UCS-2 / Unicode (set by default for Unicode messages)."""
    FEAT_ALPHA = 0x0010
    """An alphanumeric sender (``from``)."""
    FEAT_NUMER = 0x0020
    """A numeric sender (``from``)."""
    FEAT_DELIVACK = 0x2000
    """Delivery acknowledgements."""
    FEAT_CONCAT = 0x4000
    """Concatenation (set by default for long messages)."""


_ALL_FEATURES = 0
for _feature in RequiredFeature:
    _ALL_FEATURES |= _feature.value

#: Options sent as they are (after checking), in this order.
MESSAGE_EXTRAS = (
    "callback",
    "deliv_ack",
    "deliv_time",
    "mo",
    "queue",
    "escalate",
    "max_credits",
    "req_feat",
    "msg_type",
    "bypass_dnc_check",
)
#: Options that make a message binary (8-bit); see :func:`binary_payload`.
BINARY_EXTRAS = ("binary", "udh", "data")
KNOWN_EXTRAS = frozenset(MESSAGE_EXTRAS + BINARY_EXTRAS)
#: The spec's restricted ``max_credits`` values: a profile must exist for the one set.
MAX_CREDITS = tuple(Decimal(v) for v in ("0.8", "1", "1.5", "2", "2.5", "3"))
#: ``deliv_time`` upper limit in minutes (7 days, spec 5.2.6).
MAX_DELIV_TIME = 10080


def _bad(name: str, value: object, why: str) -> InvalidMessageError:
    return InvalidMessageError(
        f"Clickatell {name} {why}", field=f"extra.{name}", value=value, provider=PROVIDER
    )


def _choice(*allowed: int) -> Callable[[str, object], str]:
    def check(name: str, value: object) -> str:
        number = int(value) if isinstance(value, bool) else value
        if isinstance(number, str) and number.isdigit():
            number = int(number)
        if not isinstance(number, int) or number not in allowed:
            raise _bad(name, value, f"is one of {', '.join(map(str, allowed))}")
        return str(number)

    return check


def _max_credits(name: str, value: object) -> str:
    try:
        amount = Decimal(str(value)) if isinstance(value, str | int | Decimal) else None
    except InvalidOperation:
        amount = None
    # is_finite first: comparing a signalling NaN raises instead of answering.
    if amount is None or not amount.is_finite() or amount not in MAX_CREDITS:
        raise _bad(name, value, "is one of the profile values 0.8, 1, 1.5, 2, 2.5, 3")
    return str(amount.normalize()) if amount != amount.to_integral() else str(int(amount))


def _req_feat(name: str, value: object) -> str:
    number = int(value) if isinstance(value, str) and value.isdigit() else value
    if isinstance(number, bool) or not isinstance(number, int):
        raise _bad(name, value, "is a RequiredFeature combination or its decimal value")
    if number <= 0 or number & ~_ALL_FEATURES:
        names = ", ".join(f"{f.name}={f.value}" for f in RequiredFeature)
        raise _bad(name, value, f"combines only the documented bits ({names})")
    return str(int(number))


def _deliv_time(name: str, value: object) -> str:
    if isinstance(value, timedelta):
        minutes: object = math.ceil(value.total_seconds() / 60)
    elif isinstance(value, str) and value.isdigit():
        minutes = int(value)
    else:
        minutes = value
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise _bad(name, value, "is a delay in whole minutes (or a timedelta)")
    if not 1 <= minutes <= MAX_DELIV_TIME:
        raise _bad(name, value, f"is 1-{MAX_DELIV_TIME} minutes (at most 7 days)")
    return str(minutes)


def _msg_type(name: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _bad(name, value, "is a message type name such as SMS_TEXT")
    return value


def _hex(name: str, value: object) -> str:
    try:
        parse_hex(value)  # type: ignore[arg-type]  # anything else is refused inside
    except ValueError as exc:
        shown = value if isinstance(value, str) else type(value).__name__
        raise _bad(name, shown, str(exc)) from None
    if not value:
        raise _bad(name, value, "is empty")
    return str(value).upper()


_CHECKS: Mapping[str, Callable[[str, object], str]] = {
    "callback": _choice(*range(8)),
    "deliv_ack": _choice(0, 1),
    "deliv_time": _deliv_time,
    "mo": _choice(0, 1),
    "queue": _choice(1, 2, 3),
    "escalate": _choice(0, 1),
    "max_credits": _max_credits,
    "req_feat": _req_feat,
    "msg_type": _msg_type,
    "bypass_dnc_check": _choice(0, 1),
    "binary": _choice(0, 1),
    "udh": _hex,
    "data": _hex,
}


def check_value(name: str, value: object) -> str:
    """One option's wire value.

    Raises:
        InvalidMessageError: The value is outside what the spec allows for ``name``.
    """
    return _CHECKS[name](name, value)


def wire_extras(options: SendOptions, defaults: Mapping[str, Any]) -> dict[str, str]:
    """Every option of a message, checked, as wire values: the provider's defaults,
    then the message's own ``extra`` (which wins).

    Raises:
        InvalidMessageError: An option Clickatell does not know, a value the spec does
            not allow, ``deliv_time`` together with ``scheduled_at``, or ``data``
            without ``udh``.
    """
    given = provider_extras(options, provider=PROVIDER, known=KNOWN_EXTRAS)
    values = {k: v for k, v in defaults.items() if v is not None}
    values.update(given)
    out = {name: check_value(name, value) for name, value in values.items()}
    if "deliv_time" in given and options.scheduled_at is not None:
        raise _bad(
            "deliv_time",
            given["deliv_time"],
            "is a delay: give it or scheduled_at, not both",
        )
    if "data" in out and "udh" not in out:
        raise _bad("data", out["data"], "carries the payload only with a manual udh")
    return out


def binary_payload(body: str, extras: Mapping[str, str]) -> BinarySegmentation | None:
    """The binary message ``extras`` ask for, or None for a text message.

    ``binary=1`` sends the body, written as hex octets, as 8-bit data; the gateway
    concatenates it (140 octets in one part, 134 per part beyond). A manual ``udh``
    (hex, starting with its length octet) sends the ``data`` option's octets, or the
    body's, behind that header, in one part of at most 140 octets, header included.

    Raises:
        InvalidMessageError: A body that is not hex octets, a header whose length octet
            is wrong, or a manual-header message over 140 octets.
    """
    if extras.get("binary", "0") == "0" and "udh" not in extras:
        return None
    source, hex_data = ("data", extras["data"]) if "data" in extras else ("body", body)
    try:
        data = parse_hex(hex_data)
        udh = parse_hex(extras["udh"]) if "udh" in extras else b""
        seg = segment_binary(data, udh=udh)
    except ValueError as exc:
        field = (
            "extra.udh" if "header" in str(exc) else ("body" if source == "body" else "extra.data")
        )
        raise InvalidMessageError(
            f"a binary message's {source}: {exc}",
            field=field,
            value=hex_data[:80],
            provider=PROVIDER,
        ) from None
    if udh and seg.part_count > 1:
        raise InvalidMessageError(
            f"with a manual udh a message is one part: {len(udh) + len(data)} octets, "
            "more than 140 (header included)",
            field="extra.udh",
            value=len(udh) + len(data),
            provider=PROVIDER,
        )
    return seg
